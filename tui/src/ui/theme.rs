//! Styles readable on dark and light terminals: default foreground and background, named ANSI
//! colours only, never a hard-coded black or white background. With `no_color` (NO_COLOR,
//! --no-color) there is no colour at all: meaning is carried by symbols, words, bold and
//! reverse video.

use ratatui::style::{Color, Modifier, Style};

/// Symbols used on the charts, in the event log and in the header.
pub mod sym {
    pub const LOAD: &str = "▲";
    pub const UNLOAD: &str = "▼";
    pub const FAIL: &str = "✗";
    pub const ADOPT: &str = "◆";
    pub const LOADED: &str = "●";
    pub const NOT_LOADED: &str = "○";
    pub const WARN: &str = "⚠";
    pub const MARK_LINE: &str = "┊";
    pub const FAIL_LINE: &str = "┃";
    pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

/// NO_COLOR is set to something non-empty (https://no-color.org): the one place it is read.
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Theme {
    pub fn new(no_color: bool) -> Theme {
        Theme { color: !no_color }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn plain(&self) -> Style {
        Style::new()
    }

    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    pub fn title(&self) -> Style {
        self.bold()
    }

    /// Key names in the footer and help.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn mem_free(&self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn mem_available(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn vmalloc_used(&self) -> Style {
        self.fg(Color::Magenta)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    pub fn load_marker(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    pub fn unload_marker(&self) -> Style {
        self.fg(Color::Blue).add_modifier(Modifier::BOLD)
    }

    /// Failures: red and bold; without colour, reverse video and bold.
    pub fn failure(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    /// The failure banner's first line: unmistakable on any background.
    pub fn failure_banner(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Red)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    pub fn failure_text(&self) -> Style {
        self.fg(Color::Red)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// UNSAFE mode and READ-ONLY: loud but not a failure.
    pub fn alert(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Magenta)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    pub fn busy(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        self.dim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_means_no_colour_anywhere() {
        let t = Theme::new(true);
        for s in [
            t.key(),
            t.mem_free(),
            t.mem_available(),
            t.vmalloc_used(),
            t.ok(),
            t.load_marker(),
            t.unload_marker(),
            t.failure(),
            t.failure_banner(),
            t.failure_text(),
            t.warn(),
            t.alert(),
            t.busy(),
        ] {
            assert_eq!(s.fg, None, "{s:?}");
            assert_eq!(s.bg, None, "{s:?}");
        }
        // Failures still stand out without colour.
        assert!(t.failure().add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn colour_theme_never_sets_a_background() {
        let t = Theme::new(false);
        for s in [t.failure_banner(), t.alert(), t.key(), t.warn()] {
            assert_eq!(s.bg, None);
        }
        assert_eq!(t.failure().fg, Some(Color::Red));
    }
}
