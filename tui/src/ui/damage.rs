//! Drawing only what changed. After a sample (or the passing of time, while an operation runs)
//! and nothing else, `after_samples` works out, without drawing, which parts of the screen
//! can now differ from what it shows, and the dashboard draws and compares only those
//! (`dashboard::draw_frame`); a sample that moves nothing visible draws nothing at all.
//! Anything else (a key, an event, a kernel log line, a resize) draws the whole screen, and
//! `after_full` remembers what it drew.
//!
//! What a sample can change, pane by pane (the other panes change with messages only):
//! - the header, while an operation runs (its spinner and timer): drawn again;
//! - the controls line: when the figures it prints differ (`controls::sample_key`);
//! - the buddyinfo pane: when the reading changed (`App::buddy_changed`);
//! - the areas pane: after a reading, or when its kernel-memory line reads differently
//!   (`App::areas_changed`);
//! - each chart's title: when the figures it prints differ (`Chart::title_key`);
//! - each chart's plot: the columns that can differ, found from the lines' shape at the
//!   chart's pixel scale (below). A change of scale (the y axis's top) or of the x labels
//!   draws the chart whole.
//!
//! # Which columns of a chart can change
//!
//! A chart keeps, for each line, its *runs*: consecutive samples that fall on the same dot row
//! at the chart's scale (or that are all gaps, or all off the chart). A new sample extends the
//! last run or starts one. Where one run covers everything that decides a column, the column
//! shows a horizontal line on that row, whatever the bucketing of the window does: the column
//! takes its dots from the values kept by the buckets around it (each bucket keeps its
//! minimum and maximum) and from lines between consecutive kept values, and all of those lie
//! within two buckets and one sample spacing of the column; a margin that wide (and a dot of
//! slack) inside a run keeps the column's content known. At the window's ends the line stops
//! at the first or last kept value, found from the end buckets' few samples. So each column
//! gets a state per line — the dots it shows, or unknown — and a marker list; a column whose
//! states are known and the same as in the frame on the screen is not drawn. The others are
//! drawn again from the points that can draw there (`charts::render_columns`) and compared
//! with the screen. On an idle machine the lines are flat at the chart's scale: nothing is
//! drawn. A step in a line moves left with the window, and the columns around it are drawn
//! with each sample.

use std::collections::VecDeque;

use ratatui::layout::Rect;
use ratatui::Frame;

use super::charts::{self, Chart, DotScale, TitleKey};
use super::theme::Theme;
use super::{areas, buddy, controls, header, layout, Areas};
use crate::app::history::Buckets;
use crate::app::{App, Mode};

/// What the frame on the screen was drawn from, as far as samples can change it.
#[derive(Debug, Default)]
pub struct Drawn {
    /// The screen's area and its layout at the last whole frame; None before the first.
    frame: Option<(Rect, Areas)>,
    /// The buddyinfo pane's height then (0: closed).
    buddy_h: u16,
    /// The areas pane's height then (0: closed).
    areas_h: u16,
    controls: controls::SampleKey,
    memory: ChartMemo,
    vmalloc: ChartMemo,
}

/// A part of the screen to draw again, and how.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// Where: nothing outside it is drawn.
    pub rect: Rect,
    how: How,
}

#[derive(Debug, Clone, Copy)]
enum How {
    /// A pane, whole.
    Pane(fn(&mut Frame, Rect, &crate::app::App, &Theme)),
    /// A chart, whole.
    Chart(Chart),
    /// A chart's title rule.
    Title(Chart),
    /// Columns of a chart's plot (`rect` is within its graph).
    Columns(Chart),
}

impl Part {
    /// Whether `draw_cells` draws it, cell by cell on what the screen shows, rather than
    /// `draw_part` through a frame.
    pub fn by_cells(&self) -> bool {
        matches!(self.how, How::Columns(_))
    }
}

impl Drawn {
    fn chart_mut(&mut self, which: Chart) -> &mut ChartMemo {
        match which {
            Chart::Memory => &mut self.memory,
            Chart::Vmalloc => &mut self.vmalloc,
        }
    }

