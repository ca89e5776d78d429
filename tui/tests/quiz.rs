//! Quiz mode (issue 12, predict then reveal) and narration per protocol:
//! the run stops at a question, outcomes stay hidden until the room
//! answers, the answer is revealed with its explanation; a narration line
//! about one protocol fires from that protocol's pane and says so.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use txlab_sim::lab::scenario::Scenario;
use txlab_tui::action::{Action, KEYMAP};
use txlab_tui::app::App;
use txlab_tui::view::MainScreen;
mod common;
use common::without_questions;

const LESSONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

/// The lesson `name` with its own questions dropped (so these tests do
/// not depend on the library's) and `extra` TOML appended.
fn lesson_with(name: &str, extra: &str) -> Scenario {
    let text =
        without_questions(&std::fs::read_to_string(format!("{LESSONS}/{name}.toml")).unwrap());
    Scenario::parse(format!("{text}\n{extra}").as_bytes(), name).expect("parses")
}

const QUESTION: &str = r#"
[[question]]
on = "crash"
protocol = "2pc"
prompt = "The coordinator crashed after PREPARE. What do the participants do?"
choices = ["abort on their own", "wait, holding their locks", "commit"]
answer = 1
explain = "A prepared participant gave up its right to decide: it must wait."
"#;

fn quiz_app() -> App {
    let mut a = App::new(
        lesson_with("coordinator-crash-after-prepare", QUESTION),
        Vec::new(),
    );
    a.set_quiz(true);
    a
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| f.render_widget(&MainScreen(app), f.area()))
        .unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn play_stops_at_the_question_and_hides_the_table_until_answered() {
    let mut a = quiz_app();
    let at = a.rec.question_at[0].expect("the crash happens");
    a.update(Action::TogglePlay);
    for _ in 0..10_000 {
        a.update(Action::Tick);
        if !a.playing {
            break;
        }
    }
    assert_eq!(a.cursor, at, "play stopped at the question");
    assert_eq!(a.quiz.asking, Some(0));
    let s = screen(&a, 200, 50);
    assert!(s.contains("What do the participants do?"), "{s}");
    assert!(s.contains(" 2  wait, holding their locks"), "{s}");
    assert!(!s.contains("comparison"), "the table is hidden:\n{s}");
    assert!(s.contains("outcome hidden until the room answers"), "{s}");
    assert!(!s.contains("A prepared participant"), "no explanation yet");
    // Nothing moves the run on past an open question.
    for k in [Action::TogglePlay, Action::NextChange, Action::JumpEnd] {
        a.update(k);
        a.update(Action::Tick);
        assert_eq!(a.cursor, at, "{k:?} holds at the question");
    }
    a.update(Action::Seek(1.0));
    assert_eq!(a.cursor, at, "a click on the timeline holds too");
}

/// A question tied to an event is asked with that event on screen (its
/// premise: "the coordinator crashed after PREPARE") and nothing after it
/// (the answer): the 2PC pane shows every event up to and including the
/// crash; after the answer, stepping goes on.
#[test]
fn a_question_on_an_event_is_asked_with_the_event_shown_and_nothing_after() {
    let mut a = quiz_app();
    let crash = a.rec.panes[0]
        .world
        .trace()
        .events()
        .iter()
        .position(|e| matches!(e.kind, txlab_sim::engine::EventKind::Crash { .. }))
        .expect("the coordinator crashes");
    a.update(Action::TogglePlay);
    for _ in 0..10_000 {
        a.update(Action::Tick);
        if !a.playing {
            break;
        }
    }
    assert_eq!(a.quiz.asking, Some(0));
    assert_eq!(
        a.panes[0].shown,
        crash + 1,
        "every event up to the crash, the crash included, none after"
    );
    let held = a.cursor;
    a.update(Action::Answer(1));
    a.update(Action::StepForward);
    assert_eq!(a.cursor, held + 1, "answered: the next step goes on");
}

