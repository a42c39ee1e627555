//! diagnose() on kernel text captured in the lab (tui/testdata, each file says where it
//! came from).

use super::memory::ratio;
use super::*;
use crate::system::host::{SecureBoot, DKMS_MOK};
use crate::units::KIB;

const OOM: &str = include_str!("../../testdata/kmsg-6.1-oom-unsafe.txt");
const EXCEEDS_UNSAFE: &str = include_str!("../../testdata/kmsg-6.1-exceeds-total-unsafe.txt");
const ENOMEM_SAFE: &str = include_str!("../../testdata/kmsg-6.1-enomem-safe-earlier.txt");
const EXCEEDS_SAFE: &str = include_str!("../../testdata/kmsg-6.1-exceeds-total-safe-earlier.txt");
const OTHER_KERNEL: &str = include_str!("../../testdata/kmsg-6.1-other-kernel.txt");
const VM_STRUCT_32: &str = include_str!("../../testdata/kmsg-i686-vm-struct-failed.txt");
const VERMAGIC: &str = include_str!("../../testdata/kmsg-6.1-vermagic.txt");
const SYMVER: &str = include_str!("../../testdata/kmsg-6.1-symbol-version.txt");
const LOCKDOWN: &str = include_str!("../../testdata/kmsg-6.1-lockdown.txt");
const SIG_REJECTED: &str = include_str!("../../testdata/kmsg-6.1-sig-rejected.txt");
const SIG_UNKNOWN_KEY: &str = include_str!("../../testdata/kmsg-6.1-sig-unknown-key.txt");
const PARAM: &str = include_str!("../../testdata/kmsg-6.1-param.txt");
const LAB_SAFE_COUNTED: &str = include_str!("../../testdata/kmsg-6.1-lab-safe-counted-earlier.txt");
// The current module's captures of the same cases.
const LAB_SAFE_COUNTED_NOW: &str = include_str!("../../testdata/kmsg-6.1-lab-safe-counted.txt");
const EXCEEDS_SAFE_NOW: &str = include_str!("../../testdata/kmsg-6.1-exceeds-total-safe.txt");
const ALLOC_NOW: &str = include_str!("../../testdata/kmsg-6.1-alloc.txt");
const ALLOC_612_NOW: &str = include_str!("../../testdata/kmsg-6.12-alloc.txt");
const FRAGMENT_NOW: &str = include_str!("../../testdata/kmsg-6.1-fragment.txt");
const FRAGMENT_612_NOW: &str = include_str!("../../testdata/kmsg-6.12-fragment.txt");
const PARAM_RANGE: &str = include_str!("../../testdata/kmsg-6.1-param-range.txt");

fn log(fixture: &str) -> Vec<String> {
    fixture
        .lines()
        .filter_map(crate::system::kmsg::parse_record)
        .map(|r| r.text)
        .collect()
}

fn lab() -> Sample {
    crate::system::meminfo::tests::lab_idle()
}

/// A 32-bit (i686) machine: 2 GiB RAM, 120 MiB vmalloc area.
fn i686() -> Sample {
    Sample {
        mem_total: 2_063_000 * KIB,
        mem_free: 1_800_000 * KIB,
        mem_available: Some(1_850_000 * KIB),
        vmalloc_total: 122_880 * KIB,
        vmalloc_used: 9_000 * KIB,
        vmalloc_chunk: 0,
        highmem: None,
    }
}

fn input(end: LoaderEnd, mib: u64, safe: bool, log: Vec<String>) -> FailureInput {
    FailureInput {
        end,
        requested_mib: mib,
        oom_safe: safe,
        log,
        before: Some(lab()),
        after: Some(lab()),
        privileges: crate::system::host::tests::root(),
        signing: crate::system::host::tests::relaxed(),
        module_signed: Some(false),
        vmalloc_largest_free: None,
        loader_pid: None,
        vmap_trace: None,
    }
}

const ENOMEM: LoaderEnd = LoaderEnd::Errno(12);

#[test]
fn safe_mode_more_than_ram_is_inferred_from_figures() {
    // Safe mode: __GFP_NOWARN, the log holds only the module's own fail line.
    let d = diagnose(&input(ENOMEM, 2000, true, log(EXCEEDS_SAFE)));
    assert_eq!(d.cause, Cause::ExceedsTotalPages);
    assert_eq!(d.confidence, Confidence::Inferred);
    assert!(d.summary.contains("Asked 2000 MiB"), "{}", d.summary);
    assert!(d.summary.contains("MemTotal 958 MiB"), "{}", d.summary);
    assert!(d.summary.contains("exceed total pages"));
    // VmallocTotal (12.5 PiB) dwarfs the request: the detail must say it was not the limit.
    assert!(d.detail.contains("VmallocTotal 12.5 PiB"), "{}", d.detail);
    assert!(d.detail.contains("was not the limit"), "{}", d.detail);
    assert!(d.detail.contains("__GFP_NOWARN"));
    assert!(d.detail.contains("MemAvailable (832 MiB)"), "{}", d.detail);
    assert!(
        d.evidence
            .iter()
            .any(|l| l.contains("memsize_mib=2000") && l.contains("stage=vmalloc")),
        "{:?}",
        d.evidence
    );
}

#[test]
fn safe_mode_reserve_refusal_is_certain_and_names_the_figures() {
    // The 850 MiB attempt of the lab capture: vmalloc succeeded, but with the buffer held
    // only 1.66 MiB would have been available, below the 64 MiB reserve.
    let l: Vec<String> = log(LAB_SAFE_COUNTED)
        .into_iter()
        .filter(|l| l.contains("memsize_mib=850 "))
        .collect();
    let d = diagnose(&input(ENOMEM, 850, true, l));
    assert_eq!(d.cause, Cause::PhysicalMemoryShort);
    assert!(d.cause.means_too_big());
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "Asked 850 MiB: allocated, but it would have left only 1.66 MiB available, below the \
         64.0 MiB safe mode keeps free"
    );
    assert!(d.detail.contains("reserve_mib"), "{}", d.detail);
    assert!(d.detail.contains("62.3 MiB or more"), "{}", d.detail);
    assert!(
        d.detail.contains(
            "At the call the module counted 853 MiB available (MemAvailable 851 MiB plus \
             1.94 MiB of free pages on per-CPU lists, which MemAvailable leaves out)."
        ),
        "{}",
        d.detail
    );
    assert!(d.evidence.iter().any(|l| l.contains("stage=reserve")));
}

