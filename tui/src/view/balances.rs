//! The business state row: every balance and stock level at the cursor,
//! one figure per protocol (`sam $900 / $800 / $800`), so the room sees
//! the money and the seats, not only the messages. Figures that differ
//! between protocols are marked (≠, and the violation colour).

use super::style;
use crate::app::App;
use crate::stock::{Holding, format_amount};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// One resource across the three protocols.
struct Figure {
    text: String,
    differs: bool,
    changed: bool,
}

/// The figures at the cursor, in service order; `compact` drops the blanks
/// around the separators.
fn figures(app: &App, compact: bool) -> Vec<Figure> {
    let Some(first) = app.panes.first() else {
        return Vec::new();
    };
    let sep = if compact { "/" } else { " / " };
    (0..first.stock.len())
        .map(|k| {
            let all: Vec<&Holding> = app.panes.iter().filter_map(|p| p.stock.get(k)).collect();
            let values: Vec<String> = all
                .iter()
                .map(|h| format_amount(h.value, h.money))
                .collect();
            Figure {
                text: format!("{} {}", name(&first.stock, k), values.join(sep)),
                differs: all.iter().any(|h| h.value != all[0].value),
                changed: all.iter().any(|h| h.value != h.start),
            }
        })
        .collect()
}

/// Resource `k` of `stock` as the row names it: by its own name ("sam",
/// "seats") where that is unique, else with its service's name first
/// ("s1 units"): six services that each hold "units" would otherwise show
/// six figures the room cannot tell apart.
fn name(stock: &[Holding], k: usize) -> String {
    let h = &stock[k];
    if stock.iter().filter(|o| o.resource == h.resource).count() > 1 {
        format!("{} {}", h.service, h.resource)
    } else {
        h.resource.clone()
    }
}

/// Which figures fit in `room` columns (each takes its text, a marker and
/// two blanks): those that differ first, then those that changed, then the
/// rest; shown in service order.
fn fitting(figs: &[Figure], room: usize) -> Vec<usize> {
    let width = |f: &Figure| f.text.chars().count() + if f.differs { 4 } else { 2 };
    if figs.iter().map(width).sum::<usize>() <= room {
        return (0..figs.len()).collect();
    }
    let mut order: Vec<usize> = (0..figs.len()).collect();
    order.sort_by_key(|&k| (!figs[k].differs, !figs[k].changed, k));
    // Keep room for "+N more".
    let budget = room.saturating_sub(8);
    let mut used = 0;
    let mut keep = Vec::new();
    for k in order {
        let w = width(&figs[k]);
        if used + w <= budget {
            used += w;
            keep.push(k);
        }
    }
    keep.sort_unstable();
    keep
}

/// The row's label, saying which column is which protocol.
const LABEL: &str = " 2PC / orch / chor: ";

/// Draw the row in `area` (one line).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let th = app.theme;
    // An open quiz question hides outcomes, and the money is one.
    if app.quiz.hides_outcomes() {
        let line = Line::from(vec![
            Span::styled(LABEL, style::text(th).add_modifier(Modifier::BOLD)),
            Span::styled("▒ hidden until the room answers", style::dim(th)),
        ]);
        buf.set_line(area.x, area.y, &line, area.width);
        return;
    }
    let tx = app
        .tx_view
        .map(|t| format!("  nodes: {t} only (x)"))
        .unwrap_or_default();
    let room = (area.width as usize).saturating_sub(LABEL.len() + tx.chars().count());
    let spaced = figures(app, false);
    let mut figs = spaced;
    let mut keep = fitting(&figs, room);
    if keep.len() < figs.len() {
        let compact = figures(app, true);
        let k = fitting(&compact, room);
        if k.len() > keep.len() {
            (figs, keep) = (compact, k);
        }
    }
    let mut spans = vec![Span::styled(
        LABEL,
        style::text(th).add_modifier(Modifier::BOLD),
    )];
    for &k in &keep {
        let f = &figs[k];
        let (text, st) = if f.differs {
            (format!("{} ≠", f.text), style::bad(th))
        } else if f.changed {
            (f.text.clone(), style::text(th).add_modifier(Modifier::BOLD))
        } else {
            (f.text.clone(), style::dim(th))
        };
        spans.push(Span::styled(text, st));
        spans.push(Span::raw("  "));
    }
    if keep.len() < figs.len() {
        spans.push(Span::styled(
            format!("+{} more", figs.len() - keep.len()),
            style::dim(th),
        ));
    }
    if !tx.is_empty() {
        spans.push(Span::styled(tx, Style::new().add_modifier(Modifier::BOLD)));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
