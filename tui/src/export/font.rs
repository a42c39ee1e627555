//! The fonts bundled for pictures: DejaVu Sans Mono (the screen) and DejaVu Sans (plot
//! labels), regular and bold, cut to the characters vmtop draws by scripts/subset-fonts.sh;
//! licence in assets/fonts/LICENSE.

use ab_glyph::FontRef;

pub const MONO: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf");
pub const MONO_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono-Bold.ttf");
pub const SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
pub const SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// The CSS font stack of SVG text: the bundled family first, for viewers that have it.
pub const MONO_CSS: &str = "'DejaVu Sans Mono', 'Menlo', 'Consolas', 'Liberation Mono', monospace";

/// A bundled font (compiled in: `tests::the_bundled_fonts_parse` proves each parses).
pub fn load(bytes: &'static [u8]) -> FontRef<'static> {
    FontRef::try_from_slice(bytes).expect("the bundled fonts parse (export::font::tests)")
}

/// Registers the sans fonts with plotters under the family name it asks for, once.
pub fn register_for_plotters() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use plotters::style::FontStyle;
        for (style, bytes) in [(FontStyle::Normal, SANS), (FontStyle::Bold, SANS_BOLD)] {
            // Cannot fail: the same bytes parse in `load` (tests).
            let _ = plotters::style::register_font("sans-serif", style, bytes);
        }
    });
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ab_glyph::Font as _;

    #[test]
    fn the_bundled_fonts_parse() {
        for bytes in [MONO, MONO_BOLD, SANS, SANS_BOLD] {
            let f = FontRef::try_from_slice(bytes).expect("parses");
            assert_ne!(f.glyph_id('M').0, 0);
        }
    }

    /// Every character the dashboard draws (in any snapshot) has a glyph in the screen font,
    /// or is drawn without one (braille, box drawing, blocks): no picture shows a missing
    /// glyph. A new symbol in the UI fails here until scripts/subset-fonts.sh keeps it.
    #[test]
    fn the_screen_font_covers_every_character_the_dashboard_draws() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui/snapshots");
        let mut chars = std::collections::BTreeSet::new();
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).expect("snapshots") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "snap") {
                files += 1;
                chars.extend(std::fs::read_to_string(&path).expect("read").chars());
            }
        }
        assert!(files > 10, "{files} snapshots");
        for bytes in [MONO, MONO_BOLD] {
            let f = load(bytes);
            let missing: Vec<char> = chars
                .iter()
                .copied()
                .filter(|&c| !c.is_control() && !crate::export::screen::drawn_without_font(c))
                .filter(|&c| f.glyph_id(c).0 == 0)
                .collect();
            assert!(missing.is_empty(), "no glyph for {missing:?}");
        }
    }
}