    fn chart(&self, which: Chart) -> &ChartMemo {
        match which {
            Chart::Memory => &self.memory,
            Chart::Vmalloc => &self.vmalloc,
        }
    }
}

/// After a whole frame of `area` drawn from `app`: remember what it shows.
pub fn after_full(app: &App, area: Rect, drawn: &mut Drawn) {
    let areas = layout(app, area);
    if !areas.charts_fit() {
        // The screen says how large it must be: drawn whole every time (it is one line).
        drawn.frame = None;
        return;
    }
    drawn.buddy_h = if app.buddy_pane {
        buddy::height(app)
    } else {
        0
    };
    drawn.areas_h = areas_height(app, area);
    drawn.controls = controls::sample_key(app);
    drawn.memory.redrawn(Chart::Memory, app, areas.memory);
    drawn.vmalloc.redrawn(Chart::Vmalloc, app, areas.vmalloc);
    drawn.frame = Some((area, areas));
}

/// After samples only (and time): the parts of the screen `area` that can differ from the
/// frame on it, which `drawn` describes (and now describes the new one, once they are drawn);
/// None when the whole screen must be drawn: nothing drawn yet, another size, a screen too
/// small for the charts, an overlay open (the help, a confirmation, the whole diagnosis: they
/// cover the charts), or the layout moved.
pub fn after_samples(app: &App, area: Rect, drawn: &mut Drawn) -> Option<Vec<Part>> {
    let (shown, a) = drawn.frame?;
    if shown != area || matches!(app.mode(), Mode::Help | Mode::Confirm | Mode::Why) {
        return None;
    }
    // A lesson's wait or pause counts down in its pane (its text, and its height, may move).
    if app.lesson.as_ref().is_some_and(|l| l.timer.is_some()) {
        return None;
    }
    // The only part of the layout that samples move: the buddyinfo pane's rows (a zone).
    if app.buddy_pane && buddy::height(app) != drawn.buddy_h {
        return None;
    }
    // ...and the areas pane's (a map row appears once VmallocTotal is known).
    if areas_height(app, area) != drawn.areas_h {
        return None;
    }
    let mut parts = Vec::new();
    let pane = |rect: Rect, draw| Part {
        rect,
        how: How::Pane(draw),
    };
    if app.busy.is_some() && !a.header.is_empty() {
        parts.push(pane(a.header, header::render));
    }
    let controls = controls::sample_key(app);
    if controls != drawn.controls && !a.controls.is_empty() {
        drawn.controls = controls;
        parts.push(pane(a.controls, controls::render));
    }
    if app.buddy_pane && app.buddy_changed && !a.buddy.is_empty() {
        parts.push(pane(a.buddy, buddy::render));
    }
    if app.areas_pane && app.areas_changed && !a.areas.is_empty() {
        parts.push(pane(a.areas, areas::render_pane));
    }
    drawn
        .memory
        .damage(Chart::Memory, app, a.memory, &mut parts);
    drawn
        .vmalloc
        .damage(Chart::Vmalloc, app, a.vmalloc, &mut parts);
    Some(parts)
}

/// The areas pane's height on a screen `area` large (0: closed).
fn areas_height(app: &App, area: Rect) -> u16 {
    if app.areas_pane {
        areas::height(&app.areas, area.width >= 120 && area.height >= 30)
    } else {
        0
    }
}

/// Draw `part` (its rect is blank) for `app`, which `drawn` describes: a part that is not
/// `by_cells`.
pub fn draw_part(f: &mut Frame, app: &App, drawn: &Drawn, part: &Part) {
    let th = Theme::of(app);
    match part.how {
        How::Pane(draw) => draw(f, part.rect, app, &th),
        How::Chart(which) => charts::render(f, which, part.rect, app, &th),
        How::Title(which) => charts::render_title(f, which, drawn.chart(which).area, app, &th),
        How::Columns(which) => {
            let m = drawn.chart(which);
            if let Some(graph) = m.graph {
                let from = usize::from(part.rect.x - graph.x);
                let cols = from..from + usize::from(part.rect.width);
                charts::render_columns(f.buffer_mut(), which, app, &th, graph, m.x, m.y_max, cols);
            }
        }
    }
}

