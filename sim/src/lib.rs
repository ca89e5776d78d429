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
#![warn(missing_docs)]

pub mod engine;
