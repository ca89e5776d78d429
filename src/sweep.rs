//! Sweeping a scenario over many seeds, in parallel, with every checker on.
//! Memory stays flat: each worker folds its runs into counters and a
//! latency histogram; only violating seeds are kept (for repro files).

use rand::Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use txlab_sim::engine::rng::{Stream, stream};
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::format::{FaultFile, PartitionFile, ScenarioFile};
use txlab_sim::lab::scenario::{Limits, Scenario, ScenarioError};
use txlab_sim::protocols::Protocol;

/// How to sweep.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// First seed.
    pub from: u64,
    /// How many seeds.
    pub seeds: u64,
    /// Draw network and fault parameters per seed.
    pub swarm: bool,
    /// Worker threads.
    pub jobs: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// Latency histogram: 0.1 ms buckets up to 10 s, then one overflow bucket.
const BUCKETS: usize = 100_001;

/// One protocol's totals.
#[derive(Clone, Debug)]
pub struct ProtocolTotals {
    /// Runs by outcome name.
    pub outcomes: BTreeMap<String, u64>,
    /// Runs with at least one violation.
    pub violating_runs: u64,
    /// Violations by invariant.
    pub violations: BTreeMap<String, u64>,
    /// Engine events.
    pub events: u64,
    latency: Vec<u32>,
}

impl ProtocolTotals {
    fn new() -> Self {
        ProtocolTotals {
            outcomes: BTreeMap::new(),
            violating_runs: 0,
            violations: BTreeMap::new(),
            events: 0,
            latency: vec![0; BUCKETS],
        }
    }

