//! One protocol's pane: its nodes with their phase, the messages in flight,
//! and a space-time (Lamport) diagram of what has happened so far.

use super::style;
use crate::app::Theme;
use crate::fold::{Fate, PaneView, Row};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};
use txlab_sim::engine::SimTime;

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
    /// Diagram rows scrolled back from the newest.
    pub scroll: usize,
    /// Colours.
    pub theme: Theme,
}

impl Widget for &Pane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let v = self.view;
        let th = self.theme;
        let title = if self.focused {
            format!(" ▶ {} ", v.protocol.name().to_uppercase())
        } else {
            format!(" {} ", v.protocol.name().to_uppercase())
        };
        let block = Block::bordered()
            .border_type(if self.focused {
                BorderType::Thick
            } else {
                BorderType::Plain
            })
            .title(Line::styled(title, style::focused(th, self.focused)))
            .title_bottom(Line::styled(
                format!(" {} ", self.outcome),
                style::text(th).add_modifier(Modifier::BOLD),
            ))
            .border_style(style::focused(th, self.focused));
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
            let chosen = self.node == Some(i);
            let marker = if chosen { "▸" } else { " " };
            let line = Line::from(vec![
                Span::raw(format!("{marker}{} ", n.phase.symbol())),
                Span::raw(format!("{:<13}", truncate(&n.name, 12))),
                Span::styled(
                    format!(" {:<12}", n.phase.word()),
                    style::phase(th, n.phase),
                ),
                Span::raw(format!(" {}", n.detail)),
            ]);
            let s = if chosen {
                style::selected(th)
            } else {
                Style::new()
            };
            buf.set_style(Rect::new(inner.x, y, inner.width, 1), s);
            buf.set_line(inner.x, y, &line, inner.width);
            y += 1;
        }
        if y < inner.bottom() {
            let flying = format!("in flight: {}", v.in_flight_count);
            buf.set_string(
                inner.x,
                y,
                truncate(&flying, inner.width as usize),
                style::dim(th),
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
                    style::selected(th),
                );
                y += 1;
            }
        }
        if y + 2 <= inner.bottom() {
            let rest = Rect::new(inner.x, y, inner.width, inner.bottom() - y);
            diagram(v, self.visible, self.scroll, th, rest, buf);
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `s` cut to `n` characters, with an ellipsis when it was longer.
fn abbreviate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else if n == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// A diagram time: milliseconds with one decimal, seconds from 10 s on.
pub fn short_time(t: SimTime) -> String {
    let ms = t.0 as f64 / 1_000.0;
    if ms >= 10_000.0 {
        format!("{:.2}s", ms / 1_000.0)
    } else {
        format!("{ms:.1}ms")
    }
}

/// The space-time diagram: one column per node, one row per message (drawn
/// when sent, finished when it arrives) or fault, newest at the bottom;
/// faults scrolled out of view stay pinned on a line of their own.
fn diagram(
    v: &PaneView,
    visible: &[usize],
    scroll: usize,
    th: Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    if visible.is_empty() || area.height < 2 {
        return;
    }
    // The rows on screen: the header and maybe the pinned line take two.
    let end = v.rows.len().saturating_sub(scroll);
    let rows_h = area.height.saturating_sub(1) as usize;
    let mut start = end.saturating_sub(rows_h);
    let pinned_of = |start: usize| -> Vec<&Row> {
        v.faults
            .iter()
            .filter(|f| !v.rows[start..end].contains(f))
            .collect()
    };
    let mut pinned = pinned_of(start);
    if !pinned.is_empty() && area.height >= 4 {
        start = end.saturating_sub(rows_h - 1);
        pinned = pinned_of(start);
    } else {
        pinned.clear();
    }
    let shown = &v.rows[start..end];
    // The time column fits the widest time on screen, so no time ever
    // runs into the first lifeline.
    let time_w = shown
        .iter()
        .map(|r| short_time(row_time(r)).chars().count())
        .max()
        .unwrap_or(5) as u16
        + 1;
    if area.width <= time_w + 4 {
        return;
    }
    // Keep the last lifeline a few columns in, so its name fits.
    let width = area.width - time_w - 3;
    let cols = visible.len() as u16;
    let spacing = if cols <= 1 {
        width
    } else {
        (width - 1) / (cols - 1)
    };
    let col_of = |node: usize| -> Option<u16> {
        let i = visible.iter().position(|n| *n == node)? as u16;
        Some(area.x + time_w + i * spacing)
    };
    header(v, visible, &col_of, spacing, time_w, th, area, buf);
    let mut y = area.y + 1;
    if !pinned.is_empty() {
        let text: Vec<String> = pinned
            .iter()
            .map(|f| match f {
                Row::Crash(t, n) => format!("☠ {} {}", v.nodes[n.index()].name, short_time(*t)),
                Row::Restart(t, n) => {
                    format!("⟳ {} {}", v.nodes[n.index()].name, short_time(*t))
                }
                Row::Partition(t, true) => format!("═ partition {}", short_time(*t)),
                Row::Partition(t, false) => format!("─ heal {}", short_time(*t)),
                Row::Message { .. } => String::new(),
            })
            .collect();
        let line = format!("faults out of view: {}", text.join("  "));
        buf.set_string(
            area.x,
            y,
            abbreviate(&line, area.width as usize),
            style::bad(th),
        );
        y += 1;
    }
    for row in shown {
        for &n in visible {
            if let Some(x) = col_of(n) {
                buf.set_string(x, y, "│", style::dim(th));
            }
        }
        draw_row(row, &col_of, time_w, width, th, area, y, buf);
        buf.set_string(
            area.x,
            y,
            format!("{:>w$}", short_time(row_time(row)), w = time_w as usize - 1),
            style::dim(th),
        );
        y += 1;
    }
}

fn row_time(r: &Row) -> SimTime {
    match r {
        Row::Message { time, .. }
        | Row::Crash(time, _)
        | Row::Restart(time, _)
        | Row::Partition(time, _) => *time,
    }
}

/// Node names over their lifelines, each cut to the space between
/// lifelines so neighbours never run together.
#[allow(clippy::too_many_arguments)]
fn header(
    v: &PaneView,
    visible: &[usize],
    col_of: &dyn Fn(usize) -> Option<u16>,
    spacing: u16,
    time_w: u16,
    th: Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let mut free_from = area.x + time_w;
    let room = spacing.saturating_sub(1).max(3) as usize;
    for &n in visible {
        let Some(x) = col_of(n) else { continue };
        let name = abbreviate(&v.nodes[n].name, room);
        let len = name.chars().count() as u16;
        let start = x.saturating_sub(len / 2).max(free_from);
        let fit = area.right().saturating_sub(start) as usize;
        buf.set_string(
            start,
            area.y,
            truncate(&name, fit),
            style::text(th).add_modifier(Modifier::BOLD),
        );
        free_from = start + len + 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_row(
    row: &Row,
    col_of: &dyn Fn(usize) -> Option<u16>,
    time_w: u16,
    width: u16,
    th: Theme,
    area: Rect,
    y: u16,
    buf: &mut Buffer,
) {
    let (text, st) = match row {
        Row::Message {
            from,
            to,
            label,
            fate,
            duplicate,
            ..
        } => {
            let (Some(a), Some(b)) = (col_of(from.index()), col_of(to.index())) else {
                return;
            };
            arrow(buf, y, a, b, *fate, *duplicate, th);
            let st = match fate {
                Fate::Dropped(_) => style::bad(th),
                Fate::InFlight => style::dim(th),
                Fate::Delivered => style::text(th),
            };
            let text = match fate {
                Fate::InFlight => format!("{label} …"),
                Fate::Delivered if *duplicate => format!("{label} (dup)"),
                Fate::Delivered => label.clone(),
                Fate::Dropped(r) => format!("{label} ✗{}", r.label()),
            };
            // The label goes where it fits whole: on the arrow, after its
            // head, or before its tail; else where there is most room.
            let (lo, hi) = (a.min(b), a.max(b));
            let len = text.chars().count() as u16;
            let left_edge = area.x + time_w;
            let spots = [
                (lo + 2, hi.saturating_sub(lo + 3)),
                (hi + 2, area.right().saturating_sub(hi + 2)),
                (left_edge, lo.saturating_sub(left_edge).saturating_sub(1)),
            ];
            let (lx, room) = spots
                .iter()
                .copied()
                .find(|(_, room)| *room >= len)
                .unwrap_or_else(|| {
                    spots
                        .iter()
                        .copied()
                        .max_by_key(|(_, room)| *room)
                        .unwrap_or((lo, 0))
                });
            let room = room.min(area.right().saturating_sub(lx));
            buf.set_string(lx, y, crate::words::abbreviate(&text, room as usize), st);
            return;
        }
        Row::Crash(_, n) => (col_of(n.index()).map(|x| (x, "☠ CRASH")), style::bad(th)),
        Row::Restart(_, n) => (
            col_of(n.index()).map(|x| (x, "⟳ restart")),
            style::text(th).add_modifier(Modifier::BOLD),
        ),
        Row::Partition(_, on) => {
            let text = if *on {
                "═══ partition ═══"
            } else {
                "─── heal ───"
            };
            (
                Some((area.x + time_w + (width / 2).saturating_sub(8), text)),
                style::bad(th),
            )
        }
    };
    if let Some((x, t)) = text {
        let room = area.right().saturating_sub(x) as usize;
        buf.set_string(x, y, truncate(t, room), st);
    }
}

fn arrow(buf: &mut Buffer, y: u16, a: u16, b: u16, fate: Fate, duplicate: bool, th: Theme) {
    let (lo, hi) = (a.min(b), a.max(b));
    let line = match fate {
        Fate::InFlight => "╌",
        _ if duplicate => "┄",
        _ => "─",
    };
    let st = match fate {
        Fate::Dropped(_) => style::bad(th),
        Fate::InFlight => style::dim(th),
        Fate::Delivered => style::text(th),
    };
    for x in lo..=hi {
        buf.set_string(x, y, line, st);
    }
    let tail = if fate == Fate::InFlight { "○" } else { "●" };
    buf.set_string(a, y, tail, st);
    let head = match (fate, b > a) {
        (Fate::Dropped(_), _) => "✗",
        (Fate::InFlight, true) => "▷",
        (Fate::InFlight, false) => "◁",
        (_, true) => "▶",
        (_, false) => "◀",
    };
    buf.set_string(b, y, head, st);
}
