//! Why a load failed: a pure function of (errno, kernel log lines, memory figures).
//!
//! `diagnose()` here dispatches on how the loader ended; `facts` recognises the kernel's and
//! the module's lines; `memory` (ENOMEM), `refusals` (everything that is not about size) and
//! `signals` hold the rules and their words. The tests run on captured kernel text.
//!
//! The kernel messages recognised here, with the Linux 6.1 source that prints them:
//!
//! | message (after the `COMM: ` prefix where there is one) | source |
//! |---|---|
//! | `vmalloc error: size N, exceeds total pages, mode:0x…(…), nodemask=…` | mm/vmalloc.c `__vmalloc_node_range` → `warn_alloc` (mm/page_alloc.c prefixes `COMM: `) |
//! | `vmalloc error: size N, vm_struct allocation failed…` | mm/vmalloc.c `__vmalloc_node_range` |
//! | `vmap allocation for size N failed: use vmalloc=<size> to increase size` | mm/vmalloc.c `alloc_vmap_area` |
//! | `vmalloc error: size N, failed to allocate pages` / `failed to allocated page array size N` | mm/vmalloc.c `__vmalloc_area_node` |
//! | `COMM invoked oom-killer: gfp_mask=…` | mm/oom_kill.c `dump_header` |
//! | `oom-kill:constraint=…,task=COMM,pid=N,uid=N` | mm/oom_kill.c `dump_oom_summary` |
//! | `Out of memory: Killed process N (COMM) total-vm:…` | mm/oom_kill.c `__oom_kill_process` |
//! | `NAME: version magic 'A' should be 'B'` (ENOEXEC) | kernel/module/main.c `check_modinfo` |
//! | `NAME: disagrees about version of symbol S` (ENOEXEC or EINVAL) | kernel/module/version.c `check_version` |
//! | `module NAME: .gnu.linkonce.this_module section size must match the kernel's built struct module size at run time` (ENOEXEC; 6.12, before symbol versions) | kernel/module/main.c `elf_validity_cache_index_mod` |
//! | `NAME: Unknown symbol S (err N)` | kernel/module/main.c `simplify_symbols` |
//! | `Loading of unsigned module is rejected`, `Loading of module with unavailable key is rejected` (EKEYREJECTED) | kernel/module/signing.c `module_sig_check` |
//! | `Lockdown: COMM: unsigned module loading is restricted; see man kernel_lockdown.7` (EPERM) | security/lockdown/lockdown.c |
//! | `alloc_large_mem: fail memsize_mib=N bytes=N oom_safe=Y err=-N stage=S` | kmod-src/alloc_large_mem.c |
//! | `alloc_large_mem: memsize must be between 1 and N MiB` | kmod-src/alloc_large_mem.c |
//! | `alloc_large_mem: limits page_size=N kmalloc_max_size=N max_order=N allocators=…` | kmod-src/alloc_large_mem.c |
//! | `WARNING: CPU: N PID: N at mm/page_alloc.c:N __alloc_pages+…` (order above the largest, without __GFP_NOWARN; once per boot) | mm/page_alloc.c `__alloc_pages` `WARN_ON_ONCE_GFP(order > MAX_ORDER…)` |
//!
//! | `execmem: unable to allocate memory` (6.10+: no room for a module's code or data) | mm/execmem.c `execmem_vmalloc` |
//!
//! `__GFP_NOWARN` (safe mode) silences every vmalloc and vmap warning above, so in safe mode
//! the cause is decided from the figures and the confidence says so, unless the kernel's
//! `vmalloc:alloc_vmap_area` trace event (6.2+, recorded by the `tracefs` module during the load)
//! reports the failed range: then it is certain, with the event as evidence.

use serde::{Deserialize, Serialize};

pub(crate) mod checks;
mod facts;
mod memory;
mod refusals;
mod signals;

pub(crate) use refusals::{
    file_refused, guard_refused, helper_failed, signing_facts, unload_failure,
};

use facts::Facts;
use memory::no_memory;
use refusals::{bad_parameter, no_module_support, not_permitted, signature_rejected, wrong_kernel};
use signals::{cancelled, signalled};

use crate::system::host::{Privileges, Signing};
use crate::system::meminfo::Sample;
use crate::units::{errno_name, MIB};

