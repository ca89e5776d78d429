//! `risky_isolated`, by value's promise (no isolation anomaly names a
//! request whose value reaches the threshold), judged where the other
//! invariants are: in swarm sweeps and in property tests. Each place gets
//! a negative control: the test-only bug that lets risky requests act
//! where another saga has a change pending (they skip the wait) must be
//! caught there.

mod support;

use proptest::prelude::*;
use support::{HolidayCase, case_with_knobs, must_find, repro};
use txlab::library;
use txlab::sweep::{SweepConfig, seed_scenario, sweep};
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::lab::{Runner, run};
use txlab_sim::protocols::Protocol;

const NAME: &str = "risky_isolated";
const SAGAS: [Protocol; 2] = [Protocol::Orchestrated, Protocol::Choreographed];

fn lesson(name: &str) -> Scenario {
    let text = library::get(name).expect("a lesson");
    Scenario::parse(text.as_bytes(), name).expect("valid")
}

/// Derived from the countermeasure's definition (THEORY.md, Isolation:
/// locks held to the end show no anomaly), whatever the network and the
/// faults do: a crash loses no mark (marks are rebuilt from the log), a
/// lost release only makes others wait longer. So a swarm sweep of the
/// by-value lesson, which draws loss, duplication, partitions, crashes,
/// tied crashes and the other countermeasures per seed, reports no
/// `risky_isolated`. The same sweep of the contention lesson, where the
/// swarm itself turns by value on for some seeds at a threshold among the
/// workload's values (1 makes every request risky), reports none either.
#[test]
fn swarm_sweeps_judge_the_promise_and_it_holds() {
    for name in ["countermeasure-by_value", "isolation-contention"] {
        let cfg = SweepConfig {
            from: 0,
            seeds: 300,
            swarm: true,
            jobs: 2,
            progress: false,
        };
        let summary = sweep(&lesson(name), &cfg).expect("valid");
        for (p, t) in &summary.protocols {
            assert_eq!(t.violations.get(NAME), None, "{name}, {}", p.name());
        }
    }
    // The swarm did turn by value on for the contention lesson.
    let base = lesson("isolation-contention");
    let drawn = (0..300)
        .filter_map(|seed| seed_scenario(&base, seed, true).ok())
        .filter(|s| s.file.toggles.by_value.is_some())
        .count();
    assert!(drawn > 30, "by value drawn on {drawn} of 300 seeds");
}

/// Negative control, on the sweep's own path (the swarm's scenario for
/// each seed, run by the [`Runner`] a sweep uses): risky requests that
/// skip the wait act on values a low-value saga later compensates
/// (orders 0 and 3 are refused a van), so some seeds must break the
/// promise, and only risky orders (1 and 5) may be named.
#[test]
fn a_swarm_finds_risky_requests_that_skip_the_wait() {
    let base = lesson("countermeasure-by_value");
    let mut seeds_caught = 0;
    for seed in 0..100 {
        let s = seed_scenario(&base, seed, true).expect("valid");
        let mut caught = false;
        for p in SAGAS {
            let mut spec = s.spec_for(p);
            spec.recording = false;
            spec.bugs.risky_requests_skip_the_wait = true;
            for v in Runner::new(spec).run(seed).violations {
                if v.invariant == NAME {
                    caught = true;
                    assert!(matches!(v.tx, Some(1 | 5)), "seed {seed}: {}", v.message);
                }
            }
        }
        seeds_caught += u32::from(caught);
    }
    assert!(seeds_caught > 0, "the swarm never caught the skipped wait");
}

/// The property tests judge every checker on cases with the workload
/// knobs turned (tests/properties.rs), by value among them (requests of
/// values 1 and 2, the double ones risky). Negative control there: with
/// by value on in every case and the risky requests skipping the wait,
/// the property must fail on `risky_isolated`. Derived: a low-value
/// booking that is compensated (refused, or given up on after a timeout)
/// while a risky one overlaps it gives the risky one a dirty read (it
/// charges over a charge later refunded). Every anomaly needs two
/// transactions, so the shrinker stops at two.
#[test]
fn negative_control_the_property_tests_find_risky_requests_that_skip_the_wait() {
    let strategy = case_with_knobs(2, 3).prop_map(|mut c| {
        c.knobs.by_value = true;
        c
    });
    let shrunk = must_find(strategy, |c| {
        for p in SAGAS {
            let mut spec = c.scenario().spec_for(p);
            spec.bugs.risky_requests_skip_the_wait = true;
            let r = run(&spec).report;
            let broken = r.violations.iter().find(|v| v.invariant == NAME);
            prop_assert!(
                broken.is_none(),
                "{}: {} — {}",
                p.name(),
                broken.map_or("", |v| v.message.as_str()),
                repro("negative_risky_isolated", c)
            );
        }
        Ok(())
    });
    assert_eq!(shrunk.transactions, 2, "{shrunk:?}");
}
