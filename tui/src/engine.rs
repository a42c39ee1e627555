//! Load and unload as events: figures before and after, the module's own timings,
//! and a diagnosis for every failure.

use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::diagnose::{self, Diagnosis, LoaderEnd, NotAsked};
use crate::helper::ChildEnd;
use crate::module::file::{self, Checked, FileProblem, ModuleFile};
use crate::module::log::ModuleFigures;
use crate::module::sysfs::{self, ModuleStatus};
use crate::module::{reserve_mib, Params, MODULE_NAME};
use crate::system::host::KernelInfo;
use crate::system::meminfo::{Delta, Sample};
use crate::system::vmap_trace::VmapTrace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Load,
    Unload,
    /// Found already loaded (by an earlier vmtop or by hand) and taken over.
    Adopt,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Outcome {
    Ok,
    Failed { diagnosis: Diagnosis },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds since the session started (same clock as the samples).
    pub t: f64,
    pub kind: EventKind,
    /// Requested memsize in MiB (for unload: the memsize that was loaded).
    pub memsize_mib: u64,
    pub oom_safe: bool,
    pub outcome: Outcome,
    /// Wall time of the whole operation, as seen by vmtop, in nanoseconds.
    pub wall_ns: u64,
    /// The module's own timings (from /sys/module/alloc_large_mem/results), when loaded.
    pub alloc_ns: Option<u64>,
    pub fill_ns: Option<u64>,
    /// Observed change of the figures across the operation.
    pub delta: Option<Delta>,
    /// The allocator asked for (loads; None for an unload or an adopted module).
    pub alloc: Option<crate::module::alloc::Allocator>,
    /// The module's own kernel-log line for this attempt (`alloc_large_mem: load ...` or
    /// `fail ...`, kmod-src/README.md): its figures (memory available before and after, the
    /// reserve, where the pages are). None for an unload, an adopted module, an attempt the
    /// module did not see, or an unreadable log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_line: Option<String>,
}

impl Event {
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. })
    }

    pub fn diagnosis(&self) -> Option<&Diagnosis> {
        match &self.outcome {
            Outcome::Failed { diagnosis } => Some(diagnosis),
            Outcome::Ok => None,
        }
    }
}

/// What to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoadRequest {
    pub memsize_mib: u64,
    pub oom_safe: bool,
    /// Skip the unsafe-mode guard (request above MemAvailable minus a reserve).
    pub force: bool,
    /// The module's `alloc=`.
    pub alloc: crate::module::alloc::Allocator,
    /// The module's `fragment_order=` (0: off).
    pub fragment_order: u32,
}

impl LoadRequest {
    /// The module's parameters for this request. `mem_total` (bytes) sets the safe-mode
    /// reserve (`reserve_mib`); None leaves the module's default.
    pub fn params(&self, mem_total: Option<u64>) -> Params {
        Params {
            memsize_mib: self.memsize_mib,
            oom_safe: self.oom_safe,
            reserve_mib: mem_total.filter(|_| self.oom_safe).map(reserve_mib),
            alloc: self.alloc,
            fragment_order: self.fragment_order,
        }
    }
}

/// The unsafe-mode guard: Some(explanation) when `req` must be refused.
/// `kernel.panic_on_warn` as /proc/sys/kernel/panic_on_warn reads (None: unreadable).
pub fn panic_on_warn() -> Option<bool> {
    std::fs::read_to_string("/proc/sys/kernel/panic_on_warn")
        .ok()
        .map(|s| s.trim() != "0")
}

/// Unsafe mode where a kernel WARN panics the machine: Some(the one-line refusal). Unsafe
/// mode takes the kernel's allocation paths without __GFP_NOWARN and without the reserve,
/// so a warning there would be a panic instead of a failed load.
pub fn panic_on_warn_refusal(oom_safe: bool, panic_on_warn: Option<bool>) -> Option<String> {
    (!oom_safe && panic_on_warn == Some(true)).then(|| {
        "unsafe mode refused: kernel.panic_on_warn is 1, so a kernel warning during the load \
         would panic this machine instead of failing the load; use safe mode (--mode safe), or \
         set kernel.panic_on_warn=0 first"
            .to_string()
    })
}

