//! The two charts: MemFree/MemAvailable under MemTotal, and VmallocUsed. Both carry a
//! vertical marker at every load (▲), unload (▼) and failure (✗), drawn over the chart after
//! it is rendered so that the marker never hides data.
//!
//! The charts are drawn here cell for cell as ratatui's `Chart` draws them (the tests compare
//! the two), but touching only the cells that show something: `Chart` builds, copies and walks
//! a full grid of cells per line segment and restyles its whole area twice, which made it
//! the largest part of the dashboard's drawing time at 10 Hz. `draw_axes` draws the axes and
//! labels, `plot` the lines (same dot mapping, same lines, one layer per segment).
//!
//! After a sample, `ui::damage` works out which columns of a chart can have changed and
//! draws only those again (`render_columns`), with the same functions as a whole chart.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget as _;
use ratatui::Frame;

use super::theme::{ChartGlyphs, Theme};
use crate::app::history::{Buckets, Segment};
use crate::app::App;
use crate::engine::{Event, EventKind};
use crate::system::meminfo::Point;
use crate::units::{fmt_bytes, fmt_bytes_key, mib_f64, FigKey, GIB, MIB};

/// How a series' points are drawn (`Braille` and `Dot` as ratatui's `Marker::Braille` and
/// `Marker::Dot`; the others for `--glyphs block|ascii`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
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
    pub(crate) fn dots(self) -> (usize, usize) {
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
fn series_markers(th: &Theme) -> (Marker, Marker) {
    match th.glyphs {
        crate::cli::Glyphs::Braille => (Marker::Braille, Marker::Dot),
        crate::cli::Glyphs::Block => (Marker::HalfBlock, Marker::Dot),
        crate::cli::Glyphs::Ascii => (Marker::Ascii, Marker::AsciiDot),
    }
}

/// The dot a value falls on, as ratatui's `Painter::get_point` maps it: `v` in `[lo, hi]`
/// onto `res` dots, from the low end (`Axis::X`: time) or from the high end (`Axis::Y`: the
/// top row is the largest value). None outside the bounds. The one mapping both `plot` and
/// `ui::damage` use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DotScale {
    lo: f64,
    hi: f64,
    res: f64,
    from_top: bool,
}

impl DotScale {
    pub(crate) fn x(bounds: [f64; 2], dots: usize) -> DotScale {
        DotScale {
            lo: bounds[0],
            hi: bounds[1],
            res: dots as f64,
            from_top: false,
        }
    }

    pub(crate) fn y(bounds: [f64; 2], dots: usize) -> DotScale {
        DotScale {
            lo: bounds[0],
            hi: bounds[1],
            res: dots as f64,
            from_top: true,
        }
    }

    /// Where `v` falls, in dots, before rounding (may be outside the dots).
    pub(crate) fn exact(&self, v: f64) -> f64 {
        let span = self.hi - self.lo;
        if self.from_top {
            (self.hi - v) * (self.res - 1.0) / span
        } else {
            (v - self.lo) * (self.res - 1.0) / span
        }
    }

    /// The dot `v` is drawn on; None outside the bounds.
    pub(crate) fn dot(&self, v: f64) -> Option<usize> {
        if v < self.lo || v > self.hi {
            return None;
        }
        let e = self.exact(v);
        Some(if (0.0..1e15).contains(&e) {
            // `f64::round` (half away from zero) of a non-negative number, inline: the
            // library call was a tenth of the plotting time.
            let t = e as u64;
            (t + u64::from(e - t as f64 >= 0.5)) as usize
        } else {
            e.round() as usize
        })
    }
}

/// What a plot leaves in a cell: the dot pattern of the last segment that drew there, and
/// the series it belongs to (its index + 1; 0: nothing drawn).
pub(crate) type Plotted = (u8, u8);

