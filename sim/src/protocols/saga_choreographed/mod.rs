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

mod broker;
mod service_node;

pub use broker::Broker;
pub use service_node::ChoreoService;

use super::service::LocalCommit;
use super::workload::{StepId, TxId};
use crate::protocols::Outcome;
use serde::{Deserialize, Serialize};

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
}

/// Which step's action or compensation an event triggers, and where.
pub fn reaction(event: &EventKind, steps: usize) -> Option<(StepId, super::workload::Op)> {
    use super::workload::Op;
    let last = steps.checked_sub(1)? as u16;
    match *event {
        EventKind::Requested => Some((StepId(0), Op::Action)),
        EventKind::StepDone(s) if s.0 < last => Some((StepId(s.0 + 1), Op::Action)),
        EventKind::StepFailed(s) | EventKind::Compensated(s) if s.0 > 0 => {
            Some((StepId(s.0 - 1), Op::Compensation))
        }
        _ => None,
    }
}
