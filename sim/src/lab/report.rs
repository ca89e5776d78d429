//! The run report: what a run did, in a serde-serializable shape whose field
//! names are a stable interface (the CLI's JSON output).

use crate::protocols::{Outcome, Protocol};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A broken invariant, pointing at the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The invariant's name (e.g. `atomicity`).
    pub invariant: String,
    /// The transaction involved, if one is.
    pub tx: Option<u32>,
    /// The trace position where it shows.
    pub trace_index: u64,
    /// What went wrong, in words.
    pub message: String,
}

/// p50, p99 and max of a sample, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Metrics {
    /// The names [`Metrics::get`] knows, for scenario expectations.
    pub const NAMES: [&'static str; 25] = [
        "messages_sent",
        "messages_delivered",
        "messages_dropped",
        "messages_duplicated",
        "forced_log_writes",
        "latency_ms_p50",
        "latency_ms_p99",
        "latency_ms_max",
        "unfinished",
        "lock_hold_ms",
        "in_doubt_ms",
        "blocked_ms",
        "retries",
        "compensations",
        "anomalies",
        "dirty_reads",
        "dirty_decisions",
        "reads",
        "null_compensations",
        "refused_late",
        "events",
        "lost_update",
        "dirty_read",
        "fuzzy_read",
        "overdraw",
    ];

    /// A metric by name, as a number.
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "messages_sent" => self.messages_sent as f64,
            "messages_delivered" => self.messages_delivered as f64,
            "messages_dropped" => self.messages_dropped as f64,
            "messages_duplicated" => self.messages_duplicated as f64,
            "forced_log_writes" => self.forced_log_writes as f64,
            "latency_ms_p50" => self.latency_ms.p50,
            "latency_ms_p99" => self.latency_ms.p99,
            "latency_ms_max" => self.latency_ms.max,
            "unfinished" => self.unfinished as f64,
            "lock_hold_ms" => self.lock_hold_ms,
            "in_doubt_ms" => self.in_doubt_ms,
            "blocked_ms" => self.blocked_ms,
            "retries" => self.retries as f64,
            "compensations" => self.compensations as f64,
            "anomalies" => self.anomalies as f64,
            "dirty_reads" => self.dirty_reads as f64,
            "dirty_decisions" => self.dirty_decisions as f64,
            "reads" => self.reads as f64,
            "null_compensations" => self.null_compensations as f64,
            "refused_late" => self.refused_late as f64,
            "events" => self.events as f64,
            "lost_update" => self.anomaly_classes.lost_update as f64,
            "dirty_read" => self.anomaly_classes.dirty_read as f64,
            "fuzzy_read" => self.anomaly_classes.fuzzy_read as f64,
            "overdraw" => self.anomaly_classes.overdraw as f64,
            _ => return None,
        })
    }
}

impl Percentiles {
    /// Nearest-rank percentiles of `values` (zeros when empty).
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Percentiles::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Percentiles {
            p50: rank(0.5),
            p99: rank(0.99),
            max: v[v.len() - 1],
        }
    }
}

/// Per-run measurements.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Messages handed to the network.
    pub messages_sent: u64,
    /// Messages that reached a handler (copies included).
    pub messages_delivered: u64,
    /// Messages lost, cut by a partition or sent to a crashed node.
    pub messages_dropped: u64,
    /// Copies made by the network.
    pub messages_duplicated: u64,
    /// Forced (synchronous) log writes.
    pub forced_log_writes: u64,
    /// End-to-end latency of finished transactions (zeros when none
    /// finished: read it with `unfinished`).
    pub latency_ms: Percentiles,
    /// Transactions whose client got no answer, so with no latency.
    #[serde(default)]
    pub unfinished: u64,
    /// Total time locks were held, over all participants and transactions.
    pub lock_hold_ms: f64,
    /// 2PC's uncertainty window: time YES voters spent prepared without
    /// knowing the decision, every period (restarts included), summed.
    /// Normal on every run.
    pub in_doubt_ms: f64,
    /// The part of `in_doubt_ms` during which the coordinator was down or
    /// cut off from the participant: blocking.
    #[serde(default)]
    pub blocked_ms: f64,
    /// Retransmissions and retries.
    pub retries: u64,
    /// Compensations applied.
    pub compensations: u64,
    /// Isolation anomalies: the sum of `anomaly_classes`, detected the same
    /// way for every protocol from what the services did.
    pub anomalies: u64,
    /// Anomaly instances by class.
    #[serde(default)]
    pub anomaly_classes: crate::lab::anomaly::AnomalyClasses,
    /// Each anomaly instance: class, transactions, resource, trace index.
    #[serde(default)]
    pub anomaly_details: Vec<crate::lab::anomaly::Anomaly>,
    /// Auditor reads that included a change later undone (a saga
    /// compensated, a 2PC transaction aborted).
    pub dirty_reads: u64,
    /// Actions a service decided on state that included another
    /// transaction's change later undone (accepting, or refusing as sold
    /// out).
    pub dirty_decisions: u64,
    /// Auditor reads made (the sample `dirty_reads` comes from).
    #[serde(default)]
    pub reads: u64,
    /// Compensations that arrived before their action (nothing to undo).
    pub null_compensations: u64,
    /// Late actions refused because their compensation came first.
    pub refused_late: u64,
    /// Engine steps (events) the run took.
    pub events: u64,
    /// Virtual time when the run stopped.
    pub duration_ms: f64,
    /// Lock-hold, uncertain and blocked time per participating service
    /// (2PC).
    #[serde(default)]
    pub per_service: BTreeMap<String, ServiceTimes>,
}

/// One service's share of the lock-hold, uncertain and blocked time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceTimes {
    /// Time it held locks, over all transactions.
    pub lock_hold_ms: f64,
    /// Time it was prepared without knowing the outcome (its uncertainty
    /// window, every period).
    pub in_doubt_ms: f64,
    /// The part of it with the coordinator down or unreachable from it.
    #[serde(default)]
    pub blocked_ms: f64,
}

/// One transaction's fate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxReport {
    /// The transaction.
    pub tx: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// End-to-end latency as the client saw it (first request to first
    /// answer), when it got an answer.
    pub latency_ms: Option<f64>,
    /// What the client was told, or `None` when it never got an answer.
    pub reported_to_client: Option<Outcome>,
    /// Messages sent on its behalf (known when the trace was recorded;
    /// acknowledgements that name no transaction are not counted).
    pub messages: Option<u64>,
}

/// Everything a run produced except the trace itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Which protocol.
    pub protocol: Protocol,
    /// The seed.
    pub seed: u64,
    /// The stable hash of the whole trace.
    pub trace_hash: String,
    /// Counts by outcome name (every outcome present, zeros included).
    pub outcomes: BTreeMap<String, u32>,
    /// Measurements.
    pub metrics: Metrics,
    /// Broken invariants.
    pub violations: Vec<Violation>,
    /// Per transaction.
    pub transactions: Vec<TxReport>,
    /// Final resource amounts per service (service name → resource → amount).
    pub final_state: BTreeMap<String, BTreeMap<String, i64>>,
}

impl RunReport {
    /// How many transactions ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> u32 {
        self.outcomes.get(outcome.name()).copied().unwrap_or(0)
    }

    /// Violations of the invariant named `name`.
    pub fn violations_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Violation> {
        self.violations.iter().filter(move |v| v.invariant == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&v);
        assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(&[]).max, 0.0);
    }
}
