//! Colours. Every colour goes with a word or a symbol: a projector or a
//! colour-blind reader loses nothing.

use crate::fold::Phase;
use ratatui::style::{Color, Modifier, Style};

/// The style of a phase.
pub fn phase(p: Phase) -> Style {
    let s = Style::new();
    match p {
        Phase::Idle => s.fg(Color::DarkGray),
        Phase::Working => s.fg(Color::White),
        Phase::Prepared => s.fg(Color::Yellow),
        Phase::InDoubt => s.fg(Color::Magenta).add_modifier(Modifier::BOLD),
        Phase::Committed | Phase::Applied => s.fg(Color::Green),
        Phase::Aborted => s.fg(Color::Red),
        Phase::Compensating | Phase::Compensated => s.fg(Color::Cyan),
        Phase::Stuck => s
            .fg(Color::Red)
            .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        Phase::Crashed => s.fg(Color::DarkGray).add_modifier(Modifier::CROSSED_OUT),
    }
}

/// A focused block's border.
pub fn focused(on: bool) -> Style {
    if on {
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Gray)
    }
}

/// Dropped messages and violations.
pub fn bad() -> Style {
    Style::new().fg(Color::Red)
}

/// Secondary text.
pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// Selection highlight.
pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}
