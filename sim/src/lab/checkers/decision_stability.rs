//! 2PC decision stability: once decided, a transaction's outcome never
//! changes, including after the coordinator crashes and recovers.

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::Obs;

/// The invariant's name.
pub const NAME: &str = "decision_stability";

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    let first = &mut scratch.first_decision;
    first.reset(tx_rows(view), 1);
    for o in view.obs {
        if let Obs::Decided { tx, commit, .. } = o.obs {
            let prev = *first.at(tx, 0).get_or_insert(commit);
            if prev != commit {
                out.push(violation(
                    NAME,
                    Some(tx),
                    o.index,
                    format!("{tx}: decision changed from {prev} to {commit}"),
                ));
            }
        }
    }
}
