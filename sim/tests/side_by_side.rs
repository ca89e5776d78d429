//! One workload and one fault schedule under all three protocols.

mod common;

use common::sold_out;
use txlab_sim::engine::Latency;
use txlab_sim::lab::{RunSpec, compare};
use txlab_sim::protocols::{Outcome, Protocol};

#[test]
fn flight_sold_out_side_by_side() {
    let mut s = RunSpec::new(Protocol::TwoPc, 42, sold_out());
    s.net.default.latency = Latency::uniform_ms(2, 8);
    let runs = compare(&s);
    let reports: Vec<_> = runs.iter().map(|r| &r.report).collect();
    for r in &reports {
        assert!(
            r.violations.is_empty(),
            "{:?}: {:#?}",
            r.protocol,
            r.violations
        );
        assert_eq!(r.final_state["payment"]["sam"], 1_000);
        assert_eq!(r.final_state["car"]["cars"], 10);
        println!(
            "{:>13}: outcome {:?}, messages {}, latency {:.3} ms, lock {:.3} ms, in doubt {:.3} ms, compensations {}",
            r.protocol.name(),
            r.transactions[0].outcome,
            r.metrics.messages_sent,
            r.metrics.latency_ms.max,
            r.metrics.lock_hold_ms,
            r.metrics.in_doubt_ms,
            r.metrics.compensations,
        );
    }
    assert_eq!(reports[0].count(Outcome::Aborted), 1);
    assert_eq!(reports[1].count(Outcome::Compensated), 1);
    assert_eq!(reports[2].count(Outcome::Compensated), 1);
    // 2PC holds locks and sagas do not; sagas compensate and 2PC does not.
    assert!(reports[0].metrics.lock_hold_ms > 0.0);
    assert_eq!(reports[0].metrics.compensations, 0);
    assert_eq!(reports[1].metrics.lock_hold_ms, 0.0);
    assert_eq!(reports[1].metrics.compensations, 2);
    assert_eq!(reports[2].metrics.compensations, 2);
    // The same faults and seed give three different, stable traces.
    let again = compare(&s);
    for (a, b) in runs.iter().zip(&again) {
        assert_eq!(a.report.trace_hash, b.report.trace_hash);
    }
}
