//! The isolation matrix, Hermitage-style: for each way of running a
//! workload — 2PC under strict two-phase locking, each saga bare, each saga
//! with each countermeasure — the anomalies by class, blocking, p99
//! latency and throughput, measured over a range of seeds. Deterministic
//! for a given workload and seed range; seeds can be split into chunks,
//! measured apart (in parallel) and merged in order.

use super::anomaly::{AnomalyClass, AnomalyClasses};
use super::report::{Percentiles, RunReport};
use super::run::{RunSpec, run};
use crate::protocols::countermeasure::{ByValue, pessimistic_view};
use crate::protocols::{Outcome, Protocol, Toggles};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::Arc;

/// The countermeasures, by toggle name.
pub const COUNTERMEASURES: [&str; 6] = [
    "semantic_lock",
    "commutative_updates",
    "pessimistic_view",
    "reread_value",
    "version_file",
    "by_value",
];

/// One row: a protocol and, for a saga, at most one countermeasure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The protocol.
    pub protocol: Protocol,
    /// The countermeasure switched on, if any.
    pub countermeasure: Option<String>,
}

impl Row {
    /// The row's label ("2pc (strict 2PL)", "orchestrated + semantic_lock").
    pub fn label(&self) -> String {
        match (&self.countermeasure, self.protocol) {
            (_, Protocol::TwoPc) => "2pc (strict 2PL)".into(),
            (None, p) => p.name().into(),
            (Some(c), p) => format!("{} + {c}", p.name()),
        }
    }

    /// `base` run this row's way: its protocol, every countermeasure off
    /// but this row's.
    pub fn spec(&self, base: &RunSpec) -> RunSpec {
        let mut spec = base.with_protocol(self.protocol);
        let threshold = by_value_threshold(&spec);
        let t = &mut spec.toggles;
        t.by_value = None;
        t.semantic_lock = false;
        t.commutative_updates = false;
        t.pessimistic_view = false;
        t.reread_value = false;
        t.version_file = false;
        if let Some(c) = &self.countermeasure {
            switch_on(t, c, threshold);
        }
        if spec.toggles.pessimistic_view {
            spec.workflow = Arc::new(pessimistic_view(&spec.workflow));
        }
        spec
    }
}

/// The by-value row's threshold: the scenario's own when it sets one,
/// else the workload's highest request value (only the largest orders are
/// risky; a workload without values has every request at 1, all risky, and
/// the row then equals the semantic lock's).
fn by_value_threshold(spec: &RunSpec) -> u32 {
    spec.toggles.by_value.map_or_else(
        || spec.workflow.values.iter().copied().max().unwrap_or(1),
        |b| b.threshold,
    )
}

/// Turn the countermeasure `name` on (one of [`COUNTERMEASURES`]).
fn switch_on(t: &mut Toggles, name: &str, threshold: u32) {
    match name {
        "by_value" => t.by_value = Some(ByValue { threshold }),
        "semantic_lock" => t.semantic_lock = true,
        "commutative_updates" => t.commutative_updates = true,
        "pessimistic_view" => t.pessimistic_view = true,
        "reread_value" => t.reread_value = true,
        "version_file" => t.version_file = true,
        _ => {}
    }
}

/// Every row, in display order.
pub fn rows() -> Vec<Row> {
    let mut out: Vec<Row> = Protocol::ALL
        .iter()
        .map(|p| Row {
            protocol: *p,
            countermeasure: None,
        })
        .collect();
    for c in COUNTERMEASURES {
        for p in [Protocol::Orchestrated, Protocol::Choreographed] {
            out.push(Row {
                protocol: p,
                countermeasure: Some(c.to_string()),
            });
        }
    }
    out
}

