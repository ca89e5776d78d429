//! The business workload every protocol runs: services that own resources,
//! a workflow of steps, the transactions and the failures planned for them.

use crate::engine::SimTime;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// A business transaction (one booking, one enrolment): the unit that
/// commits, aborts, completes or is compensated.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct TxId(pub u32);

impl TxId {
    /// "No transaction", for observations about none in particular.
    pub const NONE: TxId = TxId(u32::MAX);
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.0)
    }
}

/// A step of the workflow: its index in [`Workflow::steps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(pub u16);

impl StepId {
    /// The index into the workflow's steps.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A service: its index in [`Workflow::services`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceId(pub u16);

impl ServiceId {
    /// The index into the workflow's services.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Which way an operation goes: the step's action or its compensation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Do the step (reserve, charge).
    Action,
    /// Semantically undo it (release, refund).
    Compensation,
}

/// Richardson's step kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Can be undone by its compensation.
    #[default]
    Compensatable,
    /// The go/no-go point: once it succeeds the saga can only go forward.
    Pivot,
    /// After the pivot; retried until it succeeds, never compensated.
    Retriable,
}

/// A service and the resources it owns, with their starting amounts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Display name ("car", "payment").
    pub name: String,
    /// Resource name → starting amount (cars in stock, a balance in dollars).
    pub resources: BTreeMap<String, i64>,
    /// Resources that are registers rather than counters: an action sets
    /// them to a value computed from a read, and a compensation restores
    /// the value they had before (see [`super::register`]).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub registers: std::collections::BTreeSet<String>,
}

/// One step of the workflow.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepSpec {
    /// Display name ("book car").
    pub name: String,
    /// Where it runs.
    pub service: ServiceId,
    /// Which of the service's resources it takes from.
    pub resource: String,
    /// How much the action takes.
    pub amount: i64,
    /// How much the compensation gives back: the amount, unless the
    /// compensation is semantic and keeps a fee (a cancellation charge).
    pub compensation_amount: i64,
    /// Compensatable, pivot or retriable.
    pub kind: StepKind,
    /// The action's label ("reserve").
    pub action: String,
    /// The compensation's label ("cancel").
    pub compensation: String,
    /// An earlier step at the same service and resource whose read this
    /// step's action relies on: it does not check the value again, and on
    /// a register it writes `that read − amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<StepId>,
    /// The parallel group the step belongs to, if any: consecutive steps
    /// with the same group run at once (see [`super::stage`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl StepSpec {
    /// What a compensated step keeps: the action's amount less what its
    /// compensation gives back (0 when the compensation is an exact
    /// inverse).
    pub fn fee(&self) -> i64 {
        self.amount - self.compensation_amount
    }
}

/// Failures planned for one step (all transactions unless `txs` is set).
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize, Default)]
pub struct StepFailure {
    /// The step.
    pub step: Option<StepId>,
    /// Reject the action as a business failure (4xx: never retried).
    pub reject: bool,
    /// Probability (in per-mille, 0..=1000) that an attempt fails
    /// transiently (5xx: retried).
    pub transient_per_mille: u16,
    /// Extra processing time before the reply.
    pub reply_delay: SimTime,
    /// Do the work but never answer the first `silent_replies` attempts (the
    /// caller times out not knowing the outcome).
    pub silent_replies: u8,
    /// The compensation always fails transiently (leads to a stuck saga).
    pub compensation_fails: bool,
    /// Only these transactions; empty means all.
    pub txs: Vec<TxId>,
}

impl StepFailure {
    /// Whether this plan applies to `tx` at `step`.
    pub fn applies(&self, tx: TxId, step: StepId) -> bool {
        self.step == Some(step) && (self.txs.is_empty() || self.txs.contains(&tx))
    }
}

/// When transactions arrive.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Arrival {
    /// The first arrival.
    pub start: SimTime,
    /// Time between arrivals (zero: all at once).
    pub interval: SimTime,
}

impl Default for Arrival {
    fn default() -> Self {
        Arrival {
            start: SimTime::from_millis(1),
            interval: SimTime::ZERO,
        }
    }
}

/// The business side of a scenario, shared by every protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// Services, in id order.
    pub services: Vec<ServiceSpec>,
    /// Steps, in execution order.
    pub steps: Vec<StepSpec>,
    /// How many transactions run.
    pub transactions: u32,
    /// When they arrive.
    pub arrival: Arrival,
    /// Planned failures.
    pub failures: Vec<StepFailure>,
    /// Per-request values (an order's size): transaction `i` has value
    /// `values[i % len]`, and every amount its steps take or give back is
    /// multiplied by it. Empty: every request has value 1 (the amounts as
    /// written). The `by_value` countermeasure compares it with its
    /// threshold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<u32>,
}

impl Workflow {
    /// Every transaction id.
    pub fn tx_ids(&self) -> impl Iterator<Item = TxId> + use<> {
        (0..self.transactions).map(TxId)
    }

    /// When `tx` arrives.
    pub fn arrival_of(&self, tx: TxId) -> SimTime {
        self.arrival.start + SimTime(self.arrival.interval.0.saturating_mul(u64::from(tx.0)))
    }

