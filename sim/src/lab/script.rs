//! A path through the world's choices, as a scenario file carries it
//! (`[explore]`): the explorer writes one for every counterexample, and
//! `txlab run` / `txlab tui` follow it step by step.

use crate::engine::{Choice, MsgId, Node, NodeId, TimerId, World};
use crate::protocols::Protocol;

/// A schedule for one protocol's world in chosen mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The protocol whose world follows it.
    pub protocol: Protocol,
    /// The invariant the path breaks (empty: none).
    pub invariant: String,
    /// The steps.
    pub choices: Vec<Choice>,
}

/// `choice` in words, as `[explore] path` holds it, naming nodes as the
/// world does and adding sender and receiver to message steps.
pub fn choice_words<N: Node>(choice: &Choice, world: &World<N>) -> String {
    let name = |n: NodeId| world.name(n).to_string();
    let message = |verb: &str, id: MsgId| match world.in_flight().iter().find(|m| m.id == id) {
        Some(m) => format!("{verb} #{} {}→{}", id.0, name(m.from), name(m.to)),
        None => format!("{verb} #{}", id.0),
    };
    match *choice {
        Choice::Deliver(id) => message("deliver", id),
        Choice::Drop(id) => message("drop", id),
        Choice::Duplicate(id) => message("duplicate", id),
        Choice::Timer { node, timer } => format!("timer {} {}", name(node), timer.0),
        Choice::Write(node) => format!("write {}", name(node)),
        Choice::Crash(node) => format!("crash {}", name(node)),
        Choice::Restart(node) => format!("restart {}", name(node)),
    }
}

/// Read one step written by [`choice_words`]; `node_of` resolves names.
pub fn parse_choice(
    words: &str,
    node_of: impl Fn(&str) -> Option<NodeId>,
) -> Result<Choice, String> {
    let mut parts = words.split_whitespace();
    let verb = parts.next().unwrap_or("");
    let mut arg = || {
        parts
            .next()
            .ok_or_else(|| format!("\"{words}\": a word is missing"))
    };
    let node = |name: &str| node_of(name).ok_or_else(|| format!("unknown node \"{name}\""));
    let msg = |w: &str| {
        w.strip_prefix('#')
            .and_then(|n| n.parse().ok())
            .map(MsgId)
            .ok_or_else(|| format!("\"{w}\" is not a message number like #7"))
    };
    Ok(match verb {
        "deliver" => Choice::Deliver(msg(arg()?)?),
        "drop" => Choice::Drop(msg(arg()?)?),
        "duplicate" => Choice::Duplicate(msg(arg()?)?),
        "timer" => {
            let n = node(arg()?)?;
            let id = arg()?;
            let timer = id
                .parse()
                .map(TimerId)
                .map_err(|_| format!("\"{id}\" is not a timer number"))?;
            Choice::Timer { node: n, timer }
        }
        "write" => Choice::Write(node(arg()?)?),
        "crash" => Choice::Crash(node(arg()?)?),
        "restart" => Choice::Restart(node(arg()?)?),
        other => {
            return Err(format!(
                "unknown step \"{other}\" (known: deliver, drop, duplicate, timer, write, crash, restart)"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> Option<NodeId> {
        ["coordinator", "car"]
            .iter()
            .position(|n| *n == name)
            .map(|i| NodeId(i as u32))
    }

    #[test]
    fn every_step_reads_back_and_bad_ones_say_why() {
        let cases = [
            ("deliver #7 coordinator→car", Choice::Deliver(MsgId(7))),
            ("drop #3", Choice::Drop(MsgId(3))),
            ("duplicate #0", Choice::Duplicate(MsgId(0))),
            (
                "timer car 42",
                Choice::Timer {
                    node: NodeId(1),
                    timer: TimerId(42),
                },
            ),
            ("write coordinator", Choice::Write(NodeId(0))),
            ("crash car", Choice::Crash(NodeId(1))),
            ("restart car", Choice::Restart(NodeId(1))),
        ];
        for (words, want) in cases {
            assert_eq!(parse_choice(words, node), Ok(want), "{words}");
        }
        for (words, why) in [
            ("explode car", "unknown step"),
            ("crash nobody", "unknown node"),
            ("deliver 7", "not a message number"),
            ("timer car", "missing"),
        ] {
            let err = parse_choice(words, node).unwrap_err();
            assert!(err.contains(why), "{words}: {err}");
        }
    }
}
