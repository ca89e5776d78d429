//! The simulated network: latency, loss, duplication, ordering and
//! partitions. It decides the fate of each message; the world schedules it.

use super::{NodeId, PartitionId, SimTime};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a message takes on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// Uniform between `min` and `max` inclusive.
    Uniform {
        /// Fastest delivery.
        min: SimTime,
        /// Slowest delivery.
        max: SimTime,
    },
    /// Long-tailed: Pareto with scale `min` and shape `alpha`, capped at `max`.
    /// Most messages are near `min`; a few are very late.
    Pareto {
        /// Scale: the fastest delivery.
        min: SimTime,
        /// Shape: smaller means a heavier tail (1.0 to 3.0 is typical).
        alpha: f64,
        /// Cap on the delay, so a run stays finite.
        max: SimTime,
    },
}

impl Latency {
    /// A uniform latency between `min_ms` and `max_ms` milliseconds.
    pub fn uniform_ms(min_ms: u64, max_ms: u64) -> Self {
        Latency::Uniform {
            min: SimTime::from_millis(min_ms),
            max: SimTime::from_millis(max_ms),
        }
    }

    /// Draw one delay.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> SimTime {
        match *self {
            Latency::Uniform { min, max } if max.0 <= min.0 => min,
            Latency::Uniform { min, max } => SimTime(rng.random_range(min.0..=max.0)),
            Latency::Pareto { min, alpha, max } => {
                // Inverse transform; 1 - u lies in (0, 1], so the power is finite.
                let u: f64 = rng.random();
                let factor = (1.0 - u).powf(-1.0 / alpha.max(0.01));
                let us = (min.0 as f64 * factor).min(max.0 as f64);
                SimTime(us as u64).max(min)
            }
        }
    }
}

/// The behaviour of one directed link (or of all links by default).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    /// The delay distribution.
    pub latency: Latency,
    /// Probability that a message is lost.
    pub loss_probability: f64,
    /// Probability that a message is delivered twice; the copy draws its own
    /// delay, so it can overtake the original.
    pub duplicate_probability: f64,
    /// Deliver in send order on this link (per-link FIFO).
    pub fifo: bool,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Latency::uniform_ms(1, 10),
            loss_probability: 0.0,
            duplicate_probability: 0.0,
            fifo: false,
        }
    }
}

/// The network's configuration: a default for every link plus overrides.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    /// Applies to every link without an override.
    pub default: LinkConfig,
    /// Per directed link `(from, to)`.
    pub links: BTreeMap<(NodeId, NodeId), LinkConfig>,
}

/// Why a message never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The network lost it at random.
    Loss,
    /// A partition separated sender and receiver.
    Partition,
    /// The receiver was crashed when it arrived.
    NodeDown,
    /// Dropped on purpose by an injected fault.
    Injected,
    /// It arrived while the receiver was blocked on a forced write and
    /// waited in its input queue; the receiver crashed before handling it.
    LostInCrash,
    /// Explorer only: an identical message was still on the wire, and the
    /// explored network carries one copy of each (a resend adds nothing it
    /// could not already deliver; without this, retransmission timers would
    /// make the explored space infinite).
    AlreadyInFlight,
}

impl DropReason {
    /// A short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::NodeDown => "node down",
            DropReason::Injected => "injected",
            DropReason::LostInCrash => "lost in crash",
            DropReason::AlreadyInFlight => "already in flight",
        }
    }
}

/// What the network decided for one send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Dropped at once.
    Dropped(DropReason),
    /// Arrives at the first time; a duplicate, if any, at the second.
    Arrives(SimTime, Option<SimTime>),
}

/// One active partition: messages from a member of `a` to a member of `b`
/// are dropped, and the other way too unless it is one-way.
#[derive(Clone, Debug)]
struct ActivePartition {
    id: PartitionId,
    a: Vec<bool>,
    b: Vec<bool>,
    one_way: bool,
}

impl ActivePartition {
    fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        let has = |side: &[bool], n: NodeId| side.get(n.index()).copied().unwrap_or(false);
        (has(&self.a, from) && has(&self.b, to))
            || (!self.one_way && has(&self.b, from) && has(&self.a, to))
    }
}