/// A question tied to a time is asked at that time: with every event
/// before it on screen, none at or after it, and the title at that time.
/// `parallel-fan-out` asks at 1 ms and 2 ms; its requests arrive at 1 ms
/// and the next events are a 10 ms hop later, at 11 ms. Played in
/// simulated time, and stepped by event.
#[test]
fn a_question_at_a_time_is_asked_at_that_time() {
    let text = std::fs::read_to_string(format!("{LESSONS}/parallel-fan-out.toml")).unwrap();
    let s = Scenario::parse(text.as_bytes(), "parallel-fan-out").unwrap();
    for play in [true, false] {
        let mut a = App::new(s.clone(), Vec::new());
        a.set_quiz(true);
        for (q, ms) in [(0, 1), (1, 2)] {
            let at = txlab_sim::engine::SimTime::from_millis(ms);
            if play {
                a.update(Action::TogglePlay);
            }
            for _ in 0..10_000 {
                a.update(if play {
                    Action::Tick
                } else {
                    Action::StepForward
                });
                if a.quiz.asking.is_some() {
                    break;
                }
            }
            assert_eq!(a.quiz.asking, Some(q), "play: {play}");
            assert!(a.now() < at, "play: {play}: {:?} is shown", a.now());
            assert!(a.rec.steps[a.cursor].time >= at, "play: {play}");
            assert_eq!(a.shown_time(), at, "play: {play}");
            let s = screen(&a, 200, 50);
            assert!(s.contains(&format!("t={ms}.0ms")), "{s}");
            a.update(Action::Answer(1));
            assert_eq!(a.shown_time(), at, "the answer keeps the time");
        }
        // Both answered: the run goes on to 11 ms and beyond.
        a.update(Action::StepForward);
        assert!(a.now() >= txlab_sim::engine::SimTime::from_millis(11));
    }
}

/// The control: at the same cursor without quiz mode, the table is there.
#[test]
fn without_quiz_mode_the_table_shows_at_the_same_place() {
    let mut a = quiz_app();
    let at = a.rec.question_at[0].unwrap();
    a.update(Action::ToggleQuiz);
    assert!(!a.quiz.on);
    a.update(Action::JumpEnd);
    assert_eq!(a.cursor, a.rec.steps.len(), "no stop");
    a.update(Action::JumpStart);
    for _ in 0..at {
        a.update(Action::StepForward);
    }
    assert_eq!(a.cursor, at);
    let s = screen(&a, 200, 50);
    assert!(s.contains("comparison"), "{s}");
    assert!(!s.contains("What do the participants do?"));
}

#[test]
fn answering_reveals_right_or_wrong_with_the_explanation() {
    let mut a = quiz_app();
    a.update(Action::JumpEnd);
    a.update(Action::Answer(7));
    assert_eq!(
        a.quiz.asking,
        Some(0),
        "a key past the choices is no answer"
    );
    a.update(Action::Answer(0));
    let s = screen(&a, 200, 50);
    assert!(s.contains("NOT QUITE"), "{s}");
    assert!(
        s.contains("the answer is 2) wait, holding their locks"),
        "{s}"
    );
    assert!(
        s.contains("A prepared participant gave up its right"),
        "{s}"
    );
    assert!(s.contains("comparison"), "the table is back:\n{s}");
    // The run goes on, and the answer box goes once the cursor moves.
    let at = a.cursor;
    a.update(Action::NextChange);
    assert!(a.cursor > at);
    assert!(!screen(&a, 200, 50).contains("A prepared participant"));
    // Going back before the question and forward again does not ask it
    // again: the room has seen the answer.
    a.update(Action::JumpStart);
    a.update(Action::JumpEnd);
    assert_eq!(a.cursor, a.rec.steps.len());
    // Turning quiz mode off and on forgets the answers: a replay asks.
    a.update(Action::ToggleQuiz);
    a.update(Action::ToggleQuiz);
    a.update(Action::JumpStart);
    a.update(Action::JumpEnd);
    assert_eq!(a.cursor, at);
    a.update(Action::Answer(1));
    let s = screen(&a, 200, 50);
    assert!(s.contains("✓ RIGHT: 2) wait, holding their locks"), "{s}");
}

