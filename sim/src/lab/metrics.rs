//! Metrics computed from the observations and the engine's counters.

use super::outcome::latencies;
use super::report::{Metrics, Percentiles};
use super::view::RunView;
use crate::engine::{NodeId, SimTime, Stats};
use crate::protocols::Obs;
use crate::protocols::workload::{Op, TxId};
use std::collections::BTreeMap;

/// Compute the run's metrics.
pub fn metrics(view: &RunView<'_>, stats: Stats) -> Metrics {
    let lat: Vec<f64> = latencies(view).into_values().collect();
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
    m.lock_hold_ms = spans(
        view,
        |o| matches!(o, Obs::LocksHeld { .. }),
        |o| matches!(o, Obs::LocksFreed { .. }),
    );
    m.in_doubt_ms = spans(
        view,
        |o| matches!(o, Obs::Voted { yes: true, .. }),
        |o| matches!(o, Obs::Committed { .. } | Obs::Aborted { .. }),
    );
    for o in view.obs {
        match &o.obs {
            Obs::Retry { .. } => m.retries += 1,
            Obs::Local {
                op: Op::Compensation,
                delta,
                ..
            } if *delta != 0 => m.compensations += 1,
            _ => {}
        }
    }
    m
}

/// Total time between an opening and a closing observation per (node, tx);
/// an open span runs to the end of the run.
fn spans(view: &RunView<'_>, open: impl Fn(&Obs) -> bool, close: impl Fn(&Obs) -> bool) -> f64 {
    let mut opened: BTreeMap<(NodeId, TxId), SimTime> = BTreeMap::new();
    let mut total = SimTime::ZERO;
    for o in view.obs {
        let key = (o.node, o.obs.tx());
        if open(&o.obs) {
            opened.entry(key).or_insert(o.time);
        } else if close(&o.obs) {
            if let Some(t) = opened.remove(&key) {
                total += o.time - t;
            }
        }
    }
    for t in opened.into_values() {
        total += view.end - t;
    }
    total.as_millis_f64()
}
