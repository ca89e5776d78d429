//! Printing the library: `txlab list` and `txlab show`.

use crate::cli::{BadInput, print};
use crate::{library, source};
use std::process::ExitCode;
use txlab_sim::lab::scenario::Scenario;

/// The lesson's text as written (comments kept); with overrides, the
/// overridden file.
pub fn show(arg: &str, sets: &[String]) -> Result<ExitCode, BadInput> {
    let scenario = source::load_with(arg, sets)?;
    let text = match (sets.is_empty(), library::get(arg)) {
        (true, Some(text)) if !std::path::Path::new(arg).is_file() => text.to_string(),
        (true, _) => std::fs::read_to_string(arg).map_err(|e| BadInput(format!("{arg}: {e}")))?,
        (false, _) => scenario.to_toml(),
    };
    print(&text);
    Ok(ExitCode::SUCCESS)
}

/// Print every lesson with its description, in teaching order.
pub fn list() {
    for (name, text) in library::LIBRARY {
        let description = Scenario::parse(text.as_bytes(), name)
            .map(|s| s.file.description)
            .unwrap_or_default();
        let marker = if *name == library::DEFAULT {
            " (default)"
        } else {
            ""
        };
        print(&format!("{name}{marker}\n    {description}\n"));
    }
}
