//! Bottom line: the keys for what is on screen (from the key table), or the last notice.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::keys::{groups, Group, STEP_BIG_MIB, STEP_SMALL_MIB};
use crate::app::{App, Mode};

/// How the footer names a group's keys and what they do now; None: not in the footer.
fn item(g: Group, app: &App) -> Option<(&'static str, String)> {
    let mode = app.mode();
    Some(match g {
        Group::Load => ("l", "load".into()),
        Group::Unload => ("u", "unload".into()),
        Group::Reload => ("r", "reload".into()),
        Group::Step => ("+-", format!("{STEP_SMALL_MIB}M")),
        Group::BigStep => ("][", format!("{STEP_BIG_MIB}M")),
        Group::Probe => ("p", "probe".into()),
        Group::Mode => ("m", if app.oom_safe { "unsafe" } else { "safe" }.into()),
        Group::Alloc => ("a", app.next_alloc().name().into()),
        Group::Buddy => (
            "b",
            if app.buddy_pane {
                "hide buddy"
            } else {
                "buddy"
            }
            .into(),
        ),
        Group::Freeze => (
            "f",
            if app.frozen_at.is_some() {
                "unfreeze"
            } else {
                "freeze"
            }
            .into(),
        ),
        Group::Window => ("z", app.window.next().label().into()),
        // Only while there is a failure to explain.
        Group::Why if app.failure.is_some() => ("w", "why".into()),
        Group::Help => ("?", "help".into()),
        Group::Quit if mode == Mode::Confirm => return None,
        Group::Quit => ("q", "quit".into()),
        Group::Yes => ("y", "yes".into()),
        Group::No => ("n/Esc", "no".into()),
        Group::Close if mode == Mode::Help => ("Esc/?", "close help".into()),
        Group::Close => ("Esc/w", "close".into()),
        Group::TypeDigits => ("0-9 K M G", "memsize".into()),
        Group::Set => ("Enter", "set".into()),
        Group::Delete => ("Bksp", "delete".into()),
        Group::Cancel => ("Esc", "cancel".into()),
        Group::Why | Group::Type | Group::Dismiss => return None,
    })
}

/// (key, what it does) for the current mode.
pub fn keys(app: &App) -> Vec<(Group, &'static str, String)> {
    groups(app.mode())
        .into_iter()
        .filter_map(|g| item(g, app).map(|(k, w)| (g, k, w)))
        .collect()
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
    let width = |items: &[(Group, &str, String)]| -> usize {
        items
            .iter()
            .map(|(_, k, w)| k.chars().count() + w.chars().count() + 3)
            .sum()
    };
    for drop in [
        Group::Freeze,
        Group::Window,
        Group::Probe,
        Group::Reload,
        Group::BigStep,
    ] {
        if width(&items) <= usize::from(area.width) + 2 {
            break;
        }
        items.retain(|(g, _, _)| *g != drop);
    }
    let mut spans = Vec::new();
    for (_, k, what) in items {
        spans.push(Span::styled(k, th.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    f.render_widget(Line::from(spans), area);
}
