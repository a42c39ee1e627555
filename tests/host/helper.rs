//! Issue 18 points 5 and 6, on the build host (nothing is loaded): the helper reads only the
//! file vmtop checked, and a missing helper is said as such, never as a missing module.

use std::os::unix::fs::MetadataExt as _;
use std::process::Command;

use crate::common::{run, temp_dir, vmtop};

fn helper() -> &'static str {
    env!("CARGO_BIN_EXE_vmtop-kmod")
}

const PROTOCOL: &str = "--protocol=2";

#[test]
fn the_helper_reads_only_the_file_vmtop_checked() {
    let tmp = temp_dir("helper-file");
    let f = tmp.path().join("m.ko");
    std::fs::write(&f, b"hello\n").expect("write");
    let other = tmp.path().join("other.ko");
    std::fs::write(&other, b"hello\n").expect("write");
    let id = |p: &std::path::Path| {
        let m = std::fs::metadata(p).expect("stat");
        format!("{}:{}", m.dev(), m.ino())
    };
    // The path now names another file than the one checked (re-pointed after the check):
    // refused with exit 4, naming the file found; libkmod never reads it.
    let o = run(Command::new(helper())
        .args([PROTOCOL, "modinfo"])
        .arg(&f)
        .arg(id(&other)));
    assert_eq!(o.status, 4, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.stdout.trim(), format!("vmtop-kmod-changed={}", id(&f)));
    // The file checked: libkmod reads it (a text file: it fails as libkmod fails, exit 1).
    let o = run(Command::new(helper())
        .args([PROTOCOL, "modinfo"])
        .arg(&f)
        .arg(id(&f)));
    assert_eq!(o.status, 1, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.starts_with("vmtop-kmod-errno="), "{}", o.stdout);
    // A link at the end of the path is not followed (vmtop passes the resolved path: a link
    // there was put after the check): ELOOP, nothing read.
    let link = tmp.path().join("link.ko");
    std::os::unix::fs::symlink(&f, &link).expect("symlink");
    let o = run(Command::new(helper())
        .args([PROTOCOL, "modinfo"])
        .arg(&link)
        .arg(id(&f)));
    assert_eq!(o.status, 1, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.stdout.trim(), format!("vmtop-kmod-errno={}", libc::ELOOP));
    // Same for insert: checked before anything else (here nothing could be loaded anyway).
    let o = run(Command::new(helper())
        .args([PROTOCOL, "insert"])
        .arg(&f)
        .arg(id(&other))
        .arg("memsize=1"));
    assert_eq!(o.status, 4, "{}{}", o.stdout, o.stderr);
}

#[test]
fn a_missing_helper_is_named_not_taken_for_a_missing_module() {
    let tmp = temp_dir("helper-missing");
    // No checkout module to find (an empty checkout), and no helper where it is said to be.
    let empty = tmp.path().join("checkout");
    std::fs::create_dir(&empty).expect("mkdir");
    let gone = tmp.path().join("gone/vmtop-kmod");
    let status = |extra: &[&str]| {
        let o = run(Command::new(vmtop())
            .env("VMTOP_CHECKOUT", &empty)
            .env("VMTOP_KMOD_HELPER", &gone)
            .args(["status", "--json"])
            .args(extra));
        let v: serde_json::Value = serde_json::from_str(&o.stdout)
            .unwrap_or_else(|e| panic!("status JSON: {e}\n{}{}", o.stdout, o.stderr));
        v["module_file_problem"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // The installed module is looked up through the helper: its absence is the problem.
    let p = status(&[]);
    assert!(
        p.contains("libkmod helper vmtop-kmod is missing")
            && p.contains(&gone.display().to_string()),
        "{p}"
    );
    assert!(!p.contains("no alloc_large_mem module found"), "{p}");
    // A module file given: read through the helper, so again the helper is named, not the file.
    let ko = tmp.path().join("m.ko");
    std::fs::write(&ko, b"\x7fELF\x02\x01\x01\0").expect("write");
    let p = status(&["--module", ko.to_str().expect("utf-8 path")]);
    assert!(p.contains("libkmod helper vmtop-kmod is missing"), "{p}");
    assert!(!p.contains("cannot be read"), "{p}");
}
