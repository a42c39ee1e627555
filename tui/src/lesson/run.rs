//! Running a lesson: what the kernel answered to a step (`Observation`), whether that is what
//! the lesson expected (`judge`), the transcript line (`Record`), and the walk through the
//! lesson's pages (`LessonRun`), which the dashboard and the unattended runner both drive.
//!
//! The rule the whole module keeps: a step's question is answered, and its notice said, only
//! when the kernel's answer agreed with the step's expectation. Otherwise the lesson says
//! that the kernel answered differently and shows what happened and vmtop's diagnosis.

use serde::Serialize;
use serde_json::{json, Value};

use super::{cause_name, not_attempted, Action, Expect, Lesson, Machine, Outcome, Range};
use crate::diagnose::{Cause, Confidence};
use crate::engine::{Event, EventKind};
use crate::module::alloc::{Allocator, Layout};
use crate::system::meminfo::Delta;
use crate::units::{fmt_delta_mib, MIB};

/// What the kernel (or vmtop before it) answered to one action.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub outcome: Outcome,
    /// The diagnosis's cause (a failure), or what bound a probe.
    pub cause: Option<Cause>,
    pub confidence: Option<Confidence>,
    /// vmtop's diagnosis in one line (a failure), or a probe's or compare's answer.
    pub summary: Option<String>,
    /// The memsize loaded or asked for.
    pub memsize_mib: Option<u64>,
    /// What the action changed, bytes.
    pub delta: Option<Delta>,
    /// Where a loaded buffer's pages are: "3887 runs, largest 187 MiB, ...".
    pub layout: Option<String>,
    /// A probe's answer.
    pub largest_mib: Option<u64>,
    /// A compare's answer: the largest size each allocator loaded (0: none).
    pub largest_loaded_mib: Vec<(Allocator, u64)>,
}

impl Observation {
    pub fn bare(outcome: Outcome) -> Observation {
        Observation {
            outcome,
            cause: None,
            confidence: None,
            summary: None,
            memsize_mib: None,
            delta: None,
            layout: None,
            largest_mib: None,
            largest_loaded_mib: Vec::new(),
        }
    }

    /// From a load or unload event (`layout`: read while the module held the buffer).
    pub fn from_event(e: &Event, layout: Option<&Layout>) -> Observation {
        let outcome = match (e.kind, e.diagnosis()) {
            (EventKind::Unload, None) => Outcome::Unloaded,
            (_, None) => Outcome::Loaded,
            (EventKind::Load, Some(d)) if not_attempted(d.cause) => Outcome::NotAttempted,
            (_, Some(_)) => Outcome::Failed,
        };
        let d = e.diagnosis();
        Observation {
            outcome,
            cause: d.map(|d| d.cause),
            confidence: d.map(|d| d.confidence),
            summary: d.map(|d| d.summary.clone()),
            memsize_mib: Some(e.memsize_mib).filter(|m| *m > 0),
            delta: e.delta,
            layout: layout.map(Layout::one_line),
            ..Observation::bare(outcome)
        }
    }

    /// What happened, in one line for the pane and the unattended runner.
    pub fn happened(&self) -> String {
        let mut s = self.outcome.name().replace('_', " ");
        if let Some(c) = self.cause {
            s.push_str(&format!(" ({}", cause_name(c)));
            if let Some(conf) = self.confidence {
                s.push_str(&format!(", {}", confidence_name(conf)));
            }
            s.push(')');
        }
        if let Some(d) = self
            .delta
            .filter(|_| matches!(self.outcome, Outcome::Loaded | Outcome::Unloaded))
        {
            s.push_str(&format!(
                ": MemFree {}, MemAvailable {}, VmallocUsed {}",
                fmt_delta_mib(d.mem_free),
                fmt_delta_mib(d.mem_available),
                fmt_delta_mib(d.vmalloc_used)
            ));
        }
        if let Some(l) = &self.layout {
            s.push_str(&format!("; {l}"));
        }
        if let Some(m) = self.largest_mib {
            s.push_str(&format!(": largest {m} MiB"));
        }
        if !self.largest_loaded_mib.is_empty() {
            let parts: Vec<String> = self
                .largest_loaded_mib
                .iter()
                .map(|(a, m)| match m {
                    0 => format!("{a} none"),
                    m => format!("{a} up to {m} MiB"),
                })
                .collect();
            s.push_str(&format!(": {}", parts.join(", ")));
        }
        s
    }
}

