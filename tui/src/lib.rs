//! vmtop: load a vmalloc kernel module and watch what the kernel does.
//!
//! Layout (one module per concept):
//! - collection: `meminfo` (samples), `vmallocinfo` (largest free gap), `buddyinfo` (free
//!   blocks per order), `kmsg` (kernel log),
//!   `kernel` (what this kernel can do)
//! - acting on the kernel: `module_file` (finding the .ko), `loader` (libkmod, in a child
//!   process), `alloc` (allocators, limits, where the pages are), `engine` (load/unload events with their deltas), `diagnose` (why a load failed),
//!   `probe` (largest memsize that loads), `record` (samples to CSV/JSONL)
//! - the sandbox: `lab` (QEMU + initramfs)
//! - the dashboard: `app` (state and actions), `ui` (drawing), `dashboard` (terminal loop)
pub(crate) mod units;

pub(crate) mod buddyinfo;
pub(crate) mod kernel;
pub(crate) mod kmsg;
pub(crate) mod meminfo;
pub(crate) mod vmallocinfo;

pub(crate) mod alloc;
pub(crate) mod compare;
pub(crate) mod diagnose;
pub(crate) mod engine;
pub mod loader;
pub(crate) mod module_file;
pub(crate) mod probe;
pub mod record;
pub(crate) mod replay;

pub(crate) mod lab;

pub(crate) mod app;
pub(crate) mod dashboard;
pub(crate) mod footprint;
pub(crate) mod ui;

pub mod cli;
pub mod commands;
