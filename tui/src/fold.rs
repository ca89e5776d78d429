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
    /// Quiz mode: an end state hidden until the room has answered.
    Hidden,
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
            Phase::Hidden => "(hidden)",
        }
    }

    /// A symbol that survives a monochrome projector.
    pub fn symbol(self) -> &'static str {
        match self {
            Phase::Idle => "·",
            Phase::Working => "…",
            Phase::Prepared => "◐",
            Phase::InDoubt => "?",
            Phase::Committed | Phase::Applied => "✓",
            Phase::Aborted => "✗",
            Phase::Compensating => "↺",
            Phase::Compensated => "↩",
            Phase::Stuck => "‼",
            Phase::Crashed => "☠",
            Phase::Hidden => "▒",
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

/// Where a diagram row's message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Sent, not arrived yet.
    InFlight,
    /// Arrived.
    Delivered,
    /// Never arrived.
    Dropped(DropReason),
}

/// One row of the space-time diagram.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// A message, drawn when sent and updated when it arrives (or not).
    Message {
        /// When it was sent.
        time: SimTime,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Label.
        label: String,
        /// In flight, delivered or dropped.
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
    /// Messages on the wire in all (background traffic included only when
    /// shown).
    pub in_flight_count: usize,
    /// Every fault so far (crash, restart, partition, heal), oldest first,
    /// so the diagram can pin those scrolled out of view.
    pub faults: Vec<Row>,
    /// Transactions by state so far ("running" for started, unfinished).
    pub outcomes: BTreeMap<String, u32>,
    /// Metrics so far.
    pub metrics: Metrics,
    /// Transactions started so far.
    pub started: usize,
    /// Transactions whose client has heard the outcome (the ones with a
    /// latency).
    pub answered: usize,
    /// Since when a participant has been in doubt on a transaction not
    /// yet resolved (the blocking the presenter banner times).
    pub blocked_since: Option<SimTime>,
    /// Violations whose trace position has been reached.
    pub violations: Vec<String>,
    /// Every service's balances and stock as applied so far.
    pub stock: Vec<crate::stock::Holding>,
    /// Events shown.
    pub shown: usize,
}

/// Diagram rows kept (more than any terminal shows).
const MAX_ROWS: usize = 200;
/// In-flight messages listed.
const MAX_IN_FLIGHT: usize = 200;

/// One diagram row in the making: the event that opened it (a send, a
/// duplicate or a fault) and, for a message, where it is now.
struct Slot {
    event: usize,
    fate: Fate,
    /// Sender and receiver, for a message.
    link: Option<(NodeId, NodeId)>,
}

/// One pass over the shown events: counters, who is down, what is on the
/// wire, and which events the newest diagram rows come from.
struct Scan {
    /// The newest rows.
    recent: std::collections::VecDeque<Slot>,
    down: Vec<bool>,
    /// Trace index of each node's last restart.
    restarted: Vec<Option<u64>>,
    wire: BTreeMap<MsgId, (NodeId, NodeId)>,
    faults: Vec<usize>,
    stats: Stats,
}

