//! A slow disk hides no bug. The issue that added write latency found
//! violations in all three protocols as soon as forced writes took time,
//! because a node answered from state that was not yet durable. These
//! tests sweep the `slow-disk` lesson with swarm faults and require a
//! clean result, and show that the same sweep catches the old engine
//! (the test-only switch that answers from volatile state).

use std::collections::BTreeMap;
use txlab::sweep::seed_scenario;
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::{Limits, Scenario};
use txlab_sim::protocols::Protocol;

/// Seeds per sweep: enough to reach crashes of the central node during
/// forced writes and duplicates during them, few enough for a debug build
/// in a few seconds.
const SEEDS: u64 = 300;

fn lesson() -> Scenario {
    txlab::source::load("slow-disk").expect("the slow-disk lesson")
}

/// Violations per (protocol, invariant), with the first seed of each,
/// over swarm seeds `0..seeds` of `base`.
fn swarm(base: &Scenario, seeds: u64, volatile: bool) -> BTreeMap<String, (u64, u64)> {
    let mut found: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for seed in 0..seeds {
        let s = seed_scenario(base, seed, true).expect("swarm scenarios are valid");
        for p in Protocol::ALL {
            let mut spec = s.spec_for(p);
            spec.recording = false;
            spec.bugs.answer_from_volatile_state = volatile;
            for v in run(&spec).report.violations {
                let e = found
                    .entry(format!("{} {}", p.name(), v.invariant))
                    .or_insert((0, seed));
                e.0 += 1;
            }
        }
    }
    found
}

fn describe(found: &BTreeMap<String, (u64, u64)>) -> String {
    found
        .iter()
        .map(|(k, (n, seed))| {
            format!("{k}: {n} (first: txlab sweep slow-disk --swarm --from {seed} --seeds 1)")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_swarm_sweep_with_a_slow_disk_finds_nothing() {
    let base = lesson();
    assert_eq!(base.file.network.write_latency_ms, 10);
    let found = swarm(&base, SEEDS, false);
    assert!(
        found.is_empty(),
        "violations with a slow disk:\n{}",
        describe(&found)
    );
}

#[test]
fn negative_control_answering_before_the_write_is_durable_is_caught() {
    // The same sweep over the engine's old behaviour: a node answers
    // inquiries, duplicates and redeliveries while its forced write is
    // still outstanding, and a crash takes the record back.
    let found = swarm(&lesson(), SEEDS, true);
    assert!(
        !found.is_empty(),
        "the sweep must catch reveal-before-durable"
    );
    println!("caught:\n{}", describe(&found));
}

/// The lesson with constant 5 ms messages and the given disk: every run
/// is the same, so latencies compare exactly.
fn constant(write_latency_ms: u64) -> Scenario {
    let mut f = lesson().file;
    f.network.latency = txlab_sim::lab::scenario::format::LatencyFile::Uniform {
        min_ms: 5,
        max_ms: 5,
    };
    f.network.write_latency_ms = write_latency_ms;
    Scenario::from_file(f, "slow-disk-constant", Limits::default()).unwrap()
}

fn latency_ms(s: &Scenario, p: Protocol) -> f64 {
    let r = run(&s.spec_for(p)).report;
    assert!(r.violations.is_empty(), "{}: {:?}", p.name(), r.violations);
    r.metrics.latency_ms.max
}

#[test]
fn each_forced_write_on_the_critical_path_adds_the_disk_latency() {
    let (fast, slow) = (constant(0), constant(10));
    // 2PC (R*): PREPARED at the participants, then COMMIT at the
    // coordinator, lie between the request and the answer; COMMITTED is
    // forced after the answer, off the path.
    let two_pc = latency_ms(&slow, Protocol::TwoPc) - latency_ms(&fast, Protocol::TwoPc);
    assert_eq!(two_pc, 20.0);
    // Sagas: at least the two writes of each of the four steps (the
    // orchestrator's log before the command, or the broker's append; the
    // service's local commit) are on the chain.
    for p in [Protocol::Orchestrated, Protocol::Choreographed] {
        let extra = latency_ms(&slow, p) - latency_ms(&fast, p);
        assert!(extra >= 80.0, "{}: {extra} ms", p.name());
    }
}

#[test]
fn sweep_can_put_any_lesson_on_a_slow_disk() {
    // The figures' tool: `--write-latency-ms` overrides the lesson's disk.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_txlab"))
        .args([
            "sweep",
            "happy-path",
            "--seeds",
            "3",
            "--swarm",
            "--jobs",
            "1",
        ])
        .args(["--write-latency-ms", "10"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    // Exit 0 (clean) or 1 (violations) both mean the flag was accepted.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{out}");
    assert!(out.contains("write latency 10 ms"), "{out}");
    // 2PC on a 10 ms disk cannot answer in under two forced writes.
    let p50: f64 = out
        .lines()
        .find(|l| l.trim_start().starts_with("2pc:"))
        .and_then(|l| l.split("latency p50 ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no 2pc latency in: {out}"));
    assert!(p50 >= 20.0, "{out}");
}
