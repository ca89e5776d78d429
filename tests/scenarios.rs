//! The lesson library: every file in `scenarios/` parses, runs and meets
//! its expectations, and the embedded library is exactly that folder.

use txlab::library::LIBRARY;
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::lab::scenario::expect::mismatches;
use txlab_sim::protocols::Protocol;

fn folder() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_file_meets_its_expectations() {
    let files = folder();
    assert!(files.len() >= 30, "the library has its thirty lessons");
    for (name, text) in &files {
        let s = Scenario::parse(text.as_bytes(), name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.name(), name, "file name and scenario name agree");
        assert_eq!(
            s.file.expect.len(),
            3,
            "{name}: expectations for all three protocols"
        );
        assert!(!s.file.narration.is_empty(), "{name}: has narration");
        for p in Protocol::ALL {
            let r = run(&s.spec_for(p)).report;
            let e = &s.file.expect[p.name()];
            let problems = mismatches(e, &r);
            assert!(problems.is_empty(), "{name}: {problems:#?}");
        }
    }
}

#[test]
fn the_embedded_library_is_the_scenarios_folder() {
    let mut embedded: Vec<(String, String)> = LIBRARY
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    embedded.sort();
    assert_eq!(embedded, folder());
}

#[test]
fn the_lessons_named_by_the_design_exist() {
    for name in [
        "happy-path",
        "flight-sold-out",
        "coordinator-crash-after-prepare",
        "coordinator-crash-after-commit-logged",
        "participant-crash-after-vote",
        "partition-before-vote",
        "partition-after-vote",
        "duplicate-payment",
        "duplicate-payment-idempotent",
        "payment-timeout-succeeded",
        "compensation-before-action",
        "compensation-fails-stuck",
        "lost-event-no-outbox",
        "concurrent-sagas-anomaly",
        "concurrent-sagas-semantic-lock",
        "customer-enrolment",
        "latency-buildup",
        "long-lived-contention",
        // The lesson-library issue's additions.
        "timeout-retry",
        "timeout-retry-no-idempotency",
        "refund-twice",
        "refund-twice-no-idempotency",
        "compensation-not-rollback",
        "retry-5xx-not-4xx",
        "long-lived-transaction",
        "tail-latency",
        "cooperative-termination-all-yes",
        "choreography-tracing",
    ] {
        assert!(txlab::library::get(name).is_some(), "{name}");
    }
}

#[test]
fn a_scenario_round_trips_through_toml() {
    for (name, text) in LIBRARY {
        let s = Scenario::parse(text.as_bytes(), name).unwrap();
        let again = Scenario::parse(s.to_toml().as_bytes(), name).unwrap();
        assert_eq!(s.file, again.file, "{name}");
        let a = run(&s.spec_for(Protocol::Orchestrated)).report.trace_hash;
        let b = run(&again.spec_for(Protocol::Orchestrated))
            .report
            .trace_hash;
        assert_eq!(a, b, "{name}");
    }
}
