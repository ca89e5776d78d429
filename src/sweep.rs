//! Sweeping a scenario over many seeds, in parallel, with every checker on.
//! Memory stays flat: each worker folds its runs into counters and a
//! latency histogram; only violating seeds are kept (for repro files).
//!
//! `swarm` draws each seed's trouble in swarm mode; `totals` sums one
//! protocol's runs.

mod swarm;
mod totals;

pub use swarm::{seed_scenario, swarm_scenario};
pub use totals::{BUCKETS_PER_MS, ProtocolTotals};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use txlab_sim::lab::Runner;
use txlab_sim::lab::scenario::{Scenario, ScenarioError};
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

/// What a sweep found.
#[derive(Clone, Debug)]
pub struct SweepSummary {
    /// Per protocol, in display order.
    pub protocols: Vec<(Protocol, ProtocolTotals)>,
    /// Seeds with a violation (any protocol), sorted, with the scenario
    /// that reproduces each.
    pub failing: Vec<(u64, Scenario)>,
    /// What each kept failing seed broke, as `protocol: invariant`.
    pub why: BTreeMap<u64, Vec<String>>,
    /// Violating seeds in all, kept or not.
    pub failing_total: u64,
    /// Seeds run.
    pub seeds: u64,
    /// Swarm draws whose scenario did not validate: those seeds were not
    /// run, so every count above leaves them out.
    pub skipped: u64,
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
    let mut why = BTreeMap::new();
    let mut failing_total = 0;
    let mut skipped = 0;
    for w in results {
        skipped += w.skipped;
        for ((_, t), wt) in totals.iter_mut().zip(&w.totals) {
            t.merge(wt);
        }
        failing.extend(w.failing);
        why.extend(w.why);
        failing_total += w.failing_total;
    }
    failing.sort_by_key(|(seed, _)| *seed);
    failing.truncate(MAX_REPROS);
    why.retain(|seed, _| failing.iter().any(|(s, _)| s == seed));
    Ok(SweepSummary {
        protocols: totals,
        failing,
        why,
        failing_total,
        seeds: cfg.seeds,
        skipped,
        elapsed,
    })
}

struct Worker {
    totals: Vec<ProtocolTotals>,
    failing: Vec<(u64, Scenario)>,
    why: BTreeMap<u64, Vec<String>>,
    failing_total: u64,
    skipped: u64,
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
        why: BTreeMap::new(),
        failing_total: 0,
        skipped: 0,
    };
    // Without swarm only the seed changes: each protocol's world is built
    // once and reset per seed, and the whole scenario (file included) is
    // copied only for a failing seed.
    let mut runners: Vec<Runner> = if cfg.swarm {
        Vec::new()
    } else {
        Protocol::ALL.iter().map(|p| runner(base, *p)).collect()
    };
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= cfg.seeds {
            return w;
        }
        let seed = cfg.from.wrapping_add(i);
        let swarmed = if cfg.swarm {
            match seed_scenario(base, seed, true) {
                Ok(s) => Some(s),
                Err(_) => {
                    w.skipped += 1;
                    continue;
                }
            }
        } else {
            None
        };
        if let Some(s) = &swarmed {
            runners = Protocol::ALL.iter().map(|p| runner(s, *p)).collect();
        }
        let mut broken: Vec<String> = Vec::new();
        for ((p, t), r) in Protocol::ALL.iter().zip(&mut w.totals).zip(&mut runners) {
            let v = r.run(seed);
            t.add(&v);
            for inv in &v.violations {
                broken.push(format!("{}: {}", p.name(), inv.invariant));
            }
        }
        if !broken.is_empty() {
            w.failing_total += 1;
            if w.failing.len() < MAX_REPROS {
                broken.sort();
                broken.dedup();
                w.why.insert(seed, broken);
                let repro = swarmed.unwrap_or_else(|| base.with_seed(seed));
                w.failing.push((seed, repro));
            }
        }
        if let Some(b) = bar {
            b.inc(1);
        }
    }
}

/// A runner for `scenario` under `p`, with the trace not stored.
fn runner(scenario: &Scenario, p: Protocol) -> Runner {
    let mut spec = scenario.spec_for(p);
    spec.recording = false;
    Runner::new(spec)
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

#[cfg(test)]
mod tests {
    use super::*;
    use txlab_sim::lab::scenario::Limits;
    use txlab_sim::lab::scenario::format::FaultFile;

    /// A seed whose swarm draw does not make a valid scenario is skipped:
    /// counted in `skipped`, absent from every other count. A base at the
    /// fault limit makes the rule checkable: a draw is invalid exactly
    /// when it adds a fault, which the same draw on the base without its
    /// padding shows (the padding lies far past every drawn crash, so it
    /// changes no draw).
    #[test]
    fn swarm_draws_past_the_fault_limit_are_skipped_and_counted() {
        let text = crate::library::get("happy-path").unwrap();
        let plain = Scenario::parse(text.as_bytes(), "happy-path").unwrap();
        let added = |seed| {
            let drawn = seed_scenario(&plain, seed, true).expect("valid").file;
            drawn.faults.len() - plain.file.faults.len()
        };
        let mut file = plain.file.clone();
        let node = file.services[0].name.clone();
        // Crash and restart one service every 2 ms from 20 s on, up to
        // exactly the limit.
        while file.faults.len() < Limits::default().max_faults {
            let at_ms = 20_000 + file.faults.len() as u64;
            let crash = file.faults.len() % 2 == 0;
            file.faults.push(FaultFile {
                at_ms,
                crash: crash.then(|| node.clone()),
                restart: (!crash).then(|| node.clone()),
                ..FaultFile::default()
            });
        }
        let padded = Scenario::from_file(file, "padded", Limits::default()).expect("at the limit");
        // The sweep validates its first seed up front: start at one that
        // draws no fault.
        let from = (0..500)
            .find(|s| added(*s) == 0)
            .expect("a seed without faults");
        let seeds = 40;
        let expected = (from..from + seeds).filter(|s| added(*s) > 0).count() as u64;
        assert!(
            0 < expected && expected < seeds,
            "both kinds of seed: {expected}"
        );
        let cfg = SweepConfig {
            from,
            seeds,
            swarm: true,
            jobs: 2,
            progress: false,
        };
        let summary = sweep(&padded, &cfg).expect("the first seed is valid");
        assert_eq!(summary.skipped, expected);
        assert_eq!(summary.seeds, seeds);
        let transactions = u64::from(padded.file.workload.transactions);
        for (p, t) in &summary.protocols {
            // Outcomes count transactions: those of the seeds that ran.
            let counted: u64 = t.outcomes.values().sum();
            assert_eq!(counted, (seeds - expected) * transactions, "{}", p.name());
        }
    }
}
