//! The world: nodes, network, event queue, faults and trace, driven one
//! event at a time.

use super::queue::EventQueue;
use super::rng::{LazyStream, Stream, stream};
use super::trigger::{Fired, Triggers};
use super::write_ahead::{Input, hold_outputs_for_writes};
use super::{
    Ctx, DropReason, Effect, EventFault, EventKind, Fault, MessageFault, MsgId, NetConfig, Network,
    Node, NodeId, PartitionId, ScheduledFault, SimTime, TimerId, Trace,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

mod reset;
mod timers;
mod wire;

use timers::ArmedTimers;

/// How a world is set up.
#[derive(Clone, Debug, Default)]
pub struct WorldConfig {
    /// The run's seed; every random draw derives from it.
    pub seed: u64,
    /// Latency, loss, duplication and ordering.
    pub net: NetConfig,
    /// How long a forced log write takes (zero: instant).
    pub write_latency: SimTime,
    /// Store trace events (off for fast sweeps; the hash is kept either way).
    pub recording: bool,
    /// Negative controls only: a node keeps handling inputs while its forced
    /// write is outstanding, answering from volatile state that a crash can
    /// still take back (the write-ahead bug this engine exists to prevent).
    pub answer_from_volatile_state: bool,
}

/// Counters kept by the world, whatever the recording setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Events processed by [`World::step`].
    pub steps: u64,
    /// Messages handed to the network (duplicates not counted).
    pub sent: u64,
    /// Messages that reached a handler (duplicates counted).
    pub delivered: u64,
    /// Messages dropped for any reason.
    pub dropped: u64,
    /// Copies made by the network.
    pub duplicated: u64,
    /// Timers that fired.
    pub timers: u64,
    /// Forced log writes that completed.
    pub forced_writes: u64,
    /// Lazy log writes that completed.
    pub lazy_writes: u64,
}

/// Something waiting in the event queue.
#[derive(Clone)]
pub(super) enum Pending<N: Node> {
    Deliver {
        id: MsgId,
        from: NodeId,
        to: NodeId,
        msg: N::Msg,
    },
    Timer {
        node: NodeId,
        timer: TimerId,
        token: u64,
    },
    /// A forced write completes; the effects queued behind it run.
    /// The record is boxed (here and in `Durable`): writes are rare
    /// beside deliveries and timers, and an unboxed record would make
    /// every queued event as large as the largest record.
    Resume {
        node: NodeId,
        incarnation: u32,
        record: Box<N::Record>,
        rest: Vec<Effect<N>>,
    },
    /// A lazy write completes.
    Durable {
        node: NodeId,
        incarnation: u32,
        record: Box<N::Record>,
    },
}

/// One node and everything the world keeps for it.
#[derive(Clone)]
pub(super) struct Slot<N: Node> {
    pub(super) name: std::sync::Arc<str>,
    /// The state before `on_start`: what a restart starts from.
    /// Shared, never changed: cloning a world (the explorer does, for
    /// every state) does not copy it.
    pub(super) boot: std::sync::Arc<N>,
    /// Shared until changed (copy on write): a cloned world (the explorer
    /// clones one per transition) copies only the nodes that then act.
    pub(super) state: std::sync::Arc<N>,
    pub(super) up: bool,
    /// Bumped on each crash, so work scheduled before it is discarded.
    pub(super) incarnation: u32,
    /// Shared until appended to, like `state`.
    pub(super) durable: std::sync::Arc<Vec<N::Record>>,
    /// Armed timers and the token of their live schedule.
    pub(super) timers: ArmedTimers,
    /// A forced write is outstanding: the node is inside `fsync` and
    /// handles nothing until it returns (write-ahead, THEORY.md).
    pub(super) blocked: bool,
    /// Inputs that arrived while blocked, in arrival order.
    pub(super) inbox: VecDeque<Input<N>>,
    /// The node's own stream, made on its first draw.
    pub(super) rng: LazyStream,
}

/// A message still on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// When it will arrive.
    pub at: SimTime,
    /// Its id.
    pub id: MsgId,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
}

