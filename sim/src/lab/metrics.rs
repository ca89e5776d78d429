//! Metrics computed from the observations and the engine's counters.

use super::report::{Metrics, Percentiles, ServiceTimes};
use super::view::RunView;
use crate::engine::{NodeId, SimTime, Stats};
use crate::protocols::Obs;
use crate::protocols::service::Reply;
use crate::protocols::workload::{Op, TxId};
use std::collections::BTreeMap;

/// Compute the run's metrics; `latencies` are the per-transaction
/// latencies of [`latencies`](super::outcome::latencies), which the caller
/// needs too and so computes once.
pub fn metrics(view: &RunView<'_>, stats: Stats, latencies: &BTreeMap<TxId, f64>) -> Metrics {
    let lat: Vec<f64> = latencies.values().copied().collect();
    let mut m = Metrics {
        messages_sent: stats.sent,
        messages_delivered: stats.delivered,
        messages_dropped: stats.dropped,
        messages_duplicated: stats.duplicated,
        forced_log_writes: stats.forced_writes,
        latency_ms: Percentiles::of(&lat),
        events: stats.steps,
        duration_ms: view.end.as_millis_f64(),
        ..Metrics::default()
    };
    let locks = spans(
        view,
        |o| matches!(o, Obs::LocksHeld { .. }),
        |o| matches!(o, Obs::LocksFreed { .. }),
    );
    let doubt = spans(
        view,
        |o| matches!(o, Obs::Voted { yes: true, .. }),
        |o| matches!(o, Obs::Committed { .. } | Obs::Aborted { .. }),
    );
    m.lock_hold_ms = total(&locks);
    m.in_doubt_ms = total(&doubt);
    m.per_service = per_service(view, &locks, &doubt);
    for o in view.obs {
        match &o.obs {
            Obs::Retry { .. } => m.retries += 1,
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
    let compensated = compensated_at(view);
    m.dirty_decisions = dirty_decisions(view, &compensated);
    m.dirty_reads = dirty_reads(view, &compensated);
    m.anomalies = m.dirty_decisions + m.dirty_reads;
    m
}

/// When each compensated saga ended (trace index).
fn compensated_at(view: &RunView<'_>) -> BTreeMap<TxId, u64> {
    view.obs
        .iter()
        .filter_map(|o| match o.obs {
            Obs::TxFinished {
                tx,
                outcome: crate::protocols::Outcome::Compensated,
            } => Some((tx, o.index)),
            _ => None,
        })
        .collect()
}

/// Auditor reads whose values included a change of a saga that was later
/// compensated: state that never became real.
fn dirty_reads(view: &RunView<'_>, compensated_at: &BTreeMap<TxId, u64>) -> u64 {
    view.obs
        .iter()
        .map(|o| match &o.obs {
            Obs::Read { visible, .. } => visible
                .iter()
                .filter(|tx| compensated_at.get(tx).is_some_and(|at| *at > o.index))
                .count() as u64,
            _ => 0,
        })
        .sum()
}

/// A service acted for one saga on a resource whose value then included
/// another saga's change that was later compensated. The decision (accept,
/// reject as sold out) read state that never became real. 2PC applies
/// changes only after the decision, so it has none.
fn dirty_decisions(view: &RunView<'_>, compensated_at: &BTreeMap<TxId, u64>) -> u64 {
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
                .filter(|h| **h != *tx && compensated_at.get(h).is_some_and(|at| *at > o.index))
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

/// Per-service lock-hold and in-doubt times, keyed by service name.
fn per_service(
    view: &RunView<'_>,
    locks: &BTreeMap<NodeId, SimTime>,
    doubt: &BTreeMap<NodeId, SimTime>,
) -> BTreeMap<String, ServiceTimes> {
    let mut out = BTreeMap::new();
    for node in locks.keys().chain(doubt.keys()) {
        let Some(svc) = view.service_of(*node) else {
            continue;
        };
        let name = view.workflow.services[svc.index()].name.clone();
        let ms = |m: &BTreeMap<NodeId, SimTime>| m.get(node).map_or(0.0, |t| t.as_millis_f64());
        out.insert(
            name,
            ServiceTimes {
                lock_hold_ms: ms(locks),
                in_doubt_ms: ms(doubt),
            },
        );
    }
    out
}

fn total(m: &BTreeMap<NodeId, SimTime>) -> f64 {
    m.values()
        .fold(SimTime::ZERO, |a, b| a + *b)
        .as_millis_f64()
}
