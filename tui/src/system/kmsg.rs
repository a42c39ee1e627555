//! The kernel log, read from `/dev/kmsg`.
//!
//! Each `read(2)` on `/dev/kmsg` returns exactly one record (Documentation/ABI/testing/dev-kmsg):
//!
//! ```text
//! PRI,SEQ,TS_USEC,FLAGS[,more];message text\n
//!  KEY=value\n            (optional continuation lines, each starting with a space)
//! ```
//!
//! `PRI` is `facility << 3 | level`; non-printable bytes in the message are escaped as `\xHH`.
//! A reader whose position was overwritten by newer records gets `EPIPE` once and then
//! continues from the oldest record still retained.
//!
//! Reading needs root (or CAP_SYSLOG) when `kernel.dmesg_restrict=1`.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::Serialize;

/// Where the kernel log is read from.
pub const KMSG_PATH: &str = "/dev/kmsg";

/// Large enough for any record: the kernel refuses (EINVAL) a read into a buffer smaller than
/// the record, and records are at most CONSOLE_EXT_LOG_MAX (8192) bytes.
const RECORD_BUF: usize = 16 * 1024;

/// One kernel log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Log level 0 (emerg) .. 7 (debug): `PRI & 7`.
    pub level: u8,
    /// Sequence number; consecutive records differ by 1 (a jump means records were lost).
    pub seq: u64,
    /// Monotonic time stamp, microseconds since boot.
    pub ts_usec: u64,
    /// The message, `\xHH` escapes decoded, without the trailing newline and continuation lines.
    pub text: String,
}

impl Record {
    /// Time stamp in seconds since boot, as `dmesg` prints it.
    pub fn ts_secs(&self) -> f64 {
        self.ts_usec as f64 / 1e6
    }
}

/// Parse one `/dev/kmsg` record (as returned by one read; continuation lines are ignored).
/// Returns None for anything that is not a record (e.g. a continuation line on its own).
pub fn parse_record(raw: &str) -> Option<Record> {
    let first = raw.split('\n').next()?;
    let (prefix, message) = first.split_once(';')?;
    let mut fields = prefix.split(',');
    let pri: u32 = fields.next()?.trim().parse().ok()?;
    let seq: u64 = fields.next()?.trim().parse().ok()?;
    let ts_usec: u64 = fields.next()?.trim().parse().ok()?;
    // FLAGS ("-", "c") and newer fields (e.g. "caller=T42") are not needed.
    Some(Record {
        level: (pri & 7) as u8,
        seq,
        ts_usec,
        text: unescape(message),
    })
}

