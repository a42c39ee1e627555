//! The subcommands, one file each: each turns parsed arguments into calls on the engine, lab
//! or dashboard, prints the result (text or `--json`) and returns the exit code. Here: the
//! dispatch, the usage line, and what several of them share.

use anyhow::Context as _;
use clap::Parser;

mod areas;
mod compare;
mod config;
mod generate;
mod lab;
mod lesson;
mod load;
mod plot;
mod probe;
mod record;
mod replay;
mod report;
mod status;

/// What `vmtop lab` with no options boots (the lesson runner's tests start from it).
#[cfg(test)]
pub(crate) use lab::defaults as lab_defaults;

use crate::cli::{exit, Cli, Cmd, Mode};
use crate::diagnose::Cause;
use crate::engine::{Engine, Event, LoadRequest};
use crate::units::fmt_delta_mib;

/// Parse the command line and run; returns the process exit code.
pub fn main() -> i32 {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cli = match Cli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    // The child that reads or writes a file as the user behind sudo (crate::files).
    if let Some(Cmd::AsUser { what, path }) = &cli.command {
        let op = match what {
            crate::cli::AsUserOp::Read => crate::files::Op::Read,
            crate::cli::AsUserOp::Write => crate::files::Op::Write,
            crate::cli::AsUserOp::Stream => crate::files::Op::Stream,
        };
        return crate::files::as_user_main(op, path, crate::settings::MAX_BYTES);
    }
    if matches!(
        cli.command,
        Some(
            Cmd::Load { .. }
                | Cmd::Unload { .. }
                | Cmd::Status { .. }
                | Cmd::Probe { .. }
                | Cmd::Record { .. }
                | Cmd::Generate { .. }
                | Cmd::Compare { .. }
                | Cmd::Lesson(_)
                | Cmd::Config(_)
                | Cmd::Areas { json: true, .. }
                | Cmd::Areas { once: true, .. }
        )
    ) {
        default_sigpipe();
    }
    // As root, the VMTOP_* variables that choose code or paths name only trusted files.
    if let Err(e) = crate::env::check_overrides(&crate::trust::Trust::current()) {
        eprintln!("vmtop: {e}");
        return exit::USAGE;
    }
    // The dashboard's settings file, read (as the user behind sudo) and checked before the
    // terminal is touched; its settings go before the command line's flags, which win.
    if cli.command.is_none() {
        match crate::settings::apply(&argv, cli.dashboard.config.as_deref()) {
            Ok((with_file, _)) => cli = with_file,
            Err(e) => {
                match e.downcast_ref::<clap::Error>() {
                    Some(c) => eprintln!("vmtop: {}", usage_line(c)),
                    None => eprintln!("vmtop: {e:#}"),
                }
                return exit::USAGE;
            }
        }
    }
    let result = match cli.command {
        Some(Cmd::AsUser { .. }) => Ok(exit::OK),
        Some(Cmd::Config(args)) => config::config(args, &argv),
        Some(Cmd::Plot(args)) => plot::plot(args),
        Some(Cmd::Report(args)) => report::report(args),
        Some(Cmd::Lab(args)) => lab::lab(args),
        Some(Cmd::Replay { json }) => replay::replay(json),
        Some(Cmd::Lesson(args)) => lesson::run(args),
        Some(Cmd::Generate { what, dir }) => generate::generate(what, dir),
        Some(Cmd::Load {
            force: true,
            mode: Mode::Safe,
            ..
        }) => {
            eprintln!("vmtop: {}", crate::cli::FORCE_NEEDS_UNSAFE);
            return exit::USAGE;
        }
        Some(Cmd::Load {
            ref alloc, mode, ..
        }) if crate::system::buddyinfo::fragment_order_refusal(alloc.fragment_order).is_some()
            || crate::engine::panic_on_warn_refusal(
                mode == Mode::Safe,
                crate::engine::panic_on_warn(),
            )
            .is_some() =>
        {
            let why = crate::system::buddyinfo::fragment_order_refusal(alloc.fragment_order)
                .or_else(|| {
                    crate::engine::panic_on_warn_refusal(
                        mode == Mode::Safe,
                        crate::engine::panic_on_warn(),
                    )
                })
                .unwrap_or_default();
            eprintln!("vmtop: {why}");
            return exit::USAGE;
        }
        Some(Cmd::Compare {
            fragment_order: Some(k),
            ..
        }) if crate::system::buddyinfo::fragment_order_refusal(k).is_some() => {
            eprintln!(
                "vmtop: {}",
                crate::system::buddyinfo::fragment_order_refusal(k).unwrap_or_default()
            );
            return exit::USAGE;
        }
        Some(Cmd::Load {
            memsize,
            mode,
            force,
            alloc,
            module,
            json,
        }) => load::load(
            LoadRequest {
                memsize_mib: memsize,
                oom_safe: mode == Mode::Safe,
                force,
                alloc: alloc.alloc,
                fragment_order: alloc.fragment_order,
            },
            module,
            json,
        ),
        Some(Cmd::Unload { json }) => load::unload(json),
        Some(Cmd::Status { module, json }) => status::status(module, json),
        Some(Cmd::Probe {
            from,
            to,
            precision,
            strategy,
            module,
            json,
        }) => probe::probe(from, to, precision, strategy, module, json),
        Some(Cmd::Compare {
            memsize,
            alloc,
            fragment_order,
            module,
            json,
        }) => {
            let engine = engine_for(module);
            match refusal(&engine, "compare") {
                Ok(Some(code)) => Ok(code),
                Ok(None) => {
                    compare::run(engine, &memsize, &alloc, fragment_order.unwrap_or(0), json)
                }
                Err(e) => Err(e),
            }
        }
        Some(Cmd::Areas {
            sort,
            kind,
            once,
            map,
            top,
            json,
            file,
            interval,
        }) => areas::areas(areas::AreasArgs {
            sort,
            kind,
            once,
            map,
            top,
            json,
            file,
            interval,
        }),
        Some(Cmd::Record {
            duration,
            interval,
            format,
            out,
            json,
        }) => record::record(duration, interval, format, out, json),
        None => dashboard(cli.dashboard),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vmtop: {e:#}");
            if crate::refused::Refused::in_chain(&e) {
                exit::USAGE
            } else {
                exit::FAILED
            }
        }
    }
}

