//! The loader ended by a signal: the OOM killer, someone else, or vmtop itself (cancelled).

use super::{diag, Cause, Confidence, Ctx, Diagnosis};
use crate::units::{fmt_bytes, signal_name};

pub(super) fn cancelled(cx: &Ctx) -> Diagnosis {
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

pub(super) fn signalled(cx: &Ctx, sig: i32) -> Diagnosis {
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

pub(super) fn signal_meaning(s: nix::sys::signal::Signal) -> &'static str {
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
