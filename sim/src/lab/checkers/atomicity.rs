//! 2PC atomicity: no participant commits a transaction that another aborts.

use super::{RunView, Violation, violation};
use crate::engine::NodeId;
use crate::protocols::Obs;
use crate::protocols::workload::TxId;
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "atomicity";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    // First commit and first abort seen per transaction, with who and where
    // (named only for a violation: a sweep judges thousands of runs).
    let mut commits: BTreeMap<TxId, (u64, NodeId)> = BTreeMap::new();
    let mut aborts: BTreeMap<TxId, (u64, NodeId)> = BTreeMap::new();
    for o in view.obs {
        let who = o.node;
        match o.obs {
            Obs::Committed { tx } => {
                commits.entry(tx).or_insert((o.index, who));
            }
            Obs::Aborted { tx, .. } => {
                aborts.entry(tx).or_insert((o.index, who));
            }
            _ => {}
        }
    }
    commits
        .iter()
        .filter_map(|(tx, (ci, cn))| {
            let (ai, an) = aborts.get(tx)?;
            Some(violation(
                NAME,
                Some(*tx),
                (*ci).max(*ai),
                format!("{tx}: {cn} committed but {an} aborted"),
            ))
        })
        .collect()
}