/// How sure a diagnosis is, as `--json` names it.
pub fn confidence_name(c: Confidence) -> String {
    c.name().to_string()
}

/// The kernel's answer against the lesson's.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub agreed: bool,
    /// What differed, one line each ("outcome: expected failed, the kernel answered loaded").
    pub differences: Vec<String>,
}

fn mib(bytes: i64) -> f64 {
    bytes as f64 / MIB as f64
}

/// Compare what happened with what the step expected.
pub fn judge(e: &Expect, o: &Observation) -> Verdict {
    let mut diff = Vec::new();
    if e.outcome != o.outcome {
        diff.push(format!(
            "outcome: expected {}, the kernel answered {}",
            e.outcome.name(),
            o.outcome.name()
        ));
    } else if let Some(want) = e.cause {
        if o.cause != Some(want) {
            diff.push(format!(
                "cause: expected {}, vmtop's diagnosis is {}",
                cause_name(want),
                o.cause.map(cause_name).unwrap_or_else(|| "none".into())
            ));
        }
    }
    let figure = |diff: &mut Vec<String>, name: &str, want: Option<Range>, got: Option<i64>| {
        let Some(r) = want else { return };
        match got {
            Some(b) if r.low <= mib(b) && mib(b) <= r.high => {}
            Some(b) => diff.push(format!(
                "{name} changed by {}, expected {r}",
                fmt_delta_mib(b)
            )),
            None => diff.push(format!("{name}: not measured, expected {r}")),
        }
    };
    // Figures are checked only when the outcome is the one expected: the difference that
    // matters is said first, and alone.
    if diff.is_empty() {
        figure(
            &mut diff,
            "MemFree",
            e.mem_free_mib,
            o.delta.map(|d| d.mem_free),
        );
        figure(
            &mut diff,
            "MemAvailable",
            e.mem_available_mib,
            o.delta.map(|d| d.mem_available),
        );
        figure(
            &mut diff,
            "VmallocUsed",
            e.vmalloc_used_mib,
            o.delta.map(|d| d.vmalloc_used),
        );
        if let Some(r) = e.largest_mib {
            match o.largest_mib {
                Some(m) if r.low <= m as f64 && m as f64 <= r.high => {}
                Some(m) => diff.push(format!("the largest load was {m} MiB, expected {r}")),
                None => diff.push(format!("nothing loaded, expected the largest {r}")),
            }
        }
        for (a, want) in &e.largest_loaded_mib {
            let got = o
                .largest_loaded_mib
                .iter()
                .find(|(x, _)| x == a)
                .map(|(_, m)| *m);
            if got != Some(*want) {
                diff.push(format!(
                    "{a} loaded up to {}, expected {}",
                    got.map(|m| format!("{m} MiB"))
                        .unwrap_or_else(|| "nothing".into()),
                    match want {
                        0 => "nothing".to_string(),
                        m => format!("{m} MiB"),
                    }
                ));
            }
        }
    }
    Verdict {
        agreed: diff.is_empty(),
        differences: diff,
    }
}

/// The expectation as the transcript writes it.
pub fn expect_json(e: &Expect) -> Value {
    let range = |r: Option<Range>| r.map(|r| json!([r.low, r.high]));
    let mut v = json!({ "outcome": e.outcome.name() });
    if let Some(c) = e.cause {
        v["cause"] = json!(cause_name(c));
    }
    for (k, r) in [
        ("mem_free_mib", e.mem_free_mib),
        ("mem_available_mib", e.mem_available_mib),
        ("vmalloc_used_mib", e.vmalloc_used_mib),
        ("largest_mib", e.largest_mib),
    ] {
        if let Some(r) = range(r) {
            v[k] = r;
        }
    }
    if !e.largest_loaded_mib.is_empty() {
        v["largest_loaded_mib"] = e
            .largest_loaded_mib
            .iter()
            .map(|(a, m)| (a.name().to_string(), json!(m)))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    v
}

/// The machine a transcript line ran on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineFacts {
    pub arch: String,
    pub mem_mib: u64,
    pub swap_mib: u64,
    pub append: Option<String>,
}