/// Plot `series` in a graph `w` x `h` cells whose axes span `x_bounds` and `y_bounds`, as
/// ratatui's `Chart` plots datasets (one per segment: a point per value, lines between
/// consecutive values; a one-point segment is a scatter point): each segment is a layer
/// whose dots replace the pattern and series of the cells they fall in. The graph's columns
/// `cols` only (and of those, with a `mask`, the ones it sets), into `grid` (row-major,
/// `cols.len()` cells a row, all (0, 0) before).
fn plot(
    grid: &mut [Plotted],
    (w, h): (usize, usize),
    x_bounds: [f64; 2],
    y_bounds: [f64; 2],
    series: &[Series],
    cols: std::ops::Range<usize>,
    mask: Option<&[bool]>,
) {
    let (span_x, span_y) = (x_bounds[1] - x_bounds[0], y_bounds[1] - y_bounds[0]);
    let cw = cols.len();
    if w == 0 || h == 0 || cw == 0 || span_x <= 0.0 || span_y <= 0.0 {
        return;
    }
    let mut patterns = vec![0u8; cw * h];
    let mut touched: Vec<usize> = Vec::new();
    for (si, s) in series.iter().enumerate() {
        let (dw, dh) = s.marker.dots();
        let (sx, sy) = (DotScale::x(x_bounds, w * dw), DotScale::y(y_bounds, h * dh));
        // Painter::get_point: a point outside the bounds is not drawn.
        let dot_of = |x: f64, y: f64| -> Option<(usize, usize)> { Some((sx.dot(x)?, sy.dot(y)?)) };
        let rows = h * dh;
        for seg in &s.segments {
            let mut paint = |x: usize, y: usize| {
                let Some(c) = (x / dw).checked_sub(cols.start).filter(|&c| c < cw) else {
                    return;
                };
                if mask.is_some_and(|m| !m.get(x / dw).copied().unwrap_or(false)) {
                    return;
                }
                let below = (s.thick && y + 1 < rows).then_some(y + 1);
                for y in std::iter::once(y).chain(below) {
                    if let Some(p) = patterns.get_mut((y / dh) * cw + c) {
                        if *p == 0 {
                            touched.push((y / dh) * cw + c);
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
                // Both ends inside the axes (nearly always): the clipping keeps the line as
                // it is, skip it.
                let (p1, p2) = match (dot_of(a.0, a.1), dot_of(b.0, b.1)) {
                    (Some(p1), Some(p2)) => (Some(p1), Some(p2)),
                    _ => {
                        let window = line_clipping::Window::new(
                            x_bounds[0],
                            x_bounds[1],
                            y_bounds[0],
                            y_bounds[1],
                        );
                        let line = line_clipping::LineSegment::new(
                            line_clipping::Point::new(a.0, a.1),
                            line_clipping::Point::new(b.0, b.1),
                        );
                        let Some(c) = line_clipping::cohen_sutherland::clip_line(line, window)
                        else {
                            continue;
                        };
                        (dot_of(c.p1.x, c.p1.y), dot_of(c.p2.x, c.p2.y))
                    }
                };
                if let (Some(p1), Some(p2)) = (p1, p2) {
                    for_each_line_dot(p1, p2, &mut paint);
                }
            }
            for &i in &touched {
                grid[i] = (patterns[i], si as u8 + 1);
                patterns[i] = 0;
            }
            touched.clear();
        }
    }
}

/// Draw `grid` (what `plot` left in the graph's columns `cols`) into `buf`: each drawn cell
/// gets its pattern's symbol in its series' colour, as `Chart` sets them.
fn paint(
    buf: &mut Buffer,
    graph: Rect,
    grid: &[Plotted],
    series: &[Series],
    cols: std::ops::Range<usize>,
) {
    let cw = cols.len();
    if cw == 0 {
        return;
    }
    for (i, &(pattern, s)) in grid.iter().enumerate() {
        let Some(s) = usize::from(s).checked_sub(1).and_then(|s| series.get(s)) else {
            continue;
        };
        let pos = (
            graph.x + (cols.start + i % cw) as u16,
            graph.y + (i / cw) as u16,
        );
        buf[pos]
            .set_char(s.marker.symbol(pattern))
            .set_fg(s.style.fg.unwrap_or(Color::Reset));
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

/// Where `Chart::layout` puts the plotting area, the x labels' row and the two axes.
struct Axes {
    graph: Rect,
    label_x: Option<u16>,
    axis_x: Option<u16>,
    axis_y: Option<u16>,
}

/// `Chart::layout` for axes with default label alignment, no axis titles and no legend; None
/// when `area` is empty.
fn axes(area: Rect, x_labels: &[Line], y_labels: &[Line]) -> Option<Axes> {
    if area.height == 0 || area.width == 0 {
        return None;
    }
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
    Some(Axes {
        graph,
        label_x,
        axis_x,
        axis_y,
    })
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
    let Axes {
        graph,
        label_x,
        axis_x,
        axis_y,
    } = axes(area, x_labels, y_labels)?;

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
pub(crate) fn rel(secs: f64) -> String {
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

/// The two charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// MemAvailable and MemFree, with MemTotal as the ceiling.
    Memory,
    /// VmallocUsed, with VmallocTotal and the largest free gap in the title.
    Vmalloc,
}

/// One line of a chart: its values (MiB; None is a gap), how it is drawn.
#[derive(Clone, Copy)]
pub(crate) struct SeriesDef {
    pub(crate) value: fn(&Point) -> Option<f64>,
    /// A line (false: MemFree's dots).
    line: bool,
    style: fn(&Theme) -> Style,
}

impl SeriesDef {
    /// Its marker in theme `th`, and whether its dots are drawn thick.
    pub(crate) fn look(&self, th: &Theme) -> (Marker, bool) {
        let (line, dot) = series_markers(th);
        if self.line {
            (line, th.thick_lines())
        } else {
            (dot, false)
        }
    }

    fn series(&self, th: &Theme, segments: Vec<Segment>) -> Series {
        let (marker, thick) = self.look(th);
        Series {
            segments,
            style: (self.style)(th),
            marker,
            thick,
        }
    }
}

fn free_mib(p: &Point) -> Option<f64> {
    p.sample.map(|s| mib_f64(s.mem_free))
}

fn available_mib(p: &Point) -> Option<f64> {
    p.sample.and_then(|s| s.mem_available).map(mib_f64)
}

fn total_mib(p: &Point) -> Option<f64> {
    p.sample.map(|s| mib_f64(s.mem_total))
}

/// VmallocUsed, MiB: the vmalloc chart's line, whose largest value sets its y axis.
pub(crate) fn used_mib(p: &Point) -> Option<f64> {
    p.sample.map(|s| mib_f64(s.vmalloc_used))
}

const MEMORY_SERIES: [SeriesDef; 2] = [
    // MemAvailable last: it wins the cells the two lines share.
    SeriesDef {
        value: free_mib,
        line: false,
        style: Theme::mem_free,
    },
    SeriesDef {
        value: available_mib,
        line: true,
        style: Theme::mem_available,
    },
];

const VMALLOC_SERIES: [SeriesDef; 1] = [SeriesDef {
    value: used_mib,
    line: true,
    style: Theme::vmalloc_used,
}];

/// The figures a chart's title shows, as keys (`units::FigKey`): equal keys, same title.
pub(crate) type TitleKey = [FigKey; 5];

impl Chart {
    /// Its lines, in drawing order.
    pub(crate) fn series(self) -> &'static [SeriesDef] {
        match self {
            Chart::Memory => &MEMORY_SERIES,
            Chart::Vmalloc => &VMALLOC_SERIES,
        }
    }

    /// The top of its y axis (MiB) for the window `[x0, x1]`. `used_max`: VmallocUsed's
    /// largest value in the window where the caller keeps it (`ui::damage`), else it is
    /// looked up in the history.
    pub(crate) fn y_max(self, app: &App, x0: f64, x1: f64, used_max: Option<Option<f64>>) -> f64 {
        match self {
            Chart::Memory => app
                .history
                .sample_at(x1)
                .map(|s| s.mem_total)
                .or_else(|| app.latest().map(|s| s.mem_total))
                .map(mib_f64)
                .or_else(|| app.history.max_in(x0, x1, total_mib))
                .unwrap_or(1024.0),
            Chart::Vmalloc => match vmalloc_now(app, x0, x1).and_then(|p| p.sample) {
                // A small vmalloc space (32-bit) is a meaningful ceiling; 32 TiB is not.
                Some(s) if s.vmalloc_total <= 4 * GIB => mib_f64(s.vmalloc_total),
                _ => {
                    let used_max = used_max
                        .unwrap_or_else(|| app.history.max_in(x0, x1, used_mib))
                        .unwrap_or(0.0);
                    nice_ceiling((used_max * 1.25).max(64.0))
                }
            },
        }
    }

    /// Its title, on the top rule of `area`.
    fn title(self, app: &App, area: Rect, x0: f64, x1: f64, th: &Theme) -> Line<'static> {
        match self {
            Chart::Memory => memory_title(app, area, x1, th),
            Chart::Vmalloc => vmalloc_title(app, x0, x1, th),
        }
    }

    /// What its title shows that samples change (the rest changes with messages only).
    pub(crate) fn title_key(self, app: &App, x0: f64, x1: f64) -> TitleKey {
        let fig = |b: Option<u64>| b.map(fmt_bytes_key).unwrap_or_default();
        match self {
            Chart::Memory => {
                let now = app.history.sample_at(x1);
                let highmem = now.and_then(|s| s.highmem);
                [
                    fig(now.and_then(|s| s.mem_available)),
                    fig(now.map(|s| s.mem_free)),
                    fig(memory_total(app, now)),
                    fig(highmem.map(|h| h.low_total())),
                    fig(highmem.map(|h| h.high_total())),
                ]
            }
            Chart::Vmalloc => {
                let point = vmalloc_now(app, x0, x1);
                let now = point.and_then(|p| p.sample);
                let gap = point.and_then(|p| p.vmalloc_largest_free);
                [
                    fig(now.map(|s| s.vmalloc_used)),
                    fig(now.map(|s| s.vmalloc_total)),
                    fig(now.and(gap)),
                    fig(now
                        .filter(|s| gap.is_none() && s.vmalloc_chunk > 0)
                        .map(|s| s.vmalloc_chunk)),
                    FigKey::default(),
                ]
            }
        }
    }

    /// Where it plots in `area` (below its title rule, beside and above its axes) for the
    /// window `[x0, x1]` and a y axis up to `y_max`; None when the area is too small for a
    /// chart (it says so instead).
    pub(crate) fn graph(self, app: &App, area: Rect, x0: f64, x1: f64, y_max: f64) -> Option<Rect> {
        let inner = below_title(area)?;
        if inner.height < MIN_CHART_ROWS || inner.width < MIN_CHART_COLS {
            return None;
        }
        axes(inner, &x_labels(app, inner, x0, x1), &y_labels(y_max)).map(|a| a.graph)
    }
}

/// The rows of a chart's `area` below its title rule (None when there are none).
fn below_title(area: Rect) -> Option<Rect> {
    (area.height > 0).then(|| Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    })
}

/// The memory chart's ceiling: MemTotal at the right edge of the window, else the latest.
fn memory_total(app: &App, now: Option<&crate::system::meminfo::Sample>) -> Option<u64> {
    now.map(|s| s.mem_total)
        .or_else(|| app.latest().map(|s| s.mem_total))
}

/// The vmalloc chart's figures: the newest point of the window that has a sample.
fn vmalloc_now(app: &App, x0: f64, x1: f64) -> Option<&Point> {
    app.history.range(x0, x1).rev().find(|p| p.sample.is_some())
}

/// The x axis's labels: how far back the window reaches, its middle, and "now" (or
/// "frozen"); none when the chart is short.
fn x_labels(app: &App, inner: Rect, x0: f64, x1: f64) -> Vec<Line<'static>> {
    if inner.height >= 6 {
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
    }
}

/// The y axis's labels, right-aligned: 0, the middle, the top.
fn y_labels(y_max_mib: f64) -> Vec<Line<'static>> {
    let y_labels: Vec<String> = [0.0, y_max_mib / 2.0, y_max_mib]
        .iter()
        .map(|&v| axis_label(v))
        .collect();
    let lw = y_labels
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1);
    y_labels
        .into_iter()
        .map(|s| Line::from(format!("{s:>lw$}")))
        .collect()
}

