//! # txlab-sim
//!
//! The heart of txlab: a deterministic, seeded network simulator and (in
//! later modules) the transaction protocols, scenarios, checkers and metrics
//! that run on it.
//!
//! ## Contract
//!
//! - **No I/O.** Nothing here touches a socket, a file, a terminal or a clock.
//! - **Deterministic.** The same seed, scenario and build give a byte-identical
//!   trace and the same [`engine::Trace::hash`]. Randomness comes only from
//!   seeded ChaCha8 streams; ordered collections are used wherever iteration
//!   reaches the trace.
//!
//! ## Map
//!
//! - [`engine`]: virtual time, nodes as sans-IO state machines, the network,
//!   faults, the event queue and the trace.
//! - [`protocols`]: the business workload and the transaction protocols as
//!   sans-IO roles (2PC so far).
//! - [`lab`]: runs, checkers, metrics and the run report.
#![warn(missing_docs)]

pub mod engine;
pub mod lab;
pub mod protocols;
