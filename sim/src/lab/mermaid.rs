//! A run's trace as a Mermaid sequence diagram, shared by the CLI
//! (`txlab export --format mermaid`) and the terminal UI's export for
//! slides (the focused pane up to the cursor).

use crate::engine::{EventKind, MsgId, NodeId, World};
use crate::protocols::{LabNode, Msg};
use std::fmt::Write;

/// What part of the trace to draw.
#[derive(Clone, Copy, Default)]
pub struct MermaidOptions<'a> {
    /// Only the first this many events (`None`: all of them).
    pub events: Option<usize>,
    /// Nodes left out, by index (`true`: hidden), with every message to
    /// or from them: the UI hides background traffic such as the
    /// auditor's reads. Nodes past the end of the list are shown.
    pub hidden: &'a [bool],
    /// Labels messages (`None`: the protocol's own label); the UI passes
    /// its words ("reserve hotel T0") so the export reads as the screen.
    pub label: Option<&'a dyn Fn(&Msg) -> String>,
}

/// A message's label, with the characters Mermaid reads as syntax blanked.
pub fn safe_label(world: &World<LabNode>, msg: MsgId) -> String {
    labelled(world, msg, None)
}

fn labelled(world: &World<LabNode>, msg: MsgId, label: Option<&dyn Fn(&Msg) -> String>) -> String {
    world
        .trace()
        .message(msg)
        .map_or_else(
            || "message".into(),
            |m| label.map_or_else(|| m.label(), |f| f(m)),
        )
        .replace([';', '#', ':'], " ")
}

/// A Mermaid sequence diagram of the whole trace: one participant per
/// node, an arrow per delivered message, a crossed arrow per drop, notes
/// for faults.
pub fn mermaid(world: &World<LabNode>) -> String {
    mermaid_with(world, MermaidOptions::default())
}

/// A Mermaid sequence diagram of part of the trace (see [`MermaidOptions`]).
pub fn mermaid_with(world: &World<LabNode>, opts: MermaidOptions<'_>) -> String {
    let hidden = |n: NodeId| opts.hidden.get(n.index()).copied().unwrap_or(false);
    let safe_label = |_: &World<LabNode>, msg: MsgId| labelled(world, msg, opts.label);
    let mut out = String::from("sequenceDiagram\n");
    for id in world.node_ids().filter(|n| !hidden(*n)) {
        let _ = writeln!(out, "    participant {id} as {}", world.name(id));
    }
    // A note over every participant spans the first and last shown ones.
    let shown: Vec<NodeId> = world.node_ids().filter(|n| !hidden(*n)).collect();
    let all = match (shown.first(), shown.last()) {
        (Some(a), Some(b)) => format!("{a},{b}"),
        _ => return out,
    };
    let events = world.trace().events();
    let n = opts.events.unwrap_or(events.len()).min(events.len());
    for e in &events[..n] {
        let t = e.time;
        match e.kind {
            EventKind::Deliver { msg, from, to } if !hidden(from) && !hidden(to) => {
                let _ = writeln!(out, "    {from}->>{to}: {} @{t}", safe_label(world, msg));
            }
            EventKind::Drop {
                msg,
                from,
                to,
                reason,
            } if !hidden(from) && !hidden(to) => {
                let _ = writeln!(
                    out,
                    "    {from}-x{to}: {} dropped ({}) @{t}",
                    safe_label(world, msg),
                    reason.label()
                );
            }
            EventKind::Crash { node } if !hidden(node) => {
                let _ = writeln!(out, "    Note over {node}: CRASH @{t}");
            }
            EventKind::Restart { node } if !hidden(node) => {
                let _ = writeln!(out, "    Note over {node}: restart @{t}");
            }
            EventKind::Partition { id } => {
                let _ = writeln!(out, "    Note over {all}: partition {} @{t}", id.0);
            }
            EventKind::Heal { id } => {
                let _ = writeln!(out, "    Note over {all}: heal {} @{t}", id.0);
            }
            _ => {}
        }
    }
    out
}
