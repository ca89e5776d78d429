//! The lab-world explorer's counts, pinned so that work on its speed
//! (sharing what states have in common, cheaper fingerprints) cannot
//! change what it finds. These numbers are not derived from theory: they
//! were written down from the explorer before that work (release build,
//! `txlab explore ... --threads 1`) and are a regression pin. What theory
//! says about them (which outcomes appear, that 2PC blocks, that a
//! duplicate without idempotency charges twice) is tested in
//! `explore_world.rs`; the lesson's own numbers in `explore_lesson.rs`.
//!
//! The end-state tallies were re-pinned once, on purpose, when end states
//! became "no protocol step left, each configuration once" instead of
//! "every state at rest": the states, transitions and depths did not move.

use std::collections::BTreeMap;
use txlab_sim::engine::Choice;
use txlab_sim::explore::{Explored, Options, explore};
use txlab_sim::lab::explore_model::WorldModel;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;

const LESSON: &str = include_str!("../../scenarios/explore-2pc-three-participants.toml");
const DUPLICATE: &str = include_str!("../../scenarios/duplicate-payment.toml");

fn scenario(text: &str) -> Scenario {
    Scenario::parse(text.as_bytes(), "pinned").unwrap()
}

fn search(model: &WorldModel) -> Explored<Choice> {
    explore(model, &Options::default(), &|_| {})
}

/// Distinct states, transitions, maximum depth, end states by outcome and
/// the violated invariants with the length of their shortest path.
type Pin<'a> = (u64, u64, u32, &'a [(&'a str, u64)], &'a [(&'a str, usize)]);

fn assert_pinned(r: &Explored<Choice>, pin: Pin) {
    let (states, transitions, depth, terminal, violations) = pin;
    let terminal: BTreeMap<String, u64> =
        terminal.iter().map(|(o, n)| (o.to_string(), *n)).collect();
    let found: Vec<(&str, usize)> = r
        .violations
        .iter()
        .map(|v| (v.invariant.as_str(), v.path.len()))
        .collect();
    assert_eq!(
        (r.distinct_states, r.transitions, r.max_depth, &r.terminal),
        (states, transitions, depth, &terminal)
    );
    assert_eq!(found, violations);
    assert!(r.complete);
}

#[test]
fn two_pc_over_three_participants_without_faults() {
    let model = WorldModel::new(&scenario(LESSON).spec_for(Protocol::TwoPc), 0);
    assert_pinned(&search(&model), (196, 502, 23, &[("committed", 1)], &[]));
}

#[test]
fn orchestrated_saga_over_three_services_with_one_crash() {
    let spec = scenario(LESSON).spec_for(Protocol::Orchestrated);
    let model = WorldModel::new(&spec, 1).crashes_only();
    let ends = [("completed", 6), ("unfinished", 14)];
    assert_pinned(&search(&model), (585, 816, 31, &ends, &[]));
}

#[test]
fn orchestrated_saga_over_three_services_with_one_fault() {
    let spec = scenario(LESSON).spec_for(Protocol::Orchestrated);
    let model = WorldModel::new(&spec, 1);
    let ends = [("completed", 6), ("unfinished", 14)];
    assert_pinned(&search(&model), (1_016, 1_512, 31, &ends, &[]));
}

#[test]
fn duplicate_payment_two_pc_without_faults() {
    let model = WorldModel::new(&scenario(DUPLICATE).spec_for(Protocol::TwoPc), 0);
    assert_pinned(&search(&model), (244, 731, 19, &[("committed", 1)], &[]));
}

#[test]
fn duplicate_payment_orchestrated_with_one_fault() {
    let spec = scenario(DUPLICATE).spec_for(Protocol::Orchestrated);
    let model = WorldModel::new(&spec, 1);
    let ends = [("completed", 6), ("unfinished", 14)];
    let found = [("at_most_once", 5)];
    assert_pinned(&search(&model), (944, 1_205, 25, &ends, &found));
}
