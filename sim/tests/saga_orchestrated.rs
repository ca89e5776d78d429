//! The orchestrated saga through the engine: fail backward, retries and
//! timeouts, null compensations, crash recovery, stuck sagas, the semantic
//! lock, and the negative control for idempotency.

mod common;

use common::{assert_caught, assert_clean, concurrent_on_one_customer, ms, sold_out};
use txlab_sim::engine::{
    EventKind, Fault, Latency, LinkConfig, NodeId, PartitionId, ScheduledFault,
};
use txlab_sim::lab::{RunSpec, run};
use txlab_sim::protocols::saga_orchestrated as saga;
use txlab_sim::protocols::service::Reply;
use txlab_sim::protocols::workload::{Op, StepFailure, StepId, Workflow};
use txlab_sim::protocols::{Msg, Obs, Outcome, Protocol};

const ORCH: NodeId = NodeId(0);
const PAYMENT: NodeId = NodeId(4);
const CHARGE: StepId = StepId(3);

fn spec(seed: u64) -> RunSpec {
    let mut s = RunSpec::new(Protocol::Orchestrated, seed, Workflow::holiday());
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s
}

fn with_failure(mut s: RunSpec, f: StepFailure) -> RunSpec {
    let mut wf = (*s.workflow).clone();
    wf.failures.push(f);
    s.workflow = wf.into();
    s
}

fn fail(step: u16) -> StepFailure {
    StepFailure {
        step: Some(StepId(step)),
        ..StepFailure::default()
    }
}

/// The (step, op, delta) of every local transaction, in trace order.
fn locals(s: &RunSpec) -> Vec<(StepId, Op, i64, Reply)> {
    run(s)
        .world
        .trace()
        .observations()
        .iter()
        .filter_map(|o| match &o.obs {
            Obs::Local {
                step,
                op,
                delta,
                reply,
                ..
            } => Some((*step, *op, *delta, reply.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn happy_path_completes() {
    let r = run(&spec(1)).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Completed), 1);
    assert_eq!(r.final_state["payment"]["sam"], 900);
    // Four commands and four replies, each command logged before it is sent.
    assert_eq!(r.metrics.messages_sent, 8);
}

#[test]
fn flight_sold_out_cancels_hotel_then_car() {
    let mut s = spec(2);
    s.workflow = sold_out().into();
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Compensated), 1);
    let comps: Vec<StepId> = locals(&s)
        .into_iter()
        .filter(|l| l.1 == Op::Compensation)
        .map(|l| l.0)
        .collect();
    assert_eq!(comps, vec![StepId(1), StepId(0)], "hotel, then car");
    assert_eq!(r.final_state["car"]["cars"], 10);
    assert_eq!(r.final_state["payment"]["sam"], 1_000, "never charged");
}

fn duplicate_payment(idempotency: bool) -> RunSpec {
    let mut s = spec(3);
    s.toggles.idempotency = idempotency;
    let mut dup = s.net.default;
    dup.duplicate_probability = 1.0;
    s.net.links.insert((ORCH, PAYMENT), dup);
    s
}

#[test]
fn duplicate_payment_with_idempotency_charges_sam_once() {
    let r = run(&duplicate_payment(true)).report;
    assert_clean(&r);
    assert_eq!(r.final_state["payment"]["sam"], 900, "Sam pays $100");
}

#[test]
fn negative_control_duplicate_payment_without_idempotency_charges_200_and_is_caught() {
    let r = run(&duplicate_payment(false)).report;
    assert_eq!(r.final_state["payment"]["sam"], 800, "Sam pays $200");
    assert_caught(&r, &["at_most_once", "conservation"]);
}

#[test]
fn payment_that_timed_out_but_succeeded_is_refunded_never_charged_twice() {
    let mut s = with_failure(
        spec(4),
        StepFailure {
            silent_replies: 1,
            ..fail(3)
        },
    );
    s.timing.max_attempts = 1;
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Compensated), 1);
    assert_eq!(r.final_state["payment"]["sam"], 1_000);
    let charges: Vec<i64> = locals(&s)
        .into_iter()
        .filter(|l| l.0 == CHARGE)
        .map(|l| l.2)
        .collect();
    assert_eq!(charges, vec![-100, 100], "charged once, refunded once");
}

