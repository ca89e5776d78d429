//! The `sweep` and `merge` commands: run seeds, print or write the
//! summary, write a repro per violating seed and shrink the first.

use crate::cli::{BadInput, Format, print, write_atomically};
use crate::{shrink, summary, sweep};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use txlab_sim::lab::scenario::{Limits, Scenario};

/// The `sweep` command's options.
pub(crate) struct SweepArgs<'a> {
    pub(crate) seeds: u64,
    pub(crate) from: u64,
    pub(crate) swarm: bool,
    pub(crate) write_latency_ms: Option<u64>,
    pub(crate) jobs: Option<usize>,
    pub(crate) out: &'a Path,
    pub(crate) shrink: bool,
    pub(crate) format: Format,
}

pub(crate) fn sweep_cmd(mut scenario: Scenario, a: SweepArgs<'_>) -> Result<ExitCode, BadInput> {
    let SweepArgs {
        seeds,
        from,
        swarm,
        write_latency_ms,
        jobs,
        out,
        shrink,
        format,
    } = a;
    if let Some(ms) = write_latency_ms {
        let mut file = scenario.file.clone();
        file.network.write_latency_ms = ms;
        scenario = Scenario::from_file(file, &scenario.origin, Limits::default())?;
    }
    if seeds == 0 {
        return Err(BadInput("--seeds must be at least 1".into()));
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let cfg = sweep::SweepConfig {
        from,
        seeds,
        swarm,
        jobs,
        progress: std::io::stderr().is_terminal(),
    };
    let summary = sweep::sweep(&scenario, &cfg)?;
    if let Format::Json = format {
        write_repros(&scenario, &summary, out)?;
        let json = summary::SummaryJson::new(&scenario, swarm, from, &summary);
        print(&(serde_json::to_string_pretty(&json)? + "\n"));
        return Ok(exit_for(json.violating_seed_count));
    }
    let mut text = format!(
        "sweep {}: seeds {}..{}{}{}, {} jobs, {:.3} s, {:.0} seeds/s, {:.2} M events/s\n\n",
        scenario.name(),
        from,
        from.saturating_add(seeds),
        if swarm { " (swarm)" } else { "" },
        write_latency_ms.map_or(String::new(), |ms| format!(", write latency {ms} ms")),
        jobs,
        summary.elapsed.as_secs_f64(),
        seeds as f64 / summary.elapsed.as_secs_f64().max(1e-9),
        summary.events_per_second() / 1e6,
    );
    if summary.skipped > 0 {
        text += &format!(
            "note: {} swarm draws did not make a valid scenario and were not run\n\n",
            summary.skipped
        );
    }
    for (p, t) in &summary.protocols {
        let outcomes: Vec<String> = t.outcomes.iter().map(|(o, n)| format!("{o} {n}")).collect();
        text += &format!(
            "{:>13}: {}; latency p50 {:.1} p99 {:.1} max {:.1} ms; runs with violations {}\n",
            p.name(),
            outcomes.join(", "),
            t.latency_quantile(0.5),
            t.latency_quantile(0.99),
            t.latency_quantile(1.0),
            t.violating_runs,
        );
        for (inv, n) in &t.violations {
            text += &format!("{:>15}{inv}: {n}\n", "");
        }
    }
    if !summary.failing.is_empty() {
        write_repros(&scenario, &summary, out)?;
        if shrink {
            text += &shrink_first(&scenario, &summary.failing[0], out)?;
        }
        text += &format!(
            "\n{} violating seeds; repro files in {} (first: {}){}\n",
            summary.failing.len(),
            out.display(),
            summary.failing[0].0,
            if summary.failing.len() == sweep::MAX_REPROS {
                ", capped"
            } else {
                ""
            },
        );
    }
    print(&text);
    Ok(exit_for(summary.failing.len() as u64))
}

/// 1 when any seed broke an invariant.
fn exit_for(violating_seeds: u64) -> ExitCode {
    if violating_seeds == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A repro file per kept violating seed.
fn write_repros(
    scenario: &Scenario,
    summary: &sweep::SweepSummary,
    out: &Path,
) -> Result<(), BadInput> {
    if summary.failing.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(out).map_err(|e| BadInput(format!("{}: {e}", out.display())))?;
    for (seed, s) in &summary.failing {
        let path = out.join(format!("{}-seed-{seed}.toml", scenario.name()));
        let mut repro = s.file.clone();
        repro.name = format!("{}-seed-{seed}", scenario.name());
        repro.description = format!(
            "Repro of {} at seed {seed}: txlab run {}",
            scenario.name(),
            path.display()
        );
        let body = toml::to_string(&repro)?;
        write_atomically(&path, body.as_bytes())?;
    }
    Ok(())
}

/// Merge shard summaries and print the result; exit 1 when any seed
/// broke an invariant, 2 when the summaries do not belong together.
pub(crate) fn merge_cmd(files: &[PathBuf]) -> Result<ExitCode, BadInput> {
    let mut parts = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::PermissionDenied => "not allowed to read it".to_string(),
                std::io::ErrorKind::InvalidData => "not text (a summary is JSON)".to_string(),
                std::io::ErrorKind::IsADirectory => "a directory, not a summary file".to_string(),
                _ => format!("cannot read it ({e})"),
            };
            BadInput(format!("{name}: {why}"))
        })?;
        parts.push((name.clone(), summary::SummaryJson::parse(&text, &name)?));
    }
    let merged = summary::merge(&parts)?;
    print(&(serde_json::to_string_pretty(&merged)? + "\n"));
    Ok(exit_for(merged.violating_seed_count))
}

/// Shrink the first violating seed's scenario and write it beside the
/// repro files; returns the summary line.
fn shrink_first(
    base: &Scenario,
    (seed, s): &(u64, Scenario),
    out: &Path,
) -> Result<String, BadInput> {
    let Some(invariant) = shrink::broken(s).into_iter().next() else {
        return Ok(String::new());
    };
    let small = shrink::shrink(s, &invariant);
    let path = out.join(format!("{}-seed-{seed}-min.toml", base.name()));
    let mut file = small.file.clone();
    file.name = format!("{}-seed-{seed}-min", base.name());
    file.description = format!(
        "Shrunk repro of {} at seed {seed}, still breaking {invariant}: txlab tui {}",
        base.name(),
        path.display()
    );
    write_atomically(&path, toml::to_string(&file)?.as_bytes())?;
    Ok(format!(
        "\nshrunk seed {seed} ({invariant}): faults {} -> {}, transactions {} -> {}, loss {} -> {}, duplicate {} -> {}, write latency {} -> {} ms\n  replay: txlab tui {}\n",
        s.file.faults.len(),
        file.faults.len(),
        s.file.workload.transactions,
        file.workload.transactions,
        s.file.network.loss,
        file.network.loss,
        s.file.network.duplicate,
        file.network.duplicate,
        s.file.network.write_latency_ms,
        file.network.write_latency_ms,
        path.display()
    ))
}
