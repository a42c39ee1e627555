//! Recordings: samples, and what happened meanwhile (loads, unloads, failures, kernel-log
//! lines), written by `vmtop record` and `vmtop --record`, read back by `vmtop plot` and
//! `vmtop report` (docs/export.md describes the formats).
//!
//! Samples carry the same columns in both formats, named with their unit: `t_s` (seconds
//! since the session started), `unix_ms` (wall clock), and the memory figures in KiB as
//! /proc/meminfo gives them. A gap (a read that failed, or a figure this kernel or user
//! cannot read) is an empty CSV field or JSON `null`, never 0.
//!
//! - **JSON lines**: a header object `{"vmtop_record":2,"units":{…},"machine":{…},…}`, then
//!   one typed object a line: `{"type":"sample",…}`, `{"type":"event",…}` (an `engine::Event`:
//!   kind, memsize, mode, allocator, outcome with the diagnosis, figures, the module's line),
//!   `{"type":"kmsg","t":…,"text":…}`. Version 1 files (a header, then untyped samples) still read.
//! - **CSV**: the header row, then one row per sample, nothing else, so that any CSV reader
//!   takes it; the header object and the events go to a JSON lines file beside it,
//!   `NAME.events.jsonl` (`events_path`), which is itself a recording without samples.
//!
//! Reading never guesses: a file that is not a recording (empty, truncated, another format)
//! is one `ReadError` naming the line and what was expected there.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use crate::engine::Event;
use crate::system::meminfo::{Point, Sample};
use crate::units::KIB;

pub mod observe;

/// Version in the JSONL header; bump when columns or lines change meaning.
pub const JSONL_VERSION: u64 = 2;
/// The oldest version read.
const OLDEST_READ: u64 = 1;
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

/// The machine a recording was made on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Machine {
    /// `uname -r`.
    pub kernel: String,
    /// `uname -m`.
    pub arch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<u32>,
}

impl Machine {
    /// This machine.
    pub fn here() -> Machine {
        let u = nix::sys::utsname::uname().ok();
        let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
            u.as_ref()
                .map(|u| f(u).to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Machine {
            kernel: field(|u| u.release()),
            arch: field(|u| u.machine()),
            hostname: Some(field(|u| u.nodename())).filter(|h| !h.is_empty()),
            cpus: std::thread::available_parallelism()
                .ok()
                .and_then(|n| u32::try_from(n.get()).ok()),
        }
    }
}

/// The first line of a JSONL recording (and of a CSV recording's events file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub vmtop_record: u64,
    pub units: serde_json::Map<String, serde_json::Value>,
    /// Version 2 on: where, what wrote it, when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<Machine>,
    /// `dashboard` (vmtop --record) or `record` (vmtop record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The vmtop that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vmtop: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_unix_ms: Option<u64>,
    /// Why the recording has no events, when it cannot have them (the kernel log unreadable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_events: Option<String>,
}

impl Header {
    /// A header for a new recording by `source` on `machine`.
    pub fn new(source: &str, machine: Machine, started_unix_ms: u64) -> Header {
        Header {
            vmtop_record: JSONL_VERSION,
            units: UNITS
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect(),
            machine: Some(machine),
            source: Some(source.to_string()),
            vmtop: Some(env!("CARGO_PKG_VERSION").to_string()),
            started_unix_ms: Some(started_unix_ms),
            no_events: None,
        }
    }

    /// The header of a version 1 recording (the units only).
    fn v1() -> Header {
        Header {
            vmtop_record: 1,
            ..Header::new("", Machine::default(), 0)
        }
        .bare()
    }

    fn bare(mut self) -> Header {
        self.machine = None;
        self.source = None;
        self.vmtop = None;
        self.started_unix_ms = None;
        self
    }
}

/// One line of a version 2 JSONL recording after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Sample(Row),
    Event(EventLine),
    Kmsg(KmsgLine),
}

/// A load, unload or failure: the engine's `Event` and the wall clock when it was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    pub unix_ms: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// A kernel-log line as the dashboard's pane showed it (`[   12.345678] text`), at `t`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsgLine {
    pub t: f64,
    pub text: String,
}

