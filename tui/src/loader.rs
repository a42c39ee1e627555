//! Talking to the kernel through libkmod (the `kmod` crate): insert, remove, status.
//!
//! Inserting runs in a child process: in unsafe mode the OOM killer kills the process that
//! called init_module, and that must not be the dashboard. A single-threaded caller (the
//! CLI commands) forks; the child shares the parent's pages, so the loader adds almost no
//! memory of its own, and `vmtop probe` finds nearly the same limit as insmod by hand.
//! A multi-threaded caller (the dashboard) must not fork without exec, so it re-executes
//! itself as `vmtop __load-child`.
//!
//! libkmod is the distribution's shared library: it reads compressed modules (.ko.xz,
//! .ko.zst) and gets the distribution's security fixes.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context as _;

use crate::engine::ModuleStatus;
use crate::module_file::MODULE_NAME;

/// How a load attempt in the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    Loaded,
    /// init_module/finit_module failed with this errno.
    Errno(i32),
    /// The child was killed by this signal (SIGKILL from the OOM killer, typically).
    Signal(i32),
}

/// Marker the child prints so the parent can tell an errno from any other exit.
const ERRNO_MARKER: &str = "vmtop-load-errno=";

/// Insert the module in this process. Only for the child (and busybox-free tests).
pub fn insert_here(path: &Path, params: &str) -> Result<(), i32> {
    let ctx = kmod::Context::new().map_err(|_| libc_errno_or(nix::errno::Errno::ENOMEM))?;
    let m = ctx.module_new_from_path(path).map_err(|e| match e {
        kmod::Error::ModuleFromPath(errno) => errno.0,
        _ => nix::errno::Errno::ENOENT as i32,
    })?;
    let opts: Vec<&str> = params.split_whitespace().collect();
    m.insert_module(0, &opts).map_err(|e| match e {
        kmod::Error::InsertModule(errno) => errno.0,
        _ => nix::errno::Errno::EIO as i32,
    })
}

fn libc_errno_or(default: nix::errno::Errno) -> i32 {
    match nix::errno::Errno::last() {
        nix::errno::Errno::UnknownErrno => default as i32,
        e => e as i32,
    }
}

/// Body of `vmtop __load-child`: make this process the OOM killer's first choice,
/// insert, and report the errno on stdout.
pub fn child_main(path: &Path, params: &str) -> i32 {
    load_as_child(path, params, &mut std::io::stdout())
}

/// What a loader child does, forked or re-executed: make itself the OOM killer's first
/// choice (failure to is not fatal), insert, and report an errno to `report`.
fn load_as_child(path: &Path, params: &str, report: &mut dyn std::io::Write) -> i32 {
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    match insert_here(path, params) {
        Ok(()) => 0,
        Err(errno) => {
            let _ = writeln!(report, "{ERRNO_MARKER}{errno}");
            let _ = report.flush();
            1
        }
    }
}

/// Insert the module from a child process and report how it ended, with the child's pid
/// (the OOM killer's log names it).
pub fn insert_in_child(path: &Path, params: &str) -> anyhow::Result<(ChildEnd, u32)> {
    give_back_free_heap();
    if single_threaded() {
        insert_in_fork(path, params)
    } else {
        insert_in_exec(path, params)
    }
}

/// Return the heap pages malloc keeps for reuse to the kernel before asking it for memory:
/// at the edge every page this process holds is a page the module cannot have, and
/// `vmtop probe` is compared with insmod run from a bare shell.
fn give_back_free_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only walks glibc's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Only one thread in this process (so fork without exec is safe).
fn single_threaded() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<u32>().ok())
        })
        == Some(1)
}

