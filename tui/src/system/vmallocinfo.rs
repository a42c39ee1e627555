//! Largest free range of the vmalloc address space, from /proc/vmallocinfo (root only).
//!
//! Since Linux 4.4 `VmallocChunk` in /proc/meminfo reads 0: the kernel no longer computes the
//! largest free range. It can be recomputed from /proc/vmallocinfo, which lists every used
//! range of kernel virtual addresses made by vmalloc/vmap/ioremap, one per line
//! (mm/vmalloc.c `s_show`):
//!
//! ```text
//! 0xffffc90000000000-0xffffc90000005000   20480 irq_init_percpu_irqstack+0x114/0x1a0 vmap
//! 0xffffc90000010000-0xffffc90000012000    8192 unpurged vm_area
//! ```
//!
//! `start-end size caller flags…`; the size includes the guard page. Addresses are printed
//! with `%pK`: as non-root (or with kptr_restrict=2) they read as zeros, and the file itself is
//! mode 0400, so non-root reads nothing.
//!
//! # Where the vmalloc range is (an approximation)
//!
//! VMALLOC_START is not exported (and is randomised by KASLR on x86_64); /proc/meminfo gives
//! only its size, `VmallocTotal` (= VMALLOC_END - VMALLOC_START, rounded down to KiB). The
//! file also lists ranges outside the vmalloc area (on x86_64 and arm64 the module area lives
//! elsewhere). So:
//!
//! 1. the vmalloc area is taken to be the window `[S, S + VmallocTotal)` that contains the most
//!    listed ranges, with `S` the start of one of them (vmalloc areas — thousands of task
//!    stacks, per-CPU chunks, ioremaps — vastly outnumber module areas);
//! 2. `S` is the lowest listed start in that window. The first vmalloc allocation at boot is
//!    placed at VMALLOC_START (the kernel allocates bottom-up), so on a running system `S` is
//!    VMALLOC_START exactly; if that first range was freed, `S` is higher than the true start
//!    and the free range at the top of the area is overstated by the difference (the one at
//!    the bottom is then not counted);
//! 3. the largest free range is the largest hole between consecutive used ranges in the
//!    window, including the hole between the last used range and `S + VmallocTotal`.
//!
//! A vmalloc of N bytes needs a free range of N + one guard page (more for alignment).

use std::io::Read;

use anyhow::Context as _;
use serde::Serialize;

pub const PATH: &str = "/proc/vmallocinfo";

/// The vmalloc area as /proc/vmallocinfo shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layout {
    /// Assumed start of the vmalloc range (see the module docs).
    pub range_start: u64,
    /// `range_start + VmallocTotal` (exclusive).
    pub range_end: u64,
    /// Used ranges inside the window.
    pub areas: usize,
    /// Bytes of the window covered by used ranges (guard pages included).
    pub used: u64,
    /// Largest free range, in bytes.
    pub largest_free: u64,
    /// Where that free range starts.
    pub largest_free_start: u64,
}

/// `start-end` of one /proc/vmallocinfo line, or None when the line is not a range or its
/// addresses are not real: hidden (zeros) or hashed (then `end - start` differs from the size
/// column, which the kernel prints from the same area).
pub fn parse_range(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_ascii_whitespace();
    let (a, b) = fields.next()?.split_once('-')?;
    let size: u64 = fields.next()?.parse().ok()?;
    let start = hex(a)?;
    let end = hex(b)?;
    (start != 0 && end > start && end - start == size).then_some((start, end))
}

fn hex(s: &str) -> Option<u64> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(digits, 16).ok()
}

/// Analyse /proc/vmallocinfo text given VmallocTotal in bytes (the tests' entry; `layout_with_total`
/// reads the file line by line). None when no usable range is listed (empty text, hidden
/// addresses) or `vmalloc_total` is 0.
#[cfg(test)]
pub(crate) fn analyze(text: &str, vmalloc_total: u64) -> Option<Layout> {
    let mut ranges = Vec::new();
    let mut candidates = 0usize;
    for line in text.lines() {
        collect_range(line, &mut ranges, &mut candidates);
    }
    analyze_ranges(&mut ranges, candidates, vmalloc_total)
}

