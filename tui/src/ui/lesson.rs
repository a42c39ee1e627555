//! The lesson pane: step k of n, what the teacher says, the question, and after the action
//! what the kernel answered. The answer and the notice are shown only when the kernel agreed
//! with the lesson; when it did not, the pane says so, with what happened and vmtop's
//! diagnosis, and leaves the lesson's answer unsaid.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::{sym, Theme};
use crate::app::lesson::LessonState;
use crate::app::App;
use crate::lesson::run::{Answer, Page};
use crate::lesson::{Question, Step};

/// The pane's title: `Lesson · why-vmalloc · step 4 of 10`.
fn title(l: &LessonState) -> String {
    let (k, n) = l.run.position();
    let part = match l.run.page() {
        Page::Part(p) | Page::Step(p, _) | Page::Skipped(p) if l.run.lesson.parts.len() > 1 => {
            format!(" · part {}/{}", p + 1, l.run.lesson.parts.len())
        }
        _ => String::new(),
    };
    let where_ = match l.run.page() {
        Page::Step(..) => format!(" · step {k} of {n}"),
        Page::Title => " · start".to_string(),
        Page::End => " · end".to_string(),
        Page::Part(_) | Page::Skipped(_) => String::new(),
    };
    format!(" Lesson · {}{part}{where_} ", l.run.lesson.name)
}

fn choices(q: &Question, th: &Theme) -> Vec<Line<'static>> {
    let mut v = vec![Line::from(vec![
        Span::styled("? ", th.key()),
        Span::styled(q.ask.clone(), th.bold()),
    ])];
    let mut spans = Vec::new();
    for (i, c) in q.choices.iter().enumerate() {
        spans.push(Span::styled(
            format!("  {}) ", Question::letter(i)),
            th.key(),
        ));
        spans.push(Span::raw(c.clone()));
    }
    v.push(Line::from(spans));
    v
}

/// What the kernel answered, and, only when it agreed, the lesson's answer and notice.
fn answered(step: &Step, a: &Answer, th: &Theme) -> Vec<Line<'static>> {
    let mut v = Vec::new();
    let happened = a.observation.happened();
    match &a.verdict {
        Some(verdict) if verdict.agreed => {
            v.push(Line::from(vec![
                Span::styled(format!("{} The kernel agreed: ", sym::AGREE), th.ok()),
                Span::raw(happened),
            ]));
            if let Some(q) = &step.question {
                v.push(Line::from(vec![
                    Span::styled("Answer: ", th.bold()),
                    Span::styled(
                        format!("{}) {}", Question::letter(q.answer), q.choices[q.answer]),
                        th.ok(),
                    ),
                ]));
            }
            if let Some(n) = &step.notice {
                v.push(Line::from(vec![
                    Span::styled("Notice: ", th.bold()),
                    Span::raw(n.clone()),
                ]));
            }
        }
        Some(verdict) => {
            v.push(Line::from(Span::styled(
                format!(
                    "{} The kernel answered differently from this lesson.",
                    sym::FAIL
                ),
                th.failure(),
            )));
            v.push(Line::from(vec![
                Span::styled("What happened: ", th.bold()),
                Span::raw(happened),
            ]));
            if let Some(s) = &a.observation.summary {
                v.push(Line::from(vec![
                    Span::styled("vmtop's diagnosis: ", th.bold()),
                    Span::styled(s.clone(), th.failure_text()),
                ]));
            }
            if let Some(e) = &step.expect {
                v.push(Line::from(vec![
                    Span::styled("The lesson expected: ", th.bold()),
                    Span::raw(e.describe()),
                ]));
            }
            // A figure out of its range is not in the two lines above: say which.
            for d in verdict
                .differences
                .iter()
                .filter(|d| !d.starts_with("outcome:") && !d.starts_with("cause:"))
            {
                v.push(Line::from(Span::styled(d.clone(), th.failure_text())));
            }
            if step.question.is_some() {
                v.push(Line::from(Span::styled(
                    "The lesson's answer assumed what it expected: ask the class why this machine differs.",
                    th.dim(),
                )));
            }
        }
        None => {
            v.push(Line::from(vec![
                Span::styled("What happened: ", th.bold()),
                Span::raw(happened),
            ]));
            if let Some(s) = a
                .observation
                .summary
                .as_ref()
                .filter(|_| a.observation.cause.is_some())
            {
                v.push(Line::from(vec![
                    Span::styled("vmtop's diagnosis: ", th.bold()),
                    Span::raw(s.clone()),
                ]));
            }
        }
    }
    v
}

/// The pane's text (no title: `render` draws it).
pub fn lines(app: &App, th: &Theme) -> Vec<Line<'static>> {
    text(app, th, true)
}