/// Draw a `by_cells` part on `shown`, what the screen shows, and push the cells that changed
/// onto `changed`: the columns of a chart whose plotted cells (`charts::plot_columns`,
/// compared with the last frame's before anything is drawn) or markers differ.
pub fn draw_cells(
    shown: &mut ratatui::buffer::Buffer,
    app: &App,
    drawn: &mut Drawn,
    part: &Part,
    changed: &mut Vec<(u16, u16)>,
) {
    let How::Columns(which) = part.how else {
        return;
    };
    let th = Theme::of(app);
    let m = drawn.chart_mut(which);
    let Some(graph) = m.graph else {
        return;
    };
    let (w, h) = (usize::from(graph.width), usize::from(graph.height));
    let grid = charts::plot_marked(which, app, graph, m.x, m.y_max, &m.dirty);
    let mut c = 0;
    while c < w {
        let same = |c: usize| {
            !m.dirty.get(c).copied().unwrap_or(false)
                || (!m.remarked.contains(&(c as u16))
                    && (0..h).all(|y| grid[y * w + c] == m.grid[y * w + c]))
        };
        if same(c) {
            c += 1;
            continue;
        }
        let run = c;
        while c < w && !same(c) {
            c += 1;
        }
        // Columns `run..c` changed: draw them as a whole chart would, and keep what differs.
        let rect = Rect {
            x: graph.x + run as u16,
            width: (c - run) as u16,
            ..graph
        };
        let mut sub = Vec::with_capacity((c - run) * h);
        for y in 0..h {
            let new = &grid[y * w + run..y * w + c];
            sub.extend_from_slice(new);
            m.grid[y * w + run..y * w + c].copy_from_slice(new);
        }
        let mut cells = ratatui::buffer::Buffer::empty(rect);
        charts::paint_columns(&mut cells, which, app, &th, graph, m.x, &sub, run..c);
        for pos in rect.positions() {
            if shown[pos] != cells[pos] {
                shown[pos] = cells[pos].clone();
                changed.push((pos.x, pos.y));
            }
        }
    }
}

/// What a line shows in one column of a graph, where that is known without drawing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shows {
    Unknown,
    /// The dots of `mask` in the column's cell `row` (from the top) and of `below` in the
    /// cell under it (a thick line's second row), nothing else; nothing at all when both are 0.
    Dots {
        row: u16,
        mask: u8,
        below: u8,
    },
}

const NOTHING: Shows = Shows::Dots {
    row: 0,
    mask: 0,
    below: 0,
};

/// A column: what each line shows in it (two lines at most).
type Column = [Shows; 2];

/// One chart as the screen shows it.
#[derive(Debug, Default)]
struct ChartMemo {
    area: Rect,
    /// The window `[x0, x1]` drawn.
    x: [f64; 2],
    /// The top of the y axis, MiB.
    y_max: f64,
    /// The x labels, when they move with time (the "all" window); else None.
    x_labels: Option<[String; 2]>,
    title: TitleKey,
    /// Where it plots; None when the area is too small for a chart.
    graph: Option<Rect>,
    /// Per line.
    runs: [Runs; 2],
    /// VmallocUsed's largest value in the window (the vmalloc chart's scale).
    used: SlidingMax,
    /// Per graph column.
    columns: Vec<Column>,
    /// The event markers drawn: (index in `App::events`, column), in drawing order.
    markers: Vec<(usize, u16)>,
    /// What the plot left in each cell of the graph (`charts::plot_columns`), row-major.
    grid: Vec<charts::Plotted>,
    /// Columns whose markers changed with the last sample.
    remarked: Vec<u16>,
    /// Columns that can have changed with the last sample (`Part` of `How::Columns`).
    dirty: Vec<bool>,
}

