//! The `txlab` binary: exit codes, bad input, exports and sweeps.

use std::path::Path;
use std::process::{Command, Output};

fn txlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_txlab"))
        .args(args)
        .output()
        .expect("run txlab")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

const VALID: &str = r#"
name = "tiny"
seed = 5

[[services]]
name = "car"
resources = { cars = 3 }

[[services]]
name = "payment"
resources = { sam = 500 }

[[steps]]
name = "book car"
service = "car"
resource = "cars"
amount = 1

[[steps]]
name = "charge card"
service = "payment"
resource = "sam"
amount = 100
"#;

/// Write `text` to a scenario file and run `txlab run` on it.
fn run_text(dir: &Path, text: &[u8]) -> Output {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    txlab(&["run", path.to_str().unwrap()])
}

fn assert_bad(dir: &Path, text: &str, needles: &[&str]) {
    let o = run_text(dir, text.as_bytes());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "exit 2 for {needles:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "message {err:?} should contain {n:?}");
    }
    assert!(
        stdout(&o).is_empty(),
        "nothing printed on stdout: {}",
        stdout(&o)
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn a_valid_file_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_text(dir.path(), VALID.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("committed 1"));
}

#[test]
fn syntax_and_type_errors_give_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    // A typo in a field name: line 15 is `servce = "car"`.
    let typo = VALID.replacen("service = \"car\"", "servce = \"car\"", 1);
    assert_bad(dir.path(), &typo, &["s.toml:15:1", "servce"]);
    // A wrong type on line 23.
    let wrong_type = VALID.replace("amount = 100", "amount = \"lots\"");
    assert_bad(
        dir.path(),
        &wrong_type,
        &[
            "s.toml:23:10",
            "wrong kind of value",
            "expected a whole number",
        ],
    );
    assert_bad(dir.path(), "name = [", &["s.toml:1:"]);
}

/// `[[question]]` (asked by the UI's quiz mode): `run` ignores a valid one
/// and refuses a wrong one with the question's line and column, exit 2.
#[test]
fn questions_are_ignored_by_run_and_checked_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let q = "[[question]]\non = \"decision\"\nprotocol = \"2pc\"\nprompt = \"Commit?\"\n\
             choices = [\"yes\", \"no\"]\nanswer = 0\nexplain = \"Nothing failed.\"\n";
    let with = run_text(d, format!("{VALID}{q}").as_bytes());
    let without = run_text(d, VALID.as_bytes());
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
    assert_eq!(
        stdout(&with),
        stdout(&without),
        "questions change nothing in a run"
    );
    // VALID ends on line 23, so the question starts on line 24.
    let bad = |from: &str, to: &str| format!("{VALID}{}", q.replace(from, to));
    assert_bad(
        d,
        &bad("answer = 0", "answer = 2"),
        &["s.toml:24:", "not among the 2 choices"],
    );
    assert_bad(d, &bad("\"2pc\"", "\"3pc\""), &["s.toml:26:12", "3pc"]);
    assert_bad(
        d,
        &bad(", \"no\"", ""),
        &["s.toml:24:", "at least two choices"],
    );
    let n = "[[narration]]\nat_ms = 1\nprotocol = \"sagas\"\ntext = \"x\"\n";
    assert_bad(d, &format!("{VALID}{n}"), &["s.toml:26:12", "sagas"]);
}

