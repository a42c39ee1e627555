//! `vmtop lab`: the sandbox VM, interactive or `--exec`, and `--list-kernels`.

use std::io::Write;

use anyhow::Context as _;

use crate::cli::{exit, LabArgs};

pub(super) fn lab(args: LabArgs) -> anyhow::Result<i32> {
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
