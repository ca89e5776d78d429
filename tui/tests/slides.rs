//! The business state on screen, the per-transaction view, export for
//! slides (SVG, text, Mermaid) and undoing a branch (issue 12, items 4
//! and 8).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::workload::TxId;
use txlab_tui::action::{Action, action_for};
use txlab_tui::app::{App, Theme};
use txlab_tui::export;
use txlab_tui::fold::{Fate, Row};
use txlab_tui::view::MainScreen;
mod common;
use common::without_questions;

const LESSONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

fn lesson(name: &str) -> Scenario {
    let path = format!("{LESSONS}/{name}.toml");
    let text = std::fs::read_to_string(&path).expect("lesson file");
    Scenario::parse(text.as_bytes(), name).expect("lesson parses")
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

/// The balances row: the line that names the protocols' columns.
fn stock_row(buf: &Buffer) -> String {
    lines(buf)
        .into_iter()
        .find(|l| l.contains("2PC / orch / chor:"))
        .expect("a balances row on screen")
}

/// Sam's balance per protocol after `duplicate-payment`, from the lesson's
/// workload and THEORY.md: every message to payment is duplicated once;
/// 2PC's participant keeps the transaction's state by id, so a duplicated
/// COMMIT is only acknowledged (charged once); the sagas' consumers are not
/// idempotent (idempotency = false), so both copies of the charge apply.
fn expected_sam(s: &Scenario, idempotent_sagas: bool) -> [i64; 3] {
    let f = &s.file;
    let start = f
        .services
        .iter()
        .find(|x| x.name == "payment")
        .and_then(|x| x.resources.get("sam"))
        .copied()
        .expect("sam's account");
    let charge = f
        .steps
        .iter()
        .find(|x| x.resource == "sam")
        .map(|x| x.amount)
        .expect("a charge");
    let tx = i64::from(f.workload.transactions);
    let saga_copies = if idempotent_sagas { 1 } else { 2 };
    [
        start - tx * charge,
        start - saga_copies * tx * charge,
        start - saga_copies * tx * charge,
    ]
}

fn dollars(v: [i64; 3]) -> String {
    format!("sam ${} / ${} / ${}", v[0], v[1], v[2])
}

/// Guards against the business state being hidden in a popup: Sam's $800
/// against $900 (the point of the lesson) is on the main screen at the
/// end, marked as a difference, in every layout an instructor uses; at the
/// start it reads the opening balance in all three.
#[test]
fn duplicate_payment_shows_sams_balance_per_protocol() {
    let s = lesson("duplicate-payment");
    let end = dollars(expected_sam(&s, false));
    assert_eq!(end, "sam $900 / $800 / $800", "the lesson's own numbers");
    let mut a = App::new(s, Vec::new());
    let start = stock_row(&render(&a, 120, 30));
    assert!(start.contains("sam $1000 / $1000 / $1000"), "{start}");
    a.update(Action::JumpEnd);
    for (w, h, present) in [(120, 30, false), (200, 50, false), (120, 30, true)] {
        a.set_present(present);
        let row = stock_row(&render(&a, w, h));
        assert!(row.contains(&format!("{end} ≠")), "{w}×{h}: {row}");
        // One booking of one car, room and seat, committed in all three.
        for stock in ["cars 9 / 9 / 9", "rooms 9 / 9 / 9", "seats 9 / 9 / 9"] {
            assert!(row.contains(stock), "{w}×{h}: {row}");
        }
    }
    a.set_present(false);
    insta::assert_snapshot!(
        "duplicate-payment_stock_120x30",
        stock_row(&render(&a, 120, 30))
    );
    insta::assert_snapshot!(
        "duplicate-payment_stock_200x50",
        stock_row(&render(&a, 200, 50))
    );
    // Back to the start: the row follows the cursor both ways.
    a.update(Action::JumpStart);
    assert!(stock_row(&render(&a, 120, 30)).contains("sam $1000 / $1000 / $1000"));
}

/// The negative control of the above: with idempotent consumers the sagas
/// charge once too, and nothing is marked as differing.
#[test]
fn idempotent_consumers_charge_once_and_nothing_differs() {
    let s = lesson("duplicate-payment-idempotent");
    let end = dollars(expected_sam(&s, true));
    let mut a = App::new(s, Vec::new());
    a.update(Action::JumpEnd);
    let row = stock_row(&render(&a, 200, 50));
    assert!(row.contains(&end), "{row}");
    assert!(!row.contains('≠'), "{row}");
}

/// `parallel-fan-out`'s six services each hold "units": the row names
/// each figure by its service, or the room sees six alike. All 20 requests
/// complete under every protocol (the lesson's expectations), each taking
/// one unit of each service: 100 - 20 = 80 everywhere. A name only one
/// service holds stays as it is (Sam's account, in the control).
#[test]
fn resources_of_the_same_name_are_named_by_their_service() {
    let mut a = app("parallel-fan-out");
    a.update(Action::JumpEnd);
    let row = stock_row(&render(&a, 200, 50));
    for s in 1..=6 {
        assert!(row.contains(&format!("s{s} units 80 / 80 / 80")), "{row}");
    }
    let mut a = app("duplicate-payment");
    a.update(Action::JumpEnd);
    let row = stock_row(&render(&a, 200, 50));
    assert!(row.contains(" sam $"), "{row}");
    assert!(!row.contains("payment sam"), "{row}");
}

/// Guards against a row that cannot fit simply being cut: at the smallest
/// screen the figures that differ stay, and the rest is counted.
#[test]
fn the_stock_row_keeps_what_differs_on_a_narrow_screen() {
    let mut a = app("duplicate-payment");
    a.update(Action::JumpEnd);
    let row = stock_row(&render(&a, 60, 20));
    assert!(row.contains("sam $900") && row.contains("$800 ≠"), "{row}");
    assert!(row.contains("more"), "{row}");
}

/// Every transaction id a node line names.
fn tx_ids(detail: &str) -> Vec<String> {
    detail
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 1 && w.starts_with('T') && w[1..].chars().all(|c| c.is_ascii_digit()))
        .map(String::from)
        .collect()
}