/// What went wrong, in terms a student can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// More than all RAM was asked ("exceeds total pages").
    ExceedsTotalPages,
    /// No free range of the vmalloc address space is big enough ("vm_struct allocation failed").
    AddressSpaceExhausted,
    /// Physical memory short: ENOMEM in safe mode while smaller than MemTotal.
    PhysicalMemoryShort,
    /// The OOM killer killed the loader (unsafe mode; in safe mode only at the very edge).
    OomKilled,
    /// Not attempted: vmtop's unsafe-mode guard refused a size that would wake the OOM
    /// killer (`--force` overrides).
    RefusedByGuard,
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
    /// The file is not a loadable module (empty, a directory, text, truncated or damaged).
    ModuleFileInvalid,
    /// vmtop refused a module file that someone other than root or the user could change.
    ModuleFileUnsafe,
    /// The module rejected a parameter (EINVAL).
    BadParameter,
    /// The load was interrupted (EINTR).
    Interrupted,
    /// vmtop stopped its loader (quit during a load, `vmtop load` signalled).
    Cancelled,
    /// vmtop's libkmod helper could not run.
    HelperFailed,
    /// An unload refused because the module's init is still running (EBUSY).
    StillLoading,
    /// kmalloc() of more than KMALLOC_MAX_SIZE.
    KmallocAboveMax,
    /// alloc_pages() of an order above the largest the page allocator gives.
    OrderAboveMax,
    /// kvmalloc() of more than INT_MAX bytes.
    KvmallocAboveMax,
    /// Enough free memory, but no free physically contiguous block of the order asked
    /// (fragmentation).
    NoContiguousBlock,
    /// Nothing above fits.
    Unknown,
}

impl Cause {
    /// Failures that mean "this size does not fit"; anything else stops a probe. The OOM
    /// killer counts: a probe runs in safe mode, where it fires only at the very edge.
    pub fn means_too_big(self) -> bool {
        matches!(
            self,
            Cause::ExceedsTotalPages
                | Cause::AddressSpaceExhausted
                | Cause::PhysicalMemoryShort
                | Cause::OomKilled
                | Cause::KmallocAboveMax
                | Cause::OrderAboveMax
                | Cause::KvmallocAboveMax
                | Cause::NoContiguousBlock
        )
    }
}

impl Cause {
    /// A few words for a chart's label or a table cell ("more than all RAM").
    pub fn words(self) -> &'static str {
        match self {
            Cause::ExceedsTotalPages => "more than all RAM",
            Cause::AddressSpaceExhausted => "no vmalloc range that big",
            Cause::PhysicalMemoryShort => "RAM ran short",
            Cause::OomKilled => "OOM killer",
            Cause::RefusedByGuard => "refused by vmtop's guard",
            Cause::LoaderKilled => "loader killed",
            Cause::AlreadyLoaded => "already loaded",
            Cause::WrongKernel => "built for another kernel",
            Cause::SignatureRejected => "signature rejected",
            Cause::Lockdown => "kernel lockdown",
            Cause::NotPermitted => "not permitted",
            Cause::NoModuleSupport => "no module support",
            Cause::ModuleFileMissing => "module file missing",
            Cause::ModuleFileInvalid => "not a module file",
            Cause::ModuleFileUnsafe => "module file others can change",
            Cause::BadParameter => "parameter refused",
            Cause::Interrupted => "interrupted",
            Cause::Cancelled => "cancelled",
            Cause::HelperFailed => "vmtop-kmod failed",
            Cause::StillLoading => "still loading",
            Cause::KmallocAboveMax => "above kmalloc's limit",
            Cause::OrderAboveMax => "order above the largest",
            Cause::KvmallocAboveMax => "above kvmalloc's limit",
            Cause::NoContiguousBlock => "no contiguous block",
            Cause::Unknown => "failed",
        }
    }
}

/// How sure the diagnosis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Inferred from the figures alone (the kernel said nothing).
    Inferred,
    /// The errno fits; the log or figures do not contradict it.
    Likely,
    /// The kernel said so (a log line or an unambiguous errno).
    Certain,
}

impl Confidence {
    /// Its name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Inferred => "inferred",
            Confidence::Likely => "likely",
            Confidence::Certain => "certain",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// vmtop decided not to ask the kernel.
    Refused(NotAsked),
    /// vmtop stopped the loader (the user cancelled, or vmtop was told to stop).
    Cancelled,
}

/// Why vmtop did not ask the kernel: its own decisions, typed, not errnos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotAsked {
    /// This kernel was built without module support.
    NoModuleSupport,
    /// The unsafe-mode guard: above MemAvailable minus the reserve, without `--force`.
    UnsafeGuard,
    /// The module file was refused (missing, not a module, another kernel's, unsafe).
    ModuleFile,
    /// vmtop's libkmod helper gave no usable answer: it could not be run (missing, refused,
    /// from another build, broken), or it said "loaded" while /proc/modules does not list
    /// the module.
    HelperFailed,
}

