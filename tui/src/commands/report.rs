//! `vmtop report`: a recording (and a lesson's transcript) as one self-contained HTML page,
//! written whole or not at all.

use anyhow::Context as _;

use crate::cli::{exit, ReportArgs};
use crate::refused::Refused;

pub(super) fn report(args: ReportArgs) -> anyhow::Result<i32> {
    let rec = crate::record::read_file(&args.file)?;
    let transcript = match &args.transcript {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the transcript {}", p.display()))?;
            Some(
                crate::export::report::read_transcript(&text)
                    .map_err(|e| Refused(format!("{}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    let source = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let page =
        crate::export::report::html(&rec, &source, args.title.as_deref(), transcript.as_deref())?;
    crate::files::save(&args.out, page.as_bytes())?;
    eprintln!(
        "vmtop: {} ({} samples, {} events{})",
        args.out.display(),
        rec.points.len(),
        rec.events.len(),
        transcript
            .as_ref()
            .map(|t| format!(", {} transcript lines", t.len()))
            .unwrap_or_default()
    );
    Ok(exit::OK)
}