impl ChartMemo {
    /// The chart was drawn whole in `area`: remember it.
    fn redrawn(&mut self, which: Chart, app: &App, area: Rect) {
        let (x0, x1) = app.view_range();
        self.area = area;
        self.x = [x0, x1];
        if which == Chart::Vmalloc {
            self.used.rebuild_if_behind(app, x0);
        }
        self.y_max = which.y_max(app, x0, x1, self.used_max(which, app, x1));
        self.x_labels = moving_x_labels(app, x0, x1);
        self.title = which.title_key(app, x0, x1);
        self.graph = which.graph(app, area, x0, x1, self.y_max);
        let Some(graph) = self.graph else {
            self.columns.clear();
            self.markers.clear();
            self.grid.clear();
            return;
        };
        let th = Theme::of(app);
        for (i, def) in which.series().iter().enumerate() {
            let dh = def.look(&th).0.dots().1;
            let scale = DotScale::y([0.0, self.y_max], usize::from(graph.height) * dh);
            self.runs[i].follow(app, def.value, scale, x0);
        }
        self.columns = columns(which, app, &th, graph, self.x, self.y_max, &self.runs);
        self.markers = charts::markers(x0, x1, graph.width, &app.events);
        let all = 0..usize::from(graph.width);
        self.grid = charts::plot_columns(which, app, graph, self.x, self.y_max, all);
        self.remarked.clear();
    }

    /// VmallocUsed's largest value in `[.., x1]` where this memo keeps it (see `SlidingMax`).
    fn used_max(&mut self, which: Chart, app: &App, x1: f64) -> Option<Option<f64>> {
        if which != Chart::Vmalloc {
            return None;
        }
        self.used.fold(app);
        self.used.max_up_to(x1)
    }

    /// After samples: push the parts of the chart in `area` that can have changed.
    fn damage(&mut self, which: Chart, app: &App, area: Rect, parts: &mut Vec<Part>) {
        let (x0, x1) = app.view_range();
        if which == Chart::Vmalloc {
            self.used.prune(app, x0);
        }
        let y_max = which.y_max(app, x0, x1, self.used_max(which, app, x1));
        // A memory-pressure mark (`P`, rare: PSI rose during a load) moves with the window:
        // the chart is drawn whole while one shows.
        let pressure = app.pressure_marks.iter().any(|(t, _)| *t >= x0 && *t <= x1);
        if pressure
            || y_max.to_bits() != self.y_max.to_bits()
            || moving_x_labels(app, x0, x1) != self.x_labels
        {
            // Another scale: everything moves.
            self.redrawn(which, app, area);
            parts.push(Part {
                rect: area,
                how: How::Chart(which),
            });
            return;
        }
        let title = which.title_key(app, x0, x1);
        if title != self.title && area.height > 0 {
            self.title = title;
            parts.push(Part {
                rect: Rect { height: 1, ..area },
                how: How::Title(which),
            });
        }
        self.x = [x0, x1];
        let Some(graph) = self.graph else {
            return;
        };
        let th = Theme::of(app);
        for (i, def) in which.series().iter().enumerate() {
            let dh = def.look(&th).0.dots().1;
            let scale = DotScale::y([0.0, y_max], usize::from(graph.height) * dh);
            self.runs[i].follow(app, def.value, scale, x0);
        }
        let columns = columns(which, app, &th, graph, self.x, y_max, &self.runs);
        let markers = charts::markers(x0, x1, graph.width, &app.events);
        let marked_the_same = |c: u16| marks_at(&self.markers, c).eq(marks_at(&markers, c));
        let mut dirty = vec![false; columns.len()];
        for (c, (new, old)) in columns.iter().zip(&self.columns).enumerate() {
            dirty[c] = new != old || new.contains(&Shows::Unknown);
        }
        self.remarked.clear();
        for &(_, c) in self.markers.iter().chain(&markers) {
            if usize::from(c) < dirty.len() && !marked_the_same(c) {
                dirty[usize::from(c)] = true;
                self.remarked.push(c);
            }
        }
        if let (Some(first), Some(last)) = (
            dirty.iter().position(|&d| d),
            dirty.iter().rposition(|&d| d),
        ) {
            parts.push(Part {
                rect: Rect {
                    x: graph.x + first as u16,
                    width: (last + 1 - first) as u16,
                    ..graph
                },
                how: How::Columns(which),
            });
        }
        self.dirty = dirty;
        self.columns = columns;
        self.markers = markers;
    }
}

