//! The explorer side by side with stateright, and on the lab world.
//!
//! `cargo bench --bench explore` runs a plain timed main (no criterion:
//! each search takes seconds, and the comparison wants both checkers'
//! medians in one table):
//!
//! 1. Gray & Lamport's TwoPhase with N RMs in txlab's explorer and in
//!    stateright 0.31, breadth-first and depth-first, on one thread and on
//!    two. Both run the *same* model code: stateright is handed txlab's
//!    `TwoPhase` through a small adapter (its state, actions, successors
//!    and the consistency invariant), so the figures compare the checkers,
//!    not two encodings of the specification. Both must count the
//!    published distinct states (288 for 3 RMs, 8,832 for 5, 1,745,408
//!    for 8), or the bench stops.
//! 2. The lab world: 2PC over three participants with one crash (the
//!    lesson `explore-2pc-three-participants`), distinct states per second
//!    and peak heap bytes per distinct state, measured by a counting
//!    allocator.
//!
//! Medians of `TXLAB_BENCH_REPS` runs (default 5); `TXLAB_BENCH_RMS` sets
//! the largest N (default 8).

use stateright::{Checker, Model as SrModel, Property};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;
use txlab_sim::explore::{Model, Options, Strategy, TwoPhase, TwoPhaseAction, explore};
use txlab_sim::lab::explore_model::WorldModel;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;

/// The system allocator, counting the bytes live now and at the peak.
struct Counting;

