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
