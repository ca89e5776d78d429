//! The proptest strategies: a case is everything a property test varies
//! about a scenario (network, disk, slow and silent services, planned
//! failures, a fault schedule, the workload's size), built from small parts
//! that shrink well: fewer faults, earlier and shorter faults, fewer
//! transactions, gentler networks. [`Case::apply`] turns a case into a
//! scenario file over any base scenario, so a failure can be written out
//! and replayed.

use crate::lab::scenario::format::{
    FailureFile, FaultFile, LatencyFile, LinkFile, PartitionFile, ScenarioFile,
};
use crate::protocols::{LockPolicy, Toggles};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// The names a case's indices refer to: nodes (the central node first,
/// then the services) and steps, taken from a base scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// `coordinator` (the central node in every protocol), then each
    /// service.
    pub nodes: Vec<String>,
    /// The workflow's steps, in order.
    pub steps: Vec<String>,
}

impl Shape {
    /// The shape of `file`.
    pub fn of(file: &ScenarioFile) -> Self {
        Shape {
            nodes: std::iter::once("coordinator".to_string())
                .chain(file.services.iter().map(|s| s.name.clone()))
                .collect(),
            steps: file.steps.iter().map(|s| s.name.clone()).collect(),
        }
    }
}

/// One fault, healed by construction.
#[derive(Clone, Debug)]
pub enum FaultCase {
    /// Crash node `node` at `at_ms`, restart it `down_ms` later.
    Crash {
        /// The node's index in [`Shape::nodes`].
        node: usize,
        /// When it crashes.
        at_ms: u64,
        /// How long it stays down.
        down_ms: u64,
    },
    /// Cut `nodes` off from `others` (empty: from everyone else) at
    /// `at_ms` for `for_ms`; `one_way` blocks only `nodes → others`.
    Partition {
        /// One side (indices in [`Shape::nodes`]).
        nodes: Vec<usize>,
        /// The other side (empty: everyone else).
        others: Vec<usize>,
        /// Only `nodes → others` is cut.
        one_way: bool,
        /// When the cut starts.
        at_ms: u64,
        /// How long it lasts.
        for_ms: u64,
    },
}

/// A delay distribution: uniform, or Pareto's long tail.
#[derive(Clone, Debug)]
pub enum LatencyCase {
    /// Uniform in `min_ms..=min_ms + spread_ms`.
    Uniform {
        /// Fastest.
        min_ms: u64,
        /// Slowest minus fastest.
        spread_ms: u64,
    },
    /// Pareto with scale `min_ms`, shape `alpha`, capped at `max_ms`.
    Pareto {
        /// Scale: the fastest delivery.
        min_ms: u64,
        /// Shape (smaller: heavier tail).
        alpha: f64,
        /// Cap.
        max_ms: u64,
    },
}

impl LatencyCase {
    /// As written in a scenario file.
    pub fn file(&self) -> LatencyFile {
        match *self {
            LatencyCase::Uniform { min_ms, spread_ms } => LatencyFile::Uniform {
                min_ms,
                max_ms: min_ms + spread_ms,
            },
            LatencyCase::Pareto {
                min_ms,
                alpha,
                max_ms,
            } => LatencyFile::Pareto {
                min_ms,
                alpha,
                max_ms: max_ms.max(min_ms),
            },
        }
    }
}

/// An override for one directed link: a slow, lossy, duplicating or
/// FIFO link between two nodes.
#[derive(Clone, Debug)]
pub struct LinkCase {
    /// Sender (index in [`Shape::nodes`]).
    pub from: usize,
    /// Receiver.
    pub to: usize,
    /// Its delay, if overridden.
    pub latency: Option<LatencyCase>,
    /// Its loss probability, if overridden.
    pub loss: Option<f64>,
    /// Its duplication probability, if overridden.
    pub duplicate: Option<f64>,
    /// FIFO, if overridden.
    pub fifo: Option<bool>,
}

/// A slow or silent step: its service answers `reply_delay_ms` late, and
/// drops its first `silent_replies` answers (the work is done: outcome
/// unknown to the caller).
#[derive(Clone, Debug)]
pub struct SlowCase {
    /// The step (index in [`Shape::steps`]).
    pub step: usize,
    /// Extra time before the reply.
    pub reply_delay_ms: u64,
    /// Attempts answered by silence.
    pub silent_replies: u8,
    /// Only this transaction (`None`: all).
    pub tx: Option<u32>,
}

