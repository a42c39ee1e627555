//! The subcommands: each turns parsed arguments into calls on the engine, lab or dashboard,
//! prints the result (text or `--json`) and returns the exit code.

use std::io::Write;

use anyhow::Context as _;
use clap::Parser;

use crate::cli::{exit, Cli, Cmd, Generated, LabArgs, Mode};
use crate::diagnose::{Cause, LoaderEnd};
use crate::engine::{Engine, Event, LoadRequest};
use crate::units::{fmt_bytes, fmt_delta_mib, fmt_ns};

/// Parse the command line and run; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
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
        )
    ) {
        default_sigpipe();
    }
    let result = match cli.command {
        Some(Cmd::Lab(args)) => lab(args),
        Some(Cmd::Replay { json }) => replay(json),
        Some(Cmd::Generate { what, dir }) => generate(what, dir),
        Some(Cmd::Load {
            force: true,
            mode: Mode::Safe,
            ..
        }) => {
            eprintln!("vmtop: {}", crate::cli::FORCE_NEEDS_UNSAFE);
            return exit::USAGE;
        }
        Some(Cmd::Load {
            memsize,
            mode,
            force,
            alloc,
            module,
            json,
        }) => load(
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
        Some(Cmd::Unload { json }) => unload(json),
        Some(Cmd::Status { module, json }) => status(module, json),
        Some(Cmd::Probe {
            from,
            to,
            precision,
            strategy,
            module,
            json,
        }) => probe(from, to, precision, strategy, module, json),
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
                    crate::compare::run(engine, &memsize, &alloc, fragment_order.unwrap_or(0), json)
                }
                Err(e) => Err(e),
            }
        }
        Some(Cmd::Record {
            duration,
            interval,
            format,
            out,
            json,
        }) => record(duration, interval, format, out, json),
        None => dashboard(cli.dashboard),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vmtop: {e:#}");
            exit::FAILED
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

/// Man pages into `dir` (printing each path), or a shell's completion script on stdout,
/// generated from the command-line definitions.
fn generate(what: Generated, dir: Option<std::path::PathBuf>) -> anyhow::Result<i32> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let shell = match what {
        Generated::Man => {
            let dir = dir.context("__generate man needs a folder to write the pages into")?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            // As clap_mangen::generate_to, but saying which files it wrote. Building the
            // command names the subcommands' pages vmtop-load.1 etc.
            let mut cmd = cmd.disable_help_subcommand(true);
            cmd.build();
            let subcommands: Vec<clap::Command> = cmd
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .cloned()
                .collect();
            for page in std::iter::once(cmd).chain(subcommands) {
                let path = clap_mangen::Man::new(page)
                    .source(concat!("vmtop ", env!("CARGO_PKG_VERSION")))
                    .generate_to(&dir)
                    .with_context(|| format!("writing a man page into {}", dir.display()))?;
                println!("{}", path.display());
            }
            return Ok(exit::OK);
        }
        Generated::Bash => clap_complete::Shell::Bash,
        Generated::Zsh => clap_complete::Shell::Zsh,
        Generated::Fish => clap_complete::Shell::Fish,
    };
    // clap_complete offers hidden subcommands too: complete only the public ones.
    let mut public = clap::Command::new("vmtop")
        .version(env!("CARGO_PKG_VERSION"))
        .args(cmd.get_arguments().cloned())
        .subcommands(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    clap_complete::generate(shell, &mut public, "vmtop", &mut std::io::stdout());
    Ok(exit::OK)
}

fn lab(args: LabArgs) -> anyhow::Result<i32> {
    if args.list_kernels {
        return list_lab_kernels();
    }
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    // $VMTOP_LAB_KERNEL only picks among fetched kernels: --kernel/--kdir override it.
    let kernel_release = match args.kernel_release {
        Some(p) => Some((p, crate::lab::ReleaseFrom::Flag)),
        // ... and so does --arch: the variable names a kernel of the default architecture.
        None if args.kernel.is_none() && args.kdir.is_none() && args.arch.is_none() => {
            std::env::var(crate::lab::kernel::KERNEL_ENV)
                .ok()
                .filter(|p| !p.is_empty())
                .map(|p| (p, crate::lab::ReleaseFrom::Env))
        }
        None => None,
    };
    let opts = crate::lab::LabOptions {
        mem_mib: args.mem.unwrap_or(args.root.default_mem_mib()),
        root: args.root,
        cpus: args.cpus,
        kernel: args.kernel,
        kdir: args.kdir,
        kernel_release,
        arch: args.arch,
        accel: args.accel,
        append: args.append,
        exec: args.exec.clone(),
        timeout: args.timeout,
        rows,
        cols,
        vmtop_args: args.vmtop_args,
        files: args.copy,
        ..Default::default()
    };
    if opts.exec.is_some() {
        let mut stdout = std::io::stdout();
        let r = crate::lab::run_exec(&opts, &mut stdout)?;
        if args.json {
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::json!({
                    "status": r.status,
                    "boot_to_exit_s": r.boot_to_exit.as_secs_f64(),
                    "kernel": r.kernel,
                    "accel": r.accel.used.name(),
                    "accel_reason": r.accel.why,
                    "accel_probe_s": r.accel.probe.map(|d| d.as_secs_f64()),
                })
            );
        }
        Ok(r.status)
    } else {
        crate::lab::run_interactive(&opts)
    }
}

