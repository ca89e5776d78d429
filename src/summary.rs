//! A sweep's summary as JSON, and merging the summaries of shards run
//! elsewhere (other machines, a Kubernetes Indexed Job, a CI matrix).
//!
//! A summary carries everything a merge needs: which scenario (name and a
//! hash of the file as swept, so a changed file is not merged with an old
//! one), which txlab version (another build may run differently), the seed
//! ranges, per protocol the outcome counts, violation counts, events and the
//! whole latency histogram, and the violating seeds with their invariants.
//! Merging sums counts and histograms and unions the seeds; the result has
//! the same schema, so merges nest.

use crate::sweep::{BUCKETS_PER_MS, MAX_REPROS, ProtocolTotals, SweepSummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use txlab_sim::lab::scenario::Scenario;

/// The schema tag every summary carries.
pub const SCHEMA: &str = "txlab-sweep-summary/1";

/// The version of txlab that produced a summary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A sweep (or several merged) as written by `txlab sweep --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryJson {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The txlab version that ran the seeds.
    pub txlab_version: String,
    /// The scenario swept.
    pub scenario: ScenarioId,
    /// Swarm mode (network and faults drawn per seed).
    pub swarm: bool,
    /// The seed ranges covered, `[from, to)`, sorted and coalesced.
    pub seed_ranges: Vec<[u64; 2]>,
    /// How many seeds in all.
    pub seeds: u64,
    /// Seeds with a violation in any protocol (all of them, even past the
    /// listing cap).
    pub violating_seed_count: u64,
    /// Swarm draws that did not make a valid scenario, so were not run
    /// (counted among `seeds`, absent from every other count).
    #[serde(default)]
    pub skipped_draws: u64,
    /// Wall-clock seconds spent (summed over merged shards; informative
    /// only, never compared).
    pub wall_seconds: f64,
    /// Per protocol, by name (`2pc`, `orchestrated`, `choreographed`).
    pub protocols: BTreeMap<String, ProtocolJson>,
    /// The lowest violating seeds (at most [`MAX_REPROS`]), each with the
    /// invariants it broke as `protocol: invariant`.
    pub violating_seeds: Vec<ViolatingSeed>,
}

/// Which scenario a summary is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioId {
    /// Its name.
    pub name: String,
    /// A stable hash of the file as swept (seed set to zero, overrides
    /// such as `--write-latency-ms` applied), in hex.
    pub file_hash: String,
}

/// One protocol's totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolJson {
    /// Transactions by outcome.
    pub outcomes: BTreeMap<String, u64>,
    /// Runs with at least one violation.
    pub violating_runs: u64,
    /// Violations by invariant.
    pub violations: BTreeMap<String, u64>,
    /// Engine events.
    pub events: u64,
    /// Client latency: p50, p99 and max in ms, read from the histogram.
    pub latency_ms: LatencyJson,
    /// The latency histogram: `[bucket, count]` for every non-empty
    /// bucket; bucket `b` holds latencies in `[b, b + 1) / buckets_per_ms`
    /// ms (the last bucket also holds everything slower).
    pub latency_histogram: Vec<[u64; 2]>,
    /// Histogram buckets per ms.
    pub buckets_per_ms: f64,
}

/// Latency quantiles in ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyJson {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// A violating seed and what it broke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViolatingSeed {
    /// The seed.
    pub seed: u64,
    /// `protocol: invariant`, sorted.
    pub invariants: Vec<String>,
}

/// Why summaries cannot be merged (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("nothing to merge: give at least one summary file")]
    Empty,
    /// A file is not a summary.
    #[error("{file}: not a txlab sweep summary: {message}")]
    NotASummary {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// Two summaries disagree on what they are about.
    #[error("{file}: {what}; {advice}")]
    Mismatch {
        /// The file that differs.
        file: String,
        /// What differs from the first file, in words.
        what: String,
        /// What to do about it.
        advice: &'static str,
    },
    /// The same summary twice (its seeds would be counted twice).
    #[error("{file}: {how}; give each shard's summary once")]
    Repeated {
        /// The file given again.
        file: String,
        /// Given twice, or the same as which earlier file.
        how: String,
    },
    /// Two summaries share seeds (they would be counted twice).
    #[error(
        "{file}: seeds {from}..{to} are also in {other}; shards must cover separate seed ranges (shard i of N-seed shards: --from i*N --seeds N)"
    )]
    Overlap {
        /// The file.
        file: String,
        /// The earlier file holding the same seeds.
        other: String,
        /// First shared seed.
        from: u64,
        /// One past the last shared seed.
        to: u64,
    },
}

