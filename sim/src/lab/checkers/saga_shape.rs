//! Each saga ends in a legal shape: *completed* (every action applied,
//! nothing compensated) or *compensated* (a prefix of the steps applied and
//! exactly those undone, in reverse order). *Stuck* sagas are flagged by
//! their outcome and left to an operator.

use super::{RunView, Violation, violation};
use crate::protocols::workload::{Op, StepId, TxId};
use crate::protocols::{Obs, Outcome};
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "saga_shape";

#[derive(Default)]
struct Steps {
    net: BTreeMap<StepId, i64>,
    /// Whether the last operation that ran on the step was its action
    /// (read-only steps and registers, whose changes need not net out).
    acted: BTreeMap<StepId, bool>,
    /// Steps in the order their compensation first ran.
    compensation_order: Vec<StepId>,
    last_index: u64,
}

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let wf = view.workflow;
    let mut per_tx: BTreeMap<TxId, Steps> = BTreeMap::new();
    for o in view.obs {
        if let Obs::Local {
            tx,
            step,
            op,
            delta,
            reply,
        } = &o.obs
        {
            let s = per_tx.entry(*tx).or_default();
            *s.net.entry(*step).or_insert(0) += delta;
            if *reply == crate::protocols::service::Reply::Done {
                s.acted.insert(*step, *op == Op::Action);
            }
            if *op == Op::Compensation && !s.compensation_order.contains(step) {
                s.compensation_order.push(*step);
            }
            s.last_index = o.index;
        }
    }
    let mut out = Vec::new();
    for (tx, outcome) in &view.outcomes {
        let empty = Steps::default();
        let s = per_tx.get(tx).unwrap_or(&empty);
        // A counter's step is applied when its changes do not net out (or
        // net out to the fee a semantic compensation keeps); a read-only or
        // register step when its action ran last (a register's compensation
        // restores a value, which need not net out).
        let applied = |step: StepId| {
            if wf.step(step).amount == 0 || wf.is_register(step) {
                return s.acted.get(&step).copied().unwrap_or(false);
            }
            let net = s.net.get(&step).copied().unwrap_or(0);
            net != 0 && net != -wf.step(step).fee()
        };
        let mut bad = |msg: String| out.push(violation(NAME, Some(*tx), s.last_index, msg));
        match outcome {
            Outcome::Completed => {
                if let Some(step) = wf.step_ids().find(|st| !applied(*st)) {
                    bad(format!(
                        "{tx} completed but {} is not applied",
                        wf.step(step).name
                    ));
                }
                if !s.compensation_order.is_empty() {
                    bad(format!("{tx} completed but ran compensations"));
                }
            }
            Outcome::Compensated => {
                if let Some(step) = wf.step_ids().find(|st| applied(*st)) {
                    bad(format!(
                        "{tx} compensated but {} is still applied",
                        wf.step(step).name
                    ));
                }
                // Exactly a prefix 0..=k undone, from k down to 0.
                let k = s.compensation_order.first().map_or(0, |s| s.0 + 1);
                let expected: Vec<StepId> = (0..k).rev().map(StepId).collect();
                if s.compensation_order != expected {
                    bad(format!(
                        "{tx} compensated out of reverse order: {:?}",
                        s.compensation_order
                    ));
                }
            }
            _ => {}
        }
    }
    out
}
