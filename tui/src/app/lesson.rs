//! A lesson in the dashboard: the `LessonRun` walked with `n`/Space and `b`, its actions
//! sent to the worker (loads, unloads, probes, compares) or timed here (waits and pauses,
//! while the charts go on), and `--auto` stepping by itself.
//!
//! The dashboard's own keys keep working during a lesson; a load or unload made with them is
//! noted by the lesson as off script (on the pane and in the transcript).

use std::time::Duration;

use super::action::Command;
use super::state::{App, Op};
use crate::engine::{Event, EventKind};
use crate::lesson::run::{timer_observation, LessonRun, Next, Observation};
use crate::lesson::{Action, Pane};

/// How the dashboard starts a lesson (`vmtop lesson`).
#[derive(Debug, Clone)]
pub struct LessonLaunch {
    pub run: LessonRun,
    /// `--auto`, with the pause between pages.
    pub auto: Option<Duration>,
    /// `--transcript FILE`: one JSON line per step.
    pub transcript: Option<std::path::PathBuf>,
}

/// A lesson being run in the dashboard.
#[derive(Debug, Clone)]
pub struct LessonState {
    pub run: LessonRun,
    /// `--auto`: go on by itself, this long after each page.
    pub auto: Option<Duration>,
    /// Session time the next automatic step is due.
    pub next_at: Option<f64>,
    /// The wait or pause in progress (timed here), and when it started.
    pub timer: Option<(Action, f64)>,
    /// The figure a wait watches, MiB, as last read.
    pub figure: Option<f64>,
    /// Quit when the lesson is over (`--auto`).
    pub quit_at_end: bool,
    /// Where the transcript goes (`--transcript`), while it can be written.
    pub transcript: Option<std::path::PathBuf>,
}

impl LessonState {
    pub fn new(run: LessonRun, auto: Option<Duration>) -> LessonState {
        LessonState {
            run,
            auto,
            next_at: auto.map(|d| d.as_secs_f64()),
            timer: None,
            figure: None,
            quit_at_end: auto.is_some(),
            transcript: None,
        }
    }

    /// Seconds left of the wait or pause in progress.
    pub fn timer_left(&self, now: f64) -> Option<f64> {
        let (a, since) = self.timer.as_ref()?;
        let total = match a {
            Action::Pause(d) => d.as_secs_f64(),
            Action::Wait(w) => w.timeout.as_secs_f64(),
            _ => return None,
        };
        Some((since + total - now).max(0.0))
    }
}

impl App {
    /// `n` or Space, or `--auto`'s next step.
    pub fn lesson_next(&mut self) -> Option<Command> {
        let loaded = self.status.loaded;
        let now = self.now;
        let busy = self.busy.as_ref().map(|b| b.what.clone());
        let l = self.lesson.as_mut()?;
        if let Some(what) = busy {
            self.notice = Some(format!("busy: {what} (wait for it to finish)"));
            return None;
        }
        match l.run.next(loaded) {
            Next::Finished => {
                if l.quit_at_end {
                    return self.quit_after_lesson();
                }
                self.notice = Some("the lesson is over: q quits, b goes back".into());
                None
            }
            Next::Moved => {
                self.lesson_page_changed();
                None
            }
            Next::Wait(why) => {
                self.notice = Some(why);
                None
            }
            Next::Run(action) => {
                // Also on a read-only machine: the engine says why nothing was asked of the
                // kernel (`not_attempted`, and its cause), and the lesson shows that, as the
                // unattended runner does.
                let l = self.lesson.as_mut()?;
                l.run.started(now);
                l.next_at = None;
                match action {
                    Action::Wait(_) | Action::Pause(_) => {
                        l.timer = Some((action, now));
                        None
                    }
                    a => {
                        let op = match &a {
                            Action::Load(ld) => Op::Load(crate::engine::LoadRequest {
                                memsize_mib: ld.memsize_mib,
                                oom_safe: ld.oom_safe,
                                force: ld.force,
                                alloc: ld.alloc,
                                fragment_order: ld.fragment_order,
                            }),
                            Action::Unload => Op::Unload {
                                held_mib: self.status.memsize_mib,
                            },
                            _ => Op::Probe,
                        };
                        if matches!(a, Action::Load(_)) {
                            self.clear_failure();
                        }
                        self.start_busy(format!("lesson: {}", a.describe()), op);
                        Some(Command::Lesson(a))
                    }
                }
            }
        }
    }

