//! `vmtop probe`: the largest memsize that loads, attempt by attempt.

use std::cell::RefCell;

use super::{delta_text, engine_for, print_json, refusal};
use crate::cli::exit;
use crate::diagnose::Diagnosis;
use crate::engine::{Event, EventKind};
use crate::probe::{Attempt, ProbeResult, Start, Step, Strategy, CAP_REASON};
use crate::units::fmt_bytes;

/// The range as given and as probed.
struct Range {
    from: u64,
    /// `--to`, capped to MemTotal.
    to: u64,
    /// `--to` when it was above MemTotal (and capped).
    requested: Option<u64>,
}

pub(super) fn probe(
    from: u64,
    to: Option<u64>,
    precision: u64,
    strategy: Strategy,
    module: crate::cli::ModuleArgs,
    json: bool,
) -> anyhow::Result<i32> {
    // A range that is empty as given is a usage error on any machine: say so first.
    if let Some(to) = to.filter(|t| from > *t) {
        eprintln!("vmtop: probe range is empty: --from {from} MiB is above --to {to} MiB: give --from at most --to");
        return Ok(exit::USAGE);
    }
    let mut engine = engine_for(module);
    if let Some(code) = refusal(&engine, "probe")? {
        return Ok(code);
    }
    let start = Start::read(strategy)?;
    let Some(range) = range(from, to, start.cap_mib) else {
        return Ok(exit::USAGE);
    };
    let plan = start.plan(from, range.to, precision, strategy);
    let bound = crate::probe::max_attempts(from, range.to, precision);
    if !json {
        print_plan(&range, precision, bound, &start);
    }
    // Both callbacks read the load events: the attempt's line names its outcome.
    let events: RefCell<Vec<Event>> = Default::default();
    let result = crate::probe::run(
        &mut engine,
        &plan,
        true,
        |e| {
            if e.kind == EventKind::Load {
                events.borrow_mut().push(e.clone());
            }
        },
        |a| {
            if !json {
                println!("{}", attempt_line(a, events.borrow().last()));
            }
        },
    );
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vmtop: probe stopped: {e:#}");
            return Ok(exit::FAILED);
        }
    };
    let events = events.into_inner();
    // Which limit bound the answer: the diagnosis of the smallest size that failed (the
    // vmalloc address space on 32-bit kernels, memory elsewhere), with its figures.
    let bound_by = result.smallest_failed.and_then(|bad| {
        events
            .iter()
            .rev()
            .find(|e| e.memsize_mib == bad)
            .and_then(|e| e.diagnosis())
    });
    if json {
        print_json(&serde_json::json!({
            "from_mib": from, "to_mib": range.to, "precision_mib": precision,
            "to_requested_mib": range.requested,
            "to_cap_reason": range.requested.map(|_| CAP_REASON),
            "mem_total_mib": start.cap_mib,
            "strategy": strategy,
            "figures": start.figures,
            "first_estimate_mib": start.estimate,
            "largest_ok_mib": result.largest_ok,
            "smallest_failed_mib": result.smallest_failed,
            "bound_by": bound_by.map(|d| d.cause),
            "bound_confidence": bound_by.map(|d| d.confidence),
            "bound_summary": bound_by.map(|d| d.summary.as_str()),
            "loads": result.attempts.len(),
            "max_loads": bound,
            "attempts": &result.attempts,
            "events": &events,
        }))?;
    } else {
        print_result(from, &range, &result, bound_by);
    }
    Ok(if result.largest_ok.is_some() {
        exit::OK
    } else {
        exit::FAILED
    })
}

/// The range to probe: `--to` (default MemTotal) no higher than MemTotal, since above it the
/// kernel refuses at once and trying costs a load for nothing. None (after saying why) when
/// it is empty.
fn range(from: u64, to: Option<u64>, cap: u64) -> Option<Range> {
    let requested = to.filter(|t| *t > cap);
    let given = to;
    let to = to.unwrap_or(cap).min(cap);
    if from > to {
        if given.is_none_or(|t| t > cap) {
            eprintln!(
                "vmtop: probe range is empty: --from {from} MiB is above MemTotal ({cap} MiB), and vmalloc() refuses more than all RAM: use a smaller --from"
            );
        } else {
            eprintln!("vmtop: probe range is empty: --from {from} MiB is above --to {to} MiB");
        }
        return None;
    }
    Some(Range {
        from,
        to,
        requested,
    })
}

/// What will be tried, and the first guess with the figures behind it.
fn print_plan(range: &Range, precision: u64, bound: usize, start: &Start) {
    let Range { from, to, .. } = *range;
    if let Some(t) = range.requested {
        println!("--to {t} MiB capped to MemTotal, {to} MiB: {CAP_REASON}");
    }
    println!(
        "probing {from}..{to} MiB to within {precision} MiB (safe mode, at most {bound} loads)"
    );
    if let (Some(e), Some(f)) = (start.estimate, &start.figures) {
        // Named where it is the limit (32-bit kernels), not where it is petabytes.
        let space = f
            .largest_free
            .filter(|b| b / crate::units::MIB <= e + 1)
            .map(|b| format!(", and the largest free vmalloc range is {}", fmt_bytes(b)))
            .unwrap_or_default();
        println!(
            "first guess {e} MiB: {} available (MemAvailable and the per-CPU free lists) less the {} reserve{space}",
            fmt_bytes(f.available_kib * 1024),
            fmt_bytes(f.reserve_kib * 1024),
        );
    }
}

/// "attempt 3: 788 MiB (the estimate) loaded (VmallocUsed +788.0 MiB, ...)": `load` is the
/// attempt's load event.
fn attempt_line(a: &Attempt, load: Option<&Event>) -> String {
    let why = match load {
        Some(e) => match e.diagnosis() {
            Some(d) => format!("failed: {}", d.summary),
            None => format!("loaded ({})", delta_text(e)),
        },
        None => String::new(),
    };
    let step = match a.step {
        Step::Estimate => "the estimate",
        Step::Margin => "a margin past what is known",
        Step::Bound => "an end of the range",
        Step::Guarded => "toward the estimate, as far as the bound on loads allows",
        Step::Bisect => "halfway",
    };
    format!("attempt {}: {} MiB ({step}) {why}", a.index, a.size)
}

/// The answer, and the limit that bound it.
fn print_result(from: u64, range: &Range, result: &ProbeResult, bound_by: Option<&Diagnosis>) {
    match (result.largest_ok, result.smallest_failed) {
        (None, _) => println!("nothing loads: even {from} MiB failed"),
        (Some(ok), None) if range.requested.is_some() => {
            println!("{ok} MiB loads: everything up to MemTotal loads")
        }
        (Some(ok), None) => {
            println!("{ok} MiB loads: the limit is above the probed range (try a larger --to)")
        }
        (Some(ok), Some(bad)) => {
            println!(
                "largest memsize that loads: {ok} MiB ({bad} MiB failed); {} loads",
                result.attempts.len()
            );
            if let Some(d) = bound_by {
                println!("the limit: {} ({:?})", d.summary, d.confidence);
            }
        }
    }
}
