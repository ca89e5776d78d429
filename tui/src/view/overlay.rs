//! Overlays: help (generated from the keymap), inspect, picker, sweep.

use super::style;
use crate::action::KEYMAP;
use crate::app::{App, Inspect, Overlay};
use crate::inspect::{message_details, node_details};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, Widget, Wrap};
use txlab_sim::engine::NodeId;

fn popup(area: Rect, w_pct: u16, h_pct: u16) -> Rect {
    let w = (area.width * w_pct / 100).max(40).min(area.width);
    let h = (area.height * h_pct / 100).max(10).min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Render the app's overlay, if any.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => help(app, area, buf),
        Overlay::Inspect(what) => inspect(app, what, area, buf),
        Overlay::Picker { selected } => picker(app, *selected, area, buf),
        Overlay::Sweep { result, selected } => sweep(app.theme, result, *selected, area, buf),
        Overlay::Anomalies => anomalies(app, area, buf),
    }
}

/// The isolation anomalies each protocol's run shows up to the cursor:
/// counts by class, then one line per instance (the newest last).
fn anomalies(app: &App, area: Rect, buf: &mut Buffer) {
    use txlab_sim::lab::anomaly::AnomalyClass;
    let r = popup(area, 90, 80);
    Clear.render(r, buf);
    let block = Block::bordered().title(" isolation anomalies so far (esc closes) ");
    let inner = block.inner(r);
    block.render(r, buf);
    // Each protocol gets a third of the rows: its counts, then its newest
    // instances (the ones the cursor just passed).
    let per = (inner.height as usize / app.panes.len().max(1)).saturating_sub(1);
    let mut lines: Vec<Line> = Vec::new();
    for (i, found) in app.anomalies.iter().enumerate() {
        let classes = txlab_sim::lab::anomaly::AnomalyClasses::of(found);
        let counts: Vec<String> = AnomalyClass::ALL
            .iter()
            .map(|c| format!("{} {}", c.name().replace('_', " "), classes.get(*c)))
            .collect();
        let name = txlab_sim::protocols::Protocol::ALL[i].name();
        lines.push(Line::from(vec![
            Span::styled(
                format!("{name:<14}"),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(counts.join(" · ")),
        ]));
        let skip = found.len().saturating_sub(per);
        for a in &found[skip..] {
            lines.push(Line::from(format!(
                "  {:<12} {:<18} {}  (trace #{})",
                a.class.name().replace('_', " "),
                a.resource,
                a.text,
                a.trace_index
            )));
        }
    }
    Paragraph::new(lines).render(inner, buf);
}

/// What every symbol and colour means (the help's second part).
pub const LEGEND: &[(&str, &str)] = &[
    ("·", "idle: nothing yet"),
    ("…", "working on a transaction"),
    ("◐ PREPARED", "2PC: voted yes, holds locks"),
    ("? IN DOUBT", "2PC: prepared, no decision: blocked"),
    ("✓", "committed / step applied (green)"),
    ("✗", "aborted (red); on an arrow: dropped"),
    ("↺ ↩", "saga compensating / compensated (cyan)"),
    ("‼ STUCK", "compensation keeps failing"),
    ("☠ CRASHED", "node down (white on red)"),
    ("▒ (hidden)", "quiz: an end hidden until answered"),
    ("⟳", "node restarted from its log"),
    ("●──▶", "message delivered"),
    ("○╌╌▷ …", "message sent, still in flight"),
    ("●┄┄▶", "a network duplicate"),
    ("═══", "partition;  ─── heal"),
    ("locks", "2PC locks held on that node"),
    ("⏸ / ▶", "title: paused / playing"),
    ("mouse", "click: focus pane, select node"),
    ("mouse", "click/drag timeline: seek"),
    ("mouse", "wheel over a pane: scroll diagram"),
];

/// The keymap in two columns, so every binding fits at 80×24, then the
/// legend of symbols, colours and mouse actions (on a second page, `?`
/// again, when the screen is too short for both).
fn help(app: &App, area: Rect, buf: &mut Buffer) {
    let half = KEYMAP.len().div_ceil(2);
    let legend_half = LEGEND.len().div_ceil(2);
    let both = half + legend_half + 6 <= area.height.saturating_sub(1) as usize;
    let show_keys = both || app.help_page == 0;
    let show_legend = both || app.help_page == 1;
    let rows_n = if both {
        half + legend_half + 1
    } else if show_keys {
        half
    } else {
        legend_half
    };
    // The legend ends with the key to this scenario's transaction ids.
    let rows_n = rows_n + usize::from(show_legend);
    // Below the title line when there is room; over it when the keys
    // need every row (80×24).
    let top = u16::from(rows_n as u16 + 3 <= area.height);
    let r = Rect::new(
        area.x,
        area.y + top,
        area.width,
        (rows_n as u16 + 2).min(area.height.saturating_sub(top)),
    );
    Clear.render(r, buf);
    let pair = |a: Option<(&str, &str)>, b: Option<(&str, &str)>| {
        let [k1, w1] = a.map_or(["", ""], |(k, w)| [k, w]);
        let [k2, w2] = b.map_or(["", ""], |(k, w)| [k, w]);
        Row::new([
            k1.to_string(),
            w1.to_string(),
            k2.to_string(),
            w2.to_string(),
        ])
    };
    let mut rows: Vec<Row> = Vec::new();
    if show_keys {
        let key = |i: usize| KEYMAP.get(i).map(|b| (b.keys, b.what));
        rows.extend((0..half).map(|i| pair(key(i), key(i + half))));
    }
    if show_legend {
        if both {
            rows.push(Row::new(["— legend —"]).style(Style::new().add_modifier(Modifier::BOLD)));
        }
        let sym = |i: usize| LEGEND.get(i).copied();
        rows.extend((0..legend_half).map(|i| pair(sym(i), sym(i + legend_half))));
    }
    let widths = [
        Constraint::Length(10),
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    let title = if both {
        " help: keys and legend (esc to close) "
    } else if show_keys {
        " help: keys (? for the legend, esc to close) "
    } else {
        " help: legend (esc to close) "
    };
    Table::new(rows, widths)
        .block(Block::bordered().title(title))
        .style(style::base(app.theme))
        .render(r, buf);
    if show_legend && r.height > 2 {
        let key = crate::words::transactions(&app.rec.scenario.spec.workflow);
        let w = r.width.saturating_sub(2);
        buf.set_string(
            r.x + 1,
            r.bottom() - 2,
            crate::words::abbreviate(&key, w as usize),
            style::text(app.theme),
        );
    }
}

fn inspect(app: &App, what: &Inspect, area: Rect, buf: &mut Buffer) {
    let r = popup(area, 80, 80);
    Clear.render(r, buf);
    let pane = &app.rec.panes[app.focus];
    let shown = app.panes[app.focus].shown;
    let lines = match what {
        Inspect::Node(n) => node_details(pane, shown, NodeId(*n as u32)),
        Inspect::Message(m) => match app.panes[app.focus].in_flight.get(*m) {
            Some(f) => message_details(pane, f.id),
            None => vec!["that message has arrived".into()],
        },
    };
    let text: Vec<Line> = lines.into_iter().map(Line::from).collect();
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(" inspect (esc to close) "))
        .render(r, buf);
}

fn picker(app: &App, selected: usize, area: Rect, buf: &mut Buffer) {
    let app_theme = app.theme;
    let r = popup(area, 70, 80);
    Clear.render(r, buf);
    let block = Block::bordered().title(" open a scenario (enter to open, esc to close) ");
    let inner = block.inner(r);
    block.render(r, buf);
    let first = selected.saturating_sub(inner.height.saturating_sub(1) as usize);
    for (k, e) in app
        .catalog
        .iter()
        .enumerate()
        .skip(first)
        .take(inner.height as usize)
    {
        let y = inner.y + (k - first) as u16;
        let st = if k == selected {
            style::selected(app_theme)
        } else {
            Style::new()
        };
        // A file that does not load is listed with its error (file, line,
        // column), not hidden: the author needs to know why.
        let (mark, note, note_style) = match &e.scenario {
            Ok(s) => ("  ", s.file.description.clone(), style::dim(app_theme)),
            Err(why) => ("✗ ", format!("cannot load: {why}"), style::bad(app_theme)),
        };
        let name_w = 34.min(inner.width as usize / 2);
        let name = if e.name.chars().count() > name_w {
            let cut: String = e.name.chars().take(name_w.saturating_sub(1)).collect();
            format!("{cut}…")
        } else {
            e.name.clone()
        };
        let line = Line::from(vec![
            Span::styled(format!("{mark}{name:<name_w$}  "), st),
            Span::styled(note, note_style),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
    }
}

fn sweep(
    app_theme: crate::app::Theme,
    result: &crate::app::SweepResult,
    selected: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let r = popup(area, 80, 80);
    Clear.render(r, buf);
    let title = format!(
        " sweep: {} seeds, {} to {} (enter opens a violating seed, esc closes) ",
        result.seeds.end - result.seeds.start,
        result.seeds.start,
        result.seeds.end.saturating_sub(1)
    );
    let block = Block::bordered().title(title);
    let inner = block.inner(r);
    block.render(r, buf);
    let total = (result.seeds.end - result.seeds.start).max(1) as usize;
    let bar_w = inner.width.saturating_sub(34) as usize;
    let mut y = inner.y;
    for (i, outcomes) in result.outcomes.iter().enumerate() {
        let name = txlab_sim::protocols::Protocol::ALL[i].name();
        buf.set_string(inner.x, y, name, Style::new().add_modifier(Modifier::BOLD));
        y += 1;
        for (o, n) in outcomes {
            if y >= inner.bottom() {
                return;
            }
            let len = (*n as usize * bar_w).div_ceil(total.max(1)).min(bar_w);
            let line = Line::from(vec![
                Span::raw(format!("  {:<12} {:>6} ", o, n)),
                Span::styled("█".repeat(len), outcome_style(app_theme, o)),
            ]);
            buf.set_line(inner.x, y, &line, inner.width);
            y += 1;
        }
    }
    y += 1;
    if y < inner.bottom() {
        let head = format!("violating seeds: {}", result.violating.len());
        buf.set_string(inner.x, y, head, style::bad(app_theme));
        y += 1;
    }
    for (k, seed) in result.violating.iter().enumerate() {
        if y >= inner.bottom() {
            break;
        }
        let st = if k == selected {
            style::selected(app_theme)
        } else {
            Style::new()
        };
        buf.set_string(inner.x + 2, y, format!("seed {seed}"), st);
        y += 1;
    }
}

fn outcome_style(app_theme: crate::app::Theme, o: &str) -> Style {
    use crate::fold::Phase;
    style::phase(
        app_theme,
        match o {
            "committed" | "completed" => Phase::Committed,
            "compensated" => Phase::Compensated,
            "stuck" => Phase::Stuck,
            "blocked" | "unfinished" => Phase::InDoubt,
            _ => Phase::Aborted,
        },
    )
}
