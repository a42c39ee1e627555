//! The largest memsize that loads, in as few loads as the figures allow.
//!
//! On a real machine each attempt allocates and fills up to all of its RAM, so every attempt
//! counts. The search is pure: the caller supplies `attempt(size) -> Trial` (a real load and
//! unload, and a fresh estimate from what the kernel reported); sizes are in whatever unit the
//! caller uses (MiB for vmtop). Two strategies:
//!
//! - `Estimate` (the default): try the size the figures predict (`estimate`: MemAvailable, the
//!   reserve safe mode keeps, and after each attempt the module's own figures for it), then
//!   its neighbour `precision` away to confirm; when the figures are off, the margin doubles;
//!   bisect what remains. A guided size is tried only when, whatever it shows, bisection can
//!   still finish within `max_attempts`; so this never takes more loads than `Bisect`'s bound.
//! - `Bisect`: vmtop's first search, kept so the two can be compared: try `from` (nothing
//!   loads if it fails), then `to` (the answer is at least `to` if it loads), then bisect.
//!
//! Attempts: at most `max_attempts(from, to, precision)` = `ceil(log2(ceil((to - from) /
//! precision))) + 2` either way. The real system is not a perfect threshold (free memory
//! moves), so the result is "what loaded and what failed during this probe", not a constant
//! of the machine.

use anyhow::Context as _;
use serde::Serialize;

use crate::module::log::ModuleFigures;

/// How the probe picks the next size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Start from what the figures predict, confirm the neighbour, bisect what remains
    #[default]
    Estimate,
    /// Bracket with --from and --to, then bisect (vmtop's first search, for comparison)
    Bisect,
}

/// Why a size was tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The size the figures predict.
    Estimate,
    /// The estimate is known to load (or to fail): the size a margin above (below) what is
    /// known, to confirm it.
    Margin,
    /// `from` or `to` (Bisect).
    Bound,
    /// As close to the estimate (or its margin) as the bound on loads allows.
    Guarded,
    /// Halfway between what loaded and what failed.
    Bisect,
}

/// One attempt, reported as it finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// 1-based attempt number.
    pub index: usize,
    pub size: u64,
    pub loaded: bool,
    pub step: Step,
    /// The estimate in force when this size was chosen.
    pub estimate: Option<u64>,
    /// Largest size known to load after this attempt.
    pub lo: Option<u64>,
    /// Smallest size known to fail after this attempt.
    pub hi: Option<u64>,
}

/// What an attempt showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trial {
    pub loaded: bool,
    /// The largest size expected to load, from the figures this attempt reported (None: keep
    /// the previous estimate).
    pub estimate: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub from: u64,
    pub to: u64,
    pub precision: u64,
    pub strategy: Strategy,
    /// The first estimate (Estimate only; None: bisect until an attempt gives one).
    pub estimate: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    /// Largest size that loaded (None: not even `from` loaded).
    pub largest_ok: Option<u64>,
    /// Smallest size that failed (None: even `to` loaded, so the answer is >= `to`).
    pub smallest_failed: Option<u64>,
    pub attempts: Vec<Attempt>,
}

/// Most attempts `probe` makes for this range and precision (either strategy).
pub fn max_attempts(from: u64, to: u64, precision: u64) -> usize {
    if to <= from {
        return 1;
    }
    let ratio = (to - from).div_ceil(precision.max(1)); // >= 1
    ceil_log2(ratio as u128) + 2
}

/// ceil(log2(n)) for n >= 1.
fn ceil_log2(n: u128) -> usize {
    if n <= 1 {
        0
    } else {
        (u128::BITS - (n - 1).leading_zeros()) as usize
    }
}

