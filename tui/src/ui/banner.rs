//! Banners: a failed load (red, ✗, "LOAD FAILED", diagnosis with numbers, confidence), or
//! why the dashboard is read-only and what to do.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::theme::{sym, Theme};
use super::{confidence_word, fmt_clock};
use crate::app::App;
use crate::engine::EventKind;

/// Rows a line takes when wrapped to `width` (rounded up; word wrapping may need a little more).
fn rows(line: &Line, width: u16) -> u16 {
    let w = line.width() as u16;
    if w == 0 || width == 0 {
        return 1;
    }
    // Word wrapping breaks early: leave some slack.
    w.div_ceil(width.saturating_sub(6).max(1))
}

/// Height the banner needs at this width (0: no banner), at most `max`.
pub fn height(app: &App, width: u16, max: u16) -> u16 {
    let th = Theme::new(true);
    let n: u16 = lines(app, &th).iter().map(|l| rows(l, width)).sum();
    n.min(max)
}

fn lines<'a>(app: &App, th: &Theme) -> Vec<Line<'a>> {
    if let Some(e) = &app.failure {
        let what = match e.kind {
            EventKind::Unload => "UNLOAD FAILED",
            _ => "LOAD FAILED",
        };
        let mut lines = vec![];
        let mut head = vec![Span::styled(
            format!(" {} {what} {} MiB ", sym::FAIL, e.memsize_mib),
            th.failure_banner(),
        )];
        if let Some(d) = e.diagnosis() {
            head.push(Span::styled(format!(" {}", d.summary), th.failure()));
            head.push(Span::styled(
                format!(" [{}]", confidence_word(d.confidence)),
                th.failure_text(),
            ));
        }
        head.push(Span::styled(
            format!(" at {} · w explains · Esc hides", fmt_clock(e.t)),
            th.dim(),
        ));
        lines.push(Line::from(head));
        if let Some(d) = e.diagnosis() {
            if !d.detail.is_empty() {
                lines.push(Line::styled(format!("  {}", d.detail), th.failure_text()));
            }
        }
        lines
    } else if let Some(why) = app.kernel.why_read_only() {
        vec![Line::from(vec![
            Span::styled(" READ-ONLY ", th.alert()),
            Span::styled(" loading is off: ", th.bold()),
            Span::raw(format!("{why}. Charts stay live.")),
        ])]
    } else {
        vec![]
    }
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    if area.height == 0 {
        return;
    }
    f.render_widget(
        Paragraph::new(lines(app, th)).wrap(Wrap { trim: false }),
        area,
    );
}
