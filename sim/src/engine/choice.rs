//! Chosen mode: the world's choices made explicit, for the explorer and
//! for replaying what it found.
//!
//! In the normal mode the clock decides what happens next. In chosen mode
//! nothing is ordered by time: every pending event (a message on the
//! wire, an armed timer, a write on its way to disk) sits in a pool, and a
//! caller picks which happens next with [`World::choose`], or lists
//! [`World::set_script`] for [`World::step`] to follow. This is the
//! asynchronous model: any in-flight message may arrive next, and a timer
//! may fire before or after any message, whatever their delays say.
//!
//! - The network neither loses, duplicates nor delays at random: those are
//!   fault choices ([`Choice::Drop`], [`Choice::Duplicate`]), as are
//!   crashes and restarts. Partitions still drop what they block.
//! - The network carries one copy of each distinct message: a resend of a
//!   message identical to one still on the wire is dropped as
//!   [`DropReason::AlreadyInFlight`] (it could not arrive any way the
//!   first copy cannot). A duplicate fault does make a second copy.
//! - A node's writes reach its disk in the order it issued them.
//! - Time stands still, except that each fault moves the clock one
//!   millisecond on, so that "before" and "after" a crash stay apart for
//!   the protocols that compare times.

use super::world::{Pending, Slot};
use super::write_ahead::Input;
use super::{
    DropReason, Effect, Fault, MsgId, Node, NodeId, SimTime, StableHasher, TimerId, World,
    WorldConfig, stable_hash,
};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// One thing the world can do next in chosen mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Choice {
    /// This in-flight message arrives.
    Deliver(MsgId),
    /// This armed timer fires.
    Timer {
        /// Whose.
        node: NodeId,
        /// Which.
        timer: TimerId,
    },
    /// The node's oldest pending log write reaches the disk.
    Write(NodeId),
    /// Fault: this in-flight message is lost.
    Drop(MsgId),
    /// Fault: this in-flight message is copied.
    Duplicate(MsgId),
    /// Fault: the node crashes.
    Crash(NodeId),
    /// Fault: the crashed node restarts.
    Restart(NodeId),
}

impl Choice {
    /// Whether this choice is a fault (counted against a fault budget).
    pub fn is_fault(&self) -> bool {
        !matches!(
            self,
            Choice::Deliver(_) | Choice::Timer { .. } | Choice::Write(_)
        )
    }
}

impl<N: Node> World<N> {
    /// A world in chosen mode (see the module docs); nothing runs until the
    /// first [`World::choose`] or [`World::step`].
    pub fn new_chosen(config: WorldConfig, nodes: Vec<(String, N)>) -> Self {
        let mut world = World::new(config, nodes, Vec::new());
        world.pool = Some(Vec::new());
        world
    }

    /// Whether the world is in chosen mode.
    pub fn is_chosen(&self) -> bool {
        self.pool.is_some()
    }

    /// Follow `script` on the next calls to [`World::step`] (chosen mode).
    pub fn set_script(&mut self, script: Vec<Choice>) {
        self.script = script.into();
    }

    /// Start the nodes if they have not started (chosen mode starts them
    /// on the first choice too).
    pub fn start(&mut self) {
        self.ensure_started();
    }

    /// The non-fault choices enabled now, in pool order: deliveries, timer
    /// firings and each writing node's oldest write.
    pub fn choices(&self, out: &mut Vec<Choice>) {
        let mut writers: Vec<NodeId> = Vec::new();
        for p in self.pool.iter().flatten() {
            match p {
                Pending::Deliver { id, .. } => out.push(Choice::Deliver(*id)),
                Pending::Timer { node, timer, .. } => out.push(Choice::Timer {
                    node: *node,
                    timer: *timer,
                }),
                Pending::Resume { node, .. } | Pending::Durable { node, .. } => {
                    if !writers.contains(node) {
                        writers.push(*node);
                        out.push(Choice::Write(*node));
                    }
                }
            }
        }
    }

    /// The fault choices enabled now: drop or duplicate each in-flight
    /// message, then crash each running node or restart each crashed one.
    pub fn fault_choices(&self, out: &mut Vec<Choice>) {
        for p in self.pool.iter().flatten() {
            if let Pending::Deliver { id, .. } = p {
                out.push(Choice::Drop(*id));
                out.push(Choice::Duplicate(*id));
            }
        }
        for (i, slot) in self.nodes.iter().enumerate() {
            let id = NodeId(i as u32);
            out.push(if slot.up {
                Choice::Crash(id)
            } else {
                Choice::Restart(id)
            });
        }
    }

