//! 2PC through the engine: the textbook runs, the failure cases, and the
//! negative controls the checkers must catch.

mod common;

use common::{assert_caught, assert_clean, ms, sold_out};
use std::collections::BTreeMap;
use txlab_sim::engine::{
    EventKind, Fault, Latency, LinkConfig, NodeId, PartitionId, ScheduledFault, World,
};
use txlab_sim::lab::{RunSpec, build_world, judge, run};
use txlab_sim::protocols::two_pc::{Msg as TwoPcMsg, ParticipantPhase};
use txlab_sim::protocols::workload::{Arrival, ServiceId, ServiceSpec, StepSpec, TxId, Workflow};
use txlab_sim::protocols::{LabNode, LockPolicy, Msg, Outcome, Protocol, Timing};

const COORD: NodeId = NodeId(0);
const PAYMENT: NodeId = NodeId(4);

/// The holiday booking over a fixed 5 ms network, so fault times are exact.
/// Times in these tests count from the coordinator's start: the client's
/// request takes [`REQUEST_MS`] to reach it; then prepare leaves at 1 ms
/// and lands at 6; votes land at 11.
fn spec(seed: u64) -> RunSpec {
    let mut s = RunSpec::new(Protocol::TwoPc, seed, Workflow::holiday());
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s
}

/// The client's request hop, before the coordinator starts anything.
const REQUEST_MS: u64 = 5;

/// A fault at `t` ms after the coordinator's start.
fn at(t: u64, f: Fault) -> ScheduledFault {
    ScheduledFault::new(ms(t + REQUEST_MS), f)
}

