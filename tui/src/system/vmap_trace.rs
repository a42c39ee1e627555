//! The kernel's own word on vmap-area allocations: the `vmalloc:alloc_vmap_area` trace event
//! (include/trace/events/vmalloc.h, Linux 6.2+), one line per allocation of a range of
//! kernel virtual addresses, as tracefs prints it in `trace`:
//!
//! ```text
//!       vmtop-kmod-158     [000] .....     6.031313: alloc_vmap_area: va_start: 18387339860280086528 size=104861696 align=1 vstart=0xff2cf42ec0000000 vend=0xff5ef42ebfffffff failed=0
//! ```
//!
//! (`print fmt: "va_start: %lu size=%lu align=%lu vstart=0x%lx vend=0x%lx failed=%d"`, read
//! from events/vmalloc/alloc_vmap_area/format on the 6.12 lab kernel.) `failed=1` is
//! mm/vmalloc.c `alloc_vmap_area` finding no free range of `size` (guard page included)
//! between `vstart` and `vend`: it is traced before the kernel purges the lazily freed areas
//! and tries once more, so one failure shows as one or two events; the warning that follows
//! ("vmap allocation for size N failed") is rate-limited and silenced by `__GFP_NOWARN`, the
//! event is not. Parsing only; the top-level `tracefs` module enables the event.

use serde::Serialize;

/// The event's system and name under tracefs' events/.
pub const EVENT: &str = "vmalloc/alloc_vmap_area";

/// One `alloc_vmap_area` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmapEvent {
    /// The task that asked (`comm`), and its pid.
    pub comm: String,
    pub pid: u32,
    /// The trace clock, as printed (seconds since boot with the default `local` clock).
    pub timestamp: String,
    /// Where the range starts (`va_start`); on failure, `vend`.
    pub addr: u64,
    /// Bytes asked, guard page included.
    pub size: u64,
    pub align: u64,
    /// The range it had to fit in: VMALLOC_START..VMALLOC_END for vmalloc(), the module
    /// area for module text and data, narrower ranges for other callers.
    pub vstart: u64,
    pub vend: u64,
    pub failed: bool,
    /// The line as the kernel printed it (whitespace trimmed), for the evidence.
    pub line: String,
}

impl VmapEvent {
    /// Bytes between `vstart` and `vend` (`vend` may be inclusive: x86_64 prints VMALLOC_END
    /// as ...ffff).
    pub fn range_bytes(&self) -> u64 {
        let span = self.vend.saturating_sub(self.vstart);
        if span & 0xfff == 0xfff {
            span + 1
        } else {
            span
        }
    }
}

