//! Why a load failed: a pure function of (errno, kernel log lines, memory figures).
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
//! `__GFP_NOWARN` (safe mode) silences every vmalloc and vmap warning above, so in safe mode
//! the cause is decided from the figures and the confidence says so.

use serde::Serialize;

use crate::kernel::{Privileges, Refusal, SecureBoot, Signing, DKMS_MOK};
use crate::meminfo::Sample;
use crate::units::{fmt_bytes, MIB};

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
                | Cause::NoContiguousBlock
        )
    }
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
    /// vmtop's libkmod helper could not be run.
    HelperFailed,
}

impl NotAsked {
    /// One phrase for messages ("vmtop: loading 64 MiB failed: PHRASE: ...").
    pub fn phrase(self) -> &'static str {
        match self {
            NotAsked::NoModuleSupport => "not attempted (no module support)",
            NotAsked::UnsafeGuard => "not attempted (unsafe-mode guard)",
            NotAsked::ModuleFile => "not attempted (module file refused)",
            NotAsked::HelperFailed => "not attempted (vmtop-kmod could not run)",
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
    /// (`crate::vmallocinfo::largest_free_now`; None when /proc/vmallocinfo is unreadable).
    pub vmalloc_largest_free: Option<u64>,
    /// PID of the process that called init_module (the loader child), to recognise it in
    /// "Killed process PID (comm)" lines.
    pub loader_pid: Option<u32>,
}

/// Name and meaning of an errno, e.g. `ENOMEM (Out of memory)`.
pub fn errno_name(errno: i32) -> String {
    let e = nix::errno::Errno::from_raw(errno);
    if e == nix::errno::Errno::UnknownErrno {
        format!("errno {errno}")
    } else {
        format!("{e:?} ({})", e.desc())
    }
}

/// Name of a signal, e.g. `SIGKILL`, or `signal N` when unknown.
pub fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}

/// The selected lockdown mode from /sys/kernel/security/lockdown ("none [integrity]
/// confidentiality" → "integrity"), or None when nothing is bracketed.
pub fn lockdown_mode(state: &str) -> Option<&str> {
    let open = state.find('[')?;
    let close = state[open..].find(']')? + open;
    Some(state[open + 1..close].trim())
}

/// True when the lockdown state selects a mode other than `none`.
pub fn lockdown_active(state: &str) -> bool {
    lockdown_mode(state).is_some_and(|m| !m.is_empty() && m != "none")
}

/// A process the OOM killer killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Victim<'a> {
    line: &'a str,
    pid: Option<u32>,
    comm: Option<&'a str>,
}

/// The module's own failure line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ModuleFail<'a> {
    line: &'a str,
    err: Option<i32>,
    stage: Option<&'a str>,
    /// What the module counted as available at the call, KiB: MemAvailable plus `pcp_kib`
    /// and `boost_kib`, which MemAvailable leaves out.
    avail_kib: Option<u64>,
    /// Free pages on per-CPU lists at the call, KiB.
    pcp_kib: Option<u64>,
    /// What a watermark boost held back from MemAvailable at the call, KiB.
    boost_kib: Option<u64>,
    /// Available (counted the same way) with the buffer allocated (stages reserve, fill,
    /// sysfs), KiB.
    left_kib: Option<u64>,
    /// What safe mode keeps back, KiB.
    reserve_kib: Option<u64>,
    /// Free pages at the call (with those on per-CPU lists), KiB.
    free_kib: Option<u64>,
    /// The allocator (`alloc=`; an older module logs none: vmalloc).
    alloc: Option<&'a str>,
    /// The order one block of the request needs, the largest the page allocator gives, and
    /// the largest with a free block at the call (-1: none).
    order: Option<u32>,
    max_order: Option<u32>,
    max_free_order: Option<i32>,
    /// `fragment_order=K`: the module left no free block of order K first.
    fragment_order: Option<u32>,
}

/// What the kernel log says, line by line.
#[derive(Debug, Default)]
struct Facts<'a> {
    exceeds_total: Option<&'a str>,
    vm_struct_failed: Option<&'a str>,
    vmap_failed: Option<&'a str>,
    pages_failed: Option<&'a str>,
    oom_invoked: Option<&'a str>,
    oom_summaries: Vec<Victim<'a>>,
    victims: Vec<Victim<'a>>,
    vermagic: Option<&'a str>,
    symbol_version: Option<&'a str>,
    /// The module's struct module has another size than the kernel's.
    module_struct_size: Option<&'a str>,
    unknown_symbol: Option<&'a str>,
    invalid_format: Option<&'a str>,
    sig_rejected: Option<&'a str>,
    lockdown: Option<&'a str>,
    module_fail: Option<ModuleFail<'a>>,
    param_range: Option<&'a str>,
    /// The module's own limits line and its figures.
    limits: Option<(&'a str, crate::alloc::Limits)>,
    /// The page allocator's warning for an order above the largest.
    order_warning: Option<&'a str>,
    /// The module's line naming the accepted alloc= values.
    param_alloc: Option<&'a str>,
}

impl<'a> Facts<'a> {
    fn read(log: &'a [String]) -> Facts<'a> {
        let mut f = Facts::default();
        for line in log {
            let l = line.as_str();
            if l.contains("vmalloc error: size") {
                if l.contains("exceeds total pages") {
                    f.exceeds_total.get_or_insert(l);
                } else if l.contains("vm_struct allocation failed") {
                    f.vm_struct_failed.get_or_insert(l);
                } else if l.contains("failed to allocate") {
                    f.pages_failed.get_or_insert(l);
                }
            } else if l.contains("vmap allocation for size") && l.contains("failed") {
                f.vmap_failed.get_or_insert(l);
            } else if l.contains("invoked oom-killer:") {
                f.oom_invoked.get_or_insert(l);
            } else if let Some(rest) = after(l, "oom-kill:") {
                f.oom_summaries.push(Victim {
                    line: l,
                    pid: kv(rest, ",pid=").and_then(|v| v.parse().ok()),
                    comm: kv(rest, ",task="),
                });
            } else if let Some(rest) = after(l, "Killed process ") {
                // "Out of memory: Killed process 211 (vmtop) total-vm:…"
                let digits = rest.split(|c: char| !c.is_ascii_digit()).next();
                let comm = rest.find('(').and_then(|o| {
                    let tail = &rest[o + 1..];
                    tail.find(") total-vm")
                        .or_else(|| tail.rfind(')'))
                        .map(|c| &tail[..c])
                });
                f.victims.push(Victim {
                    line: l,
                    pid: digits.and_then(|d| d.parse().ok()),
                    comm,
                });
            } else if l.contains("version magic '") && l.contains("should be '") {
                f.vermagic.get_or_insert(l);
            } else if l.contains("disagrees about version of symbol") {
                f.symbol_version.get_or_insert(l);
            } else if l.contains(".gnu.linkonce.this_module section size must match") {
                f.module_struct_size.get_or_insert(l);
            } else if l.contains("Unknown symbol") {
                f.unknown_symbol.get_or_insert(l);
            } else if l.contains("Invalid module format") {
                f.invalid_format.get_or_insert(l);
            } else if l.contains("Loading of") && l.contains("is rejected") {
                f.sig_rejected.get_or_insert(l);
            } else if l.contains("Lockdown:") && l.contains("module loading is restricted") {
                f.lockdown.get_or_insert(l);
            } else if let Some(rest) = after(l, "alloc_large_mem: fail ") {
                f.module_fail.get_or_insert(ModuleFail {
                    line: l,
                    err: kv(rest, "err=").and_then(|v| v.parse().ok()),
                    stage: kv(rest, "stage="),
                    avail_kib: kib_field(rest, "avail_kib="),
                    pcp_kib: kib_field(rest, "pcp_kib="),
                    boost_kib: kib_field(rest, "boost_kib="),
                    left_kib: kib_field(rest, "left_kib="),
                    reserve_kib: kib_field(rest, "reserve_kib="),
                    free_kib: kib_field(rest, "free_kib="),
                    alloc: kv(rest, " alloc="),
                    order: kv(rest, " order=").and_then(|v| v.parse().ok()),
                    max_order: kv(rest, " max_order=").and_then(|v| v.parse().ok()),
                    max_free_order: kv(rest, "max_free_order=").and_then(|v| v.parse().ok()),
                    fragment_order: kv(rest, "fragment_order=").and_then(|v| v.parse().ok()),
                });
            } else if l.contains("memsize must be between")
                || l.contains("fragment_order must be between")
            {
                f.param_range.get_or_insert(l);
            } else if l.contains("alloc_large_mem: alloc must be one of") {
                f.param_alloc.get_or_insert(l);
            } else if let Some(lim) = crate::alloc::Limits::from_log_line(l) {
                f.limits.get_or_insert((l, lim));
            } else if l.contains("WARNING:") && l.contains("__alloc_pages") {
                f.order_warning.get_or_insert(l);
            }
        }
        f
    }

    fn module_stage(&self) -> Option<&'a str> {
        self.module_fail.and_then(|m| m.stage)
    }

    fn oom_lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self.oom_invoked.iter().map(|s| s.to_string()).collect();
        v.extend(self.oom_summaries.iter().map(|s| s.line.to_string()));
        v.extend(self.victims.iter().map(|s| s.line.to_string()));
        v
    }
}

/// Text after the first `needle`.
fn after<'a>(s: &'a str, needle: &str) -> Option<&'a str> {
    s.find(needle).map(|i| &s[i + needle.len()..])
}

/// The module logs KiB.
fn fmt_kib(kib: u64) -> String {
    fmt_bytes(kib * 1024)
}

/// A KiB figure of the module's log line, if present and a number.
fn kib_field(s: &str, key: &str) -> Option<u64> {
    kv(s, key).and_then(|v| v.parse().ok())
}

impl ModuleFail<'_> {
    /// " At the call the module counted 864 MiB available (MemAvailable 862 MiB plus 2.30 MiB
    /// of free pages on per-CPU lists, which MemAvailable leaves out)." Why the module's
    /// figure is not the one on the chart.
    fn counted_at_call(&self) -> Option<String> {
        let avail = self.avail_kib?;
        let mut s = format!(
            " At the call the module counted {} available",
            fmt_kib(avail)
        );
        let (pcp, boost) = (self.pcp_kib.unwrap_or(0), self.boost_kib.unwrap_or(0));
        if pcp + boost > 0 {
            s.push_str(&format!(
                " (MemAvailable {}",
                fmt_kib(avail.saturating_sub(pcp + boost))
            ));
            if pcp > 0 {
                s.push_str(&format!(
                    " plus {} of free pages on per-CPU lists",
                    fmt_kib(pcp)
                ));
            }
            if boost > 0 {
                s.push_str(&format!(
                    " plus {} a watermark boost held back",
                    fmt_kib(boost)
                ));
            }
            s.push_str(", which MemAvailable leaves out)");
        }
        s.push('.');
        Some(s)
    }
}

