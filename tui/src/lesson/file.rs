//! Reading a lesson file: TOML into raw structures (unknown keys and wrong types refused by
//! serde, with the span of the offending value), then checked step by step for what could
//! not run (a load while the module is still loaded, `vmalloc=` on a 64-bit machine, a
//! question with nothing to check its answer against...). Every error is one line naming the
//! file, the line and what is accepted.

use std::collections::BTreeMap;
use std::ops::Range as Span;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::{
    cause_from_name, cause_name, not_attempted, Action, Expect, LabMachine, Lesson, Load, Machine,
    Outcome, Pane, Part, Question, Range, Step, Wait,
};
use crate::lab::kernel::Arch;
use crate::module::alloc::Allocator;

/// The only format so far.
pub const FORMAT_VERSION: u32 = 1;

/// Longest texts, characters: what the lesson pane shows at 80x24 without scrolling.
pub const MAX_SAY: usize = 360;
pub const MAX_ASK: usize = 120;
pub const MAX_CHOICE: usize = 50;
pub const MAX_CHOICES: usize = 4;
pub const MAX_NOTICE: usize = 240;
/// Longest pause or wait.
pub const MAX_WAIT: Duration = Duration::from_secs(600);
/// Lab machine bounds: what the lab kernel boots in (see `cli::parse_lab_mem`).
pub const MIN_MEM_MIB: u64 = 128;
pub const MAX_MEM_MIB: u64 = 65536;
pub const MAX_SWAP_MIB: u64 = 65536;
/// Largest page order on x86 with 4 KiB pages (MAX_ORDER - 1 on 6.1, MAX_PAGE_ORDER on 6.12).
pub const MAX_FRAGMENT_ORDER: u32 = 10;
/// The pageblock order on x86 with 4 KiB pages: below it the module refuses fragment_order
/// (the held pages would sit in every pageblock; `vmtop load --fragment-order` says so).
pub const MIN_FRAGMENT_ORDER: u32 = 9;

/// /proc/meminfo figures a `wait` can watch.
pub const FIGURES: &[&str] = &[
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "SwapCached",
    "Active",
    "Inactive",
    "SwapFree",
    "Dirty",
    "AnonPages",
    "Shmem",
    "Slab",
    "SReclaimable",
    "SUnreclaim",
    "KernelStack",
    "PageTables",
    "Committed_AS",
    "VmallocUsed",
    "LowFree",
    "HighFree",
];

/// A lesson that cannot run: `FILE:LINE:COL: what is wrong; what is accepted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonError {
    pub file: String,
    /// 1-based; 0 when the problem is not in the text (the file cannot be read).
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl LessonError {
    pub fn plain(file: &str, message: String) -> LessonError {
        LessonError {
            file: file.to_string(),
            line: 0,
            col: 0,
            message,
        }
    }

    fn at(file: &str, text: &str, span: Option<Span<usize>>, message: String) -> LessonError {
        let (line, col) = span.map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        LessonError {
            file: file.to_string(),
            line,
            col,
            message: one_line(&message),
        }
    }
}

impl std::fmt::Display for LessonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

impl std::error::Error for LessonError {}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

// ---- The file as written -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    format_version: Spanned<u32>,
    title: Spanned<String>,
    summary: Spanned<String>,
    #[serde(rename = "part")]
    parts: Spanned<Vec<Spanned<RawPart>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    title: Spanned<String>,
    #[serde(default)]
    intro: Option<Spanned<String>>,
    machine: Spanned<RawMachine>,
    #[serde(rename = "step")]
    steps: Spanned<Vec<Spanned<RawStep>>>,
}

