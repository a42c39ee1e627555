//! `vmtop replay`: the 2009 article's experiment, rerun in the 32-bit lab: the bundled lesson
//! `article-2009` (lessons/article-2009.toml) run unattended, each part in its VM, through the
//! same runner as `vmtop lab --lesson`. One implementation: what a class sees step by step is
//! what the replay reports.
//!
//! The article (Godbach, "内核态用vmalloc申请大块内存", 2009-10-16) loaded a vmalloc module
//! on a 32-bit machine with 385624 kB of RAM and 522104 kB of swap: `free`, the default load
//! (100 MB), `free`, the Vmalloc lines of /proc/meminfo, then memsize=300 (loaded), 500 and
//! 400 (both "Cannot allocate memory"), and concluded that the default vmalloc size was
//! exceeded, to be fixed with `vmalloc=` on the kernel command line. The lesson runs the same
//! loads in the same order, with the module's semantics (plain vmalloc, no reserve), on a VM
//! with that RAM and real swap; then the article's fix on that machine, then a 32-bit machine
//! with 1 GiB where the address space does bind, with and without the fix.

use serde_json::Value;

/// The lesson the replay runs.
pub const LESSON: &str = "article-2009";

/// The article's own figures (kB, as `free` and /proc/meminfo printed them).
pub mod article {
    pub const MEM_TOTAL_KB: u64 = 385_624;
    pub const FREE_BEFORE_KB: u64 = 196_864;
    pub const FREE_AFTER_DEFAULT_KB: u64 = 95_236;
    pub const VMALLOC_TOTAL_KB: u64 = 638_968;
    pub const VMALLOC_USED_KB: u64 = 3_512;
    pub const VMALLOC_CHUNK_KB: u64 = 633_644;
    /// With memsize=300 loaded.
    pub const VMALLOC_USED_300_KB: u64 = 311_032;
    pub const SWAP_KB: u64 = 522_104;
    /// memsize and the article's outcome, in its order.
    pub const LOADS: [(u64, &str); 4] = [
        (100, "loaded"),
        (300, "loaded"),
        (500, "insmod: -1 Cannot allocate memory"),
        (400, "insmod: -1 Cannot allocate memory"),
    ];
    /// What the article's loads changed, kB: `free`'s "free" column around the default load
    /// (100 MB) and around memsize=300 (after its reboot: 284408 -> 5584), and VmallocUsed
    /// around memsize=300 (3512 -> 311032; it did not print Vmalloc lines for the first).
    pub const FREE_BEFORE_300_KB: u64 = 284_408;
    pub const FREE_AFTER_300_KB: u64 = 5_584;
    /// (memsize, MemFree change, VmallocUsed change), kB.
    pub fn change(memsize_mib: u64) -> Option<(i64, Option<i64>)> {
        let d = |a: u64, b: u64| a as i64 - b as i64;
        match memsize_mib {
            100 => Some((d(FREE_AFTER_DEFAULT_KB, FREE_BEFORE_KB), None)),
            300 => Some((
                d(FREE_AFTER_300_KB, FREE_BEFORE_300_KB),
                Some(d(VMALLOC_USED_300_KB, VMALLOC_USED_KB)),
            )),
            _ => None,
        }
    }
    pub const CONCLUSION: &str =
        "the default vmalloc size set at boot was exceeded; boot with vmalloc=xxx to fix it";
}

/// Run every part of the lesson unattended in its VM (`base`: `vmtop lab`'s defaults; one
/// CPU);
/// `out` gets the runner's lines. Returns the parts as they ran and every transcript line,
/// in order.
pub fn run(
    base: crate::lab::LabOptions,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<(Vec<crate::lesson::lab::PartRun>, Vec<Value>)> {
    let spec = crate::lesson::lab::LabLesson {
        arg: LESSON.to_string(),
        part: None,
        auto: None,
        unattended: true,
    };
    let base = crate::lab::LabOptions { cpus: 1, ..base };
    let mut all = Vec::new();
    let runs = crate::lesson::lab::run(&spec, &base, out, &mut |records| {
        all.extend_from_slice(records);
        Ok(())
    })?;
    Ok((runs, all))
}