#[test]
fn stepping_back_before_an_open_question_closes_it_and_forward_asks_again() {
    let mut a = quiz_app();
    a.update(Action::JumpEnd);
    let at = a.cursor;
    a.update(Action::JumpStart);
    assert_eq!(a.quiz.asking, None);
    assert!(!screen(&a, 200, 50).contains("What do the participants do?"));
    a.update(Action::JumpEnd);
    assert_eq!((a.cursor, a.quiz.asking), (at, Some(0)));
}

#[test]
fn node_end_marks_are_hidden_while_the_question_is_open() {
    // Asked at the last event, when every run has ended.
    let plain = App::new(
        lesson_with("coordinator-crash-after-prepare", ""),
        Vec::new(),
    );
    let end_ms = plain.rec.end_time().0 / 1_000;
    let q = QUESTION.replace("on = \"crash\"", &format!("at_ms = {end_ms}"));
    let mut a = App::new(
        lesson_with("coordinator-crash-after-prepare", &q),
        Vec::new(),
    );
    a.set_quiz(true);
    a.update(Action::JumpEnd);
    assert!(a.quiz.asking.is_some());
    let s = screen(&a, 200, 50);
    assert!(s.contains("(hidden)"), "{s}");
    assert!(!s.contains("committed"), "{s}");
    a.update(Action::Answer(1));
    assert!(screen(&a, 200, 50).contains("committed"), "revealed");
}

#[test]
fn the_quiz_key_and_the_answer_keys_are_in_the_help() {
    assert!(KEYMAP.iter().any(|b| b.action == Action::ToggleQuiz));
    assert!(KEYMAP.iter().any(|b| matches!(b.action, Action::Answer(_))));
    let mut a = quiz_app();
    a.update(Action::Help);
    let s = screen(&a, 200, 50);
    assert!(s.contains("quiz mode"), "{s}");
}

// ---- narration per protocol ----

#[test]
fn a_narration_line_about_one_protocol_fires_from_its_pane() {
    let line =
        |p: &str| format!("[[narration]]\non = \"crash\"\n{p}\ntext = \"Look at this pane.\"\n");
    for (i, p) in ["2pc", "orchestrated", "choreographed"].iter().enumerate() {
        let a = App::new(
            lesson_with(
                "coordinator-crash-after-prepare",
                &line(&format!("protocol = \"{p}\"")),
            ),
            Vec::new(),
        );
        let c = a.rec.narration_at.last().unwrap().unwrap();
        assert_eq!(a.rec.steps[c - 1].pane as usize, i, "{p}: its own crash");
    }
    // The control: without a protocol the first pane to get there fires it.
    let a = App::new(
        lesson_with("coordinator-crash-after-prepare", &line("")),
        Vec::new(),
    );
    let c = a.rec.narration_at.last().unwrap().unwrap();
    assert_eq!(a.rec.steps[c - 1].pane, 0);
    // And the strip says which protocol a line is about.
    let mut b = App::new(
        lesson_with(
            "coordinator-crash-after-prepare",
            &line("protocol = \"choreographed\""),
        ),
        Vec::new(),
    );
    // (At its moment: at the end the strip shows what fired last.)
    let c = b.rec.narration_at.last().unwrap().unwrap();
    while b.cursor < c {
        b.update(Action::StepForward);
    }
    let s = screen(&b, 200, 50);
    assert!(s.contains("choreographed saga: Look at this pane."), "{s}");
}

