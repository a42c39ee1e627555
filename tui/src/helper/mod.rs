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

/// Run the helper with `args`. An `insert` is registered as the running loader, so `cancel`
/// can stop it, and refused (None) once loads are cancelled.
fn run_helper(args: &[&std::ffi::OsStr]) -> anyhow::Result<Option<HelperRun>> {
    use std::io::Read as _;
    use std::os::unix::process::CommandExt as _;
    let helper = helper_path()?;
    let insert = args.first().is_some_and(|a| *a == "insert");
    let mut cmd = Command::new(&helper);
    // stderr is captured, never inherited: libkmod's own messages must not land on a
    // terminal the dashboard is drawing on.
    cmd.args(args)
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
    Ok(Some(HelperRun {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        pid,
    }))
}

/// Run a helper call that is never refused (anything but `insert`).
fn run_plain(args: &[&std::ffi::OsStr]) -> anyhow::Result<HelperRun> {
    run_helper(args)?.context("vmtop-kmod: call refused")
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
    let mut args: Vec<&std::ffi::OsStr> = vec!["insert".as_ref(), path.as_os_str()];
    args.extend(params.iter().map(std::ffi::OsStr::new));
    let Some(run) = run_helper(&args)? else {
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

/// Remove module `name`. Errors carry the errno.
pub fn remove(name: &str) -> Result<(), i32> {
    match run_plain(&["remove".as_ref(), name.as_ref()]) {
        Ok(run) => errno_result(&run, "unloading").unwrap_or(Err(libc::EIO)),
        Err(_) => Err(libc::EIO),
    }
}

/// The files modprobe would load for module `name` (modules.dep of the running kernel).
pub fn lookup(name: &str) -> Vec<PathBuf> {
    match run_plain(&["lookup".as_ref(), name.as_ref()]) {
        Ok(run) if run.status.success() => run
            .stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// The module file's `.modinfo` as (key, value) pairs, read by libkmod (which decompresses
/// .ko.xz / .ko.zst / .ko.gz the way it does when it loads them). `Ok(Err(errno))`: libkmod
/// could not read the file; `Err`: the helper could not be run at all.
pub fn modinfo(path: &Path) -> anyhow::Result<Result<Vec<(String, String)>, i32>> {
    let run = run_plain(&["modinfo".as_ref(), path.as_os_str()])?;
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