/// The network state: configuration, partitions, FIFO bookkeeping and its
/// own random stream.
#[derive(Clone, Debug)]
pub struct Network {
    config: NetConfig,
    partitions: Vec<ActivePartition>,
    /// Last scheduled arrival per FIFO link, so later sends never overtake.
    fifo_last: BTreeMap<(NodeId, NodeId), SimTime>,
    rng: ChaCha8Rng,
}

impl Network {
    /// A network with `config`, drawing from `rng`.
    pub fn new(config: NetConfig, rng: ChaCha8Rng) -> Self {
        Network {
            config,
            partitions: Vec::new(),
            fifo_last: BTreeMap::new(),
            rng,
        }
    }

    /// Back to no partitions and no FIFO history, drawing from `rng`: the
    /// network as [`Network::new`] makes it, with its allocations kept.
    pub fn reset(&mut self, rng: ChaCha8Rng) {
        self.partitions.clear();
        self.fifo_last.clear();
        self.rng = rng;
    }

    /// The configuration in force.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    fn link(&self, from: NodeId, to: NodeId) -> &LinkConfig {
        if self.config.links.is_empty() {
            return &self.config.default;
        }
        self.config
            .links
            .get(&(from, to))
            .unwrap_or(&self.config.default)
    }

    /// Whether a partition currently blocks `from → to`.
    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        self.partitions.iter().any(|p| p.blocks(from, to))
    }

    /// Decide what happens to a message sent now from `from` to `to`.
    pub fn route(&mut self, now: SimTime, from: NodeId, to: NodeId) -> Fate {
        if self.is_blocked(from, to) {
            return Fate::Dropped(DropReason::Partition);
        }
        // A copy (a few words), since drawing the arrival borrows `self`.
        let link = *self.link(from, to);
        // Draws are skipped when a probability is zero, so a lossless run
        // does not pay for them; this is deterministic either way.
        if link.loss_probability > 0.0 && self.rng.random_bool(link.loss_probability.min(1.0)) {
            return Fate::Dropped(DropReason::Loss);
        }
        let first = self.arrival(now, from, to, &link);
        let copy = (link.duplicate_probability > 0.0
            && self.rng.random_bool(link.duplicate_probability.min(1.0)))
        .then(|| self.arrival(now, from, to, &link));
        Fate::Arrives(first, copy)
    }

    fn arrival(&mut self, now: SimTime, from: NodeId, to: NodeId, link: &LinkConfig) -> SimTime {
        let at = now + link.latency.sample(&mut self.rng);
        if !link.fifo {
            return at;
        }
        // Equal times keep send order because the queue breaks ties by
        // sequence number.
        let last = self.fifo_last.entry((from, to)).or_insert(SimTime::ZERO);
        let at = at.max(*last);
        *last = at;
        at
    }

    /// Start a partition between `a` and `b` (one-way: only `a → b` blocked).
    pub fn partition(
        &mut self,
        id: PartitionId,
        a: &[NodeId],
        b: &[NodeId],
        one_way: bool,
        nodes: usize,
    ) {
        let side = |members: &[NodeId]| {
            let mut v = vec![false; nodes];
            for n in members {
                if let Some(slot) = v.get_mut(n.index()) {
                    *slot = true;
                }
            }
            v
        };
        self.partitions.push(ActivePartition {
            id,
            a: side(a),
            b: side(b),
            one_way,
        });
    }

    /// Heal partition `id`; returns whether it was active.
    pub fn heal(&mut self, id: PartitionId) -> bool {
        let before = self.partitions.len();
        self.partitions.retain(|p| p.id != id);
        before != self.partitions.len()
    }

    /// Heal every partition; returns the healed ids in start order.
    pub fn heal_all(&mut self) -> Vec<PartitionId> {
        self.partitions.drain(..).map(|p| p.id).collect()
    }

    /// The ids of the active partitions, in start order.
    pub fn active_partitions(&self) -> impl Iterator<Item = PartitionId> + '_ {
        self.partitions.iter().map(|p| p.id)
    }
}
