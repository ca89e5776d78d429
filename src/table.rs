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
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let col = |g: &dyn Fn(&RunReport) -> String| reports.iter().map(g).collect::<Vec<_>>();
    rows.push(("".into(), col(&|r| r.protocol.name().to_string())));
    rows.push(("outcome".into(), col(&outcomes)));
    rows.push((
        "latency p50/p99/max ms".into(),
        col(&|r| {
            let l = r.metrics.latency_ms;
            format!("{:.1}/{:.1}/{:.1}", l.p50, l.p99, l.max)
        }),
    ));
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
    rows.push(m("in doubt (blocked) ms", |r| {
        format!("{:.1}", r.metrics.in_doubt_ms)
    }));
    for svc in &f.services {
        let vals = reports
            .iter()
            .map(|r| {
                r.metrics
                    .per_service
                    .get(&svc.name)
                    .map_or("-".into(), |t| {
                        format!("{:.1} / {:.1}", t.lock_hold_ms, t.in_doubt_ms)
                    })
            })
            .collect();
        rows.push((format!("  {} lock / doubt ms", svc.name), vals));
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
