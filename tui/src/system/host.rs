//! What the running kernel can do: release, module support, this process's privileges as
//! the kernel sees them, and what it demands of a module's signature.

use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelInfo {
    /// `uname -r`, e.g. "6.1.0-56-amd64".
    pub release: String,
    /// Machine, e.g. "x86_64", "i686".
    pub machine: String,
    /// False when the kernel was built without CONFIG_MODULES (no /proc/modules).
    pub module_support: bool,
    pub privileges: Privileges,
    pub signing: Signing,
}

/// Bit of CAP_SYS_MODULE in the capability masks (include/uapi/linux/capability.h).
const CAP_SYS_MODULE: u32 = 16;

/// What init_module/finit_module and delete_module check before anything else
/// (kernel/module/main.c `may_init_module`): CAP_SYS_MODULE in the initial user namespace,
/// and kernel.modules_disabled off. The uid itself does not matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Privileges {
    pub euid: u32,
    /// CAP_SYS_MODULE in the effective set (CapEff in /proc/self/status).
    pub cap_sys_module: bool,
    /// CAP_SYS_MODULE in the bounding set (CapBnd): container runtimes drop it there, and
    /// then no process inside can get it back.
    pub cap_sys_module_bounding: bool,
    /// /proc/self/uid_map when this process is in a user namespace other than the initial
    /// one (a rootless container, `unshare -r`): capabilities there do not count.
    pub user_namespace: Option<String>,
    /// /proc/sys/kernel/modules_disabled reads 1: no loading or unloading until reboot.
    pub modules_disabled: bool,
}

/// Why the kernel will refuse this process a module, in the order the kernel decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    ModulesDisabled,
    /// Root (euid 0) without CAP_SYS_MODULE; `bounding`: the bounding set still has it.
    RootWithoutCap {
        bounding: bool,
    },
    /// Not root and without CAP_SYS_MODULE.
    NoCap {
        euid: u32,
    },
    /// The capability is held inside a user namespace (its uid_map).
    UserNamespace(String),
}

impl Privileges {
    pub fn detect() -> Privileges {
        let euid = nix::unistd::geteuid().as_raw();
        let status = std::fs::read_to_string("/proc/self/status").ok();
        let cap = |key: &str| status.as_deref().and_then(|s| has_cap_sys_module(s, key));
        Privileges {
            euid,
            // Without /proc the kernel's rule of thumb: root has every capability.
            cap_sys_module: cap("CapEff:").unwrap_or(euid == 0),
            cap_sys_module_bounding: cap("CapBnd:").unwrap_or(true),
            user_namespace: std::fs::read_to_string("/proc/self/uid_map")
                .ok()
                .and_then(|m| other_user_namespace(&m)),
            modules_disabled: std::fs::read_to_string("/proc/sys/kernel/modules_disabled")
                .is_ok_and(|s| s.trim() == "1"),
        }
    }

    /// Why the kernel will refuse, or None when it will let this process load.
    pub fn refusal(&self) -> Option<Refusal> {
        if self.modules_disabled {
            Some(Refusal::ModulesDisabled)
        } else if !self.cap_sys_module && self.euid == 0 {
            Some(Refusal::RootWithoutCap {
                bounding: self.cap_sys_module_bounding,
            })
        } else if !self.cap_sys_module {
            Some(Refusal::NoCap { euid: self.euid })
        } else {
            self.user_namespace.clone().map(Refusal::UserNamespace)
        }
    }
}

