//! A Markdown handout of one lesson, for students to keep: what it shows,
//! each protocol's run as a Mermaid sequence diagram, the comparison and
//! the takeaway.

use crate::{export, table};
use std::fmt::Write;
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;

/// The handout of `scenario`, all three protocols run.
pub fn render(scenario: &Scenario) -> String {
    let f = &scenario.file;
    let runs: Vec<_> = Protocol::ALL
        .iter()
        .map(|p| run(&scenario.spec_for(*p)))
        .collect();
    let reports: Vec<_> = runs.iter().map(|r| r.report.clone()).collect();
    let mut out = format!("# {}\n\n", f.name);
    if !f.description.is_empty() {
        let _ = writeln!(out, "{}\n", f.description);
    }
    let _ = writeln!(
        out,
        "Replay it: `txlab tui {0}`; print its file: `txlab show {0}` (seed {1}).\n",
        f.name, f.seed
    );
    questions(&mut out, scenario, false);
    for (p, r) in Protocol::ALL.iter().zip(&runs) {
        let _ = writeln!(out, "## {}\n", title(*p));
        let _ = writeln!(out, "```mermaid\n{}```\n", export::mermaid(&r.world));
    }
    out += "## Side by side\n\n";
    for (i, (label, cells)) in table::rows(scenario, &reports).iter().enumerate() {
        let label = if i == 0 { "" } else { label.trim() };
        let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} | {} |", cell(label), cells.join(" | "));
        if i == 0 {
            let _ = writeln!(out, "|---|{}", "---|".repeat(cells.len()));
        }
    }
    if !f.takeaway.is_empty() {
        let _ = writeln!(out, "\n## Takeaway\n\n{}", f.takeaway);
    }
    questions(&mut out, scenario, true);
    out
}

/// The lesson's questions: first to predict (no answers), then answered.
fn questions(out: &mut String, scenario: &Scenario, answered: bool) {
    let qs = &scenario.file.question;
    if qs.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{}",
        if answered {
            "\n## Answers\n"
        } else {
            "## Predict first\n"
        }
    );
    for (i, q) in qs.iter().enumerate() {
        let who = q
            .protocol
            .map_or(String::new(), |p| format!(" ({})", p.name()));
        let _ = writeln!(out, "{}. {}{who}", i + 1, q.prompt);
        if answered {
            let _ = writeln!(out, "   **{}.** {}", q.choices[q.answer], q.explain);
        } else {
            for (k, c) in q.choices.iter().enumerate() {
                let letter = char::from(b'a' + (k % 26) as u8);
                let _ = writeln!(out, "   - ({letter}) {c}");
            }
        }
    }
    out.push('\n');
}

fn title(p: Protocol) -> &'static str {
    match p {
        Protocol::TwoPc => "Two-phase commit",
        Protocol::Orchestrated => "Orchestrated saga",
        Protocol::Choreographed => "Choreographed saga",
    }
}

/// A table cell: a `|` would end it early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}