/// Value of `key` (e.g. "pid=") up to the next ',' or whitespace.
fn kv<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let rest = after(s, key)?;
    let end = rest
        .find(|c: char| c == ',' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// `version magic 'A' should be 'B'` → (A, B).
fn vermagic_pair(line: &str) -> Option<(&str, &str)> {
    let a = after(line, "version magic '")?;
    let a_end = a.find('\'')?;
    let b = after(&a[a_end..], "should be '")?;
    let b_end = b.find('\'')?;
    Some((a[..a_end].trim(), b[..b_end].trim()))
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
    fn gap_too_small(&self) -> Option<u64> {
        self.input
            .vmalloc_largest_free
            .filter(|&g| self.req.saturating_add(PAGE) > g)
    }
}

/// vmalloc adds one guard page to every area.
const PAGE: u64 = 4096;

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
            "Every libkmod call runs in the helper vmtop-kmod, installed beside vmtop or in \
             PREFIX/libexec/vmtop. Reinstall vmtop (`make install`); the lines below say what failed."
                .into(),
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

fn no_module_support() -> Diagnosis {
    diag(
        Cause::NoModuleSupport,
        Confidence::Certain,
        "This kernel cannot load modules (ENOSYS: built without CONFIG_MODULES)".into(),
        "init_module() does not exist in a kernel built without module support (there is no \
         /proc/modules). Nothing can be loaded here: run `vmtop lab` to try it in a VM that boots \
         a stock kernel."
            .into(),
        Vec::new(),
    )
}

fn cancelled(cx: &Ctx) -> Diagnosis {
    diag(
        Cause::Cancelled,
        Confidence::Certain,
        format!(
            "Loading {} MiB cancelled: vmtop stopped the loader, nothing is loaded",
            cx.input.requested_mib
        ),
        "vmtop killed its loader (vmtop-kmod) while the kernel ran the module's init: the \
         module's fill loop gives up on a fatal signal, frees its buffer and fails with EINTR, \
         so the module is not left loaded."
            .into(),
        cx.module_lines(),
    )
}

fn signalled(cx: &Ctx, sig: i32) -> Diagnosis {
    let f = &cx.facts;
    let name = signal_name(sig);
    let is_kill = sig == nix::libc::SIGKILL;
    let loader_victim = cx
        .input
        .loader_pid
        .and_then(|pid| f.victims.iter().find(|v| v.pid == Some(pid)).copied());
    let any_victim = f.victims.first().copied();
    let oom_seen = any_victim.is_some() || f.oom_invoked.is_some() || !f.oom_summaries.is_empty();

    if is_kill && (oom_seen || !cx.input.oom_safe) {
        let named = match (cx.input.loader_pid, loader_victim, any_victim) {
            (Some(_), Some(v), _) => Some(v),
            (None, None, Some(v)) => Some(v),
            _ => None,
        };
        let confidence = if named.is_some() {
            Confidence::Certain
        } else if oom_seen
            || cx
                .available()
                .is_some_and(|a| cx.req > a && !cx.input.oom_safe)
        {
            Confidence::Likely
        } else {
            Confidence::Inferred
        };
        let who = named
            .map(|v| {
                format!(
                    " (PID {} {})",
                    v.pid.map_or("?".to_string(), |p| p.to_string()),
                    v.comm.unwrap_or("?")
                )
            })
            .unwrap_or_default();
        let avail = cx
            .available()
            .map(|a| format!(" with MemAvailable {}", fmt_bytes(a)))
            .unwrap_or_default();
        let summary = format!(
            "Asked {}{avail} in {}: the OOM killer killed the loader{who}",
            cx.asked(),
            if cx.input.oom_safe {
                "safe mode"
            } else {
                "unsafe mode"
            }
        );
        let mut detail = format!(
            "The loader ended by {name}. In {} the page allocator may not fail a GFP_KERNEL request, so \
             when memory runs out it wakes the OOM killer, which picks the process with the highest \
             badness score (usually the biggest) and kills it with SIGKILL. The process inside \
             init_module() is the one asking, so it is often the victim: the module's own fail line \
             may still appear, but the loader never sees the errno.",
            cx.mode()
        );
        if named.is_none() {
            if let (Some(pid), Some(v)) = (cx.input.loader_pid, any_victim) {
                detail.push_str(&format!(
                    " The log names another victim ({}), not the loader (PID {pid}): several kills may have happened.",
                    v.line
                ));
            } else if !oom_seen {
                detail.push_str(
                    " The kernel log captured no OOM report, so this is inferred from the signal and the mode.",
                );
            }
        }
        detail.push_str(if cx.input.oom_safe {
            " Safe mode asks for the pages with __GFP_RETRY_MAYFAIL, but vmalloc allocates the page \
             tables that map them with plain GFP_KERNEL (mm/vmalloc.c, vmap_pages_range), so when \
             the pages took nearly all memory that last request wakes the OOM killer. The size is \
             at the limit: a slightly smaller one loads."
        } else {
            " Use safe mode (oom_safe=Y): __GFP_RETRY_MAYFAIL makes the allocation fail with ENOMEM instead."
        });
        let mut ev = f.oom_lines();
        ev.extend(cx.module_lines());
        return diag(Cause::OomKilled, confidence, summary, detail, ev);
    }

    let meaning = nix::sys::signal::Signal::try_from(sig)
        .ok()
        .map(signal_meaning)
        .unwrap_or("");
    let (confidence, extra) = if is_kill {
        (
            Confidence::Likely,
            " The kernel log shows no OOM kill: something else sent SIGKILL (kill -9, a userspace \
             OOM daemon such as systemd-oomd or earlyoom, or a timeout).",
        )
    } else {
        (Confidence::Certain, "")
    };
    diag(
        Cause::LoaderKilled,
        confidence,
        format!("The loader was killed by {name}{meaning} while loading {} MiB", cx.input.requested_mib),
        format!(
            "The process that called init_module() died from {name} before the kernel answered.{extra} \
             Check whether the module is loaded now (lsmod | grep alloc_large_mem) before retrying."
        ),
        cx.module_lines(),
    )
}

fn signal_meaning(s: nix::sys::signal::Signal) -> &'static str {
    use nix::sys::signal::Signal::*;
    match s {
        SIGKILL => " (killed)",
        SIGTERM => " (terminated)",
        SIGINT => " (interrupted, Ctrl-C)",
        SIGSEGV => " (segmentation fault)",
        SIGABRT => " (aborted)",
        SIGBUS => " (bus error)",
        SIGHUP => " (hang-up)",
        _ => "",
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
                    .filter(|l| crate::kmsg::is_relevant(l))
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

/// vmtop's own refusal of a module file, before the kernel is asked (no errno involved).
pub fn file_refused(p: &crate::module_file::FileProblem) -> Diagnosis {
    use crate::module_file::FileProblem as P;
    let (cause, summary, detail) = match p {
        P::NotFound | P::Missing { .. } | P::Unreadable { .. } => (
            Cause::ModuleFileMissing,
            "Module file missing or unreadable: nothing was loaded",
            "vmtop looks for the module in this order: --module PATH, $VMTOP_MODULE, the \
             checkout's kmod-src/alloc_large_mem.ko, then the module installed for this kernel \
             (modules.dep, as modprobe finds it).",
        ),
        P::OtherKernel { .. } => (
            Cause::WrongKernel,
            "Module built for another kernel: not attempted",
            "A module must be built against the headers of the exact kernel that loads it: the \
             kernel compares the module's version magic (release, SMP, preempt, modversions) and \
             the CRC of every symbol it uses. vmtop read the version magic (through libkmod, \
             compressed files included) and stopped before the kernel refused it.",
        ),
        P::UnsafeFile { .. } => (
            Cause::ModuleFileUnsafe,
            "Module file could be changed by another user: not loaded",
            "Whatever module file root loads runs as kernel code. vmtop refuses a file that a user \
             other than root or you could have replaced (writable by group or others, owned by \
             another user, or in such a folder).",
        ),
        _ => (
            Cause::ModuleFileInvalid,
            "Not a loadable module file: nothing was loaded",
            "vmtop reads the file through libkmod before loading it: it must be an ELF kernel \
             module, plain or compressed (xz, zstd, gzip), with a version magic in .modinfo.",
        ),
    };
    diag(
        cause,
        Confidence::Certain,
        summary.into(),
        format!("{p}. {detail}"),
        Vec::new(),
    )
}

fn wrong_kernel(cx: &Ctx, code: i32) -> Diagnosis {
    let f = &cx.facts;
    let summary = match f.vermagic.and_then(vermagic_pair) {
        Some((module, kernel)) => format!(
            "Module built for another kernel: version magic '{module}' should be '{kernel}'"
        ),
        None => match (f.symbol_version.or(f.unknown_symbol), f.module_struct_size) {
            (Some(_), _) => {
                "Module built against another kernel's symbols (symbol versions disagree)".into()
            }
            (None, Some(_)) => "Module built for another kernel: its struct module is not the \
                size of this kernel's (.gnu.linkonce.this_module)"
                .into(),
            (None, None) => format!(
                "Invalid module format ({}): alloc_large_mem.ko was built for another kernel",
                errno_name(code)
            ),
        },
    };
    diag(
        Cause::WrongKernel,
        Confidence::Certain,
        summary,
        "A module must be built against the headers of the exact kernel that loads it: the kernel \
         compares the module's version magic (release, SMP, preempt, modversions) and the CRC of every \
         symbol it uses. Rebuild it for this kernel: `make -C kmod-src KDIR=/lib/modules/$(uname -r)/build` \
         (or KDIR=<headers of the target kernel>)."
            .into(),
        lines(&[
            f.vermagic,
            f.symbol_version,
            f.module_struct_size,
            f.unknown_symbol,
            f.invalid_format,
        ]),
    )
}

/// What the kernel holds against the module's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SigProblem {
    Unsigned,
    /// Signed, with a key the kernel does not trust (not enrolled).
    UnknownKey,
    /// Neither the log nor the file tells.
    Unknown,
}

impl SigProblem {
    /// The reason module_sig_check logs, else what the file says.
    fn of(cx: &Ctx) -> SigProblem {
        match (cx.facts.sig_rejected, cx.input.module_signed) {
            (Some(l), _) if l.contains("unavailable key") => SigProblem::UnknownKey,
            (Some(l), _) if l.contains("unsigned module") => SigProblem::Unsigned,
            (_, Some(true)) => SigProblem::UnknownKey,
            (_, Some(false)) => SigProblem::Unsigned,
            _ => SigProblem::Unknown,
        }
    }
}

/// What refuses unsigned modules on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Enforcer {
    SigEnforce,
    Lockdown,
}