impl Refusal {
    /// One sentence, with what to do.
    pub fn explain(&self) -> String {
        match self {
            Refusal::ModulesDisabled => "module loading is switched off until reboot \
                (/proc/sys/kernel/modules_disabled reads 1): reboot, or use `vmtop lab`"
                .into(),
            Refusal::RootWithoutCap { bounding: false } => "running as root, but without \
                CAP_SYS_MODULE, not even in the bounding set, as inside a container: run the \
                container with the capability (`docker run --cap-add SYS_MODULE`, `podman run \
                --cap-add SYS_MODULE`), or run vmtop on the host, or `vmtop lab`"
                .into(),
            Refusal::RootWithoutCap { bounding: true } => "running as root, but CAP_SYS_MODULE \
                was dropped from this process's effective set: run vmtop without dropping it \
                (e.g. not under `capsh --drop=cap_sys_module`), or `vmtop lab`"
                .into(),
            Refusal::NoCap { euid } => format!(
                "loading a module needs CAP_SYS_MODULE, which this process (uid {euid}) does \
                 not have: run `sudo vmtop`"
            ),
            Refusal::UserNamespace(map) => format!(
                "this process holds CAP_SYS_MODULE only inside a user namespace (uid_map \
                 \"{map}\", a rootless container or `unshare -r`), and the kernel honours it only \
                 in the initial namespace: run vmtop on the host with sudo, or `vmtop lab`"
            ),
        }
    }
}

/// Whether the capability mask on the line starting with `key` ("CapEff:") has CAP_SYS_MODULE.
fn has_cap_sys_module(status: &str, key: &str) -> Option<bool> {
    let hex = status.lines().find_map(|l| l.strip_prefix(key))?.trim();
    let mask = u64::from_str_radix(hex, 16).ok()?;
    Some(mask >> CAP_SYS_MODULE & 1 == 1)
}

/// The uid_map, on one line, when it is not the initial namespace's identity map of every uid.
fn other_user_namespace(uid_map: &str) -> Option<String> {
    let words: Vec<&str> = uid_map.split_whitespace().collect();
    (words != ["0", "0", "4294967295"]).then(|| words.join(" "))
}

/// Secure Boot as the firmware reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecureBoot {
    On,
    Off,
    /// Booted without EFI (BIOS, or a VM without UEFI firmware): no Secure Boot at all.
    NoEfi,
    /// EFI, but the variable cannot be read (efivarfs not mounted).
    Unknown,
}

/// The EFI global variable that says whether Secure Boot is enforced (UEFI spec 3.3).
const SECURE_BOOT_VAR: &str =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d0-aa0d-00e098032b8c";

/// Where DKMS keeps the certificate of the key it signs modules with (Debian, Ubuntu).
pub const DKMS_MOK: &str = "/var/lib/dkms/mok.pub";

/// What the kernel demands of a module's signature, and what this machine has to meet it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signing {
    /// /sys/kernel/security/lockdown when present, e.g. "none [integrity] confidentiality".
    pub lockdown: Option<String>,
    /// /sys/module/module/parameters/sig_enforce (kernels with CONFIG_MODULE_SIG): true when
    /// only modules signed with a trusted key load.
    pub sig_enforce: Option<bool>,
    pub secure_boot: SecureBoot,
    /// The arguments on the kernel command line that ask for either, e.g. "lockdown=integrity".
    pub cmdline: Vec<String>,
    /// DKMS's signing certificate, when this machine has one.
    pub dkms_mok: Option<PathBuf>,
}

impl Signing {
    pub fn detect() -> Signing {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        Signing {
            lockdown: read("/sys/kernel/security/lockdown").map(|s| s.trim().to_string()),
            sig_enforce: read("/sys/module/module/parameters/sig_enforce")
                .and_then(|s| parse_bool_param(&s)),
            secure_boot: secure_boot(
                Path::new("/sys/firmware/efi").exists(),
                std::fs::read(SECURE_BOOT_VAR).ok().as_deref(),
                Path::new("/sys/firmware/efi/efivars")
                    .read_dir()
                    .is_ok_and(|mut d| d.next().is_some()),
            ),
            cmdline: read("/proc/cmdline")
                .map(|c| signing_args(&c))
                .unwrap_or_default(),
            dkms_mok: Some(PathBuf::from(DKMS_MOK)).filter(|p| p.exists()),
        }
    }
}

/// A module parameter as sysfs prints a bool: "Y" or "N".
fn parse_bool_param(s: &str) -> Option<bool> {
    match s.trim() {
        "Y" | "1" => Some(true),
        "N" | "0" => Some(false),
        _ => None,
    }
}