impl NotAsked {
    /// One phrase for messages ("vmtop: loading 64 MiB failed: PHRASE: ...").
    pub fn phrase(self) -> &'static str {
        match self {
            NotAsked::NoModuleSupport => "not attempted (no module support)",
            NotAsked::UnsafeGuard => "not attempted (unsafe-mode guard)",
            NotAsked::ModuleFile => "not attempted (module file refused)",
            NotAsked::HelperFailed => "no usable answer from vmtop-kmod",
        }
    }
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
    /// The loader's privileges (it has vmtop's): what the kernel checks first.
    pub privileges: Privileges,
    /// Lockdown, signature enforcement, Secure Boot, DKMS's key.
    pub signing: Signing,
    /// Whether the module file carries a signature (None: cannot tell).
    pub module_signed: Option<bool>,
    /// Largest free range of the vmalloc address space just before the attempt, in bytes
    /// (`crate::system::vmallocinfo::largest_free_now`; None when /proc/vmallocinfo is unreadable).
    pub vmalloc_largest_free: Option<u64>,
    /// PID of the process that called init_module (the loader child), to recognise it in
    /// "Killed process PID (comm)" lines.
    pub loader_pid: Option<u32>,
    /// The kernel's vmalloc:alloc_vmap_area events recorded during the attempt (Linux 6.2+,
    /// the `tracefs` module), or why none could be; None when nobody tried (tests, old callers).
    pub vmap_trace: Option<crate::system::vmap_trace::VmapTrace>,
}

struct Ctx<'a> {
    input: &'a FailureInput,
    facts: Facts<'a>,
    req: u64,
    /// Constant figures (MemTotal, VmallocTotal) from whichever sample exists.
    fig: Option<Sample>,
}

impl Ctx<'_> {
    fn asked(&self) -> String {
        format!("{} MiB", self.input.requested_mib)
    }
    fn mem_total(&self) -> Option<u64> {
        self.fig.map(|s| s.mem_total)
    }
    fn vmalloc_total(&self) -> Option<u64> {
        self.fig.map(|s| s.vmalloc_total).filter(|&t| t > 0)
    }
    fn available(&self) -> Option<u64> {
        self.input
            .before
            .or(self.input.after)
            .map(|s| s.available())
    }
    fn mode(&self) -> &'static str {
        if self.input.oom_safe {
            "safe mode (__vmalloc with GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)"
        } else {
            "unsafe mode (plain vmalloc, GFP_KERNEL)"
        }
    }
    /// Every log line the module printed, for evidence.
    fn module_lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(m) = self.facts.module_fail {
            v.push(m.line.to_string());
        }
        if let Some(l) = self.facts.param_range {
            v.push(l.to_string());
        }
        if let Some(l) = self.facts.param_alloc {
            v.push(l.to_string());
        }
        v
    }
    /// A largest-free-gap figure smaller than the request plus its guard page.
    /// The loader's failed vmap-area allocation, as the kernel traced it.
    fn traced_failure(&self) -> Option<&crate::system::vmap_trace::VmapEvent> {
        self.input
            .vmap_trace
            .as_ref()?
            .failure_for(self.input.loader_pid)
    }
    /// Why the kernel's event was not recorded (for the words of an inferred diagnosis).
    fn trace_unavailable(&self) -> Option<&str> {
        match self.input.vmap_trace.as_ref()? {
            crate::system::vmap_trace::VmapTrace::Unavailable { reason } => Some(reason),
            crate::system::vmap_trace::VmapTrace::Recorded { .. } => None,
        }
    }
    /// The event was recorded and shows no failed allocation of the loader.
    fn trace_shows_no_failure(&self) -> bool {
        matches!(
            self.input.vmap_trace,
            Some(crate::system::vmap_trace::VmapTrace::Recorded { .. })
        ) && self.traced_failure().is_none()
    }
    fn gap_too_small(&self) -> Option<u64> {
        self.input
            .vmalloc_largest_free
            .filter(|&g| checks::gap_too_small(self.req, g))
    }
}

fn diag(
    cause: Cause,
    confidence: Confidence,
    summary: String,
    detail: String,
    evidence: Vec<String>,
) -> Diagnosis {
    Diagnosis {
        cause,
        confidence,
        summary,
        detail,
        evidence,
    }
}

