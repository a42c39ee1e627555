//! Memory figures from /proc/meminfo, read through the procfs crate.
//!
//! A `Sample` holds the six figures vmtop plots, in bytes. A read that fails is a gap
//! (`None` in the history), never a zero.

use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use procfs::FromBufRead;
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
}

impl Sample {
    /// Parse /proc/meminfo text (used on captured text in tests, and by `read`).
    pub fn parse<R: BufRead>(r: R) -> anyhow::Result<Sample> {
        let m = procfs::Meminfo::from_buf_read(r).context("parsing /proc/meminfo")?;
        Ok(Sample {
            mem_total: m.mem_total,
            mem_free: m.mem_free,
            mem_available: m.mem_available,
            vmalloc_total: m.vmalloc_total,
            vmalloc_used: m.vmalloc_used,
            vmalloc_chunk: m.vmalloc_chunk,
        })
    }

    /// Read the running kernel's /proc/meminfo.
    pub fn read() -> anyhow::Result<Sample> {
        Self::read_from(Path::new("/proc/meminfo"))
    }

    pub fn read_from(path: &Path) -> anyhow::Result<Sample> {
        let f = std::fs::File::open(path)
            .with_context(|| format!("opening {} to sample memory", path.display()))?;
        Self::parse(std::io::BufReader::new(f))
            .with_context(|| format!("reading {}", path.display()))
    }

    /// MemAvailable, or MemFree on kernels that lack it.
    pub fn available(&self) -> u64 {
        self.mem_available.unwrap_or(self.mem_free)
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
    /// Largest free range of the vmalloc space from /proc/vmallocinfo, where readable.
    pub vmalloc_largest_free: Option<u64>,
}

/// Takes time-stamped samples relative to one start instant.
pub struct Sampler {
    start: Instant,
    meminfo: std::path::PathBuf,
    vmallocinfo: bool,
}

impl Sampler {
    pub fn new() -> Sampler {
        Sampler {
            start: Instant::now(),
            meminfo: "/proc/meminfo".into(),
            vmallocinfo: crate::vmallocinfo::availability().is_usable(),
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
        let sample = Sample::read_from(&self.meminfo).ok();
        let vmalloc_largest_free = if self.vmallocinfo {
            crate::vmallocinfo::largest_free_now()
        } else {
            None
        };
        Point {
            t,
            unix_ms,
            sample,
            vmalloc_largest_free,
        }
    }
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

/// Change between two samples, in bytes (after minus before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
mod tests {
    use super::*;

    // Captured from the lab VM (Debian 6.1, 1024 MiB) with the module holding 64 MiB.
    pub const LAB_MEMINFO: &str = include_str!("../testdata/meminfo-6.1-loaded64.txt");

    #[test]
    fn parses_captured_meminfo_in_bytes() {
        let s = Sample::parse(LAB_MEMINFO.as_bytes()).expect("parse");
        assert_eq!(s.mem_total, 981_476 * 1024);
        assert_eq!(s.mem_free, 830_524 * 1024);
        assert_eq!(s.mem_available, Some(763_804 * 1024));
        assert_eq!(s.vmalloc_total, 13_743_895_347_199 * 1024);
        assert_eq!(s.vmalloc_used, 71_352 * 1024);
        assert_eq!(s.vmalloc_chunk, 0);
    }

    #[test]
    fn truncated_meminfo_is_an_error_not_zeros() {
        assert!(Sample::parse("MemTotal: 1000 kB\n".as_bytes()).is_err());
    }

    #[test]
    fn delta_is_after_minus_before() {
        let a = Sample::parse(LAB_MEMINFO.as_bytes()).expect("parse");
        let mut b = a;
        b.vmalloc_used += 64 * crate::units::MIB;
        b.mem_free -= 65 * crate::units::MIB;
        let d = Delta::between(&a, &b);
        assert_eq!(d.vmalloc_used, 64 * crate::units::MIB as i64);
        assert_eq!(d.mem_free, -65 * crate::units::MIB as i64);
        assert_eq!(d.mem_available, 0);
    }
}
