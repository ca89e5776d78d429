//! 2PC through the engine: the textbook runs, the failure cases, and the
//! negative controls the checkers must catch.

mod common;

use common::{assert_caught, assert_clean, ms, sold_out};
use std::collections::BTreeMap;
use txlab_sim::engine::{Fault, Latency, NodeId, PartitionId, ScheduledFault};
use txlab_sim::lab::{RunSpec, build_world, judge, run};
use txlab_sim::protocols::two_pc::ParticipantPhase;
use txlab_sim::protocols::workload::{Arrival, ServiceId, ServiceSpec, StepSpec, TxId, Workflow};
use txlab_sim::protocols::{LabNode, Outcome, Protocol, Timing};

const COORD: NodeId = NodeId(0);
const PAYMENT: NodeId = NodeId(4);

/// The holiday booking over a fixed 5 ms network, so fault times are exact:
/// prepare leaves at 1 ms and lands at 6; votes land at 11.
fn spec(seed: u64) -> RunSpec {
    let mut s = RunSpec::new(Protocol::TwoPc, seed, Workflow::holiday());
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s
}

fn at(t: u64, f: Fault) -> ScheduledFault {
    ScheduledFault::new(ms(t), f)
}

fn participant_phase(w: &txlab_sim::engine::World<LabNode>, n: NodeId) -> Option<ParticipantPhase> {
    match w.node(n) {
        LabNode::Participant(p) => p.phases.get(&TxId(0)).cloned(),
        _ => None,
    }
}

/// A workflow with `n` services, one step each.
fn n_services(n: u16) -> Workflow {
    let services = (0..n)
        .map(|i| ServiceSpec {
            name: format!("s{i}"),
            resources: BTreeMap::from([("stock".to_string(), 10)]),
        })
        .collect();
    let steps = (0..n)
        .map(|i| StepSpec {
            name: format!("step {i}"),
            service: ServiceId(i),
            resource: "stock".into(),
            amount: 1,
            kind: Default::default(),
            action: "take".into(),
            compensation: "return".into(),
        })
        .collect();
    Workflow {
        services,
        steps,
        transactions: 1,
        arrival: Arrival::default(),
        failures: vec![],
    }
}

#[test]
fn happy_path_commits_everywhere() {
    let r = run(&spec(1)).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Committed), 1);
    assert_eq!(r.final_state["payment"]["sam"], 900);
    assert_eq!(r.final_state["car"]["cars"], 9);
}

/// Presumed abort, no failures: prepare, vote, commit and ack per
/// participant (4N messages); each participant forces its prepared and
/// commit records and the coordinator its decision (2N + 1 forced writes).
/// Presumed nothing adds the coordinator's forced begin record.
#[test]
fn failure_free_message_and_forced_write_counts() {
    for n in [2u16, 3, 5] {
        for (presumed_abort, extra) in [(true, 0), (false, 1)] {
            let mut s = RunSpec::new(Protocol::TwoPc, 3, n_services(n));
            s.toggles.presumed_abort = presumed_abort;
            let r = run(&s).report;
            assert_clean(&r);
            let n = u64::from(n);
            assert_eq!(r.metrics.messages_sent, 4 * n, "N={n}");
            assert_eq!(
                r.metrics.forced_log_writes,
                2 * n + 1 + extra,
                "N={n} pa={presumed_abort}"
            );
        }
    }
}

#[test]
fn one_no_vote_aborts_everyone_and_applies_nothing() {
    let mut s = spec(2);
    s.workflow = sold_out().into();
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Aborted), 1);
    assert_eq!(r.final_state["payment"]["sam"], 1_000);
    assert_eq!(r.final_state["car"]["cars"], 10);
    let w = run(&s).world;
    let applied = w
        .trace()
        .observations()
        .iter()
        .any(|o| matches!(o.obs, txlab_sim::protocols::Obs::Local { delta, .. } if delta != 0));
    assert!(!applied, "no effect is ever applied");
}

