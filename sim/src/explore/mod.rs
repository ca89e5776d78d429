//! Exhaustive exploration of small configurations.
//!
//! Random runs miss narrow interleavings. The explorer instead visits every
//! state a [`Model`] can reach within bounds (depth, and whatever bounds
//! the model keeps itself, such as a fault budget), judges the invariants
//! in each, and returns for every broken invariant the path that breaks it.
//! Breadth-first by default, so that path is a shortest one; depth-first
//! on request. States are deduplicated by a stable 64-bit fingerprint.
//!
//! - [`Model`]: what is explored.
//! - [`explore()`], [`Options`], [`Strategy`]: how.
//! - [`Explored`], [`Found`], [`Progress`]: what comes back.
//! - [`TwoPhase`]: Gray & Lamport's abstract TwoPhase specification, the
//!   calibration model with published state counts.
//!
//! The search is deterministic: the same model and options give the same
//! counts and the same counterexamples on every run and for any number of
//! threads: breadth-first search expands a level in parallel chunks but
//! merges them one by one in frontier order.

mod bfs;
mod dfs;
mod expand;
mod model;
mod result;
mod search;
mod tree;
mod two_phase;
mod visited;

pub use model::Model;
pub use result::{Explored, Found, Progress};
pub use search::{Options, Strategy, explore};
pub use two_phase::{MAX_RMS, TwoPhase, TwoPhaseAction};
