//! The trace: every event of a run, in order, with a stable hash.
//!
//! Events are small fixed-size values; message payloads are stored once per
//! message id. Observations (the facts protocols report for the checkers)
//! are always kept, even with recording off, because the checkers read them.
//! The hash covers every event either way, so a sweep with recording off
//! still yields the same hash as a recorded replay. Faults that took effect
//! are kept too (few, and the metrics need them to know when a node was
//! down or cut off).

use super::{DropReason, Fault, MsgId, Node, NodeId, PartitionId, SimTime, TimerId};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// What happened at one point of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A node started for the first time.
    Start {
        /// The node.
        node: NodeId,
    },
    /// A message left its sender.
    Send {
        /// The message.
        msg: MsgId,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
    },
    /// A message reached its receiver's handler.
    Deliver {
        /// The message.
        msg: MsgId,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
    },
    /// A message will never arrive.
    Drop {
        /// The message.
        msg: MsgId,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Why.
        reason: DropReason,
    },
    /// The network duplicated `msg` as `copy`.
    Duplicate {
        /// The original.
        msg: MsgId,
        /// The copy's id.
        copy: MsgId,
    },
    /// A timer fired.
    Timer {
        /// Whose.
        node: NodeId,
        /// Which.
        timer: TimerId,
    },
    /// A node crashed.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A node restarted and recovered from its log.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// A partition started.
    Partition {
        /// Its id.
        id: PartitionId,
    },
    /// A partition healed.
    Heal {
        /// Its id.
        id: PartitionId,
    },
    /// A record reached a node's durable log.
    Persist {
        /// The node.
        node: NodeId,
        /// Whether it was a forced write.
        forced: bool,
    },
    /// A node recorded an observation (index into the observation list).
    Observe {
        /// The node.
        node: NodeId,
        /// Index into [`Trace::observations`].
        obs: u32,
    },
}

/// One trace event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceEvent {
    /// When.
    pub time: SimTime,
    /// What.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// An observation with where it sits in the trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation<O> {
    /// Position in the trace (counts every event, recorded or not).
    pub index: u64,
    /// When.
    pub time: SimTime,
    /// Who recorded it.
    pub node: NodeId,
    /// The fact.
    pub obs: O,
}

/// A fault as it took effect, with where it sits in the trace: a crash,
/// restart, partition or heal (a crash of a node already down, or a heal of
/// no partition, never appears; `HealAll` appears as one heal per
/// partition).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedFault {
    /// Position in the trace.
    pub index: u64,
    /// When.
    pub time: SimTime,
    /// What (`Crash`, `Restart`, `Partition` with its sides, or `Heal`).
    pub fault: Fault,
}

/// A deterministic 64-bit hasher (FxHash-style mixing with a final
/// avalanche). Unlike std's `DefaultHasher` it has no per-process key, so a
/// hash means the same thing in every process and on every run.
#[derive(Clone, Debug)]
pub struct StableHasher(u64);

impl StableHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    /// A hasher starting from `seed`.
    pub fn new(seed: u64) -> Self {
        StableHasher(seed)
    }

    fn mix(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(Self::K);
    }
}

impl Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8-byte chunk")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn finish(&self) -> u64 {
        // splitmix64's finalizer: every input bit affects every output bit.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The stable hash of any `Hash` value.
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher::new(0);
    value.hash(&mut h);
    h.finish()
}

/// The record of a run.
#[derive(Clone, Debug)]
pub struct Trace<N: Node> {
    recording: bool,
    len: u64,
    hasher: StableHasher,
    events: Vec<TraceEvent>,
    messages: Vec<N::Msg>,
    /// Shared until appended to (copy on write), so that cloning a world,
    /// as the explorer does per transition, does not copy them.
    observations: std::sync::Arc<Vec<Observation<N::Obs>>>,
    faults: Vec<AppliedFault>,
}

impl<N: Node> Trace<N> {
    /// Where every trace's hash starts: "txlab" in ASCII.
    const HASH_SEED: u64 = 0x0074_786c_6162;

    /// An empty trace; with `recording` off only observations and the hash
    /// are kept.
    pub fn new(recording: bool) -> Self {
        Trace {
            recording,
            len: 0,
            hasher: StableHasher::new(Self::HASH_SEED),
            events: Vec::new(),
            messages: Vec::new(),
            observations: std::sync::Arc::default(),
            faults: Vec::new(),
        }
    }

