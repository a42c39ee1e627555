//! Recognition: what the kernel log of an attempt says, line by line, as facts (the
//! kernel's lines by their words, the module's through `module::log`).

use crate::module::alloc::Limits;
use crate::module::log::{self, FailLine};

/// A process the OOM killer killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Victim<'a> {
    pub(super) line: &'a str,
    pub(super) pid: Option<u32>,
    pub(super) comm: Option<&'a str>,
}

/// What the kernel log says, line by line.
#[derive(Debug, Default)]
pub(super) struct Facts<'a> {
    pub(super) exceeds_total: Option<&'a str>,
    pub(super) vm_struct_failed: Option<&'a str>,
    pub(super) vmap_failed: Option<&'a str>,
    pub(super) pages_failed: Option<&'a str>,
    pub(super) oom_invoked: Option<&'a str>,
    pub(super) oom_summaries: Vec<Victim<'a>>,
    pub(super) victims: Vec<Victim<'a>>,
    pub(super) vermagic: Option<&'a str>,
    pub(super) symbol_version: Option<&'a str>,
    /// The module's struct module has another size than the kernel's.
    pub(super) module_struct_size: Option<&'a str>,
    pub(super) unknown_symbol: Option<&'a str>,
    pub(super) invalid_format: Option<&'a str>,
    pub(super) sig_rejected: Option<&'a str>,
    pub(super) lockdown: Option<&'a str>,
    pub(super) module_fail: Option<FailLine<'a>>,
    pub(super) param_range: Option<&'a str>,
    /// The module's own limits line and its figures.
    pub(super) limits: Option<(&'a str, Limits)>,
    /// The page allocator's warning for an order above the largest.
    pub(super) order_warning: Option<&'a str>,
    /// The module's line naming the accepted alloc= values.
    pub(super) param_alloc: Option<&'a str>,
    /// No room for a module's code or data (6.10+, mm/execmem.c).
    pub(super) execmem_failed: Option<&'a str>,
}

impl<'a> Facts<'a> {
    pub(super) fn read(log: &'a [String]) -> Facts<'a> {
        let mut f = Facts::default();
        for line in log {
            let l = line.as_str();
            if l.contains("vmalloc error: size") {
                if l.contains("exceeds total pages") {
                    f.exceeds_total.get_or_insert(l);
                } else if l.contains("vm_struct allocation failed") {
                    f.vm_struct_failed.get_or_insert(l);
                } else if l.contains("failed to allocate") {
                    f.pages_failed.get_or_insert(l);
                }
            } else if l.contains("vmap allocation for size") && l.contains("failed") {
                f.vmap_failed.get_or_insert(l);
            } else if l.contains("invoked oom-killer:") {
                f.oom_invoked.get_or_insert(l);
            } else if let Some(rest) = after(l, "oom-kill:") {
                f.oom_summaries.push(Victim {
                    line: l,
                    pid: kv(rest, ",pid=").and_then(|v| v.parse().ok()),
                    comm: kv(rest, ",task="),
                });
            } else if let Some(rest) = after(l, "Killed process ") {
                // "Out of memory: Killed process 211 (vmtop) total-vm:…"
                let digits = rest.split(|c: char| !c.is_ascii_digit()).next();
                let comm = rest.find('(').and_then(|o| {
                    let tail = &rest[o + 1..];
                    tail.find(") total-vm")
                        .or_else(|| tail.rfind(')'))
                        .map(|c| &tail[..c])
                });
                f.victims.push(Victim {
                    line: l,
                    pid: digits.and_then(|d| d.parse().ok()),
                    comm,
                });
            } else if l.contains("version magic '") && l.contains("should be '") {
                f.vermagic.get_or_insert(l);
            } else if l.contains("disagrees about version of symbol") {
                f.symbol_version.get_or_insert(l);
            } else if l.contains(".gnu.linkonce.this_module section size must match") {
                f.module_struct_size.get_or_insert(l);
            } else if l.contains("Unknown symbol") {
                f.unknown_symbol.get_or_insert(l);
            } else if l.contains("Invalid module format") {
                f.invalid_format.get_or_insert(l);
            } else if l.contains("Loading of") && l.contains("is rejected") {
                f.sig_rejected.get_or_insert(l);
            } else if l.contains("Lockdown:") && l.contains("module loading is restricted") {
                f.lockdown.get_or_insert(l);
            } else if let Some(m) = FailLine::parse(l) {
                f.module_fail.get_or_insert(m);
            } else if log::is_param_range(l) {
                f.param_range.get_or_insert(l);
            } else if log::is_param_alloc(l) {
                f.param_alloc.get_or_insert(l);
            } else if let Some(lim) = log::limits(l) {
                f.limits.get_or_insert((l, lim));
            } else if l.contains("WARNING:") && l.contains("__alloc_pages") {
                f.order_warning.get_or_insert(l);
            } else if l.contains("execmem: unable to allocate memory") {
                f.execmem_failed.get_or_insert(l);
            }
        }
        f
    }

    pub(super) fn module_stage(&self) -> Option<&'a str> {
        self.module_fail.and_then(|m| m.stage)
    }

    pub(super) fn oom_lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self.oom_invoked.iter().map(|s| s.to_string()).collect();
        v.extend(self.oom_summaries.iter().map(|s| s.line.to_string()));
        v.extend(self.victims.iter().map(|s| s.line.to_string()));
        v
    }
}

/// Text after the first `needle`.
pub(super) fn after<'a>(s: &'a str, needle: &str) -> Option<&'a str> {
    s.find(needle).map(|i| &s[i + needle.len()..])
}

/// Value of `key` (e.g. "pid=") up to the next ',' or whitespace.
pub(super) fn kv<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let rest = after(s, key)?;
    let end = rest
        .find(|c: char| c == ',' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// `version magic 'A' should be 'B'` → (A, B).
pub(super) fn vermagic_pair(line: &str) -> Option<(&str, &str)> {
    let a = after(line, "version magic '")?;
    let a_end = a.find('\'')?;
    let b = after(&a[a_end..], "should be '")?;
    let b_end = b.find('\'')?;
    Some((a[..a_end].trim(), b[..b_end].trim()))
}
