//! Drawing. `draw` takes `&App`: it cannot change state.
//!
//! Small terminals (80x24) stack the two charts; large ones (from 120 columns and 30 rows) put
//! them side by side and give the event log and the kernel log more room. The buddyinfo pane
//! (`b`) is a full-width strip under the charts; on a small terminal it takes the kernel
//! log's rows (and one of the event log's), the charts keep theirs. Short of rows for the
//! charts, a failure banner keeps only its first line; below the size the charts need, one
//! centred line says that size instead of the dashboard.

pub mod areas;
pub mod banner;
pub mod buddy;
pub mod buffer;
pub mod charts;
pub mod confirm;
pub mod controls;
pub mod damage;
pub mod events;
pub mod footer;
pub mod header;
pub mod help;
pub mod kmsg;
pub mod lesson;
pub mod theme;
pub mod why;

#[cfg(test)]
mod lesson_tests;
#[cfg(test)]
mod tests;

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
/// the rows below it. Draws what a `Block` with `Borders::TOP` and `title` draws there, cell
/// for cell, without the rest of what a `Block` does on every frame: restyle every cell of
/// the pane (with its default style, a no-op) and merge each border symbol with the cell's.
pub fn title_rule(f: &mut Frame, area: Rect, title: Line, th: &Theme) -> Rect {
    let area = area.intersection(f.area());
    if area.is_empty() {
        return area;
    }
    let buf = f.buffer_mut();
    for x in area.left()..area.right() {
        buf[(x, area.y)]
            .set_symbol(ratatui::symbols::line::HORIZONTAL)
            .set_style(th.border());
    }
    let width = u16::try_from(title.width()).unwrap_or(u16::MAX);
    let title_area = Rect {
        width: width.min(area.width),
        height: 1,
        ..area
    };
    render_line(f.buffer_mut(), title_area, &title);
    Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    }
}

/// Render `line` in the first row of `area` as `Line`'s `Widget` does (left-aligned), cell for
/// cell. When every character of it is one the fast path knows (`one_cell`: ASCII and the
/// symbols vmtop prints, each its own grapheme one cell wide), each goes in its cell directly:
/// the widget splits the text into graphemes and measures each, which was most of the cost of
/// drawing a chart's title again after a sample.
pub fn render_line(buf: &mut ratatui::buffer::Buffer, area: Rect, line: &Line) {
    let simple = line.style == ratatui::style::Style::default()
        && line.alignment.is_none()
        && line.spans.iter().all(|s| s.content.chars().all(one_cell));
    if !simple {
        ratatui::widgets::Widget::render(line, area, buf);
        return;
    }
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let (mut x, y) = (area.x, area.y);
    for span in &line.spans {
        let style = ratatui::style::Style::default().patch(span.style);
        for c in span.content.chars() {
            if x >= area.right() {
                return;
            }
            buf[(x, y)].set_char(c).set_style(style);
            x += 1;
        }
    }
}

/// Whether `c` is, alone, a grapheme one cell wide that no neighbour can join: printable
/// ASCII, general punctuation, arrows, mathematical operators, box drawing, blocks,
/// geometric shapes, braille, ⚠ and the check marks (`render_line`'s fast path).
fn one_cell(c: char) -> bool {
    matches!(c,
        ' '..='~'
        | '\u{2010}'..='\u{2027}'
        | '\u{2030}'..='\u{205E}'
        | '\u{2190}'..='\u{21FF}'
        | '\u{2200}'..='\u{22FF}'
        | '\u{2500}'..='\u{259F}'
        | '\u{25A0}'..='\u{25FC}'
        | '\u{26A0}'
        | '\u{2713}'..='\u{2718}'
        | '\u{2800}'..='\u{28FF}')
}

/// Rows a bordered box `width` wide needs for `lines` once word-wrapped (borders included).
pub fn boxed_height(lines: &[ratatui::text::Line], width: u16) -> u16 {
    let text_w = usize::from(width.saturating_sub(2)).max(1);
    lines
        .iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            wrapped_rows(&text, text_w)
        })
        .sum::<u16>()
        + 2
}

