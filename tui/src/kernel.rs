//! What the running kernel can do: release, module support, privileges, lockdown.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelInfo {
    /// `uname -r`, e.g. "6.1.0-56-amd64".
    pub release: String,
    /// Machine, e.g. "x86_64", "i686".
    pub machine: String,
    /// False when the kernel was built without CONFIG_MODULES (no /proc/modules).
    pub module_support: bool,
    /// Effective uid 0 (CAP_SYS_MODULE is what really matters; root is the usual way to have it).
    pub is_root: bool,
    /// Contents of /sys/kernel/security/lockdown when present, e.g. "[none] integrity confidentiality".
    pub lockdown: Option<String>,
}

impl KernelInfo {
    pub fn detect() -> KernelInfo {
        let uts = nix::sys::utsname::uname().ok();
        let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
            uts.as_ref()
                .map(|u| f(u).to_string_lossy().into_owned())
                .unwrap_or_else(|| "unknown".into())
        };
        KernelInfo {
            release: field(|u| u.release()),
            machine: field(|u| u.machine()),
            module_support: std::path::Path::new("/proc/modules").exists(),
            is_root: nix::unistd::geteuid().is_root(),
            lockdown: std::fs::read_to_string("/sys/kernel/security/lockdown")
                .ok()
                .map(|s| s.trim().to_string()),
        }
    }

    /// True when loading can be attempted at all.
    pub fn can_load(&self) -> bool {
        self.module_support && self.is_root
    }

    /// Why loading is off, with what to do, or None when it is on.
    pub fn why_read_only(&self) -> Option<String> {
        if !self.module_support {
            Some(format!(
                "kernel {} was built without module support (no /proc/modules): run `vmtop lab` to try it in a sandbox VM",
                self.release
            ))
        } else if !self.is_root {
            Some("loading a module needs root: run `sudo vmtop`".into())
        } else {
            None
        }
    }
}