/// `NAME.events.jsonl` beside a CSV recording `NAME.csv`: its header and events.
pub fn events_path(csv: &Path) -> PathBuf {
    csv.with_extension("events.jsonl")
}

/// Write the header: the CSV header row, or the JSONL header object (version 1's: the
/// units only; `Writer` writes version 2's).
pub fn write_header(w: &mut impl Write, format: Format) -> std::io::Result<()> {
    match format {
        Format::Csv => writeln!(w, "{}", COLUMNS.join(",")),
        Format::Jsonl => {
            serde_json::to_writer(&mut *w, &Header::v1())?;
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

/// Parse a CSV recording's samples (header row required) back into points.
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

/// Parse a JSONL recording's samples (header object required) back into points.
pub fn parse_jsonl(text: &str) -> anyhow::Result<Vec<Point>> {
    Ok(read(text)?.points)
}

/// Writes a recording as it goes: version 2 JSONL, or CSV with its events file.
pub struct Writer<W: Write> {
    format: Format,
    out: W,
    /// The CSV recording's events file.
    events: Option<W>,
}

impl<W: Write> Writer<W> {
    /// Start a recording: `events` is the events file of a CSV recording (None: a CSV
    /// recording without events, on standard output).
    pub fn new(
        format: Format,
        mut out: W,
        events: Option<W>,
        header: &Header,
    ) -> anyhow::Result<Writer<W>> {
        let mut events = events.filter(|_| format == Format::Csv);
        match format {
            Format::Csv => {
                writeln!(out, "{}", COLUMNS.join(","))?;
                if let Some(e) = events.as_mut() {
                    serde_json::to_writer(&mut *e, header)?;
                    writeln!(e)?;
                    e.flush()?;
                }
            }
            Format::Jsonl => {
                serde_json::to_writer(&mut out, header)?;
                writeln!(out)?;
            }
        }
        out.flush()?;
        Ok(Writer {
            format,
            out,
            events,
        })
    }

    pub fn point(&mut self, p: &Point) -> anyhow::Result<()> {
        match self.format {
            Format::Csv => write_point(&mut self.out, Format::Csv, p)?,
            Format::Jsonl => self.line(&Line::Sample(Row::from_point(p)))?,
        }
        self.out.flush().context("writing a sample")
    }

    pub fn event(&mut self, unix_ms: u64, event: &Event) -> anyhow::Result<()> {
        self.line(&Line::Event(EventLine {
            unix_ms,
            event: event.clone(),
        }))
    }

    pub fn kmsg(&mut self, t: f64, text: &str) -> anyhow::Result<()> {
        self.line(&Line::Kmsg(KmsgLine {
            t: (t * 1000.0).round() / 1000.0,
            text: text.to_string(),
        }))
    }

    /// An event or kernel-log line: in the JSONL file, or the CSV's events file (nowhere
    /// when a CSV recording has none).
    fn line(&mut self, line: &Line) -> anyhow::Result<()> {
        let w = match self.format {
            Format::Jsonl => &mut self.out,
            Format::Csv => match self.events.as_mut() {
                Some(e) => e,
                None => return Ok(()),
            },
        };
        serde_json::to_writer(&mut *w, line).context("encoding a recording line")?;
        writeln!(w).context("writing a recording line")?;
        w.flush().context("writing a recording line")
    }

    /// The files, to be finished by the caller.
    pub fn into_inner(self) -> (W, Option<W>) {
        (self.out, self.events)
    }
}

/// The dashboard's recording (`vmtop --record FILE`): its files, written as the user behind
/// sudo when there is one; a write that fails stops the recording, said once.
pub struct Live {
    writer: Option<Writer<crate::files::Stream>>,
    path: PathBuf,
    /// Why the recording stopped early.
    pub stopped: Option<String>,
}

impl Live {
    /// Create FILE (and its events file for CSV) and write the header: before the terminal
    /// is touched, so that a path that cannot be written is one line on the command line.
    pub fn start(path: &Path) -> anyhow::Result<Live> {
        let format = Live::format_of(path)?;
        let out = crate::files::Stream::create(path)?;
        let events = match format {
            Format::Csv => Some(crate::files::Stream::create(&events_path(path))?),
            Format::Jsonl => None,
        };
        let header = Header::new("dashboard", Machine::here(), crate::units::unix_ms_now());
        let writer = Writer::new(format, out, events, &header)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Live {
            writer: Some(writer),
            path: path.to_path_buf(),
            stopped: None,
        })
    }

    /// The format `--record FILE` names by its extension, or the one-line refusal.
    pub fn format_of(path: &Path) -> Result<Format, crate::refused::Refused> {
        Format::from_path(path).ok_or_else(|| {
            crate::refused::Refused(format!(
                "--record {}: name a .csv or .jsonl file, e.g. --record class.jsonl",
                path.display()
            ))
        })
    }

    /// Run one write; the first failure stops the recording and is returned (once).
    fn run(
        &mut self,
        f: impl FnOnce(&mut Writer<crate::files::Stream>) -> anyhow::Result<()>,
    ) -> Option<String> {
        let w = self.writer.as_mut()?;
        if let Err(e) = f(w) {
            let why = format!("recording to {} stopped: {e:#}", self.path.display());
            self.writer = None;
            self.stopped = Some(why.clone());
            return Some(why);
        }
        None
    }

    pub fn point(&mut self, p: &Point) -> Option<String> {
        self.run(|w| w.point(p))
    }

    pub fn event(&mut self, e: &Event) -> Option<String> {
        self.run(|w| w.event(crate::units::unix_ms_now(), e))
    }

    pub fn kmsg(&mut self, t: f64, line: &str) -> Option<String> {
        self.run(|w| w.kmsg(t, line))
    }

    /// Close the files; Ok(path) when the recording is whole.
    pub fn finish(self) -> anyhow::Result<PathBuf> {
        if let Some(why) = self.stopped {
            anyhow::bail!(why);
        }
        if let Some(w) = self.writer {
            let (out, events) = w.into_inner();
            out.finish()?;
            if let Some(e) = events {
                e.finish()?;
            }
        }
        Ok(self.path)
    }
}

/// A recording read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub format: Format,
    pub header: Header,
    pub points: Vec<Point>,
    pub events: Vec<EventLine>,
    pub kmsg: Vec<KmsgLine>,
}

/// A file that is not a recording: the line (1-based) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected {expected}")]
pub struct ReadError {
    pub line: usize,
    pub expected: String,
}

fn err(line: usize, expected: impl Into<String>) -> ReadError {
    ReadError {
        line,
        expected: expected.into(),
    }
}

/// What a recording's first line must be.
const FIRST_LINE: &str = "a vmtop recording: a CSV header row (t_s,unix_ms,mem_total_kib,…) or a JSON header line ({\"vmtop_record\":2,…})";

/// Read a recording from its bytes (CSV or JSON lines, told apart by the first line).
pub fn read_bytes(bytes: &[u8]) -> Result<Recording, ReadError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            return Err(err(
                line,
                format!("text (UTF-8), found a byte that is not: {FIRST_LINE}"),
            ));
        }
    };
    read(text).map_err(|e| match e.downcast::<ReadError>() {
        Ok(r) => r,
        Err(other) => err(1, format!("{FIRST_LINE} ({other:#})")),
    })
}