#[test]
fn unsafe_more_than_ram_is_certain_from_the_log() {
    let d = diagnose(&input(ENOMEM, 2000, false, log(EXCEEDS_UNSAFE)));
    assert_eq!(d.cause, Cause::ExceedsTotalPages);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d
        .evidence
        .iter()
        .any(|l| l.contains("size 2097152000, exceeds total pages")));
    assert!(d.evidence.iter().any(|l| l.contains("stage=vmalloc")));
}

#[test]
fn log_line_alone_is_enough_without_figures() {
    let mut i = input(ENOMEM, 2000, false, log(EXCEEDS_UNSAFE));
    i.before = None;
    i.after = None;
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::ExceedsTotalPages);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("MemTotal unknown"));
}

#[test]
fn physical_memory_short_in_safe_mode() {
    let d = diagnose(&input(ENOMEM, 950, true, log(ENOMEM_SAFE)));
    assert_eq!(d.cause, Cause::PhysicalMemoryShort);
    assert_eq!(d.confidence, Confidence::Likely);
    assert!(d.summary.contains("Asked 950 MiB"));
    assert!(d.summary.contains("MemAvailable 832 MiB"), "{}", d.summary);
    assert!(d.summary.contains("MemTotal 958 MiB"), "{}", d.summary);
    assert!(d.detail.contains("nothing else was killed"));
    assert_eq!(d.evidence.len(), 1);
}

#[test]
fn physical_memory_short_names_what_the_module_counted() {
    // Only the attempt's own line: the 940 MiB failure.
    let l: Vec<String> = log(LAB_SAFE_COUNTED)
        .into_iter()
        .filter(|l| l.contains("memsize_mib=940"))
        .collect();
    let d = diagnose(&input(ENOMEM, 940, true, l));
    assert_eq!(d.cause, Cause::PhysicalMemoryShort);
    assert!(
        d.detail.contains(
            "At the call the module counted 854 MiB available (MemAvailable 851 MiB plus \
             2.83 MiB of free pages on per-CPU lists, which MemAvailable leaves out)."
        ),
        "{}",
        d.detail
    );
}

#[test]
fn module_figures_without_per_cpu_parts_are_given_plainly() {
    // An older module build logs no pcp_kib/boost_kib: only what it counted. (Synthesized:
    // this checkout's module always logs them.)
    let d = diagnose(&input(
        ENOMEM,
        940,
        true,
        vec!["alloc_large_mem: fail memsize_mib=940 bytes=985661440 oom_safe=Y err=-12 stage=vmalloc free_kib=951764 avail_kib=884892 reserve_kib=65536".into()],
    ));
    assert!(
        d.detail
            .contains("At the call the module counted 864 MiB available. Try"),
        "{}",
        d.detail
    );
}

#[test]
fn physical_memory_short_without_figures_is_inferred() {
    let mut i = input(ENOMEM, 950, true, vec![]);
    i.before = None;
    i.after = None;
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::PhysicalMemoryShort);
    assert_eq!(d.confidence, Confidence::Inferred);
}

#[test]
fn failed_to_allocate_pages_is_certain() {
    // Synthesized from mm/vmalloc.c __vmalloc_area_node's format string: no lab case
    // prints it (plain vmalloc's GFP_KERNEL wakes the OOM killer rather than fail, the
    // victim's allocation then fails silently, and safe mode passes __GFP_NOWARN).
    let l = vec!["vmtop: vmalloc error: size 996147200, failed to allocate pages, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0".to_string()];
    let d = diagnose(&input(ENOMEM, 950, false, l));
    assert_eq!(d.cause, Cause::PhysicalMemoryShort);
    assert_eq!(d.confidence, Confidence::Certain);
}

#[test]
fn vm_struct_failure_on_32_bit_is_certain() {
    let mut i = input(ENOMEM, 300, false, log(VM_STRUCT_32));
    i.before = Some(i686());
    i.after = Some(i686());
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::AddressSpaceExhausted);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("Asked 300 MiB"));
    assert!(d.summary.contains("VmallocTotal 120 MiB"), "{}", d.summary);
    assert!(d
        .evidence
        .iter()
        .any(|l| l.contains("vm_struct allocation failed")));
    assert!(d
        .evidence
        .iter()
        .any(|l| l.contains("vmap allocation for size")));
}

#[test]
fn request_beyond_vmalloc_total_is_inferred_in_safe_mode() {
    let mut i = input(ENOMEM, 300, true, vec![]);
    i.before = Some(i686());
    i.after = None;
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::AddressSpaceExhausted);
    assert_eq!(d.confidence, Confidence::Inferred);
    assert!(d.detail.contains("__GFP_NOWARN"));
}

#[test]
fn small_largest_gap_is_inferred_address_space() {
    let mut i = input(ENOMEM, 100, true, vec![]);
    i.before = Some(i686());
    i.vmalloc_largest_free = Some(80 * MIB);
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::AddressSpaceExhausted);
    assert_eq!(d.confidence, Confidence::Inferred);
    assert!(
        d.summary.contains("largest free range 80.0 MiB"),
        "{}",
        d.summary
    );
    // A gap big enough: it is the physical memory instead.
    i.vmalloc_largest_free = Some(110 * MIB);
    assert_eq!(diagnose(&i).cause, Cause::PhysicalMemoryShort);
}

#[test]
fn more_than_ram_wins_over_address_space_like_the_kernel() {
    // 32-bit: 3 GiB is above both MemTotal (2 GiB) and VmallocTotal; the kernel checks RAM first.
    let mut i = input(ENOMEM, 3 * 1024, true, vec![]);
    i.before = Some(i686());
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::ExceedsTotalPages);
    assert!(d.detail.contains("checks RAM first"), "{}", d.detail);
}

#[test]
fn small_vmalloc_area_without_gap_lowers_confidence() {
    let mut i = input(ENOMEM, 100, true, vec![]);
    i.before = Some(i686());
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::PhysicalMemoryShort);
    assert_eq!(d.confidence, Confidence::Inferred);
    assert!(d.detail.contains("/proc/vmallocinfo"));
}

