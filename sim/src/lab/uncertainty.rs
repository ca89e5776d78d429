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
            Fault::HealAll => parts.clear(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{AppliedFault, Observation};
    use crate::protocols::workload::Workflow;
    use crate::protocols::{AbortWhy, Protocol};

    const T: TxId = TxId(0);
    const P: NodeId = NodeId(1);
    const Q: NodeId = NodeId(2);

    /// Observations and faults at millisecond times, in one trace order.
    #[derive(Default)]
    struct Script {
        obs: Vec<Observation<Obs>>,
        faults: Vec<AppliedFault>,
        len: u64,
    }

    impl Script {
        fn obs(mut self, ms: u64, node: NodeId, obs: Obs) -> Self {
            let (index, time) = (self.len, SimTime::from_millis(ms));
            self.obs.push(Observation {
                index,
                time,
                node,
                obs,
            });
            self.len += 1;
            self
        }

        fn fault(mut self, ms: u64, fault: Fault) -> Self {
            let (index, time) = (self.len, SimTime::from_millis(ms));
            self.faults.push(AppliedFault { index, time, fault });
            self.len += 1;
            self
        }

        fn doubt(&self, end_ms: u64) -> BTreeMap<NodeId, (f64, f64)> {
            let wf = Workflow::holiday();
            let view = RunView {
                protocol: Protocol::TwoPc,
                workflow: &wf,
                obs: &self.obs,
                faults: &self.faults,
                final_values: Vec::new(),
                outcomes: BTreeMap::new(),
                healed: true,
                undelivered: 0,
                end: SimTime::from_millis(end_ms),
                end_index: self.len,
            };
            per_node(&view)
                .into_iter()
                .map(|(n, d)| (n, (d.uncertain.as_millis_f64(), d.blocked.as_millis_f64())))
                .collect()
        }
    }

    fn prepared(s: Script, ms: u64, n: NodeId) -> Script {
        s.obs(ms, n, Obs::Prepared { tx: T })
    }

    fn committed(s: Script, ms: u64, n: NodeId) -> Script {
        s.obs(ms, n, Obs::Committed { tx: T })
    }

    #[test]
    fn the_window_is_normal_and_not_blocking_when_nothing_fails() {
        let s = committed(prepared(Script::default(), 10, P), 20, P);
        assert_eq!(s.doubt(100)[&P], (10.0, 0.0));
    }

    #[test]
    fn a_coordinator_crash_blocks_the_window_it_overlaps() {
        let s = prepared(Script::default(), 10, P)
            .fault(12, Fault::Crash(RunView::CENTRAL))
            .fault(18, Fault::Restart(RunView::CENTRAL));
        let s = committed(s, 25, P);
        assert_eq!(s.doubt(100)[&P], (15.0, 6.0));
        // Down before the vote and back after the answer: only the overlap.
        let s = Script::default().fault(5, Fault::Crash(RunView::CENTRAL));
        let s = committed(prepared(s, 10, P), 20, P);
        assert_eq!(s.doubt(100)[&P], (10.0, 10.0));
    }

    #[test]
    fn a_restart_prepared_opens_a_second_period() {
        // Down from 15 to 30: not uncertain while down, uncertain again
        // from its recovery until it learns.
        let s = prepared(Script::default(), 10, P)
            .fault(15, Fault::Crash(P))
            .fault(30, Fault::Restart(P))
            .obs(30, P, Obs::InDoubt { tx: T });
        let s = committed(s, 40, P);
        assert_eq!(s.doubt(100)[&P], (15.0, 0.0));
        // Learned, lost the lazy abort record in a crash, asks again.
        let s = prepared(Script::default(), 10, P).obs(
            12,
            P,
            Obs::Aborted {
                tx: T,
                why: AbortWhy::Decision,
            },
        );
        let s = s
            .fault(14, Fault::Crash(P))
            .fault(50, Fault::Restart(P))
            .obs(50, P, Obs::InDoubt { tx: T })
            .obs(
                57,
                P,
                Obs::Aborted {
                    tx: T,
                    why: AbortWhy::Decision,
                },
            );
        assert_eq!(s.doubt(100)[&P], (9.0, 0.0));
    }

    #[test]
    fn a_partition_blocks_only_the_participants_it_cuts_off() {
        let cut = |one_way| Fault::Partition {
            id: PartitionId(1),
            a: vec![RunView::CENTRAL],
            b: vec![P],
            one_way,
        };
        for one_way in [false, true] {
            let s = prepared(prepared(Script::default(), 10, P), 10, Q)
                .fault(12, cut(one_way))
                .fault(16, Fault::Heal(PartitionId(1)));
            let s = committed(committed(s, 20, P), 20, Q);
            let d = s.doubt(100);
            assert_eq!(d[&P], (10.0, 4.0), "one way: {one_way}");
            assert_eq!(d[&Q], (10.0, 0.0), "one way: {one_way}");
        }
    }

    #[test]
    fn heal_all_ends_the_blocking_a_partition_began() {
        // The UI's "heal all partitions" and the shrinker's heal-all end
        // every partition at once: blocked from 12 to 16, not to the answer.
        let s = prepared(Script::default(), 10, P)
            .fault(
                12,
                Fault::Partition {
                    id: PartitionId(1),
                    a: vec![RunView::CENTRAL],
                    b: vec![P],
                    one_way: false,
                },
            )
            .fault(16, Fault::HealAll);
        let s = committed(s, 20, P);
        assert_eq!(s.doubt(100)[&P], (10.0, 4.0));
    }

    #[test]
    fn a_window_still_open_runs_to_the_end() {
        let s = prepared(Script::default(), 10, P).fault(20, Fault::Crash(RunView::CENTRAL));
        assert_eq!(s.doubt(100)[&P], (90.0, 80.0));
    }
}
