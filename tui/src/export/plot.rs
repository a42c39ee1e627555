//! A recording as a chart for a slide, drawn with plotters: MemTotal, MemFree and
//! MemAvailable above, VmallocUsed below, every load (▲), unload (▼) and failure (✗) marked
//! across both with a label in words, binary units on the axes, and a title naming the
//! kernel and the machine. SVG keeps its text as text; PNG is drawn with the bundled fonts.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::palette::{Palette, Rgb};
use crate::cli::{Series, ThemeName};
use crate::engine::{Event, EventKind};
use crate::record::Recording;
use crate::units::MIB;

/// What to draw, and how big.
#[derive(Debug, Clone)]
pub struct PlotOptions {
    pub size: (u32, u32),
    pub series: Vec<Series>,
    pub title: Option<String>,
    pub theme: ThemeName,
    /// Draw the title and its line (a page that has its own title leaves them out).
    pub titled: bool,
}

/// The chart as SVG.
pub fn svg(rec: &Recording, o: &PlotOptions) -> anyhow::Result<String> {
    check(rec)?;
    super::font::register_for_plotters();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, o.size).into_drawing_area();
        draw(&root, rec, o).map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
    }
    Ok(out)
}

/// The chart as PNG.
pub fn png(rec: &Recording, o: &PlotOptions) -> anyhow::Result<Vec<u8>> {
    check(rec)?;
    super::font::register_for_plotters();
    let (w, h) = o.size;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, o.size).into_drawing_area();
        draw(&root, rec, o).map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
    }
    super::raster::Canvas {
        width: w,
        height: h,
        rgb,
    }
    .png()
}

fn check(rec: &Recording) -> anyhow::Result<()> {
    if rec.points.iter().all(|p| p.sample.is_none()) {
        return Err(crate::refused::Refused(
            "the recording has no samples to plot: record for longer (vmtop record --duration 30s)"
                .into(),
        )
        .into());
    }
    Ok(())
}

fn color(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// The chart's colours: its theme's palette (a plot is for a slide or paper: light unless
/// asked).
struct Colours {
    bg: RGBColor,
    fg: RGBColor,
    grid: RGBColor,
    total: RGBColor,
    free: RGBColor,
    available: RGBColor,
    vmalloc: RGBColor,
    load: RGBColor,
    unload: RGBColor,
    fail: RGBColor,
}

impl Colours {
    fn of(theme: ThemeName) -> Colours {
        let p = Palette::of(theme);
        Colours {
            bg: color(p.bg),
            fg: color(p.fg),
            grid: color(p.bg.mix(p.fg, 0.12)),
            total: color(p.bg.mix(p.fg, 0.55)),
            free: color(p.ansi[6]),
            available: color(p.ansi[2]),
            vmalloc: color(p.ansi[5]),
            load: color(p.ansi[2]),
            unload: color(p.ansi[4]),
            fail: color(p.ansi[1]),
        }
    }
}

/// An axis with the ticks vmtop chooses (binary sizes, round times): plotters' own are
/// decimal.
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl plotters::coord::ranged1d::Ranged for Axis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = (value - self.lo) / (self.hi - self.lo);
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Nice axis steps.
fn step_for(span: f64, steps: &[f64], most: f64) -> f64 {
    steps
        .iter()
        .copied()
        .find(|s| span / s <= most)
        .unwrap_or_else(|| steps.last().copied().unwrap_or(1.0))
}

/// Ticks from 0 by `step` up to `max`.
fn ticks(max: f64, step: f64) -> Vec<f64> {
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= max + step * 1e-9)
        .collect()
}

/// MiB as a binary size for an axis: `512 MiB`, `1 GiB`, `1.5 GiB`.
fn fmt_axis_mib(mib: f64) -> String {
    if mib >= 1024.0 {
        let g = mib / 1024.0;
        if (g - g.round()).abs() < 1e-6 {
            format!("{g:.0} GiB")
        } else {
            format!("{g:.1} GiB")
        }
    } else if mib >= 1.0 || mib == 0.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{:.0} KiB", mib * 1024.0)
    }
}

/// Seconds as `m:ss`.
fn fmt_axis_time(t: f64) -> String {
    let t = t.max(0.0).round() as u64;
    if t >= 3600 {
        format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
    } else {
        format!("{}:{:02}", t / 60, t % 60)
    }
}

