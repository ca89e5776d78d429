//! The UI without a terminal: keys to state, rendering into a test buffer,
//! snapshots at three sizes, colours, help coverage, and stepping back.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use txlab_sim::lab::scenario::Scenario;
use txlab_tui::action::{Action, KEYMAP, action_for};
use txlab_tui::app::{App, Entry, Overlay};
use txlab_tui::fold::Phase;
use txlab_tui::view::MainScreen;

fn lesson(name: &str) -> Scenario {
    let text = match name {
        "happy-path" => include_str!("../../scenarios/happy-path.toml"),
        "flight-sold-out" => include_str!("../../scenarios/flight-sold-out.toml"),
        "coordinator-crash-after-prepare" => {
            include_str!("../../scenarios/coordinator-crash-after-prepare.toml")
        }
        "lost-event-no-outbox" => include_str!("../../scenarios/lost-event-no-outbox.toml"),
        other => panic!("no lesson {other} in this test"),
    };
    Scenario::parse(text.as_bytes(), name).expect("lesson parses")
}

fn app(name: &str) -> App {
    let catalog = ["happy-path", "flight-sold-out"]
        .iter()
        .map(|n| Entry {
            name: n.to_string(),
            scenario: Ok(lesson(n)),
        })
        .collect();
    App::new(lesson(name), catalog)
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| f.render_widget(&MainScreen(app), f.area()))
        .unwrap();
    t
}

fn text(buf: &Buffer) -> String {
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn steps(app: &mut App, n: usize) {
    for _ in 0..n {
        app.update(Action::StepForward);
    }
}

#[test]
fn keys_map_to_actions_and_actions_change_state() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
    assert_eq!(
        action_for(key(KeyCode::Char(' ')), false),
        Some(Action::TogglePlay)
    );
    assert_eq!(
        action_for(key(KeyCode::Left), false),
        Some(Action::PrevChange)
    );
    assert_eq!(
        action_for(key(KeyCode::Char(',')), false),
        Some(Action::StepBack),
        "a raw-event step stays available"
    );
    assert_eq!(
        action_for(
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            false
        ),
        Some(Action::Quit)
    );
    assert_eq!(
        action_for(key(KeyCode::Char('q')), true),
        Some(Action::Char('q')),
        "typing a filter"
    );

    let mut a = app("coordinator-crash-after-prepare");
    a.update(Action::TogglePace);
    assert!(!a.sim_pace, "events-per-second mode");
    a.update(Action::TogglePlay);
    assert!(a.playing);
    a.update(Action::Tick);
    a.update(Action::Tick);
    assert_eq!(a.cursor, 2, "ticks advance while playing");
    a.update(Action::TogglePlay);
    a.update(Action::Tick);
    assert_eq!(a.cursor, 2, "and not while paused");
    a.update(Action::TogglePace);
    a.update(Action::JumpEnd);
    assert_eq!(a.cursor, a.rec.steps.len());
    a.update(Action::StepForward);
    assert_eq!(a.cursor, a.rec.steps.len(), "stops at the end");
    a.update(Action::JumpStart);
    a.update(Action::StepBack);
    assert_eq!(a.cursor, 0, "stops at the start");
    a.update(Action::FocusNext);
    a.update(Action::FocusNext);
    assert_eq!(a.focus, 2);
    a.update(Action::FocusNext);
    assert_eq!(a.focus, 0);
    a.update(Action::ToggleZoom);
    assert!(a.zoom);
    let before = a.pace();
    a.update(Action::SpeedUp);
    assert_ne!(a.pace(), before, "faster");
    a.update(Action::Seek(0.5));
    assert_eq!(a.cursor, (a.rec.steps.len() as f64 * 0.5).round() as usize);
    a.update(Action::TimeForward);
    assert!(a.now() > txlab_sim::engine::SimTime::ZERO);
    a.update(Action::Help);
    assert_eq!(a.overlay, Overlay::Help);
    a.update(Action::Back);
    assert_eq!(a.overlay, Overlay::None);
    a.update(Action::Quit);
    assert!(a.quit);
}

