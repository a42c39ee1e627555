//! A lesson without a terminal (`--auto` with no terminal, `vmtop replay`): every step in
//! turn through the same `LessonRun` and `exec::perform` as the dashboard, one line printed
//! per step, the transcript written as it goes.

use std::io::Write;
use std::time::{Duration, Instant};

use super::exec::perform;
use super::run::{figure_mib, timer_observation, LessonRun, Next, Page};
use super::Action;
use crate::engine::Engine;

/// How often a wait reads /proc/meminfo.
const WAIT_POLL: Duration = Duration::from_millis(100);

/// Run every step that runs here; `out` gets one line per page, `transcript` one JSON line per
/// step. Returns the (agreed, disagreed, unchecked) tally.
pub fn run(
    lr: &mut LessonRun,
    engine: &mut Engine,
    out: &mut dyn Write,
    transcript: &mut dyn FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<(usize, usize, usize)> {
    loop {
        let page = lr.page();
        let loaded = engine.status().map(|s| s.loaded).unwrap_or(false);
        let next = lr.next(loaded);
        match next {
            Next::Finished => break,
            Next::Moved => {
                if let Page::Skipped(p) = page {
                    writeln!(
                        out,
                        "part {}: skipped, it needs {}: {}",
                        p + 1,
                        lr.lesson.parts[p].machine.describe(),
                        lr.lab_command(p)
                    )?;
                }
                if let Page::Part(p) = page {
                    writeln!(
                        out,
                        "part {}: {} ({})",
                        p + 1,
                        lr.lesson.parts[p].title,
                        lr.lesson.parts[p].machine.describe()
                    )?;
                }
            }
            Next::Wait(why) => {
                // Nothing a person can do here: say it and stop rather than spin.
                anyhow::bail!("the lesson cannot go on unattended: {why}");
            }
            Next::Run(action) => {
                let started = Instant::now();
                lr.started(0.0);
                let o = match &action {
                    Action::Wait(w) => loop {
                        let v = std::fs::read_to_string("/proc/meminfo")
                            .ok()
                            .and_then(|t| figure_mib(&t, &w.figure));
                        if let Some(o) =
                            timer_observation(&action, started.elapsed().as_secs_f64(), v)
                        {
                            break o;
                        }
                        std::thread::sleep(WAIT_POLL);
                    },
                    Action::Pause(d) => {
                        std::thread::sleep(*d);
                        super::run::Observation::bare(super::Outcome::Done)
                    }
                    a => perform(engine, a, &mut |_| {}),
                };
                lr.on_observation(o);
            }
        }
        for r in lr.take_new_records() {
            transcript(&serde_json::to_string(r)?)?;
            if r.step.is_some() {
                let verdict = match r.agreed {
                    Some(true) => "agreed".to_string(),
                    Some(false) => format!("DIFFERENT: {}", r.differences.join("; ")),
                    None => "nothing to check".to_string(),
                };
                let what = match (&r.action, &r.outcome) {
                    (Some(a), Some(o)) => format!(
                        "{a}: {o}{}{}",
                        r.cause
                            .as_ref()
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default(),
                        r.summary
                            .as_ref()
                            .filter(|_| r.agreed != Some(true))
                            .map(|s| format!(": {s}"))
                            .unwrap_or_default()
                    ),
                    _ => "said".to_string(),
                };
                writeln!(
                    out,
                    "part {} step {}: {what} [{verdict}]",
                    r.part,
                    r.step.unwrap_or(0)
                )?;
            }
        }
    }
    let t = lr.tally();
    writeln!(
        out,
        "{}: {} steps agreed with the kernel, {} did not, {} had nothing to check",
        lr.lesson.name, t.0, t.1, t.2
    )?;
    Ok(t)
}
