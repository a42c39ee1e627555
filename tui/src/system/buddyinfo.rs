//! /proc/buddyinfo: free blocks per order and zone, as the page allocator keeps them.
//!
//! One line per zone, `Node N, zone NAME c0 c1 ... cK`: ck is the number of free blocks of
//! 2^k pages. The kernel prints one column per order it has (orders 0 to the largest it gives:
//! 11 columns on x86_64 with 4 KiB pages), so the column count is the kernel's own statement
//! of the largest order. A physically contiguous allocation of order k (kmalloc, alloc_pages)
//! needs a free block of order k or more in some zone it may use.
//!
//! The dashboard re-reads it at its sampling rate while the pane shows: `BuddyReader` keeps
//! the file open and its buffer, and `BuddyInfo::update` parses into the zones it already
//! has, so a read allocates nothing once the sizes are known.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub(crate) const PATH: &str = "/proc/buddyinfo";

/// One zone's free lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Zone {
    pub(crate) node: u32,
    /// "DMA", "DMA32", "Normal", "HighMem", "Movable".
    pub(crate) name: String,
    /// Free blocks of each order, order 0 first.
    pub(crate) free: Vec<u64>,
}

impl Zone {
    /// The largest order with a free block; None when the zone has no free page at all.
    pub(crate) fn largest_free_order(&self) -> Option<u32> {
        let k = self.free.iter().rposition(|&n| n > 0)?;
        u32::try_from(k).ok()
    }

    /// Free pages in the zone's free lists.
    pub(crate) fn free_pages(&self) -> u64 {
        self.free
            .iter()
            .enumerate()
            .map(|(k, &n)| n.saturating_mul(1u64 << k.min(63)))
            .fold(0u64, u64::saturating_add)
    }

    /// Free blocks of order `order` or more (what an allocation of that order can take).
    pub(crate) fn blocks_at_least(&self, order: u32) -> u64 {
        self.free
            .iter()
            .skip(usize::try_from(order).unwrap_or(usize::MAX))
            .sum()
    }
}

/// Every zone of every node, in the kernel's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct BuddyInfo {
    pub(crate) zones: Vec<Zone>,
}

impl BuddyInfo {
    #[cfg(test)]
    pub(crate) fn parse(text: &str) -> anyhow::Result<BuddyInfo> {
        let mut b = BuddyInfo::default();
        b.update(text)?;
        Ok(b)
    }

    /// Parse `text` into `self`, reusing its zones' storage; true when anything differs from
    /// what `self` held. On error `self` is left empty (never half old, half new).
    pub(crate) fn update(&mut self, text: &str) -> anyhow::Result<bool> {
        let mut n = 0;
        let mut changed = false;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if self.zones.len() == n {
                self.zones.push(Zone::default());
                changed = true;
            }
            match parse_line(line, &mut self.zones[n]) {
                Ok(c) => changed |= c,
                Err(e) => {
                    self.zones.clear();
                    return Err(e);
                }
            }
            n += 1;
        }
        changed |= self.zones.len() != n;
        self.zones.truncate(n);
        if n == 0 {
            anyhow::bail!("{PATH} lists no zone");
        }
        Ok(changed)
    }

    /// Orders the kernel prints (largest order + 1).
    pub(crate) fn orders(&self) -> usize {
        self.zones.iter().map(|z| z.free.len()).max().unwrap_or(0)
    }

    /// The largest order the page allocator gives, as the kernel prints it.
    pub(crate) fn max_order(&self) -> Option<u32> {
        u32::try_from(self.orders().checked_sub(1)?).ok()
    }

    /// Free blocks of order `order` or more over all zones.
    pub(crate) fn blocks_at_least(&self, order: u32) -> u64 {
        self.zones.iter().map(|z| z.blocks_at_least(order)).sum()
    }

    /// Free pages over all zones.
    pub(crate) fn free_pages(&self) -> u64 {
        self.zones.iter().map(Zone::free_pages).sum()
    }
}