#[test]
fn nodes_can_be_selected_filtered_and_inspected() {
    let mut a = app("coordinator-crash-after-prepare");
    a.update(Action::Down);
    a.update(Action::Down);
    assert_eq!(a.node, 2);
    a.update(Action::Filter);
    for c in "pay".chars() {
        a.update(Action::Char(c));
    }
    a.update(Action::Confirm);
    assert_eq!(a.visible_nodes(0), vec![4]);
    a.update(Action::Down);
    assert_eq!(a.node, 4);
    a.update(Action::Confirm);
    assert!(matches!(a.overlay, Overlay::Inspect(_)));
    let screen = text(render(&a, 120, 40).backend().buffer());
    assert!(screen.contains("payment (2PC participant)"), "{screen}");
    a.update(Action::Back);
    a.update(Action::Back);
    assert!(a.filter.is_empty());
}

#[test]
fn injecting_a_crash_branches_the_run_and_keeps_the_past() {
    let mut a = app("happy-path");
    steps(&mut a, 40);
    let before: Vec<_> = a.panes.clone();
    let hashes: Vec<String> = a
        .rec
        .panes
        .iter()
        .map(|p| p.report.trace_hash.clone())
        .collect();
    a.update(Action::Down); // car
    a.update(Action::CrashRestart);
    assert_eq!(a.rec.injected.len(), 1);
    assert_eq!(a.rec.injected[0].panes, vec![0, 1, 2], "mirrored");
    assert_eq!(a.panes, before, "the screen up to the cursor is unchanged");
    for (p, old) in a.rec.panes.iter().zip(&hashes) {
        assert_ne!(&p.report.trace_hash, old, "{:?} branched", p.protocol);
    }
    a.update(Action::TimeForward);
    assert!(a.panes.iter().all(|p| p.nodes[1].phase == Phase::Crashed));
    // Mirror off: the next fault goes to the focused pane only.
    a.update(Action::ToggleMirror);
    a.update(Action::CrashRestart);
    assert_eq!(a.rec.injected[1].panes, vec![0]);
    // The branch saves as a scenario that loads and names the faults.
    a.update(Action::SaveBranch);
    let save = a.save.clone().expect("a save request");
    let s =
        Scenario::parse(save.text.as_bytes(), &save.path).expect("the branch is a valid scenario");
    assert_eq!(s.file.faults.len(), 2);
    assert_eq!(s.file.faults[0].crash.as_deref(), Some("car"));
}

#[test]
fn partition_and_message_faults_from_the_ui() {
    let mut a = app("happy-path");
    while a.panes[0].in_flight.is_empty() {
        a.update(Action::StepForward);
    }
    a.update(Action::NextMessage);
    let m = a.message.expect("a message is in flight");
    let victim = a.panes[0].in_flight[m].id;
    a.update(Action::DropMessage);
    let drops = a.rec.panes[0].world.trace().events().iter().filter(|e| {
        matches!(e.kind, txlab_sim::engine::EventKind::Drop { msg, reason: txlab_sim::engine::DropReason::Injected, .. } if msg == victim)
    }).count();
    assert_eq!(drops, 1);
    a.update(Action::PartitionHeal);
    assert!(matches!(
        a.rec.injected.last().unwrap().fault,
        txlab_sim::engine::Fault::Partition { .. }
    ));
    a.update(Action::PartitionHeal);
    assert!(matches!(
        a.rec.injected.last().unwrap().fault,
        txlab_sim::engine::Fault::HealAll
    ));
}

#[test]
fn picker_and_sweep_open_scenarios() {
    let mut a = app("happy-path");
    a.update(Action::Picker);
    a.update(Action::Down);
    a.update(Action::Confirm);
    assert_eq!(a.rec.scenario.name(), "flight-sold-out");
    let mut b = app("happy-path");
    b.update(Action::Sweep);
    let Overlay::Sweep { result, .. } = &b.overlay else {
        panic!("sweep overlay");
    };
    assert_eq!(
        result.outcomes[0].get("committed"),
        Some(&(App::SWEEP_SEEDS as u32))
    );
    let screen = text(render(&b, 120, 40).backend().buffer());
    assert!(screen.contains("violating seeds: 0"), "{screen}");
    // The title counts the seeds run, and names the last one run.
    let first = b.rec.scenario.file.seed;
    let title = format!(
        "sweep: {} seeds, {first} to {}",
        App::SWEEP_SEEDS,
        first + App::SWEEP_SEEDS - 1
    );
    assert!(screen.contains(&title), "{title} in {screen}");
}

