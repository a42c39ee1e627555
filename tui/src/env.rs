//! Where vmtop finds its parts, and the names of the environment variables that change it
//! outside the lab (the lab's own, `VMTOP_LAB_DIR`, `VMTOP_LAB_KERNEL`, `VMTOP_LAB_VMTOP`
//! and `VMTOP_KMOD_SRC`, are read in `lab/`). As root, every variable that names a program,
//! a module or a folder vmtop builds or runs from is checked first (`check_overrides`).

use std::path::{Path, PathBuf};

/// The module file to load (before the checkout's and the installed one).
pub const MODULE: &str = "VMTOP_MODULE";
/// The checkout to use instead of the one this binary was built in.
pub const CHECKOUT: &str = "VMTOP_CHECKOUT";
/// The libkmod helper `vmtop-kmod` (default: beside this binary, or in ../libexec/vmtop).
pub const KMOD_HELPER: &str = "VMTOP_KMOD_HELPER";
/// Tests only: `engine` makes the dashboard's engine thread panic (read only in debug builds and
/// with the `test-hooks` feature: see `dashboard::test_hook_panic`).
#[cfg(any(debug_assertions, feature = "test-hooks"))]
pub const TEST_PANIC: &str = "VMTOP_TEST_PANIC";

/// The lab's kernels and headers (`make -C` runs their Makefiles on the host).
pub const LAB_DIR: &str = "VMTOP_LAB_DIR";
/// The module source the lab builds.
pub const KMOD_SRC: &str = "VMTOP_KMOD_SRC";
/// The vmtop binary put in a 32-bit lab VM.
pub const LAB_VMTOP: &str = "VMTOP_LAB_VMTOP";

/// The variables that choose code or paths, with whose files they may name as root: the
/// module's owners for the module, the code owners for the rest (`trust`).
const OVERRIDES: [(&str, bool); 6] = [
    (KMOD_HELPER, false),
    (CHECKOUT, false),
    (MODULE, true),
    (LAB_DIR, false),
    (KMOD_SRC, false),
    (LAB_VMTOP, false),
];

/// As root, refuse a `VMTOP_*` variable that names a file or folder another user could
/// change (sudo keeps them with -E, env_keep, or in a root shell): one line naming the
/// variable, the path, its owner or mode, and the fix. Not root: nothing to check.
pub fn check_overrides(t: &crate::trust::Trust) -> Result<(), crate::trust::Untrusted> {
    for (name, module) in OVERRIDES {
        let owners = if module {
            t.module_owners()
        } else {
            t.code_owners()
        };
        t.env_path(name, &owners)?;
    }
    Ok(())
}

/// The checkout this binary was built from, if it runs from one (target/*/vmtop).
pub fn checkout_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var(CHECKOUT) {
        return Some(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|d| d.join("kmod-src/alloc_large_mem.c").is_file() && d.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}
