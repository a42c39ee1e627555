//! The help overlay: keys, and what the charts show.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::centered;
use super::theme::{sym, Theme};
use crate::app::keys::{STEP_BIG_MIB, STEP_SMALL_MIB};
use crate::app::App;

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    if !app.help {
        return;
    }
    let k = |key: &str, what: String| {
        Line::from(vec![
            Span::styled(format!("{key:>11}  "), th.key()),
            Span::raw(what),
        ])
    };
    let lines = vec![
        k("l", "load alloc_large_mem with the memsize shown (asks first)".into()),
        k("u / r", "unload / reload with the new memsize".into()),
        k("+ - ↑ ↓", format!("memsize ± {STEP_SMALL_MIB} MiB")),
        k("] [ PgUp/Dn", format!("memsize ± {STEP_BIG_MIB} MiB (also Shift+↑/↓, _)")),
        k("0-9 K M G", "type a memsize (300, 2G, 4096K), Enter sets it".into()),
        k("p", "probe: find the largest memsize that loads (safe mode)".into()),
        k("m", "SAFE/UNSAFE: unsafe lets the OOM killer kill processes".into()),
        k("f / z", format!("freeze the charts / window (now {})", app.window.label())),
        k("w", "why the last load failed: the whole diagnosis, its kernel lines".into()),
        k("Esc", "close, cancel, or hide the failure banner".into()),
        k("q Ctrl-C", "quit (asks whether to unload a loaded module)".into()),
        Line::raw(""),
        Line::from(vec![
            Span::styled(format!("{} load  ", sym::LOAD), th.load_marker()),
            Span::styled(format!("{} unload  ", sym::UNLOAD), th.unload_marker()),
            Span::styled(format!("{} failure", sym::FAIL), th.failure()),
            Span::raw(": markers on both charts at that moment"),
        ]),
        Line::raw("MemAvailable: what can be allocated without swapping; MemFree: unused."),
        Line::raw("VmallocChunk reads 0 since Linux 4.4: the largest free gap comes from /proc/vmallocinfo (root)."),
    ];
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
