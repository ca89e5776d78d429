//! Export for slides: the screen as SVG (every cell's text in the theme's
//! colours) and as plain text, and the focused pane's diagram up to the
//! cursor as Mermaid. A small prompt asks for the file name first. The
//! update only records the request; the event loop, which knows the
//! screen's size, calls [`write_exports`] (the only I/O here).

use crate::action::Action;
use crate::app::{App, Theme};
use crate::view::MainScreen;
use crate::view::style::palette;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::widgets::Widget;
use std::fmt::Write;
use txlab_sim::lab::mermaid::{MermaidOptions, mermaid_with};

/// The export prompt and the request it ends in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportState {
    /// The file name being typed (without extension), while prompting.
    pub prompt: Option<String>,
    /// A confirmed file name: the event loop writes the files.
    pub request: Option<String>,
}

/// The extensions written, in order.
pub const EXTENSIONS: [&str; 3] = ["svg", "txt", "mmd"];

impl App {
    /// The suggested name: the lesson and the screen's time.
    pub fn default_export_name(&self) -> String {
        let ms = self.shown_time().as_micros() / 1_000;
        format!("{}-{ms}ms", self.rec.scenario.name())
    }

    pub(crate) fn open_export_prompt(&mut self) {
        self.playing = false;
        self.export.prompt = Some(self.default_export_name());
    }

    pub(crate) fn update_export_prompt(&mut self, action: Action) {
        let Some(name) = self.export.prompt.as_mut() else {
            return;
        };
        match action {
            Action::Char(c) => name.push(c),
            Action::Backspace => {
                name.pop();
            }
            Action::Confirm => {
                let typed = self.export.prompt.take().unwrap_or_default();
                let base = base_name(&typed);
                self.export.request = Some(if base.is_empty() {
                    self.default_export_name()
                } else {
                    base
                });
            }
            Action::Back => {
                self.export.prompt = None;
                self.status = "export cancelled".into();
            }
            Action::Quit => self.quit = true,
            _ => {}
        }
    }

    /// Typing into a prompt (the filter or the export name): keys are text.
    pub fn entering_text(&self) -> bool {
        self.typing || self.export.prompt.is_some()
    }
}

/// A typed name without surrounding blanks or one of our extensions (a
/// user who types `slide.svg` gets `slide.svg`, not `slide.svg.svg`).
fn base_name(typed: &str) -> String {
    let t = typed.trim();
    EXTENSIONS
        .iter()
        .find_map(|e| t.strip_suffix(&format!(".{e}")))
        .unwrap_or(t)
        .to_string()
}

/// The key bar's text while the prompt is open.
pub fn prompt_line(app: &App) -> Option<String> {
    app.export
        .prompt
        .as_ref()
        .map(|name| format!(" export as: {name}▏ (.svg .txt .mmd; enter to write, esc to cancel)"))
}

/// Render the main screen (no prompt) at `size` and write `<base>.svg`,
/// `<base>.txt` and `<base>.mmd`. Returns what the status line says:
/// what was written, or why not, in words.
pub fn write_exports(app: &App, size: Rect, base: &str) -> String {
    let buf = screen(app, size);
    let title = format!(
        "txlab: {} at {}",
        app.rec.scenario.name(),
        crate::view::pane::short_time(app.shown_time())
    );
    let files = [
        (EXTENSIONS[0], svg(&buf, app.theme, &title)),
        (EXTENSIONS[1], plain_text(&buf)),
        (EXTENSIONS[2], mermaid(app)),
    ];
    let mut written = Vec::new();
    for (ext, text) in files {
        let path = format!("{base}.{ext}");
        if let Err(e) = std::fs::write(&path, text) {
            let done = if written.is_empty() {
                String::new()
            } else {
                format!(" (wrote {})", written.join(", "))
            };
            return format!("could not write {path}: {e}{done}");
        }
        written.push(path);
    }
    format!("wrote {}", written.join(", "))
}

