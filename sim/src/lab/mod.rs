//! The lab: runs a workload under a protocol, judges it with the checkers
//! and measures it.
//!
//! - [`mod@run`]: build, drive and judge a world from a [`RunSpec`];
//!   [`runner`]: many seeds of one spec on one reused world (sweeps).
//! - [`checkers`]: one checker per invariant.
//! - [`metrics`], [`outcome`]: measurements and per-transaction outcomes;
//!   [`tally`]: the metrics as running totals (their one definition);
//!   [`uncertainty`]: 2PC's uncertain and blocked time.
//! - [`report`]: the serializable [`RunReport`].
//! - [`scenario`]: scenario files: parsing, validation, expectations.
//! - [`mermaid`]: a trace as a Mermaid sequence diagram.
//! - [`script`]: a path of explicit choices (`[explore]` in a scenario).
//! - [`explore_model`]: the lab world as a model for the explorer.
//! - [`tracker`]: each choreographed saga's state rebuilt from its events.
//! - [`anomaly`]: isolation anomalies by class; [`matrix`]: the isolation
//!   matrix over seeds.

pub mod anomaly;
pub mod checkers;
pub mod explore_model;
pub mod matrix;
pub mod mermaid;
pub mod metrics;
pub mod outcome;
pub mod planned;
pub mod report;
pub mod run;
pub mod runner;
pub mod scenario;
pub mod script;
pub mod tally;
pub mod tracker;
pub mod uncertainty;
pub mod view;

pub use planned::{Planned, PlannedFault, WireMessage, wire_messages};
pub use report::{Metrics, Percentiles, RunReport, ServiceTimes, TxReport, Violation};
pub use run::{Bugs, Run, RunSpec, build_world, compare, judge, node_names, run};
pub use runner::{Runner, Verdict};
pub use view::RunView;