/// Find the largest size in `[from, to]` for which `attempt` says it loads, to within
/// `precision`. `on_attempt` sees each attempt as it finishes (for progress display). An
/// error from `attempt` aborts the probe and is returned with the size it happened at.
pub fn probe(
    plan: &Plan,
    mut attempt: impl FnMut(u64) -> anyhow::Result<Trial>,
    mut on_attempt: impl FnMut(&Attempt),
) -> anyhow::Result<ProbeResult> {
    let Plan {
        from,
        to,
        precision,
        ..
    } = *plan;
    anyhow::ensure!(
        from <= to,
        "probe range is empty: from {from} is above to {to}"
    );
    anyhow::ensure!(precision > 0, "probe precision must be at least 1");

    let mut attempts: Vec<Attempt> = Vec::new();
    let (mut lo, mut hi): (Option<u64>, Option<u64>) = (None, None);
    let mut estimate = plan.estimate;
    let mut try_size = |size: u64, step: Step, estimate: Option<u64>| {
        let trial = attempt(size)
            .with_context(|| format!("probe attempt {} at size {size}", attempts.len() + 1))?;
        if trial.loaded {
            lo = Some(lo.map_or(size, |l| l.max(size)));
        } else {
            hi = Some(hi.map_or(size, |h| h.min(size)));
        }
        let a = Attempt {
            index: attempts.len() + 1,
            size,
            loaded: trial.loaded,
            step,
            estimate,
            lo,
            hi,
        };
        on_attempt(&a);
        attempts.push(a);
        anyhow::Ok(trial)
    };

    match plan.strategy {
        Strategy::Bisect => {
            // The figures are not asked: this is the search as it was.
            let e = None;
            if try_size(from, Step::Bound, e)?.loaded
                && from < to
                && !try_size(to, Step::Bound, e)?.loaded
            {
                // Invariant: `good` loaded, `bad` failed, good < bad.
                let (mut good, mut bad) = (from, to);
                while bad - good > precision {
                    let mid = good + (bad - good) / 2;
                    if try_size(mid, Step::Bisect, e)?.loaded {
                        good = mid;
                    } else {
                        bad = mid;
                    }
                }
            }
        }
        Strategy::Estimate => {
            let budget = max_attempts(from, to, precision);
            let (lo_end, hi_end, p) = (i128::from(from), i128::from(to), i128::from(precision));
            // `good` loaded, or is `from - p`: nothing known to load; `bad` failed, or is
            // `to + p`: nothing known to fail. Counting the unknown ends as sizes `p` beyond
            // the range lets bisection settle them too ("nothing loads" is `bad == from`,
            // "everything loads" is `good == to`): it needs at most ceil(log2(ceil((bad -
            // good) / p))) more attempts, which is within the bound from the start.
            let (mut good, mut bad) = (lo_end - p, hi_end + p);
            // How far past what is known the next check goes when the figures are off.
            let (mut up, mut down) = (p, p);
            let mut n = 0;
            while bad - good > p {
                // Sizes left to try: strictly between good and bad, inside the range.
                let (first, last) = ((good + 1).max(lo_end), (bad - 1).min(hi_end));
                let mid = (good + (bad - good) / 2).clamp(first, last);
                // A margin never goes past halfway: once both ends are close it is bisection.
                let half = (bad - good) / 2;
                let (want, step) = match estimate.map(i128::from) {
                    None => (mid, Step::Bisect),
                    Some(e) if e <= good => {
                        ((good + up.min(half)).clamp(first, last), Step::Margin)
                    }
                    Some(e) if e >= bad => {
                        ((bad - down.min(half)).clamp(first, last), Step::Margin)
                    }
                    Some(e) => (e.clamp(first, last), Step::Estimate),
                };
                // Whatever this attempt shows, bisection must still end within the bound:
                // each side at most p * 2^left wide. The midpoint always is (the bound holds
                // now); the estimate may be too far from it, then the size closest to it is.
                let left = budget.saturating_sub(n + 1).min(62) as u32;
                let reach = p << left;
                let (safe_first, safe_last) = (first.max(bad - reach), last.min(good + reach));
                let (size, step) = if safe_first > safe_last {
                    (mid, Step::Bisect)
                } else if (safe_first..=safe_last).contains(&want) {
                    (want, step)
                } else {
                    (want.clamp(safe_first, safe_last), Step::Guarded)
                };
                let (was_low, was_high) = (
                    estimate.is_some_and(|e| i128::from(e) <= good),
                    estimate.is_some_and(|e| i128::from(e) >= bad),
                );
                let sized = u64::try_from(size).context("probe size out of range")?;
                let trial = try_size(sized, step, estimate)?;
                estimate = trial.estimate.or(estimate);
                let loaded = trial.loaded;
                n += 1;
                if loaded {
                    good = size;
                    if step == Step::Margin && was_low {
                        up = up.saturating_mul(2);
                    }
                } else {
                    bad = size;
                    if step == Step::Margin && was_high {
                        down = down.saturating_mul(2);
                    }
                }
            }
        }
    }
    Ok(ProbeResult {
        largest_ok: lo,
        smallest_failed: hi,
        attempts,
    })
}

