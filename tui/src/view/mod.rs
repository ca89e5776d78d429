//! The views: the main screen and its overlays, as widgets over `&App`.
//!
//! Layout: three panes side by side from about 160×45 (120×30 in presenter
//! mode, which adds a status banner per protocol); below that, the
//! focused pane in detail and the other two as one-line summaries. Under
//! the panes: a row of balances and stock per protocol, narration, the comparison table (when there is room), the
//! timeline scrubber and the key bar.

mod balances;
mod overlay;
pub use overlay::{LEGEND, help_page_count};
pub mod pane;
mod quiz;
pub mod style;

use crate::action::KEYMAP;
use crate::app::App;
use pane::Pane;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, Widget, Wrap};

/// The smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (60, 20);
/// From this size on, all three panes are shown in full.
pub const FULL_SIZE: (u16, u16) = (160, 45);

/// In presenter mode, all three panes from this size on.
pub const PRESENT_FULL_SIZE: (u16, u16) = (120, 30);

/// Whether `screen` shows all three panes in full.
pub fn full_layout(app: &App, screen: Rect) -> bool {
    let (w, h) = if app.present {
        PRESENT_FULL_SIZE
    } else {
        FULL_SIZE
    };
    screen.width >= w && screen.height >= h
}

/// Where things are on screen (the event loop maps mouse clicks with it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    /// Title line.
    pub title: Rect,
    /// The panes.
    pub panes: Rect,
    /// Balances and stock per protocol.
    pub stock: Rect,
    /// Presenter mode's status banner (empty otherwise).
    pub banner: Rect,
    /// Narration.
    pub narration: Rect,
    /// Comparison table (may be empty).
    pub table: Rect,
    /// Timeline scrubber.
    pub timeline: Rect,
    /// Key bar.
    pub keys: Rect,
}

/// Lay out the main screen in `area`.
pub fn areas(area: Rect, app: &App) -> Areas {
    let hidden = app.quiz.hides_outcomes();
    let table_h = if app.zoom || app.present || hidden || area.height < 36 {
        0
    } else {
        12 + violation_lines(app)
    };
    let banner_h = if app.present { 3 } else { 0 };
    // Room for the whole narration where the screen has it: a line cut
    // off mid-sentence loses the story the room is following.
    let narration_h = match area.height {
        0..24 => 2,
        24..30 => 3,
        _ => wrapped_lines(&narration_text(app), area.width).clamp(3, 5),
    };
    let [
        title,
        panes,
        stock,
        banner,
        narration,
        table,
        timeline,
        keys,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(1),
        Constraint::Length(banner_h),
        Constraint::Length(narration_h),
        Constraint::Length(table_h),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        title,
        panes,
        stock,
        banner,
        narration,
        table,
        timeline,
        keys,
    }
}

/// The main screen with its overlay.
pub struct MainScreen<'a>(pub &'a App);

impl Widget for &MainScreen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
            let msg = format!(
                "The terminal is {}×{}; txlab needs at least {}×{}. Enlarge it or press q.",
                area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
            );
            Paragraph::new(msg)
                .wrap(Wrap { trim: true })
                .render(area, buf);
            return;
        }
        buf.set_style(area, style::base(app.theme));
        let a = areas(area, app);
        title(app, a.title, buf);
        panes(app, a.panes, buf);
        balances::render(app, a.stock, buf);
        if a.banner.height > 0 {
            banner(app, a.banner, buf);
        }
        narration(app, a.narration, buf);
        if a.table.height > 0 {
            table(app, a.table, buf);
        }
        timeline(app, a.timeline, buf);
        keybar(app, a.keys, buf);
        quiz::render(app, a.panes, buf);
        overlay::render(app, area, buf);
    }
}