/// Bytes allocated less bytes freed while counting was on (signed: a block
/// allocated before may be freed meanwhile), and the highest it reached.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// Counting is on only while the lab world is measured, so the TwoPhase
/// comparison pays nothing for it (stateright allocates more per state).
static COUNTING: AtomicBool = AtomicBool::new(false);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !COUNTING.load(Ordering::Relaxed) {
            // SAFETY: the caller's contract is `System`'s.
            return unsafe { System.alloc(layout) };
        }
        let size = layout.size() as isize;
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !COUNTING.load(Ordering::Relaxed) {
            // SAFETY: the caller's contract is `System`'s.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        if new_size > layout.size() {
            let more = (new_size - layout.size()) as isize;
            let live = LIVE.fetch_add(more, Ordering::Relaxed) + more;
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub((layout.size() - new_size) as isize, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// txlab's TwoPhase as a stateright model: the same state, actions and
/// successors, the consistency invariant as an `always` property.
struct Sr(TwoPhase);

impl SrModel for Sr {
    type State = u64;
    type Action = TwoPhaseAction;

    fn init_states(&self) -> Vec<u64> {
        Model::init_states(&self.0)
    }
    fn actions(&self, state: &u64, actions: &mut Vec<TwoPhaseAction>) {
        Model::actions(&self.0, state, actions);
    }
    fn next_state(&self, state: &u64, action: TwoPhaseAction) -> Option<u64> {
        Model::next_state(&self.0, state, &action)
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::always("consistent", |m: &Sr, s: &u64| {
            let mut broken = Vec::new();
            m.0.violations(s, false, &mut broken);
            broken.is_empty()
        })]
    }
}

/// One timed search: distinct states, wall-clock seconds and the CPU
/// seconds of the whole process (every thread). On a machine shared with
/// other work the CPU figure is the steadier one.
type Timed = (u64, f64, f64);

/// CPU seconds this process has used (user and system, all threads), from
/// /proc/self/stat in clock ticks of 1/100 s; 0 where there is no /proc.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is the
    // first, utime the 12th and stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

/// Time `search`, which returns the distinct states it counted.
fn time(search: impl FnOnce() -> u64) -> Timed {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let states = search();
    (states, wall.elapsed().as_secs_f64(), cpu_seconds() - cpu)
}

/// A named search to time.
type Run = (&'static str, Box<dyn Fn() -> Timed>);

fn txlab(rms: u32, strategy: Strategy, threads: usize) -> Timed {
    let options = Options {
        strategy,
        threads,
        ..Options::default()
    };
    time(|| {
        let r = explore(&TwoPhase::new(rms), &options, &|_| {});
        assert!(r.violations.is_empty() && r.complete);
        r.distinct_states
    })
}

fn stateright(rms: u32, dfs: bool, threads: usize) -> Timed {
    time(|| {
        let builder = Sr(TwoPhase::new(rms)).checker().threads(threads);
        let states = if dfs {
            let c = builder.spawn_dfs().join();
            c.assert_properties();
            c.unique_state_count()
        } else {
            let c = builder.spawn_bfs().join();
            c.assert_properties();
            c.unique_state_count()
        };
        states as u64
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Run `f` `reps` times; the distinct states (the same every time) and
/// the median wall and CPU seconds.
fn timed(reps: usize, mut f: impl FnMut() -> Timed) -> Timed {
    let runs: Vec<Timed> = (0..reps).map(|_| f()).collect();
    assert!(runs.iter().all(|r| r.0 == runs[0].0), "counts differ");
    (
        runs[0].0,
        median(runs.iter().map(|r| r.1).collect()),
        median(runs.iter().map(|r| r.2).collect()),
    )
}

/// States per second, or a dash when the time is below the clock's grain.
fn rate(states: u64, secs: f64) -> String {
    if secs < 0.005 {
        "-".into()
    } else {
        format!("{:.0}", states as f64 / secs)
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn two_phase(reps: usize, max_rms: u32) {
    println!("TwoPhase: distinct states/s, median of {reps} (higher is better)");
    println!(
        "{:>4} {:>10}  {:>26} {:>9} {:>12} {:>9} {:>12}",
        "RMs", "states", "checker", "wall s", "states/s", "CPU s", "per CPU s"
    );
    for rms in [3, 5, max_rms] {
        let expected = 4u64.pow(rms) + 2u64.pow(rms) + 6u64.pow(rms);
        let runs: Vec<Run> = vec![
            (
                "txlab bfs, 1 thread",
                Box::new(move || txlab(rms, Strategy::Bfs, 1)),
            ),
            (
                "txlab bfs, 2 threads",
                Box::new(move || txlab(rms, Strategy::Bfs, 2)),
            ),
            (
                "txlab dfs, 1 thread",
                Box::new(move || txlab(rms, Strategy::Dfs, 1)),
            ),
            (
                "stateright bfs, 1 thread",
                Box::new(move || stateright(rms, false, 1)),
            ),
            (
                "stateright bfs, 2 threads",
                Box::new(move || stateright(rms, false, 2)),
            ),
            (
                "stateright dfs, 1 thread",
                Box::new(move || stateright(rms, true, 1)),
            ),
            (
                "stateright dfs, 2 threads",
                Box::new(move || stateright(rms, true, 2)),
            ),
        ];
        for (name, run) in runs {
            let (states, wall, cpu) = timed(reps, run);
            assert_eq!(states, expected, "{name}: {rms} RMs");
            println!(
                "{rms:>4} {states:>10}  {name:>26} {wall:>9.3} {:>12} {cpu:>9.2} {:>12}",
                rate(states, wall),
                rate(states, cpu)
            );
        }
    }
}

fn lab_world(reps: usize) {
    let text = include_str!("../scenarios/explore-2pc-three-participants.toml");
    let scenario = Scenario::parse(text.as_bytes(), "explore-2pc-three-participants").unwrap();
    let spec = scenario.spec_for(Protocol::TwoPc);
    println!("\nLab world: 2PC over three participants, median of {reps}");
    for (label, crashes_only) in [("one crash", true), ("one fault", false)] {
        let model = WorldModel::new(&spec, 1);
        let model = if crashes_only {
            model.crashes_only()
        } else {
            model
        };
        let mut peaks = Vec::new();
        let (states, wall, cpu) = timed(reps, || {
            let before = LIVE.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            COUNTING.store(true, Ordering::Relaxed);
            let t = time(|| explore(&model, &Options::default(), &|_| {}).distinct_states);
            COUNTING.store(false, Ordering::Relaxed);
            peaks.push(PEAK.load(Ordering::Relaxed) - before);
            t
        });
        let peak = peaks.iter().max().copied().unwrap_or(0).max(0);
        println!(
            "  {label:<10} {states:>8} states, wall {wall:.3} s ({} states/s), CPU {cpu:.2} s ({} states/s), peak heap {:.0} bytes/state",
            rate(states, wall),
            rate(states, cpu),
            peak as f64 / states as f64
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not and
    // wants a quick smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let reps = if full { env("TXLAB_BENCH_REPS", 5) } else { 1 };
    let max_rms = if full {
        env("TXLAB_BENCH_RMS", 8) as u32
    } else {
        5
    };
    two_phase(reps, max_rms);
    if full {
        lab_world(reps.min(3));
    }
}
