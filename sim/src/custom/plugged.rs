//! A user's logic inside a service node: the run's set of plugged
//! services, the node-side slot that executes an operation, and the
//! snapshot a commit writes so a restart finds the committed state.

use super::logic::{Answer, DynLogic, IdempotencyKey, MessageId, Request};
use crate::protocols::saga_step::{Execution, StepReply};
use crate::protocols::service::{LocalCommit, OpKey, Reply, Service};
use crate::protocols::workload::{Op, ServiceId, StepId, TxId, Workflow};
use crate::protocols::{Config, Record};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Builds a service's logic from its starting amounts.
pub(crate) type Factory = Arc<dyn Fn(&BTreeMap<String, i64>) -> Box<dyn DynLogic> + Send + Sync>;

/// Which services of a run use a user's logic, by name, and (once a
/// [`Registry`](super::Registry) attached them) how to build each.
#[derive(Clone, Default)]
pub struct Plugins {
    slots: Vec<Option<(String, Option<Factory>)>>,
}

impl fmt::Debug for Plugins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Plugins {
    /// Services named by their logic (`None`: built-in), in service order.
    pub fn named(names: impl IntoIterator<Item = Option<String>>) -> Self {
        Plugins {
            slots: names.into_iter().map(|n| n.map(|n| (n, None))).collect(),
        }
    }

    /// `(service, logic name)` for every plugged service.
    pub fn names(&self) -> impl Iterator<Item = (ServiceId, &str)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|(n, _)| (ServiceId(i as u16), n.as_str())))
    }

    /// Whether every service is built-in.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    pub(crate) fn attach(&mut self, id: ServiceId, factory: Factory) {
        if let Some(Some((_, f))) = self.slots.get_mut(id.index()) {
            *f = Some(factory);
        }
    }

    /// The logic for service `id` at its starting amounts, if plugged.
    pub(crate) fn logic(&self, id: ServiceId, wf: &Workflow) -> Option<Plugged> {
        let (name, factory) = self.slots.get(id.index())?.as_ref()?;
        let factory = factory.as_ref().unwrap_or_else(|| {
            panic!(
                "service {} runs user logic {name:?}, but no registry attached it \
                 (call Registry::attach on the scenario before running it)",
                wf.services[id.index()].name
            )
        });
        Some(Plugged {
            logic: factory(&wf.services[id.index()].resources),
        })
    }
}

/// The state a user's service committed, kept in its durable log. Its
/// hash is empty on purpose: it is a function of the commits before it,
/// which the trace hashes, and a user's state need not be hashable.
#[derive(Clone)]
pub struct Snapshot(Arc<dyn DynLogic>);

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl PartialEq for Snapshot {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Snapshot {}

impl std::hash::Hash for Snapshot {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl serde::Serialize for Snapshot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:?}", self.0))
    }
}

impl<'de> serde::Deserialize<'de> for Snapshot {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(
            "a user service's state cannot be read back from text",
        ))
    }
}

/// A user's logic in a node.
#[derive(Debug)]
pub struct Plugged {
    logic: Box<dyn DynLogic>,
}

impl Clone for Plugged {
    fn clone(&self) -> Self {
        Plugged {
            logic: self.logic.clone_box(),
        }
    }
}

/// One operation as a plugged service runs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    pub tx: TxId,
    pub step: StepId,
    pub op: Op,
    pub message_id: MessageId,
}

impl Plugged {
    /// Decide `call` the way the built-in service would (planned transient
    /// failures, failing compensations, the semantic lock), then ask the
    /// user's logic on a copy of its state. Nothing changes here: the node
    /// installs the returned snapshot when it commits.
    pub(crate) fn execute(
        &self,
        cfg: &Config,
        service: &Service,
        call: Call,
        rng: &mut ChaCha8Rng,
    ) -> (Execution, Option<Snapshot>) {
        let wf = &cfg.workflow;
        let spec = wf.step_for(call.tx, call.step);
        let refuse = |reply| {
            (
                Execution {
                    commit: None,
                    reply,
                },
                None,
            )
        };
        let plans: Vec<_> = wf.failures_for(call.tx, call.step).collect();
        let transient = plans.iter().map(|f| f.transient_per_mille).max();
        let failing = match call.op {
            Op::Compensation => plans.iter().any(|f| f.compensation_fails),
            Op::Action => transient.is_some_and(|t| t > 0 && rng.random_range(0..1000) < t),
        };
        if failing {
            return refuse(StepReply::Transient);
        }
        let busy = call.op == Op::Action
            && crate::protocols::countermeasure::busy(cfg, service, &spec.resource, call.tx);
        if busy {
            return refuse(StepReply::Busy);
        }
        let key = IdempotencyKey {
            saga: call.tx,
            step: call.step,
            op: call.op,
        };
        let req = Request {
            saga: call.tx,
            step: call.step,
            step_name: &spec.name,
            op: call.op,
            key,
            message_id: call.message_id,
            resource: &spec.resource,
            amount: spec.amount,
        };
        let mut next = self.logic.clone_box();
        let reply = match next.handle(&req) {
            Answer::Transient => return refuse(StepReply::Transient),
            Answer::Done => Reply::Done,
            Answer::Rejected(why) => Reply::Rejected(why),
        };
        let amount = |l: &dyn DynLogic| l.amounts().get(&spec.resource).copied().unwrap_or(0);
        let delta = amount(next.as_ref()) - amount(self.logic.as_ref());
        let commit = LocalCommit {
            key: OpKey {
                tx: call.tx,
                step: call.step,
                op: call.op,
            },
            resource: spec.resource.clone(),
            delta,
            reply: reply.clone(),
        };
        let exec = Execution {
            commit: Some(commit),
            reply: reply.into(),
        };
        (exec, Some(Snapshot(Arc::from(next))))
    }

    /// The commit of `snapshot` is made: it is the service's state now
    /// (and the built-in view of it, which the checkers and the UI read,
    /// shows its amounts).
    pub(crate) fn install(&mut self, snapshot: &Snapshot, service: &mut Service) {
        self.logic = snapshot.0.clone_box();
        service.values = self.logic.amounts();
    }

    /// A restart: the state of the last durable commit, minus what the
    /// logic forgets in a crash.
    pub(crate) fn recover(&mut self, log: &[Record], service: &mut Service) {
        let last = log.iter().rev().find_map(|r| match r {
            Record::Custom(s) => Some(s),
            _ => None,
        });
        if let Some(s) = last {
            self.logic = s.0.clone_box();
        }
        self.logic.on_crash();
        service.values = self.logic.amounts();
    }
}
