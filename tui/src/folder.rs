//! The fold made incremental: everything a pane's view is drawn from,
//! advanced one event at a time. [`Folder::view`] after `n` events equals
//! the old fold of the first `n` events because every field here is a
//! running summary of that prefix (no field looks ahead), which is also
//! what makes a clone of it a valid checkpoint.

use crate::fold::{Fate, FoldOptions, NodeView, PaneView, Phase};
use crate::recording::PaneRun;
use crate::stock::Holding;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use txlab_sim::engine::{EventKind, MsgId, NodeId, Observation, SimTime, Stats, TraceEvent};
use txlab_sim::lab::tally::MetricsTally;
use txlab_sim::protocols::service::Reply;
use txlab_sim::protocols::workload::{Op, TxId};
use txlab_sim::protocols::{Obs, Outcome, Protocol};

/// Diagram rows kept (more than any terminal shows).
pub(crate) const MAX_ROWS: usize = 200;

/// One diagram row in the making: the event that opened it (a send, a
/// duplicate or a fault) and, for a message, where it is now.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Slot {
    pub(crate) event: usize,
    pub(crate) fate: Fate,
    /// Sender and receiver, for a message.
    pub(crate) link: Option<(NodeId, NodeId)>,
}

/// What the events alone say: counters, who is down, what is on the wire,
/// and which events the newest diagram rows come from.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Scan {
    /// The newest rows (only those can be on screen; labels are made for
    /// just these when the view is built, as labels allocate).
    pub(crate) recent: VecDeque<Slot>,
    /// Rows dropped off the front of `recent`.
    base: usize,
    /// The row (sequence number) each message on the wire is drawn in.
    row_of: BTreeMap<MsgId, usize>,
    pub(crate) down: Vec<bool>,
    /// Trace index of each node's last restart.
    pub(crate) restarted: Vec<Option<u64>>,
    pub(crate) wire: BTreeMap<MsgId, (NodeId, NodeId)>,
    pub(crate) faults: Vec<usize>,
    pub(crate) stats: Stats,
}

impl Scan {
    fn new(nodes: usize) -> Self {
        Scan {
            down: vec![false; nodes],
            restarted: vec![None; nodes],
            ..Scan::default()
        }
    }

    fn push(&mut self, event: usize, link: Option<(NodeId, NodeId)>) -> usize {
        if self.recent.len() == MAX_ROWS {
            self.recent.pop_front();
            self.base += 1;
        }
        self.recent.push_back(Slot {
            event,
            fate: Fate::InFlight,
            link,
        });
        self.base + self.recent.len() - 1
    }

    /// Apply event `i`; `hidden` marks background nodes.
    fn apply(&mut self, i: usize, e: &TraceEvent, hidden: &[bool]) {
        let background = |from: NodeId, to: NodeId| {
            hidden.get(from.index()).copied().unwrap_or(false)
                || hidden.get(to.index()).copied().unwrap_or(false)
        };
        self.stats.steps += 1;
        match e.kind {
            EventKind::Send { msg, from, to } => {
                self.stats.sent += 1;
                self.wire.insert(msg, (from, to));
                if !background(from, to) {
                    let seq = self.push(i, Some((from, to)));
                    self.row_of.insert(msg, seq);
                }
            }
            EventKind::Duplicate { msg, copy } => {
                self.stats.duplicated += 1;
                if let Some(&(from, to)) = self.wire.get(&msg) {
                    self.wire.insert(copy, (from, to));
                    if !background(from, to) {
                        let seq = self.push(i, Some((from, to)));
                        self.row_of.insert(copy, seq);
                    }
                }
            }
            EventKind::Deliver { msg, .. } | EventKind::Drop { msg, .. } => {
                let fate = match e.kind {
                    EventKind::Drop { reason, .. } => {
                        self.stats.dropped += 1;
                        Fate::Dropped(reason)
                    }
                    _ => {
                        self.stats.delivered += 1;
                        Fate::Delivered
                    }
                };
                self.wire.remove(&msg);
                if let Some(seq) = self.row_of.remove(&msg) {
                    let base = self.base;
                    if let Some(slot) = seq.checked_sub(base).and_then(|k| self.recent.get_mut(k)) {
                        slot.fate = fate;
                    }
                }
            }
            EventKind::Crash { node } => {
                self.down[node.index()] = true;
                self.push(i, None);
                self.faults.push(i);
            }
            EventKind::Restart { node } => {
                self.down[node.index()] = false;
                self.restarted[node.index()] = Some(i as u64);
                self.push(i, None);
                self.faults.push(i);
            }
            EventKind::Partition { .. } | EventKind::Heal { .. } => {
                self.push(i, None);
                self.faults.push(i);
            }
            EventKind::Persist { forced: true, .. } => self.stats.forced_writes += 1,
            _ => {}
        }
    }
}

