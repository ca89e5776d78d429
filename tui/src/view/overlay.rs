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
        Overlay::Help => help(area, buf),
        Overlay::Inspect(what) => inspect(app, what, area, buf),
        Overlay::Picker { selected } => picker(app, *selected, area, buf),
        Overlay::Sweep { result, selected } => sweep(result, *selected, area, buf),
    }
}

/// The keymap in two columns, so every binding fits at 80×24.
fn help(area: Rect, buf: &mut Buffer) {
    let half = KEYMAP.len().div_ceil(2);
    let r = Rect::new(
        area.x,
        area.y + 1,
        area.width,
        (half as u16 + 2).min(area.height.saturating_sub(1)),
    );
    Clear.render(r, buf);
    let rows: Vec<Row> = (0..half)
        .map(|i| {
            let cell =
                |b: Option<&crate::action::Binding>| b.map_or(["", ""], |b| [b.keys, b.what]);
            let [k1, w1] = cell(KEYMAP.get(i));
            let [k2, w2] = cell(KEYMAP.get(i + half));
            Row::new([k1, w1, k2, w2])
        })
        .collect();
    let widths = [
        Constraint::Length(10),
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    Table::new(rows, widths)
        .block(Block::bordered().title(" help: keys (esc to close) "))
        .render(r, buf);
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
            style::selected()
        } else {
            Style::new()
        };
        let note = match &e.scenario {
            Ok(s) => s.file.description.clone(),
            Err(why) => format!("cannot load: {why}"),
        };
        let line = Line::from(vec![
            Span::styled(format!("{:<36}", e.name), st),
            Span::styled(note, style::dim()),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
    }
}

fn sweep(result: &crate::app::SweepResult, selected: usize, area: Rect, buf: &mut Buffer) {
    let r = popup(area, 80, 80);
    Clear.render(r, buf);
    let title = format!(
        " sweep: seeds {}..{} (enter opens a violating seed, esc closes) ",
        result.seeds.start, result.seeds.end
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
                Span::styled("█".repeat(len), outcome_style(o)),
            ]);
            buf.set_line(inner.x, y, &line, inner.width);
            y += 1;
        }
    }
    y += 1;
    if y < inner.bottom() {
        let head = format!("violating seeds: {}", result.violating.len());
        buf.set_string(inner.x, y, head, style::bad());
        y += 1;
    }
    for (k, seed) in result.violating.iter().enumerate() {
        if y >= inner.bottom() {
            break;
        }
        let st = if k == selected {
            style::selected()
        } else {
            Style::new()
        };
        buf.set_string(inner.x + 2, y, format!("seed {seed}"), st);
        y += 1;
    }
}

fn outcome_style(o: &str) -> Style {
    use crate::fold::Phase;
    style::phase(match o {
        "committed" | "completed" => Phase::Committed,
        "compensated" => Phase::Compensated,
        "stuck" => Phase::Stuck,
        "blocked" | "unfinished" => Phase::InDoubt,
        _ => Phase::Aborted,
    })
}
