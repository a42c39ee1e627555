//! Who holds the vmalloc address space: /proc/vmallocinfo grouped by caller and kind, and the
//! vmalloc window drawn as a map (`vmtop areas`, the dashboard's areas pane).
//!
//! Each line of /proc/vmallocinfo is one area (mm/vmalloc.c `vmalloc_info_show`, `s_show`
//! before 6.9):
//!
//! ```text
//! 0xf7be4000-0xf9be5000 33558528 0xf784b3e5 pages=8192 vmalloc vpages
//! 0xff368e46c0005000-0xff368e46c0007000    8192 acpi_os_map_iomem+0x1b6/0x1d0 phys=0x000000003ffe1000 ioremap
//! 0xff368e46c47c4000-0xff368e46c47c9000   20480 unpurged vm_area
//! ```
//!
//! `start-end size [caller] [pages=N] [phys=A] [ioremap] [sparse] [vmalloc] [vmap] [user]
//! [dma-coherent] [vpages] [N<node>=pages…]`, or, for an area without a `vm_struct`,
//! `vm_map_ram` (vm_map_ram()'s blocks) or `unpurged vm_area` (freed lazily: its addresses
//! stay taken until the kernel purges them, which a failing allocation does before it gives
//! up). The size includes the guard page. The caller is printed with `%pS`: `symbol+off/len`,
//! with ` [module]` when a module's; an address the kernel cannot name any more (a module's
//! `__init` code, freed after init, as alloc_large_mem's allocation call) is printed as a
//! bare hexadecimal address. Since 6.9 the areas are listed per vmap node, not in address
//! order, and the unpurged ones always come last.
//!
//! None of 6.1 and 6.12 prints a word for huge mappings: vmalloc_huge()'s areas show as
//! `vmalloc`, their size rounded up to the huge page.
//!
//! Grouping works on hashed or zeroed addresses (the size column and the callers are always
//! right); the map needs real ones (`super::vmallocinfo::Availability`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead as _, BufReader, Seek as _, SeekFrom};

use serde::Serialize;

use crate::units::fmt_bytes;

pub(crate) const PATH: &str = super::vmallocinfo::PATH;

/// What an area is, from its flag words: the first that applies, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Freed lazily, not purged yet: the addresses are still taken.
    Unpurged,
    /// A block of vm_map_ram() (no vm_struct).
    VmMapRam,
    /// Device memory mapped by ioremap()/memremap() (`phys=`).
    Ioremap,
    /// Reserved, populated on demand (`sparse`, 6.9+: BPF arenas).
    Sparse,
    /// Mapped to user space (vmalloc_user(), `user`).
    User,
    /// DMA-coherent buffers remapped (`dma-coherent`).
    DmaCoherent,
    /// Pages vmalloc() allocated itself (`vmalloc`): module buffers, task stacks, BPF…
    Vmalloc,
    /// Pages someone else allocated, mapped by vmap() (`vmap`).
    Vmap,
    /// None of the words above.
    Other,
}

impl Kind {
    pub(crate) const ALL: [Kind; 9] = [
        Kind::Vmalloc,
        Kind::Vmap,
        Kind::Ioremap,
        Kind::User,
        Kind::Unpurged,
        Kind::VmMapRam,
        Kind::Sparse,
        Kind::DmaCoherent,
        Kind::Other,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Unpurged => "unpurged",
            Kind::VmMapRam => "vm_map_ram",
            Kind::Ioremap => "ioremap",
            Kind::Sparse => "sparse",
            Kind::User => "user",
            Kind::DmaCoherent => "dma-coherent",
            Kind::Vmalloc => "vmalloc",
            Kind::Vmap => "vmap",
            Kind::Other => "other",
        }
    }

    /// One character for the map.
    pub(crate) fn glyph(self) -> char {
        match self {
            Kind::Unpurged => 'p',
            Kind::VmMapRam => 'r',
            Kind::Ioremap => 'i',
            Kind::Sparse => 's',
            Kind::User => 'u',
            Kind::DmaCoherent => 'd',
            Kind::Vmalloc => 'v',
            Kind::Vmap => 'm',
            Kind::Other => 'o',
        }
    }
}

/// The flag words of a line, as bits (`--kind` matches a kind or any of these words).
pub(crate) mod flag {
    pub(crate) const IOREMAP: u16 = 1;
    pub(crate) const SPARSE: u16 = 1 << 1;
    pub(crate) const VMALLOC: u16 = 1 << 2;
    pub(crate) const VMAP: u16 = 1 << 3;
    pub(crate) const USER: u16 = 1 << 4;
    pub(crate) const DMA_COHERENT: u16 = 1 << 5;
    /// The area's page array is itself vmalloc'ed (big areas).
    pub(crate) const VPAGES: u16 = 1 << 6;
    /// A word vmtop does not know (a newer kernel's).
    pub(crate) const UNKNOWN: u16 = 1 << 7;

    pub(crate) const WORDS: [(&str, u16); 7] = [
        ("ioremap", IOREMAP),
        ("sparse", SPARSE),
        ("vmalloc", VMALLOC),
        ("vmap", VMAP),
        ("user", USER),
        ("dma-coherent", DMA_COHERENT),
        ("vpages", VPAGES),
    ];
}

/// What `--kind` selects: a kind, or areas carrying a flag word (`vpages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindFilter {
    Kind(Kind),
    Flag(u16),
}

impl KindFilter {
    /// `vmalloc`, `vmap`, `ioremap`, `user`, `vpages`, `unpurged`, `vm_map_ram`, `sparse`,
    /// `dma-coherent`, `other`.
    pub fn parse(s: &str) -> Result<KindFilter, String> {
        let w = s.trim().to_ascii_lowercase();
        if let Some(k) = Kind::ALL.iter().find(|k| k.name() == w) {
            return Ok(KindFilter::Kind(*k));
        }
        if w == "vpages" {
            return Ok(KindFilter::Flag(flag::VPAGES));
        }
        if w == "huge" {
            return Err("invalid --kind \"huge\": /proc/vmallocinfo has no word for huge mappings (vmalloc_huge()'s areas show as vmalloc, their size rounded up to the huge page): use --kind vmalloc".into());
        }
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        names.insert(4, "vpages");
        Err(format!(
            "invalid --kind {s:?}: use one of {}",
            names.join(", ")
        ))
    }

    fn takes(self, kind: Kind, flags: u16) -> bool {
        match self {
            KindFilter::Kind(k) => k == kind,
            KindFilter::Flag(f) => flags & f != 0,
        }
    }
}

/// One line of /proc/vmallocinfo, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub start: u64,
    pub end: u64,
    /// The size column (guard page included).
    pub size: u64,
    /// The caller's symbol without `+off/len`, or the bare address; None when not printed.
    pub caller: Option<&'a str>,
    /// `[module]` of the caller, without the brackets.
    pub module: Option<&'a str>,
    pub pages: u64,
    pub kind: Kind,
    pub flags: u16,
}

