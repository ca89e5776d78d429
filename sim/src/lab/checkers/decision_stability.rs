//! 2PC decision stability: once decided, a transaction's outcome never
//! changes, including after the coordinator crashes and recovers.

use super::{RunView, Violation, violation};
use crate::protocols::Obs;
use crate::protocols::workload::TxId;
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "decision_stability";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let mut first: BTreeMap<TxId, bool> = BTreeMap::new();
    let mut out = Vec::new();
    for o in view.obs {
        if let Obs::Decided { tx, commit, .. } = o.obs {
            match first.get(&tx) {
                Some(prev) if *prev != commit => out.push(violation(
                    NAME,
                    Some(tx),
                    o.index,
                    format!("{tx}: decision changed from {prev} to {commit}"),
                )),
                Some(_) => {}
                None => {
                    first.insert(tx, commit);
                }
            }
        }
    }
    out
}