/// The main screen as drawn at `size`.
pub fn screen(app: &App, size: Rect) -> Buffer {
    let area = Rect::new(0, 0, size.width, size.height);
    let mut buf = Buffer::empty(area);
    (&MainScreen(app)).render(area, &mut buf);
    buf
}

/// The buffer's text: one line per row, trailing blanks cut.
pub fn plain_text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(buf.area.x + x, buf.area.y + y)].symbol())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The focused pane's diagram up to the cursor, as Mermaid (background
/// traffic left out unless it is shown).
pub fn mermaid(app: &App) -> String {
    let run = &app.rec.panes[app.focus];
    let hidden = if app.background {
        Vec::new()
    } else {
        crate::fold::background_nodes(run)
    };
    let body = mermaid_with(
        &run.world,
        MermaidOptions {
            events: Some(app.panes[app.focus].shown),
            hidden: &hidden,
            label: Some(&|m| crate::words::message(m, &run.spec.workflow)),
        },
    );
    let (head, rest) = body.split_once('\n').unwrap_or((&body, ""));
    format!(
        "{head}\n    %% txlab {}: {} up to {}\n{rest}",
        app.rec.scenario.name(),
        run.protocol.name(),
        crate::view::pane::short_time(app.shown_time())
    )
}

/// Cell size in the SVG, in pixels (a monospace cell is about 0.6 em wide).
const CELL_W: f64 = 8.4;
const CELL_H: u32 = 17;
const FONT_PX: u32 = 14;

/// How one cell's text is drawn.
#[derive(Clone, PartialEq)]
struct Look {
    fg: String,
    bg: String,
    modifier: Modifier,
}

fn look(cell: &ratatui::buffer::Cell, theme: Theme) -> Look {
    let (mut fg, mut bg) = (hex(cell.fg, theme, true), hex(cell.bg, theme, false));
    if cell.modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    Look {
        fg,
        bg,
        modifier: cell.modifier,
    }
}

/// The screen as SVG: a background rectangle per run of cells of one
/// colour, a text element per run of one look, each stretched to its
/// cells' width so columns line up whatever the font.
pub fn svg(buf: &Buffer, theme: Theme, title: &str) -> String {
    let (w, h) = (buf.area.width, buf.area.height);
    let (px_w, px_h) = (f64::from(w) * CELL_W, u32::from(h) * CELL_H);
    let screen_bg = hex(Color::Reset, theme, false);
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{px_w:.1}\" height=\"{px_h}\" \
         viewBox=\"0 0 {px_w:.1} {px_h}\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" \
         font-size=\"{FONT_PX}\">\n<title>{}</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{screen_bg}\"/>\n",
        escape(title)
    );
    for y in 0..h {
        let looks: Vec<Look> = (0..w)
            .map(|x| look(&buf[(buf.area.x + x, buf.area.y + y)], theme))
            .collect();
        let top = u32::from(y) * CELL_H;
        for (from, to) in runs(&looks, |a, b| a.bg == b.bg) {
            if looks[from].bg != screen_bg {
                let _ = writeln!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{CELL_H}\" fill=\"{}\"/>",
                    from as f64 * CELL_W,
                    (to - from) as f64 * CELL_W,
                    looks[from].bg
                );
            }
        }
        for (from, to) in runs(&looks, |a, b| a.fg == b.fg && a.modifier == b.modifier) {
            let text: String = (from..to)
                .map(|x| buf[(buf.area.x + x as u16, buf.area.y + y)].symbol())
                .collect();
            if text.trim().is_empty() || looks[from].modifier.contains(Modifier::HIDDEN) {
                continue;
            }
            text_element(&mut out, &looks[from], from, to, top, &text);
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Maximal runs `[from, to)` of neighbours that `same` holds for.
fn runs<T>(items: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    for i in 1..=items.len() {
        if i == items.len() || !same(&items[from], &items[i]) {
            if from < items.len() {
                out.push((from, i));
            }
            from = i;
        }
    }
    out
}

fn text_element(out: &mut String, l: &Look, from: usize, to: usize, top: u32, text: &str) {
    let m = l.modifier;
    let mut attrs = format!("fill=\"{}\"", l.fg);
    if m.contains(Modifier::BOLD) {
        attrs.push_str(" font-weight=\"bold\"");
    }
    if m.contains(Modifier::ITALIC) {
        attrs.push_str(" font-style=\"italic\"");
    }
    if m.contains(Modifier::DIM) {
        attrs.push_str(" fill-opacity=\"0.7\"");
    }
    let deco: Vec<&str> = [
        (Modifier::UNDERLINED, "underline"),
        (Modifier::CROSSED_OUT, "line-through"),
    ]
    .into_iter()
    .filter(|(k, _)| m.contains(*k))
    .map(|(_, d)| d)
    .collect();
    if !deco.is_empty() {
        let _ = write!(attrs, " text-decoration=\"{}\"", deco.join(" "));
    }
    // The baseline sits about three quarters down the cell.
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{}\" textLength=\"{:.1}\" lengthAdjust=\"spacingAndGlyphs\" \
         xml:space=\"preserve\" {attrs}>{}</text>",
        from as f64 * CELL_W,
        top + CELL_H * 3 / 4 + 1,
        (to - from) as f64 * CELL_W,
        escape(text)
    );
}

