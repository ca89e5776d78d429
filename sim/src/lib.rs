//! # txlab-sim
//!
//! The heart of txlab: a deterministic, seeded network simulator and the
//! transaction protocols, scenarios, checkers and metrics that run on it.
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
//!   sans-IO roles: two-phase commit, the orchestrated saga and the
//!   choreographed saga (with its broker), plus an auditor that reads.
//! - [`explore`]: exhaustive exploration of small configurations (BFS/DFS
//!   over a model's states), calibrated on Gray & Lamport's TwoPhase.
//! - [`lab`]: runs, checkers (one per invariant), metrics, the run report,
//!   scenario files and the choreography tracker.
//! - [`custom`]: your own service logic in the sagas, by name, with your
//!   own invariants; `testkit` (feature `testkit`) property-tests it.
//!
//! Layers point one way: `engine` knows nothing of protocols, `protocols`
//! know only the engine's node API, and `lab` glues them to scenarios.
#![warn(missing_docs)]

pub mod custom;
pub mod engine;
pub mod explore;
pub mod lab;
pub mod protocols;
#[cfg(feature = "testkit")]
pub mod testkit;
