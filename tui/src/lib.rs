//! vmtop: load a vmalloc kernel module and watch what the kernel does.
//!
//! Layout (a folder per concern; arrows are the only direction imports go):
//! - `units`, `env`, `trust`: formatting and parsing of sizes, times, errnos and signals; where
//!   the checkout is and the `VMTOP_*` variables' names; whose files vmtop uses as root. Leaves.
//! - `system/`: what the kernel shows: `meminfo` (samples), `vmallocinfo` (largest free
//!   range), `buddyinfo` (free blocks per order), `kmsg` (kernel log), `host` (release,
//!   module support, privileges, signing state). Imports only the leaves.
//! - `module/`: alloc_large_mem's interface as kmod-src/README.md specifies it: its name,
//!   parameters and reserve, allocators and limits (`alloc`), its log lines (`log`, the one
//!   parser), its sysfs files (`sysfs`, the one reader) and its file (`file`).
//! - `helper/`: the `vmtop-kmod` process, the only libkmod user, and the protocol both
//!   binaries share. Imports only `env`.
//! - `diagnose/`: why a load failed: recognition of the kernel's lines (`facts`), the
//!   rules and their words (`memory`, `refusals`, `signals`).
//! - `engine` (load/unload as events), `probe` (largest memsize that loads), `record`
//!   (the sample formats), `replay` (the 2009 article's experiment in the 32-bit lab).
//! - `lab/`: the sandbox (QEMU + initramfs).
//! - `app/` (state, actions, keys, config), `ui/` (drawing), `dashboard` (terminal loop and
//!   threads), `footprint` (the dashboard's memory trims).
//! - `cli` (clap definitions, the defaults), `commands/` (one file per subcommand).
pub(crate) mod env;
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

pub(crate) mod lesson;

pub(crate) mod lab;

pub(crate) mod app;
pub(crate) mod dashboard;
pub(crate) mod footprint;
pub(crate) mod ui;

pub mod cli;
pub mod commands;
