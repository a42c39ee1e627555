//! The memsize entry: current value or what is being typed, step keys, memory hint.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::{sym, Theme};
use crate::app::App;
use crate::units::{fmt_bytes, MIB};

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let mut spans = vec![Span::styled("memsize ", th.bold())];
    if let Some(typing) = app.typing() {
        spans.push(Span::styled(format!("▸ {}▏", typing.text), th.key()));
        if let Some(e) = &typing.error {
            spans.push(Span::styled(format!(" {} {e}", sym::FAIL), th.failure()));
        } else {
            spans.push(Span::styled(
                format!(
                    " MiB, or 300M 2G 4096K · Enter sets · Esc keeps {} MiB",
                    app.memsize_mib
                ),
                th.dim(),
            ));
        }
        f.render_widget(Line::from(spans), area);
        return;
    }

    spans.push(Span::styled(format!("{} MiB", app.memsize_mib), th.key()));
    if area.width >= 110 {
        spans.push(Span::styled(
            format!(
                " (+/- {} MiB, ]/[ {} MiB, 0-9 to type)",
                app.step_mib, app.big_step_mib
            ),
            th.dim(),
        ));
    }

    if let Some(s) = app.latest() {
        let asked = app.memsize_mib.saturating_mul(MIB);
        if asked > s.mem_total {
            spans.push(Span::styled(
                format!(" {} more than MemTotal", sym::WARN),
                th.warn(),
            ));
        } else if asked > s.available() {
            spans.push(Span::styled(
                format!(" {} more than MemAvailable", sym::WARN),
                th.warn(),
            ));
        }
        spans.push(Span::styled(" │ ", th.dim()));
        let avail_name = if s.mem_available.is_some() {
            "MemAvailable"
        } else {
            "MemFree"
        };
        spans.push(Span::raw(format!(
            "{avail_name} {} of MemTotal {}",
            fmt_bytes(s.available()),
            fmt_bytes(s.mem_total)
        )));
    }
    f.render_widget(Line::from(spans), area);
}