/// Add the range of one line to `ranges`; `candidates` counts the lines that look like ranges.
fn collect_range(line: &str, ranges: &mut Vec<(u64, u64)>, candidates: &mut usize) {
    if line.starts_with("0x") {
        *candidates += 1;
        if let Some(r) = parse_range(line) {
            ranges.push(r);
        }
    }
}

/// The analysis proper, on the ranges collected from `candidates` range lines (also the
/// areas map's window, `super::vmareas`).
pub(crate) fn analyze_ranges(
    ranges: &mut [(u64, u64)],
    candidates: usize,
    vmalloc_total: u64,
) -> Option<Layout> {
    if vmalloc_total == 0 {
        return None;
    }
    // Hashed pointers (kptr_restrict=0) make almost every line inconsistent.
    if ranges.is_empty() || ranges.len() * 2 < candidates {
        return None;
    }
    // The kernel lists them in address order; sort only if not.
    if !ranges.windows(2).all(|w| w[0].0 <= w[1].0) {
        ranges.sort_unstable();
    }

    // The window [start_i, start_i + total) holding the most ranges (two pointers).
    let n = ranges.len();
    let (mut best_i, mut best_count, mut j) = (0, 0, 0);
    for i in 0..n {
        let limit = ranges[i].0.saturating_add(vmalloc_total);
        j = j.max(i);
        while j < n && ranges[j].0 < limit {
            j += 1;
        }
        if j - i > best_count {
            best_count = j - i;
            best_i = i;
        }
    }
    let window = &ranges[best_i..best_i + best_count];
    let range_start = window[0].0;
    let range_end = range_start.saturating_add(vmalloc_total);

    let mut cursor = range_start;
    let (mut largest_free, mut largest_free_start, mut used) = (0u64, range_start, 0u64);
    for &(a, b) in window {
        let b = b.min(range_end);
        if a > cursor && a - cursor > largest_free {
            largest_free = a - cursor;
            largest_free_start = cursor;
        }
        if b > cursor {
            used += b - a.max(cursor);
            cursor = b;
        }
    }
    if range_end > cursor && range_end - cursor > largest_free {
        largest_free = range_end - cursor;
        largest_free_start = cursor;
    }
    Some(Layout {
        range_start,
        range_end,
        areas: window.len(),
        used,
        largest_free,
        largest_free_start,
    })
}

/// Whether a largest-free-range figure can be computed here, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Real addresses: `largest_free_now` works.
    Usable,
    /// Cannot be read (not root) or reads empty.
    Unreadable,
    /// Readable, but the addresses are hashed (`kernel.kptr_restrict=0`) or zeroed
    /// (`kptr_restrict=2`, or 1 without CAP_SYSLOG): `%pK` shows real addresses only with
    /// kptr_restrict=1 to a reader holding CAP_SYSLOG.
    AddressesHidden,
}

impl Availability {
    pub fn is_usable(self) -> bool {
        self == Availability::Usable
    }
}

/// Check /proc/vmallocinfo now (reads the first few KiB only).
pub fn availability() -> Availability {
    let mut buf = [0u8; 4096];
    let n = match std::fs::File::open(PATH).and_then(|mut f| f.read(&mut buf)) {
        Ok(n) if n > 0 => n,
        _ => return Availability::Unreadable,
    };
    let text = String::from_utf8_lossy(&buf[..n]);
    // The last line of a partial read may be cut: judge by complete lines.
    let complete = text.rsplit_once('\n').map_or(&text[..], |(head, _)| head);
    let (mut lines, mut real) = (0, 0);
    for l in complete.lines().filter(|l| l.starts_with("0x")) {
        lines += 1;
        real += usize::from(parse_range(l).is_some());
    }
    if lines > 0 && real * 2 >= lines {
        Availability::Usable
    } else {
        Availability::AddressesHidden
    }
}