#[test]
fn semantic_errors_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_bad(
        d,
        &VALID.replace("service = \"payment\"", "service = \"paymnt\""),
        &["steps[1].service", "unknown service \"paymnt\""],
    );
    assert_bad(
        d,
        &format!("{VALID}\n[network]\nloss = 1.5\n"),
        &["network.loss", "outside 0..1"],
    );
    assert_bad(
        d,
        &format!(
            "{VALID}\n[[faults]]\nat_ms = 50\ncrash = \"car\"\n[[faults]]\nat_ms = 10\nrestart = \"car\"\n"
        ),
        &["faults[1]", "restart"],
    );
    assert_bad(
        d,
        &format!(
            "{VALID}\n[[faults]]\nat_ms = 50\npartition = {{ name = \"p\", a = [\"car\"] }}\n[[faults]]\nat_ms = 10\nheal = \"p\"\n"
        ),
        &["faults[1]", "before the partition"],
    );
    assert_bad(
        d,
        &format!("{VALID}\n[[faults]]\nat_ms = 5\ncrash = \"truck\"\n"),
        &["faults[0].crash", "unknown node"],
    );
    let no_steps = format!("steps = []\n{}", VALID.split("[[steps]]").next().unwrap());
    assert_bad(d, &no_steps, &["workflow is empty"]);
    let two_pivots = VALID
        .replace("amount = 1\n", "amount = 1\nkind = \"pivot\"\n")
        .replace("amount = 100\n", "amount = 100\nkind = \"pivot\"\n");
    assert_bad(d, &two_pivots, &["pivot"]);
    assert_bad(
        d,
        &format!("{VALID}\n[workload]\ntransactions = 10000000\n"),
        &["workload.transactions", "maximum"],
    );
    // Amounts that could overflow the ledger's arithmetic.
    let huge = VALID.replace("amount = 100", "amount = 9223372036854775807");
    assert_bad(d, &huge, &["steps[1].amount", "0..="]);
    let negative = VALID.replace("sam = 500", "sam = -5");
    assert_bad(d, &negative, &["services[1].resources", "outside"]);
}

#[test]
fn empty_binary_enormous_and_missing_files_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = run_text(d, b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty"));
    let o = run_text(d, &[0x7f, b'E', b'L', b'F', 0, 1, 2, 0xff]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("binary"));
    let huge = format!("{VALID}\n# {}\n", "x".repeat(3 << 20));
    let o = run_text(d, huge.as_bytes());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("maximum"), "{}", stderr(&o));
    let o = txlab(&["run", "no-such-lesson"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("txlab list"));
    let o = txlab(&["run", "happy-path", "--protocol", "3pc"]);
    assert_eq!(o.status.code(), Some(2), "a bad flag is bad input");
}