#[test]
fn oom_kill_named_in_the_log_is_certain() {
    let mut i = input(LoaderEnd::Signal(9), 950, false, log(OOM));
    // The loader, vmtop-kmod, was PID 575 in the capture.
    i.loader_pid = Some(575);
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::OomKilled);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("Asked 950 MiB"));
    assert!(d.summary.contains("PID 575 vmtop-kmod)"), "{}", d.summary);
    assert!(d.summary.contains("MemAvailable 832 MiB"), "{}", d.summary);
    assert!(d
        .evidence
        .iter()
        .any(|l| l.starts_with("Out of memory: Killed process 575 (vmtop-kmod)")));
    assert!(d
        .evidence
        .iter()
        .any(|l| l.starts_with("oom-kill:constraint=")));
    assert!(d.evidence.iter().any(|l| l.contains("invoked oom-killer")));
    // Without the loader's PID, a victim line still names it.
    i.loader_pid = None;
    assert_eq!(diagnose(&i).confidence, Confidence::Certain);
    // With another PID, the log does not name the loader.
    i.loader_pid = Some(999);
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::OomKilled);
    assert_eq!(d.confidence, Confidence::Likely);
    assert!(d.detail.contains("not the loader (PID 999)"));
}

#[test]
fn sigkill_in_unsafe_mode_without_log() {
    let d = diagnose(&input(LoaderEnd::Signal(9), 950, false, vec![]));
    assert_eq!(d.cause, Cause::OomKilled);
    assert_eq!(d.confidence, Confidence::Likely); // 950 MiB > MemAvailable 832 MiB
    let d = diagnose(&input(LoaderEnd::Signal(9), 64, false, vec![]));
    assert_eq!(d.cause, Cause::OomKilled);
    assert_eq!(d.confidence, Confidence::Inferred);
}

#[test]
fn sigkill_in_safe_mode_without_oom_is_someone_else() {
    let d = diagnose(&input(LoaderEnd::Signal(9), 950, true, vec![]));
    assert_eq!(d.cause, Cause::LoaderKilled);
    assert_eq!(d.confidence, Confidence::Likely);
    assert!(d.summary.contains("SIGKILL"));
    // But an OOM report in the log means the OOM killer, even in safe mode.
    let d = diagnose(&input(LoaderEnd::Signal(9), 950, true, log(OOM)));
    assert_eq!(d.cause, Cause::OomKilled);
    // Explained as the edge of memory (page tables), not as "use safe mode".
    assert!(d.detail.contains("page tables"), "{}", d.detail);
    assert!(!d.detail.contains("Use safe mode"), "{}", d.detail);
    assert!(d.cause.means_too_big(), "a probe treats it as too big");
}

#[test]
fn other_signals() {
    let d = diagnose(&input(LoaderEnd::Signal(15), 64, false, vec![]));
    assert_eq!(d.cause, Cause::LoaderKilled);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("SIGTERM (terminated)"), "{}", d.summary);
    let d = diagnose(&input(LoaderEnd::Signal(11), 64, true, vec![]));
    assert!(d.summary.contains("SIGSEGV"));
}

#[test]
fn already_loaded() {
    let d = diagnose(&input(LoaderEnd::Errno(17), 64, true, vec![]));
    assert_eq!(d.cause, Cause::AlreadyLoaded);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("EEXIST"));
}

#[test]
fn wrong_kernel_from_vermagic() {
    let d = diagnose(&input(LoaderEnd::Errno(8), 64, true, log(VERMAGIC)));
    assert_eq!(d.cause, Cause::WrongKernel);
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "Module built for another kernel: version magic \
         '6.12.95+deb12-amd64 SMP preempt mod_unload modversions' should be \
         '6.1.0-57-amd64 SMP preempt mod_unload modversions'"
    );
    assert!(d.detail.contains("make -C kmod-src KDIR="));
    assert_eq!(d.evidence.len(), 1);
    // ENOEXEC alone ("Invalid module format").
    let d = diagnose(&input(LoaderEnd::Errno(8), 64, true, vec![]));
    assert_eq!(d.cause, Cause::WrongKernel);
    assert!(d.summary.contains("Invalid module format") || d.summary.contains("ENOEXEC"));
}

#[test]
fn wrong_kernel_from_module_layout() {
    // Built against another kernel's headers: with modversions the kernel compares
    // module_layout's CRC before the version magic, and says only that.
    let d = diagnose(&input(LoaderEnd::Errno(8), 8, true, log(OTHER_KERNEL)));
    assert_eq!(d.cause, Cause::WrongKernel);
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "Module built against another kernel's symbols (symbol versions disagree)"
    );
    assert_eq!(
        d.evidence,
        vec!["alloc_large_mem: disagrees about version of symbol module_layout".to_string()]
    );
}

#[test]
fn wrong_kernel_from_symbol_versions_even_with_einval() {
    // A CRC mismatch on an ordinary symbol makes init_module return EINVAL, not ENOEXEC.
    let d = diagnose(&input(LoaderEnd::Errno(22), 64, true, log(SYMVER)));
    assert_eq!(d.cause, Cause::WrongKernel);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d
        .evidence
        .iter()
        .any(|l| l.contains("disagrees about version of symbol vmalloc")));
    assert!(d
        .evidence
        .iter()
        .any(|l| l.contains("Unknown symbol vmalloc (err -22)")));
}

/// The state read in the lab boots the kmsg captures come from (see their headers).
fn lab_signing(lockdown: &str, sig_enforce: bool, arg: &str) -> Signing {
    Signing {
        lockdown: Some(lockdown.into()),
        sig_enforce: Some(sig_enforce),
        secure_boot: SecureBoot::NoEfi,
        cmdline: vec![arg.into()],
        dkms_mok: None,
    }
}

fn sig_enforce_input(fixture: &str, signed: bool) -> FailureInput {
    let mut i = input(
        LoaderEnd::Errno(nix::libc::EKEYREJECTED),
        8,
        true,
        log(fixture),
    );
    i.signing = lab_signing(
        "[none] integrity confidentiality",
        true,
        "module.sig_enforce=1",
    );
    i.module_signed = Some(signed);
    i
}

#[test]
fn signature_rejected_names_the_state_and_the_way_out() {
    let d = diagnose(&sig_enforce_input(SIG_REJECTED, false));
    assert_eq!(d.cause, Cause::SignatureRejected);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("is not signed"), "{}", d.summary);
    assert_eq!(
        d.evidence,
        vec!["Loading of unsigned module is rejected".to_string()]
    );
    for fact in [
        "/sys/module/module/parameters/sig_enforce reads Y",
        "/sys/kernel/security/lockdown reads \"[none] integrity confidentiality\"",
        "Secure Boot is off (booted without EFI)",
        "the kernel command line has module.sig_enforce=1",
        "the module file is not signed",
        // Where it comes from, and both ways out.
        "comes from the kernel command line (module.sig_enforce=1)",
        "the alloc-large-mem-dkms package, or `sudo make install` from a checkout",
        "sudo mokutil --import /var/lib/dkms/mok.pub",
        "reboot",
        "vmtop lab",
    ] {
        assert!(d.detail.contains(fact), "{fact}: {}", d.detail);
    }
}

