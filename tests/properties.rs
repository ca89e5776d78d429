//! Property tests: every protocol keeps its promises under random loss,
//! duplication, reordering, slow and long-tailed links, slow and silent
//! services, a slow disk, partitions (one-way too) and crashes (of the
//! central node while requests arrive too), and the checkers are
//! able to fail (negative controls). Failures print the seed and shrunk
//! fault schedule and write a scenario file `txlab run` replays.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use support::{Case, HolidayCase, case, case_with_knobs, cases, must_find, repro};
use txlab_sim::engine::{Fault, NodeId, ScheduledFault, SimTime};
use txlab_sim::lab::{RunReport, run};
use txlab_sim::protocols::{Outcome, Protocol};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn report(c: &Case, p: Protocol) -> RunReport {
    run(&c.scenario().spec_for(p)).report
}

fn violations(r: &RunReport) -> String {
    r.violations
        .iter()
        .map(|v| format!("{}: {}", v.invariant, v.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Safety, idempotency, atomicity and liveness for one protocol.
fn holds(c: &Case, p: Protocol, name: &str) -> Result<(), TestCaseError> {
    let r = report(c, p);
    prop_assert!(
        r.violations.is_empty(),
        "{}: {} — {}",
        p.name(),
        violations(&r),
        repro(name, c)
    );
    for t in &r.transactions {
        let allowed: &[Outcome] = match p {
            Protocol::TwoPc => &[Outcome::Committed, Outcome::Aborted],
            // A compensation that always fails leaves its saga stuck, flagged.
            _ if c.stuck => &[Outcome::Completed, Outcome::Compensated, Outcome::Stuck],
            _ => &[Outcome::Completed, Outcome::Compensated],
        };
        prop_assert!(
            allowed.contains(&t.outcome),
            "{}: T{} ended {:?} — {}",
            p.name(),
            t.tx,
            t.outcome,
            repro(name, c)
        );
    }
    // "Sam is charged exactly $100" per completed booking, nothing otherwise.
    let done = (r.count(Outcome::Committed) + r.count(Outcome::Completed)) as i64;
    prop_assert_eq!(
        r.final_state["payment"]["sam"],
        1_000 - 100 * done,
        "{}",
        repro(name, c)
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn two_pc_is_atomic_idempotent_and_live(c in case(3, 3)) {
        holds(&c, Protocol::TwoPc, "two_pc")?;
    }

    #[test]
    fn orchestrated_saga_is_atomic_idempotent_and_live(c in case(3, 3)) {
        holds(&c, Protocol::Orchestrated, "orchestrated")?;
    }

    #[test]
    fn choreographed_saga_is_atomic_idempotent_and_live(c in case(3, 3)) {
        holds(&c, Protocol::Choreographed, "choreographed")?;
    }

    /// The workload knobs (a register kept safe by its countermeasure,
    /// `reread_value`, a compensation fee, a parallel group, a crash tied
    /// to a message) under the same faults: every checker stays silent
    /// (termination and "no inconsistent outcome" among them). A fee changes what a refund gives back, so
    /// the balance rule of `holds` is left to the conservation checker,
    /// which knows the fee.
    #[test]
    fn every_protocol_keeps_its_promises_with_the_workload_knobs_turned(c in case_with_knobs(2, 3)) {
        for p in Protocol::ALL {
            let r = report(&c, p);
            prop_assert!(r.violations.is_empty(), "{}: {} — {}", p.name(), violations(&r), repro("knobs", &c));
        }
    }

    #[test]
    fn same_inputs_give_the_same_trace_hash(c in case(2, 2)) {
        for p in Protocol::ALL {
            prop_assert_eq!(report(&c, p).trace_hash, report(&c, p).trace_hash, "{}", repro("determinism", &c));
        }
    }

    #[test]
    fn a_fault_added_at_t_leaves_the_trace_before_t_unchanged(c in case(2, 2), t_ms in 0..300u64, node in 0..5u32) {
        let t = SimTime::from_millis(t_ms);
        for p in Protocol::ALL {
            let spec = c.scenario().spec_for(p);
            let mut faulted = spec.clone();
            faulted.faults.push(ScheduledFault::new(t, Fault::Crash(NodeId(node))));
            faulted.faults.push(ScheduledFault::new(t + SimTime::from_millis(50), Fault::Restart(NodeId(node))));
            let a = run(&spec).world;
            let b = run(&faulted).world;
            let before = |w: &txlab_sim::engine::World<_>| -> Vec<_> {
                w.trace().events().iter().take_while(|e| e.time < t).copied().collect()
            };
            prop_assert_eq!(before(&a), before(&b), "{}: {}", p.name(), repro("prefix", &c));
        }
    }
}

#[test]
fn negative_control_idempotency_off_under_duplication_is_found_and_shrunk() {
    let strategy = || {
        case(3, 3).prop_map(|mut c| {
            c.toggles.idempotency = false;
            c.duplicate = c.duplicate.max(0.5);
            c
        })
    };
    // Sagas only: 2PC participants dedupe by transaction state whatever the
    // toggle says (tests/two_pc.rs checks a duplicated COMMIT applies once).
    for p in [Protocol::Orchestrated, Protocol::Choreographed] {
        let shrunk = must_find(strategy(), |c| {
            let r = report(c, p);
            let bad = r
                .violations
                .iter()
                .any(|v| v.invariant == "at_most_once" || v.invariant == "conservation");
            prop_assert!(!bad, "{}: {}", p.name(), repro("negative_idempotency", c));
            Ok(())
        });
        // The shrunk case: one transaction, no fault.
        assert_eq!(shrunk.transactions, 1, "{p:?}: {shrunk:?}");
        assert_eq!(shrunk.fault_count(), 0, "{p:?}: {shrunk:?}");
    }
}

#[test]
fn negative_control_outbox_off_with_crashes_is_found_and_shrunk() {
    // A lossless network, so only a crash can lose an event.
    let strategy = case(3, 2).prop_map(|mut c| {
        c.toggles.outbox = false;
        c.loss = 0.0;
        c
    });
    let shrunk = must_find(strategy, |c| {
        let r = report(c, Protocol::Choreographed);
        let bad = r
            .violations
            .iter()
            .any(|v| v.invariant == "event_iff_commit");
        prop_assert!(!bad, "{}", repro("negative_outbox", c));
        Ok(())
    });
    // The shrinker reaches at most two transactions and two faults (each
    // with its end): the separate publish goes to a broker that is down or
    // cut off, and nothing ever sends it again.
    assert!(shrunk.transactions <= 2, "{shrunk:?}");
    assert!(shrunk.fault_count() <= 4, "{shrunk:?}");
}

#[test]
fn negative_control_a_participant_that_forgets_its_prepared_record_is_found() {
    let shrunk = must_find(case(3, 2), |c| {
        let mut spec = c.scenario().spec_for(Protocol::TwoPc);
        spec.bugs.participant_forgets_prepared = true;
        let r = run(&spec).report;
        prop_assert!(
            r.violations.is_empty(),
            "{} — {}",
            violations(&r),
            repro("negative_forget", c)
        );
        Ok(())
    });
    // The shrinker reaches at most two transactions and two crashes (with
    // their restarts); which exactly depends on the generator's stream.
    assert!(shrunk.transactions <= 2, "{shrunk:?}");
    assert!(shrunk.fault_count() <= 4, "{shrunk:?}");
}

/// The strategies reach every dimension where bugs hid: a slow disk, slow
/// and long-tailed links, slow and silent services, duplication, one-way
/// partitions, and the central node down while requests arrive.
#[test]
fn the_strategies_reach_every_dimension() {
    use proptest::strategy::ValueTree;
    use support::{FaultCase, LatencyCase};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = case(3, 3);
    let mut seen: std::collections::BTreeMap<&str, u32> = Default::default();
    for _ in 0..500 {
        let c = strategy.new_tree(&mut runner).unwrap().current();
        let mut hit = |k| *seen.entry(k).or_insert(0) += 1;
        let f = c.file();
        if c.write_latency_ms > 0 {
            hit("slow disk");
        }
        if c.client_retry_ms.is_some() {
            hit("impatient client");
        }
        if c.duplicate > 0.0 {
            hit("duplication");
        }
        if matches!(c.latency, LatencyCase::Pareto { .. }) {
            hit("long tail");
        }
        if f.network.links.iter().any(|l| l.latency.is_some()) {
            hit("slow link");
        }
        if f.network.links.iter().any(|l| l.duplicate.is_some()) {
            hit("duplicating link");
        }
        if f.failures.iter().any(|x| x.reply_delay_ms >= 60) {
            hit("reply past the timeout");
        }
        if f.failures.iter().any(|x| x.silent_replies > 0) {
            hit("silent reply");
        }
        if c.stuck {
            hit("failing compensation");
        }
        for p in f.faults.iter().filter_map(|x| x.partition.as_ref()) {
            hit(if p.one_way {
                "one-way cut"
            } else {
                "two-way cut"
            });
            if p.b.is_some() {
                hit("cut between groups");
            }
        }
        let arrivals: Vec<u64> = (0..u64::from(c.transactions))
            .map(|i| 1 + i * c.interval_ms)
            .collect();
        let central_down_at_arrival = c.faults.iter().any(|fc| {
            matches!(fc, FaultCase::Crash { node: 0, at_ms, down_ms }
                if arrivals.iter().any(|t| at_ms <= t && *t < at_ms + down_ms))
        });
        if central_down_at_arrival {
            hit("arrival during central downtime");
        }
    }
    for k in [
        "slow disk",
        "impatient client",
        "duplication",
        "long tail",
        "slow link",
        "duplicating link",
        "reply past the timeout",
        "silent reply",
        "failing compensation",
        "one-way cut",
        "two-way cut",
        "cut between groups",
        "arrival during central downtime",
    ] {
        assert!(seen.get(k).copied().unwrap_or(0) >= 5, "{k}: {seen:?}");
    }
}

/// A failure message names everything needed to replay the case: the
/// seed, the disk, links, slow services and the fault schedule.
#[test]
fn a_failure_message_names_every_dimension() {
    use proptest::strategy::ValueTree;
    use support::{FaultCase, LatencyCase, LinkCase, SlowCase};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let mut c = case(0, 2).new_tree(&mut runner).unwrap().current();
    c.seed = 4242;
    c.write_latency_ms = 17;
    c.links = vec![LinkCase {
        from: 1,
        to: 0,
        latency: Some(LatencyCase::Pareto {
            min_ms: 3,
            alpha: 1.5,
            max_ms: 250,
        }),
        loss: None,
        duplicate: Some(0.4),
        fifo: None,
    }];
    c.slow = vec![SlowCase {
        step: 3,
        reply_delay_ms: 77,
        silent_replies: 2,
        tx: None,
    }];
    c.faults = vec![FaultCase::Partition {
        nodes: vec![4],
        others: vec![0],
        one_way: true,
        at_ms: 12,
        for_ms: 30,
    }];
    let m = repro("message", &c);
    for part in [
        "seed=4242",
        "write_latency_ms = 17",
        "from = \"car\"",
        "kind = \"pareto\"",
        "reply_delay_ms = 77",
        "silent_replies = 2",
        "one_way = true",
        "b = [\"coordinator\"]",
        "heal = \"cut0\"",
    ] {
        assert!(m.contains(part), "{part} missing from: {m}");
    }
}

/// Over 256 generated cases every workload knob takes both values: a
/// register (and which countermeasure keeps it), `reread_value`, a fee, a
/// parallel group and a crash tied to a message, each on in some files
/// and off in others, and every file valid.
#[test]
fn the_strategies_turn_every_workload_knob() {
    use proptest::strategy::ValueTree;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = support::case_with_knobs(3, 3);
    let mut seen: std::collections::BTreeMap<(&str, bool), u32> = Default::default();
    for _ in 0..256 {
        let c = strategy.new_tree(&mut runner).unwrap().current();
        let f = c.file();
        c.scenario();
        let t = &f.toggles;
        for knob in [
            (
                "register",
                f.services.iter().any(|s| !s.registers.is_empty()),
            ),
            ("commutative updates", t.commutative_updates),
            ("version file", t.version_file),
            ("reread value", t.reread_value),
            (
                "fee",
                f.steps.iter().any(|s| s.compensation_amount.is_some()),
            ),
            ("group", f.steps.iter().any(|s| s.group.is_some())),
            ("tied crash", f.faults.iter().any(|x| x.after.is_some())),
            ("by value", t.by_value.is_some()),
        ] {
            *seen.entry(knob).or_insert(0) += 1;
        }
    }
    for k in [
        "register",
        "commutative updates",
        "version file",
        "reread value",
        "fee",
        "group",
        "tied crash",
        "by value",
    ] {
        for on in [true, false] {
            let n = seen.get(&(k, on)).copied().unwrap_or(0);
            assert!(n >= 5, "{k} = {on} in {n} of 256 cases: {seen:?}");
        }
    }
}