    fn merge(&mut self, other: &ProtocolTotals) {
        for (k, v) in &other.outcomes {
            *self.outcomes.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &other.violations {
            *self.violations.entry(k.clone()).or_insert(0) += v;
        }
        self.violating_runs += other.violating_runs;
        self.events += other.events;
        for (a, b) in self.latency.iter_mut().zip(&other.latency) {
            *a += b;
        }
    }

    /// The latency (ms) at quantile `q` (0..=1), from the histogram.
    pub fn latency_quantile(&self, q: f64) -> f64 {
        let total: u64 = self.latency.iter().map(|c| u64::from(*c)).sum();
        if total == 0 {
            return 0.0;
        }
        let rank = ((q * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.latency.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= rank {
                return i as f64 / 10.0;
            }
        }
        (BUCKETS - 1) as f64 / 10.0
    }
}

/// What a sweep found.
#[derive(Clone, Debug)]
pub struct SweepSummary {
    /// Per protocol, in display order.
    pub protocols: Vec<(Protocol, ProtocolTotals)>,
    /// Seeds with a violation (any protocol), sorted, with the scenario
    /// that reproduces each.
    pub failing: Vec<(u64, Scenario)>,
    /// Seeds run.
    pub seeds: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl SweepSummary {
    /// Engine events per wall-clock second, over all protocols.
    pub fn events_per_second(&self) -> f64 {
        let events: u64 = self.protocols.iter().map(|(_, t)| t.events).sum();
        events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Keep at most this many failing scenarios in memory (and repro files).
pub const MAX_REPROS: usize = 1_000;

/// The scenario for `seed`: the base with that seed, and in swarm mode
/// with network and faults drawn from the seed.
pub fn seed_scenario(base: &Scenario, seed: u64, swarm: bool) -> Result<Scenario, ScenarioError> {
    if !swarm {
        return Ok(base.with_seed(seed));
    }
    let mut file = base.file.clone();
    file.seed = seed;
    swarm_faults(&mut file, seed);
    Scenario::from_file(
        file,
        &format!("{}#swarm-{seed}", base.origin),
        Limits::default(),
    )
}

/// Draw loss, duplication, crashes and a partition from the seed's fault
/// stream (independent of the run's own randomness).
fn swarm_faults(file: &mut ScenarioFile, seed: u64) {
    let mut rng = stream(seed, Stream::Faults);
    let mut names: Vec<String> = vec!["coordinator".into()];
    names.extend(file.services.iter().map(|s| s.name.clone()));
    file.network.loss = f64::from(rng.random_range(0..=10u32)) / 100.0;
    file.network.duplicate = f64::from(rng.random_range(0..=20u32)) / 100.0;
    let mut faults = Vec::new();
    for _ in 0..rng.random_range(0..=2u32) {
        let node = names[rng.random_range(0..names.len())].clone();
        let at = rng.random_range(0..200u64);
        let back = at + rng.random_range(10..300u64);
        faults.push(FaultFile {
            at_ms: at,
            crash: Some(node.clone()),
            ..FaultFile::default()
        });
        faults.push(FaultFile {
            at_ms: back,
            restart: Some(node),
            ..FaultFile::default()
        });
    }
    if rng.random_bool(0.5) {
        let node = names[rng.random_range(0..names.len())].clone();
        let at = rng.random_range(0..200u64);
        let name = "swarm-cut".to_string();
        faults.push(FaultFile {
            at_ms: at,
            partition: Some(PartitionFile {
                name: name.clone(),
                a: vec![node],
                b: None,
                one_way: rng.random_bool(0.3),
            }),
            ..FaultFile::default()
        });
        faults.push(FaultFile {
            at_ms: at + rng.random_range(10..400u64),
            heal: Some(name),
            ..FaultFile::default()
        });
    }
    // A node's crashes must not overlap: keep the schedule valid by
    // dropping a crash pair that starts while the node is already down.
    faults.sort_by_key(|f| f.at_ms);
    let mut down: BTreeMap<String, bool> = BTreeMap::new();
    let mut kept = Vec::new();
    for f in faults {
        if let Some(n) = &f.crash {
            if *down.get(n).unwrap_or(&false) {
                continue;
            }
            down.insert(n.clone(), true);
        }
        if let Some(n) = &f.restart {
            if !down.get(n).copied().unwrap_or(false) {
                continue;
            }
            down.insert(n.clone(), false);
        }
        kept.push(f);
    }
    file.faults.extend(kept);
    file.faults.sort_by_key(|f| f.at_ms);
}

/// Run the sweep.
pub fn sweep(base: &Scenario, cfg: &SweepConfig) -> Result<SweepSummary, ScenarioError> {
    // Validate the swarm variant of the first seed up front: a bad base
    // file fails before any thread starts.
    seed_scenario(base, cfg.from, cfg.swarm)?;
    let next = AtomicU64::new(0);
    let bar = progress_bar(cfg);
    let start = Instant::now();
    let results: Vec<Worker> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cfg.jobs.max(1))
            .map(|_| s.spawn(|| worker(base, cfg, &next, bar.as_ref())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("sweep worker"))
            .collect()
    });
    let elapsed = start.elapsed();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut totals: Vec<(Protocol, ProtocolTotals)> = Protocol::ALL
        .iter()
        .map(|p| (*p, ProtocolTotals::new()))
        .collect();
    let mut failing = Vec::new();
    for w in results {
        for ((_, t), wt) in totals.iter_mut().zip(&w.totals) {
            t.merge(wt);
        }
        failing.extend(w.failing);
    }
    failing.sort_by_key(|(seed, _)| *seed);
    failing.truncate(MAX_REPROS);
    Ok(SweepSummary {
        protocols: totals,
        failing,
        seeds: cfg.seeds,
        elapsed,
    })
}

struct Worker {
    totals: Vec<ProtocolTotals>,
    failing: Vec<(u64, Scenario)>,
}

fn worker(
    base: &Scenario,
    cfg: &SweepConfig,
    next: &AtomicU64,
    bar: Option<&indicatif::ProgressBar>,
) -> Worker {
    let mut w = Worker {
        totals: Protocol::ALL
            .iter()
            .map(|_| ProtocolTotals::new())
            .collect(),
        failing: Vec::new(),
    };
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= cfg.seeds {
            return w;
        }
        let seed = cfg.from.wrapping_add(i);
        let Ok(scenario) = seed_scenario(base, seed, cfg.swarm) else {
            continue;
        };
        let mut failed = false;
        for (p, t) in Protocol::ALL.iter().zip(&mut w.totals) {
            let mut spec = scenario.spec_for(*p);
            spec.recording = false;
            let r = run(&spec).report;
            t.events += r.metrics.events;
            for (o, n) in &r.outcomes {
                if *n > 0 {
                    *t.outcomes.entry(o.clone()).or_insert(0) += u64::from(*n);
                }
            }
            for tx in &r.transactions {
                if let Some(ms) = tx.latency_ms {
                    let b = ((ms * 10.0) as usize).min(BUCKETS - 1);
                    t.latency[b] += 1;
                }
            }
            if !r.violations.is_empty() {
                failed = true;
                t.violating_runs += 1;
                for v in &r.violations {
                    *t.violations.entry(v.invariant.clone()).or_insert(0) += 1;
                }
            }
        }
        if failed && w.failing.len() < MAX_REPROS {
            w.failing.push((seed, scenario));
        }
        if let Some(b) = bar {
            b.inc(1);
        }
    }
}

fn progress_bar(cfg: &SweepConfig) -> Option<indicatif::ProgressBar> {
    if !cfg.progress {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(cfg.seeds),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}
