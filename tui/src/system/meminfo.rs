//! Memory figures from /proc/meminfo.
//!
//! A `Sample` holds the six figures vmtop plots, in bytes. A read that fails is a gap
//! (`None` in the history), never a zero.
//!
//! The dashboard reads it up to 20 times a second, so `MeminfoReader` keeps the file open and
//! its buffer between reads (one `pread` from the start), and `Sample::parse_str` looks at the
//! ten lines vmtop uses and skips the others (a map of all ~55 lines, as the procfs crate
//! parses it, cost 130 000 instructions a sample; see docs/performance.md).

use std::fs::File;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use serde::Serialize;

/// The figures vmtop watches, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    pub mem_total: u64,
    pub mem_free: u64,
    /// Absent before Linux 3.14.
    pub mem_available: Option<u64>,
    pub vmalloc_total: u64,
    pub vmalloc_used: u64,
    pub vmalloc_chunk: u64,
    /// LowTotal, LowFree, HighTotal, HighFree: only on kernels with highmem (32-bit).
    pub highmem: Option<Highmem>,
}

/// The split of RAM on a kernel with highmem (32-bit x86): lowmem is mapped for good in the
/// kernel's top gigabyte, beside the vmalloc window; highmem is mapped on demand. Kept in KiB
/// as the kernel prints them, in 16 bytes (every sample of the history carries one; 32-bit
/// PAE addresses at most 64 GiB, 2^26 KiB); the methods give bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Highmem {
    low_total_kib: std::num::NonZeroU32,
    low_free_kib: u32,
    high_total_kib: u32,
    high_free_kib: u32,
}

impl Highmem {
    /// From the four figures in bytes; None when one does not fit (not a 32-bit machine's).
    pub fn from_bytes(
        low_total: u64,
        low_free: u64,
        high_total: u64,
        high_free: u64,
    ) -> Option<Highmem> {
        let kib = |b: u64| u32::try_from(b / 1024).ok();
        Some(Highmem {
            low_total_kib: std::num::NonZeroU32::new(kib(low_total)?)?,
            low_free_kib: kib(low_free)?,
            high_total_kib: kib(high_total)?,
            high_free_kib: kib(high_free)?,
        })
    }

    pub fn low_total(&self) -> u64 {
        u64::from(self.low_total_kib.get()) * 1024
    }

    pub fn low_free(&self) -> u64 {
        u64::from(self.low_free_kib) * 1024
    }

    pub fn high_total(&self) -> u64 {
        u64::from(self.high_total_kib) * 1024
    }

    pub fn high_free(&self) -> u64 {
        u64::from(self.high_free_kib) * 1024
    }
}

/// The lines vmtop reads: MemTotal, MemFree and the three Vmalloc lines must be there.
const WANTED: [&str; 15] = [
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "VmallocTotal",
    "VmallocUsed",
    "VmallocChunk",
    "LowTotal",
    "LowFree",
    "HighTotal",
    "HighFree",
    // The kernel-memory line (`KernelMemory`).
    "Slab",
    "SUnreclaim",
    "KernelStack",
    "PageTables",
    "Percpu",
];

/// A line's name and figure.
type Figure<'a> = (&'a [u8], u64);

/// Which of `WANTED` a line's name is.
fn wanted(name: &[u8]) -> Option<usize> {
    Some(match name {
        b"MemTotal" => 0,
        b"MemFree" => 1,
        b"MemAvailable" => 2,
        b"VmallocTotal" => 3,
        b"VmallocUsed" => 4,
        b"VmallocChunk" => 5,
        b"LowTotal" => 6,
        b"LowFree" => 7,
        b"HighTotal" => 8,
        b"HighFree" => 9,
        b"Slab" => 10,
        b"SUnreclaim" => 11,
        b"KernelStack" => 12,
        b"PageTables" => 13,
        b"Percpu" => 14,
        _ => return None,
    })
}

