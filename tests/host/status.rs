//! On the build host itself: `vmtop status` tells whether this kernel can load modules, and
//! vmtop's own refusals (usage errors, damaged module files) are one line with exit 2.

use std::process::Command;

use crate::common::{temp_dir, vmtop};

#[test]
fn status_reports_module_support_of_this_kernel() {
    let out = Command::new(vmtop())
        .arg("status")
        .output()
        .expect("running vmtop status");
    let text = String::from_utf8_lossy(&out.stdout);
    if std::path::Path::new("/proc/modules").exists() {
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(text.contains("can load modules"), "{text}");
    } else {
        // The build machines: no CONFIG_MODULES. Its own exit code, and a way out.
        assert_eq!(out.status.code(), Some(3), "{text}");
        assert!(text.contains("without module support"), "{text}");
        assert!(text.contains("vmtop lab"), "{text}");
    }
}

#[test]
fn load_on_this_kernel_is_refused_with_the_right_reason() {
    // Nothing may be loaded on the machine that runs the tests: on a kernel with module
    // support the module file given does not exist, so the refusal must name it (or, not
    // root, the missing privilege); on the build machines (no CONFIG_MODULES) the kernel
    // itself is the reason.
    let out = Command::new(vmtop())
        .args([
            "load",
            "--memsize",
            "8",
            "--json",
            "--module",
            "/nonexistent/vmtop-test.ko",
        ])
        .output()
        .expect("running vmtop load");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let d = &v["event"]["outcome"]["diagnosis"];
    assert_eq!(d["confidence"], "certain", "{v}");
    let modules = std::path::Path::new("/proc/modules").exists();
    let root = nix::unistd::geteuid().is_root();
    match (modules, root) {
        (false, _) => {
            assert_eq!(out.status.code(), Some(3), "{text}");
            assert_eq!(d["cause"], "no_module_support", "{v}");
            assert!(d["detail"].to_string().contains("vmtop lab"), "{v}");
        }
        (true, false) => {
            assert_eq!(out.status.code(), Some(4), "{text}");
            assert_eq!(d["cause"], "not_permitted", "{v}");
        }
        (true, true) => {
            assert_eq!(out.status.code(), Some(1), "{text}");
            assert_eq!(d["cause"], "module_file_missing", "{v}");
            assert!(
                d["detail"]
                    .to_string()
                    .contains("/nonexistent/vmtop-test.ko"),
                "{v}"
            );
        }
    }
}

#[test]
fn bad_memsize_is_one_line_exit_2() {
    for bad in ["0", "-5", "1.5", "", "12parsecs", "99999999999999999999999"] {
        let out = Command::new(vmtop())
            .args(["load", "--memsize", bad])
            .output()
            .expect("running vmtop load");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{bad}: {err}");
        assert!(err.contains("300M") && err.contains("2G"), "{bad}: {err}");
    }
}

#[test]
fn force_without_unsafe_mode_and_bad_values_are_usage_errors() {
    for (args, wants) in [
        (
            &["load", "--memsize", "64", "--force"][..],
            &["--force only applies with --mode unsafe", "reserve"][..],
        ),
        (&["--mode", "fast"][..], &["safe, unsafe"][..]),
        (
            &["record", "--duration", "1s", "--format", "xml"][..],
            &["csv, jsonl"][..],
        ),
        (
            &["record", "--duration", "99999999999999999999h"][..],
            &["too large"][..],
        ),
        (
            &["probe", "--from", "10", "--to", "5"][..],
            &["--from 10 MiB is above --to 5 MiB"][..],
        ),
    ] {
        let out = Command::new(vmtop())
            .args(args)
            .output()
            .expect("running vmtop");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
        for w in wants {
            assert!(err.contains(w), "{args:?}: {w}: {err}");
        }
    }
}

#[test]
fn record_into_a_closed_pipe_ends_quietly() {
    // `vmtop record | head -n 2`: the reader goes away; vmtop must stop without an error
    // message (as `cat` does), not print "Broken pipe" or panic.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' record --duration 5s --interval 50ms | head -n 2",
            vmtop()
        ))
        .output()
        .expect("running vmtop record | head");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.starts_with("t_s,"), "{text}");
    assert!(err.is_empty(), "stderr: {err}");
}

/// `vmtop status --json --module FILE`: what vmtop says of FILE (through libkmod, in the
/// helper vmtop-kmod built beside it).
fn file_problem(file: &std::path::Path) -> (serde_json::Value, serde_json::Value) {
    let out = Command::new(vmtop())
        .args(["status", "--json", "--module"])
        .arg(file)
        .output()
        .expect("running vmtop status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    (
        v["module_file_problem"].clone(),
        v["module_file_format"].clone(),
    )
}

#[test]
fn damaged_module_files_are_named_for_what_they_are() {
    let tmp = temp_dir("host-files");
    let d = tmp.path();
    // An ELF header cut after 20 bytes, and an xz header followed by garbage.
    let trunc = d.join("trunc.ko");
    std::fs::write(&trunc, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x01\0\x3e\0").expect("w");
    let bad_xz = d.join("bad.ko.xz");
    std::fs::write(&bad_xz, b"\xfd7zXZ\0garbage").expect("write");
    let text = d.join("notes.ko");
    std::fs::write(&text, b"hello\n").expect("write");
    for (f, what) in [
        (&trunc, "an ELF kernel module but cannot be read"),
        (&bad_xz, "an xz-compressed kernel module but cannot be read"),
        (&text, "a text file"),
    ] {
        let (problem, format) = file_problem(f);
        let p = problem.as_str().unwrap_or_default();
        assert!(p.contains(what), "{}: {p}", f.display());
        assert!(p.contains(&f.display().to_string()), "{p}");
        assert!(!p.contains("another kernel"), "{p}");
        assert!(format.is_null());
    }
}

#[test]
fn status_reports_this_process_capability_as_the_kernel_does() {
    // The test and the vmtop it starts have the same credentials: CapEff bit 16 here is the
    // CAP_SYS_MODULE vmtop must report (this build host: root in a container).
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|h| u64::from_str_radix(h.trim(), 16).expect("hex mask"))
        .expect("CapEff line");
    let out = Command::new(vmtop())
        .args(["status", "--json"])
        .output()
        .expect("running vmtop status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let p = &v["kernel"]["privileges"];
    assert_eq!(p["cap_sys_module"], (eff >> 16) & 1 == 1, "{v}");
    assert_eq!(p["euid"], nix::unistd::geteuid().as_raw(), "{v}");
    let text = Command::new(vmtop())
        .arg("status")
        .output()
        .expect("running vmtop status");
    let text = String::from_utf8_lossy(&text.stdout);
    let with = if (eff >> 16) & 1 == 1 {
        "with"
    } else {
        "without"
    };
    assert!(text.contains(&format!("{with} CAP_SYS_MODULE")), "{text}");
}