#[test]
fn signature_with_a_key_not_enrolled() {
    let d = diagnose(&sig_enforce_input(SIG_UNKNOWN_KEY, true));
    assert_eq!(d.cause, Cause::SignatureRejected);
    assert!(
        d.summary.contains("does not trust the key"),
        "{}",
        d.summary
    );
    assert!(d.detail.contains("enrol that key"), "{}", d.detail);
    assert!(d.detail.contains("mokutil --import"), "{}", d.detail);
    assert!(!d.detail.contains("make install"), "{}", d.detail);
    // The kernel's reason decides, even when the file could not be checked.
    let mut i = sig_enforce_input(SIG_UNKNOWN_KEY, true);
    i.module_signed = None;
    assert!(diagnose(&i).summary.contains("does not trust the key"));
}

#[test]
fn secure_boot_and_a_dkms_key_change_the_advice() {
    let mut i = input(LoaderEnd::Errno(1), 8, true, log(LOCKDOWN));
    i.signing = Signing {
        lockdown: Some("none [integrity] confidentiality".into()),
        sig_enforce: Some(false),
        secure_boot: SecureBoot::On,
        cmdline: vec![],
        dkms_mok: Some(DKMS_MOK.into()),
    };
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::Lockdown);
    assert!(d.detail.contains("Secure Boot is on"), "{}", d.detail);
    assert!(
        d.detail.contains("Lockdown comes with Secure Boot"),
        "{}",
        d.detail
    );
    assert!(
        d.detail.contains("/var/lib/dkms/mok.pub, present here"),
        "{}",
        d.detail
    );
    assert!(!d.detail.contains("counts only when"), "{}", d.detail);
    assert!(!d.detail.contains("command line"), "{}", d.detail);
}

#[test]
fn lockdown_from_log_and_from_state() {
    let mut i = input(LoaderEnd::Errno(1), 8, true, log(LOCKDOWN));
    i.signing = lab_signing(
        "none [integrity] confidentiality",
        false,
        "lockdown=integrity",
    );
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::Lockdown);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("(integrity)"), "{}", d.summary);
    assert!(d.summary.contains("unsigned"), "{}", d.summary);
    assert_eq!(d.evidence.len(), 1, "{:?}", d.evidence);
    for fact in [
        "/sys/kernel/security/lockdown reads \"none [integrity] confidentiality\"",
        "sig_enforce reads N",
        "comes from the kernel command line (lockdown=integrity)",
        "mokutil --import",
    ] {
        assert!(d.detail.contains(fact), "{fact}: {}", d.detail);
    }
    // The same line for a module signed with an unknown key: the file tells.
    i.module_signed = Some(true);
    let d = diagnose(&i);
    assert!(d.summary.contains("does not trust"), "{}", d.summary);
    // The notice is rate-limited: the state alone still points at lockdown.
    i.log.clear();
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::Lockdown);
    assert_eq!(d.confidence, Confidence::Likely);
}

#[test]
fn eperm_names_what_the_kernel_checks() {
    use crate::system::host::tests::root;
    let mut i = input(LoaderEnd::Errno(1), 8, true, vec![]);
    // Not root, no capability (the lab's uid 65534).
    i.privileges = Privileges {
        euid: 65534,
        cap_sys_module: false,
        ..root()
    };
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::NotPermitted);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("CAP_SYS_MODULE"), "{}", d.summary);
    assert!(d.summary.contains("uid 65534"), "{}", d.summary);
    assert!(d.detail.starts_with("The kernel refused"), "{}", d.detail);
    // Root in a container: the bounding set lacks it too.
    i.privileges = Privileges {
        cap_sys_module: false,
        cap_sys_module_bounding: false,
        ..root()
    };
    let d = diagnose(&i);
    assert!(
        d.summary.contains("root, but without CAP_SYS_MODULE"),
        "{}",
        d.summary
    );
    assert!(d.detail.contains("--cap-add SYS_MODULE"), "{}", d.detail);
    // The capability inside a user namespace does not count.
    i.privileges = Privileges {
        user_namespace: Some("0 65534 1".into()),
        ..root()
    };
    let d = diagnose(&i);
    assert!(d.summary.contains("user namespace"), "{}", d.summary);
    assert!(d.detail.contains("0 65534 1"), "{}", d.detail);
    // Switched off until reboot.
    i.privileges = Privileges {
        modules_disabled: true,
        ..root()
    };
    assert!(diagnose(&i).summary.contains("modules_disabled=1"));
    // The kernel checks privileges before lockdown: without its lockdown line, missing
    // privileges explain the EPERM even on a locked-down kernel.
    i.privileges = Privileges {
        euid: 1000,
        cap_sys_module: false,
        ..root()
    };
    i.signing.lockdown = Some("none [integrity] confidentiality".into());
    assert_eq!(diagnose(&i).cause, Cause::NotPermitted);
    // All fine, no lockdown: something else (a security module), and it says so.
    i.privileges = root();
    i.signing = crate::system::host::tests::relaxed();
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::NotPermitted);
    assert_eq!(d.confidence, Confidence::Likely);
    assert!(d.detail.contains("SELinux"), "{}", d.detail);
}

#[test]
fn no_module_support_and_missing_file() {
    for end in [
        LoaderEnd::Errno(38),
        LoaderEnd::Refused(NotAsked::NoModuleSupport),
    ] {
        let d = diagnose(&input(end, 64, true, vec![]));
        assert_eq!(d.cause, Cause::NoModuleSupport);
        assert_eq!(d.confidence, Confidence::Certain);
    }
    let d = diagnose(&input(
        LoaderEnd::Refused(NotAsked::HelperFailed),
        64,
        true,
        vec!["starting /x/vmtop-kmod: No such file or directory (os error 2)".into()],
    ));
    assert_eq!(d.cause, Cause::HelperFailed);
    assert!(d.evidence[0].contains("os error 2"), "{d:?}");
    let d = diagnose(&input(LoaderEnd::Cancelled, 700, true, vec![]));
    assert_eq!(d.cause, Cause::Cancelled);
    assert!(d.summary.contains("700 MiB cancelled"), "{}", d.summary);
    let d = diagnose(&input(LoaderEnd::Errno(2), 64, true, vec![]));
    assert_eq!(d.cause, Cause::ModuleFileMissing);
    assert_eq!(d.confidence, Confidence::Likely);
}