/// What the kernel demands of signatures here, as facts ("sig_enforce reads Y", ...).
pub(crate) fn signing_facts(s: &Signing) -> Vec<String> {
    let mut facts = vec![match &s.lockdown {
        Some(l) => format!("/sys/kernel/security/lockdown reads \"{l}\""),
        None => "/sys/kernel/security/lockdown is absent".into(),
    }];
    facts.push(match s.sig_enforce {
        Some(e) => format!(
            "/sys/module/module/parameters/sig_enforce reads {}",
            if e { "Y" } else { "N" }
        ),
        None => "/sys/module/module/parameters/sig_enforce is absent".into(),
    });
    facts.push(
        match s.secure_boot {
            SecureBoot::On => "Secure Boot is on (EFI variable SecureBoot reads 1)",
            SecureBoot::Off => "Secure Boot is off",
            SecureBoot::NoEfi => "Secure Boot is off (booted without EFI)",
            SecureBoot::Unknown => "Secure Boot state unknown (EFI variables not readable)",
        }
        .into(),
    );
    if !s.cmdline.is_empty() {
        facts.push(format!(
            "the kernel command line has {}",
            s.cmdline.join(" ")
        ));
    }
    facts
}

/// The state vmtop found, as one sentence of facts.
fn signing_state(cx: &Ctx) -> String {
    let mut facts = signing_facts(&cx.input.signing);
    facts.push(
        match cx.input.module_signed {
            Some(true) => "the module file is signed",
            Some(false) => "the module file is not signed",
            None => "the module file's signature could not be checked (compressed or unreadable)",
        }
        .into(),
    );
    format!("Found: {}.", facts.join("; "))
}

/// Where the enforcement comes from, and what this machine needs to load the module.
fn signing_remedy(cx: &Ctx, by: Enforcer, problem: SigProblem) -> String {
    let s = &cx.input.signing;
    let (arg, what) = match by {
        Enforcer::SigEnforce => ("module.sig_enforce=", "Signature enforcement"),
        Enforcer::Lockdown => ("lockdown=", "Lockdown"),
    };
    let mut out = match (s.cmdline.iter().find(|a| a.starts_with(arg)), s.secure_boot) {
        (Some(a), _) => format!(
            " {what} comes from the kernel command line ({a}): remove it from the boot entry \
             (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot. Or keep it \
             and sign the module:"
        ),
        (None, SecureBoot::On) if by == Enforcer::Lockdown => " Lockdown comes with Secure Boot \
            (Debian, Ubuntu and Fedora kernels lock themselves down when the firmware boots them \
            with it), so the module must be signed with a key the kernel trusts:"
            .into(),
        (None, _) => format!(
            " {what} is built into this kernel ({}), so the module must be signed with a key the \
             kernel trusts:",
            match by {
                Enforcer::SigEnforce => "CONFIG_MODULE_SIG_FORCE",
                Enforcer::Lockdown => "CONFIG_LOCK_DOWN_KERNEL_FORCE_*, or set at runtime",
            }
        ),
    };
    let mok = if s.dkms_mok.is_some() {
        format!("{DKMS_MOK}, present here")
    } else {
        format!("{DKMS_MOK}, made by DKMS on its first build")
    };
    let enrol = format!(
        "`sudo mokutil --import {DKMS_MOK}`, set a one-time password, reboot, and choose \
         \"Enroll MOK\" in the blue MOK manager screen"
    );
    out.push_str(&match problem {
        SigProblem::UnknownKey => format!(
            " it is signed, but with a key this kernel does not trust, so enrol that key's \
             certificate as a Machine Owner Key. For a module DKMS built the key is {mok}: {enrol}."
        ),
        SigProblem::Unsigned | SigProblem::Unknown => format!(
            " DKMS signs the modules it builds with its Machine Owner Key ({mok}), so install the \
             module through DKMS (`sudo make install`) and enrol the key once: {enrol}."
        ),
    });
    if s.secure_boot != SecureBoot::On {
        out.push_str(
            " (A Machine Owner Key counts only when the machine boots through shim, as with \
             Secure Boot.)",
        );
    }
    out.push_str(" Or run the experiment in `vmtop lab`, whose kernel enforces neither.");
    out
}

fn signature_rejected(cx: &Ctx) -> Diagnosis {
    let problem = SigProblem::of(cx);
    let summary = match problem {
        SigProblem::Unsigned => {
            "The kernel accepts only signed modules (sig_enforce) and alloc_large_mem is not signed (EKEYREJECTED)"
        }
        SigProblem::UnknownKey => {
            "The kernel accepts only signed modules (sig_enforce) and does not trust the key alloc_large_mem is signed with (EKEYREJECTED)"
        }
        SigProblem::Unknown => {
            "The kernel requires signed modules and rejected alloc_large_mem (EKEYREJECTED)"
        }
    };
    diag(
        Cause::SignatureRejected,
        Confidence::Certain,
        summary.into(),
        format!(
            "This kernel loads only modules signed with a key it trusts, even for root. {}{}",
            signing_state(cx),
            signing_remedy(cx, Enforcer::SigEnforce, problem)
        ),
        lines(&[cx.facts.sig_rejected]),
    )
}

fn lockdown(cx: &Ctx) -> Diagnosis {
    let f = &cx.facts;
    let mode = cx
        .input
        .signing
        .lockdown
        .as_deref()
        .and_then(lockdown_mode)
        .filter(|m| *m != "none")
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    let problem = SigProblem::of(cx);
    diag(
        Cause::Lockdown,
        if f.lockdown.is_some() {
            Confidence::Certain
        } else {
            Confidence::Likely
        },
        match problem {
            SigProblem::UnknownKey => format!(
                "Kernel lockdown{mode} refuses alloc_large_mem: it is signed with a key the kernel does not trust (EPERM)"
            ),
            _ => format!("Kernel lockdown{mode} refuses unsigned modules (EPERM)"),
        },
        format!(
            "The kernel is locked down, and in lockdown only modules signed with a trusted key may \
             load, even for root (its log line says \"unsigned module loading\" for a module signed \
             with a key it does not trust too). {}{}",
            signing_state(cx),
            signing_remedy(cx, Enforcer::Lockdown, problem)
        ),
        lines(&[f.lockdown]),
    )
}

fn not_permitted(cx: &Ctx) -> Diagnosis {
    let lockdown_on = cx
        .input
        .signing
        .lockdown
        .as_deref()
        .is_some_and(lockdown_active);
    // The kernel logged a lockdown refusal: it decided.
    if cx.facts.lockdown.is_some() {
        return lockdown(cx);
    }
    let who = "The kernel refused";
    // may_init_module comes before the signature check: these explain an EPERM for sure.
    if let Some(r) = cx.input.privileges.refusal() {
        let summary = match &r {
            Refusal::ModulesDisabled => {
                "Not permitted (EPERM): module loading is switched off (kernel.modules_disabled=1)"
                    .to_string()
            }
            Refusal::RootWithoutCap { .. } => {
                "Not permitted (EPERM): running as root, but without CAP_SYS_MODULE".to_string()
            }
            Refusal::NoCap { euid } => format!(
                "Not permitted (EPERM): loading a module needs CAP_SYS_MODULE, which uid {euid} does not have — run with sudo"
            ),
            Refusal::UserNamespace(_) => {
                "Not permitted (EPERM): CAP_SYS_MODULE is held only inside a user namespace"
                    .to_string()
            }
        };
        return diag(
            Cause::NotPermitted,
            Confidence::Certain,
            summary,
            format!(
                "{who} (EPERM). Before anything else it checks for CAP_SYS_MODULE in the initial \
                 user namespace and for kernel.modules_disabled (kernel/module/main.c \
                 may_init_module), not for uid 0. Here, {}.",
                r.explain()
            ),
            Vec::new(),
        );
    }
    if lockdown_on {
        // The lockdown notice is rate-limited: the state alone still points at it.
        return lockdown(cx);
    }
    diag(
        Cause::NotPermitted,
        Confidence::Likely,
        "Not permitted (EPERM) although this process holds CAP_SYS_MODULE".into(),
        format!(
            "{who} (EPERM), yet this process has CAP_SYS_MODULE in the initial user namespace, \
             kernel.modules_disabled is off and the kernel is not locked down. What is left is a \
             security module: SELinux (see `ausearch -m avc`), AppArmor, or LoadPin (modules \
             only from the filesystem the kernel booted from). Run vmtop on another machine, or \
             use `vmtop lab`."
        ),
        Vec::new(),
    )
}

fn bad_parameter(cx: &Ctx) -> Diagnosis {
    let f = &cx.facts;
    if let Some(l) = f.param_alloc {
        return diag(
            Cause::BadParameter,
            Confidence::Certain,
            format!(
                "alloc_large_mem rejected its alloc= (EINVAL): {}",
                after(l, "alloc_large_mem: ").unwrap_or(l)
            ),
            "The module knows the allocators it was built with (vmalloc_huge needs Linux 5.18 \
             or later); /sys/module/alloc_large_mem/limits/allocators lists them while it is loaded."
                .into(),
            cx.module_lines(),
        );
    }
    let from_module = f.module_stage() == Some("param") || f.param_range.is_some();
    let limit = f.param_range.and_then(|l| {
        after(l, "between 1 and ").map(|r| r.trim_end_matches(|c: char| !c.is_ascii_digit()))
    });
    diag(
        Cause::BadParameter,
        if from_module {
            Confidence::Certain
        } else {
            Confidence::Likely
        },
        format!(
            "alloc_large_mem rejected memsize={} (EINVAL){}",
            cx.input.requested_mib,
            limit
                .map(|l| format!(": memsize must be between 1 and {l} MiB"))
                .unwrap_or_default()
        ),
        "The module checks memsize before allocating: 0, or a size whose byte count overflows an \
         unsigned long, is refused with EINVAL. Give a whole number of MiB from 1 upwards."
            .into(),
        cx.module_lines(),
    )
}

