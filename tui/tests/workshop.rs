//! The UI in a workshop room (issue 12): pacing in simulated time, jumping
//! between moments, steps that always change the picture, words instead of
//! debug text, themes that keep their contrast, and a diagram that scrolls
//! and keeps its faults in view.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use txlab_sim::engine::SimTime;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;
use txlab_tui::action::Action;
use txlab_tui::app::{App, FRAME, Overlay, Pace, Theme};
use txlab_tui::fold::Phase;
use txlab_tui::view::MainScreen;
use txlab_tui::view::style;

const LESSONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

fn lesson(name: &str) -> Scenario {
    let path = format!("{LESSONS}/{name}.toml");
    let text = std::fs::read_to_string(&path).expect("lesson file");
    Scenario::parse(text.as_bytes(), name).expect("lesson parses")
}

/// Every lesson in scenarios/.
fn lessons() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(LESSONS)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    assert!(names.len() >= 9, "the lesson library is there");
    names
}

fn app(name: &str) -> App {
    App::new(lesson(name), Vec::new())
}

fn render(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| f.render_widget(&MainScreen(app), f.area()))
        .unwrap();
    t.backend().buffer().clone()
}

fn lines(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

fn text(buf: &Buffer) -> String {
    lines(buf).join("\n")
}

// ---- pacing ----

/// Guards against play jumping ahead after a pause (the clock must stop):
/// however long the pause, the first tick after it moves the play clock by
/// one frame's worth of simulated time.
#[test]
fn pausing_then_playing_advances_by_one_tick_only() {
    let mut a = app("coordinator-crash-after-prepare");
    let Pace::SimMs(rate) = a.pace() else {
        panic!("plays in simulated time by default")
    };
    let per_tick = SimTime(u64::from(rate) * FRAME.as_micros() as u64 / 1_000);
    a.update(Action::TogglePlay);
    a.update(Action::Tick);
    assert_eq!(a.clock, per_tick);
    a.update(Action::TogglePlay);
    // Ticks that arrive while paused are ignored.
    for _ in 0..1_000 {
        a.update(Action::Tick);
    }
    assert_eq!(a.clock, per_tick, "the clock stops while paused");
    a.update(Action::TogglePlay);
    a.update(Action::Tick);
    let expected = a.now().max(per_tick) + per_tick;
    assert!(a.clock <= expected, "one tick's worth: {:?}", a.clock);
    assert!(a.clock > per_tick);
}

/// A quiet stretch takes as long as the simulated time it covers: at
/// 20 ms/s the 500 ms of blocking in this lesson is many ticks, not one.
#[test]
fn play_in_simulated_time_makes_a_long_block_look_long() {
    let mut a = app("coordinator-crash-after-prepare");
    assert_eq!(a.pace(), Pace::SimMs(20));
    a.update(Action::TogglePlay);
    let mut ticks = 0;
    while a.playing {
        a.update(Action::Tick);
        ticks += 1;
        assert!(ticks < 100_000, "play ends");
    }
    let end_ms = a.rec.end_time().0 as f64 / 1_000.0;
    let per_tick_ms = 20.0 * FRAME.as_secs_f64();
    assert!(
        f64::from(ticks) >= end_ms / per_tick_ms - 1.0,
        "{ticks} ticks for {end_ms} ms"
    );
    assert_eq!(a.cursor, a.rec.steps.len(), "play reaches the end");
    // Space at the end plays again from the start.
    a.update(Action::TogglePlay);
    assert!(a.playing);
    assert_eq!(a.cursor, 0);
}

/// `n` lands on each narration line in order (and `N` comes back).
#[test]
fn n_lands_on_each_narration_in_order() {
    for name in lessons() {
        let mut a = app(&name);
        let lines = a.rec.scenario.file.narration.clone();
        // (cursor, file index, text); 2PC's pane has the focus.
        let mut expected: Vec<(usize, usize, String)> = lines
            .iter()
            .zip(&a.rec.narration_at)
            .enumerate()
            .filter_map(|(i, (n, at))| Some(((*at)?, i, txlab_tui::moments::narration_text(n))))
            .collect();
        expected.sort_by_key(|(c, i, _)| (*c, *i));
        let mut seen: Vec<String> = Vec::new();
        let mut landings = Vec::new();
        loop {
            let before = a.cursor;
            a.update(Action::NextMoment);
            if a.cursor == before {
                break;
            }
            assert!(a.cursor > before, "{name}: n goes forward");
            landings.push(a.cursor);
            if let Some(t) = a.narration() {
                if seen.last() != Some(&t) {
                    seen.push(t);
                }
            }
        }
        // Every narration line is on screen at some landing, in order;
        // lines reached at the same simulated time show together, 2PC's
        // (the focused pane's) first, then in file order.
        let mut want: Vec<String> = Vec::new();
        let mut times: Vec<_> = expected.iter().map(|(c, _, _)| a.rec.time_at(*c)).collect();
        times.dedup();
        for time in times {
            let mut group: Vec<&(usize, usize, String)> = expected
                .iter()
                .filter(|(c, _, _)| a.rec.time_at(*c) == time)
                .collect();
            let two_pc = |i: usize| lines[i].protocol == Some(Protocol::TwoPc);
            group.sort_by_key(|(_, i, _)| (!two_pc(*i), *i));
            let text: Vec<&str> = group.iter().map(|(_, _, t)| t.as_str()).collect();
            let text = text.join("  ·  ");
            if want.last() != Some(&text) {
                want.push(text);
            }
        }
        assert_eq!(seen, want, "{name}");
        for (c, _, t) in &expected {
            assert!(
                landings
                    .iter()
                    .any(|l| l >= c && a.rec.time_at(*l) == a.rec.time_at(*c)),
                "{name}: no stop where {t:?} begins"
            );
        }
        // And N walks back over the same stops.
        for want in landings.iter().rev().skip(1) {
            a.update(Action::PrevMoment);
            assert_eq!(a.cursor, *want, "{name}: N");
        }
    }
}

/// Negative control for the test above: without moments, `n` stays put.
#[test]
fn n_without_moments_stays_put() {
    let mut a = app("happy-path");
    a.rec.moments.clear();
    a.update(Action::NextMoment);
    assert_eq!(a.cursor, 0);
    assert!(a.status.contains("no more moments"), "{}", a.status);
}

/// The picture without the lines that move on every step anyway (title
/// time, timeline counter).
fn picture(app: &App) -> Vec<String> {
    let buf = render(app, 200, 50);
    let a = txlab_tui::view::areas(buf.area, app);
    lines(&buf)
        .into_iter()
        .enumerate()
        .filter(|(y, _)| *y as u16 != a.title.y && *y as u16 != a.timeline.y)
        .map(|(_, l)| l)
        .collect()
}

/// → always changes what is drawn (59 of the first 100 raw steps did not),
/// and ← returns to the picture before.
#[test]
fn stepping_forward_always_changes_the_drawn_frame() {
    for name in [
        "coordinator-crash-after-prepare",
        "concurrent-sagas-anomaly",
    ] {
        let mut a = app(name);
        let mut raw_silent = 0;
        let mut b = app(name);
        for _ in 0..100.min(b.rec.steps.len()) {
            let here = picture(&b);
            b.update(Action::StepForward);
            raw_silent += usize::from(picture(&b) == here);
        }
        assert!(
            raw_silent > 0,
            "{name}: the raw step has silent steps (control)"
        );
        let mut k = 0;
        while a.cursor < a.rec.steps.len() && k < 150 {
            let (here, at) = (picture(&a), a.cursor);
            a.update(Action::NextChange);
            let there = picture(&a);
            if a.cursor == a.rec.steps.len() && there == here {
                break; // only silent events were left
            }
            assert_ne!(here, there, "{name}: → from step {at} to {}", a.cursor);
            let next = a.cursor;
            a.update(Action::PrevChange);
            assert_eq!(a.cursor, at, "{name}: ← returns to where → started");
            a.update(Action::NextChange);
            assert_eq!(a.cursor, next);
            k += 1;
        }
    }
}

/// A message is drawn when it is sent, not only when it arrives.
#[test]
fn a_sent_message_is_drawn_in_flight() {
    let mut a = app("happy-path");
    while a.panes[0].in_flight.is_empty() {
        a.update(Action::StepForward);
    }
    let label = a.panes[0].in_flight[0].label.clone();
    let screen = text(&render(&a, 200, 50));
    assert!(screen.contains(&format!("{label} …")), "{screen}");
}

// ---- readability ----

/// The word after `key` on the screen (up to a blank).
fn word_after(screen: &str, key: &str) -> String {
    let at = screen
        .find(key)
        .unwrap_or_else(|| panic!("{key:?} on screen:\n{screen}"));
    screen[at + key.len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The inspect box and the title say one time, the screen's "now": at a
/// cursor whose newest event is another pane's (the box used to print the
/// focused pane's last event time, earlier), and after playing in
/// simulated time and pausing in a quiet stretch (the clock has run on
/// past the last event).
#[test]
fn the_inspect_box_says_the_titles_time() {
    let mut a = app("coordinator-crash-after-prepare");
    let trace0 = a.rec.panes[0].world.trace().events().to_vec();
    // A step of another pane, later than the focused pane's last event.
    let k = (0..a.rec.steps.len())
        .find(|&k| {
            let s = a.rec.steps[k];
            s.pane != 0 && s.shown[0] > 0 && trace0[s.shown[0] as usize - 1].time < s.time
        })
        .expect("panes drift apart");
    for _ in 0..=k {
        a.update(Action::StepForward);
    }
    assert_eq!(a.focus, 0);
    let pane_time = trace0[a.rec.steps[k].shown[0] as usize - 1].time;
    assert!(
        pane_time < a.now(),
        "the focused pane's last event is earlier"
    );
    a.update(Action::Inspect);
    assert!(matches!(a.overlay, Overlay::Inspect(_)));
    let s = text(&render(&a, 200, 50));
    let title = word_after(&s, "t=");
    assert_eq!(word_after(&s, "inspect at "), title, "{s}");
    a.update(Action::Back);
    // Play in simulated time, pause between events.
    a.update(Action::JumpStart);
    a.update(Action::TogglePlay);
    let mut paused_between = false;
    for _ in 0..10_000 {
        a.update(Action::Tick);
        if a.clock > a.now() {
            a.update(Action::TogglePlay);
            paused_between = true;
            break;
        }
    }
    assert!(paused_between, "play reaches a quiet stretch");
    a.update(Action::Inspect);
    let s = text(&render(&a, 200, 50));
    let title = word_after(&s, "t=");
    assert_eq!(word_after(&s, "inspect at "), title, "{s}");
    assert_eq!(title, txlab_tui::view::pane::short_time(a.clock));
    assert_ne!(
        title,
        txlab_tui::view::pane::short_time(a.now()),
        "the stopped clock, not the last event's time"
    );
}

/// Inspect speaks in words: no Rust debug text for any node of any lesson.
#[test]
fn inspect_shows_no_debug_text_for_any_node_of_any_lesson() {
    for name in lessons() {
        let a = app(&name);
        for (p, pane) in a.rec.panes.iter().enumerate() {
            for at in [pane.world.trace().len() as usize / 2, usize::MAX] {
                let shown = at.min(pane.world.trace().len() as usize);
                for n in 0..pane.world.node_count() {
                    let id = txlab_sim::engine::NodeId(n as u32);
                    let text = txlab_tui::inspect::node_details(pane, shown, id).join("\n");
                    for bad in ["{", "NodeId(", "TxId(", "StepId(", "Some(", "Saga("] {
                        assert!(
                            !text.contains(bad),
                            "{name} pane {p} node {n}: {bad}\n{text}"
                        );
                    }
                }
            }
        }
    }
}

/// Negative control: the old inspect printed log records with `{:?}`; the
/// test above would have caught that text.
#[test]
fn debug_text_is_what_the_inspect_test_catches() {
    let a = app("coordinator-crash-after-prepare");
    let log = a.rec.panes[0]
        .world
        .durable_log(txlab_sim::engine::NodeId(1));
    let debug = format!("{:?}", log.first().expect("a prepared record"));
    assert!(debug.contains('{') || debug.contains("TxId("), "{debug}");
}

#[test]
fn the_help_has_a_legend_and_the_mouse() {
    let mut a = app("happy-path");
    a.update(Action::Help);
    let screen = text(&render(&a, 200, 50));
    for sym in [
        "◐",
        "? IN DOUBT",
        "↩",
        "‼",
        "┄",
        "✗",
        "☠",
        "○╌╌▷",
        "wheel",
        "click",
    ] {
        assert!(screen.contains(sym), "{sym}\n{screen}");
    }
    // At 80×24 the legend is on the third and fourth pages, after two of
    // keys.
    let small = text(&render(&a, 80, 24));
    assert!(!small.contains("wheel"), "{small}");
    a.update(Action::Help);
    a.update(Action::Help);
    assert_eq!(a.overlay, Overlay::Help);
    let third = text(&render(&a, 80, 24));
    a.update(Action::Help);
    let fourth = text(&render(&a, 80, 24));
    let small = third + &fourth;
    assert!(small.contains("wheel") && small.contains("☠"), "{small}");
}

#[test]
fn paused_and_in_doubt_have_different_symbols() {
    assert_ne!(Phase::InDoubt.symbol(), "⏸");
    let a = app("happy-path");
    assert!(text(&render(&a, 120, 40)).contains("⏸ paused"));
}

/// An unfinished transaction has no latency yet: "—", never 0.0 (2PC
/// blocked used to look fastest).
#[test]
fn unfinished_latency_is_a_dash() {
    // Without the outbox the choreography's saga silently stops: its
    // client never hears back.
    let mut a = app("lost-event-no-outbox");
    a.update(Action::JumpEnd);
    let screen = text(&render(&a, 200, 50));
    let row = screen
        .lines()
        .find(|l| l.contains("latency p50"))
        .expect("latency row");
    assert!(row.contains("— (1 unanswered)"), "{row}");
    assert!(!row.contains("0.0 / 0.0"), "{row}");
}

/// The coordinator does not stay "working, recovered from its log" once
/// every participant has settled.
#[test]
fn no_stale_working_after_everyone_finished() {
    let mut a = app("coordinator-crash-after-prepare");
    a.update(Action::JumpEnd);
    let c = &a.panes[0].nodes[0];
    assert_ne!(c.phase, Phase::Working, "{c:?}");
    assert!(!c.detail.contains("recovered from its log"), "{c:?}");
}

/// Violations are red and written out in full, not cut by a table cell.
#[test]
fn violations_are_red_and_whole() {
    let found = lessons().into_iter().find_map(|name| {
        let mut a = app(&name);
        a.update(Action::JumpEnd);
        a.panes
            .iter()
            .any(|p| !p.violations.is_empty())
            .then_some(a)
    });
    let Some(a) = found else {
        panic!("some lesson shows a violation");
    };
    let buf = render(&a, 200, 50);
    let screen = text(&buf);
    let v = a
        .panes
        .iter()
        .flat_map(|p| p.violations.first())
        .next()
        .unwrap();
    let head: String = v.chars().take(150).collect();
    assert!(screen.contains(&head), "{head}\n{screen}");
    let cell = {
        let (y, line) = screen
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(&head))
            .unwrap();
        let x = line[..line.find(&head).unwrap()].chars().count() as u16;
        buf[(x, y as u16)].clone()
    };
    assert_eq!(cell.fg, ratatui::style::Color::LightRed);
}

// ---- themes ----

/// Every state's foreground and background, text, dim text, the accent,
/// violations and the selection keep WCAG's 4.5:1 in the light and
/// high-contrast themes.
#[test]
fn light_and_high_contrast_themes_keep_contrast() {
    let phases = [
        Phase::Idle,
        Phase::Working,
        Phase::Prepared,
        Phase::InDoubt,
        Phase::Committed,
        Phase::Aborted,
        Phase::Applied,
        Phase::Compensating,
        Phase::Compensated,
        Phase::Stuck,
        Phase::Crashed,
        Phase::Hidden,
    ];
    for theme in [Theme::Light, Theme::HighContrast] {
        let p = style::palette(theme);
        let check = |what: &str, fg, bg| {
            let r = style::contrast(fg, bg).expect("RGB colours");
            assert!(r >= 4.5, "{theme:?} {what}: {r:.2}");
        };
        check("text", p.fg, p.bg);
        check("dim", p.dim, p.bg);
        check("accent", p.accent, p.bg);
        check("bad", p.bad, p.bg);
        check("text on selection", p.fg, p.selected_bg);
        for ph in phases {
            let (fg, bg) = style::phase_colours(theme, ph);
            check(&format!("{ph:?}"), fg, bg.unwrap_or(p.bg));
            if bg.is_none() {
                check(&format!("{ph:?} selected"), fg, p.selected_bg);
            }
        }
    }
}

/// Negative control: the contrast computation flags a poor pair (the old
/// dim grey on a light background).
#[test]
fn contrast_catches_grey_on_light_grey() {
    use ratatui::style::Color;
    let r = style::contrast(Color::Rgb(0x80, 0x80, 0x80), Color::Rgb(0xD0, 0xD0, 0xD0)).unwrap();
    assert!(r < 4.5, "{r}");
    let r = style::contrast(Color::Rgb(0, 0, 0), Color::Rgb(255, 255, 255)).unwrap();
    assert!((r - 21.0).abs() < 0.01, "{r}");
}

#[test]
fn the_theme_key_paints_the_screen() {
    let mut a = app("happy-path");
    a.update(Action::CycleTheme);
    a.update(Action::CycleTheme);
    assert_eq!(a.theme, Theme::Light);
    let buf = render(&a, 120, 40);
    assert_eq!(buf[(100, 20)].bg, style::palette(Theme::Light).bg);
    assert_eq!(Theme::from_name("high-contrast"), Some(Theme::HighContrast));
}

// ---- the diagram ----

/// Times of 1000 ms and more never run into the first lifeline: on every
/// diagram row the time is followed by a space, then the lifeline.
#[test]
fn long_times_do_not_overwrite_the_first_lifeline() {
    let mut a = app("compensation-fails-stuck");
    a.update(Action::JumpEnd);
    a.update(Action::FocusNext); // the orchestrated pane retries past 1 s
    a.update(Action::ToggleZoom);
    let screen = text(&render(&a, 120, 40));
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with(['┃', '│']) && l.contains("ms "))
        .filter(|l| {
            l.trim_start_matches(['┃', '│', ' '])
                .starts_with(|c: char| c.is_ascii_digit())
        })
        .collect();
    let time_of = |l: &str| -> f64 {
        let t = l.trim_start_matches(['┃', '│', ' ']);
        t.split("ms")
            .next()
            .unwrap_or("")
            .trim()
            .parse()
            .unwrap_or(0.0)
    };
    assert!(rows.iter().any(|l| time_of(l) >= 1000.0), "{screen}");
    let col = |l: &str| l.chars().position(|c| c == 'm').unwrap();
    let first = col(rows[0]);
    for l in &rows {
        assert_eq!(col(l), first, "times end in one column: {l}\n{screen}");
        let after: Vec<char> = l.chars().skip(first + 2).take(2).collect();
        assert_eq!(after[0], ' ', "{l}");
        assert!(
            "│●○◀◁▶▷✗☠⟳═─╌┄".contains(after[1]),
            "lifeline after the time: {l}"
        );
    }
}

/// Column headers never run together ("coordicar").
#[test]
fn column_headers_are_separate_words() {
    let mut a = app("concurrent-sagas-anomaly");
    a.update(Action::JumpEnd);
    for (w, h) in [(80, 24), (120, 40), (200, 50)] {
        let screen = text(&render(&a, w, h));
        assert!(!screen.contains("coordicar"), "{screen}");
        assert!(!screen.contains("coordinatorcar"), "{screen}");
    }
}

/// Background reads are hidden by default and shown with a key.
#[test]
fn auditor_reads_are_hidden_until_asked_for() {
    let mut a = app("concurrent-sagas-anomaly");
    a.update(Action::JumpEnd);
    let hidden = text(&render(&a, 200, 50));
    assert!(
        !hidden.contains("read …") && !hidden.contains("snapshot ("),
        "{hidden}"
    );
    a.update(Action::ToggleBackground);
    let shown = text(&render(&a, 200, 50));
    assert!(shown.contains("snapshot ("), "{shown}");
}

/// The diagram scrolls, and a crash scrolled out of view stays pinned.
#[test]
fn the_diagram_scrolls_and_keeps_the_crash_in_view() {
    let mut a = app("coordinator-crash-after-prepare");
    a.update(Action::JumpEnd);
    let end = text(&render(&a, 120, 40));
    assert!(end.contains("faults out of view: ☠ coordinator"), "{end}");
    a.update(Action::ScrollUp(100));
    assert!(a.scroll > 0);
    let up = text(&render(&a, 120, 40));
    assert_ne!(up, end, "scrolling moves the diagram");
    assert!(up.contains("☠"), "the crash is in view or pinned:\n{up}");
    a.update(Action::ScrollDown(1_000));
    assert_eq!(a.scroll, 0);
}

// ---- presenter mode ----

/// Presenter mode shows all three panes at 120×30, a status banner per
/// protocol, and no table.
#[test]
fn presenter_mode_at_120x30() {
    let mut a = app("coordinator-crash-after-prepare");
    while !a.panes[0].outcomes.contains_key("blocked") {
        a.update(Action::StepForward);
    }
    let before = text(&render(&a, 120, 30));
    assert!(
        !before.contains("CHOREOGRAPHED ─"),
        "compact without presenter mode"
    );
    a.update(Action::TogglePresent);
    assert_eq!(a.theme, Theme::HighContrast);
    let screen = text(&render(&a, 120, 30));
    for pane in ["2PC", "ORCHESTRATED", "CHOREOGRAPHED"] {
        assert!(
            screen.contains(&format!(" {pane} ─")) || screen.contains(&format!("▶ {pane} ━")),
            "{pane}\n{screen}"
        );
    }
    assert!(screen.contains("? BLOCKED"), "{screen}");
    assert!(screen.contains("locks held on car"), "{screen}");
    assert!(!screen.contains("comparison"), "{screen}");
    a.update(Action::JumpEnd);
    let end = text(&render(&a, 120, 30));
    assert!(end.contains("✓ COMPLETED"), "{end}");
    assert!(end.contains("✗ ABORTED"), "{end}");
}

/// The choreography's tracker shows the stall the lesson is about: with
/// the mailer down from 3 to 1,500 ms, at 1,000 ms the welcome stage has
/// loyalty points and the welcome pack done and waits for the e-mail
/// alone; once the mailer is back and the saga completes, nothing is
/// awaited. Events are named by step, not by number alone.
#[test]
fn the_broker_shows_which_step_a_choreographed_saga_waits_for() {
    use txlab_sim::protocols::Protocol;
    let a = app("enrolment-styles");
    let pane = a
        .rec
        .panes
        .iter()
        .find(|p| p.protocol == Protocol::Choreographed)
        .expect("a choreographed pane");
    let events = pane.world.trace().events();
    let at = |ms: u64| {
        events
            .iter()
            .position(|e| e.time >= txlab_sim::engine::SimTime::from_millis(ms))
            .unwrap_or(events.len())
    };
    let broker = txlab_sim::engine::NodeId(0);
    let stalled = txlab_tui::inspect::node_details(pane, at(1000), broker).join("\n");
    assert!(
        stalled.contains("waiting for: step 3 (welcome e-mail)\n")
            || stalled.ends_with("waiting for: step 3 (welcome e-mail)"),
        "{stalled}"
    );
    assert!(!stalled.contains("welcome pack)\n    waiting"), "{stalled}");
    assert!(
        stalled.contains("(welcome pack) done") || stalled.contains("(loyalty points) done"),
        "{stalled}"
    );
    let end = txlab_tui::inspect::node_details(pane, events.len(), broker).join("\n");
    assert!(end.contains("completed"), "{end}");
    assert!(!end.contains("waiting for"), "{end}");
}
