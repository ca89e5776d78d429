//! Idempotency: each business effect is applied at most once per
//! idempotency key (transaction, step, operation). Duplicated or retried
//! messages must change nothing.

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::Obs;
use crate::protocols::service::Reply;
use crate::protocols::workload::Op;

/// The invariant's name.
pub const NAME: &str = "at_most_once";

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    // Columns: each step's action, then each step's compensation.
    let steps = view.workflow.steps.len();
    let applied = &mut scratch.applications;
    applied.reset(tx_rows(view), 2 * steps);
    for o in view.obs {
        if let Obs::Local {
            tx,
            step,
            op,
            delta,
            reply: Reply::Done,
        } = &o.obs
        {
            if *delta == 0 {
                continue;
            }
            let col = match op {
                Op::Action => step.index(),
                Op::Compensation => steps + step.index(),
            };
            let n = applied.at(*tx, col);
            *n += 1;
            if *n == 2 {
                let spec = view.workflow.step(*step);
                let what = match op {
                    Op::Action => spec.name.clone(),
                    Op::Compensation => format!("compensation of {}", spec.name),
                };
                let moved = format!("{} {} each time", delta.abs(), spec.resource);
                out.push(violation(
                    NAME,
                    Some(*tx),
                    o.index,
                    format!("{tx}: {what} applied twice ({moved})"),
                ));
            }
        }
    }
}
