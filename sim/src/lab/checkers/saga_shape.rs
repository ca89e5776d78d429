//! Each saga ends in a legal shape: *completed* (every action applied,
//! nothing compensated) or *compensated* (a prefix of the steps applied and
//! exactly those undone, in reverse order). *Stuck* sagas are flagged by
//! their outcome and left to an operator.

use super::{RunView, Violation, violation};
use crate::protocols::workload::{Op, StepId, TxId, Workflow};
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
    /// Orchestrator: where it learned that a group member settled.
    settled_at: BTreeMap<StepId, u64>,
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
        // The orchestrator's view of a group member's completion.
        if let Obs::Settled { tx, step } = &o.obs {
            let s = per_tx.entry(*tx).or_default();
            s.settled_at.entry(*step).or_insert(o.index);
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
            net != 0 && net != -wf.step_for(*tx, step).fee()
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
                    // A counter left moved the way its compensation moves
                    // it was undone more often than done, not left applied.
                    let spec = wf.step(step);
                    let net = s.net.get(&step).copied().unwrap_or(0);
                    let over = spec.amount != 0
                        && !wf.is_register(step)
                        && net.signum() == spec.amount.signum();
                    bad(match over {
                        true => format!(
                            "{tx} compensated, but {} was undone more often than done \
                             (it gave back {} {} more than it took)",
                            spec.name,
                            net.abs(),
                            spec.resource
                        ),
                        false => format!("{tx} compensated but {} is still applied", spec.name),
                    });
                }
                if wf.has_groups() {
                    if let Some(msg) = group_order(wf, s) {
                        bad(format!("{tx} compensated out of order: {msg}"));
                    }
                    continue;
                }
                // Exactly a prefix 0..=k undone, from k down to 0.
                let k = s.compensation_order.first().map_or(0, |s| s.0 + 1);
                let expected: Vec<StepId> = (0..k).rev().map(StepId).collect();
                if s.compensation_order != expected {
                    let names = |v: &[StepId]| -> String {
                        let v: Vec<&str> = v.iter().map(|x| wf.step(*x).name.as_str()).collect();
                        v.join(", ")
                    };
                    bad(format!(
                        "{tx} compensated out of reverse order: undid {}; expected {}",
                        names(&s.compensation_order),
                        names(&expected)
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// With parallel groups: the stages are undone from the one that failed
/// back to the first, every stage before the failed one entirely (the
/// failed stage: the members that were done, or whose outcome was
/// unknown). Within a group the orchestrator undoes the members in the
/// reverse of the order it learned they completed (or gave up on them:
/// `Obs::Settled`); the choreography's
/// members undo their own action at once, in any order.
fn group_order(wf: &Workflow, s: &Steps) -> Option<String> {
    let order = &s.compensation_order;
    let first = *order.first()?;
    let failed = wf.stage_of(first);
    let name = |x: &StepId| wf.step(*x).name.clone();
    if let Some(missing) = (0..failed.start).map(StepId).find(|x| !order.contains(x)) {
        return Some(format!("{} was never undone", name(&missing)));
    }
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (sa, sb) = (wf.stage_of(a), wf.stage_of(b));
        if sb.start > sa.start {
            return Some(format!("{} undone before {}", name(&a), name(&b)));
        }
        let (Some(ia), Some(ib)) = (s.settled_at.get(&a), s.settled_at.get(&b)) else {
            continue;
        };
        if sa == sb && ia < ib {
            return Some(format!(
                "{} undone before {}, which completed after it",
                name(&a),
                name(&b)
            ));
        }
    }
    None
}