#[test]
fn step_back_after_step_forward_returns_the_identical_screen() {
    for name in ["coordinator-crash-after-prepare", "lost-event-no-outbox"] {
        let mut a = app(name);
        for k in 0..a.rec.steps.len().min(400) {
            let here = render(&a, 200, 50).backend().buffer().clone();
            a.update(Action::StepForward);
            a.update(Action::StepBack);
            let again = render(&a, 200, 50).backend().buffer().clone();
            assert_eq!(here, again, "{name}: step {k}");
            a.update(Action::StepForward);
        }
    }
}

/// The help's pages at `w`×`h`, in the order `?` shows them.
fn help_screens(w: u16, h: u16) -> Vec<String> {
    let mut a = app("happy-path");
    a.update(Action::Help);
    let pages = txlab_tui::view::help_page_count(h);
    (0..pages)
        .map(|_| {
            let s = text(render(&a, w, h).backend().buffer());
            a.update(Action::Help);
            s
        })
        .collect()
}

/// Every binding and every legend entry is on some page, whole (not cut
/// by a column), at every size down to 80×24.
#[test]
fn every_keymap_entry_appears_in_the_help() {
    for (w, h) in [(80, 24), (120, 30), (120, 40), (200, 50)] {
        let pages = help_screens(w, h);
        let all = pages.concat();
        for b in KEYMAP {
            let line = format!("{:<10} {}", b.keys, b.what);
            assert!(all.contains(&line), "{w}x{h}: {line}");
        }
        for (sym, what) in txlab_tui::view::LEGEND {
            assert!(all.contains(sym) && all.contains(what), "{w}x{h}: {what}");
        }
    }
}

/// At 80×24 the help used to need every row (44 bindings in two columns
/// over the title line and the key bar); now it has pages, each leaving
/// the title line (the first row) and the last row of the screen alone.
#[test]
fn the_help_at_80x24_has_pages_that_leave_the_screen_edges_alone() {
    let pages = help_screens(80, 24);
    assert_eq!(pages.len(), 4, "two pages of keys, two of legend");
    let main = text(render(&app("happy-path"), 80, 24).backend().buffer());
    let first = |s: &str| s.lines().next().unwrap_or("").to_string();
    let last = |s: &str| s.lines().last().unwrap_or("").to_string();
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(first(p), first(&main), "page {i}: the title line");
        assert_eq!(last(p), last(&main), "page {i}: the last row");
        assert!(p.contains(&format!("page {} of 4", i + 1)), "{p}");
    }
    // The key to the transaction ids wraps rather than being cut to
    // "tra." and "hot." (as it was on one line at 80 columns).
    let all = pages.concat();
    assert!(
        all.contains("T0 = the one transaction (book car → book hotel → book flight"),
        "{all}"
    );
    assert!(all.contains("arriving at 1 ms"), "{all}");
    // ? goes round: after the last page, the first again.
    let mut a = app("happy-path");
    for _ in 0..5 {
        a.update(Action::Help);
    }
    assert_eq!(text(render(&a, 80, 24).backend().buffer()), pages[0]);
}

#[test]
fn help_snapshots() {
    for (i, p) in help_screens(80, 24).iter().enumerate() {
        insta::assert_snapshot!(format!("help_80x24_page{}", i + 1), p);
    }
    for (i, p) in help_screens(120, 30).iter().enumerate() {
        insta::assert_snapshot!(format!("help_120x30_page{}", i + 1), p);
    }
}

/// The first cell of `word` on screen.
fn cell_of<'a>(buf: &'a Buffer, word: &str) -> Option<&'a ratatui::buffer::Cell> {
    let s = text(buf);
    let (y, line) = s.lines().enumerate().find(|(_, l)| l.contains(word))?;
    let col = line[..line.find(word)?].chars().count() as u16;
    Some(&buf[(col, y as u16)])
}