/// The identity of `scenario` as swept.
pub fn scenario_id(scenario: &Scenario) -> ScenarioId {
    let mut file = scenario.file.clone();
    file.seed = 0;
    let text = toml::to_string(&file).unwrap_or_default();
    ScenarioId {
        name: scenario.name().to_string(),
        file_hash: format!("{:016x}", txlab_sim::engine::stable_hash(&text)),
    }
}

impl SummaryJson {
    /// The summary of one sweep of `scenario` over `from..from + summary.seeds`.
    pub fn new(scenario: &Scenario, swarm: bool, from: u64, summary: &SweepSummary) -> Self {
        let protocols = summary
            .protocols
            .iter()
            .map(|(p, t)| (p.name().to_string(), protocol_json(t)))
            .collect();
        let violating_seeds = summary
            .failing
            .iter()
            .map(|(seed, _)| ViolatingSeed {
                seed: *seed,
                invariants: summary.why.get(seed).cloned().unwrap_or_default(),
            })
            .collect();
        SummaryJson {
            schema: SCHEMA.into(),
            txlab_version: VERSION.into(),
            scenario: scenario_id(scenario),
            swarm,
            seed_ranges: vec![[from, from.saturating_add(summary.seeds)]],
            seeds: summary.seeds,
            violating_seed_count: summary.failing_total,
            skipped_draws: summary.skipped,
            wall_seconds: summary.elapsed.as_secs_f64(),
            protocols,
            violating_seeds,
        }
    }

    /// Parse a summary read from `file`.
    pub fn parse(text: &str, file: &str) -> Result<Self, MergeError> {
        let s: SummaryJson = serde_json::from_str(text).map_err(|e| MergeError::NotASummary {
            file: file.into(),
            message: e.to_string(),
        })?;
        if s.schema != SCHEMA {
            return Err(MergeError::NotASummary {
                file: file.into(),
                message: format!("schema is {:?}, expected {SCHEMA:?}", s.schema),
            });
        }
        Ok(s)
    }
}

fn protocol_json(t: &ProtocolTotals) -> ProtocolJson {
    let latency_histogram = t
        .histogram()
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(b, c)| [b as u64, u64::from(*c)])
        .collect();
    ProtocolJson {
        outcomes: t.outcomes.clone(),
        violating_runs: t.violating_runs,
        violations: t.violations.clone(),
        events: t.events,
        latency_ms: LatencyJson {
            p50: t.latency_quantile(0.5),
            p99: t.latency_quantile(0.99),
            max: t.latency_quantile(1.0),
        },
        latency_histogram,
        buckets_per_ms: BUCKETS_PER_MS,
    }
}

/// Merge summaries given as `(file name, summary)`, in any order.
pub fn merge(parts: &[(String, SummaryJson)]) -> Result<SummaryJson, MergeError> {
    let Some((first_name, first)) = parts.first() else {
        return Err(MergeError::Empty);
    };
    let mut out = first.clone();
    for (i, (name, s)) in parts.iter().enumerate().skip(1) {
        if let Some(e) = mismatch(first_name, first, name, s) {
            return Err(e);
        }
        let earlier = &parts[..i];
        if let Some((other, _)) = earlier.iter().find(|(n, e)| n == name || e == s) {
            return Err(MergeError::Repeated {
                file: name.clone(),
                how: match other == name {
                    true => "given twice".into(),
                    false => format!("the same summary as {other}"),
                },
            });
        }
        for (other, e) in earlier {
            for r in &s.seed_ranges {
                if let Some(o) = e.seed_ranges.iter().find(|o| r[0] < o[1] && o[0] < r[1]) {
                    return Err(MergeError::Overlap {
                        file: name.clone(),
                        other: other.clone(),
                        from: r[0].max(o[0]),
                        to: r[1].min(o[1]),
                    });
                }
            }
        }
        add(&mut out, s);
    }
    Ok(out)
}

