//! The search tree: for every distinct state, the state it was first
//! reached from and the action taken, so a counterexample can be read back
//! as a path. Also the running tallies every search keeps.

use super::result::{Explored, Found};
use std::collections::{BTreeMap, BTreeSet};

/// No parent: an initial state.
const ROOT: u32 = u32::MAX;

/// Parent pointers and tallies.
pub(super) struct Tree<A> {
    parents: Vec<(u32, Option<A>)>,
    pub(super) transitions: u64,
    pub(super) max_depth: u32,
    pub(super) complete: bool,
    /// End states by outcome, each by its end key.
    terminal: BTreeMap<String, BTreeSet<u64>>,
    violations: Vec<(String, u32)>,
}

impl<A: Clone> Tree<A> {
    pub(super) fn new() -> Self {
        Tree {
            parents: Vec::new(),
            transitions: 0,
            max_depth: 0,
            complete: true,
            terminal: BTreeMap::new(),
            violations: Vec::new(),
        }
    }

    /// Add a state reached from `parent` by `action` (none for an initial
    /// state); returns its index.
    pub(super) fn add(&mut self, parent: Option<u32>, action: Option<A>) -> u32 {
        let idx = u32::try_from(self.parents.len()).expect("fewer than 2^32 states");
        assert!(idx != ROOT, "explorer: state index space exhausted");
        self.parents.push((parent.unwrap_or(ROOT), action));
        idx
    }

    /// Number of states added.
    pub(super) fn len(&self) -> u64 {
        self.parents.len() as u64
    }

    /// Note that state `idx` breaks `invariant`; only the first state found
    /// for each invariant is kept.
    pub(super) fn violated(&mut self, invariant: String, idx: u32) {
        if !self.violations.iter().any(|(name, _)| *name == invariant) {
            self.violations.push((invariant, idx));
        }
    }

    /// Note an end state's outcome; one with an end key seen before is
    /// not counted again.
    pub(super) fn ended(&mut self, outcome: String, key: u64) {
        self.terminal.entry(outcome).or_default().insert(key);
    }

    fn path(&self, mut idx: u32) -> Vec<A> {
        let mut path = Vec::new();
        while let Some((parent, action)) = self.parents.get(idx as usize) {
            if let Some(a) = action {
                path.push(a.clone());
            }
            if *parent == ROOT {
                break;
            }
            idx = *parent;
        }
        path.reverse();
        path
    }

    /// The final result.
    pub(super) fn finish(self) -> Explored<A> {
        let violations = self
            .violations
            .iter()
            .map(|(invariant, idx)| Found {
                invariant: invariant.clone(),
                path: self.path(*idx),
            })
            .collect();
        Explored {
            distinct_states: self.len(),
            transitions: self.transitions,
            max_depth: self.max_depth,
            complete: self.complete,
            terminal: self
                .terminal
                .iter()
                .map(|(outcome, keys)| (outcome.clone(), keys.len() as u64))
                .collect(),
            violations,
        }
    }
}
