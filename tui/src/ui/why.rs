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
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let needed = lines
        .iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            wrapped_rows(&text, inner)
        })
        .sum::<u16>()
        + 2;
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

#[cfg(test)]
mod tests {
    use super::wrapped_rows;

    #[test]
    fn rows_follow_word_wrapping() {
        assert_eq!(wrapped_rows("", 10), 1);
        assert_eq!(wrapped_rows("abc def", 7), 1);
        assert_eq!(wrapped_rows("abc defg", 7), 2, "the word moves down whole");
        assert_eq!(
            wrapped_rows("abcdefghijklmnop", 7),
            3,
            "a long word is broken"
        );
    }
}
