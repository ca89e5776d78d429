//! Colours, per theme. Every colour goes with a word or a symbol: a
//! projector or a colour-blind reader loses nothing. The light and
//! high-contrast themes use exact RGB values, so their contrast can be
//! computed (tests/app.rs holds every pair to WCAG's 4.5:1).

use crate::app::Theme;
use crate::fold::Phase;
use ratatui::style::{Color, Modifier, Style};

/// A theme's colours. `None` for a background means "the screen's".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    /// The screen: text and background.
    pub fg: Color,
    /// The screen's background (`Reset`: the terminal's own).
    pub bg: Color,
    /// Secondary text (times, lifelines, details).
    pub dim: Color,
    /// The focused pane's border and title.
    pub accent: Color,
    /// Drops and violations.
    pub bad: Color,
    /// The selected line's background (its text keeps its colours).
    pub selected_bg: Color,
}

/// The palette of `theme`.
pub fn palette(theme: Theme) -> Palette {
    match theme {
        Theme::Default => Palette {
            fg: Color::Reset,
            bg: Color::Reset,
            dim: Color::DarkGray,
            accent: Color::Yellow,
            bad: Color::LightRed,
            selected_bg: Color::Blue,
        },
        Theme::Light => Palette {
            fg: Color::Rgb(0, 0, 0),
            bg: Color::Rgb(255, 255, 255),
            dim: Color::Rgb(0x55, 0x55, 0x55),
            accent: Color::Rgb(0x00, 0x33, 0xAA),
            bad: Color::Rgb(0xB0, 0x00, 0x00),
            selected_bg: Color::Rgb(0xD6, 0xE6, 0xFF),
        },
        Theme::HighContrast => Palette {
            fg: Color::Rgb(255, 255, 255),
            bg: Color::Rgb(0, 0, 0),
            dim: Color::Rgb(0xC8, 0xC8, 0xC8),
            accent: Color::Rgb(0xFF, 0xFF, 0x00),
            bad: Color::Rgb(0xFF, 0x70, 0x70),
            selected_bg: Color::Rgb(0x00, 0x00, 0x99),
        },
    }
}

/// A phase's foreground and, for the states that must stand out from
/// across a room (crashed, stuck, in doubt), a background of its own.
pub fn phase_colours(theme: Theme, p: Phase) -> (Color, Option<Color>) {
    let rgb = Color::Rgb;
    match theme {
        Theme::Default => match p {
            Phase::Idle | Phase::Hidden => (Color::Gray, None),
            Phase::Working => (Color::Reset, None),
            Phase::Prepared => (Color::Yellow, None),
            Phase::InDoubt => (Color::White, Some(Color::Magenta)),
            Phase::Committed | Phase::Applied => (Color::LightGreen, None),
            Phase::Aborted => (Color::LightRed, None),
            Phase::Compensating | Phase::Compensated => (Color::LightCyan, None),
            Phase::Stuck => (Color::Black, Some(Color::Yellow)),
            Phase::Crashed => (Color::White, Some(Color::Red)),
        },
        Theme::Light => match p {
            Phase::Idle | Phase::Hidden => (rgb(0x55, 0x55, 0x55), None),
            Phase::Working => (rgb(0, 0, 0), None),
            Phase::Prepared => (rgb(0x7A, 0x4A, 0x00), None),
            Phase::InDoubt => (rgb(255, 255, 255), Some(rgb(0x6A, 0x1B, 0x9A))),
            Phase::Committed | Phase::Applied => (rgb(0x00, 0x60, 0x00), None),
            Phase::Aborted => (rgb(0xB0, 0x00, 0x00), None),
            Phase::Compensating | Phase::Compensated => (rgb(0x00, 0x50, 0x80), None),
            Phase::Stuck => (rgb(0, 0, 0), Some(rgb(0xFF, 0xC8, 0x00))),
            Phase::Crashed => (rgb(255, 255, 255), Some(rgb(0xB0, 0x00, 0x00))),
        },
        Theme::HighContrast => match p {
            Phase::Idle | Phase::Hidden => (rgb(0xC8, 0xC8, 0xC8), None),
            Phase::Working => (rgb(255, 255, 255), None),
            Phase::Prepared => (rgb(0xFF, 0xD7, 0x00), None),
            Phase::InDoubt => (rgb(0, 0, 0), Some(rgb(0xFF, 0x90, 0xFF))),
            Phase::Committed | Phase::Applied => (rgb(0x40, 0xFF, 0x40), None),
            Phase::Aborted => (rgb(0xFF, 0x70, 0x70), None),
            Phase::Compensating | Phase::Compensated => (rgb(0x00, 0xE5, 0xFF), None),
            Phase::Stuck => (rgb(0, 0, 0), Some(rgb(0xFF, 0xD7, 0x00))),
            Phase::Crashed => (rgb(255, 255, 255), Some(rgb(0xC0, 0x00, 0x00))),
        },
    }
}

/// The style of a phase.
pub fn phase(theme: Theme, p: Phase) -> Style {
    let (fg, bg) = phase_colours(theme, p);
    let s = Style::new().fg(fg);
    let s = match bg {
        Some(bg) => s.bg(bg),
        None => s,
    };
    match p {
        Phase::InDoubt | Phase::Stuck | Phase::Crashed | Phase::Prepared => {
            s.add_modifier(Modifier::BOLD)
        }
        _ => s,
    }
}

/// The whole screen.
pub fn base(theme: Theme) -> Style {
    let p = palette(theme);
    Style::new().fg(p.fg).bg(p.bg)
}

/// A block's border and title: the focused one in the accent colour and
/// bold, the others in plain text colour (never faded: an unfocused pane
/// must stay readable on a projector).
pub fn focused(theme: Theme, on: bool) -> Style {
    let p = palette(theme);
    if on {
        Style::new().fg(p.accent).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(p.fg)
    }
}

/// Dropped messages and violations.
pub fn bad(theme: Theme) -> Style {
    Style::new()
        .fg(palette(theme).bad)
        .add_modifier(Modifier::BOLD)
}

/// Secondary text.
pub fn dim(theme: Theme) -> Style {
    Style::new().fg(palette(theme).dim)
}

/// Plain text.
pub fn text(theme: Theme) -> Style {
    Style::new().fg(palette(theme).fg)
}

/// Selection highlight: a background, so the selected line's colours
/// (a CRASHED cell, say) stay as they are.
pub fn selected(theme: Theme) -> Style {
    let p = palette(theme);
    match theme {
        Theme::Default => Style::new().bg(p.selected_bg).fg(Color::White),
        _ => Style::new().bg(p.selected_bg).fg(p.fg),
    }
}

/// WCAG 2 relative luminance of an RGB colour (`None` for named colours,
/// whose values the terminal decides).
pub fn luminance(c: Color) -> Option<f64> {
    let Color::Rgb(r, g, b) = c else {
        return None;
    };
    let ch = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    Some(0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b))
}

/// WCAG 2 contrast ratio of two RGB colours (1 to 21).
pub fn contrast(a: Color, b: Color) -> Option<f64> {
    let (la, lb) = (luminance(a)?, luminance(b)?);
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    Some((hi + 0.05) / (lo + 0.05))
}
