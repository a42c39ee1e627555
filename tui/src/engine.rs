//! Load and unload as events: figures before and after, the module's own timings,
//! and a diagnosis for every failure.
//!
//! CONTRACT (types used by app and ui); the driving code is owned by the engine work.

use serde::Serialize;

use crate::diagnose::Diagnosis;
use crate::meminfo::Delta;

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

/// The module as the kernel reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModuleStatus {
    pub loaded: bool,
    pub memsize_mib: Option<u64>,
    pub oom_safe: Option<bool>,
    pub fill: Option<u8>,
    /// From /sys/module/alloc_large_mem/results.
    pub bytes: Option<u64>,
    pub alloc_ns: Option<u64>,
    pub fill_ns: Option<u64>,
}

/// What to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoadRequest {
    pub memsize_mib: u64,
    pub oom_safe: bool,
    /// Skip the unsafe-mode guard (request above MemAvailable minus a reserve).
    pub force: bool,
}

/// Drives loads and unloads; owns the clock shared with the sampler.
/// Blocking: run it off the UI thread.
pub struct Engine {
    start: std::time::Instant,
    module: Option<std::path::PathBuf>,
}

impl Engine {
    /// `module`: the `--module PATH` override, if any.
    pub fn new(start: std::time::Instant, module: Option<std::path::PathBuf>) -> Engine {
        Engine { start, module }
    }

    /// Path of the module file that `load` will use (after discovery), or why there is none.
    pub fn module_path(&self) -> anyhow::Result<std::path::PathBuf> {
        self.module
            .clone()
            .ok_or_else(|| anyhow::anyhow!("module discovery not implemented yet"))
    }

    pub fn status(&self) -> anyhow::Result<ModuleStatus> {
        Ok(ModuleStatus::default())
    }

    /// Load the module (in a child process); never panics, a failure is an Event.
    pub fn load(&mut self, req: &LoadRequest) -> Event {
        Event {
            t: self.start.elapsed().as_secs_f64(),
            kind: EventKind::Load,
            memsize_mib: req.memsize_mib,
            oom_safe: req.oom_safe,
            outcome: Outcome::Failed {
                diagnosis: crate::diagnose::diagnose(&crate::diagnose::FailureInput {
                    end: crate::diagnose::LoaderEnd::Refused(38),
                    requested_mib: req.memsize_mib,
                    oom_safe: req.oom_safe,
                    log: vec![],
                    before: None,
                    after: None,
                    lockdown: None,
                    is_root: false,
                }),
            },
            wall_ns: 0,
            alloc_ns: None,
            fill_ns: None,
            delta: None,
        }
    }

    pub fn unload(&mut self) -> Event {
        let mut e = self.load(&LoadRequest {
            memsize_mib: 0,
            oom_safe: true,
            force: false,
        });
        e.kind = EventKind::Unload;
        e
    }
}
