//! The largest memsize that loads: bracketing, then bisection.
//!
//! Only the search lives here; the caller supplies `attempt(size) -> loaded?` (a real load
//! and unload). Sizes are in whatever unit the caller uses (MiB for vmtop).
//!
//! 1. try `from`: if it does not load, nothing in the range loads;
//! 2. try `to`: if it loads, the answer is at least `to`;
//! 3. otherwise bisect between the largest size that loaded and the smallest that failed
//!    until they are at most `precision` apart.
//!
//! Attempts: at most `ceil(log2(ceil((to - from) / precision))) + 2`. The real system is not a
//! perfect threshold (free memory moves), so the result is "what loaded and what failed
//! during this probe", not a constant of the machine.

use anyhow::Context as _;
use serde::Serialize;

/// One attempt, reported as it finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// 1-based attempt number.
    pub index: usize,
    pub size: u64,
    pub loaded: bool,
    /// Largest size known to load after this attempt.
    pub lo: Option<u64>,
    /// Smallest size known to fail after this attempt.
    pub hi: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    /// Largest size that loaded (None: not even `from` loaded).
    pub largest_ok: Option<u64>,
    /// Smallest size that failed (None: even `to` loaded, so the answer is >= `to`).
    pub smallest_failed: Option<u64>,
    pub attempts: Vec<Attempt>,
}

/// Most attempts `probe` makes for this range and precision.
pub fn max_attempts(from: u64, to: u64, precision: u64) -> usize {
    if to <= from {
        return 1;
    }
    let precision = precision.max(1);
    let ratio = (to - from).div_ceil(precision); // >= 1
                                                 // ceil(log2(ratio)) for ratio >= 1.
    let bits = if ratio <= 1 {
        0
    } else {
        (u64::BITS - (ratio - 1).leading_zeros()) as usize
    };
    bits + 2
}

