//! proptest strategies for the property tests: a case is a whole scenario
//! file (so any failure can be written out and replayed with `txlab run`),
//! built from small parts that shrink well: fewer faults, earlier and
//! shorter faults, fewer transactions, gentler networks.

#![allow(dead_code)]

use proptest::prelude::*;
use std::collections::BTreeMap;
use txlab_sim::lab::scenario::format::{
    FailureFile, FaultFile, LatencyFile, LinkFile, PartitionFile, ScenarioFile,
};
use txlab_sim::lab::scenario::{Limits, Scenario};
use txlab_sim::protocols::{LockPolicy, Toggles};

/// Node names of the holiday booking, the central node first.
pub const NODES: [&str; 5] = ["coordinator", "car", "hotel", "flight", "payment"];
const STEPS: [&str; 4] = ["book car", "book hotel", "book flight", "charge card"];

/// One fault, healed by construction.
#[derive(Clone, Debug)]
pub enum FaultCase {
    /// Crash `node` at `at_ms`, restart it `down_ms` later.
    Crash {
        node: usize,
        at_ms: u64,
        down_ms: u64,
    },
    /// Cut `nodes` off from `others` (empty: from everyone else) at
    /// `at_ms` for `for_ms`; `one_way` blocks only `nodes → others`.
    Partition {
        nodes: Vec<usize>,
        others: Vec<usize>,
        one_way: bool,
        at_ms: u64,
        for_ms: u64,
    },
}

/// A delay distribution: uniform, or Pareto's long tail.
#[derive(Clone, Debug)]
pub enum LatencyCase {
    /// Uniform in `min_ms..=min_ms + spread_ms`.
    Uniform { min_ms: u64, spread_ms: u64 },
    /// Pareto with scale `min_ms`, shape `alpha`, capped at `max_ms`.
    Pareto {
        min_ms: u64,
        alpha: f64,
        max_ms: u64,
    },
}

