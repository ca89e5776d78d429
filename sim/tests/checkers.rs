//! Negative controls for the checkers that guard 2PC's outcome against what
//! was decided, told and applied: each runs a deliberately broken variant
//! and must be caught, and the same run unbroken must be clean.

mod common;

use common::{assert_caught, assert_clean, ms, sold_out};
use std::collections::BTreeMap;
use txlab_sim::engine::{Fault, Latency, LinkConfig, NodeId, ScheduledFault};
use txlab_sim::lab::{RunSpec, run};
use txlab_sim::protocols::workload::{Arrival, StepFailure, StepId, StepSpec, TxId, Workflow};
use txlab_sim::protocols::{Outcome, Protocol};

const PAYMENT: NodeId = NodeId(4);

fn spec(protocol: Protocol, wf: Workflow) -> RunSpec {
    let mut s = RunSpec::new(protocol, 3, wf);
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s
}

/// Twelve bookings at once on a flight with ten seats (cars and rooms to
/// spare).
fn twelve_on_ten_seats() -> RunSpec {
    let mut wf = Workflow::holiday();
    wf.transactions = 12;
    wf.services[0].resources.insert("cars".into(), 20);
    wf.services[1].resources.insert("rooms".into(), 20);
    wf.services[3].resources.insert("sam".into(), 10_000);
    spec(Protocol::TwoPc, wf)
}

#[test]
fn a_participant_that_ignores_lock_holders_is_caught() {
    let mut s = twelve_on_ten_seats();
    let r = run(&s).report;
    assert_clean(&r);
    assert!(r.count(Outcome::Committed) <= 10, "{:?}", r.outcomes);
    s.bugs.participants_ignore_locks = true;
    let r = run(&s).report;
    // Every booking saw ten free seats, voted yes and committed; the last
    // two found the flight full when they applied.
    assert_eq!(r.count(Outcome::Committed), 12, "{:?}", r.outcomes);
    assert_eq!(r.final_state["flight"]["seats"], 0);
    assert_caught(&r, &["applied_matches_outcome"]);
    assert_eq!(r.violations_of("applied_matches_outcome").count(), 2);
}

/// Forced writes take 10 ms and participants ask after 8 ms. The client's
/// request reaches the coordinator at 5 ms; votes land at 26 ms (car) and
/// 29 ms (the others, over slower links), so COMMIT is being forced from
/// 29 to 39 ms. Car's inquiry lands at 34, inside that write; the others'
/// at 37, after the coordinator crashed at 36. Back with no record at 65,
/// it presumes abort.
fn inquiry_during_the_commit_write() -> RunSpec {
    let mut s = spec(Protocol::TwoPc, Workflow::holiday());
    s.write_latency = ms(10);
    s.timing.inquiry = ms(8);
    for n in 2..=4 {
        let slow = LinkConfig {
            latency: Latency::uniform_ms(8, 8),
            ..s.net.default
        };
        s.net.links.insert((NodeId(n), NodeId(0)), slow);
    }
    s.faults = vec![
        ScheduledFault::new(ms(36), Fault::Crash(NodeId(0))),
        ScheduledFault::new(ms(65), Fault::Restart(NodeId(0))),
    ];
    s
}

#[test]
fn an_answer_given_before_the_decision_was_durable_disagrees() {
    let mut s = inquiry_during_the_commit_write();
    assert_clean(&run(&s).report);
    s.bugs.answer_from_volatile_state = true;
    let r = run(&s).report;
    // Car heard COMMIT from volatile state, the others ABORT after the
    // restart; the COMMIT decision itself was never durable, so never
    // observed: only the answers show the contradiction.
    assert_caught(&r, &["agreement"]);
    assert_eq!(r.violations_of("decision_stability").count(), 0);
}

fn participant_crash_after_vote() -> RunSpec {
    let mut s = spec(Protocol::TwoPc, Workflow::holiday());
    // Payment votes yes at 11 ms (the request took 5) and is down when the
    // commit lands.
    s.faults = vec![
        ScheduledFault::new(ms(12), Fault::Crash(PAYMENT)),
        ScheduledFault::new(ms(300), Fault::Restart(PAYMENT)),
    ];
    s
}

#[test]
fn a_participant_that_forgets_its_yes_disagrees_with_the_decision() {
    let mut s = participant_crash_after_vote();
    assert_clean(&run(&s).report);
    s.bugs.participant_forgets_prepared = true;
    let r = run(&s).report;
    assert_caught(&r, &["agreement", "consistent_outcome"]);
}

#[test]
fn a_commit_over_a_no_vote_disagrees_with_the_no_voter() {
    let mut s = spec(Protocol::TwoPc, sold_out());
    assert_clean(&run(&s).report);
    s.bugs.coordinator_commits_on_first_yes = true;
    let r = run(&s).report;
    assert_caught(&r, &["agreement", "consistent_outcome"]);
}

/// Sam has $100. Each booking charges $100, then credits $100 cashback,
/// then books the flight; the first booking's flight is refused, so its
/// cashback is taken back, after the second booking spent it. The credit
/// step (a negative amount) is outside what scenario files allow.
fn cashback_spent_before_its_compensation() -> RunSpec {
    let mut wf = Workflow::holiday();
    wf.services[3].resources = BTreeMap::from([("sam".into(), 100)]);
    let charge = wf.steps[3].clone();
    let cashback = StepSpec {
        name: "cashback".into(),
        amount: -100,
        compensation_amount: -100,
        ..charge.clone()
    };
    let flight = wf.steps[2].clone();
    wf.steps = vec![charge, cashback, flight];
    wf.transactions = 2;
    // T0's cashback lands at 16 ms and is taken back at 36; T1's charge
    // lands at 30, its own cashback only at 40.
    wf.arrival = Arrival {
        start: ms(1),
        interval: ms(24),
    };
    wf.failures.push(StepFailure {
        step: Some(StepId(2)),
        reject: true,
        txs: vec![TxId(0)],
        ..StepFailure::default()
    });
    spec(Protocol::Orchestrated, wf)
}

#[test]
fn a_compensation_that_debits_spent_money_overdraws() {
    let mut s = cashback_spent_before_its_compensation();
    let r = run(&s).report;
    assert_caught(&r, &["no_overdraw"]);
    assert!(
        r.violations.iter().all(|v| v.invariant == "no_overdraw"),
        "the end balances; only a walk through time sees it: {:#?}",
        r.violations
    );
    // The second booking after the first has ended: never below zero.
    s.workflow = std::sync::Arc::new(Workflow {
        arrival: Arrival {
            start: ms(1),
            interval: ms(200),
        },
        ..(*s.workflow).clone()
    });
    assert_clean(&run(&s).report);
}