fn num(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parse one line of `trace`; None for anything but an `alloc_vmap_area` event (comments,
/// other events, a line cut short).
pub fn parse_line(line: &str) -> Option<VmapEvent> {
    let line = line.trim();
    let (head, fields) = line.split_once(" alloc_vmap_area: ")?;
    // head: "COMM-PID [CPU] FLAGS TIMESTAMP:" (COMM may hold spaces and dashes).
    let (task, rest) = head.split_once(" [")?;
    let (comm, pid) = task.trim().rsplit_once('-')?;
    let timestamp = rest.split_ascii_whitespace().last()?.strip_suffix(':')?;
    let mut e = VmapEvent {
        comm: comm.to_string(),
        pid: pid.parse().ok()?,
        timestamp: timestamp.to_string(),
        addr: 0,
        size: 0,
        align: 0,
        vstart: 0,
        vend: 0,
        failed: false,
        line: line.to_string(),
    };
    let (mut size, mut vend, mut failed) = (false, false, false);
    let mut words = fields.split_ascii_whitespace();
    while let Some(w) = words.next() {
        // "va_start: N" (a colon and a space), the rest "key=value".
        let (key, value) = match w.split_once('=') {
            Some(kv) => kv,
            None => (w.strip_suffix(':')?, words.next()?),
        };
        match key {
            "va_start" | "addr" => e.addr = num(value)?,
            "size" => {
                e.size = num(value)?;
                size = true;
            }
            "align" => e.align = num(value)?,
            "vstart" => e.vstart = num(value)?,
            "vend" => {
                e.vend = num(value)?;
                vend = true;
            }
            "failed" => {
                e.failed = num(value)? != 0;
                failed = true;
            }
            _ => {}
        }
    }
    (size && vend && failed).then_some(e)
}

/// Every event in `trace` text, oldest first.
pub fn parse(text: &str) -> Vec<VmapEvent> {
    text.lines().filter_map(parse_line).collect()
}

/// What the trace says about one load: its events, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum VmapTrace {
    /// The event was enabled during the load; these are the failed ones recorded.
    Recorded { failed: Vec<VmapEvent> },
    /// It could not be: the reason (an old kernel, no root, tracefs not mounted...).
    Unavailable { reason: String },
}

impl VmapTrace {
    /// The failed event of the loader `pid` (the module's init runs in the process that
    /// called init_module, so its allocations are traced under that pid), the largest if
    /// several; with no pid known, the largest of all. None when none was recorded: another
    /// task's failure during the load says nothing about this one.
    pub fn failure_for(&self, pid: Option<u32>) -> Option<&VmapEvent> {
        let VmapTrace::Recorded { failed } = self else {
            return None;
        };
        failed
            .iter()
            .filter(|e| pid.is_none_or(|p| e.pid == p))
            .max_by_key(|e| e.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as the 6.12 lab kernel printed them (instances/vmtop/trace, 2026-12-05).
    const OK_LINE: &str = "      vmtop-kmod-158     [000] .....     6.031313: alloc_vmap_area: va_start: 18387339860280086528 size=104861696 align=1 vstart=0xff2cf42ec0000000 vend=0xff5ef42ebfffffff failed=0";
    const MODULE_AREA_LINE: &str = "      vmtop-kmod-158     [000] .....     6.023857: alloc_vmap_area: va_start: 18446744072639176704 size=16384 align=4096 vstart=0xffffffffc0128000 vend=0xffffffffff000000 failed=0";

    #[test]
    fn lines_of_the_6_12_kernel() {
        let e = parse_line(OK_LINE).expect("event");
        assert_eq!((e.comm.as_str(), e.pid), ("vmtop-kmod", 158));
        assert_eq!(e.timestamp, "6.031313");
        assert_eq!((e.size, e.align, e.failed), (104861696, 1, false));
        assert_eq!((e.vstart, e.vend), (0xff2cf42ec0000000, 0xff5ef42ebfffffff));
        assert_eq!(e.addr, 18387339860280086528);
        // VMALLOC_END is inclusive on x86_64: the range is 12.5 PiB exactly (VmallocTotal).
        assert_eq!(e.range_bytes(), 13_743_895_347_199 * 1024 + 1024);
        let m = parse_line(MODULE_AREA_LINE).expect("event");
        assert_eq!(m.range_bytes(), 0xffffffffff000000 - 0xffffffffc0128000);
    }

    #[test]
    fn comm_with_dashes_and_spaces() {
        let l = "  kworker/u4:1-my-task-77   [001] d..1.   12.5: alloc_vmap_area: va_start: 4096 size=8192 align=1 vstart=0x1000 vend=0x9000 failed=1";
        let e = parse_line(l).expect("event");
        assert_eq!(
            (e.comm.as_str(), e.pid, e.failed),
            ("kworker/u4:1-my-task", 77, true)
        );
    }

    #[test]
    fn other_lines_are_not_events() {
        for l in [
            "",
            "# tracer: nop",
            "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
            "  bash-1 [000] ..... 1.0: purge_vmap_area_lazy: start=0x1 end=0x2 num_purged=3",
            // Cut short (the buffer's last line while the kernel writes).
            "  vmtop-kmod-158 [000] ..... 6.0: alloc_vmap_area: va_start: 1 size=2",
        ] {
            assert_eq!(parse_line(l), None, "{l:?}");
        }
    }

    #[test]
    fn the_loaders_failure_is_chosen() {
        let ev = |pid, size| VmapEvent {
            comm: "x".into(),
            pid,
            timestamp: "1.0".into(),
            addr: 0,
            size,
            align: 1,
            vstart: 0,
            vend: 1 << 20,
            failed: true,
            line: String::new(),
        };
        let t = VmapTrace::Recorded {
            failed: vec![ev(5, 1 << 30), ev(7, 1 << 20), ev(7, 1 << 21)],
        };
        assert_eq!(t.failure_for(Some(7)).map(|e| e.size), Some(1 << 21));
        assert_eq!(t.failure_for(None).map(|e| e.size), Some(1 << 30));
        // Another task's failure is not this load's.
        assert_eq!(t.failure_for(Some(9)), None);
        let none = VmapTrace::Recorded { failed: vec![] };
        assert_eq!(none.failure_for(Some(7)), None);
        let absent = VmapTrace::Unavailable { reason: "r".into() };
        assert_eq!(absent.failure_for(None), None);
    }
}