/// `Node 0, zone    DMA32      2      1 ...` into `z`; true when `z` changed.
fn parse_line(line: &str, z: &mut Zone) -> anyhow::Result<bool> {
    let bad = |what: &str| anyhow::anyhow!("parsing {PATH}: {what} in {line:?}");
    let mut words = line.split_ascii_whitespace();
    if words.next() != Some("Node") {
        return Err(bad("no `Node`"));
    }
    let node = words
        .next()
        .and_then(|w| w.strip_suffix(','))
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| bad("no node number"))?;
    let mut changed = z.node != node;
    z.node = node;
    if words.next() != Some("zone") {
        return Err(bad("no `zone`"));
    }
    let name = words.next().ok_or_else(|| bad("no zone name"))?;
    if z.name != name {
        z.name.clear();
        z.name.push_str(name);
        changed = true;
    }
    let mut k = 0;
    for w in words {
        let n: u64 = w.parse().map_err(|_| bad(&format!("count {w:?}")))?;
        match z.free.get_mut(k) {
            Some(old) if *old == n => {}
            Some(old) => {
                *old = n;
                changed = true;
            }
            None => {
                z.free.push(n);
                changed = true;
            }
        }
        k += 1;
    }
    changed |= z.free.len() != k;
    z.free.truncate(k);
    if k == 0 {
        return Err(bad("no free counts"));
    }
    Ok(changed)
}

/// /proc/buddyinfo kept open for repeated reads (as `meminfo::MeminfoReader`).
pub(crate) struct BuddyReader {
    path: PathBuf,
    file: Option<File>,
    buf: Vec<u8>,
}

impl BuddyReader {
    pub(crate) fn new() -> BuddyReader {
        BuddyReader::at(Path::new(PATH))
    }

    pub(crate) fn at(path: &Path) -> BuddyReader {
        BuddyReader {
            path: path.to_path_buf(),
            file: None,
            buf: Vec::new(),
        }
    }

