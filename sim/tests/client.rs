//! The client model (issue: one client for all three protocols). Each
//! arrival is a request sent over the network to the central node; a
//! request that reaches a crashed node is lost and the client asks again;
//! latency runs from the first send to the answer. Numbers below come from
//! the hop counts with a fixed 5 ms link, derived before running.

mod common;

use common::{assert_clean, ms};
use txlab_sim::engine::{Fault, Latency, NodeId, ScheduledFault};
use txlab_sim::lab::{RunSpec, run};
use txlab_sim::protocols::workload::Workflow;
use txlab_sim::protocols::{Outcome, Protocol};

fn spec(protocol: Protocol) -> RunSpec {
    let mut s = RunSpec::new(protocol, 3, Workflow::holiday());
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s
}

/// The central node is down from 0 to 200 ms, so the first request (sent
/// at 0, arriving at 5) is lost; the client asks again at its retry time.
fn central_down_at_arrival(protocol: Protocol) -> RunSpec {
    let mut s = spec(protocol);
    s.faults = vec![
        ScheduledFault::new(ms(0), Fault::Crash(NodeId(0))),
        ScheduledFault::new(ms(200), Fault::Restart(NodeId(0))),
    ];
    s
}

#[test]
fn the_client_is_told_every_outcome_and_latency_counts_its_own_hops() {
    // 2PC with 5 ms links: request, PREPARE, vote, answer = 20 ms.
    let r = run(&spec(Protocol::TwoPc)).report;
    assert_clean(&r);
    let t = &r.transactions[0];
    assert_eq!(t.reported_to_client, Some(Outcome::Committed));
    assert_eq!(t.latency_ms, Some(20.0));
    // Orchestrated: request, four calls of two hops, answer = 50 ms.
    let r = run(&spec(Protocol::Orchestrated)).report;
    assert_eq!(
        r.transactions[0].reported_to_client,
        Some(Outcome::Completed)
    );
    assert_eq!(r.transactions[0].latency_ms, Some(50.0));
}

#[test]
fn a_request_lost_to_a_crashed_saga_node_is_asked_again_and_waited_for() {
    // The orchestrator's log says the saga never began, so the repeated
    // request (at 500 ms, the default retry) starts it: 500 + 50 ms.
    for p in [Protocol::Orchestrated, Protocol::Choreographed] {
        let r = run(&central_down_at_arrival(p)).report;
        assert_clean(&r);
        let t = &r.transactions[0];
        assert_eq!(t.reported_to_client, Some(Outcome::Completed), "{p:?}");
        let lat = t.latency_ms.expect("answered");
        assert!(lat >= 500.0, "{p:?}: latency {lat} counts the wait");
    }
}

#[test]
fn a_restarted_coordinator_with_no_record_answers_a_repeated_request_aborted() {
    // Presumed abort: the request was first sent before this incarnation
    // started, so an earlier one may have begun it; no record means abort.
    let r = run(&central_down_at_arrival(Protocol::TwoPc)).report;
    assert_clean(&r);
    let t = &r.transactions[0];
    assert_eq!(t.reported_to_client, Some(Outcome::Aborted));
    assert_eq!(
        t.latency_ms,
        Some(510.0),
        "asked again at 500: 5 ms there, 5 back"
    );
}

#[test]
fn a_request_first_sent_after_the_restart_begins_normally() {
    // The second booking is first sent at 300 ms, after the restart at 200.
    let mut s = central_down_at_arrival(Protocol::TwoPc);
    let mut wf = Workflow::holiday();
    wf.transactions = 2;
    wf.arrival.interval = ms(300);
    s.workflow = std::sync::Arc::new(wf);
    let r = run(&s).report;
    assert_eq!(
        r.transactions[1].reported_to_client,
        Some(Outcome::Committed)
    );
    assert_eq!(r.transactions[1].latency_ms, Some(20.0));
}

#[test]
fn a_client_that_never_hears_back_has_no_latency_and_no_answer() {
    // The coordinator never comes back: nobody answers.
    let mut s = spec(Protocol::TwoPc);
    s.faults = vec![ScheduledFault::new(ms(0), Fault::Crash(NodeId(0)))];
    let r = run(&s).report;
    assert_eq!(r.transactions[0].reported_to_client, None);
    assert_eq!(r.transactions[0].latency_ms, None);
    // Never begun and never answered: unfinished, as the sagas would say,
    // not "aborted" (a review found 2PC scored the same event differently).
    assert_eq!(r.transactions[0].outcome, Outcome::Unfinished);
}
