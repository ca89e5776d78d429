//! # txlab
//!
//! The command line of txlab: scenario files and the lesson library, the
//! side-by-side report, sweeps over seeds and trace export. The simulator,
//! protocols and checkers live in `txlab-sim`.

#![warn(missing_docs)]

pub mod anomalies;
pub mod cli;
pub mod explore;
pub mod export;
pub mod handout;
pub mod knobs;
pub mod library;
pub mod show;
pub mod shrink;
pub mod source;
pub mod summary;
pub mod sweep;
mod sweep_cmd;
pub mod table;
