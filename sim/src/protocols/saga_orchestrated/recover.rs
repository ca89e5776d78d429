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
use crate::protocols::stage::members;
use crate::protocols::timer::timer;
use crate::protocols::workload::{Op, StepId, TxId};
use crate::protocols::Outcome;
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
        let Some(last) = recs.last() else {
            return;
        };
        if let Record::End { outcome, .. } = last {
            self.sagas.insert(tx, Saga::new(ended(*outcome)));
            return;
        }
        if recs.iter().any(|r| matches!(r, Record::Failed { .. })) {
            self.resume_backward(tx, recs, ctx);
        } else {
            self.resume_forward(tx, recs, ctx);
        }
    }

    /// Failing backward: what is left to undo is what settled (in order)
    /// less what was compensated.
    fn resume_backward(&mut self, tx: TxId, recs: &[&Record], ctx: C) {
        let mut plan: Vec<StepId> = Vec::new();
        for r in recs {
            match **r {
                Record::Done {
                    step,
                    op: Op::Action,
                    ..
                }
                | Record::GaveUp { step, .. }
                | Record::Failed {
                    from: Some(step), ..
                } if !plan.contains(&step) => plan.push(step),
                Record::Done {
                    step,
                    op: Op::Compensation,
                    ..
                } => plan.retain(|s| *s != step),
                _ => {}
            }
        }
        let mut saga = Saga::new(SagaPhase::Compensated);
        saga.settled = plan;
        match recs.last() {
            // Logged but perhaps never sent: send it again, same key.
            Some(Record::Begin {
                step,
                op: Op::Compensation,
                ..
            }) => {
                saga.phase = SagaPhase::Compensating(*step);
                saga.inflight = vec![Member::new(*step, Op::Compensation)];
                self.sagas.insert(tx, saga);
                self.send_member(tx, *step, ctx);
            }
            _ => match saga.settled.last().copied() {
                // The failure was just logged, or the compensation before
                // was done: log and send the next one.
                Some(step) => {
                    self.sagas.insert(tx, saga);
                    self.enter_compensation(tx, step, ctx);
                }
                None => {
                    self.sagas.insert(tx, saga);
                    self.finish(tx, Outcome::Compensated, ctx);
                }
            },
        }
    }

    /// Going forward: the stage of the last record, its members done,
    /// given up (the saga then fails backward), begun (send again, same
    /// key) or not yet begun.
    fn resume_forward(&mut self, tx: TxId, recs: &[&Record], ctx: C) {
        let mut saga = Saga::new(SagaPhase::Running(StepId(0)));
        let mut state: BTreeMap<StepId, &Record> = BTreeMap::new();
        let mut current = None;
        for r in recs {
            if let Record::Begin { step, .. } | Record::Done { step, .. } | Record::GaveUp { step, .. } =
                **r
            {
                if !matches!(r, Record::Begin { .. }) {
                    saga.settled.push(step);
                }
                state.insert(step, *r);
                current = Some(step);
            }
        }
        self.sagas.insert(tx, saga);
        let Some(step) = current else {
            // Only started: run the first stage.
            return self.enter_stage(tx, StepId(0), ctx);
        };
        let stage = self.cfg.workflow.stage_of(step);
        let first = StepId(stage.start);
        let mut begun = Vec::new();
        let mut fresh = Vec::new();
        let saga = self.sagas.get_mut(&tx).expect("inserted above");
        saga.phase = SagaPhase::Running(first);
        for s in members(&stage) {
            match state.get(&s) {
                Some(Record::Done { .. }) => {}
                Some(Record::GaveUp { .. }) => saga.failing = true,
                Some(_) => begun.push(s),
                None => fresh.push(s),
            }
        }
        saga.inflight = begun
            .iter()
            .chain(&fresh)
            .map(|s| Member::new(*s, Op::Action))
            .collect();
        if saga.inflight.is_empty() {
            return self.advance(tx, ctx);
        }
        for &s in &fresh {
            ctx.persist(
                Record::Begin {
                    tx,
                    step: s,
                    op: Op::Action,
                }
                .into(),
            );
        }
        for s in begun.into_iter().chain(fresh) {
            self.send_member(tx, s, ctx);
        }
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
