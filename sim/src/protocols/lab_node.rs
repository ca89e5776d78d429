//! One node type for every role, so a single world type runs any protocol
//! and the UI and checkers handle one kind of trace.

use super::service::LocalCommit;
use super::workload::TxId;
use super::{saga_choreographed as choreo, saga_orchestrated as orch, two_pc};
use crate::engine::{Ctx, Node, NodeId, TimerId};
use serde::{Deserialize, Serialize};

/// Every message of every protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "protocol", content = "msg", rename_all = "snake_case")]
pub enum Msg {
    /// Two-phase commit.
    TwoPc(two_pc::Msg),
    /// Orchestrated saga.
    Saga(orch::Msg),
    /// Choreographed saga (the bus).
    Choreo(choreo::Msg),
    /// The auditor's reads.
    Audit(super::auditor::Msg),
    /// A client's request and the answer to it.
    Client(super::client::Msg),
}

/// Every durable record of every role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "protocol", content = "record", rename_all = "snake_case")]
pub enum Record {
    /// Two-phase commit.
    TwoPc(two_pc::Record),
    /// The orchestrator's execution log.
    Saga(orch::Record),
    /// The broker's topic and the choreographed services' commits.
    Choreo(choreo::Record),
    /// A service's local transaction.
    Local(LocalCommit),
    /// A service cleared a saga's pending marks.
    Release {
        /// The saga.
        tx: TxId,
    },
    /// A user service's state after a local transaction (written with it).
    Custom(crate::custom::Snapshot),
}

impl From<choreo::Record> for Record {
    fn from(r: choreo::Record) -> Self {
        Record::Choreo(r)
    }
}

impl From<orch::Record> for Record {
    fn from(r: orch::Record) -> Self {
        Record::Saga(r)
    }
}

impl From<two_pc::Record> for Record {
    fn from(r: two_pc::Record) -> Self {
        Record::TwoPc(r)
    }
}

/// A node in a txlab world: one role of one protocol.
#[derive(Debug, Hash)]
pub enum LabNode {
    /// 2PC coordinator.
    Coordinator(two_pc::Coordinator),
    /// 2PC participant.
    Participant(two_pc::Participant),
    /// Saga orchestrator.
    Orchestrator(orch::Orchestrator),
    /// A service taking orders from the orchestrator.
    SagaService(orch::SagaService),
    /// The choreography's message broker.
    Broker(choreo::Broker),
    /// A service in the choreography.
    ChoreoService(choreo::ChoreoService),
    /// A concurrent reader counting dirty reads.
    Auditor(super::auditor::Auditor),
    /// The client sending every protocol the same requests.
    Client(super::client::Client),
}

impl LabNode {
    /// The business state, for roles that are services.
    pub fn service(&self) -> Option<&super::service::Service> {
        match self {
            LabNode::Participant(p) => Some(&p.service),
            LabNode::SagaService(s) => Some(&s.service),
            LabNode::ChoreoService(s) => Some(&s.service),
            LabNode::Coordinator(_)
            | LabNode::Orchestrator(_)
            | LabNode::Broker(_)
            | LabNode::Auditor(_)
            | LabNode::Client(_) => None,
        }
    }
}

impl Clone for LabNode {
    fn clone(&self) -> Self {
        match self {
            LabNode::Coordinator(x) => LabNode::Coordinator(x.clone()),
            LabNode::Participant(x) => LabNode::Participant(x.clone()),
            LabNode::Orchestrator(x) => LabNode::Orchestrator(x.clone()),
            LabNode::SagaService(x) => LabNode::SagaService(x.clone()),
            LabNode::Broker(x) => LabNode::Broker(x.clone()),
            LabNode::ChoreoService(x) => LabNode::ChoreoService(x.clone()),
            LabNode::Auditor(x) => LabNode::Auditor(x.clone()),
            LabNode::Client(x) => LabNode::Client(x.clone()),
        }
    }

    /// In place when the role is the same (a sweep's reset copies each
    /// node's boot image over it after every seed): the services keep
    /// their resources' strings instead of freeing and copying them.
    fn clone_from(&mut self, src: &Self) {
        match (self, src) {
            (LabNode::Participant(a), LabNode::Participant(b)) => a.clone_from(b),
            (LabNode::SagaService(a), LabNode::SagaService(b)) => a.clone_from(b),
            (LabNode::ChoreoService(a), LabNode::ChoreoService(b)) => a.clone_from(b),
            (me, _) => *me = src.clone(),
        }
    }
}

