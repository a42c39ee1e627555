//! Files vmtop writes for its user (pictures, plots, reports, recordings) and the settings
//! file it reads: written whole or not at all, and, when vmtop runs as root through sudo,
//! read and written as the user who ran sudo.
//!
//! - **Whole or not at all**: a file is written to a temporary file beside it
//!   (`.NAME.vmtop-PID-N.tmp`, created new: never an existing file or a link), then renamed
//!   over NAME; a failure removes the temporary file, so NAME is either the old file or the
//!   whole new one.
//! - **As the user**: under sudo the dashboard is root. A file the user names (the settings
//!   file, `--record FILE`, the screenshot folder) is opened by a child process, this same
//!   vmtop run as `__as-user`, with the user's uid and gid and no supplementary groups (std
//!   drops them when it sets the uid). So root reads nothing the user could not read (a
//!   settings file that is a link to /etc/shadow is refused by the kernel, not shown in an
//!   error message), and writes nothing the user could not write; what it writes is the user's.
//!
//! Leaf module: std, nix and `trust`.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{bail, Context as _};

/// The hidden subcommand that reads or writes a file as the user (`cli::Cmd::AsUser`), and
/// its two operations.
pub const AS_USER: &str = "__as-user";
pub const AS_USER_READ: &str = "read";
pub const AS_USER_WRITE: &str = "write";
pub const AS_USER_STREAM: &str = "stream";

/// The user files are read and written as: Some(uid, gid) when this vmtop is root and sudo
/// started it for another user (`trust::invoking_uid`); None: this process's own identity.
pub fn other_user() -> Option<(u32, u32)> {
    let t = crate::trust::Trust::current();
    if !t.is_root() || t.invoking == t.euid {
        return None;
    }
    let gid = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(t.invoking))
        .ok()
        .flatten()
        .map(|u| u.gid.as_raw())
        // A uid with no passwd entry: its own number as the group, no group's rights.
        .unwrap_or(t.invoking);
    Some((t.invoking, gid))
}

/// The home folder of `uid`, from the passwd database.
pub fn home_of(uid: u32) -> Option<PathBuf> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.dir)
}

/// A temporary file beside `dest`, created new (never an existing file or link), and renamed
/// over `dest` by `commit`; dropped uncommitted, it is removed.
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    file: Option<std::fs::File>,
}

static TMP_SEQ: AtomicU32 = AtomicU32::new(0);

impl AtomicFile {
    pub fn create(dest: &Path) -> anyhow::Result<AtomicFile> {
        let name = dest
            .file_name()
            .with_context(|| format!("{} names no file", dest.display()))?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dest.is_dir() {
            bail!("{} is a folder: name a file", dest.display());
        }
        let tmp = dir.join(format!(
            ".{}.vmtop-{}-{}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            TMP_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            tmp,
            file: Some(file),
        })
    }

    /// Flush, then rename the temporary file over the destination.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let mut file = self.file.take().context("already committed")?;
        file.flush()
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", self.dest.display()))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.dest)
            .with_context(|| format!("renaming into {}", self.dest.display()))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write `bytes` to `path` whole, as this process (see `save` for the user behind sudo).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    f.commit()
}

/// Write `bytes` to `path` whole, as the user behind sudo when there is one.
pub fn save(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let Some((uid, gid)) = other_user() else {
        return write_atomic(path, bytes);
    };
    let mut child = as_user(uid, gid, AS_USER_WRITE, path)?
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting vmtop as the user behind sudo")?;
    let wrote = child.stdin.take().map(|mut i| i.write_all(bytes));
    finish_child(path, child, wrote.unwrap_or(Ok(())))
}

/// Wait for a writer child; Err says why the file is not there.
fn finish_child(dest: &Path, mut child: Child, wrote: std::io::Result<()>) -> anyhow::Result<()> {
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().context("waiting for the writer")?;
    if !status.success() {
        bail!(
            "{}",
            first_line(&err)
                .map(str::to_string)
                .unwrap_or(format!("{} was not written ({status})", dest.display()))
        );
    }
    wrote.with_context(|| format!("writing {}", dest.display()))
}