/// A deterministic simulated world of nodes of type `N`.
#[derive(Clone)]
pub struct World<N: Node> {
    pub(super) now: SimTime,
    pub(super) started: bool,
    pub(super) nodes: Vec<Slot<N>>,
    pub(super) queue: EventQueue<Pending<N>>,
    pub(super) net: Network,
    pub(super) faults: Vec<ScheduledFault>,
    pub(super) next_fault: usize,
    pub(super) triggers: Triggers,
    /// The schedule and the triggers armed when the first step ran: what
    /// [`World::reset`] goes back to.
    pub(super) armed: (Vec<ScheduledFault>, (usize, usize)),
    /// Faults triggers released for later, by (time, rank).
    pub(super) released: Vec<(SimTime, u32, Fault)>,
    pub(super) write_latency: SimTime,
    pub(super) volatile_answers: bool,
    pub(super) next_msg: u32,
    pub(super) next_token: u64,
    pub(super) trace: Trace<N>,
    pub(super) stats: Stats,
    pub(super) outbox: Vec<Effect<N>>,
    /// Chosen mode (see `choice.rs`): what is pending, in no time order;
    /// `None` in the normal, time-driven mode.
    pub(super) pool: Option<Vec<Pending<N>>>,
    /// Chosen mode: the choices [`World::step`] follows, in order.
    pub(super) script: VecDeque<super::Choice>,
}

