//! Explorer throughput.
//!
//! - Gray & Lamport's TwoPhase with 8 RMs (1,745,408 distinct states), on
//!   one and two threads: distinct states per second.
//! - The lab world: 2PC over three participants with one fault (the
//!   lesson scenarios/explore-2pc-three-participants.toml), states per second, and the
//!   peak memory per million states (from the process's peak resident size,
//!   read once after the runs; printed, not timed).
//!
//! Run with `cargo bench -p txlab-sim --bench explore`. (A side-by-side
//! run of stateright on the same TwoPhase model: `cargo bench --bench explore`
//! in the root package.)

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use txlab_sim::explore::{Options, TwoPhase, explore};
use txlab_sim::lab::explore_model::WorldModel;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;

const LESSON: &str = include_str!("../../scenarios/explore-2pc-three-participants.toml");

fn options(threads: usize) -> Options {
    Options {
        threads,
        ..Options::default()
    }
}

fn two_phase(c: &mut Criterion) {
    let model = TwoPhase::new(8);
    let states = explore(&model, &options(1), &|_| {}).distinct_states;
    assert_eq!(states, 1_745_408);
    let mut g = c.benchmark_group("two_phase_8_rms");
    g.sample_size(10);
    g.throughput(Throughput::Elements(states));
    for threads in [1, 2] {
        g.bench_function(format!("bfs_{threads}_threads"), |b| {
            b.iter(|| black_box(explore(&model, &options(threads), &|_| {})))
        });
    }
    g.finish();
}

fn lab_world(c: &mut Criterion) {
    let scenario = Scenario::parse(LESSON.as_bytes(), "lesson").expect("the lesson loads");
    let model = WorldModel::new(&scenario.spec_for(Protocol::TwoPc), 1);
    let states = explore(&model, &options(1), &|_| {}).distinct_states;
    let mut g = c.benchmark_group("lab_2pc_3_participants_1_fault");
    g.sample_size(10);
    g.throughput(Throughput::Elements(states));
    for threads in [1, 2] {
        g.bench_function(format!("bfs_{threads}_threads"), |b| {
            b.iter(|| black_box(explore(&model, &options(threads), &|_| {})))
        });
    }
    g.finish();
    if let Some(kib) = peak_rss_kib() {
        println!(
            "lab world: {states} distinct states; process peak resident {:.0} MiB, \
             {:.0} MiB per million states (an upper bound: it includes the TwoPhase runs)",
            kib as f64 / 1024.0,
            kib as f64 / 1024.0 / (states as f64 / 1e6)
        );
    }
}

/// The process's peak resident set (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

criterion_group!(benches, lab_world, two_phase);
criterion_main!(benches);