/// Guards against node lines that show one transaction in a lesson with
/// several, with no way to see the others: `x` cycles all, T0, T1, and
/// back; with one chosen, every node line names that one only, and the
/// screen says which.
#[test]
fn the_transaction_key_cycles_and_node_lines_follow() {
    let mut a = app("concurrent-sagas-anomaly");
    assert_eq!(a.transactions(), 2, "the lesson runs two sagas");
    a.update(Action::JumpEnd);
    let named = |a: &App| -> Vec<String> {
        a.panes
            .iter()
            .flat_map(|p| p.nodes.iter().flat_map(|n| tx_ids(&n.detail)))
            .collect()
    };
    let all = named(&a);
    assert!(
        all.iter().any(|t| t == "T0") && all.iter().any(|t| t == "T1"),
        "each node's latest: both transactions appear ({all:?})"
    );
    let key = |c| {
        action_for(
            crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c)),
            false,
        )
    };
    assert_eq!(key('x'), Some(Action::CycleTx));
    for want in [Some(TxId(0)), Some(TxId(1)), None] {
        a.update(Action::CycleTx);
        assert_eq!(a.tx_view, want);
        let named = named(&a);
        match want {
            Some(t) => {
                assert!(!named.is_empty());
                assert!(named.iter().all(|n| *n == t.to_string()), "{t}: {named:?}");
                let row = stock_row(&render(&a, 160, 45));
                assert!(row.contains(&format!("nodes: {t} only")), "{row}");
                assert!(a.status.contains(&format!("{t} only")), "{}", a.status);
            }
            None => assert_eq!(named, all, "back to each node's latest"),
        }
    }
}

// ---- export ----

