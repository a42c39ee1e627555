//! vmtop-kmod: the only vmtop process that links libkmod (through the `kmod` crate).
//!
//! The distribution's libkmod maps libcrypto, libzstd and liblzma; relocating libcrypto
//! alone costs every process that loads it ~1.4 MiB (its relocation tables and RELRO
//! pages). The dashboard runs for hours, so it never loads libkmod: it starts this helper
//! for each operation, which also keeps the process that calls init_module (the one the
//! OOM killer picks in unsafe mode) apart from the dashboard.
//!
//! Usage (internal): `vmtop-kmod --protocol=N insert|remove|lookup|modinfo ...`, written and
//! read by `helper::protocol::Call` in vmtop's library, which both binaries share. A failure
//! prints `vmtop-kmod-errno=N` on stdout and exits 1; bad usage exits 2; a call in another
//! protocol (a vmtop from another build) prints `vmtop-kmod-protocol=N` and exits 3; a module
//! file that is not the one vmtop checked prints `vmtop-kmod-changed=DEV:INO` and exits 4.
//!
//! The module file is opened once, here, and everything libkmod reads of it (the .modinfo,
//! the load) goes through that open file (`/proc/self/fd/N`), after its device and inode
//! were compared with what vmtop checked: a path re-pointed after vmtop's check is refused,
//! never loaded.

use std::ffi::{CStr, CString};
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use vmtop::helper::protocol::{
    Call, FileId, Refused, CHANGED_MARKER, ERRNO_MARKER, EXIT_CHANGED, EXIT_FAILED, EXIT_PROTOCOL,
    EXIT_USAGE, PROTOCOL, PROTOCOL_ARG, PROTOCOL_MARKER,
};

/// Why a call failed.
enum Fail {
    /// The errno of the call that failed.
    Errno(i32),
    /// The file at the path is not the one vmtop checked: this one is.
    Changed(FileId),
}

impl From<i32> for Fail {
    fn from(errno: i32) -> Fail {
        Fail::Errno(errno)
    }
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let code = match Call::parse(&args) {
        Ok(Call::Insert { path, id, params }) => report(insert(&path, id, &params)),
        Ok(Call::Remove { name }) => report(remove(&name).map_err(Fail::from)),
        Ok(Call::Lookup { name }) => report(lookup(&name).map_err(Fail::from)),
        Ok(Call::Modinfo { path, id }) => report(modinfo(&path, id)),
        Err(Refused::Protocol(theirs)) => {
            println!("{PROTOCOL_MARKER}{PROTOCOL}");
            eprintln!(
                "vmtop-kmod: called {}, but this vmtop-kmod speaks protocol {PROTOCOL}: vmtop and vmtop-kmod are from different builds; install them together (`make install`)",
                match theirs {
                    Some(v) => format!("with protocol {v}"),
                    None => format!("without {PROTOCOL_ARG}N (a vmtop older than the protocol's version)"),
                }
            );
            EXIT_PROTOCOL
        }
        Err(Refused::Usage) => {
            eprintln!(
                "vmtop-kmod: vmtop's internal libkmod helper; usage: vmtop-kmod {PROTOCOL_ARG}{PROTOCOL} insert PATH [PARAM...] | remove NAME | lookup NAME | modinfo PATH"
            );
            EXIT_USAGE
        }
    };
    std::process::exit(code);
}

fn report(r: Result<(), Fail>) -> i32 {
    let mut out = std::io::stdout().lock();
    let code = match r {
        Ok(()) => 0,
        Err(Fail::Errno(errno)) => {
            let _ = writeln!(out, "{ERRNO_MARKER}{errno}");
            EXIT_FAILED
        }
        Err(Fail::Changed(found)) => {
            let _ = writeln!(out, "{CHANGED_MARKER}{found}");
            EXIT_CHANGED
        }
    };
    let _ = out.flush();
    code
}

