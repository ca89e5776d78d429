//! Compensations pair with actions: a compensation undoes only an action
//! that was applied (or is recorded as a null compensation), no action is
//! applied after its compensation (no "hanging" action), and nothing at or
//! after the pivot is ever compensated.

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::Obs;
use crate::protocols::workload::Op;

/// The invariant's name for a compensation without its action.
pub const UNPAIRED: &str = "compensation_without_action";
/// The invariant's name for an action after its compensation.
pub const HANGING: &str = "action_after_compensation";
/// The invariant's name for a compensation past the pivot.
pub const PAST_PIVOT: &str = "compensation_after_pivot";

/// Check all three.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    let pivot = view.workflow.pivot();
    // Per (transaction, step): applied, compensated.
    let seen = &mut scratch.paired;
    seen.reset(tx_rows(view), view.workflow.steps.len());
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
        let (applied, compensated) = seen.at(*tx, step.index());
        let name = &view.workflow.step(*step).name;
        match op {
            Op::Action if *delta != 0 => {
                if *compensated {
                    let msg = format!("{tx}: {name} applied after its compensation");
                    out.push(violation(HANGING, Some(*tx), o.index, msg));
                }
                *applied = true;
            }
            Op::Action => {}
            Op::Compensation => {
                if *delta != 0 && !*applied {
                    let msg = format!("{tx}: {name} compensated but never applied");
                    out.push(violation(UNPAIRED, Some(*tx), o.index, msg));
                }
                if pivot.is_some_and(|p| *step >= p) {
                    let msg = format!("{tx}: {name} compensated at or after the pivot");
                    out.push(violation(PAST_PIVOT, Some(*tx), o.index, msg));
                }
                *compensated = true;
            }
        }
    }
}
