//! What one pane shows at the cursor, folded from its trace prefix. The
//! whole view is a pure function of (run, number of events shown), which is
//! what makes stepping back exact: it is the same function with one event
//! fewer.

use crate::recording::PaneRun;
use std::collections::BTreeMap;
use txlab_sim::engine::{DropReason, EventKind, MsgId, NodeId, SimTime, Stats};
use txlab_sim::lab::metrics::metrics;
use txlab_sim::lab::{Metrics, RunView};
use txlab_sim::protocols::service::Reply;
use txlab_sim::protocols::workload::{Op, TxId};
use txlab_sim::protocols::{Obs, Outcome, Protocol};

/// A node's phase, shown in words and colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing has happened yet.
    Idle,
    /// Working on a transaction (collecting votes, running a saga).
    Working,
    /// 2PC: voted yes, holding locks.
    Prepared,
    /// 2PC: prepared and cut off from the decision: blocked.
    InDoubt,
    /// Committed (2PC) or completed (saga).
    Committed,
    /// Aborted or rejected.
    Aborted,
    /// Saga: a step applied.
    Applied,
    /// Saga: compensations running.
    Compensating,
    /// Saga: undone.
    Compensated,
    /// Saga: a compensation keeps failing.
    Stuck,
    /// Down.
    Crashed,
}

impl Phase {
    /// The phase in words (never colour alone).
    pub fn word(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Working => "working",
            Phase::Prepared => "PREPARED",
            Phase::InDoubt => "IN DOUBT",
            Phase::Committed => "committed",
            Phase::Aborted => "aborted",
            Phase::Applied => "applied",
            Phase::Compensating => "compensating",
            Phase::Compensated => "compensated",
            Phase::Stuck => "STUCK",
            Phase::Crashed => "CRASHED",
        }
    }

    /// A symbol that survives a monochrome projector.
    pub fn symbol(self) -> &'static str {
        match self {
            Phase::Idle => "·",
            Phase::Working => "…",
            Phase::Prepared => "◐",
            Phase::InDoubt => "⏸",
            Phase::Committed | Phase::Applied => "✓",
            Phase::Aborted => "✗",
            Phase::Compensating => "↺",
            Phase::Compensated => "↩",
            Phase::Stuck => "‼",
            Phase::Crashed => "☠",
        }
    }
}

/// One node as the pane shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    /// Its name.
    pub name: String,
    /// Its phase.
    pub phase: Phase,
    /// A short detail ("T3", "locks", "4 events").
    pub detail: String,
    /// Holding 2PC locks.
    pub locks: bool,
}

/// How a diagram row's message ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Arrived.
    Delivered,
    /// Never arrived.
    Dropped(DropReason),
}

/// One row of the space-time diagram.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// A message reached (or failed to reach) its receiver.
    Message {
        /// When it arrived or was dropped.
        time: SimTime,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Label.
        label: String,
        /// Delivered or dropped.
        fate: Fate,
        /// A network duplicate.
        duplicate: bool,
    },
    /// A node crashed.
    Crash(SimTime, NodeId),
    /// A node restarted.
    Restart(SimTime, NodeId),
    /// A partition started or healed.
    Partition(SimTime, bool),
}

/// A message still on the wire at the cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct InFlight {
    /// Its id in this pane's run.
    pub id: MsgId,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Label.
    pub label: String,
}

/// Everything one pane shows at the cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct PaneView {
    /// The protocol.
    pub protocol: Protocol,
    /// Nodes in id order.
    pub nodes: Vec<NodeView>,
    /// The most recent diagram rows (up to 200, newest last).
    pub rows: Vec<Row>,
    /// Messages on the wire (the first 200).
    pub in_flight: Vec<InFlight>,
    /// Transactions by state so far ("running" for started, unfinished).
    pub outcomes: BTreeMap<String, u32>,
    /// Metrics so far.
    pub metrics: Metrics,
    /// Violations whose trace position has been reached.
    pub violations: Vec<String>,
    /// Events shown.
    pub shown: usize,
}

/// Diagram rows kept (more than any terminal shows).
const MAX_ROWS: usize = 200;
/// In-flight messages listed.
const MAX_IN_FLIGHT: usize = 200;

/// One pass over the shown events: counters, who is down, what is on the
/// wire, and which events the newest diagram rows come from.
struct Scan {
    recent: std::collections::VecDeque<usize>,
    down: Vec<bool>,
    /// Trace index of each node's last restart.
    restarted: Vec<Option<u64>>,
    wire: BTreeMap<MsgId, (NodeId, NodeId)>,
    copies: std::collections::BTreeSet<MsgId>,
    stats: Stats,
}

