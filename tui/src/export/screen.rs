//! The dashboard's screen as a picture: a ratatui `Buffer`, cell for cell, as SVG (text
//! stays text) or PNG (the bundled fonts), both from the same shapes:
//!
//! - each cell's background, merged along a row;
//! - braille (U+2800–28FF) as round dots, box drawing (U+2500–257F) as lines, block elements
//!   (U+2580–259F) as rectangles: the charts look the same in any viewer, whatever its fonts;
//! - everything else as a character at its cell (SVG gives each character its own x, so a
//!   viewer's monospace font cannot shift the columns), in its colour, bold where bold.
//!
//! A cell's style is the terminal's: reversed swaps its colours, dim mixes the foreground
//! halfway into the background, hidden draws no character.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

use super::palette::{Palette, Rgb};

/// A cell, in picture units (pixels in the PNG): 12 x 24, text at 20 px.
pub const CELL_W: f32 = 12.0;
pub const CELL_H: f32 = 24.0;
pub const FONT_PX: f32 = 20.0;

/// What a picture is made of.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    Dot {
        cx: f32,
        cy: f32,
        r: f32,
        color: Rgb,
    },
    Char {
        col: u16,
        row: u16,
        ch: char,
        color: Rgb,
        bold: bool,
    },
}

/// The screen as shapes, backgrounds first.
struct Scene {
    cols: u16,
    rows: u16,
    bg: Rgb,
    shapes: Vec<Shape>,
}

/// Characters drawn as shapes, not from a font.
#[cfg(test)]
pub fn drawn_without_font(c: char) -> bool {
    braille_bits(c).is_some() || box_arms(c).is_some() || block_rects(c).is_some()
}

fn braille_bits(c: char) -> Option<u8> {
    let v = u32::from(c);
    (0x2800..=0x28ff).contains(&v).then(|| (v - 0x2800) as u8)
}

/// Line weights of a box-drawing character's arms: (up, right, down, left), 0 none, 1 light,
/// 2 heavy; and the number of dashes (0: solid).
fn box_arms(c: char) -> Option<([u8; 4], u8)> {
    let solid = |a: [u8; 4]| Some((a, 0));
    match c {
        '─' => solid([0, 1, 0, 1]),
        '━' | '═' => solid([0, 2, 0, 2]),
        '│' => solid([1, 0, 1, 0]),
        '┃' | '║' => solid([2, 0, 2, 0]),
        '┄' => Some(([0, 1, 0, 1], 3)),
        '┅' => Some(([0, 2, 0, 2], 3)),
        '┈' => Some(([0, 1, 0, 1], 4)),
        '┉' => Some(([0, 2, 0, 2], 4)),
        '╌' => Some(([0, 1, 0, 1], 2)),
        '╍' => Some(([0, 2, 0, 2], 2)),
        '┆' => Some(([1, 0, 1, 0], 3)),
        '┇' => Some(([2, 0, 2, 0], 3)),
        '┊' => Some(([1, 0, 1, 0], 4)),
        '┋' => Some(([2, 0, 2, 0], 4)),
        '╎' => Some(([1, 0, 1, 0], 2)),
        '╏' => Some(([2, 0, 2, 0], 2)),
        '┌' | '╭' => solid([0, 1, 1, 0]),
        '┐' | '╮' => solid([0, 0, 1, 1]),
        '└' | '╰' => solid([1, 1, 0, 0]),
        '┘' | '╯' => solid([1, 0, 0, 1]),
        '┏' | '╔' => solid([0, 2, 2, 0]),
        '┓' | '╗' => solid([0, 0, 2, 2]),
        '┗' | '╚' => solid([2, 2, 0, 0]),
        '┛' | '╝' => solid([2, 0, 0, 2]),
        '├' => solid([1, 1, 1, 0]),
        '┤' => solid([1, 0, 1, 1]),
        '┬' => solid([0, 1, 1, 1]),
        '┴' => solid([1, 1, 0, 1]),
        '┼' => solid([1, 1, 1, 1]),
        '┣' | '╠' => solid([2, 2, 2, 0]),
        '┫' | '╣' => solid([2, 0, 2, 2]),
        '┳' | '╦' => solid([0, 2, 2, 2]),
        '┻' | '╩' => solid([2, 2, 0, 2]),
        '╋' | '╬' => solid([2, 2, 2, 2]),
        '╴' => solid([0, 0, 0, 1]),
        '╵' => solid([1, 0, 0, 0]),
        '╶' => solid([0, 1, 0, 0]),
        '╷' => solid([0, 0, 1, 0]),
        _ => None,
    }
}

