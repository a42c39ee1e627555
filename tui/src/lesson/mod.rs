//! Lessons: a teacher's script, run against the live kernel (docs/lessons.md).
//!
//! A lesson is a TOML file (`file` parses and checks it, `bundled` holds the ones shipped in
//! the binary): parts, each on a machine, each a list of steps. A step says something, may
//! ask the class a question, may act on the kernel (load, unload, probe, compare, wait,
//! pause), says what to notice, and may state what the kernel is expected to answer. The
//! answer to a question is revealed only when the kernel's answer agrees with the
//! expectation; when it does not, the lesson says so and shows what happened instead.

use std::time::Duration;

use crate::diagnose::Cause;
use crate::lab::kernel::Arch;
use crate::module::alloc::Allocator;

pub(crate) mod bundled;
pub(crate) mod exec;
pub(crate) mod file;
pub(crate) mod headless;
pub(crate) mod lab;
pub(crate) mod run;

pub(crate) use file::LessonError;

/// A lesson, parsed and checked: nothing in it is impossible to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// The bundled name, or the file's stem.
    pub name: String,
    /// Where it came from: a path, or `bundled:NAME`.
    pub source: String,
    pub title: String,
    pub summary: String,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub title: String,
    /// Said before the part's first step (where it runs, why that machine).
    pub intro: Option<String>,
    pub machine: Machine,
    pub steps: Vec<Step>,
}

/// Where a part runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Machine {
    /// Whatever machine the lesson runs on (yours, or the default lab VM).
    This,
    /// A lab VM of this shape: `vmtop lab --lesson` boots it; on your own machine the part
    /// is skipped and the command that runs it is shown.
    Lab(LabMachine),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabMachine {
    pub arch: Arch,
    pub mem_mib: u64,
    /// Real swap (a disk in the VM), MiB; 0: none.
    pub swap_mib: u64,
    /// Extra kernel command line, e.g. `vmalloc=768M` (32-bit only) or `sysctl.vm.X=N`.
    pub append: Option<String>,
    /// Kernel release prefix, e.g. `6.1` (None: the newest fetched for `arch`).
    pub kernel: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Line of the step's `[[part.step]]` header in its file (for messages).
    pub line: usize,
    pub title: Option<String>,
    /// What the teacher says (shown at once).
    pub say: String,
    /// Dashboard panes the step opens.
    pub show: Vec<Pane>,
    pub question: Option<Question>,
    pub action: Option<Action>,
    /// What the class should notice (revealed after the action, when the kernel agreed).
    pub notice: Option<String>,
    pub expect: Option<Expect>,
}

/// A dashboard pane a step can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Buddyinfo,
}

impl Pane {
    pub const ALL: [Pane; 1] = [Pane::Buddyinfo];

    pub fn name(self) -> &'static str {
        match self {
            Pane::Buddyinfo => "buddyinfo",
        }
    }
}

/// A question for the class, asked before the action and answered after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub ask: String,
    pub choices: Vec<String>,
    /// Index into `choices` (the file says a letter: "A", "B", ...).
    pub answer: usize,
}

impl Question {
    /// "A", "B", ... for choice `i`.
    pub fn letter(i: usize) -> char {
        (b'A' + (i as u8).min(25)) as char
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Load(Load),
    Unload,
    /// `vmtop probe`: the largest memsize that loads (safe mode).
    Probe {
        from_mib: u64,
        to_mib: Option<u64>,
    },
    /// `vmtop compare`: every allocator at every size, loaded and unloaded in turn.
    Compare {
        sizes_mib: Vec<u64>,
        allocs: Vec<Allocator>,
        fragment_order: u32,
    },
    /// Watch until a /proc/meminfo figure crosses a value.
    Wait(Wait),
    /// Let the charts run.
    Pause(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub memsize_mib: u64,
    pub alloc: Allocator,
    pub oom_safe: bool,
    pub force: bool,
    pub fragment_order: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// A /proc/meminfo field, e.g. `MemAvailable`.
    pub figure: String,
    /// true: until it rises above `mib`; false: until it falls below.
    pub above: bool,
    pub mib: u64,
    pub timeout: Duration,
}

impl Action {
    /// The name the transcript gives it.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Load(_) => "load",
            Action::Unload => "unload",
            Action::Probe { .. } => "probe",
            Action::Compare { .. } => "compare",
            Action::Wait(_) => "wait",
            Action::Pause(_) => "pause",
        }
    }

