//! The side-by-side comparison, as a plain-text table.

use std::fmt::Write;
use txlab_sim::lab::RunReport;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Outcome;

/// Render the comparison of `reports` (one per protocol) for `scenario`.
pub fn render(scenario: &Scenario, reports: &[RunReport]) -> String {
    let mut out = String::new();
    let f = &scenario.file;
    let _ = writeln!(out, "{} (seed {})", f.name, f.seed);
    if !f.description.is_empty() {
        for line in wrap(&f.description, 78) {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(out);
    let rows = rows(scenario, reports);
    let w0 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..reports.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.1[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (label, cells) in &rows {
        let _ = write!(out, "{label:<w0$}");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(out, "  {c:<w$}");
        }
        let _ = writeln!(out);
    }
    for r in reports {
        for v in &r.violations {
            let tx = v.tx.map_or(String::new(), |t| format!(" T{t}"));
            let _ = writeln!(
                out,
                "  {} violated {}{tx} at trace #{}: {}",
                r.protocol.name(),
                v.invariant,
                v.trace_index,
                v.message
            );
        }
    }
    out
}

/// The comparison's rows: a label, then one cell per report (the first row
/// names the protocols).
pub fn rows(scenario: &Scenario, reports: &[RunReport]) -> Vec<(String, Vec<String>)> {
    let f = &scenario.file;
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();

    let col = |g: &dyn Fn(&RunReport) -> String| reports.iter().map(g).collect::<Vec<_>>();
    rows.push(("".into(), col(&|r| r.protocol.name().to_string())));
    rows.push(("outcome".into(), col(&outcomes)));
    rows.push(("latency p50/p99/max ms".into(), col(&latency)));
    let m = |name: &str, g: fn(&RunReport) -> String| {
        (name.to_string(), reports.iter().map(g).collect())
    };
    rows.push(m("messages sent", |r| r.metrics.messages_sent.to_string()));
    rows.push(m("  delivered/dropped/dup", |r| {
        let m = &r.metrics;
        format!(
            "{}/{}/{}",
            m.messages_delivered, m.messages_dropped, m.messages_duplicated
        )
    }));
    rows.push(m("forced log writes", |r| {
        r.metrics.forced_log_writes.to_string()
    }));
    rows.push(m("lock hold ms", |r| {
        format!("{:.1}", r.metrics.lock_hold_ms)
    }));
    rows.push(m("uncertain (in doubt) ms", |r| {
        format!("{:.1}", r.metrics.in_doubt_ms)
    }));
    rows.push(m("  of which blocked ms", |r| {
        format!("{:.1}", r.metrics.blocked_ms)
    }));
    for svc in &f.services {
        let vals = reports
            .iter()
            .map(|r| {
                r.metrics
                    .per_service
                    .get(&svc.name)
                    .map_or("-".into(), |t| {
                        format!(
                            "{:.1} / {:.1} / {:.1}",
                            t.lock_hold_ms, t.in_doubt_ms, t.blocked_ms
                        )
                    })
            })
            .collect();
        rows.push((format!("  {} lock/uncertain/blocked ms", svc.name), vals));
    }
    rows.push(m("retries", |r| r.metrics.retries.to_string()));
    rows.push(m("compensations", |r| r.metrics.compensations.to_string()));
    rows.push(m("dirty reads / decisions", |r| {
        format!("{} / {}", r.metrics.dirty_reads, r.metrics.dirty_decisions)
    }));
    rows.push(m("violations", |r| match r.violations.len() {
        0 => "none".into(),
        n => format!("{n} VIOLATED"),
    }));
    let mut keys: Vec<(String, String)> = Vec::new();
    for s in &f.services {
        for res in s.resources.keys() {
            keys.push((s.name.clone(), res.clone()));
        }
    }
    for (svc, res) in keys {
        let vals = reports
            .iter()
            .map(|r| {
                r.final_state
                    .get(&svc)
                    .and_then(|m| m.get(&res))
                    .map_or("-".into(), |v| v.to_string())
            })
            .collect();
        rows.push((format!("final {svc}.{res}"), vals));
    }
    rows.push(m("trace hash", |r| r.trace_hash.clone()));
    rows
}

/// Percentiles of the finished transactions; "—" when none finished (a
/// blocked protocol must not look fastest), and the unanswered ones counted
/// apart.
fn latency(r: &RunReport) -> String {
    let m = &r.metrics;
    let finished = r.transactions.iter().any(|t| t.latency_ms.is_some());
    let mut cell = if finished {
        let l = m.latency_ms;
        format!("{:.1}/{:.1}/{:.1}", l.p50, l.p99, l.max)
    } else {
        "—".to_string()
    };
    if m.unfinished > 0 {
        let _ = write!(cell, " ({} unfinished)", m.unfinished);
    }
    cell
}

fn outcomes(r: &RunReport) -> String {
    let parts: Vec<String> = Outcome::ALL
        .iter()
        .filter_map(|o| {
            let n = r.count(*o);
            (n > 0).then(|| format!("{} {n}", o.name()))
        })
        .collect();
    parts.join(", ")
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use txlab_sim::lab::{Metrics, TxReport};
    use txlab_sim::protocols::Protocol;

    fn scenario() -> Scenario {
        let text = r#"
name = "t"
seed = 1
[[services]]
name = "payment"
resources = { sam = 1000 }
[[steps]]
name = "charge card"
service = "payment"
resource = "sam"
amount = 100
action = "charge"
compensation = "refund"
"#;
        Scenario::parse(text.as_bytes(), "t.toml").unwrap()
    }

    fn report(latencies: &[Option<f64>]) -> RunReport {
        let mut metrics = Metrics {
            unfinished: latencies.iter().filter(|l| l.is_none()).count() as u64,
            in_doubt_ms: 12.0,
            blocked_ms: 3.0,
            ..Metrics::default()
        };
        let done: Vec<f64> = latencies.iter().flatten().copied().collect();
        metrics.latency_ms = txlab_sim::lab::Percentiles::of(&done);
        RunReport {
            protocol: Protocol::TwoPc,
            seed: 1,
            trace_hash: String::new(),
            outcomes: Default::default(),
            metrics,
            violations: Vec::new(),
            transactions: latencies
                .iter()
                .enumerate()
                .map(|(i, l)| TxReport {
                    tx: i as u32,
                    outcome: Outcome::Committed,
                    latency_ms: *l,
                    reported_to_client: l.map(|_| Outcome::Committed),
                    messages: None,
                })
                .collect(),
            final_state: Default::default(),
        }
    }

    fn row<'a>(table: &'a str, label: &str) -> &'a str {
        table
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no row {label} in\n{table}"))
    }

    #[test]
    fn an_unfinished_transaction_has_no_latency_and_is_counted_apart() {
        let t = render(&scenario(), &[report(&[None])]);
        let lat = row(&t, "latency");
        assert!(lat.contains('—') && lat.contains("(1 unfinished)"), "{lat}");
        assert!(!lat.contains("0.0"), "never a latency of 0: {lat}");
        let t = render(&scenario(), &[report(&[Some(20.0), None])]);
        let lat = row(&t, "latency");
        assert!(lat.contains("20.0/20.0/20.0 (1 unfinished)"), "{lat}");
        let t = render(&scenario(), &[report(&[Some(20.0)])]);
        assert!(!row(&t, "latency").contains("unfinished"));
    }

    #[test]
    fn uncertain_and_blocked_time_have_their_own_rows() {
        let t = render(&scenario(), &[report(&[Some(1.0)])]);
        assert!(row(&t, "uncertain (in doubt) ms").contains("12.0"), "{t}");
        assert!(row(&t, "  of which blocked ms").contains("3.0"), "{t}");
    }
}