impl MachineFacts {
    /// A lab part's machine as it was booted.
    pub fn of_lab(m: &super::LabMachine) -> MachineFacts {
        MachineFacts {
            arch: m.arch.name().to_string(),
            mem_mib: m.mem_mib,
            swap_mib: m.swap_mib,
            append: m.append.clone(),
        }
    }

    /// This machine: its architecture, MemTotal and SwapTotal (MiB, rounded).
    pub fn here(meminfo: &str, machine: &str) -> MachineFacts {
        let kb = |key: &str| {
            meminfo.lines().find_map(|l| {
                let rest = l.strip_prefix(key)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse::<u64>().ok()
            })
        };
        let round = |kib: Option<u64>| kib.map(|k| (k + 512) / 1024).unwrap_or(0);
        MachineFacts {
            arch: match machine {
                "i386" | "i486" | "i586" | "i686" => "i386".to_string(),
                m => m.to_string(),
            },
            mem_mib: round(kb("MemTotal")),
            swap_mib: round(kb("SwapTotal")),
            append: None,
        }
    }
}

/// One line of the transcript (`--transcript FILE`, JSON lines).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub lesson: String,
    /// 1-based.
    pub part: usize,
    /// 1-based within the part; None for a part that was skipped here.
    pub step: Option<usize>,
    pub title: Option<String>,
    pub machine: MachineFacts,
    pub kernel: String,
    /// What the step did (`load 300 MiB vmalloc, unsafe (forced)`); None: it only spoke.
    pub action: Option<String>,
    pub memsize_mib: Option<u64>,
    /// loaded, failed, not_attempted, unloaded, reached, timed_out, done; `skipped` for a
    /// part that needs another machine; None for a step that only spoke.
    pub outcome: Option<String>,
    /// The diagnosis's cause as `--json` names it.
    pub cause: Option<String>,
    pub confidence: Option<String>,
    pub summary: Option<String>,
    /// MemFree, MemAvailable, VmallocUsed changes, MiB.
    pub delta_mib: Option<Value>,
    pub layout: Option<String>,
    pub largest_mib: Option<u64>,
    pub largest_loaded_mib: Option<Value>,
    /// /proc/meminfo after the action, MiB: the machine as the kernel saw it (MemTotal,
    /// SwapTotal, LowTotal, VmallocTotal...).
    pub figures_mib: Option<Value>,
    pub expected: Option<Value>,
    /// Whether the kernel's answer agreed with `expected` (None: nothing to check).
    pub agreed: Option<bool>,
    pub differences: Vec<String>,
    /// A load or unload made from the dashboard's keys, not by the lesson.
    pub off_script: bool,
    /// The command that runs a skipped part.
    pub run_with: Option<String>,
}

/// A page of the lesson, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The lesson's title and summary.
    Title,
    /// A part's title, machine and intro.
    Part(usize),
    /// A step (part, step).
    Step(usize, usize),
    /// A part that needs another machine: the command that runs it.
    Skipped(usize),
    /// The tally.
    End,
}

/// What a step came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub observation: Observation,
    /// None: the step had no expectation.
    pub verdict: Option<Verdict>,
}

/// What `next` asks the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run this action (the step's); report with `on_observation`.
    Run(Action),
    /// The page changed.
    Moved,
    /// Nothing to do now, and why (for the footer).
    Wait(String),
    /// The last page was passed.
    Finished,
}

/// Where a lesson runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Here {
    /// This is the lab VM booted for a part (its lab machine is this machine).
    pub in_lab: bool,
    /// Only this part (0-based).
    pub only_part: Option<usize>,
    /// This machine, for the transcript's "this" parts.
    pub facts: MachineFacts,
    pub kernel: String,
    /// What names the lesson in a command (`article-2009`, or the file's path).
    pub lesson_arg: String,
}