#[test]
fn exit_codes_follow_violations_and_expectations() {
    assert_eq!(txlab(&["run", "happy-path"]).status.code(), Some(0));
    let dup = txlab(&["run", "duplicate-payment"]);
    assert_eq!(dup.status.code(), Some(1), "violations found");
    assert!(stdout(&dup).contains("at_most_once"));
    let check = txlab(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let n = txlab::library::LIBRARY.len();
    assert!(stdout(&check).contains(&format!("{n} passed, 0 failed")));
    let dir = tempfile::tempdir().unwrap();
    let wrong = format!("{VALID}\n[expect.2pc]\noutcomes = {{ aborted = 1 }}\n");
    let path = dir.path().join("wrong.toml");
    std::fs::write(&path, wrong).unwrap();
    let o = txlab(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("expected 1 aborted, got 0"));
}

#[test]
fn json_report_keeps_its_field_names() {
    let o = txlab(&["run", "flight-sold-out", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scenario"], "flight-sold-out");
    assert!(v["seed"].is_u64());
    let protocols = v["protocols"].as_array().unwrap();
    let names: Vec<&str> = protocols
        .iter()
        .map(|p| p["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["2pc", "orchestrated", "choreographed"]);
    for p in protocols {
        assert!(p["trace_hash"].is_string());
        for o in [
            "committed",
            "aborted",
            "blocked",
            "completed",
            "compensated",
            "stuck",
        ] {
            assert!(p["outcomes"][o].is_u64(), "outcomes.{o}");
        }
        let m = &p["metrics"];
        for k in [
            "messages_sent",
            "messages_delivered",
            "messages_dropped",
            "messages_duplicated",
            "forced_log_writes",
            "lock_hold_ms",
            "in_doubt_ms",
            "retries",
            "compensations",
            "anomalies",
        ] {
            assert!(m[k].is_number(), "metrics.{k}");
        }
        for k in ["p50", "p99", "max"] {
            assert!(m["latency_ms"][k].is_number());
        }
        assert!(p["violations"].is_array());
    }
    let dup = txlab(&[
        "run",
        "duplicate-payment",
        "--format",
        "json",
        "--protocol",
        "orchestrated",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&dup.stdout).unwrap();
    let viol = &v["protocols"][0]["violations"][0];
    for k in ["invariant", "tx", "trace_index", "message"] {
        assert!(!viol[k].is_null(), "violations[].{k}");
    }
}

#[test]
fn exports_are_well_formed() {
    for p in ["2pc", "orchestrated", "choreographed"] {
        let m = stdout(&txlab(&[
            "export",
            "coordinator-crash-after-prepare",
            "--format",
            "mermaid",
            "--protocol",
            p,
        ]));
        assert!(m.starts_with("sequenceDiagram\n"));
        for node in ["car", "hotel", "flight", "payment"] {
            assert!(m.contains(&format!("as {node}")), "{p}: names {node}");
        }
        assert!(m.contains("CRASH"));
        let c = txlab(&[
            "export",
            "coordinator-crash-after-prepare",
            "--format",
            "chrome",
            "--protocol",
            p,
        ]);
        let v: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
        assert!(v["traceEvents"].as_array().is_some_and(|a| a.len() > 10));
        let j = stdout(&txlab(&[
            "export",
            "coordinator-crash-after-prepare",
            "--format",
            "jsonl",
            "--protocol",
            p,
        ]));
        let mut n = 0;
        for line in j.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("every line parses");
            assert!(v["event"].is_string() && v["time_us"].is_u64());
            n += 1;
        }
        assert!(n > 20);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.mmd");
    let o = txlab(&[
        "export",
        "happy-path",
        "--format",
        "mermaid",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("sequenceDiagram")
    );
}

#[test]
fn a_sweep_repro_reproduces_the_violation_and_trace_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("repros");
    let o = txlab(&[
        "sweep",
        "duplicate-payment",
        "--seeds",
        "4",
        "--from",
        "10",
        "--swarm",
        "--jobs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("events/s"));
    let repro = out.join("duplicate-payment-seed-10.toml");
    assert!(repro.is_file(), "{}", stdout(&o));
    // The sweep's own run of that seed, in process, against the binary's
    // run of the repro file.
    let base = txlab::source::load("duplicate-payment").unwrap();
    let seeded = txlab::sweep::seed_scenario(&base, 10, true).unwrap();
    let want: Vec<String> = txlab_sim::protocols::Protocol::ALL
        .iter()
        .map(|p| txlab_sim::lab::run(&seeded.spec_for(*p)).report.trace_hash)
        .collect();
    let r = txlab(&["run", repro.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.status.code(), Some(1), "the violation is reproduced");
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let got: Vec<String> = v["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["trace_hash"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    assert!(
        v["protocols"][1]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["invariant"] == "at_most_once")
    );
}

#[test]
fn list_shows_every_lesson_and_the_main_job_prints_a_report() {
    let l = stdout(&txlab(&["list"]));
    assert_eq!(
        l.lines().filter(|x| !x.starts_with(' ')).count(),
        txlab::library::LIBRARY.len()
    );
    let o = txlab(&[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("flight-sold-out"));
    assert!(stdout(&o).contains("orchestrated"));
}

#[test]
fn late_arrivals_extend_the_default_horizon() {
    // The last booking arrives at 100 s: with a horizon of only 30 s past
    // the last fault it would never start and read as unfinished.
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{VALID}\n[workload]\ntransactions = 2\ninterval_ms = 100000\n");
    let o = run_text(dir.path(), text.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("committed 2"), "{}", stdout(&o));
}

#[test]
fn a_sweep_can_shrink_its_first_failure_to_a_minimal_repro() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("repros");
    let o = txlab(&[
        "sweep",
        "lost-event-no-outbox",
        "--seeds",
        "12",
        "--swarm",
        "--shrink",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("shrunk seed"), "{}", stdout(&o));
    let min = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-min.toml"))
        .expect("a -min.toml repro");
    let original =
        std::fs::read_to_string(min.to_string_lossy().replace("-min.toml", ".toml")).unwrap();
    let small = std::fs::read_to_string(&min).unwrap();
    let count = |t: &str| t.matches("[[faults]]").count();
    assert!(
        count(&small) <= count(&original),
        "no more faults than the repro"
    );
    let r = txlab(&["run", min.to_str().unwrap()]);
    assert_eq!(
        r.status.code(),
        Some(1),
        "the shrunk repro still fails:\n{}",
        stdout(&r)
    );
}

/// `txlab sweep ... --format json` for `seeds` seeds from `from`, into `dir`.
fn sweep_json(dir: &Path, lesson: &str, from: u64, seeds: u64) -> (serde_json::Value, String) {
    let out = dir.join("repros");
    let o = txlab(&[
        "sweep",
        lesson,
        "--from",
        &from.to_string(),
        "--seeds",
        &seeds.to_string(),
        "--swarm",
        "--jobs",
        "2",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let path = dir.join(format!("{lesson}-{from}.json"));
    std::fs::write(&path, &o.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a JSON summary");
    (v, path.to_str().unwrap().to_string())
}

/// The summary without its wall-clock time (the only field a merge cannot
/// reproduce).
fn without_time(mut v: serde_json::Value) -> serde_json::Value {
    v.as_object_mut().unwrap().remove("wall_seconds");
    v
}

#[test]
fn four_merged_shards_equal_one_sweep_over_the_same_seeds() {
    let dir = tempfile::tempdir().unwrap();
    // Swarm mode on the duplicate payment: violations in the sagas, and a
    // spread of outcomes and latencies to merge.
    let (whole, _) = sweep_json(dir.path(), "duplicate-payment", 0, 40);
    let shards: Vec<String> = [30, 0, 20, 10]
        .iter()
        .map(|from| sweep_json(dir.path(), "duplicate-payment", *from, 10).1)
        .collect();
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    let o = txlab(&args);
    assert_eq!(
        o.status.code(),
        whole["violating_seed_count"]
            .as_u64()
            .map(|n| (n > 0) as i32)
    );
    let merged: serde_json::Value = serde_json::from_slice(&o.stdout).expect("merged JSON");
    // Something to compare: violations were found and latencies recorded.
    assert!(
        whole["violating_seeds"].as_array().unwrap().len() > 1,
        "{whole}"
    );
    assert!(
        !whole["protocols"]["orchestrated"]["latency_histogram"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(merged["seed_ranges"], serde_json::json!([[0, 40]]));
    assert_eq!(without_time(merged), without_time(whole));
}

#[test]
fn merge_refuses_other_scenarios_versions_and_overlaps() {
    let dir = tempfile::tempdir().unwrap();
    let (_, a) = sweep_json(dir.path(), "flight-sold-out", 0, 3);
    let (_, b) = sweep_json(dir.path(), "happy-path", 3, 3);
    let (_, again) = sweep_json(dir.path(), "flight-sold-out", 2, 3);
    let o = txlab(&["merge", &a, &b]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the scenario is happy-path"),
        "{}",
        stderr(&o)
    );
    let o = txlab(&["merge", &a, &again]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("seeds 2..3"), "{}", stderr(&o));
    // Another txlab version: the same file with its version changed.
    let text = std::fs::read_to_string(&again).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["txlab_version"] = "0.0.0-other".into();
    v["seed_ranges"] = serde_json::json!([[3, 6]]);
    let other = dir.path().join("other.json");
    std::fs::write(&other, v.to_string()).unwrap();
    let o = txlab(&["merge", &a, other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("txlab version is 0.0.0-other"),
        "{}",
        stderr(&o)
    );
    // Not a summary at all.
    let o = txlab(&["merge", &a, "Cargo.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a txlab sweep summary"),
        "{}",
        stderr(&o)
    );
    // A file that is not there, in words (not the OS's "(os error 2)").
    let o = txlab(&["merge", &a, "no-such-summary.json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("no-such-summary.json: no such file"), "{err}");
    assert!(!err.contains("os error"), "{err}");
}

/// A file naming a user's service logic runs only in the program that
/// registered it: txlab's own binary says so and exits 2.
#[test]
fn a_user_service_file_is_refused_with_its_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = VALID.replace(
        "name = \"payment\"\n",
        "name = \"payment\"\nlogic = \"my-payment\"\n",
    );
    assert!(text.contains("logic"), "{text}");
    let o = run_text(dir.path(), text.as_bytes());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("services[1].logic"), "{err}");
    assert!(err.contains("\"my-payment\" is a user service"), "{err}");
}
