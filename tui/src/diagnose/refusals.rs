//! Refusals that are not about size: no module support, the module file, another kernel's
//! module, signatures and lockdown, privileges, a parameter.

use super::facts::{after, vermagic_pair};
use super::{diag, lines, Cause, Confidence, Ctx, Diagnosis};
use crate::module::MODULE_NAME;
use crate::system::host::KernelInfo;
use crate::system::host::{lockdown_active, lockdown_mode, Refusal, SecureBoot, Signing, DKMS_MOK};
use crate::units::errno_name;

pub(super) fn no_module_support() -> Diagnosis {
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

/// vmtop's own refusal of a module file, before the kernel is asked (no errno involved).
pub fn file_refused(p: &crate::module::file::FileProblem) -> Diagnosis {
    use crate::module::file::FileProblem as P;
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
        P::Helper(h) => return helper_failed(h),
        P::Changed(_) => (
            Cause::ModuleFileUnsafe,
            "Module file changed after vmtop checked it: not loaded",
            "vmtop checks the module file at its resolved path and notes which file it is \
             (device and inode); its helper opens that path once and reads and loads the open \
             file only if it is the same one. Here it was not: the path was re-pointed in between.",
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

pub(super) fn wrong_kernel(cx: &Ctx, code: i32) -> Diagnosis {
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
pub(super) enum SigProblem {
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
pub(super) enum Enforcer {
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
pub(super) fn signing_state(cx: &Ctx) -> String {
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
pub(super) fn signing_remedy(cx: &Ctx, by: Enforcer, problem: SigProblem) -> String {
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
             module through DKMS (the alloc-large-mem-dkms package, or `sudo make install` from a \
             checkout) and enrol the key once: {enrol}."
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

pub(super) fn signature_rejected(cx: &Ctx) -> Diagnosis {
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

pub(super) fn lockdown(cx: &Ctx) -> Diagnosis {
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

pub(super) fn not_permitted(cx: &Ctx) -> Diagnosis {
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

pub(super) fn bad_parameter(cx: &Ctx) -> Diagnosis {
    let f = &cx.facts;
    if let Some(d) = super::memory::above_allocator_limit(cx) {
        return d;
    }
    if let Some(l) = f
        .param_range
        .filter(|l| l.contains("fragment_order must be") || l.contains("reserve_mib must be"))
    {
        let what = after(l, "alloc_large_mem: ").unwrap_or(l);
        let detail = if l.contains("fragment_order") {
            "The module accepts fragment_order=0 (off) or an order from the pageblock order \
             (limits/pageblock_order, 9 on x86 with 4 KiB pages) to the largest the page allocator \
             gives: below a pageblock the pages it holds would sit in every pageblock and leave \
             the kernel short of the small blocks it needs itself."
        } else {
            "reserve_mib is what safe mode keeps available: -1 for the default (max(64 MiB, 5 % \
             of RAM)), 0 for none, or a size in MiB."
        };
        return diag(
            Cause::BadParameter,
            Confidence::Certain,
            format!("alloc_large_mem rejected a parameter (EINVAL): {what}"),
            detail.into(),
            cx.module_lines(),
        );
    }
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

/// The unsafe-mode guard refused the load (`why`: the guard's words): the kernel was not asked.
pub(crate) fn guard_refused(why: String) -> Diagnosis {
    diag(
        Cause::RefusedByGuard,
        Confidence::Certain,
        format!("Not attempted in unsafe mode: {why}"),
        why,
        vec![],
    )
}

/// Why delete_module failed with `errno` (`still_loading`: the module's init is still
/// running, so EBUSY means "not yet").
pub(crate) fn unload_failure(errno: i32, still_loading: bool, kernel: &KernelInfo) -> Diagnosis {
    use nix::libc;
    let (cause, summary) = match errno {
        libc::ENOENT => (
            Cause::Unknown,
            format!("Nothing to unload: {MODULE_NAME} is not loaded"),
        ),
        libc::EPERM => (
            Cause::NotPermitted,
            match kernel.privileges.refusal() {
                Some(r) => format!("Unloading needs CAP_SYS_MODULE: {}", r.explain()),
                None => "Unloading not permitted (EPERM) although this process holds CAP_SYS_MODULE".to_string(),
            },
        ),
        libc::EBUSY if still_loading => (
            Cause::StillLoading,
            format!(
                "Cannot unload yet: {MODULE_NAME} is still loading (its init is allocating and filling the buffer); \
                 wait for the load to finish, or stop its loader, then unload"
            ),
        ),
        libc::ENOSYS => (
            Cause::NoModuleSupport,
            format!("Kernel {} cannot load or unload modules", kernel.release),
        ),
        _ => (
            Cause::Unknown,
            format!("Unload failed: {}", errno_name(errno)),
        ),
    };
    diag(
        cause,
        Confidence::Certain,
        summary,
        format!("delete_module returned {}", errno_name(errno)),
        vec![],
    )
}

/// vmtop's libkmod helper gave no answer (missing, untrusted, from another build, broken):
/// its own refusal, never a module-file problem or the kernel's errno.
pub(crate) fn helper_failed(p: &crate::helper::Problem) -> Diagnosis {
    use crate::helper::Problem as H;
    let summary = match p {
        H::Missing { .. } => "vmtop's libkmod helper vmtop-kmod is missing: nothing was done",
        H::Untrusted(_) => {
            "vmtop's libkmod helper could be changed by another user: not run, nothing was done"
        }
        H::Mismatch { .. } => {
            "vmtop's libkmod helper vmtop-kmod is from another build of vmtop: nothing was done"
        }
        H::Broken { .. } => "vmtop's libkmod helper vmtop-kmod failed: no answer from it",
        H::SaidLoaded { .. } => {
            "vmtop's libkmod helper said the module loaded, but the kernel does not list it: not loaded"
        }
        H::Changed { .. } => "Module file changed after vmtop checked it: not loaded",
    };
    let cause = match p {
        H::Changed { .. } => Cause::ModuleFileUnsafe,
        _ => Cause::HelperFailed,
    };
    diag(
        cause,
        Confidence::Certain,
        summary.into(),
        format!(
            "{p}. Every libkmod call runs in the helper vmtop-kmod, installed in \
             PREFIX/libexec/vmtop (/usr/libexec/vmtop by the Debian package, /usr/local/libexec/vmtop \
             by `make install`, or built beside vmtop); vmtop runs it only when no user but \
             root (or this vmtop's owner) could have changed it, and the two must come from the \
             same build."
        ),
        vec![],
    )
}