/// Draw chart `which` in `area`, all of it.
pub fn render(f: &mut Frame, which: Chart, area: Rect, app: &App, th: &Theme) {
    let (x0, x1) = app.view_range();
    let title = which.title(app, area, x0, x1, th);
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
    let y_max = which.y_max(app, x0, x1, None);
    let x_labels = x_labels(app, inner, x0, x1);
    let glyphs = th.chart_glyphs();
    let y_labels = y_labels(y_max);
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
    let all = 0..usize::from(graph.width);
    render_columns(f.buffer_mut(), which, app, th, graph, [x0, x1], y_max, all);
}

/// Draw chart `which`'s title rule (its top row) alone.
pub(crate) fn render_title(f: &mut Frame, which: Chart, area: Rect, app: &App, th: &Theme) {
    let (x0, x1) = app.view_range();
    super::title_rule(f, area, which.title(app, area, x0, x1, th), th);
}

/// Plot chart `which`'s lines and markers in the graph's columns `cols` (counted from its
/// left edge), for the window `x` and a y axis up to `y_max`, exactly as the whole chart
/// draws them there, from the points that can draw there only (`points_for_columns`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_columns(
    buf: &mut Buffer,
    which: Chart,
    app: &App,
    th: &Theme,
    graph: Rect,
    x: [f64; 2],
    y_max: f64,
    cols: std::ops::Range<usize>,
) {
    let series = series_for_columns(which, app, th, graph, x, cols.clone());
    let mut grid = vec![(0, 0); cols.len() * usize::from(graph.height)];
    let size = (usize::from(graph.width), usize::from(graph.height));
    plot(
        &mut grid,
        size,
        x,
        [0.0, y_max],
        &series,
        cols.clone(),
        None,
    );
    paint(buf, graph, &grid, &series, cols.clone());
    draw_markers(buf, graph, x[0], x[1], &app.events, th, cols.clone());
    draw_pressure_marks(buf, graph, x[0], x[1], &app.pressure_marks, th, cols);
}