/// Everything a property test varies.
#[derive(Clone, Debug)]
pub struct Case {
    /// The run's seed.
    pub seed: u64,
    /// Loss probability on every link.
    pub loss: f64,
    /// Duplication probability on every link.
    pub duplicate: f64,
    /// Delay on every link.
    pub latency: LatencyCase,
    /// Per-link FIFO delivery.
    pub fifo: bool,
    /// Time a forced log write takes: 0 is an instant disk.
    pub write_latency_ms: u64,
    /// Per-link overrides.
    pub links: Vec<LinkCase>,
    /// An impatient client asks again this soon (default: the scenario's),
    /// so repeated requests reach a central node still at work.
    pub client_retry_ms: Option<u64>,
    /// How many transactions.
    pub transactions: u32,
    /// Time between arrivals.
    pub interval_ms: u64,
    /// Transaction 0 is refused (4xx) at this step.
    pub reject_step: Option<usize>,
    /// Probability that an attempt of the last step fails transiently.
    pub transient: f64,
    /// Slow or silent steps.
    pub slow: Vec<SlowCase>,
    /// The first step's compensation always fails, so a saga that must
    /// compensate ends stuck.
    pub stuck: bool,
    /// Crashes and partitions.
    pub faults: Vec<FaultCase>,
    /// The teaching toggles.
    pub toggles: Toggles,
    /// Registers, reread, a fee, a parallel group, a tied crash (none
    /// unless drawn by [`case_with_knobs`]).
    pub knobs: super::Knobs,
}

/// Probabilities in whole percent, so they shrink to round numbers.
fn percent(max: u32) -> impl Strategy<Value = f64> {
    (0..=max).prop_map(|p| f64::from(p) / 100.0)
}

/// Every arrival of a case lies before this (up to 3 transactions, 1 ms
/// apart plus `interval_ms` below 40).
const ARRIVALS_END_MS: u64 = 90;

/// A crash or a partition among `nodes` nodes, early in the run (one in
/// three crashes the central node while requests arrive).
pub fn fault(nodes: usize) -> impl Strategy<Value = FaultCase> {
    let node = move || 0..nodes;
    prop_oneof![
        (node(), 0..300u64, 1..400u64).prop_map(|(node, at_ms, down_ms)| {
            FaultCase::Crash {
                node,
                at_ms,
                down_ms,
            }
        }),
        (
            proptest::collection::vec(node(), 1..3),
            proptest::collection::vec(node(), 0..3),
            any::<bool>(),
            0..300u64,
            1..400u64
        )
            .prop_map(|(nodes, others, one_way, at_ms, for_ms)| {
                FaultCase::Partition {
                    nodes,
                    others,
                    one_way,
                    at_ms,
                    for_ms,
                }
            }),
        // The central node down while requests arrive: the clients must
        // retry, and latency counts the wait.
        (0..ARRIVALS_END_MS, 1..400u64).prop_map(|(at_ms, down_ms)| FaultCase::Crash {
            node: 0,
            at_ms,
            down_ms,
        }),
    ]
}

/// A delay: mostly uniform, sometimes a long tail.
pub fn latency() -> impl Strategy<Value = LatencyCase> {
    prop_oneof![
        3 => (1..10u64, 0..40u64)
            .prop_map(|(min_ms, spread_ms)| LatencyCase::Uniform { min_ms, spread_ms }),
        1 => (1..5u64, 10..30u32, 20..300u64).prop_map(|(min_ms, a, max_ms)| {
            LatencyCase::Pareto {
                min_ms,
                alpha: f64::from(a) / 10.0,
                max_ms,
            }
        }),
    ]
}

/// A slow link: up to 20 ms plus up to 200 ms of spread, or a long tail.
fn slow_latency() -> impl Strategy<Value = LatencyCase> {
    prop_oneof![
        (0..20u64, 0..200u64)
            .prop_map(|(min_ms, spread_ms)| LatencyCase::Uniform { min_ms, spread_ms }),
        latency(),
    ]
}

/// An override of one directed link among `nodes` nodes.
pub fn link(nodes: usize) -> impl Strategy<Value = LinkCase> {
    (
        0..nodes,
        0..nodes,
        proptest::option::of(slow_latency()),
        proptest::option::weighted(0.3, percent(30)),
        proptest::option::weighted(0.3, percent(100)),
        proptest::option::weighted(0.2, any::<bool>()),
    )
        .prop_map(|(from, to, latency, loss, duplicate, fifo)| LinkCase {
            from,
            to,
            latency,
            loss,
            duplicate,
            fifo,
        })
}

/// A slow or silent step among `steps` steps.
pub fn slow(steps: usize) -> impl Strategy<Value = SlowCase> {
    (
        0..steps,
        0..150u64,
        0..=2u8,
        proptest::option::weighted(0.3, 0..3u32),
    )
        .prop_map(|(step, reply_delay_ms, silent_replies, tx)| SlowCase {
            step,
            reply_delay_ms,
            silent_replies,
            tx,
        })
}