/// Read a recording (CSV or JSON lines, told apart by the first line).
pub fn read(text: &str) -> anyhow::Result<Recording> {
    let first = text.lines().next().map(str::trim_start).unwrap_or("");
    if text.trim().is_empty() {
        bail!(err(1, format!("{FIRST_LINE}, found an empty file")));
    }
    if first.starts_with('{') {
        read_jsonl(text)
    } else if first.starts_with("t_s,") || first.starts_with("t_s ,") {
        let points = read_csv(text)?;
        Ok(Recording {
            format: Format::Csv,
            header: Header::v1(),
            points,
            events: Vec::new(),
            kmsg: Vec::new(),
        })
    } else {
        let shown: String = first.chars().take(40).collect();
        bail!(err(1, format!("{FIRST_LINE}, found {shown:?}")))
    }
}

/// The samples of a CSV recording.
fn read_csv(text: &str) -> Result<Vec<Point>, ReadError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| err(1, FIRST_LINE))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    if names != COLUMNS {
        return Err(err(
            1,
            format!("the CSV header row {}, found {header:?}", COLUMNS.join(",")),
        ));
    }
    lines
        .map(|(i, line)| {
            parse_csv_row(line).map_err(|e| {
                err(
                    i + 1,
                    format!(
                        "a sample row of {} comma-separated fields ({e:#})",
                        COLUMNS.len()
                    ),
                )
            })
        })
        .collect()
}

