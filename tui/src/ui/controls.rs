//! The memsize entry: current value or what is being typed, step keys, memory hint.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::{sym, Theme};
use crate::app::App;
use crate::units::{fmt_bytes, fmt_bytes_key, FigKey, MIB};

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
        super::render_line(f.buffer_mut(), area, &Line::from(spans));
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

    if let Some(fig) = figures(app) {
        if let Some(what) = fig.more_than {
            spans.push(Span::styled(
                format!(" {} more than {what}", sym::WARN),
                th.warn(),
            ));
        }
        spans.push(Span::styled(" │ ", th.dim()));
        spans.push(Span::raw(format!(
            "{} {} of MemTotal {}",
            fig.avail_name,
            fmt_bytes(fig.avail),
            fmt_bytes(fig.total)
        )));
    }
    // Kernel memory at a glance where the line has room (the areas pane shows it otherwise).
    if let Some(mut text) = kernel_text(app) {
        let used: usize = spans.iter().map(|s| s.width()).sum();
        let room = usize::from(area.width).saturating_sub(used + 3);
        if room >= 40 {
            if text.chars().count() > room {
                text = text.chars().take(room - 1).collect::<String>() + "…";
            }
            spans.push(Span::styled(" │ ", th.dim()));
            spans.push(Span::styled(text, th.dim()));
        }
    }
    super::render_line(f.buffer_mut(), area, &Line::from(spans));
}

/// The kernel-memory figures and PSI, as the line ends with them (None: not read, or the
/// areas pane, which shows them, is open).
fn kernel_text(app: &App) -> Option<String> {
    if app.areas_pane {
        return None;
    }
    let mut text = app.areas.kernel?.line();
    if let Some(Ok(p)) = &app.areas.pressure {
        text.push_str(&format!(" · PSI {}", p.short()));
    }
    Some(text)
}

/// What the line shows of the latest sample: what the memsize is more than (a warning), the
/// figure it is compared with (MemAvailable, or MemFree before Linux 3.14) and MemTotal, in
/// bytes.
struct Figures {
    more_than: Option<&'static str>,
    avail_name: &'static str,
    avail: u64,
    total: u64,
}

fn figures(app: &App) -> Option<Figures> {
    let s = app.latest()?;
    let asked = app.memsize_mib.saturating_mul(MIB);
    Some(Figures {
        more_than: if asked > s.mem_total {
            Some("MemTotal")
        } else if asked > s.available() {
            Some("MemAvailable")
        } else {
            None
        },
        avail_name: if s.mem_available.is_some() {
            "MemAvailable"
        } else {
            "MemFree"
        },
        avail: s.available(),
        total: s.mem_total,
    })
}

/// What samples change on the line (the rest changes with keys): `ui::damage` draws it
/// again when this differs from the last frame's. The kernel-memory text by its version
/// (`AreasView::line_version`), which is cheaper than making it.
pub(crate) type SampleKey = (
    Option<(Option<&'static str>, &'static str, FigKey, FigKey)>,
    Option<u64>,
);

pub(crate) fn sample_key(app: &App) -> SampleKey {
    if app.typing().is_some() {
        return (None, None);
    }
    let figures = figures(app).map(|f| {
        (
            f.more_than,
            f.avail_name,
            fmt_bytes_key(f.avail),
            fmt_bytes_key(f.total),
        )
    });
    let kernel = (!app.areas_pane).then(|| app.areas.line_version());
    (figures, kernel)
}