/// What `render_columns` plots in columns `cols` before it draws: row-major, `cols.len()`
/// cells a row (`ui::damage` keeps it to compare with the next frame's).
pub(crate) fn plot_columns(
    which: Chart,
    app: &App,
    graph: Rect,
    x: [f64; 2],
    y_max: f64,
    cols: std::ops::Range<usize>,
) -> Vec<Plotted> {
    let th = Theme::of(app);
    let series = series_for_columns(which, app, &th, graph, x, cols.clone());
    let mut grid = vec![(0, 0); cols.len() * usize::from(graph.height)];
    let size = (usize::from(graph.width), usize::from(graph.height));
    plot(&mut grid, size, x, [0.0, y_max], &series, cols, None);
    grid
}

/// What `render_columns` plots in the graph's columns that `marked` sets (`graph.width` of
/// them), in one pass: from the points that can draw in each run of marked columns (runs
/// whose points overlap taken together; lines between separate runs would cross only
/// unmarked columns). Row-major, the whole width; unmarked columns are left (0, 0).
pub(crate) fn plot_marked(
    which: Chart,
    app: &App,
    graph: Rect,
    x: [f64; 2],
    y_max: f64,
    marked: &[bool],
) -> Vec<Plotted> {
    let (w, h) = (usize::from(graph.width), usize::from(graph.height));
    let window = app.history.window(x[0], x[1]);
    let mut runs = Vec::new();
    let mut c = 0;
    while c < w.min(marked.len()) {
        if marked[c] {
            let from = c;
            while c < w.min(marked.len()) && marked[c] {
                c += 1;
            }
            runs.push(from..c);
        } else {
            c += 1;
        }
    }
    let th = Theme::of(app);
    let series: Vec<Series> = which
        .series()
        .iter()
        .map(|d| {
            let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
            for r in &runs {
                let marker = d.look(&th).0;
                let p = points_for_columns(app, window.clone(), x, w, marker, r.clone());
                match ranges.last_mut() {
                    Some(last) if p.start <= last.end => last.end = last.end.max(p.end),
                    _ => ranges.push(p),
                }
            }
            let segments = ranges
                .into_iter()
                .flat_map(|r| app.history.series_in(r, x[0], x[1], w * 2, d.value))
                .collect();
            d.series(&th, segments)
        })
        .collect();
    let mut grid = vec![(0, 0); w * h];
    plot(
        &mut grid,
        (w, h),
        x,
        [0.0, y_max],
        &series,
        0..w,
        Some(marked),
    );
    grid
}

