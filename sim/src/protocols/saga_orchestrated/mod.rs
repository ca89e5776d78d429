//! The orchestrated saga (Garcia-Molina & Salem 1987; Richardson's
//! orchestration).
//!
//! A long-lived transaction is split into local transactions, one per step,
//! each committed at its own service at once, with no locks held across
//! steps. An **orchestrator** drives them in order with a durable
//! **execution log**: it logs each command before sending it, so after a
//! crash it resumes where it was, resending the same command under the same
//! idempotency key.
//!
//! When a step is rejected (a business failure, never retried) the saga
//! **fails backward**: the compensations of the completed steps run in
//! reverse order, a *semantic* rollback. Transient errors and timeouts are
//! retried with exponential backoff and seeded jitter; once the attempts run
//! out the saga compensates, including the step whose outcome is unknown (a
//! compensation that reaches a service before its action becomes a *null
//! compensation*, and the late action is refused). From the **pivot** on,
//! the saga **fails forward**: it retries until the step is done. A
//! compensation that keeps failing leaves the saga **stuck**, flagged for an
//! operator.
//!
//! Every timer a saga sets (the reply timeout, the retry after backoff) is
//! tied to the step, operation and attempt that set it: a reply accepted
//! during backoff cancels the retry, and a timer that no longer matches is
//! ignored. A **parallel group** (consecutive steps with one `group`) has
//! every member's command logged, then sent at once; the saga moves on when
//! all are done. If one fails, the others are left to settle, and the saga
//! then compensates exactly the actions that settled (done, or given up with
//! the outcome unknown), in the reverse of the order they settled. With the semantic lock, the end of a saga is announced to every
//! service by a release, retransmitted until acknowledged and sent again
//! after a restart, so no pending mark outlives its saga.

mod orchestrator;
mod recover;
mod service_node;

pub use orchestrator::{Member, Orchestrator, Saga, SagaPhase};
pub use service_node::SagaService;

use super::saga_step::StepReply;
use super::workload::{Op, StepId, TxId};
use crate::protocols::Outcome;
use serde::{Deserialize, Serialize};

/// Orchestrated saga messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Orchestrator → service: do `op` of `step` for `tx`.
    Command {
        /// The saga.
        tx: TxId,
        /// The step.
        step: StepId,
        /// Action or compensation.
        op: Op,
        /// Which attempt this is (1 for the first).
        attempt: u32,
    },
    /// Service → orchestrator: how it went.
    Reply {
        /// The saga.
        tx: TxId,
        /// The step.
        step: StepId,
        /// Action or compensation.
        op: Op,
        /// The attempt answered.
        attempt: u32,
        /// The answer.
        reply: StepReply,
    },
    /// Orchestrator → service: the saga ended; clear its pending marks.
    /// Retransmitted until acknowledged: a lost release would leave a
    /// pending mark that refuses every later saga.
    Release {
        /// The saga.
        tx: TxId,
    },
    /// Service → orchestrator: the saga's marks are cleared, durably.
    ReleaseAck {
        /// The saga.
        tx: TxId,
    },
}

/// Records in the orchestrator's execution log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The saga began.
    Started {
        /// The saga.
        tx: TxId,
    },
    /// About to send `op` of `step` (log before act).
    Begin {
        /// The saga.
        tx: TxId,
        /// The step.
        step: StepId,
        /// Action or compensation.
        op: Op,
    },
    /// `op` of `step` is done.
    Done {
        /// The saga.
        tx: TxId,
        /// The step.
        step: StepId,
        /// Action or compensation.
        op: Op,
    },
    /// The saga fails backward, compensating from `from` down to the first
    /// step (nothing to compensate when `None`).
    Failed {
        /// The saga.
        tx: TxId,
        /// The last step to compensate.
        from: Option<StepId>,
    },
    /// The saga ended.
    End {
        /// The saga.
        tx: TxId,
        /// How.
        outcome: Outcome,
    },
    /// Every service acknowledged the saga's release (lazy: if it is lost,
    /// recovery sends the release again, which is harmless).
    Released {
        /// The saga.
        tx: TxId,
    },
    /// A parallel group's member was given up with its outcome unknown:
    /// it will be compensated too (forced, like a group member's `Done`:
    /// recovery needs the order the group settled in). A sequential
    /// saga's `Failed` record names such a step.
    GaveUp {
        /// The saga.
        tx: TxId,
        /// The step.
        step: StepId,
    },
}
