//! The two charts: MemFree/MemAvailable under MemTotal, and VmallocUsed. Both carry a
//! vertical marker at every load (▲), unload (▼) and failure (✗), drawn over the chart after
//! it is rendered so that the marker never hides data.
//!
//! The charts are drawn here cell for cell as ratatui's `Chart` draws them (the tests compare
//! the two), but touching only the cells that show something: `Chart` builds, copies and walks
//! a full grid of cells per line segment and restyles its whole area twice, which made it
//! the largest part of the dashboard's drawing time at 10 Hz. `draw_axes` draws the axes and
//! labels, `plot` the lines (same dot mapping, same lines, one layer per segment).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget as _;
use ratatui::Frame;

use super::theme::{ChartGlyphs, Theme};
use crate::app::history::Segment;
use crate::app::App;
use crate::engine::{Event, EventKind};
use crate::system::meminfo::Point;
use crate::units::{fmt_bytes, mib_f64, GIB, MIB};

/// How a series' points are drawn (`Braille` and `Dot` as ratatui's `Marker::Braille` and
/// `Marker::Dot`; the others for `--glyphs block|ascii`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// 2x4 dots per cell.
    Braille,
    /// One `•` per cell.
    Dot,
    /// 1x2 per cell: ▀ ▄ █ (every console font has them).
    HalfBlock,
    /// 1x3 per cell: ' - _, and | for two or more.
    Ascii,
    /// One `*` per cell.
    AsciiDot,
}

impl Marker {
    /// Dots per cell across and down.
    fn dots(self) -> (usize, usize) {
        match self {
            Marker::Braille => (2, 4),
            Marker::Dot | Marker::AsciiDot => (1, 1),
            Marker::HalfBlock => (1, 2),
            Marker::Ascii => (1, 3),
        }
    }

    /// The character for a cell whose dots are `pattern` (bit `x + width * y`, row-major).
    fn symbol(self, pattern: u8) -> char {
        match self {
            Marker::Braille => ratatui::symbols::braille::BRAILLE[usize::from(pattern)],
            Marker::Dot => '•',
            Marker::AsciiDot => '*',
            Marker::HalfBlock => match pattern {
                1 => '▀',
                2 => '▄',
                _ => '█',
            },
            Marker::Ascii => match pattern {
                1 => '\'',
                2 => '-',
                4 => '_',
                _ => '|',
            },
        }
    }
}

/// One series: its decimated segments, how it is drawn.
struct Series {
    segments: Vec<Segment>,
    style: Style,
    marker: Marker,
    /// Each dot drawn with the one below it too (the projector's thick lines).
    thick: bool,
}

/// The markers of the charts' two kinds of series (a line, MemFree's dots) per `--glyphs`.
fn markers(th: &Theme) -> (Marker, Marker) {
    match th.glyphs {
        crate::cli::Glyphs::Braille => (Marker::Braille, Marker::Dot),
        crate::cli::Glyphs::Block => (Marker::HalfBlock, Marker::Dot),
        crate::cli::Glyphs::Ascii => (Marker::Ascii, Marker::AsciiDot),
    }
}

