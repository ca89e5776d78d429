//! Uncertainty, blocking, latency and anomalies on real runs of the
//! lessons, with the expected numbers derived from the scenario files.

mod common;

use common::{assert_clean, concurrent_on_one_customer};
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::{Obs, Protocol};

fn lesson(name: &str) -> Scenario {
    let path = format!("{}/../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Scenario::parse(&text, &path).unwrap_or_else(|e| panic!("{e}"))
}

/// The time of the lesson's only fault matching `pick`.
fn fault_ms(
    s: &Scenario,
    pick: impl Fn(&txlab_sim::lab::scenario::format::FaultFile) -> bool,
) -> f64 {
    let f: Vec<_> = s.file.faults.iter().filter(|f| pick(f)).collect();
    assert_eq!(f.len(), 1, "{}: one such fault", s.name());
    f[0].at_ms as f64
}

#[test]
fn the_happy_path_is_uncertain_but_never_blocked() {
    let s = lesson("happy-path");
    let r = run(&s.spec_for(Protocol::TwoPc)).report;
    assert_clean(&r);
    assert!(
        r.metrics.in_doubt_ms > 0.0,
        "every yes voter waits for the decision"
    );
    assert_eq!(r.metrics.blocked_ms, 0.0);
    assert_eq!(r.metrics.per_service.len(), 4);
    for (svc, t) in &r.metrics.per_service {
        assert!(t.in_doubt_ms > 0.0 && t.blocked_ms == 0.0, "{svc}: {t:?}");
    }
}

#[test]
fn a_coordinator_crash_after_prepare_blocks_for_its_downtime() {
    // Every participant voted yes before the crash (the lesson's premise),
    // so each is blocked from the crash to the restart, and no longer: after
    // the restart the coordinator answers, and the rest of the wait is the
    // normal uncertainty of asking.
    let s = lesson("coordinator-crash-after-prepare");
    let crash = fault_ms(&s, |f| f.crash.as_deref() == Some("coordinator"));
    let restart = fault_ms(&s, |f| f.restart.as_deref() == Some("coordinator"));
    let out = run(&s.spec_for(Protocol::TwoPc));
    let r = &out.report;
    assert_clean(r);
    let prepared: Vec<f64> = out
        .world
        .trace()
        .observations()
        .iter()
        .filter(|o| matches!(o.obs, Obs::Prepared { .. }))
        .map(|o| o.time.as_millis_f64())
        .collect();
    assert_eq!(prepared.len(), 4, "all four prepared");
    assert!(
        prepared.iter().all(|t| *t <= crash),
        "premise: all prepared before the crash at {crash} ms, at {prepared:?}"
    );
    let each = restart - crash;
    for (svc, t) in &r.metrics.per_service {
        assert_eq!(t.blocked_ms, each, "{svc}: {t:?}");
        assert!(
            t.in_doubt_ms > each,
            "{svc}: uncertain longer than blocked: {t:?}"
        );
    }
    assert_eq!(r.metrics.blocked_ms, 4.0 * each);
}

#[test]
fn a_partition_after_the_vote_blocks_only_the_participant_cut_off() {
    let s = lesson("partition-after-vote");
    let cut = fault_ms(&s, |f| f.partition.is_some());
    let heal = fault_ms(&s, |f| f.heal.is_some());
    let r = run(&s.spec_for(Protocol::TwoPc)).report;
    assert_clean(&r);
    let per = &r.metrics.per_service;
    assert_eq!(per["payment"].blocked_ms, heal - cut, "{per:?}");
    for svc in ["car", "hotel", "flight"] {
        assert_eq!(
            per[svc].blocked_ms, 0.0,
            "{svc} can reach the coordinator: {per:?}"
        );
        assert!(per[svc].in_doubt_ms > 0.0, "{per:?}");
    }
}

#[test]
fn a_transaction_the_client_never_heard_of_has_no_latency() {
    // The coordinator is down before the request: 2PC never answers, and
    // the report says so instead of showing a latency.
    let mut s = lesson("coordinator-crash-after-prepare").spec_for(Protocol::TwoPc);
    s.faults
        .retain(|f| matches!(f.fault, txlab_sim::engine::Fault::Crash(_)));
    s.faults[0].at = txlab_sim::engine::SimTime::ZERO;
    let r = run(&s).report;
    assert!(r.transactions.iter().all(|t| t.latency_ms.is_none()));
    assert_eq!(r.metrics.unfinished, r.transactions.len() as u64);
}

#[test]
fn two_pc_reports_no_anomaly_on_the_reads_the_sagas_fail() {
    // The same auditor reads the same services in all three protocols; the
    // sagas' count shows the reads could see an anomaly.
    let mut saga = concurrent_on_one_customer(Protocol::Orchestrated, false);
    saga.toggles.auditor = true;
    let saga = run(&saga).report;
    assert!(saga.metrics.dirty_reads >= 1, "{:?}", saga.metrics);
    let mut spec = concurrent_on_one_customer(Protocol::TwoPc, false);
    spec.toggles.auditor = true;
    let r = run(&spec).report;
    assert_clean(&r);
    assert!(r.metrics.reads > 0, "the auditor read 2PC's services");
    assert_eq!(r.metrics.anomalies, 0);
}
