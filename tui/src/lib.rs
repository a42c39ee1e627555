//! vmtop: load a vmalloc kernel module and watch what the kernel does.
//!
//! The modules, in the order they import one another (each imports only those above it;
//! `layout_tests` checks that there is no cycle):
//! - `units`, `env`, `trust`, `refused`, `files`: leaves. Sizes, times, errno and signal
//!   names; where the checkout and the helper are, the `VMTOP_*` names; whose files vmtop
//!   uses as root; vmtop's own refusals (exit 2, an untrusted file among them); files written
//!   whole or not at all, and as the user behind sudo.
//! - `system/`: what the kernel shows: `meminfo` (samples), `vmallocinfo` (largest free
//!   range), `buddyinfo` (free blocks per order), `kmsg` (kernel log), `host` (release,
//!   module support, privileges, signing state). Imports only `units`.
//! - `helper/`: the `vmtop-kmod` process, the only libkmod user, and the typed protocol both
//!   binaries share (`protocol::Call`). Imports only `env` and `trust` (whether it may run it).
//! - `module/`: alloc_large_mem's interface as kmod-src/README.md specifies it: its name,
//!   parameters and reserve (`mod.rs`), allocators and limits (`alloc`), its log lines
//!   (`log`, the one parser), its sysfs files (`sysfs`, the one reader), its file (`file`).
//! - `diagnose/`: why a load failed: the kernel's checks (`checks`), recognition of the
//!   kernel's lines (`facts`), the rules and their words (`memory`, `refusals`, `signals`).
//! - `tracefs`: vmtop's own trace instance, the kernel's vmap-area events during each load.
//! - `engine` (load and unload as events), `probe` (the largest memsize that loads),
//!   `record` (the sample formats).
//! - `lab/`: the sandbox (QEMU + initramfs); `replay` (the 2009 article in the 32-bit lab).
//! - `cli`: the clap definitions, where every default is written; `settings`: the settings
//!   file, which gives the same flags.
//! - `lesson/`: a teacher's script, run against the kernel.
//! - `app/` (state, actions, keys, config), `ui/` (drawing), `dashboard` (terminal loop and
//!   threads), `footprint` (the dashboard's memory trims).
//! - `commands/`: one file per subcommand.
pub(crate) mod env;
pub(crate) mod files;
pub(crate) mod refused;
pub(crate) mod trust;
pub(crate) mod units;

pub(crate) mod system;

pub(crate) mod module;

pub mod helper;

pub(crate) mod diagnose;
pub(crate) mod engine;
pub(crate) mod probe;
pub mod record;
pub(crate) mod replay;
pub(crate) mod tracefs;

pub(crate) mod lab;

pub(crate) mod lesson;

pub(crate) mod app;
pub(crate) mod dashboard;
pub(crate) mod footprint;
pub(crate) mod ui;

pub mod cli;
pub mod commands;
pub(crate) mod export;
pub(crate) mod settings;

#[cfg(test)]
mod layout_tests;
