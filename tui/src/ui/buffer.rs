//! The loaded buffer's contiguity in one line: how many physically contiguous runs the
//! module's buffer is made of, the largest, and its pages per zone and node (the module's
//! results/, read with the status).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::App;
use crate::units::fmt_bytes;

/// Whether the line shows: a loaded module that published where its pages are.
pub fn shows(app: &App) -> bool {
    app.status.loaded && app.status.layout.is_some()
}

/// "DMA32:50000,Normal:15536" as "DMA32 50000, Normal 15536".
fn per(list: &str) -> String {
    list.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.replacen(':', " ", 1))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let Some(l) = app.status.layout.as_ref() else {
        return;
    };
    let alloc = l.alloc.map_or("?", |a| a.name());
    let wide = area.width >= 120;
    let run = if l.runs == 1 { "run" } else { "runs" };
    // One node holding every page: its number says it all.
    let nodes = if l.nodes.contains(',') {
        per(&l.nodes)
    } else {
        l.nodes.split(':').next().unwrap_or("?").to_string()
    };
    let mut spans = vec![
        Span::styled("buffer ", th.bold()),
        Span::styled(format!("{alloc} {}: ", fmt_bytes(l.bytes)), th.key()),
        Span::styled(
            if wide {
                format!(
                    "{} physically contiguous {run}, largest {}",
                    l.runs,
                    fmt_bytes(l.largest_run_bytes)
                )
            } else {
                format!(
                    "{} {run}, largest {}",
                    l.runs,
                    fmt_bytes(l.largest_run_bytes)
                )
            },
            th.plain(),
        ),
        Span::styled(" │ ", th.dim()),
        Span::raw(format!(
            "{} {}",
            if wide { "pages per zone" } else { "pages" },
            per(&l.zones)
        )),
        Span::styled(" │ ", th.dim()),
        Span::raw(format!("node {nodes}")),
    ];
    if wide {
        spans.push(Span::styled(
            format!(
                " │ {}",
                if l.backing == "linear" {
                    "linear: one block of the direct map"
                } else {
                    "vmalloc: mapped page by page"
                }
            ),
            th.dim(),
        ));
    }
    f.render_widget(Line::from(spans), area);
}