/// A file written as it goes (a recording: what was written is there even if vmtop is
/// killed): created (or emptied) at once, as this process or through a child running as
/// the user behind sudo.
pub enum Stream {
    Here(std::fs::File, PathBuf),
    AsUser {
        dest: PathBuf,
        child: Child,
        stdin: Option<ChildStdin>,
    },
}

impl Stream {
    pub fn create(path: &Path) -> anyhow::Result<Stream> {
        let Some((uid, gid)) = other_user() else {
            let f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            return Ok(Stream::Here(f, path.to_path_buf()));
        };
        let mut child = as_user(uid, gid, AS_USER_STREAM, path)?
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting vmtop as the user behind sudo")?;
        // The child says "ready" once the file is created, or fails: known before the
        // terminal is touched.
        let mut ready = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut ready);
        }
        if ready.trim() != "ready" {
            return Err(finish_child(path, child, Ok(()))
                .err()
                .unwrap_or_else(|| anyhow::anyhow!("cannot create {}", path.display())));
        }
        let stdin = child.stdin.take();
        Ok(Stream::AsUser {
            dest: path.to_path_buf(),
            child,
            stdin,
        })
    }

    /// Close the file; Err says what went wrong writing it.
    pub fn finish(self) -> anyhow::Result<()> {
        match self {
            Stream::Here(mut f, dest) => f
                .flush()
                .and_then(|()| f.sync_all())
                .with_context(|| format!("writing {}", dest.display())),
            Stream::AsUser { dest, child, stdin } => {
                drop(stdin);
                finish_child(&dest, child, Ok(()))
            }
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Here(f, _) => f.write(buf),
            Stream::AsUser { stdin, .. } => match stdin.as_mut() {
                Some(s) => s.write(buf),
                None => Err(std::io::ErrorKind::BrokenPipe.into()),
            },
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Here(f, _) => f.flush(),
            Stream::AsUser { stdin, .. } => stdin.as_mut().map_or(Ok(()), |s| s.flush()),
        }
    }
}

fn first_line(s: &str) -> Option<&str> {
    s.lines()
        .map(|l| l.trim().trim_start_matches("vmtop: "))
        .find(|l| !l.is_empty())
}

/// This vmtop, run as `uid`:`gid` (no supplementary groups), doing `op` on `path`.
fn as_user(uid: u32, gid: u32, op: &str, path: &Path) -> anyhow::Result<Command> {
    use std::os::unix::process::CommandExt as _;
    let exe = std::env::current_exe().context("finding this vmtop's binary")?;
    // Relative paths are the user's: the child starts in the same folder.
    let mut c = Command::new(exe);
    c.arg(AS_USER)
        .arg(op)
        .arg(path)
        .uid(uid)
        .gid(gid)
        .env_clear();
    Ok(c)
}

/// Read `path` (at most `max` bytes), as the user behind sudo when there is one. Not
/// found is `Ok(None)`.
pub fn read(path: &Path, max: u64) -> anyhow::Result<Option<Vec<u8>>> {
    let Some((uid, gid)) = other_user() else {
        return read_here(path, max);
    };
    let out = as_user(uid, gid, AS_USER_READ, path)?
        .stdin(Stdio::null())
        .output()
        .context("starting vmtop as the user behind sudo")?;
    match out.status.code() {
        Some(0) => Ok(Some(out.stdout)),
        Some(NOT_FOUND) => Ok(None),
        _ => bail!(
            "{}",
            first_line(&String::from_utf8_lossy(&out.stderr)).unwrap_or(&format!(
                "cannot read {} ({})",
                path.display(),
                out.status
            ))
        ),
    }
}

/// The child's exit code for "no such file".
const NOT_FOUND: i32 = 3;

