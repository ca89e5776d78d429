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
    // 2PC, two bare sagas, two sagas times five countermeasures.
    assert_eq!(rows.len(), 3 + 2 * 5);
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