impl<'a> Line<'a> {
    /// The caller as shown: `symbol [module]`, the address, or `(none)`.
    pub(crate) fn caller_label(&self, out: &mut String) {
        out.clear();
        match (self.kind, self.caller) {
            (Kind::Unpurged, _) => out.push_str("(unpurged vm_area)"),
            (Kind::VmMapRam, _) => out.push_str("(vm_map_ram)"),
            (_, Some(c)) => out.push_str(c),
            (_, None) => out.push_str("(no caller)"),
        }
        if let Some(m) = self.module {
            out.push_str(" [");
            out.push_str(m);
            out.push(']');
        }
    }
}

fn hex(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u64::from_str_radix(digits, 16).ok()
}

/// Parse one line; None for anything that is not an area line.
pub(crate) fn parse_line(line: &str) -> Option<Line<'_>> {
    let mut words = line.split_ascii_whitespace();
    let (a, b) = words.next()?.split_once('-')?;
    let start = hex(a)?;
    let end = hex(b)?;
    let size: u64 = words.next()?.parse().ok()?;
    let mut l = Line {
        start,
        end,
        size,
        caller: None,
        module: None,
        pages: 0,
        kind: Kind::Other,
        flags: 0,
    };
    let mut rest = words.peekable();
    match rest.peek().copied() {
        Some("unpurged") => {
            l.kind = Kind::Unpurged;
            return Some(l);
        }
        Some("vm_map_ram") => {
            l.kind = Kind::VmMapRam;
            return Some(l);
        }
        _ => {}
    }
    for (i, w) in rest.enumerate() {
        if let Some(n) = w.strip_prefix("pages=") {
            l.pages = n.parse().unwrap_or(0);
        } else if w.starts_with("phys=") || is_node_count(w) {
        } else if let Some(m) = w.strip_prefix('[').and_then(|m| m.strip_suffix(']')) {
            l.module = Some(m);
        } else if let Some((_, bit)) = flag::WORDS.iter().find(|(name, _)| *name == w) {
            l.flags |= bit;
        } else if i == 0 {
            // `symbol+0x1b6/0x1d0`, or the bare address `%pS` prints for an unknown one.
            l.caller = Some(w.split_once('+').map_or(w, |(sym, _)| sym));
        } else {
            l.flags |= flag::UNKNOWN;
        }
    }
    l.kind = if l.flags & flag::IOREMAP != 0 {
        Kind::Ioremap
    } else if l.flags & flag::SPARSE != 0 {
        Kind::Sparse
    } else if l.flags & flag::USER != 0 {
        Kind::User
    } else if l.flags & flag::DMA_COHERENT != 0 {
        Kind::DmaCoherent
    } else if l.flags & flag::VMALLOC != 0 {
        Kind::Vmalloc
    } else if l.flags & flag::VMAP != 0 {
        Kind::Vmap
    } else {
        Kind::Other
    };
    Some(l)
}

/// `N0=512`: pages per NUMA node.
fn is_node_count(w: &str) -> bool {
    w.strip_prefix('N')
        .and_then(|r| r.split_once('='))
        .is_some_and(|(n, c)| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && c.parse::<u64>().is_ok()
        })
}

/// What tells vmtop's module's buffer from the other areas: the module's name and its buffer
/// size in bytes (`module::sysfs::buffer_hint` reads them). The allocation call is in the
/// module's `__init` code, freed once loaded, so the kernel prints it as a bare address: an
/// area of that size (plus the guard page, or rounded up to a huge page) made by vmalloc,
/// with such a caller, one of the module's or kvmalloc's, is the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct ModuleHint {
    pub name: &'static str,
    pub bytes: u64,
}

impl ModuleHint {
    /// How far `l` is from being the buffer (smaller is closer); None when it cannot be.
    fn distance(&self, l: &Line) -> Option<u64> {
        if l.flags & flag::VMALLOC == 0 {
            return None;
        }
        let ours = l.module == Some(self.name);
        let anonymous = l.caller.is_some_and(|c| c.starts_with("0x"));
        let kvmalloc = l.caller.is_some_and(|c| c.starts_with("kvmalloc"));
        if !(ours || anonymous || kvmalloc) {
            return None;
        }
        // A guard page, or the rounding of vmalloc_huge() to a 2 MiB (PMD) page.
        let extra = l.size.checked_sub(self.bytes)?;
        (extra > 0 && extra <= 2 * crate::units::MIB + 64 * crate::units::KIB).then_some(extra)
    }
}

/// One caller and kind: how many areas, how many bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Group {
    pub caller: String,
    pub kind: Kind,
    pub count: u64,
    /// Address space, guard pages included (the size column).
    pub bytes: u64,
    /// Pages behind them (`pages=`; 0 for ioremap, vmap, unpurged).
    pub pages: u64,
    /// The largest single area.
    pub largest: u64,
    /// The second largest (what `largest` becomes when the module's buffer leaves the group).
    #[serde(skip)]
    pub second: u64,
    /// vmtop's module's buffer.
    pub module: bool,
}

/// Totals per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct KindTotal {
    pub kind: Kind,
    pub count: u64,
    pub bytes: u64,
}

/// Whether the addresses in the file are real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Addresses {
    Real,
    /// `%pK` hashed them (kernel.kptr_restrict=0).
    Hashed,
    /// Printed as zeros (kptr_restrict=2, or 1 without CAP_SYSLOG).
    Hidden,
    /// No area line at all.
    None,
}

impl Addresses {
    /// Why no map can be drawn, and what to do; None when it can.
    pub(crate) fn no_map_reason(self, kptr_restrict: Option<u8>) -> Option<String> {
        let setting = kptr_restrict
            .map(|v| format!("kernel.kptr_restrict={v}"))
            .unwrap_or_else(|| "kernel.kptr_restrict (unreadable)".into());
        match self {
            Addresses::Real => None,
            Addresses::Hashed => Some(format!(
                "no map: the addresses are hashed ({setting}: %pK prints a hash); sizes and callers are right. \
                 For real addresses: `sudo sysctl kernel.kptr_restrict=1`, then run vmtop as root"
            )),
            Addresses::Hidden => Some(format!(
                "no map: the addresses are hidden (printed as zeros; {setting}, or 1 without CAP_SYSLOG); sizes and callers are right. \
                 For real addresses: `sudo sysctl kernel.kptr_restrict=1`, then run vmtop as root"
            )),
            Addresses::None => Some("no map: /proc/vmallocinfo lists no area".into()),
        }
    }
}

/// kernel.kptr_restrict now (None when unreadable).
pub(crate) fn kptr_restrict() -> Option<u8> {
    std::fs::read_to_string("/proc/sys/kernel/kptr_restrict")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// One used range of the address space, for the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Range {
    pub start: u64,
    pub end: u64,
    pub kind: Kind,
    /// vmtop's module's buffer.
    pub module: bool,
}