#[test]
fn bad_parameter_from_the_modules_lines() {
    let d = diagnose(&input(LoaderEnd::Errno(22), 0, true, log(PARAM)));
    assert_eq!(d.cause, Cause::BadParameter);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("memsize=0"));
    assert!(
        d.summary.contains("between 1 and 17592186044415 MiB"),
        "{}",
        d.summary
    );
    assert_eq!(d.evidence.len(), 2);
    let d = diagnose(&input(LoaderEnd::Errno(22), 5, true, vec![]));
    assert_eq!(d.cause, Cause::BadParameter);
    assert_eq!(d.confidence, Confidence::Likely);
}

#[test]
fn interrupted() {
    // The lab's loader was killed while the module filled 700 MiB: the module's fill loop
    // gave up with -EINTR, which only a loader that survives would see.
    const FILL: &str = include_str!("../../testdata/kmsg-6.1-fill-interrupted.txt");
    let d = diagnose(&input(LoaderEnd::Errno(4), 700, true, log(FILL)));
    assert_eq!(d.cause, Cause::Interrupted);
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "Loading 700 MiB was interrupted (EINTR) while the module was filling the buffer"
    );
    let fill_line = |ev: &[String]| ev.iter().any(|l| l.contains("err=-4 stage=fill"));
    assert!(fill_line(&d.evidence), "{:?}", d.evidence);
    // What vmtop sees of it: its own cancel, or a SIGKILL from someone else.
    let d = diagnose(&input(LoaderEnd::Cancelled, 700, true, log(FILL)));
    assert_eq!(d.cause, Cause::Cancelled);
    assert!(fill_line(&d.evidence), "{:?}", d.evidence);
    let d = diagnose(&input(LoaderEnd::Signal(9), 700, true, log(FILL)));
    assert_eq!(d.cause, Cause::LoaderKilled);
    assert_eq!(d.confidence, Confidence::Likely);
    assert!(d.detail.contains("shows no OOM kill"), "{}", d.detail);
    assert!(fill_line(&d.evidence), "{:?}", d.evidence);
}

#[test]
fn unknown_names_the_errno() {
    let d = diagnose(&input(LoaderEnd::Errno(16), 64, true, log(OOM)));
    assert_eq!(d.cause, Cause::Unknown);
    assert!(
        d.summary.contains("EBUSY (Device or resource busy)"),
        "{}",
        d.summary
    );
    assert!(!d.evidence.is_empty());
}

#[test]
fn every_summary_carries_numbers_or_names() {
    // Memory causes quote the request and a figure in MiB/GiB/PiB.
    for (end, mib, safe, fixture) in [
        (ENOMEM, 2000, true, ""),
        (ENOMEM, 950, true, ENOMEM_SAFE),
        (LoaderEnd::Signal(9), 950, false, OOM),
    ] {
        let d = diagnose(&input(end, mib, safe, log(fixture)));
        assert!(d.summary.contains(&format!("{mib} MiB")), "{}", d.summary);
        assert!(d.summary.matches(" MiB").count() >= 2, "{}", d.summary);
    }
}

const ALLOC: &str = include_str!("../../testdata/kmsg-6.1-alloc-earlier.txt");
const FRAGMENT: &str = include_str!("../../testdata/kmsg-6.1-fragment-earlier.txt");
const FRAGMENT_612: &str = include_str!("../../testdata/kmsg-6.12-fragment-earlier.txt");
/// The same allocator cases on 6.12, whose page allocator is __alloc_pages_noprof.
const ALLOC_612: &str = include_str!("../../testdata/kmsg-6.12-alloc-earlier.txt");

/// The captured records of one attempt in `fixture`: from the limits line whose fail/load
/// line contains `key` back to the previous limits line.
fn attempt_in(fixture: &str, key: &str) -> Vec<String> {
    let all = log(fixture);
    let end = all
        .iter()
        .position(|l| l.contains("alloc_large_mem: fail") && l.contains(key))
        .unwrap_or_else(|| panic!("no fail line with {key}"));
    let start = all[..end]
        .iter()
        .rposition(|l| l.contains("alloc_large_mem: limits"))
        .expect("limits line before it");
    all[start..=end].to_vec()
}

fn attempt(key: &str) -> Vec<String> {
    attempt_in(ALLOC, key)
}

#[test]
fn kmalloc_above_max_unsafe_names_the_warning() {
    let l = attempt("oom_safe=N err=-12 stage=kmalloc");
    let d = diagnose(&input(ENOMEM, 8, false, l));
    assert_eq!(d.cause, Cause::KmallocAboveMax);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.cause.means_too_big());
    assert_eq!(
        d.summary,
        "Asked 8 MiB from kmalloc, above KMALLOC_MAX_SIZE 4.00 MiB (one block of order 11; the largest is order 10)"
    );
    assert!(d.detail.contains("the WARNING below"), "{}", d.detail);
    assert!(
        d.evidence[0].contains("WARNING: CPU: 1 PID: 415 at mm/page_alloc.c:5634 __alloc_pages")
    );
    assert!(d.evidence.iter().any(|l| l.contains("stage=kmalloc")));
    assert!(d
        .evidence
        .iter()
        .any(|l| l.contains("kmalloc_max_size=4194304")));
}

#[test]
fn kmalloc_above_max_safe_says_why_no_warning() {
    let d = diagnose(&input(
        ENOMEM,
        8,
        true,
        attempt("memsize_mib=8 bytes=8388608 oom_safe=Y err=-12 stage=kmalloc"),
    ));
    assert_eq!(d.cause, Cause::KmallocAboveMax);
    assert!(d.detail.contains("__GFP_NOWARN"), "{}", d.detail);
    // 2000 MiB is more than RAM too, but kmalloc never gets that far: the order decides.
    let d = diagnose(&input(ENOMEM, 2000, true, attempt("memsize_mib=2000")));
    assert_eq!(d.cause, Cause::KmallocAboveMax);
    assert!(d.summary.contains("order 19"), "{}", d.summary);
}

#[test]
fn pages_above_max_order() {
    let d = diagnose(&input(
        ENOMEM,
        8,
        true,
        attempt("memsize_mib=8 bytes=8388608 oom_safe=Y err=-12 stage=pages"),
    ));
    assert_eq!(d.cause, Cause::OrderAboveMax);
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "Asked 8 MiB from alloc_pages: one block of order 11 (8.00 MiB), above the largest order 10 (4.00 MiB) the page allocator gives"
    );
}

