//! Moments: the places on the merged timeline worth stopping at (a
//! narration line, a fault, a decision, a node falling in doubt, an outcome,
//! a violation), so `n` and `N` can jump between them.

use crate::recording::PaneRun;
use txlab_sim::engine::{EventKind as E, SimTime};
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::lab::scenario::format::Narration;
use txlab_sim::protocols::workload::{Op, TxId};
use txlab_sim::protocols::{Obs, Outcome, Protocol};

/// A place worth stopping at.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    /// The cursor (steps shown) at which it is on screen.
    pub cursor: usize,
    /// What happens there, in words.
    pub what: String,
}

/// Whether event `index` of `run` is of the narration kind `on` (`crash`,
/// `restart`, `partition`, `heal`, `decision`, `in_doubt`, `compensation`,
/// `stuck`, `retry`).
pub fn matches_on(run: &PaneRun, index: usize, on: &str) -> bool {
    let trace = run.world.trace();
    let Some(e) = trace.events().get(index) else {
        return false;
    };
    match e.kind {
        E::Crash { .. } => on == "crash",
        E::Restart { .. } => on == "restart",
        E::Partition { .. } => on == "partition",
        E::Heal { .. } => on == "heal",
        E::Observe { obs, .. } => {
            let o = &trace.observations()[obs as usize].obs;
            matches!(
                (on, o),
                ("decision", Obs::Decided { .. })
                    | ("in_doubt", Obs::InDoubt { .. })
                    | ("retry", Obs::Retry { .. })
                    | (
                        "stuck",
                        Obs::TxFinished {
                            outcome: Outcome::Stuck,
                            ..
                        }
                    )
                    | (
                        "compensation",
                        Obs::Local {
                            op: Op::Compensation,
                            ..
                        }
                    )
            )
        }
        _ => false,
    }
}

/// The cursor at which a trigger (`at_ms`, or the first event of kind
/// `on`) is first reached, counting only `protocol`'s pane when one is
/// named (`None`: never in this run). `cursor_of[p][i]` is the cursor
/// showing event `i` of pane `p`; `times` the time of each step. A time is
/// the same on every pane, so `protocol` only narrows `on`.
pub fn trigger_cursor(
    at_ms: Option<u64>,
    on: Option<&str>,
    protocol: Option<Protocol>,
    panes: &[PaneRun],
    cursor_of: &[Vec<u32>],
    times: &[SimTime],
) -> Option<usize> {
    match (at_ms, on) {
        (Some(ms), _) => {
            let at = SimTime::from_millis(ms);
            let pp = times.partition_point(|t| *t < at);
            (pp < times.len()).then_some(pp + 1)
        }
        (None, Some(on)) => panes
            .iter()
            .zip(cursor_of)
            .filter(|(run, _)| protocol.is_none_or(|p| p == run.protocol))
            .filter_map(|(run, cursors)| {
                let n = run.world.trace().events().len();
                (0..n)
                    .find(|i| matches_on(run, *i, on))
                    .map(|i| cursors[i] as usize)
            })
            .min(),
        _ => None,
    }
}

/// The cursor at which each narration line is first reached (see
/// [`trigger_cursor`]).
pub fn narration_cursors(
    scenario: &Scenario,
    panes: &[PaneRun],
    cursor_of: &[Vec<u32>],
    times: &[SimTime],
) -> Vec<Option<usize>> {
    scenario
        .file
        .narration
        .iter()
        .map(|n| {
            trigger_cursor(
                n.at_ms,
                n.on.as_deref(),
                n.protocol,
                panes,
                cursor_of,
                times,
            )
        })
        .collect()
}

/// A narration line as the strip and the moment list show it: a line
/// about one protocol names it.
pub fn narration_text(n: &Narration) -> String {
    match n.protocol {
        Some(p) => format!("{}: {}", crate::quiz::protocol_title(p), n.text),
        None => n.text.clone(),
    }
}

/// Every moment of the recording, in cursor order; moments at the same
/// simulated time are one stop (at its last step, so all of them show).
pub fn find(
    scenario: &Scenario,
    panes: &[PaneRun],
    cursor_of: &[Vec<u32>],
    times: &[SimTime],
    narration: &[Option<usize>],
) -> Vec<Moment> {
    let mut all: Vec<Moment> = Vec::new();
    for (n, c) in scenario.file.narration.iter().zip(narration) {
        if let Some(c) = c {
            all.push(Moment {
                cursor: *c,
                what: format!("“{}”", narration_text(n)),
            });
        }
    }
    for (run, cursors) in panes.iter().zip(cursor_of) {
        pane_moments(run, cursors, &mut all);
    }
    all.sort_by_key(|m| m.cursor);
    let time = |c: usize| times[c.saturating_sub(1).min(times.len().saturating_sub(1))];
    let mut out: Vec<Moment> = Vec::new();
    for m in all {
        match out.last_mut() {
            Some(last) if !times.is_empty() && time(last.cursor) == time(m.cursor) => {
                last.cursor = last.cursor.max(m.cursor);
                if !last.what.contains(&m.what) {
                    last.what = format!("{}; {}", last.what, m.what);
                }
            }
            _ => out.push(m),
        }
    }
    out
}

fn pane_moments(run: &PaneRun, cursors: &[u32], out: &mut Vec<Moment>) {
    let trace = run.world.trace();
    let proto = run.protocol.name();
    let name = |n: txlab_sim::engine::NodeId| run.world.name(n).to_string();
    let mut compensating: std::collections::BTreeSet<TxId> = Default::default();
    for (i, e) in trace.events().iter().enumerate() {
        let what = match e.kind {
            E::Crash { node } => Some(format!("{proto}: {} crashes", name(node))),
            E::Restart { node } => Some(format!("{proto}: {} restarts", name(node))),
            E::Partition { .. } => Some(format!("{proto}: the network partitions")),
            E::Heal { .. } => Some(format!("{proto}: the partition heals")),
            E::Observe { obs, .. } => {
                let o = &trace.observations()[obs as usize];
                match &o.obs {
                    Obs::Decided { tx, commit, .. } => Some(format!(
                        "{proto}: {} decides {} {tx}",
                        name(o.node),
                        if *commit { "commit" } else { "abort" }
                    )),
                    Obs::InDoubt { tx } => {
                        Some(format!("{proto}: {} is in doubt on {tx}", name(o.node)))
                    }
                    Obs::TxFinished { tx, outcome } => {
                        Some(format!("{proto}: {tx} {}", outcome.name()))
                    }
                    Obs::Local {
                        tx,
                        op: Op::Compensation,
                        ..
                    } if compensating.insert(*tx) => {
                        Some(format!("{proto}: {tx} starts compensating"))
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(what) = what {
            out.push(Moment {
                cursor: cursors[i] as usize,
                what,
            });
        }
    }
    for v in &run.report.violations {
        let i = (v.trace_index as usize).min(cursors.len().saturating_sub(1));
        if let Some(c) = cursors.get(i) {
            out.push(Moment {
                cursor: *c as usize,
                what: format!("{proto}: violation of {}", v.invariant),
            });
        }
    }
}
