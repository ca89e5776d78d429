//! The isolation overlay (`A`): each protocol's anomalies by class, as the
//! services' reads and writes reveal them up to the cursor.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use txlab_sim::lab::scenario::Scenario;
use txlab_tui::action::Action;
use txlab_tui::app::App;
use txlab_tui::view::MainScreen;

const LESSONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

fn app(name: &str) -> App {
    let text = std::fs::read_to_string(format!("{LESSONS}/{name}.toml")).expect("lesson file");
    App::new(
        Scenario::parse(text.as_bytes(), name).expect("lesson parses"),
        Vec::new(),
    )
}

fn screen(app: &App) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(200, 50)).unwrap();
    t.draw(|f| f.render_widget(&MainScreen(app), f.area()))
        .unwrap();
    let buf = t.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

/// The row of the overlay that starts with `protocol`'s name.
fn row<'a>(lines: &'a [String], protocol: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.contains(&format!("{protocol:<14}lost update")))
        .unwrap_or_else(|| panic!("no overlay row for {protocol}:\n{}", lines.join("\n")))
}

/// In `lost-update-compensation` order 1's compensation restores the old
/// balance over order 2's change: one lost update in each saga (the
/// lesson's derivation), none under 2PC, whose locks serialize the two
/// (THEORY.md, Isolation). Before anything ran, the overlay shows nothing.
#[test]
fn the_overlay_counts_what_the_cursor_has_passed() {
    let mut a = app("lost-update-compensation");
    a.update(Action::Anomalies);
    let start = screen(&a);
    assert!(
        start
            .iter()
            .any(|l| l.contains("isolation anomalies so far"))
    );
    for p in ["2pc", "orchestrated", "choreographed"] {
        assert!(
            row(&start, p).contains("lost update 0 · dirty read 0"),
            "{p} at the start"
        );
    }
    a.update(Action::Back);
    a.update(Action::JumpEnd);
    a.update(Action::Anomalies);
    let end = screen(&a);
    assert!(
        row(&end, "2pc").contains("lost update 0 · dirty read 0 · fuzzy read 0 · overdraw 0"),
        "2PC's locks prevent every class"
    );
    for p in ["orchestrated", "choreographed"] {
        assert!(
            row(&end, p).contains("lost update 1"),
            "{p}: one lost update"
        );
    }
    assert!(
        end.iter()
            .any(|l| l.contains("  lost update  ") && l.contains("(trace #")),
        "an instance is listed with where it is in the trace"
    );
    a.update(Action::Back);
    assert!(
        !screen(&a)
            .iter()
            .any(|l| l.contains("isolation anomalies so far")),
        "esc closes"
    );
}
