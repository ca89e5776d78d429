//! No transaction ends `inconsistent`: some participants committed while
//! others aborted or never prepared. The outcome classifier names the
//! state; this checker makes sure it is always reported as a violation,
//! whichever other checker also sees it.

use super::{RunView, Scratch, Violation, violation};
use crate::protocols::Outcome;

/// The invariant's name.
pub const NAME: &str = "consistent_outcome";

/// Check it.
pub fn check(view: &RunView<'_>, _: &mut Scratch, out: &mut Vec<Violation>) {
    let inconsistent = view
        .outcomes
        .iter()
        .filter(|(_, o)| **o == Outcome::Inconsistent);
    out.extend(inconsistent.map(|(tx, _)| {
        let last = view
            .obs
            .iter()
            .rev()
            .find(|o| o.obs.tx() == *tx)
            .map_or(view.end_index, |o| o.index);
        violation(
            NAME,
            Some(*tx),
            last,
            format!("{tx}: ended inconsistent (some committed, others did not)"),
        )
    }));
}