pub fn guard(req: &LoadRequest, now: Option<&crate::system::meminfo::Sample>) -> Option<String> {
    use crate::units::fmt_bytes;
    if req.oom_safe || req.force {
        return None;
    }
    let s = now?;
    let reserve = reserve_mib(s.mem_total) * crate::units::MIB;
    let limit = crate::diagnose::checks::guard_limit(s.available(), s.mem_total);
    let asked = req.alloc.bytes_for(req.memsize_mib);
    (asked > limit).then(|| {
        format!(
            "{} asked is above MemAvailable {} minus the reserve of {} ({}), {} usable; \
             plain vmalloc() would wake the OOM killer. Use safe mode, a smaller size, or --force to load anyway",
            fmt_bytes(asked),
            fmt_bytes(s.available()),
            fmt_bytes(reserve),
            crate::module::RESERVE_POLICY,
            fmt_bytes(limit)
        )
    })
}

/// Drives loads and unloads; owns the clock shared with the sampler.
/// Blocking: run it off the UI thread.
pub struct Engine {
    start: Instant,
    module: Option<PathBuf>,
    /// Load module files that others could have changed (`--allow-unsafe-file`).
    allow_unsafe_file: bool,
    kernel: KernelInfo,
    /// vmtop's tracefs instance: the kernel's vmap-area events during each load.
    recorder: crate::tracefs::Recorder,
}

/// A load, and what it learnt on the way that its caller may want.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub event: Event,
    /// How a failed load ended (errno, signal, or why vmtop did not ask); None when it loaded.
    pub end: Option<LoaderEnd>,
    /// The module's own figures for this load, loaded or not (None when the kernel log was
    /// unreadable or the module did not get that far): the probe's next estimate.
    pub figures: Option<ModuleFigures>,
    /// Whether a failed load had its buffer allocated when it stopped, by the module's fail
    /// line (`allocated=`; None: no such line, or a module older than the field).
    pub allocated: Option<bool>,
    /// The signal that killed the loader after the module's init had returned: loaded all
    /// the same (/proc/modules lists it), and unloadable as any other load.
    pub loader_killed_after_load: Option<i32>,
    /// The kernel's vmalloc:alloc_vmap_area failures during the load (6.2+), or why they
    /// could not be recorded; None when the kernel was not asked.
    pub vmap_trace: Option<VmapTrace>,
}

impl Loaded {
    /// What to tell the user when the loader was killed after the module's init had
    /// returned (`unload`: how to unload it from where they are), else None.
    pub fn loader_killed_note(&self, unload: &str) -> Option<String> {
        self.loader_killed_after_load.map(|sig| {
            format!(
                "the loader (vmtop-kmod) was killed by {} after the module's init had returned: {MODULE_NAME} is loaded all the same (/proc/modules lists it); {unload} frees it",
                crate::units::signal_name(sig)
            )
        })
    }

    fn failed(mut event: Event, end: LoaderEnd, diagnosis: Diagnosis) -> Loaded {
        event.outcome = Outcome::Failed { diagnosis };
        Loaded {
            event,
            end: Some(end),
            figures: None,
            allocated: Some(false),
            loader_killed_after_load: None,
            vmap_trace: None,
        }
    }
}

/// One load attempt's figures, gathered as it runs, for its diagnosis.
struct Attempt {
    before: Option<Sample>,
    /// Largest free range of the vmalloc address space before the attempt.
    largest_free: Option<u64>,
    /// Whether the module file carries a signature.
    module_signed: Option<bool>,
    /// The process that called init_module.
    loader_pid: Option<u32>,
    /// What the kernel's vmap-area event recorded during the attempt.
    vmap_trace: Option<VmapTrace>,
}

