//! Sweep speed: `txlab sweep flight-sold-out --seeds 10000` (30,000 runs,
//! every checker on) on one thread, beside two floors:
//!
//! - the **bare world loop**: the same 30,000 runs of txlab's own worlds,
//!   built once per protocol, reset per seed and stepped to quiescence,
//!   with no checkers and no summary (also timed building a new world per
//!   run, as a sweep did before it reused them);
//! - a **bare 2PC loop** (a binary heap and ChaCha8, no txlab at all)
//!   running the same number of small simulations.
//!
//! After criterion's report it prints the **bare-loop ratio**: the sweep's
//! time per seed over the bare world loop's, so the ratio is the price of
//! judging and summarising (medians of 5 timed passes of each).
//!
//! Run with `cargo bench --bench sweep`.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::RngExt;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Instant;
use txlab::sweep::{SweepConfig, sweep};
use txlab_sim::engine::World;
use txlab_sim::engine::rng::{Stream, stream};
use txlab_sim::lab::run::{RunSpec, build_world, drive};
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::{LabNode, Protocol};

const SEEDS: u64 = 10_000;

/// One 2PC over four participants with 2–8 ms links: request, prepare,
/// votes, decision, acks and answer, each delivery drawn from ChaCha8 and
/// ordered by a binary heap. Returns the events handled.
fn bare_2pc(seed: u64) -> u64 {
    let mut rng = stream(seed, Stream::Network);
    // (time µs, sequence, kind, node)
    let mut heap: BinaryHeap<Reverse<(u64, u64, u8, u8)>> = BinaryHeap::new();
    let mut seq = 0;
    let mut push =
        |heap: &mut BinaryHeap<_>, rng: &mut rand_chacha::ChaCha8Rng, now, kind, node| {
            seq += 1;
            heap.push(Reverse((
                now + rng.random_range(2_000..=8_000u64),
                seq,
                kind,
                node,
            )));
        };
    push(&mut heap, &mut rng, 1_000, 0, 0);
    let (mut votes, mut acks, mut events) = (0, 0, 0);
    while let Some(Reverse((now, _, kind, node))) = heap.pop() {
        events += 1;
        match kind {
            // Request at the coordinator: prepare everyone.
            0 => (1..=4).for_each(|p| push(&mut heap, &mut rng, now, 1, p)),
            // Prepare at a participant: vote.
            1 => push(&mut heap, &mut rng, now, 2, node),
            // A vote: decide once all are in.
            2 => {
                votes += 1;
                if votes == 4 {
                    (1..=4).for_each(|p| push(&mut heap, &mut rng, now, 3, p));
                }
            }
            // Decision at a participant: ack.
            3 => push(&mut heap, &mut rng, now, 4, node),
            // An ack: answer the client once all are in.
            4 => {
                acks += 1;
                if acks == 4 {
                    push(&mut heap, &mut rng, now, 5, 0);
                }
            }
            _ => {}
        }
    }
    events
}

/// Each protocol's spec of `base`, trace not stored (as a sweep runs it).
fn specs(base: &Scenario) -> Vec<RunSpec> {
    Protocol::ALL
        .iter()
        .map(|p| {
            let mut spec = base.spec_for(*p);
            spec.recording = false;
            spec
        })
        .collect()
}

/// The bare world loop: worlds built once, reset per seed and stepped to
/// quiescence; nothing judged, nothing summed but the events.
fn bare_world_loop(specs: &mut [RunSpec], worlds: &mut [World<LabNode>]) -> u64 {
    let mut events = 0;
    for seed in 0..SEEDS {
        for (spec, world) in specs.iter_mut().zip(worlds.iter_mut()) {
            spec.seed = seed;
            world.reset(seed);
            drive(world, spec);
            events += world.stats().steps;
        }
    }
    events
}

/// The same runs, building a new world for each.
fn fresh_world_loop(specs: &mut [RunSpec]) -> u64 {
    let mut events = 0;
    for seed in 0..SEEDS {
        for spec in specs.iter_mut() {
            spec.seed = seed;
            let mut world = build_world(spec);
            drive(&mut world, spec);
            events += world.stats().steps;
        }
    }
    events
}

/// The median of 5 timed passes of `f`, in seconds.
fn median_of_5(mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[2]
}

fn bench(c: &mut Criterion) {
    let text = txlab::library::get("flight-sold-out").expect("lesson");
    let base = Scenario::parse(text.as_bytes(), "flight-sold-out").expect("valid");
    let cfg = SweepConfig {
        from: 0,
        seeds: SEEDS,
        swarm: false,
        jobs: 1,
        progress: false,
    };
    let mut specs = specs(&base);
    let mut worlds: Vec<World<LabNode>> = specs.iter().map(build_world).collect();
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.bench_function("flight_sold_out_10000_seeds_1_job", |b| {
        b.iter(|| black_box(sweep(&base, &cfg).expect("sweeps").seeds))
    });
    g.bench_function("bare_world_loop_10000_seeds", |b| {
        b.iter(|| black_box(bare_world_loop(&mut specs, &mut worlds)))
    });
    g.bench_function("fresh_world_loop_10000_seeds", |b| {
        b.iter(|| black_box(fresh_world_loop(&mut specs)))
    });
    g.bench_function("bare_2pc_loop_30000", |b| {
        b.iter(|| (0..3 * SEEDS).map(|s| black_box(bare_2pc(s))).sum::<u64>())
    });
    g.finish();
    let swept = median_of_5(|| {
        black_box(sweep(&base, &cfg).expect("sweeps"));
    });
    let bare = median_of_5(|| {
        black_box(bare_world_loop(&mut specs, &mut worlds));
    });
    let heap = median_of_5(|| {
        black_box((0..3 * SEEDS).map(bare_2pc).sum::<u64>());
    });
    let per_seed = |s: f64| s / SEEDS as f64 * 1e6;
    println!(
        "bare-loop ratio: sweep {:.1} µs/seed / bare world loop {:.1} µs/seed = {:.2} \
         (bare 2PC heap loop {:.1} µs/seed: {:.2}×), medians of 5",
        per_seed(swept),
        per_seed(bare),
        swept / bare,
        per_seed(heap),
        swept / heap
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