fn title(app: &App, area: Rect, buf: &mut Buffer) {
    let s = &app.rec.scenario.file;
    let state = if app.playing {
        format!("▶ playing {}", app.pace())
    } else {
        format!("⏸ paused ({})", app.pace())
    };
    let injected = match app.rec.injected.len() {
        0 => String::new(),
        n => format!("  branch: {n} injected"),
    };
    let at = format!(
        " {} (seed {})  t={}",
        s.name,
        s.seed,
        pane::short_time(app.shown_time())
    );
    let head = format!("{at}  {state}{injected}");
    let text = if app.quiz.on {
        let asked = app.quiz.answers.iter().flatten().count();
        let n = app.quiz.answers.len();
        // " txlab " takes 7 columns. On a narrow screen the count alone
        // beats a word cut in half, and the room's progress beats the
        // play rate, which then gives way.
        let width = usize::from(area.width);
        let fits = |extra: &str| 7 + head.chars().count() + extra.chars().count() <= width;
        let full = format!("  quiz {asked}/{n} answered");
        let short = format!("  quiz {asked}/{n}");
        if fits(&full) {
            head + &full
        } else if fits(&short) {
            head + &short
        } else {
            let word = if app.playing {
                "▶ playing"
            } else {
                "⏸ paused"
            };
            format!("{at}{short}  {word}{injected}")
        }
    } else {
        head
    };
    let line = Line::from(vec![
        Span::styled(
            " txlab ",
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ),
        Span::raw(text),
    ]);
    buf.set_line(area.x, area.y, &line, area.width);
}

fn outcome_line(app: &App, pane: usize) -> String {
    if app.quiz.hides_outcomes() {
        return "outcome hidden until the room answers".into();
    }
    let done = app.cursor >= app.rec.steps.len();
    let counts = if done {
        &app.rec.panes[pane].report.outcomes
    } else {
        &app.panes[pane].outcomes
    };
    let mut parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(o, n)| format!("{o} {n}"))
        .collect();
    if parts.is_empty() {
        parts.push("not started".into());
    }
    let v = app.panes[pane].violations.len();
    if v > 0 {
        parts.push(format!("{v} VIOLATION{}", if v > 1 { "S" } else { "" }));
    }
    parts.join(", ")
}

/// Presenter mode: one line per protocol saying where it stands, large
/// enough (a full-width coloured bar) to read from the back of the room.
fn banner(app: &App, area: Rect, buf: &mut Buffer) {
    use crate::fold::Phase;
    for (i, v) in app.panes.iter().enumerate().take(area.height as usize) {
        let n = |k: &str| v.outcomes.get(k).copied().unwrap_or(0);
        let down: Vec<&str> = v
            .nodes
            .iter()
            .filter(|n| n.phase == Phase::Crashed)
            .map(|n| n.name.as_str())
            .collect();
        let (phase, text) = if !v.violations.is_empty() {
            (Phase::Stuck, format!("‼ VIOLATION: {}", v.violations[0]))
        } else if n("blocked") > 0 {
            let locks: Vec<&str> = v
                .nodes
                .iter()
                .filter(|n| n.locks)
                .map(|n| n.name.as_str())
                .collect();
            let since = v
                .blocked_since
                .map(|t| pane::short_time(app.shown_time().saturating_sub(t)))
                .unwrap_or_default();
            let mut t = format!("? BLOCKED {since}");
            if !locks.is_empty() {
                t.push_str(&format!(" — locks held on {}", locks.join(", ")));
            }
            (Phase::InDoubt, t)
        } else if n("running") > 0 || v.outcomes.is_empty() {
            let mut t = if v.outcomes.is_empty() {
                "· NOT STARTED".to_string()
            } else {
                "… RUNNING".to_string()
            };
            if !down.is_empty() {
                t.push_str(&format!(" — ☠ {} down", down.join(", ")));
            }
            (
                if down.is_empty() {
                    Phase::Working
                } else {
                    Phase::Crashed
                },
                t,
            )
        } else {
            let (phase, word) = if n("stuck") > 0 {
                (Phase::Stuck, "‼ STUCK")
            } else if n("compensated") > 0 && n("completed") == 0 {
                (Phase::Compensated, "↩ COMPENSATED")
            } else if n("aborted") > 0 && n("committed") == 0 {
                (Phase::Aborted, "✗ ABORTED")
            } else if v.protocol == txlab_sim::protocols::Protocol::TwoPc {
                (Phase::Committed, "✓ COMMITTED")
            } else {
                (Phase::Committed, "✓ COMPLETED")
            };
            let all: Vec<String> = v
                .outcomes
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(o, n)| format!("{o} {n}"))
                .collect();
            (phase, format!("{word} ({})", all.join(", ")))
        };
        let (phase, text) = if app.quiz.hides_outcomes() {
            (Phase::Hidden, "▒ hidden until the room answers".to_string())
        } else {
            (phase, text)
        };
        let st = style::phase(app.theme, phase).add_modifier(Modifier::BOLD);
        let r = Rect::new(area.x, area.y + i as u16, area.width, 1);
        buf.set_style(r, st);
        let line = format!(" {:<14} {text}", v.protocol.name().to_uppercase());
        buf.set_string(r.x, r.y, line, st);
    }
}