/// The first line of `text` (/proc/meminfo): its name and its figure in bytes, from
/// "Name:   1234 kB" (KiB, as the kernel prints them) or "Name: 1234" (a count), and the text
/// after it (empty lines skipped); None for anything else. Byte by byte, once over the line:
/// the dashboard reads the file ten times a second.
fn meminfo_line(text: &[u8]) -> Option<(Figure<'_>, &[u8])> {
    let colon = text.iter().position(|&b| b == b':' || b == b'\n')?;
    if text[colon] != b':' {
        return None;
    }
    let (name, mut rest) = (&text[..colon], &text[colon + 1..]);
    let skip_blanks = |r: &mut &[u8]| {
        while let [b' ' | b'\t' | b'\r', tail @ ..] = *r {
            *r = tail;
        }
    };
    skip_blanks(&mut rest);
    let mut n: u64 = 0;
    let mut digits = 0;
    while let [d @ b'0'..=b'9', tail @ ..] = rest {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        rest = tail;
        digits += 1;
    }
    if digits == 0 {
        return None;
    }
    let before_unit = rest.len();
    skip_blanks(&mut rest);
    if let Some(tail) = rest.strip_prefix(b"kB") {
        if rest.len() == before_unit {
            // "12kB": not the kernel's.
            return None;
        }
        n = n.checked_mul(1024)?;
        rest = tail;
        skip_blanks(&mut rest);
    }
    match rest {
        [] => Some(((name, n), rest)),
        [b'\n', tail @ ..] => {
            let mut tail = tail;
            while let [b'\n', t @ ..] = tail {
                tail = t;
            }
            Some(((name, n), tail))
        }
        _ => None,
    }
}

impl Sample {
    /// Parse /proc/meminfo text (used on captured text in tests, and by `read`).
    pub fn parse<R: BufRead>(mut r: R) -> anyhow::Result<Sample> {
        let mut text = String::new();
        r.read_to_string(&mut text)
            .context("reading /proc/meminfo text")?;
        Self::parse_str(&text)
    }

    /// Parse /proc/meminfo text: lines "Name:   value kB" (or a bare count), in any order,
    /// of which vmtop keeps fifteen (lines it does not use may come and go with kernels, but a
    /// line that is not of that shape is an error that quotes it: this is not meminfo).
    /// MemTotal, MemFree and the three Vmalloc lines must be present (a truncated file is an
    /// error, not zeros); MemAvailable may be missing (before 3.14), the highmem lines are
    /// there on 32-bit kernels only.
    pub fn parse_str(text: &str) -> anyhow::Result<Sample> {
        parse_all(text).map(|(s, _)| s)
    }

    /// Read the running kernel's /proc/meminfo.
    pub fn read() -> anyhow::Result<Sample> {
        Self::read_from(Path::new("/proc/meminfo"))
    }

    pub fn read_from(path: &Path) -> anyhow::Result<Sample> {
        MeminfoReader::open(path)?.read()
    }

    /// MemAvailable, or MemFree on kernels that lack it.
    pub fn available(&self) -> u64 {
        self.mem_available.unwrap_or(self.mem_free)
    }
}

/// Parse /proc/meminfo text (see `Sample::parse_str`): the sample and the kernel-memory
/// figures, from one pass over the lines.
fn parse_all(text: &str) -> anyhow::Result<(Sample, KernelMemory)> {
    let mut v = [None; WANTED.len()];
    let mut rest = text.trim_start_matches('\n').as_bytes();
    while !rest.is_empty() {
        let line = rest;
        let ((name, n), tail) = meminfo_line(rest).ok_or_else(|| {
            let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
            anyhow::anyhow!(
                "parsing /proc/meminfo: cannot read {:?}",
                String::from_utf8_lossy(&line[..end])
            )
        })?;
        rest = tail;
        if let Some(i) = wanted(name) {
            v[i] = Some(n);
        }
    }
    let need = |i: usize| {
        v[i].ok_or_else(|| anyhow::anyhow!("parsing /proc/meminfo: no {} line", WANTED[i]))
    };
    let sample = Sample {
        mem_total: need(0)?,
        mem_free: need(1)?,
        mem_available: v[2],
        vmalloc_total: need(3)?,
        vmalloc_used: need(4)?,
        vmalloc_chunk: need(5)?,
        // The kernel prints the four lines together, under CONFIG_HIGHMEM.
        highmem: match (v[6], v[7], v[8], v[9]) {
            (Some(lt), Some(lf), Some(ht), Some(hf)) => Highmem::from_bytes(lt, lf, ht, hf),
            _ => None,
        },
    };
    let kernel = KernelMemory {
        slab: v[10].unwrap_or(0),
        s_unreclaim: v[11],
        kernel_stack: v[12],
        page_tables: v[13],
        percpu: v[14],
        vmalloc_used: sample.vmalloc_used,
    };
    Ok((sample, kernel))
}

