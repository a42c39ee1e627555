//! Samples to CSV or JSON Lines, and back (for tests and for checking a recording).
//!
//! Both formats carry the same columns, named with their unit:
//! `t_s` (seconds since the session started), `unix_ms` (wall clock), and the memory figures
//! in KiB as /proc/meminfo gives them. A gap (a read that failed, or a figure this kernel or
//! user cannot read) is an empty CSV field or JSON `null`, never 0.
//!
//! JSONL starts with a header object `{"vmtop_record":1,"units":{…}}`; CSV with a header row.

use std::io::Write;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use crate::system::meminfo::{Point, Sample};
use crate::units::KIB;

/// Version in the JSONL header; bump when columns change meaning.
pub const JSONL_VERSION: u64 = 1;

/// Column names, in CSV order.
pub const COLUMNS: [&str; 9] = [
    "t_s",
    "unix_ms",
    "mem_total_kib",
    "mem_free_kib",
    "mem_available_kib",
    "vmalloc_total_kib",
    "vmalloc_used_kib",
    "vmalloc_chunk_kib",
    "vmalloc_largest_free_kib",
];

/// Unit of each column, as written in the JSONL header.
pub const UNITS: [(&str, &str); 9] = [
    ("t_s", "s since session start"),
    ("unix_ms", "ms since Unix epoch"),
    ("mem_total_kib", "KiB"),
    ("mem_free_kib", "KiB"),
    ("mem_available_kib", "KiB"),
    ("vmalloc_total_kib", "KiB"),
    ("vmalloc_used_kib", "KiB"),
    ("vmalloc_chunk_kib", "KiB"),
    ("vmalloc_largest_free_kib", "KiB"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// From a file name: `.csv` → Csv, `.jsonl`/`.ndjson`/`.json` → Jsonl.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            _ => Err(format!("unknown record format {s:?}: use csv or jsonl")),
        }
    }
}

/// One row as written: every figure in KiB, None = gap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Row {
    t_s: f64,
    unix_ms: u64,
    mem_total_kib: Option<u64>,
    mem_free_kib: Option<u64>,
    mem_available_kib: Option<u64>,
    vmalloc_total_kib: Option<u64>,
    vmalloc_used_kib: Option<u64>,
    vmalloc_chunk_kib: Option<u64>,
    vmalloc_largest_free_kib: Option<u64>,
}

impl Row {
    fn from_point(p: &Point) -> Row {
        let s = p.sample.as_ref();
        let kib = |b: u64| b / KIB;
        Row {
            // Milliseconds are plenty for 10 Hz samples, and keep the files readable.
            t_s: (p.t * 1000.0).round() / 1000.0,
            unix_ms: p.unix_ms,
            mem_total_kib: s.map(|s| kib(s.mem_total)),
            mem_free_kib: s.map(|s| kib(s.mem_free)),
            mem_available_kib: s.and_then(|s| s.mem_available).map(kib),
            vmalloc_total_kib: s.map(|s| kib(s.vmalloc_total)),
            vmalloc_used_kib: s.map(|s| kib(s.vmalloc_used)),
            vmalloc_chunk_kib: s.map(|s| kib(s.vmalloc_chunk)),
            vmalloc_largest_free_kib: p.vmalloc_largest_free.map(kib),
        }
    }

    fn into_point(self) -> anyhow::Result<Point> {
        let always = [
            self.mem_total_kib,
            self.mem_free_kib,
            self.vmalloc_total_kib,
            self.vmalloc_used_kib,
            self.vmalloc_chunk_kib,
        ];
        let sample = match always {
            [Some(mt), Some(mf), Some(vt), Some(vu), Some(vc)] => Some(Sample {
                mem_total: mt * KIB,
                mem_free: mf * KIB,
                mem_available: self.mem_available_kib.map(|v| v * KIB),
                vmalloc_total: vt * KIB,
                vmalloc_used: vu * KIB,
                vmalloc_chunk: vc * KIB,
                highmem: None,
            }),
            [None, None, None, None, None] if self.mem_available_kib.is_none() => None,
            _ => {
                bail!("a sample is only partly present (meminfo figures are all there or all gaps)")
            }
        };
        Ok(Point {
            t: self.t_s,
            unix_ms: self.unix_ms,
            sample,
            vmalloc_largest_free: self.vmalloc_largest_free_kib.map(|v| v * KIB),
        })
    }

