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
    ("? IN DOUBT", "2PC: undecided; blocked if coordinator down"),
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

/// One page of the help.
#[derive(Clone, Debug, PartialEq)]
struct HelpPage {
    /// The bindings it lists (a range of [`KEYMAP`]), in two columns.
    keys: std::ops::Range<usize>,
    /// The legend entries it lists (a range of [`LEGEND`]): in two columns
    /// beside the keys, else in one (its texts are long).
    legend: std::ops::Range<usize>,
    /// It ends with the key to this scenario's transaction ids.
    tx_key: bool,
}

/// Rows the key to the transaction ids may take (it wraps).
const TX_ROWS: usize = 2;

/// Split `0..len` evenly into as few ranges as hold `per` items each.
fn split(len: usize, per: usize) -> Vec<std::ops::Range<usize>> {
    let n = len.div_ceil(per.max(1)).max(1);
    let each = len.div_ceil(n);
    (0..n)
        .map(|p| p * each..((p + 1) * each).min(len))
        .collect()
}

/// The help's pages for a screen `height` rows tall. Everything on one
/// page when it fits; else the bindings split evenly over as few pages as
/// hold them (two columns), then the legend in one column over as few
/// pages as hold it. Each page leaves the title line and the key bar (the
/// first and last rows) alone: at 80×24, two pages of keys and two of
/// legend.
fn help_pages(height: u16) -> Vec<HelpPage> {
    // The title line, the key bar, the box's borders.
    let rows = (height as usize).saturating_sub(4).max(1);
    if KEYMAP.len().div_ceil(2) + LEGEND.len().div_ceil(2) + 1 + TX_ROWS <= rows {
        return vec![HelpPage {
            keys: 0..KEYMAP.len(),
            legend: 0..LEGEND.len(),
            tx_key: true,
        }];
    }
    let mut out: Vec<HelpPage> = split(KEYMAP.len(), 2 * rows)
        .into_iter()
        .map(|keys| HelpPage {
            keys,
            legend: 0..0,
            tx_key: false,
        })
        .collect();
    // The transaction key takes the last legend page's last rows.
    let legend = split(LEGEND.len() + TX_ROWS, rows);
    let last = legend.len() - 1;
    out.extend(legend.into_iter().enumerate().map(|(i, r)| HelpPage {
        keys: 0..0,
        legend: r.start..r.end.min(LEGEND.len()),
        tx_key: i == last,
    }));
    out
}

/// Pages the help has on a screen `height` rows tall (`?` moves through
/// them, coming back to the first).
pub fn help_page_count(height: u16) -> usize {
    help_pages(height).len()
}

/// A help page's table rows: its bindings in two columns (column-major),
/// then its legend entries (beside the keys in two columns, else in one).
fn help_rows(page: &HelpPage) -> Vec<Row<'static>> {
    let half = page.keys.len().div_ceil(2);
    let both = !page.keys.is_empty() && !page.legend.is_empty();
    let legend_cols = if both { 2 } else { 1 };
    let legend_n = page.legend.len().div_ceil(legend_cols);
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
    let mut rows: Vec<Row<'static>> = Vec::new();
    let key = |i: usize| {
        (i < page.keys.end)
            .then(|| KEYMAP.get(i).map(|b| (b.keys, b.what)))
            .flatten()
    };
    let k0 = page.keys.start;
    rows.extend((0..half).map(|i| pair(key(k0 + i), key(k0 + i + half))));
    if both {
        rows.push(Row::new(["— legend —"]).style(Style::new().add_modifier(Modifier::BOLD)));
    }
    let sym = |i: usize| (i < page.legend.end).then(|| LEGEND[i]);
    let l0 = page.legend.start;
    rows.extend((0..legend_n).map(|i| match legend_cols {
        1 => pair(sym(l0 + i), None),
        _ => pair(sym(l0 + i), sym(l0 + i + legend_n)),
    }));
    rows
}

/// The help: the page `app.help_page` (modulo the page count) of the
/// keymap and the legend of symbols, colours and mouse actions.
fn help(app: &App, area: Rect, buf: &mut Buffer) {
    let pages = help_pages(area.height);
    let at = app.help_page % pages.len();
    let page = &pages[at];
    let half = page.keys.len().div_ceil(2);
    let both = !page.keys.is_empty() && !page.legend.is_empty();
    let legend_cols = if both { 2 } else { 1 };
    let legend_n = page.legend.len().div_ceil(legend_cols);
    let tx_rows = if page.tx_key { TX_ROWS } else { 0 };
    let rows_n = half + legend_n + usize::from(both) + tx_rows;
    // Below the title line when there is room.
    let top = u16::from(rows_n as u16 + 3 <= area.height);
    let r = Rect::new(
        area.x,
        area.y + top,
        area.width,
        (rows_n as u16 + 2).min(area.height.saturating_sub(top)),
    );
    Clear.render(r, buf);
    let rows = help_rows(page);
    let widths = if both || page.legend.is_empty() {
        [
            Constraint::Length(10),
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Fill(1),
        ]
    } else {
        [
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Length(0),
            Constraint::Length(0),
        ]
    };
    let what = if page.keys.is_empty() {
        "legend"
    } else {
        "keys"
    };
    let title = match pages.len() {
        1 => " help: keys and legend (esc to close) ".to_string(),
        n => format!(
            " help: {what}, page {} of {n} (? next page, esc to close) ",
            at + 1
        ),
    };
    Table::new(rows, widths)
        .block(Block::bordered().title(title))
        .style(style::base(app.theme))
        .render(r, buf);
    if page.tx_key && r.height > 2 + tx_rows as u16 {
        // Whole words over its rows; abbreviated only if it needs more.
        let key = crate::words::transactions(&app.rec.scenario.spec.workflow);
        let w = r.width.saturating_sub(2) as usize;
        let room = (TX_ROWS * w).saturating_sub(w / 4);
        let at = Rect::new(
            r.x + 1,
            r.bottom() - 1 - tx_rows as u16,
            r.width.saturating_sub(2),
            tx_rows as u16,
        );
        Paragraph::new(crate::words::abbreviate(&key, room))
            .wrap(Wrap { trim: true })
            .style(style::text(app.theme))
            .render(at, buf);
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
    // The screen's time, as the title shows it.
    let title = format!(
        " inspect at {} (esc to close) ",
        super::pane::short_time(app.shown_time())
    );
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(title))
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
