//! The areas view's state (`v` pane, `vmtop areas` live): the last /proc/vmallocinfo
//! reading grouped, what it was when vmtop started and before the last load, the map, the
//! kernel-memory figures and memory pressure beside it.
//!
//! /proc/vmallocinfo costs the kernel a walk of every area per read (about 1.5 ms for 3000
//! areas on a small machine), so it is read only while the view is shown, at most once per
//! `PERIOD`, plus once at start and once before each load for the baselines. The reader
//! keeps its file and buffer; the grouping keeps its allocations.

use std::time::{Duration, Instant};

use crate::system::meminfo::KernelMemory;
use crate::system::pressure::{Pressure, PressureReader};
use crate::system::vmareas::{Baseline, Map, ModuleHint, Reader, Snapshot, SortBy};

/// How often an open view re-reads /proc/vmallocinfo.
pub const PERIOD: Duration = Duration::from_secs(1);

/// PSI `some avg10` this much above its value when the load started marks the charts.
pub const PRESSURE_RISE: f32 = 1.0;

#[derive(Debug, Default, Clone)]
pub struct AreasView {
    reader: Reader,
    /// Why the last read failed (no root, no file).
    pub error: Option<String>,
    /// The first reading of the session.
    pub since_start: Option<Baseline>,
    /// The reading just before the last load, and its session time.
    pub since_load: Option<(f64, Baseline)>,
    pub sort: SortBy,
    /// The user asked for the map (`m` in `vmtop areas`; shown anyway on 32-bit).
    pub map_wanted: bool,
    /// The map of the last reading, or why there is none.
    pub map: Option<Result<Map, String>>,
    /// VmallocTotal of the last sample, bytes.
    pub vmalloc_total: u64,
    /// Wall time of the last read and group, for the bench and the title.
    pub last_read: Option<Duration>,
    last_at: Option<Instant>,
    /// Reads so far.
    pub reads: u64,
    /// Kernel memory of the last sample (set by `on_sample`, which keeps `line_version`).
    pub kernel: Option<KernelMemory>,
    /// PSI memory, or why not (set with `kernel`).
    pub pressure: Option<Result<Pressure, String>>,
    pressure_reader: PressureReader,
    /// The kernel-memory line's text as `on_sample` last made it, and PSI's.
    shown_text: (Option<String>, Option<Option<String>>),
    /// Counts the changes of that text: what the controls line compares to know whether to
    /// draw it again, without making the text.
    line_version: u64,
    /// A saved copy of the file, grouped instead of reading /proc/vmallocinfo.
    saved: Option<String>,
}

impl AreasView {
    /// A view of another file instead of /proc/vmallocinfo (the tests).
    #[cfg(test)]
    pub fn from_file(path: &std::path::Path) -> AreasView {
        AreasView {
            reader: Reader::from_path(path),
            ..AreasView::default()
        }
    }

    pub fn snapshot(&self) -> &Snapshot {
        self.reader.snapshot()
    }

    /// Whether a read is due at `now` (never read, or `PERIOD` passed).
    pub fn due(&self, now: Instant) -> bool {
        self.last_at.is_none_or(|t| now.duration_since(t) >= PERIOD)
    }

    /// The map is drawn: asked for, or a small (32-bit) window.
    pub fn shows_map(&self) -> bool {
        self.map_wanted || (self.vmalloc_total > 0 && self.vmalloc_total < 4 * crate::units::GIB)
    }

    /// A view of a saved copy of the file (`vmtop areas --file`, read as the user).
    pub fn from_text(text: String) -> AreasView {
        AreasView {
            saved: Some(text),
            ..AreasView::default()
        }
    }

    /// Read and group /proc/vmallocinfo now (or the saved copy); the first good reading is
    /// the start baseline.
    pub fn refresh(&mut self, hint: Option<ModuleHint>, vmalloc_total: u64) {
        let t0 = Instant::now();
        if vmalloc_total > 0 {
            self.vmalloc_total = vmalloc_total;
        }
        let read = match &self.saved {
            Some(text) => Ok(self.reader.group_text(text, hint)),
            None => self.reader.read(hint),
        };
        match read {
            Ok(s) => {
                self.error = None;
                if self.since_start.is_none() {
                    self.since_start = Some(Baseline::of(s));
                }
            }
            Err(e) => self.error = Some(e),
        }
        self.map = self.error.is_none().then(|| self.build_map());
        self.reads += 1;
        self.last_read = Some(t0.elapsed());
        self.last_at = Some(Instant::now());
    }