fn panes(app: &App, area: Rect, buf: &mut Buffer) {
    let full = full_layout(app, buf.area);
    let hide = app.quiz.hides_outcomes();
    let shown: Vec<std::borrow::Cow<crate::fold::PaneView>> = app
        .panes
        .iter()
        .map(|v| match hide {
            true => std::borrow::Cow::Owned(crate::quiz::masked(v)),
            false => std::borrow::Cow::Borrowed(v),
        })
        .collect();
    let render = |i: usize, r: Rect, buf: &mut Buffer| {
        let visible = app.visible_nodes(i);
        let focused = i == app.focus;
        let pane = Pane {
            view: &shown[i],
            focused,
            node: focused.then_some(app.node),
            message: if focused { app.message } else { None },
            visible: &visible,
            outcome: outcome_line(app, i),
            scroll: if focused { app.scroll } else { 0 },
            theme: app.theme,
        };
        (&pane).render(r, buf);
    };
    if app.zoom {
        return render(app.focus, area, buf);
    }
    if full {
        let cols = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(area);
        for (i, r) in cols.iter().enumerate() {
            render(i, *r, buf);
        }
        return;
    }
    // Compact: the focused pane in detail, the others as summaries.
    let [detail, s1, s2] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render(app.focus, detail, buf);
    for (k, r) in [s1, s2].iter().enumerate() {
        let i = (app.focus + 1 + k) % 3;
        let nodes: Vec<Span> = shown[i]
            .nodes
            .iter()
            .map(|n| {
                Span::styled(
                    format!("{}{} ", n.phase.symbol(), n.name),
                    style::phase(app.theme, n.phase),
                )
            })
            .collect();
        let mut spans = vec![Span::styled(
            format!(" {:<13} ", app.panes[i].protocol.name()),
            Style::new().add_modifier(Modifier::BOLD),
        )];
        spans.push(Span::raw(format!("{}  ", outcome_line(app, i))));
        spans.extend(nodes);
        buf.set_line(r.x, r.y, &Line::from(spans), r.width);
    }
}

/// The narration line's words: the lesson's narration at the cursor, or
/// its description (in quiz mode a hint instead, since the description
/// would give the answers away).
fn narration_words(app: &App) -> String {
    app.narration().unwrap_or_else(|| {
        if app.quiz.on && app.quiz.answers.iter().any(Option::is_none) {
            "Quiz mode: the run stops at each question; the room answers with 1, 2, 3…".into()
        } else {
            app.rec.scenario.file.description.clone()
        }
    })
}

/// The status shown after the narration, if any.
fn narration_status(app: &App) -> String {
    if app.status.is_empty() {
        String::new()
    } else {
        format!("  [{}]", app.status)
    }
}

/// Everything the narration box shows, as one string.
fn narration_text(app: &App) -> String {
    format!("» {}{}", narration_words(app), narration_status(app))
}

/// How many lines `text` takes wrapped at word boundaries to `width`
/// columns (as the narration's paragraph wraps it; a word longer than a
/// line is cut across lines).
fn wrapped_lines(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let (mut lines, mut used) = (1usize, 0usize);
    for word in text.split_whitespace() {
        let w = word.chars().count();
        let need = if used == 0 { w } else { used + 1 + w };
        if need <= width {
            used = need;
        } else {
            // On a new line unless this one is still empty, then cut.
            lines += usize::from(used > 0) + (w - 1) / width;
            used = (w - 1) % width + 1;
        }
    }
    u16::try_from(lines).unwrap_or(u16::MAX)
}

