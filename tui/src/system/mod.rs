//! What the kernel shows: memory figures (`meminfo`), the vmalloc address space
//! (`vmallocinfo`), free blocks per order (`buddyinfo`), the kernel log (`kmsg`), and this
//! host's kernel: release, module support, privileges and signing state (`host`).
//! Readers and parsers only: nothing here acts on the kernel.

pub mod buddyinfo;
pub mod host;
pub mod kmsg;
pub mod meminfo;
pub mod vmallocinfo;