/// Draw `grid` (from `plot_columns`) and the markers in columns `cols` of chart `which`'s
/// graph: what `render_columns` draws there.
#[allow(clippy::too_many_arguments)]
pub(crate) fn paint_columns(
    buf: &mut Buffer,
    which: Chart,
    app: &App,
    th: &Theme,
    graph: Rect,
    x: [f64; 2],
    grid: &[Plotted],
    cols: std::ops::Range<usize>,
) {
    let series: Vec<Series> = which
        .series()
        .iter()
        .map(|d| d.series(th, Vec::new()))
        .collect();
    paint(buf, graph, grid, &series, cols.clone());
    draw_markers(buf, graph, x[0], x[1], &app.events, th, cols.clone());
    draw_pressure_marks(buf, graph, x[0], x[1], &app.pressure_marks, th, cols);
}

/// Chart `which`'s lines, decimated, from the points that can draw in columns `cols`.
fn series_for_columns(
    which: Chart,
    app: &App,
    th: &Theme,
    graph: Rect,
    x: [f64; 2],
    cols: std::ops::Range<usize>,
) -> Vec<Series> {
    let w = usize::from(graph.width);
    let window = app.history.window(x[0], x[1]);
    which
        .series()
        .iter()
        .map(|d| {
            let marker = d.look(th).0;
            let points = points_for_columns(app, window.clone(), x, w, marker, cols.clone());
            // Braille has two dots per cell across: that is the chart's real resolution.
            d.series(
                th,
                app.history.series_in(points, x[0], x[1], w * 2, d.value),
            )
        })
        .collect()
}

