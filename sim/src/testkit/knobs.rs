//! The workload's knobs a property case turns (the swarm turns the same
//! ones): a register in place of a counter, `reread_value`, a semantic
//! compensation's fee, two neighbouring steps in a parallel group, a
//! service crash tied to the first message of one protocol that reaches
//! it, and locking by value (requests of values 1 and 2, the double ones
//! risky). Each keeps the scenario valid and correct by contract: a
//! register comes with `commutative_updates` or `version_file` (a bare one
//! loses updates by design), and nothing turns `pessimistic_view` (its
//! moved steps must never be refused, which a case's rejections would
//! break; the swarm draws it only where
//! [`crate::lab::scenario::knob_rules::pessimistic_view_keeps_its_contract`]
//! holds, and a case could check the same).

use crate::lab::scenario::format::ScenarioFile;
use crate::protocols::Protocol;
use proptest::prelude::*;

pub use crate::lab::scenario::knob_rules::{may_group, tied_crash};

/// The group name given to the steps a knob runs in parallel.
pub const GROUP: &str = "knob-group";

/// The knobs of one case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Knobs {
    /// This step's resource becomes a register, kept safe by the version
    /// file (`true`) or by commutative updates (`false`).
    pub register: Option<(usize, bool)>,
    /// The `reread_value` countermeasure.
    pub reread_value: bool,
    /// This step's compensation keeps a fee of 1 (if its amount is 2 or
    /// more).
    pub fee: Option<usize>,
    /// This step and the next run in parallel (if they may).
    pub group: Option<usize>,
    /// This service (index in the scenario's services) crashes when the
    /// first message of a protocol (index in [`Protocol::ALL`]) reaches
    /// it, and restarts `down_ms` later.
    pub tied_crash: Option<(usize, usize, u64)>,
    /// Requests alternate values 1 and 2 and `by_value` locks those of 2
    /// (a per-request semantic lock: busy replies, releases, and every
    /// amount of a double request scaled).
    pub by_value: bool,
}

/// Knobs over a scenario with `steps` steps and `services` services.
pub fn knobs(steps: usize, services: usize) -> impl Strategy<Value = Knobs> {
    let (steps, services) = (steps.max(1), services.max(1));
    (
        proptest::option::weighted(0.3, (0..steps, any::<bool>())),
        proptest::bool::weighted(0.2),
        proptest::option::weighted(0.2, 0..steps),
        proptest::option::weighted(0.3, 0..steps),
        proptest::option::weighted(0.2, (0..services, 0..3usize, 10..300u64)),
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(register, reread_value, fee, group, tied_crash, by_value)| Knobs {
                register,
                reread_value,
                fee,
                group,
                tied_crash,
                by_value,
            },
        )
}

impl Knobs {
    /// Turn the knobs of `f`.
    pub fn apply(&self, f: &mut ScenarioFile) {
        if let Some((i, version_file)) = self.register {
            let step = &f.steps[i % f.steps.len()];
            let (service, resource) = (step.service.clone(), step.resource.clone());
            if let Some(s) = f.services.iter_mut().find(|s| s.name == service) {
                if !s.registers.contains(&resource) {
                    s.registers.push(resource);
                }
            }
            match version_file {
                true => f.toggles.version_file = true,
                false => f.toggles.commutative_updates = true,
            }
        }
        f.toggles.reread_value |= self.reread_value;
        if let Some(i) = self.fee {
            let n = f.steps.len();
            let step = &mut f.steps[i % n];
            if step.amount >= 2 && step.compensation_amount.is_none() {
                step.compensation_amount = Some(step.amount - 1);
            }
        }
        if let Some(i) = self.group {
            if !f.toggles.pessimistic_view && may_group(&f.steps, i) {
                f.steps[i].group = Some(GROUP.into());
                f.steps[i + 1].group = Some(GROUP.into());
            }
        }
        if self.by_value && f.workload.values.is_empty() {
            // At most one value per transaction (validation's rule).
            f.workload.values = (1..=f.workload.transactions.min(2)).collect();
            f.toggles.by_value = Some(crate::protocols::countermeasure::ByValue { threshold: 2 });
        }
        if let Some((s, p, down_ms)) = self.tied_crash {
            if let Some(service) = f.services.get(s).map(|s| s.name.clone()) {
                f.faults
                    .extend(tied_crash(Protocol::ALL[p % 3], &service, 1, down_ms));
            }
        }
    }

    /// The knobs in words, for a failure's description.
    pub fn trouble(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some((s, p, down_ms)) = self.tied_crash {
            let p = Protocol::ALL[p % 3].name();
            out.push(format!(
                "service {s} crashes on its first {p} message for {down_ms} ms"
            ));
        }
        out
    }
}
