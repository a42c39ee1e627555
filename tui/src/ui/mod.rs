//! Drawing. `draw` takes `&App`: it cannot change state.
//!
//! Small terminals (80x24) stack the two charts; large ones (from 120 columns and 30 rows) put
//! them side by side and give the event log and the kernel log more room.

pub mod banner;
pub mod charts;
pub mod confirm;
pub mod controls;
pub mod events;
pub mod footer;
pub mod header;
pub mod help;
pub mod kmsg;
pub mod theme;

#[cfg(test)]
mod tests;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::Frame;

use crate::app::App;
use crate::diagnose::Confidence;
use theme::Theme;

/// Session time as `mm:ss.s`.
pub fn fmt_clock(t: f64) -> String {
    let t = t.max(0.0);
    let m = (t / 60.0).floor();
    let s = t - m * 60.0;
    format!("{:02}:{:04.1}", m as u64, s)
}

pub fn confidence_word(c: Confidence) -> &'static str {
    match c {
        Confidence::Certain => "certain",
        Confidence::Likely => "likely",
        Confidence::Inferred => "inferred",
    }
}

/// A pane's title rule (a top border carrying `title`) on the first row of `area`; returns
/// the rows below it. Same picture as a `Block` with `Borders::TOP` over the whole pane, but
/// a `Block` also restyles every cell of its area (with its default style: a no-op) on every
/// frame, which is most of the cost of a large, mostly empty pane.
pub fn title_rule(f: &mut Frame, area: Rect, title: Line, th: &Theme) -> Rect {
    let block = ratatui::widgets::Block::new()
        .borders(ratatui::widgets::Borders::TOP)
        .border_style(th.border())
        .title(title);
    let inner = block.inner(area);
    f.render_widget(
        block,
        Rect {
            height: area.height.min(1),
            ..area
        },
    );
    inner
}

/// Rows a bordered box `width` wide needs for `lines` once wrapped (borders included).
pub fn boxed_height(lines: &[ratatui::text::Line], width: u16) -> u16 {
    let text_w = width.saturating_sub(2).max(1);
    lines
        .iter()
        .map(|l| (l.width() as u16).div_ceil(text_w).max(1))
        .sum::<u16>()
        + 2
}

/// A `width` x `height` rectangle centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The newest lines that fit in `height` rows when wrapped to `width` (estimated with some
/// slack for word wrapping), oldest first.
pub fn tail_fit<'a>(
    lines: impl DoubleEndedIterator<Item = Line<'a>>,
    width: u16,
    height: u16,
) -> Vec<Line<'a>> {
    let wrap_w = usize::from(width.saturating_sub(4).max(1));
    let mut budget = usize::from(height);
    let mut tail = Vec::new();
    for line in lines.rev() {
        let rows = line.width().div_ceil(wrap_w).max(1);
        if rows > budget {
            break;
        }
        budget -= rows;
        tail.push(line);
    }
    tail.reverse();
    tail
}

/// Render `lines` (the result of `tail_fit`) wrapped in `area`, top-aligned. When every line
/// fits in the width, the paragraph is given only the rows it fills: a `Paragraph` restyles
/// every cell of its area (twice), and the panes are mostly empty rows.
pub fn render_wrapped(f: &mut Frame, area: Rect, lines: Vec<Line>) {
    let area = if lines.iter().all(|l| l.width() <= usize::from(area.width)) {
        let rows = u16::try_from(lines.len()).unwrap_or(u16::MAX);
        Rect {
            height: area.height.min(rows),
            ..area
        }
    } else {
        area
    };
    f.render_widget(
        ratatui::widgets::Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
}

/// The buffer's text, one line per row, trailing blanks trimmed (for snapshots).
pub fn buffer_to_string(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Draw the whole dashboard.
pub fn draw(f: &mut Frame, app: &App) {
    let th = Theme::new(app.no_color);
    let area = f.area();
    let wide = area.width >= 120 && area.height >= 30;
    // A failure's explanation outranks the kernel log pane on a small terminal.
    let banner_max = if wide || app.failure.is_some() { 5 } else { 3 };
    let banner_h = banner::height(app, area.width, banner_max);

    let [header_a, controls_a, banner_a, body, footer_a] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(banner_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);

    header::render(f, header_a, app, &th);
    controls::render(f, controls_a, app, &th);
    banner::render(f, banner_a, app, &th);
    footer::render(f, footer_a, app, &th);

    if wide {
        let bottom_h = (body.height / 3).clamp(6, 14);
        let [charts_a, bottom] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(bottom_h)]).areas(body);
        let [mem_a, vm_a] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
            .spacing(2)
            .areas(charts_a);
        let [events_a, kmsg_a] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                .spacing(2)
                .areas(bottom);
        charts::render_memory(f, mem_a, app, &th);
        charts::render_vmalloc(f, vm_a, app, &th);
        events::render(f, events_a, app, &th);
        kmsg::render(f, kmsg_a, app, &th);
    } else {
        let events_h = if body.height >= 20 { 5 } else { 4 };
        let kmsg_h = if body.height >= 17 { 3 } else { 0 };
        let [charts_a, events_a, kmsg_a] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(events_h),
            Constraint::Length(kmsg_h),
        ])
        .areas(body);
        let [mem_a, vm_a] =
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts_a);
        charts::render_memory(f, mem_a, app, &th);
        charts::render_vmalloc(f, vm_a, app, &th);
        events::render(f, events_a, app, &th);
        if kmsg_h > 0 {
            kmsg::render(f, kmsg_a, app, &th);
        }
    }

    help::render(f, area, app, &th);
    confirm::render(f, area, app, &th);
}