/// One kernel a line: release, architecture, image, headers; the one a plain `vmtop lab`
/// boots (with $VMTOP_LAB_KERNEL as it is set) is marked "default". Columns are separated
/// by tabs (paths may hold spaces).
fn list_lab_kernels() -> anyhow::Result<i32> {
    use crate::lab::kernel::{candidates, choose, KERNEL_ENV};
    let all = candidates();
    // No kernel at all: the same error as booting without one.
    choose(all.clone(), None)?;
    let env = std::env::var(KERNEL_ENV).ok().filter(|p| !p.is_empty());
    let default = choose(
        all.clone(),
        env.as_deref().map(|p| (p, crate::lab::ReleaseFrom::Env)),
    )
    .ok();
    let mut out = std::io::stdout().lock();
    for k in &all {
        let arch = k.arch().map_or("?", |a| a.name());
        let is_default = default.as_ref().is_some_and(|d| d.image == k.image);
        let mark = if is_default { "\tdefault" } else { "" };
        writeln!(
            out,
            "{}\t{arch}\t{}\t{}{mark}",
            k.release,
            k.image.display(),
            k.kdir.display()
        )
        .context("writing the kernel list")?;
    }
    Ok(exit::OK)
}

/// Rust ignores SIGPIPE, so `vmtop record | head` would end in an EPIPE error (or a panic
/// in println!). Printing commands end quietly instead, as `cat` does. Their output comes
/// after each kernel change (probe prints after unloading), so dying there leaves nothing
/// half-done. Not for the dashboard or the lab, which clean up on exit.
fn default_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: SIG_DFL installs no handler code; done before any thread is spawned.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v).context("encoding JSON")?;
    println!("{text}");
    Ok(())
}

/// Exit code for a failed event: its own for no module support and not permitted.
fn failure_code(e: &Event) -> i32 {
    match e.diagnosis().map(|d| d.cause) {
        Some(Cause::NoModuleSupport) => exit::NO_MODULE_SUPPORT,
        Some(Cause::NotPermitted) => exit::NOT_PERMITTED,
        _ => exit::FAILED,
    }
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
        Some(LoaderEnd::Errno(n)) => crate::diagnose::errno_name(n),
        Some(LoaderEnd::Refused(n)) => n.phrase().into(),
        Some(LoaderEnd::Cancelled) => "cancelled".into(),
        Some(LoaderEnd::Signal(s)) => match nix::sys::signal::Signal::try_from(s) {
            Ok(sig) => format!("the loader was killed by {sig}"),
            Err(_) => format!("the loader was killed by signal {s}"),
        },
        None => "refused".into(),
    }
}