/// Plot `series` in `graph`, whose axes span `x_bounds` and `y_bounds`, as ratatui's `Chart`
/// plots datasets (one per segment: a point per value, lines between consecutive values;
/// a one-point segment is a scatter point): each segment is a layer whose dots replace the
/// symbol and colour of the cells they fall in. Only those cells are touched.
fn plot(buf: &mut Buffer, graph: Rect, x_bounds: [f64; 2], y_bounds: [f64; 2], series: &[Series]) {
    let (w, h) = (usize::from(graph.width), usize::from(graph.height));
    let ([left, right], [bottom, top]) = (x_bounds, y_bounds);
    let (span_x, span_y) = (right - left, top - bottom);
    if w == 0 || h == 0 || span_x <= 0.0 || span_y <= 0.0 {
        return;
    }
    let mut patterns = vec![0u8; w * h];
    let mut touched: Vec<usize> = Vec::new();
    for s in series {
        let (dw, dh) = s.marker.dots();
        let (res_x, res_y) = ((w * dw) as f64, (h * dh) as f64);
        // Painter::get_point: a point outside the bounds is not drawn.
        let dot_of = |x: f64, y: f64| -> Option<(usize, usize)> {
            if x < left || x > right || y < bottom || y > top {
                return None;
            }
            Some((
                ((x - left) * (res_x - 1.0) / span_x).round() as usize,
                ((top - y) * (res_y - 1.0) / span_y).round() as usize,
            ))
        };
        let color = s.style.fg.unwrap_or(Color::Reset);
        for seg in &s.segments {
            let rows = h * dh;
            let mut paint = |x: usize, y: usize| {
                let below = (s.thick && y + 1 < rows).then_some(y + 1);
                for y in std::iter::once(y).chain(below) {
                    let i = (y / dh) * w + x / dw;
                    if let Some(p) = patterns.get_mut(i) {
                        if *p == 0 {
                            touched.push(i);
                        }
                        *p |= 1 << ((x % dw) + dw * (y % dh));
                    }
                }
            };
            for &(x, y) in seg {
                if let Some((px, py)) = dot_of(x, y) {
                    paint(px, py);
                }
            }
            for pair in seg.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let window = line_clipping::Window::new(left, right, bottom, top);
                let line = line_clipping::LineSegment::new(
                    line_clipping::Point::new(a.0, a.1),
                    line_clipping::Point::new(b.0, b.1),
                );
                let Some(c) = line_clipping::cohen_sutherland::clip_line(line, window) else {
                    continue;
                };
                if let (Some(p1), Some(p2)) = (dot_of(c.p1.x, c.p1.y), dot_of(c.p2.x, c.p2.y)) {
                    for_each_line_dot(p1, p2, &mut paint);
                }
            }
            for &i in &touched {
                let pos = (graph.x + (i % w) as u16, graph.y + (i / w) as u16);
                buf[pos]
                    .set_char(s.marker.symbol(patterns[i]))
                    .set_fg(color);
                patterns[i] = 0;
            }
            touched.clear();
        }
    }
}

/// The dots of a line from `a` to `b` (Bresenham), in the order ratatui's canvas `Line` visits
/// them.
fn for_each_line_dot(a: (usize, usize), b: (usize, usize), f: &mut impl FnMut(usize, usize)) {
    let ((x1, y1), (x2, y2)) = (a, b);
    let (dx, dy) = (x2.abs_diff(x1), y2.abs_diff(y1));
    if dx == 0 {
        (y1.min(y2)..=y1.max(y2)).for_each(|y| f(x1, y));
    } else if dy == 0 {
        (x1.min(x2)..=x1.max(x2)).for_each(|x| f(x, y1));
    } else if dy < dx {
        // Mostly horizontal: step along x.
        let ((x1, y1), (x2, y2)) = if x1 > x2 { (b, a) } else { (a, b) };
        let (dx, dy) = ((x2 - x1) as isize, (y2 as isize - y1 as isize).abs());
        let (mut d, mut y) = (2 * dy - dx, y1);
        for x in x1..=x2 {
            f(x, y);
            if d > 0 {
                y = if y1 > y2 {
                    y.saturating_sub(1)
                } else {
                    y.saturating_add(1)
                };
                d -= 2 * dx;
            }
            d += 2 * dy;
        }
    } else {
        // Mostly vertical: step along y.
        let ((x1, y1), (x2, y2)) = if y1 > y2 { (b, a) } else { (a, b) };
        let (dx, dy) = ((x2 as isize - x1 as isize).abs(), (y2 - y1) as isize);
        let (mut d, mut x) = (2 * dx - dy, x1);
        for y in y1..=y2 {
            f(x, y);
            if d > 0 {
                x = if x1 > x2 {
                    x.saturating_sub(1)
                } else {
                    x.saturating_add(1)
                };
                d -= 2 * dy;
            }
            d += 2 * dx;
        }
    }
}

