//! Metrics computed from the observations and the engine's counters.

use super::report::{Metrics, Percentiles, ServiceTimes};
use super::uncertainty::{self, Doubt};
use super::view::RunView;
use crate::engine::{NodeId, SimTime, Stats};
use crate::protocols::service::Reply;
use crate::protocols::workload::{Op, TxId};
use crate::protocols::{Obs, Outcome};
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

/// [`metrics`] without the isolation anomalies (left empty): the UI
/// recomputes the rest at every cursor move, and the anomaly detectors
/// cost more than the whole remainder on a long trace.
pub fn metrics_without_anomalies(
    view: &RunView<'_>,
    stats: Stats,
    latencies: &BTreeMap<TxId, f64>,
) -> Metrics {
    let lat: Vec<f64> = latencies.values().copied().collect();
    let mut m = Metrics {
        messages_sent: stats.sent,
        messages_delivered: stats.delivered,
        messages_dropped: stats.dropped,
        messages_duplicated: stats.duplicated,
        forced_log_writes: stats.forced_writes,
        latency_ms: Percentiles::of(&lat),
        unfinished: u64::from(view.workflow.transactions).saturating_sub(lat.len() as u64),
        events: stats.steps,
        duration_ms: view.end.as_millis_f64(),
        ..Metrics::default()
    };
    let locks = spans(
        view,
        |o| matches!(o, Obs::LocksHeld { .. }),
        |o| matches!(o, Obs::LocksFreed { .. }),
    );
    let doubt = uncertainty::per_node(view);
    m.lock_hold_ms = total(locks.values().copied());
    m.in_doubt_ms = total(doubt.values().map(|d| d.uncertain));
    m.blocked_ms = total(doubt.values().map(|d| d.blocked));
    m.per_service = per_service(view, &locks, &doubt);
    for o in view.obs {
        match &o.obs {
            Obs::Retry { .. } => m.retries += 1,
            Obs::Read { .. } => m.reads += 1,
            Obs::Local {
                op: Op::Compensation,
                delta,
                ..
            } if *delta != 0 => m.compensations += 1,
            Obs::Local {
                reply: Reply::NullCompensation,
                ..
            } => m.null_compensations += 1,
            Obs::Local {
                reply: Reply::RefusedLate,
                ..
            } => m.refused_late += 1,
            _ => {}
        }
    }
    // One path for every protocol: 2PC's zero is measured on the same
    // auditor reads and decisions as the sagas' counts.
    let undone = undone_at(view);
    m.dirty_decisions = dirty_decisions(view, &undone);
    m.dirty_reads = dirty_reads(view, &undone);
    m
}

/// When each transaction whose changes never became real ended (trace
/// index): a saga compensated, or a 2PC transaction aborted. Read from what
/// the client-facing role reported, so a partial trace (the UI's cursor)
/// counts what has happened so far.
fn undone_at(view: &RunView<'_>) -> BTreeMap<TxId, u64> {
    view.obs
        .iter()
        .filter_map(|o| match o.obs {
            Obs::TxFinished { tx, outcome } | Obs::ClientTold { tx, outcome }
                if matches!(outcome, Outcome::Compensated | Outcome::Aborted) =>
            {
                Some((tx, o.index))
            }
            _ => None,
        })
        .collect()
}

/// Auditor reads whose values included a change that was later undone
/// (compensated or aborted): state that never became real.
fn dirty_reads(view: &RunView<'_>, undone_at: &BTreeMap<TxId, u64>) -> u64 {
    view.obs
        .iter()
        .map(|o| match &o.obs {
            Obs::Read { visible, .. } => visible
                .iter()
                .filter(|tx| undone_at.get(tx).is_some_and(|at| *at > o.index))
                .count() as u64,
            _ => 0,
        })
        .sum()
}

/// A service acted for one transaction on a resource whose value then
/// included another's change that was later undone. The decision (accept,
/// reject as sold out) read state that never became real. A 2PC
/// participant applies a change only once it is committed, behind its
/// locks, so in a correct run there is none to see.
fn dirty_decisions(view: &RunView<'_>, undone_at: &BTreeMap<TxId, u64>) -> u64 {
    let wf = view.workflow;
    // Per resource: sagas with an applied, not yet undone, action on it.
    let mut live: BTreeMap<(u16, &str), Vec<TxId>> = BTreeMap::new();
    let mut count = 0;
    for o in view.obs {
        let Obs::Local {
            tx,
            step,
            op,
            delta,
            ..
        } = &o.obs
        else {
            continue;
        };
        let spec = wf.step(*step);
        let key = (spec.service.0, spec.resource.as_str());
        let holders = live.entry(key).or_default();
        if *op == Op::Action {
            count += holders
                .iter()
                .filter(|h| **h != *tx && undone_at.get(h).is_some_and(|at| *at > o.index))
                .count() as u64;
            if *delta != 0 {
                holders.push(*tx);
            }
        } else if *delta != 0 {
            holders.retain(|h| h != tx);
        }
    }
    count
}

/// Time between an opening and a closing observation, summed per node over
/// its transactions; an open span runs to the end of the run.
fn spans(
    view: &RunView<'_>,
    open: impl Fn(&Obs) -> bool,
    close: impl Fn(&Obs) -> bool,
) -> BTreeMap<NodeId, SimTime> {
    let mut opened: BTreeMap<(NodeId, TxId), SimTime> = BTreeMap::new();
    let mut per_node: BTreeMap<NodeId, SimTime> = BTreeMap::new();
    for o in view.obs {
        let key = (o.node, o.obs.tx());
        if open(&o.obs) {
            opened.entry(key).or_insert(o.time);
        } else if close(&o.obs) {
            if let Some(t) = opened.remove(&key) {
                *per_node.entry(o.node).or_default() += o.time - t;
            }
        }
    }
    for ((node, _), t) in opened {
        *per_node.entry(node).or_default() += view.end - t;
    }
    per_node
}

/// Per-service lock-hold, uncertain and blocked times, keyed by service
/// name (also used by the UI's running totals, so both agree by
/// construction).
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
    use crate::protocols::Protocol;
    use crate::protocols::workload::{ServiceId, Workflow};

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
