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
//! protocol (a vmtop from another build) prints `vmtop-kmod-protocol=N` and exits 3.

use std::ffi::{CStr, CString};
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use vmtop::helper::protocol::{
    Call, Refused, ERRNO_MARKER, EXIT_FAILED, EXIT_PROTOCOL, EXIT_USAGE, PROTOCOL, PROTOCOL_ARG,
    PROTOCOL_MARKER,
};

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let code = match Call::parse(&args) {
        Ok(Call::Insert { path, params }) => report(insert(&path, &params)),
        Ok(Call::Remove { name }) => report(remove(&name)),
        Ok(Call::Lookup { name }) => report(lookup(&name)),
        Ok(Call::Modinfo { path }) => report(modinfo(&path)),
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

fn report(r: Result<(), i32>) -> i32 {
    let mut out = std::io::stdout().lock();
    let code = match r {
        Ok(()) => 0,
        Err(errno) => {
            let _ = writeln!(out, "{ERRNO_MARKER}{errno}");
            EXIT_FAILED
        }
    };
    let _ = out.flush();
    code
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

fn insert(path: &Path, params: &[String]) -> Result<(), i32> {
    // In unsafe mode the OOM killer must pick this process, never the dashboard or a shell.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    let ctx = context()?;
    let m = ctx.module_new_from_path(path).map_err(|e| match e {
        kmod::Error::ModuleFromPath(errno) => errno.0,
        _ => libc::ENOENT,
    })?;
    let opts: Vec<&str> = params.iter().map(String::as_str).collect();
    m.insert_module(0, &opts).map_err(|e| match e {
        kmod::Error::InsertModule(errno) => errno.0,
        _ => libc::EIO,
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
fn modinfo(path: &Path) -> Result<(), i32> {
    use kmod_sys as k;
    let cpath = CString::new(path.as_os_str().as_bytes()).map_err(|_| libc::EINVAL)?;
    let mut pairs = Vec::new();
    // SAFETY: plain libkmod calls; every object created here is released on every path,
    // and the strings read from the info list are copied before the list is freed.
    unsafe {
        let ctx = k::kmod_new(std::ptr::null(), std::ptr::null());
        if ctx.is_null() {
            return Err(libc::ENOMEM);
        }
        let mut module = std::ptr::null_mut();
        let r = k::kmod_module_new_from_path(ctx, cpath.as_ptr(), &mut module);
        if r < 0 {
            k::kmod_unref(ctx);
            return Err(-r);
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
            return Err(-n);
        }
    }
    let mut out = std::io::stdout().lock();
    for (k, v) in pairs {
        // One pair per line: a value never holds a newline in practice; keep it so anyway.
        let _ = writeln!(out, "{k}\t{}", v.replace('\n', " "));
    }
    Ok(())
}
