//! The kernel log pane: the newest lines from /dev/kmsg.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use super::tail_fit;
use super::theme::Theme;
use crate::app::App;
use crate::module::MODULE_NAME;

/// Lines about trouble, shown in the failure style.
fn alarming(line: &str) -> bool {
    const NEEDLES: &[&str] = &[
        "Out of memory",
        "oom-kill",
        "Killed process",
        "fail",
        "vmalloc error",
        "allocation failure",
        "exceeds total pages",
    ];
    NEEDLES.iter().any(|n| line.contains(n))
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let inner = super::title_rule(f, area, Line::styled("Kernel log", th.title()), th);
    let lines: Vec<Line> = if app.kmsg.is_empty() {
        vec![Line::styled(
            "(nothing logged since vmtop started)",
            th.dim(),
        )]
    } else {
        // Only the newest lines can be shown: do not style thousands of them.
        let skip = app.kmsg.len().saturating_sub(usize::from(inner.height));
        let lines = app.kmsg.iter().skip(skip).map(|l| {
            let style = if alarming(l) {
                th.failure_text()
            } else if l.contains(MODULE_NAME) {
                th.bold()
            } else {
                th.plain()
            };
            Line::styled(l.clone(), style)
        });
        tail_fit(lines, inner.width, inner.height)
    };
    super::render_wrapped(f, inner, lines);
}