/// The points of `window` (`History::window` indices) that can draw in columns `cols` of a
/// graph `w` cells wide: the dots of a column come from the values the buckets around it
/// keep (each bucket's minimum and maximum) and from lines between consecutive kept values,
/// so whole buckets from the one holding the last point more than a bucket left of the
/// columns, to the one holding the first point more than a bucket right of them (a dot of
/// slack either side). What lies beyond draws its lines beyond the columns.
pub(crate) fn points_for_columns(
    app: &App,
    window: std::ops::Range<usize>,
    x: [f64; 2],
    w: usize,
    marker: Marker,
    cols: std::ops::Range<usize>,
) -> std::ops::Range<usize> {
    if cols.start == 0 && cols.end >= w {
        return window;
    }
    let points = app.history.points();
    let dw = marker.dots().0;
    let sx = DotScale::x(x, w * dw);
    let grid = Buckets::new(x[0], x[1], w * 2);
    let bucket_dots = (w * dw) as f64 / grid.count as f64;
    let left = (cols.start * dw) as f64 - 0.5 - bucket_dots - 1.0;
    let right = (cols.end * dw) as f64 - 0.5 + bucket_dots + 1.0;
    // Both predicates hold for a prefix of the history (times increase).
    let first_at = points
        .partition_point(|p| sx.exact(p.t) < left)
        .clamp(window.start, window.end);
    let start = match first_at.checked_sub(1).filter(|&i| i >= window.start) {
        Some(before) => {
            let b = grid.of(points[before].t);
            points
                .partition_point(|p| grid.of(p.t) < b || p.t < x[0])
                .clamp(window.start, before)
        }
        None => window.start,
    };
    let after = points
        .partition_point(|p| sx.exact(p.t) <= right)
        .clamp(window.start, window.end);
    let end = if after < window.end {
        let b = grid.of(points[after].t);
        points
            .partition_point(|p| grid.of(p.t) <= b && p.t <= x[1])
            .clamp(after + 1, window.end)
    } else {
        window.end
    };
    start..end
}

/// The events marked on a graph `width` cells wide spanning `[x0, x1]`, in drawing order
/// (failures last, so that they win a shared column): (index in `events`, column from the
/// graph's left edge).
pub(crate) fn markers(x0: f64, x1: f64, width: u16, events: &[Event]) -> Vec<(usize, u16)> {
    if width == 0 || x1 <= x0 {
        return Vec::new();
    }
    let mut visible: Vec<(usize, &Event)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.t >= x0 && e.t <= x1)
        .collect();
    visible.sort_by_key(|(_, e)| e.failed());
    visible
        .into_iter()
        .map(|(i, e)| {
            let frac = (e.t - x0) / (x1 - x0);
            (i, (frac * f64::from(width - 1)).round() as u16)
        })
        .collect()
}