/// Two lines that fire at the same moment both show (they used to hide
/// each other: only the later one in the file was on the strip), the
/// focused pane's first; a moment later, only what fires then.
#[test]
fn two_narration_lines_at_one_moment_both_show_the_focused_panes_first() {
    let two = r#"
[[narration]]
on = "crash"
protocol = "choreographed"
text = "The broker is down."

[[narration]]
on = "crash"
protocol = "2pc"
text = "The coordinator is down."
"#;
    let mut a = App::new(
        lesson_with("coordinator-crash-after-prepare", two),
        Vec::new(),
    );
    let n = a.rec.narration_at.len();
    let both = a.rec.narration_at[n - 2..]
        .iter()
        .map(|c| c.expect("the crash happens"))
        .max()
        .unwrap();
    while a.cursor < both {
        a.update(Action::StepForward);
    }
    // The lesson's own line about the crash (no protocol) fires then too.
    let order = |a: &App| {
        let text = a.narration().expect("narration at the crash");
        let at = |t: &str| text.find(t).unwrap_or_else(|| panic!("{t:?} in {text:?}"));
        (
            at("2PC: The coordinator is down."),
            at("choreographed saga: The broker is down."),
            at("crashes right after the prepares went out"),
        )
    };
    let (two_pc, broker, lesson) = order(&a);
    assert!(
        two_pc < lesson && lesson < broker,
        "focus on 2PC: its line first, then file order"
    );
    a.update(Action::FocusPrev);
    assert_eq!(a.panes[a.focus].protocol.name(), "choreographed");
    let (two_pc, broker, lesson) = order(&a);
    assert!(
        broker < lesson && lesson < two_pc,
        "focus on the choreography: its line first, then file order"
    );
    let s = screen(&a, 200, 50);
    assert!(
        s.contains("» choreographed saga: The broker is down.  ·  The coordinator"),
        "{s}"
    );
}

/// What the room sees: the question over the bottom of the panes at a
/// laptop's 80×24 and in presenter mode at 120×30, then the answer.
#[test]
fn question_and_answer_snapshots() {
    for (w, h, present) in [(80, 24, false), (120, 30, true)] {
        let mut a = quiz_app();
        a.set_present(present);
        a.update(Action::JumpEnd);
        insta::assert_snapshot!(format!("question_{w}x{h}"), screen(&a, w, h));
        a.update(Action::Answer(1));
        insta::assert_snapshot!(format!("answer_{w}x{h}"), screen(&a, w, h));
    }
}

/// Once every transaction of a run has its outcome, no node of that run
/// still says it is working (a stale "working, recovered from its log").
#[test]
fn no_node_is_still_working_once_every_outcome_is_known() {
    let mut names: Vec<String> = std::fs::read_dir(LESSONS)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    let mut checked = 0;
    for name in names {
        let mut a = App::new(lesson_with(&name, ""), Vec::new());
        a.update(Action::JumpEnd);
        for v in &a.panes {
            let open = ["running", "blocked"]
                .iter()
                .any(|k| v.outcomes.get(*k).is_some_and(|n| *n > 0));
            if open || v.outcomes.is_empty() {
                continue;
            }
            checked += 1;
            for n in &v.nodes {
                assert!(
                    n.phase != txlab_tui::fold::Phase::Working,
                    "{name} {:?}: {} still {} {}",
                    v.protocol,
                    n.name,
                    n.phase.word(),
                    n.detail
                );
            }
        }
    }
    assert!(checked > 10, "most runs end with every outcome known");
}

// ---- picker and filter ----

/// A scenario file that does not load is listed with its error (file,
/// line, column), not hidden.
#[test]
fn the_picker_lists_an_invalid_file_with_its_error() {
    let err = Scenario::parse(b"name = \"x\"\nseed = \"soon\"\n", "./broken.toml").unwrap_err();
    let good = lesson_with("happy-path", "");
    let catalog = vec![
        txlab_tui::Entry {
            name: "happy-path".into(),
            scenario: Ok(good.clone()),
        },
        txlab_tui::Entry {
            name: "./broken.toml".into(),
            scenario: Err(err.to_string()),
        },
    ];
    let mut a = App::new(good, catalog);
    a.update(Action::Picker);
    let s = screen(&a, 160, 40);
    assert!(s.contains("✗ ./broken.toml"), "{s}");
    assert!(s.contains("cannot load: ./broken.toml:2:8"), "{s}");
    // Opening it says why instead of opening it.
    a.update(Action::Down);
    a.update(Action::Confirm);
    assert!(a.status.contains("./broken.toml:2:8"), "{}", a.status);
    assert_eq!(a.rec.scenario.name(), "happy-path");
}

