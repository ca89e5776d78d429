//! The saga orchestrator: an explicit process with a durable execution log.

use super::{Msg, Record};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use crate::protocols::saga_step::StepReply;
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::{Op, StepId, StepKind, TxId};
use crate::protocols::{Config, LabNode, Obs, Outcome};
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

const ARRIVAL: u8 = 10;
const STEP_TIMEOUT: u8 = 11;
const RETRY: u8 = 12;
const DEADLINE: u8 = 13;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Where a saga stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Saga {
    /// Where it is.
    pub phase: SagaPhase,
    /// Attempt of the current operation.
    pub attempt: u32,
}

/// The orchestrator.
#[derive(Clone, Debug)]
pub struct Orchestrator {
    cfg: Arc<Config>,
    /// Every saga it knows.
    pub sagas: BTreeMap<TxId, Saga>,
}

impl Orchestrator {
    /// An orchestrator for the run described by `cfg`.
    pub fn new(cfg: Arc<Config>) -> Self {
        Orchestrator {
            cfg,
            sagas: BTreeMap::new(),
        }
    }

    /// Schedule every arrival.
    pub fn on_start(&mut self, ctx: C) {
        self.arm_arrivals(ctx);
    }

    fn arm_arrivals(&mut self, ctx: C) {
        let wf = Arc::clone(&self.cfg.workflow);
        for tx in wf.tx_ids().filter(|t| !self.sagas.contains_key(t)) {
            // A request that came while we were down is retried by its
            // client: start it now.
            let after = wf.arrival_of(tx).saturating_sub(ctx.now());
            ctx.set_timer(timer(ARRIVAL, tx), after);
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
        self.sagas.insert(tx, Saga { phase, attempt: 1 });
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
        ctx.set_timer(timer(STEP_TIMEOUT, tx), self.cfg.timing.step_timeout);
    }

    /// Handle a saga message.
    pub fn on_message(&mut self, msg: Msg, ctx: C) {
        if let Msg::Reply {
            tx,
            step,
            op,
            attempt,
            reply,
        } = msg
        {
            self.on_reply(tx, step, op, attempt, reply, ctx);
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
        ctx.cancel_timer(timer(STEP_TIMEOUT, tx));
        match (op, reply) {
            (_, StepReply::Done | StepReply::NullCompensation) => {
                ctx.persist_lazy(Record::Done { tx, step, op }.into());
                self.advance(tx, ctx);
            }
            (Op::Action, StepReply::Rejected(_) | StepReply::RefusedLate)
                if !self.fails_forward(step) =>
            {
                // Nothing was applied at this step: undo the ones before it.
                self.fail_backward(tx, step.0.checked_sub(1).map(StepId), ctx);
            }
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
            ctx.set_timer(timer(RETRY, tx), backoff);
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
        ctx.cancel_timer(timer(STEP_TIMEOUT, tx));
        ctx.cancel_timer(timer(RETRY, tx));
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
        let phase = match outcome {
            Outcome::Completed => SagaPhase::Completed,
            Outcome::Compensated => SagaPhase::Compensated,
            _ => SagaPhase::Stuck,
        };
        self.sagas.insert(tx, Saga { phase, attempt: 0 });
        ctx.persist(Record::End { tx, outcome }.into());
        ctx.record(Obs::TxFinished { tx, outcome });
        if self.cfg.toggles.semantic_lock {
            for p in self.cfg.participants() {
                send(ctx, p, Msg::Release { tx });
            }
        }
    }

    /// Handle one of this role's timers.
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        let (kind, tx) = untimer(id);
        match kind {
            ARRIVAL => self.start(tx, ctx),
            STEP_TIMEOUT => self.retry_or_give_up(tx, true, ctx),
            DEADLINE => self.on_deadline(tx, ctx),
            RETRY => {
                if let Some(s) = self.sagas.get_mut(&tx) {
                    s.attempt += 1;
                    ctx.record(Obs::Retry { tx });
                    self.send_current(tx, ctx);
                }
            }
            _ => {}
        }
    }

    /// Resume every saga from the execution log.
    pub fn on_recover(&mut self, log: &[crate::protocols::Record], ctx: C) {
        let mut last: BTreeMap<TxId, &Record> = BTreeMap::new();
        for rec in log {
            if let crate::protocols::Record::Saga(r) = rec {
                let tx = match r {
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
        self.arm_arrivals(ctx);
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
                self.sagas.insert(
                    tx,
                    Saga {
                        phase: phase_of(step, op),
                        attempt: 1,
                    },
                );
                self.send_current(tx, ctx);
            }
            Record::Done { step, op, .. } => {
                self.sagas.insert(
                    tx,
                    Saga {
                        phase: phase_of(step, op),
                        attempt: 1,
                    },
                );
                self.advance(tx, ctx);
            }
            Record::Failed { from, .. } => match from {
                Some(s) => self.enter(tx, SagaPhase::Compensating(s), ctx),
                None => self.finish(tx, Outcome::Compensated, ctx),
            },
            Record::End { outcome, .. } => {
                let phase = match outcome {
                    Outcome::Completed => SagaPhase::Completed,
                    Outcome::Compensated => SagaPhase::Compensated,
                    _ => SagaPhase::Stuck,
                };
                self.sagas.insert(tx, Saga { phase, attempt: 0 });
            }
        }
    }
}

fn send(ctx: C, to: NodeId, msg: Msg) {
    ctx.send(to, crate::protocols::Msg::Saga(msg));
}
