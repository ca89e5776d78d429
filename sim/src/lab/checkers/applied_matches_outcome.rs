//! 2PC: what was applied matches the outcome. A committed transaction
//! applied every step exactly once, by its full amount; an aborted one
//! applied none. Catches a "commit" that a participant could not honour
//! (it voted yes on a seat another transaction also counted on).

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::service::Reply;
use crate::protocols::workload::Op;
use crate::protocols::{Obs, Outcome};

/// The invariant's name.
pub const NAME: &str = "applied_matches_outcome";

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    // Per (transaction, step): how often the action was applied, its net
    // change, and the last trace position that touched it.
    let wf = view.workflow;
    let applied = &mut scratch.applied;
    applied.reset(tx_rows(view), wf.steps.len());
    for o in view.obs {
        if let Obs::Local {
            tx,
            step,
            op: Op::Action,
            delta,
            reply: Reply::Done,
        } = &o.obs
        {
            let e = applied.at(*tx, step.index());
            *e = (e.0 + 1, e.1 + delta, o.index);
        }
    }
    for (tx, outcome) in &view.outcomes {
        for (i, spec) in wf.steps.iter().enumerate() {
            // A cell applied nowhere counts no times; its violation points
            // at the end of the run.
            let (times, net, index) = match applied.get(*tx, i) {
                Some(&(times, net, index)) if times > 0 => (times, net, index),
                _ => (0, 0, view.end_index),
            };
            let wrong = match outcome {
                Outcome::Committed if times != 1 || net != -spec.amount * wf.value_of(*tx) => {
                    format!("committed, but {} applied {times} times", spec.name)
                }
                Outcome::Aborted if times > 0 => {
                    format!("aborted, but {} applied {times} times", spec.name)
                }
                _ => continue,
            };
            out.push(violation(NAME, Some(*tx), index, format!("{tx}: {wrong}")));
        }
    }
}
