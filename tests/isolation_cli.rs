//! `txlab anomalies` and the isolation fields of the scenario format:
//! deterministic output, bad input named with exit code 2.

use std::process::{Command, Output};

fn txlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_txlab"))
        .args(args)
        .output()
        .expect("run txlab")
}

#[test]
fn the_matrix_is_the_same_whatever_the_jobs_and_has_every_row() {
    let one = txlab(&[
        "anomalies",
        "--seeds",
        "4",
        "--format",
        "json",
        "--jobs",
        "1",
    ]);
    let two = txlab(&[
        "anomalies",
        "--seeds",
        "4",
        "--format",
        "json",
        "--jobs",
        "3",
    ]);
    assert_eq!(
        one.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(one.stdout, two.stdout, "jobs change nothing");
    let v: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(v["scenario"], "isolation-contention");
    let rows = v["rows"].as_array().unwrap();
    // 2PC, two bare sagas, two sagas times six countermeasures.
    assert_eq!(rows.len(), 3 + 2 * 6);
    assert_eq!(rows[0]["anomalies"], 0, "2PC under strict 2PL");
    for field in ["lost_update", "dirty_read", "fuzzy_read", "overdraw"] {
        assert!(rows[0]["anomaly_classes"][field].is_u64(), "{field}");
    }
    let table = txlab(&["anomalies", "--seeds", "2"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("orchestrated + semantic_lock"), "{text}");
    assert!(text.contains("p99"), "{text}");
}

#[test]
fn bad_matrix_arguments_are_bad_input() {
    let o = txlab(&["anomalies", "--seeds", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--seeds"));
    let o = txlab(&["anomalies", "no-such-lesson"]);
    assert_eq!(o.status.code(), Some(2));
}

const SHOP: &str = r#"
name = "shop"
[[services]]
name = "shop"
resources = { stock = 3 }
registers = ["stock"]
[[steps]]
name = "check"
service = "shop"
resource = "stock"
amount = 0
[[steps]]
name = "reserve"
service = "shop"
resource = "stock"
amount = 1
reads = "check"
"#;

fn run_text(text: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    txlab(&["run", path.to_str().unwrap()])
}

#[test]
fn registers_and_reads_are_validated() {
    assert_eq!(run_text(SHOP).status.code(), Some(0));
    for (text, needles) in [
        (
            SHOP.replace("registers = [\"stock\"]", "registers = [\"stok\"]"),
            ["services[0].registers", "stok"],
        ),
        (
            SHOP.replace("reads = \"check\"", "reads = \"reserve\""),
            ["steps[1].reads", "not an earlier step"],
        ),
        (
            SHOP.replace("reads = \"check\"", "reads = \"nope\""),
            ["steps[1].reads", "nope"],
        ),
    ] {
        let o = run_text(&text);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        for n in needles {
            assert!(err.contains(n), "{err:?} should contain {n:?}");
        }
    }
    // A read of another resource cannot be relied on.
    let other = SHOP
        .replace(
            "resources = { stock = 3 }",
            "resources = { stock = 3, vans = 1 }",
        )
        .replacen(
            "resource = \"stock\"\namount = 0",
            "resource = \"vans\"\namount = 0",
            1,
        );
    let o = run_text(&other);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("own resource"), "{err}");
}

/// Per-request values and the by-value threshold: bad values are bad
/// input, named by line and column.
#[test]
fn values_and_by_value_are_validated() {
    let ok = SHOP.replace(
        "[[steps]]\nname = \"check\"",
        "[workload]\ntransactions = 3\nvalues = [1, 2]\n[toggles]\nby_value = { threshold = 2 }\n[[steps]]\nname = \"check\"",
    );
    assert_ne!(ok, SHOP);
    let o = run_text(&ok);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (from, to, needles) in [
        (
            "values = [1, 2]",
            "values = [1, 0]",
            vec!["s.toml:", "workload.values[1]", "1..="],
        ),
        (
            "values = [1, 2]",
            "values = [1, 2, 1, 1]",
            vec!["workload.values[3]", "4 values for 3 transactions"],
        ),
        ("values = [1, 2]", "values = [1, -2]", vec!["s.toml:"]),
        (
            "threshold = 2",
            "threshold = 0",
            vec!["toggles.by_value.threshold", "at least 1"],
        ),
        ("threshold = 2", "treshold = 2", vec!["s.toml:", "treshold"]),
        (
            "by_value = { threshold = 2 }",
            "by_value = true",
            vec!["s.toml:", "threshold = 2 }`"],
        ),
    ] {
        let text = ok.replace(from, to);
        assert_ne!(text, ok, "{to}");
        let o = run_text(&text);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{to}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        for n in needles {
            assert!(err.contains(n), "{to}: {err:?} should contain {n:?}");
        }
        // Every error points at its line and column.
        let at = regex_free_position(&err);
        assert!(at, "{to}: no line:column in {err:?}");
    }
}

/// Whether `err` holds `file:LINE:COLUMN`.
fn regex_free_position(err: &str) -> bool {
    err.split("s.toml:").nth(1).is_some_and(|rest| {
        let mut parts = rest.splitn(3, ':');
        let line = parts.next().unwrap_or("");
        let col = parts.next().unwrap_or("");
        !line.is_empty()
            && line.chars().all(|c| c.is_ascii_digit())
            && !col.is_empty()
            && col.chars().all(|c| c.is_ascii_digit())
    })
}

/// The by-value lesson: with the switch on, no anomaly names the double
/// orders (its `anomaly_free` expectation passes); with a threshold above
/// every value (nobody risky: the bare saga) the same check fails on
/// them — the expectation can fail, and the lesson's claim rests on the
/// switch.
#[test]
fn the_by_value_lesson_passes_on_and_fails_off() {
    let on = txlab(&["check", "countermeasure-by_value"]);
    let out = String::from_utf8_lossy(&on.stdout);
    assert_eq!(on.status.code(), Some(0), "{out}");
    let off = txlab(&[
        "check",
        "countermeasure-by_value",
        "--set",
        "toggles.by_value.threshold=3",
    ]);
    let out = String::from_utf8_lossy(&off.stdout);
    assert_ne!(off.status.code(), Some(0), "{out}");
    for who in ["T1", "T5"] {
        for p in ["orchestrated", "choreographed"] {
            let line = format!("{p}: expected no anomaly naming {who}");
            assert!(out.contains(&line), "{line} in {out}");
        }
    }
}