/// Per MiB allocated, what a vmalloc() load takes from the available memory when nothing has
/// been measured yet, KiB: the MiB itself, its page array (a pointer per 4 KiB page) and its
/// page tables (8 bytes per page; the first load at fresh addresses pays them). Measured in
/// the 1024 MiB lab: 1028 for the first load of a boot, ~1026 once the page tables exist.
const DEFAULT_KIB_PER_MIB: u64 = 1028;

/// What an estimate is worked out from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// MemAvailable plus the free pages on per-CPU lists (/proc/zoneinfo), which the module
    /// counts and MemAvailable leaves out, KiB.
    pub available_kib: u64,
    /// What safe mode keeps free: the `reserve_mib` vmtop passes (module::reserve_mib), KiB.
    pub reserve_kib: u64,
    /// The module's figures for the last attempt, when the kernel log was readable.
    pub last: Option<ModuleFigures>,
    /// Largest free range of the vmalloc address space, bytes (/proc/vmallocinfo, root only).
    pub largest_free: Option<u64>,
    pub page_size: u64,
}

/// The largest size (MiB) expected to load in safe mode: what is available once the reserve
/// is kept, divided by what one MiB costs, and no more than the largest free range of the
/// address space (less its guard page). After an attempt, the module's figures replace the
/// ones read here: they are counted at the call, after the loader took its share, and a load
/// (or a failure at the reserve check) shows what a MiB really cost.
pub fn estimate(f: &Figures) -> u64 {
    let (avail, per_mib) = match f.last {
        Some(m) => {
            let measured = m
                .left_kib
                .filter(|_| m.memsize_mib > 0)
                .and_then(|left| m.avail_kib.checked_sub(left))
                .map(|used| used as f64 / m.memsize_mib as f64)
                .filter(|k| *k >= 1024.0);
            (m.avail_kib, measured.unwrap_or(DEFAULT_KIB_PER_MIB as f64))
        }
        None => (f.available_kib, DEFAULT_KIB_PER_MIB as f64),
    };
    let physical = (avail.saturating_sub(f.reserve_kib) as f64 / per_mib) as u64;
    let address = f
        .largest_free
        .map(|b| b.saturating_sub(f.page_size) / crate::units::MIB);
    address.map_or(physical, |a| a.min(physical))
}

/// Free pages on per-CPU lists, KiB: the "count:" of every pageset in /proc/zoneinfo text.
pub fn pcp_kib(zoneinfo: &str, page_size: u64) -> u64 {
    let pages: u64 = zoneinfo
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("count:"))
        .filter_map(|v| v.trim().parse::<u64>().ok())
        .sum();
    pages * page_size / 1024
}

/// The figures now, before any attempt: /proc/meminfo, /proc/zoneinfo, /proc/vmallocinfo.
pub fn figures_now(last: Option<ModuleFigures>) -> anyhow::Result<Figures> {
    let s = crate::system::meminfo::Sample::read()?;
    let page_size = procfs::page_size();
    // Unreadable: the per-CPU lists are left out, and the estimate is a little low.
    let pcp = std::fs::read_to_string("/proc/zoneinfo")
        .map(|z| pcp_kib(&z, page_size))
        .unwrap_or(0);
    Ok(Figures {
        available_kib: s.available() / 1024 + pcp,
        reserve_kib: crate::module::reserve_mib(s.mem_total) * 1024,
        last,
        largest_free: crate::system::vmallocinfo::largest_free_now(s.vmalloc_total),
        page_size,
    })
}

/// The largest `to` worth trying: MemTotal in MiB. The kernel refuses a vmalloc() of more
/// than all its pages before it looks for any ("exceeds total pages").
pub fn cap_mib(mem_total: u64) -> u64 {
    mem_total / crate::units::MIB
}