fn no_memory(cx: &Ctx) -> Diagnosis {
    let f = &cx.facts;
    let asked = cx.asked();
    let mem_total = cx.mem_total();
    let vmalloc_total = cx.vmalloc_total();
    let nowarn_note = if cx.input.oom_safe {
        " The kernel printed no warning because safe mode passes __GFP_NOWARN; this is decided from the figures."
    } else {
        // Seen in the 32-bit lab: a second failure within 10 s of the first prints nothing.
        " The kernel printed no warning this time: warn_alloc() prints at most one every 10 s \
         (mm/page_alloc.c, nopage_rs); this is decided from the figures."
    };

    // 0. Safe mode got the memory but gave it back: it would have left too little.
    if let Some(m) = f.module_fail.filter(|m| m.stage == Some("reserve")) {
        let kib = |v: Option<u64>| v.map(fmt_kib).unwrap_or_else(|| "unknown".into());
        let (left, reserve) = (kib(m.left_kib), kib(m.reserve_kib));
        return diag(
            Cause::PhysicalMemoryShort,
            Confidence::Certain,
            format!(
                "Asked {asked}: allocated, but it would have left only {left} available, below the {reserve} safe mode keeps free"
            ),
            format!(
                "vmalloc found the pages, so the module measured what was left for everyone else \
                 (MemAvailable plus the free pages on per-CPU lists and any watermark boost, which it \
                 leaves out) \
                 and gave the buffer back: a load that takes the last free pages makes the next \
                 fork or page fault wake the OOM killer (with nothing left to kill, the kernel \
                 panics). The reserve is the module's reserve_mib parameter (default max(64 MiB, \
                 5 % of RAM)); insmod with reserve_mib=0, or unsafe mode, goes to the very edge.{} \
                 Try a size {} smaller, or `vmtop probe` to find the largest that loads now.",
                m.counted_at_call().unwrap_or_default(),
                match (m.left_kib, m.reserve_kib) {
                    (Some(l), Some(r)) if r > l => fmt_kib(r - l) + " or more",
                    _ => "a little".into(),
                }
            ),
            cx.module_lines(),
        );
    }

    // 0b. kmalloc / alloc_pages: one physically contiguous block, limited by its order.
    if let Some(d) = contiguous_failure(cx) {
        return d;
    }

    // 1. The kernel's first check: more pages than all RAM.
    let over_ram = mem_total.is_some_and(|t| cx.req > t);
    if f.exceeds_total.is_some() || over_ram {
        let mt = mem_total.map(fmt_bytes).unwrap_or_else(|| "unknown".into());
        let mut detail = format!(
            "__vmalloc_node_range() first compares the request with totalram_pages(), the RAM the \
             kernel manages (MemTotal {mt}), and refuses anything bigger at once with ENOMEM, \
             before it looks for address space or pages."
        );
        match vmalloc_total {
            Some(vt) if vt / 2 >= cx.req => detail.push_str(&format!(
                " The vmalloc address space was not the limit: VmallocTotal {} is {} times the request. \
                 Blaming the vmalloc area, as the original article did, is wrong here.",
                fmt_bytes(vt),
                ratio(vt, cx.req)
            )),
            Some(vt) if vt < cx.req => detail.push_str(&format!(
                " It would not fit in the vmalloc address space either (VmallocTotal {}), but the \
                 kernel checks RAM first.",
                fmt_bytes(vt)
            )),
            _ => {}
        }
        if let Some(a) = cx.available() {
            detail.push_str(&format!(
                " Try a size below MemAvailable ({}).",
                fmt_bytes(a)
            ));
        }
        if f.exceeds_total.is_none() {
            detail.push_str(nowarn_note);
        }
        let mut ev = lines(&[f.exceeds_total]);
        ev.extend(cx.module_lines());
        return diag(
            Cause::ExceedsTotalPages,
            if f.exceeds_total.is_some() {
                Confidence::Certain
            } else {
                Confidence::Inferred
            },
            format!(
                "Asked {asked}, more than all RAM (MemTotal {mt}): vmalloc refuses requests that exceed total pages"
            ),
            detail,
            ev,
        );
    }

    // 2. No free range of the vmalloc address space is big enough.
    let over_space = vmalloc_total.is_some_and(|t| cx.req > t);
    let gap = cx.gap_too_small();
    if f.vm_struct_failed.is_some() || f.vmap_failed.is_some() || over_space || gap.is_some() {
        let vt = vmalloc_total
            .map(fmt_bytes)
            .unwrap_or_else(|| "unknown".into());
        let limit = match (gap, over_space) {
            (_, true) => format!("VmallocTotal {vt}"),
            (Some(g), _) => format!("largest free range {}, VmallocTotal {vt}", fmt_bytes(g)),
            (None, false) => format!("VmallocTotal {vt}"),
        };
        let mut detail = format!(
            "vmalloc needs one contiguous range of kernel virtual addresses as big as the request \
             (plus a guard page), even though the pages behind it can be scattered. The vmalloc area \
             holds {vt} of addresses in all"
        );
        if let Some(g) = cx.input.vmalloc_largest_free {
            detail.push_str(&format!(
                ", and the largest free range in /proc/vmallocinfo was {}",
                fmt_bytes(g)
            ));
        }
        detail.push_str(
            ". This is the classic 32-bit limit (a vmalloc area of ~120-640 MiB); on 64-bit kernels \
             the area is terabytes. Ask for less than the largest free range, or boot with a bigger \
             vmalloc=<size> (32-bit).",
        );
        if f.vm_struct_failed.is_none() && f.vmap_failed.is_none() {
            detail.push_str(nowarn_note);
        }
        let mut ev = lines(&[f.vmap_failed, f.vm_struct_failed]);
        ev.extend(cx.module_lines());
        return diag(
            Cause::AddressSpaceExhausted,
            if f.vm_struct_failed.is_some() || f.vmap_failed.is_some() {
                Confidence::Certain
            } else {
                Confidence::Inferred
            },
            format!(
                "Asked {asked}, but no free range of the vmalloc address space is that big ({limit})"
            ),
            detail,
            ev,
        );
    }

    // 3. The address fits, the RAM exists, but not enough of it is free.
    let avail = cx.available();
    let small_space = vmalloc_total.is_some_and(|t| t < 4 * crate::units::GIB);
    let confidence = if f.pages_failed.is_some() {
        Confidence::Certain
    } else if mem_total.is_some()
        && (cx.input.oom_safe || f.module_stage() == Some("vmalloc"))
        && !(small_space && cx.input.vmalloc_largest_free.is_none())
    {
        Confidence::Likely
    } else {
        Confidence::Inferred
    };
    let summary = format!(
        "Asked {asked}, more than the free physical memory (MemAvailable {} of MemTotal {}): the allocator gave up",
        avail.map(fmt_bytes).unwrap_or_else(|| "unknown".into()),
        mem_total.map(fmt_bytes).unwrap_or_else(|| "unknown".into()),
    );
    let mut detail = format!(
        "The request is smaller than all RAM and fits in the vmalloc address space, but vmalloc \
         could not get enough free pages: the kernel itself, page tables, caches that cannot be \
         dropped and other processes hold the rest. MemAvailable estimates what can still be \
         obtained without swapping. In {} the allocator gives up and returns ENOMEM instead of \
         waking the OOM killer, so nothing else was killed.",
        cx.mode()
    );
    if !f.victims.is_empty() {
        detail.push_str(
            " The OOM killer did fire during the attempt (see the log lines) but could not free enough.",
        );
    }
    if small_space && cx.input.vmalloc_largest_free.is_none() {
        detail.push_str(&format!(
            " This kernel's vmalloc area is small (VmallocTotal {}): a fragmented area may have \
             been the limit instead; run as root so vmtop can read /proc/vmallocinfo.",
            vmalloc_total.map(fmt_bytes).unwrap_or_default()
        ));
    }
    if let Some(counted) = f.module_fail.and_then(|m| m.counted_at_call()) {
        detail.push_str(&counted);
    }
    detail.push_str(" Try a smaller size, or `vmtop probe` to find the largest that loads now.");
    let mut ev = lines(&[f.pages_failed]);
    ev.extend(f.oom_lines());
    ev.extend(cx.module_lines());
    diag(Cause::PhysicalMemoryShort, confidence, summary, detail, ev)
}