    fn fields(&self) -> [Option<u64>; 7] {
        [
            self.mem_total_kib,
            self.mem_free_kib,
            self.mem_available_kib,
            self.vmalloc_total_kib,
            self.vmalloc_used_kib,
            self.vmalloc_chunk_kib,
            self.vmalloc_largest_free_kib,
        ]
    }
}

#[derive(Serialize, Deserialize)]
struct JsonHeader {
    vmtop_record: u64,
    units: serde_json::Map<String, serde_json::Value>,
}

/// Write the header: the CSV header row, or the JSONL header object.
pub fn write_header(w: &mut impl Write, format: Format) -> std::io::Result<()> {
    match format {
        Format::Csv => writeln!(w, "{}", COLUMNS.join(",")),
        Format::Jsonl => {
            let header = JsonHeader {
                vmtop_record: JSONL_VERSION,
                units: UNITS
                    .iter()
                    .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                    .collect(),
            };
            serde_json::to_writer(&mut *w, &header)?;
            writeln!(w)
        }
    }
}

/// Write one point. Figures are written in KiB (whole KiB: /proc/meminfo has no finer grain);
/// `t` is rounded to milliseconds.
pub fn write_point(w: &mut impl Write, format: Format, p: &Point) -> std::io::Result<()> {
    let row = Row::from_point(p);
    match format {
        Format::Csv => {
            write!(w, "{:.3},{}", row.t_s, row.unix_ms)?;
            for f in row.fields() {
                match f {
                    Some(v) => write!(w, ",{v}")?,
                    None => write!(w, ",")?,
                }
            }
            writeln!(w)
        }
        Format::Jsonl => {
            serde_json::to_writer(&mut *w, &row)?;
            writeln!(w)
        }
    }
}

/// Parse a CSV recording (header row required) back into points.
pub fn parse_csv(text: &str) -> anyhow::Result<Vec<Point>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .context("CSV recording is empty: no header row")?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    if names != COLUMNS {
        bail!("CSV header is {header:?}, expected {:?}", COLUMNS.join(","));
    }
    lines
        .map(|(i, line)| parse_csv_row(line).with_context(|| format!("CSV line {}", i + 1)))
        .collect()
}

fn parse_csv_row(line: &str) -> anyhow::Result<Point> {
    let cells: Vec<&str> = line.split(',').map(str::trim).collect();
    if cells.len() != COLUMNS.len() {
        bail!(
            "{} fields, expected {}: {line:?}",
            cells.len(),
            COLUMNS.len()
        );
    }
    let opt = |i: usize| -> anyhow::Result<Option<u64>> {
        let c = cells[i];
        if c.is_empty() {
            Ok(None)
        } else {
            c.parse()
                .map(Some)
                .with_context(|| format!("{} is not a whole number: {c:?}", COLUMNS[i]))
        }
    };
    let row = Row {
        t_s: cells[0]
            .parse()
            .with_context(|| format!("t_s is not a number: {:?}", cells[0]))?,
        unix_ms: opt(1)?.context("unix_ms is missing")?,
        mem_total_kib: opt(2)?,
        mem_free_kib: opt(3)?,
        mem_available_kib: opt(4)?,
        vmalloc_total_kib: opt(5)?,
        vmalloc_used_kib: opt(6)?,
        vmalloc_chunk_kib: opt(7)?,
        vmalloc_largest_free_kib: opt(8)?,
    };
    row.into_point()
}

