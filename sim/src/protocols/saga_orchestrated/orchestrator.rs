//! The saga orchestrator: an explicit process with a durable execution log.

use super::{Msg, Record};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use crate::protocols::saga_step::StepReply;
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::{Op, StepId, StepKind, TxId};
use crate::protocols::{Config, LabNode, Obs, Outcome};
use rand::RngExt;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const STEP_TIMEOUT: u8 = 11;
const RETRY: u8 = 12;
const DEADLINE: u8 = 13;
const RELEASE: u8 = 14;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Where a saga stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SagaPhase {
    /// Running the action of a step.
    Running(StepId),
    /// Running the compensation of a step, on the way back to the first.
    Compensating(StepId),
    /// All steps done.
    Completed,
    /// Everything done was undone.
    Compensated,
    /// A compensation kept failing.
    Stuck,
}

impl SagaPhase {
    /// How the saga ended, once it has.
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            SagaPhase::Completed => Some(Outcome::Completed),
            SagaPhase::Compensated => Some(Outcome::Compensated),
            SagaPhase::Stuck => Some(Outcome::Stuck),
            SagaPhase::Running(_) | SagaPhase::Compensating(_) => None,
        }
    }

    /// The operation in progress, if any.
    fn current(self) -> Option<(StepId, Op)> {
        match self {
            SagaPhase::Running(s) => Some((s, Op::Action)),
            SagaPhase::Compensating(s) => Some((s, Op::Compensation)),
            _ => None,
        }
    }
}

/// One saga's volatile state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Saga {
    /// Where it is.
    pub phase: SagaPhase,
    /// Attempt of the current operation.
    pub attempt: u32,
    /// The reply timeout or retry timer it waits on, if any.
    armed: Option<Armed>,
}

impl Saga {
    fn new(phase: SagaPhase) -> Self {
        let attempt = if phase.current().is_some() { 1 } else { 0 };
        Saga {
            phase,
            attempt,
            armed: None,
        }
    }
}

/// A timer, with the operation and attempt that set it. Timer ids carry
/// only the kind and the saga, so the rest is kept here and compared when
/// the timer fires: a timer for an attempt that is over is stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Armed {
    /// `STEP_TIMEOUT` or `RETRY`.
    kind: u8,
    step: StepId,
    op: Op,
    attempt: u32,
}

/// The orchestrator.
#[derive(Clone, Debug)]
pub struct Orchestrator {
    cfg: Arc<Config>,
    /// Every saga it knows.
    pub sagas: BTreeMap<TxId, Saga>,
    /// Finished sagas whose release some services have not acknowledged.
    pub unreleased: BTreeMap<TxId, BTreeSet<NodeId>>,
}

impl Orchestrator {
    /// An orchestrator for the run described by `cfg`.
    pub fn new(cfg: Arc<Config>) -> Self {
        Orchestrator {
            cfg,
            sagas: BTreeMap::new(),
            unreleased: BTreeMap::new(),
        }
    }

    /// A client asks to run `tx`, or (asking again) how it ended. The
    /// execution log says whether it began, so a repeated request never
    /// starts a saga twice, even across a crash.
    pub fn on_request(&mut self, tx: TxId, ctx: C) {
        match self.sagas.get(&tx).map(|s| s.phase) {
            None => self.start(tx, ctx),
            Some(phase) => {
                if let Some(outcome) = phase.outcome() {
                    crate::protocols::client::answer(&self.cfg, tx, outcome, ctx);
                }
            }
        }
    }

    fn start(&mut self, tx: TxId, ctx: C) {
        if self.sagas.contains_key(&tx) {
            return;
        }
        ctx.persist(Record::Started { tx }.into());
        ctx.record(Obs::TxStarted { tx });
        if self.cfg.timing.saga_deadline > SimTime::ZERO {
            ctx.set_timer(timer(DEADLINE, tx), self.cfg.timing.saga_deadline);
        }
        self.enter(tx, SagaPhase::Running(StepId(0)), ctx);
    }

    /// Move to `phase` and, if it has an operation, log it and send it.
    fn enter(&mut self, tx: TxId, phase: SagaPhase, ctx: C) {
        self.disarm(tx, ctx);
        self.sagas.insert(tx, Saga::new(phase));
        if let Some((step, op)) = phase.current() {
            ctx.persist(Record::Begin { tx, step, op }.into());
            self.send_current(tx, ctx);
        }
    }

