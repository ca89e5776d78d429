//! Compensations pair with actions: a compensation undoes only an action
//! that was applied (or is recorded as a null compensation), no action is
//! applied after its compensation (no "hanging" action), and nothing at or
//! after the pivot is ever compensated.

use super::{RunView, Violation, violation};
use crate::protocols::Obs;
use crate::protocols::workload::{Op, StepId, TxId};
use std::collections::BTreeSet;

/// The invariant's name for a compensation without its action.
pub const UNPAIRED: &str = "compensation_without_action";
/// The invariant's name for an action after its compensation.
pub const HANGING: &str = "action_after_compensation";
/// The invariant's name for a compensation past the pivot.
pub const PAST_PIVOT: &str = "compensation_after_pivot";

/// Check all three.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let pivot = view.workflow.pivot();
    let mut applied: BTreeSet<(TxId, StepId)> = BTreeSet::new();
    let mut compensated: BTreeSet<(TxId, StepId)> = BTreeSet::new();
    let mut out = Vec::new();
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
        let key = (*tx, *step);
        let name = &view.workflow.step(*step).name;
        match op {
            Op::Action if *delta != 0 => {
                if compensated.contains(&key) {
                    let msg = format!("{tx}: {name} applied after its compensation");
                    out.push(violation(HANGING, Some(*tx), o.index, msg));
                }
                applied.insert(key);
            }
            Op::Action => {}
            Op::Compensation => {
                if *delta != 0 && !applied.contains(&key) {
                    let msg = format!("{tx}: {name} compensated but never applied");
                    out.push(violation(UNPAIRED, Some(*tx), o.index, msg));
                }
                if pivot.is_some_and(|p| *step >= p) {
                    let msg = format!("{tx}: {name} compensated at or after the pivot");
                    out.push(violation(PAST_PIVOT, Some(*tx), o.index, msg));
                }
                compensated.insert(key);
            }
        }
    }
    out
}