#[test]
fn an_active_filter_is_shown() {
    let mut a = App::new(lesson_with("happy-path", ""), Vec::new());
    assert!(!screen(&a, 160, 40).contains("filter “"));
    a.update(Action::Filter);
    for c in "pay".chars() {
        a.update(Action::Char(c));
    }
    a.update(Action::Confirm);
    assert!(screen(&a, 160, 40).contains("filter “pay” (esc clears)"));
    a.update(Action::Back);
    assert!(!screen(&a, 160, 40).contains("filter “"));
}

// ---- messages in the workload's words ----

/// Every saga message of every lesson is labelled by what it does to the
/// workload ("reserve hotel T0"), never by step numbers or sequence
/// numbers ("action step 1 T0 try 1", "publish step 1 done T0 seq 0").
#[test]
fn saga_messages_speak_the_workloads_words() {
    use txlab_sim::engine::EventKind;
    let mut names: Vec<String> = std::fs::read_dir(LESSONS)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    let mut seen = 0;
    for name in names {
        let a = App::new(lesson_with(&name, ""), Vec::new());
        for run in &a.rec.panes {
            let trace = run.world.trace();
            let wf = &run.spec.workflow;
            for e in trace.events() {
                let EventKind::Send { msg, .. } = e.kind else {
                    continue;
                };
                let m = trace.message(msg).unwrap();
                let l = txlab_tui::words::message(m, wf);
                assert!(!l.contains("step "), "{name}: {l} (was {})", m.label());
                assert!(!l.contains("seq "), "{name}: {l}");
                seen += 1;
            }
        }
    }
    assert!(seen > 1000);
    // The happy path's hotel step, in its own words.
    let a = App::new(lesson_with("happy-path", ""), Vec::new());
    let wf = &a.rec.panes[1].spec.workflow;
    let hotel = wf
        .steps
        .iter()
        .position(|s| s.name == "book hotel")
        .unwrap();
    let step = txlab_sim::protocols::workload::StepId(hotel as u16);
    let op = txlab_sim::protocols::workload::Op::Action;
    assert_eq!(txlab_tui::words::done(wf, step, op), "reserved hotel");
    let pay = wf
        .steps
        .iter()
        .position(|s| s.name == "charge card")
        .unwrap();
    let step = txlab_sim::protocols::workload::StepId(pay as u16);
    let undo = txlab_sim::protocols::workload::Op::Compensation;
    assert_eq!(txlab_tui::words::doing(wf, step, undo), "refund sam 100");
}

/// The help says once what the transaction ids stand for.
#[test]
fn the_help_explains_the_transaction_ids() {
    let mut a = App::new(lesson_with("happy-path", ""), Vec::new());
    a.update(Action::Help);
    let s = screen(&a, 200, 60);
    assert!(s.contains("T0 = the one transaction (book"), "{s}");
}

/// At 120×30 a long narration is shown whole (the box grows to five
/// lines): `countermeasure-by_value`'s compensation line is 554
/// characters, five lines at 120 columns, and its last words say what
/// the lesson is about (order 5 refused, never oversold). The box used to
/// hold three lines and cut it mid-sentence.
#[test]
fn a_long_narration_is_shown_whole_at_120_by_30() {
    let text = std::fs::read_to_string(format!("{LESSONS}/countermeasure-by_value.toml")).unwrap();
    let s = Scenario::parse(text.as_bytes(), "countermeasure-by_value").unwrap();
    let mut a = App::new(s, Vec::new());
    let mut shown = false;
    while a.cursor < a.rec.steps.len() && !shown {
        a.update(Action::StepForward);
        let narration = a.narration().unwrap_or_default();
        if narration.starts_with("Order 1, a double order") {
            let flat = screen(&a, 120, 30)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(flat.contains("never oversold."), "{flat}");
            shown = true;
        }
    }
    assert!(shown, "the compensation narration appears");
}
