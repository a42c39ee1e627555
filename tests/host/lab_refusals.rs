//! `vmtop lab` refuses what it cannot do before it builds or boots anything (issue 18): a
//! `--copy` whose guest path can hold no file, or whose host file is missing, and a work
//! folder other users could write to (make runs what they put there). One line, exit 2.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use crate::common::{run, temp_dir, vmtop};

/// The one line of a refusal, which must not have started a VM.
fn refusal(o: &crate::common::Out) -> String {
    assert_eq!(o.status, 2, "a refusal is exit 2:\n{}", o.stderr);
    assert!(
        !o.stderr.contains("booting"),
        "no VM started:\n{}",
        o.stderr
    );
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line:\n{}", o.stderr);
    lines[0].to_string()
}

#[test]
fn lab_copy_refuses_paths_that_cannot_hold_the_file_before_looking_for_a_kernel() {
    let tmp = temp_dir("copy-refusal");
    let f = tmp.path().join("m.ko");
    std::fs::write(&f, b"x").expect("write");
    // An empty lab dir: were the copies checked after the kernel search, that would fail first.
    let empty = tmp.path().join("no-lab");
    std::fs::create_dir(&empty).expect("mkdir");
    for (arg, says) in [
        (format!("{}:/proc/m.ko", f.display()), "under /proc"),
        (format!("{}:/sys/m.ko", f.display()), "under /sys"),
        (format!("{}:/srv/", f.display()), "names a folder"),
        (
            format!("{}/nope.ko:/srv/m.ko", tmp.path().display()),
            "cannot read",
        ),
    ] {
        let o = run(Command::new(vmtop())
            .env("VMTOP_LAB_DIR", &empty)
            .args(["lab", "--copy", &arg, "--exec", "true"]));
        let line = refusal(&o);
        assert!(
            line.starts_with(&format!("vmtop: --copy {arg}: ")),
            "{line}"
        );
        assert!(line.contains(says), "{line}");
    }
}

#[test]
fn lab_refuses_a_work_folder_others_can_write_to() {
    // A kernel of its own (--kernel/--kdir, no lab dir): the module would be built in the
    // cache, $XDG_CACHE_HOME/vmtop/work, which another user has opened up (mode 0777).
    let tmp = temp_dir("work-refusal");
    let image = tmp.path().join("vmlinuz-6.1.0-99-amd64");
    std::fs::write(&image, b"not booted").expect("image");
    let kdir = tmp.path().join("headers");
    std::fs::create_dir_all(kdir.join("include/config")).expect("kdir");
    std::fs::write(kdir.join("Makefile"), b"").expect("Makefile");
    std::fs::write(kdir.join("include/config/auto.conf"), b"CONFIG_X86_64=y\n").expect("config");
    let work = tmp.path().join("cache/vmtop/work");
    std::fs::create_dir_all(&work).expect("work");
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let o = run(Command::new(vmtop())
        .env("XDG_CACHE_HOME", tmp.path().join("cache"))
        .arg("lab")
        .arg("--kernel")
        .arg(&image)
        .arg("--kdir")
        .arg(&kdir)
        .args(["--exec", "true"]));
    let line = refusal(&o);
    assert!(
        line.contains(&format!(
            "refusing to build the lab module in {}",
            work.display()
        )),
        "{line}"
    );
    assert!(
        line.contains("mode 777") && line.contains("chmod go-w"),
        "{line}"
    );
    // Nothing was built there.
    assert_eq!(std::fs::read_dir(&work).expect("list").count(), 0);
    // Closed again (0700, as vmtop makes it): no refusal about the folder any more.
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let o = run(Command::new(vmtop())
        .env("XDG_CACHE_HOME", tmp.path().join("cache"))
        .env("PATH", "/nonexistent")
        .arg("lab")
        .arg("--kernel")
        .arg(&image)
        .arg("--kdir")
        .arg(&kdir)
        .args(["--exec", "true"]));
    assert!(!o.stderr.contains("refusing to build"), "{}", o.stderr);
    assert!(
        o.stderr.contains("is not installed"),
        "got past the folder:\n{}",
        o.stderr
    );
}