/// Block elements as rectangles in fractions of the cell (x, y, w, h) and an opacity.
/// A rectangle in fractions of the cell (x, y, w, h) and its opacity.
type Part = (f32, f32, f32, f32, f32);

fn block_rects(c: char) -> Option<Vec<Part>> {
    let full = |x: f32, y: f32, w: f32, h: f32| vec![(x, y, w, h, 1.0)];
    let eighth = |n: f32| full(0.0, 1.0 - n / 8.0, 1.0, n / 8.0);
    let quads = |bits: u8| {
        // Bits: 1 upper left, 2 upper right, 4 lower left, 8 lower right.
        let mut v = Vec::new();
        for (bit, x, y) in [(1, 0.0, 0.0), (2, 0.5, 0.0), (4, 0.0, 0.5), (8, 0.5, 0.5)] {
            if bits & bit != 0 {
                v.push((x, y, 0.5, 0.5, 1.0));
            }
        }
        v
    };
    Some(match c {
        '▀' => full(0.0, 0.0, 1.0, 0.5),
        '▄' => full(0.0, 0.5, 1.0, 0.5),
        '█' => full(0.0, 0.0, 1.0, 1.0),
        '▌' => full(0.0, 0.0, 0.5, 1.0),
        '▐' => full(0.5, 0.0, 0.5, 1.0),
        '▔' => full(0.0, 0.0, 1.0, 0.125),
        '▕' => full(0.875, 0.0, 0.125, 1.0),
        '▏' => full(0.0, 0.0, 0.125, 1.0),
        '▁' => eighth(1.0),
        '▂' => eighth(2.0),
        '▃' => eighth(3.0),
        '▅' => eighth(5.0),
        '▆' => eighth(6.0),
        '▇' => eighth(7.0),
        '░' => vec![(0.0, 0.0, 1.0, 1.0, 0.25)],
        '▒' => vec![(0.0, 0.0, 1.0, 1.0, 0.5)],
        '▓' => vec![(0.0, 0.0, 1.0, 1.0, 0.75)],
        '▖' => quads(4),
        '▗' => quads(8),
        '▘' => quads(1),
        '▝' => quads(2),
        '▙' => quads(1 | 4 | 8),
        '▚' => quads(1 | 8),
        '▛' => quads(1 | 2 | 4),
        '▜' => quads(1 | 2 | 8),
        '▞' => quads(2 | 4),
        '▟' => quads(2 | 4 | 8),
        _ => return None,
    })
}

/// A cell's colours and weight as the terminal shows them.
fn look(cell: &ratatui::buffer::Cell, pal: &Palette) -> (Rgb, Rgb, bool) {
    let m = cell.modifier;
    let mut fg = pal.rgb(cell.fg, true);
    let mut bg = pal.rgb(cell.bg, false);
    if m.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    if m.contains(Modifier::DIM) {
        fg = fg.mix(bg, 0.45);
    }
    (fg, bg, m.contains(Modifier::BOLD))
}

fn scene(buf: &Buffer, pal: &Palette) -> Scene {
    let area = buf.area;
    let mut backgrounds = Vec::new();
    let mut shapes = Vec::new();
    for row in 0..area.height {
        let y = f32::from(row) * CELL_H;
        // Backgrounds: runs of one colour, the default one left to the canvas.
        let mut run: Option<(u16, Rgb)> = None;
        for col in 0..=area.width {
            let bg = (col < area.width).then(|| look(&buf[(area.x + col, area.y + row)], pal).1);
            if let Some((start, color)) = run {
                if bg != Some(color) {
                    backgrounds.push(Shape::Rect {
                        x: f32::from(start) * CELL_W,
                        y,
                        w: f32::from(col - start) * CELL_W,
                        h: CELL_H,
                        color,
                    });
                    run = None;
                }
            }
            if let Some(bg) = bg.filter(|&b| b != pal.bg) {
                if run.is_none() {
                    run = Some((col, bg));
                }
            }
        }
        for col in 0..area.width {
            let cell = &buf[(area.x + col, area.y + row)];
            let (fg, bg, bold) = look(cell, pal);
            let x = f32::from(col) * CELL_W;
            if cell.modifier.contains(Modifier::UNDERLINED) {
                shapes.push(Shape::Rect {
                    x,
                    y: y + CELL_H - 3.0,
                    w: CELL_W,
                    h: 1.5,
                    color: fg,
                });
            }
            if cell.modifier.contains(Modifier::HIDDEN) {
                continue;
            }
            let mut chars = cell.symbol().chars();
            let Some(ch) = chars.next().filter(|c| *c != ' ') else {
                continue;
            };
            cell_shapes(&mut shapes, (col, row), ch, (fg, bg), bold);
        }
    }
    backgrounds.extend(shapes);
    Scene {
        cols: area.width,
        rows: area.height,
        bg: pal.bg,
        shapes: backgrounds,
    }
}