/// The events marked in column `c` of `markers`, in drawing order.
fn marks_at(markers: &[(usize, u16)], c: u16) -> impl Iterator<Item = usize> + '_ {
    markers
        .iter()
        .filter(move |&&(_, mc)| mc == c)
        .map(|&(i, _)| i)
}

/// The x labels when they change with time (the "all" window, whose left edge is the
/// oldest sample); None otherwise (the labels follow from the window).
fn moving_x_labels(app: &App, x0: f64, x1: f64) -> Option<[String; 2]> {
    app.window
        .seconds()
        .is_none()
        .then(|| [charts::rel(x0 - x1), charts::rel((x0 - x1) / 2.0)])
}

/// Which dot row a value falls on at a chart's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Dot(usize),
    /// No value (a failed read, or a figure the kernel does not give).
    Gap,
    /// Off the chart (above or below its y axis): lines are clipped there, not known.
    Off,
}

/// Consecutive points of a line on one row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    /// Times of its first and last points.
    t0: f64,
    t1: f64,
    row: Row,
    /// The longest time between two consecutive points in it.
    spacing: f64,
}

/// A line's runs over the history from `from` on, at one scale.
#[derive(Debug, Default)]
struct Runs {
    runs: VecDeque<Run>,
    /// The scale they were found at; None: none found yet.
    scale: Option<DotScale>,
    /// They hold every point since this time.
    from: f64,
    /// `History::pushed` when the last point was added.
    seen: u64,
}

impl Runs {
    /// Bring the runs up to the history's newest point at `scale`, for a window from `x0`:
    /// found afresh at another scale or for an earlier window, else extended with the new
    /// points and rid of those wholly before `x0`.
    fn follow(
        &mut self,
        app: &App,
        value: fn(&crate::system::meminfo::Point) -> Option<f64>,
        scale: DotScale,
        x0: f64,
    ) {
        let h = &app.history;
        let new = h.pushed().saturating_sub(self.seen);
        let len = h.points().len() as u64;
        if self.scale != Some(scale) || x0 < self.from || new > len {
            self.runs.clear();
            self.scale = Some(scale);
            self.from = x0;
            let start = h.window(x0, f64::INFINITY).start;
            self.add(h.points().range(start..), value, scale);
        } else {
            let start = (len - new) as usize;
            self.add(h.points().range(start..), value, scale);
        }
        self.seen = h.pushed();
        while self.runs.front().is_some_and(|r| r.t1 < x0) {
            self.runs.pop_front();
        }
        self.from = self.from.max(x0);
    }

    fn add<'a>(
        &mut self,
        points: impl Iterator<Item = &'a crate::system::meminfo::Point>,
        value: fn(&crate::system::meminfo::Point) -> Option<f64>,
        scale: DotScale,
    ) {
        for p in points {
            let row = match value(p) {
                None => Row::Gap,
                Some(v) => scale.dot(v).map_or(Row::Off, Row::Dot),
            };
            match self.runs.back_mut() {
                Some(r) if r.row == row && row != Row::Off => {
                    r.spacing = r.spacing.max(p.t - r.t1);
                    r.t1 = p.t;
                }
                Some(r) if p.t <= r.t1 => {
                    // Two points at one time on different rows: neither run is known.
                    r.row = Row::Off;
                    self.runs.push_back(Run {
                        t0: p.t,
                        t1: p.t,
                        row: Row::Off,
                        spacing: 0.0,
                    });
                }
                _ => self.runs.push_back(Run {
                    t0: p.t,
                    t1: p.t,
                    row,
                    spacing: 0.0,
                }),
            }
        }
    }
}

