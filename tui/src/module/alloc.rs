//! The allocators the module can use (`alloc=`), the kernel's limits it publishes, and where
//! the pages of the buffer it holds really are (kmod-src/README.md: results/ and limits/,
//! read by `sysfs`; the limits line, read by `log`).

use serde::{Deserialize, Serialize};

/// The module's `alloc=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Allocator {
    /// vmalloc(): virtually contiguous, page by page (the experiment)
    #[default]
    Vmalloc,
    /// kvmalloc(): kmalloc first, vmalloc when that fails
    Kvmalloc,
    /// kmalloc(): one physically contiguous block, up to KMALLOC_MAX_SIZE
    Kmalloc,
    /// alloc_pages() of the order covering the size (rounds up to a power of two)
    Pages,
    /// vmalloc_huge() (Linux 5.18+): PMD-sized pages where the architecture maps them
    #[value(name = "vmalloc_huge")]
    VmallocHuge,
}

impl Allocator {
    pub const ALL: [Allocator; 5] = [
        Allocator::Vmalloc,
        Allocator::Kvmalloc,
        Allocator::Kmalloc,
        Allocator::Pages,
        Allocator::VmallocHuge,
    ];

    /// The module parameter's value.
    pub fn name(self) -> &'static str {
        match self {
            Allocator::Vmalloc => "vmalloc",
            Allocator::Kvmalloc => "kvmalloc",
            Allocator::Kmalloc => "kmalloc",
            Allocator::Pages => "pages",
            Allocator::VmallocHuge => "vmalloc_huge",
        }
    }

    pub fn from_name(s: &str) -> Option<Allocator> {
        Allocator::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Bytes the allocator really takes for `mib` MiB: alloc_pages rounds up to a power of
    /// two pages (1 MiB is a whole number of pages on every page size Linux uses).
    pub fn bytes_for(self, mib: u64) -> u64 {
        let bytes = mib.saturating_mul(crate::units::MIB);
        match self {
            Allocator::Pages => bytes.checked_next_power_of_two().unwrap_or(u64::MAX),
            _ => bytes,
        }
    }

    /// Gives one physically contiguous block (or fails).
    pub fn contiguous(self) -> bool {
        matches!(self, Allocator::Kmalloc | Allocator::Pages)
    }

    /// The first kernel (major, minor) the module offers it on: the module's
    /// `HAVE_VMALLOC_HUGE` (kmod-src/alloc_large_mem.c) builds vmalloc_huge from 5.18.
    fn since(self) -> (u32, u32) {
        match self {
            Allocator::VmallocHuge => (5, 18),
            _ => (0, 0),
        }
    }

    /// The page order alloc_pages() is asked for `bytes`: the smallest that covers it.
    pub fn order_for(bytes: u64, page_size: u64) -> u32 {
        let pages = bytes.div_ceil(page_size.max(1)).max(1);
        pages.next_power_of_two().trailing_zeros()
    }
}

/// The allocators the module offers on this kernel, in `ALL`'s order: the list the module
/// published (`limits`, read while loaded or from its log line), else what a module built
/// for `release` offers.
pub fn offered(limits: Option<&Limits>, release: &str) -> Vec<Allocator> {
    if let Some(l) = limits {
        let named: Vec<Allocator> = Allocator::ALL
            .into_iter()
            .filter(|a| l.allocators.iter().any(|n| n == a.name()))
            .collect();
        if !named.is_empty() {
            return named;
        }
    }
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    let version = match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor),
        // An unreadable release: offer only what every build has.
        _ => (0, 0),
    };
    Allocator::ALL
        .into_iter()
        .filter(|a| a.since() <= version)
        .collect()
}

impl std::fmt::Display for Allocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The kernel's limits as the module was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub page_size: u64,
    pub kmalloc_max_size: u64,
    /// The largest order the page allocator gives.
    pub max_order: u32,
    /// The `alloc=` values the module accepts.
    pub allocators: Vec<String>,
}

impl Limits {
    /// Bytes in the largest block the page allocator gives.
    pub fn max_block(&self) -> u64 {
        self.page_size
            .checked_shl(self.max_order)
            .unwrap_or(u64::MAX)
    }
}

/// Where the held buffer's pages are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub alloc: Option<Allocator>,
    /// "vmalloc" (mapped page by page) or "linear" (one block of the direct map).
    pub backing: String,
    pub bytes: u64,
    /// Physically contiguous runs the buffer is made of.
    pub runs: u64,
    pub largest_run_bytes: u64,
    /// "0:65536": pages per NUMA node.
    pub nodes: String,
    /// "DMA32:50000,Normal:15536": pages per zone.
    pub zones: String,
}

impl Layout {
    /// "3887 runs, largest 187 MiB, DMA32:65536 pages" in one line.
    pub fn one_line(&self) -> String {
        use crate::units::fmt_bytes;
        format!(
            "{} {}, largest {}, {} ({})",
            self.runs,
            if self.runs == 1 { "run" } else { "runs" },
            fmt_bytes(self.largest_run_bytes),
            self.zones.replace(',', " "),
            self.backing
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_pages_round_up() {
        for a in Allocator::ALL {
            assert_eq!(Allocator::from_name(a.name()), Some(a));
        }
        assert_eq!(Allocator::from_name("slab"), None);
        assert_eq!(Allocator::Pages.bytes_for(5), 8 * crate::units::MIB);
        assert_eq!(Allocator::Pages.bytes_for(4), 4 * crate::units::MIB);
        assert_eq!(Allocator::Kmalloc.bytes_for(5), 5 * crate::units::MIB);
        assert_eq!(Allocator::order_for(4 << 20, 4096), 10);
        assert_eq!(Allocator::order_for(5 << 20, 4096), 11);
        assert_eq!(Allocator::order_for(8 << 20, 4096), 11);
        assert_eq!(Allocator::order_for(1, 4096), 0);
    }

    #[test]
    fn offered_follows_the_module_then_the_release() {
        let all = Allocator::ALL.to_vec();
        assert_eq!(offered(None, "6.1.0-57-amd64"), all);
        assert_eq!(offered(None, "6.12.95+deb12-amd64"), all);
        assert_eq!(offered(None, "5.18.0"), all);
        assert_eq!(offered(None, "5.10.0-30-amd64"), all[..4].to_vec());
        assert_eq!(offered(None, "4.19.0-27-686-pae"), all[..4].to_vec());
        assert_eq!(offered(None, "junk"), all[..4].to_vec());
        // What the module says wins over the release.
        let l = Limits {
            page_size: 4096,
            kmalloc_max_size: 4 << 20,
            max_order: 10,
            allocators: vec!["vmalloc".into(), "kmalloc".into(), "pages".into()],
        };
        assert_eq!(
            offered(Some(&l), "6.1.0-57-amd64"),
            vec![Allocator::Vmalloc, Allocator::Kmalloc, Allocator::Pages]
        );
    }
}
