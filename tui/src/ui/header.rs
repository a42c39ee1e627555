//! Top line: kernel, module state, mode and allocator of the next load, sampling interval,
//! privileges, progress.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::{sym, Theme};
use crate::app::App;

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let sep = || Span::styled(" │ ", th.dim());
    let mut spans = vec![];
    if area.width >= 100 {
        spans.push(Span::styled("vmtop ", th.title()));
    }
    spans.push(Span::styled(app.kernel.release.clone(), th.bold()));
    if area.width >= 100 {
        spans.push(Span::styled(format!(" {}", app.kernel.machine), th.dim()));
    }
    spans.push(sep());

    // Module state; a failure turns it red until dismissed.
    if let Some(fail) = &app.failure {
        spans.push(Span::styled(
            format!(
                "{} {} FAILED",
                sym::FAIL,
                match fail.kind {
                    crate::engine::EventKind::Unload => "UNLOAD",
                    _ => "LOAD",
                }
            ),
            th.failure_banner(),
        ));
        spans.push(Span::raw(" "));
    }
    if app.status.loaded {
        let size = app
            .status
            .memsize_mib
            .map(|m| format!(" {m} MiB"))
            .unwrap_or_default();
        spans.push(Span::styled(
            format!("{} LOADED{size}", sym::LOADED),
            th.ok(),
        ));
    } else {
        spans.push(Span::styled(
            format!("{} not loaded", sym::NOT_LOADED),
            th.plain(),
        ));
    }
    if let (Some(b), Some(secs)) = (&app.busy, app.busy_for()) {
        let frames = th.spinner();
        let frame = frames[((secs * 4.0) as usize) % frames.len()];
        spans.push(sep());
        spans.push(Span::styled(
            format!("{frame} {}… {secs:.1} s", b.what),
            th.busy(),
        ));
    }
    spans.push(sep());

    if app.oom_safe {
        spans.push(Span::styled("SAFE", th.ok()));
    } else {
        spans.push(Span::styled(format!("{} UNSAFE", sym::WARN), th.alert()));
    }
    // The allocator the next load asks for (the `a` key).
    spans.push(Span::styled(
        format!(" alloc={}", app.alloc),
        if app.alloc == crate::module::alloc::Allocator::Vmalloc {
            th.plain()
        } else {
            th.key()
        },
    ));
    spans.push(sep());
    // The interval goes first when the line is too long (a failure, a long release).
    let interval_at = spans.len();
    spans.push(Span::raw(format!("{} ms", app.interval.as_millis())));
    spans.push(sep());
    if app.read_only() {
        spans.push(Span::styled("READ-ONLY", th.alert()));
    } else if app.kernel.privileges.euid == 0 {
        spans.push(Span::styled("root", th.bold()));
    } else {
        // Not root, but the kernel lets it load: say what it has.
        spans.push(Span::styled(
            format!("uid {} CAP_SYS_MODULE", app.kernel.privileges.euid),
            th.bold(),
        ));
    }
    if app.frozen_at.is_some() {
        spans.push(sep());
        spans.push(Span::styled("‖ FROZEN", th.alert()));
    }
    let width: usize = spans.iter().map(Span::width).sum();
    if width > usize::from(area.width) {
        spans.drain(interval_at..interval_at + 2);
    }
    super::render_line(f.buffer_mut(), area, &Line::from(spans));
}
