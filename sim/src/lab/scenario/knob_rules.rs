//! Rules for turning a workload knob that keep a scenario valid, shared
//! by `txlab sweep --swarm` and the property-test kit (which re-exports
//! them): these live outside the `testkit` feature so the CLI builds
//! without proptest.

use super::format::{EventFile, FaultFile, ScenarioFile, StepFile};
use crate::protocols::Protocol;
use crate::protocols::workload::StepKind;

/// Whether steps `i` and `i + 1` may form a parallel group (the rules
/// validation enforces, for a file with no group yet).
pub fn may_group(steps: &[StepFile], i: usize) -> bool {
    let (Some(a), Some(b)) = (steps.get(i), steps.get(i + 1)) else {
        return false;
    };
    let before = i.checked_sub(1).map(|p| steps[p].service.as_str());
    steps.iter().all(|s| s.group.is_none())
        && a.kind == b.kind
        && a.kind != StepKind::Pivot
        && a.service != b.service
        && before != Some(a.service.as_str())
        && before != Some(b.service.as_str())
        && b.reads.as_deref() != Some(a.name.as_str())
}

/// Whether `pessimistic_view` keeps its contract in `file`: every step it
/// would move after the pivot (a compensatable step before it that
/// changes something) is retried there without limit, so it must never be
/// refused for good, or its saga never ends (`termination`, and in the
/// choreography `no_event_discarded`). A false here is the drawn
/// configuration breaking the countermeasure, not a protocol bug.
///
/// The conditions follow the code that refuses an action
/// (`Service::plan` and `check_step`, `Memory::reread`), for each step
/// that moves:
/// - no planned failure rejects it, or fails every attempt of it;
/// - its service runs the built-in logic (a user's logic may refuse
///   anything);
/// - if it relies on an earlier read (`reads`), reread value is off: that
///   comparison is then its only check, and a value another order changed
///   would refuse it on every retry;
/// - otherwise (it checks availability: the current value must cover its
///   amount and those of the steps relying on it, scaled by the request's
///   value), the resource's starting amount covers every request's demand
///   on it: the sum over transactions of value × the amounts of all steps
///   on that service's resource. A resource's value is always its start
///   less a subset of the actions done (a compensation, a register's
///   restored before-image or a stale read's write only drops some), so
///   that bound leaves each check enough. Each action must apply once,
///   so idempotency must be on (a retried or duplicated action applied
///   again would take more than the demand).
///
/// A file without a pivot moves nothing and keeps the contract.
pub fn pessimistic_view_keeps_its_contract(file: &ScenarioFile) -> bool {
    let steps = &file.steps;
    let Some(pivot) = steps.iter().position(|s| s.kind == StepKind::Pivot) else {
        return true;
    };
    steps[..pivot]
        .iter()
        .filter(|s| s.kind == StepKind::Compensatable && s.amount > 0)
        .all(|s| never_refused(file, s))
}

/// Whether a moved step `step` of `file` is never refused (see
/// [`pessimistic_view_keeps_its_contract`]).
fn never_refused(file: &ScenarioFile, step: &StepFile) -> bool {
    let planned = file
        .failures
        .iter()
        .any(|f| f.step == step.name && (f.reject || f.transient_probability >= 1.0));
    let custom = file
        .services
        .iter()
        .any(|s| s.name == step.service && s.logic.is_some());
    if planned || custom {
        return false;
    }
    if step.reads.is_some() {
        return !file.toggles.reread_value;
    }
    file.toggles.idempotency && demand(file, step) <= stock(file, step)
}

/// What every request takes, at most, from `step`'s service's resource:
/// the amounts of all steps on it, each scaled by each request's value.
fn demand(file: &ScenarioFile, step: &StepFile) -> i128 {
    let per_value: i128 = file
        .steps
        .iter()
        .filter(|s| s.service == step.service && s.resource == step.resource)
        .map(|s| i128::from(s.amount.max(0)))
        .sum();
    // Transaction `i` has `values[i % len]` (1 without values): whole
    // cycles of the list, then its first few.
    let w = &file.workload;
    let values: Vec<i128> = match w.values.is_empty() {
        true => vec![1],
        false => w.values.iter().map(|v| i128::from(*v)).collect(),
    };
    let (n, len) = (i128::from(w.transactions), values.len() as i128);
    let whole: i128 = values.iter().sum();
    let rest: i128 = values.iter().take((n % len) as usize).sum();
    per_value * (whole * (n / len) + rest)
}

/// The starting amount of `step`'s service's resource (0 when unlisted,
/// as the service reads it).
fn stock(file: &ScenarioFile, step: &StepFile) -> i128 {
    file.services
        .iter()
        .find(|s| s.name == step.service)
        .and_then(|s| s.resources.get(&step.resource))
        .map_or(0, |v| i128::from(*v))
}

