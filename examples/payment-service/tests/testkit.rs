//! The testkit finds the message-id bug, shrinks it, and its repro
//! replays; the fixed service holds; a false invariant trips.

use payment_service::{SCENARIO, registry, registry_v1, sam_pays_per_order};
use std::collections::BTreeSet;
use txlab_sim::custom::Invariant;
use txlab_sim::protocols::{Outcome, Protocol};
use txlab_sim::testkit::{Check, replay};

fn repro_dir(test: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(test)
}

/// Expected failure: the first version double-charges when a charge is
/// sent again, and the testkit finds it within the default 256 cases.
#[test]
fn the_message_id_bug_is_found_and_shrunk_to_at_most_two_faults() {
    let check = Check::parse(SCENARIO, "payment.toml", registry_v1())
        .unwrap()
        .invariant(sam_pays_per_order())
        .repro_dir(repro_dir("bug"));
    let failure = check.run().expect_err("the message-id bug must be found");
    let broken: BTreeSet<&str> = failure
        .violations
        .iter()
        .map(|(_, v)| v.invariant.as_str())
        .collect();
    // A second charge under the same business key: exactly what
    // idempotency by message id lets through.
    assert!(broken.contains("at_most_once"), "{failure}");
    assert!(
        failure
            .violations
            .iter()
            .all(|(p, _)| *p == Protocol::Orchestrated),
        "the broker's redeliveries keep their id, so only the orchestrator's resends show it: {failure}"
    );
    assert!(failure.trouble.len() <= 2, "{failure}");
    assert!(failure.repro.is_some(), "{failure}");
}

/// The repro the testkit wrote replays to the same violations with the
/// buggy service, and to none with the fixed one.
#[test]
fn the_repro_replays_to_the_same_violation() {
    let invariants = [sam_pays_per_order()];
    let failure = Check::parse(SCENARIO, "payment.toml", registry_v1())
        .unwrap()
        .invariant(sam_pays_per_order())
        .repro_dir(repro_dir("replay"))
        .run()
        .expect_err("the message-id bug must be found");
    let path = failure.repro.clone().expect("written");
    let sagas = [Protocol::Orchestrated, Protocol::Choreographed];
    let again = replay(&path, &registry_v1(), &invariants, &sagas).unwrap();
    let key =
        |p: Protocol, v: &txlab_sim::lab::Violation| (p, v.invariant.clone(), v.message.clone());
    let found: Vec<_> = failure.violations.iter().map(|(p, v)| key(*p, v)).collect();
    let replayed: Vec<_> = again.violations().map(|(p, v)| key(p, v)).collect();
    assert_eq!(replayed, found);
    let fixed = replay(&path, &registry(), &invariants, &sagas).unwrap();
    assert_eq!(fixed.violations().count(), 0, "{}", fixed.summary());
}

#[test]
fn the_fixed_service_passes_a_thousand_cases() {
    let passed = Check::parse(SCENARIO, "payment.toml", registry())
        .unwrap()
        .invariant(sam_pays_per_order())
        .repro_dir(repro_dir("fixed"))
        .cases(1_000)
        .assert();
    assert_eq!(passed.cases, 1_000);
    assert_eq!(
        passed.to_string(),
        "the property held in all 1000 cases generated"
    );
}

/// Negative control for user invariants: one that is false (Sam never
/// pays, though orders complete) is reported.
#[test]
fn a_false_invariant_trips() {
    let never_pays = Invariant::new("sam_never_pays", |facts| {
        if facts.count(Outcome::Completed) > 0 && facts.amount("payment", "sam") != 1_000 {
            Err(format!("Sam has ${}", facts.amount("payment", "sam")))
        } else {
            Ok(())
        }
    });
    let failure = Check::parse(SCENARIO, "payment.toml", registry())
        .unwrap()
        .invariant(never_pays)
        .repro_dir(repro_dir("false-invariant"))
        .cases(20)
        .run()
        .expect_err("a completed order charges Sam");
    assert!(
        failure
            .violations
            .iter()
            .all(|(_, v)| v.invariant == "sam_never_pays"),
        "{failure}"
    );
    // Nothing else was needed to break it: shrunk to no trouble at all.
    assert!(failure.trouble.is_empty(), "{failure}");
    // In words, with how many cases held first (at most the 19 others).
    assert!(failure.passed_before < 20, "{failure}");
    let text = failure.to_string();
    let held = match failure.passed_before {
        0 => "(the first case generated failed)".to_string(),
        1 => "(1 case held, then one failed)".to_string(),
        n => format!("({n} cases held, then one failed)"),
    };
    assert!(
        text.starts_with(&format!(
            "txlab testkit: property failed {held}; reproduce with seed="
        )),
        "{text}"
    );
    assert!(text.contains("shrunk to no faults"), "{text}");
    assert!(!text.contains("Failure {"), "{text}");
}

/// txlab's own binary cannot run the user's service: the file names a
/// logic the program that loads it must provide.
#[test]
fn a_registry_without_the_service_names_the_file_and_field() {
    let err = Check::parse(SCENARIO, "payment.toml", txlab_sim::custom::Registry::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("payment.toml: services[1].logic"), "{err}");
    assert!(err.contains("\"payment\""), "{err}");
}