/// One reading of /proc/vmallocinfo, grouped.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Snapshot {
    /// Area lines.
    pub areas: u64,
    /// Sum of the size column, bytes.
    pub bytes: u64,
    /// Sum of `pages=`.
    pub pages: u64,
    /// By caller and kind, largest first.
    pub groups: Vec<Group>,
    /// By kind, in `Kind::ALL` order, kinds with no area left out.
    pub kinds: Vec<KindTotal>,
    /// Lines that looked like areas but did not parse.
    pub unparsed: u64,
    #[serde(skip)]
    pub addresses: Option<Addresses>,
    /// Every area's range (for the map; empty unless the addresses are real).
    #[serde(skip)]
    pub ranges: Vec<Range>,
}

impl Snapshot {
    pub(crate) fn addresses(&self) -> Addresses {
        self.addresses.unwrap_or(Addresses::None)
    }

    /// The module's group, if its buffer was found.
    pub(crate) fn module_group(&self) -> Option<&Group> {
        self.groups.iter().find(|g| g.module)
    }

    /// The window and its largest free range, as `vmtop status` computes it
    /// (`vmallocinfo::analyze_ranges`), given VmallocTotal; None without real addresses.
    pub(crate) fn layout(&self, vmalloc_total: u64) -> Option<super::vmallocinfo::Layout> {
        if self.addresses() != Addresses::Real {
            return None;
        }
        let mut r: Vec<(u64, u64)> = self.ranges.iter().map(|r| (r.start, r.end)).collect();
        let n = r.len();
        super::vmallocinfo::analyze_ranges(&mut r, n, vmalloc_total)
    }
}

/// How groups are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// Bytes of address space, largest first
    #[default]
    Size,
    /// Number of areas, most first
    Count,
    /// Caller name, A to Z
    Caller,
}

impl SortBy {
    pub(crate) fn next(self) -> SortBy {
        match self {
            SortBy::Size => SortBy::Count,
            SortBy::Count => SortBy::Caller,
            SortBy::Caller => SortBy::Size,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            SortBy::Size => "size",
            SortBy::Count => "count",
            SortBy::Caller => "caller",
        }
    }
}

/// The order of `by`; ties by bytes, then caller and kind (a total order).
pub(crate) fn cmp_groups(a: &Group, b: &Group, by: SortBy) -> std::cmp::Ordering {
    let primary = match by {
        SortBy::Size => b.bytes.cmp(&a.bytes),
        SortBy::Count => b.count.cmp(&a.count),
        SortBy::Caller => a.caller.cmp(&b.caller),
    };
    primary
        .then(b.bytes.cmp(&a.bytes))
        .then(a.caller.cmp(&b.caller))
        .then(a.kind.cmp(&b.kind))
}

/// Sort groups in place (`cmp_groups`).
pub(crate) fn sort_groups(groups: &mut [Group], by: SortBy) {
    groups.sort_by(|a, b| cmp_groups(a, b, by));
}

/// The counts of the reading in progress.
#[derive(Debug, Default, Clone)]
struct Pass {
    hint: Option<ModuleHint>,
    lines: u64,
    real: u64,
    zero: u64,
    per_kind: [(u64, u64); Kind::ALL.len()],
    buffer: Option<Candidate>,
}

/// The area closest to the module's buffer so far.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    distance: u64,
    range: usize,
    group: usize,
    kind: Kind,
    size: u64,
    pages: u64,
}

/// Groups a text into a `Snapshot`, reusing its allocations from one reading to the next.
#[derive(Debug, Default, Clone)]
pub(crate) struct Grouper {
    /// `caller` U+0001 `kind` to the group's index.
    index: HashMap<Box<str>, usize>,
    /// What the reading in progress has counted so far.
    pass: Pass,
    key: String,
    snap: Snapshot,
}

impl Grouper {
    /// Group `text` (the whole file).
    pub(crate) fn group(&mut self, text: &str, hint: Option<ModuleHint>) -> &Snapshot {
        self.begin(hint);
        for raw in text.lines() {
            self.line(raw);
        }
        self.finish()
    }

    /// Start a reading: what `line` adds up is this reading's alone.
    pub(crate) fn begin(&mut self, hint: Option<ModuleHint>) {
        let s = &mut self.snap;
        s.areas = 0;
        s.bytes = 0;
        s.pages = 0;
        s.unparsed = 0;
        s.groups.clear();
        s.kinds.clear();
        s.ranges.clear();
        self.index.clear();
        self.pass = Pass {
            hint,
            ..Pass::default()
        };
    }

    /// One line of the file (any line: others are skipped).
    pub(crate) fn line(&mut self, raw: &str) {
        let s = &mut self.snap;
        let p = &mut self.pass;
        if !raw.starts_with("0x") {
            return;
        }
        let Some(l) = parse_line(raw) else {
            s.unparsed += 1;
            return;
        };
        p.lines += 1;
        if l.start == 0 && l.end == 0 {
            p.zero += 1;
        } else if l.end > l.start && l.end - l.start == l.size {
            p.real += 1;
        }
        s.areas += 1;
        s.bytes += l.size;
        s.pages += l.pages;
        let k = Kind::ALL.iter().position(|k| *k == l.kind).unwrap_or(0);
        p.per_kind[k].0 += 1;
        p.per_kind[k].1 += l.size;
        s.ranges.push(Range {
            start: l.start,
            end: l.end,
            kind: l.kind,
            module: false,
        });
        l.caller_label(&mut self.key);
        let caller_len = self.key.len();
        self.key.push('\u{1}');
        self.key.push_str(l.kind.name());
        let i = match self.index.get(self.key.as_str()) {
            Some(&i) => i,
            None => {
                s.groups.push(Group {
                    caller: self.key[..caller_len].to_string(),
                    kind: l.kind,
                    count: 0,
                    bytes: 0,
                    pages: 0,
                    largest: 0,
                    second: 0,
                    module: false,
                });
                let i = s.groups.len() - 1;
                self.index.insert(self.key.as_str().into(), i);
                i
            }
        };
        let g = &mut s.groups[i];
        g.count += 1;
        g.bytes += l.size;
        g.pages += l.pages;
        if l.size > g.largest {
            g.second = g.largest;
            g.largest = l.size;
        } else {
            g.second = g.second.max(l.size);
        }
        // The module's buffer: the closest match to the hint (see `ModuleHint`), moved to a
        // group of its own in `finish`.
        if let Some(d) = p.hint.and_then(|h| h.distance(&l)) {
            if p.buffer.is_none_or(|b| d < b.distance) {
                p.buffer = Some(Candidate {
                    distance: d,
                    range: s.ranges.len() - 1,
                    group: i,
                    kind: l.kind,
                    size: l.size,
                    pages: l.pages,
                });
            }
        }
    }