fn scan(events: &[txlab_sim::engine::TraceEvent], nodes: usize) -> Scan {
    let mut restarted = vec![None; nodes];
    // Only the most recent rows can be on screen; remember which events
    // they are and label just those (labels allocate).
    let mut recent: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut down = vec![false; nodes];
    let mut wire: BTreeMap<MsgId, (NodeId, NodeId)> = BTreeMap::new();
    let mut copies = std::collections::BTreeSet::new();
    let mut stats = Stats::default();
    for (i, e) in events.iter().enumerate() {
        let row = match e.kind {
            EventKind::Send { msg, from, to } => {
                stats.sent += 1;
                wire.insert(msg, (from, to));
                false
            }
            EventKind::Duplicate { msg, copy } => {
                stats.duplicated += 1;
                copies.insert(copy);
                if let Some(link) = wire.get(&msg).copied() {
                    wire.insert(copy, link);
                }
                false
            }
            EventKind::Deliver { msg, .. } => {
                stats.delivered += 1;
                wire.remove(&msg);
                true
            }
            EventKind::Drop { msg, .. } => {
                stats.dropped += 1;
                wire.remove(&msg);
                true
            }
            EventKind::Crash { node } => {
                down[node.index()] = true;
                true
            }
            EventKind::Restart { node } => {
                down[node.index()] = false;
                restarted[node.index()] = Some(i as u64);
                true
            }
            EventKind::Partition { .. } | EventKind::Heal { .. } => true,
            EventKind::Persist { forced: true, .. } => {
                stats.forced_writes += 1;
                false
            }
            _ => false,
        };
        if row {
            if recent.len() == MAX_ROWS {
                recent.pop_front();
            }
            recent.push_back(i);
        }
    }
    stats.steps = events.len() as u64;
    Scan {
        recent,
        down,
        restarted,
        wire,
        copies,
        stats,
    }
}

/// Fold the first `n` events of `run`.
pub fn fold(run: &PaneRun, n: usize) -> PaneView {
    let world = &run.world;
    let trace = world.trace();
    let events = &trace.events()[..n.min(trace.events().len())];
    let now = events.last().map_or(SimTime::ZERO, |e| e.time);
    let obs_end = trace
        .observations()
        .partition_point(|o| (o.index as usize) < events.len());
    let obs = &trace.observations()[..obs_end];
    let Scan {
        recent,
        down,
        restarted,
        wire,
        copies,
        stats,
    } = scan(events, world.node_count());
    let label = |id: MsgId| trace.message(id).map_or_else(|| "?".into(), |m| m.label());
    let rows = recent
        .into_iter()
        .map(|i| {
            let e = &events[i];
            match e.kind {
                EventKind::Deliver { msg, from, to } | EventKind::Drop { msg, from, to, .. } => {
                    let fate = match e.kind {
                        EventKind::Drop { reason, .. } => Fate::Dropped(reason),
                        _ => Fate::Delivered,
                    };
                    let duplicate = copies.contains(&msg);
                    Row::Message {
                        time: e.time,
                        from,
                        to,
                        label: label(msg),
                        fate,
                        duplicate,
                    }
                }
                EventKind::Crash { node } => Row::Crash(e.time, node),
                EventKind::Restart { node } => Row::Restart(e.time, node),
                EventKind::Partition { .. } => Row::Partition(e.time, true),
                _ => Row::Partition(e.time, false),
            }
        })
        .collect();
    let in_flight = wire
        .into_iter()
        .take(MAX_IN_FLIGHT)
        .map(|(id, (from, to))| InFlight {
            id,
            from,
            to,
            label: label(id),
        })
        .collect();
    let view = RunView {
        protocol: run.protocol,
        workflow: &run.spec.workflow,
        obs,
        faults: trace.faults(),
        final_values: Vec::new(),
        outcomes: BTreeMap::new(),
        healed: false,
        undelivered: 0,
        end: now,
        end_index: events.len() as u64,
    };
    let metrics = metrics(&view, stats, &txlab_sim::lab::outcome::latencies(&view));
    let violations = run
        .report
        .violations
        .iter()
        .filter(|v| {
            (v.trace_index as usize) < events.len().max(1) || events.len() == trace.events().len()
        })
        .map(|v| format!("{}: {}", v.invariant, v.message))
        .collect();
    PaneView {
        protocol: run.protocol,
        nodes: nodes(run, obs, &down, &restarted),
        rows,
        in_flight,
        outcomes: outcomes(obs),
        metrics,
        violations,
        shown: events.len(),
    }
}

