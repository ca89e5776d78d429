//! The auditor: a concurrent reader. Every few milliseconds while the
//! workload runs it reads every service and records which transactions'
//! changes the values it saw include. A read that included a saga's change
//! which was later compensated is a dirty read: the isolation sagas give up
//! and 2PC's locks provide (a 2PC participant only shows committed changes).
//!
//! A service answers as any reader is answered
//! ([`super::service::Service::visible_to_readers`]): changes flagged
//! pending are left out, every saga's under the semantic lock and the
//! risky requests' under by value, so the countermeasures' promise covers
//! this reader too; a low-value request's pending change is shown.

use super::workload::ServiceId;
use super::{Config, LabNode, Obs};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Reads per service over the run.
pub const ROUNDS: u32 = 100;
/// Time between reads.
pub const INTERVAL: SimTime = SimTime::from_millis(10);

/// Auditor messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Auditor → service: what are your values?
    Read,
    /// Service → auditor: the transactions visible in its values.
    Snapshot {
        /// Those transactions.
        visible: Vec<super::workload::TxId>,
    },
}

/// The auditor node.
#[derive(Clone, Debug)]
pub struct Auditor {
    cfg: Arc<Config>,
    round: u32,
}

impl Auditor {
    /// An auditor for the run described by `cfg`.
    pub fn new(cfg: Arc<Config>) -> Self {
        Auditor { cfg, round: 0 }
    }

    /// Start reading when the first transaction arrives.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, LabNode>) {
        ctx.set_timer(TimerId(0), self.cfg.workflow.arrival.start);
    }

    /// One round of reads.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, LabNode>) {
        for s in self.cfg.participants() {
            ctx.send(s, super::Msg::Audit(Msg::Read));
        }
        self.round += 1;
        if self.round < ROUNDS {
            ctx.set_timer(TimerId(0), INTERVAL);
        }
    }

    /// A service answered.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, LabNode>) {
        if let Msg::Snapshot { visible } = msg {
            let service = ServiceId(from.0.saturating_sub(1) as u16);
            ctx.record(Obs::Read { service, visible });
        }
    }
}

/// The explorer's fingerprint: every field but the shared configuration,
/// which is the same in every state of one exploration.
impl std::hash::Hash for Auditor {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.round.hash(state);
    }
}
