//! A small builder so tests read like a script, in the spirit of quinn's
//! `Pair`: `Harness::new(seed).loss(0.1).node("a", a).drive()`.

use super::{Fault, Latency, NetConfig, Node, ScheduledFault, SimTime, World, WorldConfig};

/// Builds a [`World`] step by step.
pub struct Harness<N: Node> {
    config: WorldConfig,
    nodes: Vec<(String, N)>,
    faults: Vec<ScheduledFault>,
}

impl<N: Node> Harness<N> {
    /// A world seeded with `seed`, default network, recording on.
    pub fn new(seed: u64) -> Self {
        Harness {
            config: WorldConfig {
                seed,
                net: NetConfig::default(),
                write_latency: SimTime::ZERO,
                recording: true,
                answer_from_volatile_state: false,
            },
            nodes: Vec::new(),
            faults: Vec::new(),
        }
    }

    /// Loss probability on every link.
    pub fn loss(mut self, p: f64) -> Self {
        self.config.net.default.loss_probability = p;
        self
    }

    /// Duplication probability on every link.
    pub fn duplicate(mut self, p: f64) -> Self {
        self.config.net.default.duplicate_probability = p;
        self
    }

    /// Latency distribution on every link.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.config.net.default.latency = latency;
        self
    }

    /// Per-link FIFO on every link.
    pub fn fifo(mut self, on: bool) -> Self {
        self.config.net.default.fifo = on;
        self
    }

    /// Forced-write latency.
    pub fn write_latency(mut self, t: SimTime) -> Self {
        self.config.write_latency = t;
        self
    }

    /// Negative controls only: let nodes answer while a forced write is
    /// outstanding (see [`WorldConfig::answer_from_volatile_state`]).
    pub fn answer_from_volatile_state(mut self, on: bool) -> Self {
        self.config.answer_from_volatile_state = on;
        self
    }

    /// Store trace events or only hash them.
    pub fn recording(mut self, on: bool) -> Self {
        self.config.recording = on;
        self
    }

    /// The whole network configuration.
    pub fn net(mut self, net: NetConfig) -> Self {
        self.config.net = net;
        self
    }

    /// Add a node; ids are given in order from 0.
    pub fn node(mut self, name: impl Into<String>, node: N) -> Self {
        self.nodes.push((name.into(), node));
        self
    }

    /// Schedule `fault` at `at`.
    pub fn fault(mut self, at: SimTime, fault: Fault) -> Self {
        self.faults.push(ScheduledFault::new(at, fault));
        self
    }

    /// The world, not yet started.
    pub fn build(self) -> World<N> {
        World::new(self.config, self.nodes, self.faults)
    }

    /// The world run until quiet (at most a million steps).
    pub fn drive(self) -> World<N> {
        let mut w = self.build();
        let quiet = w.run_until_quiescent(1_000_000);
        assert!(quiet, "harness: the world did not go quiet in 1M steps");
        w
    }
}
