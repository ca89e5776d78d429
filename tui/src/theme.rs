//! Colour themes (their colours are in `view::style`).

/// Colour themes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// The terminal's own colours.
    #[default]
    Default,
    /// White on black, bright states, for a projector in a bright room.
    HighContrast,
    /// Black on white.
    Light,
}

impl Theme {
    /// Every theme, in the order the theme key cycles through.
    pub const ALL: [Theme; 3] = [Theme::Default, Theme::HighContrast, Theme::Light];

    /// Its name (as `--theme` takes it).
    pub fn name(self) -> &'static str {
        match self {
            Theme::Default => "default",
            Theme::HighContrast => "high-contrast",
            Theme::Light => "light",
        }
    }

    /// The theme called `name`.
    pub fn from_name(name: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.name() == name)
    }
}
