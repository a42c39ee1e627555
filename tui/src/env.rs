//! Where vmtop finds its parts, and the names of the environment variables that change it
//! outside the lab (the lab's own, `VMTOP_LAB_DIR`, `VMTOP_LAB_KERNEL`, `VMTOP_LAB_VMTOP`
//! and `VMTOP_KMOD_SRC`, are read in `lab/`).

use std::path::{Path, PathBuf};

/// The module file to load (before the checkout's and the installed one).
pub const MODULE: &str = "VMTOP_MODULE";
/// The checkout to use instead of the one this binary was built in.
pub const CHECKOUT: &str = "VMTOP_CHECKOUT";
/// The libkmod helper `vmtop-kmod` (default: beside this binary, or in ../libexec/vmtop).
pub const KMOD_HELPER: &str = "VMTOP_KMOD_HELPER";
/// Tests only: `engine` makes the dashboard's engine thread panic (read only in debug builds and
/// with the `test-hooks` feature: see `dashboard::test_hook_panic`).
pub const TEST_PANIC: &str = "VMTOP_TEST_PANIC";

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