fn read_here(path: &Path, max: u64) -> anyhow::Result<Option<Vec<u8>>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let meta = f
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    if meta.len() > max {
        bail!(
            "{} is {} bytes, more than the {max} a settings file may have",
            path.display(),
            meta.len()
        );
    }
    let mut v = Vec::new();
    std::io::Read::by_ref(&mut f)
        .take(max + 1)
        .read_to_end(&mut v)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(v))
}

/// What `vmtop __as-user` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    /// Standard input to the file, whole or not at all.
    Write,
    /// Standard input to the file as it comes; "ready" on standard output once it exists.
    Stream,
}

/// Copy standard input to `w`, flushing after each read.
fn copy_stdin(w: &mut impl Write, path: &Path) -> anyhow::Result<()> {
    let mut input = std::io::stdin().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading what to write"),
        };
        w.write_all(&buf[..n])
            .and_then(|()| w.flush())
            .with_context(|| format!("writing {}", path.display()))?;
    }
}

/// `vmtop __as-user read|write|stream PATH`, the child's side; returns its exit code.
pub fn as_user_main(op: Op, path: &Path, max: u64) -> i32 {
    let result = match op {
        Op::Write => (|| {
            let mut f = AtomicFile::create(path)?;
            copy_stdin(&mut f, path)?;
            f.commit()
        })(),
        Op::Stream => (|| {
            let mut f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            println!("ready");
            std::io::stdout().flush().context("telling vmtop")?;
            copy_stdin(&mut f, path)
        })(),
        Op::Read => match read_here(path, max) {
            Ok(Some(bytes)) => std::io::stdout()
                .write_all(&bytes)
                .context("writing to vmtop"),
            Ok(None) => return NOT_FOUND,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("vmtop: {e:#}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dest = dir.path().join("chart.svg");
        std::fs::write(&dest, b"old").expect("old file");
        {
            let mut f = AtomicFile::create(&dest).expect("create");
            f.write_all(b"half").expect("write");
            // Dropped without commit: a failure half-way.
        }
        assert_eq!(std::fs::read(&dest).expect("read"), b"old");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("chart.svg")],
            "no temporary file left"
        );
        write_atomic(&dest, b"new").expect("write whole");
        assert_eq!(std::fs::read(&dest).expect("read"), b"new");
    }

    #[test]
    fn a_folder_or_a_missing_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let e = write_atomic(dir.path(), b"x").expect_err("a folder");
        assert!(format!("{e:#}").contains("is a folder"), "{e:#}");
        let missing = dir.path().join("no/such/chart.svg");
        let e = write_atomic(&missing, b"x").expect_err("no folder");
        assert!(format!("{e:#}").contains("cannot write in"), "{e:#}");
        assert!(!missing.exists());
    }

    /// A temporary file is created new: an existing file or link of its name is not
    /// followed.
    #[test]
    fn the_temporary_file_never_follows_a_link() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").expect("target");
        let dest = dir.path().join("out.png");
        let seq = TMP_SEQ.load(Ordering::Relaxed);
        // Plant links at the next few names the temporary file could take.
        for n in seq..seq + 64 {
            let tmp = dir
                .path()
                .join(format!(".out.png.vmtop-{}-{n}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&target, tmp).expect("link");
        }
        let r = write_atomic(&dest, b"data");
        assert_eq!(std::fs::read(&target).expect("target"), b"keep");
        // The link met is an error, not a write through it.
        if r.is_ok() {
            assert_eq!(std::fs::read(&dest).expect("dest"), b"data");
        }
    }

    #[test]
    fn read_here_refuses_big_and_special_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(read_here(&dir.path().join("none.toml"), 10)
            .expect("missing is not an error")
            .is_none());
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; 11]).expect("big");
        let e = read_here(&big, 10).expect_err("too big");
        assert!(format!("{e:#}").contains("11 bytes"), "{e:#}");
        let e = read_here(dir.path(), 10).expect_err("a folder");
        assert!(format!("{e:#}").contains("not a regular file"), "{e:#}");
    }
}
