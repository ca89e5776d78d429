//! The business core of a service, shared by every protocol: resources,
//! local transactions, and the idempotency table keyed by
//! (transaction, step, operation).

use super::register::{Memo, Memory, Rules};
use super::workload::{Op, ServiceId, ServiceSpec, StepId, StepSpec, TxId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The idempotency key of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpKey {
    /// The transaction.
    pub tx: TxId,
    /// The step.
    pub step: StepId,
    /// Action or compensation.
    pub op: Op,
}

/// How a service answered an operation; remembered per key so a retry or a
/// duplicate gets the same answer without doing the work again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Done; the resource changed by the step's amount.
    Done,
    /// Refused as a business failure (never retried).
    Rejected(String),
    /// A compensation that arrived before its action: nothing to undo, and
    /// the action is now refused if it turns up late.
    NullCompensation,
    /// An action that arrived after its (null) compensation: refused.
    RefusedLate,
}

/// One local transaction, as written to the service's durable log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocalCommit {
    /// What it was.
    pub key: OpKey,
    /// The resource it changed.
    pub resource: String,
    /// By how much (0 for a refusal or a null compensation).
    pub delta: i64,
    /// The answer given.
    pub reply: Reply,
}

/// What a service knows about registers, reads and the countermeasures.
/// What never changes during a run is shared (`Arc`), so copying a service
/// (a crash's boot image, a sweep's reset) copies only what it changes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Registers {
    /// The resources that are registers.
    pub names: Arc<std::collections::BTreeSet<String>>,
    /// Starting amounts (the version file replays from them).
    pub initial: Arc<BTreeMap<String, i64>>,
    /// The workflow's steps (a commit names its step by id).
    pub steps: Arc<Vec<StepSpec>>,
    /// Per step: how much its action must find available (for a request
    /// of value 1; scaled by the request's value).
    pub checks: Arc<BTreeMap<StepId, i64>>,
    /// The requests' values (see [`super::workload::Workflow::values`]).
    pub values: Arc<Vec<u32>>,
    /// The countermeasures in force.
    pub rules: Rules,
    /// Reads and register operations so far.
    pub memory: Memory,
}

/// A service's resources and idempotency table.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Service {
    /// Which service.
    pub id: ServiceId,
    /// Current amounts.
    pub values: BTreeMap<String, i64>,
    /// Deduplicate by key (a teaching toggle).
    pub idempotency: bool,
    /// Flag pending saga changes to readers (the semantic lock toggle).
    pub semantic_lock: bool,
    /// Flag the risky requests' pending changes to readers (by value).
    pub by_value: Option<super::countermeasure::ByValue>,
    /// Broken on purpose: apply actions that arrive after their
    /// compensation (negative controls only).
    pub accept_late_actions: bool,
    table: BTreeMap<OpKey, Reply>,
    /// Registers, reads and the countermeasures that change them.
    pub regs: Registers,
    /// Resource → sagas whose action here is applied but not yet final (the
    /// semantic lock's "pending" marks).
    pending: BTreeMap<String, std::collections::BTreeSet<TxId>>,
    /// Marks are held until the saga's end is announced (the semantic lock
    /// or by value is on), not dropped at a compensation: a saga that
    /// changed a resource at two steps still has the earlier change
    /// pending after the later one is undone.
    pub marks_until_release: bool,
    /// Sagas whose end was announced here: a late duplicate of one of
    /// their actions (idempotency off) must not set a mark nothing would
    /// ever release.
    released: std::collections::BTreeSet<TxId>,
}

impl Service {
    /// A service at its starting amounts.
    pub fn new(id: ServiceId, spec: &ServiceSpec, idempotency: bool) -> Self {
        Service {
            id,
            values: spec.resources.clone(),
            idempotency,
            semantic_lock: false,
            by_value: None,
            accept_late_actions: false,
            table: BTreeMap::new(),
            regs: Registers {
                names: Arc::new(spec.registers.clone()),
                initial: Arc::new(spec.resources.clone()),
                ..Registers::default()
            },
            pending: BTreeMap::new(),
            marks_until_release: false,
            released: Default::default(),
        }
    }

