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
