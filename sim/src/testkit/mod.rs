//! Property-test your own services (feature `testkit`, which pulls in
//! proptest).
//!
//! - [`case`](mod@case): proptest strategies for fault schedules (crashes,
//!   the central node down while requests arrive, partitions one-way and
//!   between groups), network settings (loss, duplication, latency and long
//!   tails, FIFO, a slow disk, per-link overrides), slow and silent
//!   replies, planned failures, workloads and an impatient client; a
//!   [`Case`] applies to any base scenario.
//! - [`Check`]: one call that runs a scenario, whose services may be your
//!   own [`ServiceLogic`](crate::custom::ServiceLogic), under generated
//!   cases with every built-in checker and your
//!   [`Invariant`](crate::custom::Invariant)s, and on failure shrinks the
//!   case until every piece of its [`Trouble`] is needed (1-minimal),
//!   prints the seed and writes a repro file.
//! - [`replay`] and [`load`]: read a repro back in the program that
//!   registered its services (txlab's own binary refuses files that name
//!   services it does not have); `txlab_tui::open` shows it in the UI.
//!
//! docs/testkit.md and `examples/payment-service` show the whole loop.
//! This module (its `files` part) reads and writes files: it is test
//! tooling, the one exception to the crate's no-I/O rule.

pub mod case;
mod check;
mod files;
pub mod knobs;
mod trouble;

pub use case::{Case, FaultCase, LatencyCase, LinkCase, Shape, SlowCase};
pub use check::{Check, Failure, Passed};
pub use files::{Replay, load, replay};
pub use knobs::Knobs;
pub use trouble::Trouble;
