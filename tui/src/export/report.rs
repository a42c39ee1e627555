//! A recording as one HTML page a student can hand in: the machine and kernel, the chart
//! with every event (inline SVG), a table of every load with its figures, each failure's
//! diagnosis with the kernel's lines behind it, and a lesson's transcript when one is given.
//! Self-contained (no script, no font, no request: it reads the same offline and printed),
//! with print CSS.

use std::fmt::Write as _;

use serde_json::Value;

use super::plot::{event_label, PlotOptions};
use crate::cli::{Series, ThemeName};
use crate::engine::{Event, EventKind};
use crate::record::Recording;
use crate::units::{fmt_bytes, fmt_delta_mib, fmt_ns};

/// HTML text: `&`, `<`, `>`, quotes escaped.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// One line of a lesson's transcript (`vmtop lesson --transcript FILE`, JSON lines): the
/// fields the page shows; others are kept out.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptLine {
    /// The lesson's name.
    pub lesson: String,
    pub where_: String,
    pub title: String,
    pub action: String,
    pub outcome: String,
    pub summary: String,
    /// Whether the kernel's answer agreed with the lesson's expectation.
    pub agreed: Option<bool>,
    pub differences: Vec<String>,
    pub off_script: bool,
}

/// Read a transcript: one JSON object a line. A line that is not one is an error naming it.
pub fn read_transcript(text: &str) -> Result<Vec<TranscriptLine>, crate::record::ReadError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| crate::record::ReadError {
            line: i + 1,
            expected: format!(
                "a transcript line: a JSON object {{\"lesson\":…,\"step\":…,…}} ({e})"
            ),
        })?;
        let Some(o) = v.as_object() else {
            return Err(crate::record::ReadError {
                line: i + 1,
                expected: "a transcript line: a JSON object {\"lesson\":…,\"step\":…,…}".into(),
            });
        };
        let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let n = |k: &str| o.get(k).and_then(Value::as_u64);
        let where_ = match (n("part"), n("step")) {
            (Some(p), Some(st)) => format!("{p}.{st}"),
            (Some(p), None) => format!("{p}"),
            (None, Some(st)) => format!("{st}"),
            (None, None) => String::new(),
        };
        let mut outcome = s("outcome");
        if let Some(c) = o.get("cause").and_then(Value::as_str) {
            outcome = format!("{outcome} ({c})");
        }
        let mut summary = s("summary");
        if let Some(cmd) = o.get("run_with").and_then(Value::as_str) {
            summary = format!("{summary} (runs with: {cmd})").trim().to_string();
        }
        out.push(TranscriptLine {
            lesson: s("lesson"),
            where_,
            title: s("title"),
            action: s("action"),
            outcome,
            summary,
            agreed: o.get("agreed").and_then(Value::as_bool),
            differences: o
                .get("differences")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            off_script: o
                .get("off_script")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    Ok(out)
}

const CSS: &str = r#"
:root { color-scheme: light; }
body { font: 16px/1.5 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  color: #1f2328; background: #fff; max-width: 1120px; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.9rem; margin: 0 0 .2rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 2px solid #d0d7de; }
h3 { font-size: 1.1rem; margin: 0 0 .4rem; }
.sub { color: #57606a; margin: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1.5rem; margin: 0; }
dl.facts dt { color: #57606a; }
dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; border: 1px solid #d0d7de; border-radius: 6px; }
figcaption { color: #57606a; font-size: .9rem; margin-top: .3rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .92rem; }
th, td { padding: .35rem .55rem; border-bottom: 1px solid #d8dee4; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
.ok { color: #1a7f37; font-weight: 600; }
.unload { color: #0a58ca; }
.fail { color: #c1272d; font-weight: 700; }
.failure { border-left: 5px solid #c1272d; background: #fff6f6; padding: .8rem 1.1rem; margin: 1rem 0; border-radius: 0 6px 6px 0; }
.failure p { margin: .35rem 0; }
.sure { color: #57606a; font-size: .9rem; }
pre { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px; padding: .6rem .8rem; margin: .4rem 0 0;
  white-space: pre-wrap; overflow-wrap: anywhere; font: 12.5px/1.45 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.none { color: #57606a; font-style: italic; }
footer { margin-top: 3rem; color: #57606a; font-size: .85rem; border-top: 1px solid #d0d7de; padding-top: .6rem; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  figure, tr, .failure, pre { break-inside: avoid; }
  .failure { background: none; }
  th { background: none; }
  figure svg { border: none; }
  @page { margin: 14mm; }
}
"#;

fn mmss(t: f64) -> String {
    let t = t.max(0.0);
    format!("{}:{:04.1}", (t / 60.0).floor() as u64, t % 60.0)
}

fn what(e: &Event) -> (&'static str, &'static str) {
    match (e.kind, e.failed()) {
        (EventKind::Load, true) => ("load", "fail"),
        (EventKind::Load, false) => ("load", "ok"),
        (EventKind::Unload, true) => ("unload", "fail"),
        (EventKind::Unload, false) => ("unload", "unload"),
        (EventKind::Adopt, _) => ("found loaded", "ok"),
    }
}

/// The page. `source` names the recording file; `transcript` is the lesson's, if any.
pub fn html(
    rec: &Recording,
    source: &str,
    title: Option<&str>,
    transcript: Option<&[TranscriptLine]>,
) -> anyhow::Result<String> {
    let (main, sub) = super::plot::titles(rec, title);
    let chart = super::plot::svg(
        rec,
        &PlotOptions {
            size: (1600, 900),
            series: vec![Series::Memory, Series::Vmalloc],
            title: Some(main.clone()),
            theme: ThemeName::Light,
            titled: false,
        },
    )?;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"vmtop {}\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&main)
    );
    let _ = writeln!(
        o,
        "<header>\n<h1>{}</h1>\n<p class=\"sub\">{}</p>\n</header>",
        escape(&main),
        escape(&sub)
    );

    // The machine.
    let m = rec.header.machine.clone().unwrap_or_default();
    let first = rec.points.iter().find_map(|p| p.sample);
    let span = match (rec.points.first(), rec.points.last()) {
        (Some(a), Some(b)) => b.t - a.t,
        _ => 0.0,
    };
    let mut facts: Vec<(&str, String)> = Vec::new();
    if !m.kernel.is_empty() {
        facts.push(("Kernel", format!("Linux {}", m.kernel)));
    }
    if !m.arch.is_empty() {
        facts.push(("Architecture", m.arch.clone()));
    }
    if let Some(h) = &m.hostname {
        facts.push(("Host", h.clone()));
    }
    if let Some(c) = m.cpus {
        facts.push(("CPUs", c.to_string()));
    }
    if let Some(s) = first {
        facts.push(("MemTotal", fmt_bytes(s.mem_total)));
        facts.push(("VmallocTotal", fmt_bytes(s.vmalloc_total)));
    }
    facts.push((
        "Recorded by",
        match rec.header.source.as_deref() {
            Some("dashboard") => "the dashboard (vmtop --record)".to_string(),
            Some("record") => "vmtop record".to_string(),
            Some(other) => other.to_string(),
            None => "vmtop record (a recording without events)".to_string(),
        },
    ));
    if let Some(ms) = rec
        .header
        .started_unix_ms
        .or_else(|| rec.points.first().map(|p| p.unix_ms))
    {
        facts.push(("Started", crate::units::fmt_utc_minute(ms)));
    }
    facts.push((
        "Length",
        format!("{} ({} samples)", mmss(span), rec.points.len()),
    ));
    if let Some(why) = &rec.header.no_events {
        facts.push(("Events", format!("not recorded: {why}")));
    }
    o.push_str("<section id=\"machine\">\n<h2>The machine</h2>\n<dl class=\"facts\">\n");
    for (k, v) in facts {
        let _ = writeln!(o, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
    }
    o.push_str("</dl>\n</section>\n");

    // The chart.
    let _ = writeln!(
        o,
        "<section id=\"chart\">\n<h2>Memory and vmalloc</h2>\n<figure>\n{}\n<figcaption>▲ a load, ▼ an unload, ✗ a failure (its cause in words); MemFree and MemAvailable fall by what a load holds, VmallocUsed rises by it.</figcaption>\n</figure>\n</section>",
        chart.trim()
    );

    // Every event.
    o.push_str("<section id=\"loads\">\n<h2>Every load and unload</h2>\n");
    if rec.events.is_empty() {
        o.push_str("<p class=\"none\">No load, unload or failure was recorded.</p>\n");
    } else {
        o.push_str("<table>\n<thead><tr><th class=\"num\">#</th><th class=\"num\">at</th><th>what</th><th class=\"num\">memsize</th><th>allocator</th><th>mode</th><th>outcome</th><th class=\"num\">MemFree</th><th class=\"num\">MemAvailable</th><th class=\"num\">VmallocUsed</th><th class=\"num\">alloc</th><th class=\"num\">fill</th></tr></thead>\n<tbody>\n");
        for (i, el) in rec.events.iter().enumerate() {
            let e = &el.event;
            let (kind, class) = what(e);
            let outcome = match e.diagnosis() {
                Some(d) => format!("✗ {}", d.cause.words()),
                None if e.kind == EventKind::Unload => "▼ unloaded".into(),
                None => "▲ loaded".into(),
            };
            let d = |f: fn(&crate::system::meminfo::Delta) -> i64| {
                e.delta
                    .as_ref()
                    .map(|x| fmt_delta_mib(f(x)))
                    .unwrap_or_else(|| "–".into())
            };
            // An unload carries the timings of the load it undid: not its own.
            let ns = |v: Option<u64>| {
                v.filter(|_| e.kind == EventKind::Load)
                    .map(fmt_ns)
                    .unwrap_or_else(|| "–".into())
            };
            let _ = writeln!(
                o,
                "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{} MiB</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                i + 1,
                mmss(e.t),
                kind,
                e.memsize_mib,
                e.alloc.map(|a| a.name()).unwrap_or("–"),
                if e.oom_safe { "safe" } else { "unsafe" },
                escape(&outcome),
                d(|x| x.mem_free),
                d(|x| x.mem_available),
                d(|x| x.vmalloc_used),
                ns(e.alloc_ns),
                ns(e.fill_ns),
            );
        }
        o.push_str("</tbody>\n</table>\n");
        let lines: Vec<(usize, &str)> = rec
            .events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i + 1, e.event.module_line.as_deref()?)))
            .collect();
        if !lines.is_empty() {
            o.push_str("<h3 style=\"margin-top:1.2rem\">The module's own line for each attempt</h3>\n<pre>");
            for (i, l) in lines {
                let _ = writeln!(o, "#{i}  {}", escape(l));
            }
            o.push_str("</pre>\n");
        }
    }
    o.push_str("</section>\n");

    // Each failure, explained.
    let failures: Vec<(usize, &Event)> = rec
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.event.failed())
        .map(|(i, e)| (i + 1, &e.event))
        .collect();
    o.push_str("<section id=\"failures\">\n<h2>Why each failure happened</h2>\n");
    if failures.is_empty() {
        o.push_str("<p class=\"none\">Nothing failed.</p>\n");
    }
    for (i, e) in failures {
        let Some(d) = e.diagnosis() else { continue };
        let (_, words) = event_label(e);
        let _ = writeln!(
            o,
            "<article class=\"failure\">\n<h3><span class=\"fail\">✗</span> #{i} at {}: {}</h3>\n<p><strong>{}</strong></p>",
            mmss(e.t),
            escape(&words),
            escape(&d.summary)
        );
        for para in d.detail.split("\n\n").filter(|p| !p.trim().is_empty()) {
            let _ = writeln!(o, "<p>{}</p>", escape(para.trim()));
        }
        let _ = writeln!(
            o,
            "<p class=\"sure\">How sure: {} · cause <code>{}</code></p>",
            d.confidence.name(),
            escape(
                &serde_json::to_value(d.cause)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            )
        );
        if d.evidence.is_empty() {
            o.push_str("<p class=\"none\">The kernel logged nothing about it (safe mode asks it to fail quietly): the figures decided.</p>\n");
        } else {
            o.push_str("<p>The kernel's lines behind it:</p>\n<pre>");
            for l in &d.evidence {
                let _ = writeln!(o, "{}", escape(l));
            }
            o.push_str("</pre>\n");
        }
        o.push_str("</article>\n");
    }
    o.push_str("</section>\n");

    if let Some(t) = transcript {
        let name = t.iter().map(|l| l.lesson.as_str()).find(|n| !n.is_empty());
        let _ = writeln!(
            o,
            "<section id=\"transcript\">\n<h2>The lesson{}</h2>",
            name.map(|n| format!(": {}", escape(n))).unwrap_or_default()
        );
        if t.is_empty() {
            o.push_str("<p class=\"none\">The transcript is empty.</p>\n");
        } else {
            o.push_str("<table>\n<thead><tr><th>step</th><th>title</th><th>action</th><th>outcome</th><th>what the kernel said</th><th>as expected?</th></tr></thead>\n<tbody>\n");
            for l in t {
                let agreed = match l.agreed {
                    Some(true) => "<span class=\"ok\">✓ yes</span>".to_string(),
                    Some(false) => format!(
                        "<span class=\"fail\">✗ no</span>{}",
                        if l.differences.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", escape(&l.differences.join("; ")))
                        }
                    ),
                    None => "–".to_string(),
                };
                let _ =
                    writeln!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&l.where_),
                    escape(&l.title),
                    escape(&l.action),
                    if l.off_script { " <em>(off script)</em>" } else { "" },
                    escape(&l.outcome),
                    escape(&l.summary),
                    agreed
                );
            }
            o.push_str("</tbody>\n</table>\n");
        }
        o.push_str("</section>\n");
    }

    if !rec.kmsg.is_empty() {
        o.push_str("<section id=\"kernel-log\">\n<h2>The kernel log</h2>\n<p>The lines about memory and modules logged while recording.</p>\n<pre>");
        for k in rec.kmsg.iter().take(2000) {
            let _ = writeln!(o, "{}", escape(&k.text));
        }
        o.push_str("</pre>\n</section>\n");
    }
    let _ = writeln!(
        o,
        "<footer>Made by vmtop {} from {}. The figures are the kernel's own (/proc/meminfo, the module's kernel-log lines).</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        escape(source)
    );
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(transcript: Option<&[TranscriptLine]>) -> String {
        let mut rec = super::super::plot::tests::lab_recording();
        rec.kmsg.push(crate::record::KmsgLine {
            t: 22.0,
            text: "[   22.000000] alloc_large_mem: fail memsize_mib=2000 <&>".into(),
        });
        html(&rec, "class.jsonl", None, transcript).expect("html")
    }

    #[test]
    fn the_page_has_the_machine_chart_every_load_and_each_failure() {
        let p = page(None);
        assert!(p.starts_with("<!doctype html>"));
        for text in [
            "<title>vmtop on Linux 6.1.0-57-amd64 (x86_64)</title>",
            "<dt>Kernel</dt><dd>Linux 6.1.0-57-amd64</dd>",
            "<dt>Host</dt><dd>vmtop-lab</dd>",
            "<dt>MemTotal</dt><dd>958 MiB</dd>",
            "<svg",
            "2000 MiB: more than all RAM",
            "<td class=\"ok\">▲ loaded</td>",
            "<td class=\"fail\">✗ more than all RAM</td>",
            "Asked 2000 MiB, more than all RAM (MemTotal 958 MiB)",
            "How sure: likely · cause <code>exceeds_total_pages</code>",
            "alloc_large_mem: fail memsize_mib=2000 bytes=2097152000",
            "843.1 ms",
            "fail memsize_mib=2000 &lt;&amp;&gt;",
            "@media print",
        ] {
            assert!(p.contains(text), "{text:?} not on the page");
        }
        assert!(!p.contains("id=\"transcript\""), "no transcript given");
    }

    /// Self-contained: nothing is fetched (the SVG namespace is a name, not a request).
    #[test]
    fn the_page_fetches_nothing() {
        let p = page(None);
        for bad in ["<script", "<link", "<img", "src=", "@import", "url("] {
            assert!(!p.contains(bad), "{bad} on the page");
        }
        let urls: Vec<&str> = p
            .match_indices("http")
            .map(|(i, _)| &p[i..(i + 40).min(p.len())])
            .collect();
        assert!(
            urls.iter().all(|u| u.starts_with("http://www.w3.org/")),
            "{urls:?}"
        );
    }

    #[test]
    fn a_transcript_becomes_the_lessons_table() {
        let t = read_transcript(
            "{\"lesson\":\"why-vmalloc\",\"part\":1,\"step\":2,\"title\":\"Contiguity\",\"action\":\"load 8 MiB kmalloc\",\"outcome\":\"failed\",\"cause\":\"kmalloc_above_max\",\"summary\":\"kmalloc gives at most 4 MiB\",\"agreed\":true,\"differences\":[],\"off_script\":false,\"future_field\":1}\n\n{\"part\":1,\"step\":3,\"agreed\":false,\"differences\":[\"expected loaded\"],\"off_script\":true}\n",
        )
        .expect("transcript");
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].where_, "1.2");
        assert_eq!(t[0].outcome, "failed (kmalloc_above_max)");
        let p = page(Some(&t));
        assert!(p.contains("<h2>The lesson: why-vmalloc</h2>"), "{p}");
        assert!(p.contains("<td>load 8 MiB kmalloc</td>"), "{p}");
        assert!(p.contains("✗ no</span>: expected loaded"));
        assert!(p.contains("(off script)"));
        let e = read_transcript("{\"part\":1}\n[1,2]\n").expect_err("not an object");
        assert_eq!(e.line, 2);
        let e = read_transcript("{\"part\":1}\n{\"part\":\n").expect_err("cut");
        assert_eq!(e.line, 2);
        assert!(e.expected.contains("a transcript line"), "{e}");
    }
}