/// Rows `text` takes when word-wrapped to `width` columns, as ratatui's word wrapper
/// does it: whole words, and words longer than a row broken where they hit the edge.
fn wrapped_rows(text: &str, width: usize) -> u16 {
    let (mut rows, mut col) = (1u16, 0usize);
    for word in text.split(' ') {
        let n = word.chars().count();
        if col == 0 {
            col = n;
        } else if col + 1 + n <= width {
            col += 1 + n;
        } else {
            rows += 1;
            col = n;
        }
        while col > width {
            rows += 1;
            col -= width;
        }
    }
    rows
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
/// slack for word wrapping), oldest first. The newest line always shows: when it alone is
/// taller than the pane, its start is kept and cut with "…" where the pane ends.
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
            if tail.is_empty() && height > 0 {
                tail.push(cut_to_rows(line, width, height));
            }
            break;
        }
        budget -= rows;
        tail.push(line);
    }
    tail.reverse();
    tail
}

/// The longest start of `line` that, followed by "…", word-wraps to at most `rows` rows of
/// `width` columns; the spans keep their styles, the "…" takes the last one's.
fn cut_to_rows(line: Line<'_>, width: u16, rows: u16) -> Line<'_> {
    const ELLIPSIS: char = '…';
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let chars: Vec<char> = text.chars().collect();
    let width = usize::from(width.max(1));
    let fits = |n: usize| {
        let mut t: String = chars[..n].iter().collect::<String>().trim_end().to_string();
        t.push(ELLIPSIS);
        wrapped_rows(&t, width) <= rows
    };
    let mut n = chars.len().min(usize::from(rows) * width);
    while n > 0 && !fits(n) {
        n -= 1;
    }
    // Drop the blanks before the cut, so that "…" follows the last word shown.
    while n > 0 && chars[n - 1] == ' ' {
        n -= 1;
    }
    let mut spans = Vec::new();
    let mut left = n;
    let mut style = line.style;
    for s in line.spans {
        if left == 0 {
            break;
        }
        let len = s.content.chars().count();
        style = s.style;
        if len <= left {
            left -= len;
            spans.push(s);
        } else {
            let part: String = s.content.chars().take(left).collect();
            left = 0;
            spans.push(ratatui::text::Span::styled(part, s.style));
        }
    }
    spans.push(ratatui::text::Span::styled(ELLIPSIS.to_string(), style));
    Line::from(spans).style(line.style)
}

/// Render `lines` (the result of `tail_fit`) wrapped in `area`, top-aligned, as a `Paragraph`
/// with `Wrap { trim: false }` renders them. When every line fits in the width there is
/// nothing to wrap, and each line is put on its row here, grapheme by grapheme as
/// `Paragraph` puts it: a `Paragraph` also restyles every cell of its area twice and runs its
/// word wrapper over every line, and these panes are mostly empty rows of short lines.
pub fn render_wrapped(f: &mut Frame, area: Rect, lines: Vec<Line>) {
    let area = area.intersection(f.area());
    if !lines.iter().all(|l| l.width() <= usize::from(area.width)) {
        f.render_widget(
            ratatui::widgets::Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
            area,
        );
        return;
    }
    let buf = f.buffer_mut();
    for (y, line) in (area.top()..area.bottom()).zip(&lines) {
        let mut x = area.left();
        for g in line.styled_graphemes(ratatui::style::Style::default()) {
            let width = ratatui::text::Span::raw(g.symbol).width();
            if width == 0 {
                continue;
            }
            let symbol = if g.symbol.is_empty() { " " } else { g.symbol };
            buf[(x, y)].set_symbol(symbol).set_style(g.style);
            x += u16::try_from(width).unwrap_or(u16::MAX);
        }
    }
}

/// Where the parts of the dashboard go.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Areas {
    header: Rect,
    controls: Rect,
    /// The loaded buffer's contiguity (one row, while loaded).
    buffer: Rect,
    banner: Rect,
    memory: Rect,
    vmalloc: Rect,
    /// Empty unless the buddyinfo pane is open.
    buddy: Rect,
    /// Empty unless the areas pane is open.
    areas: Rect,
    events: Rect,
    /// Empty when the terminal is too small for the kernel log.
    kmsg: Rect,
    /// Empty unless a lesson runs.
    lesson: Rect,
    footer: Rect,
}

