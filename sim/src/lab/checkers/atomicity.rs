//! 2PC atomicity: no participant commits a transaction that another aborts.

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::Obs;

/// The invariant's name.
pub const NAME: &str = "atomicity";

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    // First commit (column 0) and first abort (column 1) seen per
    // transaction, with who and where (named only for a violation: a sweep
    // judges thousands of runs).
    let firsts = &mut scratch.first_ends;
    firsts.reset(tx_rows(view), 2);
    for o in view.obs {
        let (tx, col) = match o.obs {
            Obs::Committed { tx } => (tx, 0),
            Obs::Aborted { tx, .. } => (tx, 1),
            _ => continue,
        };
        firsts.at(tx, col).get_or_insert((o.index, o.node));
    }
    for (tx, row) in firsts.rows() {
        if let [Some((ci, cn)), Some((ai, an))] = row {
            out.push(violation(
                NAME,
                Some(tx),
                (*ci).max(*ai),
                format!("{tx}: {cn} committed but {an} aborted"),
            ));
        }
    }
}