    /// The file's text now: seek to 0 and read (the kernel generates it afresh). A failed
    /// read closes the file, so the next read opens it again.
    pub(crate) fn read(&mut self) -> anyhow::Result<&str> {
        if self.file.is_none() {
            self.file = Some(
                File::open(&self.path)
                    .with_context(|| format!("opening {}", self.path.display()))?,
            );
        }
        let Some(file) = self.file.as_mut() else {
            anyhow::bail!("{} is not open", self.path.display());
        };
        let read = file.seek(SeekFrom::Start(0)).and_then(|_| {
            let mut len = 0;
            loop {
                if self.buf.len() == len {
                    self.buf.resize(len + 1024, 0);
                }
                match file.read(&mut self.buf[len..]) {
                    Ok(0) => return Ok(len),
                    Ok(n) => len += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        });
        let len = match read {
            Ok(len) => len,
            Err(e) => {
                self.file = None;
                return Err(e).with_context(|| format!("reading {}", self.path.display()));
            }
        };
        std::str::from_utf8(&self.buf[..len])
            .with_context(|| format!("{} is not text", self.path.display()))
    }
}

/// The pageblock order from /proc/pagetypeinfo's "Page block order: N" line.
pub(crate) fn pageblock_order(pagetypeinfo: &str) -> Option<u32> {
    pagetypeinfo
        .lines()
        .find_map(|l| l.strip_prefix("Page block order:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Why `fragment_order=k` would be refused by the module, from this kernel's pageblock order
/// and largest order: one line naming the value, the range and why (None: accepted, or the
/// figures are unknown and the module decides).
pub(crate) fn fragment_order_problem(
    k: u32,
    pageblock: Option<u32>,
    max_order: Option<u32>,
) -> Option<String> {
    if k == 0 {
        return None;
    }
    let range = |pb: u32, max: Option<u32>| match max {
        Some(m) => format!("use 0 (off) or {pb} to {m}"),
        None => format!("use 0 (off) or {pb} or more"),
    };
    match (pageblock, max_order) {
        (Some(pb), max) if k < pb => Some(format!(
            "--fragment-order {k} is below this kernel's pageblock order {pb} (/proc/pagetypeinfo): \
             the pages held would sit in every pageblock and starve the small blocks the kernel \
             itself needs; {}",
            range(pb, max)
        )),
        (pb, Some(m)) if k > m => Some(format!(
            "--fragment-order {k} is above the largest order {m} (/proc/buddyinfo); {}",
            pb.map_or_else(|| format!("use 0 (off) or up to {m}"), |pb| range(pb, Some(m)))
        )),
        _ => None,
    }
}

/// [`fragment_order_problem`] with this machine's figures (/proc/pagetypeinfo is root's).
pub(crate) fn fragment_order_refusal(k: u32) -> Option<String> {
    if k == 0 {
        return None;
    }
    let pageblock = std::fs::read_to_string("/proc/pagetypeinfo")
        .ok()
        .and_then(|t| pageblock_order(&t));
    let max_order = std::fs::read_to_string(PATH).ok().and_then(|t| {
        let mut b = BuddyInfo::default();
        b.update(&t).ok()?;
        b.max_order()
    });
    fragment_order_problem(k, pageblock, max_order)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The captures without their first (comment) line.
    pub(crate) fn capture(text: &str) -> &str {
        text.split_once('\n').map_or("", |(_, rest)| rest)
    }

    pub(crate) const LAB_6_1: &str = include_str!("../../testdata/buddyinfo-6.1-lab-1g.txt");
    pub(crate) const LAB_6_12: &str = include_str!("../../testdata/buddyinfo-6.12-lab-1g.txt");
    pub(crate) const LAB_I686: &str = include_str!("../../testdata/buddyinfo-i686-lab-1g.txt");

    #[test]
    fn parses_the_lab_captures() {
        let b = BuddyInfo::parse(capture(LAB_6_1)).expect("6.1 parses");
        assert_eq!(b.zones.len(), 2);
        assert_eq!((b.zones[1].node, b.zones[1].name.as_str()), (0, "DMA32"));
        assert_eq!(b.zones[1].free, [2, 1, 3, 1, 1, 2, 2, 2, 1, 1, 220]);
        assert_eq!(b.orders(), 11);
        assert_eq!(b.max_order(), Some(10));
        assert_eq!(b.zones[0].largest_free_order(), Some(10));
        // DMA: 1 block each of orders 5, 6, 7 and 9, three of order 10.
        assert_eq!(b.zones[0].free_pages(), 32 + 64 + 128 + 512 + 3 * 1024);
        assert_eq!(b.blocks_at_least(10), 223);
        assert_eq!(b.blocks_at_least(11), 0);

        let b = BuddyInfo::parse(capture(LAB_6_12)).expect("6.12 parses");
        assert_eq!(b.max_order(), Some(10));
        assert_eq!(b.zones[1].free[7], 0);
        assert_eq!(b.zones[1].free[10], 223);

        let b = BuddyInfo::parse(capture(LAB_I686)).expect("i686 parses");
        let names: Vec<&str> = b.zones.iter().map(|z| z.name.as_str()).collect();
        assert_eq!(names, ["DMA", "Normal", "HighMem"]);
        assert_eq!(b.zones[2].free, [1, 2, 0, 1, 0, 2, 1, 2, 0, 2, 31]);
    }

    #[test]
    fn empty_orders_and_zones() {
        let b = BuddyInfo::parse(
            "Node 0, zone      DMA      0      0      0\nNode 1, zone   Normal      5      0      0\n",
        )
        .expect("parses");
        assert_eq!(b.zones[0].largest_free_order(), None);
        assert_eq!(b.zones[1].largest_free_order(), Some(0));
        assert_eq!(b.zones[1].node, 1);
        assert_eq!(b.blocks_at_least(1), 0);
    }

    #[test]
    fn bad_text_is_an_error_naming_the_line() {
        for bad in [
            "",
            "Node 0, zone DMA\n",
            "Node x, zone DMA 1 2\n",
            "Node 0 zone DMA 1 2\n",
            "Node 0, zone DMA 1 lots\n",
            "Zone 0, zone DMA 1\n",
        ] {
            let e = BuddyInfo::parse(bad).expect_err(bad);
            assert!(format!("{e:#}").contains(PATH), "{bad}: {e:#}");
        }
        // A failed update leaves nothing stale behind.
        let mut b = BuddyInfo::parse(capture(LAB_6_1)).expect("parses");
        assert!(b.update("Node 0, zone DMA 1 x\n").is_err());
        assert!(b.zones.is_empty());
    }

    #[test]
    fn update_reuses_and_follows_the_text() {
        let mut b = BuddyInfo::parse(capture(LAB_I686)).expect("parses");
        assert!(b.update(capture(LAB_6_1)).expect("parses"), "3 zones to 2");
        assert_eq!(b, BuddyInfo::parse(capture(LAB_6_1)).expect("parses"));
        assert!(
            !b.update(capture(LAB_6_1)).expect("parses"),
            "the same text"
        );
        assert!(b.update(capture(LAB_6_12)).expect("parses"), "other counts");
        assert_eq!(b, BuddyInfo::parse(capture(LAB_6_12)).expect("parses"));
        // One count fewer (another kernel's orders) is a change too.
        let short = "Node 0, zone      DMA      0      0      0      0      0      1      1      1      0      1\nNode 0, zone    DMA32      2      1      2      1      2      2      2      0      1      1\n";
        assert!(b.update(short).expect("parses"));
        assert_eq!(b.orders(), 10);
    }

    #[test]
    fn fragment_order_below_the_pageblock_order_or_above_the_largest_is_refused() {
        // The line as the 6.1 lab kernel prints it (tui/testdata has no pagetypeinfo capture:
        // this one line is written here).
        assert_eq!(
            pageblock_order("Page block order: 9\nPages per block:  512\n"),
            Some(9)
        );
        assert_eq!(pageblock_order("Pages per block: 512"), None);
        assert_eq!(fragment_order_problem(0, Some(9), Some(10)), None);
        assert_eq!(fragment_order_problem(9, Some(9), Some(10)), None);
        assert_eq!(fragment_order_problem(10, Some(9), Some(10)), None);
        let low = fragment_order_problem(8, Some(9), Some(10)).expect("8 < 9");
        assert!(
            low.starts_with("--fragment-order 8 is below this kernel's pageblock order 9"),
            "{low}"
        );
        assert!(low.ends_with("use 0 (off) or 9 to 10"), "{low}");
        let high = fragment_order_problem(11, Some(9), Some(10)).expect("11 > 10");
        assert!(high.contains("above the largest order 10"), "{high}");
        assert!(high.ends_with("use 0 (off) or 9 to 10"), "{high}");
        // Unknown figures (not root): the module decides.
        assert_eq!(fragment_order_problem(3, None, Some(10)), None);
    }

    #[test]
    fn reader_rereads_the_open_file() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("buddyinfo");
        std::fs::write(&path, capture(LAB_6_1)).expect("write");
        let mut r = BuddyReader::at(&path);
        let first = r.read().expect("read").to_string();
        assert_eq!(first, capture(LAB_6_1));
        assert_eq!(r.read().expect("read again"), first);
        dir.close().expect("clean up");
        let mut gone = BuddyReader::at(&path);
        let e = gone.read().expect_err("no file");
        assert!(format!("{e:#}").contains("opening"), "{e:#}");
    }

    #[test]
    fn live_buddyinfo_parses() {
        // The build machine's own kernel (no modules, but a page allocator like any other).
        let mut r = BuddyReader::new();
        let b = BuddyInfo::parse(r.read().expect("read /proc/buddyinfo")).expect("parses");
        assert!(b.max_order().is_some_and(|k| k >= 9), "{b:?}");
    }
}
