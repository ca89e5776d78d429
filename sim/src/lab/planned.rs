//! Faults a run plans beyond its time schedule: faults tied to events,
//! faults on single messages, and faults meant for one protocol only (a
//! scenario runs under all three; "crash after the COMMIT record" means
//! something only in 2PC).

use crate::engine::{EventFault, MessageFault, Node, ScheduledFault, World};
use crate::protocols::Protocol;

/// When and how a planned fault applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Planned {
    /// At a time.
    At(ScheduledFault),
    /// Right after (or a delay after) an event.
    After(EventFault),
    /// To the Nth message of a kind.
    Message(MessageFault),
}

/// A planned fault and the protocol it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedFault {
    /// Only in this protocol's run (`None`: in every run).
    pub protocol: Option<Protocol>,
    /// The fault.
    pub fault: Planned,
}

impl PlannedFault {
    /// Hand the faults meant for `protocol` to a world that has not started.
    pub fn arm<N: Node>(planned: &[PlannedFault], protocol: Protocol, world: &mut World<N>) {
        let mine = planned
            .iter()
            .filter(|p| p.protocol.is_none_or(|q| q == protocol));
        for p in mine {
            match &p.fault {
                Planned::At(f) => world.schedule(f.clone()),
                Planned::After(f) => world.watch(f.clone()),
                Planned::Message(f) => world.add_message_fault(f.clone()),
            }
        }
    }
}

/// When a planned fault happens at the latest, in whole ms, guessing that
/// an event-tied one's event comes by `events_by_ms` (for a default
/// horizon only).
pub fn reach_ms(p: &PlannedFault, events_by_ms: u64) -> u64 {
    let after = |t: crate::engine::SimTime| events_by_ms + t.0.div_ceil(1_000);
    match &p.fault {
        Planned::At(f) => f.at.0.div_ceil(1_000),
        Planned::After(f) => after(f.delay),
        Planned::Message(m) => match m.action {
            crate::engine::MessageAction::Delay(d) => after(d),
            _ => after(m.after.unwrap_or_default()),
        },
    }
}

/// A message put on the wire, named the way a message fault names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireMessage {
    /// Its id in the run.
    pub id: crate::engine::MsgId,
    /// Its kind word ([`crate::protocols::vocabulary`]).
    pub kind: &'static str,
    /// Sender.
    pub from: crate::engine::NodeId,
    /// Receiver.
    pub to: crate::engine::NodeId,
    /// Which message of this kind, sender and receiver it is (from 1).
    pub nth: u32,
    /// When it was put on the wire.
    pub at: crate::engine::SimTime,
}

impl WireMessage {
    /// What a file names it by, and when it was sent (not its run's id).
    pub fn key(
        &self,
    ) -> (
        &'static str,
        crate::engine::NodeId,
        crate::engine::NodeId,
        u32,
        crate::engine::SimTime,
    ) {
        (self.kind, self.from, self.to, self.nth, self.at)
    }
}

/// Every message put on the wire in a recorded trace (a node's sends and
/// every copy), in the order faults tied to messages count them, so
/// `drop = { message = kind, from, to, nth }` names exactly this one in a
/// replay. Empty for a trace that was not recorded.
pub fn wire_messages(trace: &crate::engine::Trace<crate::protocols::LabNode>) -> Vec<WireMessage> {
    use crate::engine::EventKind;
    use std::collections::BTreeMap;
    let mut ends = BTreeMap::new();
    let mut seen: BTreeMap<(&'static str, _, _), u32> = BTreeMap::new();
    let mut out = Vec::new();
    for e in trace.events() {
        let (id, from, to) = match e.kind {
            EventKind::Send { msg, from, to } => (msg, from, to),
            EventKind::Duplicate { msg, copy } => match ends.get(&msg) {
                Some(&(from, to)) => (copy, from, to),
                None => continue,
            },
            _ => continue,
        };
        ends.insert(id, (from, to));
        let Some(msg) = trace.message(id) else {
            continue;
        };
        let kind = crate::protocols::vocabulary::message_kind(msg).0;
        let nth = seen.entry((kind, from, to)).or_insert(0);
        *nth += 1;
        out.push(WireMessage {
            id,
            kind,
            from,
            to,
            nth: *nth,
            at: e.time,
        });
    }
    out
}
