//! The deterministic simulation engine. It knows nothing of protocols: it
//! runs [`Node`] state machines, moves their messages through a lossy
//! [`Network`], applies [`Fault`]s and writes a [`Trace`].
//!
//! Determinism rules kept here: virtual time only ([`SimTime`]), one seeded
//! ChaCha8 stream per purpose ([`rng`]), ordered collections wherever an
//! iteration can reach the trace, and an event queue ordered by
//! (time, sequence number).
//!
//! Write-ahead is a property of the engine, not of each protocol: a node
//! that forces a log record is blocked, like a single-threaded process in
//! `fsync`, until the record is durable. Its later effects and every input
//! that reaches it meanwhile (messages, timers) wait in order; a crash loses
//! them with the write (dropped as "lost in crash"). No node can therefore
//! answer from state that a crash could still take back. Lazy writes do not
//! block and may be lost; nothing may depend on them.

mod choice;
mod fault;
mod harness;
mod id;
mod network;
mod node;
mod queue;
pub mod rng;
mod time;
mod trace;
mod trigger;
mod world;
mod write_ahead;

pub use choice::Choice;
pub use fault::{Fault, ScheduledFault};
pub use harness::Harness;
pub use id::{MsgId, NodeId, PartitionId, TimerId};
pub use network::{DropReason, Fate, Latency, LinkConfig, NetConfig, Network};
pub use node::{Ctx, Effect, Node};
pub use queue::EventQueue;
pub use time::SimTime;
pub use trace::{
    AppliedFault, EventKind, Observation, StableHasher, Trace, TraceEvent, stable_hash,
};
pub use trigger::{EventFault, MessageAction, MessageFault, MessageMatch, Trigger};
pub use world::{InFlight, Stats, World, WorldConfig};
