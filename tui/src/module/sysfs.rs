//! The module's files in /proc/modules and /sys/module/alloc_large_mem (kmod-src/README.md:
//! parameters/, results/, limits/): the one reader of them.

use std::path::Path;

use anyhow::Context as _;

use super::alloc::{Allocator, Layout, Limits};
use super::MODULE_NAME;

/// The module as the kernel reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ModuleStatus {
    pub loaded: bool,
    pub memsize_mib: Option<u64>,
    pub oom_safe: Option<bool>,
    pub fill: Option<u8>,
    /// From /sys/module/alloc_large_mem/results.
    pub bytes: Option<u64>,
    pub alloc_ns: Option<u64>,
    pub fill_ns: Option<u64>,
    /// Where the buffer's pages are (results/; None from a module without them).
    pub layout: Option<Layout>,
    /// The kernel's limits as the module was built (limits/).
    pub limits: Option<Limits>,
}

/// The module's line in /proc/modules: its state, "Live", "Loading" (init still running:
/// the buffer is being allocated and filled) or "Unloading".
pub fn module_state() -> anyhow::Result<Option<String>> {
    let text = std::fs::read_to_string("/proc/modules")
        .context("reading /proc/modules (the list of loaded modules)")?;
    Ok(state_in(&text, MODULE_NAME))
}

/// The state field of module `name` in /proc/modules text ("name size refs deps state addr").
fn state_in(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        (f.next() == Some(name)).then(|| f.nth(3).unwrap_or("Live").to_string())
    })
}

/// Is the module loaded (in any state)?
pub fn is_loaded() -> anyhow::Result<bool> {
    Ok(module_state()?.is_some())
}

/// The text of /sys/module/alloc_large_mem/`rel`, trimmed (None: absent or unreadable).
fn read(rel: &str) -> Option<String> {
    let p = Path::new("/sys/module").join(MODULE_NAME).join(rel);
    Some(std::fs::read_to_string(p).ok()?.trim().to_string())
}

/// The value of /sys/module/alloc_large_mem/`rel` (None: absent, unreadable or not a `T`).
fn value<T: std::str::FromStr>(rel: &str) -> Option<T> {
    read(rel)?.parse().ok()
}

/// The module's state as the kernel reports it (parameters and results from sysfs).
pub fn status() -> anyhow::Result<ModuleStatus> {
    if !is_loaded()? {
        return Ok(ModuleStatus::default());
    }
    Ok(ModuleStatus {
        loaded: true,
        memsize_mib: value("parameters/memsize"),
        oom_safe: value::<String>("parameters/oom_safe").map(|s| s == "Y"),
        fill: value("parameters/fill"),
        bytes: value("results/bytes"),
        alloc_ns: value("results/alloc_ns"),
        fill_ns: value("results/fill_ns"),
        layout: layout(),
        limits: limits(),
    })
}

/// The kernel's limits as the module was built, from limits/ (while loaded).
pub fn limits() -> Option<Limits> {
    Some(Limits {
        page_size: value("limits/page_size")?,
        kmalloc_max_size: value("limits/kmalloc_max_size")?,
        max_order: value("limits/max_order")?,
        allocators: read("limits/allocators")?
            .split(',')
            .map(str::to_string)
            .collect(),
    })
}

/// Where the held buffer's pages are, from results/ (while loaded; None from an older
/// module).
pub fn layout() -> Option<Layout> {
    Some(Layout {
        alloc: read("results/alloc")
            .as_deref()
            .and_then(Allocator::from_name),
        backing: read("results/backing")?,
        bytes: value("results/bytes")?,
        runs: value("results/runs")?,
        largest_run_bytes: value("results/largest_run_bytes")?,
        nodes: read("results/nodes")?,
        zones: read("results/zones")?,
    })
}

/// What tells the module's buffer apart in /proc/vmallocinfo: its name and results/bytes
/// (None when it is not loaded or holds nothing).
pub fn buffer_hint() -> Option<crate::system::vmareas::ModuleHint> {
    let bytes: u64 = value("results/bytes")?;
    (bytes > 0).then_some(crate::system::vmareas::ModuleHint {
        name: MODULE_NAME,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_modules_state() {
        // The format of kernel/module/procfs.c m_show: name size refcount deps state address.
        let text = "alloc_large_mem 20480 1 - Loading 0xffffffffc0a06000 (OE+)\n\
                    crc32c_generic 16384 0 - Live 0x0000000000000000\n";
        assert_eq!(
            state_in(text, "alloc_large_mem").as_deref(),
            Some("Loading")
        );
        assert_eq!(state_in(text, "crc32c_generic").as_deref(), Some("Live"));
        assert_eq!(state_in(text, "alloc_large"), None);
        assert_eq!(state_in("", "alloc_large_mem"), None);
    }
}