/// Kernel memory at a glance (the kernel-memory line), bytes; None where this kernel does not
/// print the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct KernelMemory {
    /// Slab: SReclaimable + SUnreclaim.
    pub slab: u64,
    /// Slab that cannot be reclaimed: a leak shows here.
    pub s_unreclaim: Option<u64>,
    /// Kernel stacks of every task (vmalloc'ed with CONFIG_VMAP_STACK, so in VmallocUsed too).
    pub kernel_stack: Option<u64>,
    pub page_tables: Option<u64>,
    /// Per-CPU allocations (Linux 4.16+; their chunks are vmalloc areas too).
    pub percpu: Option<u64>,
    pub vmalloc_used: u64,
}

impl KernelMemory {
    /// From /proc/meminfo text.
    #[cfg(test)]
    pub fn parse_str(text: &str) -> anyhow::Result<KernelMemory> {
        parse_all(text).map(|(_, k)| k)
    }

    /// "Slab 9.02 MiB (unreclaimable 8.15 MiB) · stacks 984 KiB · page tables 96.0 KiB ·
    /// per-CPU 552 KiB · VmallocUsed 105 MiB", figures this kernel lacks left out.
    pub fn line(&self) -> String {
        use crate::units::fmt_bytes;
        let mut parts = vec![match self.s_unreclaim {
            Some(u) => format!(
                "Slab {} (unreclaimable {})",
                fmt_bytes(self.slab),
                fmt_bytes(u)
            ),
            None => format!("Slab {}", fmt_bytes(self.slab)),
        }];
        let opt = |name: &str, v: Option<u64>| v.map(|v| format!("{name} {}", fmt_bytes(v)));
        parts.extend(opt("stacks", self.kernel_stack));
        parts.extend(opt("page tables", self.page_tables));
        parts.extend(opt("per-CPU", self.percpu));
        parts.push(format!("VmallocUsed {}", fmt_bytes(self.vmalloc_used)));
        parts.join(" · ")
    }
}

/// /proc/meminfo kept open for repeated reads.
pub struct MeminfoReader {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    /// The kernel-memory figures of the last read.
    kernel: Option<KernelMemory>,
}

impl MeminfoReader {
    pub fn open(path: &Path) -> anyhow::Result<MeminfoReader> {
        let file = File::open(path)
            .with_context(|| format!("opening {} to sample memory", path.display()))?;
        Ok(MeminfoReader {
            path: path.to_path_buf(),
            file,
            // /proc/meminfo is about 1.5 KiB: the first read sizes this to 4 KiB.
            buf: Vec::new(),
            kernel: None,
        })
    }

    /// The kernel-memory figures of the last successful read.
    pub fn kernel_memory(&self) -> Option<KernelMemory> {
        self.kernel
    }

    /// Read the file again from its start (procfs generates it afresh) and parse it: one
    /// `pread`, nothing else.
    pub fn read(&mut self) -> anyhow::Result<Sample> {
        let len = super::read_all(&self.file, &mut self.buf)
            .with_context(|| format!("reading {}", self.path.display()))?;
        let text = std::str::from_utf8(&self.buf[..len])
            .with_context(|| format!("{} is not text", self.path.display()))?;
        let (sample, kernel) =
            parse_all(text).with_context(|| format!("reading {}", self.path.display()))?;
        self.kernel = Some(kernel);
        Ok(sample)
    }
}

/// One point of a time series: when it was taken and what was read (None = gap).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Seconds since the session started.
    pub t: f64,
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub unix_ms: u64,
    pub sample: Option<Sample>,
    /// Largest free range of the vmalloc space from /proc/vmallocinfo, where readable: the
    /// latest reading, which may be a few seconds old (see `VMALLOCINFO_PERIOD`).
    pub vmalloc_largest_free: Option<u64>,
}

/// How often the sampler re-reads /proc/vmallocinfo when nothing moves. The file lists every
/// vmalloc/vmap area (thousands of lines) and the kernel walks them all to print it: about
/// 1.5 ms of system time per read on a small machine, charged to the reader. At 10 Hz that
/// would be 1.5 % of a core for one figure that changes only when big areas come and go.
pub const VMALLOCINFO_PERIOD: Duration = Duration::from_secs(5);
/// A change of VmallocUsed this large since the last read (a load or unload) makes the
/// sampler re-read /proc/vmallocinfo early...
pub const VMALLOCINFO_TRIGGER_BYTES: u64 = crate::units::MIB;
/// ...but not more often than this (VmallocUsed also moves with task stacks on a busy system).
pub const VMALLOCINFO_MIN_GAP: Duration = Duration::from_secs(1);

