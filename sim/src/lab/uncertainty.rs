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
//!
//! One definition, kept one event at a time: [`UncertaintyTally`] is fed
//! the observations and applied faults in trace order, and [`per_node`]
//! is that tally folded over a whole run (the UI keeps one per pane and
//! asks it at every cursor move). It needs no look-ahead: a window that
//! has closed overlaps only what happened before it closed (an
//! unreachable stretch still open then runs at least to the window's end,
//! whatever closes it later), so a closed window's share is final, and
//! only the windows and the stretch still open are measured against the
//! end of the prefix.

use super::tally::{Event, in_trace_order};
use super::view::RunView;
use crate::engine::{AppliedFault, Fault, NodeId, Observation, PartitionId, SimTime};
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

/// Uncertain and blocked time per participant node over the whole view
/// (its observations, and its faults before `end_index`).
pub fn per_node(view: &RunView<'_>) -> BTreeMap<NodeId, Doubt> {
    // Only nodes that report have windows, so these are all it tracks.
    let nodes = view.obs.iter().map(|o| o.node.index() + 1).max();
    let mut t = UncertaintyTally::new(nodes.unwrap_or(0));
    for e in in_trace_order(view) {
        match e {
            Event::Obs(o) => t.observe(o),
            Event::Fault(f) => t.fault(f),
        }
    }
    t.per_node(view.end)
}

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

/// Uncertainty windows and reachability over a prefix of a run, per
/// participant: fed one observation and one applied fault at a time, in
/// trace order; cheap to clone (the UI keeps copies as checkpoints).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UncertaintyTally {
    /// Windows open, per (participant, transaction): since when.
    open: BTreeMap<(NodeId, TxId), SimTime>,
    /// Closed windows' totals per participant.
    closed: BTreeMap<NodeId, Doubt>,
    /// The coordinator is down.
    down: bool,
    /// Reachability per node (by index).
    reach: Vec<Reach>,
}

impl UncertaintyTally {
    /// Nothing seen yet, for a run of `nodes` nodes (a node past them is
    /// taken as never cut off).
    pub fn new(nodes: usize) -> Self {
        UncertaintyTally {
            reach: vec![Reach::default(); nodes],
            ..UncertaintyTally::default()
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

    /// Add one applied fault (in trace order, after the observations made
    /// before it).
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

    /// Uncertain and blocked time per participant, the windows still open
    /// running to `end` (the time of the prefix's last event).
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
                by_value: None,
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
