//! Choreography: an event exists if and only if its local commit does. A
//! committed step whose event never reaches the broker stalls the saga with
//! nobody noticing (the dual-write problem the outbox solves); an event
//! without its commit tells the next service something that never happened.

use super::{RunView, Violation, violation};
use crate::protocols::Obs;
use crate::protocols::saga_choreographed::EventKind;
use crate::protocols::service::Reply;
use crate::protocols::workload::{Op, TxId};
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "event_iff_commit";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let mut commits: BTreeMap<(TxId, EventKind), u64> = BTreeMap::new();
    let mut events: BTreeMap<(TxId, EventKind), u64> = BTreeMap::new();
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
                commits.entry((*tx, kind)).or_insert(o.index);
            }
            Obs::Published { tx, event } => {
                events.entry((*tx, *event)).or_insert(o.index);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    // A commit may still be on its way to the broker while faults last.
    if view.healed {
        for ((tx, kind), index) in &commits {
            if !events.contains_key(&(*tx, *kind)) {
                let msg = format!("{tx}: committed locally but \"{kind}\" was never published");
                out.push(violation(NAME, Some(*tx), *index, msg));
            }
        }
    }
    for ((tx, kind), index) in &events {
        let needs_commit = matches!(kind, EventKind::StepDone(_) | EventKind::Compensated(_));
        if needs_commit && !commits.contains_key(&(*tx, *kind)) {
            let msg = format!("{tx}: \"{kind}\" published without its local commit");
            out.push(violation(NAME, Some(*tx), *index, msg));
        }
    }
    out
}
