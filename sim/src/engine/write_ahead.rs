//! Write-ahead, the engine's side of it (THEORY.md): what a node blocked on
//! a forced write keeps waiting, and the order in which a handler's effects
//! leave so that none of them reveals a record before it is durable.

use super::{Effect, MsgId, Node, NodeId, TimerId};

/// An input that reached a node while it was blocked on a forced write.
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

/// A handler's outputs (sends, observations, timers) leave only once every
/// log write it asked for has been issued, so that a forced write blocks
/// all of them: write-ahead holds even for a handler that sends before it
/// persists. Stable, so each group keeps the handler's order. With instant
/// writes the order cannot matter (nothing happens inside a handler) and is
/// left alone, which keeps those traces as they were.
pub(super) fn hold_outputs_for_writes<N: Node>(effects: &mut [Effect<N>]) {
    let forced = |e: &Effect<N>| matches!(e, Effect::Persist { forced: true, .. });
    // Nothing to hold when no forced write exists or every one comes first.
    let Some(last_forced) = effects.iter().rposition(forced) else {
        return;
    };
    if effects[..last_forced]
        .iter()
        .all(|e| matches!(e, Effect::Persist { .. }))
    {
        return;
    }
    effects.sort_by_key(|e| !matches!(e, Effect::Persist { .. }));
}