/// Find the largest size in `[from, to]` for which `attempt` returns true, to within
/// `precision`. `on_attempt` sees each attempt as it finishes (for progress display). An
/// error from `attempt` aborts the probe and is returned with the size it happened at.
pub fn probe(
    from: u64,
    to: u64,
    precision: u64,
    mut attempt: impl FnMut(u64) -> anyhow::Result<bool>,
    mut on_attempt: impl FnMut(&Attempt),
) -> anyhow::Result<ProbeResult> {
    anyhow::ensure!(
        from <= to,
        "probe range is empty: from {from} is above to {to}"
    );
    anyhow::ensure!(precision > 0, "probe precision must be at least 1");

    let mut attempts: Vec<Attempt> = Vec::new();
    let mut lo: Option<u64> = None;
    let mut hi: Option<u64> = None;
    let mut try_size = |size: u64,
                        lo: &mut Option<u64>,
                        hi: &mut Option<u64>,
                        attempts: &mut Vec<Attempt>|
     -> anyhow::Result<bool> {
        let loaded = attempt(size)
            .with_context(|| format!("probe attempt {} at size {size}", attempts.len() + 1))?;
        if loaded {
            *lo = Some(lo.map_or(size, |l| l.max(size)));
        } else {
            *hi = Some(hi.map_or(size, |h| h.min(size)));
        }
        let a = Attempt {
            index: attempts.len() + 1,
            size,
            loaded,
            lo: *lo,
            hi: *hi,
        };
        on_attempt(&a);
        attempts.push(a);
        Ok(loaded)
    };

    if !try_size(from, &mut lo, &mut hi, &mut attempts)? || from == to {
        return Ok(ProbeResult {
            largest_ok: lo,
            smallest_failed: hi,
            attempts,
        });
    }
    if try_size(to, &mut lo, &mut hi, &mut attempts)? {
        return Ok(ProbeResult {
            largest_ok: lo,
            smallest_failed: hi,
            attempts,
        });
    }

    // Invariant: `good` loaded, `bad` failed, good < bad.
    let mut good = from;
    let mut bad = to;
    while bad - good > precision {
        let mid = good + (bad - good) / 2;
        if try_size(mid, &mut lo, &mut hi, &mut attempts)? {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Ok(ProbeResult {
        largest_ok: Some(good),
        smallest_failed: Some(bad),
        attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(from: u64, to: u64, precision: u64, threshold: u64) -> ProbeResult {
        let mut seen = Vec::new();
        let r = probe(
            from,
            to,
            precision,
            |s| Ok(s <= threshold),
            |a| seen.push(*a),
        )
        .expect("probe");
        assert_eq!(seen, r.attempts, "on_attempt sees every attempt in order");
        r
    }

    #[test]
    fn max_attempts_formula() {
        assert_eq!(max_attempts(1, 1, 1), 1);
        assert_eq!(max_attempts(1, 2, 1), 2); // ratio 1 -> log2 = 0
        assert_eq!(max_attempts(0, 1024, 1), 12);
        assert_eq!(max_attempts(0, 1025, 1), 13);
        assert_eq!(max_attempts(0, 9, 4), 4); // ceil(9/4) = 3 -> 2 bisections
        assert_eq!(max_attempts(64, 4096, 16), 10); // ceil(4032/16) = 252 -> 8
    }

    #[test]
    fn correct_and_within_bound_for_every_threshold() {
        for &(from, to, precision) in &[
            (1u64, 2048u64, 1u64),
            (1, 2048, 16),
            (64, 1000, 7),
            (100, 101, 1),
            (5, 5, 1),
            (0, 12_345, 100),
        ] {
            let bound = max_attempts(from, to, precision);
            // Thresholds below, inside and above the range.
            let below = from.saturating_sub(1);
            let thresholds = (below..=to + 2).step_by(((to - from) / 400).max(1) as usize);
            for threshold in thresholds.chain([below, from, to, to + 1]) {
                let r = run(from, to, precision, threshold);
                let n = r.attempts.len();
                assert!(
                    n <= bound,
                    "{from}..{to}/{precision} t={threshold}: {n} > {bound}"
                );
                if threshold < from {
                    assert_eq!(r.largest_ok, None);
                    assert_eq!(r.smallest_failed, Some(from));
                    assert_eq!(n, 1);
                } else if threshold >= to {
                    assert_eq!(r.largest_ok, Some(to));
                    assert_eq!(r.smallest_failed, None);
                } else {
                    let (ok, bad) = (r.largest_ok.expect("ok"), r.smallest_failed.expect("bad"));
                    assert!(
                        ok <= threshold && threshold < bad,
                        "t={threshold} ok={ok} bad={bad}"
                    );
                    assert!(
                        bad - ok <= precision,
                        "bracket {ok}..{bad} wider than {precision}"
                    );
                }
                // Every reported bracket is consistent with the predicate.
                for a in &r.attempts {
                    assert_eq!(a.loaded, a.size <= threshold);
                }
            }
        }
    }

    #[test]
    fn the_bound_is_reached() {
        // Precision 1 over 1024: 10 bisections + 2 endpoints.
        let r = run(0, 1024, 1, 500);
        assert_eq!(r.attempts.len(), max_attempts(0, 1024, 1));
    }

    #[test]
    fn errors_abort_with_context() {
        let mut calls = 0;
        let e = probe(
            1,
            1024,
            1,
            |s| {
                calls += 1;
                if calls == 3 {
                    anyhow::bail!("module vanished")
                }
                Ok(s < 300)
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
        assert!(probe(10, 5, 1, |_| Ok(true), |_| {}).is_err());
        assert!(probe(1, 5, 0, |_| Ok(true), |_| {}).is_err());
    }

    #[test]
    fn attempts_carry_the_bracket() {
        let r = run(100, 900, 50, 420);
        let last = r.attempts.last().expect("attempts");
        assert_eq!(last.lo, r.largest_ok);
        assert_eq!(last.hi, r.smallest_failed);
        assert_eq!(r.attempts[0].lo, Some(100));
        assert_eq!(r.attempts[1].hi, Some(900));
        assert!(r.attempts.iter().enumerate().all(|(i, a)| a.index == i + 1));
    }
}