/// Guards against an SVG a slide tool cannot open: the rendered screen
/// parses as XML, its text holds the three pane titles, and its cells keep
/// the theme's colours.
#[test]
fn the_svg_export_is_well_formed_and_has_the_pane_titles() {
    let mut a = app("duplicate-payment");
    a.update(Action::JumpEnd);
    for theme in Theme::ALL {
        a.theme = theme;
        let buf = render(&a, 200, 50);
        let svg = export::svg(&buf, theme, "txlab: <duplicate> & \"payment\"");
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let text: String = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n");
        for title in ["2PC", "ORCHESTRATED", "CHOREOGRAPHED", "sam $900"] {
            assert!(text.contains(title), "{}: {title}", theme.name());
        }
        let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
        assert_eq!(title.text(), Some("txlab: <duplicate> & \"payment\""));
    }
    // The light theme's black text on white is there as such.
    a.theme = Theme::Light;
    let svg = export::svg(&render(&a, 200, 50), Theme::Light, "t");
    assert!(svg.contains("fill=\"#ffffff\"") && svg.contains("fill=\"#000000\""));
}

/// Guards against broken escaping: text with every XML special character
/// comes back out of the parser as it went in, colours and all.
#[test]
fn svg_escapes_special_characters() {
    let mut buf = Buffer::empty(Rect::new(0, 0, 30, 2));
    let nasty = "a&b <c> \"d\" 'e'";
    buf.set_string(0, 0, nasty, Style::new().fg(Color::Rgb(0x12, 0x34, 0x56)));
    let svg = export::svg(&buf, Theme::Default, "x");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let t = doc
        .descendants()
        .find(|n| n.has_tag_name("text"))
        .expect("a text element");
    assert_eq!(t.text(), Some(nasty));
    assert_eq!(t.attribute("fill"), Some("#123456"));
}

/// Guards against a text export that differs from the screen.
#[test]
fn the_text_export_is_the_screen() {
    let mut a = app("coordinator-crash-after-prepare");
    a.update(Action::JumpEnd);
    let buf = render(&a, 120, 30);
    let want: String = lines(&buf)
        .iter()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    assert_eq!(export::plain_text(&buf), want);
    // And the screen the export renders itself is the one on screen.
    assert_eq!(export::screen(&a, buf.area), buf);
}

/// Guards against a Mermaid export of the wrong pane or of the whole run:
/// it is a sequence diagram of the focused pane up to the cursor, with
/// every message delivered so far and none of the later ones.
#[test]
fn the_mermaid_export_is_the_focused_pane_up_to_the_cursor() {
    let mut a = app("coordinator-crash-after-prepare");
    a.update(Action::FocusNext);
    let empty = export::mermaid(&a);
    assert!(empty.starts_with("sequenceDiagram\n"));
    assert!(!empty.contains("->>"), "nothing delivered at the start");
    a.update(Action::JumpEnd);
    let m = export::mermaid(&a);
    assert!(m.contains("orchestrated"), "names its protocol");
    let delivered: Vec<&String> = a.panes[1]
        .rows
        .iter()
        .filter_map(|r| match r {
            Row::Message {
                label,
                fate: Fate::Delivered,
                ..
            } => Some(label),
            _ => None,
        })
        .collect();
    assert!(!delivered.is_empty());
    for label in delivered {
        let safe = label.replace([';', '#', ':'], " ");
        assert!(m.contains(&format!(": {safe} @")), "{safe}");
    }
    assert_eq!(
        m.matches("->>").count(),
        a.panes[1]
            .rows
            .iter()
            .filter(|r| matches!(
                r,
                Row::Message {
                    fate: Fate::Delivered,
                    ..
                }
            ))
            .count(),
        "one arrow per delivered message, no more"
    );
}

