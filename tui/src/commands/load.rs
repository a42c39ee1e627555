//! `vmtop load` and `vmtop unload`: one event each, as text or JSON.

use anyhow::Context as _;

use super::{delta_text, engine_for, failure_code, print_json};
use crate::cli::exit;
use crate::diagnose::LoaderEnd;
use crate::engine::{Engine, Event, LoadRequest};
use crate::units::fmt_ns;

pub(super) fn load(
    req: LoadRequest,
    module: crate::cli::ModuleArgs,
    json: bool,
) -> anyhow::Result<i32> {
    let mut engine = engine_for(module);
    // TERM, INT or HUP while loading stop the loader (the module's init gives its buffer back
    // on the fatal signal); what happened is reported either way, never a silent half.
    let signalled = stop_loader_on_signals()?;
    let loaded = engine.load(&req);
    if let Some(note) = loaded.loader_killed_note("vmtop unload") {
        eprintln!("vmtop: {note}");
    }
    let crate::engine::Loaded {
        event: e,
        end,
        allocated,
        vmap_trace,
        loader_killed_after_load,
        ..
    } = loaded;
    let killed_after = loader_killed_after_load.map(crate::units::signal_name);
    let stopped_by = match signalled.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        sig => Some(crate::units::signal_name(sig)),
    };
    if let (Some(sig), false) = (&stopped_by, e.failed()) {
        eprintln!(
            "vmtop: {sig} arrived after the load had finished: {} stays loaded (vmtop unload frees it)",
            crate::module::MODULE_NAME
        );
    }
    // Where the held buffer's pages are (None from an older module, or when not loaded).
    let layout = (!e.failed()).then(crate::module::sysfs::layout).flatten();
    if json {
        print_json(&serde_json::json!({
            "event": &e,
            "alloc": req.alloc,
            "layout": layout,
            "errno": match end {
                Some(LoaderEnd::Errno(n)) => Some(n),
                _ => None,
            },
            "not_asked": match end {
                Some(LoaderEnd::Refused(n)) => Some(n),
                _ => None,
            },
            "signal": stopped_by,
            "loader_killed_after_load": killed_after,
            "error": e.failed().then(|| end_text(end)),
            // Whether the module had its buffer when the load ended: false for a load vmtop
            // refused or the module refused before allocating (safe mode's reserve, a
            // parameter); null when the module's line does not say (an older module).
            "allocated": allocated,
            "asked_kernel": asked_kernel(&e, end),
            // The kernel's vmalloc:alloc_vmap_area failures during the load (6.2+), or why
            // they could not be recorded.
            "vmap_trace": vmap_trace,
        }))?;
        return Ok(if e.failed() {
            failure_code(&e)
        } else {
            exit::OK
        });
    }
    match e.diagnosis() {
        None => {
            let mut times = String::new();
            if let (Some(a), Some(f)) = (e.alloc_ns, e.fill_ns) {
                times = format!("; allocation {}, fill {}", fmt_ns(a), fmt_ns(f));
            }
            println!(
                "loaded alloc_large_mem memsize={} MiB ({} mode): {} for {} MiB asked{}; took {}",
                e.memsize_mib,
                if e.oom_safe { "safe" } else { "unsafe" },
                delta_text(&e),
                e.memsize_mib,
                times,
                fmt_ns(e.wall_ns)
            );
            if let Some(l) = layout {
                println!("buffer ({}): {}", req.alloc, l.one_line());
            }
            Ok(exit::OK)
        }
        Some(d) => {
            eprintln!(
                "vmtop: loading {} MiB failed: {}{}: {}",
                e.memsize_mib,
                end_text(end),
                stopped_by.map(|s| format!(" by {s}")).unwrap_or_default(),
                d.summary
            );
            // The why and the way out (signing keys, sysctls, ...), as the dashboard's banner
            // gives them: the summary alone leaves the user without the fix.
            if !d.detail.is_empty() {
                eprintln!("{}", d.detail);
            }
            Ok(failure_code(&e))
        }
    }
}

/// Handlers for SIGTERM, SIGINT and SIGHUP that cancel the running loader; the signal's
/// number is stored in the returned cell (0: none).
fn stop_loader_on_signals() -> anyhow::Result<std::sync::Arc<std::sync::atomic::AtomicI32>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let got = std::sync::Arc::new(std::sync::atomic::AtomicI32::new(0));
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn({
            let got = got.clone();
            move || {
                if let Some(sig) = signals.forever().next() {
                    got.store(sig, std::sync::atomic::Ordering::SeqCst);
                    crate::helper::cancel();
                }
            }
        })
        .context("starting the signal thread")?;
    Ok(got)
}

pub(super) fn unload(json: bool) -> anyhow::Result<i32> {
    let mut engine = Engine::new(std::time::Instant::now(), None);
    let e = engine.unload();
    if json {
        print_json(&e)?;
    } else if let Some(d) = e.diagnosis() {
        eprintln!("vmtop: {}", d.summary);
    } else {
        println!(
            "unloaded alloc_large_mem (held {} MiB): {}; took {}",
            e.memsize_mib,
            delta_text(&e),
            fmt_ns(e.wall_ns)
        );
    }
    Ok(if e.failed() {
        failure_code(&e)
    } else {
        exit::OK
    })
}

/// Whether the kernel was asked (init_module called), or vmtop refused before.
fn asked_kernel(e: &Event, end: Option<LoaderEnd>) -> bool {
    match end {
        Some(LoaderEnd::Errno(_) | LoaderEnd::Signal(_) | LoaderEnd::Cancelled) => true,
        Some(LoaderEnd::Refused(_)) => false,
        None => !e.failed(),
    }
}

fn end_text(end: Option<LoaderEnd>) -> String {
    match end {
        Some(LoaderEnd::Errno(n)) => crate::units::errno_name(n),
        Some(LoaderEnd::Refused(n)) => n.phrase().into(),
        Some(LoaderEnd::Cancelled) => "cancelled".into(),
        Some(LoaderEnd::Signal(s)) => match nix::sys::signal::Signal::try_from(s) {
            Ok(sig) => format!("the loader was killed by {sig}"),
            Err(_) => format!("the loader was killed by signal {s}"),
        },
        None => "refused".into(),
    }
}
