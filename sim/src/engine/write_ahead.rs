//! Write-ahead, the engine's side of it (THEORY.md): what a node blocked on
//! a forced write keeps waiting, and the order in which a handler's effects
//! leave so that none of them reveals a record before it is durable.

use super::{Effect, MsgId, Node, NodeId, TimerId};

/// An input that reached a node while it was blocked on a forced write.
#[derive(Clone)]
pub(super) enum Input<N: Node> {
    /// A delivered message, handled when the node unblocks.
    Message {
        id: MsgId,
        from: NodeId,
        msg: N::Msg,
    },
    /// A timer that fired; judged live or stale when it is handled.
    Timer { timer: TimerId, token: u64 },
}

/// A handler's outputs pushed *before* its first forced write wait for that
/// write too, as if the handler had persisted first: write-ahead holds even
/// for a handler that sends before it persists. Everything else keeps the
/// handler's order, so an output pushed between two forced writes leaves as
/// soon as the first is durable. With instant writes the order cannot
/// matter (nothing happens inside a handler) and is left alone, which keeps
/// those traces as they were.
pub(super) fn hold_outputs_for_writes<N: Node>(effects: &mut [Effect<N>]) {
    let forced = |e: &Effect<N>| matches!(e, Effect::Persist { forced: true, .. });
    let Some(first) = effects.iter().position(forced) else {
        return;
    };
    // Move the first forced write in front of the outputs that precede it;
    // lazy writes before it keep their place among themselves.
    let outputs_before = effects[..first]
        .iter()
        .any(|e| !matches!(e, Effect::Persist { .. }));
    if outputs_before {
        effects[..=first].rotate_right(1);
    }
}
