//! `vmtop probe`: the largest memsize that loads, attempt by attempt.

use super::{delta_text, engine_for, print_json, refusal};
use crate::cli::exit;
use crate::engine::Event;
use crate::units::fmt_bytes;

pub(super) fn probe(
    from: u64,
    to: Option<u64>,
    precision: u64,
    strategy: crate::probe::Strategy,
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
    let cap = crate::probe::cap_mib(crate::system::meminfo::Sample::read()?.mem_total);
    // Above MemTotal the kernel refuses at once: trying costs a load and says nothing.
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
        return Ok(exit::USAGE);
    }
    let cap_reason = requested.map(|_| crate::probe::CAP_REASON);
    let figures = crate::probe::figures_now(None).ok();
    let first = match strategy {
        crate::probe::Strategy::Estimate => figures.as_ref().map(crate::probe::estimate),
        crate::probe::Strategy::Bisect => None,
    };
    let plan = crate::probe::Plan {
        from,
        to,
        precision,
        strategy,
        estimate: first,
    };
    let bound = crate::probe::max_attempts(from, to, precision);
    if !json {
        if let (Some(t), Some(why)) = (requested, &cap_reason) {
            println!("--to {t} MiB capped to MemTotal, {to} MiB: {why}");
        }
        println!(
            "probing {from}..{to} MiB to within {precision} MiB (safe mode, at most {bound} loads)"
        );
        if let (Some(e), Some(f)) = (first, &figures) {
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
    // Both callbacks read the load events: the attempt's line names its outcome.
    let events: std::cell::RefCell<Vec<Event>> = Default::default();
    let result = crate::probe::run(
        &mut engine,
        &plan,
        true,
        |e| {
            if e.kind == crate::engine::EventKind::Load {
                events.borrow_mut().push(e.clone());
            }
        },
        |a| {
            if json {
                return;
            }
            let events = events.borrow();
            let why = match events.last() {
                Some(e) => match e.diagnosis() {
                    Some(d) => format!("failed: {}", d.summary),
                    None => format!("loaded ({})", delta_text(e)),
                },
                None => String::new(),
            };
            let step = match a.step {
                crate::probe::Step::Estimate => "the estimate",
                crate::probe::Step::Margin => "a margin past what is known",
                crate::probe::Step::Bound => "an end of the range",
                crate::probe::Step::Guarded => {
                    "toward the estimate, as far as the bound on loads allows"
                }
                crate::probe::Step::Bisect => "halfway",
            };
            println!("attempt {}: {} MiB ({step}) {why}", a.index, a.size);
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
            "from_mib": from, "to_mib": to, "precision_mib": precision,
            "to_requested_mib": requested,
            "to_cap_reason": cap_reason,
            "mem_total_mib": cap,
            "strategy": strategy,
            "figures": figures,
            "first_estimate_mib": first,
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
        match (result.largest_ok, result.smallest_failed) {
            (None, _) => println!("nothing loads: even {from} MiB failed"),
            (Some(ok), None) if requested.is_some() => {
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
    Ok(if result.largest_ok.is_some() {
        exit::OK
    } else {
        exit::FAILED
    })
}
