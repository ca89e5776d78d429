//! The exercise tools: `txlab show`, `--set PATH=VALUE` and the Markdown
//! handout.

use std::process::{Command, Output};

fn txlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_txlab"))
        .args(args)
        .output()
        .expect("run txlab")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// The trace hash of each protocol's run, from `txlab run --format json`.
fn hashes(args: &[&str]) -> Vec<String> {
    let mut all = vec!["run", "--format", "json"];
    all.extend_from_slice(args);
    let o = txlab(&all);
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{}",
        text(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trace_hash"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn show_prints_a_file_that_runs_to_the_same_hashes() {
    let o = txlab(&["show", "duplicate-payment"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let shown = text(&o.stdout);
    assert_eq!(shown, txlab::library::get("duplicate-payment").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.toml");
    std::fs::write(&path, &shown).unwrap();
    let copy = hashes(&[path.to_str().unwrap()]);
    assert_eq!(copy, hashes(&["duplicate-payment"]));
    assert_eq!(copy.len(), 3);
}

#[test]
fn a_set_run_equals_the_run_of_an_edited_copy() {
    let base = txlab::library::get("duplicate-payment").unwrap();
    assert!(base.contains("idempotency = false"), "the lesson sets it");
    let edited = base.replace("idempotency = false", "idempotency = true");
    // The lesson's network table has no write latency: add it.
    let edited = edited.replace("[network]\n", "[network]\nwrite_latency_ms = 10\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.toml");
    std::fs::write(&path, edited).unwrap();
    let set = hashes(&[
        "duplicate-payment",
        "--set",
        "toggles.idempotency=true",
        "--set",
        "network.write_latency_ms=10",
    ]);
    assert_eq!(set, hashes(&[path.to_str().unwrap()]));
    // ... and the override did change the runs (the test can fail).
    assert_ne!(set, hashes(&["duplicate-payment"]));
    // `show --set` prints the overridden file, which runs the same way.
    let o = txlab(&[
        "show",
        "duplicate-payment",
        "--set",
        "toggles.idempotency=true",
        "--set",
        "network.write_latency_ms=10",
    ]);
    let shown = dir.path().join("shown.toml");
    std::fs::write(&shown, &o.stdout).unwrap();
    assert_eq!(set, hashes(&[shown.to_str().unwrap()]));
}

#[test]
fn bad_settings_exit_2_naming_them() {
    for cmd in ["run", "check", "sweep", "tui", "show", "export"] {
        for (bad, needle) in [
            ("toggles.idempotncy=false", "idempotncy"),
            ("toggles.idempotency=maybe", "toggles.idempotency=maybe"),
            ("network.loss=3", "loss"),
            ("nothing", "PATH=VALUE"),
        ] {
            let mut args = vec![cmd, "happy-path", "--set", bad];
            match cmd {
                "sweep" => args.extend(["--seeds", "1"]),
                "export" => args.extend(["--format", "jsonl"]),
                _ => {}
            }
            let o = txlab(&args);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} {bad}: {err}");
            assert!(err.contains(needle), "{cmd} {bad}: {err}");
            assert!(o.stdout.is_empty() && !err.contains("panicked"), "{err}");
        }
    }
}

#[test]
fn the_handout_is_markdown_with_one_diagram_per_protocol() {
    let o = txlab(&["export", "flight-sold-out", "--format", "handout"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let md = text(&o.stdout);
    assert!(md.starts_with("# flight-sold-out\n"), "{md}");
    // Fences pair up, and exactly three of them open a Mermaid block, one
    // under each protocol's heading.
    let fences: Vec<&str> = md.lines().filter(|l| l.starts_with("```")).collect();
    assert_eq!(fences.len() % 2, 0, "every fence closed");
    let openers: Vec<&str> = fences.iter().step_by(2).copied().collect();
    assert_eq!(openers, vec!["```mermaid"; 3]);
    assert!(fences.iter().skip(1).step_by(2).all(|f| *f == "```"));
    let heads: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    for h in [
        "## Two-phase commit",
        "## Orchestrated saga",
        "## Choreographed saga",
        "## Side by side",
        "## Takeaway",
        "## Predict first",
        "## Answers",
    ] {
        assert!(heads.contains(&h), "{h} in {heads:?}");
    }
    for block in md.split("```mermaid\n").skip(1) {
        assert!(block.starts_with("sequenceDiagram\n"), "{block}");
    }
    // The table: a header, a separator, rows of the same width.
    let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert!(table.len() > 10);
    assert!(table[1].starts_with("|---|"));
    let cols = |l: &str| l.matches(" | ").count();
    assert!(
        table.iter().skip(2).all(|l| cols(l) == cols(table[0])),
        "{table:#?}"
    );
    assert_eq!(table[1].matches("---|").count(), cols(table[0]) + 1);
    assert!(table[0].contains("2pc") && table[0].contains("choreographed"));
}
