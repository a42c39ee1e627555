//! Why a load failed: a pure function of (errno, kernel log lines, memory figures).
//!
//! CONTRACT (types used by engine and ui); implementation owned by the engine work.

use serde::Serialize;

use crate::meminfo::Sample;

/// What went wrong, in terms a student can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// More than all RAM was asked ("exceeds total pages").
    ExceedsTotalPages,
    /// No free range of the vmalloc address space is big enough ("vm_struct allocation failed").
    AddressSpaceExhausted,
    /// Physical memory short: ENOMEM in safe mode while smaller than MemTotal.
    PhysicalMemoryShort,
    /// The OOM killer killed the loader (unsafe mode).
    OomKilled,
    /// The loader died some other way (signal).
    LoaderKilled,
    /// The module is already loaded (EEXIST).
    AlreadyLoaded,
    /// Built for another kernel (vermagic / "Invalid module format").
    WrongKernel,
    /// Signature rejected (EKEYREJECTED).
    SignatureRejected,
    /// Kernel lockdown refused the unsigned module (EPERM with lockdown).
    Lockdown,
    /// Not permitted: not root / no CAP_SYS_MODULE.
    NotPermitted,
    /// This kernel was built without module support.
    NoModuleSupport,
    /// Module file missing or unreadable.
    ModuleFileMissing,
    /// The module rejected a parameter (EINVAL).
    BadParameter,
    /// The load was interrupted (EINTR).
    Interrupted,
    /// Nothing above fits.
    Unknown,
}

/// How sure the diagnosis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Inferred from the figures alone (the kernel said nothing).
    Inferred,
    /// The errno fits; the log or figures do not contradict it.
    Likely,
    /// The kernel said so (a log line or an unambiguous errno).
    Certain,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub cause: Cause,
    pub confidence: Confidence,
    /// One line for banners: "Asked 2000 MiB, more than all RAM (MemTotal 978 MiB)".
    pub summary: String,
    /// Explanation with the numbers behind it, and what to try.
    pub detail: String,
    /// Kernel log lines that support it.
    pub evidence: Vec<String>,
}

/// How the loader ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoaderEnd {
    /// init_module/finit_module returned this errno.
    Errno(i32),
    /// The loader process was killed by this signal.
    Signal(i32),
    /// vmtop refused before calling the kernel (e.g. file missing); errno-like code.
    Refused(i32),
}

/// Everything the diagnosis may use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureInput {
    pub end: LoaderEnd,
    pub requested_mib: u64,
    pub oom_safe: bool,
    /// Kernel log lines printed during the attempt (from /dev/kmsg), text only.
    pub log: Vec<String>,
    /// Figures just before the attempt.
    pub before: Option<Sample>,
    /// Figures just after it.
    pub after: Option<Sample>,
    /// Kernel lockdown state from /sys/kernel/security/lockdown, e.g. "[none] integrity confidentiality".
    pub lockdown: Option<String>,
    pub is_root: bool,
}

pub fn diagnose(input: &FailureInput) -> Diagnosis {
    let _ = input;
    Diagnosis {
        cause: Cause::Unknown,
        confidence: Confidence::Inferred,
        summary: "load failed".into(),
        detail: String::new(),
        evidence: Vec::new(),
    }
}