impl Node for LabNode {
    type Msg = Msg;
    type Record = Record;
    type Obs = super::Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            LabNode::Auditor(a) => a.on_start(ctx),
            LabNode::Client(c) => c.on_start(ctx),
            LabNode::Coordinator(_)
            | LabNode::Orchestrator(_)
            | LabNode::Broker(_)
            | LabNode::Participant(_)
            | LabNode::SagaService(_)
            | LabNode::ChoreoService(_) => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Self>) {
        // Any service answers the auditor with what its values include.
        if let Msg::Audit(super::auditor::Msg::Read) = msg {
            if let Some(s) = self.service() {
                let visible = s.visible_to_readers();
                ctx.send(from, Msg::Audit(super::auditor::Msg::Snapshot { visible }));
            }
            return;
        }
        match (self, msg) {
            (LabNode::Client(c), Msg::Client(m)) => c.on_message(m, ctx),
            (LabNode::Coordinator(c), Msg::Client(super::client::Msg::Request { tx, since })) => {
                c.on_request(tx, since, ctx)
            }
            (LabNode::Orchestrator(o), Msg::Client(super::client::Msg::Request { tx, .. })) => {
                o.on_request(tx, ctx)
            }
            (LabNode::Broker(b), Msg::Client(super::client::Msg::Request { tx, .. })) => {
                b.on_request(tx, ctx)
            }
            (LabNode::Coordinator(c), Msg::TwoPc(m)) => c.on_message(from, m, ctx),
            (LabNode::Participant(p), Msg::TwoPc(m)) => p.on_message(from, m, ctx),
            (LabNode::Orchestrator(o), Msg::Saga(m)) => o.on_message(from, m, ctx),
            (LabNode::SagaService(s), Msg::Saga(m)) => s.on_message(from, m, ctx),
            (LabNode::Broker(b), Msg::Choreo(m)) => b.on_message(from, m, ctx),
            (LabNode::ChoreoService(s), Msg::Choreo(m)) => s.on_message(from, m, ctx),
            (LabNode::Auditor(a), Msg::Audit(m)) => a.on_message(from, m, ctx),
            // A message of another protocol cannot reach this world.
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: TimerId, ctx: &mut Ctx<'_, Self>) {
        match self {
            LabNode::Coordinator(c) => c.on_timer(timer, ctx),
            LabNode::Participant(p) => p.on_timer(timer, ctx),
            LabNode::Orchestrator(o) => o.on_timer(timer, ctx),
            LabNode::SagaService(s) => s.on_timer(timer, ctx),
            LabNode::Broker(b) => b.on_timer(timer, ctx),
            LabNode::ChoreoService(s) => s.on_timer(timer, ctx),
            LabNode::Auditor(a) => a.on_timer(ctx),
            LabNode::Client(c) => c.on_timer(timer, ctx),
        }
    }

    fn on_recover(&mut self, log: &[Record], ctx: &mut Ctx<'_, Self>) {
        match self {
            LabNode::Coordinator(c) => c.on_recover(log, ctx),
            LabNode::Participant(p) => p.on_recover(log, ctx),
            LabNode::Orchestrator(o) => o.on_recover(log, ctx),
            LabNode::SagaService(s) => s.on_recover(log, ctx),
            LabNode::Broker(b) => b.on_recover(log, ctx),
            LabNode::ChoreoService(s) => s.on_recover(log, ctx),
            // The auditor and the client keep nothing: after a crash they
            // simply stop.
            LabNode::Auditor(_) | LabNode::Client(_) => {}
        }
    }
    fn message_is(msg: &Msg, kind: &str) -> bool {
        super::vocabulary::message_is(msg, kind)
    }

    fn record_is(record: &Record, kind: &str) -> bool {
        super::vocabulary::record_kind(record) == kind
    }
}

impl Msg {
    /// The transaction a message is about, if it names one.
    pub fn tx(&self) -> Option<TxId> {
        use super::saga_choreographed::Msg as C;
        use two_pc::Msg as P;
        match self {
            Msg::TwoPc(
                P::Prepare { tx, .. }
                | P::Vote { tx, .. }
                | P::Commit { tx }
                | P::Abort { tx }
                | P::Ack { tx }
                | P::Inquire { tx },
            ) => Some(*tx),
            Msg::Saga(
                orch::Msg::Command { tx, .. }
                | orch::Msg::Reply { tx, .. }
                | orch::Msg::Release { tx }
                | orch::Msg::ReleaseAck { tx },
            ) => Some(*tx),
            Msg::Choreo(
                C::Deliver { event, .. } | C::Publish { event } | C::PublishAck { event },
            ) => Some(event.tx),
            Msg::Client(
                super::client::Msg::Request { tx, .. } | super::client::Msg::Answer { tx, .. },
            ) => Some(*tx),
            Msg::Choreo(C::Ack { .. }) | Msg::Audit(_) => None,
        }
    }

    /// A short label for diagrams and the UI ("prepare T0", "vote yes T0").
    pub fn label(&self) -> String {
        use super::saga_choreographed::Msg as C;
        use two_pc::Msg as P;
        match self {
            Msg::TwoPc(m) => match m {
                P::Prepare { tx, .. } => format!("prepare {tx}"),
                P::Vote { tx, yes } => format!("vote {} {tx}", if *yes { "yes" } else { "no" }),
                P::Commit { tx } => format!("commit {tx}"),
                P::Abort { tx } => format!("abort {tx}"),
                P::Ack { tx } => format!("ack {tx}"),
                P::Inquire { tx } => format!("inquire {tx}"),
            },
            Msg::Saga(m) => match m {
                orch::Msg::Command {
                    tx,
                    step,
                    op,
                    attempt,
                } => {
                    let op = format!("{op:?}").to_lowercase();
                    format!("{op} step {} {tx} try {attempt}", step.0)
                }
                orch::Msg::Reply {
                    tx, step, reply, ..
                } => {
                    format!("reply {reply} step {} {tx}", step.0)
                }
                orch::Msg::Release { tx } => format!("release {tx}"),
                orch::Msg::ReleaseAck { tx } => format!("release ack {tx}"),
            },
            Msg::Choreo(m) => match m {
                C::Deliver { seq, event } => {
                    format!("deliver {} {} seq {seq}", event.kind, event.tx)
                }
                C::Ack { seq } => format!("ack seq {seq}"),
                C::Publish { event } => format!("publish {} {}", event.kind, event.tx),
                C::PublishAck { event } => format!("stored {} {}", event.kind, event.tx),
            },
            Msg::Client(super::client::Msg::Request { tx, .. }) => format!("request {tx}"),
            Msg::Client(super::client::Msg::Answer { tx, outcome }) => {
                format!("{} {tx}", outcome.name())
            }
            Msg::Audit(super::auditor::Msg::Read) => "read".into(),
            Msg::Audit(super::auditor::Msg::Snapshot { visible }) => {
                format!("snapshot ({} visible)", visible.len())
            }
        }
    }
}
