//! Lab tests: each boots a real Debian kernel under QEMU (`vmtop lab`) and checks what the
//! kernel does. Not part of plain `cargo test` (the target has `test = false`): `make test`
//! runs them once per 64-bit lab kernel, and by hand
//! `VMTOP_LAB_DIR=... cargo test --release --test lab [NAME] -- --test-threads=2`.
//! A new lab test file is one `mod` line below; tests in `once` run only on the first
//! kernel (they choose their own kernel).

#[path = "../common/mod.rs"]
mod common;

mod accel;
mod alloc;
mod areas;
mod copy;
mod dashboard;
mod engine;
mod foundation;
mod helper;
mod install;
mod kmsg;
mod lessons;
mod record;
mod safe_mode;

/// Tests that pick their kernels themselves: `make test` runs them once, not per kernel.
mod once {
    mod areas;
    mod lab32;
    mod lesson_disagrees;
    mod packages;
    mod root_lab;
    mod sudo_user_files;
}
