//! The invariant checkers, one per invariant (TigerBeetle's style). Each
//! reads a [`RunView`] and adds the violations it finds, each naming the
//! invariant, the transaction and the trace position. Their tables live in
//! a [`Scratch`] that a sweep keeps from run to run.

mod agreement;
mod applied_matches_outcome;
mod at_most_once;
mod atomicity;
mod commit_validity;
mod compensation_order;
mod conservation;
mod consistent_outcome;
mod decision_stability;
mod event_delivery;
mod grid;
mod no_overdraw;
mod outbox;
mod prepared_abort;
mod saga_shape;
mod scratch;
mod slots;
mod termination;

pub use scratch::Scratch;

use super::anomaly::risky_isolated;
use super::report::Violation;
use super::view::RunView;
use crate::protocols::Protocol;
use crate::protocols::workload::TxId;

/// A checker: a name and a function.
pub struct Checker {
    /// The invariant's name, as it appears in violations.
    pub name: &'static str,
    /// What it guards, in one line.
    pub guards: &'static str,
    /// The protocols it applies to.
    pub protocols: &'static [Protocol],
    /// The check: adds what it finds to the list, using the scratch
    /// tables (made for the view's workflow: [`Scratch::new`]).
    pub check: fn(&RunView<'_>, &mut Scratch, &mut Vec<Violation>),
}

impl Checker {
    /// The violations of this invariant in `view`.
    pub fn run(&self, view: &RunView<'_>) -> Vec<Violation> {
        let mut out = Vec::new();
        (self.check)(view, &mut Scratch::new(view.workflow), &mut out);
        out
    }
}

const ALL: &[Protocol] = &Protocol::ALL;
const TWO_PC: &[Protocol] = &[Protocol::TwoPc];
const SAGAS: &[Protocol] = &[Protocol::Orchestrated, Protocol::Choreographed];
const CHOREO: &[Protocol] = &[Protocol::Choreographed];

/// Every checker.
pub const CHECKERS: &[Checker] = &[
    Checker {
        name: atomicity::NAME,
        guards: "no participant commits a transaction another aborted",
        protocols: TWO_PC,
        check: atomicity::check,
    },
    Checker {
        name: commit_validity::NAME,
        guards: "commit only after every yes vote and a logged decision",
        protocols: TWO_PC,
        check: commit_validity::check,
    },
    Checker {
        name: decision_stability::NAME,
        guards: "a coordinator's decision never changes, across crashes too",
        protocols: TWO_PC,
        check: decision_stability::check,
    },
    Checker {
        name: agreement::NAME,
        guards: "participants, decisions, inquiry answers and the client agree",
        protocols: TWO_PC,
        check: agreement::check,
    },
    Checker {
        name: applied_matches_outcome::NAME,
        guards: "a commit applied every step exactly once; an abort applied none",
        protocols: TWO_PC,
        check: applied_matches_outcome::check,
    },
    Checker {
        name: consistent_outcome::NAME,
        guards: "no transaction ends inconsistent",
        protocols: ALL,
        check: consistent_outcome::check,
    },
    Checker {
        name: prepared_abort::NAME,
        guards: "a prepared participant never aborts on its own",
        protocols: TWO_PC,
        check: prepared_abort::check,
    },
    Checker {
        name: saga_shape::NAME,
        guards: "sagas end completed, or compensated in reverse, or flagged stuck",
        protocols: SAGAS,
        check: saga_shape::check,
    },
    Checker {
        name: compensation_order::UNPAIRED,
        guards: "compensations pair with applied actions; none after the pivot; no hanging actions",
        protocols: SAGAS,
        check: compensation_order::check,
    },
    Checker {
        name: outbox::NAME,
        guards: "an event exists if and only if its local commit does",
        protocols: CHOREO,
        check: outbox::check,
    },
    Checker {
        name: event_delivery::DISCARDED,
        guards: "no event silently discarded; events per saga bounded",
        protocols: CHOREO,
        check: event_delivery::check,
    },
    Checker {
        name: at_most_once::NAME,
        guards: "each effect applied at most once per idempotency key",
        protocols: ALL,
        check: at_most_once::check,
    },
    Checker {
        name: conservation::NAME,
        guards: "money and inventory conserved",
        protocols: ALL,
        check: conservation::check,
    },
    Checker {
        name: no_overdraw::NAME,
        guards: "no resource ever goes below zero",
        protocols: ALL,
        check: no_overdraw::check,
    },
    Checker {
        name: risky_isolated::NAME,
        guards: "under by_value, no isolation anomaly names a risky request",
        protocols: SAGAS,
        check: risky_isolated_check,
    },
    Checker {
        name: termination::NAME,
        guards: "every transaction terminates once faults heal",
        protocols: ALL,
        check: termination::check,
    },
];

/// Every invariant name a violation can carry.
pub const INVARIANTS: &[&str] = &[
    atomicity::NAME,
    commit_validity::NAME,
    decision_stability::NAME,
    agreement::NAME,
    applied_matches_outcome::NAME,
    consistent_outcome::NAME,
    prepared_abort::NAME,
    saga_shape::NAME,
    compensation_order::UNPAIRED,
    compensation_order::HANGING,
    compensation_order::PAST_PIVOT,
    outbox::NAME,
    event_delivery::DISCARDED,
    event_delivery::BOUNDED,
    at_most_once::NAME,
    conservation::NAME,
    no_overdraw::NAME,
    risky_isolated::NAME,
    termination::NAME,
];

/// Run every checker that applies to the view's protocol.
pub fn check_all(view: &RunView<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    check_all_with(view, &mut Scratch::new(view.workflow), &mut out);
    out
}

/// Run every checker that applies to the view's protocol, adding what they
/// find to `out` in checker order, with tables kept in `scratch`, made for
/// the view's workflow (a sweep worker keeps one for all the runs of a
/// workflow).
pub fn check_all_with(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    for c in CHECKERS {
        if c.protocols.contains(&view.protocol) {
            (c.check)(view, scratch, out);
        }
    }
}

/// Rows for a grid with a row per transaction of the run's workload.
fn tx_rows(view: &RunView<'_>) -> usize {
    view.workflow.transactions as usize
}

/// Columns for a grid with a column per node that observed anything.
fn node_cols(view: &RunView<'_>) -> usize {
    view.obs
        .iter()
        .map(|o| o.node.0 as usize + 1)
        .max()
        .unwrap_or(0)
}

fn violation(invariant: &str, tx: Option<TxId>, trace_index: u64, message: String) -> Violation {
    Violation {
        invariant: invariant.to_string(),
        tx: tx.map(|t| t.0),
        trace_index,
        message,
    }
}

/// `risky_isolated` lives with the anomaly detector it reads; it needs no
/// scratch (it is off unless `by_value` is in force).
fn risky_isolated_check(view: &RunView<'_>, _: &mut Scratch, out: &mut Vec<Violation>) {
    out.extend(risky_isolated::check(view));
}

#[cfg(test)]
mod tests;