/// Vertical markers at event times, over whatever the chart drew in empty cells, in the
/// graph's columns `cols`.
fn draw_markers(
    buf: &mut Buffer,
    graph: Rect,
    x0: f64,
    x1: f64,
    events: &[Event],
    th: &Theme,
    cols: std::ops::Range<usize>,
) {
    if graph.height == 0 {
        return;
    }
    let g = th.chart_glyphs();
    for (i, c) in markers(x0, x1, graph.width, events) {
        if !cols.contains(&usize::from(c)) {
            continue;
        }
        let (e, col) = (&events[i], graph.x + c);
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

/// `P` on the top row where memory pressure (PSI `some avg10`) rose during a load
/// (`App::on_pressure`), in the graph's columns `cols`: after the load markers, so that it
/// shows beside them. While one shows, `damage` draws the chart whole.
fn draw_pressure_marks(
    buf: &mut Buffer,
    graph: Rect,
    x0: f64,
    x1: f64,
    marks: &[(f64, f32)],
    th: &Theme,
    cols: std::ops::Range<usize>,
) {
    if graph.width == 0 || graph.height == 0 || x1 <= x0 {
        return;
    }
    for &(t, _) in marks.iter().filter(|(t, _)| *t >= x0 && *t <= x1) {
        let c = ((t - x0) / (x1 - x0) * f64::from(graph.width - 1)).round() as u16;
        if cols.contains(&usize::from(c)) {
            buf[(graph.x + c, graph.y)]
                .set_symbol(super::theme::sym::PRESSURE)
                .set_style(th.warn());
        }
    }
}

/// The memory chart's title: MemAvailable and MemFree at the right edge, MemTotal.
fn memory_title(app: &App, area: Rect, x1: f64, th: &Theme) -> Line<'static> {
    let now = app.history.sample_at(x1);
    let total = memory_total(app, now);
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
    Line::from(spans)
}

/// The vmalloc chart's title: VmallocUsed, VmallocTotal and the largest free gap.
fn vmalloc_title(app: &App, x0: f64, x1: f64, th: &Theme) -> Line<'static> {
    let now_point = vmalloc_now(app, x0, x1);
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
    Line::from(spans)
}

/// MemAvailable and MemFree, with MemTotal as the ceiling.
pub fn render_memory(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    render(f, Chart::Memory, area, app, th);
}

/// VmallocUsed, with VmallocTotal and the largest free gap in the title.
pub fn render_vmalloc(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    render(f, Chart::Vmalloc, area, app, th);
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

    /// `plot` and `paint` over a whole graph spanning 0-30 s and 0-1024 MiB.
    fn plot_and_paint(buf: &mut Buffer, graph: Rect, series: &[Series]) {
        let (w, h) = (usize::from(graph.width), usize::from(graph.height));
        let mut grid = vec![(0, 0); w * h];
        plot(
            &mut grid,
            (w, h),
            [0.0, 30.0],
            [0.0, 1024.0],
            series,
            0..w,
            None,
        );
        paint(buf, graph, &grid, series, 0..w);
    }

    /// `draw_axes`, `plot` and `paint` give exactly the buffer (symbols and styles) that
    /// ratatui's `Chart` gives with the same axes and the segments as datasets.
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
                        plot_and_paint(&mut ours, graph, &series);
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
        plot_and_paint(&mut big, graph, &series);
        let drawn = big
            .content
            .iter()
            .filter(|c| c.symbol() == "•" || c.symbol() > "⠀")
            .count();
        assert!(drawn > 50, "{drawn}");
    }

    /// `DotScale::dot` rounds as `f64::round` does, halves and all.
    #[test]
    fn dots_round_half_away_from_zero() {
        let s = DotScale::x([0.0, 30.0], 151);
        for i in 0..=300_000u32 {
            let v = f64::from(i) * 0.0001;
            assert_eq!(s.dot(v), Some(s.exact(v).round() as usize), "{v}");
        }
        // Exact halves: 0.5, 1.5 ... dots.
        let halves = DotScale::x([0.0, 100.0], 101);
        for i in 0..100 {
            let v = f64::from(i) + 0.5;
            assert_eq!(halves.dot(v), Some(i as usize + 1), "{v}");
        }
        assert_eq!(s.dot(-0.1), None);
        assert_eq!(s.dot(30.1), None);
    }

    #[test]
    fn relative_labels() {
        assert_eq!(rel(-30.0), "-30s");
        assert_eq!(rel(-600.0), "-10m");
        assert_eq!(rel(0.0), "0");
    }
}