/// Read /proc/vmallocinfo now and analyse it, given VmallocTotal in bytes (for callers that
/// have just read /proc/meminfo).
///
/// Reading the file is slow: the kernel walks every vmalloc area to print it, in the reader's
/// system time (about 1.5 ms for 3000 areas on a small machine). Callers that sample often
/// must not call this on every sample (see `meminfo::VMALLOCINFO_PERIOD`). The file (hundreds
/// of KiB on a busy machine) is read line by line: only the ranges are kept.
pub fn layout_with_total(total: u64) -> anyhow::Result<Layout> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(PATH).with_context(|| format!("opening {PATH} (needs root)"))?;
    let mut reader = std::io::BufReader::with_capacity(16 * 1024, file);
    let (mut line, mut ranges, mut candidates) = (String::new(), Vec::new(), 0usize);
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .with_context(|| format!("reading {PATH}"))?;
        if n == 0 {
            break;
        }
        collect_range(&line, &mut ranges, &mut candidates);
    }
    analyze_ranges(&mut ranges, candidates, total).with_context(|| {
        format!(
            "{PATH} lists no usable address ranges (empty, or addresses hidden by kptr_restrict)"
        )
    })
}

/// Largest free range of the vmalloc address space now, in bytes, given VmallocTotal in bytes
/// (from the caller's /proc/meminfo sample); None when unreadable.
pub fn largest_free_now(vmalloc_total: u64) -> Option<u64> {
    layout_with_total(vmalloc_total)
        .ok()
        .map(|l| l.largest_free)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{GIB, KIB, MIB};

    /// The 6.1 lab (x86_64, 5-level paging, KASLR), the module holding 64 MiB: the area starts
    /// at 0xff368e46c0000000 and holds 12.5 PiB; the module area (0xffffffffc…) lies above.
    const X86_64: &str = include_str!("../../testdata/vmallocinfo-6.1-x86_64.txt");
    /// The 32-bit lab (1024 MiB), the module holding 32 MiB: the area starts at 0xf77fe000
    /// and holds 120 MiB; modules are inside it.
    const I686: &str = include_str!("../../testdata/vmallocinfo-i686.txt");

    /// VmallocTotal as /proc/meminfo reported it in those boots (the fixtures' headers).
    const TOTAL_64: u64 = 13_743_895_347_199 * KIB;
    const TOTAL_32: u64 = 122_880 * KIB;

    #[test]
    fn parses_ranges_and_rejects_junk() {
        assert_eq!(
            parse_range("0xffffc90000000000-0xffffc90000005000   20480 irq_init_percpu_irqstack+0x114/0x1a0 vmap"),
            Some((0xffffc90000000000, 0xffffc90000005000))
        );
        assert_eq!(
            parse_range("0xf8000000-0xf8002000    8192 unpurged vm_area"),
            Some((0xf8000000, 0xf8002000))
        );
        // Hidden addresses (non-root / kptr_restrict=2).
        assert_eq!(parse_range("0x0000000000000000-0x0000000000000000   20480 irq_init_percpu_irqstack+0x114/0x1a0 vmap"), None);
        // Hashed addresses (kptr_restrict=0): the difference is not the size.
        assert_eq!(parse_range("0x000000000c5d5c20-0x000000002e7c9842   20480 irq_init_percpu_irqstack+0xca/0x100 vmap"), None);
        for junk in [
            "",
            "hello",
            "0xzz-0x10 4096 x",
            "0x20-0x10 4096 x",
            "0x10-0x20 x y",
        ] {
            assert_eq!(parse_range(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn x86_64_largest_gap_is_below_the_percpu_chunk() {
        let l = analyze(X86_64, TOTAL_64).expect("layout");
        assert_eq!(l.range_start, 0xff368e46c0000000);
        assert_eq!(l.range_end, 0xff368e46c0000000 + TOTAL_64);
        // The highest low range (the module's 64 MiB buffer) ends at 0xff368e46c47c9000, the
        // per-CPU chunk starts at 0xff688e46bfc00000: everything between is free.
        assert_eq!(l.largest_free_start, 0xff368e46c47c9000);
        assert_eq!(l.largest_free, 0xff688e46bfc00000 - 0xff368e46c47c9000);
        assert!(l.largest_free > 12 * 1024 * 1024 * GIB);
        // The two module-area ranges (0xffffffffc…) are outside the window.
        let lines = X86_64.lines().filter(|l| parse_range(l).is_some()).count();
        assert_eq!(lines, 94);
        assert_eq!(l.areas, lines - 2);
    }

    #[test]
    fn i686_largest_gap_is_above_the_buffer() {
        let l = analyze(I686, TOTAL_32).expect("layout");
        assert_eq!(l.range_start, 0xf77fe000);
        assert_eq!(l.range_end, 0xf77fe000 + TOTAL_32);
        // From the end of the 32 MiB buffer (0xf9be5000) to the end of the area: 84.1 MiB,
        // less than the 120 MiB VmallocTotal suggests.
        assert_eq!(l.largest_free_start, 0xf9be5000);
        assert_eq!(l.largest_free, 0xf77fe000 + TOTAL_32 - 0xf9be5000);
        assert!(l.largest_free < 85 * MIB);
        assert_eq!(
            l.areas,
            I686.lines().filter(|l| parse_range(l).is_some()).count()
        );
    }

    #[test]
    fn top_gap_counts_and_used_bytes_add_up() {
        let text = "0x1000-0x3000 8192 a\n0x5000-0x6000 4096 b\n";
        let l = analyze(text, 0x10000).expect("layout");
        assert_eq!(l.range_start, 0x1000);
        assert_eq!(l.range_end, 0x11000);
        assert_eq!(l.used, 0x3000);
        assert_eq!(l.largest_free, 0x11000 - 0x6000);
        assert_eq!(l.largest_free_start, 0x6000);
        assert_eq!(l.used + l.largest_free + 0x2000, 0x10000);
    }

    #[test]
    fn unsorted_and_overlapping_input() {
        let text = "0x5000-0x6000 4096 b\n0x1000-0x3000 8192 a\n0x2000-0x4000 8192 c\n";
        let l = analyze(text, 0x8000).expect("layout");
        assert_eq!(l.range_start, 0x1000);
        assert_eq!(l.used, 0x4000);
        assert_eq!(l.largest_free, 0x9000 - 0x6000);
    }

    #[test]
    fn hashed_file_is_none() {
        // As read on a 6.1 host with kernel.kptr_restrict=0 (hashed %pK), as root.
        let hashed = "0x000000000c5d5c20-0x000000002e7c9842   20480 irq_init_percpu_irqstack+0xca/0x100 vmap\n\
                      0x000000002e7c9842-0x0000000018ee2214    8192 acpi_os_map_iomem+0x1bc/0x1e0 phys=0x00000000000a0000 ioremap\n\
                      0x000000008f87b715-0x000000003605bb2b   12288 acpi_os_map_iomem+0x1bc/0x1e0 phys=0x000000000009f000 ioremap\n";
        assert_eq!(analyze(hashed, TOTAL_64), None);
    }

    #[test]
    fn nothing_usable_is_none() {
        assert_eq!(analyze("", TOTAL_64), None);
        assert_eq!(analyze(X86_64, 0), None);
        let hidden = "0x0000000000000000-0x0000000000000000   20480 x vmap\n";
        assert_eq!(analyze(hidden, TOTAL_64), None);
    }

    /// Reads the host's /proc/vmallocinfo. Prints what it finds.
    #[test]
    fn live_availability_is_consistent() {
        let a = availability();
        eprintln!("vmallocinfo: {a:?}");
        let total = crate::system::meminfo::Sample::read()
            .expect("read /proc/meminfo")
            .vmalloc_total;
        match a {
            Availability::Usable => {
                let l = layout_with_total(total).expect("layout");
                eprintln!("{l:?}");
                assert!(l.largest_free > 0);
            }
            _ => assert_eq!(largest_free_now(total), None),
        }
    }

    #[test]
    fn large_file_is_read_whole() {
        // 20 000 task stacks (16 KiB + guard), as on a busy machine: every area is counted
        // and the free range after the last one is found. (How fast: tests/bench.sh; a
        // timing assertion here would only measure how busy the test machine is.)
        let mut text = String::new();
        let base = 0xffffc90000000000u64;
        for i in 0..20_000u64 {
            let a = base + i * 0x6000;
            text.push_str(&format!(
                "0x{a:016x}-0x{:016x}   20480 kernel_clone+0x9a/0x3f0 pages=4 vmalloc N0=4\n",
                a + 0x5000
            ));
        }
        let l = analyze(&text, TOTAL_64).expect("layout");
        assert_eq!(l.areas, 20_000);
    }
}