#[test]
fn payment_that_timed_out_is_retried_under_the_same_key() {
    let s = with_failure(
        spec(5),
        StepFailure {
            silent_replies: 2,
            ..fail(3)
        },
    );
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Completed), 1);
    assert_eq!(
        r.final_state["payment"]["sam"], 900,
        "three attempts, one charge"
    );
    assert!(r.metrics.retries >= 2);
}

/// A seed where, on a slow and jittery link to payment, the refund
/// overtakes the charge (the search itself is deterministic).
fn refund_overtakes_charge() -> RunSpec {
    (0..300)
        .find_map(|seed| {
            let mut s = spec(seed);
            s.timing.max_attempts = 1;
            s.net.links.insert(
                (ORCH, PAYMENT),
                LinkConfig {
                    latency: Latency::uniform_ms(1, 400),
                    ..LinkConfig::default()
                },
            );
            let l = locals(&s);
            let first = l.iter().find(|x| x.0 == CHARGE).map(|x| x.3.clone());
            (first == Some(Reply::NullCompensation)).then_some(s)
        })
        .expect("some seed in 0..300 reorders the refund before the charge")
}

#[test]
fn compensation_overtaking_its_action_is_null_and_the_late_action_refused() {
    let s = refund_overtakes_charge();
    let r = run(&s).report;
    assert_clean(&r);
    let l = locals(&s);
    let charge: Vec<(Op, i64, Reply)> = l
        .into_iter()
        .filter(|x| x.0 == CHARGE)
        .map(|x| (x.1, x.2, x.3))
        .collect();
    assert_eq!(charge[0], (Op::Compensation, 0, Reply::NullCompensation));
    assert!(
        charge.contains(&(Op::Action, 0, Reply::RefusedLate)),
        "{charge:?}"
    );
    assert_eq!(r.final_state["payment"]["sam"], 1_000);
    assert_eq!(r.count(Outcome::Compensated), 1);
}

#[test]
fn orchestrator_crash_mid_saga_resumes_from_its_log() {
    let mut s = spec(6);
    // The hotel command leaves at 11 ms; the orchestrator is down 12..200.
    s.faults = vec![
        ScheduledFault::new(ms(12), Fault::Crash(ORCH)),
        ScheduledFault::new(ms(200), Fault::Restart(ORCH)),
    ];
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Completed), 1);
    assert_eq!(r.final_state["hotel"]["rooms"], 9, "hotel booked once");
    assert!(r.metrics.latency_ms.max > 190.0);
}

#[test]
fn a_compensation_that_always_fails_leaves_the_saga_stuck() {
    let s = with_failure(
        with_failure(
            spec(7),
            StepFailure {
                reject: true,
                ..fail(2)
            },
        ),
        StepFailure {
            compensation_fails: true,
            ..fail(1)
        },
    );
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Stuck), 1);
    assert_eq!(r.final_state["hotel"]["rooms"], 9, "the room is still held");
}

#[test]
fn concurrent_sagas_without_semantic_lock_read_intermediate_state() {
    let r = run(&concurrent_on_one_customer(Protocol::Orchestrated, false)).report;
    assert_clean(&r);
    assert_eq!(
        r.count(Outcome::Compensated),
        2,
        "the second saga saw $50 and gave up"
    );
    assert!(r.metrics.anomalies >= 1);
}

#[test]
fn concurrent_sagas_with_semantic_lock_wait_and_see_no_anomaly() {
    let r = run(&concurrent_on_one_customer(Protocol::Orchestrated, true)).report;
    assert_clean(&r);
    assert_eq!(r.metrics.anomalies, 0);
    assert_eq!(r.count(Outcome::Completed), 1, "{:?}", r.transactions);
    assert_eq!(r.final_state["payment"]["sam"], 50);
}