    fn send_current(&mut self, tx: TxId, ctx: C) {
        let Some(saga) = self.sagas.get(&tx).copied() else {
            return;
        };
        let Some((step, op)) = saga.phase.current() else {
            return;
        };
        let to = self.cfg.node_of(step);
        let attempt = saga.attempt;
        send(
            ctx,
            to,
            Msg::Command {
                tx,
                step,
                op,
                attempt,
            },
        );
        self.arm(tx, STEP_TIMEOUT, self.cfg.timing.step_timeout, ctx);
    }

    /// Set timer `kind` for the operation and attempt in flight.
    fn arm(&mut self, tx: TxId, kind: u8, after: SimTime, ctx: C) {
        let Some(saga) = self.sagas.get_mut(&tx) else {
            return;
        };
        let Some((step, op)) = saga.phase.current() else {
            return;
        };
        saga.armed = Some(Armed {
            kind,
            step,
            op,
            attempt: saga.attempt,
        });
        ctx.set_timer(timer(kind, tx), after);
    }

    /// Cancel the timer the saga waits on, if any.
    fn disarm(&mut self, tx: TxId, ctx: C) {
        if let Some(a) = self.sagas.get_mut(&tx).and_then(|s| s.armed.take()) {
            ctx.cancel_timer(timer(a.kind, tx));
        }
    }

    /// Whether timer `kind` that just fired is the one the saga waits on,
    /// for the operation and attempt still in flight (then it is spent).
    fn fired(&mut self, tx: TxId, kind: u8) -> bool {
        let Some(saga) = self.sagas.get_mut(&tx) else {
            return false;
        };
        let Some((step, op)) = saga.phase.current() else {
            return false;
        };
        let expected = Armed {
            kind,
            step,
            op,
            attempt: saga.attempt,
        };
        if saga.armed != Some(expected) {
            return false;
        }
        saga.armed = None;
        true
    }

