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
use std::time::Duration;

pub mod protocol;

/// How to get a matching helper back, for every message that says the helper is missing or
/// not answering.
pub(crate) const REINSTALL: &str =
    "`sudo apt install --reinstall vmtop` for the Debian package, `make install` from a checkout";

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

/// Why vmtop could not get an answer from its helper: each is one refusal of its own, never
/// shown as a problem of the module file or as an errno of the kernel's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not found where vmtop looks for it.
    #[error("vmtop's libkmod helper {} is missing (looked in {looked_in}): reinstall vmtop ({}), or build both binaries (`cargo build`)", protocol::HELPER, REINSTALL)]
    Missing { looked_in: String },
    /// Found, but someone other than root (or this vmtop's owner) could have changed it.
    #[error("refusing to run vmtop's libkmod helper as root: {0}")]
    Untrusted(crate::trust::Untrusted),
    /// From another build of vmtop: it refused the call's protocol, or did not understand the
    /// call at all (a helper older than the protocol's version).
    #[error("{} is from another build of vmtop ({}; this vmtop speaks protocol {}): install vmtop and vmtop-kmod together (`make install`), or point VMTOP_KMOD_HELPER at the vmtop-kmod built with this vmtop", helper.display(), match theirs {
        Some(v) => format!("it speaks protocol {v}"),
        None => "it does not understand this vmtop's calls".to_string(),
    }, protocol::PROTOCOL)]
    Mismatch {
        helper: PathBuf,
        /// The helper's protocol, when it named it.
        theirs: Option<String>,
    },
    /// It could not be started, or ended without an answer of the protocol (crashed, killed,
    /// printed something else).
    #[error("{} ({what}) {how}: {output}; reinstall vmtop ({})", helper.display(), REINSTALL)]
    Broken {
        helper: PathBuf,
        what: String,
        how: String,
        output: String,
    },
    /// It said it loaded the module (exit 0), and /proc/modules does not list it: vmtop
    /// believes the kernel (not vmtop's helper, another version, broken).
    #[error("{} said it loaded the module (exit 0), but {module} is not in /proc/modules, so it did not: vmtop reports it not loaded; reinstall vmtop ({}), or point VMTOP_KMOD_HELPER at the vmtop-kmod built with this vmtop", helper.display(), REINSTALL)]
    SaidLoaded { helper: PathBuf, module: String },
    /// The module file at `path` is not the one vmtop checked (re-pointed meanwhile).
    #[error("the module file {} changed after vmtop checked it (it is now the file {found}, not {checked}): nothing was read or loaded; run the command again", path.display())]
    Changed {
        path: PathBuf,
        checked: protocol::FileId,
        found: String,
    },
}

/// Where the helper is: `$VMTOP_KMOD_HELPER`, else the one `make install` put in
/// `../libexec/vmtop/` from this executable, else beside it (a build tree). It must pass the
/// ownership check of `trust` for code: as root, root's (or this vmtop's owner's), in folders
/// no one else can write to. So a `vmtop-kmod` planted beside an installed vmtop neither wins
/// over the installed one nor runs unchecked.
pub fn helper_path() -> Result<PathBuf, Problem> {
    let exe = std::env::current_exe().map_err(|e| Problem::Missing {
        looked_in: format!("the folder of this vmtop, which cannot be found ({e})"),
    })?;
    find_helper(
        std::env::var_os(crate::env::KMOD_HELPER),
        &exe,
        &crate::trust::Trust::current().code_owners(),
    )
}