/// The toggles that keep every protocol correct (idempotency and the
/// outbox stay on), drawn: presumed abort, cooperative termination, the
/// semantic lock, the lock policy and (rarely: it adds many messages) the
/// auditor.
pub fn toggles() -> impl Strategy<Value = Toggles> {
    let auditor = proptest::bool::weighted(0.1);
    (any::<bool>(), any::<bool>(), any::<bool>(), 0..3u8, auditor).prop_map(
        |(pa, coop, sem, lock, auditor)| Toggles {
            presumed_abort: pa,
            cooperative_termination: coop,
            semantic_lock: sem,
            auditor,
            lock_policy: [LockPolicy::WaitDie, LockPolicy::Wait, LockPolicy::FailFast]
                [lock as usize],
            ..Toggles::default()
        },
    )
}

/// A case over `shape` with up to `max_faults` faults and `max_tx`
/// transactions.
pub fn case(shape: &Shape, max_faults: usize, max_tx: u32) -> impl Strategy<Value = Case> + use<> {
    let (nodes, steps) = (shape.nodes.len(), shape.steps.len().max(1));
    (
        any::<u64>(),
        (
            percent(30),
            percent(50),
            latency(),
            any::<bool>(),
            0..=20u64,
            proptest::collection::vec(link(nodes), 0..=2),
            proptest::option::weighted(0.3, 10..300u64),
        ),
        (
            1..=max_tx.max(1),
            0..40u64,
            proptest::option::weighted(0.3, 0..steps),
            percent(30),
            proptest::collection::vec(slow(steps), 0..=2),
            proptest::bool::weighted(0.1),
        ),
        proptest::collection::vec(fault(nodes), 0..=max_faults),
        toggles(),
    )
        .prop_map(
            |(
                seed,
                (loss, duplicate, latency, fifo, write_latency_ms, links, client_retry_ms),
                (transactions, interval_ms, reject_step, transient, slow, stuck),
                faults,
                toggles,
            )| Case {
                seed,
                loss,
                duplicate,
                latency,
                fifo,
                write_latency_ms,
                links,
                client_retry_ms,
                transactions,
                interval_ms,
                reject_step,
                transient,
                slow,
                stuck,
                faults,
                toggles,
                knobs: super::Knobs::default(),
            },
        )
}

/// [`case`] with the workload knobs turned too (see [`super::knobs`]): a
/// separate strategy, so the cases `case` draws (and the counterexamples
/// user suites have pinned) stay what they were.
pub fn case_with_knobs(
    shape: &Shape,
    max_faults: usize,
    max_tx: u32,
) -> impl Strategy<Value = Case> + use<> {
    let knobs = super::knobs::knobs(shape.steps.len(), shape.nodes.len().saturating_sub(1));
    (case(shape, max_faults, max_tx), knobs).prop_map(|(mut c, k)| {
        c.knobs = k;
        c
    })
}

impl Case {
    /// `base` with this case's seed, network (all of `[network]`: latency,
    /// loss, duplication, FIFO, write latency, per-link overrides), client
    /// retry, workload size (`transactions`, `interval_ms`), toggles and
    /// fault schedule (`[[faults]]`) in place of the base's. The base's
    /// planned `[[failures]]` are kept (a transaction beyond the case's
    /// count dropped from their `txs`) and the case's added after them.
    /// Expectations and narration are dropped.
    pub fn apply(&self, base: &ScenarioFile) -> ScenarioFile {
        let shape = Shape::of(base);
        let mut f = base.clone();
        f.seed = self.seed;
        f.expect = BTreeMap::new();
        f.narration.clear();
        f.network.latency = self.latency.file();
        f.network.loss = self.loss;
        f.network.duplicate = self.duplicate;
        f.network.fifo = self.fifo;
        f.network.write_latency_ms = self.write_latency_ms;
        f.network.links = self.link_files(&shape);
        f.timing.client_retry_ms = self.client_retry_ms;
        f.workload.transactions = self.transactions;
        f.workload.interval_ms = self.interval_ms;
        f.toggles = self.toggles.clone();
        // The base's planned failures are part of the user's scenario
        // (a charge refused on purpose), not trouble to vary.
        f.failures = base
            .failures
            .iter()
            .filter_map(|fl| {
                let mut fl = fl.clone();
                let all = fl.txs.is_empty();
                fl.txs.retain(|t| *t < self.transactions);
                (all || !fl.txs.is_empty()).then_some(fl)
            })
            .chain(self.failure_files(&shape))
            .collect();
        f.faults = self.fault_files(&shape);
        self.knobs.apply(&mut f);
        f
    }

