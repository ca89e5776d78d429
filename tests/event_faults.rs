//! Faults tied to events and message faults: what they do (derived from
//! THEORY.md, not from printed runs), that a file with them round-trips
//! through TOML to the same runs, and that a bad word or node is an error
//! with its line and column.

use txlab_sim::engine::{DropReason, EventKind, NodeId, World};
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::format::LatencyFile;
use txlab_sim::lab::scenario::{Limits, Scenario};
use txlab_sim::protocols::vocabulary::message_kind;
use txlab_sim::protocols::{LabNode, Protocol};

const COORDINATOR: NodeId = NodeId(0);

fn happy_path_with(faults: &str) -> Scenario {
    let text = txlab::library::get("happy-path").unwrap();
    let text = format!("{text}\n{faults}");
    Scenario::parse(text.as_bytes(), "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The kind word of every message `from` sent, in order, up to trace
/// index `until`.
fn sent_kinds(w: &World<LabNode>, from: NodeId, until: usize) -> Vec<&'static str> {
    let t = w.trace();
    t.events()[..until]
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Send { msg, from: f, .. } if f == from => t.message(msg),
            _ => None,
        })
        .map(|m| message_kind(m).0)
        .collect()
}

fn crash_index(w: &World<LabNode>, node: NodeId) -> usize {
    w.trace()
        .events()
        .iter()
        .position(|e| e.kind == EventKind::Crash { node })
        .expect("the node crashed")
}

fn forced_writes_before(w: &World<LabNode>, node: NodeId, until: usize) -> usize {
    w.trace().events()[..until]
        .iter()
        .filter(|e| e.kind == EventKind::Persist { node, forced: true })
        .count()
}

/// The lesson on a disk that takes `write_ms` per forced write.
fn commit_lesson(write_ms: u64, old_absolute_crash: bool) -> Scenario {
    let mut f = txlab::source::load("coordinator-crash-after-commit-logged")
        .unwrap()
        .file;
    f.network.write_latency_ms = write_ms;
    if old_absolute_crash {
        // The lesson as it was: the 2PC crash at a fixed 18 ms.
        let crash = &mut f.faults[0];
        crash.after = None;
        crash.delay_ms = None;
        crash.at_ms = 18;
    }
    Scenario::from_file(f, "lesson", Limits::default()).unwrap()
}

#[test]
fn the_commit_lesson_crashes_after_the_commit_record_on_any_disk() {
    for write_ms in [0, 3, 10, 25] {
        let s = commit_lesson(write_ms, false);
        let r = run(&s.spec_for(Protocol::TwoPc));
        let crash = crash_index(&r.world, COORDINATOR);
        // Presumed abort: the coordinator's only forced write is COMMIT.
        assert_eq!(forced_writes_before(&r.world, COORDINATOR, crash), 1);
        // The client may be told (the decision is durable); no
        // participant is.
        let before = sent_kinds(&r.world, COORDINATOR, crash);
        assert!(before.contains(&"prepare"), "{before:?}");
        assert!(!before.contains(&"commit"), "{before:?}");
        // THEORY: the decision is durable, recovery resends it, all commit.
        assert_eq!(r.report.outcomes["committed"], 1, "disk {write_ms} ms");
        assert_eq!(r.report.final_state["payment"]["sam"], 900);
        assert!(r.report.violations.is_empty(), "{:?}", r.report.violations);
    }
}

#[test]
fn negative_control_the_absolute_crash_time_misses_the_premise_on_a_slow_disk() {
    // With 10 ms forced writes the votes come later and COMMIT is not yet
    // logged at 18 ms: the old lesson crashed a coordinator that had
    // decided nothing, so presumed abort aborts.
    let s = commit_lesson(10, true);
    let r = run(&s.spec_for(Protocol::TwoPc));
    let crash = crash_index(&r.world, COORDINATOR);
    assert_eq!(forced_writes_before(&r.world, COORDINATOR, crash), 0);
    assert_eq!(r.report.outcomes["committed"], 0);
}

