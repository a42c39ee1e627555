//! Issue 18 point 5: as root, a `VMTOP_*` variable that names a program, module or folder is
//! used only when no other user can change what it names; otherwise vmtop refuses with one
//! line (exit 2) before doing anything. Not root, the variables are the user's own business.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use crate::common::{run, temp_dir, vmtop};

#[test]
fn vmtop_variables_naming_files_others_can_change_are_refused_as_root() {
    let tmp = temp_dir("root-env");
    // A helper in a folder anyone can write to (someone else could swap it for theirs).
    let open = tmp.path().join("open");
    std::fs::create_dir(&open).expect("mkdir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let helper = open.join("vmtop-kmod");
    std::fs::write(&helper, b"#!/bin/sh\nexit 0\n").expect("write");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let root = nix::unistd::geteuid().is_root();
    for var in [
        "VMTOP_KMOD_HELPER",
        "VMTOP_CHECKOUT",
        "VMTOP_MODULE",
        "VMTOP_LAB_DIR",
        "VMTOP_KMOD_SRC",
        "VMTOP_LAB_VMTOP",
    ] {
        let o = run(Command::new(vmtop())
            .env(var, &helper)
            .args(["status", "--json"]));
        if root {
            assert_eq!(o.status, 2, "{var}: refused as root:\n{}", o.stderr);
            let lines: Vec<&str> = o.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{var}: one line:\n{}", o.stderr);
            let line = lines[0];
            assert!(
                line.starts_with(&format!("vmtop: {var}={}: ", helper.display())),
                "{line}"
            );
            assert!(
                line.contains("writable by its group and others (mode 777)"),
                "{line}"
            );
            assert!(line.contains(&format!("unset {var}")), "{line}");
            assert!(o.stdout.is_empty(), "nothing done: {}", o.stdout);
        } else {
            assert!(
                !o.stderr.contains(var),
                "{var}: not root, not refused:\n{}",
                o.stderr
            );
        }
    }
    // Closed (0755 folder): accepted, and status answers as it does without the variable.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let with = run(Command::new(vmtop())
        .env("VMTOP_LAB_DIR", &open)
        .args(["status", "--json"]));
    let without = run(Command::new(vmtop()).args(["status", "--json"]));
    assert_eq!(with.status, without.status, "{}", with.stderr);
    assert!(!with.stderr.contains("VMTOP_LAB_DIR"), "{}", with.stderr);
}