#[test]
fn a_saga_past_its_deadline_fails_backward_instead_of_retrying_on() {
    // Payment never answers; retries with backoff would go on for ~500 ms.
    let mut s = with_failure(
        spec(9),
        StepFailure {
            silent_replies: 50,
            ..fail(3)
        },
    );
    s.timing.max_attempts = 50;
    let without = run(&s).report;
    s.timing.saga_deadline = ms(150);
    let with = run(&s).report;
    assert_clean(&with);
    assert_eq!(with.count(Outcome::Compensated), 1);
    assert!(
        with.metrics.latency_ms.max < 200.0,
        "{:?}",
        with.metrics.latency_ms
    );
    assert!(without.metrics.latency_ms.max > with.metrics.latency_ms.max + 100.0);
    assert_eq!(
        with.final_state["payment"]["sam"], 1_000,
        "the unknown charge is refunded"
    );
}

#[test]
fn the_auditor_sees_intermediate_saga_state_but_never_2pc_state() {
    for protocol in [
        Protocol::TwoPc,
        Protocol::Orchestrated,
        Protocol::Choreographed,
    ] {
        for semantic_lock in [false, true] {
            let mut s = concurrent_on_one_customer(protocol, semantic_lock);
            s.toggles.auditor = true;
            let r = run(&s).report;
            assert_clean(&r);
            let dirty = r.metrics.dirty_reads;
            match (protocol, semantic_lock) {
                // 2PC shows only committed changes; the semantic lock tells
                // the reader which changes are tentative.
                (Protocol::TwoPc, _) | (_, true) => {
                    assert_eq!(dirty, 0, "{protocol:?} lock={semantic_lock}")
                }
                _ => assert!(
                    dirty >= 1,
                    "{protocol:?}: the auditor saw the refunded charge"
                ),
            }
        }
    }
}

#[test]
fn negative_control_services_that_accept_late_actions_are_caught() {
    let mut s = refund_overtakes_charge();
    s.bugs.services_accept_late_actions = true;
    let r = run(&s).report;
    assert_caught(&r, &["action_after_compensation"]);
    assert_eq!(
        r.final_state["payment"]["sam"], 900,
        "Sam paid for a cancelled holiday"
    );
}

/// The flight answers 55 ms late: after the orchestrator's 60 ms reply
/// timeout, during the 10..15 ms backoff before its retry.
fn flight_replies_during_backoff(idempotency: bool) -> RunSpec {
    let mut s = with_failure(
        spec(11),
        StepFailure {
            reply_delay: ms(55),
            ..fail(2)
        },
    );
    s.toggles.idempotency = idempotency;
    s
}

/// Timers that fired at the orchestrator.
fn orchestrator_timers(s: &RunSpec) -> usize {
    let r = run(s);
    r.world
        .trace()
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Timer { node, .. } if node == ORCH))
        .count()
}

/// The (step, op, attempt) of every command sent to `node`, in order.
fn commands_to(s: &RunSpec, node: NodeId) -> Vec<(StepId, Op, u32)> {
    let r = run(s);
    let trace = r.world.trace();
    trace
        .events()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Send { msg, to, .. } if to == node => trace.message(msg),
            _ => None,
        })
        .filter_map(|m| match m {
            Msg::Saga(saga::Msg::Command {
                step, op, attempt, ..
            }) => Some((*step, *op, *attempt)),
            _ => None,
        })
        .collect()
}

/// Guards against the stale retry timer: a late reply accepted during
/// backoff used to leave the retry armed, and when it fired it re-sent the
/// *next* step (the charge) as a retry, so Sam paid twice.
#[test]
fn a_reply_during_backoff_cancels_the_retry_and_sam_is_charged_once() {
    let s = flight_replies_during_backoff(false);
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Completed), 1);
    let charges: Vec<i64> = locals(&s)
        .into_iter()
        .filter(|l| l.0 == CHARGE)
        .map(|l| l.2)
        .collect();
    assert_eq!(charges, vec![-100], "the charge is applied exactly once");
    assert_eq!(r.final_state["payment"]["sam"], 900);
    assert_eq!(
        r.metrics.retries, 0,
        "no retry after the reply was accepted"
    );
    // The arrival and the flight's reply timeout fired; the retry did not.
    assert_eq!(orchestrator_timers(&s), 2);
}

