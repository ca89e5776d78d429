//! Shared fixtures of the protocol tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use txlab_sim::engine::{Latency, SimTime};
use txlab_sim::lab::{RunReport, RunSpec};
use txlab_sim::protocols::Protocol;
use txlab_sim::protocols::workload::{StepFailure, StepId, TxId, Workflow};

/// `n` milliseconds.
pub fn ms(n: u64) -> SimTime {
    SimTime::from_millis(n)
}

/// Fail the test with the violations, if there are any.
pub fn assert_clean(r: &RunReport) {
    assert!(r.violations.is_empty(), "violations: {:#?}", r.violations);
}

/// The holiday booking with the flight sold out (it will refuse).
pub fn sold_out() -> Workflow {
    let mut wf = Workflow::holiday();
    wf.services[2].resources.insert("seats".into(), 0);
    wf
}

/// Two sagas on Sam's account (balance 150, each charges 100 first, then
/// hotel, flight, car). The first one's flight is rejected, so its charge
/// is later refunded.
pub fn concurrent_on_one_customer(protocol: Protocol, semantic_lock: bool) -> RunSpec {
    let mut wf = Workflow::holiday();
    wf.services[3].resources = BTreeMap::from([("sam".into(), 150)]);
    wf.steps.swap(0, 3);
    wf.transactions = 2;
    wf.arrival.interval = ms(3);
    wf.failures.push(StepFailure {
        step: Some(StepId(2)),
        reject: true,
        txs: vec![TxId(0)],
        ..StepFailure::default()
    });
    let mut s = RunSpec::new(protocol, 8, wf);
    s.net.default.latency = Latency::uniform_ms(5, 5);
    s.toggles.semantic_lock = semantic_lock;
    s
}

/// Fail the test unless every one of `invariants` was reported.
pub fn assert_caught(r: &RunReport, invariants: &[&str]) {
    for inv in invariants {
        assert!(
            r.violations_of(inv).count() > 0,
            "{inv} not reported; violations: {:#?}",
            r.violations
        );
    }
}
