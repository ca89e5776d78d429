//! Sweep speed: `txlab sweep flight-sold-out --seeds 10000` (30,000 runs,
//! every checker on) on one thread, beside a bare 2PC loop (a binary heap
//! and ChaCha8, no checkers, no trace) running the same number of small
//! simulations: the floor a sweep's per-run cost is compared with.
//!
//! Run with `cargo bench --bench sweep`.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::RngExt;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use txlab::sweep::{SweepConfig, sweep};
use txlab_sim::engine::rng::{Stream, stream};
use txlab_sim::lab::scenario::Scenario;

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
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.bench_function("bare_2pc_loop_30000", |b| {
        b.iter(|| (0..3 * SEEDS).map(|s| black_box(bare_2pc(s))).sum::<u64>())
    });
    g.bench_function("flight_sold_out_10000_seeds_1_job", |b| {
        b.iter(|| black_box(sweep(&base, &cfg).expect("sweeps").seeds))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
