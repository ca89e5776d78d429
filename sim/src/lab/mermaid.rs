//! A run's trace as a Mermaid sequence diagram, shared by the CLI
//! (`txlab export --format mermaid`) and the terminal UI's export for
//! slides (the focused pane up to the cursor).

use crate::engine::{EventKind, MsgId, NodeId, World};
use crate::protocols::LabNode;
use std::fmt::Write;

/// What part of the trace to draw.
#[derive(Clone, Copy, Debug, Default)]
pub struct MermaidOptions<'a> {
    /// Only the first this many events (`None`: all of them).
    pub events: Option<usize>,
    /// Nodes left out, by index (`true`: hidden), with every message to
    /// or from them: the UI hides background traffic such as the
    /// auditor's reads. Nodes past the end of the list are shown.
    pub hidden: &'a [bool],
}

/// A message's label, with the characters Mermaid reads as syntax blanked.
pub fn safe_label(world: &World<LabNode>, msg: MsgId) -> String {
    world
        .trace()
        .message(msg)
        .map_or_else(|| "message".into(), |m| m.label())
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