    /// Service `id` of a run, with the run's toggles (and broken behaviours)
    /// applied: the one way roles build their business state.
    pub fn for_run(cfg: &super::Config, id: ServiceId) -> Self {
        let mut s = Service::new(
            id,
            &cfg.workflow.services[id.index()],
            cfg.toggles.idempotency,
        );
        s.semantic_lock = cfg.toggles.semantic_lock;
        s.by_value = cfg.toggles.by_value;
        s.marks_until_release = cfg.toggles.releases_marks();
        s.accept_late_actions = cfg.broken.accept_late_actions;
        let wf = &cfg.workflow;
        s.regs.steps = Arc::new(wf.steps.clone());
        s.regs.checks = Arc::new(wf.step_ids().map(|x| (x, wf.check_amount(x))).collect());
        s.regs.values = Arc::new(wf.values.clone());
        s.regs.rules = Rules {
            commutative_updates: cfg.toggles.commutative_updates,
            version_file: cfg.toggles.version_file,
            reread_value: cfg.toggles.reread_value,
        };
        s
    }

    /// The remembered answer for `key`, if idempotency is on.
    pub fn seen(&self, key: &OpKey) -> Option<&Reply> {
        if self.idempotency {
            self.table.get(key)
        } else {
            None
        }
    }

    /// What this service answered `key`, whatever the idempotency toggle
    /// says: a choreographed group's member asks whether its own action
    /// was done before undoing it on a sibling's failure.
    pub fn answered(&self, key: &OpKey) -> Option<&Reply> {
        self.table.get(key)
    }

    /// Transactions whose action here is applied and not compensated: the
    /// changes a reader of this service's values sees.
    pub fn visible(&self) -> Vec<TxId> {
        let mut v: Vec<TxId> = self
            .table
            .iter()
            .filter(|(k, r)| k.op == Op::Action && **r == Reply::Done)
            .map(|(k, _)| k.tx)
            .filter(|tx| {
                !self
                    .table
                    .keys()
                    .any(|k| k.tx == *tx && k.op == Op::Compensation)
            })
            .collect();
        v.dedup();
        v
    }

    /// What a reader takes as real: everything visible, except changes
    /// flagged pending (the reader is told they are tentative and
    /// discounts them): every saga's under the semantic lock, the risky
    /// requests' under by value (see [`super::countermeasure::flagged`]).
    pub fn visible_to_readers(&self) -> Vec<TxId> {
        let mut v = self.visible();
        v.retain(|tx| !super::countermeasure::flagged(self, *tx));
        v
    }

    /// The current amount of `resource` (zero if unknown).
    pub fn value(&self, resource: &str) -> i64 {
        self.values.get(resource).copied().unwrap_or(0)
    }

    /// Decide an action without applying it: a rejection names the reason.
    /// A step relying on an earlier read does not check availability again
    /// (that read did, for it too); under reread value it checks that the
    /// value has not changed since.
    pub fn check_action(&self, step: &StepSpec, reject: bool) -> Result<(), String> {
        self.check_step(TxId::NONE, None, step, reject)
    }

    /// [`Service::check_action`] for `tx` at step `id` (whose reads it
    /// knows).
    fn check_step(
        &self,
        tx: TxId,
        id: Option<StepId>,
        step: &StepSpec,
        reject: bool,
    ) -> Result<(), String> {
        if reject {
            return Err(format!("{} refused", step.name));
        }
        let current = self.value(&step.resource);
        if step.reads.is_some() {
            return self.regs.memory.reread(self.regs.rules, tx, step, current);
        }
        let value = super::workload::value_in(&self.regs.values, tx);
        let need = id
            .and_then(|i| self.regs.checks.get(&i).copied())
            .map_or(step.amount, |c| c.saturating_mul(value));
        if current < need {
            return Err(format!("{} sold out", step.resource));
        }
        Ok(())
    }

