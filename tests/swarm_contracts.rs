//! The swarm keeps each countermeasure's contract, so what a sweep reports
//! is a bug, not a configuration the countermeasure rules out. Here:
//! `pessimistic_view` retries its moved steps without limit, so it is only
//! drawn where none of them can be refused for good
//! (`pessimistic_view_keeps_its_contract`). Its negative control draws
//! regardless, and the stalled sagas must show up.

use txlab::knobs::Contracts;
use txlab::library;
use txlab::sweep::{SweepConfig, swarm_scenario, sweep};
use txlab_sim::lab::Runner;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;

const SAGAS: [Protocol; 2] = [Protocol::Orchestrated, Protocol::Choreographed];
const SEEDS: u64 = 300;

fn lesson(name: &str) -> Scenario {
    let text = library::get(name).expect("a lesson");
    Scenario::parse(text.as_bytes(), name).expect("valid")
}

/// A saga that never ends: one whose moved step is refused on every retry
/// stays unfinished (`termination`), and in the choreography leaves its
/// event unacknowledged (`no_event_discarded`).
fn stalled(invariant: &str) -> bool {
    invariant.ends_with("termination") || invariant.ends_with("no_event_discarded")
}

/// From the contract (countermeasure.rs: the moved steps must eventually
/// succeed) and the contention workload: the charge's 100 × 10 (values
/// 1, 2, 1, 1 over 8 orders) fits the balance of 1000, and the
/// reservation relies on its stock check, so it is refused only when
/// reread value is on. The swarm therefore still draws the pessimistic
/// view there, about 0.2 × 0.8 of the seeds without the lesson's own
/// toggles (some 48 of 300), and no seed that has it stalls a saga. The
/// pessimistic-view lesson sets the view itself: there the swarm's reread
/// value is what gives way, and no seed stalls either.
#[test]
fn a_swarm_sweep_stalls_no_saga_under_a_drawn_pessimistic_view() {
    for name in ["isolation-contention", "countermeasure-pessimistic_view"] {
        let cfg = SweepConfig {
            from: 0,
            seeds: SEEDS,
            swarm: true,
            jobs: 2,
            progress: false,
        };
        let summary = sweep(&lesson(name), &cfg).expect("valid");
        assert_eq!(summary.skipped, 0, "{name}");
        for (seed, repro) in &summary.failing {
            let t = &repro.file.toggles;
            let why = &summary.why[seed];
            assert!(
                !t.pessimistic_view || !why.iter().any(|w| stalled(w)),
                "{name} seed {seed} (reread value {}): {why:?}",
                t.reread_value
            );
        }
    }
    let base = lesson("isolation-contention");
    let drawn = (0..SEEDS)
        .filter(|seed| {
            let s = swarm_scenario(&base, *seed, Contracts::Kept).expect("valid");
            s.file.toggles.pessimistic_view
        })
        .count();
    assert!(
        (25..=80).contains(&drawn),
        "pessimistic view drawn on {drawn} of {SEEDS} seeds"
    );
}

/// Negative control, on the sweep's own path (the swarm's scenario per
/// seed, run by the sweep's [`Runner`]): drawing the pessimistic view
/// with reread value regardless, a reservation whose checked stock
/// another order took is refused on every retry after the pivot, so some
/// seeds must stall a saga, and each with both toggles on.
#[test]
fn a_swarm_ignoring_the_contract_stalls_sagas() {
    let base = lesson("isolation-contention");
    let mut seeds_stalled = 0;
    for seed in 0..SEEDS {
        let s = swarm_scenario(&base, seed, Contracts::Ignored).expect("valid");
        let mut stalls = false;
        for p in SAGAS {
            let mut spec = s.spec_for(p);
            spec.recording = false;
            let v = Runner::new(spec).run(seed).violations;
            stalls |= v.iter().any(|v| stalled(&v.invariant));
        }
        if stalls {
            let t = &s.file.toggles;
            assert!(t.pessimistic_view && t.reread_value, "seed {seed}");
            seeds_stalled += 1;
        }
    }
    assert!(seeds_stalled > 0, "no seed stalled without the contract");
}