    /// A step by id.
    pub fn step(&self, id: StepId) -> &StepSpec {
        &self.steps[id.index()]
    }

    /// The value of request `tx`: its entry in [`Workflow::values`],
    /// cycled, or 1 when there are none.
    pub fn value_of(&self, tx: TxId) -> i64 {
        value_in(&self.values, tx)
    }

    /// Step `id` as request `tx` runs it: its amounts multiplied by the
    /// request's value (borrowed as written when the value is 1, so a
    /// workload without values runs exactly as before).
    pub fn step_for(&self, tx: TxId, id: StepId) -> Cow<'_, StepSpec> {
        scaled(self.step(id), self.value_of(tx))
    }

    /// Step ids in order.
    pub fn step_ids(&self) -> impl Iterator<Item = StepId> + use<> {
        (0..self.steps.len() as u16).map(StepId)
    }

    /// The steps that run at `service`.
    pub fn steps_at(&self, service: ServiceId) -> Vec<StepId> {
        self.step_ids()
            .filter(|s| self.step(*s).service == service)
            .collect()
    }

    /// The services that take part, in id order.
    pub fn participants(&self) -> Vec<ServiceId> {
        let mut v: Vec<ServiceId> = self.steps.iter().map(|s| s.service).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The pivot step, if any.
    pub fn pivot(&self) -> Option<StepId> {
        self.step_ids()
            .find(|s| self.step(*s).kind == StepKind::Pivot)
    }

    /// Whether `step`'s resource is a register (not a counter).
    pub fn is_register(&self, step: StepId) -> bool {
        let spec = self.step(step);
        self.services[spec.service.index()]
            .registers
            .contains(&spec.resource)
    }

    /// What `step`'s action must find available: its own amount plus the
    /// amounts of the later steps that rely on its read instead of
    /// checking again.
    pub fn check_amount(&self, step: StepId) -> i64 {
        let relying: i64 = self
            .steps
            .iter()
            .filter(|s| s.reads == Some(step))
            .map(|s| s.amount)
            .sum();
        self.step(step).amount + relying
    }

    /// The failure plans that apply to `tx` at `step`.
    pub fn failures_for(&self, tx: TxId, step: StepId) -> impl Iterator<Item = &StepFailure> {
        self.failures.iter().filter(move |f| f.applies(tx, step))
    }

    /// The holiday booking used by examples and tests: car, hotel, flight
    /// (the pivot-free classic) and a payment.
    pub fn holiday() -> Self {
        let svc = |name: &str, res: &str, amount: i64| ServiceSpec {
            name: name.into(),
            resources: BTreeMap::from([(res.to_string(), amount)]),
            registers: Default::default(),
        };
        let step =
            |name: &str, service: u16, resource: &str, amount, action: &str, comp: &str| StepSpec {
                name: name.into(),
                service: ServiceId(service),
                resource: resource.into(),
                amount,
                compensation_amount: amount,
                kind: StepKind::Compensatable,
                action: action.into(),
                compensation: comp.into(),
                reads: None,
                group: None,
            };
        Workflow {
            services: vec![
                svc("car", "cars", 10),
                svc("hotel", "rooms", 10),
                svc("flight", "seats", 10),
                svc("payment", "sam", 1_000),
            ],
            steps: vec![
                step("book car", 0, "cars", 1, "reserve", "cancel"),
                step("book hotel", 1, "rooms", 1, "reserve", "cancel"),
                step("book flight", 2, "seats", 1, "reserve", "cancel"),
                step("charge card", 3, "sam", 100, "charge", "refund"),
            ],
            transactions: 1,
            arrival: Arrival::default(),
            failures: Vec::new(),
            values: Vec::new(),
        }
    }
}

/// The value of request `tx` among `values` (cycled; 1 when empty).
pub fn value_in(values: &[u32], tx: TxId) -> i64 {
    match values.len() {
        0 => 1,
        n => i64::from(values[tx.0 as usize % n]),
    }
}

/// `spec` with its amounts multiplied by `value`.
pub fn scaled(spec: &StepSpec, value: i64) -> Cow<'_, StepSpec> {
    if value == 1 {
        return Cow::Borrowed(spec);
    }
    let mut s = spec.clone();
    s.amount = spec.amount.saturating_mul(value);
    s.compensation_amount = spec.compensation_amount.saturating_mul(value);
    Cow::Owned(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cycle_and_scale_both_amounts() {
        let mut wf = Workflow::holiday();
        wf.steps[3].compensation_amount = 90;
        assert_eq!(wf.value_of(TxId(5)), 1, "no values: every request is 1");
        assert!(matches!(wf.step_for(TxId(5), StepId(3)), Cow::Borrowed(_)));
        wf.values = vec![1, 3];
        assert_eq!(wf.value_of(TxId(0)), 1);
        assert_eq!(wf.value_of(TxId(3)), 3, "cycled: 3 % 2 = 1");
        let s = wf.step_for(TxId(3), StepId(3));
        assert_eq!((s.amount, s.compensation_amount, s.fee()), (300, 270, 30));
        assert_eq!(wf.step_for(TxId(2), StepId(3)).amount, 100);
    }
}
