//! 2PC commit validity: a participant commits only after the coordinator
//! logged a commit decision, which it may only make after every participant
//! voted yes.

use super::{RunView, Violation, violation};
use crate::engine::NodeId;
use crate::protocols::Obs;
use crate::protocols::workload::TxId;
use std::collections::{BTreeMap, BTreeSet};

/// The invariant's name.
pub const NAME: &str = "commit_validity";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let participants = view.workflow.participants().len();
    let mut yes: BTreeMap<TxId, BTreeSet<NodeId>> = BTreeMap::new();
    let mut logged_commit: BTreeSet<TxId> = BTreeSet::new();
    let mut out = Vec::new();
    for o in view.obs {
        match o.obs {
            Obs::Voted { tx, yes: true } => {
                yes.entry(tx).or_default().insert(o.node);
            }
            Obs::Decided {
                tx,
                commit: true,
                logged,
            } => {
                let votes = yes.get(&tx).map_or(0, BTreeSet::len);
                if votes < participants {
                    out.push(violation(
                        NAME,
                        Some(tx),
                        o.index,
                        format!("{tx}: commit decided with {votes} of {participants} yes votes"),
                    ));
                }
                if !logged {
                    out.push(violation(
                        NAME,
                        Some(tx),
                        o.index,
                        format!("{tx}: commit decided without a logged decision record"),
                    ));
                }
                logged_commit.insert(tx);
            }
            Obs::Committed { tx } if !logged_commit.contains(&tx) => {
                out.push(violation(
                    NAME,
                    Some(tx),
                    o.index,
                    format!("{tx}: {} committed before any commit decision", o.node),
                ));
            }
            _ => {}
        }
    }
    out
}
