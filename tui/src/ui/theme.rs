//! Styles: default foreground and background, named ANSI colours only, never a hard-coded
//! black or white background. Three themes (`--theme`): dark (the default), light (no yellow
//! or cyan text, dark grey instead of dim), projector (high contrast: bold, no faint text,
//! thick chart lines, failures in reverse video as well as red, so that no meaning rests on
//! colour alone). With `no_color` (NO_COLOR) there is no colour at all: meaning is carried by
//! symbols, words, bold and reverse video. The charts' glyphs (`--glyphs`) are here too.

use ratatui::style::{Color, Modifier, Style};

use crate::cli::{Glyphs, ThemeName};

/// Symbols used on the charts, in the event log and in the header.
pub mod sym {
    pub const LOAD: &str = "▲";
    pub const UNLOAD: &str = "▼";
    pub const FAIL: &str = "✗";
    /// A lesson step the kernel agreed with.
    pub const AGREE: &str = "✓";
    pub const ADOPT: &str = "◆";
    pub const LOADED: &str = "●";
    pub const NOT_LOADED: &str = "○";
    pub const WARN: &str = "⚠";
    pub const MARK_LINE: &str = "┊";
    pub const FAIL_LINE: &str = "┃";
    /// Memory pressure (PSI) rose during a load.
    pub const PRESSURE: &str = "P";
    pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
}

/// How the dashboard is drawn: colours (`--theme`, unless NO_COLOR) and the charts' glyphs
/// (`--glyphs`).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    pub name: ThemeName,
    pub glyphs: Glyphs,
}