/// Transactions by state, as the observations so far tell it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Outcomes {
    state: BTreeMap<TxId, &'static str>,
    local: BTreeMap<(TxId, NodeId), Phase>,
}

impl Outcomes {
    fn apply(&mut self, o: &Observation<Obs>) {
        let tx = o.obs.tx();
        match o.obs {
            Obs::TxStarted { .. } => {
                self.state.entry(tx).or_insert("running");
            }
            Obs::TxFinished { outcome, .. } => {
                self.state.insert(tx, outcome.name());
            }
            Obs::Prepared { .. } => {
                self.local.insert((tx, o.node), Phase::Prepared);
            }
            Obs::InDoubt { .. } => {
                self.local.insert((tx, o.node), Phase::InDoubt);
            }
            Obs::Committed { .. } => {
                self.local.insert((tx, o.node), Phase::Committed);
            }
            Obs::Aborted { .. } => {
                self.local.insert((tx, o.node), Phase::Aborted);
            }
            _ => {}
        }
    }

    /// Counts by state. A 2PC transaction with a participant still in
    /// doubt is "blocked", whatever the coordinator decided; one whose
    /// participants all aborted is "aborted" even if the coordinator never
    /// said.
    pub(crate) fn counts(&self) -> BTreeMap<String, u32> {
        let mut counts = BTreeMap::new();
        for (tx, s) in &self.state {
            let phases: Vec<Phase> = self
                .local
                .range((*tx, NodeId(0))..=(*tx, NodeId(u32::MAX)))
                .map(|(_, p)| *p)
                .collect();
            let s = if phases.contains(&Phase::InDoubt) {
                "blocked"
            } else if *s == "running"
                && !phases.is_empty()
                && phases.iter().all(|p| *p == Phase::Aborted)
            {
                "aborted"
            } else {
                s
            };
            *counts.entry(s.to_string()).or_insert(0) += 1;
        }
        counts
    }
}

/// Per node: the latest fact about the most recent transaction it touched.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Nodes {
    phase: Vec<Phase>,
    detail: Vec<String>,
    locks: Vec<bool>,
    finished: BTreeMap<TxId, Outcome>,
    compensating: BTreeSet<TxId>,
    published: u32,
    last_obs: Vec<Option<u64>>,
}

impl Nodes {
    fn new(nodes: usize) -> Self {
        Nodes {
            phase: vec![Phase::Idle; nodes],
            detail: vec![String::new(); nodes],
            locks: vec![false; nodes],
            last_obs: vec![None; nodes],
            ..Nodes::default()
        }
    }

    fn apply(&mut self, protocol: Protocol, o: &Observation<Obs>) {
        let i = o.node.index();
        self.last_obs[i] = Some(o.index);
        let tx = o.obs.tx();
        let p = match &o.obs {
            Obs::TxStarted { .. } => Some(Phase::Working),
            Obs::TxFinished { outcome, .. } => {
                self.finished.insert(tx, *outcome);
                Some(match outcome {
                    Outcome::Committed | Outcome::Completed => Phase::Committed,
                    Outcome::Compensated => Phase::Compensated,
                    Outcome::Stuck => Phase::Stuck,
                    _ => Phase::Aborted,
                })
            }
            Obs::Prepared { .. } => Some(Phase::Prepared),
            Obs::InDoubt { .. } => Some(Phase::InDoubt),
            Obs::Committed { .. } => Some(Phase::Committed),
            Obs::Aborted { .. } => Some(Phase::Aborted),
            Obs::Decided { commit, .. } => Some(if *commit {
                Phase::Committed
            } else {
                Phase::Aborted
            }),
            Obs::LocksHeld { .. } => {
                self.locks[i] = true;
                None
            }
            Obs::LocksFreed { .. } => {
                self.locks[i] = false;
                None
            }
            Obs::Local { op, reply, .. } => Some(match (op, reply) {
                (Op::Action, Reply::Done) => Phase::Applied,
                (Op::Action, _) => Phase::Aborted,
                (Op::Compensation, _) => {
                    self.compensating.insert(tx);
                    Phase::Compensated
                }
            }),
            Obs::Published { .. } => {
                self.published += 1;
                let n = self.published;
                self.detail[i] = format!("{n} event{}", if n == 1 { "" } else { "s" });
                None
            }
            Obs::Refused { reason, .. } => {
                self.detail[i] = format!("{tx} {reason}");
                return;
            }
            // An inquiry answered with the decision (presumed abort after
            // a coordinator's restart): that is where this node stands.
            Obs::Answered { commit, .. } => {
                self.phase[i] = if *commit {
                    Phase::Committed
                } else {
                    Phase::Aborted
                };
                let word = if *commit { "commit" } else { "abort" };
                self.detail[i] = format!("{tx}: answered {word}");
                return;
            }
            Obs::Retry { .. }
            | Obs::Settled { .. }
            | Obs::Voted { .. }
            | Obs::Read { .. }
            | Obs::ClientTold { .. }
            | Obs::Requested { .. }
            | Obs::AskedAgain { .. } => None,
        };
        if let Some(p) = p {
            self.phase[i] = p;
            if i > 0 || protocol != Protocol::Choreographed {
                self.detail[i] = tx.to_string();
            }
        }
    }