    /// The local transaction that performs `op` of `step` for `tx`: what it
    /// changes and what it answers. Pure; [`Service::apply`] makes it so.
    /// `step` is the step as `tx` runs it (its amounts scaled by the
    /// request's value, [`super::workload::Workflow::step_for`]).
    pub fn plan(
        &self,
        tx: TxId,
        step_id: StepId,
        step: &StepSpec,
        op: Op,
        reject: bool,
    ) -> LocalCommit {
        let key = OpKey {
            tx,
            step: step_id,
            op,
        };
        let (delta, reply) = match op {
            Op::Action => {
                let compensated = self.table.contains_key(&OpKey {
                    op: Op::Compensation,
                    ..key
                });
                if compensated && !self.accept_late_actions {
                    (0, Reply::RefusedLate)
                } else {
                    match self.check_step(tx, Some(step_id), step, reject) {
                        Ok(()) => (self.action_delta(tx, step_id, step), Reply::Done),
                        Err(why) => (0, Reply::Rejected(why)),
                    }
                }
            }
            Op::Compensation => {
                let acted = self.table.get(&OpKey {
                    op: Op::Action,
                    ..key
                });
                match acted {
                    // A semantic undo: it gives back what the step says
                    // (which may keep a fee), or restores a register.
                    Some(Reply::Done) => (self.compensation_delta(tx, step_id, step), Reply::Done),
                    Some(_) => (0, Reply::Done),
                    None => (0, Reply::NullCompensation),
                }
            }
        };
        LocalCommit {
            key,
            resource: step.resource.clone(),
            delta,
            reply,
        }
    }

    fn action_delta(&self, tx: TxId, id: StepId, step: &StepSpec) -> i64 {
        let register = self.regs.names.contains(&step.resource);
        let current = self.value(&step.resource);
        let rules = self.regs.rules;
        let memory = &self.regs.memory;
        memory.action_delta(rules, register, tx, id, step, current)
    }

    fn compensation_delta(&self, tx: TxId, id: StepId, step: &StepSpec) -> i64 {
        let register = self.regs.names.contains(&step.resource);
        let current = self.value(&step.resource);
        let initial = self.regs.initial.get(&step.resource).copied().unwrap_or(0);
        let (rules, memory) = (self.regs.rules, &self.regs.memory);
        memory.compensation_delta(rules, register, (tx, id), step, current, initial)
    }

    /// Apply a local transaction (live, or replayed from the log).
    /// `step` is the step it belongs to (for registers and reads).
    pub fn apply(&mut self, commit: &LocalCommit) {
        let before = self.value(&commit.resource);
        self.remember(commit, before);
        // Keys are copied only the first time a resource is touched.
        match self.values.get_mut(&commit.resource) {
            Some(v) => *v += commit.delta,
            None => {
                self.values.insert(commit.resource.clone(), commit.delta);
            }
        }
        self.table.insert(commit.key, commit.reply.clone());
        if !self.pending.contains_key(&commit.resource) {
            self.pending
                .insert(commit.resource.clone(), Default::default());
        }
        let marks = self
            .pending
            .get_mut(&commit.resource)
            .expect("inserted above");
        match (commit.key.op, &commit.reply) {
            (Op::Action, Reply::Done) if !self.released.contains(&commit.key.tx) => {
                marks.insert(commit.key.tx);
            }
            (Op::Compensation, _) if !self.marks_until_release => {
                marks.remove(&commit.key.tx);
            }
            _ => {}
        }
    }

    /// Keep what registers and later reads need from an applied commit.
    fn remember(&mut self, commit: &LocalCommit, before: i64) {
        let regs = &mut self.regs;
        let Some(step) = regs.steps.get(commit.key.step.index()) else {
            return;
        };
        let (tx, id) = (commit.key.tx, commit.key.step);
        let register = regs.names.contains(&step.resource);
        match (commit.key.op, &commit.reply) {
            (Op::Action, Reply::Done) => {
                let memo = Memo {
                    before,
                    after: before + commit.delta,
                };
                regs.memory.acted(tx, id, step, memo, register);
            }
            (Op::Compensation, Reply::Done) => regs.memory.compensated(tx, id, step),
            _ => {}
        }
    }

    /// Whether saga `tx` has a pending mark on any resource here.
    pub fn holds_marks(&self, tx: TxId) -> bool {
        self.pending.values().any(|m| m.contains(&tx))
    }

    /// The saga `tx` has ended: its pending marks are cleared, and only its
    /// own (each mark names the saga that set it).
    pub fn release(&mut self, tx: TxId) {
        for marks in self.pending.values_mut() {
            marks.remove(&tx);
        }
        self.released.insert(tx);
    }

    /// Sagas other than `tx` with a pending (not yet final) effect on
    /// `resource`.
    pub fn pending_others(&self, resource: &str, tx: TxId) -> Vec<TxId> {
        self.pending
            .get(resource)
            .map(|m| m.iter().copied().filter(|t| *t != tx).collect())
            .unwrap_or_default()
    }