/// The colour of the first cell of `word` on screen.
fn colour_of(buf: &Buffer, word: &str) -> Option<Color> {
    cell_of(buf, word).map(|c| c.fg)
}

/// The background of the first cell of `word` on screen.
fn background_of(buf: &Buffer, word: &str) -> Option<Color> {
    cell_of(buf, word).map(|c| c.bg)
}

#[test]
fn state_cells_have_their_colours_and_words() {
    let mut a = app("coordinator-crash-after-prepare");
    while !a.panes[0].nodes.iter().any(|n| n.phase == Phase::InDoubt) {
        a.update(Action::StepForward);
    }
    let t = render(&a, 200, 50);
    let buf = t.backend().buffer();
    // The states that matter most stand on a background of their own:
    // CRASHED used to be dim grey strikethrough, the hardest to see.
    assert_eq!(colour_of(buf, "IN DOUBT"), Some(Color::White));
    assert_eq!(background_of(buf, "IN DOUBT"), Some(Color::Magenta));
    assert_eq!(colour_of(buf, "CRASHED"), Some(Color::White));
    assert_eq!(background_of(buf, "CRASHED"), Some(Color::Red));
    a.update(Action::JumpStart);
    while !a.panes[0].nodes.iter().any(|n| n.phase == Phase::Prepared) {
        a.update(Action::StepForward);
    }
    assert_eq!(
        colour_of(render(&a, 200, 50).backend().buffer(), "PREPARED"),
        Some(Color::Yellow)
    );
    a.update(Action::JumpEnd);
    let buf = render(&a, 200, 50).backend().buffer().clone();
    assert_eq!(colour_of(&buf, "aborted"), Some(Color::LightRed));
}

#[test]
fn a_too_small_terminal_gets_a_clear_message() {
    let a = app("happy-path");
    let screen = text(render(&a, 50, 15).backend().buffer());
    assert!(screen.contains("needs at least 60"), "{screen}");
}

