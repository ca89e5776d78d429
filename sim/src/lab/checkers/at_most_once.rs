//! Idempotency: each business effect is applied at most once per
//! idempotency key (transaction, step, operation). Duplicated or retried
//! messages must change nothing.

use super::{RunView, Violation, violation};
use crate::protocols::Obs;
use crate::protocols::service::Reply;
use crate::protocols::workload::Op;
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "at_most_once";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let mut applied = BTreeMap::new();
    let mut out = Vec::new();
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
            let n = applied.entry((*tx, *step, *op)).or_insert(0u32);
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
    out
}