/// Parse a JSONL recording (header object required) back into points.
pub fn parse_jsonl(text: &str) -> anyhow::Result<Vec<Point>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines
        .next()
        .context("JSONL recording is empty: no header line")?;
    let header: JsonHeader = serde_json::from_str(first)
        .context("JSONL line 1 is not a vmtop header {\"vmtop_record\":1,\"units\":{…}}")?;
    if header.vmtop_record != JSONL_VERSION {
        bail!(
            "JSONL recording is version {}, this vmtop reads version {JSONL_VERSION}",
            header.vmtop_record
        );
    }
    lines
        .map(|(i, line)| {
            serde_json::from_str::<Row>(line)
                .context("not a sample object")
                .and_then(Row::into_point)
                .with_context(|| format!("JSONL line {}", i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> Vec<Point> {
        let s = crate::system::meminfo::tests::lab_idle();
        let mut no_avail = s;
        no_avail.mem_available = None;
        vec![
            Point {
                t: 0.0,
                unix_ms: 1_700_000_000_000,
                sample: Some(s),
                vmalloc_largest_free: Some(32 * 1024 * crate::units::GIB),
            },
            // A failed read: a gap, not zeros.
            Point {
                t: 0.1,
                unix_ms: 1_700_000_000_100,
                sample: None,
                vmalloc_largest_free: None,
            },
            // An old kernel without MemAvailable, not root (no vmallocinfo).
            Point {
                t: 12.345,
                unix_ms: 1_700_000_012_345,
                sample: Some(no_avail),
                vmalloc_largest_free: None,
            },
        ]
    }

    fn write_all(format: Format, ps: &[Point]) -> String {
        let mut out = Vec::new();
        write_header(&mut out, format).expect("header");
        for p in ps {
            write_point(&mut out, format, p).expect("point");
        }
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn csv_round_trip() {
        let ps = points();
        let text = write_all(Format::Csv, &ps);
        assert_eq!(parse_csv(&text).expect("parse"), ps);
    }

    #[test]
    fn jsonl_round_trip() {
        let ps = points();
        let text = write_all(Format::Jsonl, &ps);
        assert_eq!(parse_jsonl(&text).expect("parse"), ps);
    }

    #[test]
    fn csv_text_has_units_and_empty_gaps() {
        let text = write_all(Format::Csv, &points());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "t_s,unix_ms,mem_total_kib,mem_free_kib,mem_available_kib,vmalloc_total_kib,vmalloc_used_kib,vmalloc_chunk_kib,vmalloc_largest_free_kib"
        );
        assert_eq!(
            lines[1],
            "0.000,1700000000000,981476,918792,851976,13743895347199,5628,0,34359738368"
        );
        assert_eq!(lines[2], "0.100,1700000000100,,,,,,,");
        assert_eq!(
            lines[3],
            "12.345,1700000012345,981476,918792,,13743895347199,5628,0,"
        );
    }

    #[test]
    fn jsonl_text_has_header_and_nulls() {
        let text = write_all(Format::Jsonl, &points());
        let lines: Vec<&str> = text.lines().collect();
        let header: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
        assert_eq!(header["vmtop_record"], 1);
        assert_eq!(header["units"]["mem_total_kib"], "KiB");
        assert_eq!(header["units"]["t_s"], "s since session start");
        let gap: serde_json::Value = serde_json::from_str(lines[2]).expect("json");
        assert!(gap["mem_total_kib"].is_null());
        assert!(gap["vmalloc_largest_free_kib"].is_null());
        let full: serde_json::Value = serde_json::from_str(lines[1]).expect("json");
        assert_eq!(full["mem_total_kib"], 981_476);
        assert_eq!(full["vmalloc_chunk_kib"], 0);
    }

    #[test]
    fn time_is_rounded_to_milliseconds() {
        let mut p = points()[0];
        p.t = 1.23456789;
        let text = write_all(Format::Csv, &[p]);
        let back = parse_csv(&text).expect("parse");
        assert_eq!(back[0].t, 1.235);
    }

    #[test]
    fn malformed_input_is_an_error_with_its_line() {
        assert!(parse_csv("").is_err());
        assert!(parse_csv("a,b\n").is_err());
        let header = COLUMNS.join(",");
        let e = parse_csv(&format!("{header}\n0.1,5,1,2,3\n")).expect_err("short row");
        assert!(format!("{e:#}").contains("CSV line 2"), "{e:#}");
        let e = parse_csv(&format!("{header}\n0.1,5,x,,,,,,\n")).expect_err("junk");
        assert!(format!("{e:#}").contains("mem_total_kib"), "{e:#}");
        let e = parse_csv(&format!("{header}\n0.1,5,1,,,,,,\n")).expect_err("partial");
        assert!(format!("{e:#}").contains("partly present"), "{e:#}");
        assert!(parse_jsonl("{\"t_s\":0}\n").is_err());
        let e = parse_jsonl("{\"vmtop_record\":2,\"units\":{}}\n").expect_err("version");
        assert!(format!("{e:#}").contains("version 2"), "{e:#}");
        let e = parse_jsonl("{\"vmtop_record\":1,\"units\":{}}\nnot json\n").expect_err("junk");
        assert!(format!("{e:#}").contains("JSONL line 2"), "{e:#}");
    }

    #[test]
    fn format_names() {
        assert_eq!("csv".parse::<Format>(), Ok(Format::Csv));
        assert_eq!("JSONL".parse::<Format>(), Ok(Format::Jsonl));
        assert!("xml".parse::<Format>().is_err());
        assert_eq!(
            Format::from_path(std::path::Path::new("a/run.csv")),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_path(std::path::Path::new("run.jsonl")),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::from_path(std::path::Path::new("run")), None);
    }
}