/// What the insert helper's run left behind.
struct Insertion {
    /// How the helper ended, with its pid.
    end: Result<(ChildEnd, u32), crate::helper::Problem>,
    after: Option<Sample>,
    /// The kernel log lines printed meanwhile.
    log: Vec<String>,
    /// Why the kernel log was not fully read, if so.
    log_problem: Option<String>,
}

impl Engine {
    /// `module`: the `--module PATH` override, if any.
    pub fn new(start: Instant, module: Option<PathBuf>) -> Engine {
        Engine {
            start,
            module,
            allow_unsafe_file: false,
            kernel: KernelInfo::detect(),
            recorder: crate::tracefs::Recorder::default(),
        }
    }

    /// Accept module files that someone other than root or the invoking user could change.
    pub fn allow_unsafe_file(mut self, allow: bool) -> Engine {
        self.allow_unsafe_file = allow;
        self
    }

    /// Make vmtop's tracefs instance now rather than at the first load (the dashboard keeps
    /// it for the session). Returns a notice when a stale one (a crashed vmtop's) was removed.
    pub fn prepare_tracing(&mut self) -> Option<String> {
        self.recorder.prepare(&self.kernel.release)
    }

    pub fn kernel(&self) -> &KernelInfo {
        &self.kernel
    }

    /// Path of the module file that `load` will use (after discovery), or why there is none.
    pub fn module_path(&self) -> Result<PathBuf, FileProblem> {
        file::find(self.module.as_deref()).map(|m| m.path)
    }

    /// The module file `load` would use, checked as `load` checks it: resolved once
    /// (`file::identify`), its owners checked on that path, then read through libkmod from
    /// that very file. `Checked::file` is what `load` hands to the helper.
    pub fn checked_module(&self) -> Result<(ModuleFile, Checked), FileProblem> {
        let module = file::find(self.module.as_deref())?;
        let identified = file::identify(&module.path)?;
        // Whoever the kernel lets load runs the file as kernel code: checked whatever vmtop
        // predicts of the privileges (its prediction can be wrong where the kernel's cannot),
        // and before libkmod parses the file as root.
        if !self.allow_unsafe_file {
            let owners = crate::trust::Trust::current().module_owners();
            file::check_ownership(&identified.canonical, &owners)?;
        }
        let checked = file::check(&module.path, &identified, &self.kernel.release)?;
        Ok((module, checked))
    }

    pub fn status(&self) -> anyhow::Result<ModuleStatus> {
        if !self.kernel.module_support {
            return Ok(ModuleStatus::default());
        }
        sysfs::status()
    }