    /// End the reading: the module's buffer in its own group, the kinds, the order.
    pub(crate) fn finish(&mut self) -> &Snapshot {
        let s = &mut self.snap;
        let p = &self.pass;
        if let (Some(c), Some(h)) = (p.buffer, p.hint) {
            let g = &mut s.groups[c.group];
            g.count -= 1;
            g.bytes -= c.size;
            g.pages -= c.pages;
            if g.largest == c.size {
                g.largest = g.second;
            }
            s.ranges[c.range].module = true;
            s.groups.push(Group {
                caller: format!("{} buffer", h.name),
                kind: c.kind,
                count: 1,
                bytes: c.size,
                pages: c.pages,
                largest: c.size,
                second: 0,
                module: true,
            });
            s.groups.retain(|g| g.count > 0);
        }
        s.addresses = Some(if p.lines == 0 {
            Addresses::None
        } else if p.real * 2 >= p.lines {
            Addresses::Real
        } else if p.zero * 2 >= p.lines {
            Addresses::Hidden
        } else {
            Addresses::Hashed
        });
        if s.addresses != Some(Addresses::Real) {
            s.ranges.clear();
        }
        for (k, (count, bytes)) in Kind::ALL.iter().zip(p.per_kind) {
            if count > 0 {
                s.kinds.push(KindTotal {
                    kind: *k,
                    count,
                    bytes,
                });
            }
        }
        sort_groups(&mut s.groups, SortBy::Size);
        &self.snap
    }

    pub(crate) fn snapshot(&self) -> &Snapshot {
        &self.snap
    }
}

/// Why /proc/vmallocinfo could not be read, in words that say what to do.
pub(crate) fn explain_read_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "{PATH} is readable by root only (mode 0400): run `sudo vmtop areas`, or the dashboard as root"
        ),
        std::io::ErrorKind::NotFound => {
            format!("{PATH} does not exist on this kernel (no /proc, or a kernel without vmalloc info)")
        }
        _ => format!("reading {PATH}: {e}"),
    }
}

/// Reads /proc/vmallocinfo again and again with one open file and one buffer: the kernel
/// walks every area to print it (about 1.5 ms for 3000 areas on a small machine), so callers
/// read it only while its figures are shown.
#[derive(Debug, Default)]
pub struct Reader {
    /// The open file with a 16 KiB buffer: the file (hundreds of KiB on a busy machine) is
    /// grouped line by line as it is read, never held whole.
    file: Option<BufReader<File>>,
    line: String,
    grouper: Grouper,
    path: Option<std::path::PathBuf>,
}

/// A copy holds the last reading and opens the file again at its next read.
impl Clone for Reader {
    fn clone(&self) -> Reader {
        Reader {
            file: None,
            line: String::new(),
            grouper: self.grouper.clone(),
            path: self.path.clone(),
        }
    }
}

impl Reader {
    /// A reader of another file (the tests).
    #[cfg(test)]
    pub(crate) fn from_path(path: &std::path::Path) -> Reader {
        Reader {
            path: Some(path.to_path_buf()),
            ..Reader::default()
        }
    }

    /// Read and group; the error says what to do (`explain_read_error`).
    pub(crate) fn read(&mut self, hint: Option<ModuleHint>) -> Result<&Snapshot, String> {
        let path = self
            .path
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from(PATH));
        if self.file.is_none() {
            let f = File::open(&path).map_err(|e| {
                if self.path.is_some() {
                    format!("opening {}: {e}", path.display())
                } else {
                    explain_read_error(&e)
                }
            })?;
            self.file = Some(BufReader::with_capacity(16 * 1024, f));
        }
        let Some(f) = self.file.as_mut() else {
            return Err(format!("{} is not open", path.display()));
        };
        if let Err(e) = f.seek(SeekFrom::Start(0)) {
            self.file = None;
            return Err(format!("reading {}: {e}", path.display()));
        }
        self.grouper.begin(hint);
        loop {
            self.line.clear();
            match f.read_line(&mut self.line) {
                Ok(0) => break,
                Ok(_) => self.grouper.line(&self.line),
                Err(e) => {
                    self.file = None;
                    return Err(format!("reading {}: {e}", path.display()));
                }
            }
        }
        Ok(self.grouper.finish())
    }

    /// The last reading.
    pub(crate) fn snapshot(&self) -> &Snapshot {
        self.grouper.snapshot()
    }

    /// Group a text as if read (a saved copy, `vmtop areas --file`).
    pub(crate) fn group_text(&mut self, text: &str, hint: Option<ModuleHint>) -> &Snapshot {
        self.grouper.group(text, hint)
    }
}

/// Counts and bytes per group at one moment, to show what changed since.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Baseline {
    groups: HashMap<(String, Kind), (u64, u64)>,
    pub areas: u64,
    pub bytes: u64,
}

impl Baseline {
    pub(crate) fn of(s: &Snapshot) -> Baseline {
        Baseline {
            groups: s
                .groups
                .iter()
                .map(|g| ((g.caller.clone(), g.kind), (g.count, g.bytes)))
                .collect(),
            areas: s.areas,
            bytes: s.bytes,
        }
    }

    /// Bytes and count of `g` minus what the baseline had (all of it when new).
    pub(crate) fn delta(&self, g: &Group) -> (i64, i64) {
        let (c, b) = self
            .groups
            .get(&(g.caller.clone(), g.kind))
            .copied()
            .unwrap_or((0, 0));
        (signed_diff(g.bytes, b), signed_diff(g.count, c))
    }
}

fn signed_diff(now: u64, then: u64) -> i64 {
    if now >= then {
        i64::try_from(now - then).unwrap_or(i64::MAX)
    } else {
        i64::try_from(then - now).map_or(i64::MIN, |d| -d)
    }
}

/// A byte delta: `+100.0 MiB`, `-8.0 KiB`, `0`.
pub(crate) fn fmt_signed_bytes(d: i64) -> String {
    match d.cmp(&0) {
        std::cmp::Ordering::Equal => "0".into(),
        std::cmp::Ordering::Greater => format!("+{}", fmt_bytes(d.unsigned_abs())),
        std::cmp::Ordering::Less => format!("-{}", fmt_bytes(d.unsigned_abs())),
    }
}

// --- The map -----------------------------------------------------------------------------

/// A free range of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Gap {
    pub start: u64,
    pub end: u64,
    pub size: u64,
}

/// The vmalloc window as used ranges (merged by kind where they touch) and free gaps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Map {
    /// VMALLOC_START as vmtop finds it (`super::vmallocinfo` explains how).
    pub start: u64,
    /// Exclusive end.
    pub end: u64,
    /// Used ranges in the window, in address order (touching ranges of one kind merged;
    /// the module's buffer never merged).
    pub used: Vec<Range>,
    /// Free ranges, in address order.
    pub gaps: Vec<Gap>,
    /// The largest free range (the first of equals), what `vmtop status` reports.
    pub largest_free: Gap,
    /// Areas listed outside the window (the module area on x86_64).
    pub outside: u64,
}