fn scan(events: &[txlab_sim::engine::TraceEvent], nodes: usize, hidden: &[bool]) -> Scan {
    let mut restarted = vec![None; nodes];
    // Only the most recent rows can be on screen; remember which events
    // they are and label just those (labels allocate).
    let mut recent: std::collections::VecDeque<Slot> = std::collections::VecDeque::new();
    let mut base = 0usize;
    // The row (sequence number) each message on the wire is drawn in.
    let mut row_of: BTreeMap<MsgId, usize> = BTreeMap::new();
    let mut down = vec![false; nodes];
    let mut wire: BTreeMap<MsgId, (NodeId, NodeId)> = BTreeMap::new();
    let mut faults = Vec::new();
    let mut stats = Stats::default();
    let background = |from: NodeId, to: NodeId| {
        hidden.get(from.index()).copied().unwrap_or(false)
            || hidden.get(to.index()).copied().unwrap_or(false)
    };
    fn push(
        recent: &mut std::collections::VecDeque<Slot>,
        base: &mut usize,
        event: usize,
        link: Option<(NodeId, NodeId)>,
    ) -> usize {
        if recent.len() == MAX_ROWS {
            recent.pop_front();
            *base += 1;
        }
        recent.push_back(Slot {
            event,
            fate: Fate::InFlight,
            link,
        });
        *base + recent.len() - 1
    }
    for (i, e) in events.iter().enumerate() {
        match e.kind {
            EventKind::Send { msg, from, to } => {
                stats.sent += 1;
                wire.insert(msg, (from, to));
                if !background(from, to) {
                    let seq = push(&mut recent, &mut base, i, Some((from, to)));
                    row_of.insert(msg, seq);
                }
            }
            EventKind::Duplicate { msg, copy } => {
                stats.duplicated += 1;
                if let Some(&(from, to)) = wire.get(&msg) {
                    wire.insert(copy, (from, to));
                    if !background(from, to) {
                        let seq = push(&mut recent, &mut base, i, Some((from, to)));
                        row_of.insert(copy, seq);
                    }
                }
            }
            EventKind::Deliver { msg, .. } | EventKind::Drop { msg, .. } => {
                let fate = match e.kind {
                    EventKind::Drop { reason, .. } => {
                        stats.dropped += 1;
                        Fate::Dropped(reason)
                    }
                    _ => {
                        stats.delivered += 1;
                        Fate::Delivered
                    }
                };
                wire.remove(&msg);
                if let Some(seq) = row_of.remove(&msg) {
                    if let Some(slot) = seq.checked_sub(base).and_then(|k| recent.get_mut(k)) {
                        slot.fate = fate;
                    }
                }
            }
            EventKind::Crash { node } => {
                down[node.index()] = true;
                push(&mut recent, &mut base, i, None);
                faults.push(i);
            }
            EventKind::Restart { node } => {
                down[node.index()] = false;
                restarted[node.index()] = Some(i as u64);
                push(&mut recent, &mut base, i, None);
                faults.push(i);
            }
            EventKind::Partition { .. } | EventKind::Heal { .. } => {
                push(&mut recent, &mut base, i, None);
                faults.push(i);
            }
            EventKind::Persist { forced: true, .. } => stats.forced_writes += 1,
            _ => {}
        }
    }
    stats.steps = events.len() as u64;
    Scan {
        recent,
        down,
        restarted,
        wire,
        faults,
        stats,
    }
}

/// What a fold draws beyond the protocol itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FoldOptions {
    /// Show background traffic (the auditor's reads) in the diagram and the
    /// in-flight list.
    pub background: bool,
    /// Node lines show only this transaction (`None`: each node's latest).
    pub tx: Option<TxId>,
}

/// Nodes whose traffic is background (the auditor), by index.
pub fn background_nodes(run: &PaneRun) -> Vec<bool> {
    (0..run.world.node_count())
        .map(|i| {
            matches!(
                run.world.node(NodeId(i as u32)),
                txlab_sim::protocols::LabNode::Auditor(_)
            )
        })
        .collect()
}

/// Fold the first `n` events of `run` (background traffic hidden).
pub fn fold(run: &PaneRun, n: usize) -> PaneView {
    fold_with(run, n, FoldOptions::default())
}

/// A fault event as a diagram row.
fn fault_row(e: &txlab_sim::engine::TraceEvent) -> Row {
    match e.kind {
        EventKind::Crash { node } => Row::Crash(e.time, node),
        EventKind::Restart { node } => Row::Restart(e.time, node),
        EventKind::Partition { .. } => Row::Partition(e.time, true),
        _ => Row::Partition(e.time, false),
    }
}