/// Draw the axes and their labels in `area` exactly as ratatui's `Chart` draws them for
/// axes with default label alignment, no axis titles and no legend; returns the plotting area
/// (None when `area` is empty). `Chart` would also restyle every cell of `area` and of the
/// plotting area with default styles (no-ops that cost more than the rest of the chart).
fn draw_axes(
    buf: &mut Buffer,
    area: Rect,
    x_labels: &[Line],
    y_labels: &[Line],
    style: Style,
    g: &ChartGlyphs,
) -> Option<Rect> {
    if area.height == 0 || area.width == 0 {
        return None;
    }
    // Chart::layout
    let (mut x, mut y) = (area.left(), area.bottom() - 1);
    let mut label_x = None;
    if !x_labels.is_empty() && y > area.top() {
        label_x = Some(y);
        y -= 1;
    }
    let has_y = !y_labels.is_empty();
    let mut left_of_axis = y_labels.iter().map(Line::width).max().unwrap_or(0) as u16;
    if let Some(first) = x_labels.first() {
        // The first x label ends under the y axis, not left of it.
        left_of_axis = left_of_axis.max((first.width() as u16).saturating_sub(u16::from(has_y)));
    }
    x += left_of_axis.min(area.width / 3);
    let mut axis_x = None;
    if !x_labels.is_empty() && y > area.top() {
        axis_x = Some(y);
        y -= 1;
    }
    let mut axis_y = None;
    if has_y && x + 1 < area.right() {
        axis_y = Some(x);
        x += 1;
    }
    let graph = Rect::new(
        x,
        area.top(),
        area.right().saturating_sub(x),
        y.saturating_sub(area.top()).saturating_add(1),
    );

    // Chart::render_x_labels: the first right-aligned left of the graph, the last at its right
    // edge, the others centred between.
    if let (Some(y), [first, middle @ .., last]) = (label_x, x_labels) {
        let n = x_labels.len() as u16;
        let between = graph.width / n;
        let first_area = Rect::new(area.left(), y, graph.left() - area.left(), 1);
        first.clone().right_aligned().render(first_area, buf);
        for (i, label) in middle.iter().enumerate() {
            let x = graph.left() + (i as u16 + 1) * between + 1;
            let label_area = Rect::new(x, y, between.saturating_sub(1), 1);
            label.clone().centered().render(label_area, buf);
        }
        let last_area = Rect::new(graph.right() - between, y, between, 1);
        last.clone().right_aligned().render(last_area, buf);
    }
    // Chart::render_y_labels: evenly spaced from the bottom row to the top row.
    if y_labels.len() >= 2 {
        let n = y_labels.len() as u16;
        for (i, label) in y_labels.iter().enumerate() {
            let dy = i as u16 * (graph.height - 1) / (n - 1);
            if dy < graph.bottom() {
                let label_area = Rect::new(
                    area.left(),
                    graph.bottom().saturating_sub(1) - dy,
                    (graph.left() - area.left()).saturating_sub(1),
                    1,
                );
                label.clone().left_aligned().render(label_area, buf);
            }
        }
    }
    if let Some(y) = axis_x {
        for x in graph.left()..graph.right() {
            buf[(x, y)].set_symbol(g.axis_h).set_style(style);
        }
    }
    if let Some(x) = axis_y {
        for y in graph.top()..graph.bottom() {
            buf[(x, y)].set_symbol(g.axis_v).set_style(style);
        }
    }
    if let (Some(y), Some(x)) = (axis_x, axis_y) {
        buf[(x, y)].set_symbol(g.axis_corner).set_style(style);
    }
    Some(graph)
}

/// A time offset relative to the right edge, e.g. "-30s", "-10m".
fn rel(secs: f64) -> String {
    let s = secs.abs();
    if s < 0.5 {
        "0".into()
    } else if s < 120.0 {
        format!("-{s:.0}s")
    } else if s < 7200.0 {
        format!("-{:.0}m", s / 60.0)
    } else {
        format!("-{:.1}h", s / 3600.0)
    }
}