/// The pane's text; without what the teacher said (`say`) once the kernel has answered, when
/// the pane is short of rows: the answer matters more then, and it was said already.
fn text(app: &App, th: &Theme, say: bool) -> Vec<Line<'static>> {
    let Some(l) = &app.lesson else {
        return Vec::new();
    };
    let run = &l.run;
    let key = |k: &str, what: String| {
        Line::from(vec![
            Span::styled(k.to_string(), th.key()),
            Span::styled(format!(" {what}"), th.dim()),
        ])
    };
    let mut v: Vec<Line<'static>> = Vec::new();
    match run.page() {
        Page::Title => {
            v.push(Line::from(Span::styled(
                run.lesson.title.clone(),
                th.title(),
            )));
            v.push(Line::from(run.lesson.summary.clone()));
            let parts: Vec<String> = run
                .lesson
                .parts
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}. {} ({})", i + 1, p.title, p.machine.describe()))
                .collect();
            for p in parts {
                v.push(Line::from(Span::styled(p, th.dim())));
            }
            v.push(key("n", "begins".into()));
        }
        Page::Part(p) => {
            let part = &run.lesson.parts[p];
            v.push(Line::from(Span::styled(
                format!("Part {}: {}", p + 1, part.title),
                th.title(),
            )));
            v.push(Line::from(Span::styled(
                format!("On {}", part.machine.describe()),
                th.dim(),
            )));
            if let Some(i) = &part.intro {
                v.push(Line::from(i.clone()));
            }
            v.push(key("n", "first step".into()));
        }
        Page::Skipped(p) => {
            let part = &run.lesson.parts[p];
            v.push(Line::from(Span::styled(
                format!("Part {}: {}", p + 1, part.title),
                th.title(),
            )));
            v.push(Line::from(Span::styled(
                format!(
                    "Skipped here: it needs {}. Run it in the lab VM with:",
                    part.machine.describe()
                ),
                th.warn(),
            )));
            v.push(Line::from(Span::styled(
                format!("  {}", run.lab_command(p)),
                th.bold(),
            )));
            v.push(key("n", "goes on".into()));
        }
        Page::Step(p, s) => {
            let step = &run.lesson.parts[p].steps[s];
            if let Some(t) = &step.title {
                v.push(Line::from(Span::styled(t.clone(), th.title())));
            }
            let answer = run.answer(p, s);
            if say || answer.is_none() || step.action.is_none() {
                v.push(Line::from(step.say.clone()));
            }
            let running = run.running.is_some_and(|(at, _)| at == (p, s));
            match (answer, &step.action) {
                (Some(a), Some(_)) => v.extend(answered(step, a, th)),
                (_, None) => {
                    if let Some(n) = &step.notice {
                        v.push(Line::from(vec![
                            Span::styled("Notice: ", th.bold()),
                            Span::raw(n.clone()),
                        ]));
                    }
                    v.push(key("n", "next".into()));
                }
                (None, Some(action)) => {
                    if let Some(q) = &step.question {
                        v.extend(choices(q, th));
                    }
                    if running {
                        let left = l
                            .timer_left(app.now)
                            .map(|s| format!(" ({s:.0} s left)"))
                            .unwrap_or_default();
                        v.push(Line::from(Span::styled(
                            format!("running: {}{left}...", action.describe()),
                            th.busy(),
                        )));
                    } else {
                        v.push(key("n", format!("runs: {}", action.describe())));
                    }
                }
            }
        }
        Page::End => {
            let (agreed, differed, unchecked) = run.tally();
            v.push(Line::from(Span::styled(
                format!("The lesson is over: {}", run.lesson.title),
                th.title(),
            )));
            v.push(Line::from(format!(
                "{agreed} steps agreed with the kernel, {differed} did not, {unchecked} had nothing to check."
            )));
            for r in run.records.iter().filter(|r| r.agreed == Some(false)) {
                v.push(Line::from(Span::styled(
                    format!(
                        "part {} step {}: {}",
                        r.part,
                        r.step.unwrap_or(0),
                        r.differences.first().cloned().unwrap_or_default()
                    ),
                    th.failure_text(),
                )));
            }
            for r in run.records.iter().filter(|r| r.run_with.is_some()) {
                v.push(Line::from(Span::styled(
                    format!(
                        "part {} skipped: {}",
                        r.part,
                        r.run_with.clone().unwrap_or_default()
                    ),
                    th.dim(),
                )));
            }
            v.push(key("q", "quits, b goes back".into()));
        }
    }
    if let Some(o) = run.off_script.last() {
        v.push(Line::from(Span::styled(o.clone(), th.warn())));
    }
    v
}

/// Rows the pane wants at `width` columns: its title and its text, wrapped.
pub fn height(app: &App, width: u16, th: &Theme) -> u16 {
    super::boxed_height(&lines(app, th), width.saturating_add(2)).saturating_sub(1)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let Some(l) = &app.lesson else {
        return;
    };
    let body = super::title_rule(f, area, Line::styled(title(l), th.title()), th);
    if body.is_empty() {
        return;
    }
    let mut text = lines(app, th);
    if super::boxed_height(&text, body.width.saturating_add(2)).saturating_sub(2) > body.height {
        text = self::text(app, th, false);
    }
    f.render_widget(
        ratatui::widgets::Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
        body,
    );
}
