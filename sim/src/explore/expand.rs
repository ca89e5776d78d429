//! Expanding one state: its successors, whether it is terminal, and the
//! invariants it breaks. Pure, so breadth-first search can run it on many
//! threads at once.

use super::Model;
use super::visited::Visited;

/// One expanded state.
pub(super) struct Expansion<S, A> {
    /// Invariants the state breaks (empty: none).
    pub(super) violations: Vec<String>,
    /// Its outcome and end key, if it is an end state.
    pub(super) outcome: Option<(String, u64)>,
    /// Transitions out of it (including to states already seen).
    pub(super) transitions: u64,
    /// Successors not in `seen` when it was expanded, with their
    /// fingerprints, in action order.
    pub(super) successors: Vec<(A, S, u64)>,
}

/// Expand `state`, leaving out successors whose fingerprint is in `seen`.
pub(super) fn expand<M: Model>(
    model: &M,
    state: &M::State,
    seen: &Visited,
    actions: &mut Vec<M::Action>,
) -> Expansion<M::State, M::Action> {
    actions.clear();
    model.actions(state, actions);
    let mut transitions = 0;
    let mut successors = Vec::new();
    for action in actions.drain(..) {
        let Some(next) = model.next_state(state, &action) else {
            continue;
        };
        transitions += 1;
        let fp = model.fingerprint(&next);
        if !seen.contains(&fp) {
            successors.push((action, next, fp));
        }
    }
    let terminal = transitions == 0;
    let mut violations = Vec::new();
    model.violations(state, terminal, &mut violations);
    Expansion {
        violations,
        outcome: model
            .outcome(state, terminal)
            .map(|o| (o, model.end_key(state))),
        transitions,
        successors,
    }
}