    /// The node lines: what the observations say, corrected by who is down
    /// and by a coordinator's restart.
    fn lines(&self, run: &PaneRun, scan: &Scan, counts: &BTreeMap<String, u32>) -> Vec<NodeView> {
        let (mut phase, mut detail) = (self.phase.clone(), self.detail.clone());
        // A coordinator, orchestrator or broker that restarted and has
        // done nothing since shows that, not what it did before the crash.
        // Once every transaction is settled (its participants all aborted,
        // say) it has nothing left to do, and says so rather than "working".
        let restart = scan.restarted.first().copied().flatten();
        if restart.is_some_and(|r| self.last_obs[0].is_none_or(|o| o < r)) {
            let open: u32 = counts
                .iter()
                .filter(|(s, _)| matches!(s.as_str(), "running" | "blocked"))
                .map(|(_, n)| *n)
                .sum();
            let all = |names: &[&str]| {
                !counts.is_empty() && counts.keys().all(|k| names.contains(&k.as_str()))
            };
            if open > 0 {
                phase[0] = Phase::Working;
                detail[0] = "recovered from its log".into();
            } else {
                if all(&["aborted"]) {
                    phase[0] = Phase::Aborted;
                } else if all(&["committed", "completed"]) {
                    phase[0] = Phase::Committed;
                }
                detail[0] = "recovered; nothing left to decide".into();
            }
        }
        // The orchestrator is compensating while a saga it runs is undoing.
        if run.protocol == Protocol::Orchestrated
            && phase[0] == Phase::Working
            && self
                .compensating
                .iter()
                .any(|t| !self.finished.contains_key(t))
        {
            phase[0] = Phase::Compensating;
        }
        let world = &run.world;
        (0..world.node_count())
            .map(|i| {
                let crashed = scan.down.get(i).copied().unwrap_or(false);
                NodeView {
                    name: world.name(NodeId(i as u32)).to_string(),
                    phase: if crashed { Phase::Crashed } else { phase[i] },
                    detail: if self.locks[i] {
                        format!("{} locks", detail[i]).trim().to_string()
                    } else {
                        detail[i].clone()
                    },
                    locks: self.locks[i],
                }
            })
            .collect()
    }
}

/// A pane's running summary after some number of its events.
#[derive(Clone, Debug, PartialEq)]
pub struct Folder {
    opts: FoldOptions,
    /// Background nodes (all `false` when background traffic is shown).
    hidden: Vec<bool>,
    /// Events applied.
    shown: usize,
    /// Observations applied (those made by the applied events).
    obs_end: usize,
    scan: Scan,
    /// Every transaction.
    all: Outcomes,
    /// The transaction node lines show, when one is chosen.
    mine: Outcomes,
    nodes: Nodes,
    /// Since when each (transaction, participant) has been in doubt.
    doubt: BTreeMap<(TxId, NodeId), SimTime>,
    started: BTreeSet<TxId>,
    stock: Vec<Holding>,
    /// The metrics' running totals (the simulator's own definition).
    tally: MetricsTally,
    /// Applied faults passed (those of the applied events).
    faults_end: usize,
}