/// The crash of `service` tied to the first message of `protocol` that
/// reaches it, and its restart `down_ms` later (tied to the same event).
pub fn tied_crash(protocol: Protocol, service: &str, nth: u32, down_ms: u64) -> [FaultFile; 2] {
    let message = match protocol {
        Protocol::TwoPc => "prepare",
        Protocol::Orchestrated => "action",
        Protocol::Choreographed => "deliver",
    };
    let after = EventFile {
        message: Some(message.into()),
        to: Some(service.into()),
        nth,
        ..EventFile::default()
    };
    let fault = FaultFile {
        protocol: Some(protocol.name().into()),
        after: Some(after),
        ..FaultFile::default()
    };
    [
        FaultFile {
            crash: Some(service.into()),
            ..fault.clone()
        },
        FaultFile {
            delay_ms: Some(down_ms as f64),
            restart: Some(service.into()),
            ..fault
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::scenario::Scenario;
    use crate::lab::scenario::format::FailureFile;

    /// The contention workload (8 orders; check stock, charge 100 from a
    /// balance of 1000, reserve 1 of 3 relying on the check, book a van as
    /// the pivot; orders 0 and 3 refused a van), as the
    /// pessimistic-view lesson gives it: charge and reserve move.
    fn contention() -> ScenarioFile {
        let text = include_str!("../../../../scenarios/countermeasure-pessimistic_view.toml");
        Scenario::parse(text.as_bytes(), "pv").unwrap().file
    }

    /// The lesson keeps the contract: the charge checks 100 × 8 = 800
    /// against 1000, the reservation only relies on its read (reread
    /// value off), and the van's rejection is the pivot's, not a moved
    /// step's. Reread value breaks it: a reservation whose checked stock
    /// another order changed is refused on every retry (seed 22 of
    /// `sweep isolation-contention --swarm`).
    #[test]
    fn reread_value_breaks_a_moved_step_that_relies_on_a_read() {
        let mut f = contention();
        assert!(pessimistic_view_keeps_its_contract(&f));
        f.toggles.reread_value = true;
        assert!(!pessimistic_view_keeps_its_contract(&f));
    }

    /// The bound is every request's demand: with values 1, 2, 1, 1 the 8
    /// orders weigh 10, so the charge needs 1000 (just enough) and 999
    /// does not do; a second step on the balance (50 each) adds 500.
    #[test]
    fn the_stock_must_cover_every_requests_demand() {
        let mut f = contention();
        f.workload.values = vec![1, 2, 1, 1];
        assert!(pessimistic_view_keeps_its_contract(&f), "1000 for 1000");
        f.services[1].resources.insert("balance".into(), 999);
        assert!(!pessimistic_view_keeps_its_contract(&f), "999 for 1000");
        f.services[1].resources.insert("balance".into(), 1499);
        let mut fee = f.steps[1].clone();
        fee.name = "fee".into();
        fee.amount = 50;
        f.steps.insert(2, fee);
        assert!(!pessimistic_view_keeps_its_contract(&f), "1499 for 1500");
        f.services[1].resources.insert("balance".into(), 1500);
        assert!(pessimistic_view_keeps_its_contract(&f), "1500 for 1500");
    }

    /// A rejection (or a failure on every attempt) planned for a moved
    /// step refuses it for good; without idempotency a duplicated charge
    /// takes more than the demand.
    #[test]
    fn planned_failures_and_repeated_actions_break_it() {
        for (reject, transient_probability) in [(true, 0.0), (false, 1.0)] {
            let mut f = contention();
            f.failures.push(FailureFile {
                step: "charge".into(),
                reject,
                transient_probability,
                txs: vec![5],
                ..FailureFile::default()
            });
            assert!(!pessimistic_view_keeps_its_contract(&f), "{reject}");
        }
        let mut f = contention();
        f.failures.push(FailureFile {
            step: "charge".into(),
            transient_probability: 0.5,
            silent_replies: 2,
            ..FailureFile::default()
        });
        assert!(pessimistic_view_keeps_its_contract(&f), "retried, succeeds");
        f.toggles.idempotency = false;
        assert!(!pessimistic_view_keeps_its_contract(&f));
    }

    /// Without a pivot nothing moves, whatever else the file says; a
    /// step after the pivot never moves, so its refusal is not the
    /// countermeasure's.
    #[test]
    fn only_the_steps_that_move_count() {
        let mut f = contention();
        f.toggles.reread_value = true;
        f.steps[3].kind = StepKind::Compensatable;
        assert!(pessimistic_view_keeps_its_contract(&f), "no pivot");
        let mut f = contention();
        f.steps.swap(2, 3);
        f.steps[2].kind = StepKind::Pivot;
        f.steps[3].kind = StepKind::Retriable;
        f.toggles.reread_value = true;
        assert!(
            pessimistic_view_keeps_its_contract(&f),
            "reserve after pivot"
        );
        f.steps[3].kind = StepKind::Compensatable;
        f.steps.swap(2, 3);
        f.steps[3].kind = StepKind::Pivot;
        f.steps[2].kind = StepKind::Compensatable;
        assert!(!pessimistic_view_keeps_its_contract(&f), "reserve before");
    }
}
