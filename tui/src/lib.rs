//! # txlab-tui
//!
//! The terminal UI: 2PC, the orchestrated saga and the choreographed saga
//! side by side on one simulated clock, replayed forward and back, with
//! faults injected at the cursor (the run branches, the past stays put).
//!
//! Structure (ratatui's state / update / view):
//! - [`recording`]: the three recorded runs and their merged timeline.
//! - [`fold`]: what a pane shows after N events (a pure function, so
//!   stepping back is exact); [`folder`] folds it one event at a time and
//!   [`checkpoints`] keeps folder states so a jump folds a short distance.
//! - the metrics are the simulator's running totals
//!   (`txlab_sim::lab::tally`), kept by the fold.
//! - [`stock`]: balances and stock as the services applied them.
//! - [`moments`]: the places `n` / `N` jump between.
//! - [`quiz`]: quiz mode (questions asked before the reveal).
//! - [`app`]: the state; no terminal types. What changes it, one noun a
//!   file: `keys` (`update(Action)`), `playback` (play, steps, jumps and
//!   the time shown), `sweep` (the sweep overlay), `branch` (fault
//!   injection and saving a branch); `theme`: the colour themes.
//! - [`counterexample`]: the status line for a repro the explorer wrote.
//! - [`action`]: keys to actions, and the keymap the help is made from.
//! - [`export`]: the screen as SVG and text, the diagram as Mermaid.
//! - [`words`]: messages in the workload's words.
//! - [`view`]: widgets over `&App`, one file per part.
//! - [`terminal`]: the tokio event loop, the only place with real time,
//!   and terminal setup and restore (on quit, Ctrl-C and panic).
#![warn(missing_docs)]

pub mod action;
pub mod app;
mod branch;
pub mod checkpoints;
pub mod counterexample;
pub mod export;
pub mod fold;
pub mod folder;
pub mod inspect;
mod keys;
pub mod moments;
mod playback;
pub mod quiz;
pub mod recording;
pub mod stock;
mod sweep;
#[cfg(test)]
mod tally;
pub mod terminal;
mod theme;
mod transactions;
pub mod view;
pub mod words;

pub use app::{App, Entry};
pub use terminal::{open, run};
