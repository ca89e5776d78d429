//! 2PC commit validity: a participant commits only after the coordinator
//! logged a commit decision, which it may only make after every participant
//! voted yes.

use super::{RunView, Scratch, Violation, node_cols, tx_rows, violation};
use crate::protocols::Obs;

/// The invariant's name.
pub const NAME: &str = "commit_validity";

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    let wf = view.workflow;
    // Services with a step take part (what `Workflow::participants`
    // counts, without building its list for every run).
    let participants = (0..wf.services.len())
        .filter(|i| wf.steps.iter().any(|s| s.service.index() == *i))
        .count();
    let yes = &mut scratch.voted_yes;
    yes.reset(tx_rows(view), node_cols(view));
    let logged_commit = &mut scratch.commit_logged;
    logged_commit.reset(tx_rows(view), 1);
    for o in view.obs {
        match o.obs {
            Obs::Voted { tx, yes: true } => {
                *yes.at(tx, o.node.0 as usize) = true;
            }
            Obs::Decided {
                tx,
                commit: true,
                logged,
            } => {
                let votes = yes.row(tx).iter().filter(|v| **v).count();
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
                *logged_commit.at(tx, 0) = true;
            }
            Obs::Committed { tx } if logged_commit.get(tx, 0) != Some(&true) => {
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
}