/// A lesson being run.
#[derive(Debug, Clone)]
pub struct LessonRun {
    pub lesson: Lesson,
    pub here: Here,
    pub pages: Vec<Page>,
    /// Index into `pages`.
    pub at: usize,
    /// The furthest page reached (`b` goes back to look; `n` returns).
    pub reached: usize,
    /// answers[part][step].
    pub answers: Vec<Vec<Option<Answer>>>,
    /// The step whose action runs now, and when it started (session seconds).
    pub running: Option<((usize, usize), f64)>,
    /// Transcript lines, in order; `written` of them are out.
    pub records: Vec<Record>,
    written: usize,
    /// Loads and unloads made from the dashboard's keys during the lesson.
    pub off_script: Vec<String>,
}

impl LessonRun {
    pub fn new(lesson: Lesson, here: Here) -> LessonRun {
        let mut pages = Vec::new();
        if here.only_part.is_none_or(|p| p == 0) {
            pages.push(Page::Title);
        }
        for (i, part) in lesson.parts.iter().enumerate() {
            if here.only_part.is_some_and(|p| p != i) {
                continue;
            }
            let runs_here = here.in_lab || part.machine == Machine::This;
            if !runs_here {
                pages.push(Page::Skipped(i));
                continue;
            }
            pages.push(Page::Part(i));
            pages.extend((0..part.steps.len()).map(|s| Page::Step(i, s)));
        }
        pages.push(Page::End);
        let answers = lesson
            .parts
            .iter()
            .map(|p| vec![None; p.steps.len()])
            .collect();
        LessonRun {
            lesson,
            here,
            pages,
            at: 0,
            reached: 0,
            answers,
            running: None,
            records: Vec::new(),
            written: 0,
            off_script: Vec::new(),
        }
    }

    pub fn page(&self) -> Page {
        self.pages.get(self.at).copied().unwrap_or(Page::End)
    }