impl LatencyCase {
    fn file(&self) -> LatencyFile {
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
    pub from: usize,
    pub to: usize,
    pub latency: Option<LatencyCase>,
    pub loss: Option<f64>,
    pub duplicate: Option<f64>,
    pub fifo: Option<bool>,
}

/// A slow or silent step: its service answers `reply_delay_ms` late, and
/// drops its first `silent_replies` answers (the work is done: outcome
/// unknown to the caller).
#[derive(Clone, Debug)]
pub struct SlowCase {
    pub step: usize,
    pub reply_delay_ms: u64,
    pub silent_replies: u8,
    /// Only this transaction (`None`: all).
    pub tx: Option<u32>,
}

/// Everything a property test varies.
#[derive(Clone, Debug)]
pub struct Case {
    pub seed: u64,
    pub loss: f64,
    pub duplicate: f64,
    pub latency: LatencyCase,
    pub fifo: bool,
    /// Time a forced log write takes: 0 is an instant disk.
    pub write_latency_ms: u64,
    pub links: Vec<LinkCase>,
    /// An impatient client asks again this soon (default: the scenario's),
    /// so repeated requests reach a central node still at work.
    pub client_retry_ms: Option<u64>,
    pub transactions: u32,
    /// Time between arrivals.
    pub interval_ms: u64,
    pub reject_step: Option<usize>,
    pub transient: f64,
    pub slow: Vec<SlowCase>,
    /// The first step's compensation always fails, so a saga that must
    /// compensate ends stuck (after Sam's refund: the refund comes first).
    pub stuck: bool,
    pub faults: Vec<FaultCase>,
    pub toggles: Toggles,
}

/// Probabilities in whole percent, so they shrink to round numbers.
fn percent(max: u32) -> impl Strategy<Value = f64> {
    (0..=max).prop_map(|p| f64::from(p) / 100.0)
}

/// Every arrival of a case lies before this (up to 3 transactions, 1 ms
/// apart plus `interval_ms` below 40).
const ARRIVALS_END_MS: u64 = 90;

pub fn fault() -> impl Strategy<Value = FaultCase> {
    let node = || 0..NODES.len();
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

pub fn link() -> impl Strategy<Value = LinkCase> {
    (
        0..NODES.len(),
        0..NODES.len(),
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

pub fn slow() -> impl Strategy<Value = SlowCase> {
    (
        0..STEPS.len(),
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

pub fn toggles() -> impl Strategy<Value = Toggles> {
    // The auditor is weighted low: it adds many messages to a run.
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

/// A case with up to `max_faults` faults and `max_tx` transactions.
pub fn case(max_faults: usize, max_tx: u32) -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        (
            percent(30),
            percent(50),
            latency(),
            any::<bool>(),
            0..=20u64,
            proptest::collection::vec(link(), 0..=2),
            proptest::option::weighted(0.3, 10..300u64),
        ),
        (
            1..=max_tx,
            0..40u64,
            proptest::option::weighted(0.3, 0..STEPS.len()),
            percent(30),
            proptest::collection::vec(slow(), 0..=2),
            proptest::bool::weighted(0.1),
        ),
        proptest::collection::vec(fault(), 0..=max_faults),
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
            },
        )
}

impl Case {
    /// The scenario file for this case.
    pub fn file(&self) -> ScenarioFile {
        let base = txlab::library::get("happy-path").expect("happy-path");
        let mut f = Scenario::parse(base.as_bytes(), "happy-path")
            .expect("valid")
            .file;
        f.name = "proptest-case".into();
        f.description = "A case generated by the property tests.".into();
        f.seed = self.seed;
        f.expect = BTreeMap::new();
        f.narration.clear();
        f.network.latency = self.latency.file();
        f.network.loss = self.loss;
        f.network.duplicate = self.duplicate;
        f.network.fifo = self.fifo;
        f.network.write_latency_ms = self.write_latency_ms;
        f.network.links = self.link_files();
        f.timing.client_retry_ms = self.client_retry_ms;
        f.workload.transactions = self.transactions;
        f.workload.interval_ms = self.interval_ms;
        f.toggles = self.toggles.clone();
        if let Some(s) = self.reject_step {
            f.failures.push(FailureFile {
                step: STEPS[s].into(),
                reject: true,
                txs: vec![0],
                ..FailureFile::default()
            });
        }
        if self.transient > 0.0 {
            f.failures.push(FailureFile {
                step: "charge card".into(),
                transient_probability: self.transient,
                ..FailureFile::default()
            });
        }
        for s in &self.slow {
            f.failures.push(FailureFile {
                step: STEPS[s.step].into(),
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
            f.failures.push(FailureFile {
                step: STEPS[0].into(),
                compensation_fails: true,
                ..FailureFile::default()
            });
        }
        f.faults = self.fault_files();
        f
    }

    fn link_files(&self) -> Vec<LinkFile> {
        // One override per directed link: the last one drawn wins.
        let mut links: BTreeMap<(usize, usize), LinkFile> = BTreeMap::new();
        for l in self.links.iter().filter(|l| l.from != l.to) {
            links.insert(
                (l.from, l.to),
                LinkFile {
                    from: NODES[l.from].into(),
                    to: NODES[l.to].into(),
                    latency: l.latency.as_ref().map(LatencyCase::file),
                    loss: l.loss,
                    duplicate: l.duplicate,
                    fifo: l.fifo,
                },
            );
        }
        links.into_values().collect()
    }

    fn fault_files(&self) -> Vec<FaultFile> {
        // Faults on the same node must not overlap: a later crash of a node
        // that is still down is dropped.
        let mut up_again: BTreeMap<usize, u64> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, fc) in self.faults.iter().enumerate() {
            match fc {
                FaultCase::Crash {
                    node,
                    at_ms,
                    down_ms,
                } => {
                    if up_again.get(node).is_some_and(|t| *t >= *at_ms) {
                        continue;
                    }
                    up_again.insert(*node, at_ms + down_ms);
                    out.push(FaultFile {
                        at_ms: *at_ms,
                        crash: Some(NODES[*node].into()),
                        ..FaultFile::default()
                    });
                    out.push(FaultFile {
                        at_ms: at_ms + down_ms,
                        restart: Some(NODES[*node].into()),
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
                    let name = format!("cut{i}");
                    let names = |ns: &[usize]| -> Vec<String> {
                        let mut v: Vec<String> = ns.iter().map(|n| NODES[*n].to_string()).collect();
                        v.sort();
                        v.dedup();
                        v
                    };
                    let a = names(nodes);
                    if a.len() == NODES.len() {
                        continue;
                    }
                    let b: Vec<String> = names(others)
                        .into_iter()
                        .filter(|n| !a.contains(n))
                        .collect();
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

    /// The loaded scenario.
    pub fn scenario(&self) -> Scenario {
        Scenario::from_file(self.file(), "proptest-case", Limits::default())
            .expect("generated cases are valid")
    }

    /// Number of fault entries in the scenario (crash+restart and
    /// partition+heal count as two).
    pub fn fault_count(&self) -> usize {
        self.fault_files().len()
    }
}

/// Write the failing case where `txlab run` can replay it, and describe it
/// for the failure message: seed, network (write latency and per-link
/// overrides included), slow steps, fault schedule and path.
pub fn repro(property: &str, case: &Case) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("proptest-repros");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{property}.toml"));
    let file = case.file();
    let body = toml::to_string(&file).unwrap_or_default();
    let _ = std::fs::write(&path, &body);
    format!(
        "reproduce with seed={} ({} transactions {} ms apart); network: {}; failures: [{}]; faults: [{}]; replay: txlab run {}",
        case.seed,
        case.transactions,
        case.interval_ms,
        one_line(&file.network),
        one_lines(&file.failures),
        one_lines(&file.faults),
        path.display()
    )
}

fn one_line(value: &impl serde::Serialize) -> String {
    toml::to_string(value)
        .unwrap_or_default()
        .trim()
        .replace('\n', " ")
}

fn one_lines<T: serde::Serialize>(values: &[T]) -> String {
    values.iter().map(one_line).collect::<Vec<_>>().join("; ")
}

/// Cases per property: 256 by default, `PROPTEST_CASES` for a soak.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}