    /// Chosen mode: nothing is on the wire, on its way to disk or queued
    /// at a node; at most timers are left to fire (retries, inquiries).
    pub fn at_rest(&self) -> bool {
        let pool_quiet = self
            .pool
            .iter()
            .flatten()
            .all(|p| matches!(p, Pending::Timer { .. }));
        pool_quiet && self.nodes.iter().all(|s| !s.blocked && s.inbox.is_empty())
    }

    /// Make `choice` happen (chosen mode). Returns false, changing nothing,
    /// when it is not enabled.
    pub fn choose(&mut self, choice: Choice) -> bool {
        assert!(self.pool.is_some(), "World::choose needs chosen mode");
        self.ensure_started();
        let taken = match choice {
            Choice::Deliver(msg) => {
                self.take(|p| matches!(p, Pending::Deliver { id, .. } if *id == msg))
            }
            Choice::Timer { node, timer } => self.take(
                |p| matches!(p, Pending::Timer { node: n, timer: t, .. } if *n == node && *t == timer),
            ),
            Choice::Write(node) => self.take(|p| {
                matches!(p, Pending::Resume { node: n, .. } | Pending::Durable { node: n, .. } if *n == node)
            }),
            Choice::Drop(msg) | Choice::Duplicate(msg) => {
                let on_wire = self
                    .pool
                    .iter()
                    .flatten()
                    .any(|p| matches!(p, Pending::Deliver { id, .. } if *id == msg));
                on_wire.then_some(None)
            }
            Choice::Crash(n) => (self.nodes.get(n.index()).is_some_and(|s| s.up)).then_some(None),
            Choice::Restart(n) => {
                (self.nodes.get(n.index()).is_some_and(|s| !s.up)).then_some(None)
            }
        };
        let Some(pending) = taken else {
            return false;
        };
        self.stats.steps += 1;
        match pending {
            Some(p) => self.dispatch(p),
            None => {
                self.now += SimTime::from_millis(1);
                self.apply_fault(match choice {
                    Choice::Drop(m) => Fault::DropMessage(m),
                    Choice::Duplicate(m) => Fault::DuplicateMessage(m),
                    Choice::Crash(n) => Fault::Crash(n),
                    Choice::Restart(n) => Fault::Restart(n),
                    _ => unreachable!("only faults take nothing from the pool"),
                });
            }
        }
        self.prune();
        true
    }

    /// Remove and return the first pool entry `matches` accepts.
    fn take(&mut self, matches: impl Fn(&Pending<N>) -> bool) -> Option<Option<Pending<N>>> {
        let pool = self.pool.as_mut()?;
        let i = pool.iter().position(matches)?;
        Some(Some(pool.remove(i)))
    }

    /// Forget pool entries that can no longer happen: re-armed, cancelled
    /// or crashed-away timers, and writes a crash lost.
    fn prune(&mut self) {
        let nodes = &self.nodes;
        if let Some(pool) = self.pool.as_mut() {
            pool.retain(|p| live(nodes, p));
        }
    }

    pub(super) fn step_scripted(&mut self) -> bool {
        match self.script.pop_front() {
            Some(choice) => {
                self.choose(choice);
                true
            }
            None => false,
        }
    }

    pub(super) fn send_chosen(&mut self, id: MsgId, from: NodeId, to: NodeId, msg: N::Msg) {
        if self.net.is_blocked(from, to) {
            self.drop_msg(id, from, to, DropReason::Partition);
            return;
        }
        let key = stable_hash(&msg);
        let pool = self.pool.as_mut().expect("chosen mode");
        let twin = pool.iter().any(|p| {
            matches!(p, Pending::Deliver { from: f, to: t, msg: m, .. }
                if *f == from && *t == to && stable_hash(m) == key)
        });
        if twin {
            self.drop_msg(id, from, to, DropReason::AlreadyInFlight);
        } else {
            pool.push(Pending::Deliver { id, from, to, msg });
        }
    }

    pub(super) fn drop_chosen(&mut self, target: MsgId) {
        let pool = self.pool.as_mut().expect("chosen mode");
        let Some(i) = pool
            .iter()
            .position(|p| matches!(p, Pending::Deliver { id, .. } if *id == target))
        else {
            return;
        };
        if let Pending::Deliver { id, from, to, .. } = pool.remove(i) {
            self.drop_msg(id, from, to, DropReason::Injected);
        }
    }

    pub(super) fn duplicate_chosen(&mut self, target: MsgId) {
        let copy = self.pool.iter().flatten().find_map(|p| match p {
            Pending::Deliver { id, from, to, msg } if *id == target => {
                Some((*from, *to, msg.clone()))
            }
            _ => None,
        });
        let Some((from, to, msg)) = copy else {
            return;
        };
        let cid = self.new_copy(target, &msg);
        let pool = self.pool.as_mut().expect("chosen mode");
        pool.push(Pending::Deliver {
            id: cid,
            from,
            to,
            msg,
        });
    }