#[test]
fn coordinator_crash_after_prepare_blocks_participants_until_restart() {
    let mut s = spec(3);
    s.faults = vec![at(8, Fault::Crash(COORD)), at(500, Fault::Restart(COORD))];
    let mut w = build_world(&s);
    w.run_until(ms(400));
    for n in 1..=4 {
        let phase = participant_phase(&w, NodeId(n));
        assert!(
            matches!(
                phase,
                Some(ParticipantPhase::Prepared { in_doubt: true, .. })
            ),
            "node {n} blocked in doubt at 400 ms, got {phase:?}"
        );
    }
    match w.node(PAYMENT) {
        LabNode::Participant(p) => assert_eq!(p.locks.get("sam"), Some(&TxId(0)), "holds its lock"),
        _ => unreachable!(),
    }
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Aborted), 1, "presumed abort resolves it");
    assert!(
        r.metrics.in_doubt_ms >= 4.0 * 480.0,
        "four participants in doubt ~490 ms each"
    );
    assert!(r.metrics.lock_hold_ms >= r.metrics.in_doubt_ms);
}

#[test]
fn coordinator_crash_after_logging_commit_commits_after_restart() {
    let mut s = spec(4);
    s.timing = Timing {
        decision_send_delay: ms(5),
        ..Timing::default()
    };
    // Votes land at 11 ms, the commit is logged then and would go out at 16.
    s.faults = vec![at(13, Fault::Crash(COORD)), at(300, Fault::Restart(COORD))];
    let mut w = build_world(&s);
    w.run_until(ms(250));
    assert!(matches!(
        participant_phase(&w, PAYMENT),
        Some(ParticipantPhase::Prepared { .. })
    ));
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Committed), 1);
    assert_eq!(r.final_state["payment"]["sam"], 900);
}

fn participant_crash_after_vote(seed: u64) -> RunSpec {
    let mut s = spec(seed);
    // Payment prepares and votes at 6 ms; it is down when commit lands.
    s.faults = vec![
        at(7, Fault::Crash(PAYMENT)),
        at(300, Fault::Restart(PAYMENT)),
    ];
    s
}

#[test]
fn participant_crash_after_voting_yes_restarts_prepared_and_commits() {
    let s = participant_crash_after_vote(5);
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Committed), 1);
    assert_eq!(r.final_state["payment"]["sam"], 900);
    assert!(r.metrics.retries > 0, "coordinator retransmitted commit");
}

fn isolate_payment(from: u64, heal: u64) -> Vec<ScheduledFault> {
    let p = PartitionId(1);
    vec![
        at(
            from,
            Fault::Partition {
                id: p,
                a: vec![PAYMENT],
                b: vec![NodeId(0), NodeId(1), NodeId(2), NodeId(3)],
                one_way: false,
            },
        ),
        at(heal, Fault::Heal(p)),
    ]
}

#[test]
fn partition_before_the_vote_aborts() {
    let mut s = spec(6);
    s.faults = isolate_payment(2, 500);
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Aborted), 1);
    // Three others voted at 6 ms; the vote timeout fires at 101 and its
    // abort lands at 106: 100 ms each in doubt, not until the heal.
    assert_eq!(r.metrics.in_doubt_ms, 3.0 * 100.0);
}

#[test]
fn partition_after_the_vote_blocks_until_heal() {
    let mut s = spec(7);
    s.faults = isolate_payment(8, 500);
    let mut w = build_world(&s);
    w.run_until(ms(450));
    assert!(matches!(
        participant_phase(&w, PAYMENT),
        Some(ParticipantPhase::Prepared { in_doubt: true, .. })
    ));
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Aborted), 1);
    assert!(r.metrics.in_doubt_ms > 490.0);
}