/// XML's five special characters escaped, control characters dropped
/// (XML 1.0 cannot carry them).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A colour as `#rrggbb`: the theme's own for the terminal's default
/// (`Reset`), xterm's values for the named colours.
fn hex(c: Color, theme: Theme, foreground: bool) -> String {
    let p = palette(theme);
    let (r, g, b) = match c {
        Color::Reset => {
            let own = if foreground { p.fg } else { p.bg };
            match own {
                Color::Rgb(r, g, b) => (r, g, b),
                // The terminal's own colours: light text on dark.
                _ if foreground => (0xE5, 0xE5, 0xE5),
                _ => (0x1E, 0x1E, 0x1E),
            }
        }
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Black => (0x00, 0x00, 0x00),
        Color::Red => (0xCD, 0x00, 0x00),
        Color::Green => (0x00, 0xCD, 0x00),
        Color::Yellow => (0xCD, 0xCD, 0x00),
        Color::Blue => (0x00, 0x00, 0xEE),
        Color::Magenta => (0xCD, 0x00, 0xCD),
        Color::Cyan => (0x00, 0xCD, 0xCD),
        Color::Gray => (0xE5, 0xE5, 0xE5),
        Color::DarkGray => (0x7F, 0x7F, 0x7F),
        Color::LightRed => (0xFF, 0x00, 0x00),
        Color::LightGreen => (0x00, 0xFF, 0x00),
        Color::LightYellow => (0xFF, 0xFF, 0x00),
        Color::LightBlue => (0x5C, 0x5C, 0xFF),
        Color::LightMagenta => (0xFF, 0x00, 0xFF),
        Color::LightCyan => (0x00, 0xFF, 0xFF),
        Color::White => (0xFF, 0xFF, 0xFF),
        Color::Indexed(i) => indexed(i),
    };
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// xterm's 256-colour palette.
fn indexed(i: u8) -> (u8, u8, u8) {
    const BASIC: [(u8, u8, u8); 16] = [
        (0x00, 0x00, 0x00),
        (0xCD, 0x00, 0x00),
        (0x00, 0xCD, 0x00),
        (0xCD, 0xCD, 0x00),
        (0x00, 0x00, 0xEE),
        (0xCD, 0x00, 0xCD),
        (0x00, 0xCD, 0xCD),
        (0xE5, 0xE5, 0xE5),
        (0x7F, 0x7F, 0x7F),
        (0xFF, 0x00, 0x00),
        (0x00, 0xFF, 0x00),
        (0xFF, 0xFF, 0x00),
        (0x5C, 0x5C, 0xFF),
        (0xFF, 0x00, 0xFF),
        (0x00, 0xFF, 0xFF),
        (0xFF, 0xFF, 0xFF),
    ];
    match i {
        0..=15 => BASIC[usize::from(i)],
        16..=231 => {
            let k = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(k / 36), level((k / 6) % 6), level(k % 6))
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}