#[test]
fn a_reply_during_backoff_spends_no_attempt_with_idempotency_on() {
    let s = flight_replies_during_backoff(true);
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Completed), 1);
    assert_eq!(r.final_state["payment"]["sam"], 900);
    assert_eq!(r.metrics.retries, 0, "no spurious retry of the charge");
    let commands = commands_to(&s, PAYMENT);
    assert_eq!(
        commands,
        vec![(CHARGE, Op::Action, 1)],
        "one charge command, attempt 1"
    );
}

/// Two bookings 300 ms apart under the semantic lock: the second starts
/// long after the first ended, so nothing contends for Sam's account.
fn two_bookings_apart(seed: u64) -> RunSpec {
    let mut s = spec(seed);
    s.toggles.semantic_lock = true;
    let mut wf = (*s.workflow).clone();
    wf.transactions = 2;
    wf.arrival.interval = ms(300);
    s.workflow = wf.into();
    s
}

/// The first time a release reaches `node` in a fault-free run of `s`.
fn first_release_at(s: &RunSpec, node: NodeId) -> txlab_sim::engine::SimTime {
    let r = run(s);
    let trace = r.world.trace();
    trace
        .events()
        .iter()
        .find(|e| match e.kind {
            EventKind::Deliver { msg, to, .. } if to == node => {
                matches!(
                    trace.message(msg),
                    Some(Msg::Saga(saga::Msg::Release { .. }))
                )
            }
            _ => false,
        })
        .map(|e| e.time)
        .expect("the first saga's release reaches payment")
}

/// A 15 ms partition between the orchestrator and payment, from just after
/// the first saga's last reply, so its release is lost on the wire.
fn partition_at_release(s: &mut RunSpec) {
    let id = PartitionId(1);
    s.faults.extend([
        ScheduledFault::new(
            ms(42),
            Fault::Partition {
                id,
                a: vec![ORCH],
                b: vec![PAYMENT],
                one_way: false,
            },
        ),
        ScheduledFault::new(ms(57), Fault::Heal(id)),
    ]);
}

fn assert_both_complete(r: &txlab_sim::lab::RunReport) {
    assert_clean(r);
    assert_eq!(r.count(Outcome::Completed), 2, "{:?}", r.transactions);
    assert_eq!(r.final_state["payment"]["sam"], 800);
}

/// Guards against a leaked pending mark: a release sent once and lost to a
/// short partition left Sam's account pending for good, so a later,
/// uncontended booking was refused as busy and compensated.
#[test]
fn a_release_lost_to_a_partition_is_retransmitted_until_acknowledged() {
    let mut s = two_bookings_apart(12);
    // Saga 0 ends at 41 ms; its release would reach payment at 46 ms.
    assert_eq!(first_release_at(&s, PAYMENT), ms(46));
    partition_at_release(&mut s);
    assert_both_complete(&run(&s).report);
}

/// Guards against a release forgotten in a crash: the orchestrator goes
/// down while the release is unacknowledged, and on restart it reads from
/// its log that saga 0 ended without every service acknowledging it.
#[test]
fn an_unacknowledged_release_is_sent_again_after_the_orchestrator_restarts() {
    let mut s = two_bookings_apart(13);
    partition_at_release(&mut s);
    s.faults.extend([
        ScheduledFault::new(ms(43), Fault::Crash(ORCH)),
        ScheduledFault::new(ms(150), Fault::Restart(ORCH)),
    ]);
    assert_both_complete(&run(&s).report);
}

/// Guards against acknowledging a release before it is durable: with a slow
/// disk, payment crashes after the release arrived but before its record
/// is on disk. Had it acknowledged at once, the restart would replay the
/// charge, raise the mark again, and no one would release it.
#[test]
fn a_service_acknowledges_a_release_only_once_it_is_durable() {
    let mut s = two_bookings_apart(14);
    s.write_latency = ms(10);
    let arrives = first_release_at(&s, PAYMENT);
    s.faults.extend([
        ScheduledFault::new(arrives + ms(5), Fault::Crash(PAYMENT)),
        ScheduledFault::new(arrives + ms(30), Fault::Restart(PAYMENT)),
    ]);
    assert_both_complete(&run(&s).report);
}