/// Bad values get one line naming the problem and the accepted forms, exit code 2;
/// --help and --version print as clap does.
fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            exit::OK
        }
        _ => {
            eprintln!("vmtop: {}", usage_line(&e));
            exit::USAGE
        }
    }
}

/// The one line printed for a bad command line.
pub(crate) fn usage_line(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => first_line(e),
        _ => format!("{} (see vmtop --help)", first_line(e)),
    }
}

/// clap's message on one line: its first line, with the missing arguments it lists below
/// ("the following required arguments were not provided: --memsize <MEMSIZE>").
fn first_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let mut lines = text.lines();
    let mut line = lines
        .next()
        .unwrap_or("invalid command line")
        .trim_start_matches("error: ")
        .to_string();
    // The values a --mode or --format takes, which clap prints on a line of their own.
    if let Some(values) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("[possible values: "))
    {
        line = format!("{line}: use one of {}", values.trim_end_matches(']'));
    }
    if e.kind() == clap::error::ErrorKind::MissingRequiredArgument {
        let missing: Vec<&str> = lines
            .take_while(|l| l.starts_with("  "))
            .map(str::trim)
            .collect();
        line = format!("{} {}", line, missing.join(", "));
    }
    line
}

/// Rust ignores SIGPIPE, so `vmtop record | head` would end in an EPIPE error (or a panic
/// in println!). Printing commands end quietly instead, as `cat` does. Their output comes
/// after each kernel change (probe prints after unloading), so dying there leaves nothing
/// half-done. Not for the dashboard or the lab, which clean up on exit; nor for `plot` and
/// `report`: under sudo they write through a child (`files::save`), and a child that refused
/// the file must be an error said, not a SIGPIPE that ends vmtop silently.
fn default_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: SIG_DFL installs no handler code; done before any thread is spawned.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

pub(super) fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v).context("encoding JSON")?;
    println!("{text}");
    Ok(())
}

/// Exit code for a failed event: its own for no module support and not permitted; vmtop's
/// own refusal (2) for a file it will not trust and a helper that gave no answer.
pub(super) fn failure_code(e: &Event) -> i32 {
    match e.diagnosis().map(|d| d.cause) {
        Some(Cause::NoModuleSupport) => exit::NO_MODULE_SUPPORT,
        Some(Cause::NotPermitted) => exit::NOT_PERMITTED,
        Some(Cause::ModuleFileUnsafe | Cause::HelperFailed) => exit::USAGE,
        _ => exit::FAILED,
    }
}

/// "VmallocUsed +64.2 MiB, MemFree -65.0 MiB, MemAvailable -64.9 MiB".
pub(super) fn delta_text(e: &Event) -> String {
    match e.delta {
        Some(d) => format!(
            "VmallocUsed {}, MemFree {}, MemAvailable {}",
            fmt_delta_mib(d.vmalloc_used),
            fmt_delta_mib(d.mem_free),
            fmt_delta_mib(d.mem_available)
        ),
        None => "figures unavailable".into(),
    }
}

/// An engine for the module the command line chose.
pub(super) fn engine_for(module: crate::cli::ModuleArgs) -> Engine {
    Engine::new(std::time::Instant::now(), module.module)
        .allow_unsafe_file(module.allow_unsafe_file)
}

/// Why a run of loads (`what`: "probe", "compare") cannot start here: its one-line message is
/// printed and the exit code returned; None when it can start.
pub(super) fn refusal(engine: &Engine, what: &str) -> anyhow::Result<Option<i32>> {
    if let Some(why) = engine.kernel().why_read_only() {
        eprintln!("vmtop: cannot {what}: {why}");
        return Ok(Some(if engine.kernel().module_support {
            exit::NOT_PERMITTED
        } else {
            exit::NO_MODULE_SUPPORT
        }));
    }
    if engine.status()?.loaded {
        eprintln!("vmtop: cannot {what}: alloc_large_mem is already loaded: unload it first (vmtop unload)");
        return Ok(Some(exit::FAILED));
    }
    Ok(None)
}

fn dashboard(args: crate::cli::DashboardArgs) -> anyhow::Result<i32> {
    crate::dashboard::run(crate::app::config::DashboardOptions::from_args(args))?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bad `--mode` or `--format` names the values it takes, on the one line printed.
    #[test]
    fn enum_values_are_listed() {
        for (args, values) in [
            (&["vmtop", "--mode", "fast"][..], "safe, unsafe"),
            (
                &["vmtop", "load", "--memsize", "8", "--mode", "x"][..],
                "safe, unsafe",
            ),
            (
                &["vmtop", "record", "--duration", "1s", "--format", "xml"][..],
                "csv, jsonl",
            ),
        ] {
            let e = Cli::try_parse_from(args).expect_err("bad value");
            let line = usage_line(&e);
            assert!(!line.contains('\n'), "{line}");
            assert!(line.contains(values), "{args:?}: {line}");
        }
    }
}
