//! Scenarios: one lesson (or one bug) per TOML file. Parsing works on text
//! (this crate does no I/O); the CLI reads the files.
//!
//! - [`mod@format`]: the file's shape.
//! - [`load`]: parse and turn into a [`Scenario`] (validation lives in
//!   `validate`).
//! - [`expect`]: check a run against the file's expectations.
//! - [`overrides`]: `--set PATH=VALUE` on a loaded scenario.
//! - [`question`]: questions the UI asks the room (`[[question]]`).

mod by_value;
mod error;
pub mod expect;
pub mod format;
pub mod knob_rules;
pub mod load;
mod locate;
pub mod overrides;
pub mod question;
mod tied;
mod validate;
mod words;

pub use tied::EVENTS;

pub use error::ScenarioError;
pub use format::ScenarioFile;
pub use load::{Limits, Scenario};
pub use question::Question;