/// The binary step of a size axis up to `max` MiB: 4 to 8 ticks.
fn size_step(max: f64) -> f64 {
    let steps: Vec<f64> = (-4..=20).map(|e| 2f64.powi(e)).collect();
    step_for(max, &steps, 7.0)
}

/// A size axis's top: `max` rounded up to its step.
fn size_top(max: f64) -> (f64, f64) {
    let step = size_step(max.max(1.0));
    let top = ((max / step).ceil() * step).max(step);
    (top, step)
}

/// The label of an event on the chart.
pub fn event_label(e: &Event) -> (char, String) {
    let alloc = e
        .alloc
        .filter(|a| *a != crate::module::alloc::Allocator::Vmalloc)
        .map(|a| format!(" {}", a.name()))
        .unwrap_or_default();
    match (e.kind, e.diagnosis()) {
        (_, Some(d)) => (
            '✗',
            format!("{} MiB{alloc}: {}", e.memsize_mib, d.cause.words()),
        ),
        (EventKind::Load, None) => ('▲', format!("{} MiB{alloc}", e.memsize_mib)),
        (EventKind::Unload, None) => ('▼', "unload".to_string()),
        (EventKind::Adopt, None) => ('◆', format!("{} MiB already loaded", e.memsize_mib)),
    }
}

/// The chart's title and its line below.
pub fn titles(rec: &Recording, title: Option<&str>) -> (String, String) {
    let m = rec.header.machine.as_ref();
    let main = match (title, m) {
        (Some(t), _) => t.to_string(),
        (None, Some(m)) => format!("vmtop on Linux {} ({})", m.kernel, m.arch),
        (None, None) => "vmtop recording".to_string(),
    };
    let mut sub = Vec::new();
    if let (Some(_), Some(m)) = (title, m) {
        sub.push(format!("Linux {} ({})", m.kernel, m.arch));
    }
    if let Some(h) = m.and_then(|m| m.hostname.as_deref()) {
        sub.push(h.to_string());
    }
    if let Some(total) = rec
        .points
        .iter()
        .find_map(|p| p.sample.map(|s| s.mem_total))
    {
        sub.push(format!("MemTotal {}", crate::units::fmt_bytes(total)));
    }
    let start = rec
        .header
        .started_unix_ms
        .or_else(|| rec.points.first().map(|p| p.unix_ms));
    if let Some(ms) = start.filter(|&ms| ms > 0) {
        sub.push(crate::units::fmt_utc_minute(ms));
    }
    let loads = rec
        .events
        .iter()
        .filter(|e| e.event.kind == EventKind::Load)
        .count();
    let failed = rec.events.iter().filter(|e| e.event.failed()).count();
    sub.push(format!(
        "{loads} load{}, {failed} failed",
        if loads == 1 { "" } else { "s" }
    ));
    (main, sub.join(" · "))
}

