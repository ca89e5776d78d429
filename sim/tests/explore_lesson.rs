//! The lesson `explore-2pc-three-participants` quotes the explorer's
//! numbers in its narration and questions. This runs the explorer on the
//! lesson and checks both what theory says about the result and that every
//! number the lesson quotes is the one the explorer finds, so the lesson
//! cannot drift from the tool.

use txlab_sim::engine::Choice;
use txlab_sim::explore::{Explored, Options, explore};
use txlab_sim::lab::explore_model::WorldModel;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;

const LESSON: &str = include_str!("../../scenarios/explore-2pc-three-participants.toml");

fn lesson() -> Scenario {
    Scenario::parse(LESSON.as_bytes(), "explore-2pc-three-participants").unwrap()
}

/// What a reader of the lesson sees: takeaway, narration and questions.
fn lesson_text(s: &Scenario) -> String {
    let mut text = s.file.takeaway.clone();
    for n in &s.file.narration {
        text.push('\n');
        text.push_str(&n.text);
    }
    for q in &s.file.question {
        text.push('\n');
        text.push_str(&q.prompt);
        for c in &q.choices {
            text.push('\n');
            text.push_str(c);
        }
        text.push('\n');
        text.push_str(&q.explain);
    }
    text
}

/// `n` as the lesson writes it: thousands separated by commas.
fn words(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn search(model: &WorldModel) -> Explored<Choice> {
    explore(model, &Options::default(), &|_| {})
}

fn assert_quoted(text: &str, what: &str, n: u64) {
    let n = words(n);
    assert!(text.contains(&n), "the lesson should quote {what} = {n}");
}

#[test]
fn thousands_are_written_as_the_lesson_writes_them() {
    assert_eq!(words(7), "7");
    assert_eq!(words(196), "196");
    assert_eq!(words(13_745), "13,745");
    assert_eq!(words(1_745_408), "1,745,408");
}

#[test]
fn the_lesson_quotes_what_the_explorer_finds() {
    let s = lesson();
    let text = lesson_text(&s);
    let spec = s.spec_for(Protocol::TwoPc);

    // Without faults: every participant votes YES and nothing fails, so
    // every order of deliveries and writes ends committed, in one state.
    let calm = search(&WorldModel::new(&spec, 0));
    assert!(calm.complete && calm.violations.is_empty());
    assert_eq!(calm.terminal.len(), 1, "{:?}", calm.terminal);
    assert_eq!(calm.terminal.get("committed"), Some(&1));
    assert_quoted(&text, "states without faults", calm.distinct_states);

    // One crash (a crashed node stays down, the budget has no restart
    // left). End states are distinct configurations, derived here from
    // THEORY.md's 2PC with presumed abort before looking at the count:
    // - committed 6: no crash (1); the coordinator down after COMMIT is
    //   on its disk, before or after its END record (2); one participant
    //   down after its outcome record (3);
    // - blocked 1: the coordinator down before COMMIT is durable, after
    //   the PREPAREs left: all three vote YES and stay in doubt, with no
    //   peer that knows (Skeen);
    // - down in doubt 3: one participant down after its YES vote, before
    //   COMMIT reached it; the others commit, the coordinator keeps the
    //   decision without END (nobody waits: it learns on restart);
    // - aborted 3: one participant down before its PREPARED record is
    //   durable; the coordinator's vote timeout aborts the others;
    // - unfinished 2: the coordinator down before the request reached it,
    //   the crash before or after the client sent it (a fault moves the
    //   clock, and the client remembers when it sent).
    let crash = search(&WorldModel::new(&spec, 1).crashes_only());
    assert!(crash.complete, "the space is finite and was exhausted");
    assert!(crash.violations.is_empty(), "{:?}", crash.violations);
    let got: Vec<(&str, u64)> = crash
        .terminal
        .iter()
        .map(|(o, n)| (o.as_str(), *n))
        .collect();
    let want = [
        ("aborted", 3),
        ("blocked", 1),
        ("committed", 6),
        ("down in doubt", 3),
        ("unfinished", 2),
    ];
    assert_eq!(got, want);
    let ends: u64 = crash.terminal.values().sum();
    assert_quoted(&text, "end states", ends);
    for (outcome, n) in &crash.terminal {
        let phrase = format!("{n} {outcome}");
        assert!(text.contains(&phrase), "the lesson should say \"{phrase}\"");
    }
    assert_quoted(&text, "states with one crash", crash.distinct_states);
    assert_quoted(&text, "transitions with one crash", crash.transitions);
    assert_quoted(&text, "the longest path", u64::from(crash.max_depth));
    // Pinned before the work on the explorer's speed (see
    // explore_pinned.rs): the lesson's figures.
    assert_eq!(
        (crash.distinct_states, crash.transitions, crash.max_depth),
        (13_745, 32_941, 36)
    );
}

/// Negative control: a lesson that quotes a wrong figure is caught.
#[test]
#[should_panic(expected = "should quote")]
fn a_wrong_figure_is_caught() {
    let text = lesson_text(&lesson()).replace("13,745", "13,754");
    assert_quoted(&text, "states with one crash", 13_745);
}