#[derive(Debug)]
enum RawMachine {
    This,
    Lab(RawLabMachine),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabMachine {
    #[serde(default)]
    arch: Option<Spanned<String>>,
    mem_mib: Spanned<u64>,
    #[serde(default)]
    swap_mib: Option<Spanned<u64>>,
    #[serde(default)]
    append: Option<Spanned<String>>,
    #[serde(default)]
    kernel: Option<Spanned<String>>,
}

const MACHINE_FORMS: &str = "\"this\" (whatever machine the lesson runs on) or a table { arch = \"x86_64\"|\"i386\", mem_mib = N, swap_mib = N, append = \"...\", kernel = \"6.1\" }";

impl<'de> Deserialize<'de> for RawMachine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMachine;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(MACHINE_FORMS)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawMachine, E> {
                if s == "this" {
                    Ok(RawMachine::This)
                } else {
                    Err(E::custom(format!(
                        "machine {s:?} is not known: use {MACHINE_FORMS}"
                    )))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawMachine, A::Error> {
                RawLabMachine::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawMachine::Lab)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    title: Option<Spanned<String>>,
    say: Spanned<String>,
    #[serde(default)]
    show: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    question: Option<Spanned<RawQuestion>>,
    #[serde(default)]
    action: Option<Spanned<RawActionAny>>,
    #[serde(default)]
    notice: Option<Spanned<String>>,
    #[serde(default)]
    expect: Option<Spanned<RawExpect>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    ask: Spanned<String>,
    choices: Spanned<Vec<Spanned<String>>>,
    answer: Spanned<String>,
}

/// A memsize: a whole number of MiB, or a string with a unit ("300M", "1G").
#[derive(Debug, Clone, Copy)]
struct Size(u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a size: {}", crate::units::MEMSIZE_FORMS)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Size, E> {
                crate::units::parse_memsize_mib(s)
                    .map(Size)
                    .map_err(|e| E::custom(e.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A duration: "5s", "250ms", "2m".
#[derive(Debug, Clone, Copy)]
struct Dur(Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::cli::parse_duration(&s)
            .map(Dur)
            .map_err(de::Error::custom)
    }
}

/// `action = "unload"` or a table.
#[derive(Debug)]
enum RawActionAny {
    Unload,
    Table(Box<RawAction>),
}

impl<'de> Deserialize<'de> for RawActionAny {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawActionAny;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "\"unload\" or a table with one of load, unload, probe, compare, wait, pause",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawActionAny, E> {
                if s == "unload" {
                    Ok(RawActionAny::Unload)
                } else {
                    Err(E::custom(format!(
                        "action {s:?} is not known: the one action written as a string is \"unload\"; others are tables, e.g. action = {{ load = \"64M\" }}, {{ pause = \"5s\" }}"
                    )))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawActionAny, A::Error> {
                RawAction::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|a| RawActionAny::Table(Box::new(a)))
            }
        }
        d.deserialize_any(V)
    }
}

/// One of load, unload, probe, compare, wait, pause, with the keys that go with it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    #[serde(default)]
    load: Option<Spanned<Size>>,
    #[serde(default)]
    alloc: Option<Spanned<String>>,
    #[serde(default)]
    mode: Option<Spanned<String>>,
    #[serde(default)]
    force: Option<Spanned<bool>>,
    #[serde(default)]
    fragment_order: Option<Spanned<u32>>,
    #[serde(default)]
    unload: Option<Spanned<bool>>,
    #[serde(default)]
    probe: Option<Spanned<RawProbe>>,
    #[serde(default)]
    compare: Option<Spanned<RawCompare>>,
    #[serde(default)]
    wait: Option<Spanned<String>>,
    #[serde(default)]
    timeout: Option<Spanned<Dur>>,
    #[serde(default)]
    pause: Option<Spanned<Dur>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    #[serde(default)]
    from: Option<Spanned<Size>>,
    #[serde(default)]
    to: Option<Spanned<Size>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompare {
    sizes: Spanned<Vec<Spanned<Size>>>,
    #[serde(default)]
    allocs: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    fragment_order: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    outcome: Spanned<String>,
    #[serde(default)]
    cause: Option<Spanned<String>>,
    #[serde(default)]
    mem_free_mib: Option<Spanned<[f64; 2]>>,
    #[serde(default)]
    mem_available_mib: Option<Spanned<[f64; 2]>>,
    #[serde(default)]
    vmalloc_used_mib: Option<Spanned<[f64; 2]>>,
    #[serde(default)]
    largest_mib: Option<Spanned<[f64; 2]>>,
    #[serde(default)]
    largest_loaded_mib: Option<Spanned<BTreeMap<String, Spanned<u64>>>>,
}

// ---- Checking ---------------------------------------------------------------------------

/// Parse and check `text` (from `file`, named `name`).
pub fn parse(text: &str, name: &str, file: &str) -> Result<Lesson, LessonError> {
    let raw: RawLesson = toml::from_str(text)
        .map_err(|e| LessonError::at(file, text, e.span(), e.message().to_string()))?;
    Checker { file, text }.lesson(raw, name)
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

type R<T> = Result<T, LessonError>;

/// Whether alloc_large_mem is loaded before a step, as far as the expectations say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    No,
    Yes {
        line: usize,
    },
    /// A step without an expectation left it unknown.
    Unknown,
}

impl Checker<'_> {
    fn err<T>(&self, span: Span<usize>, message: impl Into<String>) -> R<T> {
        Err(LessonError::at(
            self.file,
            self.text,
            Some(span),
            message.into(),
        ))
    }

    fn line(&self, span: &Span<usize>) -> usize {
        line_col(self.text, span.start).0
    }

    fn text(&self, s: Spanned<String>, what: &str, max: usize) -> R<String> {
        let span = s.span();
        let v = s.into_inner();
        let n = v.trim().chars().count();
        if n == 0 {
            return self.err(span, format!("{what} is empty: write what is to be said"));
        }
        if n > max {
            return self.err(
                span,
                format!("{what} has {n} characters, at most {max} fit the lesson pane at 80x24: split the step in two"),
            );
        }
        Ok(v.trim().to_string())
    }

    fn lesson(&self, raw: RawLesson, name: &str) -> R<Lesson> {
        if *raw.format_version.get_ref() != FORMAT_VERSION {
            return self.err(
                raw.format_version.span(),
                format!(
                    "format_version {} is not known: this vmtop reads format_version = {FORMAT_VERSION}",
                    raw.format_version.get_ref()
                ),
            );
        }
        let title = self.text(raw.title, "title", 80)?;
        let summary = self.text(raw.summary, "summary", MAX_SAY)?;
        let parts_span = raw.parts.span();
        let raw_parts = raw.parts.into_inner();
        if raw_parts.is_empty() {
            return self.err(parts_span, "a lesson needs at least one [[part]]");
        }
        let mut parts = Vec::new();
        for p in raw_parts {
            parts.push(self.part(p)?);
        }
        Ok(Lesson {
            name: name.to_string(),
            source: self.file.to_string(),
            title,
            summary,
            parts,
        })
    }

    fn part(&self, raw: Spanned<RawPart>) -> R<Part> {
        let raw = raw.into_inner();
        let title = self.text(raw.title, "a part's title", 80)?;
        let intro = raw
            .intro
            .map(|i| self.text(i, "a part's intro", MAX_SAY))
            .transpose()?;
        let machine = self.machine(raw.machine)?;
        let steps_span = raw.steps.span();
        let raw_steps = raw.steps.into_inner();
        if raw_steps.is_empty() {
            return self.err(
                steps_span,
                "a part needs at least one step: add a [[part.step]] with say = \"...\"",
            );
        }
        let mut held = Held::No;
        let mut steps = Vec::new();
        for s in raw_steps {
            let step = self.step(s, &machine, &mut held)?;
            steps.push(step);
        }
        Ok(Part {
            title,
            intro,
            machine,
            steps,
        })
    }

    fn machine(&self, raw: Spanned<RawMachine>) -> R<Machine> {
        let span = raw.span();
        let m = match raw.into_inner() {
            RawMachine::This => return Ok(Machine::This),
            RawMachine::Lab(m) => m,
        };
        let arch = match &m.arch {
            None => Arch::X86_64,
            Some(a) => match a.get_ref().as_str() {
                "x86_64" => Arch::X86_64,
                "i386" => Arch::I386,
                other => {
                    return self.err(
                        a.span(),
                        format!(
                            "arch {other:?} is not a lab architecture: use \"x86_64\" or \"i386\""
                        ),
                    )
                }
            },
        };
        let mem_mib = *m.mem_mib.get_ref();
        if !(MIN_MEM_MIB..=MAX_MEM_MIB).contains(&mem_mib) {
            return self.err(
                m.mem_mib.span(),
                format!("mem_mib = {mem_mib} cannot boot the lab: use {MIN_MEM_MIB} to {MAX_MEM_MIB} (the lab kernel panics below {MIN_MEM_MIB} MiB)"),
            );
        }
        let swap_mib = match &m.swap_mib {
            None => 0,
            Some(s) if *s.get_ref() > MAX_SWAP_MIB => {
                return self.err(
                    s.span(),
                    format!(
                        "swap_mib = {} is too large: use 0 (no swap) to {MAX_SWAP_MIB}",
                        s.get_ref()
                    ),
                )
            }
            Some(s) => *s.get_ref(),
        };
        let append = match m.append {
            None => None,
            Some(a) => {
                let span = a.span();
                let a = a.into_inner();
                let words: Vec<&str> = a.split_whitespace().collect();
                if words.is_empty() {
                    return self.err(span, "append is empty: remove it, or give kernel arguments such as \"vmalloc=768M\"");
                }
                if arch == Arch::X86_64 && words.iter().any(|w| w.starts_with("vmalloc=")) {
                    return self.err(
                        span,
                        "vmalloc= is honoured by 32-bit kernels only (the 64-bit kernel ignores it): add arch = \"i386\" or remove it",
                    );
                }
                if let Some(w) = words
                    .iter()
                    .find(|w| w.starts_with("console=") || w.starts_with("rdinit="))
                {
                    return self.err(
                        span,
                        format!("{w} is set by the lab itself: remove it from append"),
                    );
                }
                Some(words.join(" "))
            }
        };
        let kernel = match m.kernel {
            None => None,
            Some(k) => {
                let ok = !k.get_ref().is_empty()
                    && k.get_ref()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-+_".contains(c));
                if !ok {
                    return self.err(
                        k.span(),
                        format!("kernel {:?} is not a release prefix: use e.g. \"6.1\" or \"6.12\" (vmtop lab --list-kernels)", k.get_ref()),
                    );
                }
                Some(k.into_inner())
            }
        };
        let _ = span;
        Ok(Machine::Lab(LabMachine {
            arch,
            mem_mib,
            swap_mib,
            append,
            kernel,
        }))
    }

    fn step(&self, raw: Spanned<RawStep>, machine: &Machine, held: &mut Held) -> R<Step> {
        let span = raw.span();
        let line = self.line(&span);
        let raw = raw.into_inner();
        let title = raw
            .title
            .map(|t| self.text(t, "a step's title", 60))
            .transpose()?;
        let say = self.text(raw.say, "say", MAX_SAY)?;
        let mut show = Vec::new();
        if let Some(list) = raw.show {
            for p in list.into_inner() {
                match Pane::ALL.into_iter().find(|x| x.name() == p.get_ref()) {
                    Some(pane) => show.push(pane),
                    None => {
                        let names: Vec<&str> = Pane::ALL.iter().map(|p| p.name()).collect();
                        return self.err(
                            p.span(),
                            format!(
                                "show {:?} is not a pane: use {}",
                                p.get_ref(),
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        let action = raw.action.map(|a| self.action(a, machine)).transpose()?;
        let notice_span = raw.notice.as_ref().map(|n| n.span());
        let notice = raw
            .notice
            .map(|n| self.text(n, "notice", MAX_NOTICE))
            .transpose()?;
        if let (Some(span), Some(_), None) = (notice_span, &action, &raw.expect) {
            return self.err(
                span,
                "a notice after an action is said only when the kernel agreed with the step's expect: add expect = { outcome = ... }, or remove the notice",
            );
        }
        let expect =
            match raw.expect {
                None => None,
                Some(e) => match &action {
                    None => return self.err(
                        e.span(),
                        "expect needs an action to check: add action = { ... } or remove expect",
                    ),
                    Some(a) => Some(self.expect(e, a)?),
                },
            };
        let question = match raw.question {
            None => None,
            Some(q) => {
                let qspan = q.span();
                if expect.is_none() {
                    return self.err(
                        qspan,
                        "a question's answer is revealed only when the kernel's answer agrees with the step's expect: add an action and an expect = { outcome = ... } to this step",
                    );
                }
                Some(self.question(q)?)
            }
        };
        if let Some(a) = &action {
            self.held(a, expect.as_ref(), held, span.clone())?;
        }
        Ok(Step {
            line,
            title,
            say,
            show,
            question,
            action,
            notice,
            expect,
        })
    }

    fn question(&self, raw: Spanned<RawQuestion>) -> R<Question> {
        let q = raw.into_inner();
        let ask = self.text(q.ask, "a question's ask", MAX_ASK)?;
        let cspan = q.choices.span();
        let mut choices = Vec::new();
        for c in q.choices.into_inner() {
            choices.push(self.text(c, "a choice", MAX_CHOICE)?);
        }
        if !(2..=MAX_CHOICES).contains(&choices.len()) {
            return self.err(
                cspan,
                format!(
                    "a question has {} choices: give 2 to {MAX_CHOICES}",
                    choices.len()
                ),
            );
        }
        let letters: String = (0..choices.len())
            .map(|i| Question::letter(i).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let a = q.answer.get_ref().trim().to_ascii_uppercase();
        let answer = (0..choices.len()).find(|i| Question::letter(*i).to_string() == a);
        match answer {
            Some(answer) => Ok(Question {
                ask,
                choices,
                answer,
            }),
            None => self.err(
                q.answer.span(),
                format!(
                    "answer {:?} is not one of the choices: use {letters}",
                    q.answer.get_ref()
                ),
            ),
        }
    }

    fn alloc(&self, s: &Spanned<String>) -> R<Allocator> {
        Allocator::from_name(s.get_ref()).map_or_else(
            || {
                let names: Vec<&str> = Allocator::ALL.iter().map(|a| a.name()).collect();
                self.err(
                    s.span(),
                    format!(
                        "alloc {:?} is not an allocator of the module: use {}",
                        s.get_ref(),
                        names.join(", ")
                    ),
                )
            },
            Ok,
        )
    }

    fn fragment_order(&self, s: &Spanned<u32>) -> R<u32> {
        let k = *s.get_ref();
        if !(MIN_FRAGMENT_ORDER..=MAX_FRAGMENT_ORDER).contains(&k) {
            return self.err(
                s.span(),
                format!("fragment_order = {k}: use {MIN_FRAGMENT_ORDER} (the pageblock order on x86 with 4 KiB pages; the module refuses below it) to {MAX_FRAGMENT_ORDER} (the largest order), or leave it out"),
            );
        }
        Ok(k)
    }

    fn action(&self, raw: Spanned<RawActionAny>, machine: &Machine) -> R<Action> {
        let span = raw.span();
        let a = match raw.into_inner() {
            RawActionAny::Unload => return Ok(Action::Unload),
            RawActionAny::Table(a) => *a,
        };
        let verbs: Vec<(&str, Span<usize>)> = [
            ("load", a.load.as_ref().map(|x| x.span())),
            ("unload", a.unload.as_ref().map(|x| x.span())),
            ("probe", a.probe.as_ref().map(|x| x.span())),
            ("compare", a.compare.as_ref().map(|x| x.span())),
            ("wait", a.wait.as_ref().map(|x| x.span())),
            ("pause", a.pause.as_ref().map(|x| x.span())),
        ]
        .into_iter()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
        .collect();
        const VERBS: &str = "load, unload, probe, compare, wait or pause";
        let verb = match verbs.as_slice() {
            [] => {
                return self.err(
                    span,
                    format!("an action needs one of {VERBS}, e.g. action = {{ load = \"64M\" }}"),
                )
            }
            [one] => one.0,
            [_, second, ..] => {
                let names: Vec<&str> = verbs.iter().map(|v| v.0).collect();
                return self.err(
                    second.1.clone(),
                    format!(
                        "one action per step, this one has {}: split it into steps",
                        names.join(" and ")
                    ),
                );
            }
        };
        // Keys that only go with one verb.
        let only = |key: &str, present: Option<Span<usize>>, with: &str| -> R<()> {
            match present {
                Some(s) if verb != with => self.err(
                    s,
                    format!("{key} goes with {with}, not with {verb}: remove it"),
                ),
                _ => Ok(()),
            }
        };
        only("alloc", a.alloc.as_ref().map(|x| x.span()), "load")?;
        only("mode", a.mode.as_ref().map(|x| x.span()), "load")?;
        only("force", a.force.as_ref().map(|x| x.span()), "load")?;
        only(
            "fragment_order",
            a.fragment_order.as_ref().map(|x| x.span()),
            "load",
        )?;
        only("timeout", a.timeout.as_ref().map(|x| x.span()), "wait")?;
        match verb {
            "load" => {
                let memsize_mib = a.load.as_ref().map(|l| l.get_ref().0).unwrap_or(0);
                let alloc = match &a.alloc {
                    Some(s) => self.alloc(s)?,
                    None => Allocator::Vmalloc,
                };
                let oom_safe = match &a.mode {
                    None => true,
                    Some(m) => match m.get_ref().as_str() {
                        "safe" => true,
                        "unsafe" => false,
                        other => {
                            return self.err(
                                m.span(),
                                format!("mode {other:?} is not a mode: use \"safe\" (ENOMEM instead of the OOM killer) or \"unsafe\" (plain vmalloc, as the 2009 article)"),
                            )
                        }
                    },
                };
                let force = match &a.force {
                    Some(f) if *f.get_ref() => {
                        if oom_safe {
                            return self.err(f.span(), crate::cli::FORCE_NEEDS_UNSAFE);
                        }
                        if matches!(machine, Machine::This) {
                            return self.err(
                                f.span(),
                                "force = true may wake the OOM killer on purpose: only in a part whose machine is a lab VM (machine = { mem_mib = ... }), never on machine = \"this\"",
                            );
                        }
                        true
                    }
                    _ => false,
                };
                let fragment_order = a
                    .fragment_order
                    .as_ref()
                    .map(|k| self.fragment_order(k))
                    .transpose()?
                    .unwrap_or(0);
                Ok(Action::Load(Load {
                    memsize_mib,
                    alloc,
                    oom_safe,
                    force,
                    fragment_order,
                }))
            }
            "unload" => match &a.unload {
                Some(u) if !*u.get_ref() => self.err(
                    u.span(),
                    "unload = false does nothing: write unload = true, or action = \"unload\"",
                ),
                _ => Ok(Action::Unload),
            },
            "probe" => {
                let p = a.probe.map(|p| p.into_inner());
                let from_mib = p
                    .as_ref()
                    .and_then(|p| p.from.as_ref())
                    .map(|f| f.get_ref().0)
                    .unwrap_or(16);
                let to = p.as_ref().and_then(|p| p.to.as_ref());
                if let Some(t) = to {
                    if t.get_ref().0 <= from_mib {
                        return self.err(
                            t.span(),
                            format!(
                                "probe to = {} MiB is not above from = {from_mib} MiB: give a range",
                                t.get_ref().0
                            ),
                        );
                    }
                }
                Ok(Action::Probe {
                    from_mib,
                    to_mib: to.map(|t| t.get_ref().0),
                })
            }
            "compare" => {
                let Some(c) = a.compare else {
                    return self.err(span, "compare needs sizes");
                };
                let c = c.into_inner();
                let sspan = c.sizes.span();
                let sizes_mib: Vec<u64> =
                    c.sizes.into_inner().iter().map(|s| s.get_ref().0).collect();
                if sizes_mib.is_empty() {
                    return self.err(
                        sspan,
                        "compare sizes is empty: give sizes such as [\"4M\", \"8M\", \"64M\"]",
                    );
                }
                if sizes_mib.windows(2).any(|w| w[0] >= w[1]) {
                    return self.err(
                        sspan,
                        "compare sizes must rise, each once, e.g. [\"4M\", \"8M\", \"64M\"]",
                    );
                }
                let allocs = match c.allocs {
                    None => Allocator::ALL[..4].to_vec(),
                    Some(list) => {
                        let lspan = list.span();
                        let mut v = Vec::new();
                        for s in list.get_ref() {
                            let al = self.alloc(s)?;
                            if v.contains(&al) {
                                return self.err(s.span(), format!("{al} is listed twice"));
                            }
                            v.push(al);
                        }
                        if v.is_empty() {
                            return self.err(lspan, "compare allocs is empty: leave it out for all, or list e.g. [\"kmalloc\", \"vmalloc\"]");
                        }
                        v
                    }
                };
                let fragment_order = c
                    .fragment_order
                    .as_ref()
                    .map(|k| self.fragment_order(k))
                    .transpose()?
                    .unwrap_or(0);
                Ok(Action::Compare {
                    sizes_mib,
                    allocs,
                    fragment_order,
                })
            }
            "wait" => {
                let Some(w) = a.wait else {
                    return self.err(span, "wait needs a condition");
                };
                let wspan = w.span();
                let w = w.into_inner();
                let form =
                    "wait = \"FIGURE < SIZE\" or \"FIGURE > SIZE\", e.g. \"MemAvailable < 200M\"";
                let (figure, above, value) = if let Some((f, v)) = w.split_once('<') {
                    (f.trim(), false, v.trim())
                } else if let Some((f, v)) = w.split_once('>') {
                    (f.trim(), true, v.trim())
                } else {
                    return self.err(wspan, format!("{w:?} has no < or >: use {form}"));
                };
                if !FIGURES.contains(&figure) {
                    return self.err(
                        wspan,
                        format!(
                            "{figure:?} is not a /proc/meminfo figure vmtop watches: use one of {}",
                            FIGURES.join(", ")
                        ),
                    );
                }
                let mib = match crate::units::parse_memsize_mib(value) {
                    Ok(m) => m,
                    Err(e) => return self.err(wspan, format!("{e} ({form})")),
                };
                let timeout = a
                    .timeout
                    .as_ref()
                    .map(|t| t.get_ref().0)
                    .unwrap_or(Duration::from_secs(60));
                if timeout > MAX_WAIT {
                    return self.err(
                        a.timeout.map(|t| t.span()).unwrap_or(wspan),
                        format!(
                            "timeout is above {} s: a class cannot wait that long",
                            MAX_WAIT.as_secs()
                        ),
                    );
                }
                Ok(Action::Wait(Wait {
                    figure: figure.to_string(),
                    above,
                    mib,
                    timeout,
                }))
            }
            _ => {
                let Some(p) = a.pause else {
                    return self.err(span, "pause needs a duration");
                };
                let d = p.get_ref().0;
                if d > MAX_WAIT {
                    return self.err(
                        p.span(),
                        format!(
                            "pause is above {} s: a class cannot wait that long",
                            MAX_WAIT.as_secs()
                        ),
                    );
                }
                Ok(Action::Pause(d))
            }
        }
    }

    fn range(&self, r: Spanned<[f64; 2]>, what: &str) -> R<Range> {
        let [low, high] = *r.get_ref();
        if !(low.is_finite() && high.is_finite()) || low > high {
            return self.err(
                r.span(),
                format!("{what} = [{low}, {high}] is not a range: give [lowest, highest] in MiB, lowest first"),
            );
        }
        Ok(Range { low, high })
    }

    fn expect(&self, raw: Spanned<RawExpect>, action: &Action) -> R<Expect> {
        let e = raw.into_inner();
        let kind = action.kind();
        let accepted: Vec<&str> = action.outcomes().iter().map(|o| o.name()).collect();
        let outcome = match Outcome::ALL
            .into_iter()
            .find(|o| o.name() == e.outcome.get_ref())
        {
            Some(o) if action.outcomes().contains(&o) => o,
            Some(o) => {
                return self.err(
                    e.outcome.span(),
                    format!(
                        "a {kind} cannot end {}: expect one of {}",
                        o.name(),
                        accepted.join(", ")
                    ),
                )
            }
            None => {
                return self.err(
                    e.outcome.span(),
                    format!(
                        "outcome {:?} is not known: for a {kind} use {}",
                        e.outcome.get_ref(),
                        accepted.join(", ")
                    ),
                )
            }
        };
        let cause = match &e.cause {
            None => None,
            Some(c) => {
                let Some(cause) = cause_from_name(c.get_ref()) else {
                    let names: Vec<String> =
                        super::all_causes().into_iter().map(cause_name).collect();
                    return self.err(
                        c.span(),
                        format!(
                            "cause {:?} is not one vmtop diagnoses: use one of {}",
                            c.get_ref(),
                            names.join(", ")
                        ),
                    );
                };
                let fits = match (outcome, action) {
                    (Outcome::NotAttempted, _) => not_attempted(cause),
                    (Outcome::Failed, Action::Load(_)) => !not_attempted(cause),
                    (Outcome::Failed, _) => true,
                    (Outcome::Done, Action::Probe { .. }) => cause.means_too_big(),
                    _ => false,
                };
                if !fits {
                    return self.err(
                        c.span(),
                        match outcome {
                            Outcome::NotAttempted => format!("{} is a failure the kernel was asked about, not one vmtop refused before asking: expect outcome = \"failed\"", cause_name(cause)),
                            Outcome::Failed => format!("{} means vmtop never asked the kernel: expect outcome = \"not_attempted\"", cause_name(cause)),
                            Outcome::Done => format!("{} is not a limit a probe can find: use exceeds_total_pages, address_space_exhausted, physical_memory_short, kmalloc_above_max, order_above_max or no_contiguous_block", cause_name(cause)),
                            o => format!("a {kind} that ends {} has no cause: remove cause, or expect a failure", o.name()),
                        },
                    );
                }
                Some(cause)
            }
        };
        let figures_fit = matches!(action, Action::Load(_) | Action::Unload);
        let mut ranges = [None, None, None];
        for (i, (key, r)) in [
            ("mem_free_mib", e.mem_free_mib),
            ("mem_available_mib", e.mem_available_mib),
            ("vmalloc_used_mib", e.vmalloc_used_mib),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(r) = r {
                if !figures_fit {
                    return self.err(
                        r.span(),
                        format!("{key} is the change a load or an unload makes: a {kind} has none, remove it"),
                    );
                }
                ranges[i] = Some(self.range(r, key)?);
            }
        }
        let largest_mib = match e.largest_mib {
            None => None,
            Some(r) => {
                if !matches!(action, Action::Probe { .. }) {
                    return self.err(
                        r.span(),
                        format!("largest_mib is a probe's answer: a {kind} has none, remove it"),
                    );
                }
                Some(self.range(r, "largest_mib")?)
            }
        };
        let mut largest_loaded_mib = Vec::new();
        if let Some(t) = e.largest_loaded_mib {
            let Action::Compare {
                sizes_mib, allocs, ..
            } = action
            else {
                return self.err(
                    t.span(),
                    format!(
                        "largest_loaded_mib is a compare's answer: a {kind} has none, remove it"
                    ),
                );
            };
            let tspan = t.span();
            for (name, m) in t.into_inner() {
                let alloc = Allocator::from_name(&name).filter(|a| allocs.contains(a));
                let Some(alloc) = alloc else {
                    let names: Vec<&str> = allocs.iter().map(|a| a.name()).collect();
                    return self.err(
                        tspan,
                        format!(
                            "largest_loaded_mib names {name:?}, which this compare does not run: use {}",
                            names.join(", ")
                        ),
                    );
                };
                let v = *m.get_ref();
                if v != 0 && !sizes_mib.contains(&v) {
                    let sizes: Vec<String> = sizes_mib.iter().map(|s| s.to_string()).collect();
                    return self.err(
                        m.span(),
                        format!(
                            "{name} = {v}: the compare tries only {} MiB; give one of them, or 0 for none",
                            sizes.join(", ")
                        ),
                    );
                }
                largest_loaded_mib.push((alloc, v));
            }
        }
        if outcome != Outcome::Done && (!largest_loaded_mib.is_empty() || largest_mib.is_some()) {
            return self.err(
                e.outcome.span(),
                format!(
                    "an answer to check needs outcome = \"done\", not {}",
                    outcome.name()
                ),
            );
        }
        Ok(Expect {
            outcome,
            cause,
            mem_free_mib: ranges[0],
            mem_available_mib: ranges[1],
            vmalloc_used_mib: ranges[2],
            largest_mib,
            largest_loaded_mib,
        })
    }

    /// Follow whether the module is loaded from step to step, by the expectations: a load
    /// while it is held, or an unload, probe or compare that cannot run, is refused here.
    fn held(
        &self,
        action: &Action,
        expect: Option<&Expect>,
        held: &mut Held,
        span: Span<usize>,
    ) -> R<()> {
        let needs_free = match action {
            Action::Load(_) => Some("load"),
            Action::Probe { .. } => Some("probe"),
            Action::Compare { .. } => Some("compare"),
            _ => None,
        };
        if let (Some(what), Held::Yes { line }) = (needs_free, *held) {
            return self.err(
                span,
                format!("this step cannot {what}: the step at line {line} left alloc_large_mem loaded (it expects loaded); add a step with action = \"unload\" before it"),
            );
        }
        if matches!(action, Action::Unload) && *held == Held::No {
            return self.err(
                span,
                "nothing to unload here: no earlier step of this part leaves alloc_large_mem loaded; remove this step or load first",
            );
        }
        *held = match (action, expect.map(|e| e.outcome)) {
            (Action::Load(_), Some(Outcome::Loaded)) => Held::Yes {
                line: self.line(&span),
            },
            (Action::Load(_), Some(_)) => Held::No,
            (Action::Load(_), None) => Held::Unknown,
            (Action::Unload, Some(Outcome::Unloaded)) => Held::No,
            (Action::Unload, _) => Held::Unknown,
            _ => *held,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests;