    /// An Adopt event when the module is already loaded (by an earlier vmtop or by hand with
    /// insmod), so a session that starts with it loaded says so and can unload it.
    pub fn adopt_existing(&self) -> Option<Event> {
        let s = self.status().ok().filter(|s| s.loaded)?;
        Some(Event {
            alloc_ns: s.alloc_ns,
            fill_ns: s.fill_ns,
            module_line: None,
            ..self.event(EventKind::Adopt, &s)
        })
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// A successful event of `kind` for the module as `held` describes it (no figures yet).
    fn event(&self, kind: EventKind, held: &ModuleStatus) -> Event {
        Event {
            t: self.now(),
            kind,
            memsize_mib: held.memsize_mib.unwrap_or(0),
            oom_safe: held.oom_safe.unwrap_or(true),
            outcome: Outcome::Ok,
            wall_ns: 0,
            alloc_ns: None,
            fill_ns: None,
            module_line: None,
            delta: None,
            alloc: None,
        }
    }

    /// The diagnosis of a load of `req` that ended as `end`.
    fn diagnose(
        &self,
        req: &LoadRequest,
        a: &Attempt,
        end: LoaderEnd,
        log: Vec<String>,
        after: Option<Sample>,
    ) -> Diagnosis {
        diagnose::diagnose(&diagnose::FailureInput {
            end,
            requested_mib: req.memsize_mib,
            oom_safe: req.oom_safe,
            log,
            before: a.before,
            after,
            privileges: self.kernel.privileges.clone(),
            signing: self.kernel.signing.clone(),
            module_signed: a.module_signed,
            vmalloc_largest_free: a.largest_free,
            loader_pid: a.loader_pid,
            vmap_trace: a.vmap_trace.clone(),
        })
    }

    /// Load the module (in a child process); never panics, a failure is an Event.
    pub fn load(&mut self, req: &LoadRequest) -> Loaded {
        let started = Instant::now();
        let mut event = Event {
            memsize_mib: req.memsize_mib,
            oom_safe: req.oom_safe,
            alloc: Some(req.alloc),
            ..self.event(EventKind::Load, &ModuleStatus::default())
        };
        let before = Sample::read().ok();
        let mut a = Attempt {
            before,
            largest_free: before
                .as_ref()
                .and_then(|b| crate::system::vmallocinfo::largest_free_now(b.vmalloc_total)),
            module_signed: None,
            loader_pid: None,
            vmap_trace: None,
        };
        let (module, checked) = match self.may_load(req, &a) {
            Ok(m) => m,
            Err((end, diagnosis)) => return Loaded::failed(event, end, diagnosis),
        };
        a.module_signed = file::is_signed(&module.path);
        // The kernel's vmap-area events, in vmtop's own tracefs instance, for this load only.
        self.recorder.start(&self.kernel.release);
        let ins = insert(&checked.file, req, before.as_ref());
        a.vmap_trace = Some(self.recorder.finish());
        event.wall_ns = started.elapsed().as_nanos() as u64;
        let figures = ins
            .log
            .iter()
            .rev()
            .find_map(|l| ModuleFigures::from_log_line(l));
        event.module_line = ins
            .log
            .iter()
            .rev()
            .find(|l| {
                ModuleFigures::from_log_line(l).is_some()
                    || crate::module::log::FailLine::parse(l).is_some()
            })
            .cloned();
        let allocated = ins
            .log
            .iter()
            .rev()
            .find_map(|l| crate::module::log::FailLine::parse(l))
            .and_then(|f| f.allocated);
        if let (Some(b), Some(after)) = (before.as_ref(), ins.after.as_ref()) {
            event.delta = Some(Delta::between(b, after));
        }
        if let Ok((_, pid)) = &ins.end {
            a.loader_pid = Some(*pid).filter(|p| *p != 0);
        }
        // The kernel's list is the answer: the helper has returned (its init_module call
        // with it), so the module is either listed now or not loaded.
        let loaded_now = || sysfs::is_loaded().unwrap_or(false);
        let mut loader_killed_after_load = None;
        let end = match ins.end.map(|(end, _)| end) {
            // Loaded, stopped after the module's init had returned, or killed after it (the
            // OOM killer, a signal): it is loaded all the same, and unloadable.
            Ok(c @ (ChildEnd::Loaded | ChildEnd::Cancelled | ChildEnd::Signal(_)))
                if loaded_now() =>
            {
                if let ChildEnd::Signal(s) = c {
                    loader_killed_after_load = Some(s);
                }
                if let Ok(st) = sysfs::status() {
                    event.alloc_ns = st.alloc_ns;
                    event.fill_ns = st.fill_ns;
                }
                None
            }
            // "Loaded", and /proc/modules does not list it: the helper is not doing its job
            // (not vmtop's, another version, broken). Never reported as a load.
            Ok(ChildEnd::Loaded) => {
                let p = crate::helper::Problem::SaidLoaded {
                    helper: crate::helper::helper_path()
                        .unwrap_or_else(|_| PathBuf::from(crate::helper::protocol::HELPER)),
                    module: MODULE_NAME.into(),
                };
                event.wall_ns = started.elapsed().as_nanos() as u64;
                let end = LoaderEnd::Refused(NotAsked::HelperFailed);
                return Loaded::failed(event, end, diagnose::helper_failed(&p));
            }
            Ok(ChildEnd::Cancelled) => Some(LoaderEnd::Cancelled),
            Ok(ChildEnd::Errno(e)) => Some(LoaderEnd::Errno(e)),
            Ok(ChildEnd::Signal(s)) => Some(LoaderEnd::Signal(s)),
            Err(p) => {
                let end = match p {
                    crate::helper::Problem::Changed { .. } => NotAsked::ModuleFile,
                    _ => NotAsked::HelperFailed,
                };
                return Loaded::failed(event, LoaderEnd::Refused(end), diagnose::helper_failed(&p));
            }
        };
        if let Some(end) = end {
            let mut diagnosis = self.diagnose(req, &a, end, ins.log, ins.after);
            if let Some(problem) = ins.log_problem {
                diagnosis.detail.push_str(&format!(
                    "\n\nThe kernel log was not fully read ({problem}): this diagnosis may lack the kernel's own lines."
                ));
            }
            event.outcome = Outcome::Failed { diagnosis };
        }
        Loaded {
            allocated: if end.is_some() { allocated } else { Some(true) },
            event,
            end,
            figures,
            loader_killed_after_load,
            vmap_trace: a.vmap_trace,
        }
    }

    /// The module file to load, or why vmtop does not ask the kernel: no module support, the
    /// unsafe-mode guard, the file refused.
    fn may_load(
        &self,
        req: &LoadRequest,
        a: &Attempt,
    ) -> Result<(ModuleFile, Checked), (LoaderEnd, Diagnosis)> {
        if !self.kernel.module_support {
            let end = LoaderEnd::Refused(NotAsked::NoModuleSupport);
            return Err((end, self.diagnose(req, a, end, vec![], a.before)));
        }
        // No check of privileges here: the kernel checks them first thing (may_init_module),
        // before it reads the module, and the diagnosis of its EPERM names what is missing.
        // vmtop's own reading of them can be wrong where the kernel's cannot (user namespaces,
        // security modules).
        if let Some(why) = panic_on_warn_refusal(req.oom_safe, panic_on_warn())
            .or_else(|| guard(req, a.before.as_ref()))
        {
            let end = LoaderEnd::Refused(NotAsked::UnsafeGuard);
            return Err((end, diagnose::guard_refused(why)));
        }
        match self.checked_module() {
            Ok(m) => Ok(m),
            Err(problem @ FileProblem::Helper(_)) => Err((
                LoaderEnd::Refused(NotAsked::HelperFailed),
                diagnose::file_refused(&problem),
            )),
            Err(problem) => Err((
                LoaderEnd::Refused(NotAsked::ModuleFile),
                diagnose::file_refused(&problem),
            )),
        }
    }

    /// Unload the module; the event carries the memsize it held and what was given back.
    pub fn unload(&mut self) -> Event {
        let started = Instant::now();
        let st = self.status().unwrap_or_default();
        let before = Sample::read().ok();
        let mut event = Event {
            alloc_ns: st.alloc_ns,
            fill_ns: st.fill_ns,
            module_line: None,
            ..self.event(EventKind::Unload, &st)
        };
        // A module whose init is still running (allocating and filling its buffer) cannot be
        // removed: the kernel answers EBUSY. Say why rather than just the errno.
        let loading = || {
            sysfs::module_state()
                .ok()
                .flatten()
                .is_some_and(|s| s == "Loading")
        };
        let was_loading = loading();
        let result = if !self.kernel.module_support {
            Err(libc::ENOSYS)
        } else if was_loading {
            Err(libc::EBUSY)
        } else if !st.loaded {
            // Checked first: libkmod would also print its own error line for this.
            Err(libc::ENOENT)
        } else {
            match crate::helper::remove(MODULE_NAME) {
                Ok(r) => r,
                Err(problem) => {
                    event.outcome = Outcome::Failed {
                        diagnosis: diagnose::helper_failed(&problem),
                    };
                    return event;
                }
            }
        };
        event.wall_ns = started.elapsed().as_nanos() as u64;
        match result {
            Ok(()) => {
                let after = Sample::read().ok();
                if let (Some(b), Some(a)) = (before.as_ref(), after.as_ref()) {
                    event.delta = Some(Delta::between(b, a));
                }
            }
            Err(errno) => {
                let still_loading = was_loading || (errno == libc::EBUSY && loading());
                event.outcome = Outcome::Failed {
                    diagnosis: diagnose::unload_failure(errno, still_loading, &self.kernel),
                };
            }
        }
        event
    }
}

/// Insert the module `file` (as checked) for `req` in the helper, with the kernel log read
/// around it.
fn insert(file: &file::Identified, req: &LoadRequest, before: Option<&Sample>) -> Insertion {
    // The kernel's own words are the evidence: a log that cannot be read is said, not hidden.
    let (mut kmsg, mut log_problem) = match crate::system::kmsg::Kmsg::open_at_end() {
        Ok(k) => (Some(k), None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    let params = req.params(before.map(|b| b.mem_total));
    let end = crate::helper::insert_in_child(&file.canonical, file.id, &params.words());
    let after = Sample::read().ok();
    let log: Vec<String> = kmsg
        .as_mut()
        .map(|k| k.read_available().into_iter().map(|r| r.text).collect())
        .unwrap_or_default();
    if let Some(k) = kmsg.as_mut() {
        if let Some(e) = k.take_error() {
            log_problem = Some(e.to_string());
        } else if k.lost() > 0 {
            log_problem = Some(format!(
                "{} records were overwritten by the kernel before vmtop read them",
                k.lost()
            ));
        }
    }
    Insertion {
        end,
        after,
        log,
        log_problem,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unsafe_mode_is_refused_where_a_warning_panics() {
        use super::panic_on_warn_refusal;
        let why = panic_on_warn_refusal(false, Some(true)).expect("unsafe with panic_on_warn=1");
        assert!(
            why.starts_with("unsafe mode refused: kernel.panic_on_warn is 1"),
            "{why}"
        );
        assert!(
            why.contains("--mode safe") && why.contains("kernel.panic_on_warn=0"),
            "{why}"
        );
        assert!(!why.contains('\n'), "one line: {why}");
        assert_eq!(panic_on_warn_refusal(true, Some(true)), None);
        assert_eq!(panic_on_warn_refusal(false, Some(false)), None);
        assert_eq!(panic_on_warn_refusal(false, None), None);
    }

    use super::*;
    use crate::diagnose::{Cause, Confidence};

    /// A loader killed after the module's init returned: one line naming the signal, the
    /// module loaded, and the caller's way to unload it; nothing otherwise.
    #[test]
    fn a_loader_killed_after_the_load_is_said() {
        let mut loaded = Loaded {
            event: Event {
                t: 1.0,
                kind: EventKind::Load,
                memsize_mib: 64,
                oom_safe: true,
                outcome: Outcome::Ok,
                wall_ns: 0,
                alloc_ns: None,
                fill_ns: None,
                module_line: None,
                delta: None,
                alloc: None,
            },
            end: None,
            figures: None,
            allocated: Some(true),
            loader_killed_after_load: None,
            vmap_trace: None,
        };
        assert_eq!(loaded.loader_killed_note("u"), None);
        loaded.loader_killed_after_load = Some(libc::SIGKILL);
        let note = loaded.loader_killed_note("u").expect("a note");
        assert!(note.contains("killed by SIGKILL"), "{note}");
        assert!(
            note.contains("alloc_large_mem is loaded all the same"),
            "{note}"
        );
        assert!(note.ends_with("u frees it"), "{note}");
        assert!(!note.contains('\n'), "{note}");
    }

    /// Every cause, listed so that a new one must be added here to compile.
    fn every_cause() -> Vec<Cause> {
        let all = vec![
            Cause::ExceedsTotalPages,
            Cause::AddressSpaceExhausted,
            Cause::PhysicalMemoryShort,
            Cause::OomKilled,
            Cause::RefusedByGuard,
            Cause::LoaderKilled,
            Cause::AlreadyLoaded,
            Cause::WrongKernel,
            Cause::SignatureRejected,
            Cause::Lockdown,
            Cause::NotPermitted,
            Cause::NoModuleSupport,
            Cause::ModuleFileMissing,
            Cause::ModuleFileInvalid,
            Cause::ModuleFileUnsafe,
            Cause::BadParameter,
            Cause::Interrupted,
            Cause::Cancelled,
            Cause::HelperFailed,
            Cause::StillLoading,
            Cause::KmallocAboveMax,
            Cause::OrderAboveMax,
            Cause::KvmallocAboveMax,
            Cause::NoContiguousBlock,
            Cause::Unknown,
        ];
        for c in &all {
            match c {
                Cause::ExceedsTotalPages
                | Cause::AddressSpaceExhausted
                | Cause::PhysicalMemoryShort
                | Cause::OomKilled
                | Cause::RefusedByGuard
                | Cause::LoaderKilled
                | Cause::AlreadyLoaded
                | Cause::WrongKernel
                | Cause::SignatureRejected
                | Cause::Lockdown
                | Cause::NotPermitted
                | Cause::NoModuleSupport
                | Cause::ModuleFileMissing
                | Cause::ModuleFileInvalid
                | Cause::ModuleFileUnsafe
                | Cause::BadParameter
                | Cause::Interrupted
                | Cause::Cancelled
                | Cause::HelperFailed
                | Cause::StillLoading
                | Cause::KmallocAboveMax
                | Cause::OrderAboveMax
                | Cause::KvmallocAboveMax
                | Cause::NoContiguousBlock
                | Cause::Unknown => {}
            }
        }
        all
    }

    /// Events go out as JSON (`--json`, the lab's replay) and come back in: every outcome,
    /// cause and confidence reads back as it was written.
    #[test]
    fn events_round_trip_through_json() {
        let confidences = [
            Confidence::Inferred,
            Confidence::Likely,
            Confidence::Certain,
        ];
        let mut events = vec![Event {
            t: 0.25,
            kind: EventKind::Adopt,
            memsize_mib: 64,
            oom_safe: false,
            outcome: Outcome::Ok,
            wall_ns: 0,
            alloc_ns: Some(31_617_220),
            fill_ns: Some(29_485_190),
            module_line: None,
            delta: Some(Delta {
                mem_free: -(65 << 20),
                mem_available: -(64 << 20),
                vmalloc_used: 64 << 20,
            }),
            alloc: None,
        }];
        for (i, cause) in every_cause().into_iter().enumerate() {
            events.push(Event {
                t: i as f64,
                kind: [EventKind::Load, EventKind::Unload][i % 2],
                memsize_mib: 1 << i,
                oom_safe: i % 3 == 0,
                outcome: Outcome::Failed {
                    diagnosis: Diagnosis {
                        cause,
                        confidence: confidences[i % 3],
                        summary: format!("summary {i}"),
                        detail: "detail\nwith lines".into(),
                        evidence: vec!["alloc_large_mem: fail memsize_mib=1".into()],
                    },
                },
                wall_ns: 1_000 * i as u64,
                alloc_ns: None,
                fill_ns: None,
                module_line: None,
                delta: None,
                alloc: crate::module::alloc::Allocator::ALL.get(i % 6).copied(),
            });
        }
        for e in events {
            let json = serde_json::to_string(&e).expect("to JSON");
            let back: Event = serde_json::from_str(&json).expect("from JSON");
            assert_eq!(back, e, "{json}");
        }
        for c in confidences {
            assert_eq!(serde_json::to_value(c).expect("JSON"), c.name());
        }
    }
}
