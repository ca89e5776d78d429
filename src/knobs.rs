//! The swarm's workload knobs: what a seed may change in the business
//! side of a scenario, beyond the network and the faults. A register in
//! place of a counter (with a countermeasure that keeps it from losing
//! updates: a sweep looks for bugs, not for the anomaly a bare register
//! shows by design), the isolation countermeasures (the pessimistic view
//! only where its moved steps cannot be refused for good), a semantic
//! compensation's fee, a parallel group, a crash tied to an event (a
//! service crashes when a given message reaches it, and comes back later),
//! and locking by value where the scenario gives its requests values.
//!
//! Drawn after every other swarm draw, so the network and faults of a seed
//! stay what they were before these knobs existed; each draw keeps what the
//! scenario itself sets, and only draws what validation accepts.

use rand::RngExt;
use txlab_sim::lab::scenario::format::{ScenarioFile, StepFile};
use txlab_sim::lab::scenario::knob_rules::{
    may_group, pessimistic_view_keeps_its_contract, tied_crash,
};
use txlab_sim::protocols::countermeasure::ByValue;
use txlab_sim::protocols::{Protocol, Toggles};

/// The group name the swarm gives the steps it runs in parallel.
pub const SWARM_GROUP: &str = "swarm-group";

/// Turn the knobs of `file` for one seed, keeping or (for a negative
/// control) ignoring the countermeasures' contracts.
pub fn draw_workload_knobs(file: &mut ScenarioFile, rng: &mut impl RngExt, contracts: Contracts) {
    if rng.random_bool(0.3) && !file.steps.is_empty() {
        let step = &file.steps[rng.random_range(0..file.steps.len())];
        let (service, resource) = (step.service.clone(), step.resource.clone());
        if let Some(s) = file.services.iter_mut().find(|s| s.name == service) {
            if !s.registers.contains(&resource) {
                s.registers.push(resource);
                // A bare register loses updates by design (a compensation
                // restores the value it found): that is the anomaly the
                // lessons show, not a bug for a sweep to report. With one
                // of the two countermeasures that write compensations as
                // operations, the register's code runs and money must
                // still be conserved.
                match rng.random_bool(0.5) {
                    true => file.toggles.commutative_updates = true,
                    false => file.toggles.version_file = true,
                }
            }
        }
    }
    let grouped = file.steps.iter().any(|s| s.group.is_some());
    let given = file.toggles.clone();
    let t = &mut file.toggles;
    for on in [
        &mut t.semantic_lock,
        &mut t.commutative_updates,
        &mut t.pessimistic_view,
        &mut t.reread_value,
        &mut t.version_file,
    ] {
        *on |= rng.random_bool(0.2);
    }
    // Pessimistic view reorders the steps, which a group does not survive
    // (validation refuses the pair): a grouped scenario keeps it off.
    if grouped {
        t.pessimistic_view = false;
    }
    if contracts == Contracts::Kept {
        keep_pessimistic_views_contract(file, &given);
    }
    if rng.random_bool(0.2) && !file.steps.is_empty() {
        let i = rng.random_range(0..file.steps.len());
        let step = &mut file.steps[i];
        if step.amount >= 2 && step.compensation_amount.is_none() {
            step.compensation_amount = Some(rng.random_range(1..step.amount));
        }
    }
    // Pessimistic view reorders the steps, which a group does not survive.
    if rng.random_bool(0.25) && !file.toggles.pessimistic_view {
        draw_group(&mut file.steps, rng);
    }
    if rng.random_bool(0.25) {
        draw_tied_crash(file, rng);
    }
    draw_by_value(file, rng);
}

/// Whether the swarm keeps its draws within each countermeasure's
/// contract. Only a negative control ignores them, to show that the
/// checkers catch what the contracts keep out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contracts {
    /// Draws that would break a countermeasure's contract are undone.
    Kept,
    /// Every draw stands (negative controls only).
    Ignored,
}

/// Pessimistic view retries its moved steps without limit, so they must
/// never be refused for good ([`pessimistic_view_keeps_its_contract`]):
/// where the drawn toggles break that, the draw that did is undone (the
/// pessimistic view if drawn, else a drawn reread value), so a stalled
/// saga in a sweep is a bug, not the configuration. What the scenario
/// itself sets (`given`) stays: a lesson may show the broken contract.
/// No draw is consumed, so the seed's later draws stay as they were
/// (but for a group, which a pessimistic view no longer rules out).
fn keep_pessimistic_views_contract(file: &mut ScenarioFile, given: &Toggles) {
    if pessimistic_view_keeps_its_contract(file) {
        return;
    }
    let t = &mut file.toggles;
    if !given.pessimistic_view {
        t.pessimistic_view = false;
    } else if !given.reread_value {
        t.reread_value = false;
    }
}

/// Lock by value, at a threshold among the scenario's own request values.
/// Only a scenario that gives its requests values (the business's order
/// sizes, which a sweep does not invent: new values would change every
/// amount) is touched, and only then is anything drawn, so the seeds of
/// every other scenario stay as they were.
fn draw_by_value(file: &mut ScenarioFile, rng: &mut impl RngExt) {
    let values = &file.workload.values;
    if values.is_empty() || file.toggles.by_value.is_some() || !rng.random_bool(0.3) {
        return;
    }
    let threshold = values[rng.random_range(0..values.len())];
    file.toggles.by_value = Some(ByValue { threshold });
}

/// Two neighbouring steps that may run in parallel become a group (only
/// when the scenario has none of its own).
fn draw_group(steps: &mut [StepFile], rng: &mut impl RngExt) {
    if steps.len() < 2 {
        return;
    }
    let i = rng.random_range(0..steps.len() - 1);
    if may_group(steps, i) {
        steps[i].group = Some(SWARM_GROUP.into());
        steps[i + 1].group = Some(SWARM_GROUP.into());
    }
}

/// A service crashes when a message of one protocol (the 2PC PREPARE,
/// the orchestrator's command, the broker's delivery) first or second
/// reaches it, and restarts 10 to 300 ms later, tied to the same event.
fn draw_tied_crash(file: &mut ScenarioFile, rng: &mut impl RngExt) {
    if file.services.is_empty() {
        return;
    }
    let service = file.services[rng.random_range(0..file.services.len())]
        .name
        .clone();
    let protocol = Protocol::ALL[rng.random_range(0..Protocol::ALL.len())];
    let nth = rng.random_range(1..=2u32);
    let down_ms = rng.random_range(10..300u64);
    file.faults
        .extend(tied_crash(protocol, &service, nth, down_ms));
}

#[cfg(test)]
mod tests {
    use crate::library::LIBRARY;
    use crate::sweep::seed_scenario;
    use txlab_sim::lab::scenario::Scenario;

    /// A swarm seed whose file is invalid is skipped by the sweep, so
    /// every knob must keep every lesson valid.
    #[test]
    fn every_lessons_swarm_variants_are_valid() {
        for (name, text) in LIBRARY {
            let base = Scenario::parse(text.as_bytes(), name).unwrap();
            for seed in 0..60 {
                if let Err(e) = seed_scenario(&base, seed, true) {
                    panic!("{name} seed {seed}: {e}");
                }
            }
        }
    }
}
