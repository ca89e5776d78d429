//! No resource ever goes below zero, at any moment: no seat sold twice, no
//! account overdrawn, even transiently (a compensation that debits after
//! the money was spent would). Walks every applied change in trace order
//! from the starting amounts.

use super::{RunView, Violation, violation};
use crate::protocols::Obs;
use crate::protocols::workload::ServiceId;
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "no_overdraw";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let wf = view.workflow;
    let mut values: BTreeMap<(ServiceId, &str), i64> = BTreeMap::new();
    for (i, s) in wf.services.iter().enumerate() {
        for (res, start) in &s.resources {
            values.insert((ServiceId(i as u16), res.as_str()), *start);
        }
    }
    let mut out = Vec::new();
    for o in view.obs {
        let Obs::Local {
            tx, step, delta, ..
        } = &o.obs
        else {
            continue;
        };
        let spec = wf.step(*step);
        let v = values
            .entry((spec.service, spec.resource.as_str()))
            .or_insert(0);
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
    out
}
