//! The saga orchestrator: an explicit process with a durable execution log.

use super::{Msg, Record};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use crate::protocols::saga_step::StepReply;
use crate::protocols::stage::members;
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::{Op, StepId, StepKind, TxId};
use crate::protocols::{Config, LabNode, Obs, Outcome};
use rand::RngExt;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const STEP_TIMEOUT: u8 = 11;
const RETRY: u8 = 12;
pub(super) const DEADLINE: u8 = 13;
const RELEASE: u8 = 14;
/// Where a timer id keeps the member's place in its stage (above the
/// kind's byte).
const SLOT_SHIFT: u32 = 40;

pub(super) type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Where a saga stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SagaPhase {
    /// Running the action of a step (of every step of the parallel group
    /// this one begins).
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
}

/// One saga's volatile state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Saga {
    /// Where it is: for a parallel group, its first step.
    pub phase: SagaPhase,
    /// The operations in flight: the unsettled members of the running
    /// stage (one, unless it is a parallel group), or the compensation.
    pub inflight: Vec<Member>,
    /// The actions to undo if the saga fails backward, in the order they
    /// settled (done, or given up with the outcome unknown): compensation
    /// runs from the last back to the first.
    pub settled: Vec<StepId>,
    /// A member of the running stage failed: once the others settle, the
    /// saga fails backward.
    pub failing: bool,
}

impl Saga {
    pub(super) fn new(phase: SagaPhase) -> Self {
        Saga {
            phase,
            inflight: Vec::new(),
            settled: Vec::new(),
            failing: false,
        }
    }

    fn member(&mut self, step: StepId) -> Option<&mut Member> {
        self.inflight.iter_mut().find(|m| m.step == step)
    }
}

/// One operation in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    /// The step.
    pub step: StepId,
    /// Its action, or its compensation.
    pub op: Op,
    /// The attempt (1 for the first).
    pub attempt: u32,
    /// The reply timeout or retry timer it waits on, if any.
    armed: Option<Armed>,
}

impl Member {
    pub(super) fn new(step: StepId, op: Op) -> Self {
        Member {
            step,
            op,
            attempt: 1,
            armed: None,
        }
    }
}