/// `helper_path` for the value of `VMTOP_KMOD_HELPER` `env`, the vmtop binary `exe` and
/// the owners whose code may run.
fn find_helper(
    env: Option<std::ffi::OsString>,
    exe: &Path,
    owners: &[u32],
) -> Result<PathBuf, Problem> {
    if let Some(p) = env.filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        let what = format!("{}={}", crate::env::KMOD_HELPER, p.display());
        if !p.is_file() {
            return Err(Problem::Missing { looked_in: what });
        }
        return crate::trust::check_path(&p, owners, &what).map_err(Problem::Untrusted);
    }
    let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    let dir = exe.parent().unwrap_or(Path::new("/"));
    // The installed layout first: PREFIX/bin/vmtop with PREFIX/libexec/vmtop/vmtop-kmod.
    let candidates = [
        dir.join("../libexec/vmtop").join(protocol::HELPER),
        dir.join(protocol::HELPER),
    ];
    let Some(found) = candidates.iter().find(|p| p.is_file()) else {
        return Err(Problem::Missing {
            looked_in: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    crate::trust::check_path(found, owners, &found.display().to_string())
        .map_err(Problem::Untrusted)
}

/// What one helper run produced.
#[derive(Debug)]
struct HelperRun {
    /// The helper that ran.
    helper: PathBuf,
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
    pid: u32,
}

impl HelperRun {
    /// The errno a failed call reported: one marker line with a number, else none (two
    /// markers are a garbled answer, not the first of them).
    fn errno(&self) -> Option<i32> {
        let mut marks = self
            .stdout
            .lines()
            .filter_map(|l| l.trim().strip_prefix(protocol::ERRNO_MARKER));
        let first = marks.next()?;
        if marks.next().is_some() {
            return None;
        }
        first.parse().ok()
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
        sigkill(pid);
    }
}

/// SIGKILL to helper `pid` (not yet reaped, so the pid is still the helper's).
fn sigkill(pid: u32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// `cancel` from a panic hook: never waits for the lock (the panicking thread may hold it).
pub fn cancel_from_panic() {
    if let Ok(mut r) = RUNNING.try_lock() {
        r.cancelled = true;
        if let Some(pid) = r.pid {
            sigkill(pid);
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

/// Run the helper for `call`. An `insert` is registered as the running loader, so `cancel`
/// can stop it, and refused (None) once loads are cancelled.
fn run_helper(call: &Call) -> Result<Option<HelperRun>, Problem> {
    run_helper_at(&helper_path()?, call)
}

/// How long a call other than `insert` may take before the helper is killed and reported
/// broken: a lookup, a module's .modinfo or a removal (which frees the module's buffer) take
/// well under a second on hardware and a few in the TCG lab. An insert has no limit (a load
/// of gigabytes under memory pressure can take minutes); it can be cancelled instead.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// `run_helper` with the helper at `helper`.
fn run_helper_at(helper: &Path, call: &Call) -> Result<Option<HelperRun>, Problem> {
    run_helper_within(helper, call, CALL_TIMEOUT)
}

/// `run_helper_at`, a call other than `insert` killed after `timeout`.
fn run_helper_within(
    helper: &Path,
    call: &Call,
    timeout: Duration,
) -> Result<Option<HelperRun>, Problem> {
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
        let child = cmd.spawn().map_err(|e| Problem::Broken {
            helper: helper.to_path_buf(),
            what: call.verb().into(),
            how: "could not be started".into(),
            output: e.to_string(),
        })?;
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
    // A watchdog kills a helper that does not answer in time (not an insert). It can only
    // signal the helper before it is reaped (the pid stays taken until `child.wait`).
    let watchdog = (!insert).then(|| {
        let (done, rx) = std::sync::mpsc::channel::<()>();
        let dog = std::thread::spawn(move || {
            let fired = matches!(
                rx.recv_timeout(timeout),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout)
            );
            if fired {
                sigkill(pid);
            }
            fired
        });
        (done, dog)
    });
    let mut stdout = Vec::new();
    if let Some(p) = child.stdout.as_mut() {
        let _ = p.read_to_end(&mut stdout);
    }
    wait_exited(pid);
    // Dropping `done` tells the watchdog the helper has exited.
    let timed_out = watchdog.is_some_and(|(done, dog)| {
        drop(done);
        dog.join().unwrap_or(false)
    });
    if insert {
        running().pid = None;
    }
    let status = child.wait().map_err(|e| Problem::Broken {
        helper: helper.to_path_buf(),
        what: call.verb().into(),
        how: format!("(pid {pid}) could not be waited for"),
        output: e.to_string(),
    })?;
    let stderr = stderr_reader.join().unwrap_or_default();
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    if timed_out {
        return Err(Problem::Broken {
            helper: helper.to_path_buf(),
            what: call.verb().into(),
            how: format!(
                "(pid {pid}) did not answer within {} s and was killed",
                timeout.as_secs()
            ),
            output: format!("{stdout}{}", String::from_utf8_lossy(&stderr))
                .trim()
                .to_string(),
        });
    }
    if matches!(
        status.code(),
        Some(protocol::EXIT_PROTOCOL | protocol::EXIT_USAGE)
    ) {
        return Err(Problem::Mismatch {
            helper: helper.to_path_buf(),
            theirs: stdout
                .lines()
                .find_map(|l| l.trim().strip_prefix(protocol::PROTOCOL_MARKER))
                .map(str::to_string),
        });
    }
    if status.code() == Some(protocol::EXIT_CHANGED) {
        if let Call::Insert { path, id, .. } | Call::Modinfo { path, id } = call {
            return Err(Problem::Changed {
                path: path.clone(),
                checked: *id,
                found: stdout
                    .lines()
                    .find_map(|l| l.trim().strip_prefix(protocol::CHANGED_MARKER))
                    .unwrap_or("?")
                    .to_string(),
            });
        }
    }
    Ok(Some(HelperRun {
        helper: helper.to_path_buf(),
        status,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        pid,
    }))
}

/// Run a helper call that is never refused (anything but `insert`).
fn run_plain(call: &Call) -> Result<HelperRun, Problem> {
    let helper = helper_path()?;
    run_helper_at(&helper, call)?.ok_or_else(|| Problem::Broken {
        helper,
        what: call.verb().into(),
        how: "was not started".into(),
        output: "loads are cancelled".into(),
    })
}

/// Ok, or the errno the helper reported; anything else (it crashed, was killed, printed
/// something else) is a broken helper, with what it printed.
fn errno_result(run: &HelperRun, call: &Call) -> Result<Result<(), i32>, Problem> {
    if run.status.success() {
        return Ok(Ok(()));
    }
    match run.errno() {
        Some(e) if run.status.code() == Some(protocol::EXIT_FAILED) => Ok(Err(e)),
        _ => Err(Problem::Broken {
            helper: run.helper.clone(),
            what: call.verb().into(),
            how: format!("ended ({}) without reporting an errno", run.status),
            output: format!("{}{}", run.stdout, run.stderr).trim().to_string(),
        }),
    }
}

/// Insert the module file at `path` (canonical), which must be the file `id` vmtop checked,
/// from a child process, and report how it ended with the child's pid (the OOM killer's log
/// names it). A child killed by a signal is reported as such: whether the module loaded all
/// the same is for the caller to read in /proc/modules.
pub fn insert_in_child(
    path: &Path,
    id: protocol::FileId,
    params: &[String],
) -> Result<(ChildEnd, u32), Problem> {
    give_back_free_heap();
    let call = Call::Insert {
        path: path.to_path_buf(),
        id,
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
    let end = match errno_result(&run, &call)? {
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

/// Remove module `name`: Ok, or the errno delete_module gave; `Err` when the helper gave no
/// answer (missing, untrusted, from another build, broken).
pub fn remove(name: &str) -> Result<Result<(), i32>, Problem> {
    let call = Call::Remove {
        name: name.to_string(),
    };
    errno_result(&run_plain(&call)?, &call)
}

/// The files modprobe would load for module `name` (modules.dep of the running kernel):
/// none when it is not installed (libkmod's lookup failed with an errno); `Err` when the
/// helper gave no answer, so that a missing helper is never read as a missing module.
pub fn lookup(name: &str) -> Result<Vec<PathBuf>, Problem> {
    let call = Call::Lookup {
        name: name.to_string(),
    };
    let run = run_plain(&call)?;
    match errno_result(&run, &call)? {
        Ok(()) => Ok(run
            .stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect()),
        Err(_) => Ok(Vec::new()),
    }
}

/// The `.modinfo` of the module file at `path` (canonical), which must be the file `id`
/// vmtop checked, as (key, value) pairs read by libkmod (which decompresses .ko.xz / .ko.zst
/// / .ko.gz the way it does when it loads them). `Ok(Err(errno))`: libkmod could not read
/// the file; `Err`: the helper gave no answer, or the file is not the one checked.
pub fn modinfo(
    path: &Path,
    id: protocol::FileId,
) -> Result<Result<Vec<(String, String)>, i32>, Problem> {
    let call = Call::Modinfo {
        path: path.to_path_buf(),
        id,
    };
    let run = run_plain(&call)?;
    if let Err(errno) = errno_result(&run, &call)? {
        return Ok(Err(errno));
    }
    modinfo_pairs(&run, &call).map(Ok)
}

/// The helper's `KEY<TAB>VALUE` lines; any other line is a garbled answer (broken helper),
/// never dropped: a .modinfo read short would be misread as a file without `vermagic=`.
fn modinfo_pairs(run: &HelperRun, call: &Call) -> Result<Vec<(String, String)>, Problem> {
    run.stdout
        .lines()
        .map(|l| {
            l.split_once('\t')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| Problem::Broken {
                    helper: run.helper.clone(),
                    what: call.verb().into(),
                    how: "answered a line that is not KEY<TAB>VALUE".into(),
                    output: l.to_string(),
                })
        })
        .collect()
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
            id: protocol::FileId { dev: 1, ino: 2 },
        }
    }

    #[test]
    fn a_helper_from_another_build_is_named_as_such() {
        // A helper from before the protocol's version answers the call with its usage (2).
        let (dir, old) = fake_helper("old", "", protocol::EXIT_USAGE);
        let e = run_helper_at(&old, &modinfo_call()).expect_err("refused");
        let Problem::Mismatch { theirs, .. } = &e else {
            panic!("a mismatch: {e:?}")
        };
        assert_eq!(*theirs, None);
        let text = e.to_string();
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
        let Problem::Mismatch { theirs, .. } = &e else {
            panic!("a mismatch: {e:?}")
        };
        assert_eq!(theirs.as_deref(), Some("7"));
        assert!(e.to_string().contains("it speaks protocol 7"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A helper that does not answer is killed after the time allowed and reported broken
    /// (it is gone when the call returns).
    #[test]
    fn a_helper_that_hangs_is_killed_and_named() {
        use std::os::unix::fs::PermissionsExt as _;
        let t = tempfile::Builder::new()
            .prefix("vmtop-hung-")
            .tempdir()
            .expect("temp dir");
        let pidfile = t.path().join("pid");
        let helper = t.path().join(protocol::HELPER);
        std::fs::write(
            &helper,
            format!(
                "#!/bin/sh\necho $$ > '{}'\nexec sleep 30\n",
                pidfile.display()
            ),
        )
        .expect("write");
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let e = run_helper_within(&helper, &modinfo_call(), Duration::from_secs(1))
            .expect_err("killed");
        let text = e.to_string();
        assert!(matches!(e, Problem::Broken { .. }), "{e:?}");
        assert!(
            text.contains("did not answer within 1 s and was killed"),
            "{text}"
        );
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .expect("the helper wrote its pid")
            .trim()
            .parse()
            .expect("a pid");
        // Reaped by the call: no such process any more.
        assert_eq!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        );
    }

    /// Two errno lines, or a .modinfo line that is not KEY<TAB>VALUE: a garbled answer,
    /// reported as a broken helper with what it printed, not read in part.
    #[test]
    fn a_garbled_answer_is_a_broken_helper() {
        let twice = format!("{m}12\n{m}17\n", m = protocol::ERRNO_MARKER);
        let (dir, helper) = fake_helper("twice", &twice, protocol::EXIT_FAILED);
        let call = modinfo_call();
        let run = run_helper_at(&helper, &call)
            .expect("ran")
            .expect("not refused");
        let e = errno_result(&run, &call).expect_err("broken");
        assert!(e.to_string().contains("without reporting an errno"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
        // One errno line is the answer.
        let once = format!("{}12\n", protocol::ERRNO_MARKER);
        let (dir, helper) = fake_helper("once", &once, protocol::EXIT_FAILED);
        let run = run_helper_at(&helper, &call)
            .expect("ran")
            .expect("not refused");
        assert_eq!(errno_result(&run, &call).expect("an answer"), Err(12));
        let _ = std::fs::remove_dir_all(&dir);
        // .modinfo: every line a pair, or the whole answer is refused.
        let (dir, helper) = fake_helper("pairs", "vermagic\t6.1.0 SMP\nlicense\tGPL\n", 0);
        let run = run_helper_at(&helper, &call)
            .expect("ran")
            .expect("not refused");
        assert_eq!(
            modinfo_pairs(&run, &call).expect("pairs"),
            vec![
                ("vermagic".to_string(), "6.1.0 SMP".to_string()),
                ("license".to_string(), "GPL".to_string())
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
        let (dir, helper) = fake_helper("garbled", "vermagic\t6.1.0 SMP\nlicense GPL\n", 0);
        let run = run_helper_at(&helper, &call)
            .expect("ran")
            .expect("not refused");
        let e = modinfo_pairs(&run, &call).expect_err("garbled");
        let text = e.to_string();
        assert!(
            text.contains("not KEY<TAB>VALUE") && text.contains("license GPL"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A folder with a `bin/vmtop` and, as asked, `bin/vmtop-kmod` and
    /// `libexec/vmtop/vmtop-kmod` (shell scripts), as `make install` lays them out.
    fn layout(beside: bool, libexec: bool) -> (tempfile::TempDir, PathBuf) {
        use std::os::unix::fs::PermissionsExt as _;
        let t = tempfile::Builder::new()
            .prefix("vmtop-layout-")
            .tempdir()
            .expect("temp dir");
        let bin = t.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        let exe = bin.join("vmtop");
        let mut files = vec![exe.clone()];
        if beside {
            files.push(bin.join(protocol::HELPER));
        }
        if libexec {
            let d = t.path().join("libexec/vmtop");
            std::fs::create_dir_all(&d).expect("libexec");
            files.push(d.join(protocol::HELPER));
        }
        for f in files {
            std::fs::write(&f, b"#!/bin/sh\n").expect("write");
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        (t, exe)
    }

    #[test]
    fn the_installed_helper_wins_and_every_helper_is_checked() {
        use std::os::unix::fs::PermissionsExt as _;
        let me = nix::unistd::geteuid().as_raw();
        let owners = [0, me];
        let canonical = |p: PathBuf| std::fs::canonicalize(p).expect("canonical");
        // make install's layout, with a vmtop-kmod planted beside vmtop: libexec's runs.
        let (t, exe) = layout(true, true);
        assert_eq!(
            find_helper(None, &exe, &owners),
            Ok(canonical(t.path().join("libexec/vmtop/vmtop-kmod")))
        );
        // A build tree: the one beside it.
        let (t, exe) = layout(true, false);
        assert_eq!(
            find_helper(None, &exe, &owners),
            Ok(canonical(t.path().join("bin/vmtop-kmod")))
        );
        // None: its own refusal, naming where vmtop looked.
        let (_t, exe) = layout(false, false);
        let e = find_helper(None, &exe, &owners).expect_err("missing");
        assert!(matches!(e, Problem::Missing { .. }), "{e:?}");
        let s = e.to_string();
        assert!(
            s.contains("libexec/vmtop/vmtop-kmod") && s.contains("bin/vmtop-kmod"),
            "{s}"
        );
        assert!(!s.contains("module"), "not a module problem: {s}");
        // A helper in a folder others can write to: refused, never run.
        let (t, exe) = layout(false, true);
        let libexec = t.path().join("libexec/vmtop");
        std::fs::set_permissions(&libexec, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let e = find_helper(None, &exe, &owners).expect_err("untrusted");
        assert!(matches!(e, Problem::Untrusted(_)), "{e:?}");
        assert!(
            e.to_string().contains("writable by its group and others"),
            "{e}"
        );
        // Owned by someone who is not among the owners (as root, the owners are root and the
        // owner of vmtop): refused.
        let (_t, exe) = layout(true, false);
        if me != 0 {
            let e = find_helper(None, &exe, &[0]).expect_err("another user's");
            assert!(
                e.to_string().contains(&format!("belongs to uid {me}")),
                "{e}"
            );
        } else {
            assert!(find_helper(None, &exe, &[0]).is_ok(), "root's own files");
        }
        // VMTOP_KMOD_HELPER: used when it is a trusted file, named when missing.
        let (t, exe) = layout(true, false);
        let env = t.path().join("bin/vmtop-kmod");
        assert_eq!(
            find_helper(Some(env.clone().into()), &exe, &owners),
            Ok(canonical(env))
        );
        let e = find_helper(Some("/nonexistent/vmtop-kmod".into()), &exe, &owners)
            .expect_err("missing");
        assert!(
            e.to_string()
                .contains("VMTOP_KMOD_HELPER=/nonexistent/vmtop-kmod"),
            "{e}"
        );
    }

    #[test]
    fn a_file_changed_after_the_check_is_named_as_such() {
        let (dir, h) = fake_helper(
            "changed",
            &format!("{}2049:99\n", protocol::CHANGED_MARKER),
            protocol::EXIT_CHANGED,
        );
        let e = run_helper_at(&h, &modinfo_call()).expect_err("changed");
        let Problem::Changed { found, checked, .. } = &e else {
            panic!("changed: {e:?}")
        };
        assert_eq!(
            (found.as_str(), checked.to_string()),
            ("2049:99", "1:2".into())
        );
        assert!(
            e.to_string().contains("changed after vmtop checked it"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_helper_that_dies_or_babbles_is_broken_not_an_errno() {
        let (dir, h) = fake_helper("crash", "Segmentation fault", 139);
        let call = modinfo_call();
        let run = run_helper_at(&h, &call).expect("ran").expect("not refused");
        let e = errno_result(&run, &call).expect_err("no errno");
        assert!(matches!(e, Problem::Broken { .. }), "{e:?}");
        assert!(e.to_string().contains("without reporting an errno"), "{e}");
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
            errno_result(&run, &modinfo_call()).expect("an errno"),
            Err(libc::ENOEXEC)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
