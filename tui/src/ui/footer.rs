//! Bottom line: the keys for what is on screen (from the key table), or the last notice.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::keys::{glyphs, groups, Group};
use crate::app::{App, Mode};

/// What a group's keys do now, as the footer says it; None: not in the footer. Their glyphs
/// are the key table's (`keys::glyphs`).
fn item(g: Group, app: &App) -> Option<(&'static str, String)> {
    let mode = app.mode();
    let words: String = match g {
        Group::Load => "load".into(),
        Group::Unload => "unload".into(),
        Group::Reload => "reload".into(),
        Group::Step => format!("{}M", app.step_mib),
        Group::BigStep => format!("{}M", app.big_step_mib),
        Group::Probe => "probe".into(),
        Group::Mode => if app.oom_safe { "unsafe" } else { "safe" }.into(),
        Group::Alloc => app.next_alloc().name().into(),
        Group::Buddy => if app.buddy_pane {
            "hide buddy"
        } else {
            "buddy"
        }
        .into(),
        Group::Areas => if app.areas_pane {
            "hide areas"
        } else {
            "areas"
        }
        .into(),
        // Only while the pane is open.
        Group::AreasSort if app.areas_pane => format!("by {}", app.areas.sort.next().name()),
        Group::AreasSort => return None,
        Group::Freeze => if app.frozen_at.is_some() {
            "unfreeze"
        } else {
            "freeze"
        }
        .into(),
        Group::Window => app.window.next().label().into(),
        // Only while there is a failure to explain.
        Group::Why if app.failure.is_some() => "why".into(),
        Group::LessonNext => lesson_next_word(app).into(),
        Group::LessonBack => "back".into(),
        Group::Screenshot if !matches!(mode, Mode::Normal | Mode::Lesson) => return None,
        Group::Screenshot => "save screen".into(),
        Group::Help => "help".into(),
        Group::Quit if mode == Mode::Confirm => return None,
        Group::Quit => "quit".into(),
        Group::Yes => "yes".into(),
        Group::No => "no".into(),
        Group::Close if mode == Mode::Help => "close help".into(),
        Group::Close => "close".into(),
        Group::TypeDigits => "memsize".into(),
        Group::Set => "set".into(),
        Group::Delete => "delete".into(),
        Group::Cancel => "cancel".into(),
        Group::Why | Group::Type | Group::Dismiss => return None,
    };
    Some((glyphs(g, mode).footer, words))
}

/// What `n` does on the lesson's page: run the step's action, or go on.
fn lesson_next_word(app: &App) -> &'static str {
    let Some(l) = &app.lesson else { return "next" };
    if l.run.running.is_some() {
        return "running";
    }
    match l.run.step() {
        Some((p, s, step)) if step.action.is_some() && l.run.answer(p, s).is_none() => "run step",
        _ if l.run.finished() => "end",
        _ => "next",
    }
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
    // In a lesson its own keys stay longest: the dashboard's go first (all are in the help).
    let lesson_drops: &[Group] = if app.mode() == Mode::Lesson {
        &[
            Group::Step,
            Group::Alloc,
            Group::Mode,
            Group::Buddy,
            Group::Load,
            Group::Unload,
        ]
    } else {
        &[]
    };
    for drop in [
        Group::AreasSort,
        Group::Areas,
        Group::Screenshot,
        Group::Freeze,
        Group::Window,
        Group::Probe,
        Group::Reload,
        Group::BigStep,
    ]
    .iter()
    .chain(lesson_drops)
    .copied()
    {
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