/// Open the module file at `path` once, without following a link at its end, and keep it
/// only if it is the file `id` vmtop checked. libkmod then reads it as `/proc/self/fd/N`:
/// that names the open file itself, whatever the path points to by then.
fn open_checked(path: &Path, id: FileId) -> Result<(std::fs::File, std::path::PathBuf), Fail> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Fail::Errno(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let meta = file
        .metadata()
        .map_err(|e| Fail::Errno(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let found = FileId::of(&meta);
    if found != id || !meta.is_file() {
        return Err(Fail::Changed(found));
    }
    use std::os::fd::AsRawFd as _;
    let by_fd = std::path::PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    Ok((file, by_fd))
}

fn context() -> Result<kmod::Context, i32> {
    kmod::Context::new().map_err(|_| last_errno_or(libc::ENOMEM))
}

fn last_errno_or(default: i32) -> i32 {
    match nix::errno::Errno::last() {
        nix::errno::Errno::UnknownErrno => default,
        e => e as i32,
    }
}

fn insert(path: &Path, id: FileId, params: &[String]) -> Result<(), Fail> {
    // In unsafe mode the OOM killer must pick this process, never the dashboard or a shell.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    // Kept open until the load returns.
    let (_file, by_fd) = open_checked(path, id)?;
    let ctx = context()?;
    let m = ctx.module_new_from_path(&by_fd).map_err(|e| match e {
        kmod::Error::ModuleFromPath(errno) => errno.0,
        _ => libc::ENOENT,
    })?;
    let opts: Vec<&str> = params.iter().map(String::as_str).collect();
    m.insert_module(0, &opts).map_err(|e| match e {
        kmod::Error::InsertModule(errno) => Fail::Errno(errno.0),
        _ => Fail::Errno(libc::EIO),
    })
}

fn remove(name: &str) -> Result<(), i32> {
    let ctx = context()?;
    let m = ctx.module_new_from_name(name).map_err(|_| libc::ENOENT)?;
    m.remove_module(0).map_err(|e| match e {
        kmod::Error::RemoveModule(errno) => errno.0,
        _ => libc::EIO,
    })
}

/// The file modprobe would load for NAME (modules.dep of the running kernel).
fn lookup(name: &str) -> Result<(), i32> {
    let ctx = context()?;
    let found = ctx.module_new_from_lookup(name).map_err(|_| libc::ENOENT)?;
    let mut out = std::io::stdout().lock();
    for m in found {
        if let Some(p) = m.path() {
            let _ = out.write_all(p.as_bytes());
            let _ = out.write_all(b"\n");
        }
    }
    Ok(())
}

/// .modinfo through libkmod, which decompresses .ko.xz / .ko.zst / .ko.gz the way it does
/// when it loads them (the kmod crate does not wrap kmod_module_get_info).
fn modinfo(path: &Path, id: FileId) -> Result<(), Fail> {
    use kmod_sys as k;
    // Kept open until libkmod has read it.
    let (_file, by_fd) = open_checked(path, id)?;
    let cpath = CString::new(by_fd.as_os_str().as_bytes()).map_err(|_| libc::EINVAL)?;
    let mut pairs = Vec::new();
    // SAFETY: plain libkmod calls; every object created here is released on every path,
    // and the strings read from the info list are copied before the list is freed.
    unsafe {
        let ctx = k::kmod_new(std::ptr::null(), std::ptr::null());
        if ctx.is_null() {
            return Err(Fail::Errno(libc::ENOMEM));
        }
        let mut module = std::ptr::null_mut();
        let r = k::kmod_module_new_from_path(ctx, cpath.as_ptr(), &mut module);
        if r < 0 {
            k::kmod_unref(ctx);
            return Err(Fail::Errno(-r));
        }
        let mut list = std::ptr::null_mut();
        let n = k::kmod_module_get_info(module, &mut list);
        if n >= 0 {
            let mut e = list;
            while !e.is_null() {
                let key = k::kmod_module_info_get_key(e);
                let value = k::kmod_module_info_get_value(e);
                if !key.is_null() {
                    let v = if value.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(value).to_string_lossy().into_owned()
                    };
                    pairs.push((CStr::from_ptr(key).to_string_lossy().into_owned(), v));
                }
                e = k::kmod_list_next(list, e);
            }
            k::kmod_module_info_free_list(list);
        }
        k::kmod_module_unref(module);
        k::kmod_unref(ctx);
        if n < 0 {
            return Err(Fail::Errno(-n));
        }
    }
    let mut out = std::io::stdout().lock();
    for (k, v) in pairs {
        // One pair per line: a value never holds a newline in practice; keep it so anyway.
        let _ = writeln!(out, "{k}\t{}", v.replace('\n', " "));
    }
    Ok(())
}
