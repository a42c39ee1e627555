//! The event log: every load, unload and failure with its numbers.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::{sym, Theme};
use super::{confidence_word, fmt_clock, tail_fit};
use crate::app::App;
use crate::engine::{Event, EventKind};
use crate::module::alloc::Allocator;
use crate::units::{fmt_delta_mib, fmt_ns};

/// One event as a line of the log; `compact` for narrow terminals (no padding, no wall time,
/// the mode only when unsafe).
pub fn event_line<'a>(e: &Event, th: &Theme, compact: bool) -> Line<'a> {
    let failed = e.failed();
    let (symbol, kind, style) = match (failed, e.kind) {
        (true, EventKind::Load) => (sym::FAIL, "load", th.failure()),
        (true, EventKind::Unload) => (sym::FAIL, "unload", th.failure()),
        (true, EventKind::Adopt) => (sym::FAIL, "adopt", th.failure()),
        (false, EventKind::Load) => (sym::LOAD, "load", th.load_marker()),
        (false, EventKind::Unload) => (sym::UNLOAD, "unload", th.unload_marker()),
        (false, EventKind::Adopt) => (sym::ADOPT, "adopt", th.load_marker()),
    };
    let mut spans = vec![Span::styled(format!("{} ", fmt_clock(e.t)), th.dim())];
    if compact {
        spans.push(Span::styled(format!("{symbol} {kind} "), style));
        spans.push(Span::raw(format!("{} MiB ", e.memsize_mib)));
        if !e.oom_safe {
            spans.push(Span::styled("UNSAFE ", th.alert()));
        }
    } else {
        spans.push(Span::styled(format!("{symbol} {kind:<6} "), style));
        spans.push(Span::raw(format!("{:>5} MiB ", e.memsize_mib)));
        spans.push(Span::styled(
            if e.oom_safe { "safe   " } else { "UNSAFE " },
            if e.oom_safe { th.plain() } else { th.alert() },
        ));
    }
    if let Some(d) = e.diagnosis() {
        spans.push(Span::styled("FAILED ", th.failure()));
        spans.push(Span::styled(
            format!("{} ({})", d.summary, confidence_word(d.confidence)),
            th.failure_text(),
        ));
    } else {
        spans.push(Span::styled("ok ", th.ok()));
        let mut detail = Vec::new();
        if let Some(d) = &e.delta {
            match e.kind {
                // Only vmalloc's buffers count in VmallocUsed: for the others, MemFree is
                // where the memory went.
                EventKind::Load => match e.alloc.filter(|a| *a != Allocator::Vmalloc) {
                    Some(a) => detail.push(format!(
                        "{}: MemFree {}, VmallocUsed {} for {} MiB asked",
                        a.name(),
                        fmt_delta_mib(d.mem_free),
                        fmt_delta_mib(d.vmalloc_used),
                        e.memsize_mib
                    )),
                    None => detail.push(format!(
                        "VmallocUsed {} for {} MiB asked",
                        fmt_delta_mib(d.vmalloc_used),
                        e.memsize_mib
                    )),
                },
                _ => detail.push(format!(
                    "VmallocUsed {}, MemAvailable {}",
                    fmt_delta_mib(d.vmalloc_used),
                    fmt_delta_mib(d.mem_available)
                )),
            }
        }
        if let Some(a) = e.alloc_ns {
            detail.push(format!("alloc {}", fmt_ns(a)));
        }
        if let Some(fl) = e.fill_ns {
            detail.push(format!("fill {}", fmt_ns(fl)));
        }
        spans.push(Span::raw(detail.join(" · ")));
    }
    if e.wall_ns > 0 && !compact {
        spans.push(Span::styled(
            format!(" · took {}", fmt_ns(e.wall_ns)),
            th.dim(),
        ));
    }
    Line::from(spans)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let failures = app.events.iter().filter(|e| e.failed()).count();
    let mut title = vec![Span::styled(
        format!("Events ({})", app.events.len()),
        th.title(),
    )];
    if failures > 0 {
        title.push(Span::styled(
            format!(" {} {failures} failed ", sym::FAIL),
            th.failure(),
        ));
    }
    let inner = super::title_rule(f, area, Line::from(title), th);
    let compact = area.width < 110;
    let lines: Vec<Line> = if app.events.is_empty() {
        vec![Line::styled(
            "no loads yet: l loads the module, ? explains the keys",
            th.dim(),
        )]
    } else {
        tail_fit(
            app.events.iter().map(|e| event_line(e, th, compact)),
            inner.width,
            inner.height,
        )
    };
    super::render_wrapped(f, inner, lines);
}