fn lines(v: &[Option<&str>]) -> Vec<String> {
    v.iter().flatten().map(|s| s.to_string()).collect()
}

/// Decide why a load failed. Pure: everything it uses is in `input`.
pub fn diagnose(input: &FailureInput) -> Diagnosis {
    let cx = Ctx {
        input,
        facts: Facts::read(&input.log),
        req: input.requested_mib.saturating_mul(MIB),
        fig: input.before.or(input.after),
    };
    match input.end {
        LoaderEnd::Signal(sig) => signalled(&cx, sig),
        LoaderEnd::Errno(code) => by_errno(&cx, code),
        LoaderEnd::Refused(NotAsked::NoModuleSupport) => no_module_support(),
        LoaderEnd::Refused(NotAsked::HelperFailed) => diag(
            Cause::HelperFailed,
            Confidence::Certain,
            "vmtop's libkmod helper vmtop-kmod could not run: nothing was loaded".into(),
            format!(
                "Every libkmod call runs in the helper vmtop-kmod, installed beside vmtop or in \
                 PREFIX/libexec/vmtop. Reinstall vmtop ({}); the lines below say what failed.",
                crate::helper::REINSTALL
            ),
            input.log.clone(),
        ),
        // Built by the engine itself (the guard, `file_refused`); kept total for callers.
        LoaderEnd::Refused(n) => diag(
            Cause::Unknown,
            Confidence::Certain,
            format!("Load {}", n.phrase()),
            String::new(),
            Vec::new(),
        ),
        LoaderEnd::Cancelled => cancelled(&cx),
    }
}

fn by_errno(cx: &Ctx, code: i32) -> Diagnosis {
    use nix::libc;
    let f = &cx.facts;

    // A module built for another kernel can fail with ENOEXEC, EINVAL or ENOENT: the log decides.
    if code == libc::ENOEXEC
        || f.vermagic.is_some()
        || f.symbol_version.is_some()
        || f.module_struct_size.is_some()
        || f.invalid_format.is_some()
        || (f.unknown_symbol.is_some() && (code == libc::EINVAL || code == libc::ENOENT))
    {
        return wrong_kernel(cx, code);
    }
    match code {
        libc::ENOMEM => no_memory(cx),
        libc::EEXIST => diag(
            Cause::AlreadyLoaded,
            Confidence::Certain,
            "alloc_large_mem is already loaded (EEXIST): unload it first".into(),
            "The kernel keeps one instance of a module; a second init_module() returns EEXIST \
             without running its init. Unload the loaded one (vmtop's unload, or rmmod alloc_large_mem) \
             and load again with the new memsize."
                .into(),
            Vec::new(),
        ),
        libc::EKEYREJECTED => signature_rejected(cx),
        libc::EPERM => not_permitted(cx),
        libc::ENOSYS => no_module_support(),
        libc::ENOENT | libc::EACCES => diag(
            Cause::ModuleFileMissing,
            Confidence::Likely,
            format!(
                "Module file missing or unreadable ({})",
                errno_name(code)
            ),
            "vmtop could not read alloc_large_mem.ko. Build it with `make -C kmod-src` (or pass \
             --module PATH to a built .ko) and check that the file is readable."
                .into(),
            lines(&[f.unknown_symbol]),
        ),
        libc::EINVAL => bad_parameter(cx),
        libc::EINTR => {
            let stage = f.module_stage();
            diag(
                Cause::Interrupted,
                Confidence::Certain,
                format!(
                    "Loading {} MiB was interrupted (EINTR){}",
                    cx.input.requested_mib,
                    if stage == Some("fill") {
                        " while the module was filling the buffer"
                    } else {
                        ""
                    }
                ),
                "A fatal signal reached the loader while the module was working; the module freed \
                 what it had allocated and returned -EINTR. Nothing is left loaded; try again."
                    .into(),
                cx.module_lines(),
            )
        }
        _ => {
            let mut ev = cx.module_lines();
            ev.extend(
                cx.input
                    .log
                    .iter()
                    .filter(|l| crate::system::kmsg::is_relevant(l))
                    .take(12)
                    .cloned(),
            );
            ev.dedup();
            diag(
                Cause::Unknown,
                Confidence::Inferred,
                format!("Load failed: {}", errno_name(code)),
                format!(
                    "init_module() returned {}. vmtop has no specific explanation for it; the kernel \
                     log lines below may say more.",
                    errno_name(code),
                ),
                ev,
            )
        }
    }
}

#[cfg(test)]
mod tests;
