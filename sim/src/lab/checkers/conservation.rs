//! Money and inventory are conserved: every (transaction, step) nets either
//! nothing, exactly the step's amount ("Sam is charged exactly $100") or,
//! once compensated, exactly the fee its compensation keeps, and
//! every service's final amounts equal its starting amounts plus the changes
//! it reported.

use super::{RunView, Violation, violation};
use crate::protocols::Obs;
use crate::protocols::workload::{ServiceId, StepId, TxId};
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "conservation";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let wf = view.workflow;
    let mut net: BTreeMap<(TxId, StepId), (i64, u64)> = BTreeMap::new();
    let mut by_resource: BTreeMap<(ServiceId, &str), i64> = BTreeMap::new();
    for o in view.obs {
        if let Obs::Local {
            tx, step, delta, ..
        } = &o.obs
        {
            let e = net.entry((*tx, *step)).or_insert((0, 0));
            e.0 += delta;
            e.1 = o.index;
            let spec = wf.step(*step);
            *by_resource
                .entry((spec.service, spec.resource.as_str()))
                .or_insert(0) += delta;
        }
    }
    let mut out = Vec::new();
    for ((tx, step), (sum, index)) in &net {
        let spec = wf.step_for(*tx, *step);
        // A compensation that keeps a fee nets the fee.
        if *sum != 0 && *sum != -spec.amount && *sum != -spec.fee() {
            out.push(violation(
                NAME,
                Some(*tx),
                *index,
                // The step's action takes its amount (a negative change).
                match -sum {
                    took if took > 0 => format!(
                        "{tx}: {} took {took} {} in all; expected 0 or {}",
                        spec.name, spec.resource, spec.amount
                    ),
                    took => format!(
                        "{tx}: {} gave back {} {} more than it took; expected 0 or {}",
                        spec.name, -took, spec.resource, spec.amount
                    ),
                },
            ));
        }
    }
    for (i, svc) in wf.services.iter().enumerate() {
        let id = ServiceId(i as u16);
        for (res, start) in &svc.resources {
            let reported = by_resource.get(&(id, res.as_str())).copied().unwrap_or(0);
            let actual = view.final_values[i].get(res).copied().unwrap_or(0);
            if start + reported != actual {
                out.push(violation(
                    NAME,
                    None,
                    view.end_index,
                    format!(
                        "{}.{res} is {actual}, but started at {start} and reported changes of {reported}",
                        svc.name
                    ),
                ));
            }
        }
    }
    out
}
