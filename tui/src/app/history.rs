//! Time series of samples, bounded by a retention, with a decimated view for the charts.
//!
//! A failed read is stored as a gap (`Point::sample == None`) and comes out of `series` as a
//! break between line segments, never as a zero.

use std::collections::VecDeque;

use crate::system::meminfo::{Point, Sample};

/// How much history to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Retention {
    /// Keep points no older than this many seconds before the newest.
    Seconds(f64),
}

impl From<std::time::Duration> for Retention {
    fn from(d: std::time::Duration) -> Self {
        Retention::Seconds(d.as_secs_f64())
    }
}

/// One line segment of a series: (t seconds, value) pairs, in time order.
pub type Segment = Vec<(f64, f64)>;

#[derive(Debug, Clone)]
pub struct History {
    points: VecDeque<Point>,
    retention: Retention,
    /// Points pushed so far (kept or not): how `ui::damage` finds the points it has not seen.
    pushed: u64,
}

impl History {
    pub fn new(retention: Retention) -> History {
        History {
            points: VecDeque::new(),
            retention,
            pushed: 0,
        }
    }

    /// Append a point (points arrive in time order) and drop what the retention no longer keeps.
    pub fn push(&mut self, p: Point) {
        if let Some(last) = self.points.back() {
            if p.t < last.t {
                // Out of order: keep the series sorted (a late point is not worth a re-sort).
                return;
            }
        }
        self.points.push_back(p);
        self.pushed += 1;
        match self.retention {
            Retention::Seconds(s) => {
                let oldest = p.t - s;
                while self.points.front().is_some_and(|f| f.t < oldest) {
                    self.points.pop_front();
                }
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.points.len()
    }

    /// How many points were pushed so far, the ones the retention dropped included: the
    /// newest `pushed() - n` points are those pushed after the first `n`.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    pub fn points(&self) -> &VecDeque<Point> {
        &self.points
    }

    pub fn first_t(&self) -> Option<f64> {
        self.points.front().map(|p| p.t)
    }

    #[cfg(test)]
    fn last_t(&self) -> Option<f64> {
        self.points.back().map(|p| p.t)
    }

    /// The newest point that has a sample.
    pub fn latest(&self) -> Option<&Point> {
        self.points.iter().rev().find(|p| p.sample.is_some())
    }

    pub fn latest_sample(&self) -> Option<&Sample> {
        self.latest().and_then(|p| p.sample.as_ref())
    }

    /// The newest sample taken at or before `t`.
    pub fn sample_at(&self, t: f64) -> Option<&Sample> {
        let end = self.points.partition_point(|p| p.t <= t);
        self.points
            .range(..end)
            .rev()
            .find_map(|p| p.sample.as_ref())
    }

    /// Points with `x0 <= t <= x1` (binary search: cost depends on the window, not the history).
    pub fn range(&self, x0: f64, x1: f64) -> impl DoubleEndedIterator<Item = &Point> {
        self.points.range(self.window(x0, x1))
    }

    /// Largest value of a series in the window, ignoring gaps.
    pub fn max_in(&self, x0: f64, x1: f64, f: impl Fn(&Point) -> Option<f64>) -> Option<f64> {
        self.range(x0, x1).filter_map(f).reduce(f64::max)
    }

    /// Indices of the points with `x0 <= t <= x1`, for `series_in` and `point`.
    pub fn window(&self, x0: f64, x1: f64) -> std::ops::Range<usize> {
        let a = self.points.partition_point(|p| p.t < x0);
        let b = self.points.partition_point(|p| p.t <= x1).max(a);
        a..b
    }

    /// The point at `index` (as `window` counts).
    pub fn point(&self, index: usize) -> Option<&Point> {
        self.points.get(index)
    }

    /// The series `f` over `[x0, x1]`, decimated for a chart `width` cells wide: the window is
    /// cut into `width / 2` buckets, each giving at most its minimum and its maximum (in time
    /// order), so the result has at most `width` points whatever the history length.
    /// A gap (`f` returns None) ends a segment; a bucket holding a gap ends its segment after
    /// the bucket's values.
    #[cfg(test)]
    pub fn series(
        &self,
        x0: f64,
        x1: f64,
        width: usize,
        f: impl Fn(&Point) -> Option<f64>,
    ) -> Vec<Segment> {
        self.series_in(self.window(x0, x1), x0, x1, width, f)
    }

    /// `series` over the points at `indices` only (a part of `window(x0, x1)` made of whole
    /// buckets), cut into the buckets of the whole window: what `series` gives there, for
    /// drawing a few columns of a chart again (`ui::damage`).
    pub fn series_in(
        &self,
        indices: std::ops::Range<usize>,
        x0: f64,
        x1: f64,
        width: usize,
        f: impl Fn(&Point) -> Option<f64>,
    ) -> Vec<Segment> {
        let grid = Buckets::new(x0, x1, width);

        #[derive(Clone, Copy)]
        struct Bucket {
            idx: usize,
            min: Option<(f64, f64)>,
            max: Option<(f64, f64)>,
            gap: bool,
        }
        let mut out: Vec<Segment> = Vec::new();
        // At most two values a bucket.
        let mut seg: Segment = Vec::with_capacity(indices.len().min(2 * grid.count));
        let flush = |b: Bucket, seg: &mut Segment, out: &mut Vec<Segment>| {
            match (b.min, b.max) {
                (Some(lo), Some(hi)) if lo.0 == hi.0 => seg.push(lo),
                (Some(lo), Some(hi)) if lo.0 < hi.0 => {
                    seg.push(lo);
                    seg.push(hi);
                }
                (Some(lo), Some(hi)) => {
                    seg.push(hi);
                    seg.push(lo);
                }
                _ => {}
            }
            if b.gap && !seg.is_empty() {
                out.push(std::mem::take(seg));
            }
        };

        let mut cur: Option<Bucket> = None;
        let end = indices.end.min(self.points.len());
        for p in self.points.range(indices.start.min(end)..end) {
            let idx = grid.of(p.t);
            if let Some(b) = cur {
                if b.idx != idx {
                    flush(b, &mut seg, &mut out);
                    cur = None;
                }
            }
            let b = cur.get_or_insert(Bucket {
                idx,
                min: None,
                max: None,
                gap: false,
            });
            match f(p) {
                None => b.gap = true,
                Some(v) => {
                    if b.min.is_none_or(|(_, m)| v < m) {
                        b.min = Some((p.t, v));
                    }
                    if b.max.is_none_or(|(_, m)| v > m) {
                        b.max = Some((p.t, v));
                    }
                }
            }
        }
        if let Some(b) = cur {
            flush(b, &mut seg, &mut out);
        }
        if !seg.is_empty() {
            out.push(seg);
        }
        out
    }
}

/// The buckets `History::series` cuts a window into.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Buckets {
    x0: f64,
    span: f64,
    /// How many.
    pub count: usize,
}