impl<N: Node> World<N> {
    /// A world of `nodes` (name and boot state, ids in order) with a fault
    /// schedule. Nothing runs until the first [`World::step`].
    pub fn new(config: WorldConfig, nodes: Vec<(String, N)>, faults: Vec<ScheduledFault>) -> Self {
        let seed = config.seed;
        let nodes = nodes
            .into_iter()
            .enumerate()
            .map(|(i, (name, boot))| Slot {
                name: name.into(),
                state: std::sync::Arc::new(boot.clone()),
                boot: std::sync::Arc::new(boot),
                up: true,
                incarnation: 0,
                durable: std::sync::Arc::default(),
                timers: ArmedTimers::default(),
                blocked: false,
                inbox: VecDeque::new(),
                rng: LazyStream::new(seed, Stream::Node(i as u32)),
            })
            .collect();
        let mut faults = faults;
        // Stable: faults at the same time keep their listed order.
        faults.sort_by_key(|f| f.at);
        World {
            now: SimTime::ZERO,
            started: false,
            nodes,
            queue: EventQueue::default(),
            net: Network::new(config.net, stream(seed, Stream::Network)),
            faults,
            next_fault: 0,
            triggers: Triggers::default(),
            armed: (Vec::new(), (0, 0)),
            released: Vec::new(),
            write_latency: config.write_latency,
            volatile_answers: config.answer_from_volatile_state,
            next_msg: 0,
            next_token: 0,
            trace: Trace::new(config.recording),
            stats: Stats::default(),
            outbox: Vec::new(),
            pool: None,
            script: VecDeque::new(),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace<N> {
        &self.trace
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Every node id, in order.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + use<N> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// A node's name.
    pub fn name(&self, id: NodeId) -> &str {
        &self.nodes[id.index()].name
    }

    /// A node's current state (its boot image while it is crashed).
    pub fn node(&self, id: NodeId) -> &N {
        &self.nodes[id.index()].state
    }

    /// Whether a node is running.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes[id.index()].up
    }

    /// Whether a node is blocked on a forced write (its inputs queue).
    pub fn is_blocked(&self, id: NodeId) -> bool {
        self.nodes[id.index()].blocked
    }

    /// A node's durable log.
    pub fn durable_log(&self, id: NodeId) -> &[N::Record] {
        &self.nodes[id.index()].durable
    }

    /// The network (configuration and active partitions).
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// Faults scheduled but not yet applied.
    pub fn pending_faults(&self) -> &[ScheduledFault] {
        &self.faults[self.next_fault..]
    }

    /// Messages on the wire, earliest arrival first.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let mut v: Vec<InFlight> = self
            .queue
            .iter()
            .filter_map(|(at, p)| match p {
                Pending::Deliver { id, from, to, .. } => Some(InFlight {
                    at,
                    id: *id,
                    from: *from,
                    to: *to,
                }),
                _ => None,
            })
            .collect();
        v.extend(self.pool.iter().flatten().filter_map(|p| match p {
            Pending::Deliver { id, from, to, .. } => Some(InFlight {
                at: self.now,
                id: *id,
                from: *from,
                to: *to,
            }),
            _ => None,
        }));
        v.sort_by_key(|m| (m.at, m.id));
        v
    }

    /// The time of the next thing that will happen, if anything will.
    pub fn next_time(&self) -> Option<SimTime> {
        if !self.started {
            return Some(SimTime::ZERO);
        }
        if self.pool.is_some() {
            return (!self.script.is_empty()).then_some(self.now);
        }
        let fault = self.next_fault_time();
        match (fault, self.queue.peek_time()) {
            (Some(f), Some(e)) => Some(f.min(e)),
            (f, e) => f.or(e),
        }
    }

    /// Add a fault to the schedule (it must not lie in the past).
    pub fn schedule(&mut self, fault: ScheduledFault) {
        let at = fault.at.max(self.now);
        let pos = self.faults[self.next_fault..].partition_point(|f| f.at <= at) + self.next_fault;
        self.faults.insert(pos, ScheduledFault { at, ..fault });
    }

    /// Apply `fault.fault` when its event happens (see [`EventFault`]).
    pub fn watch(&mut self, fault: EventFault) {
        self.triggers.watch(fault);
    }

    /// Drop, duplicate or delay the message `fault` names when it is sent.
    pub fn add_message_fault(&mut self, fault: MessageFault) {
        self.triggers.add_message_fault(fault);
    }

    /// Apply what a trigger released: at once, or scheduled `delay` later.
    fn apply_fired(&mut self, fired: Vec<Fired>) {
        for (delay, rank, fault) in fired {
            if delay == SimTime::ZERO {
                self.apply_fault(fault);
            } else {
                let key = (self.now + delay, rank);
                let pos = self.released.partition_point(|(t, r, _)| (*t, *r) <= key);
                self.released.insert(pos, (key.0, rank, fault));
            }
        }
    }

    /// When the next scheduled or released fault is due.
    fn next_fault_time(&self) -> Option<SimTime> {
        let scheduled = self.faults.get(self.next_fault).map(|f| f.at);
        let released = self.released.first().map(|r| r.0);
        match (scheduled, released) {
            (Some(s), Some(r)) => Some(s.min(r)),
            (s, r) => s.or(r),
        }
    }

    /// Take the next fault due: a scheduled one first at the same time.
    fn pop_fault(&mut self) -> (SimTime, Fault) {
        let scheduled = self.faults.get(self.next_fault).map(|f| f.at);
        let released = self.released.first().map(|r| r.0);
        if scheduled.is_some_and(|s| released.is_none_or(|r| s <= r)) {
            let f = self.faults[self.next_fault].clone();
            self.next_fault += 1;
            return (f.at, f.fault);
        }
        let (at, _, fault) = self.released.remove(0);
        (at, fault)
    }

    /// Apply `fault` now, between steps.
    pub fn inject(&mut self, fault: Fault) {
        self.ensure_started();
        self.apply_fault(fault);
    }

    /// Process the next event (starting the nodes first if needed). Returns
    /// false when nothing is left to do.
    pub fn step(&mut self) -> bool {
        if !self.started {
            self.ensure_started();
            return true;
        }
        if self.pool.is_some() {
            return self.step_scripted();
        }
        let fault_at = self.next_fault_time();
        let event_at = self.queue.peek_time();
        let fault_first = match (fault_at, event_at) {
            (Some(f), Some(e)) => f <= e,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return false,
        };
        self.stats.steps += 1;
        if fault_first {
            let (at, fault) = self.pop_fault();
            self.now = self.now.max(at);
            self.apply_fault(fault);
        } else {
            let (at, pending) = self.queue.pop().expect("peeked");
            self.now = at;
            self.dispatch(pending);
        }
        true
    }

    /// Run every event up to and including `t`, then set the clock to `t`.
    pub fn run_until(&mut self, t: SimTime) {
        while self.next_time().is_some_and(|n| n <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Run every event strictly before `t`, then set the clock to `t`. A
    /// fault injected next behaves exactly like one scheduled at `t`.
    pub fn run_before(&mut self, t: SimTime) {
        while self.next_time().is_some_and(|n| n < t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Run until nothing is left or `max_steps` steps have run; returns
    /// whether the world went quiet.
    pub fn run_until_quiescent(&mut self, max_steps: u64) -> bool {
        for _ in 0..max_steps {
            if !self.step() {
                return true;
            }
        }
        self.next_time().is_none()
    }

    pub(super) fn ensure_started(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        self.armed.0.clone_from(&self.faults);
        self.armed.1 = self.triggers.armed();
        for i in 0..self.nodes.len() {
            let id = NodeId(i as u32);
            self.trace.push(self.now, EventKind::Start { node: id });
            let slot = &mut self.nodes[i];
            let mut ctx = Ctx::lazy(self.now, id, &mut slot.rng, &mut self.outbox);
            std::sync::Arc::make_mut(&mut slot.state).on_start(&mut ctx);
            self.flush(id);
        }
    }

    pub(super) fn dispatch(&mut self, pending: Pending<N>) {
        match pending {
            Pending::Deliver { id, from, to, msg } => self.deliver(id, from, to, msg),
            Pending::Timer { node, timer, token } => self.fire(node, timer, token),
            Pending::Resume {
                node,
                incarnation,
                record,
                rest,
            } => {
                // A crash since the write began loses it and what waited on it.
                if self.nodes[node.index()].incarnation == incarnation {
                    self.make_durable(node, *record, true);
                    if self.nodes[node.index()].incarnation != incarnation {
                        // A fault tied to this write crashed the node.
                        return;
                    }
                    self.nodes[node.index()].blocked = false;
                    let mut rest = rest;
                    self.apply_drain(node, &mut rest);
                    self.drain_inbox(node);
                }
            }
            Pending::Durable {
                node,
                incarnation,
                record,
            } => {
                if self.nodes[node.index()].incarnation == incarnation {
                    self.make_durable(node, *record, false);
                }
            }
        }
    }

    fn deliver(&mut self, id: MsgId, from: NodeId, to: NodeId, msg: N::Msg) {
        let reason = if !self.nodes[to.index()].up {
            Some(DropReason::NodeDown)
        } else if self.net.is_blocked(from, to) {
            // The partition began while the message was on the wire.
            Some(DropReason::Partition)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.drop_msg(id, from, to, reason);
            return;
        }
        if self.nodes[to.index()].blocked {
            // Received, but the process is inside fsync: it waits its turn.
            self.nodes[to.index()]
                .inbox
                .push_back(Input::Message { id, from, msg });
            return;
        }
        self.handle_message(id, from, to, msg);
    }

    fn handle_message(&mut self, id: MsgId, from: NodeId, to: NodeId, msg: N::Msg) {
        self.stats.delivered += 1;
        self.trace
            .push(self.now, EventKind::Deliver { msg: id, from, to });
        let fired = if self.triggers.is_empty() {
            Vec::new()
        } else {
            self.triggers.delivered::<N>(from, to, &msg)
        };
        let slot = &mut self.nodes[to.index()];
        let mut ctx = Ctx::lazy(self.now, to, &mut slot.rng, &mut self.outbox);
        std::sync::Arc::make_mut(&mut slot.state).on_message(from, msg, &mut ctx);
        self.flush(to);
        self.apply_fired(fired);
    }

    fn fire(&mut self, node: NodeId, timer: TimerId, token: u64) {
        let slot = &mut self.nodes[node.index()];
        if slot.up && slot.blocked {
            // Judged stale or live when it is handled, not now: the write's
            // own effects may still re-arm or cancel it.
            slot.inbox.push_back(Input::Timer { timer, token });
            return;
        }
        // A re-armed, cancelled or crashed-away timer is stale: skip it.
        if !slot.up || slot.timers.get(&timer) != Some(&token) {
            return;
        }
        slot.timers.remove(&timer);
        self.stats.timers += 1;
        self.trace.push(self.now, EventKind::Timer { node, timer });
        let slot = &mut self.nodes[node.index()];
        let mut ctx = Ctx::lazy(self.now, node, &mut slot.rng, &mut self.outbox);
        std::sync::Arc::make_mut(&mut slot.state).on_timer(timer, &mut ctx);
        self.flush(node);
    }

    /// Apply what the last handler pushed, reusing the outbox's allocation.
    fn flush(&mut self, node: NodeId) {
        let mut effects = std::mem::take(&mut self.outbox);
        if self.write_latency > SimTime::ZERO && !self.volatile_answers {
            hold_outputs_for_writes(&mut effects);
        }
        self.apply_drain(node, &mut effects);
        self.outbox = effects;
    }

    /// Handle what queued up behind a forced write, in arrival order, until
    /// the inbox is empty or a handler blocks the node again.
    fn drain_inbox(&mut self, node: NodeId) {
        loop {
            let slot = &mut self.nodes[node.index()];
            if slot.blocked || !slot.up {
                return;
            }
            let Some(input) = slot.inbox.pop_front() else {
                return;
            };
            match input {
                Input::Message { id, from, msg } => self.handle_message(id, from, node, msg),
                Input::Timer { timer, token } => self.fire(node, timer, token),
            }
        }
    }

    fn apply_drain(&mut self, node: NodeId, effects: &mut Vec<Effect<N>>) {
        let incarnation = self.nodes[node.index()].incarnation;
        let mut iter = effects.drain(..);
        while let Some(effect) = iter.next() {
            if self.nodes[node.index()].incarnation != incarnation {
                // A fault tied to an event of this handler crashed the
                // node: what it had not done yet is lost with it.
                return;
            }
            match effect {
                Effect::Send { to, msg } => self.send(node, to, msg),
                Effect::SetTimer { timer, after } => {
                    let token = self.next_token;
                    self.next_token += 1;
                    self.nodes[node.index()].timers.insert(timer, token);
                    self.enqueue(self.now + after, Pending::Timer { node, timer, token });
                }
                Effect::CancelTimer { timer } => {
                    self.nodes[node.index()].timers.remove(&timer);
                }
                Effect::Record(obs) => self.trace.observe(self.now, node, obs),
                Effect::Persist { record, forced } => {
                    if self.write_latency == SimTime::ZERO {
                        self.make_durable(node, record, forced);
                        continue;
                    }
                    let incarnation = self.nodes[node.index()].incarnation;
                    let at = self.now + self.write_latency;
                    if forced {
                        // Everything after a forced write waits for the disk,
                        // and so does every input that arrives meanwhile.
                        self.nodes[node.index()].blocked = !self.volatile_answers;
                        let rest = iter.collect();
                        self.enqueue(
                            at,
                            Pending::Resume {
                                node,
                                incarnation,
                                record: Box::new(record),
                                rest,
                            },
                        );
                        return;
                    }
                    self.enqueue(
                        at,
                        Pending::Durable {
                            node,
                            incarnation,
                            record: Box::new(record),
                        },
                    );
                }
            }
        }
    }

    fn make_durable(&mut self, node: NodeId, record: N::Record, forced: bool) {
        if forced {
            self.stats.forced_writes += 1;
        } else {
            self.stats.lazy_writes += 1;
        }
        self.trace
            .push(self.now, EventKind::Persist { node, forced });
        self.trace.record_persisted(&record);
        let fired = if self.triggers.is_empty() {
            Vec::new()
        } else {
            self.triggers.written::<N>(node, &record, forced)
        };
        std::sync::Arc::make_mut(&mut self.nodes[node.index()].durable).push(record);
        self.apply_fired(fired);
    }

    pub(super) fn apply_fault(&mut self, fault: Fault) {
        match fault {
            Fault::Crash(node) => self.crash(node),
            Fault::Restart(node) => self.restart(node),
            Fault::Partition { id, a, b, one_way } => {
                self.net.partition(id, &a, &b, one_way, self.nodes.len());
                self.trace.partition(self.now, id, &a, &b, one_way);
            }
            Fault::Heal(id) => {
                if self.net.heal(id) {
                    self.trace.push(self.now, EventKind::Heal { id });
                }
            }
            Fault::HealAll => {
                for id in self.net.heal_all() {
                    self.trace.push(self.now, EventKind::Heal { id });
                }
            }
            Fault::DropMessage(msg) => self.drop_in_flight(msg),
            Fault::DuplicateMessage(msg) => self.duplicate_in_flight(msg),
        }
    }

    fn crash(&mut self, node: NodeId) {
        let Some(slot) = self.nodes.get_mut(node.index()) else {
            return;
        };
        if !slot.up {
            return;
        }
        slot.up = false;
        slot.incarnation += 1;
        slot.timers.clear();
        slot.blocked = false;
        let lost = std::mem::take(&mut slot.inbox);
        // Volatile state is gone; show the boot image until the restart.
        slot.state = std::sync::Arc::clone(&slot.boot);
        self.trace.push(self.now, EventKind::Crash { node });
        for input in lost {
            if let Input::Message { id, from, .. } = input {
                self.drop_msg(id, from, node, DropReason::LostInCrash);
            }
        }
    }

    fn restart(&mut self, node: NodeId) {
        let Some(slot) = self.nodes.get_mut(node.index()) else {
            return;
        };
        if slot.up {
            return;
        }
        slot.up = true;
        slot.state = std::sync::Arc::clone(&slot.boot);
        self.trace.push(self.now, EventKind::Restart { node });
        let slot = &mut self.nodes[node.index()];
        let mut ctx = Ctx::lazy(self.now, node, &mut slot.rng, &mut self.outbox);
        std::sync::Arc::make_mut(&mut slot.state).on_recover(&slot.durable, &mut ctx);
        self.flush(node);
    }

    /// The ids of active partitions.
    pub fn active_partitions(&self) -> Vec<PartitionId> {
        self.net.active_partitions().collect()
    }
}
