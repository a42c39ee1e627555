//! Memory pressure from /proc/pressure/memory (PSI, Linux 4.20+, CONFIG_PSI; off at boot
//! with `psi=0` or CONFIG_PSI_DEFAULT_DISABLED without `psi=1`):
//!
//! ```text
//! some avg10=0.00 avg60=0.00 avg300=0.00 total=0
//! full avg10=0.00 avg60=0.00 avg300=0.00 total=0
//! ```
//!
//! `some`: the share of the last 10, 60, 300 s in which at least one task waited for memory
//! (reclaim, refaults, compaction), in percent; `full`: all non-idle tasks at once; `total`:
//! the stall time in microseconds since boot. The `full` line exists since Linux 5.13 for
//! memory... and always was for memory (only the CPU file lacked it before 5.13).

use std::fs::File;

use serde::Serialize;

pub const PATH: &str = "/proc/pressure/memory";

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pressure {
    /// `some avg10`, percent.
    pub some_avg10: f32,
    /// `full avg10`, percent.
    pub full_avg10: f32,
    /// `some total`, microseconds.
    pub some_total_us: u64,
    /// `full total`, microseconds.
    pub full_total_us: u64,
}

impl Pressure {
    /// Parse the file's text; None when the `some` line is missing or unreadable.
    pub fn parse(text: &str) -> Option<Pressure> {
        let mut p = Pressure {
            some_avg10: 0.0,
            full_avg10: 0.0,
            some_total_us: 0,
            full_total_us: 0,
        };
        let mut some = false;
        for line in text.lines() {
            let mut words = line.split_ascii_whitespace();
            let which = words.next();
            let (mut avg10, mut total) = (None, None);
            for w in words {
                match w.split_once('=') {
                    Some(("avg10", v)) => avg10 = v.parse::<f32>().ok(),
                    Some(("total", v)) => total = v.parse::<u64>().ok(),
                    _ => {}
                }
            }
            match (which, avg10, total) {
                (Some("some"), Some(a), Some(t)) => {
                    p.some_avg10 = a;
                    p.some_total_us = t;
                    some = true;
                }
                (Some("full"), Some(a), Some(t)) => {
                    p.full_avg10 = a;
                    p.full_total_us = t;
                }
                _ => {}
            }
        }
        some.then_some(p)
    }

    /// "some 0.00% full 0.00%" (avg10).
    pub fn short(&self) -> String {
        format!("some {:.2}% full {:.2}%", self.some_avg10, self.full_avg10)
    }
}

/// Why PSI cannot be read, in words that say what to do.
pub fn explain_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            "no /proc/pressure/memory: this kernel has no PSI (CONFIG_PSI, Linux 4.20+)".into()
        }
        // The file exists but reading it fails when PSI is off at boot.
        std::io::ErrorKind::Unsupported => {
            "PSI is off on this kernel (boot with psi=1 to turn it on)".into()
        }
        _ if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
            "PSI is off on this kernel (boot with psi=1 to turn it on)".into()
        }
        _ => format!("reading {PATH}: {e}"),
    }
}

/// /proc/pressure/memory kept open: one `pread` per sample (`super::read_all`).
#[derive(Debug, Default)]
pub struct PressureReader {
    file: Option<File>,
    buf: Vec<u8>,
}

/// A copy opens the file again at its first read.
impl Clone for PressureReader {
    fn clone(&self) -> PressureReader {
        PressureReader::default()
    }
}

impl PressureReader {
    /// A reader of another file instead of /proc/pressure/memory (the tests).
    #[cfg(test)]
    pub fn of_file(file: File) -> PressureReader {
        PressureReader {
            file: Some(file),
            buf: Vec::new(),
        }
    }

    /// A reading, or why there is none (`explain_error`).
    pub fn read(&mut self) -> Result<Pressure, String> {
        if self.file.is_none() {
            self.file = Some(File::open(PATH).map_err(|e| explain_error(&e))?);
        }
        let Some(f) = self.file.as_ref() else {
            return Err(format!("{PATH} is not open"));
        };
        let len = match super::read_all(f, &mut self.buf) {
            Ok(len) => len,
            Err(e) => {
                self.file = None;
                return Err(explain_error(&e));
            }
        };
        let text = String::from_utf8_lossy(&self.buf[..len]);
        Pressure::parse(&text).ok_or_else(|| format!("{PATH} has no `some avg10=… total=…` line"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(fixture: &str) -> String {
        fixture
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| [l, "\n"])
            .collect()
    }

    #[test]
    fn each_lab_kernel_reads() {
        for fixture in [
            include_str!("../../testdata/pressure-memory-6.1-x86_64.txt"),
            include_str!("../../testdata/pressure-memory-6.12-x86_64.txt"),
            include_str!("../../testdata/pressure-memory-i686.txt"),
        ] {
            let p = Pressure::parse(&body(fixture)).expect("both lines");
            assert_eq!(p.some_avg10, 0.0);
            assert_eq!(p.short(), "some 0.00% full 0.00%");
        }
    }

    #[test]
    fn figures_and_junk() {
        let p = Pressure::parse(
            "some avg10=12.50 avg60=3.00 avg300=0.50 total=123456\nfull avg10=4.25 avg60=1.00 avg300=0.10 total=6543\n",
        )
        .expect("pressure");
        assert_eq!((p.some_avg10, p.full_avg10), (12.5, 4.25));
        assert_eq!((p.some_total_us, p.full_total_us), (123456, 6543));
        assert_eq!(Pressure::parse(""), None);
        assert_eq!(Pressure::parse("some avg10=x total=1\n"), None);
        // Without the full line (a CPU-like file): some alone.
        assert_eq!(
            Pressure::parse("some avg10=1.00 avg60=0 avg300=0 total=5\n").map(|p| p.full_avg10),
            Some(0.0)
        );
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = explain_error(&std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(e.contains("CONFIG_PSI"), "{e}");
        let e = explain_error(&std::io::Error::from_raw_os_error(libc::EOPNOTSUPP));
        assert!(e.contains("psi=1"), "{e}");
    }
}