/// NO_COLOR is set to something non-empty (https://no-color.org): the one place it is read.
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The characters a chart is drawn with, per `--glyphs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartGlyphs {
    /// Legend marks of the line series and of MemFree's dots.
    pub line_mark: &'static str,
    pub dot_mark: &'static str,
    pub load: &'static str,
    pub unload: &'static str,
    pub fail: &'static str,
    pub adopt: &'static str,
    pub mark_line: &'static str,
    pub fail_line: &'static str,
    /// Axes: horizontal, vertical, corner.
    pub axis_h: &'static str,
    pub axis_v: &'static str,
    pub axis_corner: &'static str,
    /// "≤ MemTotal".
    pub at_most: &'static str,
}

impl Theme {
    /// The dark theme with braille charts: what `vmtop` starts with.
    pub fn new(no_color: bool) -> Theme {
        Theme {
            color: !no_color,
            name: ThemeName::Dark,
            glyphs: Glyphs::Braille,
        }
    }

    /// The theme the app asks for (`--theme`, `--glyphs`; NO_COLOR wins over the colours).
    pub fn of(app: &crate::app::App) -> Theme {
        Theme {
            color: !app.no_color,
            name: app.theme,
            glyphs: app.glyphs,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// The colour for a dark terminal, or its stand-in on a light one or a projector (no
    /// yellow or cyan text there: they wash out on white).
    fn pick(&self, dark: Color, light: Color) -> Color {
        match self.name {
            ThemeName::Dark => dark,
            ThemeName::Light | ThemeName::Projector => light,
        }
    }

    /// On a projector, everything that carries meaning is bold.
    fn strong(&self, s: Style) -> Style {
        if self.name == ThemeName::Projector {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    /// Thick chart lines (the projector): each dot drawn with its neighbour below.
    pub fn thick_lines(&self) -> bool {
        self.name == ThemeName::Projector
    }

    pub fn chart_glyphs(&self) -> ChartGlyphs {
        match self.glyphs {
            Glyphs::Braille | Glyphs::Block => ChartGlyphs {
                line_mark: if self.glyphs == Glyphs::Braille {
                    "⣿"
                } else {
                    "█"
                },
                dot_mark: "•",
                load: sym::LOAD,
                unload: sym::UNLOAD,
                fail: sym::FAIL,
                adopt: sym::ADOPT,
                mark_line: sym::MARK_LINE,
                fail_line: sym::FAIL_LINE,
                axis_h: ratatui::symbols::line::HORIZONTAL,
                axis_v: ratatui::symbols::line::VERTICAL,
                axis_corner: ratatui::symbols::line::BOTTOM_LEFT,
                at_most: "≤",
            },
            Glyphs::Ascii => ChartGlyphs {
                line_mark: "-",
                dot_mark: "*",
                load: "^",
                unload: "v",
                fail: "X",
                adopt: "+",
                mark_line: ":",
                fail_line: "!",
                axis_h: "-",
                axis_v: "|",
                axis_corner: "+",
                at_most: "<=",
            },
        }
    }

    /// The progress spinner's frames: braille, or ASCII where braille may not show.
    pub fn spinner(&self) -> &'static [&'static str] {
        match self.glyphs {
            Glyphs::Braille => &sym::SPINNER,
            Glyphs::Block | Glyphs::Ascii => &["|", "/", "-", "\\"],
        }
    }

    pub fn plain(&self) -> Style {
        Style::new()
    }

    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Less important text: dim on a dark terminal; dark grey on a light one (dim washes
    /// out there); plain on a projector (no faint text at all).
    pub fn dim(&self) -> Style {
        match self.name {
            ThemeName::Dark => Style::new().add_modifier(Modifier::DIM),
            ThemeName::Light => self.fg(Color::DarkGray),
            ThemeName::Projector => Style::new(),
        }
    }

    pub fn title(&self) -> Style {
        self.bold()
    }

    /// Key names in the footer and help.
    pub fn key(&self) -> Style {
        self.fg(self.pick(Color::Cyan, Color::Blue))
            .add_modifier(Modifier::BOLD)
    }

    pub fn mem_free(&self) -> Style {
        self.strong(self.fg(self.pick(Color::Cyan, Color::Blue)))
    }

    pub fn mem_available(&self) -> Style {
        self.strong(self.fg(Color::Green))
    }

    pub fn vmalloc_used(&self) -> Style {
        self.strong(self.fg(Color::Magenta))
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

    /// Failures: red and bold; without colour, or on a projector, reverse video too.
    pub fn failure(&self) -> Style {
        if self.color && self.name != ThemeName::Projector {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::Red)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
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
        self.strong(self.fg(Color::Red))
    }

    pub fn warn(&self) -> Style {
        self.fg(self.pick(Color::Yellow, Color::Magenta))
            .add_modifier(Modifier::BOLD)
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
        self.fg(self.pick(Color::Yellow, Color::Blue))
            .add_modifier(Modifier::BOLD)
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

    fn themed(name: ThemeName, no_color: bool) -> Theme {
        Theme {
            color: !no_color,
            name,
            glyphs: Glyphs::Braille,
        }
    }

    /// NO_COLOR wins over every theme; the projector keeps its bold and reverse video.
    #[test]
    fn no_color_wins_over_every_theme() {
        for name in [ThemeName::Dark, ThemeName::Light, ThemeName::Projector] {
            let t = themed(name, true);
            for s in [
                t.key(),
                t.mem_free(),
                t.mem_available(),
                t.vmalloc_used(),
                t.failure(),
                t.warn(),
                t.busy(),
                t.dim(),
            ] {
                assert_eq!((s.fg, s.bg), (None, None), "{name:?} {s:?}");
            }
        }
        let p = themed(ThemeName::Projector, true);
        assert!(p.mem_free().add_modifier.contains(Modifier::BOLD));
        assert!(p.failure().add_modifier.contains(Modifier::REVERSED));
    }

    /// Light and projector: no yellow or cyan anywhere, nothing dim; the projector never
    /// tells a failure by colour alone.
    #[test]
    fn light_and_projector_avoid_what_washes_out() {
        for name in [ThemeName::Light, ThemeName::Projector] {
            let t = themed(name, false);
            for s in [
                t.plain(),
                t.bold(),
                t.dim(),
                t.title(),
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
                t.border(),
            ] {
                assert!(
                    !matches!(
                        s.fg,
                        Some(Color::Yellow | Color::Cyan | Color::LightYellow | Color::LightCyan)
                    ),
                    "{name:?} {s:?}"
                );
                assert!(!s.add_modifier.contains(Modifier::DIM), "{name:?} {s:?}");
                assert_eq!(s.bg, None);
            }
        }
        let p = themed(ThemeName::Projector, false);
        assert!(p.failure().add_modifier.contains(Modifier::REVERSED));
        assert_eq!(p.dim(), Style::new());
        assert!(p.thick_lines() && !themed(ThemeName::Dark, false).thick_lines());
    }

    /// The ASCII glyphs are ASCII; the block ones leave braille out.
    #[test]
    fn glyph_sets_keep_to_their_characters() {
        let g = |glyphs| Theme {
            glyphs,
            ..Theme::new(false)
        };
        let ascii = g(Glyphs::Ascii);
        let c = ascii.chart_glyphs();
        for s in [
            c.line_mark,
            c.dot_mark,
            c.load,
            c.unload,
            c.fail,
            c.adopt,
            c.mark_line,
            c.fail_line,
            c.axis_h,
            c.axis_v,
            c.axis_corner,
            c.at_most,
        ] {
            assert!(s.is_ascii(), "{s}");
        }
        assert!(ascii.spinner().iter().all(|f| f.is_ascii()));
        let block = g(Glyphs::Block);
        assert!(!block
            .chart_glyphs()
            .line_mark
            .chars()
            .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)));
        assert!(block.spinner().iter().all(|f| f.is_ascii()));
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