/// kmalloc of 1 MiB (order 8) after fragment_order=8, in a captured log: both kernels.
fn kmalloc_1_mib_after_fragment_order_8(log: &str) {
    let d = diagnose(&input(ENOMEM, 1, true, attempt_in(log, "fragment_order=8")));
    assert_eq!(d.cause, Cause::NoContiguousBlock);
    assert!(
        d.summary
            .contains("no free block of order 8 (the largest is order 7, 512 KiB)"),
        "{}",
        d.summary
    );
}

#[test]
fn fragmented_memory_has_no_block_of_the_order() {
    let d = diagnose(&input(
        ENOMEM,
        4,
        true,
        attempt_in(FRAGMENT, "fragment_order=10"),
    ));
    assert_eq!(d.cause, Cause::NoContiguousBlock);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.cause.means_too_big());
    assert_eq!(
        d.summary,
        "Asked 4 MiB in one block: 920 MiB free, but no free block of order 10 (the largest is order 9, 2.00 MiB)"
    );
    assert!(d.detail.contains("fragment_order=10"), "{}", d.detail);
    assert!(
        d.detail.contains("vmalloc() of the same size"),
        "{}",
        d.detail
    );
    kmalloc_1_mib_after_fragment_order_8(FRAGMENT);
}

/// 6.12 prints the same line, with the blocks it found free but for pages on the
/// per-CPU lists (parked_kib).
#[test]
fn fragmented_memory_on_6_12() {
    let attempt = attempt_in(FRAGMENT_612, "fragment_order=10");
    assert!(
        attempt.iter().any(|l| l.contains(" parked_kib=")),
        "{attempt:?}"
    );
    let d = diagnose(&input(ENOMEM, 4, true, attempt));
    assert_eq!(d.cause, Cause::NoContiguousBlock);
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "Asked 4 MiB in one block: 934 MiB free, but no free block of order 10 (the largest is order 9, 2.00 MiB)"
    );
    kmalloc_1_mib_after_fragment_order_8(FRAGMENT_612);
}

#[test]
fn bad_alloc_parameter_names_the_accepted_values() {
    const PARAM_ALLOC: &str = include_str!("../../testdata/kmsg-6.1-param-alloc.txt");
    let d = diagnose(&input(LoaderEnd::Errno(22), 8, true, log(PARAM_ALLOC)));
    assert_eq!(d.cause, Cause::BadParameter);
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "alloc_large_mem rejected its alloc= (EINVAL): alloc must be one of \
         vmalloc,kvmalloc,kmalloc,pages,vmalloc_huge, not 'bogus'"
    );
    assert_eq!(d.evidence.len(), 2, "{:?}", d.evidence);
}

#[test]
fn the_6_12_allocator_failures_read_the_same() {
    // 6.12 names the page allocator __alloc_pages_noprof and its WARNING is at another
    // line: the diagnosis is the same.
    let l = attempt_in(ALLOC_612, "oom_safe=N err=-12 stage=kmalloc");
    let d = diagnose(&input(ENOMEM, 8, false, l));
    assert_eq!(d.cause, Cause::KmallocAboveMax);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.detail.contains("the WARNING below"), "{}", d.detail);
    assert_eq!(
        d.evidence[0],
        "WARNING: CPU: 1 PID: 153 at mm/page_alloc.c:4817 __alloc_pages_noprof+0x303/0x310"
    );
    let d = diagnose(&input(
        ENOMEM,
        8,
        true,
        attempt_in(
            ALLOC_612,
            "memsize_mib=8 bytes=8388608 oom_safe=Y err=-12 stage=pages",
        ),
    ));
    assert_eq!(d.cause, Cause::OrderAboveMax);
    assert!(
        d.summary.contains("above the largest order 10"),
        "{}",
        d.summary
    );
}

/// /proc/meminfo figures of the 6.12 lab (MemTotal from the captures' headers; the rest
/// are the 6.1 lab's: the 6.12 tests read the kernel's lines, not the figures).
fn lab_612() -> Sample {
    Sample {
        mem_total: 988_496 * KIB,
        ..lab()
    }
}

#[test]
fn the_6_12_kernel_lines_read_the_same() {
    const EXCEEDS_612: &str = include_str!("../../testdata/kmsg-6.12-exceeds-total-unsafe.txt");
    const OOM_612: &str = include_str!("../../testdata/kmsg-6.12-oom-unsafe.txt");
    let mut i = input(ENOMEM, 2000, false, log(EXCEEDS_612));
    i.before = Some(lab_612());
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::ExceedsTotalPages);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("MemTotal 965 MiB"), "{}", d.summary);
    assert_eq!(
        d.evidence[0],
        "vmtop-kmod: vmalloc error: size 2097152000, exceeds total pages, \
         mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0"
    );
    let mut i = input(LoaderEnd::Signal(9), 950, false, log(OOM_612));
    i.before = Some(lab_612());
    i.loader_pid = Some(286);
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::OomKilled);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("PID 286 vmtop-kmod)"), "{}", d.summary);
    assert!(d
        .evidence
        .iter()
        .any(|l| l.starts_with("oom-kill:constraint=CONSTRAINT_NONE,") && l.contains(",pid=286,")));
}

#[test]
fn wrong_kernel_from_the_size_of_struct_module() {
    // A 6.1 build loaded into 6.12: it refuses the module's struct module before it looks
    // at symbol versions, and says only that.
    const OTHER_612: &str = include_str!("../../testdata/kmsg-6.12-other-kernel.txt");
    let d = diagnose(&input(LoaderEnd::Errno(8), 8, true, log(OTHER_612)));
    assert_eq!(d.cause, Cause::WrongKernel);
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "Module built for another kernel: its struct module is not the size of this \
         kernel's (.gnu.linkonce.this_module)"
    );
    assert_eq!(
        d.evidence,
        vec![
            "module alloc_large_mem: .gnu.linkonce.this_module section size must match \
              the kernel's built struct module size at run time"
                .to_string()
        ]
    );
    assert!(d.detail.contains("make -C kmod-src KDIR="), "{}", d.detail);
}

#[test]
fn ratio_formatting() {
    assert_eq!(ratio(10, 4), "2.5");
    assert_eq!(ratio(12_500_000, 1), "12.5 million");
    assert_eq!(ratio(1, 0), "∞");
}

/// The module's fail line in `l` (panics if none).
fn fail_line(l: &[String]) -> crate::module::log::FailLine<'_> {
    l.iter()
        .rev()
        .find_map(|l| crate::module::log::FailLine::parse(l))
        .expect("a fail line")
}

