//! Keeping the dashboard's resident code to the code it runs.
//!
//! When a process touches a page of a file mapping that is already in the page cache, the
//! kernel maps the whole aligned 64 KiB around it too (`fault_around_bytes`), and start-up
//! (argument parsing, terminal set-up) touches code all over the binary: measured with
//! tests/bench.sh, 1.44 of 1.47 MiB of .text stayed mapped while the steady loop runs a small
//! part of it, and dropping only the page-table entries (MADV_DONTNEED) did not help much, as
//! fault-around mapped the cached neighbours straight back (1.26 MiB of a 1.9 MiB .text).
//! Once the dashboard is drawing, [`trim_code_pages`] marks the binary's own read-only file
//! mappings MADV_RANDOM (no read-ahead) and asks the kernel to reclaim them (MADV_PAGEOUT,
//! Linux 5.4; MADV_DONTNEED before): what the loop runs is read back one page at a time on
//! its next use, once, and nothing else stays mapped or cached for vmtop (0.5 MiB of .text).
//! That was on 2026-12-01. On the build VM's kernel of 2026-12-05 (6.18, read-ahead 8 MiB,
//! which executable mappings get whatever MADV_RANDOM says) the code the loop runs is back
//! within a second in 64 KiB blocks: 1.3 MiB of a 2.4 MiB .text, about what was mapped
//! before the trim (docs/performance.md). So what runs after the trim is linked together,
//! in 7 of those blocks (tui/hot-code.ld, docs/hot-code.md): 0.4-0.9 MB of text comes back.
//! The trim is still what frees the rest: without it 3.0 MB of text stayed mapped.

/// One malloc arena for every thread: glibc gives each thread that allocates an arena of its
/// own (touched pages and free lists kept apart), and the dashboard's threads allocate only a
/// little, rarely. And large blocks always in mappings of their own, given back when freed:
/// glibc raises its threshold for that to the size of the last such block freed, so the
/// whole-screen buffer a full frame draws into (280 KiB at 160x45, see `dashboard::Screen`)
/// went to the heap after the first one and stayed there, 0.8 MiB of heap for one frame's
/// buffer kept. Call before the first thread starts.
pub fn tune_malloc() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets glibc tunables; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
    }
}

/// Trim this executable's clean, read-only file mappings; returns the bytes advised.
/// Mappings that hold anonymous (written) pages, such as RELRO, are left alone: dropping
/// them would throw away the dynamic loader's relocations.
pub fn trim_code_pages() -> usize {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return 0;
    };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    let mut advised = 0;
    for m in clean_readonly_mappings(&smaps, &exe.to_string_lossy()) {
        let len = m.1 - m.0;
        // SAFETY: the range is a whole mapping of this process's own executable that is
        // read-only and has no anonymous pages, so its contents are exactly the file's and
        // any page dropped here is faulted back from the page cache unchanged on next use.
        let ok = unsafe {
            let addr = m.0 as *mut libc::c_void;
            libc::madvise(addr, len, libc::MADV_RANDOM) == 0
                && (libc::madvise(addr, len, libc::MADV_PAGEOUT) == 0
                    || libc::madvise(addr, len, libc::MADV_DONTNEED) == 0)
        };
        if ok {
            advised += len;
        }
    }
    // Start-up's freed heap back too (what is free in the middle of the heap stays resident
    // otherwise).
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    advised
}

/// (start, end) of the mappings of `exe` that are read-only, private and wholly clean
/// (no anonymous pages), from /proc/self/smaps text.
fn clean_readonly_mappings(smaps: &str, exe: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, usize)> = None;
    let mut finish = |cur: &mut Option<(usize, usize)>, anon_ok: bool| {
        if let (Some(m), true) = (cur.take(), anon_ok) {
            out.push(m);
        }
    };
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let first = f.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-') {
            if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
                // A new mapping header: "start-end perms offset dev inode path".
                finish(&mut cur, false);
                let perms = f.next().unwrap_or("");
                let path = f.nth(3).unwrap_or("");
                if path == exe
                    && perms.starts_with('r')
                    && !perms.contains('w')
                    && perms.ends_with('p')
                {
                    cur = Some((a, b));
                }
                continue;
            }
        }
        if first == "Anonymous:" && cur.is_some() {
            let anon: u64 = f.next().and_then(|n| n.parse().ok()).unwrap_or(1);
            finish(&mut cur, anon == 0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_readonly_mappings_of_the_exe() {
        // Shape of /proc/self/smaps (fields trimmed); the RELRO mapping has anonymous pages.
        let smaps = "\
5579ae584000-5579ae5e6000 r--p 00000000 fe:00 5351690 /usr/bin/vmtop
Rss: 240 kB
Anonymous: 0 kB
5579ae5e6000-5579ae74e000 r-xp 00061000 fe:00 5351690 /usr/bin/vmtop
Rss: 1440 kB
Anonymous: 0 kB
5579ae74e000-5579ae757000 r--p 001c8000 fe:00 5351690 /usr/bin/vmtop
Rss: 36 kB
Anonymous: 36 kB
5579ae757000-5579ae758000 rw-p 001d1000 fe:00 5351690 /usr/bin/vmtop
Anonymous: 4 kB
7f6398aef000-7f6398c45000 r-xp 00026000 fe:00 326279 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous: 0 kB
";
        assert_eq!(
            clean_readonly_mappings(smaps, "/usr/bin/vmtop"),
            vec![
                (0x5579ae584000, 0x5579ae5e6000),
                (0x5579ae5e6000, 0x5579ae74e000)
            ]
        );
        assert!(clean_readonly_mappings(smaps, "/other").is_empty());
    }
}