#[test]
fn a_crash_with_no_delay_loses_what_waited_for_the_write() {
    // delay_ms = 0: the coordinator dies as its COMMIT becomes durable,
    // before the answer to the client and the COMMIT messages that wait
    // for that write; recovery sends COMMIT (the record survives).
    for write_ms in [0, 10] {
        let mut f = commit_lesson(write_ms, false).file;
        f.faults[0].delay_ms = None;
        f.timing.decision_send_delay_ms = None;
        let s = Scenario::from_file(f, "t", Limits::default()).unwrap();
        let r = run(&s.spec_for(Protocol::TwoPc));
        let crash = crash_index(&r.world, COORDINATOR);
        let crash_time = r.world.trace().events()[crash].time;
        assert_eq!(forced_writes_before(&r.world, COORDINATOR, crash), 1);
        let before = sent_kinds(&r.world, COORDINATOR, crash);
        assert!(before.iter().all(|k| *k == "prepare"), "{before:?}");
        let last_persist = r.world.trace().events()[..crash]
            .iter()
            .rev()
            .find(|e| matches!(e.kind, EventKind::Persist { .. }))
            .unwrap();
        assert_eq!(last_persist.time, crash_time, "the same instant");
        assert_eq!(r.report.outcomes["committed"], 1);
    }
}

fn two_pc(s: &Scenario) -> txlab_sim::lab::Run {
    run(&s.spec_for(Protocol::TwoPc))
}