#[test]
fn safe_mode_refusal_before_allocating_names_the_limit_and_says_nothing_was_taken() {
    // The 850 MiB attempt of the current module's capture: refused before the allocator ran.
    let l: Vec<String> = log(LAB_SAFE_COUNTED_NOW)
        .into_iter()
        .filter(|l| l.contains("memsize_mib=850 "))
        .collect();
    let m = fail_line(&l);
    assert_eq!(
        (m.stage, m.allocated),
        (Some("reserve"), Some(false)),
        "{l:?}"
    );
    let (avail, reserve) = (
        m.avail_kib.expect("avail_kib"),
        m.reserve_kib.expect("reserve_kib"),
    );
    assert!(
        850 * 1024 > avail - reserve,
        "the capture's figures rule 850 MiB out: {l:?}"
    );
    let d = diagnose(&input(ENOMEM, 850, true, l.clone()));
    assert_eq!(d.cause, Cause::PhysicalMemoryShort);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.cause.means_too_big());
    let fmt = |kib: u64| crate::units::fmt_bytes(kib * 1024);
    assert_eq!(
        d.summary,
        format!(
            "Asked 850 MiB: refused before allocating, more than the {} available minus the {} \
             safe mode keeps free ({} usable)",
            fmt(avail),
            fmt(reserve),
            fmt(avail - reserve)
        )
    );
    assert!(
        d.detail
            .contains("nothing was reclaimed, swapped or killed"),
        "{}",
        d.detail
    );
    assert!(
        d.detail
            .contains(&format!("Try {} or less", fmt(avail - reserve))),
        "{}",
        d.detail
    );
    assert!(d
        .evidence
        .iter()
        .any(|l| l.contains("stage=reserve allocated=0")));
}

#[test]
fn safe_mode_more_than_ram_is_refused_before_allocating() {
    let l = log(EXCEEDS_SAFE_NOW);
    let m = fail_line(&l);
    assert_eq!(
        (m.stage, m.allocated),
        (Some("reserve"), Some(false)),
        "{l:?}"
    );
    let d = diagnose(&input(ENOMEM, 2000, true, l));
    assert_eq!(d.cause, Cause::ExceedsTotalPages);
    assert_eq!(d.confidence, Confidence::Certain);
    assert!(d.summary.contains("Asked 2000 MiB"), "{}", d.summary);
    assert!(
        d.summary.contains("more than all RAM (MemTotal 958 MiB)"),
        "{}",
        d.summary
    );
    assert!(
        d.summary.contains("refused before allocating"),
        "{}",
        d.summary
    );
}

#[test]
fn allocator_limits_are_parameter_refusals_without_a_warning() {
    for (kernel, fixture) in [("6.1", ALLOC_NOW), ("6.12", ALLOC_612_NOW)] {
        // No WARNING in the whole capture: the module refused before asking the kernel.
        assert!(
            !log(fixture).iter().any(|l| l.contains("WARNING")),
            "{kernel}: a WARNING in the capture"
        );
        let l = attempt_in(
            fixture,
            "oom_safe=N err=-22 stage=param allocated=0 alloc=kmalloc",
        );
        let d = diagnose(&input(LoaderEnd::Errno(22), 8, false, l));
        assert_eq!(d.cause, Cause::KmallocAboveMax, "{kernel}");
        assert_eq!(d.confidence, Confidence::Certain);
        assert_eq!(
            d.summary,
            "Asked 8 MiB from kmalloc, above KMALLOC_MAX_SIZE 4.00 MiB: refused before allocating",
            "{kernel}"
        );
        assert!(d.detail.contains("panic_on_warn"), "{}", d.detail);
        let l = attempt_in(
            fixture,
            "oom_safe=Y err=-22 stage=param allocated=0 alloc=pages",
        );
        let d = diagnose(&input(LoaderEnd::Errno(22), 8, true, l));
        assert_eq!(d.cause, Cause::OrderAboveMax, "{kernel}");
        assert_eq!(
            d.summary,
            "Asked 8 MiB from alloc_pages: one block of order 11, above the largest order 10 \
             (4.00 MiB): refused before allocating",
            "{kernel}"
        );
        let l = attempt_in(fixture, "memsize_mib=2048 ");
        let d = diagnose(&input(LoaderEnd::Errno(22), 2048, false, l));
        assert_eq!(d.cause, Cause::KvmallocAboveMax, "{kernel}");
        assert!(d.cause.means_too_big());
        assert!(
            d.summary
                .contains("above its limit of 2147483647 bytes (INT_MAX)"),
            "{}",
            d.summary
        );
    }
}

#[test]
fn fragmentation_with_the_current_module_on_both_kernels() {
    for (kernel, fixture) in [("6.1", FRAGMENT_NOW), ("6.12", FRAGMENT_612_NOW)] {
        let l = attempt_in(fixture, "fragment_order=10");
        let m = fail_line(&l);
        assert!(
            m.line.contains("fragment_stop=none"),
            "{kernel}: {}",
            m.line
        );
        let d = diagnose(&input(ENOMEM, 4, true, l));
        assert_eq!(d.cause, Cause::NoContiguousBlock, "{kernel}");
        assert!(
            d.summary
                .ends_with("but no free block of order 10 (the largest is order 9, 2.00 MiB)"),
            "{kernel}: {}",
            d.summary
        );
        // 2 MiB (order 9) after fragment_order=9, the pageblock order: the smallest accepted.
        let d = diagnose(&input(
            ENOMEM,
            2,
            true,
            attempt_in(fixture, "fragment_order=9"),
        ));
        assert_eq!(d.cause, Cause::NoContiguousBlock, "{kernel}");
        assert!(
            d.summary
                .contains("no free block of order 9 (the largest is order 8, 1.00 MiB)"),
            "{kernel}: {}",
            d.summary
        );
    }
}