    /// Handle a saga message from `from`.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: C) {
        match msg {
            Msg::Reply {
                tx,
                step,
                op,
                attempt,
                reply,
            } => self.on_reply(tx, step, op, attempt, reply, ctx),
            Msg::ReleaseAck { tx } => self.on_release_ack(from, tx, ctx),
            Msg::Command { .. } | Msg::Release { .. } => {}
        }
    }

    fn on_reply(&mut self, tx: TxId, step: StepId, op: Op, attempt: u32, reply: StepReply, ctx: C) {
        let Some(saga) = self.sagas.get(&tx).copied() else {
            return;
        };
        // Only the answer to the attempt in flight counts; others are stale.
        if saga.phase.current() != Some((step, op)) || saga.attempt != attempt {
            return;
        }
        let definite = match (op, &reply) {
            (_, StepReply::Done | StepReply::NullCompensation) => true,
            (Op::Action, StepReply::Rejected(_) | StepReply::RefusedLate) => {
                !self.fails_forward(step)
            }
            _ => false,
        };
        // A late failure that comes in during backoff changes nothing: this
        // attempt has already failed and its retry is set.
        let in_backoff = saga.armed.is_some_and(|a| a.kind == RETRY);
        if in_backoff && !definite {
            return;
        }
        // Whatever the saga waited on (the reply timeout, or the retry of
        // a reply that came late) is over.
        self.disarm(tx, ctx);
        match reply {
            StepReply::Done | StepReply::NullCompensation => {
                ctx.persist_lazy(Record::Done { tx, step, op }.into());
                self.advance(tx, ctx);
            }
            // Nothing was applied at this step: undo the ones before it.
            _ if definite => self.fail_backward(tx, step.0.checked_sub(1).map(StepId), ctx),
            _ => self.retry_or_give_up(tx, false, ctx),
        }
    }

    /// After the pivot the saga can only go forward.
    fn fails_forward(&self, step: StepId) -> bool {
        let wf = &self.cfg.workflow;
        wf.pivot().is_some_and(|p| step > p) || wf.step(step).kind == StepKind::Retriable
    }

    /// Retried without limit: the pivot (until a definite answer) and
    /// everything after it.
    fn retries_forever(&self, step: StepId) -> bool {
        let wf = &self.cfg.workflow;
        wf.pivot().is_some_and(|p| step >= p) || wf.step(step).kind == StepKind::Retriable
    }

    fn advance(&mut self, tx: TxId, ctx: C) {
        let last = StepId(self.cfg.workflow.steps.len() as u16 - 1);
        let next = match self.sagas[&tx].phase {
            SagaPhase::Running(s) if s == last => None,
            SagaPhase::Running(s) => Some(SagaPhase::Running(StepId(s.0 + 1))),
            SagaPhase::Compensating(StepId(0)) => None,
            SagaPhase::Compensating(s) => Some(SagaPhase::Compensating(StepId(s.0 - 1))),
            _ => return,
        };
        match (next, self.sagas[&tx].phase) {
            (Some(p), _) => self.enter(tx, p, ctx),
            (None, SagaPhase::Running(_)) => self.finish(tx, Outcome::Completed, ctx),
            (None, _) => self.finish(tx, Outcome::Compensated, ctx),
        }
    }

    fn fail_backward(&mut self, tx: TxId, from: Option<StepId>, ctx: C) {
        ctx.persist(Record::Failed { tx, from }.into());
        match from {
            Some(s) => self.enter(tx, SagaPhase::Compensating(s), ctx),
            None => self.finish(tx, Outcome::Compensated, ctx),
        }
    }

    /// After a failed attempt: retry with backoff, or give up. A silent
    /// service (`timed_out`) never makes a compensation give up: the saga
    /// waits for the network to heal; only compensations the service itself
    /// reports as failing count toward the stuck limit.
    fn retry_or_give_up(&mut self, tx: TxId, timed_out: bool, ctx: C) {
        let Some(saga) = self.sagas.get(&tx).copied() else {
            return;
        };
        let timing = &self.cfg.timing;
        let retry = match saga.phase {
            SagaPhase::Running(s) => self.retries_forever(s) || saga.attempt < timing.max_attempts,
            SagaPhase::Compensating(_) => timed_out || saga.attempt < timing.compensation_attempts,
            _ => return,
        };
        if retry {
            let backoff = self.backoff(saga.attempt, ctx);
            self.arm(tx, RETRY, backoff, ctx);
            return;
        }
        match saga.phase {
            // Out of attempts with the outcome unknown: compensate this step
            // too (a null compensation if it never happened).
            SagaPhase::Running(s) => self.fail_backward(tx, Some(s), ctx),
            _ => self.finish(tx, Outcome::Stuck, ctx),
        }
    }

    /// The deadline passed: a saga still before its pivot stops retrying
    /// and fails backward, the step in flight included (its outcome is
    /// unknown). Past the pivot, or already compensating, it carries on.
    fn on_deadline(&mut self, tx: TxId, ctx: C) {
        let Some(SagaPhase::Running(step)) = self.sagas.get(&tx).map(|s| s.phase) else {
            return;
        };
        if self.retries_forever(step) {
            return;
        }
        self.disarm(tx, ctx);
        self.fail_backward(tx, Some(step), ctx);
    }

    /// Exponential backoff, capped, plus seeded jitter of up to half.
    fn backoff(&self, attempt: u32, ctx: C) -> SimTime {
        let t = &self.cfg.timing;
        let exp = t
            .backoff_base
            .0
            .saturating_mul(1 << attempt.min(20).saturating_sub(1));
        let base = exp.min(t.backoff_max.0);
        SimTime(base + ctx.rng().random_range(0..=base / 2))
    }

    fn finish(&mut self, tx: TxId, outcome: Outcome, ctx: C) {
        self.disarm(tx, ctx);
        self.sagas.insert(tx, Saga::new(ended(outcome)));
        ctx.persist(Record::End { tx, outcome }.into());
        ctx.record(Obs::TxFinished { tx, outcome });
        crate::protocols::client::answer(&self.cfg, tx, outcome, ctx);
        self.release(tx, ctx);
    }

    /// Tell every service the saga ended, until each acknowledges.
    fn release(&mut self, tx: TxId, ctx: C) {
        if !self.cfg.toggles.semantic_lock {
            return;
        }
        let services = self.cfg.participants().into_iter().collect();
        self.unreleased.insert(tx, services);
        self.send_releases(tx, ctx);
    }

    fn send_releases(&mut self, tx: TxId, ctx: C) {
        let Some(waiting) = self.unreleased.get(&tx) else {
            return;
        };
        for &p in waiting {
            send(ctx, p, Msg::Release { tx });
        }
        ctx.set_timer(timer(RELEASE, tx), self.cfg.timing.retransmit);
    }

    fn on_release_ack(&mut self, from: NodeId, tx: TxId, ctx: C) {
        let Some(waiting) = self.unreleased.get_mut(&tx) else {
            return;
        };
        if waiting.remove(&from) && waiting.is_empty() {
            self.unreleased.remove(&tx);
            ctx.cancel_timer(timer(RELEASE, tx));
            ctx.persist_lazy(Record::Released { tx }.into());
        }
    }

    /// Handle one of this role's timers.
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        let (kind, tx) = untimer(id);
        match kind {
            STEP_TIMEOUT if self.fired(tx, STEP_TIMEOUT) => self.retry_or_give_up(tx, true, ctx),
            DEADLINE => self.on_deadline(tx, ctx),
            RETRY if self.fired(tx, RETRY) => {
                if let Some(s) = self.sagas.get_mut(&tx) {
                    s.attempt += 1;
                    ctx.record(Obs::Retry { tx });
                    self.send_current(tx, ctx);
                }
            }
            RELEASE => self.send_releases(tx, ctx),
            _ => {}
        }
    }

    /// Resume every saga from the execution log.
    pub fn on_recover(&mut self, log: &[crate::protocols::Record], ctx: C) {
        let mut last: BTreeMap<TxId, &Record> = BTreeMap::new();
        let mut released = BTreeSet::new();
        for rec in log {
            if let crate::protocols::Record::Saga(r) = rec {
                let tx = match r {
                    Record::Released { tx } => {
                        released.insert(*tx);
                        continue;
                    }
                    Record::Started { tx }
                    | Record::Begin { tx, .. }
                    | Record::Done { tx, .. }
                    | Record::Failed { tx, .. }
                    | Record::End { tx, .. } => *tx,
                };
                last.insert(tx, r);
            }
        }
        for (tx, rec) in last {
            self.resume(tx, rec, ctx);
            // A saga that ended before the crash but whose release was not
            // acknowledged by every service: release it again.
            if matches!(rec, Record::End { .. }) && !released.contains(&tx) {
                self.release(tx, ctx);
            }
            // The start time is not logged: a recovered saga's deadline
            // counts again from the restart.
            let running = matches!(
                self.sagas.get(&tx).map(|s| s.phase),
                Some(SagaPhase::Running(_))
            );
            if running && self.cfg.timing.saga_deadline > SimTime::ZERO {
                ctx.set_timer(timer(DEADLINE, tx), self.cfg.timing.saga_deadline);
            }
        }
    }

    fn resume(&mut self, tx: TxId, rec: &Record, ctx: C) {
        let phase_of = |step, op| match op {
            Op::Action => SagaPhase::Running(step),
            Op::Compensation => SagaPhase::Compensating(step),
        };
        match *rec {
            Record::Started { .. } => self.enter(tx, SagaPhase::Running(StepId(0)), ctx),
            Record::Begin { step, op, .. } => {
                // Logged but perhaps never sent: send it again, same key.
                self.sagas.insert(tx, Saga::new(phase_of(step, op)));
                self.send_current(tx, ctx);
            }
            Record::Done { step, op, .. } => {
                self.sagas.insert(tx, Saga::new(phase_of(step, op)));
                self.advance(tx, ctx);
            }
            Record::Failed { from, .. } => match from {
                Some(s) => self.enter(tx, SagaPhase::Compensating(s), ctx),
                None => self.finish(tx, Outcome::Compensated, ctx),
            },
            Record::End { outcome, .. } => {
                self.sagas.insert(tx, Saga::new(ended(outcome)));
            }
            // Filtered out by `on_recover`.
            Record::Released { .. } => {}
        }
    }
}

/// The final phase of a saga that ended with `outcome`.
fn ended(outcome: Outcome) -> SagaPhase {
    match outcome {
        Outcome::Completed => SagaPhase::Completed,
        Outcome::Compensated => SagaPhase::Compensated,
        _ => SagaPhase::Stuck,
    }
}

fn send(ctx: C, to: NodeId, msg: Msg) {
    ctx.send(to, crate::protocols::Msg::Saga(msg));
}

/// The explorer's fingerprint: every field but the shared configuration,
/// which is the same in every state of one exploration.
impl std::hash::Hash for Orchestrator {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.sagas.hash(state);
        self.unreleased.hash(state);
    }
}