    /// Empty again, as [`Trace::new`] makes it, keeping the allocations.
    pub fn clear(&mut self) {
        self.len = 0;
        self.hasher = StableHasher::new(Self::HASH_SEED);
        self.events.clear();
        self.messages.clear();
        match std::sync::Arc::get_mut(&mut self.observations) {
            Some(obs) => obs.clear(),
            None => self.observations = std::sync::Arc::default(),
        }
        self.faults.clear();
    }

    /// Whether events are stored.
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// Number of events so far, recorded or not.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has happened yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The stable hash of every event so far, payloads included.
    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }

    /// The recorded events (empty when recording is off).
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// The payload of message `id`, when recorded.
    pub fn message(&self, id: MsgId) -> Option<&N::Msg> {
        self.messages.get(id.0 as usize)
    }

    /// Every observation, in trace order.
    pub fn observations(&self) -> &[Observation<N::Obs>] {
        &self.observations
    }

    /// Every crash, restart, partition and heal that took effect, in trace
    /// order (kept with recording off too).
    pub fn faults(&self) -> &[AppliedFault] {
        &self.faults
    }

    /// Heap bytes held by the recorded events and payloads (an estimate that
    /// counts reserved capacity, for the memory-per-event figure).
    pub fn heap_bytes(&self) -> usize {
        self.events.capacity() * std::mem::size_of::<TraceEvent>()
            + self.messages.capacity() * std::mem::size_of::<N::Msg>()
            + self.observations.capacity() * std::mem::size_of::<Observation<N::Obs>>()
    }

    /// Append an event; returns its index.
    pub(crate) fn push(&mut self, time: SimTime, kind: EventKind) -> u64 {
        time.hash(&mut self.hasher);
        kind.hash(&mut self.hasher);
        if self.recording {
            self.events.push(TraceEvent { time, kind });
        }
        self.len += 1;
        let index = self.len - 1;
        let fault = match kind {
            EventKind::Crash { node } => Some(Fault::Crash(node)),
            EventKind::Restart { node } => Some(Fault::Restart(node)),
            EventKind::Heal { id } => Some(Fault::Heal(id)),
            _ => None,
        };
        if let Some(fault) = fault {
            self.faults.push(AppliedFault { index, time, fault });
        }
        index
    }

    /// Append a partition's start, keeping which nodes it separates.
    pub(crate) fn partition(
        &mut self,
        time: SimTime,
        id: PartitionId,
        a: &[NodeId],
        b: &[NodeId],
        one_way: bool,
    ) {
        let index = self.push(time, EventKind::Partition { id });
        let fault = Fault::Partition {
            id,
            a: a.to_vec(),
            b: b.to_vec(),
            one_way,
        };
        self.faults.push(AppliedFault { index, time, fault });
    }

    /// Fold a payload into the hash and keep it under `id` when recording.
    pub(crate) fn message_sent(&mut self, id: MsgId, msg: &N::Msg) {
        msg.hash(&mut self.hasher);
        if self.recording {
            debug_assert_eq!(self.messages.len(), id.0 as usize, "message ids are dense");
            self.messages.push(msg.clone());
        }
    }

    /// Fold a durable record into the hash.
    pub(crate) fn record_persisted(&mut self, record: &N::Record) {
        record.hash(&mut self.hasher);
    }

    /// Append an observation and its trace event.
    pub(crate) fn observe(&mut self, time: SimTime, node: NodeId, obs: N::Obs) {
        obs.hash(&mut self.hasher);
        let n = u32::try_from(self.observations.len()).expect("fewer than 2^32 observations");
        let index = self.push(time, EventKind::Observe { node, obs: n });
        std::sync::Arc::make_mut(&mut self.observations).push(Observation {
            index,
            time,
            node,
            obs,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_hash_is_fixed_across_processes() {
        // Literals: if these change, every recorded trace hash and repro
        // file changes meaning too.
        assert_eq!(stable_hash(&42u64), 16_290_809_778_325_779_688);
        assert_eq!(stable_hash("txlab"), 5_585_465_949_250_545_114);
        assert_ne!(stable_hash(&42u64), stable_hash(&43u64));
        assert_ne!(stable_hash("ab"), stable_hash("ba"));
    }

    #[test]
    fn trace_events_stay_small() {
        // The trace's memory budget is 64 bytes per event on average.
        assert!(std::mem::size_of::<TraceEvent>() <= 32);
    }
}
