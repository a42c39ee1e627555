//! The module's kernel-log lines (kmod-src/README.md, "Kernel log"): the one parser of them.
//!
//! ```text
//! alloc_large_mem: load memsize_mib=N bytes=N oom_safe=Y ... avail_kib=N ... left_kib=N reserve_kib=N ...
//! alloc_large_mem: fail memsize_mib=N bytes=N oom_safe=Y err=-N stage=S allocated=0|1 ... reserve_kib=N ...
//! alloc_large_mem: fail ... stage=param allocated=0 [alloc=A order=N max_order=N limit_bytes=N]
//! alloc_large_mem: limits page_size=N kmalloc_max_size=N max_order=N pageblock_order=N allocators=A,B,...
//! alloc_large_mem: memsize must be between 1 and N MiB          (and fragment_order=, reserve_mib=, alloc=)
//! ```
//!
//! Every figure is one `key=value` word; a line may carry a prefix (dmesg's timestamp).

use serde::Serialize;

use super::alloc::Limits;
use super::MODULE_NAME;

/// The words after `alloc_large_mem: EVENT ` (EVENT: `load`, `fail`, `limits`), wherever
/// the line has them.
fn after_event<'a>(line: &'a str, event: &str) -> Option<&'a str> {
    line.match_indices(MODULE_NAME).find_map(|(i, _)| {
        line[i + MODULE_NAME.len()..]
            .strip_prefix(": ")?
            .strip_prefix(event)?
            .strip_prefix(' ')
    })
}

/// The value of the word `key=value` in `words`.
fn field<'a>(words: &'a str, key: &str) -> Option<&'a str> {
    words
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// `key`'s value as a number.
fn number<T: std::str::FromStr>(words: &str, key: &str) -> Option<T> {
    field(words, key)?.parse().ok()
}

/// The module's `limits` line: the kernel's limits as the module was built.
pub fn limits(line: &str) -> Option<Limits> {
    let w = after_event(line, "limits")?;
    Some(Limits {
        page_size: number(w, "page_size")?,
        kmalloc_max_size: number(w, "kmalloc_max_size")?,
        max_order: number(w, "max_order")?,
        allocators: field(w, "allocators")?
            .split(',')
            .map(str::to_string)
            .collect(),
    })
}

/// The module's `fail` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailLine<'a> {
    /// The whole line, for evidence.
    pub line: &'a str,
    pub err: Option<i32>,
    /// Where it failed: param, fragment, reserve, the allocator's name, fill, layout, sysfs,
    /// signal.
    pub stage: Option<&'a str>,
    /// Whether the buffer had been allocated when it failed (`allocated=0|1`; None from a
    /// module older than the field). `stage=reserve allocated=0`: refused before the
    /// allocator ran, nothing reclaimed.
    pub allocated: Option<bool>,
    /// `stage=param` for a request above what its allocator ever gives: that limit, bytes.
    pub limit_bytes: Option<u64>,
    /// What the module counted as available at the call, KiB: MemAvailable plus `pcp_kib`
    /// and `boost_kib`, which MemAvailable leaves out.
    pub avail_kib: Option<u64>,
    /// Free pages on per-CPU lists at the call, KiB.
    pub pcp_kib: Option<u64>,
    /// What a watermark boost held back from MemAvailable at the call, KiB.
    pub boost_kib: Option<u64>,
    /// Available (counted the same way) with the buffer allocated (stages reserve, fill,
    /// sysfs), KiB.
    pub left_kib: Option<u64>,
    /// What safe mode keeps back, KiB.
    pub reserve_kib: Option<u64>,
    /// Free pages at the call (with those on per-CPU lists), KiB.
    pub free_kib: Option<u64>,
    /// The allocator (`alloc=`; an older module logs none: vmalloc).
    pub alloc: Option<&'a str>,
    /// The order one block of the request needs, the largest the page allocator gives, and
    /// the largest with a free block at the call (-1: none).
    pub order: Option<u32>,
    pub max_order: Option<u32>,
    pub max_free_order: Option<i32>,
    /// `fragment_order=K`: the module left no free block of order K first.
    pub fragment_order: Option<u32>,
}

