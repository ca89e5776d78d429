//! End to end: the real binary in a real pseudo-terminal (tmux). It starts,
//! shows the three panes, plays, steps back, opens help, injects a crash,
//! quits with exit code 0 and leaves the alternate screen.
//!
//! `.ci/run` installs tmux; on a machine without it this test says so and
//! passes only outside CI.

use std::process::Command;
use std::time::{Duration, Instant};
#[path = "../tui/tests/common/mod.rs"]
mod common;
use common::without_questions;

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-t", session, "-p"])
}

/// Wait until the screen contains `needle` (the UI redraws asynchronously).
fn wait_for(session: &str, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let s = screen(session);
        if s.contains(needle) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {needle:?}; screen:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_until(session: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let s = screen(session);
        if done(&s) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out; screen:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn keys(session: &str, keys: &[&str]) {
    for k in keys {
        tmux(&["send-keys", "-t", session, k]);
    }
}

/// A `txlab` run inside a detached tmux session of the given size. The
/// shell writes the exit code to `exit` and then prints a marker on the
/// normal screen; the session is killed when this is dropped.
struct Session {
    name: String,
    exit: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Session {
    /// Start `txlab ARGS`, or `None` when tmux is missing (outside CI only).
    fn start(tag: &str, args: &str, w: u16, h: u16) -> Option<Session> {
        Session::start_with(tag, "", args, w, h)
    }

    /// Start `ENV txlab ARGS` (`env`: variable settings, e.g. `TERM=dumb`).
    fn start_with(tag: &str, env: &str, args: &str, w: u16, h: u16) -> Option<Session> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have tmux (.ci/run installs it)"
            );
            eprintln!("tmux is not installed: skipping the end-to-end terminal test");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let exit = dir.path().join("exit");
        let name = format!("txlab-{tag}-{}", std::process::id());
        let cmd = format!(
            "cd {} && {env} {} {args}; echo $? > {}; echo AFTER-UI-MARKER; sleep 60",
            dir.path().display(),
            env!("CARGO_BIN_EXE_txlab"),
            exit.display()
        );
        let (w, h) = (w.to_string(), h.to_string());
        tmux(&["new-session", "-d", "-s", &name, "-x", &w, "-y", &h, &cmd]);
        Some(Session {
            name,
            exit,
            _dir: dir,
        })
    }

    /// The exit code, once the UI has quit.
    fn exit_code(&self) -> String {
        wait_for(&self.name, "AFTER-UI-MARKER");
        std::fs::read_to_string(&self.exit)
            .unwrap()
            .trim()
            .to_string()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .output();
    }
}

#[test]
fn the_binary_runs_in_a_terminal_and_restores_it() {
    let Some(t) = Session::start("e2e", "tui coordinator-crash-after-prepare", 120, 40) else {
        return;
    };
    let session = t.name.clone();

    // At 120x40 the focused pane is detailed and the other two summarized.
    let s = wait_for(&session, "choreographed");
    assert!(
        s.contains("2PC") && s.contains("orchestrated"),
        "three panes:\n{s}"
    );
    assert!(s.contains("0/"), "starts at step 0:\n{s}");

    // 100 ms of simulated time per second: 0.6 s of play stays short of
    // the end (space at the end would start again).
    keys(&session, &["+", "Space"]);
    std::thread::sleep(Duration::from_millis(600));
    keys(&session, &["Space"]);
    let played = wait_for(&session, "paused");
    let step = |s: &str| -> usize {
        let line = s
            .lines()
            .find(|l| l.contains('/') && (l.contains('━') || l.contains('●')))
            .unwrap_or("");
        line.trim()
            .split('/')
            .next()
            .unwrap_or("0")
            .trim()
            .parse()
            .unwrap_or(0)
    };
    let at = step(&played);
    assert!(at > 0, "playing moved the cursor:\n{played}");
    keys(&session, &[","]);
    let back = wait_for(&session, &format!(" {}/", at - 1));
    assert!(back.contains("paused"));

    keys(&session, &["?"]);
    wait_for(&session, "help: keys");
    // Escape alone, then wait: an escape followed at once by another key
    // reads as Alt+key, which made this test flaky on a loaded machine.
    keys(&session, &["Escape"]);
    wait_until(&session, |s| !s.contains("help: keys"));
    keys(&session, &["Down", "c"]);
    let crashed = wait_for(&session, "branch: 1 injected");
    assert!(crashed.contains("crash car"), "{crashed}");

    keys(&session, &["q"]);
    let after = wait_for(&session, "AFTER-UI-MARKER");
    assert!(
        !after.contains("choreographed"),
        "the alternate screen is gone:\n{after}"
    );
    assert_eq!(t.exit_code(), "0");
}

#[test]
fn with_no_arguments_in_a_terminal_the_main_job_is_the_ui() {
    let Some(t) = Session::start("main", "", 200, 50) else {
        return;
    };
    // The full layout: all three panes in detail, on the default lesson.
    let s = wait_for(&t.name, "CHOREOGRAPHED");
    assert!(
        s.contains("flight-sold-out") && s.contains("ORCHESTRATED"),
        "{s}"
    );
    keys(&t.name, &["q"]);
    assert_eq!(t.exit_code(), "0");
}

/// The play clock stops while paused: after a long pause, play moves on by
/// a few ticks' worth of simulated time, not by the whole pause's worth.
#[test]
fn play_after_a_pause_resumes_where_it_stopped() {
    let Some(t) = Session::start("pause", "tui coordinator-crash-after-prepare", 120, 40) else {
        return;
    };
    let time = |s: &str| -> f64 {
        let at = s.find("t=").expect("a time in the title") + 2;
        let rest = &s[at..];
        let end = rest.find("ms").expect("in ms");
        rest[..end].parse().expect("a number")
    };
    wait_for(&t.name, "choreographed");
    // 20 ms of simulated time per second: half a second of play is ~10 ms.
    keys(&t.name, &["Space"]);
    std::thread::sleep(Duration::from_millis(500));
    keys(&t.name, &["Space"]);
    let paused = time(&wait_for(&t.name, "paused"));
    // A pause of three seconds is 60 ms of simulated time if the clock ran.
    std::thread::sleep(Duration::from_secs(3));
    keys(&t.name, &["Space"]);
    std::thread::sleep(Duration::from_millis(200));
    keys(&t.name, &["Space"]);
    std::thread::sleep(Duration::from_millis(200));
    let after = time(&wait_for(&t.name, "paused"));
    assert!(after >= paused, "{paused} -> {after}");
    assert!(
        after - paused < 30.0,
        "play after the pause jumped from {paused} ms to {after} ms"
    );
    keys(&t.name, &["q"]);
    assert_eq!(t.exit_code(), "0");
}

/// `--present` at 120×30: three panes and a status banner per protocol.
#[test]
fn presenter_mode_in_a_projector_sized_terminal() {
    let Some(t) = Session::start(
        "present",
        "tui coordinator-crash-after-prepare --present",
        120,
        30,
    ) else {
        return;
    };
    let s = wait_for(&t.name, "CHOREOGRAPHED");
    assert!(
        s.contains("ORCHESTRATED") && s.contains("NOT STARTED"),
        "{s}"
    );
    keys(&t.name, &["G"]);
    let end = wait_for(&t.name, "COMPLETED");
    assert!(end.contains("ABORTED"), "{end}");
    keys(&t.name, &["q"]);
    assert_eq!(t.exit_code(), "0");
}

/// Export for slides through the real event loop: `e`, enter writes the
/// screen as SVG and text and the focused diagram as Mermaid into the
/// current folder, and the status line says so.
#[test]
fn export_for_slides_writes_three_files() {
    let Some(t) = Session::start("export", "tui duplicate-payment --present", 120, 30) else {
        return;
    };
    wait_for(&t.name, "CHOREOGRAPHED");
    keys(&t.name, &["G"]);
    wait_for(&t.name, "$800 ≠");
    keys(&t.name, &["e"]);
    wait_for(&t.name, "export as: duplicate-payment-");
    keys(&t.name, &["Enter"]);
    let s = wait_for(&t.name, "wrote ");
    let mut names: Vec<String> = std::fs::read_dir(t._dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("duplicate-payment-"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}\n{s}");
    for (n, ext) in names.iter().zip(["mmd", "svg", "txt"]) {
        assert!(n.ends_with(&format!("ms.{ext}")), "{n}");
    }
    let svg = std::fs::read_to_string(t._dir.path().join(&names[1])).unwrap();
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    keys(&t.name, &["q"]);
    assert_eq!(t.exit_code(), "0");
}

/// A terminal that cannot draw the UI gets the printed report and a note.
#[test]
fn term_dumb_prints_the_report() {
    let Some(t) = Session::start_with("dumb", "TERM=dumb", "tui happy-path", 160, 50) else {
        return;
    };
    let s = wait_for(&t.name, "AFTER-UI-MARKER");
    assert!(s.contains("TERM=dumb"), "{s}");
    assert!(s.contains("committed"), "the report:\n{s}");
    assert_eq!(t.exit_code(), "0");
}

/// `--quiz`: play stops at the scenario's question with the outcomes
/// hidden; the answer key reveals the verdict and the explanation.
#[test]
fn a_quiz_question_pauses_the_run_until_the_room_answers() {
    let dir = tempfile::tempdir().unwrap();
    let lesson = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/coordinator-crash-after-prepare.toml"
    );
    // The lesson's own questions are dropped, so the count below does not
    // depend on the library.
    let mut text = without_questions(&std::fs::read_to_string(lesson).unwrap());
    text.push_str(
        "\n[[question]]\non = \"crash\"\nprotocol = \"2pc\"\n\
         prompt = \"The coordinator crashed. What do the participants do?\"\n\
         choices = [\"abort on their own\", \"wait, holding their locks\"]\n\
         answer = 1\nexplain = \"Prepared participants must wait for the decision.\"\n",
    );
    let file = dir.path().join("quiz.toml");
    std::fs::write(&file, text).unwrap();
    let args = format!("tui {} --quiz", file.display());
    let Some(t) = Session::start("quiz", &args, 120, 40) else {
        return;
    };
    wait_for(&t.name, "quiz 0/1 answered");
    keys(&t.name, &["Space"]);
    let s = wait_for(&t.name, "QUESTION");
    assert!(s.contains("What do the participants do?"), "{s}");
    assert!(!s.contains("comparison"), "the table is hidden: {s}");
    assert!(!s.contains("Prepared participants must wait"), "{s}");
    keys(&t.name, &["2"]);
    let s = wait_for(&t.name, "RIGHT");
    assert!(s.contains("Prepared participants must wait"), "{s}");
    assert!(s.contains("quiz 1/1 answered"), "{s}");
    assert!(s.contains("comparison"), "the table is back: {s}");
    keys(&t.name, &["q"]);
    assert_eq!(t.exit_code(), "0");
}
