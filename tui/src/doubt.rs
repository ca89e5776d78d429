//! 2PC's uncertain and blocked time as running totals: what
//! `txlab_sim::lab::uncertainty::per_node` computes for a prefix, kept one
//! observation and one fault at a time.
//!
//! The function looks at the whole prefix (a window is blocked where it
//! overlaps a time the participant could not reach the coordinator), but a
//! window that has closed overlaps only what happened before it closed:
//! an unreachable stretch still open then runs at least to the window's
//! end, whatever closes it later. So a closed window's share is final, and
//! only the windows and the stretch still open are measured against the
//! cursor's time.

use std::collections::BTreeMap;
use txlab_sim::engine::{AppliedFault, Fault, NodeId, Observation, PartitionId, SimTime};
use txlab_sim::lab::RunView;
use txlab_sim::lab::uncertainty::Doubt;
use txlab_sim::protocols::Obs;
use txlab_sim::protocols::workload::TxId;

/// When one participant could not reach the coordinator.
#[derive(Clone, Debug, Default, PartialEq)]
struct Reach {
    /// Partitions by id: whether each separates this node from the
    /// coordinator.
    parts: BTreeMap<PartitionId, bool>,
    /// Cut off since.
    since: Option<SimTime>,
    /// Stretches cut off, closed.
    cut: Vec<(SimTime, SimTime)>,
}

impl Reach {
    /// Blocked time within `(from, to)`, the open stretch running to `to`
    /// at least.
    fn blocked(&self, from: SimTime, to: SimTime) -> SimTime {
        let open = self.since.map(|s| (s, to.max(s)));
        self.cut
            .iter()
            .chain(open.iter())
            .map(|(a, b)| overlap((from, to), (*a, *b)))
            .fold(SimTime::ZERO, |x, y| x + y)
    }
}

fn overlap(x: (SimTime, SimTime), y: (SimTime, SimTime)) -> SimTime {
    let from = x.0.max(y.0);
    let to = x.1.min(y.1);
    if to > from { to - from } else { SimTime::ZERO }
}

/// Uncertainty windows and reachability so far, per participant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Uncertainty {
    /// Windows open, per (participant, transaction): since when.
    open: BTreeMap<(NodeId, TxId), SimTime>,
    /// Closed windows' totals per participant.
    closed: BTreeMap<NodeId, Doubt>,
    /// The coordinator is down.
    down: bool,
    /// Reachability per node (by index).
    reach: Vec<Reach>,
}

impl Uncertainty {
    /// For a run of `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        Uncertainty {
            reach: vec![Reach::default(); nodes],
            ..Uncertainty::default()
        }
    }

    /// Add one observation (in trace order, with the faults before it
    /// added first).
    pub fn observe(&mut self, o: &Observation<Obs>) {
        let key = (o.node, o.obs.tx());
        match o.obs {
            Obs::Prepared { .. } | Obs::InDoubt { .. } => {
                self.open.entry(key).or_insert(o.time);
            }
            Obs::Committed { .. } | Obs::Aborted { .. } => {
                if let Some(from) = self.open.remove(&key) {
                    self.close(o.node, from, o.time);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, node: NodeId, from: SimTime, to: SimTime) {
        let blocked = self
            .reach
            .get(node.index())
            .map_or(SimTime::ZERO, |r| r.blocked(from, to));
        let d = self.closed.entry(node).or_default();
        d.uncertain += to - from;
        d.blocked += blocked;
    }

    /// Add one applied fault (in trace order).
    pub fn fault(&mut self, f: &AppliedFault) {
        let central = RunView::CENTRAL;
        // A crash ends the crashed node's windows.
        if let Fault::Crash(n) = f.fault {
            let keys: Vec<(NodeId, TxId)> =
                self.open.keys().filter(|k| k.0 == n).copied().collect();
            for k in keys {
                if let Some(from) = self.open.remove(&k) {
                    self.close(n, from, f.time.max(from));
                }
            }
        }
        match &f.fault {
            Fault::Crash(n) if *n == central => self.down = true,
            Fault::Restart(n) if *n == central => self.down = false,
            Fault::Partition { .. } | Fault::Heal(_) | Fault::HealAll => {}
            _ => return,
        }
        for (i, r) in self.reach.iter_mut().enumerate() {
            let node = NodeId(i as u32);
            match &f.fault {
                // A one-way partition cuts only a → b, but either lost
                // direction leaves the question or its answer undelivered.
                Fault::Partition { id, a, b, .. } => {
                    let separated = (a.contains(&node) && b.contains(&central))
                        || (b.contains(&node) && a.contains(&central));
                    r.parts.insert(*id, separated);
                }
                Fault::Heal(id) => {
                    r.parts.remove(id);
                }
                Fault::HealAll => r.parts.clear(),
                _ => {}
            }
            let cut = self.down || r.parts.values().any(|c| *c);
            match (cut, r.since) {
                (true, None) => r.since = Some(f.time),
                (false, Some(from)) => {
                    r.cut.push((from, f.time));
                    r.since = None;
                }
                _ => {}
            }
        }
    }

    /// Uncertain and blocked time per participant at `end` (the time of
    /// the last shown event).
    pub fn per_node(&self, end: SimTime) -> BTreeMap<NodeId, Doubt> {
        let mut out = self.closed.clone();
        for ((node, _), from) in &self.open {
            let to = end.max(*from);
            let blocked = self
                .reach
                .get(node.index())
                .map_or(SimTime::ZERO, |r| r.blocked(*from, to));
            let d = out.entry(*node).or_default();
            d.uncertain += to - *from;
            d.blocked += blocked;
        }
        out
    }
}