    fn failure_files(&self, shape: &Shape) -> Vec<FailureFile> {
        let step = |i: usize| shape.steps[i.min(shape.steps.len() - 1)].clone();
        let mut out = Vec::new();
        if let Some(s) = self.reject_step {
            out.push(FailureFile {
                step: step(s),
                reject: true,
                txs: vec![0],
                ..FailureFile::default()
            });
        }
        if self.transient > 0.0 {
            out.push(FailureFile {
                step: step(shape.steps.len() - 1),
                transient_probability: self.transient,
                ..FailureFile::default()
            });
        }
        for s in &self.slow {
            out.push(FailureFile {
                step: step(s.step),
                reply_delay_ms: s.reply_delay_ms,
                silent_replies: s.silent_replies,
                txs: s
                    .tx
                    .filter(|t| *t < self.transactions)
                    .into_iter()
                    .collect(),
                ..FailureFile::default()
            });
        }
        if self.stuck {
            out.push(FailureFile {
                step: step(0),
                compensation_fails: true,
                ..FailureFile::default()
            });
        }
        out
    }

    fn link_files(&self, shape: &Shape) -> Vec<LinkFile> {
        // One override per directed link: the last one drawn wins.
        let len = shape.nodes.len();
        let mut links: BTreeMap<(usize, usize), LinkFile> = BTreeMap::new();
        for l in &self.links {
            let (from, to) = (l.from % len, l.to % len);
            if from == to {
                continue;
            }
            let file = LinkFile {
                from: shape.nodes[from].clone(),
                to: shape.nodes[to].clone(),
                latency: l.latency.as_ref().map(LatencyCase::file),
                loss: l.loss,
                duplicate: l.duplicate,
                fifo: l.fifo,
            };
            links.insert((from, to), file);
        }
        links.into_values().collect()
    }

    /// The crash/restart and partition/heal entries over `shape`'s names.
    pub fn fault_files(&self, shape: &Shape) -> Vec<FaultFile> {
        // Faults on the same node must not overlap: a later crash of a node
        // that is still down is dropped.
        let n = |i: usize| shape.nodes[i % shape.nodes.len()].clone();
        let mut up_again: BTreeMap<String, u64> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, fc) in self.faults.iter().enumerate() {
            match fc {
                FaultCase::Crash {
                    node,
                    at_ms,
                    down_ms,
                } => {
                    let node = n(*node);
                    if up_again.get(&node).is_some_and(|t| *t >= *at_ms) {
                        continue;
                    }
                    up_again.insert(node.clone(), at_ms + down_ms);
                    out.push(FaultFile {
                        at_ms: *at_ms,
                        crash: Some(node.clone()),
                        ..FaultFile::default()
                    });
                    out.push(FaultFile {
                        at_ms: at_ms + down_ms,
                        restart: Some(node),
                        ..FaultFile::default()
                    });
                }
                FaultCase::Partition {
                    nodes,
                    others,
                    one_way,
                    at_ms,
                    for_ms,
                } => {
                    let Some((a, b)) = partition_sides(shape, nodes, others) else {
                        continue;
                    };
                    let name = format!("cut{i}");
                    out.push(FaultFile {
                        at_ms: *at_ms,
                        partition: Some(PartitionFile {
                            name: name.clone(),
                            a,
                            b: (!b.is_empty()).then_some(b),
                            one_way: *one_way,
                        }),
                        ..FaultFile::default()
                    });
                    out.push(FaultFile {
                        at_ms: at_ms + for_ms,
                        heal: Some(name),
                        ..FaultFile::default()
                    });
                }
            }
        }
        out.sort_by_key(|f| f.at_ms);
        out
    }
}

/// The two sides of a partition of `nodes` from `others` over `shape`'s
/// names, sorted, without repeats; `b` empty means everyone else. `None`
/// when `nodes` is every node (nothing is left to cut it from).
pub(super) fn partition_sides(
    shape: &Shape,
    nodes: &[usize],
    others: &[usize],
) -> Option<(Vec<String>, Vec<String>)> {
    let names = |ns: &[usize]| -> Vec<String> {
        let mut v: Vec<String> = ns
            .iter()
            .map(|i| shape.nodes[i % shape.nodes.len()].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let a = names(nodes);
    if a.len() == shape.nodes.len() {
        return None;
    }
    let b = names(others)
        .into_iter()
        .filter(|x| !a.contains(x))
        .collect();
    Some((a, b))
}