    /// The outcomes this action can have.
    pub fn outcomes(&self) -> &'static [Outcome] {
        use Outcome::*;
        match self {
            Action::Load(_) => &[Loaded, Failed, NotAttempted],
            Action::Unload => &[Unloaded, Failed],
            Action::Probe { .. } | Action::Compare { .. } => &[Done, Failed],
            Action::Wait(_) => &[Reached, TimedOut],
            Action::Pause(_) => &[Done],
        }
    }

    /// One line for the pane and the transcript: `load 300 MiB vmalloc, unsafe (forced)`.
    pub fn describe(&self) -> String {
        match self {
            Action::Load(l) => {
                let mut s = format!(
                    "load {} MiB {}, {}",
                    l.memsize_mib,
                    l.alloc,
                    if l.oom_safe { "safe" } else { "unsafe" }
                );
                if l.force {
                    s.push_str(" (forced)");
                }
                if l.fragment_order > 0 {
                    s.push_str(&format!(", fragment_order={}", l.fragment_order));
                }
                s
            }
            Action::Unload => "unload".to_string(),
            Action::Probe { from_mib, to_mib } => match to_mib {
                Some(to) => format!("probe {from_mib}..{to} MiB"),
                None => format!("probe from {from_mib} MiB to MemTotal"),
            },
            Action::Compare {
                sizes_mib,
                allocs,
                fragment_order,
            } => {
                let sizes: Vec<String> = sizes_mib.iter().map(|m| format!("{m}M")).collect();
                let allocs: Vec<&str> = allocs.iter().map(|a| a.name()).collect();
                let mut s = format!("compare {} at {}", allocs.join(","), sizes.join(","));
                if *fragment_order > 0 {
                    s.push_str(&format!(", fragment_order={fragment_order}"));
                }
                s
            }
            Action::Wait(w) => format!(
                "wait until {} {} {} MiB (at most {} s)",
                w.figure,
                if w.above { ">" } else { "<" },
                w.mib,
                w.timeout.as_secs()
            ),
            Action::Pause(d) => format!("pause {} s", d.as_secs_f64()),
        }
    }
}

/// What an action ended in, as the transcript names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Loaded,
    Failed,
    /// vmtop did not ask the kernel (its unsafe-mode guard, the module file).
    NotAttempted,
    Unloaded,
    /// A `wait` saw its figure cross.
    Reached,
    TimedOut,
    /// A probe, compare or pause ran to its end.
    Done,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Loaded,
        Outcome::Failed,
        Outcome::NotAttempted,
        Outcome::Unloaded,
        Outcome::Reached,
        Outcome::TimedOut,
        Outcome::Done,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Loaded => "loaded",
            Outcome::Failed => "failed",
            Outcome::NotAttempted => "not_attempted",
            Outcome::Unloaded => "unloaded",
            Outcome::Reached => "reached",
            Outcome::TimedOut => "timed_out",
            Outcome::Done => "done",
        }
    }
}

/// A closed range of MiB, `[low, high]` in the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub low: f64,
    pub high: f64,
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} to {} MiB", self.low, self.high)
    }
}

/// What the kernel is expected to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub outcome: Outcome,
    /// The diagnosis's cause (a failure), or what bound a probe.
    pub cause: Option<Cause>,
    /// Changes across the action, MiB.
    pub mem_free_mib: Option<Range>,
    pub mem_available_mib: Option<Range>,
    pub vmalloc_used_mib: Option<Range>,
    /// A probe's answer, MiB.
    pub largest_mib: Option<Range>,
    /// A compare's answer: the largest size each allocator loaded (0: none).
    pub largest_loaded_mib: Vec<(Allocator, u64)>,
}

impl Expect {
    /// One line: `failed (exceeds_total_pages), MemFree -110 to -90 MiB`.
    pub fn describe(&self) -> String {
        let mut s = self.outcome.name().to_string();
        if let Some(c) = self.cause {
            s.push_str(&format!(" ({})", cause_name(c)));
        }
        for (name, r) in [
            ("MemFree", self.mem_free_mib),
            ("MemAvailable", self.mem_available_mib),
            ("VmallocUsed", self.vmalloc_used_mib),
            ("largest", self.largest_mib),
        ] {
            if let Some(r) = r {
                s.push_str(&format!(", {name} {r}"));
            }
        }
        for (a, m) in &self.largest_loaded_mib {
            s.push_str(&format!(", {a} up to {m} MiB"));
        }
        s
    }
}

