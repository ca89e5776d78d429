//! No resource ever goes below zero, at any moment: no seat sold twice, no
//! account overdrawn, even transiently (a compensation that debits after
//! the money was spent would). Walks every applied change in trace order
//! from the starting amounts.

use super::{RunView, Scratch, Violation, violation};
use crate::protocols::Obs;

/// The invariant's name.
pub const NAME: &str = "no_overdraw";

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    let wf = view.workflow;
    let values = &mut scratch.resources;
    values.restart();
    for o in view.obs {
        let Obs::Local {
            tx, step, delta, ..
        } = &o.obs
        else {
            continue;
        };
        let spec = wf.step(*step);
        let slot = values.of(*step);
        let v = &mut values.amounts[slot].1;
        let before = *v;
        *v += delta;
        // Report the crossing, not every change while below.
        if *v < 0 && before >= 0 {
            let svc = &wf.services[spec.service.index()].name;
            out.push(violation(
                NAME,
                Some(*tx),
                o.index,
                format!("{tx}: {} took {svc}.{} to {v}", spec.name, spec.resource),
            ));
        }
    }
}