/// A CSV recording with its events file (`events_path`) when there is one.
pub fn read_csv_with_events(csv: &Recording, events: &str) -> Result<Recording, ReadError> {
    let e = match read(events) {
        Ok(r) => r,
        Err(e) => {
            return Err(match e.downcast::<ReadError>() {
                Ok(r) => r,
                Err(other) => err(1, format!("{FIRST_LINE} ({other:#})")),
            })
        }
    };
    if e.format != Format::Jsonl {
        return Err(err(
            1,
            "a JSON header line ({\"vmtop_record\":2,…}): an events file is JSON lines",
        ));
    }
    Ok(Recording {
        header: e.header,
        events: e.events,
        kmsg: e.kmsg,
        ..csv.clone()
    })
}

fn read_jsonl(text: &str) -> anyhow::Result<Recording> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines.next().ok_or_else(|| err(1, FIRST_LINE))?;
    let header: Header = serde_json::from_str(first).map_err(|e| {
        err(
            1,
            format!("a vmtop header object {{\"vmtop_record\":2,\"units\":{{…}},…}} ({e})"),
        )
    })?;
    if !(OLDEST_READ..=JSONL_VERSION).contains(&header.vmtop_record) {
        bail!(err(
            1,
            format!(
                "vmtop_record {OLDEST_READ} to {JSONL_VERSION}, found {}: this recording is from another vmtop",
                header.vmtop_record
            )
        ));
    }
    let mut rec = Recording {
        format: Format::Jsonl,
        header,
        points: Vec::new(),
        events: Vec::new(),
        kmsg: Vec::new(),
    };
    for (i, line) in lines {
        let n = i + 1;
        if rec.header.vmtop_record == 1 {
            let row: Row = serde_json::from_str(line).map_err(|e| {
                err(
                    n,
                    format!("a sample object {{\"t_s\":…,\"unix_ms\":…,…}} ({e})"),
                )
            })?;
            rec.points.push(
                row.into_point()
                    .map_err(|e| err(n, format!("a whole sample ({e:#})")))?,
            );
            continue;
        }
        let parsed: Line = serde_json::from_str(line).map_err(|e| {
            err(
                n,
                format!("a line {{\"type\":\"sample\"|\"event\"|\"kmsg\",…}} ({e})"),
            )
        })?;
        match parsed {
            Line::Sample(row) => rec.points.push(
                row.into_point()
                    .map_err(|e| err(n, format!("a whole sample ({e:#})")))?,
            ),
            Line::Event(e) => rec.events.push(e),
            Line::Kmsg(k) => rec.kmsg.push(k),
        }
    }
    Ok(rec)
}

