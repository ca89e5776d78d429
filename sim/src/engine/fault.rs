//! Faults: what can go wrong, and when.

use super::{MsgId, NodeId, PartitionId, SimTime};
use serde::{Deserialize, Serialize};

/// One fault, applied by the world between events.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The node stops: volatile state, timers and unsynced writes are lost.
    Crash(NodeId),
    /// A crashed node comes back and rebuilds from its durable log.
    Restart(NodeId),
    /// Messages between `a` and `b` are dropped (only `a → b` if one-way).
    Partition {
        /// Name used to heal it.
        id: PartitionId,
        /// One side.
        a: Vec<NodeId>,
        /// The other side.
        b: Vec<NodeId>,
        /// Block only `a → b`.
        one_way: bool,
    },
    /// End partition `id`.
    Heal(PartitionId),
    /// End every partition.
    HealAll,
    /// Drop one in-flight message before it arrives.
    DropMessage(MsgId),
    /// Deliver one in-flight message twice (the copy arrives right after).
    DuplicateMessage(MsgId),
}

impl Fault {
    /// A short label for reports and the UI.
    pub fn label(&self) -> &'static str {
        match self {
            Fault::Crash(_) => "crash",
            Fault::Restart(_) => "restart",
            Fault::Partition { .. } => "partition",
            Fault::Heal(_) | Fault::HealAll => "heal",
            Fault::DropMessage(_) => "drop",
            Fault::DuplicateMessage(_) => "duplicate",
        }
    }
}

/// A fault at a given virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScheduledFault {
    /// When it happens; it runs before any other event at the same time.
    pub at: SimTime,
    /// What happens.
    pub fault: Fault,
}

impl ScheduledFault {
    /// `fault` at `at`.
    pub fn new(at: SimTime, fault: Fault) -> Self {
        ScheduledFault { at, fault }
    }
}