impl<'a> FailLine<'a> {
    pub fn parse(line: &'a str) -> Option<FailLine<'a>> {
        let w = after_event(line, "fail")?;
        Some(FailLine {
            line,
            err: number(w, "err"),
            stage: field(w, "stage"),
            allocated: field(w, "allocated").and_then(|v| match v {
                "0" => Some(false),
                "1" => Some(true),
                _ => None,
            }),
            limit_bytes: number(w, "limit_bytes"),
            avail_kib: number(w, "avail_kib"),
            pcp_kib: number(w, "pcp_kib"),
            boost_kib: number(w, "boost_kib"),
            left_kib: number(w, "left_kib"),
            reserve_kib: number(w, "reserve_kib"),
            free_kib: number(w, "free_kib"),
            alloc: field(w, "alloc"),
            order: number(w, "order"),
            max_order: number(w, "max_order"),
            max_free_order: number(w, "max_free_order"),
            fragment_order: number(w, "fragment_order"),
        })
    }
}

/// What one of the module's `load`, `fail` or `unload` lines says happened (for `vmtop
/// record`, which sees other programs' loads only through these lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleEvent<'a> {
    pub kind: ModuleEventKind,
    pub memsize_mib: u64,
    /// `oom_safe=Y|N` (None on an unload line).
    pub oom_safe: Option<bool>,
    /// `alloc=` (an older module logs none: vmalloc).
    pub alloc: Option<&'a str>,
    pub alloc_ns: Option<u64>,
    pub fill_ns: Option<u64>,
    /// A failure's errno, positive.
    pub errno: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleEventKind {
    Load,
    Fail,
    Unload,
}

impl<'a> ModuleEvent<'a> {
    pub fn parse(line: &'a str) -> Option<ModuleEvent<'a>> {
        let (kind, w) = [
            (ModuleEventKind::Load, "load"),
            (ModuleEventKind::Fail, "fail"),
            (ModuleEventKind::Unload, "unload"),
        ]
        .into_iter()
        .find_map(|(k, word)| Some((k, after_event(line, word)?)))?;
        Some(ModuleEvent {
            kind,
            memsize_mib: number(w, "memsize_mib")?,
            oom_safe: field(w, "oom_safe").and_then(|v| match v {
                "Y" | "1" => Some(true),
                "N" | "0" => Some(false),
                _ => None,
            }),
            alloc: field(w, "alloc"),
            alloc_ns: number(w, "alloc_ns"),
            fill_ns: number(w, "fill_ns"),
            errno: number::<i32>(w, "err").map(|e| e.saturating_abs()),
        })
    }
}

/// The module refused a parameter's value: its line naming the range (memsize=,
/// fragment_order=, reserve_mib=).
pub fn is_param_range(line: &str) -> bool {
    line.contains("memsize must be between")
        || line.contains("fragment_order must be between")
        || line.contains("fragment_order must be 0 (off) or between")
        || line.contains("reserve_mib must be")
}

/// The module refused its `alloc=`: its line naming the accepted values.
pub fn is_param_alloc(line: &str) -> bool {
    after_event(line, "alloc").is_some_and(|w| w.starts_with("must be one of"))
}

/// The module's own figures for one attempt (its `load` or `fail` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModuleFigures {
    pub memsize_mib: u64,
    /// Available memory at the call, as the module counts it (MemAvailable plus the free
    /// pages on per-CPU lists and what a watermark boost held back), KiB.
    pub avail_kib: u64,
    /// Available memory (counted the same way) with the buffer allocated, KiB: only when the
    /// allocation itself succeeded (a load, or a failure at the reserve check or later).
    pub left_kib: Option<u64>,
    /// What safe mode kept back, KiB.
    pub reserve_kib: u64,
}

impl ModuleFigures {
    /// From `alloc_large_mem: load ...` or `alloc_large_mem: fail ...`.
    pub fn from_log_line(line: &str) -> Option<ModuleFigures> {
        let w = after_event(line, "load").or_else(|| after_event(line, "fail"))?;
        Some(ModuleFigures {
            memsize_mib: number(w, "memsize_mib")?,
            avail_kib: number(w, "avail_kib")?,
            // The module logs left_kib=-1 where it did not get that far.
            left_kib: number::<i64>(w, "left_kib").and_then(|v| u64::try_from(v).ok()),
            reserve_kib: number(w, "reserve_kib")?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn limits_from_the_captured_line() {
        // Captured in the 6.1 lab (tui/testdata/kmsg-6.1-alloc.txt).
        let l = limits("alloc_large_mem: limits page_size=4096 kmalloc_max_size=4194304 max_order=10 allocators=vmalloc,kvmalloc,kmalloc,pages,vmalloc_huge")
            .expect("limits parse");
        assert_eq!(l.page_size, 4096);
        assert_eq!(l.kmalloc_max_size, 4 << 20);
        assert_eq!(l.max_order, 10);
        assert_eq!(l.max_block(), 4 << 20);
        assert_eq!(l.allocators.len(), 5);
        assert_eq!(limits("alloc_large_mem: limits page_size=x"), None);
        // With dmesg's prefix, as the dashboard's kernel-log pane has it.
        assert_eq!(
            limits("[   12.345678] alloc_large_mem: limits page_size=4096 kmalloc_max_size=4194304 max_order=10 allocators=vmalloc"),
            Some(Limits { allocators: vec!["vmalloc".into()], ..l })
        );
    }

    /// `order=` is not `max_order=` nor `max_free_order=`, whatever their order in the line.
    #[test]
    fn fail_line_fields_are_whole_words() {
        let line = "alloc_large_mem: fail memsize_mib=2048 bytes=2147483648 oom_safe=Y err=-12 stage=kmalloc free_kib=900000 avail_kib=850000 pcp_kib=100 boost_kib=0 reserve_kib=65536 alloc=kmalloc max_free_order=-1 max_order=10 order=19 fragment_order=8";
        let f = FailLine::parse(line).expect("fail line");
        assert_eq!(f.line, line);
        assert_eq!((f.err, f.stage), (Some(-12), Some("kmalloc")));
        assert_eq!((f.order, f.max_order), (Some(19), Some(10)));
        assert_eq!(f.max_free_order, Some(-1));
        assert_eq!(f.fragment_order, Some(8));
        assert_eq!(f.alloc, Some("kmalloc"));
        assert_eq!((f.left_kib, f.pcp_kib), (None, Some(100)));
        assert_eq!(FailLine::parse("alloc_large_mem: load memsize_mib=1"), None);
        assert_eq!(FailLine::parse("alloc_large_mem: failure"), None);
    }

    #[test]
    fn event_lines_parse() {
        let load = ModuleEvent::parse(LAB_61[0]).expect("load line");
        assert_eq!(load.kind, ModuleEventKind::Load);
        assert_eq!((load.memsize_mib, load.oom_safe), (16, Some(true)));
        assert_eq!(load.alloc, Some("vmalloc"));
        assert_eq!(
            (load.alloc_ns, load.fill_ns),
            (Some(31_617_220), Some(29_485_190))
        );
        assert_eq!(load.errno, None);
        let fail = ModuleEvent::parse(LAB_61[1]).expect("fail line");
        assert_eq!(
            (fail.kind, fail.memsize_mib, fail.errno),
            (ModuleEventKind::Fail, 958, Some(12))
        );
        let unload =
            ModuleEvent::parse("[  9.1] alloc_large_mem: unload memsize_mib=16 bytes=16777216")
                .expect("unload line");
        assert_eq!(
            (unload.kind, unload.memsize_mib, unload.oom_safe),
            (ModuleEventKind::Unload, 16, None)
        );
        assert_eq!(
            ModuleEvent::parse("alloc_large_mem: limits page_size=4096"),
            None
        );
        assert_eq!(
            ModuleEvent::parse("alloc_large_mem: memsize must be between 1 and 9 MiB"),
            None
        );
    }

    #[test]
    fn parameter_refusals() {
        assert!(is_param_range(
            "alloc_large_mem: memsize must be between 1 and 17592186044415 MiB"
        ));
        assert!(is_param_range(
            "alloc_large_mem: fragment_order must be between 0 and 10, not 11"
        ));
        assert!(is_param_alloc(
            "alloc_large_mem: alloc must be one of vmalloc,kvmalloc,kmalloc,pages, not 'slab'"
        ));
        assert!(!is_param_alloc(
            "alloc_large_mem: fail memsize_mib=1 bytes=0 oom_safe=Y err=-22 stage=param"
        ));
    }

    #[test]
    fn module_lines_parse() {
        let m: Vec<ModuleFigures> = LAB_61
            .iter()
            .map(|l| ModuleFigures::from_log_line(l).expect(l))
            .collect();
        assert_eq!(
            m[0],
            ModuleFigures {
                memsize_mib: 16,
                avail_kib: 876_224,
                left_kib: Some(859_776),
                reserve_kib: 65_536
            }
        );
        assert_eq!(
            m[1].left_kib, None,
            "failed in vmalloc(): nothing left to count"
        );
        assert_eq!(m[3].left_kib, Some(12_676));
        // With the kmsg prefix dmesg shows, and an unrelated line.
        assert_eq!(
            ModuleFigures::from_log_line(&format!("[   21.107004] {}", LAB_61[3])),
            Some(m[3])
        );
        assert_eq!(
            ModuleFigures::from_log_line("alloc_large_mem: unload memsize_mib=16 bytes=1"),
            None
        );
        assert_eq!(
            ModuleFigures::from_log_line(
                "alloc_large_mem: fail memsize_mib=0 bytes=0 oom_safe=Y err=-22 stage=param"
            ),
            None,
            "a parameter refusal has no figures"
        );
    }

    // Figures captured in the 1024 MiB lab VM (Debian 6.1.0-57-amd64, MemTotal 981476 kB,
    // reserve 64 MiB), `vmtop probe --strategy bisect`: the module's lines for its attempts.
    // The bisection's answer in that boot was 788 MiB (789 failed).
    pub(crate) const LAB_61: [&str; 4] = [
        "alloc_large_mem: load memsize_mib=16 bytes=16777216 oom_safe=Y alloc_ns=31617220 fill_ns=29485190 free_kib=943048 avail_kib=876224 pcp_kib=22960 boost_kib=0 left_kib=859776 reserve_kib=65536 alloc=vmalloc order=12 max_order=10 max_free_order=10 backing=vmalloc runs=4 largest_run_kib=8192 nodes=0:4096 zones=DMA32:4096",
        "alloc_large_mem: fail memsize_mib=958 bytes=1004535808 oom_safe=Y err=-12 stage=vmalloc free_kib=942992 avail_kib=876192 pcp_kib=22904 boost_kib=0 reserve_kib=65536 alloc=vmalloc order=18 max_order=10 max_free_order=10",
        "alloc_large_mem: load memsize_mib=722 bytes=757071872 oom_safe=Y alloc_ns=2103543110 fill_ns=2042776560 free_kib=942044 avail_kib=875244 pcp_kib=22184 boost_kib=0 left_kib=134008 reserve_kib=65536 alloc=vmalloc order=18 max_order=10 max_free_order=10",
        "alloc_large_mem: fail memsize_mib=840 bytes=880803840 oom_safe=Y err=-12 stage=reserve free_kib=941552 avail_kib=874756 pcp_kib=2148 boost_kib=0 left_kib=12676 reserve_kib=65536 alloc=vmalloc order=18 max_order=10 max_free_order=10",
    ];
}
