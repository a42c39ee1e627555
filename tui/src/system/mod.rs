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

/// Read `file` from its start into `buf`, growing it as needed; returns the number of bytes
/// read (`buf` keeps its size between calls, so nothing is allocated or cleared once it is
/// large enough). One `pread` when the file fits: a read that leaves room in the buffer has
/// reached the end (procfs's seq_file fills what it is given), where `Read::read_to_end` asks
/// for the file's size and position first and reads once more to see the end.
pub(crate) fn read_all(file: &std::fs::File, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut len = 0;
    loop {
        if buf.len() == len {
            buf.resize(len + 4096, 0);
        }
        match std::os::unix::fs::FileExt::read_at(file, &mut buf[len..], len as u64) {
            Ok(0) => return Ok(len),
            Ok(n) => {
                len += n;
                if len < buf.len() {
                    return Ok(len);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
