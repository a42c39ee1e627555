//! Issue 9, parts 3 and 6: which lab kernel boots, and under which accelerator.
//! `--accel auto` must pick what works on this machine (here: /dev/kvm exists, KVM does
//! not, so TCG after a quick probe) and the lab must still run; `--accel kvm` must then be
//! refused with the problem named. On a machine where KVM works, the same test asserts that
//! auto chose KVM and that `--accel kvm` boots.

use crate::common::{lab_dir, lab_kernel, lab_kernels, run, vmtop};

use std::process::Command;
use std::time::Duration;

fn vmtop_run(args: &[&str]) -> crate::common::Out {
    run(Command::new(vmtop()).args(args))
}

#[test]
fn auto_accel_boots_and_kvm_is_refused_or_used_as_it_works() {
    let o = vmtop_run(&[
        "lab",
        "--json",
        "--timeout",
        "5m",
        "--exec",
        "echo guest_ok=1; echo release=$(uname -r)",
    ]);
    assert_eq!(o.status, 0, "{}", o.stderr);
    assert!(o.stdout.contains("guest_ok=1"), "{}", o.stdout);
    let json: serde_json::Value = serde_json::from_str(o.stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("no JSON summary ({e}):\n{}", o.stdout));
    let accel = json["accel"].as_str().expect("accel in the JSON");
    let why = json["accel_reason"].as_str().expect("accel_reason");
    let kernel = json["kernel"].as_str().expect("kernel");
    eprintln!("auto chose {accel} for {kernel}: {why}");
    // The kernel that booted is the one the JSON names, and the one asked for.
    assert!(
        o.stdout.contains(&format!("release={kernel}\n")),
        "{}",
        o.stdout
    );
    // The default lab kernel ($VMTOP_LAB_KERNEL when set, else the newest fetched).
    let want = lab_kernel();
    assert_eq!(kernel, want.release, "{want:?}");
    if let Ok(asked) = std::env::var("VMTOP_LAB_KERNEL") {
        assert!(
            kernel.starts_with(&asked),
            "{kernel} for VMTOP_LAB_KERNEL={asked}"
        );
    }
    // One stderr line says which accelerator and why.
    let banner: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("vmtop lab: booting"))
        .collect();
    assert_eq!(banner.len(), 1, "{}", o.stderr);
    assert!(banner[0].contains(&format!("under {}", accel.to_uppercase())));
    assert!(banner[0].contains(why), "{}", banner[0]);

    let kvm = vmtop_run(&[
        "lab",
        "--accel",
        "kvm",
        "--timeout",
        "5m",
        "--exec",
        "echo guest_ok=1",
    ]);
    match accel {
        "kvm" => {
            assert_eq!(kvm.status, 0, "{}", kvm.stderr);
            assert!(kvm.stdout.contains("guest_ok=1"));
        }
        "tcg" => {
            // Refused at once with the problem and the way out, after a fresh probe.
            assert_eq!(kvm.status, 1, "{}", kvm.stderr);
            let err = kvm.stderr.trim();
            assert!(err.starts_with("vmtop: --accel kvm: "), "{err}");
            assert!(err.contains("use --accel tcg"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(!kvm.stdout.contains("guest_ok"), "{}", kvm.stdout);
            if why.contains("/dev/kvm cannot be opened") {
                assert!(err.contains("/dev/kvm cannot be opened"), "{err}");
            } else {
                assert!(why.starts_with("KVM does not work here"), "{why}");
                assert!(err.contains("KVM does not work on this machine"), "{err}");
                // The probe's deadline is 5 s; starting QEMU twice fits well within 20.
                assert!(kvm.took < Duration::from_secs(20), "{:?}", kvm.took);
                // The verdict is kept for this boot, keyed on its boot_id.
                let boot =
                    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").expect("boot_id");
                let cache = std::fs::read_to_string(lab_dir().join("work/kvm-probe"))
                    .expect("the probe's verdict in the lab dir");
                assert!(
                    cache
                        .lines()
                        .any(|l| l.starts_with(boot.trim()) && l.contains("\tfail\t")),
                    "{cache}"
                );
            }
        }
        other => panic!("accel {other:?} is neither kvm nor tcg"),
    }
}

#[test]
fn kernel_release_picks_a_fetched_kernel_or_lists_them() {
    let all = lab_kernels();
    assert!(!all.is_empty(), "make lab fetches at least one kernel");
    assert_eq!(all.iter().filter(|k| k.default).count(), 1, "{all:?}");
    let o = vmtop_run(&["lab", "--kernel-release", "0.0.1-none", "--exec", "true"]);
    assert_eq!(o.status, 1);
    let err = o.stderr.trim();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no lab kernel matches --kernel-release 0.0.1-none; available: "),
        "{err}"
    );
    // Without --arch only kernels of this machine's architecture are candidates.
    for k in &all {
        if k.arch == "x86_64" {
            assert!(err.contains(&k.release), "{} in: {err}", k.release);
        } else {
            assert!(!err.contains(&k.release), "{} not in: {err}", k.release);
        }
    }
    // Each kernel's architecture comes from its headers' configuration.
    for k in &all {
        assert!(k.arch == "x86_64" || k.arch == "i386", "{k:?}");
    }
}