/// What makes `s` (from `file`) a sweep of something else than `first`
/// (from `first_name`), in words with what to do.
fn mismatch(
    first_name: &str,
    first: &SummaryJson,
    file: &str,
    s: &SummaryJson,
) -> Option<MergeError> {
    let (what, advice) = if s.txlab_version != first.txlab_version {
        (
            format!(
                "the txlab version is {}, but {first_name} has {}",
                s.txlab_version, first.txlab_version
            ),
            "another build may run the same seed differently: re-run every shard with one txlab version",
        )
    } else if s.scenario.name != first.scenario.name {
        (
            format!(
                "the scenario is {}, but {first_name} has {}",
                s.scenario.name, first.scenario.name
            ),
            "merge only the shards of one sweep",
        )
    } else if s.scenario.file_hash != first.scenario.file_hash {
        (
            format!(
                "the scenario {} was swept with other settings than in {first_name} (file hash {}, not {})",
                s.scenario.name, s.scenario.file_hash, first.scenario.file_hash
            ),
            "its file, --set or --write-latency-ms differ: re-run every shard with the same file and options",
        )
    } else if s.swarm != first.swarm {
        let with = |on: bool| {
            if on {
                "with --swarm"
            } else {
                "without --swarm"
            }
        };
        (
            format!(
                "swept {}, but {first_name} was swept {}",
                with(s.swarm),
                with(first.swarm)
            ),
            "re-run every shard with the same options, --swarm included",
        )
    } else {
        return None;
    };
    Some(MergeError::Mismatch {
        file: file.into(),
        what,
        advice,
    })
}

/// Add `s` into `out` (their seeds checked apart).
fn add(out: &mut SummaryJson, s: &SummaryJson) {
    out.seed_ranges.extend(s.seed_ranges.iter().copied());
    out.seed_ranges = coalesce(std::mem::take(&mut out.seed_ranges));
    out.seeds += s.seeds;
    out.violating_seed_count += s.violating_seed_count;
    out.skipped_draws += s.skipped_draws;
    out.wall_seconds += s.wall_seconds;
    for (name, p) in &s.protocols {
        match out.protocols.get_mut(name) {
            Some(o) => add_protocol(o, p),
            None => {
                out.protocols.insert(name.clone(), p.clone());
            }
        }
    }
    out.violating_seeds
        .extend(s.violating_seeds.iter().cloned());
    out.violating_seeds.sort_by_key(|v| v.seed);
    out.violating_seeds.truncate(MAX_REPROS);
}

fn add_protocol(o: &mut ProtocolJson, p: &ProtocolJson) {
    for (k, v) in &p.outcomes {
        *o.outcomes.entry(k.clone()).or_insert(0) += v;
    }
    for (k, v) in &p.violations {
        *o.violations.entry(k.clone()).or_insert(0) += v;
    }
    o.violating_runs += p.violating_runs;
    o.events += p.events;
    let mut hist: BTreeMap<u64, u64> = o.latency_histogram.iter().map(|[b, c]| (*b, *c)).collect();
    for [b, c] in &p.latency_histogram {
        *hist.entry(*b).or_insert(0) += c;
    }
    o.latency_histogram = hist.into_iter().map(|(b, c)| [b, c]).collect();
    o.latency_ms = quantiles(&o.latency_histogram, o.buckets_per_ms);
}