    /// The idempotency table, in key order.
    pub fn table(&self) -> impl Iterator<Item = (&OpKey, &Reply)> {
        self.table.iter()
    }
}

impl Clone for Registers {
    fn clone(&self) -> Self {
        Registers {
            names: Arc::clone(&self.names),
            initial: Arc::clone(&self.initial),
            steps: Arc::clone(&self.steps),
            checks: Arc::clone(&self.checks),
            values: Arc::clone(&self.values),
            rules: self.rules,
            memory: self.memory.clone(),
        }
    }

    /// The shared parts are usually the very same already (a reset copies
    /// the boot image of the same service): then nothing is touched.
    fn clone_from(&mut self, src: &Self) {
        let Registers {
            names,
            initial,
            steps,
            checks,
            values,
            rules,
            memory,
        } = src;
        share(&mut self.names, names);
        share(&mut self.initial, initial);
        share(&mut self.steps, steps);
        share(&mut self.checks, checks);
        share(&mut self.values, values);
        self.rules = *rules;
        self.memory.clone_from(memory);
    }
}

/// Point `mine` at `theirs` unless it already does (a copy of an `Arc`
/// without touching its counts when nothing changes).
pub(crate) fn share<T>(mine: &mut Arc<T>, theirs: &Arc<T>) {
    if !Arc::ptr_eq(mine, theirs) {
        *mine = Arc::clone(theirs);
    }
}

impl Clone for Service {
    fn clone(&self) -> Self {
        Service {
            id: self.id,
            values: self.values.clone(),
            idempotency: self.idempotency,
            semantic_lock: self.semantic_lock,
            by_value: self.by_value,
            accept_late_actions: self.accept_late_actions,
            table: self.table.clone(),
            regs: self.regs.clone(),
            pending: self.pending.clone(),
            marks_until_release: self.marks_until_release,
            released: self.released.clone(),
        }
    }

    /// In place: a sweep's reset copies a node's boot image over the same
    /// service after every seed, and the resources' names are the same
    /// then, so only their amounts are copied (no string is allocated or
    /// freed).
    fn clone_from(&mut self, src: &Self) {
        let Service {
            id,
            values,
            idempotency,
            semantic_lock,
            by_value,
            accept_late_actions,
            table,
            regs,
            pending,
            marks_until_release,
            released,
        } = src;
        self.id = *id;
        if self.values.len() == values.len() && self.values.keys().eq(values.keys()) {
            for (mine, theirs) in self.values.values_mut().zip(values.values()) {
                *mine = *theirs;
            }
        } else {
            self.values.clone_from(values);
        }
        self.idempotency = *idempotency;
        self.semantic_lock = *semantic_lock;
        self.by_value = *by_value;
        self.accept_late_actions = *accept_late_actions;
        self.table.clone_from(table);
        self.regs.clone_from(regs);
        self.pending.clone_from(pending);
        self.marks_until_release = *marks_until_release;
        self.released.clone_from(released);
    }
}

/// The explorer's fingerprint: what changes as a run goes on (the memory);
/// the rest is configuration, the same in every state of one exploration.
impl std::hash::Hash for Registers {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.memory.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::workload::Workflow;

    fn payment() -> (Service, StepSpec) {
        let w = Workflow::holiday();
        (
            Service::new(ServiceId(3), &w.services[3], true),
            w.steps[3].clone(),
        )
    }

    #[test]
    fn action_then_compensation_restores_the_balance() {
        let (mut s, step) = payment();
        let act = s.plan(TxId(1), StepId(3), &step, Op::Action, false);
        s.apply(&act);
        assert_eq!(s.value("sam"), 900);
        let comp = s.plan(TxId(1), StepId(3), &step, Op::Compensation, false);
        s.apply(&comp);
        assert_eq!(s.value("sam"), 1_000);
    }

    #[test]
    fn compensation_before_action_is_null_and_refuses_the_late_action() {
        let (mut s, step) = payment();
        let comp = s.plan(TxId(1), StepId(3), &step, Op::Compensation, false);
        assert_eq!(comp.reply, Reply::NullCompensation);
        s.apply(&comp);
        let late = s.plan(TxId(1), StepId(3), &step, Op::Action, false);
        assert_eq!(late.reply, Reply::RefusedLate);
        assert_eq!(late.delta, 0);
    }