/// From the firmware's view: is there EFI, the SecureBoot variable (4 bytes of attributes,
/// then the value), and is efivarfs mounted with variables in it.
fn secure_boot(efi: bool, var: Option<&[u8]>, efivars_listed: bool) -> SecureBoot {
    match (efi, var) {
        (false, _) => SecureBoot::NoEfi,
        (true, Some(v)) if v.len() == 5 && v[4] == 1 => SecureBoot::On,
        (true, Some(v)) if v.len() == 5 && v[4] == 0 => SecureBoot::Off,
        (true, Some(_)) => SecureBoot::Unknown,
        // Firmware without Secure Boot has no such variable.
        (true, None) if efivars_listed => SecureBoot::Off,
        (true, None) => SecureBoot::Unknown,
    }
}

/// The kernel arguments that switch on signature enforcement or lockdown.
fn signing_args(cmdline: &str) -> Vec<String> {
    cmdline
        .split_whitespace()
        .filter(|a| a.starts_with("module.sig_enforce=") || a.starts_with("lockdown="))
        .map(str::to_string)
        .collect()
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
            module_support: Path::new("/proc/modules").exists(),
            privileges: Privileges::detect(),
            signing: Signing::detect(),
        }
    }

    /// True when the kernel would let this process load a module at all.
    pub fn can_load(&self) -> bool {
        self.why_read_only().is_none()
    }

    /// Why loading is off, with what to do, or None when it is on.
    pub fn why_read_only(&self) -> Option<String> {
        if !self.module_support {
            Some(format!(
                "kernel {} was built without module support (no /proc/modules): run `vmtop lab` to try it in a sandbox VM",
                self.release
            ))
        } else {
            self.privileges.refusal().map(|r| r.explain())
        }
    }
}

/// The selected lockdown mode from /sys/kernel/security/lockdown ("none [integrity]
/// confidentiality" → "integrity"), or None when nothing is bracketed.
pub fn lockdown_mode(state: &str) -> Option<&str> {
    let open = state.find('[')?;
    let close = state[open..].find(']')? + open;
    Some(state[open + 1..close].trim())
}

