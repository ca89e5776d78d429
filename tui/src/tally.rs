//! The run's metrics kept as running totals, so a pane's comparison-table
//! numbers cost what the fold costs (the events since a checkpoint), not a
//! pass over every observation so far. Each total follows
//! `txlab_sim::lab::metrics::metrics_without_anomalies` (the oracle the
//! tests hold it to) in one forward pass: where that function looks ahead
//! within the prefix ("was this transaction undone later?"), the tally
//! keeps what is pending and settles it when the undo arrives.

use std::collections::BTreeMap;
use txlab_sim::engine::{NodeId, Observation, SimTime, Stats};
use txlab_sim::lab::metrics::{per_service, total};
use txlab_sim::lab::{Metrics, Percentiles, RunView};
use txlab_sim::protocols::service::Reply;
use txlab_sim::protocols::workload::{Op, TxId, Workflow};
use txlab_sim::protocols::{Obs, Outcome};

/// Start and end times per transaction, one way of counting latency.
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

/// Running totals over a prefix of a run's observations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Latency from the client's request to its answer (runs with a
    /// client), and from start to finish (runs without).
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
    /// Per resource: transactions with an applied, not yet undone action.
    live: BTreeMap<(u16, String), Vec<TxId>>,
    /// Per transaction: decisions and reads that saw its change, counted
    /// if it is undone later.
    pending_decisions: BTreeMap<TxId, u64>,
    pending_reads: BTreeMap<TxId, u64>,
    dirty_decisions: u64,
    dirty_reads: u64,
    /// 2PC's uncertainty windows and who could reach the coordinator.
    doubt: crate::doubt::Uncertainty,
}

impl Tally {
    /// Nothing counted yet, for a run of `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        Tally {
            doubt: crate::doubt::Uncertainty::new(nodes),
            ..Tally::default()
        }
    }

    /// Add one applied fault (in trace order: after the observations made
    /// before it).
    pub fn fault(&mut self, f: &txlab_sim::engine::AppliedFault) {
        self.doubt.fault(f);
    }

    /// Add one observation (in trace order).
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
        if let Obs::TxFinished { outcome, .. } | Obs::ClientTold { outcome, .. } = o.obs {
            if matches!(outcome, Outcome::Compensated | Outcome::Aborted) {
                self.dirty_decisions += self.pending_decisions.remove(&tx).unwrap_or(0);
                self.dirty_reads += self.pending_reads.remove(&tx).unwrap_or(0);
            }
        }
    }

    /// A service applied an action or a compensation.
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
        let holders = self
            .live
            .entry((spec.service.0, spec.resource.clone()))
            .or_default();
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

    /// Per-transaction latencies so far (what
    /// `txlab_sim::lab::outcome::latencies` gives for the prefix).
    pub fn latencies(&self) -> &BTreeMap<TxId, f64> {
        if self.has_client {
            &self.by_client.latency
        } else {
            &self.by_protocol.latency
        }
    }

    /// The metrics of the prefix `view` (whose observations this tally has
    /// seen, and no others) with the engine's counters `stats`.
    pub fn metrics(&self, view: &RunView<'_>, stats: Stats) -> Metrics {
        let lat: Vec<f64> = self.latencies().values().copied().collect();
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
    use crate::fold::{FoldOptions, prefix_view};
    use crate::folder::Folder;
    use crate::recording::Recording;
    use txlab_sim::lab::metrics::metrics_without_anomalies;
    use txlab_sim::lab::outcome::latencies;
    use txlab_sim::lab::scenario::Scenario;

    /// At every 7th event of every pane of lessons that exercise each
    /// total (locks, crashes and partitions in 2PC; compensations, dirty
    /// reads and decisions, refused late actions in the sagas), the
    /// running totals give what the simulator's metrics give for the
    /// prefix. The lessons are checked to make each total non-zero
    /// somewhere, so a total the tally got wrong cannot hide behind zeros.
    #[test]
    fn running_totals_match_the_simulators_metrics_on_every_prefix() {
        let lessons = [
            "coordinator-crash-after-prepare",
            "partition-after-vote",
            "concurrent-sagas-anomaly",
            "lost-update-compensation",
            "compensation-before-action",
            "timeout-retry",
        ];
        let mut seen = [false; 6];
        for name in lessons {
            let path = format!("{}/../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).expect("lesson file");
            let rec = Recording::new(Scenario::parse(text.as_bytes(), name).unwrap(), vec![]);
            for run in &rec.panes {
                let mut f = Folder::new(run, FoldOptions::default());
                let len = run.world.trace().events().len();
                for n in (0..=len).step_by(7).chain([len]) {
                    f.advance(run, n);
                    let got = f.view(run).metrics;
                    let view = prefix_view(run, n);
                    let want = metrics_without_anomalies(&view, got_stats(&got), &latencies(&view));
                    assert_eq!(got, want, "{name}, {:?}, after {n} events", run.protocol);
                    let totals = [
                        got.lock_hold_ms,
                        got.blocked_ms,
                        got.compensations as f64,
                        got.dirty_reads as f64,
                        got.dirty_decisions as f64,
                        got.refused_late as f64 + got.retries as f64,
                    ];
                    for (s, t) in seen.iter_mut().zip(totals) {
                        *s |= t > 0.0;
                    }
                }
            }
        }
        assert_eq!(seen, [true; 6], "every total is exercised");
    }

    /// The engine's counters as the view copied them (they come from the
    /// event scan, which the snapshot tests cover; here they only feed
    /// the oracle the same numbers).
    fn got_stats(m: &txlab_sim::lab::Metrics) -> txlab_sim::engine::Stats {
        txlab_sim::engine::Stats {
            sent: m.messages_sent,
            delivered: m.messages_delivered,
            dropped: m.messages_dropped,
            duplicated: m.messages_duplicated,
            forced_writes: m.forced_log_writes,
            steps: m.events,
            ..Default::default()
        }
    }
}