/// A timer, with the operation and attempt that set it. Timer ids carry
/// only the kind, the saga and the member's place in its stage, so the
/// rest is kept here and compared when the timer fires: a timer for an
/// attempt that is over is stale.
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
    pub(super) cfg: Arc<Config>,
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
        self.sagas
            .insert(tx, Saga::new(SagaPhase::Running(StepId(0))));
        self.enter_stage(tx, StepId(0), ctx);
    }

    /// Run the stage that starts at `first`: log every member's command,
    /// then send them all (a parallel group's at once).
    pub(super) fn enter_stage(&mut self, tx: TxId, first: StepId, ctx: C) {
        self.disarm_all(tx, ctx);
        let stage = self.cfg.workflow.stage_of(first);
        let Some(saga) = self.sagas.get_mut(&tx) else {
            return;
        };
        saga.phase = SagaPhase::Running(first);
        saga.failing = false;
        saga.inflight = members(&stage)
            .map(|s| Member::new(s, Op::Action))
            .collect();
        for step in members(&stage) {
            ctx.persist(
                Record::Begin {
                    tx,
                    step,
                    op: Op::Action,
                }
                .into(),
            );
        }
        for step in members(&stage) {
            self.send_member(tx, step, ctx);
        }
    }

    /// Compensate the last settled action (the first to undo).
    pub(super) fn enter_compensation(&mut self, tx: TxId, step: StepId, ctx: C) {
        self.disarm_all(tx, ctx);
        let Some(saga) = self.sagas.get_mut(&tx) else {
            return;
        };
        saga.phase = SagaPhase::Compensating(step);
        saga.inflight = vec![Member::new(step, Op::Compensation)];
        ctx.persist(
            Record::Begin {
                tx,
                step,
                op: Op::Compensation,
            }
            .into(),
        );
        self.send_member(tx, step, ctx);
    }

    pub(super) fn send_member(&mut self, tx: TxId, step: StepId, ctx: C) {
        let Some(m) = self
            .sagas
            .get_mut(&tx)
            .and_then(|s| s.member(step))
            .copied()
        else {
            return;
        };
        let to = self.cfg.node_of(step);
        let (op, attempt) = (m.op, m.attempt);
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
        self.arm(tx, step, STEP_TIMEOUT, self.cfg.timing.step_timeout, ctx);
    }

    /// The timer id of `kind` for `step`'s member: a sequential saga's
    /// ids carry no slot, so they are the ids a saga without groups had.
    fn timer_of(&self, kind: u8, tx: TxId, step: StepId) -> TimerId {
        let slot = match self.sagas.get(&tx).map(|s| s.phase) {
            Some(SagaPhase::Running(first)) => step.0 - first.0,
            _ => 0,
        };
        TimerId(timer(kind, tx).0 | (u64::from(slot) << SLOT_SHIFT))
    }

    /// Set timer `kind` for `step`'s attempt in flight.
    fn arm(&mut self, tx: TxId, step: StepId, kind: u8, after: SimTime, ctx: C) {
        let id = self.timer_of(kind, tx, step);
        let Some(m) = self.sagas.get_mut(&tx).and_then(|s| s.member(step)) else {
            return;
        };
        m.armed = Some(Armed {
            kind,
            step,
            op: m.op,
            attempt: m.attempt,
        });
        ctx.set_timer(id, after);
    }

    /// Cancel the timer `step`'s member waits on, if any.
    fn disarm(&mut self, tx: TxId, step: StepId, ctx: C) {
        let armed = self
            .sagas
            .get_mut(&tx)
            .and_then(|s| s.member(step))
            .and_then(|m| m.armed.take());
        if let Some(a) = armed {
            let id = self.timer_of(a.kind, tx, step);
            ctx.cancel_timer(id);
        }
    }

    fn disarm_all(&mut self, tx: TxId, ctx: C) {
        let steps: Vec<StepId> = self
            .sagas
            .get(&tx)
            .map_or(Vec::new(), |s| s.inflight.iter().map(|m| m.step).collect());
        for step in steps {
            self.disarm(tx, step, ctx);
        }
    }

    /// Whether timer `id` that just fired is the one a member waits on,
    /// for the attempt still in flight (then it is spent): that member.
    fn fired(&mut self, id: TimerId) -> Option<(TxId, StepId)> {
        let (kind, tx) = untimer(id);
        let slot = (id.0 >> SLOT_SHIFT) as u16;
        let saga = self.sagas.get_mut(&tx)?;
        let step = match saga.phase {
            SagaPhase::Running(first) => StepId(first.0 + slot),
            SagaPhase::Compensating(s) if slot == 0 => s,
            _ => return None,
        };
        let m = saga.member(step)?;
        let expected = Armed {
            kind,
            step,
            op: m.op,
            attempt: m.attempt,
        };
        if m.armed != Some(expected) {
            return None;
        }
        m.armed = None;
        Some((tx, step))
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
        let Some(m) = self
            .sagas
            .get_mut(&tx)
            .and_then(|s| s.member(step))
            .copied()
        else {
            return;
        };
        // Only the answer to the attempt in flight counts; others are stale.
        if m.op != op || m.attempt != attempt {
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
        let in_backoff = m.armed.is_some_and(|a| a.kind == RETRY);
        if in_backoff && !definite {
            return;
        }
        // Whatever the member waited on (the reply timeout, or the retry
        // of a reply that came late) is over.
        self.disarm(tx, step, ctx);
        match reply {
            StepReply::Done | StepReply::NullCompensation => {
                // A group member's completion is forced: recovery needs
                // the order a group settled in to undo it in reverse.
                let record = Record::Done { tx, step, op }.into();
                match op == Op::Action && self.cfg.workflow.stage_of(step).len() > 1 {
                    true => ctx.persist(record),
                    false => ctx.persist_lazy(record),
                }
                self.settle(tx, step, op == Op::Action, false, ctx);
            }
            // Nothing was applied at this step: undo the ones before it.
            _ if definite => self.settle(tx, step, false, true, ctx),
            _ => self.retry_or_give_up(tx, step, false, ctx),
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

    /// `step`'s operation is over: `undo` says whether a failure backward
    /// must undo its action, `failed` whether the saga must fail backward.
    /// Once every member of the stage has settled, go on.
    fn settle(&mut self, tx: TxId, step: StepId, undo: bool, failed: bool, ctx: C) {
        let Some(saga) = self.sagas.get_mut(&tx) else {
            return;
        };
        saga.inflight.retain(|m| m.step != step);
        if undo {
            let stage = self.cfg.workflow.stage_of(step);
            let at = match self.cfg.broken.undo_group_forward {
                // Broken on purpose: before the group's earlier members.
                true => saga.settled.iter().position(|s| stage.contains(&s.0)),
                false => None,
            };
            saga.settled.insert(at.unwrap_or(saga.settled.len()), step);
            if matches!(saga.phase, SagaPhase::Running(_))
                && self.cfg.workflow.stage_of(step).len() > 1
            {
                ctx.record(Obs::Settled { tx, step });
            }
        }
        saga.failing |= failed;
        if saga.inflight.is_empty() {
            self.advance(tx, ctx);
        }
    }

    /// Every operation in flight has settled: the next stage, the next
    /// compensation, or the end.
    pub(super) fn advance(&mut self, tx: TxId, ctx: C) {
        let Some(saga) = self.sagas.get_mut(&tx) else {
            return;
        };
        match saga.phase {
            SagaPhase::Running(_) if saga.failing => self.fail_backward(tx, ctx),
            SagaPhase::Running(first) => match self.cfg.workflow.stage_after(first) {
                Some(next) => self.enter_stage(tx, StepId(next.start), ctx),
                None => self.finish(tx, Outcome::Completed, ctx),
            },
            SagaPhase::Compensating(step) => {
                saga.settled.retain(|s| *s != step);
                match saga.settled.last().copied() {
                    Some(next) => self.enter_compensation(tx, next, ctx),
                    None => self.finish(tx, Outcome::Compensated, ctx),
                }
            }
            _ => {}
        }
    }

    pub(super) fn fail_backward(&mut self, tx: TxId, ctx: C) {
        let from = self.sagas.get(&tx).and_then(|s| s.settled.last().copied());
        ctx.persist(Record::Failed { tx, from }.into());
        match from {
            Some(s) => self.enter_compensation(tx, s, ctx),
            None => self.finish(tx, Outcome::Compensated, ctx),
        }
    }

    /// After a failed attempt: retry with backoff, or give up. A silent
    /// service (`timed_out`) never makes a compensation give up: the saga
    /// waits for the network to heal; only compensations the service itself
    /// reports as failing count toward the stuck limit.
    fn retry_or_give_up(&mut self, tx: TxId, step: StepId, timed_out: bool, ctx: C) {
        let Some(saga) = self.sagas.get_mut(&tx) else {
            return;
        };
        let phase = saga.phase;
        let Some(attempt) = saga.member(step).map(|m| m.attempt) else {
            return;
        };
        let timing = &self.cfg.timing;
        let retry = match phase {
            SagaPhase::Running(_) => self.retries_forever(step) || attempt < timing.max_attempts,
            SagaPhase::Compensating(_) => timed_out || attempt < timing.compensation_attempts,
            _ => return,
        };
        if retry {
            let backoff = self.backoff(attempt, ctx);
            self.arm(tx, step, RETRY, backoff, ctx);
            return;
        }
        match phase {
            // Out of attempts with the outcome unknown: compensate this step
            // too (a null compensation if it never happened).
            SagaPhase::Running(_) => self.give_up(tx, step, ctx),
            _ => self.finish(tx, Outcome::Stuck, ctx),
        }
    }

    /// Stop trying `step` (its outcome unknown): it will be compensated.
    /// In a parallel group that is logged (forced), since the saga's
    /// `Failed` record names only the last step to undo.
    fn give_up(&mut self, tx: TxId, step: StepId, ctx: C) {
        if self.cfg.workflow.stage_of(step).len() > 1 {
            ctx.persist(Record::GaveUp { tx, step }.into());
        }
        self.settle(tx, step, true, true, ctx);
    }

    /// The deadline passed: a saga still before its pivot stops retrying
    /// and fails backward, the steps in flight included (their outcome is
    /// unknown). Past the pivot, or already compensating, it carries on.
    fn on_deadline(&mut self, tx: TxId, ctx: C) {
        let Some(saga) = self.sagas.get(&tx) else {
            return;
        };
        let SagaPhase::Running(first) = saga.phase else {
            return;
        };
        if self.retries_forever(first) {
            return;
        }
        let pending: Vec<StepId> = saga.inflight.iter().map(|m| m.step).collect();
        self.disarm_all(tx, ctx);
        for step in pending {
            self.give_up(tx, step, ctx);
        }
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

    pub(super) fn finish(&mut self, tx: TxId, outcome: Outcome, ctx: C) {
        self.disarm_all(tx, ctx);
        self.sagas.insert(tx, Saga::new(ended(outcome)));
        ctx.persist(Record::End { tx, outcome }.into());
        ctx.record(Obs::TxFinished { tx, outcome });
        crate::protocols::client::answer(&self.cfg, tx, outcome, ctx);
        self.release(tx, ctx);
    }

    /// Tell every service the saga ended, until each acknowledges.
    pub(super) fn release(&mut self, tx: TxId, ctx: C) {
        if !self.cfg.toggles.releases_marks() {
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
            STEP_TIMEOUT => {
                if let Some((tx, step)) = self.fired(id) {
                    self.retry_or_give_up(tx, step, true, ctx);
                }
            }
            DEADLINE => self.on_deadline(tx, ctx),
            RETRY => {
                if let Some((tx, step)) = self.fired(id) {
                    if let Some(m) = self.sagas.get_mut(&tx).and_then(|s| s.member(step)) {
                        m.attempt += 1;
                    }
                    ctx.record(Obs::Retry { tx });
                    self.send_member(tx, step, ctx);
                }
            }
            RELEASE => self.send_releases(tx, ctx),
            _ => {}
        }
    }
}

/// The final phase of a saga that ended with `outcome`.
pub(super) fn ended(outcome: Outcome) -> SagaPhase {
    match outcome {
        Outcome::Completed => SagaPhase::Completed,
        Outcome::Compensated => SagaPhase::Compensated,
        _ => SagaPhase::Stuck,
    }
}

pub(super) fn send(ctx: C, to: NodeId, msg: Msg) {
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
