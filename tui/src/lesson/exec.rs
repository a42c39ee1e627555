//! Doing a step's action to the kernel through the `Engine`: the one implementation the
//! dashboard's worker thread and the unattended runner share. Waits and pauses are timed by
//! the caller (`run::timer_observation`), since the dashboard must keep drawing meanwhile.

use super::run::Observation;
use super::{Action, Load, Outcome};
use crate::engine::{Engine, Event, LoadRequest};
use crate::module::alloc::Allocator;

fn request(l: &Load) -> LoadRequest {
    LoadRequest {
        memsize_mib: l.memsize_mib,
        oom_safe: l.oom_safe,
        force: l.force,
        alloc: l.alloc,
        fragment_order: l.fragment_order,
    }
}

/// Run `action` (not a wait or pause) and say what the kernel answered. `on_event` sees every
/// load and unload as it happens (the dashboard shows them).
pub fn perform(
    engine: &mut Engine,
    action: &Action,
    on_event: &mut dyn FnMut(&Event),
) -> Observation {
    match action {
        Action::Load(l) => {
            let e = engine.load(&request(l)).event;
            // Where the pages are, read while the module holds them.
            let layout = (!e.failed()).then(crate::module::sysfs::layout).flatten();
            on_event(&e);
            Observation::from_event(&e, layout.as_ref())
        }
        Action::Unload => {
            let loaded = engine.status().map(|s| s.loaded).unwrap_or(false);
            if !loaded {
                // Not asked of the kernel: an earlier step did not leave it loaded.
                let mut o = Observation::bare(Outcome::Failed);
                o.summary = Some(format!(
                    "nothing to unload: {} is not loaded (an earlier step did not load it)",
                    crate::module::MODULE_NAME
                ));
                return o;
            }
            let e = engine.unload();
            on_event(&e);
            Observation::from_event(&e, None)
        }
        Action::Probe { from_mib, to_mib } => probe(engine, *from_mib, *to_mib, on_event),
        Action::Compare {
            sizes_mib,
            allocs,
            fragment_order,
        } => compare(engine, sizes_mib, allocs, *fragment_order, on_event),
        Action::Wait(_) | Action::Pause(_) => {
            let mut o = Observation::bare(Outcome::Failed);
            o.summary = Some("a wait or pause is timed by the lesson, not run here".into());
            o
        }
    }
}

fn probe(
    engine: &mut Engine,
    from: u64,
    to: Option<u64>,
    on_event: &mut dyn FnMut(&Event),
) -> Observation {
    let failed = |why: String| {
        let mut o = Observation::bare(Outcome::Failed);
        o.summary = Some(why);
        o
    };
    let cap = match crate::system::meminfo::Sample::read() {
        Ok(s) => crate::probe::cap_mib(s.mem_total),
        Err(e) => return failed(format!("probe: cannot read MemTotal: {e:#}")),
    };
    // Above MemTotal the kernel refuses at once: as `vmtop probe`, never tried.
    let to = to.unwrap_or(cap).min(cap);
    if from > to {
        return failed(format!(
            "probe: from {from} MiB is above MemTotal ({cap} MiB)"
        ));
    }
    let plan = crate::probe::Plan {
        from,
        to,
        precision: 1,
        strategy: crate::probe::Strategy::Estimate,
        estimate: crate::probe::figures_now(None)
            .ok()
            .map(|f| crate::probe::estimate(&f)),
    };
    let mut events: Vec<Event> = Vec::new();
    let result = crate::probe::run(
        engine,
        &plan,
        true,
        |e| {
            events.push(e.clone());
            on_event(e);
        },
        |_| {},
    );
    let r = match result {
        Ok(r) => r,
        Err(e) => return failed(format!("probe stopped: {e:#}")),
    };
    // What bound it: the diagnosis of the smallest size that failed.
    let bound = r.smallest_failed.and_then(|bad| {
        events
            .iter()
            .rev()
            .find(|e| e.memsize_mib == bad && e.failed())
            .and_then(|e| e.diagnosis())
    });
    let mut o = Observation::bare(Outcome::Done);
    o.largest_mib = r.largest_ok;
    o.cause = bound.map(|d| d.cause);
    o.confidence = bound.map(|d| d.confidence);
    o.summary = Some(match (r.largest_ok, r.smallest_failed) {
        (Some(ok), Some(bad)) => format!(
            "{ok} MiB loads, {bad} MiB does not ({} loads){}",
            r.attempts.len(),
            bound
                .map(|d| format!(": {}", d.summary))
                .unwrap_or_default()
        ),
        (Some(ok), None) => format!("even {ok} MiB loads (the top of the range)"),
        (None, _) => format!("nothing loads: even {from} MiB failed"),
    });
    o
}

fn compare(
    engine: &mut Engine,
    sizes: &[u64],
    allocs: &[Allocator],
    fragment_order: u32,
    on_event: &mut dyn FnMut(&Event),
) -> Observation {
    let mut largest = Vec::new();
    let mut notes = Vec::new();
    for &alloc in allocs {
        let mut best = 0;
        let mut first_failure = None;
        for &size in sizes {
            let e = engine
                .load(&LoadRequest {
                    memsize_mib: size,
                    oom_safe: true,
                    force: false,
                    alloc,
                    fragment_order,
                })
                .event;
            on_event(&e);
            match e.diagnosis() {
                None => {
                    best = size;
                    let u = engine.unload();
                    on_event(&u);
                    if let Some(d) = u.diagnosis() {
                        let mut o = Observation::bare(Outcome::Failed);
                        o.summary = Some(format!(
                            "compare stopped: unloading {alloc} {size} MiB failed: {}",
                            d.summary
                        ));
                        return o;
                    }
                }
                Some(d) => {
                    if first_failure.is_none() {
                        first_failure = Some(format!(
                            "{alloc} {size} MiB: {}",
                            super::cause_name(d.cause)
                        ));
                    }
                }
            }
        }
        largest.push((alloc, best));
        notes.extend(first_failure);
    }
    let mut o = Observation::bare(Outcome::Done);
    o.largest_loaded_mib = largest;
    if !notes.is_empty() {
        o.summary = Some(format!("first failures: {}", notes.join("; ")));
    }
    o
}
