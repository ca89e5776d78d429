//! Choreography: an event exists if and only if its local commit does. A
//! committed step whose event never reaches the broker stalls the saga with
//! nobody noticing (the dual-write problem the outbox solves); an event
//! without its commit tells the next service something that never happened.

use super::{RunView, Scratch, Violation, tx_rows, violation};
use crate::protocols::Obs;
use crate::protocols::saga_choreographed::EventKind;
use crate::protocols::service::Reply;
use crate::protocols::workload::{Op, StepId};

/// The invariant's name.
pub const NAME: &str = "event_iff_commit";

/// The kinds of event a local commit makes, numbered for a grid column:
/// each step's done, then each step's failed, then each step's compensated
/// (the order `EventKind` sorts them in). Other kinds have no column.
fn column(kind: EventKind, steps: usize) -> Option<usize> {
    match kind {
        EventKind::StepDone(s) => Some(s.index()),
        EventKind::StepFailed(s) => Some(steps + s.index()),
        EventKind::Compensated(s) => Some(2 * steps + s.index()),
        _ => None,
    }
}

/// The event kind of grid column `col`.
fn kind(col: usize, steps: usize) -> EventKind {
    let step = StepId((col % steps) as u16);
    match col / steps {
        0 => EventKind::StepDone(step),
        1 => EventKind::StepFailed(step),
        _ => EventKind::Compensated(step),
    }
}

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    let steps = view.workflow.steps.len();
    if steps == 0 {
        return;
    }
    // Where each commit, and each event of a commit's kind, first showed.
    let (commits, events) = (&mut scratch.commits, &mut scratch.events);
    commits.reset(tx_rows(view), 3 * steps);
    events.reset(tx_rows(view), 3 * steps);
    for o in view.obs {
        match &o.obs {
            Obs::Local {
                tx,
                step,
                op,
                reply,
                ..
            } => {
                let kind = match (op, reply) {
                    (Op::Action, Reply::Done) => EventKind::StepDone(*step),
                    (Op::Action, _) => EventKind::StepFailed(*step),
                    (Op::Compensation, _) => EventKind::Compensated(*step),
                };
                if let Some(col) = column(kind, steps) {
                    commits.at(*tx, col).get_or_insert(o.index);
                }
            }
            // Events of other kinds (requested, a compensation that failed,
            // the end) need no commit and no commit needs them.
            Obs::Published { tx, event } => {
                if let Some(col) = column(*event, steps) {
                    events.at(*tx, col).get_or_insert(o.index);
                }
            }
            _ => {}
        }
    }
    // A commit may still be on its way to the broker while faults last.
    if view.healed {
        for (tx, row) in commits.rows() {
            for (col, index) in row.iter().enumerate() {
                let Some(index) = index else { continue };
                if events.get(tx, col).is_none_or(Option::is_none) {
                    let kind = kind(col, steps);
                    let msg = format!("{tx}: committed locally but \"{kind}\" was never published");
                    out.push(violation(NAME, Some(tx), *index, msg));
                }
            }
        }
    }
    for (tx, row) in events.rows() {
        for (col, index) in row.iter().enumerate() {
            let Some(index) = index else { continue };
            let kind = kind(col, steps);
            let needs_commit = matches!(kind, EventKind::StepDone(_) | EventKind::Compensated(_));
            if needs_commit && commits.get(tx, col).is_none_or(Option::is_none) {
                let msg = format!("{tx}: \"{kind}\" published without its local commit");
                out.push(violation(NAME, Some(tx), *index, msg));
            }
        }
    }
}
