//! The choreographed saga: no coordinator, only events.
//!
//! Each service reacts to the event before it (`requested` for the first
//! step, `step done` of the previous one), runs its local transaction, and
//! publishes the next event. A rejection publishes `step failed`, and each
//! upstream service compensates on hearing it and publishes `compensated`,
//! back to the first step. Nobody holds the whole picture: a **tracker**
//! rebuilds each saga's state from the events, joined by their correlation
//! id (the transaction id every event carries).
//!
//! A **broker** keeps the events durably, delivers them to subscribers at
//! least once (redelivering until acknowledged, so a consumer that crashes
//! before acknowledging gets the event again), and deduplicates publishes.
//! Consumers make redelivery harmless with an **inbox** of processed
//! deliveries, and publish through an **outbox** written in the same local
//! transaction as the business change, relayed until the broker confirms.
//! Turn the outbox off and the service commits, acknowledges, then
//! publishes in a separate step: a crash in between loses the event and the
//! saga silently stops.
//!
//! A **parallel group** fans out: the event before it reaches every member
//! at once, and whoever comes after joins on all the members' events (the
//! next stage acts on the last `step done`; on a failure, the members that
//! were done compensate and the stage before compensates once every member
//! is back). Each consumer keeps the events of a join it has seen durably,
//! as its inbox entries.

mod broker;
mod service_node;

pub use broker::Broker;
pub use service_node::ChoreoService;

use super::service::LocalCommit;
use super::stage::members;
use super::workload::{Op, StepId, TxId, Workflow};
use crate::protocols::Outcome;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What happened, as published on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "step", rename_all = "snake_case")]
pub enum EventKind {
    /// A client asked for the saga.
    Requested,
    /// A step's action is done.
    StepDone(StepId),
    /// A step's action failed for good.
    StepFailed(StepId),
    /// A step's compensation is done.
    Compensated(StepId),
    /// A step's compensation kept failing.
    CompensationFailed(StepId),
    /// The saga ended (published by the broker for the semantic lock).
    Ended(Outcome),
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventKind::Requested => write!(f, "requested"),
            EventKind::StepDone(s) => write!(f, "step {} done", s.0),
            EventKind::StepFailed(s) => write!(f, "step {} failed", s.0),
            EventKind::Compensated(s) => write!(f, "step {} compensated", s.0),
            EventKind::CompensationFailed(s) => write!(f, "step {} compensation failed", s.0),
            EventKind::Ended(o) => write!(f, "ended {}", o.name()),
        }
    }
}

/// An event, with the saga's correlation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Event {
    /// The correlation id.
    pub tx: TxId,
    /// What happened.
    pub kind: EventKind,
}

/// Messages between the broker and the services.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Broker → consumer: an event, numbered per consumer.
    Deliver {
        /// The consumer's delivery number.
        seq: u64,
        /// The event.
        event: Event,
    },
    /// Consumer → broker: delivery `seq` is processed.
    Ack {
        /// The delivery number.
        seq: u64,
    },
    /// Service → broker: append this event.
    Publish {
        /// The event.
        event: Event,
    },
    /// Broker → service: the event is stored.
    PublishAck {
        /// The event.
        event: Event,
    },
}

/// Durable records of the broker and the choreographed services.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// Broker: an event appended to the topic.
    Appended {
        /// The event.
        event: Event,
    },
    /// Broker: a consumer acknowledged a delivery (its committed offset).
    Acked {
        /// The consumer's node index.
        consumer: u32,
        /// The delivery number.
        seq: u64,
    },
    /// Service: one local transaction, the delivery it processed (inbox)
    /// and, with the outbox on, the event to publish, all atomic.
    Commit {
        /// The processed delivery.
        seq: u64,
        /// The business change, if any.
        local: Option<LocalCommit>,
        /// The outbox entry, if any.
        outbox: Option<Event>,
    },
    /// Service: an outbox entry reached the broker.
    Relayed {
        /// The event.
        event: Event,
    },
    /// Service: a delivery that joins a parallel group's events, seen and
    /// kept until the last one arrives (it is also the inbox entry).
    Joined {
        /// The processed delivery.
        seq: u64,
        /// The event.
        event: Event,
    },
}

/// Which steps' actions or compensations an event triggers. Sequentially:
/// `requested` starts the first step, `step done` the next one, `step
/// failed` and `compensated` the compensation of the one before. With
/// parallel groups (see [`super::stage`]) an event fans out to every member
/// of the stage it leads to, a member's failure also reaches its siblings
/// (which undo their own action if it was done), and whoever follows a
/// group joins on all its members' events (see [`ready`]).
pub fn reactions(event: &EventKind, wf: &Workflow) -> Vec<(StepId, Op)> {
    let all = |stage: Option<std::ops::Range<u16>>, op| -> Vec<(StepId, Op)> {
        stage.map_or(Vec::new(), |r| members(&r).map(|s| (s, op)).collect())
    };
    match *event {
        EventKind::Requested if !wf.steps.is_empty() => {
            all(Some(wf.stage_of(StepId(0))), Op::Action)
        }
        EventKind::StepDone(s) => all(wf.stage_after(s), Op::Action),
        EventKind::StepFailed(s) => {
            let siblings = members(&wf.stage_of(s))
                .filter(|x| *x != s)
                .map(|x| (x, Op::Compensation));
            siblings
                .chain(all(wf.stage_before(s), Op::Compensation))
                .collect()
        }
        EventKind::Compensated(s) => all(wf.stage_before(s), Op::Compensation),
        _ => Vec::new(),
    }
}

/// Whether `step`'s reaction to `event` may run now, given the events of
/// the saga this consumer has already seen. An event from a single step
/// needs no join. After a group: the next stage's action waits for every
/// member's `step done`; the stage before's compensation waits for every
/// member to be back (failed, or compensated). A sibling undoes its own
/// action on the group's first failure only (`action_done`: whether it
/// did it at all).
pub fn ready(
    event: &EventKind,
    step: StepId,
    wf: &Workflow,
    seen: &BTreeSet<EventKind>,
    action_done: bool,
) -> bool {
    let (EventKind::StepDone(s) | EventKind::StepFailed(s) | EventKind::Compensated(s)) = *event
    else {
        return true;
    };
    let group = wf.stage_of(s);
    if group.len() < 2 {
        return true;
    }
    let has = |e: EventKind| e == *event || seen.contains(&e);
    let back = |x: StepId| has(EventKind::StepFailed(x)) || has(EventKind::Compensated(x));
    match *event {
        EventKind::StepDone(_) => members(&group).all(|x| has(EventKind::StepDone(x))),
        EventKind::StepFailed(_) if group.contains(&step.0) => {
            let earlier =
                members(&group).any(|x| x != s && seen.contains(&EventKind::StepFailed(x)));
            action_done && !earlier
        }
        _ => members(&group).all(back),
    }
}