impl Buckets {
    /// The buckets of `series(x0, x1, width, ..)`.
    pub fn new(x0: f64, x1: f64, width: usize) -> Buckets {
        Buckets {
            x0,
            span: x1 - x0,
            count: (width / 2).max(1),
        }
    }

    /// The bucket of time `t`.
    pub fn of(&self, t: f64) -> usize {
        if self.span <= 0.0 {
            0
        } else {
            (((t - self.x0) / self.span * self.count as f64) as usize).min(self.count - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::MIB;

    fn sample(free_mib: u64) -> Sample {
        Sample {
            mem_total: 1000 * MIB,
            mem_free: free_mib * MIB,
            mem_available: Some(free_mib * MIB),
            vmalloc_total: 32 << 40,
            vmalloc_used: 10 * MIB,
            vmalloc_chunk: 0,
            highmem: None,
        }
    }

    fn point(t: f64, s: Option<Sample>) -> Point {
        Point {
            t,
            unix_ms: 0,
            sample: s,
            vmalloc_largest_free: None,
        }
    }

    fn free(p: &Point) -> Option<f64> {
        p.sample.map(|s| crate::units::mib_f64(s.mem_free))
    }

    #[test]
    fn retention_by_seconds_drops_old_points() {
        let mut h = History::new(Retention::Seconds(10.0));
        for i in 0..100 {
            h.push(point(i as f64, Some(sample(500))));
        }
        assert_eq!(h.first_t(), Some(89.0));
        assert_eq!(h.last_t(), Some(99.0));
        assert_eq!(h.len(), 11);
    }

    #[test]
    fn decimated_length_is_bounded_by_width_whatever_the_history() {
        for n in [10usize, 1_000, 100_000] {
            let mut h = History::new(Retention::Seconds(f64::INFINITY));
            for i in 0..n {
                // A saw-tooth so min and max differ in every bucket.
                h.push(point(i as f64 * 0.01, Some(sample(400 + (i % 7) as u64))));
            }
            let x1 = h.last_t().unwrap();
            for width in [1usize, 2, 40, 77, 160] {
                let segs = h.series(0.0, x1, width, free);
                let total: usize = segs.iter().map(Vec::len).sum();
                assert!(total <= width.max(2), "n={n} width={width}: {total} points");
                assert!(total > 0);
            }
        }
    }

    #[test]
    fn decimation_keeps_extremes() {
        let mut h = History::new(Retention::Seconds(f64::INFINITY));
        for i in 0..10_000 {
            let v = if i == 5_000 {
                10
            } else if i == 7_000 {
                990
            } else {
                500
            };
            h.push(point(i as f64, Some(sample(v))));
        }
        let segs = h.series(0.0, 9_999.0, 20, free);
        let vals: Vec<f64> = segs.iter().flatten().map(|p| p.1).collect();
        assert!(vals.contains(&10.0), "spike down kept: {vals:?}");
        assert!(vals.contains(&990.0), "spike up kept: {vals:?}");
    }

    #[test]
    fn gaps_split_lines_and_are_never_zero() {
        let mut h = History::new(Retention::Seconds(f64::INFINITY));
        for i in 0..30 {
            let s = if (10..15).contains(&i) {
                None
            } else {
                Some(sample(600))
            };
            h.push(point(i as f64, s));
        }
        let segs = h.series(0.0, 29.0, 200, free);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert!(segs.iter().flatten().all(|&(_, v)| v == 600.0));
        assert!(segs[0].iter().all(|&(t, _)| t < 10.0));
        assert!(segs[1].iter().all(|&(t, _)| t >= 15.0));
    }

    #[test]
    fn gaps_survive_heavy_decimation() {
        let mut h = History::new(Retention::Seconds(f64::INFINITY));
        for i in 0..100_000 {
            let s = if (50_000..50_010).contains(&i) {
                None
            } else {
                Some(sample(300))
            };
            h.push(point(i as f64, s));
        }
        let segs = h.series(0.0, 99_999.0, 80, free);
        assert_eq!(segs.len(), 2);
        assert!(segs.iter().flatten().all(|&(_, v)| v == 300.0));
    }

    #[test]
    fn window_selects_by_time() {
        let mut h = History::new(Retention::Seconds(f64::INFINITY));
        for i in 0..100 {
            h.push(point(i as f64, Some(sample(i))));
        }
        assert_eq!(h.range(90.0, 99.0).count(), 10);
        assert_eq!(h.max_in(0.0, 50.0, free), Some(50.0));
        assert_eq!(h.sample_at(42.5).map(|s| s.mem_free / MIB), Some(42));
        let segs = h.series(90.0, 99.0, 1000, free);
        assert_eq!(segs[0].first().unwrap().0, 90.0);
    }

    #[test]
    fn missing_mem_available_is_a_gap_of_that_series_only() {
        let mut h = History::new(Retention::Seconds(f64::INFINITY));
        let mut s = sample(500);
        s.mem_available = None;
        h.push(point(0.0, Some(sample(500))));
        h.push(point(1.0, Some(s)));
        h.push(point(2.0, Some(sample(500))));
        let avail = h.series(0.0, 2.0, 100, |p| {
            p.sample.and_then(|s| s.mem_available).map(|b| b as f64)
        });
        assert_eq!(avail.len(), 2);
        assert_eq!(h.series(0.0, 2.0, 100, free).len(), 1);
    }
}