/// The last /proc/vmallocinfo reading.
#[derive(Debug, Clone, Copy, PartialEq)]
struct GapReading {
    /// Session time of the read.
    t: f64,
    /// VmallocUsed at that time.
    vmalloc_used: u64,
    largest_free: Option<u64>,
}

/// Whether /proc/vmallocinfo is due for a re-read at session time `t` with VmallocUsed `used`.
fn vmallocinfo_due(last: Option<&GapReading>, t: f64, used: u64) -> bool {
    let Some(last) = last else {
        return true;
    };
    let age = t - last.t;
    age >= VMALLOCINFO_PERIOD.as_secs_f64()
        || (age >= VMALLOCINFO_MIN_GAP.as_secs_f64()
            && used.abs_diff(last.vmalloc_used) >= VMALLOCINFO_TRIGGER_BYTES)
}

/// What the sampler keeps between samples.
struct SamplerState {
    /// Open /proc/meminfo; None until opened (again) after a failure.
    meminfo: Option<MeminfoReader>,
    /// The last /proc/vmallocinfo reading (only when it is usable at all).
    gap: Option<GapReading>,
}

/// Takes time-stamped samples relative to one start instant.
pub struct Sampler {
    start: Instant,
    meminfo_path: PathBuf,
    vmallocinfo: bool,
    state: std::cell::RefCell<SamplerState>,
}