    /// A reading of `text` instead of the file, at `t` (the UI's snapshot tests).
    #[cfg(test)]
    pub fn refresh_from_text(&mut self, text: &str, hint: Option<ModuleHint>, vmalloc_total: u64) {
        self.vmalloc_total = vmalloc_total;
        let s = self.reader.group_text(text, hint);
        if self.since_start.is_none() {
            self.since_start = Some(Baseline::of(s));
        }
        self.error = None;
        self.map = Some(self.build_map());
        self.reads += 1;
    }

    /// The figures of the kernel-memory line, as a sample gives them (the UI's tests);
    /// whether the line reads differently now.
    #[cfg(test)]
    pub fn set_figures(
        &mut self,
        kernel: Option<KernelMemory>,
        pressure: Option<Pressure>,
    ) -> bool {
        self.set(kernel, pressure.map(Ok))
    }

    /// The baseline of "since the load" set to the current reading, at `t`.
    #[cfg(test)]
    pub fn mark_load(&mut self, t: f64) {
        self.since_load = Some((t, Baseline::of(self.snapshot())));
    }

    fn build_map(&self) -> Result<Map, String> {
        let s = self.snapshot();
        let kptr = crate::system::vmareas::kptr_restrict();
        if let Some(why) = s.addresses().no_map_reason(kptr) {
            return Err(why);
        }
        let layout = s
            .layout(self.vmalloc_total)
            .ok_or_else(|| "no map: VmallocTotal is unknown".to_string())?;
        Ok(Map::build(s, &layout))
    }

    /// Just before a load at session time `t`: the baseline of "since the load". Nothing
    /// when the file cannot be read (the view says why when shown).
    pub fn before_load(&mut self, t: f64, hint: Option<ModuleHint>) {
        if self.error.is_some() && self.reads > 0 {
            return;
        }
        self.refresh(hint, self.vmalloc_total);
        if self.error.is_none() {
            self.since_load = Some((t, Baseline::of(self.snapshot())));
        }
    }

    /// The kernel-memory figures and PSI of a new sample (PSI: one small read). Returns
    /// whether the line that shows them reads differently now. The text is made only when a
    /// figure it shows changed (an idle machine's sample formats nothing).
    pub fn on_sample(&mut self, kernel: Option<KernelMemory>) -> bool {
        let pressure = self.pressure_reader.read();
        self.set(kernel, Some(pressure))
    }

    fn set(
        &mut self,
        kernel: Option<KernelMemory>,
        pressure: Option<Result<Pressure, String>>,
    ) -> bool {
        let kernel_before = std::mem::replace(&mut self.kernel, kernel);
        let pressure_before = std::mem::replace(&mut self.pressure, pressure);
        if self.kernel == kernel_before && shown(&self.pressure) == shown(&pressure_before) {
            return false;
        }
        let text = (
            self.kernel.map(|k| k.line()),
            self.pressure
                .as_ref()
                .map(|p| p.as_ref().map(|p| p.short()).ok()),
        );
        let changed = text != self.shown_text;
        self.shown_text = text;
        self.line_version += u64::from(changed);
        changed
    }

    /// Changes with the text of the kernel-memory figures and PSI (not with figures that
    /// moved less than the text shows).
    pub fn line_version(&self) -> u64 {
        self.line_version
    }

    /// PSI `some avg10` now, if read.
    pub fn some_avg10(&self) -> Option<f32> {
        match &self.pressure {
            Some(Ok(p)) => Some(p.some_avg10),
            _ => None,
        }
    }
}

