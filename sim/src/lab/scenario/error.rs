//! Why a scenario could not be loaded. Every variant names the file; syntax
//! and type errors also give the line and column.

use thiserror::Error;

/// A scenario that cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ScenarioError {
    /// Not valid TOML, an unknown field (a typo) or a wrong type.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// Well-formed, but it does not make sense (an unknown service, a
    /// probability above 1, a restart before its crash...).
    #[error("{}: {field}: {message}", located(file, position))]
    Invalid {
        /// The file.
        file: String,
        /// Where in the file (`steps[2].service`).
        field: String,
        /// What is wrong.
        message: String,
        /// The field's 1-based line and column, when the text is known.
        position: Option<(usize, usize)>,
    },
    /// Larger than a limit, refused before it can exhaust memory.
    #[error("{file}: {what} is {actual}, more than the maximum of {max}")]
    TooLarge {
        /// The file.
        file: String,
        /// What is too large.
        what: String,
        /// Its size.
        actual: u64,
        /// The limit.
        max: u64,
    },
    /// Empty, or not text.
    #[error("{file}: {message}")]
    NotAScenario {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

/// `file:line:column`, or the file alone when there is no position.
fn located(file: &str, position: &Option<(usize, usize)>) -> String {
    match position {
        Some((line, column)) => format!("{file}:{line}:{column}"),
        None => file.to_string(),
    }
}