fn injected_drops(w: &World<LabNode>) -> Vec<(NodeId, NodeId, &'static str)> {
    let t = w.trace();
    t.events()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Drop {
                msg,
                from,
                to,
                reason: DropReason::Injected,
            } => Some((from, to, message_kind(t.message(msg)?).0)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_dropped_prepare_means_no_vote_and_an_abort() {
    let s = happy_path_with(
        "[[faults]]\nprotocol = \"2pc\"\ndrop = { message = \"prepare\", to = \"payment\" }\n",
    );
    let r = two_pc(&s);
    let payment = NodeId(4);
    assert_eq!(
        injected_drops(&r.world),
        [(COORDINATOR, payment, "prepare")]
    );
    // THEORY: a missing vote times out into abort; nothing is charged.
    assert_eq!(r.report.outcomes["aborted"], 1);
    assert_eq!(r.report.final_state["payment"]["sam"], 1000);
    // The sagas never see the fault (it is for 2PC only).
    for p in [Protocol::Orchestrated, Protocol::Choreographed] {
        assert_eq!(run(&s.spec_for(p)).report.outcomes["completed"], 1);
    }
}

#[test]
fn nth_counts_matches_in_send_order() {
    let s = happy_path_with("[[faults]]\ndrop = { message = \"prepare\", nth = 2 }\n");
    let r = two_pc(&s);
    // The coordinator prepares its participants in order: the second is
    // the hotel (node 2).
    assert_eq!(
        injected_drops(&r.world),
        [(COORDINATOR, NodeId(2), "prepare")]
    );
}

#[test]
fn a_late_vote_aborts_and_a_duplicated_commit_changes_nothing() {
    // The vote timeout is 100 ms: a vote 200 ms late is too late.
    let late = happy_path_with(
        "[[faults]]\ndelay = { message = \"vote yes\", from = \"flight\", ms = 200 }\n",
    );
    assert_eq!(two_pc(&late).report.outcomes["aborted"], 1);
    // 2PC participants keep state by transaction id: a second COMMIT is
    // acknowledged, never applied twice.
    let dup =
        happy_path_with("[[faults]]\nduplicate = { message = \"commit\", to = \"payment\" }\n");
    let r = two_pc(&dup);
    assert_eq!(r.report.metrics.messages_duplicated, 1);
    assert_eq!(r.report.outcomes["committed"], 1);
    assert_eq!(r.report.final_state["payment"]["sam"], 900);
    assert!(r.report.violations.is_empty(), "{:?}", r.report.violations);
}

#[test]
fn a_duplicated_charge_without_idempotency_is_caught() {
    // Negative control for the duplicate action: the orchestrated saga's
    // payment service without idempotency applies a repeated charge.
    let s = happy_path_with(
        "[toggles]\nidempotency = false\n\
         [[faults]]\nduplicate = { message = \"action\", to = \"payment\" }\n",
    );
    let r = run(&s.spec_for(Protocol::Orchestrated));
    assert_eq!(r.report.final_state["payment"]["sam"], 800);
    assert!(
        r.report
            .violations
            .iter()
            .any(|v| v.invariant == "at_most_once"),
        "{:?}",
        r.report.violations
    );
}

const EVERYTHING: &str = r#"
[[faults]]
protocol = "2pc"
after = { message = "prepare", to = "hotel" }
crash = "hotel"

[[faults]]
protocol = "2pc"
after = { message = "prepare", to = "hotel" }
delay_ms = 40.125
restart = "hotel"

[[faults]]
after = { message = "request", event = "sent" }
delay_ms = 3
partition = { name = "cut", a = ["car"] }

[[faults]]
after = { node = "car", event = "forced_write", record = "prepared" }
delay_ms = 30
heal = "cut"

[[faults]]
drop = { message = "answer", nth = 1 }

[[faults]]
duplicate = { message = "deliver", from = "broker", to = "flight", nth = 2 }
delay_ms = 0.5

[[faults]]
protocol = "orchestrated"
delay = { message = "reply", from = "car", ms = 7 }
"#;

#[test]
fn event_tied_faults_round_trip_and_replay() {
    let s = happy_path_with(EVERYTHING);
    let text = s.to_toml();
    let again = Scenario::parse(text.as_bytes(), "again.toml").unwrap();
    assert_eq!(s.file, again.file);
    assert_eq!(s.spec.planned, again.spec.planned);
    let mut changed = 0;
    let plain = happy_path_with("");
    for p in Protocol::ALL {
        let (a, b) = (run(&s.spec_for(p)), run(&again.spec_for(p)));
        assert_eq!(a.report.trace_hash, b.report.trace_hash, "{}", p.name());
        let base = run(&plain.spec_for(p)).report.trace_hash;
        changed += usize::from(base != a.report.trace_hash);
    }
    // Every protocol met at least one of the faults.
    assert_eq!(changed, 3);
}

fn error_of(faults: &str) -> String {
    let text = txlab::library::get("happy-path").unwrap();
    let lines = text.lines().count() + 1;
    let text = format!("{text}\n{faults}");
    let e = Scenario::parse(text.as_bytes(), "t.toml").expect_err(faults);
    // Positions point into the appended block.
    let e = e.to_string();
    let line: usize = e
        .split(':')
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    assert!(line > lines, "{e}");
    e
}

#[test]
fn bad_words_and_nodes_are_errors_with_line_and_column() {
    let e = error_of("[[faults]]\nafter = { message = \"prepar\" }\ncrash = \"car\"\n");
    assert!(e.contains("unknown message kind \"prepar\""), "{e}");
    assert!(e.contains("prepare"), "lists the known words: {e}");
    // A 2PC participant writes "committed"; "commit" is its coordinator's
    // record (and a choreographed service's, so the protocol matters).
    let e = error_of(
        "[[faults]]\nprotocol = \"2pc\"\nafter = { node = \"payment\", record = \"commit\" }\n\
         crash = \"car\"\n",
    );
    assert!(e.contains("unknown record \"commit\" for this node"), "{e}");
    // With the protocol named, a saga word is unknown to 2PC.
    let e = error_of("[[faults]]\nprotocol = \"2pc\"\ndrop = { message = \"reply\" }\n");
    assert!(e.contains("faults[0].drop.message"), "{e}");
    let e = error_of(
        "[[faults]]\nafter = { node = \"car\", record = \"prepared\", event = \"fsync\" }\n\
         crash = \"car\"\n",
    );
    assert!(e.contains("unknown event \"fsync\""), "{e}");
    let e = error_of("[[faults]]\nduplicate = { message = \"ack\", to = \"bank\" }\n");
    assert!(e.contains("unknown node \"bank\""), "{e}");
    let e = error_of("[[faults]]\ndrop = { message = \"ack\", nth = 0 }\n");
    assert!(e.contains("nth counts from 1"), "{e}");
    let e = error_of("[[faults]]\nat_ms = 5\ndrop = { message = \"ack\" }\n");
    assert!(e.contains("message fault"), "{e}");
    let e = error_of("[[faults]]\ndelay = { message = \"ack\" }\n");
    assert!(e.contains("a delay needs ms"), "{e}");
    let e = error_of("[[faults]]\nprotocol = \"3pc\"\ncrash = \"car\"\n");
    assert!(e.contains("unknown protocol"), "{e}");
}

#[test]
fn the_cli_refuses_a_bad_word_with_exit_2_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let text = txlab::library::get("happy-path").unwrap();
    std::fs::write(
        &path,
        format!("{text}\n[[faults]]\ndrop = {{ message = \"prepare\", from = \"bank\" }}\n"),
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_txlab"))
        .args(["run", path.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml:"), "{err}");
    assert!(err.contains("unknown node \"bank\""), "{err}");
    assert!(o.stdout.is_empty(), "nothing half-run");
}

#[test]
fn a_saved_latency_change_keeps_the_lesson_premise() {
    // Slower links move every event; the tied crash moves with them.
    let mut f = commit_lesson(0, false).file;
    f.network.latency = LatencyFile::Uniform {
        min_ms: 9,
        max_ms: 9,
    };
    let s = Scenario::from_file(f, "t", Limits::default()).unwrap();
    let r = two_pc(&s);
    let crash = crash_index(&r.world, COORDINATOR);
    assert_eq!(forced_writes_before(&r.world, COORDINATOR, crash), 1);
    assert_eq!(r.report.outcomes["committed"], 1);
}
