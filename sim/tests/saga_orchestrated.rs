//! The orchestrated saga through the engine: fail backward, retries and
//! timeouts, null compensations, crash recovery, stuck sagas, the semantic
//! lock, and the negative control for idempotency.

mod common;

use common::{assert_caught, assert_clean, concurrent_on_one_customer, ms, sold_out};
use txlab_sim::engine::{Fault, Latency, LinkConfig, NodeId, ScheduledFault};
use txlab_sim::lab::{RunSpec, run};
use txlab_sim::protocols::service::Reply;
use txlab_sim::protocols::workload::{Op, StepFailure, StepId, Workflow};
use txlab_sim::protocols::{Obs, Outcome, Protocol};

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