/// Guards against the prompt and the write: `e` suggests a name with the
/// lesson and the time, typing replaces it, enter writes three files and
/// says so; a path that cannot be written is reported in words.
#[test]
fn export_prompt_writes_svg_text_and_mermaid() {
    let mut a = app("duplicate-payment");
    a.update(Action::JumpEnd);
    let ms = a.now().as_micros() / 1_000;
    a.update(Action::Export);
    assert_eq!(
        a.export.prompt.as_deref(),
        Some(format!("duplicate-payment-{ms}ms").as_str())
    );
    assert!(a.entering_text(), "keys are text while the prompt is open");
    let dir = std::env::temp_dir().join(format!("txlab-slides-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join("slide").to_string_lossy().into_owned();
    a.export.prompt = Some(String::new());
    for c in format!("{base}.svg").chars() {
        a.update(Action::Char(c));
    }
    a.update(Action::Confirm);
    // The event loop takes the request and writes.
    assert_eq!(a.export.request.take().as_deref(), Some(base.as_str()));
    let status = export::write_exports(&a, Rect::new(0, 0, 120, 30), &base);
    for ext in ["svg", "txt", "mmd"] {
        let path = format!("{base}.{ext}");
        assert!(status.contains(&path), "{status}");
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
    }
    let txt = std::fs::read_to_string(format!("{base}.txt")).unwrap();
    assert!(txt.contains("sam $900 / $800 / $800"));
    std::fs::remove_dir_all(&dir).unwrap();
    let bad = export::write_exports(&a, Rect::new(0, 0, 120, 30), "/nonexistent-dir/x");
    assert!(
        bad.starts_with("could not write /nonexistent-dir/x.svg"),
        "{bad}"
    );
    // Esc closes the prompt without a request.
    a.update(Action::Export);
    a.update(Action::Back);
    assert_eq!(a.export, Default::default());
    assert!(a.status.contains("cancelled"));
}

// ---- undo ----

fn hashes(a: &App) -> Vec<String> {
    a.rec
        .panes
        .iter()
        .map(|p| p.report.trace_hash.clone())
        .collect()
}

/// Guards against an undo that does not return to the earlier run: two
/// branches, two undos, and each restores the trace hashes (and the
/// cursor) of the run before it.
#[test]
fn undo_restores_the_run_before_the_last_branch() {
    let mut a = app("happy-path");
    let original = hashes(&a);
    a.update(Action::UndoBranch);
    assert!(a.status.contains("nothing to undo"), "{}", a.status);
    for _ in 0..40 {
        a.update(Action::StepForward);
    }
    let first = a.cursor;
    a.update(Action::Down);
    a.update(Action::CrashRestart);
    let crashed = hashes(&a);
    assert_ne!(crashed, original, "the crash changed the runs");
    for _ in 0..30 {
        a.update(Action::StepForward);
    }
    let second = a.cursor;
    a.update(Action::PartitionHeal);
    assert_ne!(hashes(&a), crashed);
    a.update(Action::JumpEnd);
    a.update(Action::UndoBranch);
    assert_eq!(hashes(&a), crashed);
    assert_eq!(a.cursor, second);
    assert_eq!(a.rec.injected.len(), 1);
    a.update(Action::UndoBranch);
    assert_eq!(hashes(&a), original);
    assert_eq!(a.cursor, first);
    assert!(a.rec.injected.is_empty());
    assert!(a.status.contains("scenario's own run"), "{}", a.status);
}

/// Guards against the balances giving a quiz answer away: while a
/// question is open the row is hidden, and it is back once answered.
#[test]
fn an_open_question_hides_the_balances() {
    let path = format!("{LESSONS}/duplicate-payment.toml");
    // The lesson's own questions are dropped: this test asks one of its own.
    let text = without_questions(&std::fs::read_to_string(path).unwrap())
        + "\n[[question]]\nat_ms = 40\nprompt = \"Sam's balance in the sagas?\"\n\
           choices = [\"$900\", \"$800\"]\nanswer = 1\n";
    let s = Scenario::parse(text.as_bytes(), "duplicate-payment").unwrap();
    let mut a = App::new(s, Vec::new());
    a.update(Action::ToggleQuiz);
    a.update(Action::JumpEnd);
    assert!(a.quiz.hides_outcomes(), "the run stopped at the question");
    let row = stock_row(&render(&a, 200, 50));
    assert!(row.contains("hidden until the room answers"), "{row}");
    assert!(!row.contains('$'), "{row}");
    a.update(Action::Answer(1));
    a.update(Action::JumpEnd);
    let row = stock_row(&render(&a, 200, 50));
    assert!(row.contains("sam $900 / $800 / $800 ≠"), "{row}");
}