/// Transactions by state so far. A 2PC transaction with a participant
/// still in doubt is "blocked", whatever the coordinator decided; one whose
/// participants all aborted is "aborted" even if the coordinator never said.
fn outcomes(obs: &[txlab_sim::engine::Observation<Obs>]) -> BTreeMap<String, u32> {
    let mut state: BTreeMap<TxId, String> = BTreeMap::new();
    let mut local: BTreeMap<(TxId, NodeId), Phase> = BTreeMap::new();
    for o in obs {
        let tx = o.obs.tx();
        match o.obs {
            Obs::TxStarted { .. } => {
                state.entry(tx).or_insert_with(|| "running".into());
            }
            Obs::TxFinished { outcome, .. } => {
                state.insert(tx, outcome.name().into());
            }
            Obs::Prepared { .. } => {
                local.insert((tx, o.node), Phase::Prepared);
            }
            Obs::InDoubt { .. } => {
                local.insert((tx, o.node), Phase::InDoubt);
            }
            Obs::Committed { .. } => {
                local.insert((tx, o.node), Phase::Committed);
            }
            Obs::Aborted { .. } => {
                local.insert((tx, o.node), Phase::Aborted);
            }
            _ => {}
        }
    }
    for (tx, s) in state.iter_mut() {
        let phases: Vec<Phase> = local
            .range((*tx, NodeId(0))..=(*tx, NodeId(u32::MAX)))
            .map(|(_, p)| *p)
            .collect();
        if phases.contains(&Phase::InDoubt) {
            *s = "blocked".into();
        } else if s == "running"
            && !phases.is_empty()
            && phases.iter().all(|p| *p == Phase::Aborted)
        {
            *s = "aborted".into();
        }
    }
    let mut counts = BTreeMap::new();
    for s in state.into_values() {
        *counts.entry(s).or_insert(0) += 1;
    }
    counts
}

/// Per-node phase from the observations: the latest fact about the most
/// recent transaction each node touched.
fn nodes(
    run: &PaneRun,
    obs: &[txlab_sim::engine::Observation<Obs>],
    down: &[bool],
    restarted: &[Option<u64>],
) -> Vec<NodeView> {
    let world = &run.world;
    let mut phase = vec![Phase::Idle; world.node_count()];
    let mut detail = vec![String::new(); world.node_count()];
    let mut locks = vec![false; world.node_count()];
    let mut finished: BTreeMap<TxId, Outcome> = BTreeMap::new();
    let mut compensating: BTreeMap<TxId, bool> = BTreeMap::new();
    let mut published = 0u32;
    let mut last_obs: Vec<Option<u64>> = vec![None; world.node_count()];
    for o in obs {
        let i = o.node.index();
        last_obs[i] = Some(o.index);
        let tx = o.obs.tx();
        let p = match &o.obs {
            Obs::TxStarted { .. } => Some(Phase::Working),
            Obs::TxFinished { outcome, .. } => {
                finished.insert(tx, *outcome);
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
                locks[i] = true;
                None
            }
            Obs::LocksFreed { .. } => {
                locks[i] = false;
                None
            }
            Obs::Local { op, reply, .. } => Some(match (op, reply) {
                (Op::Action, Reply::Done) => Phase::Applied,
                (Op::Action, _) => Phase::Aborted,
                (Op::Compensation, _) => {
                    compensating.insert(tx, true);
                    Phase::Compensated
                }
            }),
            Obs::Published { .. } => {
                published += 1;
                detail[i] = format!("{published} events");
                None
            }
            Obs::Refused { reason, .. } => {
                detail[i] = format!("{tx} {reason}");
                continue;
            }
            Obs::Retry { .. }
            | Obs::Voted { .. }
            | Obs::Read { .. }
            | Obs::ClientTold { .. }
            | Obs::Requested { .. }
            | Obs::AskedAgain { .. }
            | Obs::Answered { .. } => None,
        };
        if let Some(p) = p {
            phase[i] = p;
            if i > 0 || run.protocol != Protocol::Choreographed {
                detail[i] = tx.to_string();
            }
        }
    }
    // A coordinator, orchestrator or broker that restarted and has done
    // nothing since shows that, not what it did before the crash.
    if restarted[0].is_some_and(|r| last_obs[0].is_none_or(|o| o < r)) {
        phase[0] = Phase::Working;
        detail[0] = "recovered from its log".into();
    }
    // The orchestrator is compensating while a saga it runs is undoing.
    if run.protocol == Protocol::Orchestrated
        && phase[0] == Phase::Working
        && compensating.keys().any(|t| !finished.contains_key(t))
    {
        phase[0] = Phase::Compensating;
    }
    (0..world.node_count())
        .map(|i| {
            let crashed = down.get(i).copied().unwrap_or(false);
            NodeView {
                name: world.name(NodeId(i as u32)).to_string(),
                phase: if crashed { Phase::Crashed } else { phase[i] },
                detail: if locks[i] {
                    format!("{} locks", detail[i]).trim().to_string()
                } else {
                    detail[i].clone()
                },
                locks: locks[i],
            }
        })
        .collect()
}
