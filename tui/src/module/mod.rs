//! alloc_large_mem's interface, as kmod-src/README.md specifies it: its name, its
//! parameters and the reserve safe mode keeps, its allocators and the kernel's limits it
//! publishes (`alloc`), its kernel-log lines (`log`), its files in sysfs (`sysfs`) and its
//! module file (`file`).

pub mod alloc;
pub mod file;
pub mod log;
pub mod sysfs;

/// The module's name, as the kernel knows it (and its file, `alloc_large_mem.ko`).
pub const MODULE_NAME: &str = "alloc_large_mem";

/// The reserve, in MiB: the larger of 64 MiB and 5 % of MemTotal (rounded up), what the rest
/// of the system needs so that the OOM killer is not the one who answers. The one place this
/// policy is decided: the unsafe-mode guard refuses a request above MemAvailable minus it, and
/// safe-mode loads pass it to the module as `reserve_mib` (the module's own default, for
/// insmod by hand, is the same policy).
pub fn reserve_mib(mem_total: u64) -> u64 {
    RESERVE_MIN_MIB.max(
        mem_total
            .div_ceil(100 / RESERVE_PERCENT)
            .div_ceil(crate::units::MIB),
    )
}

/// The reserve's floor, MiB.
const RESERVE_MIN_MIB: u64 = 64;
/// The reserve's share of MemTotal, percent (a divisor of 100).
const RESERVE_PERCENT: u64 = 5;
/// `reserve_mib`'s policy in words, for the texts that name it.
pub const RESERVE_POLICY: &str = "max(64 MiB, 5 % of RAM)";

/// The parameters a load passes to the module (kmod-src/README.md, "Parameters").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub memsize_mib: u64,
    pub oom_safe: bool,
    /// `reserve_mib=` (None: the module's default, the same policy as `reserve_mib`).
    pub reserve_mib: Option<u64>,
    pub alloc: alloc::Allocator,
    /// `fragment_order=` (0: off).
    pub fragment_order: u32,
}

impl Params {
    /// One `key=value` word each, as insmod takes them. Only what differs from the module's
    /// defaults beyond memsize and oom_safe, so a vmalloc load passes what it always did.
    pub fn words(&self) -> Vec<String> {
        let mut p = vec![
            format!("memsize={}", self.memsize_mib),
            format!("oom_safe={}", if self.oom_safe { 'Y' } else { 'N' }),
        ];
        if let Some(r) = self.reserve_mib {
            p.push(format!("reserve_mib={r}"));
        }
        if self.alloc != alloc::Allocator::Vmalloc {
            p.push(format!("alloc={}", self.alloc));
        }
        if self.fragment_order > 0 {
            p.push(format!("fragment_order={}", self.fragment_order));
        }
        p
    }
}

/// `memsize=200 oom_safe=Y reserve_mib=64`, as the confirmation pane shows them.
impl std::fmt::Display for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::MIB;

    /// The policy's words are its figures, and the formula follows them.
    #[test]
    fn the_reserve_is_its_policy() {
        assert_eq!(
            RESERVE_POLICY,
            format!("max({RESERVE_MIN_MIB} MiB, {RESERVE_PERCENT} % of RAM)")
        );
        // The lab's 1024 MiB VM (MemTotal 981476 kB): the floor.
        assert_eq!(reserve_mib(981_476 * 1024), RESERVE_MIN_MIB);
        // 16 GiB: 5 %, rounded up.
        assert_eq!(reserve_mib(16 << 30), (16 << 10) / 20 + 1);
        assert_eq!(reserve_mib(20 * 1024 * MIB), 1024);
        assert_eq!(reserve_mib(0), RESERVE_MIN_MIB);
    }

    #[test]
    fn params_pass_only_what_differs_from_the_modules_defaults() {
        let p = Params {
            memsize_mib: 200,
            oom_safe: true,
            reserve_mib: Some(64),
            alloc: alloc::Allocator::Vmalloc,
            fragment_order: 0,
        };
        assert_eq!(p.to_string(), "memsize=200 oom_safe=Y reserve_mib=64");
        let p = Params {
            oom_safe: false,
            reserve_mib: None,
            alloc: alloc::Allocator::Kmalloc,
            fragment_order: 8,
            ..p
        };
        assert_eq!(
            p.words(),
            [
                "memsize=200",
                "oom_safe=N",
                "alloc=kmalloc",
                "fragment_order=8"
            ]
        );
    }
}
