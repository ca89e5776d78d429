//! What the checkers and metrics read: the observations, the final business
//! state and how the run ended. Built once per run.

use crate::engine::{AppliedFault, NodeId, Observation, SimTime};
use crate::protocols::workload::{ServiceId, TxId, Workflow};
use crate::protocols::{Obs, Outcome, Protocol};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A finished run, as the checkers see it.
pub struct RunView<'a> {
    /// The protocol.
    pub protocol: Protocol,
    /// The workflow.
    pub workflow: &'a Workflow,
    /// Every observation in trace order.
    pub obs: &'a [Observation<Obs>],
    /// Every crash, restart, partition and heal that took effect, in trace
    /// order (those past `end_index` are ignored).
    pub faults: &'a [AppliedFault],
    /// Final resource amounts by service (rebuilt from the log for nodes
    /// that ended crashed; borrowed from the world for the others, so a
    /// sweep copies no maps to judge a run).
    pub final_values: Vec<Cow<'a, BTreeMap<String, i64>>>,
    /// The outcome of every transaction.
    pub outcomes: BTreeMap<TxId, Outcome>,
    /// Every crashed node restarted, every partition healed and no fault
    /// was pending when the run ended: liveness must hold.
    pub healed: bool,
    /// Choreography: deliveries not acknowledged plus outbox entries not
    /// confirmed when the run stopped.
    pub undelivered: usize,
    /// When the run stopped.
    pub end: SimTime,
    /// Trace length at the end (for violations about the final state).
    pub end_index: u64,
    /// The by-value countermeasure in force, if any: its risky requests
    /// are promised no isolation anomaly (judged by `risky_isolated`).
    pub by_value: Option<crate::protocols::countermeasure::ByValue>,
}

impl RunView<'_> {
    /// The coordinator, orchestrator or broker.
    pub const CENTRAL: NodeId = NodeId(0);

    /// The node of service `s` (node 0 is the coordinator, orchestrator or
    /// broker; services follow in order).
    pub fn service_node(s: ServiceId) -> NodeId {
        NodeId(u32::from(s.0) + 1)
    }

    /// The service at node `n`, if it is one.
    pub fn service_of(&self, n: NodeId) -> Option<ServiceId> {
        let i = n.0.checked_sub(1)?;
        (i < self.workflow.services.len() as u32).then_some(ServiceId(i as u16))
    }
}