impl Areas {
    /// Whether both charts get the room `charts` needs to draw them.
    fn charts_fit(&self) -> bool {
        charts::fits(self.memory) && charts::fits(self.vmalloc)
    }
}

fn layout(app: &App, area: Rect) -> Areas {
    let wide = area.width >= 120 && area.height >= 30;
    // A failure's explanation outranks the kernel log pane on a small terminal; in a lesson
    // the lesson pane says the step's diagnosis, and the banner keeps to its first lines.
    let banner_max = if wide || (app.failure.is_some() && app.lesson.is_none()) {
        5
    } else {
        3
    };
    let full = layout_with(app, area, banner_max);
    if full.charts_fit() || full.banner.height <= 1 {
        return full;
    }
    // Short of rows for the charts: the banner keeps its first line (the failure in words).
    let squeezed = layout_with(app, area, 1);
    if squeezed.charts_fit() {
        squeezed
    } else {
        full
    }
}

/// The size a terminal `area.width` wide (at least a chart's width) needs for the charts,
/// when `area` is too small for them; None when they fit.
pub fn too_small(app: &App, area: Rect) -> Option<(u16, u16)> {
    if layout(app, area).charts_fit() {
        return None;
    }
    let width = area.width.max(charts::MIN_COLS);
    // The layout changes with the height (wider panes from 30 rows): try each height.
    let height = (area.height..=area.height.saturating_add(200))
        .find(|&h| layout(app, Rect::new(0, 0, width, h)).charts_fit())
        .unwrap_or(u16::MAX);
    Some((width, height))
}

/// The one line shown instead of the dashboard on a terminal too small for the charts,
/// centred: the size needed, as long a sentence as the width takes.
fn render_too_small(f: &mut Frame, area: Rect, need: (u16, u16), th: &Theme) {
    let (w, h) = need;
    let (aw, ah) = (area.width, area.height);
    let text = [
        format!("terminal too small for the charts: vmtop needs {w}x{h}, this one is {aw}x{ah}"),
        format!("too small for the charts: vmtop needs {w}x{h} (has {aw}x{ah})"),
        format!("too small: needs {w}x{h}, has {aw}x{ah}"),
        format!("needs {w}x{h}"),
        format!("{w}x{h}"),
    ]
    .into_iter()
    .find(|t| t.chars().count() <= usize::from(aw))
    .unwrap_or_default();
    let width = u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
    let at = centered(area, width, 1);
    f.render_widget(Line::styled(text, th.bold()), at);
}

fn layout_with(app: &App, area: Rect, banner_max: u16) -> Areas {
    let wide = area.width >= 120 && area.height >= 30;
    let banner_h = banner::height(app, area.width, banner_max);

    let buffer_h = u16::from(buffer::shows(app));
    let [header, controls, buffer, banner, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(buffer_h),
        Constraint::Length(banner_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let buddy_h = if app.buddy_pane {
        buddy::height(app)
    } else {
        0
    };
    let areas_h = if app.areas_pane {
        areas::height(&app.areas, wide)
    } else {
        0
    };
    if app.lesson.is_some() {
        let (memory, vmalloc, buddy, areas, events, kmsg, lesson) =
            lesson_body(app, body, wide, buddy_h, areas_h);
        return Areas {
            header,
            controls,
            buffer,
            banner,
            memory,
            vmalloc,
            buddy,
            areas,
            events,
            kmsg,
            lesson,
            footer,
        };
    }

    let (memory, vmalloc, buddy, areas, events, kmsg) = if wide {
        let bottom_h = (body.height / 3).clamp(6, 14);
        let [charts, buddy, areas, bottom] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(buddy_h),
            Constraint::Length(areas_h),
            Constraint::Length(bottom_h),
        ])
        .areas(body);
        let [memory, vmalloc] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
            .spacing(2)
            .areas(charts);
        let [events, kmsg] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                .spacing(2)
                .areas(bottom);
        (memory, vmalloc, buddy, areas, events, kmsg)
    } else {
        let panes_h = buddy_h + areas_h;
        let events_h = if body.height >= 20 && panes_h == 0 {
            5
        } else {
            4
        };
        let kmsg_h = if body.height >= 17 && panes_h == 0 {
            3
        } else {
            0
        };
        let [charts, buddy, areas, events, kmsg] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(buddy_h),
            Constraint::Length(areas_h),
            Constraint::Length(events_h),
            Constraint::Length(kmsg_h),
        ])
        .areas(body);
        let [memory, vmalloc] =
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts);
        (memory, vmalloc, buddy, areas, events, kmsg)
    };
    Areas {
        header,
        controls,
        buffer,
        banner,
        memory,
        vmalloc,
        buddy,
        areas,
        events,
        kmsg,
        lesson: Rect::default(),
        footer,
    }
}

