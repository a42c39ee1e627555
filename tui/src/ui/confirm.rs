//! The y/N dialog: exactly what will be done to the kernel, and why / what can happen.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::centered;
use super::theme::{sym, Theme};
use crate::app::state::Pending;
use crate::app::App;

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let Some(c) = &app.confirm else {
        return;
    };
    let dangerous = match c.pending {
        Pending::UnsafeMode => true,
        Pending::Load(r) | Pending::Reload(r) => !r.oom_safe,
        Pending::Probe { oom_safe } => !oom_safe,
        Pending::QuitUnload => false,
    };
    let mut lines = vec![Line::styled("Will do:", th.bold())];
    for a in &c.actions {
        lines.push(Line::styled(format!("  {a}"), th.key()));
    }
    lines.push(Line::raw(""));
    for w in &c.why {
        let style = if w.starts_with(sym::WARN) || w.contains("KILL") {
            th.warn()
        } else {
            th.plain()
        };
        lines.push(Line::styled(w.clone(), style));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" y ", th.alert()),
        Span::raw(format!(" {}    ", c.yes)),
        Span::styled(" n ", th.bold()),
        Span::raw(format!(" / Esc  {}", c.no)),
    ]));

    let width = area.width.saturating_sub(4).clamp(20, 100);
    let needed = super::boxed_height(&lines, width);
    let rect = centered(area, width, needed.min(area.height));
    let title_style = if dangerous { th.alert() } else { th.title() };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if dangerous { th.warn() } else { th.plain() })
        .title(Line::styled(format!(" {} ", c.title), title_style));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