fn axis_label(mib: f64) -> String {
    if mib <= 0.0 {
        "0".into()
    } else {
        fmt_bytes((mib * MIB as f64) as u64)
    }
}

/// Round up to 1, 2 or 5 times a power of ten (MiB), between 1 and 10^18.
///
/// The power of ten is found by multiplying, not with `log10` and `powf`: those were the only
/// two functions vmtop took from libm, and linking libm mapped 0.6 MiB more into the
/// dashboard's resident memory.
fn nice_ceiling(v: f64) -> f64 {
    let v = if v.is_nan() { 1.0 } else { v.clamp(1.0, 1e18) };
    // The largest power of ten not above v (exact: powers of ten up to 1e22 are exact in f64).
    let mut p = 1.0;
    while p * 10.0 <= v {
        p *= 10.0;
    }
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// Smallest chart drawn (below the title rule).
const MIN_CHART_ROWS: u16 = 2;
const MIN_CHART_COLS: u16 = 12;
/// The narrowest pane a chart is drawn in.
pub const MIN_COLS: u16 = MIN_CHART_COLS;

/// Whether a chart pane of `area` (its title rule included) is big enough to draw the chart.
pub fn fits(area: Rect) -> bool {
    area.height > MIN_CHART_ROWS && area.width >= MIN_CHART_COLS
}

/// What an area too small for a chart shows instead.
fn too_small(area: Rect) -> String {
    format!(
        "chart needs {MIN_CHART_COLS}x{} cells, has {}x{}: enlarge the terminal",
        MIN_CHART_ROWS + 1,
        area.width,
        area.height + 1
    )
}

#[allow(clippy::too_many_arguments)]
fn render_chart(
    f: &mut Frame,
    area: Rect,
    app: &App,
    th: &Theme,
    title: Line<'_>,
    y_max_mib: f64,
    series: impl Fn(usize) -> Vec<Series>,
) {
    let inner = super::title_rule(f, area, title, th);
    if inner.height < MIN_CHART_ROWS || inner.width < MIN_CHART_COLS {
        // Say so in place rather than leave the pane blank.
        if !inner.is_empty() {
            f.render_widget(
                ratatui::widgets::Paragraph::new(too_small(inner))
                    .style(th.dim())
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
        }
        return;
    }
    let (x0, x1) = app.view_range();
    let y_labels: Vec<String> = [0.0, y_max_mib / 2.0, y_max_mib]
        .iter()
        .map(|&v| axis_label(v))
        .collect();
    let lw = y_labels
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1) as u16;
    let y_labels: Vec<Line> = y_labels
        .into_iter()
        .map(|s| Line::from(format!("{s:>w$}", w = lw as usize)))
        .collect();
    let x_labels: Vec<Line> = if inner.height >= 6 {
        vec![
            Line::from(rel(x0 - x1)),
            Line::from(rel((x0 - x1) / 2.0)),
            Line::from(if app.frozen_at.is_some() {
                "frozen"
            } else {
                "now"
            }),
        ]
    } else {
        Vec::new()
    };
    let glyphs = th.chart_glyphs();
    let Some(graph) = draw_axes(
        f.buffer_mut(),
        inner,
        &x_labels,
        &y_labels,
        th.dim(),
        &glyphs,
    ) else {
        return;
    };
    // Braille has two dots per cell across: that is the chart's real resolution.
    let all = series(graph.width as usize * 2);
    plot(f.buffer_mut(), graph, [x0, x1], [0.0, y_max_mib], &all);
    draw_markers(f.buffer_mut(), graph, x0, x1, &app.events, th, &glyphs);
}

/// Vertical markers at event times, over whatever the chart drew in empty cells.
fn draw_markers(
    buf: &mut Buffer,
    graph: Rect,
    x0: f64,
    x1: f64,
    events: &[Event],
    th: &Theme,
    g: &ChartGlyphs,
) {
    if graph.width == 0 || graph.height == 0 || x1 <= x0 {
        return;
    }
    // Failures last so that they win a shared column.
    let mut visible: Vec<&Event> = events.iter().filter(|e| e.t >= x0 && e.t <= x1).collect();
    visible.sort_by_key(|e| e.failed());
    for e in visible {
        let frac = (e.t - x0) / (x1 - x0);
        let col = graph.x + (frac * f64::from(graph.width - 1)).round() as u16;
        let (head, line, style) = if e.failed() {
            (g.fail, g.fail_line, th.failure())
        } else {
            match e.kind {
                EventKind::Load => (g.load, g.mark_line, th.load_marker()),
                EventKind::Adopt => (g.adopt, g.mark_line, th.load_marker()),
                EventKind::Unload => (g.unload, g.mark_line, th.unload_marker()),
            }
        };
        buf[(col, graph.y)].set_symbol(head).set_style(style);
        for y in graph.y + 1..graph.bottom() {
            let cell = &mut buf[(col, y)];
            if cell.symbol() == " " {
                cell.set_symbol(line).set_style(style);
            }
        }
    }
}

fn mib_of(
    f: impl Fn(&crate::system::meminfo::Sample) -> Option<u64>,
) -> impl Fn(&Point) -> Option<f64> {
    move |p: &Point| p.sample.as_ref().and_then(&f).map(mib_f64)
}

/// MemAvailable and MemFree, with MemTotal as the ceiling.
pub fn render_memory(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let (x0, x1) = app.view_range();
    let now = app.history.sample_at(x1);
    let total = now
        .map(|s| s.mem_total)
        .or_else(|| app.latest().map(|s| s.mem_total));
    let val = |v: Option<u64>| v.map(fmt_bytes).unwrap_or_else(|| "—".into());
    let g = th.chart_glyphs();
    let mut spans = vec![
        Span::styled(format!("Memory {} ", app.window.label()), th.title()),
        Span::styled(
            format!(
                "{} MemAvailable {}",
                g.line_mark,
                val(now.and_then(|s| s.mem_available))
            ),
            th.mem_available(),
        ),
        Span::styled(
            format!("  {} MemFree {}", g.dot_mark, val(now.map(|s| s.mem_free))),
            th.mem_free(),
        ),
    ];
    let highmem = now.and_then(|s| s.highmem);
    // On a narrow screen with highmem, the split replaces MemTotal (the controls line has it).
    if let Some(t) = total.filter(|_| highmem.is_none() || area.width >= 120) {
        spans.push(Span::styled(
            format!("  {} MemTotal {} ", g.at_most, fmt_bytes(t)),
            th.dim(),
        ));
    }
    // 32-bit: lowmem shares the kernel's top gigabyte with the vmalloc window.
    if let Some(h) = highmem {
        spans.push(Span::styled(
            if area.width >= 120 {
                format!(
                    " LowTotal {}  HighTotal {} ",
                    fmt_bytes(h.low_total()),
                    fmt_bytes(h.high_total())
                )
            } else {
                format!(
                    "  Low {} High {} ",
                    fmt_bytes(h.low_total()),
                    fmt_bytes(h.high_total())
                )
            },
            th.dim(),
        ));
    }
    let y_max = total
        .map(mib_f64)
        .or_else(|| app.history.max_in(x0, x1, mib_of(|s| Some(s.mem_total))))
        .unwrap_or(1024.0);
    let (line, dot) = markers(th);
    render_chart(f, area, app, th, Line::from(spans), y_max, |w| {
        vec![
            // MemAvailable last: it wins the cells the two lines share.
            Series {
                segments: app.history.series(x0, x1, w, mib_of(|s| Some(s.mem_free))),
                style: th.mem_free(),
                marker: dot,
                thick: false,
            },
            Series {
                segments: app.history.series(x0, x1, w, mib_of(|s| s.mem_available)),
                style: th.mem_available(),
                marker: line,
                thick: th.thick_lines(),
            },
        ]
    });
}

/// VmallocUsed, with VmallocTotal and the largest free gap in the title.
pub fn render_vmalloc(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let (x0, x1) = app.view_range();
    let now_point = app.history.range(x0, x1).rev().find(|p| p.sample.is_some());
    let now = now_point.and_then(|p| p.sample);
    let mut spans = vec![
        Span::styled("vmalloc ", th.title()),
        Span::styled(
            format!(
                "{} VmallocUsed {}",
                th.chart_glyphs().line_mark,
                now.map(|s| fmt_bytes(s.vmalloc_used))
                    .unwrap_or_else(|| "—".into())
            ),
            th.vmalloc_used(),
        ),
    ];
    if let Some(s) = now {
        spans.push(Span::styled(
            format!("  of VmallocTotal {}", fmt_bytes(s.vmalloc_total)),
            th.dim(),
        ));
        // VmallocChunk has read 0 since Linux 4.4; the largest gap comes from /proc/vmallocinfo.
        let gap = match (
            now_point.and_then(|p| p.vmalloc_largest_free),
            s.vmalloc_chunk,
        ) {
            (Some(g), _) => format!("  largest free gap {} ", fmt_bytes(g)),
            (None, c) if c > 0 => format!("  VmallocChunk {} ", fmt_bytes(c)),
            (None, _) => "  largest free gap n/a ".into(),
        };
        spans.push(Span::styled(gap, th.dim()));
    }
    let used_max = app
        .history
        .max_in(x0, x1, mib_of(|s| Some(s.vmalloc_used)))
        .unwrap_or(0.0);
    // A small vmalloc space (32-bit) is a meaningful ceiling; 32 TiB is not.
    let y_max = match now {
        Some(s) if s.vmalloc_total <= 4 * GIB => mib_f64(s.vmalloc_total),
        _ => nice_ceiling((used_max * 1.25).max(64.0)),
    };
    let (line, _) = markers(th);
    render_chart(f, area, app, th, Line::from(spans), y_max, |w| {
        vec![Series {
            segments: app
                .history
                .series(x0, x1, w, mib_of(|s| Some(s.vmalloc_used))),
            style: th.vmalloc_used(),
            marker: line,
            thick: th.thick_lines(),
        }]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(64.0), 100.0);
        assert_eq!(nice_ceiling(130.0), 200.0);
        assert_eq!(nice_ceiling(200.0), 200.0);
        assert_eq!(nice_ceiling(260.0), 500.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
        assert_eq!(nice_ceiling(1000.5), 2000.0);
        assert_eq!(nice_ceiling(9.99), 10.0);
        assert_eq!(nice_ceiling(33_554_432.0), 50_000_000.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
        assert_eq!(nice_ceiling(f64::INFINITY), 1e18);
    }

    /// `draw_axes` and `plot` give exactly the buffer (symbols and styles) that ratatui's
    /// `Chart` gives with the same axes and the segments as datasets.
    #[test]
    fn drawing_matches_ratatui_chart() {
        use ratatui::style::{Color, Modifier};
        use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

        // Saw-tooth, steep steps, a flat stretch, values beyond the y bounds, a lone point.
        let wave: Segment = (0..120)
            .map(|i| {
                let t = i as f64 * 0.25;
                let v = match i {
                    0..=30 => 400.0 + (i % 7) as f64 * 13.0,
                    31..=50 => 900.0 - i as f64 * 11.0,
                    51..=70 => 120.0,
                    71..=80 => 1300.0,
                    _ => 50.0 + ((i * 37) % 100) as f64 * 9.5,
                };
                (t, v)
            })
            .collect();
        let (first, rest) = wave.split_at(60);
        let lone: Segment = vec![(29.0, 640.0)];
        let series = vec![
            Series {
                segments: vec![first.to_vec(), rest.to_vec()],
                style: Style::new().fg(Color::Yellow),
                marker: Marker::Dot,
                thick: false,
            },
            Series {
                segments: vec![
                    wave.iter().map(|&(t, v)| (t, v * 0.8 + 30.0)).collect(),
                    lone,
                ],
                style: Style::new().fg(Color::Cyan),
                marker: Marker::Braille,
                thick: false,
            },
        ];
        let axis_style = Style::new().fg(Color::DarkGray).add_modifier(Modifier::DIM);
        let x_sets: [&[&str]; 3] = [&["-30s", "-15s", "now"], &["-10m", "-5m", "frozen"], &[]];
        let y_sets: [&[&str]; 2] = [
            &["   0", " 512", "1024"],
            &["      0", "1.0 GiB", "2.0 GiB"],
        ];
        let mut compared = 0;
        for (w, h) in [(78u16, 27u16), (40, 9), (13, 3), (12, 2), (100, 1), (7, 30)] {
            for x_labels in x_sets {
                for y_labels in y_sets {
                    let area = Rect::new(3, 2, w, h);
                    let x_lines: Vec<Line> = x_labels.iter().map(|&l| Line::from(l)).collect();
                    let y_lines: Vec<Line> = y_labels.iter().map(|&l| Line::from(l)).collect();
                    let datasets: Vec<Dataset> = series
                        .iter()
                        .flat_map(|s| {
                            s.segments.iter().map(|seg| {
                                Dataset::default()
                                    .marker(match s.marker {
                                        Marker::Braille => ratatui::symbols::Marker::Braille,
                                        Marker::Dot => ratatui::symbols::Marker::Dot,
                                        other => panic!("{other:?} has no ratatui marker"),
                                    })
                                    .graph_type(if seg.len() == 1 {
                                        GraphType::Scatter
                                    } else {
                                        GraphType::Line
                                    })
                                    .style(s.style)
                                    .data(seg)
                            })
                        })
                        .collect();
                    let chart = Chart::new(datasets)
                        .x_axis(
                            Axis::default()
                                .bounds([0.0, 30.0])
                                .style(axis_style)
                                .labels(x_lines.clone()),
                        )
                        .y_axis(
                            Axis::default()
                                .bounds([0.0, 1024.0])
                                .style(axis_style)
                                .labels(y_lines.clone()),
                        );
                    let whole = Rect::new(0, 0, w + 6, h + 4);
                    let mut theirs = Buffer::empty(whole);
                    chart.render(area, &mut theirs);
                    let mut ours = Buffer::empty(whole);
                    let braille = super::super::theme::Theme::new(false).chart_glyphs();
                    if let Some(graph) =
                        draw_axes(&mut ours, area, &x_lines, &y_lines, axis_style, &braille)
                    {
                        plot(&mut ours, graph, [0.0, 30.0], [0.0, 1024.0], &series);
                    }
                    assert_eq!(ours, theirs, "{w}x{h} {x_labels:?} {y_labels:?}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 36);
        // The big case really draws lines.
        let mut big = Buffer::empty(Rect::new(0, 0, 78, 27));
        let y_lines: Vec<Line> = y_sets[0].iter().map(|&l| Line::from(l)).collect();
        let whole = big.area;
        let braille = super::super::theme::Theme::new(false).chart_glyphs();
        let graph = draw_axes(&mut big, whole, &[], &y_lines, axis_style, &braille).expect("graph");
        plot(&mut big, graph, [0.0, 30.0], [0.0, 1024.0], &series);
        let drawn = big
            .content
            .iter()
            .filter(|c| c.symbol() == "•" || c.symbol() > "⠀")
            .count();
        assert!(drawn > 50, "{drawn}");
    }

    #[test]
    fn relative_labels() {
        assert_eq!(rel(-30.0), "-30s");
        assert_eq!(rel(-600.0), "-10m");
        assert_eq!(rel(0.0), "0");
    }
}