/// "VmallocUsed +64.2 MiB, MemFree -65.0 MiB, MemAvailable -64.9 MiB".
pub fn delta_text(e: &Event) -> String {
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
fn engine_for(module: crate::cli::ModuleArgs) -> Engine {
    Engine::new(std::time::Instant::now(), module.module)
        .allow_unsafe_file(module.allow_unsafe_file)
}

fn load(req: LoadRequest, module: crate::cli::ModuleArgs, json: bool) -> anyhow::Result<i32> {
    let mut engine = engine_for(module);
    // TERM, INT or HUP while loading stop the loader (the module's init gives its buffer back
    // on the fatal signal); what happened is reported either way, never a silent half.
    let signalled = stop_loader_on_signals()?;
    let e = engine.load(&req);
    let stopped_by = match signalled.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        sig => Some(crate::diagnose::signal_name(sig)),
    };
    if let (Some(sig), false) = (&stopped_by, e.failed()) {
        eprintln!(
            "vmtop: {sig} arrived after the load had finished: {} stays loaded (vmtop unload frees it)",
            crate::module_file::MODULE_NAME
        );
    }
    // Where the held buffer's pages are (None from an older module, or when not loaded).
    let layout = (!e.failed()).then(crate::alloc::Layout::read).flatten();
    if json {
        print_json(&serde_json::json!({
            "event": &e,
            "alloc": req.alloc,
            "layout": layout,
            "errno": match engine.last_end() {
                Some(LoaderEnd::Errno(n)) => Some(n),
                _ => None,
            },
            "not_asked": match engine.last_end() {
                Some(LoaderEnd::Refused(n)) => Some(n),
                _ => None,
            },
            "signal": stopped_by,
            "error": e.failed().then(|| end_text(engine.last_end())),
            "asked_kernel": asked_kernel(&e, engine.last_end()),
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
                end_text(engine.last_end()),
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
                    crate::loader::cancel();
                }
            }
        })
        .context("starting the signal thread")?;
    Ok(got)
}

