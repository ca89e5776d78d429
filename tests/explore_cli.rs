//! `txlab explore`: exit codes, the JSON summary, repros that `txlab run`
//! replays to the same invariant, and results that do not depend on the
//! run or the thread count.

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

/// The at_most_once violation in `json` (an explore summary); it must be there.
fn at_most_once(json: &serde_json::Value) -> &serde_json::Value {
    json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["invariant"] == "at_most_once")
        .unwrap_or_else(|| panic!("at_most_once found: {json}"))
}

/// One service, one step: small enough to explore in a debug build.
fn one_service(idempotency: bool) -> String {
    format!(
        r#"
name = "one-service"
seed = 1

[network]
write_latency_ms = 1

[[services]]
name = "payment"
resources = {{ sam = 500 }}

[[steps]]
name = "charge card"
service = "payment"
resource = "sam"
amount = 100
action = "charge"
compensation = "refund"

[toggles]
idempotency = {idempotency}
"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn explore_json(file: &str, out: &Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let mut args = vec![
        "explore",
        file,
        "--protocol",
        "orchestrated",
        "--faults",
        "1",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = txlab(&args);
    let json = serde_json::from_str(&stdout(&o)).unwrap_or(serde_json::Value::Null);
    (o, json)
}

/// Negative control: without idempotency a duplicated command is applied
/// twice; the explorer finds it (exit 1), writes a repro, and `txlab run`
/// of that repro breaks the same invariant. With idempotency on, nothing.
#[test]
fn a_broken_saga_is_found_and_its_repro_replays() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.toml", &one_service(false));
    let out = dir.path().join("repros");
    let (o, json) = explore_json(&file, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    for key in [
        "distinct_states",
        "transitions",
        "max_depth",
        "complete",
        "seconds",
        "terminal",
        "violations",
    ] {
        assert!(json.get(key).is_some(), "JSON key {key}: {json}");
    }
    assert_eq!(json["complete"], true);
    let v = at_most_once(&json);
    assert_eq!(v["protocol"], "orchestrated");
    let repro = v["repro"].as_str().unwrap();
    let text = std::fs::read_to_string(repro).unwrap();
    assert!(
        text.contains("[explore]") && text.contains("duplicate #"),
        "{text}"
    );

    // The UI's recording of the repro (what `txlab tui FILE` shows) breaks
    // the same invariant in the orchestrated pane.
    let scenario = txlab_sim::lab::scenario::Scenario::parse(text.as_bytes(), "repro").unwrap();
    let rec = txlab_tui::recording::Recording::new(scenario, vec![]);
    let pane = rec
        .panes
        .iter()
        .find(|p| p.protocol == txlab_sim::protocols::Protocol::Orchestrated)
        .unwrap();
    assert!(
        pane.report
            .violations
            .iter()
            .any(|v| v.invariant == "at_most_once"),
        "{:?}",
        pane.report.violations
    );

    let run = txlab(&[
        "run",
        repro,
        "--protocol",
        "orchestrated",
        "--format",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stdout(&run));
    assert!(stdout(&run).contains("at_most_once"), "{}", stdout(&run));
    // The path stops where the duplicate is applied, with steps still
    // possible: liveness is not judged there (the explorer does not judge
    // it there either), so no "still unfinished" beside the real finding.
    assert!(!stdout(&run).contains("termination"), "{}", stdout(&run));

    let fixed = write(dir.path(), "fixed.toml", &one_service(true));
    let (o, json) = explore_json(&fixed, &dir.path().join("none"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(json["violations"].as_array().map(Vec::len), Some(0));
    assert!(
        !dir.path().join("none").exists(),
        "no repro without a violation"
    );
}

/// Counts and repro bytes are the same on every run and for one or two
/// threads.
#[test]
fn results_do_not_depend_on_the_run_or_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.toml", &one_service(false));
    let mut seen = Vec::new();
    for (i, threads) in ["1", "1", "2"].iter().enumerate() {
        let out = dir.path().join(format!("r{i}"));
        let (o, mut json) = explore_json(&file, &out, &["--threads", threads]);
        assert_eq!(o.status.code(), Some(1));
        json["seconds"] = serde_json::Value::Null;
        let mut repros = Vec::new();
        for v in json["violations"].as_array_mut().unwrap() {
            let bytes = std::fs::read(v["repro"].as_str().unwrap()).unwrap();
            repros.push(bytes);
            v["repro"] = serde_json::Value::Null;
        }
        seen.push((json, repros));
    }
    assert_eq!(seen[0], seen[1], "two runs");
    assert_eq!(seen[0], seen[2], "one thread and two");
}

/// Depth-first finds the same invariant, by a path no shorter.
#[test]
fn breadth_first_paths_are_no_longer_than_depth_first_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.toml", &one_service(false));
    let steps = |extra: &[&str]| {
        let out = dir.path().join("r");
        let mut args = vec!["explore", &file, "--protocol", "orchestrated"];
        args.extend_from_slice(&["--out", out.to_str().unwrap()]);
        args.extend_from_slice(extra);
        let text = stdout(&txlab(&args));
        // "VIOLATED          at_most_once: shortest path N steps"
        let line = text
            .lines()
            .find(|l| l.contains("VIOLATED") && l.contains("at_most_once"))
            .unwrap_or_else(|| panic!("{text}"))
            .to_string();
        let n = line.split_whitespace().rev().nth(1).unwrap();
        n.parse::<usize>().unwrap()
    };
    let bfs = steps(&[]);
    let dfs = steps(&["--dfs"]);
    assert!(bfs > 0 && bfs <= dfs, "bfs {bfs} steps, dfs {dfs}");
}

/// The calibration model through the CLI: TLC's 288 states for 3 RMs.
#[test]
fn the_two_phase_model_has_tlcs_count() {
    let o = txlab(&[
        "explore",
        "--model",
        "two-phase",
        "--rms",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["distinct_states"], 288);
    assert_eq!(json["complete"], true);
}

#[test]
fn bad_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["explore", "--model", "two-phase", "--rms", "99"],
        vec!["explore", "--model", "nope"],
        vec!["explore", "no-such-lesson"],
        vec!["explore"],
        vec!["explore", "happy-path", "--max-states", "0"],
        vec!["explore", "happy-path", "--threads", "0"],
    ] {
        let o = txlab(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
    // A repro whose path names an unknown node: file, line and column.
    let text = one_service(false)
        + "\n[explore]\nprotocol = \"orchestrated\"\npath = [\"crash nobody\"]\n";
    let file = write(dir.path(), "bad.toml", &text);
    let o = txlab(&["run", &file]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.toml:") && err.contains("nobody"), "{err}");
}

/// A repro step that is not possible where it stands (hand-edited, or
/// made for another version of the scenario) is an error naming the step
/// and what it expected, exit 2: it is not skipped, which would replay
/// another path than the one written.
#[test]
fn an_impossible_repro_step_is_an_error_not_a_skip() {
    let dir = tempfile::tempdir().unwrap();
    let repro = |steps: &str| {
        format!(
            "{}\n[explore]\nprotocol = \"orchestrated\"\npath = [{steps}]\n",
            one_service(false)
        )
    };
    // Positive control: the client's arrival timer, then its request.
    let good = write(
        dir.path(),
        "good.toml",
        &repro(r#""timer client 128849018880", "deliver #0""#),
    );
    let o = txlab(&["run", &good, "--protocol", "orchestrated"]);
    let err = stderr(&o);
    assert_ne!(o.status.code(), Some(2), "{err}");

    // Message #7 was never sent: step 2 cannot happen.
    let bad = write(
        dir.path(),
        "bad.toml",
        &repro(r#""timer client 128849018880", "deliver #7""#),
    );
    let o = txlab(&["run", &bad, "--protocol", "orchestrated"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for needle in [
        "explore.path[1]",
        "step 2",
        "deliver #7",
        "message #7 is not in flight",
        "#0 client→orchestrator",
        "bad.toml:",
    ] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
}

/// The explorer chooses faults itself: a scenario's own timed faults and
/// network duplication are left out of the search, and it says so on
/// stderr (it used to explore `partition-after-vote` as fault-free
/// without a word). A scenario without any says nothing.
#[test]
fn the_scenarios_own_faults_are_said_to_be_left_out() {
    let o = txlab(&["explore", "partition-after-vote", "--faults", "0"]);
    let err = stderr(&o);
    assert!(
        err.contains("left out of the search (timed faults and partitions)"),
        "{err}"
    );
    let o = txlab(&["explore", "duplicate-payment", "--faults", "0"]);
    let err = stderr(&o);
    assert!(err.contains("(network duplication)"), "{err}");
    let o = txlab(&["explore", "happy-path", "--faults", "0"]);
    let err = stderr(&o);
    assert!(!err.contains("left out"), "{err}");
}

/// A repro whose replay no longer breaks the invariant it names (its path
/// cut short here, as a hand edit would) says so on stderr; the repro as
/// written says nothing of the kind.
#[test]
fn a_repro_that_no_longer_breaks_its_invariant_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.toml", &one_service(false));
    let out = dir.path().join("repros");
    let (_, json) = explore_json(&file, &out, &[]);
    let repro = at_most_once(&json)["repro"].as_str().unwrap();
    let o = txlab(&["run", repro, "--protocol", "orchestrated"]);
    let err = stderr(&o);
    assert!(!err.contains("no longer breaks"), "{err}");
    // Cut the path before its last step (the second delivery, which
    // applies the duplicate).
    let text = std::fs::read_to_string(repro).unwrap();
    let path_line = text.lines().find(|l| l.starts_with("path = [")).unwrap();
    let cut = match path_line.rfind(", \"") {
        Some(i) => format!("{}]", &path_line[..i]),
        None => "path = []".to_string(),
    };
    let edited = write(dir.path(), "edited.toml", &text.replace(path_line, &cut));
    let o = txlab(&["run", &edited, "--protocol", "orchestrated"]);
    let err = stderr(&o);
    assert!(err.contains("no longer breaks at_most_once"), "{err}");
}

/// `--set` changes the explored scenario as it changes a run: the broken
/// service with idempotency switched on absorbs the duplicate (THEORY.md:
/// an idempotent consumer applies a command once), so nothing is found;
/// without the override the same file is caught. With --model there is no
/// scenario to change: bad input.
#[test]
fn set_overrides_the_explored_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.toml", &one_service(false));
    let out = dir.path().join("repros");
    let (o, _) = explore_json(&file, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let (o, json) = explore_json(&file, &out, &["--set", "toggles.idempotency=true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json["violations"].as_array().map(Vec::len), Some(0));
    let (o, _) = explore_json(&file, &out, &["--set", "toggles.nope=1"]);
    assert_eq!(o.status.code(), Some(2));
    let o = txlab(&[
        "explore",
        "--model",
        "two-phase",
        "--rms",
        "2",
        "--set",
        "a=1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A repro keeps what it needs to replay, not the lesson's story: the
/// lesson's narration, quiz and takeaway are about its own run (found by
/// review: duplicate-payment's repro asked about the broker's events while
/// showing a car booked twice).
#[test]
fn a_repro_drops_the_lessons_story() {
    let dir = tempfile::tempdir().unwrap();
    let (o, json) = explore_json("duplicate-payment", dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = std::fs::read_to_string(at_most_once(&json)["repro"].as_str().unwrap()).unwrap();
    let file = txlab_sim::lab::scenario::Scenario::parse(text.as_bytes(), "repro")
        .unwrap()
        .file;
    assert!(
        file.question.is_empty() && file.narration.is_empty(),
        "{text}"
    );
    assert!(file.takeaway.contains("at_most_once"), "{}", file.takeaway);
}
