//! The testkit's only I/O, on purpose outside the simulator's no-I/O rule
//! (this module is test tooling behind the `testkit` feature): writing a
//! repro file, and reading one back to replay it.

use crate::custom::{Invariant, Registry, violations};
use crate::lab::scenario::{Scenario, ScenarioError};
use crate::lab::{RunReport, Violation, run};
use crate::protocols::Protocol;
use std::path::{Path, PathBuf};

/// Write `toml` as `dir/name.toml` (creating `dir`); returns the path.
pub(super) fn write_repro(dir: &Path, name: &str, toml: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml)?;
    Ok(path)
}

/// Load the scenario at `path` and attach `registry`'s user services:
/// what a program passes to `txlab_tui::open` to watch a repro.
pub fn load(path: &Path, registry: &Registry) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError::NotAScenario {
        file: origin.clone(),
        message: format!("cannot read: {e}"),
    })?;
    let mut s = Scenario::parse(&bytes, &origin)?;
    registry.attach(&mut s)?;
    Ok(s)
}

/// A scenario replayed under the sagas (and 2PC), judged like the check.
#[derive(Debug)]
pub struct Replay {
    /// The scenario.
    pub scenario: Scenario,
    /// Per protocol: the report and every violation (built-in and the
    /// user's invariants).
    pub runs: Vec<(Protocol, RunReport, Vec<Violation>)>,
}

impl Replay {
    /// Every violation, with its protocol.
    pub fn violations(&self) -> impl Iterator<Item = (Protocol, &Violation)> {
        self.runs
            .iter()
            .flat_map(|(p, _, vs)| vs.iter().map(move |v| (*p, v)))
    }

    /// What happened, in words: per protocol its outcomes and violations.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} (seed {})\n",
            self.scenario.name(),
            self.scenario.file.seed
        );
        for (p, r, vs) in &self.runs {
            let outcomes: Vec<String> = r
                .outcomes
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(o, n)| format!("{o} {n}"))
                .collect();
            out += &format!("{:>13}: {}\n", p.name(), outcomes.join(", "));
            for v in vs {
                out += &format!("{:>15}{}: {}\n", "", v.invariant, v.message);
            }
        }
        out
    }
}

/// Replay the repro at `path` (as `txlab run` would, from the program that
/// registered its services) under `protocols`, judged by the built-in
/// checkers and `invariants`.
pub fn replay(
    path: &Path,
    registry: &Registry,
    invariants: &[Invariant],
    protocols: &[Protocol],
) -> Result<Replay, ScenarioError> {
    let scenario = load(path, registry)?;
    let runs = protocols
        .iter()
        .map(|p| {
            let r = run(&scenario.spec_for(*p));
            let v = violations(&r, invariants);
            (*p, r.report, v)
        })
        .collect();
    Ok(Replay { scenario, runs })
}