/// What a probe of this machine starts from, read once for `vmtop probe` and the
/// dashboard's `p`: the largest size worth trying, the figures, and the first estimate.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// MemTotal in MiB (`cap_mib`).
    pub cap_mib: u64,
    /// The figures now (None when /proc/meminfo could not be read a second time).
    pub figures: Option<Figures>,
    /// The estimate they give (Estimate only).
    pub estimate: Option<u64>,
}

impl Start {
    /// Read the machine's figures for a probe with `strategy`.
    pub fn read(strategy: Strategy) -> anyhow::Result<Start> {
        let cap_mib = cap_mib(crate::system::meminfo::Sample::read()?.mem_total);
        let figures = figures_now(None).ok();
        let estimate = match strategy {
            Strategy::Estimate => figures.as_ref().map(estimate),
            Strategy::Bisect => None,
        };
        Ok(Start {
            cap_mib,
            figures,
            estimate,
        })
    }

    /// The plan for `from..=to` to within `precision`.
    pub fn plan(&self, from: u64, to: u64, precision: u64, strategy: Strategy) -> Plan {
        Plan {
            from,
            to,
            precision,
            strategy,
            estimate: self.estimate,
        }
    }
}

/// Why sizes above MemTotal are not tried, for the text and JSON output.
pub const CAP_REASON: &str =
    "vmalloc() refuses more than all RAM (\"exceeds total pages\"), so no larger size is tried";

