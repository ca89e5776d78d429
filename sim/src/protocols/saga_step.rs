//! One saga operation at a service, shared by the orchestrated and the
//! choreographed saga: planned failures, the semantic lock, idempotency and
//! the local transaction itself.

use super::Config;
use super::service::{LocalCommit, OpKey, Reply, Service};
use super::workload::{Op, StepId, TxId};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A service's answer to a saga command.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepReply {
    /// Done (an action applied, or a compensation that undid one).
    Done,
    /// A compensation with nothing to undo; the late action will be refused.
    NullCompensation,
    /// A business rejection (4xx): not retried.
    Rejected(String),
    /// The action came after its compensation and was refused.
    RefusedLate,
    /// A transient error (5xx): retried.
    Transient,
    /// Another saga's pending change holds the resource (semantic lock):
    /// retried later.
    Busy,
}

impl std::fmt::Display for StepReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepReply::Done => write!(f, "done"),
            StepReply::NullCompensation => write!(f, "null compensation"),
            StepReply::Rejected(why) => write!(f, "rejected: {why}"),
            StepReply::RefusedLate => write!(f, "refused (late)"),
            StepReply::Transient => write!(f, "transient error"),
            StepReply::Busy => write!(f, "busy (pending)"),
        }
    }
}

impl From<Reply> for StepReply {
    fn from(r: Reply) -> Self {
        match r {
            Reply::Done => StepReply::Done,
            Reply::Rejected(why) => StepReply::Rejected(why),
            Reply::NullCompensation => StepReply::NullCompensation,
            Reply::RefusedLate => StepReply::RefusedLate,
        }
    }
}

/// What executing a command decided: the local commit to make (if any) and
/// the reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
    /// The local transaction to persist and apply, if there is one.
    pub commit: Option<LocalCommit>,
    /// The answer.
    pub reply: StepReply,
}

/// Decide `op` of `step` for `tx` at `service`. Pure but for the transient
/// fault draw from the node's own random stream.
pub fn execute(
    cfg: &Config,
    service: &Service,
    tx: TxId,
    step: StepId,
    op: Op,
    rng: &mut ChaCha8Rng,
) -> Execution {
    let wf = &cfg.workflow;
    // The request's own amounts (scaled by its value).
    let spec = wf.step_for(tx, step);
    let key = OpKey { tx, step, op };
    if let Some(previous) = service.seen(&key) {
        return Execution {
            commit: None,
            reply: previous.clone().into(),
        };
    }
    let plans: Vec<_> = wf.failures_for(tx, step).collect();
    let transient = plans
        .iter()
        .map(|f| f.transient_per_mille)
        .max()
        .unwrap_or(0);
    let failing = match op {
        Op::Compensation => plans.iter().any(|f| f.compensation_fails),
        Op::Action => transient > 0 && rng.random_range(0..1000) < transient,
    };
    if failing {
        return Execution {
            commit: None,
            reply: StepReply::Transient,
        };
    }
    if op == Op::Action && super::countermeasure::busy(cfg, service, &spec.resource, tx) {
        return Execution {
            commit: None,
            reply: StepReply::Busy,
        };
    }
    let reject = plans.iter().any(|f| f.reject);
    let commit = service.plan(tx, step, &spec, op, reject);
    let reply = commit.reply.clone().into();
    Execution {
        commit: Some(commit),
        reply,
    }
}
