//! vmtop: load a vmalloc kernel module and watch what the kernel does.
//!
//! Layout (one module per concept):
//! - collection: `meminfo` (samples), `vmallocinfo` (largest free gap), `kmsg` (kernel log),
//!   `kernel` (what this kernel can do)
//! - acting on the kernel: `module_file` (finding the .ko), `loader` (libkmod, in a child
//!   process), `alloc` (allocators, limits, where the pages are), `engine` (load/unload events with their deltas), `diagnose` (why a load failed),
//!   `probe` (largest memsize that loads), `record` (samples to CSV/JSONL)
//! - the sandbox: `lab` (QEMU + initramfs)
//! - the dashboard: `app` (state and actions), `ui` (drawing), `dashboard` (terminal loop)
pub mod units;

pub mod kernel;
pub mod kmsg;
pub mod meminfo;
pub mod vmallocinfo;

pub mod alloc;
pub mod compare;
pub mod diagnose;
pub mod engine;
pub mod loader;
pub mod module_file;
pub mod probe;
pub mod record;
pub mod replay;

pub mod lab;

pub mod app;
pub mod dashboard;
pub mod footprint;
pub mod ui;

pub mod cli;
pub mod commands;
