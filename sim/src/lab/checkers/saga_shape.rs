//! Each saga ends in a legal shape: *completed* (every action applied,
//! nothing compensated) or *compensated* (a prefix of the steps applied and
//! exactly those undone, in reverse order). *Stuck* sagas are flagged by
//! their outcome and left to an operator.

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::workload::{Op, StepId, Workflow};
use crate::protocols::{Obs, Outcome};

/// The invariant's name.
pub const NAME: &str = "saga_shape";

/// What the run did to one step of one transaction.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StepCell {
    net: i64,
    /// Whether the last operation that ran on the step was its action
    /// (read-only steps and registers, whose changes need not net out).
    acted: Option<bool>,
    /// When (counting compensations of the run) its compensation first
    /// ran: the transaction's compensation order.
    compensated: Option<u32>,
    /// Orchestrator: where it learned that a group member settled.
    settled_at: Option<u64>,
}

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    let wf = view.workflow;
    let Scratch {
        saga_steps: cells,
        saga_last: last,
        saga_seq: seq,
        saga_order: order,
        ..
    } = scratch;
    cells.reset(tx_rows(view), wf.steps.len());
    // Per transaction: the last index of a local change.
    last.reset(tx_rows(view), 1);
    let mut compensations = 0;
    for o in view.obs {
        if let Obs::Local {
            tx,
            step,
            op,
            delta,
            reply,
        } = &o.obs
        {
            let c = cells.at(*tx, step.index());
            c.net += delta;
            if *reply == crate::protocols::service::Reply::Done {
                c.acted = Some(*op == Op::Action);
            }
            if *op == Op::Compensation && c.compensated.is_none() {
                c.compensated = Some(compensations);
                compensations += 1;
            }
            *last.at(*tx, 0) = o.index;
        }
        // The orchestrator's view of a group member's completion.
        if let Obs::Settled { tx, step } = &o.obs {
            cells
                .at(*tx, step.index())
                .settled_at
                .get_or_insert(o.index);
        }
    }
    for (tx, outcome) in &view.outcomes {
        if !matches!(outcome, Outcome::Completed | Outcome::Compensated) {
            continue;
        }
        // A transaction the log never names did nothing.
        let row = cells.row(*tx);
        let cell = |step: StepId| row.get(step.index()).copied().unwrap_or_default();
        let last_index = last.get(*tx, 0).copied().unwrap_or(0);
        // Steps in the order their compensation first ran.
        seq.clear();
        seq.extend((0..row.len()).filter_map(|i| Some((row[i].compensated?, StepId(i as u16)))));
        seq.sort_unstable();
        order.clear();
        order.extend(seq.iter().map(|(_, s)| *s));
        // A counter's step is applied when its changes do not net out (or
        // net out to the fee a semantic compensation keeps); a read-only or
        // register step when its action ran last (a register's compensation
        // restores a value, which need not net out).
        let applied = |step: StepId| {
            if wf.step(step).amount == 0 || wf.is_register(step) {
                return cell(step).acted.unwrap_or(false);
            }
            let net = cell(step).net;
            net != 0 && net != -wf.step_for(*tx, step).fee()
        };
        let mut bad = |msg: String| out.push(violation(NAME, Some(*tx), last_index, msg));
        match outcome {
            Outcome::Completed => {
                if let Some(step) = wf.step_ids().find(|st| !applied(*st)) {
                    bad(format!(
                        "{tx} completed but {} is not applied",
                        wf.step(step).name
                    ));
                }
                if !order.is_empty() {
                    bad(format!("{tx} completed but ran compensations"));
                }
            }
            _ => {
                if let Some(step) = wf.step_ids().find(|st| applied(*st)) {
                    // A counter left moved the way its compensation moves
                    // it was undone more often than done, not left applied.
                    let spec = wf.step(step);
                    let net = cell(step).net;
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
                    if let Some(msg) = group_order(wf, order, row) {
                        bad(format!("{tx} compensated out of order: {msg}"));
                    }
                    continue;
                }
                // Exactly a prefix 0..=k undone, from k down to 0.
                let k = order.first().map_or(0, |s| s.0 + 1);
                let expected = (0..k).rev().map(StepId);
                if !order.iter().copied().eq(expected.clone()) {
                    let names = |v: &mut dyn Iterator<Item = StepId>| -> String {
                        let v: Vec<&str> = v.map(|x| wf.step(x).name.as_str()).collect();
                        v.join(", ")
                    };
                    bad(format!(
                        "{tx} compensated out of reverse order: undid {}; expected {}",
                        names(&mut order.iter().copied()),
                        names(&mut expected.clone())
                    ));
                }
            }
        }
    }
}

/// With parallel groups: the stages are undone from the one that failed
/// back to the first, every stage before the failed one entirely (the
/// failed stage: the members that were done, or whose outcome was
/// unknown). Within a group the orchestrator undoes the members in the
/// reverse of the order it learned they completed (or gave up on them:
/// `Obs::Settled`); the choreography's
/// members undo their own action at once, in any order.
fn group_order(wf: &Workflow, order: &[StepId], row: &[StepCell]) -> Option<String> {
    let first = *order.first()?;
    let failed = wf.stage_of(first);
    let name = |x: &StepId| wf.step(*x).name.clone();
    if let Some(missing) = (0..failed.start).map(StepId).find(|x| !order.contains(x)) {
        return Some(format!("{} was never undone", name(&missing)));
    }
    let settled_at = |s: StepId| row.get(s.index()).and_then(|c| c.settled_at);
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (sa, sb) = (wf.stage_of(a), wf.stage_of(b));
        if sb.start > sa.start {
            return Some(format!("{} undone before {}", name(&a), name(&b)));
        }
        let (Some(ia), Some(ib)) = (settled_at(a), settled_at(b)) else {
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
