//! Pixels: an RGB canvas with the few shapes pictures need (rectangles, round dots, glyphs
//! of the bundled fonts, anti-aliased), and its PNG encoding.

use ab_glyph::{Font as _, FontRef, PxScale};

use super::palette::Rgb;

/// An RGB image, row by row, 3 bytes a pixel.
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Canvas {
    pub fn new(width: u32, height: u32, bg: Rgb) -> Canvas {
        let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
        for _ in 0..width as usize * height as usize {
            rgb.extend_from_slice(&[bg.0, bg.1, bg.2]);
        }
        Canvas { width, height, rgb }
    }

    /// Blend `color` over pixel (x, y) with `alpha` 0..=1; outside the canvas: nothing.
    pub fn blend(&mut self, x: i64, y: i64, color: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let a = alpha.clamp(0.0, 1.0);
        if a <= 0.0 {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        let px = &mut self.rgb[i..i + 3];
        for (p, c) in px.iter_mut().zip([color.0, color.1, color.2]) {
            *p = (f32::from(*p) + (f32::from(c) - f32::from(*p)) * a).round() as u8;
        }
    }

    /// Fill the rectangle from (x, y), `w` x `h`, with edges on fractional pixels covered in
    /// part.
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        let (x1, y1) = (x + w, y + h);
        for py in y.floor() as i64..y1.ceil() as i64 {
            let cover_y = (y1.min(py as f32 + 1.0) - y.max(py as f32)).clamp(0.0, 1.0);
            for px in x.floor() as i64..x1.ceil() as i64 {
                let cover_x = (x1.min(px as f32 + 1.0) - x.max(px as f32)).clamp(0.0, 1.0);
                self.blend(px, py, color, cover_x * cover_y);
            }
        }
    }

    /// A round dot of radius `r` centred on (cx, cy).
    pub fn fill_circle(&mut self, cx: f32, cy: f32, r: f32, color: Rgb) {
        const SUB: i32 = 4;
        for py in (cy - r).floor() as i64..=(cy + r).ceil() as i64 {
            for px in (cx - r).floor() as i64..=(cx + r).ceil() as i64 {
                // Coverage from a 4x4 grid of samples in the pixel.
                let mut n = 0;
                for sy in 0..SUB {
                    for sx in 0..SUB {
                        let dx = px as f32 + (sx as f32 + 0.5) / SUB as f32 - cx;
                        let dy = py as f32 + (sy as f32 + 0.5) / SUB as f32 - cy;
                        if dx * dx + dy * dy <= r * r {
                            n += 1;
                        }
                    }
                }
                self.blend(px, py, color, n as f32 / (SUB * SUB) as f32);
            }
        }
    }

    /// Draw `ch` of `font` at `size` px with its baseline at `baseline` and its left edge at
    /// `x`. Returns false when the font has no glyph for it (nothing is drawn).
    pub fn glyph(
        &mut self,
        font: &FontRef,
        size: f32,
        x: f32,
        baseline: f32,
        ch: char,
        color: Rgb,
    ) -> bool {
        let id = font.glyph_id(ch);
        if id.0 == 0 {
            return false;
        }
        let glyph = id.with_scale_and_position(PxScale::from(size), ab_glyph::point(x, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cover| {
                self.blend(
                    b.min.x as i64 + i64::from(gx),
                    b.min.y as i64 + i64::from(gy),
                    color,
                    cover,
                );
            });
        }
        true
    }

    /// The PNG file of the canvas.
    pub fn png(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::High);
            let mut w = enc.write_header()?;
            w.write_image_data(&self.rgb)?;
            w.finish()?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_cover_their_pixels() {
        let white = Rgb(255, 255, 255);
        let mut c = Canvas::new(8, 4, Rgb(0, 0, 0));
        c.fill_rect(1.0, 1.0, 2.0, 1.0, white);
        let px = |c: &Canvas, x: usize, y: usize| c.rgb[(y * 8 + x) * 3];
        assert_eq!(
            (px(&c, 1, 1), px(&c, 2, 1), px(&c, 3, 1), px(&c, 1, 2)),
            (255, 255, 0, 0)
        );
        c.fill_rect(4.5, 0.0, 1.0, 1.0, white);
        assert_eq!(
            (px(&c, 4, 0), px(&c, 5, 0)),
            (128, 128),
            "half-covered pixels"
        );
        let mut d = Canvas::new(9, 9, Rgb(0, 0, 0));
        d.fill_circle(4.5, 4.5, 3.0, white);
        assert_eq!(d.rgb[(4 * 9 + 4) * 3], 255, "the centre");
        assert_eq!(d.rgb[0], 0, "the corner");
    }

    #[test]
    fn glyphs_draw_and_missing_ones_say_so() {
        let font = super::super::font::load(super::super::font::MONO);
        let mut c = Canvas::new(24, 24, Rgb(0, 0, 0));
        assert!(c.glyph(&font, 20.0, 2.0, 18.0, 'M', Rgb(255, 255, 255)));
        assert!(c.rgb.iter().any(|&v| v > 200), "ink");
        let before = c.rgb.clone();
        assert!(
            !c.glyph(&font, 20.0, 2.0, 18.0, '\u{4e2d}', Rgb(255, 0, 0)),
            "no CJK in the subset"
        );
        assert_eq!(c.rgb, before);
    }

    #[test]
    fn png_encodes_a_png() {
        let c = Canvas::new(3, 2, Rgb(1, 2, 3));
        let png = c.png().expect("encode");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let dec = png::Decoder::new(std::io::Cursor::new(png));
        let mut r = dec.read_info().expect("decode");
        let mut buf = vec![0; r.output_buffer_size().expect("size")];
        let info = r.next_frame(&mut buf).expect("frame");
        assert_eq!((info.width, info.height), (3, 2));
        assert_eq!(&buf[..3], &[1, 2, 3]);
    }
}