    /// Steps that run here, and which of them (1-based) the page is: "step k of n".
    pub fn position(&self) -> (usize, usize) {
        let steps: Vec<usize> = self
            .pages
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p, Page::Step(..)))
            .map(|(i, _)| i)
            .collect();
        let k = steps.iter().filter(|i| **i <= self.at).count();
        (k, steps.len())
    }

    pub fn answer(&self, part: usize, step: usize) -> Option<&Answer> {
        self.answers.get(part)?.get(step)?.as_ref()
    }

    /// The step shown, if the page is one.
    pub fn step(&self) -> Option<(usize, usize, &super::Step)> {
        match self.page() {
            Page::Step(p, s) => Some((p, s, self.lesson.parts.get(p)?.steps.get(s)?)),
            _ => None,
        }
    }

    /// The command that runs part `p` (0-based) in the lab.
    pub fn lab_command(&self, p: usize) -> String {
        format!(
            "vmtop lab --lesson {} --part {}",
            self.here.lesson_arg,
            p + 1
        )
    }

    /// (agreed, disagreed, unchecked) steps so far.
    pub fn tally(&self) -> (usize, usize, usize) {
        let mut t = (0, 0, 0);
        for a in self.answers.iter().flatten().flatten() {
            match &a.verdict {
                Some(v) if v.agreed => t.0 += 1,
                Some(_) => t.1 += 1,
                None => t.2 += 1,
            }
        }
        t
    }

    fn facts(&self, part: usize) -> MachineFacts {
        match self.lesson.parts.get(part).map(|p| &p.machine) {
            Some(Machine::Lab(m)) => MachineFacts::of_lab(m),
            _ => self.here.facts.clone(),
        }
    }

    fn record(&self, part: usize, step: Option<usize>) -> Record {
        let s = step.and_then(|s| self.lesson.parts.get(part)?.steps.get(s));
        Record {
            lesson: self.lesson.name.clone(),
            part: part + 1,
            step: step.map(|s| s + 1),
            title: s.and_then(|s| s.title.clone()),
            machine: self.facts(part),
            kernel: self.here.kernel.clone(),
            action: s.and_then(|s| s.action.as_ref()).map(Action::describe),
            memsize_mib: None,
            outcome: None,
            cause: None,
            confidence: None,
            summary: None,
            delta_mib: None,
            layout: None,
            largest_mib: None,
            largest_loaded_mib: None,
            figures_mib: None,
            expected: s.and_then(|s| s.expect.as_ref()).map(expect_json),
            agreed: None,
            differences: Vec::new(),
            off_script: false,
            run_with: None,
        }
    }

    fn fill(r: &mut Record, o: &Observation) {
        r.figures_mib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .map(|t| figures_json(&t));
        r.memsize_mib = o.memsize_mib;
        r.outcome = Some(o.outcome.name().to_string());
        r.cause = o.cause.map(cause_name);
        r.confidence = o.confidence.map(confidence_name);
        r.summary = o.summary.clone();
        r.delta_mib = o.delta.map(|d| {
            let round = |b: i64| (mib(b) * 10.0).round() / 10.0;
            json!({
                "mem_free": round(d.mem_free),
                "mem_available": round(d.mem_available),
                "vmalloc_used": round(d.vmalloc_used),
            })
        });
        r.layout = o.layout.clone();
        r.largest_mib = o.largest_mib;
        if !o.largest_loaded_mib.is_empty() {
            r.largest_loaded_mib = Some(
                o.largest_loaded_mib
                    .iter()
                    .map(|(a, m)| (a.name().to_string(), json!(m)))
                    .collect::<serde_json::Map<_, _>>()
                    .into(),
            );
        }
    }

    fn go(&mut self, to: usize) {
        self.at = to.min(self.pages.len().saturating_sub(1));
        self.reached = self.reached.max(self.at);
    }

    /// `n`: run the step's action, or go on. `loaded`: whether alloc_large_mem is loaded now.
    pub fn next(&mut self, loaded: bool) -> Next {
        if self.running.is_some() {
            return Next::Wait("the step's action is running".into());
        }
        match self.page() {
            Page::End => Next::Finished,
            Page::Skipped(p) => {
                // Written once, the first time it is passed.
                if self.at >= self.reached {
                    let mut r = self.record(p, None);
                    r.outcome = Some("skipped".into());
                    r.run_with = Some(self.lab_command(p));
                    self.records.push(r);
                }
                self.go(self.at + 1);
                Next::Moved
            }
            Page::Title | Page::Part(_) => {
                self.go(self.at + 1);
                Next::Moved
            }
            Page::Step(p, s) => {
                if self.answer(p, s).is_some() {
                    self.go(self.at + 1);
                    return Next::Moved;
                }
                let Some(step) = self.lesson.parts.get(p).and_then(|x| x.steps.get(s)) else {
                    self.go(self.at + 1);
                    return Next::Moved;
                };
                let Some(action) = step.action.clone() else {
                    // A step that only speaks: on the transcript as said, then on.
                    let r = self.record(p, Some(s));
                    self.records.push(r);
                    if let Some(row) = self.answers.get_mut(p) {
                        row[s] = Some(Answer {
                            observation: Observation::bare(Outcome::Done),
                            verdict: None,
                        });
                    }
                    self.go(self.at + 1);
                    return Next::Moved;
                };
                let needs_free = matches!(
                    action,
                    Action::Load(_) | Action::Probe { .. } | Action::Compare { .. }
                );
                if needs_free && loaded {
                    return Next::Wait(format!(
                        "{} is loaded (not by this step): press u to unload it, then n",
                        crate::module::MODULE_NAME
                    ));
                }
                Next::Run(action)
            }
        }
    }

    /// The driver started the action `next` returned, at session time `now`.
    pub fn started(&mut self, now: f64) {
        if let Page::Step(p, s) = self.page() {
            self.running = Some(((p, s), now));
        }
    }

    /// The answer to the running step's action.
    pub fn on_observation(&mut self, o: Observation) {
        let Some(((p, s), _)) = self.running.take() else {
            return;
        };
        let expect = self
            .lesson
            .parts
            .get(p)
            .and_then(|x| x.steps.get(s))
            .and_then(|st| st.expect.as_ref());
        let verdict = expect.map(|e| judge(e, &o));
        let mut r = self.record(p, Some(s));
        Self::fill(&mut r, &o);
        r.agreed = verdict.as_ref().map(|v| v.agreed);
        r.differences = verdict
            .as_ref()
            .map(|v| v.differences.clone())
            .unwrap_or_default();
        self.records.push(r);
        if let Some(row) = self.answers.get_mut(p) {
            row[s] = Some(Answer {
                observation: o,
                verdict,
            });
        }
    }

    /// A load or unload from the dashboard's keys, while no step's action ran.
    pub fn on_off_script(&mut self, e: &Event) {
        let o = Observation::from_event(e, None);
        let what = match e.kind {
            EventKind::Load => format!(
                "load {} MiB {}",
                e.memsize_mib,
                e.alloc.map(|a| a.name()).unwrap_or("vmalloc")
            ),
            EventKind::Unload => "unload".to_string(),
            EventKind::Adopt => return,
        };
        let line = format!("off script: {what}: {}", o.happened());
        let (p, s) = match self.page() {
            Page::Step(p, s) => (p, Some(s)),
            Page::Part(p) | Page::Skipped(p) => (p, None),
            Page::Title | Page::End => (0, None),
        };
        let mut r = self.record(p, s);
        r.title = None;
        r.expected = None;
        r.action = Some(what);
        r.off_script = true;
        Self::fill(&mut r, &o);
        self.records.push(r);
        self.off_script.push(line);
    }

    /// `b`: the page before (to look again; nothing is rerun).
    pub fn back(&mut self) -> bool {
        if self.at == 0 || self.running.is_some() {
            return false;
        }
        self.at -= 1;
        true
    }

    /// Transcript lines not yet written.
    pub fn take_new_records(&mut self) -> &[Record] {
        let new = &self.records[self.written..];
        self.written = self.records.len();
        new
    }

    /// Every step that runs here has its answer.
    pub fn finished(&self) -> bool {
        self.page() == Page::End
    }
}

