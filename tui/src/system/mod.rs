//! What the kernel shows: memory figures (`meminfo`, with the kernel-memory line's), memory
//! pressure (`pressure`, PSI), the vmalloc address space
//! (`vmallocinfo`), who holds it (`vmareas`: areas by caller and kind, the window's map), the kernel's vmap-area events (`vmap_trace`), free blocks per order (`buddyinfo`), the kernel log (`kmsg`), and this
//! host's kernel: release, module support, privileges and signing state (`host`).
//! Readers and parsers only: nothing here acts on the kernel.

pub mod buddyinfo;
pub mod host;
pub mod kmsg;
pub mod meminfo;
pub mod pressure;
pub mod vmallocinfo;
pub mod vmap_trace;
pub mod vmareas;
