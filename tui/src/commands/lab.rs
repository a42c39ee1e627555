//! `vmtop lab`: the sandbox VM, interactive or `--exec`, and `--list-kernels`.

use std::io::Write;

use anyhow::Context as _;

use crate::cli::{exit, LabArgs};
use crate::lab::LabOptions;

/// The terminal size the VM's console gets when this one's is unknown: columns, rows.
const DEFAULT_SIZE: (u16, u16) = (80, 24);

/// The VM `args` ask for, its console `size` (columns, rows) columns wide. The release
/// prefix comes from `--kernel-release` only (`lab` adds `$VMTOP_LAB_KERNEL`).
pub(super) fn options(args: LabArgs, size: (u16, u16)) -> LabOptions {
    LabOptions {
        mem_mib: args.mem.unwrap_or(args.root.default_mem_mib()),
        root: args.root,
        cpus: args.cpus,
        kernel: args.kernel,
        kdir: args.kdir,
        kernel_release: args
            .kernel_release
            .map(|p| (p, crate::lab::ReleaseFrom::Flag)),
        arch: args.arch,
        accel: args.accel,
        append: args.append,
        exec: args.exec,
        timeout: args.timeout,
        cols: size.0,
        rows: size.1,
        vmtop_args: args.vmtop_args,
        vmtop: None,
        files: args.copy,
        swap_mib: args.swap.unwrap_or(0),
        transcript: None,
    }
}

/// What `vmtop lab` with no options boots: the command line's defaults (`cli::LabArgs`),
/// the one place they are written.
pub(crate) fn defaults() -> LabOptions {
    use clap::Parser as _;
    match crate::cli::Cli::try_parse_from(["vmtop", "lab"]).map(|c| c.command) {
        Ok(Some(crate::cli::Cmd::Lab(args))) => options(args, DEFAULT_SIZE),
        other => {
            unreachable!("`vmtop lab` parses as the lab (cli::tests::cli_is_consistent): {other:?}")
        }
    }
}

pub(super) fn lab(args: LabArgs) -> anyhow::Result<i32> {
    if args.list_kernels {
        return list_lab_kernels();
    }
    let size = crossterm::terminal::size().unwrap_or(DEFAULT_SIZE);
    // $VMTOP_LAB_KERNEL only picks among fetched kernels: --kernel/--kdir override it,
    // ... and so does --arch: the variable names a kernel of the default architecture.
    let from_env = args.kernel_release.is_none()
        && args.kernel.is_none()
        && args.kdir.is_none()
        && args.arch.is_none();
    let json = args.json;
    let lesson = args.lesson.clone().map(|l| {
        (
            l,
            args.part,
            args.auto.then_some(args.step_delay),
            args.transcript.clone(),
        )
    });
    let mut opts = options(args, size);
    if from_env {
        opts.kernel_release = std::env::var(crate::lab::kernel::KERNEL_ENV)
            .ok()
            .filter(|p| !p.is_empty())
            .map(|p| (p, crate::lab::ReleaseFrom::Env));
    }
    if let Some((lesson, part, auto, transcript)) = lesson {
        return lesson_in_lab(lesson, part, auto, transcript, &opts);
    }
    if opts.exec.is_some() {
        let mut stdout = std::io::stdout();
        let r = crate::lab::run_exec(&opts, &mut stdout)?;
        if json {
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

/// `vmtop lab --lesson`: each part in its machine; the transcript gathered from every VM.
fn lesson_in_lab(
    lesson: String,
    part: Option<usize>,
    auto: Option<std::time::Duration>,
    transcript: Option<std::path::PathBuf>,
    base: &crate::lab::LabOptions,
) -> anyhow::Result<i32> {
    use std::io::IsTerminal as _;
    // A bad lesson is said before anything boots.
    let l = match crate::lesson::open(&lesson) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("vmtop: {e}");
            return Ok(exit::USAGE);
        }
    };
    if let Some(k) = part.filter(|k| !(1..=l.parts.len()).contains(k)) {
        eprintln!(
            "vmtop: --part {k}: {} has parts 1 to {}",
            l.source,
            l.parts.len()
        );
        return Ok(exit::USAGE);
    }
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !terminal && auto.is_none() {
        eprintln!("vmtop: a lesson runs in the dashboard, which needs a terminal: add --auto to run it unattended (one line per step)");
        return Ok(exit::USAGE);
    }
    let mut file = match &transcript {
        Some(p) => Some(
            std::fs::File::create(p)
                .with_context(|| format!("creating the transcript {}", p.display()))?,
        ),
        None => None,
    };
    let spec = crate::lesson::lab::LabLesson {
        arg: lesson,
        part: part.map(|k| k - 1),
        auto,
        unattended: !terminal,
    };
    let mut stdout = std::io::stdout();
    let runs = crate::lesson::lab::run(&spec, base, &mut stdout, &mut |records| {
        if let Some(f) = file.as_mut() {
            for r in records {
                writeln!(f, "{r}").context("writing the transcript")?;
            }
            f.flush().context("writing the transcript")?;
        }
        Ok(())
    })?;
    Ok(runs
        .iter()
        .map(|r| r.status)
        .find(|s| *s != 0)
        .unwrap_or(exit::OK))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `vmtop lab` alone, and the replay's VMs, boot with the defaults `vmtop lab --help`
    /// prints, read back from the clap definitions: every one of them.
    #[test]
    fn lab_defaults_match_the_cli() {
        use clap::ValueEnum as _;
        let d = crate::cli::tests::defaults_of(Some("lab"));
        let ids: Vec<&str> = d.keys().map(String::as_str).collect();
        assert_eq!(
            ids,
            ["accel", "cpus", "root", "step_delay", "timeout"],
            "an option with a default: check it here"
        );
        // --lesson --auto's pause between pages is `vmtop lesson`'s.
        assert_eq!(
            d["step_delay"],
            crate::cli::tests::defaults_of(Some("lesson"))["step_delay"]
        );
        let o = defaults();
        assert_eq!(o.cpus.to_string(), d["cpus"]);
        assert_eq!(
            o.timeout,
            crate::cli::parse_duration(&d["timeout"]).expect("timeout default")
        );
        let name = |v: Option<clap::builder::PossibleValue>| {
            v.map(|p| p.get_name().to_string()).unwrap_or_default()
        };
        assert_eq!(name(o.accel.to_possible_value()), d["accel"]);
        assert_eq!(name(o.root.to_possible_value()), d["root"]);
        // --mem's default follows the root; its help says so with the same figures.
        assert_eq!(o.mem_mib, o.root.default_mem_mib());
        let cli = <crate::cli::Cli as clap::CommandFactory>::command();
        let mem = cli
            .find_subcommand("lab")
            .and_then(|l| l.get_arguments().find(|a| a.get_id() == "mem"))
            .and_then(|a| a.get_long_help().or(a.get_help()))
            .expect("--mem is described")
            .to_string();
        for root in [crate::lab::Root::Busybox, crate::lab::Root::Debian] {
            let mib = root.default_mem_mib().to_string();
            assert!(mem.contains(&mib), "--mem's help names {mib}: {mem}");
        }
        assert_eq!((o.cols, o.rows), DEFAULT_SIZE);
        assert!(o.kernel_release.is_none() && o.exec.is_none() && o.files.is_empty());
    }
}