/// Fold the first `n` events of `run`.
pub fn fold_with(run: &PaneRun, n: usize, opts: FoldOptions) -> PaneView {
    let world = &run.world;
    let trace = world.trace();
    let events = &trace.events()[..n.min(trace.events().len())];
    let now = events.last().map_or(SimTime::ZERO, |e| e.time);
    let obs_end = trace
        .observations()
        .partition_point(|o| (o.index as usize) < events.len());
    let obs = &trace.observations()[..obs_end];
    let hidden = if opts.background {
        vec![false; world.node_count()]
    } else {
        background_nodes(run)
    };
    let Scan {
        recent,
        down,
        restarted,
        wire,
        faults,
        stats,
    } = scan(events, world.node_count(), &hidden);
    let wf = &run.spec.workflow;
    let label = |id: MsgId| {
        trace
            .message(id)
            .map_or_else(|| "?".into(), |m| crate::words::message(m, wf))
    };
    let rows = recent
        .into_iter()
        .map(|slot| {
            let e = &events[slot.event];
            match e.kind {
                EventKind::Send { msg, from, to } => Row::Message {
                    time: e.time,
                    from,
                    to,
                    label: label(msg),
                    fate: slot.fate,
                    duplicate: false,
                },
                EventKind::Duplicate { copy, .. } => {
                    let (from, to) = slot.link.unwrap_or((NodeId(0), NodeId(0)));
                    Row::Message {
                        time: e.time,
                        from,
                        to,
                        label: label(copy),
                        fate: slot.fate,
                        duplicate: true,
                    }
                }
                _ => fault_row(e),
            }
        })
        .collect();
    let is_hidden = |n: NodeId| hidden.get(n.index()).copied().unwrap_or(false);
    let shown_wire: Vec<(MsgId, (NodeId, NodeId))> = wire
        .into_iter()
        .filter(|(_, (f, t))| !is_hidden(*f) && !is_hidden(*t))
        .collect();
    let in_flight_count = shown_wire.len();
    let in_flight = shown_wire
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
    let latencies = txlab_sim::lab::outcome::latencies(&view);
    let metrics = metrics(&view, stats, &latencies);
    let started = obs
        .iter()
        .filter(|o| matches!(o.obs, Obs::TxStarted { .. }))
        .map(|o| o.obs.tx())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let violations = run
        .report
        .violations
        .iter()
        .filter(|v| {
            (v.trace_index as usize) < events.len().max(1) || events.len() == trace.events().len()
        })
        .map(|v| format!("{}: {}", v.invariant, v.message))
        .collect();
    let counts = outcomes(obs);
    let mut doubt: BTreeMap<(TxId, NodeId), SimTime> = BTreeMap::new();
    for o in obs {
        match o.obs {
            Obs::InDoubt { tx } => {
                doubt.entry((tx, o.node)).or_insert(o.time);
            }
            Obs::Committed { tx } | Obs::Aborted { tx, .. } => {
                doubt.remove(&(tx, o.node));
            }
            _ => {}
        }
    }
    // Node lines for one transaction read only its observations.
    let node_views = match opts.tx {
        Some(tx) => {
            let mine: Vec<_> = obs.iter().filter(|o| o.obs.tx() == tx).cloned().collect();
            nodes(run, &mine, &down, &restarted, &outcomes(&mine))
        }
        None => nodes(run, obs, &down, &restarted, &counts),
    };
    PaneView {
        blocked_since: doubt.values().min().copied(),
        protocol: run.protocol,
        nodes: node_views,
        stock: crate::stock::holdings(&run.spec.workflow, obs),
        rows,
        in_flight,
        in_flight_count,
        faults: faults.into_iter().map(|i| fault_row(&events[i])).collect(),
        outcomes: counts,
        metrics,
        started,
        answered: latencies.len(),
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
    counts: &BTreeMap<String, u32>,
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
                detail[i] = format!("{published} event{}", if published == 1 { "" } else { "s" });
                None
            }
            Obs::Refused { reason, .. } => {
                detail[i] = format!("{tx} {reason}");
                continue;
            }
            // An inquiry answered with the decision (presumed abort after
            // a coordinator's restart): that is where this node stands.
            Obs::Answered { commit, .. } => {
                phase[i] = if *commit {
                    Phase::Committed
                } else {
                    Phase::Aborted
                };
                detail[i] = format!(
                    "{tx}: answered {}",
                    if *commit { "commit" } else { "abort" }
                );
                continue;
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
            phase[i] = p;
            if i > 0 || run.protocol != Protocol::Choreographed {
                detail[i] = tx.to_string();
            }
        }
    }
    // A coordinator, orchestrator or broker that restarted and has done
    // nothing since shows that, not what it did before the crash.
    // Once every transaction is settled (its participants all aborted, say)
    // it has nothing left to do, and says so rather than "working".
    if restarted[0].is_some_and(|r| last_obs[0].is_none_or(|o| o < r)) {
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
