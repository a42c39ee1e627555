//! Bottom line: the keys for what is on screen, or the last notice.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::{App, Mode};

/// (key, what it does) for the current mode.
pub fn keys(app: &App) -> Vec<(&'static str, String)> {
    match app.mode() {
        Mode::Confirm => vec![("y", "yes".into()), ("n/Esc", "no".into())],
        Mode::Help => vec![("Esc/?", "close help".into()), ("q", "quit".into())],
        Mode::Why => vec![("Esc/w", "close".into()), ("q", "quit".into())],
        Mode::Typing => vec![
            ("0-9 K M G", "memsize".into()),
            ("Enter", "set".into()),
            ("Bksp", "delete".into()),
            ("Esc", "cancel".into()),
        ],
        Mode::Normal => vec![
            ("l", "load".into()),
            ("u", "unload".into()),
            ("r", "reload".into()),
            ("+-", "16M".into()),
            ("][", "256M".into()),
            ("p", "probe".into()),
            ("m", if app.oom_safe { "unsafe" } else { "safe" }.into()),
            (
                "f",
                if app.frozen_at.is_some() {
                    "unfreeze"
                } else {
                    "freeze"
                }
                .into(),
            ),
            ("z", app.window.next().label().into()),
            ("w", "why".into()),
            ("?", "help".into()),
            ("q", "quit".into()),
        ]
        .into_iter()
        // Only while there is a failure to explain.
        .filter(|(k, _)| *k != "w" || app.failure.is_some())
        .collect(),
    }
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    if let Some(n) = &app.notice {
        f.render_widget(
            Line::from(vec![
                Span::styled("» ", th.key()),
                Span::styled(n.clone(), th.bold()),
            ]),
            area,
        );
        return;
    }
    // Drop the least needed keys (all are in the help) until the line fits.
    let mut items = keys(app);
    let width = |items: &[(&str, String)]| -> usize {
        items
            .iter()
            .map(|(k, w)| k.chars().count() + w.chars().count() + 3)
            .sum()
    };
    for drop in ["f", "z", "p", "r"] {
        if width(&items) <= usize::from(area.width) + 2 {
            break;
        }
        items.retain(|(k, _)| *k != drop);
    }
    let mut spans = Vec::new();
    for (k, what) in items {
        spans.push(Span::styled(k, th.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    f.render_widget(Line::from(spans), area);
}