/// Smallest chart height beside a lesson.
const LESSON_MIN_CHARTS: u16 = 6;

/// The body of the screen while a lesson runs: (memory, vmalloc, buddy, events, kmsg,
/// lesson). Wide: the lesson pane is a column on the right, over the kernel log; the charts,
/// stacked, keep the left with the buddyinfo pane and the event log. Small (80x24): the
/// charts side by side on top, the lesson pane below them, as tall as its text needs.
fn lesson_body(
    app: &App,
    body: Rect,
    wide: bool,
    buddy_h: u16,
    areas_h: u16,
) -> (Rect, Rect, Rect, Rect, Rect, Rect, Rect) {
    let th = Theme::new(app.no_color);
    if wide {
        let pane_w = (body.width * 2 / 5).clamp(48, 72);
        let [left, right] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(pane_w)])
            .spacing(2)
            .areas(body);
        let kmsg_h = if right.height >= 24 {
            (right.height / 4).min(10)
        } else {
            0
        };
        let [lesson, kmsg] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(kmsg_h)]).areas(right);
        let events_h = (left.height / 5).clamp(4, 8);
        let [charts, buddy, areas, events] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(buddy_h),
            Constraint::Length(areas_h),
            Constraint::Length(events_h),
        ])
        .areas(left);
        let [memory, vmalloc] =
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts);
        return (memory, vmalloc, buddy, areas, events, kmsg, lesson);
    }
    let room = body.height.saturating_sub(LESSON_MIN_CHARTS);
    let lesson_h = lesson::height(app, body.width, &th).clamp(4, room.max(4));
    let buddy_h = buddy_h.min(room.saturating_sub(lesson_h));
    let areas_h = areas_h.min(room.saturating_sub(lesson_h + buddy_h));
    let [charts, buddy, areas, lesson] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(buddy_h),
        Constraint::Length(areas_h),
        Constraint::Length(lesson_h),
    ])
    .areas(body);
    let [memory, vmalloc] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
        .spacing(1)
        .areas(charts);
    (
        memory,
        vmalloc,
        buddy,
        areas,
        Rect::default(),
        Rect::default(),
        lesson,
    )
}

/// Draw the whole dashboard.
pub fn draw(f: &mut Frame, app: &App) {
    let th = Theme::of(app);
    let area = f.area();
    if let Some(need) = too_small(app, area) {
        render_too_small(f, area, need, &th);
        // What a key would act on stays visible (a confirmation above all).
        help::render(f, area, app, &th);
        why::render(f, area, app, &th);
        confirm::render(f, area, app, &th);
        return;
    }
    let a = layout(app, area);
    let draw = |r: &Rect| !r.is_empty();

    if draw(&a.header) {
        header::render(f, a.header, app, &th);
    }
    controls::render(f, a.controls, app, &th);
    if draw(&a.buffer) {
        buffer::render(f, a.buffer, app, &th);
    }
    if draw(&a.banner) {
        banner::render(f, a.banner, app, &th);
    }
    if draw(&a.footer) {
        footer::render(f, a.footer, app, &th);
    }
    charts::render_memory(f, a.memory, app, &th);
    charts::render_vmalloc(f, a.vmalloc, app, &th);
    if draw(&a.buddy) {
        buddy::render(f, a.buddy, app, &th);
    }
    if draw(&a.areas) {
        areas::render_pane(f, a.areas, app, &th);
    }
    if draw(&a.events) {
        events::render(f, a.events, app, &th);
    }
    if draw(&a.kmsg) {
        kmsg::render(f, a.kmsg, app, &th);
    }
    if draw(&a.lesson) {
        lesson::render(f, a.lesson, app, &th);
    }

    help::render(f, area, app, &th);
    why::render(f, area, app, &th);
    confirm::render(f, area, app, &th);
}