/// What each column of `graph` shows of each of `which`'s lines for the window `x`, where the
/// runs tell (see the module's documentation).
fn columns(
    which: Chart,
    app: &App,
    th: &Theme,
    graph: Rect,
    x: [f64; 2],
    y_max: f64,
    runs: &[Runs; 2],
) -> Vec<Column> {
    let w = usize::from(graph.width);
    let mut out = vec![[NOTHING; 2]; w];
    if y_max.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || graph.height == 0 {
        // `plot` draws nothing.
        return out;
    }
    let window = app.history.window(x[0], x[1]);
    let (Some(first), Some(last)) = (
        app.history.point(window.start),
        window.end.checked_sub(1).and_then(|i| app.history.point(i)),
    ) else {
        // Nothing in the window: no lines (the markers are compared apart).
        return out;
    };
    if x[1] <= x[0] || window.is_empty() {
        return out;
    }
    let (t_first, t_last) = (first.t, last.t);
    let grid = Buckets::new(x[0], x[1], w * 2);
    for (i, def) in which.series().iter().enumerate() {
        for col in out.iter_mut() {
            col[i] = Shows::Unknown;
        }
        let (marker, thick) = def.look(th);
        let (dw, dh) = marker.dots();
        let rows = usize::from(graph.height) * dh;
        let sx = DotScale::x(x, w * dw);
        let bucket = (w * dw) as f64 / grid.count as f64;
        let per_second = (w * dw) as f64 / (x[1] - x[0]);
        for run in runs[i]
            .runs
            .iter()
            .filter(|r| r.t1 >= t_first && r.t0 <= t_last)
        {
            let margin = 2.0 * bucket + run.spacing * per_second + 1.0;
            let ends = |at_start: bool| -> Option<usize> {
                let Row::Dot(_) = run.row else {
                    // A gap draws nothing up to the window's edge.
                    return Some(if at_start { 0 } else { w * dw - 1 });
                };
                end_dot(app, &window, grid, sx, def.value, run, at_start)
            };
            let d0 = (run.t0 <= t_first).then(|| ends(true)).flatten();
            let d1 = (run.t1 >= t_last).then(|| ends(false)).flatten();
            let lo = match d0 {
                Some(_) => f64::NEG_INFINITY,
                None => sx.exact(run.t0.max(t_first)) + margin,
            };
            let hi = match d1 {
                Some(_) => f64::INFINITY,
                None => sx.exact(run.t1.min(t_last)) - margin,
            };
            // Columns whose dots, half a dot either side, lie within [lo, hi].
            let c_lo = ((lo + 0.5) / dw as f64).ceil().max(0.0);
            let c_hi = ((hi + 0.5) / dw as f64).floor().min(w as f64);
            if c_hi <= c_lo {
                continue;
            }
            let (c_lo, c_hi) = (c_lo as usize, c_hi as usize);
            match run.row {
                Row::Off => {}
                Row::Gap => out[c_lo..c_hi].iter_mut().for_each(|col| col[i] = NOTHING),
                Row::Dot(y) => {
                    let (first, last) = (d0.unwrap_or(0), d1.unwrap_or(usize::MAX));
                    // A thick line draws the dot below each of its dots too, maybe in the cell
                    // under.
                    let y2 = (thick && y + 1 < rows).then_some(y + 1);
                    let shows = |dots: std::ops::RangeInclusive<usize>| {
                        let (mut mask, mut below) = (0u8, 0u8);
                        for d in dots {
                            mask |= 1 << ((d % dw) + dw * (y % dh));
                            match y2 {
                                Some(y2) if y2 / dh == y / dh => {
                                    mask |= 1 << ((d % dw) + dw * (y2 % dh));
                                }
                                Some(y2) => below |= 1 << ((d % dw) + dw * (y2 % dh)),
                                None => {}
                            }
                        }
                        if mask == 0 && below == 0 {
                            NOTHING
                        } else {
                            Shows::Dots {
                                row: (y / dh) as u16,
                                mask,
                                below,
                            }
                        }
                    };
                    // Every dot of a column, but where the line starts or ends.
                    let full = shows(0..=dw - 1);
                    for (c, col) in out[c_lo..c_hi].iter_mut().enumerate() {
                        let (a, b) = ((c_lo + c) * dw, (c_lo + c) * dw + dw - 1);
                        col[i] = if a >= first && b <= last {
                            full
                        } else {
                            shows(first.max(a)..=last.min(b))
                        };
                    }
                }
            }
        }
    }
    out
}

