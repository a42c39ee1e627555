//! Talking to the kernel through libkmod (the `kmod` crate), in the helper `vmtop-kmod`.
//!
//! vmtop itself never links libkmod: the distribution's library maps libcrypto, libzstd and
//! liblzma, and relocating libcrypto alone costs a process ~1.4 MiB (tests/bench.sh, PSS).
//! Every libkmod call (insert, remove, lookup of the installed module, .modinfo) runs in the
//! helper binary `vmtop-kmod` (tui/src/bin/vmtop-kmod.rs), started for that one call. For
//! inserting, that is also what keeps the dashboard safe: in unsafe mode the OOM killer kills
//! the process that called init_module, and the helper makes itself its first choice.
//! Whether the module is loaded, and its parameters and results, are read from /proc/modules
//! and /sys/module directly (what libkmod reads too).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context as _;

pub mod protocol;

use protocol::Call;

/// How a load attempt in the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    Loaded,
    /// Stopped by `cancel` (killed, or never started).
    Cancelled,
    /// init_module/finit_module failed with this errno.
    Errno(i32),
    /// The child was killed by this signal (SIGKILL from the OOM killer, typically).
    Signal(i32),
}

/// Where the helper is: `$VMTOP_KMOD_HELPER`, beside this executable (a build tree, or
/// `make install`'s bin folder), or in `../libexec/vmtop/` from it.
pub fn helper_path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os(crate::env::KMOD_HELPER).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("finding the vmtop binary")?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let dir = exe.parent().unwrap_or(Path::new("/"));
    let candidates = [
        dir.join(protocol::HELPER),
        dir.join("../libexec/vmtop").join(protocol::HELPER),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .with_context(|| {
            format!(
                "vmtop's libkmod helper {} is missing (looked in {}): reinstall vmtop (`make install`)",
                protocol::HELPER,
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// What one helper run produced.
#[derive(Debug)]
struct HelperRun {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
    pid: u32,
}

impl HelperRun {
    /// The errno a failed call reported.
    fn errno(&self) -> Option<i32> {
        self.stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(protocol::ERRNO_MARKER))
            .and_then(|n| n.parse().ok())
    }
}

/// The insert helper running now (its pid), and whether loads are cancelled: set once by
/// `cancel`, for the rest of the process (a dashboard quitting, `vmtop load` signalled).
struct Running {
    pid: Option<u32>,
    cancelled: bool,
}

static RUNNING: std::sync::Mutex<Running> = std::sync::Mutex::new(Running {
    pid: None,
    cancelled: false,
});

fn running() -> std::sync::MutexGuard<'static, Running> {
    // A panic while holding it leaves plain data behind: still usable.
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stop the insert helper running now, if any, and refuse every later insert: the helper is
/// killed (SIGKILL), so the module's init sees a fatal signal, gives its buffer back and fails
/// with EINTR (a load whose init already returned stays loaded). Any thread may call it;
/// the pid cannot be reused meanwhile: the waiter reaps the helper only after clearing it.
pub fn cancel() {
    let mut r = running();
    r.cancelled = true;
    if let Some(pid) = r.pid {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// `cancel` from a panic hook: never waits for the lock (the panicking thread may hold it).
pub fn cancel_from_panic() {
    if let Ok(mut r) = RUNNING.try_lock() {
        r.cancelled = true;
        if let Some(pid) = r.pid {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Whether `cancel` was called.
pub fn cancelled() -> bool {
    running().cancelled
}

/// Wait until `pid` has exited without reaping it (waitid WNOWAIT), so that its pid stays
/// taken until `RUNNING` no longer names it.
fn wait_exited(pid: u32) {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child with a valid siginfo_t pointer.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

/// The helper found is from another build of vmtop: it refused the call's protocol, or did
/// not understand the call at all (a helper older than the protocol's version).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is from another build of vmtop ({}; this vmtop speaks protocol {}): install vmtop and vmtop-kmod together (`make install`), or point VMTOP_KMOD_HELPER at the vmtop-kmod built with this vmtop", helper.display(), match theirs {
    Some(v) => format!("it speaks protocol {v}"),
    None => "it does not understand this vmtop's calls".to_string(),
}, protocol::PROTOCOL)]
pub struct Mismatch {
    pub helper: PathBuf,
    /// The helper's protocol, when it named it.
    pub theirs: Option<String>,
}

/// Run the helper for `call`. An `insert` is registered as the running loader, so `cancel`
/// can stop it, and refused (None) once loads are cancelled.
fn run_helper(call: &Call) -> anyhow::Result<Option<HelperRun>> {
    run_helper_at(&helper_path()?, call)
}

/// `run_helper` with the helper at `helper`.
fn run_helper_at(helper: &Path, call: &Call) -> anyhow::Result<Option<HelperRun>> {
    use std::io::Read as _;
    use std::os::unix::process::CommandExt as _;
    let insert = matches!(call, Call::Insert { .. });
    let mut cmd = Command::new(helper);
    // stderr is captured, never inherited: libkmod's own messages must not land on a
    // terminal the dashboard is drawing on.
    cmd.args(call.args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let parent = std::process::id();
    // SAFETY: only async-signal-safe calls (prctl, setpgid, getppid, _exit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Nothing outlives vmtop: the helper dies with the thread that started it. Its
            // own process group: a Ctrl-C at the terminal reaches vmtop, which decides.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            libc::setpgid(0, 0);
            if libc::getppid() as u32 != parent {
                libc::_exit(127);
            }
            Ok(())
        });
    }
    let mut child = {
        let mut r = running();
        if insert && r.cancelled {
            return Ok(None);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", helper.display()))?;
        if insert {
            r.pid = Some(child.id());
        }
        child
    };
    let pid = child.id();
    let mut stderr_pipe = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = stderr_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let mut stdout = Vec::new();
    if let Some(p) = child.stdout.as_mut() {
        let _ = p.read_to_end(&mut stdout);
    }
    wait_exited(pid);
    if insert {
        running().pid = None;
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for {} (pid {pid})", helper.display()))?;
    let stderr = stderr_reader.join().unwrap_or_default();
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    if matches!(
        status.code(),
        Some(protocol::EXIT_PROTOCOL | protocol::EXIT_USAGE)
    ) {
        return Err(Mismatch {
            helper: helper.to_path_buf(),
            theirs: stdout
                .lines()
                .find_map(|l| l.trim().strip_prefix(protocol::PROTOCOL_MARKER))
                .map(str::to_string),
        }
        .into());
    }
    Ok(Some(HelperRun {
        status,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        pid,
    }))
}

/// Run a helper call that is never refused (anything but `insert`).
fn run_plain(call: &Call) -> anyhow::Result<HelperRun> {
    run_helper(call)?.context("vmtop-kmod: call refused")
}

/// Ok, or the errno the helper reported; anything else (the helper crashed, could not
/// start) is an error with its output.
fn errno_result(run: &HelperRun, what: &str) -> anyhow::Result<Result<(), i32>> {
    if run.status.success() {
        return Ok(Ok(()));
    }
    match run.errno() {
        Some(e) if run.status.code() == Some(protocol::EXIT_FAILED) => Ok(Err(e)),
        _ => anyhow::bail!(
            "{what}: {} ended ({}) without reporting an errno: {}",
            protocol::HELPER,
            run.status,
            format!("{}{}", run.stdout, run.stderr).trim()
        ),
    }
}

/// Insert the module from a child process and report how it ended, with the child's pid
/// (the OOM killer's log names it).
pub fn insert_in_child(path: &Path, params: &[String]) -> anyhow::Result<(ChildEnd, u32)> {
    give_back_free_heap();
    let call = Call::Insert {
        path: path.to_path_buf(),
        params: params.to_vec(),
    };
    let Some(run) = run_helper(&call)? else {
        return Ok((ChildEnd::Cancelled, 0));
    };
    use std::os::unix::process::ExitStatusExt as _;
    if let Some(sig) = run.status.signal() {
        if sig == libc::SIGKILL && cancelled() {
            return Ok((ChildEnd::Cancelled, run.pid));
        }
        return Ok((ChildEnd::Signal(sig), run.pid));
    }
    let end = match errno_result(&run, &format!("loading {}", path.display()))? {
        Ok(()) => ChildEnd::Loaded,
        Err(e) => ChildEnd::Errno(e),
    };
    Ok((end, run.pid))
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

/// Remove module `name`. Errors carry the errno (EIO: the helper failed without one), or
/// say that the helper is from another build.
pub fn remove(name: &str) -> Result<Result<(), i32>, Mismatch> {
    let call = Call::Remove {
        name: name.to_string(),
    };
    match run_plain(&call) {
        Ok(run) => Ok(errno_result(&run, "unloading").unwrap_or(Err(libc::EIO))),
        Err(e) => match e.downcast::<Mismatch>() {
            Ok(m) => Err(m),
            Err(_) => Ok(Err(libc::EIO)),
        },
    }
}

/// The files modprobe would load for module `name` (modules.dep of the running kernel):
/// none when the helper cannot tell, or an error when it is from another build.
pub fn lookup(name: &str) -> Result<Vec<PathBuf>, Mismatch> {
    let call = Call::Lookup {
        name: name.to_string(),
    };
    match run_plain(&call) {
        Ok(run) if run.status.success() => Ok(run
            .stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect()),
        Ok(_) => Ok(Vec::new()),
        Err(e) => match e.downcast::<Mismatch>() {
            Ok(m) => Err(m),
            Err(_) => Ok(Vec::new()),
        },
    }
}

/// The module file's `.modinfo` as (key, value) pairs, read by libkmod (which decompresses
/// .ko.xz / .ko.zst / .ko.gz the way it does when it loads them). `Ok(Err(errno))`: libkmod
/// could not read the file; `Err`: the helper could not be run at all.
pub fn modinfo(path: &Path) -> anyhow::Result<Result<Vec<(String, String)>, i32>> {
    let run = run_plain(&Call::Modinfo {
        path: path.to_path_buf(),
    })?;
    if let Err(errno) = errno_result(&run, "reading .modinfo")? {
        return Ok(Err(errno));
    }
    Ok(Ok(run
        .stdout
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A helper that is a shell script printing `stdout` and exiting with `code`.
    fn fake_helper(name: &str, stdout: &str, code: i32) -> (PathBuf, PathBuf) {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("vmtop-helper-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let p = dir.join(protocol::HELPER);
        std::fs::write(
            &p,
            format!("#!/bin/sh\nprintf '%s' '{stdout}'\necho 'usage: ...' >&2\nexit {code}\n"),
        )
        .expect("write the fake helper");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        (dir, p)
    }

    fn modinfo_call() -> Call {
        Call::Modinfo {
            path: "/nonexistent/alloc_large_mem.ko".into(),
        }
    }

    #[test]
    fn a_helper_from_another_build_is_named_as_such() {
        // A helper from before the protocol's version answers the call with its usage (2).
        let (dir, old) = fake_helper("old", "", protocol::EXIT_USAGE);
        let e = run_helper_at(&old, &modinfo_call()).expect_err("refused");
        let m = e.downcast_ref::<Mismatch>().expect("a mismatch");
        assert_eq!(m.theirs, None);
        let text = m.to_string();
        assert!(text.contains("another build of vmtop"), "{text}");
        assert!(text.contains("make install"), "{text}");
        assert!(!text.contains("usage"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
        // A helper of another protocol names its own.
        let (dir, other) = fake_helper(
            "other",
            &format!("{}7\n", protocol::PROTOCOL_MARKER),
            protocol::EXIT_PROTOCOL,
        );
        let e = run_helper_at(&other, &modinfo_call()).expect_err("refused");
        let m = e.downcast_ref::<Mismatch>().expect("a mismatch");
        assert_eq!(m.theirs.as_deref(), Some("7"));
        assert!(m.to_string().contains("it speaks protocol 7"), "{m}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_call_reports_its_errno() {
        let (dir, h) = fake_helper(
            "errno",
            &format!("{}{}\n", protocol::ERRNO_MARKER, libc::ENOEXEC),
            protocol::EXIT_FAILED,
        );
        let run = run_helper_at(&h, &modinfo_call())
            .expect("ran")
            .expect("not refused");
        assert_eq!(
            errno_result(&run, "reading").expect("an errno"),
            Err(libc::ENOEXEC)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