/// True when the lockdown state selects a mode other than `none`.
pub fn lockdown_active(state: &str) -> bool {
    lockdown_mode(state).is_some_and(|m| !m.is_empty() && m != "none")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Root with every capability.
    pub(crate) fn root() -> Privileges {
        Privileges {
            euid: 0,
            cap_sys_module: true,
            cap_sys_module_bounding: true,
            user_namespace: None,
            modules_disabled: false,
        }
    }

    /// Root with every capability, or uid 1000 with none.
    pub(crate) fn with_root(root: bool) -> Privileges {
        if root {
            self::root()
        } else {
            Privileges {
                euid: 1000,
                cap_sys_module: false,
                cap_sys_module_bounding: true,
                ..self::root()
            }
        }
    }

    /// Nothing enforced, as in the lab VM booted without extra arguments.
    pub(crate) fn relaxed() -> Signing {
        Signing {
            lockdown: Some("[none] integrity confidentiality".into()),
            sig_enforce: Some(false),
            secure_boot: SecureBoot::NoEfi,
            cmdline: vec![],
            dkms_mok: None,
        }
    }

    // /proc/self/status lines as captured: the build host (root in a container that dropped
    // CAP_SYS_RESOURCE, bit 24, and kept CAP_SYS_MODULE), Docker's default set (no
    // CAP_SYS_MODULE) and the lab VM's root.
    const HOST_STATUS: &str = "Name:\tcat\nUid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n";
    const DOCKER_STATUS: &str = "CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n";
    const LAB_ROOT_STATUS: &str = "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n";

    #[test]
    fn capability_bit_16_from_proc_status() {
        assert_eq!(has_cap_sys_module(HOST_STATUS, "CapEff:"), Some(true));
        assert_eq!(has_cap_sys_module(DOCKER_STATUS, "CapEff:"), Some(false));
        assert_eq!(has_cap_sys_module(DOCKER_STATUS, "CapBnd:"), Some(false));
        assert_eq!(has_cap_sys_module(LAB_ROOT_STATUS, "CapEff:"), Some(true));
        // A non-root process given only CAP_SYS_MODULE (1 << 16) as an ambient capability.
        assert_eq!(
            has_cap_sys_module("CapEff:\t0000000000010000\n", "CapEff:"),
            Some(true)
        );
        assert_eq!(has_cap_sys_module("CapEff:\tjunk\n", "CapEff:"), None);
        assert_eq!(has_cap_sys_module("", "CapEff:"), None);
    }

    #[test]
    fn user_namespace_from_uid_map() {
        assert_eq!(
            other_user_namespace("         0          0 4294967295\n"),
            None
        );
        assert_eq!(
            other_user_namespace("         0      65534          1\n").as_deref(),
            Some("0 65534 1")
        );
    }

    #[test]
    fn refusals_in_the_kernels_order() {
        assert_eq!(root().refusal(), None);
        let mut p = root();
        p.cap_sys_module = false;
        p.cap_sys_module_bounding = false;
        assert_eq!(
            p.refusal(),
            Some(Refusal::RootWithoutCap { bounding: false })
        );
        assert!(p
            .refusal()
            .unwrap()
            .explain()
            .contains("--cap-add SYS_MODULE"));
        p.euid = 1000;
        assert_eq!(p.refusal(), Some(Refusal::NoCap { euid: 1000 }));
        assert!(p.refusal().unwrap().explain().contains("CAP_SYS_MODULE"));
        assert!(p.refusal().unwrap().explain().contains("sudo vmtop"));
        // Not root, but with the capability: the kernel lets it load.
        p.cap_sys_module = true;
        assert_eq!(p.refusal(), None);
        p.user_namespace = Some("0 1000 1".into());
        assert!(matches!(p.refusal(), Some(Refusal::UserNamespace(_))));
        p.modules_disabled = true;
        assert_eq!(p.refusal(), Some(Refusal::ModulesDisabled));
    }

    #[test]
    fn secure_boot_from_efivars() {
        assert_eq!(secure_boot(false, None, false), SecureBoot::NoEfi);
        // Attributes 0x06 (boot service + runtime access), then the value.
        assert_eq!(
            secure_boot(true, Some(&[6, 0, 0, 0, 1]), true),
            SecureBoot::On
        );
        assert_eq!(
            secure_boot(true, Some(&[6, 0, 0, 0, 0]), true),
            SecureBoot::Off
        );
        assert_eq!(secure_boot(true, Some(&[6, 0]), true), SecureBoot::Unknown);
        assert_eq!(secure_boot(true, None, true), SecureBoot::Off);
        assert_eq!(secure_boot(true, None, false), SecureBoot::Unknown);
    }

    #[test]
    fn signing_state_parsing() {
        assert_eq!(parse_bool_param("Y\n"), Some(true));
        assert_eq!(parse_bool_param("N\n"), Some(false));
        assert_eq!(parse_bool_param("maybe"), None);
        // The lab's command line with --append (captured).
        assert_eq!(
            signing_args("console=ttyS0 quiet panic=-1 vmtop.rows=24 module.sig_enforce=1 lockdown=integrity"),
            vec!["module.sig_enforce=1", "lockdown=integrity"]
        );
        assert!(signing_args("console=ttyS0 quiet").is_empty());
    }

    #[test]
    fn lockdown_state_parsing() {
        assert_eq!(
            lockdown_mode("[none] integrity confidentiality"),
            Some("none")
        );
        assert_eq!(
            lockdown_mode("none [integrity] confidentiality"),
            Some("integrity")
        );
        assert!(!lockdown_active("[none] integrity confidentiality"));
        assert!(lockdown_active("none integrity [confidentiality]"));
        assert!(!lockdown_active("none integrity confidentiality"));
    }
}
