//! The run's metrics as running totals: [`MetricsTally`] is fed a run's
//! observations and applied faults one at a time, in trace order, and
//! yields the [`Metrics`] of the prefix seen so far. It is the one
//! definition of those metrics: [`metrics`](super::metrics::metrics) folds
//! a whole run through it, and the UI keeps one per pane (and clones of it
//! as checkpoints), so a cursor move costs the events it passes, not a
//! pass over every observation so far.
//!
//! Where a metric needs to know the future of the prefix ("was this
//! transaction undone later?"), the tally keeps what is pending and
//! settles it when the undo arrives, so the metrics of any prefix are
//! what a pass over that prefix alone would give.

use super::metrics::{per_service, total};
use super::report::{Metrics, Percentiles};
use super::uncertainty::UncertaintyTally;
use super::view::RunView;
use crate::engine::{AppliedFault, NodeId, Observation, SimTime, Stats};
use crate::protocols::service::Reply;
use crate::protocols::workload::{Op, TxId, Workflow};
use crate::protocols::{Obs, Outcome};
use std::collections::BTreeMap;

/// One event of a run as the tallies take it.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// An observation.
    Obs(&'a Observation<Obs>),
    /// An applied fault.
    Fault(&'a AppliedFault),
}

/// A view's observations and its faults before `end_index`, merged in
/// trace order (a fault is an event of its own, never the event that made
/// an observation, so the order is total).
pub fn in_trace_order<'a>(view: &RunView<'a>) -> impl Iterator<Item = Event<'a>> {
    let end = view.end_index;
    let mut faults = view.faults.iter().filter(move |f| f.index < end).peekable();
    let mut obs = view.obs.iter().peekable();
    std::iter::from_fn(move || match (obs.peek(), faults.peek()) {
        (Some(o), Some(f)) if f.index < o.index => faults.next().map(Event::Fault),
        (Some(_), _) => obs.next().map(Event::Obs),
        (None, _) => faults.next().map(Event::Fault),
    })
}

/// Start and end times per transaction, one way of counting latency
/// (as [`latencies`](super::outcome::latencies) counts it).
#[derive(Clone, Debug, Default, PartialEq)]
struct Clock {
    start: BTreeMap<TxId, SimTime>,
    latency: BTreeMap<TxId, f64>,
}

impl Clock {
    fn mark(&mut self, tx: TxId, at: SimTime, starts: bool, ends: bool) {
        if starts {
            self.start.entry(tx).or_insert(at);
        }
        if let (true, Some(s)) = (ends, self.start.get(&tx)) {
            let ms = (at - *s).as_millis_f64();
            self.latency.entry(tx).or_insert(ms);
        }
    }
}

/// Running totals over a prefix of a run's observations and faults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsTally {
    /// Latency from the client's request to its answer (runs with a
    /// client), and from start to finish (runs without): both are kept
    /// until the prefix shows which applies.
    by_client: Clock,
    by_protocol: Clock,
    has_client: bool,
    retries: u64,
    reads: u64,
    compensations: u64,
    null_compensations: u64,
    refused_late: u64,
    /// Lock spans open per (node, transaction), and closed time per node.
    locked: BTreeMap<(NodeId, TxId), SimTime>,
    lock_closed: BTreeMap<NodeId, SimTime>,
    /// Per service, per resource: transactions with an applied, not yet
    /// undone, action on it.
    live: BTreeMap<u16, BTreeMap<String, Vec<TxId>>>,
    /// Per transaction: decisions and reads that saw its change, counted
    /// if it is undone later.
    pending_decisions: BTreeMap<TxId, u64>,
    pending_reads: BTreeMap<TxId, u64>,
    dirty_decisions: u64,
    dirty_reads: u64,
    /// 2PC's uncertainty windows and who could reach the coordinator.
    doubt: UncertaintyTally,
}

