//! Events from the kernel log, for `vmtop record`, which loads nothing itself: the module's
//! own lines (`load`, `fail`, `unload`, kmod-src/README.md) say what another program did
//! (`vmtop load`, the dashboard, a lesson, insmod), with its figures. A failure gets the
//! diagnosis `vmtop load` would give from the same lines and figures, less what only the
//! loader knows (its pid, the module file's signature): `diagnose()` says so in its
//! confidence where that matters.

use std::collections::VecDeque;

use crate::diagnose::{self, FailureInput, LoaderEnd};
use crate::engine::{Event, EventKind, Outcome};
use crate::module::alloc::Allocator;
use crate::module::log::{ModuleEvent, ModuleEventKind};
use crate::system::host::KernelInfo;
use crate::system::meminfo::{Delta, Point, Sample};

/// Kernel-log lines kept as the evidence of the next failure.
const RECENT_LINES: usize = 64;
/// Samples kept to find the one before a load started (a load may take minutes to fill).
const RECENT_SAMPLES: usize = 4096;

/// Turns the kernel log and the samples of a recording into events.
pub struct Observer {
    kernel: KernelInfo,
    /// Relevant kernel-log lines since the last module event (evidence).
    recent: VecDeque<String>,
    /// Recent samples, oldest first.
    samples: VecDeque<(f64, Sample, Option<u64>)>,
}

impl Observer {
    pub fn new(kernel: KernelInfo) -> Observer {
        Observer {
            kernel,
            recent: VecDeque::new(),
            samples: VecDeque::new(),
        }
    }

    /// A sample of the recording.
    pub fn sample(&mut self, p: &Point) {
        if let Some(s) = p.sample {
            self.samples.push_back((p.t, s, p.vmalloc_largest_free));
            if self.samples.len() > RECENT_SAMPLES {
                self.samples.pop_front();
            }
        }
    }

    /// The last sample at or before `t`.
    fn sample_before(&self, t: f64) -> Option<&(f64, Sample, Option<u64>)> {
        self.samples.iter().rev().find(|(st, _, _)| *st <= t)
    }

    /// One batch of kernel-log lines, each with its session time, read together: the
    /// events of the module's lines among them. A failure's evidence is the relevant lines
    /// before it and those after it in the batch (the module explains a refusal on the line
    /// after its `fail` line). `now` is the newest sample, the figures after.
    pub fn lines(&mut self, lines: &[(f64, String)], now: Option<&Sample>) -> Vec<Event> {
        let mut events = Vec::new();
        for (i, (t, text)) in lines.iter().enumerate() {
            let Some(m) = ModuleEvent::parse(text) else {
                if crate::system::kmsg::is_relevant(text) {
                    self.recent.push_back(text.clone());
                    if self.recent.len() > RECENT_LINES {
                        self.recent.pop_front();
                    }
                }
                continue;
            };
            let mut evidence: Vec<String> = self.recent.drain(..).collect();
            evidence.push(text.clone());
            evidence.extend(
                lines[i + 1..]
                    .iter()
                    .take_while(|(_, l)| ModuleEvent::parse(l).is_none())
                    .filter(|(_, l)| crate::system::kmsg::is_relevant(l))
                    .map(|(_, l)| l.clone()),
            );
            events.push(self.event(*t, &m, text, evidence, now));
        }
        events
    }

    fn event(
        &self,
        t: f64,
        m: &ModuleEvent,
        line: &str,
        evidence: Vec<String>,
        now: Option<&Sample>,
    ) -> Event {
        // A load's figures before: the last sample before it started (it took
        // alloc_ns + fill_ns); the figures after: now.
        let took = (m.alloc_ns.unwrap_or(0) + m.fill_ns.unwrap_or(0)) as f64 / 1e9;
        let before = self.sample_before(t - took);
        let delta = match (before, now) {
            (Some((_, b, _)), Some(a)) if m.kind != ModuleEventKind::Fail => {
                Some(Delta::between(b, a))
            }
            _ => None,
        };
        let oom_safe = m.oom_safe.unwrap_or(true);
        let outcome = match m.kind {
            ModuleEventKind::Fail => Outcome::Failed {
                diagnosis: diagnose::diagnose(&FailureInput {
                    end: LoaderEnd::Errno(m.errno.unwrap_or(0)),
                    requested_mib: m.memsize_mib,
                    oom_safe,
                    log: evidence,
                    before: before.map(|(_, s, _)| *s),
                    after: now.copied(),
                    privileges: self.kernel.privileges.clone(),
                    signing: self.kernel.signing.clone(),
                    module_signed: None,
                    vmalloc_largest_free: before.and_then(|(_, _, l)| *l),
                    loader_pid: None,
                    // A load seen from outside: vmtop recorded no trace of it.
                    vmap_trace: None,
                }),
            },
            _ => Outcome::Ok,
        };
        Event {
            // When the operation began, as the engine's events say: a load took alloc_ns +
            // fill_ns before its line.
            t: (t - took).max(0.0),
            kind: match m.kind {
                ModuleEventKind::Unload => EventKind::Unload,
                _ => EventKind::Load,
            },
            memsize_mib: m.memsize_mib,
            oom_safe,
            outcome,
            wall_ns: 0,
            alloc_ns: m.alloc_ns,
            fill_ns: m.fill_ns,
            delta,
            alloc: match m.kind {
                ModuleEventKind::Unload => None,
                _ => Some(
                    m.alloc
                        .and_then(Allocator::from_name)
                        .unwrap_or(Allocator::Vmalloc),
                ),
            },
            module_line: (m.kind != ModuleEventKind::Unload).then(|| line.to_string()),
        }
    }
}

