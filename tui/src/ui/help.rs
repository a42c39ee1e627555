//! The help overlay: keys, and what the charts show.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::centered;
use super::theme::{sym, Theme};
use crate::app::keys::{groups, Group, STEP_BIG_MIB, STEP_SMALL_MIB};
use crate::app::{App, Mode};
use crate::module::MODULE_NAME;

/// How the help names a group of the dashboard's keys, and what they do; None: not listed
/// on a line of its own.
fn line(g: Group, app: &App) -> Option<(&'static str, String)> {
    Some(match g {
        Group::Load => (
            "l",
            format!("load {MODULE_NAME} with the memsize shown (asks first)"),
        ),
        Group::Unload => ("u", "unload".into()),
        Group::Reload => (
            "r",
            "reload with the new memsize (unload, then load)".into(),
        ),
        Group::Step => ("+ - ↑ ↓", format!("memsize ± {STEP_SMALL_MIB} MiB")),
        Group::BigStep => (
            "] [ PgUp/Dn",
            format!("memsize ± {STEP_BIG_MIB} MiB (also Shift+↑/↓, _)"),
        ),
        Group::Type => (
            "0-9 K M G",
            "type a memsize (300, 2G, 4096K), Enter sets it".into(),
        ),
        Group::Probe => (
            "p",
            "probe: find the largest memsize that loads (safe mode)".into(),
        ),
        Group::Mode => (
            "m",
            "SAFE/UNSAFE: unsafe lets the OOM killer kill processes".into(),
        ),
        Group::Alloc => (
            "a",
            format!(
                "allocator: {}",
                app.allocators()
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ),
        Group::Buddy => (
            "b",
            "buddyinfo pane: free blocks per order and zone (· none)".into(),
        ),
        Group::Freeze => ("f", "freeze the charts".into()),
        Group::Window => ("z", format!("chart window (now {})", app.window.label())),
        Group::Why => (
            "w",
            "why the last load failed: the whole diagnosis, its kernel lines".into(),
        ),
        Group::Quit => (
            "q Ctrl-C",
            "quit (asks to unload, or to stop a load in flight)".into(),
        ),
        Group::Dismiss => ("Esc", "close, cancel, or hide the failure banner".into()),
        _ => return None,
    })
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
            Span::styled(format!("{} failure", sym::FAIL), th.failure()),
            Span::raw(": markers on both charts at that moment"),
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