fn unload(json: bool) -> anyhow::Result<i32> {
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

fn status(module: crate::cli::ModuleArgs, json: bool) -> anyhow::Result<i32> {
    let engine = engine_for(module);
    let k = engine.kernel().clone();
    let st = engine.status()?;
    // One read of /proc/meminfo for every figure below.
    let sample = crate::meminfo::Sample::read().ok();
    let space = address_space(sample.as_ref());
    let module_file = engine.module_path().ok();
    // What `load` would say of the file (read through libkmod, compressed or not).
    let checked = engine.checked_module();
    let problem = match &checked {
        Err(p) if module_file.is_some() => Some(p.to_string()),
        _ => None,
    };
    let (format, vermagic) = match &checked {
        Ok((_, c)) => (Some(c.format), Some(c.vermagic.clone())),
        Err(_) => (None, None),
    };
    let code = if !k.module_support {
        exit::NO_MODULE_SUPPORT
    } else {
        exit::OK
    };
    if json {
        print_json(&serde_json::json!({
            "kernel": &k,
            "may_load": k.can_load(),
            "module": &st,
            "module_file": module_file,
            "module_file_format": format,
            "module_file_vermagic": vermagic,
            "module_file_problem": problem,
            "meminfo": sample,
            "address_space": &space,
        }))?;
        return Ok(code);
    }
    let p = &k.privileges;
    println!(
        "kernel {} ({}): {}, {} {} CAP_SYS_MODULE",
        k.release,
        k.machine,
        if k.module_support {
            "can load modules"
        } else {
            "built WITHOUT module support (no /proc/modules)"
        },
        if p.euid == 0 {
            "root".to_string()
        } else {
            format!("uid {}", p.euid)
        },
        if p.cap_sys_module { "with" } else { "without" }
    );
    if let Some(why) = k.why_read_only() {
        println!("loading is off: {why}");
    }
    if k.module_support {
        println!(
            "module signing: {}",
            crate::diagnose::signing_facts(&k.signing).join("; ")
        );
    }
    if k.module_support {
        if st.loaded {
            println!(
                "alloc_large_mem: loaded, memsize {} MiB, oom_safe {}, {} held, allocation {}, fill {}",
                st.memsize_mib.map_or("?".into(), |m| m.to_string()),
                st.oom_safe.map_or("?", |s| if s { "Y" } else { "N" }),
                st.bytes.map_or("?".into(), fmt_bytes),
                st.alloc_ns.map_or("?".into(), fmt_ns),
                st.fill_ns.map_or("?".into(), fmt_ns),
            );
        } else {
            println!("alloc_large_mem: not loaded");
        }
    }
    match (&module_file, &problem, format) {
        (Some(_), Some(why), _) => println!("module file: {why}"),
        (Some(p), None, Some(f)) => println!("module file: {} ({})", p.display(), f.name()),
        (Some(p), None, None) => println!("module file: {}", p.display()),
        (None, _, _) => println!("module file: none found (build it with `make module`, or install it with `make install`)"),
    }
    if let Some(s) = sample {
        println!(
            "MemTotal {}  MemFree {}  MemAvailable {}  VmallocUsed {}  VmallocTotal {}",
            fmt_bytes(s.mem_total),
            fmt_bytes(s.mem_free),
            fmt_bytes(s.available()),
            fmt_bytes(s.vmalloc_used),
            fmt_bytes(s.vmalloc_total)
        );
    }
    if let Some(g) = space.vmalloc_largest_free {
        println!(
            "largest free vmalloc range {} (VmallocChunk reads 0 since Linux 4.4; from /proc/vmallocinfo)",
            fmt_bytes(g)
        );
    }
    if let (Some(lt), Some(ht)) = (space.low_total, space.high_total) {
        println!(
            "LowTotal {}  HighTotal {}: lowmem and the vmalloc window share the kernel's top gigabyte (vmalloc=SIZE trades one for the other)",
            fmt_bytes(lt),
            fmt_bytes(ht)
        );
    }
    Ok(code)
}

fn replay(json: bool) -> anyhow::Result<i32> {
    let machines = crate::replay::run(&mut |l| eprintln!("vmtop replay: {l}"))?;
    if json {
        print_json(&serde_json::json!({ "machines": machines }))?;
    } else {
        print!("{}", crate::ui::replay::render(&machines));
    }
    Ok(exit::OK)
}

/// The vmalloc address space and, on 32-bit kernels with highmem, the memory split that
/// shares the top of the address space with it (a bigger vmalloc= means less lowmem).
#[derive(serde::Serialize)]
struct AddressSpace {
    vmalloc_total: Option<u64>,
    vmalloc_used: Option<u64>,
    /// Largest free range of the vmalloc area (/proc/vmallocinfo, root only); VmallocChunk
    /// reads 0 since Linux 4.4.
    vmalloc_largest_free: Option<u64>,
    low_total: Option<u64>,
    low_free: Option<u64>,
    high_total: Option<u64>,
    high_free: Option<u64>,
}

fn address_space(m: Option<&crate::meminfo::Sample>) -> AddressSpace {
    let h = m.and_then(|m| m.highmem);
    AddressSpace {
        vmalloc_total: m.map(|m| m.vmalloc_total),
        vmalloc_used: m.map(|m| m.vmalloc_used),
        vmalloc_largest_free: m.and_then(|m| crate::vmallocinfo::largest_free_now(m.vmalloc_total)),
        low_total: h.map(|h| h.low_total()),
        low_free: h.map(|h| h.low_free()),
        high_total: h.map(|h| h.high_total()),
        high_free: h.map(|h| h.high_free()),
    }
}

/// Why a run of loads (`what`: "probe", "compare") cannot start here: its one-line message is
/// printed and the exit code returned; None when it can start.
fn refusal(engine: &Engine, what: &str) -> anyhow::Result<Option<i32>> {
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

fn probe(
    from: u64,
    to: Option<u64>,
    precision: u64,
    strategy: crate::probe::Strategy,
    module: crate::cli::ModuleArgs,
    json: bool,
) -> anyhow::Result<i32> {
    // A range that is empty as given is a usage error on any machine: say so first.
    if let Some(to) = to.filter(|t| from > *t) {
        eprintln!("vmtop: probe range is empty: --from {from} MiB is above --to {to} MiB: give --from at most --to");
        return Ok(exit::USAGE);
    }
    let mut engine = engine_for(module);
    if let Some(code) = refusal(&engine, "probe")? {
        return Ok(code);
    }
    let cap = crate::probe::cap_mib(crate::meminfo::Sample::read()?.mem_total);
    // Above MemTotal the kernel refuses at once: trying costs a load and says nothing.
    let requested = to.filter(|t| *t > cap);
    let given = to;
    let to = to.unwrap_or(cap).min(cap);
    if from > to {
        if given.is_none_or(|t| t > cap) {
            eprintln!(
                "vmtop: probe range is empty: --from {from} MiB is above MemTotal ({cap} MiB), and vmalloc() refuses more than all RAM: use a smaller --from"
            );
        } else {
            eprintln!("vmtop: probe range is empty: --from {from} MiB is above --to {to} MiB");
        }
        return Ok(exit::USAGE);
    }
    let cap_reason = requested.map(|_| crate::probe::CAP_REASON);
    let figures = crate::probe::figures_now(None).ok();
    let first = match strategy {
        crate::probe::Strategy::Estimate => figures.as_ref().map(crate::probe::estimate),
        crate::probe::Strategy::Bisect => None,
    };
    let plan = crate::probe::Plan {
        from,
        to,
        precision,
        strategy,
        estimate: first,
    };
    let bound = crate::probe::max_attempts(from, to, precision);
    if !json {
        if let (Some(t), Some(why)) = (requested, &cap_reason) {
            println!("--to {t} MiB capped to MemTotal, {to} MiB: {why}");
        }
        println!(
            "probing {from}..{to} MiB to within {precision} MiB (safe mode, at most {bound} loads)"
        );
        if let (Some(e), Some(f)) = (first, &figures) {
            // Named where it is the limit (32-bit kernels), not where it is petabytes.
            let space = f
                .largest_free
                .filter(|b| b / crate::units::MIB <= e + 1)
                .map(|b| format!(", and the largest free vmalloc range is {}", fmt_bytes(b)))
                .unwrap_or_default();
            println!(
                "first guess {e} MiB: {} available (MemAvailable and the per-CPU free lists) less the {} reserve{space}",
                fmt_bytes(f.available_kib * 1024),
                fmt_bytes(f.reserve_kib * 1024),
            );
        }
    }
    // Both callbacks read the load events: the attempt's line names its outcome.
    let events: std::cell::RefCell<Vec<Event>> = Default::default();
    let result = crate::probe::run(
        &mut engine,
        &plan,
        true,
        |e| {
            if e.kind == crate::engine::EventKind::Load {
                events.borrow_mut().push(e.clone());
            }
        },
        |a| {
            if json {
                return;
            }
            let events = events.borrow();
            let why = match events.last() {
                Some(e) => match e.diagnosis() {
                    Some(d) => format!("failed: {}", d.summary),
                    None => format!("loaded ({})", delta_text(e)),
                },
                None => String::new(),
            };
            let step = match a.step {
                crate::probe::Step::Estimate => "the estimate",
                crate::probe::Step::Margin => "a margin past what is known",
                crate::probe::Step::Bound => "an end of the range",
                crate::probe::Step::Guarded => {
                    "toward the estimate, as far as the bound on loads allows"
                }
                crate::probe::Step::Bisect => "halfway",
            };
            println!("attempt {}: {} MiB ({step}) {why}", a.index, a.size);
        },
    );
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vmtop: probe stopped: {e:#}");
            return Ok(exit::FAILED);
        }
    };
    let events = events.into_inner();
    // Which limit bound the answer: the diagnosis of the smallest size that failed (the
    // vmalloc address space on 32-bit kernels, memory elsewhere), with its figures.
    let bound_by = result.smallest_failed.and_then(|bad| {
        events
            .iter()
            .rev()
            .find(|e| e.memsize_mib == bad)
            .and_then(|e| e.diagnosis())
    });
    if json {
        print_json(&serde_json::json!({
            "from_mib": from, "to_mib": to, "precision_mib": precision,
            "to_requested_mib": requested,
            "to_cap_reason": cap_reason,
            "mem_total_mib": cap,
            "strategy": strategy,
            "figures": figures,
            "first_estimate_mib": first,
            "largest_ok_mib": result.largest_ok,
            "smallest_failed_mib": result.smallest_failed,
            "bound_by": bound_by.map(|d| d.cause),
            "bound_confidence": bound_by.map(|d| d.confidence),
            "bound_summary": bound_by.map(|d| d.summary.as_str()),
            "loads": result.attempts.len(),
            "max_loads": bound,
            "attempts": &result.attempts,
            "events": &events,
        }))?;
    } else {
        match (result.largest_ok, result.smallest_failed) {
            (None, _) => println!("nothing loads: even {from} MiB failed"),
            (Some(ok), None) if requested.is_some() => {
                println!("{ok} MiB loads: everything up to MemTotal loads")
            }
            (Some(ok), None) => {
                println!("{ok} MiB loads: the limit is above the probed range (try a larger --to)")
            }
            (Some(ok), Some(bad)) => {
                println!(
                    "largest memsize that loads: {ok} MiB ({bad} MiB failed); {} loads",
                    result.attempts.len()
                );
                if let Some(d) = bound_by {
                    println!("the limit: {} ({:?})", d.summary, d.confidence);
                }
            }
        }
    }
    Ok(if result.largest_ok.is_some() {
        exit::OK
    } else {
        exit::FAILED
    })
}

fn record(
    duration: std::time::Duration,
    interval: std::time::Duration,
    format: crate::cli::RecordFormat,
    out: Option<std::path::PathBuf>,
    json: bool,
) -> anyhow::Result<i32> {
    use crate::record::Format;
    let format = match format {
        crate::cli::RecordFormat::Csv => Format::Csv,
        crate::cli::RecordFormat::Jsonl => Format::Jsonl,
    };
    let mut w: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let sampler = crate::meminfo::Sampler::new();
    crate::record::write_header(&mut w, format).context("writing the record header")?;
    let (mut points, mut gaps) = (0u64, 0u64);
    let start = std::time::Instant::now();
    let mut next = start;
    while start.elapsed() <= duration {
        let p = sampler.sample();
        gaps += u64::from(p.sample.is_none());
        points += 1;
        crate::record::write_point(&mut w, format, &p).context("writing a sample")?;
        w.flush().context("flushing the record output")?;
        // Fixed schedule: a slow read does not shift later samples.
        next += interval;
        let now = std::time::Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    if json {
        eprintln!(
            "{}",
            serde_json::json!({"points": points, "gaps": gaps, "interval_ms": interval.as_millis() as u64})
        );
    }
    Ok(exit::OK)
}

fn dashboard(args: crate::cli::DashboardArgs) -> anyhow::Result<i32> {
    crate::dashboard::run(crate::dashboard::DashboardOptions::from_args(args))?;
    Ok(exit::OK)
}