    /// `b`: the page before.
    pub fn lesson_back(&mut self) {
        if let Some(l) = self.lesson.as_mut() {
            if l.run.back() {
                l.next_at = None;
                self.lesson_page_changed();
            } else if l.run.running.is_some() {
                self.notice = Some("the step's action is running: b waits for it".into());
            }
        }
    }

    /// A new page: open the panes it asks for; `--auto` schedules the next.
    fn lesson_page_changed(&mut self) {
        let now = self.now;
        let Some(l) = self.lesson.as_mut() else {
            return;
        };
        let show: Vec<Pane> = l
            .run
            .step()
            .map(|(_, _, s)| s.show.clone())
            .unwrap_or_default();
        if let Some(d) = l.auto {
            l.next_at = Some(now + d.as_secs_f64());
        }
        for p in show {
            match p {
                Pane::Buddyinfo => self.buddy_pane = true,
            }
        }
    }

    /// The worker's answer to the step's action.
    pub fn on_lesson_done(&mut self, o: Observation) {
        let now = self.now;
        if let Some(l) = self.lesson.as_mut() {
            l.run.on_observation(o);
            if let Some(d) = l.auto {
                l.next_at = Some(now + d.as_secs_f64());
            }
        }
    }

    /// A load or unload event: the lesson's own, or one made off script with the keys.
    pub(super) fn lesson_on_event(&mut self, e: &Event) {
        if let Some(l) = self.lesson.as_mut() {
            let lessons_own = l.run.running.is_some();
            if !lessons_own && e.kind != EventKind::Adopt {
                l.run.on_off_script(e);
            }
        }
    }

    /// The /proc/meminfo figure a wait in progress watches.
    pub fn lesson_figure_wanted(&self) -> Option<String> {
        match self.lesson.as_ref()?.timer.as_ref()? {
            (Action::Wait(w), _) => Some(w.figure.clone()),
            _ => None,
        }
    }

    pub fn on_lesson_figure(&mut self, mib: Option<f64>) {
        if let Some(l) = self.lesson.as_mut() {
            l.figure = mib;
        }
    }

    /// Time passed: a wait or pause may be over, `--auto` may be due. Returns whether the
    /// lesson changed (its pane must be drawn), and what the worker must do, if anything.
    pub fn lesson_due(&mut self) -> (bool, Option<Command>) {
        let now = self.now;
        let idle = self.busy.is_none() && self.pending().is_none();
        let Some(l) = self.lesson.as_mut() else {
            return (false, None);
        };
        if let Some((action, since)) = &l.timer {
            if let Some(o) = timer_observation(action, now - since, l.figure) {
                l.timer = None;
                self.on_lesson_done(o);
                return (true, None);
            }
            return (false, None);
        }
        let due = l.next_at.is_some_and(|t| now >= t);
        if due && idle {
            l.next_at = None;
            return (true, self.lesson_next());
        }
        (false, None)
    }

    /// `--auto` at the end: unload what is loaded and quit, without asking.
    fn quit_after_lesson(&mut self) -> Option<Command> {
        self.should_quit = true;
        if self.status.loaded {
            self.start_busy(
                "unloading before quitting".into(),
                Op::Unload {
                    held_mib: self.status.memsize_mib,
                },
            );
            return Some(Command::Quit { unload: true });
        }
        Some(Command::Quit { unload: false })
    }
}
