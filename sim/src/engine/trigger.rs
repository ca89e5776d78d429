//! Faults tied to events rather than to a time: "crash the coordinator
//! right after its COMMIT record is durable", "drop the second PREPARE sent
//! to payment". A time is fragile (a slower disk or link moves the event);
//! an event is what a lesson means.
//!
//! The engine knows no protocol, so it matches kinds by asking the node
//! type ([`Node::message_is`], [`Node::record_is`]) about the words a
//! scenario uses. Matches are counted per fault, in the order the events
//! happen (a plain vector, never a hash-ordered collection), so the Nth
//! match is the same on every run of the same scenario.

use super::{Fault, Node, NodeId, SimTime};
use serde::{Deserialize, Serialize};

/// Which messages a trigger or a message fault is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageMatch {
    /// A kind word of the protocol's vocabulary ("prepare", "vote yes").
    pub kind: String,
    /// Only messages from this node (any sender if `None`).
    pub from: Option<NodeId>,
    /// Only messages to this node (any receiver if `None`).
    pub to: Option<NodeId>,
}

impl MessageMatch {
    fn matches<N: Node>(&self, from: NodeId, to: NodeId, msg: &N::Msg) -> bool {
        self.from.is_none_or(|f| f == from)
            && self.to.is_none_or(|t| t == to)
            && N::message_is(msg, &self.kind)
    }
}

/// The event a fault waits for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Trigger {
    /// A record of kind `record` became durable in `node`'s log.
    Written {
        /// Whose log.
        node: NodeId,
        /// A record kind word ("commit", "prepared").
        record: String,
        /// A forced write (else a lazy one).
        forced: bool,
    },
    /// A matching message was put on the wire (a network copy counts too).
    Sent(MessageMatch),
    /// A matching message reached its receiver's handler and was handled.
    Delivered(MessageMatch),
}

/// A fault that fires `delay` after the `nth` occurrence of an event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventFault {
    /// The event.
    pub trigger: Trigger,
    /// Which occurrence (1 is the first).
    pub nth: u32,
    /// Time from the event to the fault. Zero applies it at once, before
    /// anything else: a crash right after a forced write loses what was
    /// waiting for that write (the sends that would reveal it).
    pub delay: SimTime,
    /// What happens.
    pub fault: Fault,
}

/// What a message fault does to its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageAction {
    /// It never arrives (dropped, reason "injected").
    Drop,
    /// It arrives twice (the copy right after the original).
    Duplicate,
    /// It arrives this much later than the network would deliver it.
    Delay(SimTime),
}

/// A fault on the `nth` message matching `matcher`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageFault {
    /// Which messages count.
    pub matcher: MessageMatch,
    /// Which of them (1 is the first put on the wire).
    pub nth: u32,
    /// For a drop or a duplicate: apply it this long after the message was
    /// sent, while it is on the wire (nothing happens if it has arrived by
    /// then). `None`: as it is sent. A delay always applies as it is sent.
    pub after: Option<SimTime>,
    /// What happens to it.
    pub action: MessageAction,
}

/// Per fault, how many matches it has seen, and its rank: the order in
/// which it was added, which is the order faults released for the same
/// instant apply in (a file's order, not the order their events happened).
#[derive(Clone, Debug, Default)]
pub(super) struct Triggers {
    events: Vec<(EventFault, u32, u32)>,
    messages: Vec<(MessageFault, u32, u32)>,
    next_rank: u32,
}

/// A fault a trigger released: apply it `delay` from now, ranked.
pub(super) type Fired = (SimTime, u32, Fault);

/// Count one match; true exactly when it is the `nth`.
fn count(seen: &mut u32, nth: u32) -> bool {
    if *seen >= nth {
        return false;
    }
    *seen += 1;
    *seen == nth
}

impl Triggers {
    /// Whether nothing is watched (the common case: the world skips every
    /// check).
    pub(super) fn is_empty(&self) -> bool {
        self.events.is_empty() && self.messages.is_empty()
    }

    /// How many event and message faults are armed (a mark for
    /// [`Triggers::rewind`]).
    pub(super) fn armed(&self) -> (usize, usize) {
        (self.events.len(), self.messages.len())
    }

    /// Back to the moment `mark` was taken: faults armed since are
    /// forgotten and every count starts again from zero.
    pub(super) fn rewind(&mut self, mark: (usize, usize)) {
        self.events.truncate(mark.0);
        self.messages.truncate(mark.1);
        self.events.iter_mut().for_each(|f| f.1 = 0);
        self.messages.iter_mut().for_each(|f| f.1 = 0);
        self.next_rank = (mark.0 + mark.1) as u32;
    }

    fn rank(&mut self) -> u32 {
        self.next_rank += 1;
        self.next_rank
    }

    pub(super) fn watch(&mut self, fault: EventFault) {
        let rank = self.rank();
        self.events.push((fault, 0, rank));
    }

    pub(super) fn add_message_fault(&mut self, fault: MessageFault) {
        let rank = self.rank();
        self.messages.push((fault, 0, rank));
    }

    fn fire(&mut self, hit: impl Fn(&Trigger) -> bool) -> Vec<Fired> {
        let mut out = Vec::new();
        for (f, seen, rank) in &mut self.events {
            if hit(&f.trigger) && count(seen, f.nth) {
                out.push((f.delay, *rank, f.fault.clone()));
            }
        }
        out
    }

    /// A record became durable.
    pub(super) fn written<N: Node>(
        &mut self,
        node: NodeId,
        record: &N::Record,
        forced: bool,
    ) -> Vec<Fired> {
        self.fire(|t| match t {
            Trigger::Written {
                node: n,
                record: kind,
                forced: f,
            } => *n == node && *f == forced && N::record_is(record, kind),
            _ => false,
        })
    }

    /// A message was put on the wire.
    pub(super) fn sent<N: Node>(&mut self, from: NodeId, to: NodeId, msg: &N::Msg) -> Vec<Fired> {
        self.fire(|t| matches!(t, Trigger::Sent(m) if m.matches::<N>(from, to, msg)))
    }

    /// A message was handled by its receiver.
    pub(super) fn delivered<N: Node>(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: &N::Msg,
    ) -> Vec<Fired> {
        self.fire(|t| matches!(t, Trigger::Delivered(m) if m.matches::<N>(from, to, msg)))
    }

    /// What the message faults do to a message being put on the wire: the
    /// first fault whose `nth` match it is wins (every fault counts it).
    pub(super) fn message_fault<N: Node>(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: &N::Msg,
    ) -> Option<(Option<(SimTime, u32)>, MessageAction)> {
        let mut out = None;
        for (f, seen, rank) in &mut self.messages {
            if f.matcher.matches::<N>(from, to, msg) && count(seen, f.nth) && out.is_none() {
                out = Some((f.after.map(|a| (a, *rank)), f.action));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn only_the_nth_match_counts() {
        let mut seen = 0;
        let hits: Vec<bool> = (0..5).map(|_| count(&mut seen, 3)).collect();
        assert_eq!(hits, [false, false, true, false, false]);
    }
}
