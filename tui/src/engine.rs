//! Load and unload as events: figures before and after, the module's own timings,
//! and a diagnosis for every failure.

use serde::Serialize;

use crate::diagnose::Diagnosis;
use crate::module::{reserve_mib, Params, MODULE_NAME};
use crate::system::meminfo::Delta;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Load,
    Unload,
    /// Found already loaded (by an earlier vmtop or by hand) and taken over.
    Adopt,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Outcome {
    Ok,
    Failed { diagnosis: Diagnosis },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
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
pub fn guard(req: &LoadRequest, now: Option<&crate::system::meminfo::Sample>) -> Option<String> {
    use crate::units::fmt_bytes;
    if req.oom_safe || req.force {
        return None;
    }
    let s = now?;
    let reserve = reserve_mib(s.mem_total) * crate::units::MIB;
    let limit = s.available().saturating_sub(reserve);
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
    start: std::time::Instant,
    module: Option<std::path::PathBuf>,
    /// Load module files that others could have changed (`--allow-unsafe-file`).
    allow_unsafe_file: bool,
    kernel: crate::system::host::KernelInfo,
    last_end: Option<crate::diagnose::LoaderEnd>,
    /// Context of the attempt in progress, for the diagnosis.
    loader_pid: Option<u32>,
    largest_free: Option<u64>,
    module_signed: Option<bool>,
    /// The module's figures for the last load (its load or fail line in the kernel log).
    last_figures: Option<crate::module::log::ModuleFigures>,
}

impl Engine {
    /// `module`: the `--module PATH` override, if any.
    pub fn new(start: std::time::Instant, module: Option<std::path::PathBuf>) -> Engine {
        Engine {
            start,
            module,
            allow_unsafe_file: false,
            kernel: crate::system::host::KernelInfo::detect(),
            last_end: None,
            loader_pid: None,
            largest_free: None,
            module_signed: None,
            last_figures: None,
        }
    }

    /// Accept module files that someone other than root or the invoking user could change.
    pub fn allow_unsafe_file(mut self, allow: bool) -> Engine {
        self.allow_unsafe_file = allow;
        self
    }

    pub fn kernel(&self) -> &crate::system::host::KernelInfo {
        &self.kernel
    }

    /// Path of the module file that `load` will use (after discovery), or why there is none.
    pub fn module_path(&self) -> Result<std::path::PathBuf, crate::module::file::FileProblem> {
        crate::module::file::find(self.module.as_deref()).map(|m| m.path)
    }

    /// The module file `load` would use, checked as `load` checks it.
    pub fn checked_module(
        &self,
    ) -> Result<
        (
            crate::module::file::ModuleFile,
            crate::module::file::Checked,
        ),
        crate::module::file::FileProblem,
    > {
        let module = crate::module::file::find(self.module.as_deref())?;
        let checked = crate::module::file::check(&module.path, &self.kernel.release)?;
        // Whoever the kernel lets load (CAP_SYS_MODULE, not uid 0: "root" in a user
        // namespace cannot, and sees root's files as another user's) runs the file as kernel code.
        if !self.allow_unsafe_file && self.kernel.privileges.refusal().is_none() {
            crate::module::file::check_ownership(
                &module.path,
                crate::module::file::invoking_uid(),
            )?;
        }
        Ok((module, checked))
    }

    pub fn status(&self) -> anyhow::Result<crate::module::sysfs::ModuleStatus> {
        if !self.kernel.module_support {
            return Ok(crate::module::sysfs::ModuleStatus::default());
        }
        crate::module::sysfs::status()
    }

    /// An Adopt event when the module is already loaded (by an earlier vmtop or by hand with
    /// insmod), so a session that starts with it loaded says so and can unload it.
    pub fn adopt_existing(&self) -> Option<Event> {
        let s = self.status().ok().filter(|s| s.loaded)?;
        Some(Event {
            t: self.now(),
            kind: EventKind::Adopt,
            memsize_mib: s.memsize_mib.unwrap_or(0),
            oom_safe: s.oom_safe.unwrap_or(true),
            outcome: Outcome::Ok,
            wall_ns: 0,
            alloc_ns: s.alloc_ns,
            fill_ns: s.fill_ns,
            delta: None,
            alloc: None,
        })
    }

    /// The module's own figures for the last load, loaded or not (None when the kernel log
    /// was unreadable or the module did not get that far): the probe's next estimate.
    pub fn last_figures(&self) -> Option<crate::module::log::ModuleFigures> {
        self.last_figures
    }

    /// How the last failed load ended (errno or signal), for messages that name it.
    pub fn last_end(&self) -> Option<crate::diagnose::LoaderEnd> {
        self.last_end
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn failure(
        &mut self,
        req: &LoadRequest,
        end: crate::diagnose::LoaderEnd,
        log: Vec<String>,
        before: Option<crate::system::meminfo::Sample>,
        after: Option<crate::system::meminfo::Sample>,
    ) -> crate::diagnose::Diagnosis {
        self.last_end = Some(end);
        crate::diagnose::diagnose(&crate::diagnose::FailureInput {
            end,
            requested_mib: req.memsize_mib,
            oom_safe: req.oom_safe,
            log,
            before,
            after,
            privileges: self.kernel.privileges.clone(),
            signing: self.kernel.signing.clone(),
            module_signed: self.module_signed,
            vmalloc_largest_free: self.largest_free,
            loader_pid: self.loader_pid,
        })
    }

    /// Load the module (in a child process); never panics, a failure is an Event.
    pub fn load(&mut self, req: &LoadRequest) -> Event {
        use crate::diagnose::{LoaderEnd, NotAsked};
        use crate::helper::ChildEnd;
        let t = self.now();
        self.last_end = None;
        self.loader_pid = None;
        self.module_signed = None;
        self.last_figures = None;
        let started = std::time::Instant::now();
        let before = crate::system::meminfo::Sample::read().ok();
        self.largest_free = before
            .as_ref()
            .and_then(|b| crate::system::vmallocinfo::largest_free_now(b.vmalloc_total));
        let mut event = Event {
            t,
            kind: EventKind::Load,
            memsize_mib: req.memsize_mib,
            oom_safe: req.oom_safe,
            outcome: Outcome::Ok,
            wall_ns: 0,
            alloc_ns: None,
            fill_ns: None,
            delta: None,
            alloc: Some(req.alloc),
        };
        if !self.kernel.module_support {
            let end = LoaderEnd::Refused(NotAsked::NoModuleSupport);
            event.outcome = Outcome::Failed {
                diagnosis: self.failure(req, end, vec![], before, before),
            };
            return event;
        }
        // No check of privileges here: the kernel checks them first thing (may_init_module),
        // before it reads the module, and the diagnosis of its EPERM names what is missing.
        // vmtop's own reading of them can be wrong where the kernel's cannot (user namespaces,
        // security modules).
        if let Some(why) = guard(req, before.as_ref()) {
            self.last_end = Some(LoaderEnd::Refused(NotAsked::UnsafeGuard));
            event.outcome = Outcome::Failed {
                diagnosis: crate::diagnose::Diagnosis {
                    cause: crate::diagnose::Cause::RefusedByGuard,
                    confidence: crate::diagnose::Confidence::Certain,
                    summary: format!("Not attempted in unsafe mode: {why}"),
                    detail: why,
                    evidence: vec![],
                },
            };
            return event;
        }
        let module = match self.checked_module() {
            Ok((m, _)) => m,
            Err(problem) => {
                self.last_end = Some(LoaderEnd::Refused(NotAsked::ModuleFile));
                event.outcome = Outcome::Failed {
                    diagnosis: crate::diagnose::file_refused(&problem),
                };
                return event;
            }
        };
        self.module_signed = crate::module::file::is_signed(&module.path);
        // The kernel's own words are the evidence: a log that cannot be read is said, not hidden.
        let (mut kmsg, mut log_problem) = match crate::system::kmsg::Kmsg::open_at_end() {
            Ok(k) => (Some(k), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        };
        let params = req.params(before.as_ref().map(|b| b.mem_total));
        let end = crate::helper::insert_in_child(&module.path, &params.words());
        event.wall_ns = started.elapsed().as_nanos() as u64;
        let after = crate::system::meminfo::Sample::read().ok();
        let mut log: Vec<String> = kmsg
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
        self.last_figures = log
            .iter()
            .rev()
            .find_map(|l| crate::module::log::ModuleFigures::from_log_line(l));
        if let (Some(b), Some(a)) = (before.as_ref(), after.as_ref()) {
            event.delta = Some(crate::system::meminfo::Delta::between(b, a));
        }
        if let Ok((_, pid)) = &end {
            self.loader_pid = Some(*pid).filter(|p| *p != 0);
        }
        let loaded_anyway = || crate::module::sysfs::is_loaded().unwrap_or(false);
        let end = match end.map(|(end, _)| end) {
            // Stopped after the module's init had returned: it is loaded all the same.
            Ok(ChildEnd::Loaded) | Ok(ChildEnd::Cancelled) if loaded_anyway() => {
                if let Ok(st) = crate::module::sysfs::status() {
                    event.alloc_ns = st.alloc_ns;
                    event.fill_ns = st.fill_ns;
                }
                return event;
            }
            Ok(ChildEnd::Loaded) => {
                // Loaded, and unloaded by someone else already: report it as loaded.
                return event;
            }
            Ok(ChildEnd::Cancelled) => LoaderEnd::Cancelled,
            Ok(ChildEnd::Errno(e)) => LoaderEnd::Errno(e),
            Ok(ChildEnd::Signal(s)) => LoaderEnd::Signal(s),
            Err(e) => {
                log.push(format!("{e:#}"));
                LoaderEnd::Refused(NotAsked::HelperFailed)
            }
        };
        let mut diagnosis = self.failure(req, end, log, before, after);
        if let Some(problem) = log_problem {
            diagnosis.detail.push_str(&format!(
                "\n\nThe kernel log was not fully read ({problem}): this diagnosis may lack the kernel's own lines."
            ));
        }
        event.outcome = Outcome::Failed { diagnosis };
        event
    }

    /// Unload the module; the event carries the memsize it held and what was given back.
    pub fn unload(&mut self) -> Event {
        use crate::diagnose::{Cause, Confidence, Diagnosis};
        let t = self.now();
        let started = std::time::Instant::now();
        let st = self.status().unwrap_or_default();
        let before = crate::system::meminfo::Sample::read().ok();
        let mut event = Event {
            t,
            kind: EventKind::Unload,
            memsize_mib: st.memsize_mib.unwrap_or(0),
            oom_safe: st.oom_safe.unwrap_or(true),
            outcome: Outcome::Ok,
            wall_ns: 0,
            alloc_ns: st.alloc_ns,
            fill_ns: st.fill_ns,
            delta: None,
            alloc: None,
        };
        // A module whose init is still running (allocating and filling its buffer) cannot be
        // removed: the kernel answers EBUSY. Say why rather than just the errno.
        let loading = crate::module::sysfs::module_state()
            .ok()
            .flatten()
            .is_some_and(|s| s == "Loading");
        let result = if !self.kernel.module_support {
            Err(nix::errno::Errno::ENOSYS as i32)
        } else if loading {
            Err(nix::errno::Errno::EBUSY as i32)
        } else if !st.loaded {
            // Checked first: libkmod would also print its own error line for this.
            Err(nix::errno::Errno::ENOENT as i32)
        } else {
            crate::helper::remove(MODULE_NAME)
        };
        event.wall_ns = started.elapsed().as_nanos() as u64;
        let still_loading = loading
            || (result == Err(nix::errno::Errno::EBUSY as i32)
                && crate::module::sysfs::module_state()
                    .ok()
                    .flatten()
                    .is_some_and(|s| s == "Loading"));
        match result {
            Ok(()) => {
                let after = crate::system::meminfo::Sample::read().ok();
                if let (Some(b), Some(a)) = (before.as_ref(), after.as_ref()) {
                    event.delta = Some(crate::system::meminfo::Delta::between(b, a));
                }
            }
            Err(errno) => {
                let (cause, summary) = match nix::errno::Errno::from_raw(errno) {
                    nix::errno::Errno::ENOENT => (
                        Cause::Unknown,
                        format!("Nothing to unload: {MODULE_NAME} is not loaded"),
                    ),
                    nix::errno::Errno::EPERM => (
                        Cause::NotPermitted,
                        match self.kernel.privileges.refusal() {
                            Some(r) => format!("Unloading needs CAP_SYS_MODULE: {}", r.explain()),
                            None => "Unloading not permitted (EPERM) although this process holds CAP_SYS_MODULE".to_string(),
                        },
                    ),
                    nix::errno::Errno::EBUSY if still_loading => (
                        Cause::StillLoading,
                        format!(
                            "Cannot unload yet: {MODULE_NAME} is still loading (its init is allocating and filling the buffer); \
                             wait for the load to finish, or stop its loader, then unload"
                        ),
                    ),
                    nix::errno::Errno::ENOSYS => (
                        Cause::NoModuleSupport,
                        format!(
                            "Kernel {} cannot load or unload modules",
                            self.kernel.release
                        ),
                    ),
                    _ => (
                        Cause::Unknown,
                        format!("Unload failed: {}", crate::units::errno_name(errno)),
                    ),
                };
                event.outcome = Outcome::Failed {
                    diagnosis: Diagnosis {
                        cause,
                        confidence: Confidence::Certain,
                        summary,
                        detail: format!(
                            "delete_module returned {}",
                            crate::units::errno_name(errno)
                        ),
                        evidence: vec![],
                    },
                };
            }
        }
        event
    }
}
