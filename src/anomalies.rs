//! `txlab anomalies`: the isolation matrix over a range of seeds, measured
//! in parallel chunks (merged in seed order, so the result does not depend
//! on the number of jobs), printed as a table or JSON.

use serde_json::json;
use txlab_sim::lab::RunSpec;
use txlab_sim::lab::anomaly::AnomalyClass;
use txlab_sim::lab::matrix::{Matrix, measure};

/// Measure the matrix of `base` over `count` seeds from `from`, on `jobs`
/// threads.
pub fn matrix(base: &RunSpec, from: u64, count: u64, jobs: usize) -> Matrix {
    let jobs = (jobs.max(1) as u64).min(count.max(1));
    let chunk = count.div_ceil(jobs);
    let parts: Vec<Matrix> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..jobs)
            .map(|j| {
                let start = from + j * chunk;
                let end = (start + chunk).min(from + count);
                s.spawn(move || measure(base, start..end.max(start)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a matrix worker panicked"))
            .collect()
    });
    let mut out = Matrix::default();
    for p in &parts {
        out.merge(p);
    }
    out
}

/// The matrix as a text table: anomalies per run by class, then the price.
pub fn render(name: &str, from: u64, count: u64, m: &Matrix) -> String {
    let mut out = format!(
        "isolation matrix: {name}, seeds {from}..{} (anomaly instances per run)\n\n",
        from + count
    );
    out += &format!(
        "{:<36} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>9} {:>8}\n",
        "",
        "lost upd",
        "dirty rd",
        "fuzzy rd",
        "overdraw",
        "blocked",
        "lock hold",
        "p99 ms",
        "tx/s",
        "retries"
    );
    for (row, c) in &m.rows {
        let per = |v: f64| v / c.runs.max(1) as f64;
        let class = |k| per(c.anomalies.get(k) as f64);
        out += &format!(
            "{:<36} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7.1}ms {:>7.1}ms {:>8.1} {:>9.1} {:>8.2}\n",
            row.label(),
            class(AnomalyClass::LostUpdate),
            class(AnomalyClass::DirtyRead),
            class(AnomalyClass::FuzzyRead),
            class(AnomalyClass::Overdraw),
            per(c.blocked_us as f64 / 1e3),
            per(c.lock_hold_us as f64 / 1e3),
            c.latency_ms().p99,
            c.throughput_per_s(),
            per(c.retries as f64),
        );
    }
    out += "\nblocked: participants waiting on an unreachable coordinator (none without faults); \
lock hold: 2PC's price under contention;\ntx/s: committed or completed transactions per simulated \
second from the first arrival to the last answer.\n";
    out
}

/// The matrix as JSON: totals per row over every seed.
pub fn to_json(name: &str, from: u64, count: u64, m: &Matrix) -> serde_json::Value {
    let rows: Vec<_> = m
        .rows
        .iter()
        .map(|(row, c)| {
            json!({
                "row": row.label(),
                "protocol": row.protocol.name(),
                "countermeasure": row.countermeasure,
                "runs": c.runs,
                "anomaly_classes": c.anomalies,
                "anomalies": c.anomalies.total(),
                "blocked_ms": c.blocked_us as f64 / 1e3,
                "lock_hold_ms": c.lock_hold_us as f64 / 1e3,
                "latency_ms": c.latency_ms(),
                "throughput_per_s": c.throughput_per_s(),
                "succeeded": c.succeeded,
                "unfinished": c.unfinished,
                "retries": c.retries,
                "messages_sent": c.messages,
            })
        })
        .collect();
    json!({ "scenario": name, "seeds": { "from": from, "count": count }, "rows": rows })
}