/// One cell: a row measured over some seeds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Runs measured.
    pub runs: u64,
    /// Anomaly instances by class, summed over the runs.
    pub anomalies: AnomalyClasses,
    /// Time participants were blocked (coordinator unreachable), summed,
    /// in µs (integers, so chunks merge exactly in any order).
    pub blocked_us: u64,
    /// Time locks (2PC) were held, summed, in µs.
    pub lock_hold_us: u64,
    /// Transactions that committed or completed.
    pub succeeded: u64,
    /// Transactions the client got no answer for.
    pub unfinished: u64,
    /// Retries and retransmissions (busy replies of the semantic lock
    /// included), summed.
    pub retries: u64,
    /// Messages sent, summed.
    pub messages: u64,
    /// Simulated time from the first arrival to the last answer, summed
    /// over the runs, in µs (throughput's denominator).
    pub busy_us: u64,
    /// Every answered transaction's latency, in ms (for percentiles).
    #[serde(skip)]
    pub latencies: Vec<f64>,
}

impl Cell {
    fn add(&mut self, spec: &RunSpec, r: &RunReport) {
        let m = &r.metrics;
        self.runs += 1;
        for class in AnomalyClass::ALL {
            *self.anomalies.get_mut(class) += m.anomaly_classes.get(class);
        }
        self.blocked_us += us(m.blocked_ms);
        self.lock_hold_us += us(m.lock_hold_ms);
        self.succeeded += u64::from(r.count(Outcome::Committed) + r.count(Outcome::Completed));
        self.unfinished += m.unfinished;
        self.retries += m.retries;
        self.messages += m.messages_sent;
        let wf = &spec.workflow;
        let first = wf.arrival.start.as_millis_f64();
        let last = r
            .transactions
            .iter()
            .filter_map(|t| {
                let at = wf.arrival_of(crate::protocols::workload::TxId(t.tx));
                t.latency_ms.map(|l| at.as_millis_f64() + l)
            })
            .fold(first, f64::max);
        self.busy_us += us(last - first);
        self.latencies
            .extend(r.transactions.iter().filter_map(|t| t.latency_ms));
    }

    /// Merge a later chunk of seeds into this one.
    pub fn merge(&mut self, other: &Cell) {
        self.runs += other.runs;
        for class in AnomalyClass::ALL {
            *self.anomalies.get_mut(class) += other.anomalies.get(class);
        }
        self.blocked_us += other.blocked_us;
        self.lock_hold_us += other.lock_hold_us;
        self.succeeded += other.succeeded;
        self.unfinished += other.unfinished;
        self.retries += other.retries;
        self.messages += other.messages;
        self.busy_us += other.busy_us;
        self.latencies.extend(&other.latencies);
    }

    /// p50, p99 and max latency over every run.
    pub fn latency_ms(&self) -> Percentiles {
        Percentiles::of(&self.latencies)
    }

    /// Committed or completed transactions per simulated second.
    pub fn throughput_per_s(&self) -> f64 {
        if self.busy_us > 0 {
            self.succeeded as f64 * 1e6 / self.busy_us as f64
        } else {
            0.0
        }
    }
}

/// Milliseconds (whole µs in simulated time) as integer µs.
fn us(ms: f64) -> u64 {
    (ms * 1_000.0).round().max(0.0) as u64
}

/// The matrix: one cell per row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// The rows, in display order, each with its cell.
    pub rows: Vec<(Row, Cell)>,
}

impl Matrix {
    /// Merge a later chunk of seeds (same rows, same order).
    pub fn merge(&mut self, other: &Matrix) {
        if self.rows.is_empty() {
            *self = other.clone();
            return;
        }
        for ((_, a), (_, b)) in self.rows.iter_mut().zip(&other.rows) {
            a.merge(b);
        }
    }
}

/// Measure every row of `base` over `seeds`.
pub fn measure(base: &RunSpec, seeds: Range<u64>) -> Matrix {
    let rows = rows()
        .into_iter()
        .map(|row| {
            let mut spec = row.spec(base);
            spec.recording = false;
            let mut cell = Cell::default();
            for seed in seeds.clone() {
                spec.seed = seed;
                cell.add(&spec, &run(&spec).report);
            }
            (row, cell)
        })
        .collect();
    Matrix { rows }
}
