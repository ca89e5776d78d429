//! The node API: sans-IO state machines.
//!
//! A node never touches the world. Each input (`on_start`, `on_message`,
//! `on_timer`, `on_recover`) gets the current virtual time and a [`Ctx`] into
//! which it pushes [`Effect`]s as plain data; the world applies them. The same
//! protocol code can therefore be driven by the simulator, by a unit test with
//! no world at all, or by a real runtime.

use super::rng::LazyStream;
use super::{NodeId, SimTime, TimerId};
use rand_chacha::ChaCha8Rng;
use std::fmt::Debug;
use std::hash::Hash;

/// A sans-IO state machine run by the simulator.
///
/// `Clone` is required because the world keeps each node's state as it was
/// before `on_start` (its "boot image"): a restart starts again from that
/// copy, so no volatile state can survive a crash by accident.
pub trait Node: Clone {
    /// Messages this node exchanges with its peers.
    type Msg: Clone + Debug + Hash;
    /// Records written to the node's durable log.
    type Record: Clone + Debug + Hash;
    /// Observations recorded for the checkers and the UI.
    type Obs: Clone + Debug + Hash;

    /// The node starts for the first time, at time zero.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);
    /// A message from `from` arrives.
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, Self>);
    /// A timer the node set fires.
    fn on_timer(&mut self, timer: TimerId, ctx: &mut Ctx<'_, Self>);
    /// The node restarts after a crash: volatile state is back to the boot
    /// image and `log` holds every durable record written before the crash.
    fn on_recover(&mut self, log: &[Self::Record], ctx: &mut Ctx<'_, Self>);

    /// Whether `msg` is of kind `kind`, a word of the protocol's vocabulary
    /// ("prepare"): what faults tied to events match messages by. A node
    /// type without a vocabulary matches nothing.
    fn message_is(msg: &Self::Msg, kind: &str) -> bool {
        let _ = (msg, kind);
        false
    }

    /// Whether `record` is of kind `kind` ("commit"), for faults tied to
    /// log writes. A node type without a vocabulary matches nothing.
    fn record_is(record: &Self::Record, kind: &str) -> bool {
        let _ = (record, kind);
        false
    }
}

/// What a handler asks the world to do.
#[derive(Clone, Debug)]
pub enum Effect<N: Node> {
    /// Send `msg` to `to` through the network.
    Send {
        /// Destination.
        to: NodeId,
        /// Payload.
        msg: N::Msg,
    },
    /// Fire `timer` after `after`; re-arms it if already set.
    SetTimer {
        /// Which timer.
        timer: TimerId,
        /// Delay from now.
        after: SimTime,
    },
    /// Disarm `timer` if it is set.
    CancelTimer {
        /// Which timer.
        timer: TimerId,
    },
    /// Append `record` to the durable log.
    Persist {
        /// The record.
        record: N::Record,
        /// A forced write: the node blocks until it is on disk; the effects
        /// after it and every input that arrives meanwhile wait for it.
        forced: bool,
    },
    /// Record a fact for the checkers and the UI.
    Record(N::Obs),
}

/// The handler's view of the world: the time, its own id, its random stream
/// and the outbox.
pub struct Ctx<'a, N: Node> {
    now: SimTime,
    me: NodeId,
    rng: RngRef<'a>,
    out: &'a mut Vec<Effect<N>>,
}

/// Where a handler's random stream comes from.
enum RngRef<'a> {
    /// A stream the caller made (unit tests driving a node by hand).
    Ready(&'a mut ChaCha8Rng),
    /// The world's stream for this node, made on the first draw.
    Lazy(&'a mut LazyStream),
}

impl<'a, N: Node> Ctx<'a, N> {
    /// A context for one handler call. The world builds these; unit tests
    /// can too, to drive a node without a world.
    pub fn new(
        now: SimTime,
        me: NodeId,
        rng: &'a mut ChaCha8Rng,
        out: &'a mut Vec<Effect<N>>,
    ) -> Self {
        Ctx {
            now,
            me,
            rng: RngRef::Ready(rng),
            out,
        }
    }

    /// The world's context for one handler call: the node's stream is
    /// made only if the handler draws from it.
    pub(super) fn lazy(
        now: SimTime,
        me: NodeId,
        rng: &'a mut LazyStream,
        out: &'a mut Vec<Effect<N>>,
    ) -> Self {
        Ctx {
            now,
            me,
            rng: RngRef::Lazy(rng),
            out,
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// This node's id.
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// This node's own seeded random stream (for retry jitter and the like).
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        match &mut self.rng {
            RngRef::Ready(rng) => rng,
            RngRef::Lazy(stream) => stream.get(),
        }
    }

    /// Send `msg` to `to`.
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        self.out.push(Effect::Send { to, msg });
    }

    /// Fire `timer` after `after` (re-arming it if set).
    pub fn set_timer(&mut self, timer: TimerId, after: SimTime) {
        self.out.push(Effect::SetTimer { timer, after });
    }

    /// Disarm `timer`.
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.out.push(Effect::CancelTimer { timer });
    }

    /// Force `record` to the durable log. The node blocks, as a process in
    /// `fsync` would: the effects pushed after this one, and every message
    /// or timer that reaches the node meanwhile, wait until the record is
    /// durable, and a crash first loses them all with the write. So push
    /// what reveals the new state (a send, an observation) *after* the
    /// persist that makes it survive a crash: that is write-ahead.
    pub fn persist(&mut self, record: N::Record) {
        self.out.push(Effect::Persist {
            record,
            forced: true,
        });
    }

    /// Append `record` to the log without waiting; lost if the node crashes
    /// before the write completes.
    pub fn persist_lazy(&mut self, record: N::Record) {
        self.out.push(Effect::Persist {
            record,
            forced: false,
        });
    }

    /// Record an observation.
    pub fn record(&mut self, obs: N::Obs) {
        self.out.push(Effect::Record(obs));
    }
}