fn insert_in_fork(path: &Path, params: &str) -> anyhow::Result<(ChildEnd, u32)> {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};
    use std::io::Read as _;
    let (rd, wr) = nix::unistd::pipe().context("creating the pipe to the loader")?;
    // SAFETY: this process has one thread (checked by the caller), so the child may run
    // anything, as after a fork in a plain C program; it leaves with _exit.
    match unsafe { fork() }.context("forking the loader")? {
        ForkResult::Child => {
            drop(rd);
            let code = load_as_child(path, params, &mut std::fs::File::from(wr));
            // SAFETY: _exit ends the child without running the parent's exit handlers.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(wr);
            let mut text = String::new();
            let _ = std::fs::File::from(rd).read_to_string(&mut text);
            let pid = child.as_raw() as u32;
            let status = loop {
                match waitpid(child, None) {
                    Err(nix::errno::Errno::EINTR) => continue,
                    r => break r.with_context(|| format!("waiting for the loader (pid {pid})"))?,
                }
            };
            match status {
                WaitStatus::Signaled(_, sig, _) => Ok((ChildEnd::Signal(sig as i32), pid)),
                WaitStatus::Exited(_, 0) => Ok((ChildEnd::Loaded, pid)),
                other => Ok((parse_errno(&text, &format!("{other:?}"))?, pid)),
            }
        }
    }
}

/// The errno a failed loader reported on its output.
fn parse_errno(text: &str, status: &str) -> anyhow::Result<ChildEnd> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(ERRNO_MARKER))
        .and_then(|n| n.parse::<i32>().ok())
        .map(ChildEnd::Errno)
        .with_context(|| {
            format!(
                "the loader ended ({status}) without reporting an errno: {}",
                text.trim()
            )
        })
}

fn insert_in_exec(path: &Path, params: &str) -> anyhow::Result<(ChildEnd, u32)> {
    let exe = std::env::current_exe().context("finding the vmtop binary to run the loader")?;
    let child = Command::new(&exe)
        .arg("__load-child")
        .arg("--path")
        .arg(path)
        .arg("--params")
        .arg(params)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting the loader {} __load-child", exe.display()))?;
    let pid = child.id();
    let out = child
        .wait_with_output()
        .with_context(|| format!("waiting for the loader (pid {pid})"))?;
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = out.status.signal() {
        return Ok((ChildEnd::Signal(sig), pid));
    }
    if out.status.success() {
        return Ok((ChildEnd::Loaded, pid));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok((parse_errno(&text, &out.status.to_string())?, pid))
}

/// Remove the module. Errors carry the errno.
pub fn remove() -> Result<(), i32> {
    let ctx = kmod::Context::new().map_err(|_| nix::errno::Errno::ENOMEM as i32)?;
    let m = ctx
        .module_new_from_name(MODULE_NAME)
        .map_err(|_| nix::errno::Errno::ENOENT as i32)?;
    m.remove_module(0).map_err(|e| match e {
        kmod::Error::RemoveModule(errno) => errno.0,
        _ => nix::errno::Errno::EIO as i32,
    })
}

/// Is the module loaded? Read through libkmod's list of loaded modules.
pub fn is_loaded() -> anyhow::Result<bool> {
    let ctx = kmod::Context::new().context("creating a libkmod context")?;
    let loaded = ctx
        .modules_loaded()
        .context("listing loaded modules (/proc/modules)")?;
    Ok(loaded.into_iter().any(|m| m.name() == MODULE_NAME))
}

fn sysfs_value<T: std::str::FromStr>(rel: &str) -> Option<T> {
    let p = Path::new("/sys/module").join(MODULE_NAME).join(rel);
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// The module's state as the kernel reports it (parameters and results from sysfs).
pub fn status() -> anyhow::Result<ModuleStatus> {
    if !is_loaded()? {
        return Ok(ModuleStatus::default());
    }
    Ok(ModuleStatus {
        loaded: true,
        memsize_mib: sysfs_value("parameters/memsize"),
        oom_safe: sysfs_value::<String>("parameters/oom_safe").map(|s| s == "Y"),
        fill: sysfs_value("parameters/fill"),
        bytes: sysfs_value("results/bytes"),
        alloc_ns: sysfs_value("results/alloc_ns"),
        fill_ns: sysfs_value("results/fill_ns"),
    })
}