impl MetricsTally {
    /// Nothing counted yet, for a run of `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        MetricsTally {
            doubt: UncertaintyTally::new(nodes),
            ..MetricsTally::default()
        }
    }

    /// A tally of the whole view (its observations, and its faults before
    /// `end_index`).
    pub fn of(view: &RunView<'_>) -> Self {
        // Only nodes that report have windows, so these are all it tracks.
        let nodes = view.obs.iter().map(|o| o.node.index() + 1).max();
        let mut t = MetricsTally::new(nodes.unwrap_or(0));
        for e in in_trace_order(view) {
            match e {
                Event::Obs(o) => t.observe(view.workflow, o),
                Event::Fault(f) => t.fault(f),
            }
        }
        t
    }

    /// Add one applied fault (in trace order: after the observations made
    /// before it).
    pub fn fault(&mut self, f: &AppliedFault) {
        self.doubt.fault(f);
    }

    /// Add one observation of a run of `wf` (in trace order).
    pub fn observe(&mut self, wf: &Workflow, o: &Observation<Obs>) {
        let tx = o.obs.tx();
        match &o.obs {
            Obs::Requested { .. } => {
                self.has_client = true;
                self.by_client.mark(tx, o.time, true, false);
            }
            Obs::TxStarted { .. } => self.by_protocol.mark(tx, o.time, true, false),
            Obs::ClientTold { .. } => self.by_client.mark(tx, o.time, false, true),
            Obs::TxFinished { .. } => self.by_protocol.mark(tx, o.time, false, true),
            Obs::Retry { .. } => self.retries += 1,
            Obs::Read { visible, .. } => {
                self.reads += 1;
                for t in visible {
                    *self.pending_reads.entry(*t).or_default() += 1;
                }
            }
            Obs::Local { .. } => self.local(wf, o),
            Obs::Prepared { .. }
            | Obs::InDoubt { .. }
            | Obs::Committed { .. }
            | Obs::Aborted { .. } => self.doubt.observe(o),
            Obs::LocksHeld { .. } => {
                self.locked.entry((o.node, tx)).or_insert(o.time);
            }
            Obs::LocksFreed { .. } => {
                if let Some(t) = self.locked.remove(&(o.node, tx)) {
                    *self.lock_closed.entry(o.node).or_default() += o.time - t;
                }
            }
            _ => {}
        }
        // A transaction whose changes never became real (a saga
        // compensated, a 2PC transaction aborted), as the client-facing
        // role reports it: what saw its change read state that never was.
        // One path for every protocol: 2PC's zero is measured on the same
        // reads and decisions as the sagas' counts.
        if let Obs::TxFinished { outcome, .. } | Obs::ClientTold { outcome, .. } = o.obs {
            if matches!(outcome, Outcome::Compensated | Outcome::Aborted) {
                self.dirty_decisions += self.pending_decisions.remove(&tx).unwrap_or(0);
                self.dirty_reads += self.pending_reads.remove(&tx).unwrap_or(0);
            }
        }
    }

    /// A service applied an action or a compensation. An action on a
    /// resource whose value includes another transaction's applied change
    /// decided on that value (accept, or reject as sold out); it was a
    /// dirty decision if that change is undone later. A 2PC participant
    /// applies a change only once it is committed, behind its locks, so
    /// in a correct run there is none to see.
    fn local(&mut self, wf: &Workflow, o: &Observation<Obs>) {
        let Obs::Local {
            tx,
            step,
            op,
            delta,
            reply,
        } = &o.obs
        else {
            return;
        };
        match (op, reply) {
            (Op::Compensation, _) if *delta != 0 => self.compensations += 1,
            (_, Reply::NullCompensation) => self.null_compensations += 1,
            (_, Reply::RefusedLate) => self.refused_late += 1,
            _ => {}
        }
        let spec = wf.step(*step);
        let resources = self.live.entry(spec.service.0).or_default();
        // Looked up by name, allocated once per resource.
        if !resources.contains_key(&spec.resource) {
            resources.insert(spec.resource.clone(), Vec::new());
        }
        let Some(holders) = resources.get_mut(&spec.resource) else {
            return;
        };
        if *op == Op::Action {
            for h in holders.iter().filter(|h| **h != *tx) {
                *self.pending_decisions.entry(*h).or_default() += 1;
            }
            if *delta != 0 {
                holders.push(*tx);
            }
        } else if *delta != 0 {
            holders.retain(|h| h != tx);
        }
    }

    /// Per-transaction latencies (ms) so far: what
    /// [`latencies`](super::outcome::latencies) gives for the prefix.
    pub fn latencies(&self) -> &BTreeMap<TxId, f64> {
        if self.has_client {
            &self.by_client.latency
        } else {
            &self.by_protocol.latency
        }
    }

    /// The metrics of the prefix `view` (whose observations and faults
    /// this tally has seen, and no others) with the engine's counters
    /// `stats`; the isolation anomalies are left empty (see
    /// [`metrics`](super::metrics::metrics)).
    pub fn metrics(&self, view: &RunView<'_>, stats: Stats) -> Metrics {
        self.metrics_with(view, stats, self.latencies())
    }

    /// [`MetricsTally::metrics`] with the per-transaction `latencies` the
    /// caller already has.
    pub fn metrics_with(
        &self,
        view: &RunView<'_>,
        stats: Stats,
        latencies: &BTreeMap<TxId, f64>,
    ) -> Metrics {
        let lat: Vec<f64> = latencies.values().copied().collect();
        // Lock spans and uncertainty windows still open run to the end.
        let mut locks = self.lock_closed.clone();
        for ((node, _), t) in &self.locked {
            *locks.entry(*node).or_default() += view.end - *t;
        }
        let doubt = self.doubt.per_node(view.end);
        Metrics {
            messages_sent: stats.sent,
            messages_delivered: stats.delivered,
            messages_dropped: stats.dropped,
            messages_duplicated: stats.duplicated,
            forced_log_writes: stats.forced_writes,
            latency_ms: Percentiles::of(&lat),
            unfinished: u64::from(view.workflow.transactions).saturating_sub(lat.len() as u64),
            events: stats.steps,
            duration_ms: view.end.as_millis_f64(),
            lock_hold_ms: total(locks.values().copied()),
            in_doubt_ms: total(doubt.values().map(|d| d.uncertain)),
            blocked_ms: total(doubt.values().map(|d| d.blocked)),
            per_service: per_service(view, &locks, &doubt),
            retries: self.retries,
            reads: self.reads,
            compensations: self.compensations,
            null_compensations: self.null_compensations,
            refused_late: self.refused_late,
            dirty_reads: self.dirty_reads,
            dirty_decisions: self.dirty_decisions,
            ..Metrics::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Fault;
    use crate::protocols::Protocol;
    use crate::protocols::workload::Workflow;

    fn obs(index: u64) -> Observation<Obs> {
        Observation {
            index,
            time: SimTime::from_millis(index),
            node: NodeId(1),
            obs: Obs::TxStarted { tx: TxId(0) },
        }
    }

    fn fault(index: u64) -> AppliedFault {
        AppliedFault {
            index,
            time: SimTime::from_millis(index),
            fault: Fault::Crash(NodeId(1)),
        }
    }

    /// Faults go before the observations of later events, after those of
    /// earlier ones, trailing faults come last, and faults at or past
    /// `end_index` are left out (a prefix's view keeps the whole list).
    #[test]
    fn events_come_in_trace_order() {
        let wf = Workflow::holiday();
        let o = [obs(1), obs(2), obs(2), obs(5)];
        let f = [fault(0), fault(3), fault(4), fault(6), fault(7)];
        let view = RunView {
            protocol: Protocol::TwoPc,
            workflow: &wf,
            obs: &o,
            faults: &f,
            final_values: Vec::new(),
            outcomes: BTreeMap::new(),
            healed: true,
            undelivered: 0,
            end: SimTime::from_millis(7),
            end_index: 7,
            by_value: None,
        };
        let order: Vec<(char, u64)> = in_trace_order(&view)
            .map(|e| match e {
                Event::Obs(o) => ('o', o.index),
                Event::Fault(f) => ('f', f.index),
            })
            .collect();
        let want = [
            ('f', 0),
            ('o', 1),
            ('o', 2),
            ('o', 2),
            ('f', 3),
            ('f', 4),
            ('o', 5),
            ('f', 6),
        ];
        assert_eq!(order, want);
    }
}