/// What the line shows of a PSI reading: the avg10 figures (the totals move with every
/// stall but are not shown), or why there are none.
fn shown(p: &Option<Result<Pressure, String>>) -> Option<Result<(f32, f32), &str>> {
    p.as_ref().map(|p| match p {
        Ok(p) => Ok((p.some_avg10, p.full_avg10)),
        Err(e) => Err(e.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::vmareas::tests::{body, I686_100M, I686_IDLE};
    use crate::units::MIB;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("vmtop-areas-view-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    /// A sample's figures redraw the line only when its text changes: a figure that moved
    /// less than the text shows, or a PSI total (not shown), redraws nothing.
    #[test]
    fn a_sample_changes_the_line_only_when_its_text_changes() {
        let psi = |some: &str, total: u64| {
            format!(
                "some avg10={some} avg60=0.00 avg300=0.00 total={total}\n\
                 full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
            )
        };
        let path = file("pressure-memory", &psi("0.00", 5));
        let mut v = AreasView {
            pressure_reader: PressureReader::of_file(std::fs::File::open(&path).expect("open")),
            ..AreasView::default()
        };
        let k = KernelMemory {
            slab: 9 * MIB,
            s_unreclaim: Some(8 * MIB),
            kernel_stack: Some(984 * 1024),
            page_tables: Some(96 * 1024),
            percpu: Some(1200 * 1024),
            vmalloc_used: 20 * MIB,
        };
        assert!(v.on_sample(Some(k)), "the first sample shows the line");
        assert!(!v.on_sample(Some(k)), "the same figures");
        std::fs::write(&path, psi("0.00", 999_999)).expect("write");
        assert!(!v.on_sample(Some(k)), "only PSI's total moved");
        assert_eq!(
            v.pressure
                .as_ref()
                .map(|p| p.as_ref().map(|p| p.some_total_us)),
            Some(Ok(999_999))
        );
        let one_byte_more = KernelMemory {
            slab: k.slab + 1,
            ..k
        };
        assert!(!v.on_sample(Some(one_byte_more)), "9.00 MiB either way");
        let one_mib_more = KernelMemory {
            slab: k.slab + MIB,
            ..k
        };
        assert!(v.on_sample(Some(one_mib_more)), "9.00 MiB -> 10.0 MiB");
        std::fs::write(&path, psi("1.50", 999_999)).expect("write");
        assert!(v.on_sample(Some(one_mib_more)), "some avg10 0.00% -> 1.50%");
        assert!(v.on_sample(None), "the line goes");
        assert!(!v.on_sample(None));
    }

    /// The 32-bit lab before and after the 100 MiB load: the start baseline, the load's
    /// baseline and the map.
    #[test]
    fn baselines_and_map_of_a_load() {
        let p = file("v", &body(I686_IDLE));
        let mut v = AreasView::from_file(&p);
        let total = 120 * MIB;
        assert!(v.due(Instant::now()));
        v.refresh(None, total);
        assert_eq!(v.error, None);
        assert!(!v.due(Instant::now()), "read just now");
        assert!(v.shows_map(), "a 120 MiB window is drawn unasked");
        let before = match &v.map {
            Some(Ok(m)) => m.largest_free.size,
            other => panic!("{other:?}"),
        };
        let idle_bytes = v.snapshot().bytes;
        v.before_load(10.0, None);
        std::fs::write(&p, body(I686_100M)).expect("write");
        let hint = ModuleHint {
            name: "alloc_large_mem",
            bytes: 100 * MIB,
        };
        v.refresh(Some(hint), total);
        let g = v.snapshot().module_group().expect("the buffer").clone();
        let (t, load) = v.since_load.as_ref().expect("load baseline");
        assert_eq!(*t, 10.0);
        assert_eq!(
            load.delta(&g),
            (i64::try_from(100 * MIB + 4096).expect("fits"), 1)
        );
        let start = v.since_start.as_ref().expect("start baseline");
        assert_eq!(start.bytes, idle_bytes);
        let after = match &v.map {
            Some(Ok(m)) => m.largest_free.size,
            other => panic!("{other:?}"),
        };
        assert_eq!(after, before - (100 * MIB + 4096));
        std::fs::remove_file(&p).expect("cleanup");
    }

    #[test]
    fn an_unreadable_file_is_said() {
        let mut v = AreasView::from_file(std::path::Path::new("/nonexistent/vmallocinfo"));
        v.refresh(None, 120 * MIB);
        assert!(
            v.error
                .as_deref()
                .is_some_and(|e| e.contains("/nonexistent")),
            "{:?}",
            v.error
        );
        assert_eq!(v.map, None);
        v.before_load(1.0, None);
        assert_eq!(v.since_load, None);
    }
}