fn narration(app: &App, area: Rect, buf: &mut Buffer) {
    Paragraph::new(Line::from(vec![
        Span::styled("» ", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(narration_words(app)),
        Span::styled(
            narration_status(app),
            style::text(app.theme).add_modifier(Modifier::ITALIC),
        ),
    ]))
    .wrap(Wrap { trim: true })
    .render(area, buf);
}

/// Latency so far: a transaction whose client has not heard the outcome
/// has none yet ("—"), so a protocol that blocked never looks fastest.
fn latency_cell(app: &App, pane: usize) -> String {
    let v = &app.panes[pane];
    let m = &v.metrics.latency_ms;
    let open = v.started.saturating_sub(v.answered);
    match (v.answered, open) {
        (0, 0) => "—".into(),
        (0, n) => format!("— ({n} unanswered)"),
        (_, 0) => format!("{:.1} / {:.1}", m.p50, m.max),
        (_, n) => format!("{:.1} / — ({n} unanswered)", m.p50),
    }
}

/// Lines the violations list under the table needs.
pub fn violation_lines(app: &App) -> u16 {
    let n: usize = app.panes.iter().map(|p| p.violations.len()).sum();
    n.min(4) as u16
}

fn table(app: &App, area: Rect, buf: &mut Buffer) {
    let th = app.theme;
    let m = |i: usize| &app.panes[i].metrics;
    let row = |label: &str, f: &dyn Fn(usize) -> String| {
        Row::new(
            std::iter::once(label.to_string())
                .chain((0..3).map(f))
                .collect::<Vec<_>>(),
        )
    };
    let any_violation = app.panes.iter().any(|p| !p.violations.is_empty());
    let rows = vec![
        row("outcome", &|i| outcome_line(app, i)),
        row("latency p50 / max ms", &|i| latency_cell(app, i)),
        row("messages sent / dropped / dup", &|i| {
            format!(
                "{} / {} / {}",
                m(i).messages_sent,
                m(i).messages_dropped,
                m(i).messages_duplicated
            )
        }),
        row("lock hold ms", &|i| format!("{:.1}", m(i).lock_hold_ms)),
        // Uncertainty is normal on every run; blocking is the lesson.
        row("uncertain / blocked ms", &|i| {
            format!("{:.1} / {:.1}", m(i).in_doubt_ms, m(i).blocked_ms)
        }),
        row("retries", &|i| m(i).retries.to_string()),
        row("compensations", &|i| m(i).compensations.to_string()),
        row("dirty reads / decisions", &|i| {
            format!("{} / {}", m(i).dirty_reads, m(i).dirty_decisions)
        }),
        row("violations", &|i| match app.panes[i].violations.len() {
            0 => "none".into(),
            1 => "1 (listed below)".into(),
            n => format!("{n} (listed below)"),
        })
        .style(if any_violation {
            style::bad(th)
        } else {
            Style::new()
        }),
    ];
    let header = Row::new(["so far", "2PC", "orchestrated", "choreographed"])
        .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let block = Block::bordered()
        .title(" comparison ")
        .border_style(style::text(th));
    let inner = block.inner(area);
    block.render(area, buf);
    let list_h = violation_lines(app).min(inner.height.saturating_sub(10));
    let [t, list] = Layout::vertical([Constraint::Min(1), Constraint::Length(list_h)]).areas(inner);
    Table::new(
        rows,
        [
            Constraint::Length(30),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .column_spacing(2)
    .render(t, buf);
    // Violations in full, one per line, red: a table cell would cut them.
    let lines: Vec<Line> = app
        .panes
        .iter()
        .flat_map(|p| {
            p.violations
                .iter()
                .map(move |v| Line::styled(format!("‼ {}: {v}", p.protocol.name()), style::bad(th)))
        })
        .take(list_h as usize)
        .collect();
    Paragraph::new(lines).render(list, buf);
}

fn timeline(app: &App, area: Rect, buf: &mut Buffer) {
    let len = app.rec.steps.len().max(1);
    let label = format!(" {}/{} ", app.cursor, app.rec.steps.len());
    let end = format!(" {} ", pane::short_time(app.rec.end_time()));
    let bar_w = area
        .width
        .saturating_sub((label.len() + end.len()) as u16 + 2) as usize;
    let filled = (app.cursor * bar_w) / len;
    let bar: String = (0..bar_w)
        .map(|i| {
            if i < filled {
                '━'
            } else if i == filled {
                '●'
            } else {
                '─'
            }
        })
        .collect();
    let line = Line::from(vec![
        Span::raw(label),
        Span::styled(bar, Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(end, style::text(app.theme)),
    ]);
    buf.set_line(area.x, area.y, &line, area.width);
}

/// The pane (and node line, if any) at a screen position, for mouse
/// selection; mirrors the layout `panes` draws.
pub fn pane_at(app: &App, screen: Rect, column: u16, row: u16) -> Option<(usize, Option<usize>)> {
    let area = areas(screen, app).panes;
    let hit = |r: Rect| column >= r.x && column < r.right() && row >= r.y && row < r.bottom();
    let node_at = |pane: usize, r: Rect| -> Option<usize> {
        // Node lines start under the top border, in visible order.
        let line = row.checked_sub(r.y + 1)? as usize;
        app.visible_nodes(pane).get(line).copied()
    };
    if !hit(area) {
        return None;
    }
    if app.zoom {
        return Some((app.focus, node_at(app.focus, area)));
    }
    let full = full_layout(app, screen);
    if full {
        let cols = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(area);
        let i = cols.iter().position(|r| hit(*r))?;
        return Some((i, node_at(i, cols[i])));
    }
    let [detail, s1, s2] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if hit(detail) {
        return Some((app.focus, node_at(app.focus, detail)));
    }
    let k = if hit(s1) {
        1
    } else if hit(s2) {
        2
    } else {
        return None;
    };
    Some(((app.focus + k) % 3, None))
}

/// The timeline's bar spans these columns (for mouse seeking).
pub fn timeline_bar(app: &App, area: Rect) -> (u16, u16) {
    let label = format!(" {}/{} ", app.cursor, app.rec.steps.len()).len() as u16;
    let end = format!(" {} ", pane::short_time(app.rec.end_time())).len() as u16;
    let w = area.width.saturating_sub(label + end + 2);
    (area.x + label, w)
}

fn keybar(app: &App, area: Rect, buf: &mut Buffer) {
    let mut spans = Vec::new();
    if let Some(prompt) = crate::export::prompt_line(app) {
        spans.push(Span::styled(
            prompt,
            Style::new().add_modifier(Modifier::BOLD),
        ));
    } else if app.typing {
        spans.push(Span::raw(format!(
            " filter: {}▏ (enter to apply, esc to clear)",
            app.filter
        )));
    } else {
        for b in KEYMAP {
            if let Some(label) = b.bar {
                let key = b.keys.split(" / ").next().unwrap_or(b.keys);
                spans.push(Span::styled(
                    format!(" {key} "),
                    Style::new().add_modifier(Modifier::REVERSED),
                ));
                spans.push(Span::raw(format!(" {label} ")));
            }
        }
        if !app.mirror {
            spans.push(Span::styled(" mirror off ", style::bad(app.theme)));
        }
        if let Some(q) = app.open_question() {
            let n = q.choices.len().min(crate::quiz::MAX_CHOICES);
            spans.insert(
                0,
                Span::styled(
                    format!(" 1–{n} answer the question "),
                    style::focused(app.theme, true).add_modifier(Modifier::REVERSED),
                ),
            );
        }
        // An active filter hides nodes: say so where the keys are.
        if !app.filter.is_empty() {
            spans.insert(
                0,
                Span::styled(
                    format!(" filter “{}” (esc clears) ", app.filter),
                    style::focused(app.theme, true).add_modifier(Modifier::REVERSED),
                ),
            );
        }
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

#[cfg(test)]
mod tests {
    use super::wrapped_lines;

    #[test]
    fn wrapping_counts_lines_as_a_paragraph_fills_them() {
        assert_eq!(wrapped_lines("", 10), 1);
        assert_eq!(wrapped_lines("aaaa bbbb", 9), 1, "exactly full");
        assert_eq!(wrapped_lines("aaaa bbbbb", 9), 2, "one column over");
        assert_eq!(wrapped_lines("aaaa bbbb cccc dddd", 9), 2);
        assert_eq!(
            wrapped_lines("aaaaaaaaaaaaaaaaaaaa", 9),
            3,
            "a long word is cut"
        );
    }
}
