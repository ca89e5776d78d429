//! No sequence of user actions, at any terminal size, makes the UI panic:
//! a panic in front of a workshop room is the worst failure it can have.

use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use txlab_sim::lab::scenario::Scenario;
use txlab_tui::action::Action;
use txlab_tui::app::{App, Entry};
use txlab_tui::view::MainScreen;

fn lesson(i: usize) -> Scenario {
    let (name, text) = [
        (
            "happy-path",
            include_str!("../../scenarios/happy-path.toml"),
        ),
        (
            "lost-event-no-outbox",
            include_str!("../../scenarios/lost-event-no-outbox.toml"),
        ),
        (
            "latency-buildup",
            include_str!("../../scenarios/latency-buildup.toml"),
        ),
    ][i % 3];
    // Questions too, so quiz mode is part of the fuzzing.
    let text = format!("{text}\n{QUESTIONS}");
    Scenario::parse(text.as_bytes(), name).unwrap()
}

const QUESTIONS: &str = "[[question]]\nat_ms = 5\nprompt = \"p\"\nchoices = [\"a\", \"b\"]\n\
    answer = 1\n[[question]]\non = \"decision\"\nprotocol = \"2pc\"\nprompt = \"q\"\n\
    choices = [\"a\", \"b\", \"c\"]\nanswer = 0\nexplain = \"e\"\n";

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::ToggleQuiz),
        (0..10usize).prop_map(Action::Answer),
        Just(Action::TogglePlay),
        Just(Action::Tick),
        Just(Action::StepForward),
        Just(Action::StepBack),
        Just(Action::TimeForward),
        Just(Action::TimeBack),
        Just(Action::SpeedUp),
        Just(Action::SpeedDown),
        Just(Action::JumpStart),
        Just(Action::JumpEnd),
        (0.0..=1.0f64).prop_map(Action::Seek),
        Just(Action::FocusNext),
        Just(Action::FocusPrev),
        Just(Action::ToggleZoom),
        Just(Action::Up),
        Just(Action::Down),
        Just(Action::NextMessage),
        Just(Action::Confirm),
        Just(Action::CrashRestart),
        Just(Action::DropMessage),
        Just(Action::DuplicateMessage),
        Just(Action::PartitionHeal),
        Just(Action::ToggleMirror),
        Just(Action::SaveBranch),
        Just(Action::UndoBranch),
        Just(Action::CycleTx),
        Just(Action::Export),
        Just(Action::Help),
        Just(Action::Picker),
        Just(Action::Filter),
        Just(Action::Back),
        Just(Action::Backspace),
        prop_oneof![Just('a'), Just('s'), Just('z')].prop_map(Action::Char),
        (0..3usize, proptest::option::of(0..8usize))
            .prop_map(|(pane, node)| Action::Click { pane, node }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_never_panic(
        start in 0..3usize,
        actions in proptest::collection::vec(action(), 1..60),
        w in 20..220u16,
        h in 8..60u16,
    ) {
        let catalog = (0..3).map(|i| Entry { name: format!("l{i}"), scenario: Ok(lesson(i)) }).collect();
        let mut app = App::new(lesson(start), catalog);
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        for a in actions {
            app.update(a);
            app.save = None;
            t.draw(|f| f.render_widget(&MainScreen(&app), f.area())).unwrap();
        }
    }
}