/// Read the recording at `path`: CSV with its events file when there is one.
pub fn read_file(path: &Path) -> anyhow::Result<Recording> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let rec = read_bytes(&bytes)
        .map_err(|e| crate::refused::Refused(format!("{}: {e}", path.display())))?;
    if rec.format != Format::Csv {
        return Ok(rec);
    }
    let events = events_path(path);
    match std::fs::read(&events) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            read_csv_with_events(&rec, &text)
                .map_err(|e| crate::refused::Refused(format!("{}: {e}", events.display())).into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(rec),
        Err(e) => Err(e).with_context(|| format!("reading {}", events.display())),
    }
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
        let e = parse_jsonl("{\"vmtop_record\":3,\"units\":{}}\n").expect_err("version");
        assert!(format!("{e:#}").contains("found 3"), "{e:#}");
        let e = parse_jsonl("{\"vmtop_record\":1,\"units\":{}}\nnot json\n").expect_err("junk");
        assert!(format!("{e:#}").contains("line 2"), "{e:#}");
    }

    /// Files written by vmtop before recordings had events (main at e51c679, `vmtop record`
    /// on the build machine), read by this one.
    #[test]
    fn old_recordings_still_read() {
        let jsonl = read(include_str!("../../testdata/record-v1-e51c679.jsonl")).expect("v1 jsonl");
        assert_eq!(
            (jsonl.format, jsonl.header.vmtop_record),
            (Format::Jsonl, 1)
        );
        assert_eq!(jsonl.points.len(), 4);
        assert!(jsonl.events.is_empty() && jsonl.header.machine.is_none());
        assert_eq!(
            jsonl.points[0].sample.map(|s| s.mem_total),
            Some(24_683_784 * KIB)
        );
        let csv = read(include_str!("../../testdata/record-v1-e51c679.csv")).expect("v1 csv");
        assert_eq!(csv.format, Format::Csv);
        assert_eq!(csv.points.len(), 4);
        assert_eq!(csv.points[3].t, 0.752);
    }

    fn event(t: f64, failed: bool) -> Event {
        Event {
            t,
            kind: crate::engine::EventKind::Load,
            memsize_mib: if failed { 2000 } else { 200 },
            oom_safe: true,
            outcome: if failed {
                crate::engine::Outcome::Failed {
                    diagnosis: crate::diagnose::Diagnosis {
                        cause: crate::diagnose::Cause::ExceedsTotalPages,
                        confidence: crate::diagnose::Confidence::Likely,
                        summary: "Asked 2000 MiB, more than all RAM".into(),
                        detail: "d".into(),
                        evidence: vec!["alloc_large_mem: fail memsize_mib=2000".into()],
                    },
                }
            } else {
                crate::engine::Outcome::Ok
            },
            wall_ns: 5,
            alloc_ns: Some(7),
            fill_ns: None,
            delta: None,
            alloc: Some(crate::module::alloc::Allocator::Kvmalloc),
            module_line: Some("alloc_large_mem: load memsize_mib=200".into()),
        }
    }

    fn written(format: Format, events_file: bool) -> (String, Option<String>) {
        let header = Header::new(
            "dashboard",
            Machine {
                kernel: "6.1.0-57-amd64".into(),
                arch: "x86_64".into(),
                hostname: Some("lab".into()),
                cpus: Some(2),
            },
            1_700_000_000_000,
        );
        let ev = events_file.then(Vec::new);
        let mut w = Writer::new(format, Vec::new(), ev, &header).expect("header");
        let ps = points();
        w.point(&ps[0]).expect("point");
        w.event(1_700_000_000_050, &event(0.05, false))
            .expect("event");
        w.kmsg(0.06, "[   12.000000] alloc_large_mem: load memsize_mib=200")
            .expect("kmsg");
        w.point(&ps[1]).expect("point");
        w.event(1_700_000_000_200, &event(0.2, true))
            .expect("event");
        w.point(&ps[2]).expect("point");
        let (out, ev) = w.into_inner();
        (
            String::from_utf8(out).expect("utf-8"),
            ev.map(|e| String::from_utf8(e).expect("utf-8")),
        )
    }

    #[test]
    fn jsonl_carries_typed_samples_events_and_kernel_lines() {
        let (text, none) = written(Format::Jsonl, true);
        assert!(none.is_none(), "JSONL has no events file");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines[0]["vmtop_record"], 2);
        assert_eq!(lines[0]["machine"]["kernel"], "6.1.0-57-amd64");
        assert_eq!(lines[0]["source"], "dashboard");
        let types: Vec<&str> = lines[1..]
            .iter()
            .map(|l| l["type"].as_str().expect("typed"))
            .collect();
        assert_eq!(
            types,
            ["sample", "event", "kmsg", "sample", "event", "sample"]
        );
        assert_eq!(lines[2]["kind"], "load");
        assert_eq!(lines[2]["alloc"], "kvmalloc");
        assert_eq!(lines[2]["oom_safe"], true);
        assert_eq!(lines[5]["outcome"]["result"], "failed");
        assert_eq!(
            lines[5]["outcome"]["diagnosis"]["cause"],
            "exceeds_total_pages"
        );
        let back = read(&text).expect("reads back");
        assert_eq!(back.points, points());
        assert_eq!(back.events.len(), 2);
        assert_eq!(back.events[1].event, event(0.2, true));
        assert_eq!(back.events[0].unix_ms, 1_700_000_000_050);
        assert_eq!(
            back.kmsg[0].text,
            "[   12.000000] alloc_large_mem: load memsize_mib=200"
        );
        assert_eq!(
            back.header.machine.map(|m| m.hostname),
            Some(Some("lab".into()))
        );
    }

    #[test]
    fn csv_keeps_its_columns_and_puts_events_beside_it() {
        let (csv, events) = written(Format::Csv, true);
        // Only the header row and samples: any CSV reader takes it.
        assert_eq!(csv, write_all(Format::Csv, &points()));
        let events = events.expect("an events file");
        let rec = read(&csv).expect("csv");
        let rec = read_csv_with_events(&rec, &events).expect("with events");
        assert_eq!(rec.points, points());
        assert_eq!(
            rec.events
                .iter()
                .map(|e| e.event.clone())
                .collect::<Vec<_>>(),
            [event(0.05, false), event(0.2, true)]
        );
        assert_eq!(rec.kmsg.len(), 1);
        assert_eq!(rec.header.source.as_deref(), Some("dashboard"));
        // Without an events file (standard output), events are left out.
        let (csv2, none) = written(Format::Csv, false);
        assert_eq!((csv2, none), (csv, None));
        assert_eq!(
            events_path(std::path::Path::new("/tmp/mem.csv")),
            std::path::Path::new("/tmp/mem.events.jsonl")
        );
    }

    /// What is not a recording is one error naming the line and what was expected there.
    #[test]
    fn not_a_recording_names_the_line_and_what_was_expected() {
        let (good, _) = written(Format::Jsonl, false);
        let e = |bytes: &[u8]| read_bytes(bytes).expect_err("not a recording");
        let empty = e(b"");
        assert_eq!(empty.line, 1);
        assert!(empty.expected.contains("found an empty file"), "{empty}");
        let png = e(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        assert_eq!(png.line, 1);
        assert!(png.expected.contains("UTF-8"), "{png}");
        let other = e(b"name,age\nada,36\n");
        assert_eq!(other.line, 1);
        assert!(other.expected.contains("t_s,unix_ms"), "{other}");
        assert!(other.expected.contains("found \"name,age\""), "{other}");
        // Cut in the middle of its fifth line.
        let cut_at = good.match_indices('\n').nth(3).expect("four lines").0 + 20;
        let truncated = e(&good.as_bytes()[..cut_at]);
        assert_eq!(truncated.line, 5, "{truncated}");
        assert!(
            truncated
                .expected
                .contains("{\"type\":\"sample\"|\"event\"|\"kmsg\""),
            "{truncated}"
        );
        assert!(truncated.expected.contains("EOF"), "{truncated}");
        let header = COLUMNS.join(",");
        let short = e(format!("{header}\n0.1,5,1,2,3\n").as_bytes());
        assert_eq!(short.line, 2);
        assert!(
            short.expected.contains("9 comma-separated fields"),
            "{short}"
        );
        let newer = e(b"{\"vmtop_record\":3,\"units\":{}}\n");
        assert!(newer.expected.contains("found 3"), "{newer}");
        let not_header = e(b"{\"t_s\":0}\n");
        assert!(
            not_header.expected.contains("vmtop header object"),
            "{not_header}"
        );
        // Lines are counted in the file, blank ones included.
        let gap = e(format!("{header}\n\n\n0.1,x,,,,,,,\n").as_bytes());
        assert_eq!(gap.line, 4, "{gap}");
        assert_eq!(gap.to_string().split(':').next(), Some("line 4"));
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
