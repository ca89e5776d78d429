//! The trait a user implements for one service's business logic, and what
//! it is handed and answers.

use crate::protocols::workload::{Op, StepId, TxId};
use std::collections::BTreeMap;
use std::fmt;

/// The business key of one operation: the same on every retry, resend and
/// redelivery of it. An idempotent service deduplicates by this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdempotencyKey {
    /// The saga.
    pub saga: TxId,
    /// The step.
    pub step: StepId,
    /// Action or compensation.
    pub op: Op,
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Action => "action",
            Op::Compensation => "compensation",
        };
        write!(f, "{}/step {}/{op}", self.saga, self.step.0)
    }
}

/// The transport's id of one message. A network duplicate or a broker's
/// redelivery keeps it; a *new send* of the same operation gets a new one
/// (the orchestrator retrying after a timeout, as an outbox relay that
/// republishes would). Deduplicating by it is the classic idempotency bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

/// One operation for a service: do (or undo) a step of a saga.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The saga (its correlation id).
    pub saga: TxId,
    /// The step.
    pub step: StepId,
    /// The step's name in the scenario ("charge card").
    pub step_name: &'a str,
    /// Do it, or compensate it.
    pub op: Op,
    /// The business key (stable across retries).
    pub key: IdempotencyKey,
    /// The message that carried it (changes on a resend).
    pub message_id: MessageId,
    /// The payload: which of the service's resources the step uses.
    pub resource: &'a str,
    /// The payload: how much the action takes (the compensation gives it
    /// back).
    pub amount: i64,
}

/// How a service answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Done: the action applied, or the compensation undid it (or found
    /// nothing to undo).
    Done,
    /// A business refusal (4xx-like): final, never retried; an action
    /// refused makes the saga compensate.
    Rejected(String),
    /// A transient failure (5xx-like): nothing committed, the caller
    /// retries with backoff. txlab rolls back whatever the handler changed.
    Transient,
}

/// One service's business logic, written by a user and run by txlab's
/// orchestrated and choreographed sagas in place of the built-in service.
///
/// The contract:
/// - `handle` is one local transaction against the service's own state.
///   When it answers [`Answer::Done`] or [`Answer::Rejected`] the state it
///   leaves is committed (forced to the service's log before anyone hears
///   the answer); [`Answer::Transient`] rolls it back.
/// - Idempotency is the service's business: the same operation may arrive
///   again (a retry after a timeout, a duplicate, a resend after a crash)
///   and a compensation may arrive before its action or without it. txlab
///   keeps no idempotency table for a user service. (In the choreography
///   the consumer's inbox of settled deliveries stays, as messaging: a
///   redelivery of a settled delivery is acknowledged, not handled.)
/// - [`amounts`](ServiceLogic::amounts) reports the resources the service
///   owns; the checkers read the change of the step's resource across each
///   call, so a double charge shows up whatever the service claims.
/// - What survives a crash: the state as of the last committed call,
///   minus what [`on_crash`](ServiceLogic::on_crash) forgets (an in-memory
///   cache, say). By default everything is durable.
/// - Deterministic: no clock, no ambient randomness, no iteration over
///   hash-ordered collections that changes an answer.
pub trait ServiceLogic: Clone + fmt::Debug + Send + Sync + 'static {
    /// Handle one operation.
    fn handle(&mut self, req: &Request<'_>) -> Answer;

    /// The service's resources and their current amounts.
    fn amounts(&self) -> BTreeMap<String, i64>;

    /// The process crashed: forget what is kept only in memory. Called on
    /// the state of the last committed call when the service restarts.
    fn on_crash(&mut self) {}
}

/// The object-safe face of a [`ServiceLogic`], so a node can hold any.
pub(crate) trait DynLogic: fmt::Debug + Send + Sync {
    fn handle(&mut self, req: &Request<'_>) -> Answer;
    fn amounts(&self) -> BTreeMap<String, i64>;
    fn on_crash(&mut self);
    fn clone_box(&self) -> Box<dyn DynLogic>;
}

impl<L: ServiceLogic> DynLogic for L {
    fn handle(&mut self, req: &Request<'_>) -> Answer {
        ServiceLogic::handle(self, req)
    }
    fn amounts(&self) -> BTreeMap<String, i64> {
        ServiceLogic::amounts(self)
    }
    fn on_crash(&mut self) {
        ServiceLogic::on_crash(self)
    }
    fn clone_box(&self) -> Box<dyn DynLogic> {
        Box::new(self.clone())
    }
}