/// Decode the kernel's `\xHH` escapes (used for control characters and non-ASCII bytes).
fn unescape(s: &str) -> String {
    if !s.contains("\\x") {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            let hex = std::str::from_utf8(&b[i + 2..i + 4]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True for the lines vmtop shows and uses to diagnose: this module's own lines, module
/// loading messages, vmalloc and OOM-killer reports, lockdown and taint notices. Stack-trace
/// frames (` vmalloc+0x4b/0x60`) are not relevant even when they name a matching function.
pub fn is_relevant(text: &str) -> bool {
    if is_stack_frame(text) {
        return false;
    }
    const NEEDLES: [&str; 12] = [
        "alloc_large_mem",
        "module",
        "vmalloc",
        "vmap allocation",
        "oom-kill",
        "oom_reaper",
        "Out of memory",
        "out of memory",
        "Killed process",
        "Lockdown",
        "taints kernel",
        "tainting kernel",
    ];
    NEEDLES.iter().any(|n| text.contains(n))
}

/// ` func+0x4b/0x60 [module]`, ` ? func+0x…`, ` <TASK>` lines of a dumped stack.
fn is_stack_frame(text: &str) -> bool {
    let t = text.trim_start();
    if text.len() == t.len() {
        return false;
    }
    let t = t.strip_prefix("? ").unwrap_or(t);
    t.starts_with("<TASK>")
        || t.starts_with("</TASK>")
        || t.split_ascii_whitespace()
            .next()
            .is_some_and(|f| f.contains("+0x") && f.contains("/0x"))
}

/// A non-blocking reader of `/dev/kmsg`.
pub struct Kmsg {
    file: File,
    buf: Vec<u8>,
    /// Records lost to overwriting (EPIPE) since opening.
    lost: u64,
    /// The read error that ended the last batch, if any (not EAGAIN/EPIPE/EINTR).
    error: Option<io::Error>,
}

impl Kmsg {
    /// Open positioned after the newest record: only records logged from now on are read.
    pub fn open_at_end() -> anyhow::Result<Kmsg> {
        let mut k = Self::open_path(Path::new(KMSG_PATH), true)?;
        k.file
            .seek(SeekFrom::End(0))
            .map_err(|e| anyhow::anyhow!("seeking to the end of {KMSG_PATH}: {e}"))?;
        Ok(k)
    }

    fn open_path(path: &Path, nonblock: bool) -> anyhow::Result<Kmsg> {
        let file = open_kmsg(path, nonblock).map_err(|e| open_error(path, &e))?;
        Ok(Kmsg {
            file,
            buf: vec![0; RECORD_BUF],
            lost: 0,
            error: None,
        })
    }

    /// Records lost because the kernel overwrote them before they were read.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// The read error that ended the last `read_available` batch, if any (taken: a second
    /// call returns None).
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Every record available now, oldest first; never blocks. Stops at EAGAIN; an overwritten
    /// position (EPIPE) is counted in `lost()` and reading continues. Other read errors end the
    /// batch (what was read so far is returned; the error is kept for `take_error`).
    pub fn read_available(&mut self) -> Vec<Record> {
        let mut out = Vec::new();
        loop {
            match read_one(&mut self.file, &mut self.buf) {
                ReadOutcome::Record(Some(r)) => out.push(r),
                ReadOutcome::Record(None) => {}
                ReadOutcome::Lost => self.lost += 1,
                ReadOutcome::Interrupted => {}
                ReadOutcome::WouldBlock | ReadOutcome::Eof => break,
                ReadOutcome::Error(e) => {
                    self.error = Some(io::Error::new(
                        e.kind(),
                        format!("reading {KMSG_PATH}: {e}"),
                    ));
                    break;
                }
            }
        }
        out
    }
}

enum ReadOutcome {
    /// A record (None when it did not parse).
    Record(Option<Record>),
    Lost,
    Interrupted,
    WouldBlock,
    Eof,
    Error(io::Error),
}

fn read_one(file: &mut File, buf: &mut [u8]) -> ReadOutcome {
    match file.read(buf) {
        Ok(0) => ReadOutcome::Eof,
        Ok(n) => ReadOutcome::Record(parse_record(&String::from_utf8_lossy(&buf[..n]))),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => ReadOutcome::WouldBlock,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => ReadOutcome::Interrupted,
        Err(e) if e.raw_os_error() == Some(nix::libc::EPIPE) => ReadOutcome::Lost,
        Err(e) => ReadOutcome::Error(e),
    }
}

/// Why `path` could not be opened, with what it takes when the kernel said no.
fn open_error(path: &Path, e: &io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "opening {} to read the kernel log: {e}{}",
        path.display(),
        if e.kind() == io::ErrorKind::PermissionDenied {
            " (needs root or CAP_SYSLOG when kernel.dmesg_restrict=1)"
        } else {
            ""
        }
    )
}

fn open_kmsg(path: &Path, nonblock: bool) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    if nonblock {
        opts.custom_flags(nix::libc::O_NONBLOCK);
    }
    opts.open(path)
}

/// Read the kernel log in a thread with blocking reads, handing every record logged from now
/// on to `sink` in the reader thread. `/dev/kmsg` is opened (and positioned at its end) before
/// the thread starts, so an error opening it is returned here. The thread ends when `sink`
/// returns false (noticed at the next record) or on a read error other than EPIPE/EINTR.
pub fn spawn_reader_with(
    mut sink: impl FnMut(Record) -> bool + Send + 'static,
) -> io::Result<std::thread::JoinHandle<()>> {
    let mut file = open_kmsg(Path::new(KMSG_PATH), false)
        .map_err(|e| io::Error::new(e.kind(), format!("opening {KMSG_PATH}: {e}")))?;
    file.seek(SeekFrom::End(0))
        .map_err(|e| io::Error::new(e.kind(), format!("seeking to the end of {KMSG_PATH}: {e}")))?;
    std::thread::Builder::new()
        .name("kmsg-reader".into())
        .spawn(move || {
            let mut buf = vec![0u8; RECORD_BUF];
            loop {
                match read_one(&mut file, &mut buf) {
                    ReadOutcome::Record(Some(r)) => {
                        if !sink(r) {
                            return;
                        }
                    }
                    ReadOutcome::Record(None) | ReadOutcome::Lost | ReadOutcome::Interrupted => {}
                    // WouldBlock cannot happen on a blocking descriptor; treat it as the end.
                    ReadOutcome::WouldBlock | ReadOutcome::Eof | ReadOutcome::Error(_) => return,
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OOM killer's report as the 6.1 lab printed it (scripts/capture-fixtures.sh).
    const OOM: &str = include_str!("../../testdata/kmsg-6.1-oom-unsafe.txt");

    fn records(text: &str) -> Vec<Record> {
        text.lines().filter_map(parse_record).collect()
    }

    #[test]
    fn parses_prefix_fields_and_level() {
        let r = parse_record("3,1201,58123456,-;alloc_large_mem: fail memsize_mib=950 bytes=996147200 oom_safe=Y err=-12 stage=vmalloc\n")
            .expect("record");
        assert_eq!(r.level, 3);
        assert_eq!(r.seq, 1201);
        assert_eq!(r.ts_usec, 58_123_456);
        assert!(r.text.starts_with("alloc_large_mem: fail memsize_mib=950"));
        assert!(!r.text.ends_with('\n'));
    }

    #[test]
    fn facility_is_masked_and_extra_fields_ignored() {
        // facility 3 (daemon) << 3 | 6 = 30; newer kernels may append caller=...
        let r = parse_record("30,7,100,c,caller=T1;systemd[1]: hello").expect("record");
        assert_eq!(r.level, 6);
        assert_eq!(r.text, "systemd[1]: hello");
    }

    #[test]
    fn continuation_lines_are_not_part_of_the_text() {
        let r = parse_record(
            "6,339,5140900,-;NET: Registered protocol family 10\n SUBSYSTEM=net\n DEVICE=+net:lo\n",
        )
        .expect("record");
        assert_eq!(r.text, "NET: Registered protocol family 10");
        assert!(parse_record(" SUBSYSTEM=net").is_none());
    }

    #[test]
    fn escapes_are_decoded() {
        let r = parse_record("4,1,2,-;tab\\x09here caf\\xc3\\xa9").expect("record");
        assert_eq!(r.text, "tab\there café");
        let r = parse_record("4,1,2,-;not an escape \\x and \\xZZ").expect("record");
        assert_eq!(r.text, "not an escape \\x and \\xZZ");
    }

    #[test]
    fn junk_is_not_a_record() {
        for s in ["", "# comment", "hello;world", "a,b,c;x", "6,1;x"] {
            assert!(parse_record(s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn parses_the_oom_fixture_in_order() {
        let rs = records(OOM);
        assert!(rs.len() >= 6, "{rs:?}");
        assert!(rs.windows(2).all(|w| w[0].seq < w[1].seq));
        let killed = rs
            .iter()
            .find(|r| r.text.starts_with("Out of memory: Killed process"))
            .expect("victim line");
        assert_eq!(killed.level, 3);
        assert!(rs
            .iter()
            .any(|r| r.text.contains("invoked oom-killer: gfp_mask=0x2cc2")));
    }

    /// A refusal by the kernel (not root, kernel.dmesg_restrict=1) is named with what it
    /// takes. The live read, as root and refused, is the lab test `kmsg::` (tests/lab/kmsg.rs):
    /// the build host's own answer depends on who runs the tests.
    #[test]
    fn refused_open_names_what_it_takes() {
        let p = Path::new(KMSG_PATH);
        let eperm = io::Error::from_raw_os_error(nix::libc::EPERM);
        assert_eq!(
            open_error(p, &eperm).to_string(),
            "opening /dev/kmsg to read the kernel log: Operation not permitted (os error 1) \
             (needs root or CAP_SYSLOG when kernel.dmesg_restrict=1)"
        );
        let eacces = io::Error::from_raw_os_error(nix::libc::EACCES);
        assert_eq!(
            open_error(p, &eacces).to_string(),
            "opening /dev/kmsg to read the kernel log: Permission denied (os error 13) \
             (needs root or CAP_SYSLOG when kernel.dmesg_restrict=1)"
        );
    }

    #[test]
    fn failed_open_names_the_path_and_the_os_error() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let missing = dir.path().join("kmsg");
        match Kmsg::open_path(&missing, true) {
            Ok(_) => panic!("{} does not exist", missing.display()),
            Err(e) => assert_eq!(
                format!("{e:#}"),
                format!(
                    "opening {} to read the kernel log: No such file or directory (os error 2)",
                    missing.display()
                )
            ),
        }
    }

    #[test]
    fn relevance_filter() {
        let rs = records(OOM);
        let relevant: Vec<&str> = rs
            .iter()
            .map(|r| r.text.as_str())
            .filter(|t| is_relevant(t))
            .collect();
        // Of the 60-odd records of the report (stack, Mem-Info, task list): the module's
        // lines and the OOM killer's own.
        let starts = [
            "alloc_large_mem: limits ",
            "vmtop-kmod invoked oom-killer: ",
            "oom-kill:constraint=",
            "Out of memory: Killed process ",
            "alloc_large_mem: fail memsize_mib=950 ",
        ];
        assert_eq!(relevant.len(), starts.len(), "{relevant:#?}");
        for (text, start) in relevant.iter().zip(starts) {
            assert!(text.starts_with(start), "{text}");
        }
        // The reaper's line (mm/oom_kill.c oom_reap_task_mm), when it runs before the victim
        // exits (it did not in the lab).
        assert!(is_relevant(
            "oom_reaper: reaped process 211 (vmtop), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
        ));
        assert!(is_relevant(
            "alloc_large_mem: load memsize_mib=64 bytes=67108864 oom_safe=Y alloc_ns=1 fill_ns=2"
        ));
        assert!(is_relevant(
            "alloc_large_mem: loading out-of-tree module taints kernel."
        ));
        assert!(is_relevant("insmod: vmalloc error: size 2097152000, exceeds total pages, mode:0xdc0(GFP_KERNEL|__GFP_ZERO), nodemask=(null),cpuset=/,mems_allowed=0"));
        assert!(is_relevant(
            "Lockdown: insmod: unsigned module loading is restricted; see man kernel_lockdown.7"
        ));
        assert!(!is_relevant(
            "e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex"
        ));
        assert!(!is_relevant("random: crng init done"));
        // Stack frames name vmalloc and modules but are noise.
        assert!(!is_relevant(" vmalloc+0x4b/0x60"));
        assert!(!is_relevant(
            " alloc_large_mem_init+0x6e/0x1000 [alloc_large_mem]"
        ));
        assert!(!is_relevant(" ? do_init_module+0x4a/0x200"));
        assert!(!is_relevant(" <TASK>"));
    }
}
