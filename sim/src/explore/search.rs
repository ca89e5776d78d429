//! Search options and the entry point.

use super::result::{Explored, Progress};
use super::{Model, bfs, dfs};

/// Breadth-first or depth-first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Breadth-first (the default): level by level, so the first
    /// counterexample found for an invariant is a shortest one.
    #[default]
    Bfs,
    /// Depth-first: less memory for the queue, counterexamples not shortest.
    Dfs,
}

/// How to search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Breadth- or depth-first.
    pub strategy: Strategy,
    /// Explore no state deeper than this many steps (none: no bound).
    pub max_depth: Option<u32>,
    /// Visit no more than this many distinct states (none: no bound). A
    /// search cut short by it is not complete. Breadth-first search admits
    /// new states in frontier order, so the cut falls on the same states
    /// for any number of threads.
    pub max_states: Option<u64>,
    /// Worker threads for breadth-first search (depth-first runs on one).
    /// The result does not depend on it.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strategy: Strategy::Bfs,
            max_depth: None,
            max_states: None,
            threads: 1,
        }
    }
}

/// Visit every state of `model` reachable within the bounds, judging the
/// invariants in each, and call `progress` now and then.
pub fn explore<M: Model>(
    model: &M,
    options: &Options,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Explored<M::Action> {
    match options.strategy {
        Strategy::Bfs => bfs::search(model, options, progress),
        Strategy::Dfs => dfs::search(model, options, progress),
    }
}