/// A wait or pause in progress: whether it is over, given the session time and the figure
/// watched (MiB, from /proc/meminfo).
pub fn timer_observation(
    action: &Action,
    elapsed_s: f64,
    figure_mib: Option<f64>,
) -> Option<Observation> {
    match action {
        Action::Pause(d) if elapsed_s >= d.as_secs_f64() => Some(Observation::bare(Outcome::Done)),
        Action::Wait(w) => {
            let crossed = figure_mib.is_some_and(|v| {
                if w.above {
                    v > w.mib as f64
                } else {
                    v < w.mib as f64
                }
            });
            if crossed {
                let mut o = Observation::bare(Outcome::Reached);
                o.summary = figure_mib.map(|v| format!("{} at {v:.1} MiB", w.figure));
                Some(o)
            } else if elapsed_s >= w.timeout.as_secs_f64() {
                let mut o = Observation::bare(Outcome::TimedOut);
                o.summary = Some(format!(
                    "{} did not cross {} MiB in {} s{}",
                    w.figure,
                    w.mib,
                    w.timeout.as_secs(),
                    figure_mib
                        .map(|v| format!(" (last {v:.1} MiB)"))
                        .unwrap_or_default()
                ));
                Some(o)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The /proc/meminfo figures a transcript line carries.
pub const RECORDED: [&str; 9] = [
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "SwapTotal",
    "SwapFree",
    "LowTotal",
    "HighTotal",
    "VmallocTotal",
    "VmallocUsed",
];

/// `RECORDED`'s figures present in `meminfo`, MiB to a tenth.
pub fn figures_json(meminfo: &str) -> Value {
    RECORDED
        .iter()
        .filter_map(|k| {
            figure_mib(meminfo, k).map(|v| (k.to_string(), json!((v * 10.0).round() / 10.0)))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A /proc/meminfo figure, MiB.
pub fn figure_mib(meminfo: &str, name: &str) -> Option<f64> {
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix(':')?;
        let kib: f64 = rest.split_whitespace().next()?.parse().ok()?;
        Some(kib / 1024.0)
    })
}

#[cfg(test)]
mod tests;