/// Where line `value` starts (`at_start`) or ends in the window: the first or last dot of
/// the values its first or last bucket keeps (`History::series`: the minimum and the maximum,
/// the earlier of equal ones). None when that bucket holds points outside `run`.
fn end_dot(
    app: &App,
    window: &std::ops::Range<usize>,
    grid: Buckets,
    sx: DotScale,
    value: fn(&crate::system::meminfo::Point) -> Option<f64>,
    run: &Run,
    at_start: bool,
) -> Option<usize> {
    let points = app.history.points();
    let edge = if at_start {
        window.start
    } else {
        window.end - 1
    };
    let b = grid.of(points.get(edge)?.t);
    let start = if at_start {
        edge
    } else {
        points
            .partition_point(|p| grid.of(p.t) < b || p.t < points[window.start].t)
            .clamp(window.start, edge)
    };
    // (time, value) of the smallest and the largest value.
    let (mut min, mut max) = (None::<(f64, f64)>, None::<(f64, f64)>);
    for p in points.range(start..window.end) {
        if grid.of(p.t) != b {
            break;
        }
        if p.t < run.t0 || p.t > run.t1 {
            return None;
        }
        let v = value(p)?;
        if min.is_none_or(|(_, m)| v < m) {
            min = Some((p.t, v));
        }
        if max.is_none_or(|(_, m)| v > m) {
            max = Some((p.t, v));
        }
    }
    let (a, b) = (sx.dot(min?.0)?, sx.dot(max?.0)?);
    Some(if at_start { a.min(b) } else { a.max(b) })
}

/// The largest value of VmallocUsed from a window's left edge to the newest point, kept as
/// samples come (a deque of decreasing values): the vmalloc chart's scale, without a pass
/// over the window per sample.
#[derive(Debug, Default)]
struct SlidingMax {
    /// (time, MiB), values decreasing.
    deque: VecDeque<(f64, f64)>,
    /// It holds every point since this time...
    from: f64,
    /// ... up to this one (`History::pushed` then).
    seen: u64,
    /// Time of the newest point folded in.
    newest: f64,
    valid: bool,
}

impl SlidingMax {
    /// Start again from the history's points since `x0` when they are not all held.
    fn rebuild_if_behind(&mut self, app: &App, x0: f64) {
        let h = &app.history;
        let new = h.pushed().saturating_sub(self.seen);
        if !self.valid || x0 < self.from || new > h.points().len() as u64 {
            self.deque.clear();
            self.from = x0;
            self.seen = h.pushed() - (h.points().len() - h.window(x0, f64::INFINITY).start) as u64;
            self.valid = true;
        }
        self.fold(app);
        self.prune(app, x0);
    }

    /// Add the points pushed since the last call.
    fn fold(&mut self, app: &App) {
        let h = &app.history;
        let new = h.pushed().saturating_sub(self.seen);
        let len = h.points().len() as u64;
        if !self.valid || new > len {
            self.valid = false;
            return;
        }
        for p in h.points().range((len - new) as usize..) {
            self.newest = p.t;
            if let Some(v) = charts::used_mib(p) {
                while self.deque.back().is_some_and(|&(_, b)| b <= v) {
                    self.deque.pop_back();
                }
                self.deque.push_back((p.t, v));
            }
        }
        self.seen = h.pushed();
    }

    /// Forget the points before `x0` (windows only move right between whole frames), and
    /// those the history no longer holds (a retention shorter than the window).
    fn prune(&mut self, app: &App, x0: f64) {
        if x0 < self.from {
            self.valid = false;
            return;
        }
        self.from = x0;
        let oldest = app.history.first_t().unwrap_or(x0).max(x0);
        while self.deque.front().is_some_and(|&(t, _)| t < oldest) {
            self.deque.pop_front();
        }
    }

    /// The largest value in `[from, x1]`: Some(None) when there is none, None when this
    /// cannot tell (not kept, or `x1` before the newest point: the charts are frozen).
    fn max_up_to(&self, x1: f64) -> Option<Option<f64>> {
        (self.valid && x1 >= self.newest).then(|| self.deque.front().map(|&(_, v)| v))
    }
}
