//! The "why" overlay: the whole diagnosis of the last failure (the banner has room for its
//! start only), with how sure vmtop is and the kernel's own lines it was decided from.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::theme::{sym, Theme};
use super::{centered, confidence_word, fmt_clock};
use crate::app::{App, Mode};
use crate::diagnose::Confidence;
use crate::engine::EventKind;

/// What each confidence word rests on, for a reader who has not seen the code.
fn grounds(c: Confidence) -> &'static str {
    match c {
        Confidence::Certain => "the kernel said so: errno or a log line",
        Confidence::Likely => "decided from the figures; the kernel printed nothing that names it",
        Confidence::Inferred => "a best guess: some figures were missing",
    }
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    if app.mode() != Mode::Why {
        return;
    }
    let Some(e) = &app.failure else { return };
    let Some(d) = e.diagnosis() else { return };
    let what = match e.kind {
        EventKind::Unload => "unload",
        _ => "load",
    };
    let mut lines = vec![
        Line::styled(format!("{} {}", sym::FAIL, d.summary), th.failure()),
        Line::from(vec![
            Span::styled("How sure: ", th.bold()),
            Span::raw(format!(
                "{} ({})",
                confidence_word(d.confidence),
                grounds(d.confidence)
            )),
        ]),
        Line::raw(""),
        Line::raw(d.detail.clone()),
    ];
    if !d.evidence.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Kernel log lines it rests on:", th.bold()));
        lines.extend(d.evidence.iter().map(|l| Line::styled(l.clone(), th.dim())));
    }
    let width = area.width.saturating_sub(2).clamp(20, 100);
    let needed = super::boxed_height(&lines, width);
    let rect = centered(area, width, needed.min(area.height));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::new().borders(Borders::ALL).title(Line::styled(
                format!(
                    " Why the {what} of {} MiB at {} failed: w or Esc closes ",
                    e.memsize_mib,
                    fmt_clock(e.t)
                ),
                th.title(),
            )),
        ),
        rect,
    );
}