/// A series to draw: its name, colour, whether dashed, its runs of points (split at gaps).
type SeriesLine<'a> = (&'a str, RGBColor, bool, Vec<Vec<(f64, f64)>>);

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Rows for event labels at pixel `xs` (sorted): each label goes on the first of three
/// rows where it does not run into the one before, its words right of the marker, or left of
/// it where they would pass `right_edge`; with no room, the marker alone goes on the row that
/// ends first. Returns (event, row, words shown, words on the left).
fn layout_labels(
    xs: &[(i32, usize)],
    words: impl Fn(usize) -> String,
    text_w: &dyn Fn(&str) -> i32,
    marker: i32,
    gap: i32,
    right_edge: i32,
) -> Vec<(usize, usize, String, bool)> {
    let mut row_end = [i32::MIN; 3];
    let mut out = Vec::new();
    for &(x, i) in xs {
        let w = words(i);
        let need = marker + text_w(&w);
        let left = x + need > right_edge;
        let (start, end) = if left {
            (x - need, x + marker / 2)
        } else {
            (x - marker / 2, x + need)
        };
        match (0..3).find(|&r| row_end[r].saturating_add(gap) <= start) {
            Some(r) => {
                row_end[r] = end;
                out.push((i, r, w, left));
            }
            None => {
                let r = (0..3).min_by_key(|&r| row_end[r]).unwrap_or(0);
                row_end[r] = row_end[r].max(x + marker);
                out.push((i, r, String::new(), false));
            }
        }
    }
    out
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rec: &Recording,
    o: &PlotOptions,
) -> DrawResult<DB> {
    let c = Colours::of(o.theme);
    let (w, h) = o.size;
    // Sizes scale with the picture; 1600x900 is the reference.
    let k = (f64::from(h) / 900.0).min(f64::from(w) / 1600.0).max(0.4);
    let px = |v: f64| (v * k).round().max(1.0) as i32;
    let font = |size: f64| ("sans-serif", size * k).into_font().color(&c.fg);
    let bold = |size: f64| {
        ("sans-serif", size * k, FontStyle::Bold)
            .into_font()
            .color(&c.fg)
    };
    root.fill(&c.bg)?;

    let (title, sub) = titles(rec, o.title.as_deref());
    let top = if o.titled {
        root.draw(&Text::new(title, (px(40.0), px(24.0)), bold(34.0)))?;
        root.draw(&Text::new(
            sub,
            (px(40.0), px(70.0)),
            ("sans-serif", 19.0 * k).into_font().color(&c.total),
        ))?;
        px(110.0)
    } else {
        px(10.0)
    };
    let (_, body) = root.split_vertically(top as u32);

    // The time axis: the samples' span (and any event outside it).
    let samples: Vec<_> = rec.points.iter().collect();
    let t0 = samples.first().map_or(0.0, |p| p.t).min(
        rec.events
            .iter()
            .map(|e| e.event.t)
            .fold(f64::INFINITY, f64::min),
    );
    let t1 = samples
        .last()
        .map_or(1.0, |p| p.t)
        .max(rec.events.iter().map(|e| e.event.t).fold(0.0, f64::max));
    let (t0, t1) = (t0.max(0.0).min(t1), t1.max(t0 + 1.0));
    let t_step = step_for(
        t1 - t0,
        &[
            1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
            7200.0,
        ],
        8.0,
    );
    let t_ticks: Vec<f64> = ticks(t1, t_step)
        .into_iter()
        .filter(|t| *t >= t0 - 1e-9)
        .collect();

    let memory = o.series.contains(&Series::Memory);
    let vmalloc = o.series.contains(&Series::Vmalloc);
    // The label band above the first chart: as many rows of event labels as they need (at
    // most three), laid out first where the chart will put the events' lines.
    let plot_x = |t: f64| {
        let left = px(24.0) + px(120.0);
        let right = w as i32 - px(40.0);
        left + ((t - t0) / (t1 - t0) * f64::from(right - left)).round() as i32
    };
    let xs: Vec<(i32, usize)> = {
        let mut v: Vec<(i32, usize)> = rec
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (plot_x(e.event.t), i))
            .collect();
        v.sort_by_key(|(x, _)| *x);
        v
    };
    let label_font = font(18.0);
    let text_w = |s: &str| -> i32 {
        root.estimate_text_size(s, &label_font)
            .map_or(s.chars().count() as i32 * px(10.0), |(w, _)| w as i32)
    };
    let layout = layout_labels(
        &xs,
        |i| event_label(&rec.events[i].event).1,
        &text_w,
        px(22.0),
        px(10.0),
        w as i32 - px(8.0),
    );
    let rows = layout
        .iter()
        .map(|(_, row, _, _)| row + 1)
        .max()
        .unwrap_or(1);
    let band = px(rows as f64 * 26.0 + 12.0);
    let (labels_area, charts) = body.split_vertically(band as u32);
    let panels: Vec<DrawingArea<DB, Shift>> = match (memory, vmalloc) {
        (true, true) => {
            let (a, b) =
                charts.split_vertically((f64::from(charts.dim_in_pixel().1) * 0.58) as u32);
            vec![a, b]
        }
        _ => vec![charts],
    };

    let mut panel = panels.iter();
    let line = |rgb: RGBColor, width: f64| ShapeStyle {
        color: rgb.to_rgba(),
        filled: false,
        stroke_width: px(width) as u32,
    };
    let mib = |b: u64| b as f64 / MIB as f64;
    let segments =
        |f: &dyn Fn(&crate::system::meminfo::Sample) -> Option<f64>| -> Vec<Vec<(f64, f64)>> {
            let mut segs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for p in &samples {
                match p.sample.as_ref().and_then(f) {
                    Some(v) => segs.last_mut().map(|s| s.push((p.t, v))).unwrap_or(()),
                    None => segs.push(Vec::new()),
                }
            }
            segs.retain(|s| !s.is_empty());
            segs
        };

    let draw_panel = |area: &DrawingArea<DB, Shift>,
                      top: f64,
                      step: f64,
                      series: Vec<SeriesLine>,
                      caption: &str,
                      first: bool,
                      last: bool|
     -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(area)
            .margin_left(px(24.0))
            .margin_right(px(40.0))
            .margin_top(px(10.0))
            .margin_bottom(px(6.0))
            .caption(caption, bold(22.0))
            .x_label_area_size(px(44.0))
            .y_label_area_size(px(120.0))
            .build_cartesian_2d(
                Axis {
                    lo: t0,
                    hi: t1,
                    ticks: t_ticks.clone(),
                },
                Axis {
                    lo: 0.0,
                    hi: top,
                    ticks: ticks(top, step),
                },
            )?;
        chart
            .configure_mesh()
            .x_label_formatter(&|t| fmt_axis_time(*t))
            .y_label_formatter(&|v| fmt_axis_mib(*v))
            .label_style(font(18.0))
            .axis_style(c.fg)
            .bold_line_style(c.grid)
            .light_line_style(TRANSPARENT)
            .x_desc(if last {
                "time since the recording started (m:ss)"
            } else {
                ""
            })
            .axis_desc_style(font(17.0))
            .draw()?;
        // Event lines under the data: a load solid, an unload dashed, a failure thick.
        for (i, ev) in rec.events.iter().map(|e| &e.event).enumerate() {
            let (style, dashed) = match (ev.kind, ev.failed()) {
                (_, true) => (line(c.fail, 3.0), false),
                (EventKind::Unload, false) => (line(c.unload, 2.0), true),
                _ => (line(c.load, 2.0), false),
            };
            if dashed {
                chart.draw_series(DashedLineSeries::new(
                    [(ev.t, 0.0), (ev.t, top)],
                    px(8.0) as u32,
                    px(6.0) as u32,
                    style,
                ))?;
            } else {
                chart.draw_series(LineSeries::new([(ev.t, 0.0), (ev.t, top)], style))?;
            }
            if first {
                // The chart's own x for the event: the label band used `plot_x`.
                debug_assert!(
                    (chart.backend_coord(&(ev.t, top)).0 - plot_x(ev.t)).abs() <= 2,
                    "event {i}"
                );
            }
        }
        // The legend goes in the corner the lines cross least.
        let corner = [
            (SeriesLabelPosition::UpperRight, 0.75, 1.0, 0.7, 1.0),
            (SeriesLabelPosition::LowerRight, 0.75, 1.0, 0.0, 0.3),
            (SeriesLabelPosition::UpperLeft, 0.0, 0.25, 0.7, 1.0),
            (SeriesLabelPosition::LowerLeft, 0.0, 0.25, 0.0, 0.3),
        ]
        .into_iter()
        .min_by_key(|(_, x0, x1, y0, y1)| {
            series
                .iter()
                .flat_map(|(_, _, _, segs)| segs.iter().flatten())
                .filter(|(t, v)| {
                    let (fx, fy) = ((t - t0) / (t1 - t0), v / top);
                    (*x0..=*x1).contains(&fx) && (*y0..=*y1).contains(&fy)
                })
                .count()
        })
        .map_or(SeriesLabelPosition::UpperRight, |c| c.0);
        for (name, rgb, dashed, segs) in series {
            let style = line(rgb, if dashed { 2.0 } else { 3.0 });
            let mut first_seg = true;
            for seg in segs {
                let drawn = if dashed {
                    chart.draw_series(DashedLineSeries::new(
                        seg,
                        px(10.0) as u32,
                        px(6.0) as u32,
                        style,
                    ))?
                } else {
                    chart.draw_series(LineSeries::new(seg, style))?
                };
                if std::mem::take(&mut first_seg) {
                    let legend = style;
                    drawn
                        .label(name)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], legend));
                }
            }
        }
        chart
            .configure_series_labels()
            .position(corner)
            .background_style(c.bg.mix(0.9))
            .border_style(c.grid)
            .label_font(font(18.0))
            .draw()?;
        Ok(())
    };

    let mut first = true;
    if memory {
        let total = samples
            .iter()
            .filter_map(|p| p.sample.map(|s| mib(s.mem_total)))
            .fold(0.0, f64::max);
        let (top, step) = size_top(total * 1.02);
        let series = vec![
            (
                "MemTotal",
                c.total,
                true,
                segments(&|s| Some(mib(s.mem_total))),
            ),
            (
                "MemAvailable",
                c.available,
                false,
                segments(&|s| s.mem_available.map(mib)),
            ),
            (
                "MemFree",
                c.free,
                false,
                segments(&|s| Some(mib(s.mem_free))),
            ),
        ];
        if let Some(a) = panel.next() {
            draw_panel(a, top, step, series, "Memory", first, !vmalloc)?;
        }
        first = false;
    }
    if vmalloc {
        let used = samples
            .iter()
            .filter_map(|p| p.sample.map(|s| mib(s.vmalloc_used)))
            .fold(0.0, f64::max);
        let (top, step) = size_top(used * 1.1);
        let series = vec![(
            "VmallocUsed",
            c.vmalloc,
            false,
            segments(&|s| Some(mib(s.vmalloc_used))),
        )];
        if let Some(a) = panel.next() {
            draw_panel(a, top, step, series, "vmalloc", first, true)?;
        }
    }

    // Event labels in the band: the marker above its line, its words beside it.
    let row_h = px(26.0);
    let band_y = labels_area.get_base_pixel().1;
    for (i, row, words, left) in &layout {
        let ev = &rec.events[*i].event;
        let x = xs.iter().find(|(_, j)| j == i).map_or(0, |(x, _)| *x);
        let (sym, _) = event_label(ev);
        let rgb = match (ev.kind, ev.failed()) {
            (_, true) => c.fail,
            (EventKind::Unload, false) => c.unload,
            _ => c.load,
        };
        let y = band_y + px(6.0) + *row as i32 * row_h + row_h / 2;
        let s = px(8.0);
        match sym {
            '▲' => root.draw(&Polygon::new(
                vec![(x, y - s), (x - s, y + s), (x + s, y + s)],
                rgb.filled(),
            ))?,
            '▼' => root.draw(&Polygon::new(
                vec![(x, y + s), (x - s, y - s), (x + s, y - s)],
                rgb.filled(),
            ))?,
            '◆' => root.draw(&Polygon::new(
                vec![(x, y - s), (x + s, y), (x, y + s), (x - s, y)],
                rgb.filled(),
            ))?,
            _ => root.draw(&Cross::new((x, y), s, rgb.stroke_width(px(3.0) as u32)))?,
        }
        if !words.is_empty() {
            let tx = if *left {
                x - px(14.0) - text_w(words)
            } else {
                x + px(14.0)
            };
            root.draw(&Text::new(
                words.clone(),
                (tx, y - px(10.0)),
                ("sans-serif", 18.0 * k).into_font().color(&rgb),
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::record::{EventLine, Header, Machine};
    use crate::system::meminfo::Point;

    /// A recording of the lab VM: idle, 200 MiB loaded, unloaded, 2000 MiB refused.
    pub(crate) fn lab_recording() -> Recording {
        let idle = crate::system::meminfo::tests::lab_idle();
        let mut points = Vec::new();
        for i in 0..=120u64 {
            let t = i as f64 * 0.25;
            let held = if (5.0..15.0).contains(&t) {
                200 * MIB
            } else {
                0
            };
            let mut s = idle;
            s.mem_free -= held;
            s.mem_available = s.mem_available.map(|a| a - held);
            s.vmalloc_used += held;
            points.push(Point {
                t,
                unix_ms: 1_796_463_012_000 + i * 250,
                sample: (i != 80).then_some(s),
                vmalloc_largest_free: None,
            });
        }
        let ev = |t: f64, kind: EventKind, mib: u64, failed: bool| EventLine {
            unix_ms: 1_796_463_012_000 + (t * 1000.0) as u64,
            event: Event {
                t,
                kind,
                memsize_mib: mib,
                oom_safe: true,
                outcome: if failed {
                    crate::engine::Outcome::Failed {
                        diagnosis: crate::diagnose::Diagnosis {
                            cause: crate::diagnose::Cause::ExceedsTotalPages,
                            confidence: crate::diagnose::Confidence::Likely,
                            summary: "Asked 2000 MiB, more than all RAM (MemTotal 958 MiB)".into(),
                            detail: "vmalloc() refuses at once a size above all RAM.".into(),
                            evidence: vec!["alloc_large_mem: fail memsize_mib=2000 bytes=2097152000 oom_safe=Y err=-12 stage=reserve allocated=0".into()],
                        },
                    }
                } else {
                    crate::engine::Outcome::Ok
                },
                wall_ns: 2_000_000_000,
                alloc_ns: (kind == EventKind::Load && !failed).then_some(843_060_130),
                fill_ns: (kind == EventKind::Load && !failed).then_some(1_478_750_910),
                delta: None,
                alloc: (kind == EventKind::Load)
                    .then_some(crate::module::alloc::Allocator::Vmalloc),
                module_line: None,
            },
        };
        Recording {
            format: crate::record::Format::Jsonl,
            header: Header::new(
                "dashboard",
                Machine {
                    kernel: "6.1.0-57-amd64".into(),
                    arch: "x86_64".into(),
                    hostname: Some("vmtop-lab".into()),
                    cpus: Some(2),
                },
                1_796_463_012_000,
            ),
            points,
            events: vec![
                ev(5.0, EventKind::Load, 200, false),
                ev(15.0, EventKind::Unload, 200, false),
                ev(22.0, EventKind::Load, 2000, true),
            ],
            kmsg: Vec::new(),
        }
    }

    fn opts() -> PlotOptions {
        PlotOptions {
            size: (1600, 900),
            series: vec![Series::Memory, Series::Vmalloc],
            title: None,
            theme: ThemeName::Light,
            titled: true,
        }
    }

    #[test]
    fn the_svg_has_its_title_axes_in_binary_units_and_labelled_events() {
        let s = svg(&lab_recording(), &opts()).expect("svg");
        assert!(s.starts_with("<svg"), "{}", &s[..200]);
        assert!(s.contains("width=\"1600\"") && s.contains("height=\"900\""));
        for text in [
            "vmtop on Linux 6.1.0-57-amd64 (x86_64)",
            "vmtop-lab · MemTotal 958 MiB · 2026-12-05 09:30 UTC · 2 loads, 1 failed",
            "MemAvailable",
            "VmallocUsed",
            "200 MiB",
            "unload",
            "2000 MiB: more than all RAM",
            "256 MiB",
            "1 GiB",
            "0:10",
        ] {
            assert!(s.contains(text), "{text:?} not in the SVG");
        }
    }

    #[test]
    fn options_choose_the_series_size_and_title() {
        let mut o = opts();
        o.series = vec![Series::Vmalloc];
        o.size = (800, 450);
        o.title = Some("My lab".into());
        let s = svg(&lab_recording(), &o).expect("svg");
        assert!(s.contains("width=\"800\""));
        assert!(
            s.contains("\nMy lab\n") && s.contains("Linux 6.1.0-57-amd64 (x86_64)"),
            "{s}"
        );
        assert!(s.contains("VmallocUsed") && !s.contains("MemAvailable"));
        let p = png(&lab_recording(), &o).expect("png");
        let r = png::Decoder::new(std::io::Cursor::new(p))
            .read_info()
            .expect("png");
        assert_eq!((r.info().width, r.info().height), (800, 450));
    }

    #[test]
    fn nothing_to_plot_is_a_refusal() {
        let mut rec = lab_recording();
        rec.points.iter_mut().for_each(|p| p.sample = None);
        let e = svg(&rec, &opts()).expect_err("no samples");
        assert!(crate::refused::Refused::in_chain(&e), "{e:#}");
    }

    /// A label that would pass the right edge goes left of its marker; crowded labels take
    /// the next row, and with no row left, the marker goes alone.
    #[test]
    fn labels_stay_inside_and_apart() {
        let w = |s: &str| s.len() as i32 * 10;
        let xs = [(100, 0), (110, 1), (120, 2), (130, 3), (1580, 4)];
        let words = |i: usize| ["aaaa", "bbbb", "cccc", "dddd", "unload"][i].to_string();
        let l = layout_labels(&xs, words, &w, 20, 10, 1592);
        let rows: Vec<usize> = l.iter().map(|(_, r, _, _)| *r).collect();
        assert_eq!(rows, [0, 1, 2, 0, 0]);
        assert_eq!(l[3].2, "", "no room: the marker alone");
        assert_eq!(
            (l[4].2.as_str(), l[4].3),
            ("unload", true),
            "left of its marker"
        );
        assert!(!l[0].3);
    }

    #[test]
    fn axis_units_are_binary() {
        assert_eq!(fmt_axis_mib(0.0), "0 MiB");
        assert_eq!(fmt_axis_mib(512.0), "512 MiB");
        assert_eq!(fmt_axis_mib(1536.0), "1.5 GiB");
        assert_eq!(fmt_axis_mib(2048.0), "2 GiB");
        assert_eq!(size_top(958.0 * 1.02), (1024.0, 256.0));
        assert_eq!(size_top(6.0), (6.0, 1.0));
        assert_eq!(fmt_axis_time(75.0), "1:15");
    }
}
