//! Engine throughput: a fan-out relay over 64 nodes with 1% loss, 1%
//! duplication and uniform delay. Every node starts 16 relay chains (1,024 in flight); each
//! delivered message is forwarded to another node until its hop budget runs
//! out or the network loses it, about a million steps in all. The nodes do
//! almost nothing, so the time measured is the engine's own cost.
//!
//! Run with `cargo bench -p txlab-sim`. Besides criterion's timings it prints
//! events/s and the trace's bytes per event for the recorded case.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use txlab_sim::engine::{Ctx, Harness, Latency, Node, NodeId, TimerId, World};

const NODES: u32 = 64;
const CHAINS: u32 = 16;

#[derive(Clone)]
struct Relay {
    nodes: u32,
    hops: u32,
}

impl Node for Relay {
    type Msg = u32;
    type Record = ();
    type Obs = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for i in 1..=CHAINS {
            let to = NodeId((ctx.me().0 + i) % self.nodes);
            ctx.send(to, self.hops);
        }
    }

    fn on_message(&mut self, _from: NodeId, hops: u32, ctx: &mut Ctx<'_, Self>) {
        if hops > 0 {
            let to = NodeId((ctx.me().0.wrapping_mul(7) + hops) % self.nodes);
            ctx.send(to, hops - 1);
        }
    }

    fn on_timer(&mut self, _: TimerId, _: &mut Ctx<'_, Self>) {}
    fn on_recover(&mut self, _: &[()], _: &mut Ctx<'_, Self>) {}
}

fn world(hops: u32, recording: bool) -> World<Relay> {
    let mut h = Harness::new(42)
        .loss(0.01)
        .duplicate(0.01)
        .latency(Latency::uniform_ms(1, 20))
        .recording(recording);
    for i in 0..NODES {
        h = h.node(format!("n{i}"), Relay { nodes: NODES, hops });
    }
    h.build()
}

fn run(hops: u32, recording: bool) -> (u64, u64) {
    let mut w = world(hops, recording);
    w.run_until_quiescent(u64::MAX);
    (w.stats().steps, w.trace().hash())
}

fn bench(c: &mut Criterion) {
    // About a million steps; the throughput unit is steps (deliveries,
    // timers, faults), each of which writes one or more trace events.
    let hops = 1_000;
    let (steps, _) = run(hops, false);
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.throughput(Throughput::Elements(steps));
    g.bench_function("relay64_trace_off", |b| {
        b.iter(|| black_box(run(hops, false)))
    });
    g.bench_function("relay64_trace_on", |b| {
        b.iter(|| black_box(run(hops, true)))
    });
    g.finish();

    let mut w = world(hops, true);
    w.run_until_quiescent(u64::MAX);
    let events = w.trace().len();
    println!(
        "run: {} steps; trace: {events} events, {} heap bytes, {:.1} bytes/event",
        w.stats().steps,
        w.trace().heap_bytes(),
        w.trace().heap_bytes() as f64 / events as f64
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
