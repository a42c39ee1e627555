//! The two charts: MemFree/MemAvailable under MemTotal, and VmallocUsed. Both carry a
//! vertical marker at every load (▲), unload (▼) and failure (✗), drawn over the chart after
//! it is rendered so that the marker never hides data.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};
use ratatui::Frame;

use super::theme::{sym, Theme};
use crate::app::history::Segment;
use crate::app::App;
use crate::engine::{Event, EventKind};
use crate::meminfo::Point;
use crate::units::{fmt_bytes, mib_f64, GIB, MIB};

/// One series: its decimated segments, how it is drawn.
struct Series {
    segments: Vec<Segment>,
    style: Style,
    marker: Marker,
}

/// Where the chart's plotting area ended up (mirrors ratatui's Chart layout).
fn graph_area(inner: Rect, y_label_w: u16, first_x_label_w: Option<u16>) -> Rect {
    let has_x = first_x_label_w.is_some() && inner.height > 2;
    let left = y_label_w
        .max(first_x_label_w.unwrap_or(0).saturating_sub(1))
        .min(inner.width / 3);
    let x = inner.x + left + 1;
    let height = inner.height.saturating_sub(if has_x { 2 } else { 0 });
    Rect::new(
        x.min(inner.right()),
        inner.y,
        inner.right().saturating_sub(x),
        height,
    )
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

/// Round up to 1, 2 or 5 times a power of ten (MiB).
fn nice_ceiling(v: f64) -> f64 {
    let v = v.max(1.0);
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
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
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(th.border())
        .title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 2 || inner.width < 12 {
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
    let y_labels: Vec<String> = y_labels
        .into_iter()
        .map(|s| format!("{s:>w$}", w = lw as usize))
        .collect();
    let x_labels: Option<Vec<String>> = (inner.height >= 6).then(|| {
        vec![
            rel(x0 - x1),
            rel((x0 - x1) / 2.0),
            if app.frozen_at.is_some() {
                "frozen".into()
            } else {
                "now".into()
            },
        ]
    });
    let graph = graph_area(
        inner,
        lw,
        x_labels.as_ref().map(|l| l[0].chars().count() as u16),
    );
    // Braille has two dots per cell across: that is the chart's real resolution.
    let all = series(graph.width as usize * 2);
    let mut datasets = Vec::new();
    for s in &all {
        for seg in &s.segments {
            datasets.push(
                Dataset::default()
                    .marker(s.marker)
                    .graph_type(if seg.len() == 1 {
                        GraphType::Scatter
                    } else {
                        GraphType::Line
                    })
                    .style(s.style)
                    .data(seg),
            );
        }
    }
    let mut x_axis = Axis::default().bounds([x0, x1]).style(th.dim());
    if let Some(l) = x_labels {
        x_axis = x_axis.labels(l);
    }
    let y_axis = Axis::default()
        .bounds([0.0, y_max_mib])
        .style(th.dim())
        .labels(y_labels);
    let chart = Chart::new(datasets).x_axis(x_axis).y_axis(y_axis);
    f.render_widget(chart, inner);
    draw_markers(f.buffer_mut(), graph, x0, x1, &app.events, th);
}

/// Vertical markers at event times, over whatever the chart drew in empty cells.
fn draw_markers(buf: &mut Buffer, graph: Rect, x0: f64, x1: f64, events: &[Event], th: &Theme) {
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
            (sym::FAIL, sym::FAIL_LINE, th.failure())
        } else {
            match e.kind {
                EventKind::Load => (sym::LOAD, sym::MARK_LINE, th.load_marker()),
                EventKind::Adopt => (sym::ADOPT, sym::MARK_LINE, th.load_marker()),
                EventKind::Unload => (sym::UNLOAD, sym::MARK_LINE, th.unload_marker()),
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

fn mib_of(f: impl Fn(&crate::meminfo::Sample) -> Option<u64>) -> impl Fn(&Point) -> Option<f64> {
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
    let mut spans = vec![
        Span::styled(format!("Memory {} ", app.window.label()), th.title()),
        Span::styled(
            format!("⣿ MemAvailable {}", val(now.and_then(|s| s.mem_available))),
            th.mem_available(),
        ),
        Span::styled(
            format!("  • MemFree {}", val(now.map(|s| s.mem_free))),
            th.mem_free(),
        ),
    ];
    if let Some(t) = total {
        spans.push(Span::styled(
            format!("  ≤ MemTotal {} ", fmt_bytes(t)),
            th.dim(),
        ));
    }
    let y_max = total
        .map(mib_f64)
        .or_else(|| app.history.max_in(x0, x1, mib_of(|s| Some(s.mem_total))))
        .unwrap_or(1024.0);
    render_chart(f, area, app, th, Line::from(spans), y_max, |w| {
        vec![
            // MemAvailable last: it wins the cells the two lines share.
            Series {
                segments: app.history.series(x0, x1, w, mib_of(|s| Some(s.mem_free))),
                style: th.mem_free(),
                marker: Marker::Dot,
            },
            Series {
                segments: app.history.series(x0, x1, w, mib_of(|s| s.mem_available)),
                style: th.mem_available(),
                marker: Marker::Braille,
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
                "⣿ VmallocUsed {}",
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
    render_chart(f, area, app, th, Line::from(spans), y_max, |w| {
        vec![Series {
            segments: app
                .history
                .series(x0, x1, w, mib_of(|s| Some(s.vmalloc_used))),
            style: th.vmalloc_used(),
            marker: Marker::Braille,
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
    }

    #[test]
    fn relative_labels() {
        assert_eq!(rel(-30.0), "-30s");
        assert_eq!(rel(-600.0), "-10m");
        assert_eq!(rel(0.0), "0");
    }
}