impl Map {
    /// The map of `s`'s areas in the window `layout` (from `Snapshot::layout`).
    pub(crate) fn build(s: &Snapshot, layout: &super::vmallocinfo::Layout) -> Map {
        let (ws, we) = (layout.range_start, layout.range_end);
        let mut inside: Vec<Range> = s
            .ranges
            .iter()
            .filter(|r| r.start >= ws && r.start < we)
            .map(|r| Range {
                end: r.end.min(we),
                ..*r
            })
            .collect();
        let outside = u64::try_from(s.ranges.len() - inside.len()).unwrap_or(u64::MAX);
        inside.sort_by_key(|r| (r.start, r.end));
        let mut used: Vec<Range> = Vec::with_capacity(inside.len());
        for r in inside {
            match used.last_mut() {
                Some(last)
                    if last.kind == r.kind && !last.module && !r.module && r.start <= last.end =>
                {
                    last.end = last.end.max(r.end);
                }
                _ => used.push(r),
            }
        }
        let mut gaps = Vec::new();
        let mut cursor = ws;
        for r in &used {
            if r.start > cursor {
                gaps.push(Gap {
                    start: cursor,
                    end: r.start,
                    size: r.start - cursor,
                });
            }
            cursor = cursor.max(r.end);
        }
        if we > cursor {
            gaps.push(Gap {
                start: cursor,
                end: we,
                size: we - cursor,
            });
        }
        let largest_free = gaps
            .iter()
            .copied()
            .fold(None::<Gap>, |best, g| match best {
                Some(b) if b.size >= g.size => Some(b),
                _ => Some(g),
            })
            .unwrap_or(Gap {
                start: ws,
                end: ws,
                size: 0,
            });
        Map {
            start: ws,
            end: we,
            used,
            gaps,
            largest_free,
            outside,
        }
    }

    /// What one cell of a strip `cells` wide shows, cell by cell: the module's buffer where
    /// it is, else the kind holding most of the cell, else free (in the largest gap or not).
    pub(crate) fn cells(&self, cells: usize) -> Vec<Cell> {
        let cells = cells.max(1);
        let span = u128::from(self.end - self.start);
        let bound = |i: usize| {
            let off = span * i as u128 / cells as u128;
            self.start + u64::try_from(off).unwrap_or(u64::MAX)
        };
        let mut out = Vec::with_capacity(cells);
        let mut j = 0usize;
        for i in 0..cells {
            let (a, b) = (bound(i), bound(i + 1).max(bound(i) + 1));
            while j < self.used.len() && self.used[j].end <= a {
                j += 1;
            }
            let mut per_kind = [0u64; Kind::ALL.len()];
            let mut module = false;
            let mut k = j;
            while k < self.used.len() && self.used[k].start < b {
                let r = &self.used[k];
                let overlap = r.end.min(b) - r.start.max(a);
                if r.module {
                    module = true;
                }
                if let Some(p) = Kind::ALL.iter().position(|x| *x == r.kind) {
                    per_kind[p] += overlap;
                }
                k += 1;
            }
            let top = per_kind
                .iter()
                .enumerate()
                .max_by_key(|(_, v)| **v)
                .filter(|(_, v)| **v > 0)
                .map(|(p, _)| Kind::ALL[p]);
            let lf = &self.largest_free;
            out.push(if module {
                Cell::Module
            } else if let Some(kind) = top {
                Cell::Used(kind)
            } else if lf.size > 0 && a >= lf.start && b <= lf.end {
                Cell::LargestFree
            } else {
                Cell::Free
            });
        }
        out
    }

    /// The map as text: `rows` lines of `width` cells, each led by its first address, then
    /// the legend and the largest free range.
    pub(crate) fn render_text(&self, width: usize, rows: usize) -> String {
        use std::fmt::Write as _;
        let rows = rows.max(1);
        let width = width.max(8);
        let cells = self.cells(width * rows);
        let span = self.end - self.start;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "vmalloc window 0x{:x}-0x{:x} ({}): {} used ranges (areas of one kind merged where they touch), {} areas outside; one cell = {}",
            self.start,
            self.end,
            fmt_bytes(span),
            self.used.len(),
            self.outside,
            fmt_bytes(span / (width * rows) as u64)
        );
        for (r, chunk) in cells.chunks(width).enumerate() {
            let at = self.start
                + u64::try_from(u128::from(span) * (r * width) as u128 / (width * rows) as u128)
                    .unwrap_or(0);
            let strip: String = chunk.iter().map(|c| c.glyph()).collect();
            let _ = writeln!(out, "0x{at:0w$x} |{strip}|", w = hex_width(self.end));
        }
        let mut kinds: Vec<Kind> = self.used.iter().map(|r| r.kind).collect();
        kinds.sort();
        kinds.dedup();
        let mut legend: Vec<String> = kinds
            .iter()
            .map(|k| format!("{} {}", k.glyph(), k.name()))
            .collect();
        if self.used.iter().any(|r| r.module) {
            legend.push(format!("{} vmtop's module's buffer", Cell::Module.glyph()));
        }
        legend.push(format!("{} free", Cell::Free.glyph()));
        legend.push(format!("{} largest free range", Cell::LargestFree.glyph()));
        let _ = writeln!(out, "legend: {}", legend.join("  "));
        let lf = &self.largest_free;
        let _ = writeln!(
            out,
            "largest free range: {} at 0x{:x}-0x{:x} ({} free ranges, {} free in all)",
            fmt_bytes(lf.size),
            lf.start,
            lf.end,
            self.gaps.len(),
            fmt_bytes(self.gaps.iter().map(|g| g.size).sum())
        );
        out
    }
}

/// Hex digits of the window's addresses (8 on 32-bit, 16 on 64-bit).
fn hex_width(end: u64) -> usize {
    if end <= 1 << 32 {
        8
    } else {
        16
    }
}

/// One cell of the map's strip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    Used(Kind),
    Module,
    Free,
    LargestFree,
}

impl Cell {
    pub(crate) fn glyph(self) -> char {
        match self {
            Cell::Used(k) => k.glyph(),
            Cell::Module => '#',
            Cell::Free => '.',
            Cell::LargestFree => '=',
        }
    }
}

// --- Text output -------------------------------------------------------------------------

/// Options of the table.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TableOptions {
    pub sort: SortBy,
    pub kind: Option<KindFilter>,
    /// Rows at most (0: all).
    pub limit: usize,
}

/// The groups `opts` selects, in its order (a flag filter is applied by `group_filtered`).
pub(crate) fn select<'a>(s: &'a Snapshot, opts: &TableOptions) -> Vec<&'a Group> {
    let mut v: Vec<&Group> = s
        .groups
        .iter()
        .filter(|g| match opts.kind {
            Some(KindFilter::Kind(k)) => g.kind == k,
            _ => true,
        })
        .collect();
    v.sort_by(|a, b| cmp_groups(a, b, opts.sort));
    if opts.limit > 0 {
        v.truncate(opts.limit);
    }
    v
}

