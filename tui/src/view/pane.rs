//! One protocol's pane: its nodes with their phase, the messages in flight,
//! and a space-time (Lamport) diagram of what has happened so far.

use super::style;
use crate::fold::{Fate, PaneView, Row};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

/// A pane, ready to render.
pub struct Pane<'a> {
    /// What to show.
    pub view: &'a PaneView,
    /// Has the focus.
    pub focused: bool,
    /// Selected node (when focused).
    pub node: Option<usize>,
    /// Selected in-flight message (when focused).
    pub message: Option<usize>,
    /// Nodes to show.
    pub visible: &'a [usize],
    /// The final outcome line (shown once the run is complete).
    pub outcome: String,
}

impl Widget for &Pane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let v = self.view;
        let title = format!(" {} ", v.protocol.name().to_uppercase());
        let block = Block::bordered()
            .title(Line::styled(title, style::focused(self.focused)))
            .title_bottom(Line::from(format!(" {} ", self.outcome)))
            .border_style(style::focused(self.focused));
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.height == 0 || inner.width < 10 {
            return;
        }
        let mut y = inner.y;
        for &i in self.visible {
            if y >= inner.bottom() {
                return;
            }
            let n = &v.nodes[i];
            let marker = if self.node == Some(i) { "▸" } else { " " };
            let line = Line::from(vec![
                Span::raw(format!("{marker}{} ", n.phase.symbol())),
                Span::raw(format!("{:<13}", truncate(&n.name, 12))),
                Span::styled(format!("{:<12}", n.phase.word()), style::phase(n.phase)),
                Span::styled(n.detail.clone(), style::dim()),
            ]);
            let s = if self.node == Some(i) {
                style::selected()
            } else {
                Style::new()
            };
            buf.set_style(Rect::new(inner.x, y, inner.width, 1), s);
            buf.set_line(inner.x, y, &line, inner.width);
            y += 1;
        }
        if y < inner.bottom() {
            let flying = format!("in flight: {}", v.in_flight.len());
            buf.set_string(
                inner.x,
                y,
                truncate(&flying, inner.width as usize),
                style::dim(),
            );
            y += 1;
        }
        if let Some(m) = self.message.and_then(|m| v.in_flight.get(m)) {
            if y < inner.bottom() {
                let text = format!(
                    "▸ {} → {}: {}",
                    v.nodes[m.from.index()].name,
                    v.nodes[m.to.index()].name,
                    m.label
                );
                buf.set_string(
                    inner.x,
                    y,
                    truncate(&text, inner.width as usize),
                    style::selected(),
                );
                y += 1;
            }
        }
        if y + 2 <= inner.bottom() {
            let rest = Rect::new(inner.x, y, inner.width, inner.bottom() - y);
            diagram(v, self.visible, rest, buf);
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The space-time diagram: one column per node, one row per event, newest
/// at the bottom; arrows for deliveries, ✗ for drops, ☠ for crashes.
fn diagram(v: &PaneView, visible: &[usize], area: Rect, buf: &mut Buffer) {
    const TIME: u16 = 9;
    if area.width <= TIME + 4 || visible.is_empty() {
        return;
    }
    // Keep the last lifeline a few columns in, so its name fits.
    let width = area.width - TIME - 3;
    let cols = visible.len() as u16;
    let col_of = |node: usize| -> Option<u16> {
        let i = visible.iter().position(|n| *n == node)? as u16;
        Some(
            area.x
                + TIME
                + if cols == 1 {
                    0
                } else {
                    i * (width - 1) / (cols - 1)
                },
        )
    };
    // Header: node names over their lifelines.
    for &n in visible {
        if let Some(x) = col_of(n) {
            let name = truncate(&v.nodes[n].name, 7);
            let start = x
                .saturating_sub(name.chars().count() as u16 / 2)
                .max(area.x + TIME);
            let room = area.right().saturating_sub(start) as usize;
            buf.set_string(start, area.y, truncate(&name, room), style::dim());
        }
    }
    let rows_h = area.height.saturating_sub(1) as usize;
    let rows: Vec<&Row> = v.rows.iter().rev().take(rows_h).collect();
    for (k, row) in rows.iter().rev().enumerate() {
        let y = area.y + 1 + k as u16;
        for &n in visible {
            if let Some(x) = col_of(n) {
                buf.set_string(x, y, "│", style::dim());
            }
        }
        let (time, text, st) = match row {
            Row::Message {
                time,
                from,
                to,
                label,
                fate,
                duplicate,
            } => {
                let (Some(a), Some(b)) = (col_of(from.index()), col_of(to.index())) else {
                    continue;
                };
                arrow(buf, y, a, b, *fate, *duplicate);
                let st = if matches!(fate, Fate::Dropped(_)) {
                    style::bad()
                } else {
                    Style::new()
                };
                let text = match fate {
                    Fate::Delivered if *duplicate => format!("{label} (dup)"),
                    Fate::Delivered => label.clone(),
                    Fate::Dropped(r) => format!("{label} ✗{}", r.label()),
                };
                // The label sits on the arrow between tail and head, or
                // after the head when the arrow is too short.
                let (lo, hi) = (a.min(b), a.max(b));
                let (lx, room) = if hi.saturating_sub(lo) > 8 {
                    (lo + 2, hi.saturating_sub(lo + 3))
                } else {
                    (hi + 2, area.right().saturating_sub(hi + 2))
                };
                let room = room.min(area.right().saturating_sub(lx));
                buf.set_string(lx, y, truncate(&text, room as usize), st);
                (*time, None, st)
            }
            Row::Crash(t, n) => (*t, col_of(n.index()).map(|x| (x, "☠ CRASH")), style::bad()),
            Row::Restart(t, n) => (
                *t,
                col_of(n.index()).map(|x| (x, "⟳ restart")),
                Style::new(),
            ),
            Row::Partition(t, on) => {
                let text = if *on {
                    "═══ partition ═══"
                } else {
                    "─── heal ───"
                };
                (
                    *t,
                    Some((area.x + TIME + width / 2 - 8, text)),
                    style::bad(),
                )
            }
        };
        if let Some((x, t)) = text {
            let room = area.right().saturating_sub(x) as usize;
            buf.set_string(x, y, truncate(t, room), st);
        }
        buf.set_string(area.x, y, format!("{:>8}", time.to_string()), style::dim());
    }
}

fn arrow(buf: &mut Buffer, y: u16, a: u16, b: u16, fate: Fate, duplicate: bool) {
    let (lo, hi) = (a.min(b), a.max(b));
    let line = if duplicate { "┄" } else { "─" };
    let st = if matches!(fate, Fate::Dropped(_)) {
        style::bad()
    } else {
        Style::new()
    };
    for x in lo..=hi {
        buf.set_string(x, y, line, st);
    }
    buf.set_string(a, y, "●", st);
    let head = match (fate, b > a) {
        (Fate::Dropped(_), _) => "✗",
        (_, true) => "▶",
        (_, false) => "◀",
    };
    buf.set_string(b, y, head, st);
}