/// Seconds since boot on the clock the kernel log's time stamps use (printk's local_clock
/// runs with CLOCK_MONOTONIC, which does not count suspend either).
pub fn since_boot() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given, nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Cause;

    fn records(fixture: &str) -> Vec<(f64, String)> {
        fixture
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(crate::system::kmsg::parse_record)
            .map(|r| (r.ts_secs(), r.text))
            .collect()
    }

    fn observer() -> Observer {
        Observer::new(KernelInfo {
            release: "6.1.0-57-amd64".into(),
            machine: "x86_64".into(),
            module_support: true,
            privileges: crate::system::host::tests::with_root(true),
            signing: crate::system::host::tests::relaxed(),
        })
    }

    /// The lab's allocator run (captured): five refusals, then three loads each unloaded.
    #[test]
    fn the_module_lines_become_events_with_their_figures() {
        let mut o = observer();
        let idle = crate::system::meminfo::tests::lab_idle();
        o.sample(&Point {
            t: 0.0,
            unix_ms: 1,
            sample: Some(idle),
            vmalloc_largest_free: None,
        });
        let mut after = idle;
        after.vmalloc_used += 256 * crate::units::MIB;
        after.mem_free -= 256 * crate::units::MIB;
        let events = o.lines(
            &records(include_str!("../../testdata/kmsg-6.1-alloc.txt")),
            Some(&after),
        );
        let kinds: Vec<(EventKind, u64, bool)> = events
            .iter()
            .map(|e| (e.kind, e.memsize_mib, e.failed()))
            .collect();
        assert_eq!(
            kinds,
            [
                (EventKind::Load, 8, true),
                (EventKind::Load, 8, true),
                (EventKind::Load, 8, true),
                (EventKind::Load, 2000, true),
                (EventKind::Load, 2048, true),
                (EventKind::Load, 256, false),
                (EventKind::Unload, 256, false),
                (EventKind::Load, 256, false),
                (EventKind::Unload, 256, false),
                (EventKind::Load, 4, false),
                (EventKind::Unload, 4, false),
            ]
        );
        // kmalloc 8 MiB unsafe: the mode, the allocator, the diagnosis with the module's
        // line as evidence.
        let first = &events[0];
        assert!(!first.oom_safe);
        assert_eq!(first.alloc, Some(Allocator::Kmalloc));
        let d = first.diagnosis().expect("a diagnosis");
        assert_eq!(d.cause, Cause::KmallocAboveMax, "{d:?}");
        assert!(
            d.evidence
                .iter()
                .any(|l| l.starts_with("alloc_large_mem: fail memsize_mib=8 ")),
            "{:?}",
            d.evidence
        );
        assert_eq!(events[4].alloc, Some(Allocator::Kvmalloc));
        assert_eq!(
            events[4].diagnosis().map(|d| d.cause),
            Some(Cause::KvmallocAboveMax)
        );
        // The first 256 MiB load: its timings, its line, and what changed since before it.
        let load = &events[5];
        assert_eq!(load.alloc_ns, Some(843_060_130));
        assert!(load
            .module_line
            .as_deref()
            .is_some_and(|l| l.starts_with("alloc_large_mem: load memsize_mib=256")));
        let delta = load.delta.expect("figures before and after");
        assert_eq!(delta.vmalloc_used, 256 * crate::units::MIB as i64);
        assert_eq!(events[6].module_line, None, "an unload has no figures line");
        // Times are the kernel's (seconds since boot here), at the start of the load: its line
        // came alloc_ns + fill_ns after.
        assert!(
            (load.t - (34.099511 - 0.843_060_130 - 1.478_750_910)).abs() < 1e-6,
            "{}",
            load.t
        );
    }

    #[test]
    fn more_than_ram_in_safe_mode_is_diagnosed_from_the_log_and_figures() {
        let mut o = observer();
        let idle = crate::system::meminfo::tests::lab_idle();
        o.sample(&Point {
            t: 0.0,
            unix_ms: 1,
            sample: Some(idle),
            vmalloc_largest_free: None,
        });
        let events = o.lines(
            &records(include_str!(
                "../../testdata/kmsg-6.1-exceeds-total-safe.txt"
            )),
            Some(&idle),
        );
        assert_eq!(events.len(), 1);
        let d = events[0].diagnosis().expect("failed");
        assert_eq!(d.cause, Cause::ExceedsTotalPages, "{d:?}");
        assert_eq!(events[0].memsize_mib, 2000);
    }
}
