//! `vmtop record`: samples on a fixed schedule, as CSV or JSON lines.

use std::io::Write;

use anyhow::Context as _;

use crate::cli::exit;

pub(super) fn record(
    duration: std::time::Duration,
    interval: std::time::Duration,
    format: crate::cli::RecordFormat,
    out: Option<std::path::PathBuf>,
    json: bool,
) -> anyhow::Result<i32> {
    use crate::record::Format;
    let format = match format {
        crate::cli::RecordFormat::Csv => Format::Csv,
        crate::cli::RecordFormat::Jsonl => Format::Jsonl,
    };
    let mut w: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let sampler = crate::system::meminfo::Sampler::new();
    crate::record::write_header(&mut w, format).context("writing the record header")?;
    let (mut points, mut gaps) = (0u64, 0u64);
    let start = std::time::Instant::now();
    let mut next = start;
    while start.elapsed() <= duration {
        let p = sampler.sample();
        gaps += u64::from(p.sample.is_none());
        points += 1;
        crate::record::write_point(&mut w, format, &p).context("writing a sample")?;
        w.flush().context("flushing the record output")?;
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
            serde_json::json!({"points": points, "gaps": gaps, "interval_ms": interval.as_millis() as u64})
        );
    }
    Ok(exit::OK)
}