#[test]
fn main_screen_snapshots() {
    let cases = [
        ("happy-path", 30usize),
        ("coordinator-crash-after-prepare", 120),
        ("flight-sold-out", usize::MAX),
    ];
    for (name, at) in cases {
        let mut a = app(name);
        if at == usize::MAX {
            a.update(Action::JumpEnd);
        } else {
            steps(&mut a, at);
        }
        for (w, h) in [(80, 24), (120, 40), (200, 50)] {
            let t = render(&a, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
        }
    }
}

#[test]
fn a_restarted_coordinator_shows_that_it_recovered() {
    let mut a = app("coordinator-crash-after-prepare");
    // Step until the coordinator is back up.
    let mut was_down = false;
    loop {
        a.update(Action::StepForward);
        let phase = a.panes[0].nodes[0].phase;
        was_down |= phase == Phase::Crashed;
        if was_down && phase != Phase::Crashed {
            break;
        }
    }
    assert_eq!(a.panes[0].nodes[0].detail, "recovered from its log");
}

#[test]
fn clicking_a_node_line_focuses_its_pane_and_selects_it() {
    use ratatui::layout::Rect;
    use txlab_tui::view::pane_at;
    let mut a = app("happy-path");
    let screen = Rect::new(0, 0, 200, 50);
    // Full layout: the third pane starts two thirds across; its fourth node
    // line is the fourth row under the border.
    let hit = pane_at(&a, screen, 150, 2 + 3).expect("inside a pane");
    assert_eq!(hit, (2, Some(3)));
    a.update(Action::Click {
        pane: hit.0,
        node: hit.1,
    });
    assert_eq!((a.focus, a.node), (2, 3));
    assert_eq!(pane_at(&a, screen, 5, 0), None, "the title line is no pane");
    // Compact layout: the summary lines pick the other panes.
    let small = Rect::new(0, 0, 80, 24);
    let summary_row = (0..24)
        .rev()
        .find(|y| matches!(pane_at(&a, small, 5, *y), Some((_, None))))
        .unwrap();
    assert_ne!(pane_at(&a, small, 5, summary_row).unwrap().0, a.focus);
}

/// Regression (found by tests/fuzz.rs): a click naming a node the pane does
/// not have used to select it, and the next render indexed past the nodes.
#[test]
fn a_click_on_a_node_that_does_not_exist_selects_nothing() {
    let mut a = app("happy-path");
    a.update(Action::Click {
        pane: 1,
        node: Some(9),
    });
    assert_eq!((a.focus, a.node), (1, 0));
    a.update(Action::Inspect);
    render(&a, 120, 40);
}

#[test]
fn inspecting_the_broker_shows_the_tracker() {
    let mut a = app("happy-path");
    a.update(Action::JumpEnd);
    a.update(Action::FocusNext);
    a.update(Action::FocusNext); // the choreography; node 0 is the broker
    a.update(Action::Inspect);
    let screen = text(render(&a, 200, 50).backend().buffer());
    assert!(screen.contains("tracker (each saga rebuilt"), "{screen}");
    assert!(screen.contains("T0: completed"), "{screen}");
}

/// Step until the focused pane shows a message in flight, select it and
/// apply `action` to it.
fn hit_a_message(a: &mut App, action: Action) {
    for _ in 0..400 {
        if !a.panes[a.focus].in_flight.is_empty() {
            a.update(Action::NextMessage);
            return a.update(action);
        }
        a.update(Action::StepForward);
    }
    panic!("no message in flight in pane {}", a.focus);
}

#[test]
fn a_saved_branch_with_message_faults_replays_the_screen_exactly() {
    let mut a = app("happy-path");
    // In each protocol's pane: a drop and a duplicate; then, mirror off,
    // a crash and a restart in one pane; then a crash in all three.
    a.update(Action::ToggleMirror);
    for _ in 0..3 {
        steps(&mut a, 3);
        hit_a_message(&mut a, Action::DropMessage);
        steps(&mut a, 2);
        hit_a_message(&mut a, Action::DuplicateMessage);
        a.update(Action::FocusNext);
    }
    a.update(Action::FocusPrev);
    a.update(Action::Down);
    a.update(Action::CrashRestart);
    steps(&mut a, 6);
    a.update(Action::CrashRestart);
    a.update(Action::ToggleMirror);
    a.update(Action::Down);
    a.update(Action::CrashRestart);
    assert_eq!(a.rec.injected.len(), 9);
    let kinds = |f: &dyn Fn(&txlab_sim::engine::Fault) -> bool| {
        a.rec.injected.iter().filter(|i| f(&i.fault)).count()
    };
    use txlab_sim::engine::Fault;
    assert_eq!(kinds(&|f| matches!(f, Fault::DropMessage(_))), 3);
    assert_eq!(kinds(&|f| matches!(f, Fault::DuplicateMessage(_))), 3);
    a.update(Action::SaveBranch);
    let save = a.save.clone().expect("a save request");
    assert!(!a.status.contains("rounded"), "{}", a.status);
    let s = Scenario::parse(save.text.as_bytes(), &save.path)
        .unwrap_or_else(|e| panic!("{e}\n{}", save.text));
    let written = |f: &dyn Fn(&txlab_sim::lab::scenario::format::FaultFile) -> bool| {
        s.file.faults.iter().filter(|x| f(x)).count()
    };
    assert_eq!(written(&|x| x.drop.is_some()), 3, "{}", save.text);
    assert_eq!(written(&|x| x.duplicate.is_some()), 3, "{}", save.text);
    assert_eq!(written(&|x| x.after.is_some()), 3, "{}", save.text);
    for (i, pane) in a.rec.panes.iter().enumerate() {
        let replay = txlab_sim::lab::run(&s.spec_for(pane.protocol));
        assert_eq!(
            replay.report.trace_hash, pane.report.trace_hash,
            "{:?} (pane {i}) replays differently:\n{}",
            pane.protocol, save.text
        );
    }
    // Negative control: the same file without its message faults is a
    // different run in every pane.
    let mut f = s.file.clone();
    f.faults
        .retain(|x| x.drop.is_none() && x.duplicate.is_none());
    let plain = Scenario::from_file(f, "plain", Default::default()).unwrap();
    for pane in &a.rec.panes {
        let other = txlab_sim::lab::run(&plain.spec_for(pane.protocol));
        assert_ne!(other.report.trace_hash, pane.report.trace_hash);
    }
}
