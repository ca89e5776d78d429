//! 2PC: what was applied matches the outcome. A committed transaction
//! applied every step exactly once, by its full amount; an aborted one
//! applied none. Catches a "commit" that a participant could not honour
//! (it voted yes on a seat another transaction also counted on).

use super::{RunView, Violation, violation};
use crate::protocols::service::Reply;
use crate::protocols::workload::{Op, StepId, TxId};
use crate::protocols::{Obs, Outcome};
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "applied_matches_outcome";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    // Per (transaction, step): how often the action was applied, its net
    // change, and the last trace position that touched it.
    let mut applied: BTreeMap<(TxId, StepId), (u32, i64, u64)> = BTreeMap::new();
    for o in view.obs {
        if let Obs::Local {
            tx,
            step,
            op: Op::Action,
            delta,
            reply: Reply::Done,
        } = &o.obs
        {
            let e = applied.entry((*tx, *step)).or_insert((0, 0, 0));
            *e = (e.0 + 1, e.1 + delta, o.index);
        }
    }
    let wf = view.workflow;
    let mut out = Vec::new();
    for (tx, outcome) in &view.outcomes {
        for (i, spec) in wf.steps.iter().enumerate() {
            let step = StepId(i as u16);
            let (times, net, index) =
                applied
                    .get(&(*tx, step))
                    .copied()
                    .unwrap_or((0, 0, view.end_index));
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
    out
}
