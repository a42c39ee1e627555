//! The help overlay: keys, and what the charts show.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::centered;
use super::theme::{sym, Theme};
use crate::app::keys::{glyphs, groups, Group};
use crate::app::{App, Mode};
use crate::module::MODULE_NAME;

/// What a group of the dashboard's keys does, as the help says it; None: not listed on a
/// line of its own. Their glyphs are the key table's (`keys::glyphs`).
fn line(g: Group, app: &App) -> Option<(&'static str, String)> {
    let words: String = match g {
        Group::Load => format!("load {MODULE_NAME} with the memsize shown (asks first)"),
        Group::Unload => "unload".into(),
        Group::Reload => "reload with the new memsize (unload, then load)".into(),
        Group::Step => format!("memsize ± {} MiB", app.step_mib),
        Group::BigStep => format!("memsize ± {} MiB", app.big_step_mib),
        Group::Type => "type a memsize (300, 2G, 4096K), Enter sets it".into(),
        Group::Probe => "probe: find the largest memsize that loads (safe mode)".into(),
        Group::Mode => "SAFE/UNSAFE: unsafe lets the OOM killer kill processes".into(),
        Group::Alloc => format!(
            "allocator: {}",
            app.allocators()
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Group::Buddy => "buddyinfo pane: free blocks per order and zone (· none)".into(),
        Group::Areas => "areas pane: who holds the vmalloc space (root); o orders it".into(),
        Group::Freeze => "freeze the charts".into(),
        Group::Window => format!("chart window (now {})", app.window.label()),
        Group::Why => "why the last load failed: the whole diagnosis, its kernel lines".into(),
        Group::Screenshot => format!(
            "save the screen as SVG and PNG in {} (in help and w too)",
            app.screenshot_dir.display()
        ),
        Group::Quit => "quit (asks to unload, or to stop a load in flight)".into(),
        Group::Dismiss => "close, cancel, or hide the failure banner".into(),
        _ => return None,
    };
    let gl = glyphs(g, Mode::Normal);
    Some((gl.help, format!("{words}{}", gl.also)))
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    if app.mode() != Mode::Help {
        return;
    }
    let k = |key: &str, what: String| {
        Line::from(vec![
            Span::styled(format!("{key:>11}  "), th.key()),
            Span::raw(what),
        ])
    };
    let mut lines: Vec<Line> = groups(Mode::Normal)
        .into_iter()
        .filter_map(|g| line(g, app))
        .map(|(key, what)| k(key, what))
        .collect();
    lines.extend([
        Line::raw(""),
        Line::from(vec![
            Span::styled(format!("{} load  ", sym::LOAD), th.load_marker()),
            Span::styled(format!("{} unload  ", sym::UNLOAD), th.unload_marker()),
            Span::styled(format!("{} failure  ", sym::FAIL), th.failure()),
            Span::styled(format!("{} PSI rose", sym::PRESSURE), th.warn()),
            Span::raw(": markers on the charts"),
        ]),
        Line::raw("MemAvailable: what can be allocated without swapping; MemFree: unused."),
        Line::raw("VmallocChunk reads 0 since Linux 4.4: the largest free gap comes from /proc/vmallocinfo (root)."),
    ]);
    let width = area.width.saturating_sub(2).clamp(20, 96);
    let needed = super::boxed_height(&lines, width);
    let rect = centered(area, width, needed.min(area.height));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::new()
                .borders(Borders::ALL)
                .title(Line::styled(" Help: ? or Esc closes ", th.title())),
        ),
        rect,
    );
}
