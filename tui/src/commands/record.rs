//! `vmtop record`: samples on a fixed schedule, and the loads, unloads and failures the
//! kernel log shows meanwhile, as CSV (events beside it) or JSON lines (`crate::record`).

use std::io::Write;

use anyhow::Context as _;

use crate::cli::exit;
use crate::record::{Format, Header, Machine, Writer};

pub(super) fn record(
    duration: std::time::Duration,
    interval: std::time::Duration,
    format: crate::cli::RecordFormat,
    out: Option<std::path::PathBuf>,
    json: bool,
) -> anyhow::Result<i32> {
    let format = match format {
        crate::cli::RecordFormat::Csv => Format::Csv,
        crate::cli::RecordFormat::Jsonl => Format::Jsonl,
    };
    let sampler = crate::system::meminfo::Sampler::new();
    let started_unix_ms = crate::units::unix_ms_now();
    // The kernel log says what others load meanwhile; without it, samples only (said in the
    // header and on stderr).
    let boot_at_start = crate::record::observe::since_boot();
    let mut kmsg = crate::system::kmsg::Kmsg::open_at_end();
    let mut header = Header::new("record", Machine::here(), started_unix_ms);
    if let Err(e) = &kmsg {
        let why = format!("the kernel log is unreadable: {e:#}");
        eprintln!("vmtop: recording samples only: {why}");
        header.no_events = Some(why);
    }
    // Written as it goes, so that an interrupted recording keeps what it recorded.
    let (main, events): (Box<dyn Write>, Option<Box<dyn Write>>) = match &out {
        Some(p) => {
            let main =
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
            let events = if format == Format::Csv {
                let e = crate::record::events_path(p);
                Some(Box::new(std::io::BufWriter::new(
                    std::fs::File::create(&e)
                        .with_context(|| format!("creating {}", e.display()))?,
                )) as Box<dyn Write>)
            } else {
                None
            };
            (Box::new(std::io::BufWriter::new(main)), events)
        }
        None => (Box::new(std::io::stdout().lock()), None),
    };
    let mut w = Writer::new(format, main, events, &header).context("writing the record header")?;
    let mut observer =
        crate::record::observe::Observer::new(crate::system::host::KernelInfo::detect());
    let (mut points, mut gaps, mut events_seen) = (0u64, 0u64, 0u64);
    let start = std::time::Instant::now();
    let mut next = start;
    while start.elapsed() <= duration {
        let p = sampler.sample();
        gaps += u64::from(p.sample.is_none());
        points += 1;
        observer.sample(&p);
        w.point(&p).context("writing a sample")?;
        if let Ok(k) = kmsg.as_mut() {
            let lines: Vec<(f64, String)> = k
                .read_available()
                .into_iter()
                .map(|r| ((r.ts_secs() - boot_at_start).max(0.0), r.text))
                .collect();
            for e in observer.lines(&lines, p.sample.as_ref()) {
                events_seen += 1;
                w.event(p.unix_ms, &e).context("writing an event")?;
            }
            for (t, text) in lines
                .iter()
                .filter(|(_, l)| crate::system::kmsg::is_relevant(l))
            {
                w.kmsg(*t, text).context("writing a kernel-log line")?;
            }
        }
        // Fixed schedule: a slow read does not shift later samples.
        next += interval;
        let now = std::time::Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    if json {
        eprintln!(
            "{}",
            serde_json::json!({"points": points, "gaps": gaps, "events": events_seen, "interval_ms": interval.as_millis() as u64})
        );
    }
    Ok(exit::OK)
}