    #[test]
    fn a_release_clears_only_the_marks_of_its_own_saga() {
        let (mut s, step) = payment();
        s.semantic_lock = true;
        for tx in [TxId(1), TxId(2)] {
            let act = s.plan(tx, StepId(3), &step, Op::Action, false);
            s.apply(&act);
        }
        assert_eq!(s.pending_others("sam", TxId(9)), vec![TxId(1), TxId(2)]);
        s.release(TxId(1));
        assert!(!s.holds_marks(TxId(1)));
        assert!(
            s.holds_marks(TxId(2)),
            "saga 2's mark survives saga 1's release"
        );
        assert_eq!(s.pending_others("sam", TxId(1)), vec![TxId(2)]);
    }

    /// A saga that changed a resource at two steps still has the first
    /// change pending when the second is undone: under the semantic lock
    /// its mark stays until its end is announced (a compensation used to
    /// drop it, letting others read a change about to be undone).
    #[test]
    fn a_compensation_keeps_the_mark_until_the_saga_is_released() {
        let (mut s, step) = payment();
        s.semantic_lock = true;
        s.marks_until_release = true;
        for id in [StepId(1), StepId(3)] {
            let act = s.plan(TxId(1), id, &step, Op::Action, false);
            s.apply(&act);
        }
        let comp = s.plan(TxId(1), StepId(3), &step, Op::Compensation, false);
        s.apply(&comp);
        assert_eq!(s.pending_others("sam", TxId(9)), vec![TxId(1)]);
        s.release(TxId(1));
        assert!(s.pending_others("sam", TxId(9)).is_empty());
        // Without the lock a compensation still drops the mark (nothing
        // reads marks then, and nothing would release them).
        let (mut bare, step) = payment();
        let act = bare.plan(TxId(1), StepId(3), &step, Op::Action, false);
        bare.apply(&act);
        let comp = bare.plan(TxId(1), StepId(3), &step, Op::Compensation, false);
        bare.apply(&comp);
        assert!(!bare.holds_marks(TxId(1)));
    }

    /// A duplicate of an action that arrives after its saga was released
    /// (idempotency off applies it again) sets no mark: nothing would
    /// ever release it, and every later saga would wait "busy" forever.
    #[test]
    fn a_late_duplicate_after_the_release_sets_no_mark() {
        let (mut s, step) = payment();
        s.idempotency = false;
        s.semantic_lock = true;
        s.marks_until_release = true;
        let act = s.plan(TxId(1), StepId(3), &step, Op::Action, false);
        s.apply(&act);
        s.release(TxId(1));
        let again = s.plan(TxId(1), StepId(3), &step, Op::Action, false);
        s.apply(&again);
        assert!(!s.holds_marks(TxId(1)));
    }

    #[test]
    fn clone_from_a_boot_image_undoes_a_run_in_place() {
        let (boot, step) = payment();
        let mut s = boot.clone();
        s.semantic_lock = true;
        for tx in [TxId(1), TxId(2)] {
            let act = s.plan(tx, StepId(3), &step, Op::Action, false);
            s.apply(&act);
        }
        // A resource the boot image does not have: the names differ.
        let mut other = step.clone();
        other.resource = "elsewhere".into();
        let late = s.plan(TxId(3), StepId(3), &other, Op::Action, false);
        s.apply(&late);
        assert_ne!(s, boot);
        s.clone_from(&boot);
        assert_eq!(s, boot, "names differed: a full copy");
        let act = s.plan(TxId(1), StepId(3), &step, Op::Action, false);
        s.apply(&act);
        s.clone_from(&boot);
        assert_eq!(s, boot, "same names: amounts copied in place");
        assert_eq!(s.table().count(), 0);
        assert!(!s.holds_marks(TxId(1)));
    }

    #[test]
    fn insufficient_amount_is_a_business_rejection() {
        let (mut s, mut step) = payment();
        step.amount = 5_000;
        let r = s.plan(TxId(1), StepId(3), &step, Op::Action, false);
        assert!(matches!(r.reply, Reply::Rejected(_)));
        s.apply(&r);
        assert_eq!(s.value("sam"), 1_000);
    }
}
