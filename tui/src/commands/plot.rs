//! `vmtop plot`: a recording as a chart for a slide (SVG or PNG), written whole or not at all.

use crate::cli::{exit, PlotArgs};
use crate::export::plot::PlotOptions;
use crate::refused::Refused;

/// The picture's kind from its name.
enum Kind {
    Svg,
    Png,
}

fn kind_of(out: &std::path::Path) -> Result<Kind, Refused> {
    match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => Ok(Kind::Svg),
        Some("png") => Ok(Kind::Png),
        _ => Err(Refused(format!(
            "--out {}: name a .svg or .png file, e.g. --out chart.svg",
            out.display()
        ))),
    }
}

pub(super) fn plot(args: PlotArgs) -> anyhow::Result<i32> {
    let kind = kind_of(&args.out)?;
    let rec = crate::record::read_file(&args.file)?;
    let opts = PlotOptions {
        size: args.size,
        series: args.series,
        title: args.title,
        theme: args.theme,
        titled: true,
    };
    let bytes = match kind {
        Kind::Svg => crate::export::plot::svg(&rec, &opts)?.into_bytes(),
        Kind::Png => crate::export::plot::png(&rec, &opts)?,
    };
    crate::files::save(&args.out, &bytes)?;
    eprintln!(
        "vmtop: {} ({}x{}, {} samples, {} events)",
        args.out.display(),
        opts.size.0,
        opts.size.1,
        rec.points.len(),
        rec.events.len()
    );
    Ok(exit::OK)
}
