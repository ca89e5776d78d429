//! Money and inventory are conserved: every (transaction, step) nets either
//! nothing, exactly the step's amount ("Sam is charged exactly $100") or,
//! once compensated, exactly the fee its compensation keeps, and
//! every service's final amounts equal its starting amounts plus the changes
//! it reported.

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::Obs;
use crate::protocols::workload::StepId;

/// The invariant's name.
pub const NAME: &str = "conservation";

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    let wf = view.workflow;
    // Per (transaction, step): the net change and where it last moved.
    let net = &mut scratch.net;
    net.reset(tx_rows(view), wf.steps.len());
    // Per resource: its starting amount and that plus every change.
    let by_resource = &mut scratch.resources;
    by_resource.restart();
    for o in view.obs {
        if let Obs::Local {
            tx, step, delta, ..
        } = &o.obs
        {
            let e = net.at(*tx, step.index());
            e.0 += delta;
            e.1 = o.index;
            let slot = by_resource.of(*step);
            by_resource.amounts[slot].1 += delta;
        }
    }
    let moved = net.rows().flat_map(|(tx, row)| {
        let cells = row.iter().enumerate();
        cells.map(move |(i, cell)| (tx, StepId(i as u16), cell))
    });
    for (tx, step, (sum, index)) in moved {
        if *sum == 0 {
            continue;
        }
        let spec = wf.step_for(tx, step);
        // A compensation that keeps a fee nets the fee.
        if *sum != -spec.amount && *sum != -spec.fee() {
            out.push(violation(
                NAME,
                Some(tx),
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
    // The services' own resources fill the first slots, in this order.
    let mut slots = by_resource.amounts.iter();
    for (i, svc) in wf.services.iter().enumerate() {
        for (res, slot) in svc.resources.keys().zip(&mut slots) {
            let (start, now) = *slot;
            let reported = now - start;
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
}
