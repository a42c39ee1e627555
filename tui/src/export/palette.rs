//! The colours pictures use for each theme: the terminal's named colours as RGB, and its
//! default foreground and background. The dashboard itself never sets them (the terminal
//! does); a picture has to.

use ratatui::style::Color;

use crate::cli::ThemeName;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// `self` moved `amount` (0..=1) of the way to `other`.
    pub fn mix(self, other: Rgb, amount: f32) -> Rgb {
        let m = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * amount).round() as u8;
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }
}

/// A terminal's colours: default background and foreground, and the 16 named colours
/// (black, red, green, yellow, blue, magenta, cyan, white, then their bright forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub bg: Rgb,
    pub fg: Rgb,
    pub ansi: [Rgb; 16],
}

const fn c(hex: u32) -> Rgb {
    Rgb((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

/// A dark terminal (the dark theme).
pub const DARK: Palette = Palette {
    bg: c(0x15171c),
    fg: c(0xdcdfe4),
    ansi: [
        c(0x2c313a),
        c(0xe06c75),
        c(0x98c379),
        c(0xe5c07b),
        c(0x61afef),
        c(0xc678dd),
        c(0x56b6c2),
        c(0xabb2bf),
        c(0x5c6370),
        c(0xff7a85),
        c(0xb5e890),
        c(0xffd68a),
        c(0x82c4ff),
        c(0xde9bf0),
        c(0x7fd3de),
        c(0xffffff),
    ],
};

/// A light terminal (the light theme): every colour dark enough to read on white.
pub const LIGHT: Palette = Palette {
    bg: c(0xfbfbfa),
    fg: c(0x1f2328),
    ansi: [
        c(0x24292f),
        c(0xc1272d),
        c(0x1a7f37),
        c(0x9a6700),
        c(0x0a58ca),
        c(0x8250df),
        c(0x0f7b8a),
        c(0x6e7781),
        c(0x57606a),
        c(0xe5484d),
        c(0x2da44e),
        c(0xbf8700),
        c(0x218bff),
        c(0xa475f9),
        c(0x1b9aaa),
        c(0x8c959f),
    ],
};

/// A projector: black on white, saturated dark colours that survive a washed-out beam.
pub const PROJECTOR: Palette = Palette {
    bg: c(0xffffff),
    fg: c(0x000000),
    ansi: [
        c(0x000000),
        c(0xb00000),
        c(0x006400),
        c(0x7a5200),
        c(0x0030b0),
        c(0x8a008a),
        c(0x005f6b),
        c(0x404040),
        c(0x404040),
        c(0xd00000),
        c(0x008000),
        c(0x946300),
        c(0x0040e0),
        c(0xa000a0),
        c(0x007080),
        c(0x000000),
    ],
};

impl Palette {
    pub fn of(theme: ThemeName) -> Palette {
        match theme {
            ThemeName::Dark => DARK,
            ThemeName::Light => LIGHT,
            ThemeName::Projector => PROJECTOR,
        }
    }

    /// The RGB of `color` as foreground (`fg`) or background; `Reset` is the default one.
    pub fn rgb(&self, color: Color, fg: bool) -> Rgb {
        let named = |i: usize| self.ansi[i];
        match color {
            Color::Reset => {
                if fg {
                    self.fg
                } else {
                    self.bg
                }
            }
            Color::Black => named(0),
            Color::Red => named(1),
            Color::Green => named(2),
            Color::Yellow => named(3),
            Color::Blue => named(4),
            Color::Magenta => named(5),
            Color::Cyan => named(6),
            Color::Gray => named(7),
            Color::DarkGray => named(8),
            Color::LightRed => named(9),
            Color::LightGreen => named(10),
            Color::LightYellow => named(11),
            Color::LightBlue => named(12),
            Color::LightMagenta => named(13),
            Color::LightCyan => named(14),
            Color::White => named(15),
            Color::Rgb(r, g, b) => Rgb(r, g, b),
            Color::Indexed(i) => indexed(self, i),
        }
    }
}

/// xterm's 256 colours: the 16 named, a 6x6x6 cube, a grey ramp.
fn indexed(p: &Palette, i: u8) -> Rgb {
    match i {
        0..=15 => p.ansi[usize::from(i)],
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            Rgb(level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            Rgb(v, v, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG contrast ratio of two colours.
    pub(crate) fn contrast(a: Rgb, b: Rgb) -> f64 {
        let lum = |c: Rgb| {
            let ch = |v: u8| {
                let v = f64::from(v) / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * ch(c.0) + 0.7152 * ch(c.1) + 0.0722 * ch(c.2)
        };
        let (x, y) = (lum(a) + 0.05, lum(b) + 0.05);
        x.max(y) / x.min(y)
    }

    /// Every named colour the dashboard uses for text reads on its theme's background:
    /// at least 3:1 (WCAG's large-text minimum), 4.5:1 on the projector.
    #[test]
    fn every_colour_reads_on_its_background() {
        let used = [
            Color::Red,
            Color::Green,
            Color::Yellow,
            Color::Blue,
            Color::Magenta,
            Color::Cyan,
            Color::Reset,
        ];
        for (name, p, min) in [
            ("dark", DARK, 3.0),
            ("light", LIGHT, 3.0),
            ("projector", PROJECTOR, 4.5),
        ] {
            for c in used {
                let ratio = contrast(p.rgb(c, true), p.bg);
                assert!(
                    ratio >= min,
                    "{name}: {c:?} is {ratio:.2}:1 on its background"
                );
            }
        }
    }

    #[test]
    fn indexed_colours_follow_xterm() {
        assert_eq!(DARK.rgb(Color::Indexed(196), true), Rgb(255, 0, 0));
        assert_eq!(DARK.rgb(Color::Indexed(232), true), Rgb(8, 8, 8));
        assert_eq!(DARK.rgb(Color::Indexed(1), true), DARK.ansi[1]);
        assert_eq!(LIGHT.rgb(Color::Reset, false), LIGHT.bg);
        assert_eq!(
            Rgb(0, 0, 0).mix(Rgb(255, 255, 255), 0.5),
            Rgb(128, 128, 128)
        );
        assert_eq!(Rgb(1, 2, 255).hex(), "#0102ff");
    }
}