impl Sampler {
    pub fn new() -> Sampler {
        Sampler {
            start: Instant::now(),
            meminfo_path: "/proc/meminfo".into(),
            vmallocinfo: crate::system::vmallocinfo::availability().is_usable(),
            state: std::cell::RefCell::new(SamplerState {
                meminfo: None,
                gap: None,
            }),
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// One point; a failed read is recorded as a gap.
    pub fn sample(&self) -> Point {
        let t = self.elapsed();
        let unix_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64;
        let mut state = self.state.borrow_mut();
        let sample = self.read_meminfo(&mut state);
        let vmalloc_largest_free = match sample {
            Some(s) if self.vmallocinfo => {
                if vmallocinfo_due(state.gap.as_ref(), t, s.vmalloc_used) {
                    state.gap = Some(GapReading {
                        t,
                        vmalloc_used: s.vmalloc_used,
                        largest_free: crate::system::vmallocinfo::layout_with_total(
                            s.vmalloc_total,
                        )
                        .ok()
                        .map(|l| l.largest_free),
                    });
                }
                state.gap.and_then(|g| g.largest_free)
            }
            _ => None,
        };
        Point {
            t,
            unix_ms,
            sample,
            vmalloc_largest_free,
        }
    }

    /// The kernel-memory figures of the last sample (None before one, or after a failed read).
    pub fn kernel_memory(&self) -> Option<KernelMemory> {
        self.state.borrow().meminfo.as_ref()?.kernel_memory()
    }

    /// Read through the open file; on failure close it, so that the next sample opens it anew.
    fn read_meminfo(&self, state: &mut SamplerState) -> Option<Sample> {
        if state.meminfo.is_none() {
            state.meminfo = MeminfoReader::open(&self.meminfo_path).ok();
        }
        let read = state.meminfo.as_mut()?.read();
        match read {
            Ok(s) => Some(s),
            Err(_) => {
                state.meminfo = None;
                None
            }
        }
    }
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

/// Change between two samples, in bytes (after minus before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Delta {
    pub mem_free: i64,
    pub mem_available: i64,
    pub vmalloc_used: i64,
}

impl Delta {
    pub fn between(before: &Sample, after: &Sample) -> Delta {
        let d = |a: u64, b: u64| a as i64 - b as i64;
        Delta {
            mem_free: d(after.mem_free, before.mem_free),
            mem_available: d(after.available(), before.available()),
            vmalloc_used: d(after.vmalloc_used, before.vmalloc_used),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A /proc fixture's text without its header, the `#` lines that say where and how
    /// scripts/capture-fixtures.sh captured it.
    pub(crate) fn proc_text(fixture: &str) -> String {
        fixture
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// /proc/meminfo of the idle 1024 MiB lab VM (Debian 6.1).
    pub(crate) fn lab_idle() -> Sample {
        Sample::parse_str(&proc_text(include_str!(
            "../../testdata/meminfo-6.1-lab-1g.txt"
        )))
        .expect("the lab's idle meminfo parses")
    }

    /// /proc/meminfo of the lab VM with the module holding 64 MiB.
    fn loaded64() -> String {
        proc_text(include_str!("../../testdata/meminfo-6.1-loaded64.txt"))
    }

    #[test]
    fn parses_captured_meminfo_in_bytes() {
        let s = Sample::parse(loaded64().as_bytes()).expect("parse");
        assert_eq!(s.mem_total, 981_476 * 1024);
        assert_eq!(s.mem_free, 852_264 * 1024);
        assert_eq!(s.mem_available, Some(785_468 * 1024));
        assert_eq!(s.vmalloc_total, 13_743_895_347_199 * 1024);
        assert_eq!(s.vmalloc_used, 71_348 * 1024);
        assert_eq!(s.vmalloc_chunk, 0);
        // Idle, VmallocUsed is 64 MiB and a few pages lower.
        let idle = lab_idle();
        assert_eq!(idle.mem_total, s.mem_total);
        assert_eq!(idle.vmalloc_used, 5_628 * 1024);
    }

    #[test]
    fn the_fixture_header_is_not_meminfo() {
        let raw = include_str!("../../testdata/meminfo-6.1-loaded64.txt");
        assert!(raw.starts_with("# Captured in the lab"), "{raw}");
        assert!(Sample::parse_str(raw).is_err());
    }

    #[test]
    fn highmem_only_where_the_kernel_prints_it() {
        assert_eq!(
            Sample::parse(loaded64().as_bytes()).expect("parse").highmem,
            None
        );
        // The 32-bit lab's capture.
        let text = proc_text(include_str!("../../testdata/meminfo-i686-lab-1g.txt"));
        let s = Sample::parse_str(&text).expect("parse");
        let h = s.highmem.expect("highmem");
        assert_eq!(
            (h.low_total(), h.low_free(), h.high_total(), h.high_free()),
            (
                874_208 * 1024,
                846_492 * 1024,
                147_336 * 1024,
                132_688 * 1024
            )
        );
        // 16 bytes a sample: the history keeps thousands.
        assert_eq!(std::mem::size_of::<Option<Highmem>>(), 16);
        assert_eq!(Highmem::from_bytes(0, 0, 1024, 0), None);
        assert_eq!(s.vmalloc_total, 122_880 * 1024);
    }

    #[test]
    fn truncated_meminfo_is_an_error_not_zeros() {
        let e = Sample::parse("MemTotal: 1000 kB\n".as_bytes()).expect_err("truncated");
        assert!(format!("{e:#}").contains("no MemFree line"), "{e:#}");
        let cut = loaded64()
            .lines()
            .filter(|l| !l.starts_with("VmallocChunk"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(Sample::parse_str(&cut).is_err());
    }

    #[test]
    fn missing_mem_available_is_none_and_junk_values_are_errors() {
        let text = loaded64();
        let old = text
            .lines()
            .filter(|l| !l.starts_with("MemAvailable"))
            .collect::<Vec<_>>()
            .join("\n");
        let s = Sample::parse_str(&old).expect("parse");
        assert_eq!(s.mem_available, None);
        assert_eq!(s.available(), s.mem_free);
        for bad in ["MemFree: lots kB", "MemFree:", "MemFree: -5 kB"] {
            let text = text.replace("MemFree:          852264 kB", bad);
            let e = Sample::parse_str(&text).expect_err(bad);
            assert!(format!("{e:#}").contains("MemFree"), "{bad}: {e:#}");
        }
        // Lines vmtop does not use may come and go.
        let more = format!("{text}NewInSomeKernel:   42 kB\nHugePages_New:    7\n");
        assert_eq!(
            Sample::parse_str(&more).expect("parse"),
            Sample::parse_str(&text).expect("parse")
        );
    }

    #[test]
    fn meminfo_lines_as_the_kernel_prints_them() {
        let ok = |l: &str| meminfo_line(l.as_bytes()).map(|((n, v), _)| (n.to_vec(), v));
        assert_eq!(
            ok("MemTotal:        1002084 kB"),
            Some((b"MemTotal".to_vec(), 1_002_084 * 1024))
        );
        assert_eq!(
            ok("HugePages_Total:       0"),
            Some((b"HugePages_Total".to_vec(), 0))
        );
        assert_eq!(
            ok("Active(anon):      12 kB\r"),
            Some((b"Active(anon)".to_vec(), 12 * 1024))
        );
        for bad in [
            "MemTotal: 12kB",
            "MemTotal: 1 MB",
            "MemTotal 5 kB",
            "MemTotal: kB",
            "MemTotal: 5 kB kB",
            "MemTotal: 99999999999999999999 kB",
            "MemTotal: 18014398509481984 kB",
            "MemTotal\n: 5",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }

    #[test]
    fn reader_rereads_the_same_open_file() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("meminfo");
        std::fs::write(&path, loaded64()).expect("write");
        let mut r = MeminfoReader::open(&path).expect("open");
        let a = r.read().expect("first read");
        let b = r.read().expect("second read");
        assert_eq!(a, b);
        assert_eq!(a.mem_free, 852_264 * 1024);
        dir.close().expect("clean up");
        assert!(MeminfoReader::open(&path).is_err());
    }

    #[test]
    fn live_meminfo_reads_twice() {
        let mut r = MeminfoReader::open(Path::new("/proc/meminfo")).expect("open /proc/meminfo");
        let a = r.read().expect("read");
        let b = r.read().expect("read again");
        assert_eq!(a.mem_total, b.mem_total);
        assert!(a.mem_total > 0 && a.mem_free <= a.mem_total);
    }

    #[test]
    fn vmallocinfo_is_reread_periodically_or_after_a_big_change() {
        let last = GapReading {
            t: 10.0,
            vmalloc_used: 100 * crate::units::MIB,
            largest_free: Some(1),
        };
        let used = last.vmalloc_used;
        assert!(vmallocinfo_due(None, 0.0, used));
        // Nothing moves: every VMALLOCINFO_PERIOD.
        assert!(!vmallocinfo_due(Some(&last), 10.1, used));
        assert!(!vmallocinfo_due(Some(&last), 14.9, used + 4096));
        assert!(vmallocinfo_due(Some(&last), 15.0, used));
        // A load of 64 MiB: early, but not within VMALLOCINFO_MIN_GAP of the last read.
        let loaded = used + 64 * crate::units::MIB;
        assert!(!vmallocinfo_due(Some(&last), 10.5, loaded));
        assert!(vmallocinfo_due(Some(&last), 11.0, loaded));
        // An unload counts the same.
        assert!(vmallocinfo_due(
            Some(&last),
            11.0,
            used - 2 * crate::units::MIB
        ));
    }

    #[test]
    fn delta_is_after_minus_before() {
        let a = lab_idle();
        let mut b = a;
        b.vmalloc_used += 64 * crate::units::MIB;
        b.mem_free -= 65 * crate::units::MIB;
        let d = Delta::between(&a, &b);
        assert_eq!(d.vmalloc_used, 64 * crate::units::MIB as i64);
        assert_eq!(d.mem_free, -65 * crate::units::MIB as i64);
        assert_eq!(d.mem_available, 0);
    }

    /// The kernel-memory line's figures on each lab kernel, with the module holding 100 MiB
    /// (scripts/capture-fixtures.sh cases areas-100, areas-i686).
    #[test]
    fn kernel_memory_of_each_lab_kernel() {
        for (fixture, percpu) in [
            (
                include_str!("../../testdata/meminfo-6.1-x86_64-100m.txt"),
                true,
            ),
            (
                include_str!("../../testdata/meminfo-6.12-x86_64-100m.txt"),
                true,
            ),
            (include_str!("../../testdata/meminfo-i686-100m.txt"), true),
        ] {
            let text: String = fixture
                .lines()
                .filter(|l| !l.starts_with('#'))
                .flat_map(|l| [l, "\n"])
                .collect();
            let k = KernelMemory::parse_str(&text).expect("meminfo");
            let kib = |key: &str| {
                text.lines()
                    .find(|l| l.split(':').next() == Some(key))
                    .and_then(|l| l.split_ascii_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(|v| v * 1024)
            };
            assert_eq!(Some(k.slab), kib("Slab"));
            assert_eq!(k.s_unreclaim, kib("SUnreclaim"));
            assert_eq!(k.kernel_stack, kib("KernelStack"));
            assert_eq!(k.page_tables, kib("PageTables"));
            assert_eq!(k.percpu.is_some(), percpu);
            assert_eq!(Some(k.vmalloc_used), kib("VmallocUsed"));
            // The module's 100 MiB is in VmallocUsed.
            assert!(k.vmalloc_used > 100 * crate::units::MIB);
            let line = k.line();
            assert!(
                line.starts_with("Slab ")
                    && line.contains("unreclaimable")
                    && line.contains("VmallocUsed"),
                "{line}"
            );
        }
    }
}
