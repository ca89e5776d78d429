//! The tracker: rebuilds each choreographed saga's state from the events on
//! the bus alone, joined by their correlation id. In a choreography nobody
//! holds the whole picture; this is the "tracing calls" view that shows
//! where each saga is and how it ended.

use crate::engine::{Observation, SimTime};
use crate::protocols::Obs;
use crate::protocols::saga_choreographed::EventKind;
use crate::protocols::workload::TxId;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a saga is, as its events tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tracked {
    /// Asked for; no step done yet.
    Requested,
    /// This many steps done, going forward.
    Forward(u16),
    /// Undoing; the last compensated or failed step.
    Backward(u16),
    /// Every step done.
    Completed,
    /// Undone back to the first step.
    Compensated,
    /// A compensation kept failing.
    Stuck,
}

/// One saga's trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SagaTrack {
    /// Its events in bus order, with their times.
    pub events: Vec<(SimTime, EventKind)>,
    /// Where they put it.
    pub state: Tracked,
}

/// Every saga seen on the bus, by correlation id.
pub fn track(obs: &[Observation<Obs>]) -> BTreeMap<TxId, SagaTrack> {
    let mut out: BTreeMap<TxId, SagaTrack> = BTreeMap::new();
    for o in obs {
        let Obs::Published { tx, event } = o.obs else {
            continue;
        };
        let t = out.entry(tx).or_insert(SagaTrack {
            events: Vec::new(),
            state: Tracked::Requested,
        });
        t.events.push((o.time, event));
        t.state = match (t.state, event) {
            (s @ (Tracked::Completed | Tracked::Compensated | Tracked::Stuck), _) => s,
            (_, EventKind::Ended(outcome)) => match outcome {
                crate::protocols::Outcome::Completed => Tracked::Completed,
                crate::protocols::Outcome::Stuck => Tracked::Stuck,
                _ => Tracked::Compensated,
            },
            (_, EventKind::StepDone(s)) => Tracked::Forward(s.0 + 1),
            (_, EventKind::StepFailed(s) | EventKind::Compensated(s)) => Tracked::Backward(s.0),
            (_, EventKind::CompensationFailed(_)) => Tracked::Stuck,
            (s, EventKind::Requested) => s,
        };
    }
    out
}