#[test]
fn every_message_duplicated_changes_nothing() {
    let mut s = spec(8);
    s.net.default.duplicate_probability = 1.0;
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Committed), 1);
    assert_eq!(r.final_state["payment"]["sam"], 900);
    assert!(r.metrics.messages_duplicated >= 16);
}

#[test]
fn many_concurrent_transactions_contend_for_locks_and_stay_atomic() {
    let mut s = spec(9);
    let mut wf = Workflow::holiday();
    wf.transactions = 20;
    wf.arrival.interval = ms(2);
    s.workflow = wf.into();
    s.net.default.latency = Latency::uniform_ms(1, 20);
    s.net.default.loss_probability = 0.05;
    let r = run(&s).report;
    assert_clean(&r);
    let committed = r.count(Outcome::Committed);
    assert!(
        (1..=10).contains(&committed),
        "ten seats at most, got {committed}: {:?}",
        r.outcomes
    );
    assert_eq!(committed + r.count(Outcome::Aborted), 20);
    assert_eq!(
        r.final_state["payment"]["sam"],
        1_000 - 100 * i64::from(committed)
    );
}

// Negative controls: each broken variant must be caught.

#[test]
fn negative_control_a_participant_that_forgets_its_prepared_record_is_caught() {
    let mut s = participant_crash_after_vote(5);
    s.bugs.participant_forgets_prepared = true;
    let r = run(&s).report;
    assert_caught(&r, &["prepared_never_aborts_alone", "atomicity"]);
    assert_eq!(r.count(Outcome::Inconsistent), 1);
}

#[test]
fn negative_control_idempotency_off_under_duplication_is_caught() {
    let mut s = spec(8);
    s.net.default.duplicate_probability = 1.0;
    s.toggles.idempotency = false;
    let r = run(&s).report;
    assert_caught(&r, &["at_most_once", "conservation"]);
    assert!(
        r.final_state["payment"]["sam"] < 900,
        "Sam paid more than once"
    );
}

#[test]
fn judging_twice_gives_the_same_report() {
    let s = participant_crash_after_vote(11);
    let a = run(&s);
    let b = judge(&s, &a.world);
    assert_eq!(a.report, b);
    assert_eq!(run(&s).report.trace_hash, a.report.trace_hash);
}

#[test]
fn lock_and_in_doubt_time_are_reported_per_participant() {
    let mut s = spec(7);
    s.faults = isolate_payment(8, 500);
    let r = run(&s).report;
    let per = &r.metrics.per_service;
    assert_eq!(per.len(), 4);
    // Payment is cut off after its vote and waits for the heal; the others
    // hear the abort after the vote timeout.
    assert!(per["payment"].in_doubt_ms > 490.0, "{per:?}");
    assert!(per["car"].in_doubt_ms < 110.0, "{per:?}");
    let sum: f64 = per.values().map(|t| t.in_doubt_ms).sum();
    assert!((sum - r.metrics.in_doubt_ms).abs() < 1e-6);
}

#[test]
fn messages_are_counted_per_transaction_when_recorded() {
    let mut s = spec(13);
    let mut wf = Workflow::holiday();
    wf.transactions = 3;
    wf.arrival.interval = ms(200);
    s.workflow = wf.into();
    let r = run(&s).report;
    // Three failure-free transactions, one after the other: 4 messages per
    // participant each.
    let per: Vec<Option<u64>> = r.transactions.iter().map(|t| t.messages).collect();
    assert_eq!(per, vec![Some(16); 3]);
    s.recording = false;
    assert!(
        run(&s)
            .report
            .transactions
            .iter()
            .all(|t| t.messages.is_none())
    );
}

#[test]
fn negative_control_a_coordinator_that_commits_on_the_first_yes_is_caught() {
    let mut s = spec(2);
    s.workflow = sold_out().into();
    s.bugs.coordinator_commits_on_first_yes = true;
    let r = run(&s).report;
    assert_caught(&r, &["commit_validity", "atomicity"]);
}
