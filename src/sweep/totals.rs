//! One protocol's totals over a sweep: counts by outcome and invariant,
//! engine events, and the client latency histogram that quantiles (and
//! merged shards) are read from.

use std::collections::BTreeMap;
use txlab_sim::lab::Verdict;

/// Latency histogram: 0.1 ms buckets up to 10 s, then one overflow bucket.
const BUCKETS: usize = 100_001;

/// Latency histogram buckets per ms (bucket `b` starts at `b / 10` ms).
pub const BUCKETS_PER_MS: f64 = 10.0;

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
    pub(super) fn new() -> Self {
        ProtocolTotals {
            outcomes: BTreeMap::new(),
            violating_runs: 0,
            violations: BTreeMap::new(),
            events: 0,
            latency: vec![0; BUCKETS],
        }
    }

    /// Count one run.
    pub(super) fn add(&mut self, v: &Verdict) {
        self.events += v.events;
        for o in v.outcomes.values() {
            if let Some(n) = self.outcomes.get_mut(o.name()) {
                *n += 1;
            } else {
                self.outcomes.insert(o.name().to_string(), 1);
            }
        }
        // As the full report counts them: transactions with an outcome.
        let answered = v
            .latencies_ms
            .iter()
            .filter(|(tx, _)| v.outcomes.contains_key(tx));
        for (_, ms) in answered {
            let b = ((ms * 10.0) as usize).min(BUCKETS - 1);
            self.latency[b] += 1;
        }
        if !v.violations.is_empty() {
            self.violating_runs += 1;
            for x in &v.violations {
                *self.violations.entry(x.invariant.clone()).or_insert(0) += 1;
            }
        }
    }

    pub(super) fn merge(&mut self, other: &ProtocolTotals) {
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

    /// The latency histogram: transactions per bucket ([`BUCKETS_PER_MS`]).
    pub fn histogram(&self) -> &[u32] {
        &self.latency
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
                return i as f64 / BUCKETS_PER_MS;
            }
        }
        (BUCKETS - 1) as f64 / BUCKETS_PER_MS
    }
}