/// Re-group `text` keeping only the areas a flag filter takes (`--kind vpages`).
pub(crate) fn group_filtered(text: &str, f: KindFilter, hint: Option<ModuleHint>) -> Snapshot {
    let kept: String = text
        .lines()
        .filter(|l| parse_line(l).is_some_and(|p| f.takes(p.kind, p.flags)))
        .flat_map(|l| [l, "\n"])
        .collect();
    let mut g = Grouper::default();
    g.group(&kept, hint).clone()
}

/// The summary lines above the table: totals, kinds.
pub(crate) fn summary_text(s: &Snapshot) -> String {
    let kinds: Vec<String> = s
        .kinds
        .iter()
        .map(|k| format!("{} {} ({})", k.kind.name(), k.count, fmt_bytes(k.bytes)))
        .collect();
    format!(
        "{} areas, {} of addresses (guard pages included), {} pages behind them\nby kind: {}",
        s.areas,
        fmt_bytes(s.bytes),
        s.pages,
        kinds.join(" · ")
    )
}

/// The table as text: one row per group, `since` adding a change column.
pub(crate) fn table_text(s: &Snapshot, opts: &TableOptions, since: Option<&Baseline>) -> String {
    use std::fmt::Write as _;
    let rows = select(s, &TableOptions { limit: 0, ..*opts });
    let shown = if opts.limit > 0 {
        rows.len().min(opts.limit)
    } else {
        rows.len()
    };
    let mut out = String::new();
    let _ = write!(out, "{:>10} {:>6} {:>10}", "BYTES", "AREAS", "LARGEST");
    if since.is_some() {
        let _ = write!(out, " {:>11}", "CHANGE");
    }
    let _ = writeln!(out, "  {:<12} CALLER", "KIND");
    for g in &rows[..shown] {
        let _ = write!(
            out,
            "{:>10} {:>6} {:>10}",
            fmt_bytes(g.bytes),
            g.count,
            fmt_bytes(g.largest)
        );
        if let Some(b) = since {
            let _ = write!(out, " {:>11}", fmt_signed_bytes(b.delta(g).0));
        }
        let _ = writeln!(
            out,
            "  {:<12} {}{}",
            g.kind.name(),
            g.caller,
            if g.module { "  <- vmtop's module" } else { "" }
        );
    }
    if shown < rows.len() {
        let _ = writeln!(
            out,
            "({} more groups, {}: --top 0 lists them all)",
            rows.len() - shown,
            fmt_bytes(rows[shown..].iter().map(|g| g.bytes).sum())
        );
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::units::{KIB, MIB};

    /// The fixtures: the text after the capture header.
    pub(crate) fn body(fixture: &str) -> String {
        fixture
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| [l, "\n"])
            .collect()
    }

    /// A capture header's `VmallocTotal N kB`, in bytes.
    pub(crate) fn header_vmalloc_total(fixture: &str) -> u64 {
        let h = fixture.lines().next().unwrap_or_default();
        let at = h
            .find("VmallocTotal ")
            .expect("a VmallocTotal in the header")
            + 13;
        let kb: u64 = h[at..]
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a number");
        kb * KIB
    }

    pub(crate) const X86_61: &str = include_str!("../../testdata/vmallocinfo-6.1-x86_64.txt");
    pub(crate) const I686_32M: &str = include_str!("../../testdata/vmallocinfo-i686.txt");
    /// Captured for this view (scripts/capture-fixtures.sh, cases areas-100 and areas-i686).
    pub(crate) const X86_61_100M: &str =
        include_str!("../../testdata/vmallocinfo-6.1-x86_64-100m.txt");
    pub(crate) const X86_612_100M: &str =
        include_str!("../../testdata/vmallocinfo-6.12-x86_64-100m.txt");
    pub(crate) const I686_IDLE: &str = include_str!("../../testdata/vmallocinfo-i686-idle.txt");
    pub(crate) const I686_100M: &str = include_str!("../../testdata/vmallocinfo-i686-100m.txt");

    /// An independent sum, as `awk '/^0x/ { n++; s += $2 } END { print n, s }'` makes it.
    fn awk_sum(text: &str) -> (u64, u64) {
        text.lines()
            .filter(|l| l.starts_with("0x"))
            .fold((0, 0), |(n, s), l| {
                let size: u64 = l
                    .split_ascii_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .expect("a size column");
                (n + 1, s + size)
            })
    }

    #[test]
    fn lines_parse_with_their_kind_and_caller() {
        let l = parse_line("0xff368e46c0005000-0xff368e46c0007000    8192 acpi_os_map_iomem+0x1b6/0x1d0 phys=0x000000003ffe1000 ioremap").expect("line");
        assert_eq!(
            (l.size, l.kind, l.caller),
            (8192, Kind::Ioremap, Some("acpi_os_map_iomem"))
        );
        let l = parse_line("0xf7be4000-0xf9be5000 33558528 0xf784b3e5 pages=8192 vmalloc vpages")
            .expect("line");
        assert_eq!(
            (l.kind, l.caller, l.pages),
            (Kind::Vmalloc, Some("0xf784b3e5"), 8192)
        );
        assert_ne!(l.flags & flag::VPAGES, 0);
        let l = parse_line("0xff368e46c47c4000-0xff368e46c47c9000   20480 unpurged vm_area")
            .expect("line");
        assert_eq!((l.kind, l.caller), (Kind::Unpurged, None));
        let l =
            parse_line("0xffffc90000400000-0xffffc90000800000 4194304 vm_map_ram").expect("line");
        assert_eq!(l.kind, Kind::VmMapRam);
        let l = parse_line("0xffffffffc0000000-0xffffffffc0002000    8192 foo_init+0x10/0x40 [foo] pages=1 vmalloc user N0=1").expect("line");
        assert_eq!(
            (l.kind, l.caller, l.module, l.pages),
            (Kind::User, Some("foo_init"), Some("foo"), 1)
        );
        // No caller: the flags come first.
        let l = parse_line("0x1000-0x3000 8192 pages=1 vmap").expect("line");
        assert_eq!((l.kind, l.caller), (Kind::Vmap, None));
        // A word of a newer kernel is kept as unknown, not taken for the caller.
        let l = parse_line("0x1000-0x3000 8192 f+0x1/0x2 pages=1 vmalloc shiny").expect("line");
        assert_eq!((l.kind, l.caller), (Kind::Vmalloc, Some("f")));
        assert_ne!(l.flags & flag::UNKNOWN, 0);
        for junk in ["", "hello", "0x10 x", "0x1-0x2 size f", "Node 0"] {
            assert_eq!(parse_line(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn kinds_parse_and_refuse_with_the_list() {
        assert_eq!(
            KindFilter::parse("ioremap"),
            Ok(KindFilter::Kind(Kind::Ioremap))
        );
        assert_eq!(
            KindFilter::parse("VPAGES"),
            Ok(KindFilter::Flag(flag::VPAGES))
        );
        let e = KindFilter::parse("bogus").expect_err("bogus");
        assert!(
            e.contains("vmalloc, vmap, ioremap, user, vpages, unpurged"),
            "{e}"
        );
        let e = KindFilter::parse("huge").expect_err("huge");
        assert!(e.contains("no word for huge"), "{e}");
    }

    /// The totals are the awk sum of the same text; the groups add up to them.
    fn totals_match(fixture: &str) -> Snapshot {
        let text = body(fixture);
        let mut g = Grouper::default();
        let s = g.group(&text, None).clone();
        let (n, bytes) = awk_sum(&text);
        assert_eq!((s.areas, s.bytes), (n, bytes));
        assert_eq!(s.groups.iter().map(|g| g.count).sum::<u64>(), n);
        assert_eq!(s.groups.iter().map(|g| g.bytes).sum::<u64>(), bytes);
        assert_eq!(s.kinds.iter().map(|k| k.bytes).sum::<u64>(), bytes);
        assert_eq!(s.unparsed, 0);
        assert_eq!(s.addresses(), Addresses::Real);
        s
    }

    #[test]
    fn x86_64_6_1_groups_by_caller_and_kind() {
        let s = totals_match(X86_61);
        // Eight lazily freed areas, listed last by the kernel.
        let unpurged = s
            .kinds
            .iter()
            .find(|k| k.kind == Kind::Unpurged)
            .expect("unpurged");
        assert_eq!(unpurged.count, 8);
        // The task stacks are one group (kernel_clone, offsets dropped).
        let stacks = s
            .groups
            .iter()
            .find(|g| g.caller == "kernel_clone")
            .expect("kernel_clone");
        assert_eq!(stacks.kind, Kind::Vmalloc);
        assert_eq!(stacks.bytes, stacks.count * 20480);
        // The largest group: an address the kernel cannot name (the module's freed __init
        // code), with the 64 MiB buffer and one more area the module's init allocated.
        let top = &s.groups[0];
        assert!(top.caller.starts_with("0xffffffffc"), "{top:?}");
        assert_eq!((top.count, top.largest), (2, 64 * MIB + 4096));
        assert!(!top.module, "no hint, no highlight");
    }

    /// Each lab kernel with the module holding 100 MiB: the buffer is one area of 100 MiB and
    /// a guard page, found by its size, and the largest group; the totals are awk's.
    #[test]
    fn each_lab_kernel_shows_the_100_mib_buffer() {
        for (name, fixture) in [
            ("6.1 x86_64", X86_61_100M),
            ("6.12 x86_64", X86_612_100M),
            ("6.1 i386", I686_100M),
        ] {
            totals_match(fixture);
            let text = body(fixture);
            let mut g = Grouper::default();
            let s = g.group(
                &text,
                Some(ModuleHint {
                    name: "alloc_large_mem",
                    bytes: 100 * MIB,
                }),
            );
            let m = s
                .module_group()
                .unwrap_or_else(|| panic!("{name}: no buffer"));
            assert_eq!((m.count, m.bytes), (1, 100 * MIB + 4096), "{name}");
            assert_eq!(m.pages, 25600, "{name}");
            assert_eq!(s.groups[0], *m, "{name}: the largest holder");
            // Nothing else is taken for it.
            assert_eq!(s.ranges.iter().filter(|r| r.module).count(), 1, "{name}");
        }
    }

    /// The 32-bit window before and after the 100 MiB load (one boot): the buffer takes the
    /// bottom of the largest free range, which shrinks by its size.
    #[test]
    fn i686_map_before_and_after_a_load() {
        let total = header_vmalloc_total(I686_100M);
        assert_eq!(total, header_vmalloc_total(I686_IDLE));
        let map_of = |fixture: &str, hint| {
            let mut g = Grouper::default();
            let s = g.group(&body(fixture), hint).clone();
            let layout = s.layout(total).expect("real addresses");
            Map::build(&s, &layout)
        };
        let before = map_of(I686_IDLE, None);
        let after = map_of(
            I686_100M,
            Some(ModuleHint {
                name: "alloc_large_mem",
                bytes: 100 * MIB,
            }),
        );
        assert_eq!((before.start, before.end), (after.start, after.end));
        let buffer = after.used.iter().find(|r| r.module).expect("the buffer");
        assert_eq!(buffer.start, before.largest_free.start);
        assert_eq!(
            after.largest_free.size,
            before.largest_free.size - (100 * MIB + 4096)
        );
        assert!(before.largest_free.size > 100 * MIB && after.largest_free.size < 25 * MIB);
        let strip = after.render_text(60, 1);
        let row = strip.lines().nth(1).expect("the strip");
        // 100 of 120 MiB: about 50 of 60 cells.
        let hashes = row.matches('#').count();
        assert!((49..=52).contains(&hashes), "{strip}");
    }

    /// On x86_64 the window is 12.5 PiB (5-level paging): the map still draws, the module
    /// area (0xffffffffc…) is outside it, and its largest free range is `status`'s.
    #[test]
    fn x86_64_map_matches_status() {
        for fixture in [X86_61_100M, X86_612_100M] {
            let total = header_vmalloc_total(fixture);
            let text = body(fixture);
            let mut g = Grouper::default();
            let s = g
                .group(
                    &text,
                    Some(ModuleHint {
                        name: "alloc_large_mem",
                        bytes: 100 * MIB,
                    }),
                )
                .clone();
            let layout = s.layout(total).expect("layout");
            let status = crate::system::vmallocinfo::analyze(&text, total).expect("layout");
            let m = Map::build(&s, &layout);
            assert_eq!(m.largest_free.size, status.largest_free);
            assert!(m.outside >= 1, "the module area lies outside the window");
            assert!(m.used.iter().any(|r| r.module));
        }
    }

    #[test]
    fn the_module_buffer_is_found_by_its_size() {
        let text = body(X86_61);
        let mut g = Grouper::default();
        let s = g.group(
            &text,
            Some(ModuleHint {
                name: "alloc_large_mem",
                bytes: 64 * MIB,
            }),
        );
        let m = s.module_group().expect("the buffer");
        assert_eq!(
            (m.count, m.bytes, m.kind),
            (1, 64 * MIB + 4096, Kind::Vmalloc)
        );
        assert_eq!(s.groups.iter().filter(|g| g.module).count(), 1);
        assert_eq!(s.ranges.iter().filter(|r| r.module).count(), 1);
        // A size nothing has: no buffer.
        let s = g.group(
            &text,
            Some(ModuleHint {
                name: "alloc_large_mem",
                bytes: 3 * MIB,
            }),
        );
        assert!(s.module_group().is_none());
    }

    #[test]
    fn i686_map_has_the_largest_free_range_of_status() {
        let text = body(I686_32M);
        let total = header_vmalloc_total(I686_32M);
        let mut g = Grouper::default();
        let s = g
            .group(
                &text,
                Some(ModuleHint {
                    name: "alloc_large_mem",
                    bytes: 32 * MIB,
                }),
            )
            .clone();
        let layout = s.layout(total).expect("real addresses");
        let status = crate::system::vmallocinfo::analyze(&text, total).expect("layout");
        assert_eq!(layout, status);
        let m = Map::build(&s, &layout);
        assert_eq!(m.largest_free.size, status.largest_free);
        assert_eq!(m.largest_free.start, status.largest_free_start);
        assert_eq!(m.outside, 0, "on 32-bit the modules are inside the window");
        // Used and free add up to the window.
        let used: u64 = m.used.iter().map(|r| r.end - r.start).sum();
        let free: u64 = m.gaps.iter().map(|g| g.size).sum();
        assert_eq!(used + free, m.end - m.start);
        let text_map = m.render_text(64, 2);
        assert!(text_map.contains('#'), "{text_map}");
        assert!(text_map.contains('='), "{text_map}");
        assert!(
            text_map.contains(&format!(
                "largest free range: {}",
                fmt_bytes(status.largest_free)
            )),
            "{text_map}"
        );
        // The strip: the buffer's cells are '#', and the largest free range ends the window.
        let cells = m.cells(120);
        assert_eq!(cells.last(), Some(&Cell::LargestFree));
        let module_cells = cells.iter().filter(|c| **c == Cell::Module).count();
        // 32 MiB of 120 MiB in 120 cells: 32 or 33 cells (the edges).
        assert!((32..=34).contains(&module_cells), "{module_cells}");
    }

    #[test]
    fn hashed_and_hidden_addresses_group_but_do_not_map() {
        let hashed = "0x000000000c5d5c20-0x000000002e7c9842   20480 irq_init_percpu_irqstack+0xca/0x100 vmap\n\
                      0x000000002e7c9842-0x0000000018ee2214    8192 acpi_os_map_iomem+0x1bc/0x1e0 phys=0x00000000000a0000 ioremap\n";
        let mut g = Grouper::default();
        let s = g.group(hashed, None).clone();
        assert_eq!(
            (s.areas, s.bytes, s.addresses()),
            (2, 28672, Addresses::Hashed)
        );
        assert!(s.layout(1 << 40).is_none());
        let why = s.addresses().no_map_reason(Some(0)).expect("a reason");
        assert!(
            why.contains("kptr_restrict=0") && why.contains("sysctl kernel.kptr_restrict=1"),
            "{why}"
        );
        let hidden = "0x0000000000000000-0x0000000000000000   20480 irq_init_percpu_irqstack+0xca/0x100 vmap\n";
        let s = g.group(hidden, None).clone();
        assert_eq!(s.addresses(), Addresses::Hidden);
        assert!(s
            .addresses()
            .no_map_reason(Some(2))
            .expect("reason")
            .contains("hidden"));
        assert_eq!(Addresses::Real.no_map_reason(Some(1)), None);
    }

    #[test]
    fn baseline_deltas() {
        let before = "0x1000-0x3000 8192 a+0x1/0x2 pages=1 vmalloc\n0x3000-0x5000 8192 b+0x1/0x2 pages=1 vmalloc\n";
        let after = "0x1000-0x3000 8192 a+0x1/0x2 pages=1 vmalloc\n0x5000-0x9000 16384 a+0x1/0x2 pages=3 vmalloc\n";
        let mut g = Grouper::default();
        let base = Baseline::of(g.group(before, None));
        let s = g.group(after, None).clone();
        let a = s.groups.iter().find(|g| g.caller == "a").expect("a");
        assert_eq!(base.delta(a), (16384, 1));
        let b = s.groups.iter().find(|g| g.caller == "b");
        assert_eq!(b, None, "b is gone");
        assert_eq!(fmt_signed_bytes(-8192), format!("-{}", fmt_bytes(8192)));
        assert_eq!(fmt_signed_bytes(0), "0");
    }

    #[test]
    fn table_text_lists_and_highlights() {
        let mut g = Grouper::default();
        let s = g
            .group(
                &body(X86_612_100M),
                Some(ModuleHint {
                    name: "alloc_large_mem",
                    bytes: 100 * MIB,
                }),
            )
            .clone();
        let opts = TableOptions {
            sort: SortBy::Size,
            kind: None,
            limit: 5,
        };
        let t = table_text(&s, &opts, None);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].contains("BYTES") && lines[0].contains("CALLER"),
            "{t}"
        );
        assert!(
            lines[1].contains("alloc_large_mem buffer") && lines[1].ends_with("<- vmtop's module"),
            "{t}"
        );
        assert_eq!(lines.len(), 1 + 5 + 1, "{t}");
        assert!(
            lines[6].contains(&format!("({} more groups", s.groups.len() - 5)),
            "{t}"
        );
        let only = TableOptions {
            kind: Some(KindFilter::Kind(Kind::Ioremap)),
            limit: 0,
            ..opts
        };
        let t = table_text(&s, &only, Some(&Baseline::of(&s)));
        assert!(
            t.lines()
                .skip(1)
                .all(|l| l.contains(" ioremap ") && l.contains(" 0 ")),
            "{t}"
        );
        let sum = summary_text(&s);
        assert!(sum.starts_with(&format!("{} areas, ", s.areas)), "{sum}");
    }

    #[test]
    fn sorting_is_total() {
        let text = "0x1000-0x3000 8192 b+0x1/0x2 vmalloc\n0x3000-0x5000 8192 b+0x1/0x2 vmalloc\n0x5000-0x9000 16384 a+0x1/0x2 vmap\n0x9000-0xa000 4096 c+0 ioremap\n";
        let mut g = Grouper::default();
        let s = g.group(text, None).clone();
        let order = |by| {
            let mut v = s.groups.clone();
            sort_groups(&mut v, by);
            v.into_iter().map(|g| g.caller).collect::<Vec<_>>()
        };
        // a and b both hold 16 KiB: the caller breaks the tie.
        assert_eq!(order(SortBy::Size), ["a", "b", "c"]);
        assert_eq!(order(SortBy::Count), ["b", "a", "c"]);
        assert_eq!(order(SortBy::Caller), ["a", "b", "c"]);
    }

    #[test]
    fn a_flag_filter_keeps_the_areas_carrying_it() {
        let text = body(I686_32M);
        let s = group_filtered(&text, KindFilter::Flag(flag::VPAGES), None);
        assert_eq!(s.areas, 1);
        assert_eq!(s.bytes, 33558528);
    }

    #[test]
    fn the_reader_reuses_its_buffer() {
        let dir = std::env::temp_dir().join(format!("vmtop-areas-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let p = dir.join("vmallocinfo");
        std::fs::write(&p, body(X86_61)).expect("write");
        let mut r = Reader::from_path(&p);
        let first = r.read(None).expect("read").clone();
        let cap = r.line.capacity();
        let second = r.read(None).expect("read again").clone();
        assert_eq!(first, second);
        assert_eq!(r.line.capacity(), cap, "the line buffer is reused");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let mut missing = Reader::from_path(&dir.join("nope"));
        assert!(missing.read(None).expect_err("missing").contains("nope"));
        let e = explain_read_error(&std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert!(e.contains("sudo vmtop areas"), "{e}");
        let _ = MIB;
    }
}