/// Every cause, for parsing and listing: the match below stops compiling when a cause is
/// added and not listed here.
pub fn all_causes() -> Vec<Cause> {
    use Cause::*;
    let all = vec![
        ExceedsTotalPages,
        AddressSpaceExhausted,
        PhysicalMemoryShort,
        OomKilled,
        RefusedByGuard,
        LoaderKilled,
        AlreadyLoaded,
        WrongKernel,
        SignatureRejected,
        Lockdown,
        NotPermitted,
        NoModuleSupport,
        ModuleFileMissing,
        ModuleFileInvalid,
        ModuleFileUnsafe,
        BadParameter,
        Interrupted,
        Cancelled,
        HelperFailed,
        StillLoading,
        KmallocAboveMax,
        OrderAboveMax,
        KvmallocAboveMax,
        NoContiguousBlock,
        Unknown,
    ];
    for c in &all {
        match c {
            ExceedsTotalPages
            | AddressSpaceExhausted
            | PhysicalMemoryShort
            | OomKilled
            | RefusedByGuard
            | LoaderKilled
            | AlreadyLoaded
            | WrongKernel
            | SignatureRejected
            | Lockdown
            | NotPermitted
            | NoModuleSupport
            | ModuleFileMissing
            | ModuleFileInvalid
            | ModuleFileUnsafe
            | BadParameter
            | Interrupted
            | Cancelled
            | HelperFailed
            | StillLoading
            | KmallocAboveMax
            | OrderAboveMax
            | KvmallocAboveMax
            | NoContiguousBlock
            | Unknown => {}
        }
    }
    all
}

/// The cause's name as `--json` prints it (`exceeds_total_pages`).
pub fn cause_name(c: Cause) -> String {
    match serde_json::to_value(c) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{c:?}"),
    }
}

pub fn cause_from_name(s: &str) -> Option<Cause> {
    all_causes().into_iter().find(|c| cause_name(*c) == s)
}

/// Causes of a load that vmtop refused without asking the kernel.
pub fn not_attempted(c: Cause) -> bool {
    matches!(
        c,
        Cause::RefusedByGuard
            | Cause::ModuleFileMissing
            | Cause::ModuleFileInvalid
            | Cause::ModuleFileUnsafe
            | Cause::NoModuleSupport
    )
}

impl Lesson {
    /// Steps in all parts.
    pub fn step_count(&self) -> usize {
        self.parts.iter().map(|p| p.steps.len()).sum()
    }

    /// "this machine", or "lab: i386 384 MiB, swap 512 MiB, vmalloc=768M" per part.
    pub fn machines(&self) -> Vec<String> {
        self.parts.iter().map(|p| p.machine.describe()).collect()
    }
}

impl Machine {
    pub fn describe(&self) -> String {
        match self {
            Machine::This => "this machine".to_string(),
            Machine::Lab(m) => m.describe(),
        }
    }
}

impl LabMachine {
    pub fn describe(&self) -> String {
        let mut s = format!("lab {} {} MiB", self.arch.name(), self.mem_mib);
        if self.swap_mib > 0 {
            s.push_str(&format!(", swap {} MiB", self.swap_mib));
        }
        if let Some(k) = &self.kernel {
            s.push_str(&format!(", kernel {k}"));
        }
        if let Some(a) = &self.append {
            s.push_str(&format!(", {a}"));
        }
        s
    }
}

/// A lesson by bundled name or by file path: a name without a `/` and not ending in
/// `.toml` is looked up among the bundled lessons first.
pub fn open(name_or_path: &str) -> Result<Lesson, LessonError> {
    let looks_like_name = !name_or_path.contains('/') && !name_or_path.ends_with(".toml");
    if looks_like_name {
        if let Some(b) = bundled::get(name_or_path) {
            return file::parse(b.text, b.name, &format!("bundled:{}", b.name));
        }
        if !std::path::Path::new(name_or_path).exists() {
            return Err(LessonError::plain(
                name_or_path,
                format!(
                    "no bundled lesson {name_or_path:?} and no such file: bundled lessons are {} (vmtop lesson --list), or give a path to a .toml file",
                    bundled::names().join(", ")
                ),
            ));
        }
    }
    let path = std::path::Path::new(name_or_path);
    let text = std::fs::read_to_string(path).map_err(|e| {
        LessonError::plain(
            name_or_path,
            format!("cannot read the lesson file: {e} (give a readable .toml file or a bundled name: vmtop lesson --list)"),
        )
    })?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("lesson");
    file::parse(&text, stem, name_or_path)
}
