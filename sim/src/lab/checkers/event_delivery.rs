//! Choreography: no event is silently discarded (once faults heal, every
//! delivery is acknowledged and every outbox entry confirmed), and the
//! events per saga are bounded (no cycles).

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::Obs;

/// The invariant's name for unconsumed events.
pub const DISCARDED: &str = "no_event_discarded";
/// The invariant's name for runaway event chains.
pub const BOUNDED: &str = "events_bounded";

/// Check both.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
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
    let per_tx = &mut scratch.published;
    per_tx.reset(tx_rows(view), 1);
    for o in view.obs {
        if let Obs::Published { tx, .. } = o.obs {
            let n = per_tx.at(tx, 0);
            *n += 1;
            if *n == bound + 1 {
                let msg = format!("{tx}: more than {bound} events");
                out.push(violation(BOUNDED, Some(tx), o.index, msg));
            }
        }
    }
}
