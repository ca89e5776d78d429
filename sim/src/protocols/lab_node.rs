//! One node type for every role, so a single world type runs any protocol
//! and the UI and checkers handle one kind of trace.

use super::two_pc;
use crate::engine::{Ctx, Node, NodeId, TimerId};
use serde::{Deserialize, Serialize};

/// Every message of every protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "protocol", content = "msg", rename_all = "snake_case")]
pub enum Msg {
    /// Two-phase commit.
    TwoPc(two_pc::Msg),
}

/// Every durable record of every role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "protocol", content = "record", rename_all = "snake_case")]
pub enum Record {
    /// Two-phase commit.
    TwoPc(two_pc::Record),
}

impl From<two_pc::Record> for Record {
    fn from(r: two_pc::Record) -> Self {
        Record::TwoPc(r)
    }
}

/// A node in a txlab world: one role of one protocol.
#[derive(Clone, Debug)]
pub enum LabNode {
    /// 2PC coordinator.
    Coordinator(two_pc::Coordinator),
    /// 2PC participant.
    Participant(two_pc::Participant),
}

impl LabNode {
    /// The business state, for roles that are services.
    pub fn service(&self) -> Option<&super::service::Service> {
        match self {
            LabNode::Participant(p) => Some(&p.service),
            LabNode::Coordinator(_) => None,
        }
    }
}

impl Node for LabNode {
    type Msg = Msg;
    type Record = Record;
    type Obs = super::Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            LabNode::Coordinator(c) => c.on_start(ctx),
            LabNode::Participant(_) => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Self>) {
        match (self, msg) {
            (LabNode::Coordinator(c), Msg::TwoPc(m)) => c.on_message(from, m, ctx),
            (LabNode::Participant(p), Msg::TwoPc(m)) => p.on_message(from, m, ctx),
        }
    }

    fn on_timer(&mut self, timer: TimerId, ctx: &mut Ctx<'_, Self>) {
        match self {
            LabNode::Coordinator(c) => c.on_timer(timer, ctx),
            LabNode::Participant(p) => p.on_timer(timer, ctx),
        }
    }

    fn on_recover(&mut self, log: &[Record], ctx: &mut Ctx<'_, Self>) {
        match self {
            LabNode::Coordinator(c) => c.on_recover(log, ctx),
            LabNode::Participant(p) => p.on_recover(log, ctx),
        }
    }
}