/// The shapes of character `ch` at (col, row).
fn cell_shapes(
    out: &mut Vec<Shape>,
    (col, row): (u16, u16),
    ch: char,
    (color, bg): (Rgb, Rgb),
    bold: bool,
) {
    let (x, y) = (f32::from(col) * CELL_W, f32::from(row) * CELL_H);
    if let Some(bits) = braille_bits(ch) {
        // Dots 1-2-3-7 down the left column, 4-5-6-8 down the right (Unicode's order).
        const DOTS: [(u8, f32, f32); 8] = [
            (0, 0.0, 0.0),
            (1, 0.0, 1.0),
            (2, 0.0, 2.0),
            (3, 1.0, 0.0),
            (4, 1.0, 1.0),
            (5, 1.0, 2.0),
            (6, 0.0, 3.0),
            (7, 1.0, 3.0),
        ];
        for (bit, dx, dy) in DOTS {
            if bits & (1 << bit) != 0 {
                out.push(Shape::Dot {
                    cx: x + CELL_W * (0.25 + dx * 0.5),
                    cy: y + CELL_H * (0.125 + dy * 0.25),
                    r: if bold { 2.4 } else { 2.1 },
                    color,
                });
            }
        }
    } else if let Some((arms, dashes)) = box_arms(ch) {
        let (cx, cy) = (x + CELL_W / 2.0, y + CELL_H / 2.0);
        let thick = |w: u8| if w == 2 { 3.5 } else { 1.6 };
        let [up, right, down, left] = arms;
        let (t_v, t_h) = (thick(up.max(down)), thick(left.max(right)));
        let mut rects: Vec<(f32, f32, f32, f32)> = Vec::new();
        if dashes > 0 && up > 0 {
            let step = CELL_H / f32::from(dashes);
            for i in 0..dashes {
                rects.push((
                    cx - t_v / 2.0,
                    y + step * (f32::from(i) + 0.2),
                    t_v,
                    step * 0.6,
                ));
            }
        } else if dashes > 0 {
            let step = CELL_W / f32::from(dashes);
            for i in 0..dashes {
                rects.push((
                    x + step * (f32::from(i) + 0.2),
                    cy - t_h / 2.0,
                    step * 0.6,
                    t_h,
                ));
            }
        } else if up > 0 && up == down && left == 0 && right == 0 {
            // A straight line: one rectangle.
            rects.push((cx - t_v / 2.0, y, t_v, CELL_H));
        } else if left > 0 && left == right && up == 0 && down == 0 {
            rects.push((x, cy - t_h / 2.0, CELL_W, t_h));
        } else {
            // Each arm from the cell's edge to past its centre, so that arms join.
            if up > 0 {
                rects.push((cx - thick(up) / 2.0, y, thick(up), CELL_H / 2.0 + t_h / 2.0));
            }
            if down > 0 {
                rects.push((
                    cx - thick(down) / 2.0,
                    cy - t_h / 2.0,
                    thick(down),
                    CELL_H / 2.0 + t_h / 2.0,
                ));
            }
            if left > 0 {
                rects.push((
                    x,
                    cy - thick(left) / 2.0,
                    CELL_W / 2.0 + t_v / 2.0,
                    thick(left),
                ));
            }
            if right > 0 {
                rects.push((
                    cx - t_v / 2.0,
                    cy - thick(right) / 2.0,
                    CELL_W / 2.0 + t_v / 2.0,
                    thick(right),
                ));
            }
        }
        for (x, y, w, h) in rects {
            out.push(Shape::Rect { x, y, w, h, color });
        }
    } else if let Some(rects) = block_rects(ch) {
        for (fx, fy, fw, fh, alpha) in rects {
            // A shade is the foreground mixed into the cell's background.
            out.push(Shape::Rect {
                x: x + fx * CELL_W,
                y: y + fy * CELL_H,
                w: fw * CELL_W,
                h: fh * CELL_H,
                color: bg.mix(color, alpha),
            });
        }
    } else {
        out.push(Shape::Char {
            col,
            row,
            ch,
            color,
            bold,
        });
    }
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// A run of text: its row, last column, colour, weight, columns and characters.
type Run = (u16, u16, Rgb, bool, Vec<u16>, String);

/// A number for SVG: at most two decimals, no trailing zeros.
fn n(v: f32) -> String {
    let s = format!("{:.2}", v);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The screen as SVG. `title` names the picture for viewers and screen readers.
pub fn svg(buf: &Buffer, pal: &Palette, title: &str) -> String {
    let sc = scene(buf, pal);
    let (w, h) = (f32::from(sc.cols) * CELL_W, f32::from(sc.rows) * CELL_H);
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">"#,
        w = n(w),
        h = n(h)
    );
    let _ = writeln!(o, "<title>{}</title>", xml_escape(title));
    let _ = writeln!(
        o,
        "<style>text{{font-family:{};font-size:{}px;white-space:pre}}.b{{font-weight:bold}}</style>",
        super::font::MONO_CSS,
        n(FONT_PX)
    );
    let _ = writeln!(
        o,
        r#"<rect width="100%" height="100%" fill="{}"/>"#,
        sc.bg.hex()
    );
    // Text runs: consecutive characters of one row, colour and weight.
    let mut run: Option<Run> = None;
    let flush = |o: &mut String, run: &mut Option<Run>| {
        if let Some((row, _, color, bold, cols, text)) = run.take() {
            let xs: Vec<String> = cols.iter().map(|&c| n(f32::from(c) * CELL_W)).collect();
            let baseline = f32::from(row) * CELL_H + CELL_H * 0.74;
            let _ = writeln!(
                o,
                r#"<text x="{}" y="{}" fill="{}"{}>{}</text>"#,
                xs.join(" "),
                n(baseline),
                color.hex(),
                if bold { r#" class="b""# } else { "" },
                xml_escape(&text)
            );
        }
    };
    for s in &sc.shapes {
        match *s {
            Shape::Rect { x, y, w, h, color } => {
                flush(&mut o, &mut run);
                let _ = writeln!(
                    o,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>"#,
                    n(x),
                    n(y),
                    n(w),
                    n(h),
                    color.hex()
                );
            }
            Shape::Dot { cx, cy, r, color } => {
                flush(&mut o, &mut run);
                let _ = writeln!(
                    o,
                    r#"<circle cx="{}" cy="{}" r="{}" fill="{}"/>"#,
                    n(cx),
                    n(cy),
                    n(r),
                    color.hex()
                );
            }
            Shape::Char {
                col,
                row,
                ch,
                color,
                bold,
            } => {
                let joins = matches!(&run, Some((r, last, c, b, _, _)) if *r == row && *last + 1 == col && *c == color && *b == bold);
                if !joins {
                    flush(&mut o, &mut run);
                    run = Some((row, col, color, bold, Vec::new(), String::new()));
                }
                if let Some(r) = run.as_mut() {
                    r.1 = col;
                    r.4.push(col);
                    r.5.push(ch);
                }
            }
        }
    }
    flush(&mut o, &mut run);
    o.push_str("</svg>\n");
    o
}

/// The screen as PNG, drawn with the bundled fonts.
pub fn png(buf: &Buffer, pal: &Palette) -> anyhow::Result<Vec<u8>> {
    use ab_glyph::{Font as _, ScaleFont as _};
    let sc = scene(buf, pal);
    let (w, h) = (
        (f32::from(sc.cols) * CELL_W) as u32,
        (f32::from(sc.rows) * CELL_H) as u32,
    );
    let mut c = super::raster::Canvas::new(w.max(1), h.max(1), sc.bg);
    let regular = super::font::load(super::font::MONO);
    let bold = super::font::load(super::font::MONO_BOLD);
    let scaled = regular.as_scaled(ab_glyph::PxScale::from(FONT_PX));
    // The font's line centred in the cell.
    let line = scaled.ascent() - scaled.descent();
    let baseline_in_cell = (CELL_H - line) / 2.0 + scaled.ascent();
    for s in &sc.shapes {
        match *s {
            Shape::Rect { x, y, w, h, color } => c.fill_rect(x, y, w, h, color),
            Shape::Dot { cx, cy, r, color } => c.fill_circle(cx, cy, r, color),
            Shape::Char {
                col,
                row,
                ch,
                color,
                bold: b,
            } => {
                let font = if b { &bold } else { &regular };
                let (x, y) = (f32::from(col) * CELL_W, f32::from(row) * CELL_H);
                if !c.glyph(font, FONT_PX, x, y + baseline_in_cell, ch, color) {
                    // No glyph: a hollow box, as terminals show it.
                    for (rx, ry, rw, rh) in [
                        (x + 2.0, y + 5.0, CELL_W - 4.0, 1.0),
                        (x + 2.0, y + CELL_H - 6.0, CELL_W - 4.0, 1.0),
                        (x + 2.0, y + 5.0, 1.0, CELL_H - 10.0),
                        (x + CELL_W - 3.0, y + 5.0, 1.0, CELL_H - 10.0),
                    ] {
                        c.fill_rect(rx, ry, rw, rh, color);
                    }
                }
            }
        }
    }
    c.png()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};

    fn buf() -> Buffer {
        let mut b = Buffer::empty(Rect::new(0, 0, 6, 2));
        b.set_string(
            0,
            0,
            "ab",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        );
        b.set_string(2, 0, "<&", Style::new());
        b.set_string(0, 1, "⣿─┃", Style::new().fg(Color::Green));
        b.set_string(3, 1, "x", Style::new().add_modifier(Modifier::REVERSED));
        b.set_string(4, 1, "▀", Style::new());
        b
    }

    #[test]
    fn svg_keeps_text_colours_and_bold_and_draws_braille_as_dots() {
        let s = svg(&buf(), &super::super::palette::DARK, "vmtop 80x24");
        assert!(
            s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"72\" height=\"48\""),
            "{s}"
        );
        assert!(s.contains("<title>vmtop 80x24</title>"));
        let red = super::super::palette::DARK.ansi[1].hex();
        assert!(
            s.contains(&format!(
                r#"<text x="0 12" y="17.76" fill="{red}" class="b">ab</text>"#
            )),
            "{s}"
        );
        assert!(s.contains(">&lt;&amp;</text>"), "escaped: {s}");
        let green = super::super::palette::DARK.ansi[2].hex();
        assert_eq!(
            s.matches(&format!(r#"fill="{green}"/>"#)).count(),
            8 + 1 + 1,
            "8 dots, a line, a heavy line: {s}"
        );
        assert_eq!(s.matches("<circle").count(), 8);
        assert!(
            !s.contains('⣿') && !s.contains('─') && !s.contains('▀'),
            "drawn, not written"
        );
        // Reversed: the default background as the character, the foreground behind it.
        let (fg, bg) = (
            super::super::palette::DARK.fg.hex(),
            super::super::palette::DARK.bg.hex(),
        );
        assert!(
            s.contains(&format!(
                r#"<rect x="36" y="24" width="12" height="24" fill="{fg}"/>"#
            )),
            "{s}"
        );
        assert!(s.contains(&format!(r#"fill="{bg}">x</text>"#)), "{s}");
    }

    #[test]
    fn png_is_the_screens_size_in_cells() {
        let p = png(&buf(), &super::super::palette::LIGHT).expect("png");
        let mut r = png::Decoder::new(std::io::Cursor::new(p))
            .read_info()
            .expect("png");
        let mut px = vec![0; r.output_buffer_size().expect("size")];
        let info = r.next_frame(&mut px).expect("frame");
        assert_eq!((info.width, info.height), (72, 48));
        // The braille cell's top-left dot is green ink; the light background elsewhere.
        let at = |x: usize, y: usize| &px[(y * 72 + x) * 3..(y * 72 + x) * 3 + 3];
        let green = super::super::palette::LIGHT.ansi[2];
        assert_eq!(at(3, 27), &[green.0, green.1, green.2]);
        let bg = super::super::palette::LIGHT.bg;
        assert_eq!(at(70, 2), &[bg.0, bg.1, bg.2]);
    }

    #[test]
    fn every_box_and_block_character_has_a_drawing() {
        for c in [
            '─', '│', '┃', '┊', '┌', '┐', '└', '┘', '├', '┼', '╭', '▀', '▄', '█', '▌', '░', '▟',
        ] {
            assert!(drawn_without_font(c), "{c}");
        }
        assert!(!drawn_without_font('a'));
        assert!(drawn_without_font('⠋'));
    }
}
