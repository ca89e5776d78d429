//! The orchestrator's recovery: every saga resumed from the execution log.
//!
//! A sequential saga resumes from its last record (send the logged command
//! again, or move past the done one). A saga in a parallel group needs the
//! whole story of the group: which members are done, which were given up,
//! which were only begun; and a saga failing backward needs the order in
//! which its actions settled, since it undoes them in reverse.

use super::Record;
use super::orchestrator::{C, DEADLINE, Member, Orchestrator, Saga, SagaPhase, ended};
use crate::engine::SimTime;
use crate::protocols::Outcome;
use crate::protocols::stage::members;
use crate::protocols::timer::timer;
use crate::protocols::workload::{Op, StepId, TxId};
use std::collections::{BTreeMap, BTreeSet};

impl Orchestrator {
    /// Resume every saga from the execution log.
    pub fn on_recover(&mut self, log: &[crate::protocols::Record], ctx: C) {
        let mut story: BTreeMap<TxId, Vec<&Record>> = BTreeMap::new();
        let mut released = BTreeSet::new();
        for rec in log {
            if let crate::protocols::Record::Saga(r) = rec {
                match r {
                    Record::Released { tx } => {
                        released.insert(*tx);
                    }
                    other => story.entry(tx_of(other)).or_default().push(other),
                }
            }
        }
        for (tx, recs) in story {
            self.resume(tx, &recs, ctx);
            // A saga that ended before the crash but whose release was not
            // acknowledged by every service: release it again.
            if matches!(recs.last(), Some(Record::End { .. })) && !released.contains(&tx) {
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

    fn resume(&mut self, tx: TxId, recs: &[&Record], ctx: C) {
        let story = Story::of(recs);
        if let Some(outcome) = story.end {
            self.sagas.insert(tx, Saga::new(ended(outcome)));
            return;
        }
        let Some(current) = story.begun.iter().max().copied() else {
            // Only started: run the first stage.
            self.sagas
                .insert(tx, Saga::new(SagaPhase::Running(StepId(0))));
            return self.enter_stage(tx, StepId(0), ctx);
        };
        let stage = self.cfg.workflow.stage_of(current);
        let mut saga = Saga::new(SagaPhase::Running(StepId(stage.start)));
        saga.settled = self.settled_before(&story, stage.start);
        saga.settled
            .extend(story.settled.iter().filter(|s| stage.contains(&s.0)));
        match story.failed {
            Some(from) => self.resume_backward(tx, saga, &story, from, ctx),
            None => self.resume_forward(tx, saga, &story, ctx),
        }
    }

    /// Every action of the stages before `first`: the saga moved past
    /// them, so all were done, whatever lazy `Done` records a crash lost.
    /// A group's members in the order their (forced) records say.
    fn settled_before(&self, story: &Story, first: u16) -> Vec<StepId> {
        let wf = &self.cfg.workflow;
        let mut out = Vec::new();
        for stage in wf.stages().into_iter().take_while(|s| s.start < first) {
            let mut logged: Vec<StepId> = story
                .settled
                .iter()
                .copied()
                .filter(|s| stage.contains(&s.0))
                .collect();
            logged.extend(members(&stage).filter(|s| !story.settled.contains(s)));
            out.extend(logged);
        }
        out
    }

    /// Failing backward: what is left to undo is what settled, less the
    /// compensations done (every one begun before the last one begun is:
    /// they run one at a time).
    fn resume_backward(
        &mut self,
        tx: TxId,
        mut saga: Saga,
        story: &Story,
        from: Option<StepId>,
        ctx: C,
    ) {
        if let Some(s) = from.filter(|s| !saga.settled.contains(s)) {
            saga.settled.push(s);
        }
        let last = story.compensations.last().copied();
        let finished = |s: &StepId| {
            story.compensated.contains(s) || (story.compensations.contains(s) && Some(*s) != last)
        };
        saga.settled.retain(|s| !finished(s));
        match last.filter(|s| !story.compensated.contains(s)) {
            // Logged but perhaps never sent: send it again, same key.
            Some(step) => {
                saga.phase = SagaPhase::Compensating(step);
                saga.inflight = vec![Member::new(step, Op::Compensation)];
                self.sagas.insert(tx, saga);
                self.send_member(tx, step, ctx);
            }
            // The failure was just logged, or the compensation before was
            // done: log and send the next one.
            None => {
                let next = saga.settled.last().copied();
                self.sagas.insert(tx, saga);
                match next {
                    Some(step) => self.enter_compensation(tx, step, ctx),
                    None => self.finish(tx, Outcome::Compensated, ctx),
                }
            }
        }
    }

    /// Going forward: the members of the current stage done, given up
    /// (the saga then fails backward), begun (send again, same key) or
    /// not yet begun (log and send).
    fn resume_forward(&mut self, tx: TxId, mut saga: Saga, story: &Story, ctx: C) {
        let SagaPhase::Running(first) = saga.phase else {
            return;
        };
        let stage = self.cfg.workflow.stage_of(first);
        let open: Vec<StepId> = members(&stage)
            .filter(|s| !story.settled.contains(s))
            .collect();
        saga.failing = members(&stage).any(|s| story.gave_up.contains(&s));
        saga.inflight = open.iter().map(|s| Member::new(*s, Op::Action)).collect();
        self.sagas.insert(tx, saga);
        if open.is_empty() {
            return self.advance(tx, ctx);
        }
        for &step in open.iter().filter(|s| !story.begun.contains(s)) {
            ctx.persist(
                Record::Begin {
                    tx,
                    step,
                    op: Op::Action,
                }
                .into(),
            );
        }
        for step in open {
            self.send_member(tx, step, ctx);
        }
    }
}

/// What one saga's records say, whatever order lazy records landed in.
#[derive(Default)]
struct Story {
    /// Actions begun.
    begun: Vec<StepId>,
    /// Actions settled (done, or given up), in log order.
    settled: Vec<StepId>,
    /// Actions given up.
    gave_up: Vec<StepId>,
    /// `Failed { from }`, if the saga fails backward.
    failed: Option<Option<StepId>>,
    /// Compensations begun, in log order.
    compensations: Vec<StepId>,
    /// Compensations done.
    compensated: BTreeSet<StepId>,
    /// How it ended, if it did.
    end: Option<Outcome>,
}

impl Story {
    fn of(recs: &[&Record]) -> Self {
        let mut s = Story::default();
        for r in recs {
            match **r {
                Record::Begin { step, op, .. } => match op {
                    Op::Action => s.begun.push(step),
                    Op::Compensation => s.compensations.push(step),
                },
                Record::Done { step, op, .. } => match op {
                    Op::Action if !s.settled.contains(&step) => s.settled.push(step),
                    Op::Action => {}
                    Op::Compensation => {
                        s.compensated.insert(step);
                    }
                },
                Record::GaveUp { step, .. } => {
                    s.gave_up.push(step);
                    if !s.settled.contains(&step) {
                        s.settled.push(step);
                    }
                }
                Record::Failed { from, .. } => s.failed = Some(from),
                Record::End { outcome, .. } => s.end = Some(outcome),
                Record::Started { .. } | Record::Released { .. } => {}
            }
        }
        s
    }
}

fn tx_of(r: &Record) -> TxId {
    match r {
        Record::Started { tx }
        | Record::Begin { tx, .. }
        | Record::Done { tx, .. }
        | Record::Failed { tx, .. }
        | Record::End { tx, .. }
        | Record::GaveUp { tx, .. }
        | Record::Released { tx } => *tx,
    }
}