/// p50, p99 and max from a sparse histogram (the same rule as the sweep's:
/// the bucket where the rank `ceil(q × total)` falls).
fn quantiles(hist: &[[u64; 2]], buckets_per_ms: f64) -> LatencyJson {
    let total: u64 = hist.iter().map(|[_, c]| c).sum();
    let at = |q: f64| {
        if total == 0 {
            return 0.0;
        }
        let rank = ((q * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for [b, c] in hist {
            seen += c;
            if seen >= rank {
                return *b as f64 / buckets_per_ms;
            }
        }
        0.0
    };
    LatencyJson {
        p50: at(0.5),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// Sort ranges and join those that touch.
fn coalesce(mut ranges: Vec<[u64; 2]>) -> Vec<[u64; 2]> {
    ranges.sort();
    let mut out: Vec<[u64; 2]> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if last[1] >= r[0] => last[1] = last[1].max(r[1]),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_coalesce_when_they_touch() {
        assert_eq!(
            coalesce(vec![[10, 20], [0, 10], [30, 40]]),
            vec![[0, 20], [30, 40]]
        );
    }

    /// A summary of `name` (file hash `hash`) over seeds `from..to`.
    fn shard(name: &str, hash: &str, swarm: bool, from: u64, to: u64) -> SummaryJson {
        SummaryJson {
            schema: SCHEMA.into(),
            txlab_version: VERSION.into(),
            scenario: ScenarioId {
                name: name.into(),
                file_hash: hash.into(),
            },
            swarm,
            seed_ranges: vec![[from, to]],
            seeds: to - from,
            violating_seed_count: 0,
            skipped_draws: 0,
            wall_seconds: 0.1,
            protocols: BTreeMap::new(),
            violating_seeds: Vec::new(),
        }
    }

    fn merge_error(parts: &[(&str, SummaryJson)]) -> String {
        let parts: Vec<(String, SummaryJson)> = parts
            .iter()
            .map(|(n, s)| (n.to_string(), s.clone()))
            .collect();
        merge(&parts).expect_err("must be refused").to_string()
    }

    /// Negative control for the refusals below: shards of one sweep merge.
    #[test]
    fn shards_of_one_sweep_merge() {
        let parts = [
            ("a.json".to_string(), shard("pay", "01", true, 0, 10)),
            ("b.json".to_string(), shard("pay", "01", true, 10, 20)),
        ];
        assert_eq!(merge(&parts).unwrap().seed_ranges, vec![[0, 20]]);
    }

    #[test]
    fn swarm_mismatch_says_which_file_used_swarm_and_what_to_do() {
        let e = merge_error(&[
            ("shard-0.json", shard("pay", "01", false, 0, 10)),
            ("shard-1.json", shard("pay", "01", true, 10, 20)),
        ]);
        assert_eq!(
            e,
            "shard-1.json: swept with --swarm, but shard-0.json was swept without --swarm; \
             re-run every shard with the same options, --swarm included"
        );
    }

    #[test]
    fn same_name_other_settings_says_the_settings_differ() {
        let e = merge_error(&[
            ("a.json", shard("pay", "01", true, 0, 10)),
            ("b.json", shard("pay", "02", true, 10, 20)),
        ]);
        assert!(
            e.starts_with("b.json: the scenario pay was swept with other settings than in a.json"),
            "{e}"
        );
        assert!(e.contains("--set or --write-latency-ms differ"), "{e}");
    }

    #[test]
    fn other_scenario_says_merge_one_sweep() {
        let e = merge_error(&[
            ("a.json", shard("pay", "01", true, 0, 10)),
            ("b.json", shard("book", "01", true, 10, 20)),
        ]);
        assert_eq!(
            e,
            "b.json: the scenario is book, but a.json has pay; merge only the shards of one sweep"
        );
    }

    #[test]
    fn a_file_given_twice_is_named_as_such() {
        let a = shard("pay", "01", true, 0, 10);
        let e = merge_error(&[("a.json", a.clone()), ("a.json", a.clone())]);
        assert_eq!(e, "a.json: given twice; give each shard's summary once");
        let e = merge_error(&[("a.json", a.clone()), ("copy.json", a)]);
        assert_eq!(
            e,
            "copy.json: the same summary as a.json; give each shard's summary once"
        );
    }

    #[test]
    fn overlapping_shards_name_the_other_file_and_the_seeds() {
        let e = merge_error(&[
            ("a.json", shard("pay", "01", true, 0, 10)),
            ("b.json", shard("pay", "01", true, 10, 20)),
            ("c.json", shard("pay", "01", true, 15, 25)),
        ]);
        assert!(
            e.starts_with("c.json: seeds 15..20 are also in b.json; shards must cover separate"),
            "{e}"
        );
    }

    #[test]
    fn quantiles_follow_the_sweeps_rule() {
        // 4 samples in bucket 10 (1.0 ms) and 1 in bucket 50 (5.0 ms):
        // p50 is rank 3 (1.0 ms), p99 rank 5 (5.0 ms).
        let q = quantiles(&[[10, 4], [50, 1]], 10.0);
        assert_eq!((q.p50, q.p99, q.max), (1.0, 5.0, 5.0));
    }
}
