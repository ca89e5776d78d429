//! Choreography: no event is silently discarded (once faults heal, every
//! delivery is acknowledged and every outbox entry confirmed), and the
//! events per saga are bounded (no cycles).

use super::{RunView, Violation, violation};
use crate::protocols::Obs;
use crate::protocols::workload::TxId;
use std::collections::BTreeMap;

/// The invariant's name for unconsumed events.
pub const DISCARDED: &str = "no_event_discarded";
/// The invariant's name for runaway event chains.
pub const BOUNDED: &str = "events_bounded";

/// Check both.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    if view.healed && view.undelivered > 0 {
        let msg = format!(
            "{} events still unacknowledged or unrelayed with every fault healed",
            view.undelivered
        );
        out.push(violation(DISCARDED, None, view.end_index, msg));
    }
    // Requested, one done or failed per step, one compensation per step,
    // and the end marker.
    let bound = 2 * view.workflow.steps.len() + 2;
    let mut per_tx: BTreeMap<TxId, (usize, u64)> = BTreeMap::new();
    for o in view.obs {
        if let Obs::Published { tx, .. } = o.obs {
            let e = per_tx.entry(tx).or_insert((0, 0));
            e.0 += 1;
            e.1 = o.index;
            if e.0 == bound + 1 {
                let msg = format!("{tx}: more than {bound} events");
                out.push(violation(BOUNDED, Some(tx), o.index, msg));
            }
        }
    }
    out
}
