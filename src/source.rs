//! Where a scenario comes from: a file on disk or a lesson of the library.

use crate::library;
use std::io::Read;
use txlab_sim::lab::scenario::{Limits, Scenario, ScenarioError, overrides};

/// Load `arg`: a path if such a file exists, else a library name. A file
/// naming a user's service logic is refused: only the program that
/// registered that logic can run it.
pub fn load(arg: &str) -> Result<Scenario, ScenarioError> {
    let path = std::path::Path::new(arg);
    if path.is_file() {
        let mut s = load_file(path)?;
        txlab_sim::custom::Registry::new().attach(&mut s)?;
        return Ok(s);
    }
    if let Some(text) = library::get(arg) {
        return Scenario::parse(text.as_bytes(), &format!("library:{arg}"));
    }
    Err(ScenarioError::NotAScenario {
        file: arg.to_string(),
        message: "no such file, and no lesson of that name (see `txlab list`)".into(),
    })
}

/// Load `arg` and apply `--set PATH=VALUE` overrides: the one path every
/// command that takes a scenario goes through, so each gets `--set`.
pub fn load_with(arg: &str, sets: &[String]) -> Result<Scenario, ScenarioError> {
    overrides::apply(&load(arg)?, sets)
}

/// Read a file, refusing to read more than the size limit.
fn load_file(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let limits = Limits::default();
    let io = |e: std::io::Error| ScenarioError::NotAScenario {
        file: origin.clone(),
        message: format!("cannot read: {e}"),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    // One byte past the limit is enough to know the file is too large.
    file.take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Scenario::parse_with(&bytes, &origin, limits)
}
