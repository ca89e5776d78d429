//! One transaction with two steps on the same register at one service.
//!
//! Under strict 2PL the transaction holds the register's lock from its vote
//! to its commit, so nobody else writes it in between; the two writes must
//! compose, each starting from what the previous one left. The expected
//! numbers come from arithmetic, not from a run: a balance of 1000 charged
//! 100 and 10 ends at 1000 − 100 − 10 = 890, in either order. Before the
//! fix, 2PC wrote each step from the value read at the vote (1000), so the
//! second write overwrote the first: 990 (charge then fee) or 900 (fee then
//! charge). The sagas apply steps one after another and always gave 890.

mod common;

use common::{assert_clean, ms};
use std::collections::{BTreeMap, BTreeSet};
use txlab_sim::engine::{Fault, Latency, NodeId, ScheduledFault};
use txlab_sim::lab::{RunReport, RunSpec, run};
use txlab_sim::protocols::workload::{
    Arrival, ServiceId, ServiceSpec, StepFailure, StepId, StepSpec, Workflow,
};
use txlab_sim::protocols::{Outcome, Protocol};

const BALANCE: i64 = 1000;
const CHARGE: i64 = 100;
const FEE: i64 = 10;
/// Both steps applied once each.
const AFTER_BOTH: i64 = BALANCE - CHARGE - FEE;

fn step(name: &str, service: u16, resource: &str, amount: i64) -> StepSpec {
    StepSpec {
        name: name.into(),
        service: ServiceId(service),
        resource: resource.into(),
        amount,
        compensation_amount: amount,
        kind: Default::default(),
        action: format!("do {name}"),
        compensation: format!("undo {name}"),
        reads: None,
        group: None,
    }
}

/// `account.balance` (a register when `register`) and a `shop` with
/// stock; the steps `amounts` run on the balance in order.
fn workflow(register: bool, amounts: &[(&str, i64)]) -> Workflow {
    let registers: BTreeSet<String> = if register {
        BTreeSet::from(["balance".to_string()])
    } else {
        BTreeSet::new()
    };
    Workflow {
        services: vec![
            ServiceSpec {
                name: "account".into(),
                resources: BTreeMap::from([("balance".to_string(), BALANCE)]),
                registers,
            },
            ServiceSpec {
                name: "shop".into(),
                resources: BTreeMap::from([("stock".to_string(), 5)]),
                registers: BTreeSet::new(),
            },
        ],
        steps: amounts
            .iter()
            .map(|(n, a)| step(n, 0, "balance", *a))
            .collect(),
        transactions: 1,
        arrival: Arrival::default(),
        failures: vec![],
        values: vec![],
    }
}

fn charge_then_fee() -> Workflow {
    workflow(true, &[("charge", CHARGE), ("fee", FEE)])
}

/// Over a fixed 5 ms network, so crash times are exact.
fn spec(protocol: Protocol, wf: Workflow) -> RunSpec {
    let mut s = RunSpec::new(protocol, 1, wf);
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s
}

fn balance(r: &RunReport) -> i64 {
    r.final_state["account"]["balance"]
}

#[test]
fn two_pc_composes_two_writes_to_one_register() {
    let r = run(&spec(Protocol::TwoPc, charge_then_fee())).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Committed), 1);
    assert_eq!(balance(&r), AFTER_BOTH, "charge then fee: 1000 − 100 − 10");
}

#[test]
fn the_order_of_the_two_steps_does_not_matter() {
    let wf = workflow(true, &[("fee", FEE), ("charge", CHARGE)]);
    let r = run(&spec(Protocol::TwoPc, wf)).report;
    assert_clean(&r);
    assert_eq!(balance(&r), AFTER_BOTH, "fee then charge: 1000 − 10 − 100");
}

#[test]
fn every_protocol_agrees_on_the_register() {
    for p in [
        Protocol::TwoPc,
        Protocol::Orchestrated,
        Protocol::Choreographed,
    ] {
        let r = run(&spec(p, charge_then_fee())).report;
        assert_clean(&r);
        assert_eq!(balance(&r), AFTER_BOTH, "{}", p.name());
    }
}

/// Control: a counter takes deltas, so it never depended on the reads.
#[test]
fn a_counter_gives_the_same_number() {
    let wf = workflow(false, &[("charge", CHARGE), ("fee", FEE)]);
    let r = run(&spec(Protocol::TwoPc, wf)).report;
    assert_clean(&r);
    assert_eq!(balance(&r), AFTER_BOTH);
}

/// Two transactions one after the other: the second one's reads start
/// from what the first left, 1000 − 2 × 110.
#[test]
fn a_second_transaction_starts_from_the_first_ones_result() {
    let mut wf = charge_then_fee();
    wf.transactions = 2;
    wf.arrival.interval = ms(200);
    let r = run(&spec(Protocol::TwoPc, wf)).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Committed), 2);
    assert_eq!(balance(&r), BALANCE - 2 * (CHARGE + FEE));
}

/// A third step at the shop is refused: the shop votes no, nothing is
/// applied anywhere, and the balance stays 1000.
#[test]
fn an_abort_leaves_the_register_untouched() {
    let mut wf = charge_then_fee();
    wf.steps.push(step("ship", 1, "stock", 1));
    wf.failures.push(StepFailure {
        step: Some(StepId(2)),
        reject: true,
        ..Default::default()
    });
    let r = run(&spec(Protocol::TwoPc, wf)).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Aborted), 1);
    assert_eq!(balance(&r), BALANCE);
    assert_eq!(r.final_state["shop"]["stock"], 5);
}

/// The account crashes after voting (prepare lands at 6 ms after the
/// coordinator starts, which is 5 ms after the client's request leaves),
/// misses the commit, restarts prepared and commits on asking: the reads
/// noted at the vote are gone with the crash, and the writes still
/// compose.
#[test]
fn a_participant_that_crashes_prepared_still_composes() {
    let mut s = spec(Protocol::TwoPc, charge_then_fee());
    let account = NodeId(1);
    s.faults = vec![
        ScheduledFault::new(ms(5 + 7), Fault::Crash(account)),
        ScheduledFault::new(ms(5 + 300), Fault::Restart(account)),
    ];
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Committed), 1);
    assert!(r.metrics.retries > 0, "the commit was retransmitted");
    assert_eq!(balance(&r), AFTER_BOTH);
}

/// The account crashes after committing: replaying the commit record
/// applies both writes again, in order, to the initial balance.
#[test]
fn replaying_a_commit_composes_too() {
    let mut s = spec(Protocol::TwoPc, charge_then_fee());
    let account = NodeId(1);
    s.faults = vec![
        ScheduledFault::new(ms(5 + 30), Fault::Crash(account)),
        ScheduledFault::new(ms(5 + 300), Fault::Restart(account)),
    ];
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Committed), 1);
    assert_eq!(balance(&r), AFTER_BOTH);
}
