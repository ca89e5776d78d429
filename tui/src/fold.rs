//! What one pane shows at the cursor, folded from its trace prefix. The
//! whole view is a pure function of (run, number of events shown), which is
//! what makes stepping back exact: it is the same function with one event
//! fewer.

use crate::folder::{Folder, Scan};
use crate::recording::PaneRun;
use std::collections::BTreeMap;
use txlab_sim::engine::{DropReason, EventKind, MsgId, NodeId, SimTime, TraceEvent};
use txlab_sim::lab::anomaly::Anomaly;
use txlab_sim::lab::tally::MetricsTally;
use txlab_sim::lab::{Metrics, RunView};
use txlab_sim::protocols::Protocol;
use txlab_sim::protocols::workload::TxId;

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

/// The run as the checkers see it after its first `n` events: the
/// observations made so far, ending at the last shown event's time.
pub(crate) fn prefix_view(run: &PaneRun, n: usize) -> RunView<'_> {
    let trace = run.world.trace();
    let events = &trace.events()[..n.min(trace.events().len())];
    let obs_end = trace
        .observations()
        .partition_point(|o| (o.index as usize) < events.len());
    RunView {
        protocol: run.protocol,
        workflow: &run.spec.workflow,
        obs: &trace.observations()[..obs_end],
        faults: trace.faults(),
        final_values: Vec::new(),
        outcomes: BTreeMap::new(),
        healed: false,
        undelivered: 0,
        end: events.last().map_or(SimTime::ZERO, |e| e.time),
        end_index: events.len() as u64,
        by_value: run.spec.toggles.by_value,
    }
}

/// The isolation anomalies found in the first `n` events of `run`, in
/// trace order (what [`metrics`](txlab_sim::lab::metrics::metrics) would
/// report for that prefix). Computed on demand: the overlay is the only
/// place that shows them.
pub fn anomalies(run: &PaneRun, n: usize) -> Vec<Anomaly> {
    txlab_sim::lab::anomaly::detect(&prefix_view(run, n))
}

/// Fold the first `n` events of `run`: the view a [`Folder`] reaches
/// from the start (see [`crate::checkpoints`] for the fast way there).
pub fn fold_with(run: &PaneRun, n: usize, opts: FoldOptions) -> PaneView {
    let mut f = Folder::new(run, opts);
    f.advance(run, n);
    f.view(run)
}

/// In-flight messages listed.
const MAX_IN_FLIGHT: usize = 200;

/// What a [`Folder`] hands over to be drawn.
pub(crate) struct Parts<'a> {
    /// The shown events.
    pub(crate) events: &'a [TraceEvent],
    pub(crate) scan: &'a Scan,
    pub(crate) hidden: &'a [bool],
    pub(crate) outcomes: BTreeMap<String, u32>,
    pub(crate) nodes: Vec<NodeView>,
    pub(crate) blocked_since: Option<SimTime>,
    pub(crate) started: usize,
    pub(crate) stock: Vec<crate::stock::Holding>,
    pub(crate) tally: &'a MetricsTally,
}

/// Build the view: label the newest rows and the wire, and compute the
/// metrics of the shown prefix.
pub(crate) fn assemble(run: &PaneRun, p: Parts<'_>) -> PaneView {
    let trace = run.world.trace();
    let events = p.events;
    let wf = &run.spec.workflow;
    let label = |id: MsgId| {
        trace
            .message(id)
            .map_or_else(|| "?".into(), |m| crate::words::message(m, wf))
    };
    let rows = p
        .scan
        .recent
        .iter()
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
    let is_hidden = |n: NodeId| p.hidden.get(n.index()).copied().unwrap_or(false);
    let shown_wire: Vec<(MsgId, (NodeId, NodeId))> = p
        .scan
        .wire
        .iter()
        .map(|(m, l)| (*m, *l))
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
    let view = prefix_view(run, events.len());
    // Running totals, not a pass over the prefix; the anomalies are left
    // out (only the overlay shows them: [`anomalies`]).
    let metrics = p.tally.metrics(&view, p.scan.stats);
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
        blocked_since: p.blocked_since,
        protocol: run.protocol,
        nodes: p.nodes,
        stock: p.stock,
        rows,
        in_flight,
        in_flight_count,
        faults: p
            .scan
            .faults
            .iter()
            .map(|i| fault_row(&events[*i]))
            .collect(),
        outcomes: p.outcomes,
        metrics,
        started: p.started,
        answered: p.tally.latencies().len(),
        violations,
        shown: events.len(),
    }
}