/// kmalloc and alloc_pages ask the page allocator for one block of 2^order pages: above the
/// largest order it refuses at once (and warns without __GFP_NOWARN); below, it needs a free
/// block of that order, which fragmentation may have left none of, however much is free.
fn contiguous_failure(cx: &Ctx) -> Option<Diagnosis> {
    let f = &cx.facts;
    let m = f.module_fail?;
    let stage = m.stage?;
    if stage != "kmalloc" && stage != "pages" {
        return None;
    }
    let (order, max_order) = (m.order?, m.max_order?);
    let asked = cx.asked();
    let page = f.limits.as_ref().map_or(PAGE, |(_, l)| l.page_size);
    let block = |o: u32| page.checked_shl(o).map_or("?".into(), fmt_bytes);
    let warned = match f.order_warning {
        Some(_) => " The page allocator said so in the log (the WARNING below, printed once per boot).",
        None if cx.input.oom_safe => {
            " The kernel printed no warning because safe mode passes __GFP_NOWARN (and it warns once per boot at most)."
        }
        None => " The kernel warns of this once per boot only, so this attempt's log has no WARNING.",
    };
    let mut ev = lines(&[f.order_warning]);
    ev.extend(cx.module_lines());
    ev.extend(f.limits.as_ref().map(|(l, _)| l.to_string()));
    if order > max_order {
        let over_kmalloc = f
            .limits
            .as_ref()
            .map(|(_, l)| l.kmalloc_max_size)
            .filter(|&k| stage == "kmalloc" && cx.req > k);
        if let Some(kmax) = over_kmalloc {
            return Some(diag(
                Cause::KmallocAboveMax,
                Confidence::Certain,
                format!(
                    "Asked {asked} from kmalloc, above KMALLOC_MAX_SIZE {} (one block of order {order}; the largest is order {max_order})",
                    fmt_bytes(kmax)
                ),
                format!(
                    "kmalloc() gives one physically contiguous block. Above a few pages it asks the \
                     page allocator for 2^order pages, and the page allocator gives at most order \
                     {max_order} ({}): KMALLOC_MAX_SIZE, as this kernel was built. It refuses larger \
                     orders at once, whatever is free.{warned} Use kvmalloc() (kmalloc, then vmalloc) \
                     or vmalloc() for more.",
                    block(max_order)
                ),
                ev,
            ));
        }
        return Some(diag(
            Cause::OrderAboveMax,
            Confidence::Certain,
            format!(
                "Asked {asked} from {}: one block of order {order} ({}), above the largest order {max_order} ({}) the page allocator gives",
                if stage == "pages" { "alloc_pages" } else { "kmalloc" },
                block(order),
                block(max_order)
            ),
            format!(
                "alloc_pages() gives 2^order physically contiguous pages, rounding the size up to \
                 a power of two; the buddy allocator keeps free blocks up to order {max_order} only \
                 and refuses larger orders at once, whatever is free.{warned} vmalloc() maps \
                 scattered pages instead and has no such limit."
            ),
            ev,
        ));
    }
    let mfo = m.max_free_order?;
    if mfo >= order as i32 {
        return None;
    }
    let free = m.free_kib.map_or("?".into(), fmt_kib);
    let largest = if mfo < 0 {
        "none at all".to_string()
    } else {
        format!("the largest is order {mfo}, {}", block(mfo as u32))
    };
    let mut detail = format!(
        "{} needs one physically contiguous block of 2^{order} pages ({}). At the call {free} \
         was free, but scattered: /proc/buddyinfo had no free block of order {order} or more \
         ({largest}). The page allocator tried compaction (moving movable pages together) \
         and gave up. vmalloc() of the same size only needs single pages and succeeds: that is \
         why it exists.",
        if stage == "pages" {
            "alloc_pages()"
        } else {
            "kmalloc()"
        },
        block(order)
    );
    if let Some(k) = m.fragment_order {
        detail.push_str(&format!(
            " The module was loaded with fragment_order={k}: it first took every free block of \
             order {k} or more and gave back all but one page of each."
        ));
    }
    Some(diag(
        Cause::NoContiguousBlock,
        Confidence::Certain,
        format!("Asked {asked} in one block: {free} free, but no free block of order {order} ({largest})"),
        detail,
        ev,
    ))
}

