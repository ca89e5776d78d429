//! What a search found.

use std::collections::BTreeMap;

/// A broken invariant and the path that breaks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found<A> {
    /// The invariant's name.
    pub invariant: String,
    /// The actions from an initial state to the first state found that
    /// breaks it (the shortest such path under breadth-first search).
    pub path: Vec<A>,
}

/// The result of a search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explored<A> {
    /// Distinct states visited (by fingerprint).
    pub distinct_states: u64,
    /// Transitions taken: every (state, enabled action) pair expanded,
    /// whether its target was new or already seen.
    pub transitions: u64,
    /// The greatest depth (steps from an initial state) of a visited state.
    pub max_depth: u32,
    /// Every reachable state within the bounds was visited: the depth bound
    /// cut nothing off. Within the model's own bounds (such as a fault
    /// budget), an invariant that held is then proven.
    pub complete: bool,
    /// End states by outcome: states with no action enabled, and states
    /// the model counts as ended (see [`super::Model::outcome`]), each
    /// distinct end configuration once (see [`super::Model::end_key`]).
    pub terminal: BTreeMap<String, u64>,
    /// One entry per broken invariant, with the first path found, in the
    /// order the invariants were first found broken.
    pub violations: Vec<Found<A>>,
}

/// Where a search stands, for a progress line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Distinct states so far.
    pub states: u64,
    /// Transitions so far.
    pub transitions: u64,
    /// Current depth.
    pub depth: u32,
    /// States waiting to be expanded.
    pub queue: u64,
}