impl Folder {
    /// The state before any event of `run`.
    pub fn new(run: &PaneRun, opts: FoldOptions) -> Self {
        let nodes = run.world.node_count();
        let hidden = if opts.background {
            vec![false; nodes]
        } else {
            crate::fold::background_nodes(run)
        };
        Folder {
            opts,
            hidden,
            shown: 0,
            obs_end: 0,
            scan: Scan::new(nodes),
            all: Outcomes::default(),
            mine: Outcomes::default(),
            nodes: Nodes::new(nodes),
            doubt: BTreeMap::new(),
            started: BTreeSet::new(),
            stock: crate::stock::start(&run.spec.workflow),
            tally: MetricsTally::new(nodes),
            faults_end: 0,
        }
    }

    /// Events applied so far.
    pub fn shown(&self) -> usize {
        self.shown
    }

    /// The options it was made with.
    pub fn options(&self) -> FoldOptions {
        self.opts
    }

    /// Apply events until `n` are shown (`n` at least [`Folder::shown`];
    /// clamped to the trace).
    pub fn advance(&mut self, run: &PaneRun, n: usize) {
        let trace = run.world.trace();
        let (events, obs, faults) = (trace.events(), trace.observations(), trace.faults());
        let n = n.min(events.len());
        debug_assert!(n >= self.shown, "a folder only moves forward");
        while self.shown < n {
            let i = self.shown;
            self.scan.apply(i, &events[i], &self.hidden);
            self.shown += 1;
            while let Some(o) = obs
                .get(self.obs_end)
                .filter(|o| (o.index as usize) < self.shown)
            {
                self.observe(run, o);
                self.obs_end += 1;
            }
            // After the observations, as the simulator's uncertainty
            // windows order them (a fault is never the same event as one).
            while let Some(f) = faults
                .get(self.faults_end)
                .filter(|f| (f.index as usize) < self.shown)
            {
                self.tally.fault(f);
                self.faults_end += 1;
            }
        }
    }

    fn observe(&mut self, run: &PaneRun, o: &Observation<Obs>) {
        let tx = o.obs.tx();
        self.all.apply(o);
        if self.opts.tx.is_none_or(|t| t == tx) {
            self.mine.apply(o);
            self.nodes.apply(run.protocol, o);
        }
        match o.obs {
            Obs::InDoubt { .. } => {
                self.doubt.entry((tx, o.node)).or_insert(o.time);
            }
            Obs::Committed { .. } | Obs::Aborted { .. } => {
                self.doubt.remove(&(tx, o.node));
            }
            Obs::TxStarted { .. } => {
                self.started.insert(tx);
            }
            _ => {}
        }
        crate::stock::apply(&run.spec.workflow, &mut self.stock, o);
        self.tally.observe(&run.spec.workflow, o);
    }

    /// The pane as drawn after the applied events.
    pub fn view(&self, run: &PaneRun) -> PaneView {
        let trace = run.world.trace();
        let events = &trace.events()[..self.shown];
        let counts = self.all.counts();
        let node_views = if self.opts.tx.is_some() {
            self.nodes.lines(run, &self.scan, &self.mine.counts())
        } else {
            self.nodes.lines(run, &self.scan, &counts)
        };
        crate::fold::assemble(
            run,
            crate::fold::Parts {
                events,
                scan: &self.scan,
                hidden: &self.hidden,
                outcomes: counts,
                nodes: node_views,
                blocked_since: self.doubt.values().min().copied(),
                started: self.started.len(),
                stock: self.stock.clone(),
                tally: &self.tally,
            },
        )
    }

    /// Claim `shown` events were applied (a test's broken checkpoint).
    #[cfg(test)]
    pub(crate) fn mislabel(&mut self, shown: usize) {
        self.shown = shown;
    }

    /// A rough count of the heap bytes this state holds (what a
    /// checkpoint costs).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let s = &self.scan;
        s.recent.len() * size_of::<Slot>()
            + (s.row_of.len() + s.wire.len()) * 2 * size_of::<(MsgId, (NodeId, NodeId))>()
            + s.faults.len() * size_of::<usize>()
            + (self.all.state.len() + self.mine.state.len()) * 2 * size_of::<(TxId, &str)>()
            + (self.all.local.len() + self.mine.local.len())
                * 2
                * size_of::<((TxId, NodeId), Phase)>()
            + self
                .nodes
                .detail
                .iter()
                .map(|d| d.capacity() + 24)
                .sum::<usize>()
            + (self.nodes.finished.len() + self.nodes.compensating.len()) * 2 * 16
            + (self.doubt.len() + self.started.len()) * 2 * 24
            + self.stock.len() * (size_of::<Holding>() + 16)
    }
}