/// a / b as a short human ratio ("12.3 million", "3.5"), b > 0.
fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        return "∞".into();
    }
    let r = a as f64 / b as f64;
    if r >= 1e9 {
        format!("{:.1} billion", r / 1e9)
    } else if r >= 1e6 {
        format!("{:.1} million", r / 1e6)
    } else if r >= 1e4 {
        format!("{:.0} thousand", r / 1e3)
    } else if r >= 10.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::KIB;

    const OOM: &str = include_str!("../testdata/kmsg-6.1-oom-unsafe.txt");
    const EXCEEDS_UNSAFE: &str = include_str!("../testdata/kmsg-6.1-exceeds-total-unsafe.txt");
    const ENOMEM_SAFE: &str = include_str!("../testdata/kmsg-6.1-enomem-safe.txt");
    const EXCEEDS_SAFE: &str = include_str!("../testdata/kmsg-6.1-exceeds-total-safe.txt");
    const OTHER_KERNEL: &str = include_str!("../testdata/kmsg-6.1-other-kernel.txt");
    const VM_STRUCT_32: &str = include_str!("../testdata/kmsg-i686-vm-struct-failed.txt");
    const VERMAGIC: &str = include_str!("../testdata/kmsg-6.1-vermagic.txt");
    const SYMVER: &str = include_str!("../testdata/kmsg-6.1-symbol-version.txt");
    const LOCKDOWN: &str = include_str!("../testdata/kmsg-6.1-lockdown.txt");
    const SIG_REJECTED: &str = include_str!("../testdata/kmsg-6.1-sig-rejected.txt");
    const SIG_UNKNOWN_KEY: &str = include_str!("../testdata/kmsg-6.1-sig-unknown-key.txt");
    const PARAM: &str = include_str!("../testdata/kmsg-6.1-param.txt");
    const LAB_SAFE_COUNTED: &str = include_str!("../testdata/kmsg-6.1-lab-safe-counted.txt");

    fn log(fixture: &str) -> Vec<String> {
        fixture
            .lines()
            .filter_map(crate::kmsg::parse_record)
            .map(|r| r.text)
            .collect()
    }

    fn lab() -> Sample {
        crate::meminfo::tests::lab_idle()
    }

    /// A 32-bit (i686) machine: 2 GiB RAM, 120 MiB vmalloc area.
    fn i686() -> Sample {
        Sample {
            mem_total: 2_063_000 * KIB,
            mem_free: 1_800_000 * KIB,
            mem_available: Some(1_850_000 * KIB),
            vmalloc_total: 122_880 * KIB,
            vmalloc_used: 9_000 * KIB,
            vmalloc_chunk: 0,
            highmem: None,
        }
    }

    fn input(end: LoaderEnd, mib: u64, safe: bool, log: Vec<String>) -> FailureInput {
        FailureInput {
            end,
            requested_mib: mib,
            oom_safe: safe,
            log,
            before: Some(lab()),
            after: Some(lab()),
            privileges: crate::kernel::tests::root(),
            signing: crate::kernel::tests::relaxed(),
            module_signed: Some(false),
            vmalloc_largest_free: None,
            loader_pid: None,
        }
    }

    const ENOMEM: LoaderEnd = LoaderEnd::Errno(12);

    #[test]
    fn errno_and_signal_names() {
        assert_eq!(errno_name(12), "ENOMEM (Out of memory)");
        assert_eq!(
            errno_name(nix::libc::EKEYREJECTED),
            "EKEYREJECTED (Key was rejected by service)"
        );
        assert_eq!(errno_name(99999), "errno 99999");
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(200), "signal 200");
    }

    #[test]
    fn lockdown_state_parsing() {
        assert_eq!(
            lockdown_mode("[none] integrity confidentiality"),
            Some("none")
        );
        assert_eq!(
            lockdown_mode("none [integrity] confidentiality"),
            Some("integrity")
        );
        assert!(!lockdown_active("[none] integrity confidentiality"));
        assert!(lockdown_active("none integrity [confidentiality]"));
        assert!(!lockdown_active("none integrity confidentiality"));
    }

    #[test]
    fn safe_mode_more_than_ram_is_inferred_from_figures() {
        // Safe mode: __GFP_NOWARN, the log holds only the module's own fail line.
        let d = diagnose(&input(ENOMEM, 2000, true, log(EXCEEDS_SAFE)));
        assert_eq!(d.cause, Cause::ExceedsTotalPages);
        assert_eq!(d.confidence, Confidence::Inferred);
        assert!(d.summary.contains("Asked 2000 MiB"), "{}", d.summary);
        assert!(d.summary.contains("MemTotal 958 MiB"), "{}", d.summary);
        assert!(d.summary.contains("exceed total pages"));
        // VmallocTotal (12.5 PiB) dwarfs the request: the detail must say it was not the limit.
        assert!(d.detail.contains("VmallocTotal 12.5 PiB"), "{}", d.detail);
        assert!(d.detail.contains("was not the limit"), "{}", d.detail);
        assert!(d.detail.contains("__GFP_NOWARN"));
        assert!(d.detail.contains("MemAvailable (832 MiB)"), "{}", d.detail);
        assert!(
            d.evidence
                .iter()
                .any(|l| l.contains("memsize_mib=2000") && l.contains("stage=vmalloc")),
            "{:?}",
            d.evidence
        );
    }

    #[test]
    fn safe_mode_reserve_refusal_is_certain_and_names_the_figures() {
        // The 850 MiB attempt of the lab capture: vmalloc succeeded, but with the buffer held
        // only 1.66 MiB would have been available, below the 64 MiB reserve.
        let l: Vec<String> = log(LAB_SAFE_COUNTED)
            .into_iter()
            .filter(|l| l.contains("memsize_mib=850 "))
            .collect();
        let d = diagnose(&input(ENOMEM, 850, true, l));
        assert_eq!(d.cause, Cause::PhysicalMemoryShort);
        assert!(d.cause.means_too_big());
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "Asked 850 MiB: allocated, but it would have left only 1.66 MiB available, below the \
             64.0 MiB safe mode keeps free"
        );
        assert!(d.detail.contains("reserve_mib"), "{}", d.detail);
        assert!(d.detail.contains("62.3 MiB or more"), "{}", d.detail);
        assert!(
            d.detail.contains(
                "At the call the module counted 853 MiB available (MemAvailable 851 MiB plus \
                 1.94 MiB of free pages on per-CPU lists, which MemAvailable leaves out)."
            ),
            "{}",
            d.detail
        );
        assert!(d.evidence.iter().any(|l| l.contains("stage=reserve")));
    }

    #[test]
    fn unsafe_more_than_ram_is_certain_from_the_log() {
        let d = diagnose(&input(ENOMEM, 2000, false, log(EXCEEDS_UNSAFE)));
        assert_eq!(d.cause, Cause::ExceedsTotalPages);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d
            .evidence
            .iter()
            .any(|l| l.contains("size 2097152000, exceeds total pages")));
        assert!(d.evidence.iter().any(|l| l.contains("stage=vmalloc")));
    }

    #[test]
    fn log_line_alone_is_enough_without_figures() {
        let mut i = input(ENOMEM, 2000, false, log(EXCEEDS_UNSAFE));
        i.before = None;
        i.after = None;
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::ExceedsTotalPages);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("MemTotal unknown"));
    }

    #[test]
    fn physical_memory_short_in_safe_mode() {
        let d = diagnose(&input(ENOMEM, 950, true, log(ENOMEM_SAFE)));
        assert_eq!(d.cause, Cause::PhysicalMemoryShort);
        assert_eq!(d.confidence, Confidence::Likely);
        assert!(d.summary.contains("Asked 950 MiB"));
        assert!(d.summary.contains("MemAvailable 832 MiB"), "{}", d.summary);
        assert!(d.summary.contains("MemTotal 958 MiB"), "{}", d.summary);
        assert!(d.detail.contains("nothing else was killed"));
        assert_eq!(d.evidence.len(), 1);
    }

    #[test]
    fn physical_memory_short_names_what_the_module_counted() {
        // Only the attempt's own line: the 940 MiB failure.
        let l: Vec<String> = log(LAB_SAFE_COUNTED)
            .into_iter()
            .filter(|l| l.contains("memsize_mib=940"))
            .collect();
        let d = diagnose(&input(ENOMEM, 940, true, l));
        assert_eq!(d.cause, Cause::PhysicalMemoryShort);
        assert!(
            d.detail.contains(
                "At the call the module counted 854 MiB available (MemAvailable 851 MiB plus \
                 2.83 MiB of free pages on per-CPU lists, which MemAvailable leaves out)."
            ),
            "{}",
            d.detail
        );
    }

    #[test]
    fn module_figures_without_per_cpu_parts_are_given_plainly() {
        // An older module build logs no pcp_kib/boost_kib: only what it counted. (Synthesized:
        // this checkout's module always logs them.)
        let d = diagnose(&input(
            ENOMEM,
            940,
            true,
            vec!["alloc_large_mem: fail memsize_mib=940 bytes=985661440 oom_safe=Y err=-12 stage=vmalloc free_kib=951764 avail_kib=884892 reserve_kib=65536".into()],
        ));
        assert!(
            d.detail
                .contains("At the call the module counted 864 MiB available. Try"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn physical_memory_short_without_figures_is_inferred() {
        let mut i = input(ENOMEM, 950, true, vec![]);
        i.before = None;
        i.after = None;
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::PhysicalMemoryShort);
        assert_eq!(d.confidence, Confidence::Inferred);
    }

    #[test]
    fn failed_to_allocate_pages_is_certain() {
        // Synthesized from mm/vmalloc.c __vmalloc_area_node's format string: no lab case
        // prints it (plain vmalloc's GFP_KERNEL wakes the OOM killer rather than fail, the
        // victim's allocation then fails silently, and safe mode passes __GFP_NOWARN).
        let l = vec!["vmtop: vmalloc error: size 996147200, failed to allocate pages, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0".to_string()];
        let d = diagnose(&input(ENOMEM, 950, false, l));
        assert_eq!(d.cause, Cause::PhysicalMemoryShort);
        assert_eq!(d.confidence, Confidence::Certain);
    }

    #[test]
    fn vm_struct_failure_on_32_bit_is_certain() {
        let mut i = input(ENOMEM, 300, false, log(VM_STRUCT_32));
        i.before = Some(i686());
        i.after = Some(i686());
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::AddressSpaceExhausted);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("Asked 300 MiB"));
        assert!(d.summary.contains("VmallocTotal 120 MiB"), "{}", d.summary);
        assert!(d
            .evidence
            .iter()
            .any(|l| l.contains("vm_struct allocation failed")));
        assert!(d
            .evidence
            .iter()
            .any(|l| l.contains("vmap allocation for size")));
    }

    #[test]
    fn request_beyond_vmalloc_total_is_inferred_in_safe_mode() {
        let mut i = input(ENOMEM, 300, true, vec![]);
        i.before = Some(i686());
        i.after = None;
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::AddressSpaceExhausted);
        assert_eq!(d.confidence, Confidence::Inferred);
        assert!(d.detail.contains("__GFP_NOWARN"));
    }

    #[test]
    fn small_largest_gap_is_inferred_address_space() {
        let mut i = input(ENOMEM, 100, true, vec![]);
        i.before = Some(i686());
        i.vmalloc_largest_free = Some(80 * MIB);
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::AddressSpaceExhausted);
        assert_eq!(d.confidence, Confidence::Inferred);
        assert!(
            d.summary.contains("largest free range 80.0 MiB"),
            "{}",
            d.summary
        );
        // A gap big enough: it is the physical memory instead.
        i.vmalloc_largest_free = Some(110 * MIB);
        assert_eq!(diagnose(&i).cause, Cause::PhysicalMemoryShort);
    }

    #[test]
    fn more_than_ram_wins_over_address_space_like_the_kernel() {
        // 32-bit: 3 GiB is above both MemTotal (2 GiB) and VmallocTotal; the kernel checks RAM first.
        let mut i = input(ENOMEM, 3 * 1024, true, vec![]);
        i.before = Some(i686());
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::ExceedsTotalPages);
        assert!(d.detail.contains("checks RAM first"), "{}", d.detail);
    }

    #[test]
    fn small_vmalloc_area_without_gap_lowers_confidence() {
        let mut i = input(ENOMEM, 100, true, vec![]);
        i.before = Some(i686());
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::PhysicalMemoryShort);
        assert_eq!(d.confidence, Confidence::Inferred);
        assert!(d.detail.contains("/proc/vmallocinfo"));
    }

    #[test]
    fn oom_kill_named_in_the_log_is_certain() {
        let mut i = input(LoaderEnd::Signal(9), 950, false, log(OOM));
        // The loader, vmtop-kmod, was PID 575 in the capture.
        i.loader_pid = Some(575);
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::OomKilled);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("Asked 950 MiB"));
        assert!(d.summary.contains("PID 575 vmtop-kmod)"), "{}", d.summary);
        assert!(d.summary.contains("MemAvailable 832 MiB"), "{}", d.summary);
        assert!(d
            .evidence
            .iter()
            .any(|l| l.starts_with("Out of memory: Killed process 575 (vmtop-kmod)")));
        assert!(d
            .evidence
            .iter()
            .any(|l| l.starts_with("oom-kill:constraint=")));
        assert!(d.evidence.iter().any(|l| l.contains("invoked oom-killer")));
        // Without the loader's PID, a victim line still names it.
        i.loader_pid = None;
        assert_eq!(diagnose(&i).confidence, Confidence::Certain);
        // With another PID, the log does not name the loader.
        i.loader_pid = Some(999);
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::OomKilled);
        assert_eq!(d.confidence, Confidence::Likely);
        assert!(d.detail.contains("not the loader (PID 999)"));
    }

    #[test]
    fn sigkill_in_unsafe_mode_without_log() {
        let d = diagnose(&input(LoaderEnd::Signal(9), 950, false, vec![]));
        assert_eq!(d.cause, Cause::OomKilled);
        assert_eq!(d.confidence, Confidence::Likely); // 950 MiB > MemAvailable 832 MiB
        let d = diagnose(&input(LoaderEnd::Signal(9), 64, false, vec![]));
        assert_eq!(d.cause, Cause::OomKilled);
        assert_eq!(d.confidence, Confidence::Inferred);
    }

    #[test]
    fn sigkill_in_safe_mode_without_oom_is_someone_else() {
        let d = diagnose(&input(LoaderEnd::Signal(9), 950, true, vec![]));
        assert_eq!(d.cause, Cause::LoaderKilled);
        assert_eq!(d.confidence, Confidence::Likely);
        assert!(d.summary.contains("SIGKILL"));
        // But an OOM report in the log means the OOM killer, even in safe mode.
        let d = diagnose(&input(LoaderEnd::Signal(9), 950, true, log(OOM)));
        assert_eq!(d.cause, Cause::OomKilled);
        // Explained as the edge of memory (page tables), not as "use safe mode".
        assert!(d.detail.contains("page tables"), "{}", d.detail);
        assert!(!d.detail.contains("Use safe mode"), "{}", d.detail);
        assert!(d.cause.means_too_big(), "a probe treats it as too big");
    }

    #[test]
    fn other_signals() {
        let d = diagnose(&input(LoaderEnd::Signal(15), 64, false, vec![]));
        assert_eq!(d.cause, Cause::LoaderKilled);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("SIGTERM (terminated)"), "{}", d.summary);
        let d = diagnose(&input(LoaderEnd::Signal(11), 64, true, vec![]));
        assert!(d.summary.contains("SIGSEGV"));
    }

    #[test]
    fn already_loaded() {
        let d = diagnose(&input(LoaderEnd::Errno(17), 64, true, vec![]));
        assert_eq!(d.cause, Cause::AlreadyLoaded);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("EEXIST"));
    }

    #[test]
    fn wrong_kernel_from_vermagic() {
        let d = diagnose(&input(LoaderEnd::Errno(8), 64, true, log(VERMAGIC)));
        assert_eq!(d.cause, Cause::WrongKernel);
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "Module built for another kernel: version magic \
             '6.12.95+deb12-amd64 SMP preempt mod_unload modversions' should be \
             '6.1.0-57-amd64 SMP preempt mod_unload modversions'"
        );
        assert!(d.detail.contains("make -C kmod-src KDIR="));
        assert_eq!(d.evidence.len(), 1);
        // ENOEXEC alone ("Invalid module format").
        let d = diagnose(&input(LoaderEnd::Errno(8), 64, true, vec![]));
        assert_eq!(d.cause, Cause::WrongKernel);
        assert!(d.summary.contains("Invalid module format") || d.summary.contains("ENOEXEC"));
    }

    #[test]
    fn wrong_kernel_from_module_layout() {
        // Built against another kernel's headers: with modversions the kernel compares
        // module_layout's CRC before the version magic, and says only that.
        let d = diagnose(&input(LoaderEnd::Errno(8), 8, true, log(OTHER_KERNEL)));
        assert_eq!(d.cause, Cause::WrongKernel);
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "Module built against another kernel's symbols (symbol versions disagree)"
        );
        assert_eq!(
            d.evidence,
            vec!["alloc_large_mem: disagrees about version of symbol module_layout".to_string()]
        );
    }

    #[test]
    fn wrong_kernel_from_symbol_versions_even_with_einval() {
        // A CRC mismatch on an ordinary symbol makes init_module return EINVAL, not ENOEXEC.
        let d = diagnose(&input(LoaderEnd::Errno(22), 64, true, log(SYMVER)));
        assert_eq!(d.cause, Cause::WrongKernel);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d
            .evidence
            .iter()
            .any(|l| l.contains("disagrees about version of symbol vmalloc")));
        assert!(d
            .evidence
            .iter()
            .any(|l| l.contains("Unknown symbol vmalloc (err -22)")));
    }

    /// The state read in the lab boots the kmsg captures come from (see their headers).
    fn lab_signing(lockdown: &str, sig_enforce: bool, arg: &str) -> Signing {
        Signing {
            lockdown: Some(lockdown.into()),
            sig_enforce: Some(sig_enforce),
            secure_boot: SecureBoot::NoEfi,
            cmdline: vec![arg.into()],
            dkms_mok: None,
        }
    }

    fn sig_enforce_input(fixture: &str, signed: bool) -> FailureInput {
        let mut i = input(
            LoaderEnd::Errno(nix::libc::EKEYREJECTED),
            8,
            true,
            log(fixture),
        );
        i.signing = lab_signing(
            "[none] integrity confidentiality",
            true,
            "module.sig_enforce=1",
        );
        i.module_signed = Some(signed);
        i
    }

    #[test]
    fn signature_rejected_names_the_state_and_the_way_out() {
        let d = diagnose(&sig_enforce_input(SIG_REJECTED, false));
        assert_eq!(d.cause, Cause::SignatureRejected);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("is not signed"), "{}", d.summary);
        assert_eq!(
            d.evidence,
            vec!["Loading of unsigned module is rejected".to_string()]
        );
        for fact in [
            "/sys/module/module/parameters/sig_enforce reads Y",
            "/sys/kernel/security/lockdown reads \"[none] integrity confidentiality\"",
            "Secure Boot is off (booted without EFI)",
            "the kernel command line has module.sig_enforce=1",
            "the module file is not signed",
            // Where it comes from, and both ways out.
            "comes from the kernel command line (module.sig_enforce=1)",
            "sudo make install",
            "sudo mokutil --import /var/lib/dkms/mok.pub",
            "reboot",
            "vmtop lab",
        ] {
            assert!(d.detail.contains(fact), "{fact}: {}", d.detail);
        }
    }

    #[test]
    fn signature_with_a_key_not_enrolled() {
        let d = diagnose(&sig_enforce_input(SIG_UNKNOWN_KEY, true));
        assert_eq!(d.cause, Cause::SignatureRejected);
        assert!(
            d.summary.contains("does not trust the key"),
            "{}",
            d.summary
        );
        assert!(d.detail.contains("enrol that key"), "{}", d.detail);
        assert!(d.detail.contains("mokutil --import"), "{}", d.detail);
        assert!(!d.detail.contains("make install"), "{}", d.detail);
        // The kernel's reason decides, even when the file could not be checked.
        let mut i = sig_enforce_input(SIG_UNKNOWN_KEY, true);
        i.module_signed = None;
        assert!(diagnose(&i).summary.contains("does not trust the key"));
    }

    #[test]
    fn secure_boot_and_a_dkms_key_change_the_advice() {
        let mut i = input(LoaderEnd::Errno(1), 8, true, log(LOCKDOWN));
        i.signing = Signing {
            lockdown: Some("none [integrity] confidentiality".into()),
            sig_enforce: Some(false),
            secure_boot: SecureBoot::On,
            cmdline: vec![],
            dkms_mok: Some(DKMS_MOK.into()),
        };
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::Lockdown);
        assert!(d.detail.contains("Secure Boot is on"), "{}", d.detail);
        assert!(
            d.detail.contains("Lockdown comes with Secure Boot"),
            "{}",
            d.detail
        );
        assert!(
            d.detail.contains("/var/lib/dkms/mok.pub, present here"),
            "{}",
            d.detail
        );
        assert!(!d.detail.contains("counts only when"), "{}", d.detail);
        assert!(!d.detail.contains("command line"), "{}", d.detail);
    }

    #[test]
    fn lockdown_from_log_and_from_state() {
        let mut i = input(LoaderEnd::Errno(1), 8, true, log(LOCKDOWN));
        i.signing = lab_signing(
            "none [integrity] confidentiality",
            false,
            "lockdown=integrity",
        );
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::Lockdown);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("(integrity)"), "{}", d.summary);
        assert!(d.summary.contains("unsigned"), "{}", d.summary);
        assert_eq!(d.evidence.len(), 1, "{:?}", d.evidence);
        for fact in [
            "/sys/kernel/security/lockdown reads \"none [integrity] confidentiality\"",
            "sig_enforce reads N",
            "comes from the kernel command line (lockdown=integrity)",
            "mokutil --import",
        ] {
            assert!(d.detail.contains(fact), "{fact}: {}", d.detail);
        }
        // The same line for a module signed with an unknown key: the file tells.
        i.module_signed = Some(true);
        let d = diagnose(&i);
        assert!(d.summary.contains("does not trust"), "{}", d.summary);
        // The notice is rate-limited: the state alone still points at lockdown.
        i.log.clear();
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::Lockdown);
        assert_eq!(d.confidence, Confidence::Likely);
    }

    #[test]
    fn eperm_names_what_the_kernel_checks() {
        use crate::kernel::tests::root;
        let mut i = input(LoaderEnd::Errno(1), 8, true, vec![]);
        // Not root, no capability (the lab's uid 65534).
        i.privileges = Privileges {
            euid: 65534,
            cap_sys_module: false,
            ..root()
        };
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::NotPermitted);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("CAP_SYS_MODULE"), "{}", d.summary);
        assert!(d.summary.contains("uid 65534"), "{}", d.summary);
        assert!(d.detail.starts_with("The kernel refused"), "{}", d.detail);
        // Root in a container: the bounding set lacks it too.
        i.privileges = Privileges {
            cap_sys_module: false,
            cap_sys_module_bounding: false,
            ..root()
        };
        let d = diagnose(&i);
        assert!(
            d.summary.contains("root, but without CAP_SYS_MODULE"),
            "{}",
            d.summary
        );
        assert!(d.detail.contains("--cap-add SYS_MODULE"), "{}", d.detail);
        // The capability inside a user namespace does not count.
        i.privileges = Privileges {
            user_namespace: Some("0 65534 1".into()),
            ..root()
        };
        let d = diagnose(&i);
        assert!(d.summary.contains("user namespace"), "{}", d.summary);
        assert!(d.detail.contains("0 65534 1"), "{}", d.detail);
        // Switched off until reboot.
        i.privileges = Privileges {
            modules_disabled: true,
            ..root()
        };
        assert!(diagnose(&i).summary.contains("modules_disabled=1"));
        // The kernel checks privileges before lockdown: without its lockdown line, missing
        // privileges explain the EPERM even on a locked-down kernel.
        i.privileges = Privileges {
            euid: 1000,
            cap_sys_module: false,
            ..root()
        };
        i.signing.lockdown = Some("none [integrity] confidentiality".into());
        assert_eq!(diagnose(&i).cause, Cause::NotPermitted);
        // All fine, no lockdown: something else (a security module), and it says so.
        i.privileges = root();
        i.signing = crate::kernel::tests::relaxed();
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::NotPermitted);
        assert_eq!(d.confidence, Confidence::Likely);
        assert!(d.detail.contains("SELinux"), "{}", d.detail);
    }

    #[test]
    fn no_module_support_and_missing_file() {
        for end in [
            LoaderEnd::Errno(38),
            LoaderEnd::Refused(NotAsked::NoModuleSupport),
        ] {
            let d = diagnose(&input(end, 64, true, vec![]));
            assert_eq!(d.cause, Cause::NoModuleSupport);
            assert_eq!(d.confidence, Confidence::Certain);
        }
        let d = diagnose(&input(
            LoaderEnd::Refused(NotAsked::HelperFailed),
            64,
            true,
            vec!["starting /x/vmtop-kmod: No such file or directory (os error 2)".into()],
        ));
        assert_eq!(d.cause, Cause::HelperFailed);
        assert!(d.evidence[0].contains("os error 2"), "{d:?}");
        let d = diagnose(&input(LoaderEnd::Cancelled, 700, true, vec![]));
        assert_eq!(d.cause, Cause::Cancelled);
        assert!(d.summary.contains("700 MiB cancelled"), "{}", d.summary);
        let d = diagnose(&input(LoaderEnd::Errno(2), 64, true, vec![]));
        assert_eq!(d.cause, Cause::ModuleFileMissing);
        assert_eq!(d.confidence, Confidence::Likely);
    }

    #[test]
    fn bad_parameter_from_the_modules_lines() {
        let d = diagnose(&input(LoaderEnd::Errno(22), 0, true, log(PARAM)));
        assert_eq!(d.cause, Cause::BadParameter);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("memsize=0"));
        assert!(
            d.summary.contains("between 1 and 17592186044415 MiB"),
            "{}",
            d.summary
        );
        assert_eq!(d.evidence.len(), 2);
        let d = diagnose(&input(LoaderEnd::Errno(22), 5, true, vec![]));
        assert_eq!(d.cause, Cause::BadParameter);
        assert_eq!(d.confidence, Confidence::Likely);
    }

    #[test]
    fn interrupted() {
        // The lab's loader was killed while the module filled 700 MiB: the module's fill loop
        // gave up with -EINTR, which only a loader that survives would see.
        const FILL: &str = include_str!("../testdata/kmsg-6.1-fill-interrupted.txt");
        let d = diagnose(&input(LoaderEnd::Errno(4), 700, true, log(FILL)));
        assert_eq!(d.cause, Cause::Interrupted);
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "Loading 700 MiB was interrupted (EINTR) while the module was filling the buffer"
        );
        let fill_line = |ev: &[String]| ev.iter().any(|l| l.contains("err=-4 stage=fill"));
        assert!(fill_line(&d.evidence), "{:?}", d.evidence);
        // What vmtop sees of it: its own cancel, or a SIGKILL from someone else.
        let d = diagnose(&input(LoaderEnd::Cancelled, 700, true, log(FILL)));
        assert_eq!(d.cause, Cause::Cancelled);
        assert!(fill_line(&d.evidence), "{:?}", d.evidence);
        let d = diagnose(&input(LoaderEnd::Signal(9), 700, true, log(FILL)));
        assert_eq!(d.cause, Cause::LoaderKilled);
        assert_eq!(d.confidence, Confidence::Likely);
        assert!(d.detail.contains("shows no OOM kill"), "{}", d.detail);
        assert!(fill_line(&d.evidence), "{:?}", d.evidence);
    }

    #[test]
    fn unknown_names_the_errno() {
        let d = diagnose(&input(LoaderEnd::Errno(16), 64, true, log(OOM)));
        assert_eq!(d.cause, Cause::Unknown);
        assert!(
            d.summary.contains("EBUSY (Device or resource busy)"),
            "{}",
            d.summary
        );
        assert!(!d.evidence.is_empty());
    }

    #[test]
    fn every_summary_carries_numbers_or_names() {
        // Memory causes quote the request and a figure in MiB/GiB/PiB.
        for (end, mib, safe, fixture) in [
            (ENOMEM, 2000, true, ""),
            (ENOMEM, 950, true, ENOMEM_SAFE),
            (LoaderEnd::Signal(9), 950, false, OOM),
        ] {
            let d = diagnose(&input(end, mib, safe, log(fixture)));
            assert!(d.summary.contains(&format!("{mib} MiB")), "{}", d.summary);
            assert!(d.summary.matches(" MiB").count() >= 2, "{}", d.summary);
        }
    }

    const ALLOC: &str = include_str!("../testdata/kmsg-6.1-alloc.txt");
    const FRAGMENT: &str = include_str!("../testdata/kmsg-6.1-fragment.txt");
    const FRAGMENT_612: &str = include_str!("../testdata/kmsg-6.12-fragment.txt");
    /// The same allocator cases on 6.12, whose page allocator is __alloc_pages_noprof.
    const ALLOC_612: &str = include_str!("../testdata/kmsg-6.12-alloc.txt");

    /// The captured records of one attempt in `fixture`: from the limits line whose fail/load
    /// line contains `key` back to the previous limits line.
    fn attempt_in(fixture: &str, key: &str) -> Vec<String> {
        let all = log(fixture);
        let end = all
            .iter()
            .position(|l| l.contains("alloc_large_mem: fail") && l.contains(key))
            .unwrap_or_else(|| panic!("no fail line with {key}"));
        let start = all[..end]
            .iter()
            .rposition(|l| l.contains("alloc_large_mem: limits"))
            .expect("limits line before it");
        all[start..=end].to_vec()
    }

    fn attempt(key: &str) -> Vec<String> {
        attempt_in(ALLOC, key)
    }

    #[test]
    fn kmalloc_above_max_unsafe_names_the_warning() {
        let l = attempt("oom_safe=N err=-12 stage=kmalloc");
        let d = diagnose(&input(ENOMEM, 8, false, l));
        assert_eq!(d.cause, Cause::KmallocAboveMax);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.cause.means_too_big());
        assert_eq!(
            d.summary,
            "Asked 8 MiB from kmalloc, above KMALLOC_MAX_SIZE 4.00 MiB (one block of order 11; the largest is order 10)"
        );
        assert!(d.detail.contains("the WARNING below"), "{}", d.detail);
        assert!(d.evidence[0]
            .contains("WARNING: CPU: 1 PID: 415 at mm/page_alloc.c:5634 __alloc_pages"));
        assert!(d.evidence.iter().any(|l| l.contains("stage=kmalloc")));
        assert!(d
            .evidence
            .iter()
            .any(|l| l.contains("kmalloc_max_size=4194304")));
    }

    #[test]
    fn kmalloc_above_max_safe_says_why_no_warning() {
        let d = diagnose(&input(
            ENOMEM,
            8,
            true,
            attempt("memsize_mib=8 bytes=8388608 oom_safe=Y err=-12 stage=kmalloc"),
        ));
        assert_eq!(d.cause, Cause::KmallocAboveMax);
        assert!(d.detail.contains("__GFP_NOWARN"), "{}", d.detail);
        // 2000 MiB is more than RAM too, but kmalloc never gets that far: the order decides.
        let d = diagnose(&input(ENOMEM, 2000, true, attempt("memsize_mib=2000")));
        assert_eq!(d.cause, Cause::KmallocAboveMax);
        assert!(d.summary.contains("order 19"), "{}", d.summary);
    }

    #[test]
    fn pages_above_max_order() {
        let d = diagnose(&input(
            ENOMEM,
            8,
            true,
            attempt("memsize_mib=8 bytes=8388608 oom_safe=Y err=-12 stage=pages"),
        ));
        assert_eq!(d.cause, Cause::OrderAboveMax);
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "Asked 8 MiB from alloc_pages: one block of order 11 (8.00 MiB), above the largest order 10 (4.00 MiB) the page allocator gives"
        );
    }

    /// kmalloc of 1 MiB (order 8) after fragment_order=8, in a captured log: both kernels.
    fn kmalloc_1_mib_after_fragment_order_8(log: &str) {
        let d = diagnose(&input(ENOMEM, 1, true, attempt_in(log, "fragment_order=8")));
        assert_eq!(d.cause, Cause::NoContiguousBlock);
        assert!(
            d.summary
                .contains("no free block of order 8 (the largest is order 7, 512 KiB)"),
            "{}",
            d.summary
        );
    }

    #[test]
    fn fragmented_memory_has_no_block_of_the_order() {
        let d = diagnose(&input(
            ENOMEM,
            4,
            true,
            attempt_in(FRAGMENT, "fragment_order=10"),
        ));
        assert_eq!(d.cause, Cause::NoContiguousBlock);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.cause.means_too_big());
        assert_eq!(
            d.summary,
            "Asked 4 MiB in one block: 920 MiB free, but no free block of order 10 (the largest is order 9, 2.00 MiB)"
        );
        assert!(d.detail.contains("fragment_order=10"), "{}", d.detail);
        assert!(
            d.detail.contains("vmalloc() of the same size"),
            "{}",
            d.detail
        );
        kmalloc_1_mib_after_fragment_order_8(FRAGMENT);
    }

    /// 6.12 prints the same line, with the blocks it found free but for pages on the
    /// per-CPU lists (parked_kib).
    #[test]
    fn fragmented_memory_on_6_12() {
        let attempt = attempt_in(FRAGMENT_612, "fragment_order=10");
        assert!(
            attempt.iter().any(|l| l.contains(" parked_kib=")),
            "{attempt:?}"
        );
        let d = diagnose(&input(ENOMEM, 4, true, attempt));
        assert_eq!(d.cause, Cause::NoContiguousBlock);
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "Asked 4 MiB in one block: 934 MiB free, but no free block of order 10 (the largest is order 9, 2.00 MiB)"
        );
        kmalloc_1_mib_after_fragment_order_8(FRAGMENT_612);
    }

    #[test]
    fn bad_alloc_parameter_names_the_accepted_values() {
        const PARAM_ALLOC: &str = include_str!("../testdata/kmsg-6.1-param-alloc.txt");
        let d = diagnose(&input(LoaderEnd::Errno(22), 8, true, log(PARAM_ALLOC)));
        assert_eq!(d.cause, Cause::BadParameter);
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "alloc_large_mem rejected its alloc= (EINVAL): alloc must be one of \
             vmalloc,kvmalloc,kmalloc,pages,vmalloc_huge, not 'bogus'"
        );
        assert_eq!(d.evidence.len(), 2, "{:?}", d.evidence);
    }

    #[test]
    fn the_6_12_allocator_failures_read_the_same() {
        // 6.12 names the page allocator __alloc_pages_noprof and its WARNING is at another
        // line: the diagnosis is the same.
        let l = attempt_in(ALLOC_612, "oom_safe=N err=-12 stage=kmalloc");
        let d = diagnose(&input(ENOMEM, 8, false, l));
        assert_eq!(d.cause, Cause::KmallocAboveMax);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.detail.contains("the WARNING below"), "{}", d.detail);
        assert_eq!(
            d.evidence[0],
            "WARNING: CPU: 1 PID: 153 at mm/page_alloc.c:4817 __alloc_pages_noprof+0x303/0x310"
        );
        let d = diagnose(&input(
            ENOMEM,
            8,
            true,
            attempt_in(
                ALLOC_612,
                "memsize_mib=8 bytes=8388608 oom_safe=Y err=-12 stage=pages",
            ),
        ));
        assert_eq!(d.cause, Cause::OrderAboveMax);
        assert!(
            d.summary.contains("above the largest order 10"),
            "{}",
            d.summary
        );
    }

    /// /proc/meminfo figures of the 6.12 lab (MemTotal from the captures' headers; the rest
    /// are the 6.1 lab's: the 6.12 tests read the kernel's lines, not the figures).
    fn lab_612() -> Sample {
        Sample {
            mem_total: 988_496 * KIB,
            ..lab()
        }
    }

    #[test]
    fn the_6_12_kernel_lines_read_the_same() {
        const EXCEEDS_612: &str = include_str!("../testdata/kmsg-6.12-exceeds-total-unsafe.txt");
        const OOM_612: &str = include_str!("../testdata/kmsg-6.12-oom-unsafe.txt");
        let mut i = input(ENOMEM, 2000, false, log(EXCEEDS_612));
        i.before = Some(lab_612());
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::ExceedsTotalPages);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("MemTotal 965 MiB"), "{}", d.summary);
        assert_eq!(
            d.evidence[0],
            "vmtop-kmod: vmalloc error: size 2097152000, exceeds total pages, \
             mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0"
        );
        let mut i = input(LoaderEnd::Signal(9), 950, false, log(OOM_612));
        i.before = Some(lab_612());
        i.loader_pid = Some(286);
        let d = diagnose(&i);
        assert_eq!(d.cause, Cause::OomKilled);
        assert_eq!(d.confidence, Confidence::Certain);
        assert!(d.summary.contains("PID 286 vmtop-kmod)"), "{}", d.summary);
        assert!(d
            .evidence
            .iter()
            .any(|l| l.starts_with("oom-kill:constraint=CONSTRAINT_NONE,")
                && l.contains(",pid=286,")));
    }

    #[test]
    fn wrong_kernel_from_the_size_of_struct_module() {
        // A 6.1 build loaded into 6.12: it refuses the module's struct module before it looks
        // at symbol versions, and says only that.
        const OTHER_612: &str = include_str!("../testdata/kmsg-6.12-other-kernel.txt");
        let d = diagnose(&input(LoaderEnd::Errno(8), 8, true, log(OTHER_612)));
        assert_eq!(d.cause, Cause::WrongKernel);
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "Module built for another kernel: its struct module is not the size of this \
             kernel's (.gnu.linkonce.this_module)"
        );
        assert_eq!(
            d.evidence,
            vec![
                "module alloc_large_mem: .gnu.linkonce.this_module section size must match \
                  the kernel's built struct module size at run time"
                    .to_string()
            ]
        );
        assert!(d.detail.contains("make -C kmod-src KDIR="), "{}", d.detail);
    }

    #[test]
    fn ratio_formatting() {
        assert_eq!(ratio(10, 4), "2.5");
        assert_eq!(ratio(12_500_000, 1), "12.5 million");
        assert_eq!(ratio(1, 0), "∞");
    }
}