fn participant_phase(w: &World<LabNode>, n: NodeId) -> Option<ParticipantPhase> {
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
            registers: Default::default(),
        })
        .collect();
    let steps = (0..n)
        .map(|i| StepSpec {
            name: format!("step {i}"),
            service: ServiceId(i),
            resource: "stock".into(),
            amount: 1,
            compensation_amount: 1,
            kind: Default::default(),
            action: "take".into(),
            compensation: "return".into(),
            reads: None,
            group: None,
        })
        .collect();
    Workflow {
        services,
        steps,
        transactions: 1,
        arrival: Arrival::default(),
        failures: vec![],
        values: vec![],
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

/// What one run cost: 2PC messages sent, by kind, and log writes
/// (forced, lazy) per node, keyed by node name.
#[derive(Debug, Default, PartialEq, Eq)]
struct Cost {
    prepare: u64,
    vote: u64,
    commit: u64,
    abort: u64,
    ack: u64,
    writes: BTreeMap<String, (u64, u64)>,
}

/// Count what `w` did, from the trace.
fn cost(w: &World<LabNode>) -> Cost {
    let mut c = Cost::default();
    // The client is not a 2PC node: R* counts none of its messages.
    for id in w.node_ids().filter(|id| w.name(*id) != "client") {
        c.writes.insert(w.name(id).to_string(), (0, 0));
    }
    for e in w.trace().events() {
        match e.kind {
            EventKind::Send { msg, .. } => match w.trace().message(msg) {
                Some(Msg::TwoPc(TwoPcMsg::Prepare { .. })) => c.prepare += 1,
                Some(Msg::TwoPc(TwoPcMsg::Vote { .. })) => c.vote += 1,
                Some(Msg::TwoPc(TwoPcMsg::Commit { .. })) => c.commit += 1,
                Some(Msg::TwoPc(TwoPcMsg::Abort { .. })) => c.abort += 1,
                Some(Msg::TwoPc(TwoPcMsg::Ack { .. })) => c.ack += 1,
                _ => {}
            },
            EventKind::Persist { node, forced } => {
                let (f, l) = c.writes.get_mut(w.name(node)).expect("a named node");
                if forced {
                    *f += 1;
                } else {
                    *l += 1;
                }
            }
            _ => {}
        }
    }
    c
}

/// What THEORY.md's R* table says one transaction over `n` participants
/// costs, with `s0` the one NO voter when it aborts. Written from the table,
/// not from a run: (forced, lazy) writes per node; the coordinator's END
/// record is lazy.
fn r_star(n: u64, presumed_abort: bool, commit: bool) -> Cost {
    let no = if commit { 0 } else { 1 };
    // Decision messages go to the YES voters only (no one is silent here).
    let decided = n - no;
    let (coordinator, yes_voter, no_voter) = match (presumed_abort, commit) {
        // COMMIT forced, END lazy; PREPARED and COMMITTED forced.
        (_, true) => ((1, 1), (2, 0), (0, 0)),
        // Basic 2P abort: ABORT forced, END lazy after the YES voters'
        // ACKs; YES voters force PREPARED and ABORTED; the NO voter forces
        // ABORTED before it votes.
        (false, false) => ((1, 1), (2, 0), (1, 0)),
        // Presumed abort: the coordinator writes nothing; YES voters force
        // PREPARED and write ABORTED lazily; the NO voter writes lazily.
        (true, false) => ((0, 0), (1, 1), (0, 1)),
    };
    let mut writes = BTreeMap::from([("coordinator".to_string(), coordinator)]);
    for i in 0..n {
        let w = if i < no { no_voter } else { yes_voter };
        writes.insert(format!("s{i}"), w);
    }
    let acked = presumed_abort && !commit;
    Cost {
        prepare: n,
        vote: n,
        commit: if commit { n } else { 0 },
        abort: if commit { 0 } else { decided },
        ack: if acked { 0 } else { decided },
        writes,
    }
}

/// R* exactly (Mohan, Lindsay & Obermarck): commit costs 4N messages under
/// both variants; an abort with one NO voter sends no ABORT to it and gets
/// no ACK from it; basic 2P forces no begin record and forces every abort
/// record before it is acknowledged or voted; presumed abort forces none.
#[test]
fn messages_and_forced_writes_match_the_r_star_table() {
    for n in [2u16, 3, 5] {
        for presumed_abort in [true, false] {
            for commit in [true, false] {
                let mut wf = n_services(n);
                if !commit {
                    wf.services[0].resources.insert("stock".into(), 0);
                }
                let mut s = RunSpec::new(Protocol::TwoPc, 3, wf);
                s.toggles.presumed_abort = presumed_abort;
                let r = run(&s);
                assert_clean(&r.report);
                let outcome = if commit {
                    Outcome::Committed
                } else {
                    Outcome::Aborted
                };
                assert_eq!(r.report.count(outcome), 1);
                let expected = r_star(u64::from(n), presumed_abort, commit);
                assert_eq!(
                    cost(&r.world),
                    expected,
                    "N={n} presumed_abort={presumed_abort} commit={commit}"
                );
                let forced: u64 = expected.writes.values().map(|(f, _)| f).sum();
                assert_eq!(r.report.metrics.forced_log_writes, forced);
            }
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

/// Regression: the `idempotency` toggle used to make 2PC participants
/// apply every duplicated COMMIT (Sam charged twice). A participant keeps
/// the transaction's state by id, so a duplicate is only acknowledged; the
/// toggle governs saga services and inboxes, not 2PC.
#[test]
fn a_duplicated_commit_applies_once_even_with_idempotency_off() {
    let mut s = spec(8);
    s.net.default.duplicate_probability = 1.0;
    s.toggles.idempotency = false;
    let r = run(&s);
    assert_clean(&r.report);
    assert_eq!(r.report.count(Outcome::Committed), 1);
    assert_eq!(r.report.final_state["payment"]["sam"], 900, "charged once");
    let commits_to_payment = r
        .world
        .trace()
        .events()
        .iter()
        .filter(|e| match e.kind {
            EventKind::Deliver { msg, to, .. } => {
                to == PAYMENT
                    && matches!(
                        r.world.trace().message(msg),
                        Some(Msg::TwoPc(TwoPcMsg::Commit { .. }))
                    )
            }
            _ => false,
        })
        .count();
    assert!(commits_to_payment >= 2, "payment got the duplicate");
}

/// Two participants; the PREPARE to the second (`s1`) takes 300 ms, so the
/// first is in doubt and asks it (cooperative termination) at 101 ms, long
/// before it has voted. Forced writes take 10 ms; the vote timeout is long
/// enough for the late PREPARE to be answered.
fn late_prepare_to_a_peer(crash_after_inquiry_ms: u64) -> RunSpec {
    let mut s = RunSpec::new(Protocol::TwoPc, 21, n_services(2));
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s.net.links.insert(
        (COORD, NodeId(2)),
        LinkConfig {
            latency: Latency::uniform_ms(300, 300),
            ..s.net.default
        },
    );
    s.write_latency = ms(10);
    s.toggles.cooperative_termination = true;
    s.timing.vote_timeout = ms(1_000);
    // s0 prepares at 6, its PREPARED is durable at 16, it asks at 96 and the
    // inquiry reaches s1 at 101.
    let crash = 101 + crash_after_inquiry_ms;
    s.faults = vec![
        at(crash, Fault::Crash(NodeId(2))),
        at(crash + 15, Fault::Restart(NodeId(2))),
    ];
    s
}

/// Regression: a peer that had not voted answered a cooperative-termination
/// inquiry with ABORT while its abort record was only written lazily. A
/// crash lost the record; the late PREPARE then got YES and the
/// coordinator committed a transaction the asking peer had aborted. Now the
/// abort is forced before the answer leaves, so whenever the answer went
/// out, the later vote is NO. The crash is swept across the write.
#[test]
fn a_peer_that_answered_abort_never_votes_yes_after_a_crash() {
    let mut answered_then_crashed = 0;
    for crash_after in 1..=20 {
        let s = late_prepare_to_a_peer(crash_after);
        let r = run(&s);
        assert_clean(&r.report);
        let crash = ms(101 + crash_after);
        let trace = r.world.trace();
        let sent_by_s1 = |pred: &dyn Fn(&TwoPcMsg) -> bool, before: bool| {
            trace.events().iter().any(|e| match e.kind {
                EventKind::Send { msg, from, .. }
                    if from == NodeId(2) && (e.time < crash) == before =>
                {
                    matches!(trace.message(msg), Some(Msg::TwoPc(m)) if pred(m))
                }
                _ => false,
            })
        };
        let told_abort = sent_by_s1(&|m| matches!(m, TwoPcMsg::Abort { .. }), true);
        let voted_yes_later = sent_by_s1(&|m| matches!(m, TwoPcMsg::Vote { yes: true, .. }), false);
        assert!(
            !(told_abort && voted_yes_later),
            "crash {crash_after} ms after the inquiry: s1 told its peer ABORT, then voted YES"
        );
        if told_abort {
            answered_then_crashed += 1;
            assert_eq!(
                r.report.count(Outcome::Aborted),
                1,
                "crash +{crash_after} ms"
            );
        }
    }
    assert!(
        answered_then_crashed > 0,
        "some crash must come after the answer"
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
    // participant each (R*'s 4N), plus the client's request and answer.
    let per: Vec<Option<u64>> = r.transactions.iter().map(|t| t.messages).collect();
    assert_eq!(per, vec![Some(4 * 4 + 2); 3]);
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

/// Regression: a participant that frees its lock by committing prepares
/// the next queued transaction in the same handler, so one handler forces
/// COMMITTED and then the waiter's PREPARED. When the engine held all of a
/// handler's outputs behind its last forced write, a crash between the two
/// writes kept the commit on disk but lost its ACK and every observation of
/// it (conservation and termination violations in a slow-disk swarm
/// sweep). Outputs pushed after the first write must leave when it is
/// durable.
#[test]
fn a_commit_is_reported_even_if_the_next_waiter_prepare_is_cut_by_a_crash() {
    let mut wf = n_services(1);
    wf.transactions = 2;
    wf.arrival.interval = ms(1);
    let mut s = RunSpec::new(Protocol::TwoPc, 22, wf);
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s.write_latency = ms(10);
    s.toggles.lock_policy = LockPolicy::Wait;
    // T0 prepares at 6 (durable 16); T1 queues behind its lock. COMMIT is
    // forced at 21..31 and lands at 36; COMMITTED is durable at 46, the
    // waiter's PREPARED would be at 56.
    s.faults = vec![
        at(50, Fault::Crash(NodeId(1))),
        at(60, Fault::Restart(NodeId(1))),
    ];
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.transactions[0].outcome, Outcome::Committed, "T0");
    assert_eq!(r.final_state["s0"]["stock"], 9);
}
