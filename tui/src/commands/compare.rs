//! `vmtop compare`: the same request through every allocator, at every size, each loaded
//! and unloaded in turn: where each one stops, and why (the kernel's own reason).

use serde::Serialize;

use crate::cli::exit;
use crate::engine::{Engine, LoadRequest};
use crate::module::alloc::{Allocator, Layout, Limits};
use crate::units::{fmt_bytes, fmt_ns};

/// One attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub alloc: Allocator,
    pub memsize_mib: u64,
    pub ok: bool,
    pub alloc_ns: Option<u64>,
    pub fill_ns: Option<u64>,
    /// Where the pages were (a successful load).
    pub layout: Option<Layout>,
    /// Why it failed: the diagnosis's cause and summary, and the kernel's line behind it.
    pub cause: Option<crate::diagnose::Cause>,
    pub reason: Option<String>,
    pub log_line: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    kernel: &'a str,
    limits: Option<Limits>,
    fragment_order: u32,
    rows: &'a [Row],
}

/// The kernel line that best explains a failure: the page allocator's warning, else the
/// module's own fail line, else the first line of evidence.
fn log_line(evidence: &[String]) -> Option<String> {
    let pick = |needle: &str| evidence.iter().find(|l| l.contains(needle));
    pick("WARNING:")
        .or_else(|| pick("alloc_large_mem: fail"))
        .or_else(|| evidence.first())
        .cloned()
}

/// One load and unload; the kernel's limits are read while it is loaded.
fn attempt(
    engine: &mut Engine,
    alloc: Allocator,
    mib: u64,
    fragment_order: u32,
) -> anyhow::Result<(Row, Option<Limits>)> {
    let e = engine
        .load(&LoadRequest {
            memsize_mib: mib,
            oom_safe: true,
            force: false,
            alloc,
            fragment_order,
        })
        .event;
    let mut row = Row {
        alloc,
        memsize_mib: mib,
        ok: !e.failed(),
        alloc_ns: e.alloc_ns,
        fill_ns: e.fill_ns,
        layout: None,
        cause: None,
        reason: None,
        log_line: None,
    };
    let mut limits = None;
    match e.diagnosis() {
        None => {
            row.layout = crate::module::sysfs::layout();
            limits = crate::module::sysfs::limits();
            let u = engine.unload();
            if let Some(d) = u.diagnosis() {
                anyhow::bail!("unloading after {alloc} {mib} MiB failed: {}", d.summary);
            }
        }
        Some(d) => {
            row.cause = Some(d.cause);
            row.reason = Some(d.summary.clone());
            row.log_line = log_line(&d.evidence);
        }
    }
    Ok((row, limits))
}

/// The table, for people: one row per attempt, a failure's reason and log line under it.
fn print_table(kernel: &str, limits: Option<&Limits>, fragment_order: u32, rows: &[Row]) {
    match limits {
        Some(l) => println!(
            "kernel {kernel}: PAGE_SIZE {}, KMALLOC_MAX_SIZE {}, largest page order {} ({} blocks)",
            fmt_bytes(l.page_size),
            fmt_bytes(l.kmalloc_max_size),
            l.max_order,
            fmt_bytes(l.max_block())
        ),
        None => println!("kernel {kernel}: limits unknown (nothing loaded)"),
    }
    if fragment_order > 0 {
        println!("each load first left no free block of order {fragment_order} or more (fragment_order={fragment_order})");
    }
    println!(
        "{:<12} {:>6}  {:<6} {:>9} {:>9} {:>6} {:>11}  backing",
        "alloc", "size", "result", "alloc", "fill", "runs", "largest run"
    );
    let opt_ns = |v: Option<u64>| v.map_or("-".into(), fmt_ns);
    for r in rows {
        let size = format!("{}M", r.memsize_mib);
        match (&r.layout, r.ok) {
            (Some(l), true) => println!(
                "{:<12} {:>6}  {:<6} {:>9} {:>9} {:>6} {:>11}  {}",
                r.alloc.name(),
                size,
                "ok",
                opt_ns(r.alloc_ns),
                opt_ns(r.fill_ns),
                l.runs,
                fmt_bytes(l.largest_run_bytes),
                l.backing
            ),
            (None, true) => println!(
                "{:<12} {:>6}  {:<6} {:>9} {:>9}",
                r.alloc.name(),
                size,
                "ok",
                opt_ns(r.alloc_ns),
                opt_ns(r.fill_ns)
            ),
            (_, false) => {
                println!(
                    "{:<12} {:>6}  {:<6} {}",
                    r.alloc.name(),
                    size,
                    "FAILED",
                    r.reason.as_deref().unwrap_or("?")
                );
                if let Some(l) = &r.log_line {
                    println!("{:>21}kernel: {}", "", l);
                }
            }
        }
    }
}

/// Run the comparison (the caller has checked that loading may start: `commands::refusal`);
/// failures are results, so the exit code is 0 when every attempt ran.
pub fn run(
    mut engine: Engine,
    sizes: &[u64],
    allocs: &[Allocator],
    fragment_order: u32,
    json: bool,
) -> anyhow::Result<i32> {
    let allocs: Vec<Allocator> = if allocs.is_empty() {
        Allocator::ALL.to_vec()
    } else {
        allocs.to_vec()
    };
    let mut rows = Vec::new();
    let mut limits = None;
    for &alloc in &allocs {
        for &mib in sizes {
            let (row, lim) = match attempt(&mut engine, alloc, mib, fragment_order) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("vmtop: compare stopped: {e:#}");
                    return Ok(exit::FAILED);
                }
            };
            limits = limits.or(lim);
            rows.push(row);
        }
    }
    let kernel = engine.kernel().release.clone();
    if json {
        let text = serde_json::to_string_pretty(&Report {
            kernel: &kernel,
            limits,
            fragment_order,
            rows: &rows,
        })?;
        println!("{text}");
    } else {
        print_table(&kernel, limits.as_ref(), fragment_order, &rows);
    }
    Ok(exit::OK)
}
