//! The areas pane (`v`) and `vmtop areas`' live screen: who holds the vmalloc address space,
//! from `app::areas::AreasView`. Self-contained: it draws into its rectangle only, from the
//! view's last reading (no chart code, no reads).
//!
//! Rows: the title rule; kernel memory and PSI; the window's map when shown (a strip of
//! used ranges by kind, `#` the module's buffer, `=` the largest free range); the table's
//! head; one row per caller and kind, largest first by default, with the change since vmtop
//! started and since the last load; vmtop's module's buffer highlighted.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::areas::AreasView;
use crate::system::vmareas::{fmt_signed_bytes, select, Cell, TableOptions};
use crate::units::fmt_bytes;

/// Rows the pane takes on a terminal `height` rows high (`wide`: 120x30 or more).
pub fn height(view: &AreasView, wide: bool) -> u16 {
    let map = u16::from(view.shows_map());
    if wide {
        12 + map
    } else {
        8 + map
    }
}

/// What the pane says of its key, and the session time for "since the load at".
#[derive(Debug, Clone, Copy)]
pub struct PaneText<'a> {
    /// "v hides" in the dashboard, "q quits" in `vmtop areas`.
    pub close_hint: &'a str,
}

/// A string cut to `width` characters (with … when cut).
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// The dashboard's pane (`v`), from the app's view.
pub fn render_pane(f: &mut Frame, area: Rect, app: &crate::app::App, th: &Theme) {
    render(
        f,
        area,
        &app.areas,
        PaneText {
            close_hint: "v hides",
        },
        th,
    );
}

pub fn render(f: &mut Frame, area: Rect, view: &AreasView, text: PaneText, th: &Theme) {
    let s = view.snapshot();
    let w = usize::from(area.width);
    let wide = area.width >= 120;
    let mut head = format!(
        "/proc/vmallocinfo · {} areas {} · by {} (o) · {} ",
        s.areas,
        fmt_bytes(s.bytes),
        view.sort.name(),
        text.close_hint
    );
    if view.reads == 0 {
        head = format!("/proc/vmallocinfo · {} ", text.close_hint);
    }
    let title = Line::from(vec![
        Span::styled("Vmalloc areas ", th.title()),
        Span::styled(head, th.dim()),
    ]);
    let inner = super::title_rule(f, area, title, th);
    if inner.height == 0 {
        return;
    }
    let mut rows: Vec<Line> = Vec::with_capacity(usize::from(inner.height));

    // Kernel memory at a glance, and PSI.
    let mut kmem = match &view.kernel {
        Some(k) => k.line(),
        None => "kernel memory: not read yet".into(),
    };
    match &view.pressure {
        Some(Ok(p)) => kmem.push_str(&format!(" · PSI {}", p.short())),
        Some(Err(e)) if wide => kmem.push_str(&format!(" · PSI: {e}")),
        _ => {}
    }
    rows.push(Line::styled(fit(&kmem, w), th.plain()));

    if let Some(e) = &view.error {
        rows.push(Line::styled(fit(e, w), th.warn()));
        super::render_wrapped(f, inner, rows);
        return;
    }
    if view.reads == 0 {
        rows.push(Line::styled("(not read yet)", th.dim()));
        super::render_wrapped(f, inner, rows);
        return;
    }

    // The map: one strip.
    if view.shows_map() {
        match &view.map {
            Some(Ok(m)) => {
                let tail = format!(" largest free {}", fmt_bytes(m.largest_free.size));
                let cells = w.saturating_sub(tail.chars().count() + 6).max(8);
                let mut spans = vec![Span::styled("map |", th.dim())];
                for c in m.cells(cells) {
                    let style = match c {
                        Cell::Module => th.load_marker(),
                        Cell::LargestFree => th.ok(),
                        Cell::Free => th.dim(),
                        Cell::Used(_) => th.vmalloc_used(),
                    };
                    spans.push(Span::styled(c.glyph().to_string(), style));
                }
                spans.push(Span::styled("|", th.dim()));
                spans.push(Span::styled(tail, th.bold()));
                rows.push(Line::from(spans));
            }
            Some(Err(why)) => rows.push(Line::styled(fit(why, w), th.dim())),
            None => {}
        }
    }

    // The table.
    let since_load = view.since_load.as_ref();
    let cols_load = since_load.is_some();
    // Narrow: tighter columns, a shorter tag, so that the caller keeps its room.
    let (cb, cn, cd) = if wide { (10, 6, 11) } else { (9, 5, 9) };
    let tag = if wide {
        " ◀ vmtop's module"
    } else {
        " ◀ vmtop"
    };
    let head = format!(
        "{:>cb$} {:>cn$} {:>cd$}{}  {:<9} CALLER",
        "BYTES",
        "AREAS",
        "Δ START",
        if cols_load {
            format!(" {:>cd$}", "Δ LOAD")
        } else {
            String::new()
        },
        "KIND"
    );
    rows.push(Line::styled(fit(&head, w), th.dim()));
    let room = usize::from(inner.height).saturating_sub(rows.len());
    let opts = TableOptions {
        sort: view.sort,
        kind: None,
        limit: room,
    };
    for g in select(s, &opts) {
        let d_start = view
            .since_start
            .as_ref()
            .map_or_else(|| "-".into(), |b| fmt_signed_bytes(b.delta(g).0));
        let mut line = format!(
            "{:>cb$} {:>cn$} {:>cd$}",
            fmt_bytes(g.bytes),
            g.count,
            d_start
        );
        if let Some((_, b)) = since_load {
            line.push_str(&format!(" {:>cd$}", fmt_signed_bytes(b.delta(g).0)));
        }
        line.push_str(&format!("  {:<9} {}", g.kind.name(), g.caller));
        if g.module {
            line.push_str(tag);
        }
        let style = if g.module {
            th.load_marker()
        } else {
            th.plain()
        };
        rows.push(Line::styled(fit(&line, w), style));
    }
    super::render_wrapped(f, inner, rows);
}