/// A probe of the running kernel through `engine`: each attempt loads in safe mode
/// (`oom_safe`) and unloads after a success; the module's figures for each attempt give the
/// next estimate. `on_event` sees every load and unload event as it happens, `on_attempt`
/// every attempt. A failure that is not about size (say the module file went missing), or an
/// unload that fails, stops the probe.
pub fn run(
    engine: &mut crate::engine::Engine,
    plan: &Plan,
    oom_safe: bool,
    mut on_event: impl FnMut(&crate::engine::Event),
    on_attempt: impl FnMut(&Attempt),
) -> anyhow::Result<ProbeResult> {
    use crate::engine::LoadRequest;
    probe(
        plan,
        |size| {
            let loaded = engine.load(&LoadRequest {
                memsize_mib: size,
                oom_safe,
                force: false,
                alloc: crate::module::alloc::Allocator::Vmalloc,
                fragment_order: 0,
            });
            let e = &loaded.event;
            on_event(e);
            match e.diagnosis() {
                None => {
                    let u = engine.unload();
                    on_event(&u);
                    if let Some(d) = u.diagnosis() {
                        anyhow::bail!("unloading after {size} MiB failed: {}", d.summary);
                    }
                }
                Some(d) if d.cause.means_too_big() => {}
                Some(d) => anyhow::bail!("{size} MiB: {}", d.summary),
            }
            let estimate = match loaded.figures {
                Some(m) => figures_now(Some(m)).ok().map(|f| estimate(&f)),
                None => None,
            };
            Ok(Trial {
                loaded: !e.failed(),
                estimate,
            })
        },
        on_attempt,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::log::tests::LAB_61;

    fn plan(from: u64, to: u64, precision: u64, strategy: Strategy, estimate: Option<u64>) -> Plan {
        Plan {
            from,
            to,
            precision,
            strategy,
            estimate,
        }
    }

    /// A machine whose limit is `threshold` (sizes up to it load); each attempt's figures
    /// predict `next(size)`.
    fn run_sim(p: &Plan, threshold: u64, mut next: impl FnMut(u64) -> Option<u64>) -> ProbeResult {
        let mut seen = Vec::new();
        let r = probe(
            p,
            |s| {
                Ok(Trial {
                    loaded: s <= threshold,
                    estimate: next(s),
                })
            },
            |a| seen.push(*a),
        )
        .expect("probe");
        assert_eq!(seen, r.attempts, "on_attempt sees every attempt in order");
        r
    }

    /// The result is right for `threshold` and consistent with every attempt.
    fn check(p: &Plan, threshold: u64, r: &ProbeResult) {
        let ctx = format!("{p:?} t={threshold}: {:?}", r.attempts);
        let n = r.attempts.len();
        let bound = max_attempts(p.from, p.to, p.precision);
        assert!(n <= bound, "{n} loads > bound {bound}: {ctx}");
        for a in &r.attempts {
            assert_eq!(a.loaded, a.size <= threshold, "{ctx}");
            assert!(
                a.size >= p.from && a.size <= p.to,
                "outside the range: {ctx}"
            );
        }
        assert_eq!(
            r.attempts.last().map(|a| (a.lo, a.hi)),
            Some((r.largest_ok, r.smallest_failed)),
            "{ctx}"
        );
        if threshold < p.from {
            assert_eq!(r.largest_ok, None, "{ctx}");
            assert_eq!(r.smallest_failed, Some(p.from), "{ctx}");
        } else if threshold >= p.to {
            assert_eq!(r.largest_ok, Some(p.to), "{ctx}");
            assert_eq!(r.smallest_failed, None, "{ctx}");
        } else {
            let (ok, bad) = (r.largest_ok.expect("ok"), r.smallest_failed.expect("bad"));
            assert!(ok <= threshold && threshold < bad, "{ctx}");
            assert!(
                bad - ok <= p.precision,
                "bracket wider than the precision: {ctx}"
            );
        }
    }

    const RANGES: [(u64, u64, u64); 8] = [
        (1, 2048, 1),
        (1, 2048, 16),
        (16, 958, 1),
        (64, 1000, 7),
        (100, 101, 1),
        (5, 5, 1),
        (0, 12_345, 100),
        (1, 104_857_600, 1),
    ];

    fn thresholds(from: u64, to: u64) -> Vec<u64> {
        let below = from.saturating_sub(1);
        let step = ((to - from) / 300).max(1);
        let mut t: Vec<u64> = (below..=to + 2).step_by(step as usize).collect();
        t.extend([below, from, from + 1, to.saturating_sub(1), to, to + 1]);
        t
    }

    #[test]
    fn max_attempts_formula() {
        assert_eq!(max_attempts(1, 1, 1), 1);
        assert_eq!(max_attempts(1, 2, 1), 2); // ratio 1 -> log2 = 0
        assert_eq!(max_attempts(0, 1024, 1), 12);
        assert_eq!(max_attempts(0, 1025, 1), 13);
        assert_eq!(max_attempts(0, 9, 4), 4); // ceil(9/4) = 3 -> 2 bisections
        assert_eq!(max_attempts(64, 4096, 16), 10); // ceil(4032/16) = 252 -> 8
        assert_eq!(max_attempts(0, u64::MAX, 1), 66);
    }

    #[test]
    fn bisect_is_the_first_search() {
        // From, to, then halves: the sizes vmtop always tried (a 1024 MiB lab VM).
        let r = run_sim(&plan(16, 958, 1, Strategy::Bisect, None), 788, |_| {
            Some(788)
        });
        let sizes: Vec<u64> = r.attempts.iter().map(|a| a.size).collect();
        assert_eq!(
            sizes,
            [16, 958, 487, 722, 840, 781, 810, 795, 788, 791, 789]
        );
        assert!(r.attempts[..2].iter().all(|a| a.step == Step::Bound));
        // The bound is reached: precision 1 over 1024, 10 bisections + 2 ends.
        let r = run_sim(&plan(0, 1024, 1, Strategy::Bisect, None), 500, |_| None);
        assert_eq!(r.attempts.len(), max_attempts(0, 1024, 1));
    }

    /// Either strategy, any estimate (none, right, off by a little or a lot, moving, wrong
    /// each time): the answer is right and the loads stay within the bound.
    #[test]
    fn correct_and_within_bound_for_every_threshold_and_estimate() {
        for (from, to, precision) in RANGES {
            for threshold in thresholds(from, to) {
                let p = plan(from, to, precision, Strategy::Bisect, None);
                check(&p, threshold, &run_sim(&p, threshold, |_| None));
                let off = [0i64, 1, -1, 2, -3, 17, -40, 1 << 20, -(1 << 20)];
                for d in off {
                    let e = threshold.saturating_add_signed(d);
                    let p = plan(from, to, precision, Strategy::Estimate, Some(e));
                    // The figures repeat the same estimate after each attempt.
                    check(&p, threshold, &run_sim(&p, threshold, |_| Some(e)));
                    // The figures say nothing more.
                    check(&p, threshold, &run_sim(&p, threshold, |_| None));
                    // The figures are wrong the other way each time.
                    let mut flip = d;
                    check(
                        &p,
                        threshold,
                        &run_sim(&p, threshold, |_| {
                            flip = -flip;
                            Some(threshold.saturating_add_signed(flip))
                        }),
                    );
                }
                let p = plan(from, to, precision, Strategy::Estimate, None);
                check(&p, threshold, &run_sim(&p, threshold, |_| None));
                // Estimates far outside the range are clamped into it.
                let p = plan(from, to, precision, Strategy::Estimate, Some(u64::MAX));
                check(&p, threshold, &run_sim(&p, threshold, |_| Some(0)));
            }
        }
    }

    /// Pseudo-random estimates (a fixed-seed generator): still right, still within the bound.
    #[test]
    fn random_estimates_stay_within_the_bound() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let from = rnd() % 1000;
            let to = from + rnd() % 100_000;
            let precision = 1 + rnd() % 8;
            let threshold = from.saturating_sub(1) + rnd() % (to - from + 3);
            let p = plan(
                from,
                to,
                precision,
                Strategy::Estimate,
                Some(rnd() % (to + 10)),
            );
            let r = run_sim(&p, threshold, |_| Some(rnd() % (to + 10)));
            check(&p, threshold, &r);
        }
    }

    /// What the figures make of it: a right estimate takes 2 loads (it, and the size just
    /// above failing), anywhere in the range. A first guess that is off costs little when it
    /// is too high (what is left is below it), and when it is too low, as long as the answer
    /// is in the upper half of the range, as on a real machine (MemAvailable less the reserve
    /// is most of MemTotal): lower, the bound on loads leaves less room for checks that could
    /// leave most of the range open.
    #[test]
    fn a_good_estimate_takes_few_loads() {
        for (from, to, precision) in RANGES {
            for t in thresholds(from, to) {
                if t < from || t >= to {
                    continue;
                }
                let upper_half = to - t <= (to - from) / 2;
                let loads = |first: u64, next: &dyn Fn(u64) -> u64| {
                    let p = plan(from, to, precision, Strategy::Estimate, Some(first));
                    let r = run_sim(&p, t, |s| Some(next(s)));
                    check(&p, t, &r);
                    (r.attempts.len(), format!("{p:?} t={t}: {:?}", r.attempts))
                };
                let (n, ctx) = loads(t, &|_| t);
                assert!(n <= 2, "{ctx}");
                // Off by one or two the first time, right from the module's figures after.
                for d in [1, 2] {
                    let (n, ctx) = loads(t + d, &|_| t);
                    assert!(n <= 3, "{ctx}");
                    let (n, ctx) = loads(t.saturating_sub(d), &|_| t);
                    assert!(n <= 3 || !upper_half, "{ctx}");
                }
                // Always 3 too low (the figures keep the same error): the margin doubles (1,
                // 2, 4: t-3, t-2, t load, t+4 fails) and bisection settles the rest (t+2,
                // t+1), where the answer is in the top quarter of the range (in the lab 82 %
                // of MemTotal); lower, the bound leaves room for fewer such checks.
                let top_quarter = to - t <= (to - from) / 4;
                let low = t.saturating_sub(3).max(from);
                let (n, ctx) = loads(low, &|_| low);
                assert!(n <= 6 || precision > 1 || !top_quarter, "{ctx}");
            }
        }
    }

    #[test]
    fn errors_abort_with_context() {
        let mut calls = 0;
        let e = probe(
            &plan(1, 1024, 1, Strategy::Bisect, None),
            |s| {
                calls += 1;
                if calls == 3 {
                    anyhow::bail!("module vanished")
                }
                Ok(Trial {
                    loaded: s < 300,
                    estimate: None,
                })
            },
            |_| {},
        )
        .expect_err("aborts");
        assert_eq!(calls, 3);
        let msg = format!("{e:#}");
        assert!(msg.contains("probe attempt 3 at size 512"), "{msg}");
        assert!(msg.contains("module vanished"), "{msg}");
    }

    #[test]
    fn bad_arguments() {
        for s in [Strategy::Bisect, Strategy::Estimate] {
            let ok = |_| {
                Ok(Trial {
                    loaded: true,
                    estimate: None,
                })
            };
            assert!(probe(&plan(10, 5, 1, s, None), ok, |_| {}).is_err());
            assert!(probe(&plan(1, 5, 0, s, None), ok, |_| {}).is_err());
        }
    }

    #[test]
    fn attempts_carry_the_bracket_and_the_step() {
        let r = run_sim(&plan(100, 900, 50, Strategy::Bisect, None), 420, |_| None);
        assert_eq!(r.attempts[0].lo, Some(100));
        assert_eq!(r.attempts[1].hi, Some(900));
        assert!(r.attempts.iter().enumerate().all(|(i, a)| a.index == i + 1));
        let r = run_sim(
            &plan(16, 958, 1, Strategy::Estimate, Some(786)),
            788,
            |_| Some(788),
        );
        let steps: Vec<(u64, Step, Option<u64>)> = r
            .attempts
            .iter()
            .map(|a| (a.size, a.step, a.estimate))
            .collect();
        assert_eq!(
            steps,
            [
                (786, Step::Estimate, Some(786)),
                (788, Step::Estimate, Some(788)),
                (789, Step::Margin, Some(788))
            ]
        );
    }

    fn lab_figures(last: Option<ModuleFigures>) -> Figures {
        Figures {
            // MemAvailable 854524 kB and 22960 KiB on per-CPU lists before the probe.
            available_kib: 854_524 + 22_960,
            reserve_kib: 64 * 1024,
            last,
            // x86_64: the address space is no limit.
            largest_free: Some(34_359_738_367 * 1024 - (1 << 30)),
            page_size: 4096,
        }
    }

    #[test]
    fn the_lab_figures_predict_the_bisections_answer() {
        // Before any attempt: 876 MiB available, 64 kept: 812 MiB / 1028 KiB.
        assert_eq!(estimate(&lab_figures(None)), 789);
        // After any of the bisection's attempts, the module's own figures say 788.
        for l in LAB_61 {
            let m = ModuleFigures::from_log_line(l).expect(l);
            assert_eq!(estimate(&lab_figures(Some(m))), 788, "{l}");
        }
    }

    #[test]
    fn the_address_space_caps_the_estimate() {
        // The 32-bit lab (6.1.0-57-686-pae, 1024 MiB), before its probe: 900 MiB available
        // but a largest free vmalloc range of 116.1 MiB. The probe then loaded 116 MiB and
        // 117 failed ("no free range ... that big"), as its line says.
        let before = Figures {
            available_kib: 922_244,
            reserve_kib: 64 * 1024,
            last: None,
            largest_free: Some(121_741_312),
            page_size: 4096,
        };
        assert_eq!(estimate(&before), 116);
        let failed = "alloc_large_mem: fail memsize_mib=117 bytes=122683392 oom_safe=Y err=-12 stage=vmalloc free_kib=994744 avail_kib=921428 pcp_kib=16700 boost_kib=0 reserve_kib=65536";
        let after = Figures {
            last: ModuleFigures::from_log_line(failed),
            ..before
        };
        assert!(after.last.is_some());
        assert_eq!(estimate(&after), 116);
        // Nothing free, or nothing available: 0, and the search starts at `from`.
        assert_eq!(
            estimate(&Figures {
                largest_free: Some(0),
                ..before
            }),
            0
        );
        let none = Figures {
            available_kib: 1000,
            largest_free: None,
            ..before
        };
        assert_eq!(estimate(&none), 0);
    }

    #[test]
    fn pcp_counts_every_pageset() {
        let z = "Node 0, zone    DMA32\n  pagesets\n    cpu: 0\n              count: 4962\n              high:  5298\n    cpu: 1\n              count: 778\n  node_unreclaimable:  0\n";
        assert_eq!(pcp_kib(z, 4096), (4962 + 778) * 4);
        assert_eq!(pcp_kib("", 4096), 0);
    }

    #[test]
    fn the_cap_is_mem_total() {
        assert_eq!(cap_mib(981_476 * 1024), 958);
    }
}
