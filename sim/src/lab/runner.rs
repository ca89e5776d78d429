//! Many seeds of one spec, as a sweep runs them: the world is built once
//! and reset for each seed, and a run is judged only for what a sweep
//! keeps (outcomes, latencies, violations, events), not for the full
//! report's metrics, anomalies and per-transaction words.
//!
//! A run here is the run [`run()`](super::run::run) makes for the same
//! spec and seed, trace hash included (a test holds the two together);
//! only the allocations are shared between seeds.

use super::checkers::{Scratch, check_all_with};
use super::outcome::latencies;
use super::report::Violation;
use super::run::{RunSpec, build_world, drive, view};
use crate::engine::World;
use crate::protocols::workload::TxId;
use crate::protocols::{LabNode, Outcome};
use std::collections::BTreeMap;

/// What a sweep keeps of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Engine events (the world's steps).
    pub events: u64,
    /// The outcome of every transaction.
    pub outcomes: BTreeMap<TxId, Outcome>,
    /// End-to-end latency (ms) of every transaction that got an answer.
    pub latencies_ms: BTreeMap<TxId, f64>,
    /// Every broken invariant.
    pub violations: Vec<Violation>,
    /// The trace's stable hash.
    pub trace_hash: u64,
}

/// One spec's world, kept between seeds.
pub struct Runner {
    spec: RunSpec,
    world: World<LabNode>,
    /// The world is as built for `spec.seed`: the first run of that seed
    /// needs no reset.
    fresh: bool,
    /// The checkers' tables, kept from run to run (the spec's workflow
    /// never changes: they are made for it once).
    scratch: Scratch,
}

impl Runner {
    /// Build `spec`'s world once (its seed is replaced by each run's).
    pub fn new(spec: RunSpec) -> Self {
        let world = build_world(&spec);
        let scratch = Scratch::new(&spec.workflow);
        Runner {
            spec,
            world,
            fresh: true,
            scratch,
        }
    }

    /// Run the spec under `seed` to quiescence (or its horizon) and judge
    /// it.
    pub fn run(&mut self, seed: u64) -> Verdict {
        if !self.fresh || seed != self.spec.seed {
            self.world.reset(seed);
        }
        self.fresh = false;
        self.spec.seed = seed;
        drive(&mut self.world, &self.spec);
        let view = view(&self.spec, &self.world);
        let mut violations = Vec::new();
        check_all_with(&view, &mut self.scratch, &mut violations);
        Verdict {
            events: self.world.stats().steps,
            latencies_ms: latencies(&view),
            violations,
            outcomes: view.outcomes,
            trace_hash: self.world.trace().hash(),
        }
    }

    /// The world as the last run left it.
    pub fn world(&self) -> &World<LabNode> {
        &self.world
    }
}
