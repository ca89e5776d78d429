//! Metrics computed from the observations and the engine's counters.

use super::report::{Metrics, ServiceTimes};
use super::tally::MetricsTally;
use super::uncertainty::Doubt;
use super::view::RunView;
use crate::engine::{NodeId, SimTime, Stats};
use crate::protocols::workload::TxId;
use std::collections::BTreeMap;

/// Compute the run's metrics; `latencies` are the per-transaction
/// latencies of [`latencies`](super::outcome::latencies), which the caller
/// needs too and so computes once.
pub fn metrics(view: &RunView<'_>, stats: Stats, latencies: &BTreeMap<TxId, f64>) -> Metrics {
    let mut m = metrics_without_anomalies(view, stats, latencies);
    m.anomaly_details = super::anomaly::detect(view);
    m.anomaly_classes = super::anomaly::AnomalyClasses::of(&m.anomaly_details);
    m.anomalies = m.anomaly_classes.total();
    m
}

/// [`metrics`] without the isolation anomalies (left empty): the run's
/// observations and faults folded through a [`MetricsTally`], the one
/// definition of these numbers (the UI keeps the same tally as running
/// totals; the anomaly detectors cost more than the whole remainder on a
/// long trace, so it runs them only on request).
pub fn metrics_without_anomalies(
    view: &RunView<'_>,
    stats: Stats,
    latencies: &BTreeMap<TxId, f64>,
) -> Metrics {
    MetricsTally::of(view).metrics_with(view, stats, latencies)
}

/// Per-service lock-hold, uncertain and blocked times, keyed by service
/// name.
pub fn per_service(
    view: &RunView<'_>,
    locks: &BTreeMap<NodeId, SimTime>,
    doubt: &BTreeMap<NodeId, Doubt>,
) -> BTreeMap<String, ServiceTimes> {
    let mut out = BTreeMap::new();
    for node in locks.keys().chain(doubt.keys()) {
        let Some(svc) = view.service_of(*node) else {
            continue;
        };
        let name = view.workflow.services[svc.index()].name.clone();
        let d = doubt.get(node).copied().unwrap_or_default();
        out.insert(
            name,
            ServiceTimes {
                lock_hold_ms: locks.get(node).map_or(0.0, |t| t.as_millis_f64()),
                in_doubt_ms: d.uncertain.as_millis_f64(),
                blocked_ms: d.blocked.as_millis_f64(),
            },
        );
    }
    out
}

/// The sum of `times`, in milliseconds.
pub fn total(times: impl Iterator<Item = SimTime>) -> f64 {
    times.fold(SimTime::ZERO, |a, b| a + b).as_millis_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Observation;
    use crate::protocols::workload::{ServiceId, Workflow};
    use crate::protocols::{Obs, Outcome, Protocol};

    /// A finished, healed run of `wf` whose observations are `obs`.
    fn view<'a>(protocol: Protocol, wf: &'a Workflow, obs: &'a [Observation<Obs>]) -> RunView<'a> {
        RunView {
            protocol,
            workflow: wf,
            obs,
            faults: &[],
            final_values: Vec::new(),
            outcomes: BTreeMap::new(),
            healed: true,
            undelivered: 0,
            end: SimTime::from_secs(1),
            end_index: obs.len() as u64,
            by_value: None,
        }
    }

    fn view_metrics(protocol: Protocol, obs: &[Observation<Obs>]) -> Metrics {
        let wf = Workflow::holiday();
        metrics(
            &view(protocol, &wf, obs),
            Stats::default(),
            &BTreeMap::new(),
        )
    }

    fn log(events: Vec<(u32, Obs)>) -> Vec<Observation<Obs>> {
        events
            .into_iter()
            .enumerate()
            .map(|(i, (node, obs))| Observation {
                index: i as u64,
                time: SimTime::from_millis(i as u64),
                node: NodeId(node),
                obs,
            })
            .collect()
    }

    #[test]
    fn anomalies_are_counted_the_same_way_for_every_protocol() {
        // A read that saw T0's change, then T0 undone: a dirty read whether
        // the undoing was a saga's compensation or a 2PC abort.
        let read = |tx| Obs::Read {
            service: ServiceId(3),
            visible: vec![tx],
        };
        let t = TxId(0);
        for (protocol, outcome) in [
            (Protocol::TwoPc, Outcome::Aborted),
            (Protocol::Orchestrated, Outcome::Compensated),
            (Protocol::Choreographed, Outcome::Compensated),
        ] {
            let obs = log(vec![
                (5, read(t)),
                (0, Obs::TxFinished { tx: t, outcome }),
                (5, read(TxId(1))),
            ]);
            let m = view_metrics(protocol, &obs);
            assert_eq!((m.dirty_reads, m.reads), (1, 2), "{protocol:?}");
            // The auditor is no transaction: its reads are no anomaly
            // instance (those come from the services' own accesses).
            assert_eq!(m.anomalies, 0, "{protocol:?}");
        }
        // Committed changes are real: reading them is no anomaly.
        let obs = log(vec![
            (5, read(t)),
            (
                0,
                Obs::TxFinished {
                    tx: t,
                    outcome: Outcome::Committed,
                },
            ),
        ]);
        assert_eq!(view_metrics(Protocol::TwoPc, &obs).dirty_reads, 0);
    }

    #[test]
    fn unanswered_transactions_are_counted_apart_from_latency() {
        let wf = Workflow::holiday();
        let view = view(Protocol::TwoPc, &wf, &[]);
        let m = metrics(&view, Stats::default(), &BTreeMap::new());
        assert_eq!(m.unfinished, u64::from(wf.transactions));
        let lat = BTreeMap::from([(TxId(0), 12.0)]);
        let m = metrics(&view, Stats::default(), &lat);
        assert_eq!(m.unfinished, u64::from(wf.transactions) - 1);
        assert_eq!(m.latency_ms.max, 12.0);
    }
}