    /// Put `pending` in the pool (chosen mode) or the time-ordered queue.
    pub(super) fn enqueue(&mut self, at: SimTime, pending: Pending<N>) {
        match self.pool.as_mut() {
            Some(pool) => pool.push(pending),
            None => self.queue.push(at, pending),
        }
    }

    /// A stable hash of everything that decides what can happen next and
    /// what the checkers see: each node's state, whether it is up or
    /// blocked, its durable log, armed timers and queued inputs; the
    /// pending events as a multiset (message ids, timer tokens and arrival
    /// times left out); active partitions; the clock; and the set of
    /// observations recorded so far (without times, and each counted once,
    /// so that a repeated "asked again" does not make a new state). The
    /// random streams are left out: the explored protocols draw nothing
    /// random unless a scenario asks for random business failures.
    pub fn fingerprint(&self) -> u64
    where
        N: Hash,
    {
        let mut h = StableHasher::new(0x0065_7870_6c6f_7265); // "explore"
        self.now.hash(&mut h);
        self.hash_configuration(&mut h);
        let mut obs: Vec<u64> = self
            .trace
            .observations()
            .iter()
            .map(|o| stable_hash(&(o.node, &o.obs)))
            .collect();
        obs.sort_unstable();
        obs.dedup();
        obs.hash(&mut h);
        h.finish()
    }

    /// A stable hash of the world's configuration: what [`Self::fingerprint`]
    /// hashes except the history (the clock and the observations recorded
    /// on the way). Two runs that end with the same nodes, logs, armed
    /// timers and pending events end in the same configuration, however
    /// they got there: the explorer counts end states by it.
    pub fn configuration(&self) -> u64
    where
        N: Hash,
    {
        let mut h = StableHasher::new(0x0065_6e64); // "end"
        self.hash_configuration(&mut h);
        h.finish()
    }

    /// Each node's slot, the pending events as a multiset, the partitions.
    fn hash_configuration(&self, h: &mut StableHasher)
    where
        N: Hash,
    {
        for slot in &self.nodes {
            hash_slot(slot, h);
        }
        let mut pending: Vec<u64> = self
            .pool
            .iter()
            .flatten()
            .map(|p| {
                let mut ph = StableHasher::new(1);
                hash_pending(p, &mut ph);
                ph.finish()
            })
            .collect();
        pending.sort_unstable();
        pending.hash(h);
        for p in self.net.active_partitions() {
            p.hash(h);
        }
    }
}

fn live<N: Node>(nodes: &[Slot<N>], p: &Pending<N>) -> bool {
    match p {
        Pending::Deliver { .. } => true,
        Pending::Timer { node, timer, token } => {
            let slot = &nodes[node.index()];
            slot.up && slot.timers.get(timer) == Some(token)
        }
        Pending::Resume {
            node, incarnation, ..
        }
        | Pending::Durable {
            node, incarnation, ..
        } => nodes[node.index()].incarnation == *incarnation,
    }
}

fn hash_slot<N: Node + Hash>(slot: &Slot<N>, h: &mut StableHasher) {
    slot.state.hash(h);
    slot.up.hash(h);
    slot.blocked.hash(h);
    slot.durable.hash(h);
    slot.timers.len().hash(h);
    for timer in slot.timers.keys() {
        timer.hash(h);
    }
    slot.inbox.len().hash(h);
    for input in &slot.inbox {
        match input {
            Input::Message { from, msg, .. } => (0u8, from, msg).hash(h),
            Input::Timer { timer, token } => {
                (1u8, timer, slot.timers.get(timer) == Some(token)).hash(h);
            }
        }
    }
}

fn hash_pending<N: Node>(p: &Pending<N>, h: &mut StableHasher) {
    match p {
        Pending::Deliver { from, to, msg, .. } => (0u8, from, to, msg).hash(h),
        Pending::Timer { node, timer, .. } => (1u8, node, timer).hash(h),
        Pending::Resume {
            node, record, rest, ..
        } => {
            (2u8, node, record).hash(h);
            for effect in rest {
                hash_effect(effect, h);
            }
        }
        Pending::Durable { node, record, .. } => (3u8, node, record).hash(h),
    }
}

fn hash_effect<N: Node>(effect: &Effect<N>, h: &mut StableHasher) {
    match effect {
        Effect::Send { to, msg } => (0u8, to, msg).hash(h),
        Effect::SetTimer { timer, after } => (1u8, timer, after).hash(h),
        Effect::CancelTimer { timer } => (2u8, timer).hash(h),
        Effect::Persist { record, forced } => (3u8, record, forced).hash(h),
        Effect::Record(obs) => (4u8, obs).hash(h),
    }
}