#[test]
fn fragment_order_below_the_floor_and_bad_reserve_name_the_range() {
    let all = log(PARAM_RANGE);
    // The first attempt (fragment_order=8): up to its line naming the range.
    let end = all
        .iter()
        .position(|l| l.contains("fragment_order must be"))
        .expect("the fragment_order range line");
    let frag: Vec<String> = all[..=end].to_vec();
    let m = fail_line(&frag);
    assert_eq!(
        (m.stage, m.allocated, m.fragment_order),
        (Some("param"), Some(false), Some(8))
    );
    let d = diagnose(&input(LoaderEnd::Errno(22), 4, true, frag));
    assert_eq!(d.cause, Cause::BadParameter);
    assert_eq!(d.confidence, Confidence::Certain);
    assert_eq!(
        d.summary,
        "alloc_large_mem rejected a parameter (EINVAL): fragment_order must be 0 (off) or \
         between 9 (pageblock_order) and 10, not 8"
    );
    // The second attempt (reserve_mib=-2): its fail line and the line naming the range.
    let reserve: Vec<String> = all.iter().rev().take(2).rev().cloned().collect();
    let d = diagnose(&input(LoaderEnd::Errno(22), 4, true, reserve));
    assert_eq!(
        d.summary,
        "alloc_large_mem rejected a parameter (EINVAL): reserve_mib must be -1 (the default \
         reserve), 0 (none) or a size in MiB, not -2"
    );
}

/// The 6.12 lab (2 GiB): the module built with 1.5 GiB of .bss, more than the module area
/// holds; the kernel log says only "execmem: unable to allocate memory" and the figures say
/// nothing is short. The kernel's vmalloc:alloc_vmap_area event, recorded during the load,
/// is the evidence (scripts/capture-fixtures.sh case module-area).
fn module_area_input(trace: Option<crate::system::vmap_trace::VmapTrace>) -> FailureInput {
    let log: Vec<String> = include_str!("../../testdata/kmsg-6.12-module-area.txt")
        .lines()
        .filter_map(crate::system::kmsg::parse_record)
        .map(|r| r.text)
        .collect();
    let two_gib = Sample {
        mem_total: 2_019_148 * KIB,
        mem_free: 1_900_000 * KIB,
        mem_available: Some(1_880_000 * KIB),
        vmalloc_total: 13_743_895_347_199 * KIB,
        vmalloc_used: 9_000 * KIB,
        vmalloc_chunk: 0,
        highmem: None,
    };
    let mut i = input(ENOMEM, 8, true, log);
    i.before = Some(two_gib);
    i.after = Some(two_gib);
    i.loader_pid = Some(172);
    i.vmap_trace = trace;
    i
}

fn module_area_trace() -> crate::system::vmap_trace::VmapTrace {
    let events =
        crate::system::vmap_trace::parse(include_str!("../../testdata/trace-6.12-module-area.txt"));
    assert_eq!(events.len(), 2, "the failure, before and after the purge");
    crate::system::vmap_trace::VmapTrace::Recorded { failed: events }
}

#[test]
fn a_traced_failure_is_certain_and_quoted() {
    let d = diagnose(&module_area_input(Some(module_area_trace())));
    assert_eq!(d.cause, Cause::AddressSpaceExhausted);
    assert_eq!(d.confidence, Confidence::Certain);
    // The event's figures: size, range, and what the range is.
    assert!(d.summary.contains("Asked 8 MiB"), "{}", d.summary);
    assert!(d.summary.contains("1.50 GiB"), "{}", d.summary);
    assert!(
        d.summary
            .contains("between 0xffffffffc033c000 and 0xffffffffff000000"),
        "{}",
        d.summary
    );
    assert!(d.summary.contains("module area"), "{}", d.summary);
    assert!(d.detail.contains("not the module's"), "{}", d.detail);
    assert!(d.detail.contains("kernel's only word"), "{}", d.detail);
    // The event quoted first, then the kernel's one line.
    assert!(
        d.evidence[0].contains("alloc_vmap_area: va_start:") && d.evidence[0].ends_with("failed=1"),
        "{:?}",
        d.evidence
    );
    assert!(
        d.evidence[0].contains("size=1610633216 align=4096"),
        "{:?}",
        d.evidence
    );
    assert!(d
        .evidence
        .iter()
        .any(|l| l == "execmem: unable to allocate memory"));
}

#[test]
fn without_the_event_the_same_failure_is_misread_and_says_why() {
    // Recorded, but another pid's: not this load's.
    let mut other = module_area_input(Some(module_area_trace()));
    other.loader_pid = Some(999);
    assert_ne!(diagnose(&other).confidence, Confidence::Certain);
    // 6.1: no such event. The diagnosis stays what it was (figures), and says the event is missing.
    let reason =
        "kernel 6.1.0-57-amd64 has no vmalloc:alloc_vmap_area trace event (Linux 6.2 added it)";
    let mut i = input(ENOMEM, 300, true, vec![]);
    i.before = Some(i686());
    i.vmalloc_largest_free = Some(80 * MIB);
    let today = diagnose(&i);
    i.vmap_trace = Some(crate::system::vmap_trace::VmapTrace::Unavailable {
        reason: reason.into(),
    });
    let d = diagnose(&i);
    assert_eq!((d.cause, d.confidence), (today.cause, today.confidence));
    assert_eq!(d.summary, today.summary);
    assert!(d.detail.contains(reason), "{}", d.detail);
}

#[test]
fn a_recorded_trace_without_failure_clears_the_address_space() {
    let mut i = input(ENOMEM, 900, true, log(ENOMEM_SAFE));
    i.vmap_trace = Some(crate::system::vmap_trace::VmapTrace::Recorded { failed: vec![] });
    let d = diagnose(&i);
    assert_eq!(d.cause, Cause::PhysicalMemoryShort);
    assert!(
        d.detail
            .contains("shows no failed allocation of address space"),
        "{}",
        d.detail
    );
}

/// A 32-bit failure of the buffer itself, as the event would report it on a kernel that has
/// it (the i386 lab's 6.1 does not: the event line is made from the window of its capture).
#[test]
fn a_traced_buffer_failure_names_the_vmalloc_area() {
    let line = "vmtop-kmod-90 [000] ..... 5.0: alloc_vmap_area: va_start: 4286570496 size=314576896 align=1 vstart=0xf77fe000 vend=0xfeffe000 failed=1";
    let e = crate::system::vmap_trace::parse_line(line).expect("event");
    let mut i = input(ENOMEM, 300, true, vec![]);
    i.before = Some(i686());
    i.loader_pid = Some(90);
    i.vmap_trace = Some(crate::system::vmap_trace::VmapTrace::Recorded { failed: vec![e] });
    let d = diagnose(&i);
    assert_eq!(
        (d.cause, d.confidence),
        (Cause::AddressSpaceExhausted, Confidence::Certain)
    );
    assert!(
        d.summary.contains("no free range of 300 MiB"),
        "{}",
        d.summary
    );
    assert!(d.detail.contains("the whole vmalloc area"), "{}", d.detail);
    assert!(d.detail.contains("vmtop areas --map"), "{}", d.detail);
}
