//! 2PC's uncertainty window and the part of it that blocks (THEORY.md,
//! "Uncertainty vs blocking").
//!
//! Every YES voter is *uncertain* from its vote (its prepared record
//! durable, [`Obs::Prepared`]) until it learns the decision
//! ([`Obs::Committed`] or [`Obs::Aborted`]). That window exists on every
//! run. A crash of the participant ends its window; a participant that
//! restarts prepared and still without an outcome is uncertain again (its
//! recovery reports [`Obs::InDoubt`] at once) until it learns. The window
//! *blocks* while the coordinator is down or cut off from that participant
//! by a partition (either direction: the question or the answer is lost),
//! which the simulator knows from the applied faults.

use super::view::RunView;
use crate::engine::{Fault, NodeId, PartitionId, SimTime};
use crate::protocols::Obs;
use crate::protocols::workload::TxId;
use std::collections::BTreeMap;

/// One participant's uncertain and blocked time, summed over its
/// transactions and periods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Doubt {
    /// Prepared without knowing the decision.
    pub uncertain: SimTime,
    /// The part of it with the coordinator down or unreachable.
    pub blocked: SimTime,
}

/// Uncertain and blocked time per participant node.
pub fn per_node(view: &RunView<'_>) -> BTreeMap<NodeId, Doubt> {
    let mut out: BTreeMap<NodeId, Doubt> = BTreeMap::new();
    let mut cut: BTreeMap<NodeId, Vec<(SimTime, SimTime)>> = BTreeMap::new();
    for (node, from, to) in windows(view) {
        let cut = cut.entry(node).or_insert_with(|| unreachable(view, node));
        let blocked = cut
            .iter()
            .map(|(a, b)| overlap((from, to), (*a, *b)))
            .fold(SimTime::ZERO, |x, y| x + y);
        let d = out.entry(node).or_default();
        d.uncertain += to - from;
        d.blocked += blocked;
    }
    out
}

fn overlap(x: (SimTime, SimTime), y: (SimTime, SimTime)) -> SimTime {
    let from = x.0.max(y.0);
    let to = x.1.min(y.1);
    if to > from { to - from } else { SimTime::ZERO }
}

/// Every uncertainty period, as (participant, from, to).
fn windows(view: &RunView<'_>) -> Vec<(NodeId, SimTime, SimTime)> {
    let mut open: BTreeMap<(NodeId, TxId), SimTime> = BTreeMap::new();
    let mut out = Vec::new();
    let mut faults = view
        .faults
        .iter()
        .filter(|f| f.index < view.end_index)
        .peekable();
    for o in view.obs {
        // Crashes before this observation end their node's windows.
        while let Some(f) = faults.next_if(|f| f.index < o.index) {
            if let Fault::Crash(n) = f.fault {
                close_node(&mut open, &mut out, n, f.time);
            }
        }
        let key = (o.node, o.obs.tx());
        match o.obs {
            Obs::Prepared { .. } | Obs::InDoubt { .. } => {
                open.entry(key).or_insert(o.time);
            }
            Obs::Committed { .. } | Obs::Aborted { .. } => {
                if let Some(from) = open.remove(&key) {
                    out.push((o.node, from, o.time));
                }
            }
            _ => {}
        }
    }
    for f in faults {
        if let Fault::Crash(n) = f.fault {
            close_node(&mut open, &mut out, n, f.time);
        }
    }
    for ((node, _), from) in open {
        out.push((node, from, view.end.max(from)));
    }
    out
}

fn close_node(
    open: &mut BTreeMap<(NodeId, TxId), SimTime>,
    out: &mut Vec<(NodeId, SimTime, SimTime)>,
    node: NodeId,
    at: SimTime,
) {
    let keys: Vec<(NodeId, TxId)> = open.keys().filter(|k| k.0 == node).copied().collect();
    for k in keys {
        if let Some(from) = open.remove(&k) {
            out.push((node, from, at.max(from)));
        }
    }
}

/// The intervals during which `node` cannot reach the coordinator or hear
/// from it: the coordinator is down, or a partition separates them.
fn unreachable(view: &RunView<'_>, node: NodeId) -> Vec<(SimTime, SimTime)> {
    let central = RunView::CENTRAL;
    let mut down = false;
    let mut parts: BTreeMap<PartitionId, bool> = BTreeMap::new();
    let mut since: Option<SimTime> = None;
    let mut out = Vec::new();
    for f in view.faults.iter().filter(|f| f.index < view.end_index) {
        match &f.fault {
            Fault::Crash(n) if *n == central => down = true,
            Fault::Restart(n) if *n == central => down = false,
            // A one-way partition cuts only a → b, but either lost
            // direction leaves the question or its answer undelivered.
            Fault::Partition { id, a, b, .. } => {
                let separated = (a.contains(&node) && b.contains(&central))
                    || (b.contains(&node) && a.contains(&central));
                parts.insert(*id, separated);
            }
            Fault::Heal(id) => {
                parts.remove(id);
            }
            _ => continue,
        }
        let cut = down || parts.values().any(|c| *c);
        match (cut, since) {
            (true, None) => since = Some(f.time),
            (false, Some(from)) => {
                out.push((from, f.time));
                since = None;
            }
            _ => {}
        }
    }
    if let Some(from) = since {
        out.push((from, view.end.max(from)));
    }
    out
}
