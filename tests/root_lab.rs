//! A new user's first steps, on a real distribution: `vmtop lab --root debian` boots the lab
//! kernel with a debootstrap'd Debian root (`make lab` builds it) where the kernel's modules
//! and headers are installed as the packages install them, and the checkout is at /src
//! with the host-built binaries. As the non-root user `dev` (sudo), these run the
//! Makefile's host branch for real.

mod common;

/// Poll the tmux pane of user dev for a string (inside the VM).
const TMUX: &str = r#"
T() { su dev -c "tmux $*"; }
screen() { T capture-pane -p -t run > /tmp/screen; }
w() { i=0; while [ $i -lt $2 ]; do screen; grep -q "$1" /tmp/screen && return 0; sleep 1; i=$((i+1)); done
      echo "TIMEOUT waiting for $1"; cat /tmp/screen; return 1; }
R=$(uname -r)
"#;

fn boot(script: &str) -> common::Run {
    // Once, on 6.1 (the issue's kernel; not once per lab kernel: each boot of the 2 GiB
    // root costs about a minute under TCG).
    common::lab(
        &["--root", "debian", "--kernel-release", "6.1"],
        &format!("{TMUX}\n{script}"),
    )
}

#[test]
fn make_run_as_a_user_brings_up_the_dashboard_through_sudo() {
    let r = boot(
        r#"
cd /src
echo "== vmtop status as dev"
su dev -c 'target/release/vmtop status'; echo "status_rc=$?"
su dev -c 'tmux new-session -d -s run -x 100 -y 30 "make run; echo MAKE-RUN-EXIT=\$?; sleep 600"'
w 'not loaded' 180 && echo dashboard_up=1
screen; grep -c READ-ONLY /tmp/screen | sed 's/^/readonly_banner=/'
T send-keys -t run 6 4 Enter l
w 'Load alloc_large_mem with 64 MiB?' 60 && T send-keys -t run y
w 'Events (1)' 120 && echo loaded_screen=1
echo "loaded_during=$(grep -c '^alloc_large_mem ' /proc/modules)"
cat /tmp/screen
T send-keys -t run u
w 'Events (2)' 120 && echo unloaded_screen=1
T send-keys -t run q
w MAKE-RUN-EXIT 60; cat /tmp/screen
grep -o 'MAKE-RUN-EXIT=[0-9]*' /tmp/screen | tr - _
echo "loaded_after=$(grep -c '^alloc_large_mem ' /proc/modules)"
ls kmod-src/alloc_large_mem.ko && echo "module_vermagic=$(modinfo -F vermagic kmod-src/alloc_large_mem.ko | cut -d' ' -f1)"
echo "== a checkout module built for an older kernel"
first=${R%%.*}
old="vermagic=$R"; new="vermagic=$((first - 1))${R#$first}"
su dev -c "LC_ALL=C sed -i 's/$old/$new/' kmod-src/alloc_large_mem.ko"
echo "stale_vermagic=$(modinfo -F vermagic kmod-src/alloc_large_mem.ko | cut -d' ' -f1)"
su dev -c 'sudo target/release/vmtop load --memsize 64' 2>&1; echo "stale_rc=$?"
echo "loaded_stale=$(grep -c '^alloc_large_mem ' /proc/modules)"
"#,
    );
    let v = r.vars();
    let get = |k: &str| v.get(k).map(String::as_str).unwrap_or("");
    // Plain vmtop as a user: read-only, and the banner names sudo.
    assert!(r.out.contains("sudo vmtop"), "{}", r.out);
    assert_eq!(get("dashboard_up"), "1", "{}", r.out);
    assert_eq!(
        get("readonly_banner"),
        "0",
        "not read-only under sudo:\n{}",
        r.out
    );
    assert!(
        r.out.contains("cargo not found: using the prebuilt"),
        "{}",
        r.out
    );
    assert!(r.out.contains("M=\"/src/kmod-src\""), "{}", r.out);
    assert_eq!(get("loaded_screen"), "1", "{}", r.out);
    assert_eq!(get("loaded_during"), "1", "{}", r.out);
    assert_eq!(get("unloaded_screen"), "1", "{}", r.out);
    assert_eq!(get("MAKE_RUN_EXIT"), "0", "{}", r.out);
    assert_eq!(get("loaded_after"), "0", "{}", r.out);
    let release = r
        .out
        .lines()
        .find_map(|l| l.strip_prefix("module_vermagic="))
        .expect("module vermagic");
    // The stale module is named as built for another kernel, with the rebuild command.
    let stale = get("stale_vermagic");
    assert!(!stale.is_empty() && stale != release, "{}", r.out);
    assert_ne!(get("stale_rc"), "0", "{}", r.out);
    assert!(r.out.contains(stale), "the stale release named:\n{}", r.out);
    assert!(r.out.contains("make module"), "the fix named:\n{}", r.out);
    assert!(!r.out.contains("Exec format error"), "{}", r.out);
    assert_eq!(get("loaded_stale"), "0", "{}", r.out);
}

#[test]
fn make_install_then_vmtop_from_anywhere_and_missing_headers() {
    let r = boot(
        r#"
cd /src
echo "== make install"
su dev -c 'make install' 2>&1 | tail -5
echo "installed_ko=$(ls /lib/modules/$R/updates/alloc_large_mem.ko* 2>/dev/null)"
echo "installed_bin=$(ls /usr/local/bin/vmtop 2>/dev/null)"
echo "dep=$(grep -c '^updates/alloc_large_mem' /lib/modules/$R/modules.dep)"
cd /tmp
su dev -c 'sudo vmtop status --json' | grep -o '"module_file": *"[^"]*"' | sed 's/"module_file": *"\(.*\)"/module_file=\1/'
su dev -c 'sudo vmtop load --memsize 64'; echo "load_rc=$?"
echo "loaded_installed=$(grep -c '^alloc_large_mem ' /proc/modules)"
su dev -c 'sudo vmtop unload'; echo "unload_rc=$?"
echo "loaded_after=$(grep -c '^alloc_large_mem ' /proc/modules)"
cd /src
echo "== make uninstall"
su dev -c 'make uninstall' >/dev/null 2>&1; echo "uninstall_rc=$?"
left=$(ls -d /usr/local/bin/vmtop /usr/local/libexec/vmtop /usr/local/share/vmtop /usr/local/share/man/man1/vmtop* \
  /usr/local/share/bash-completion/completions/vmtop /lib/modules/$R/updates/alloc_large_mem.ko* 2>/dev/null | wc -l)
echo "left_after_uninstall=$left"
echo "dep_after=$(grep -c alloc_large_mem /lib/modules/$R/modules.dep)"
echo "== no kernel headers"
rm /lib/modules/$R/build
su dev -c 'make run' 2>&1; echo "noheaders_rc=$?"
"#,
    );
    let v = r.vars();
    let get = |k: &str| v.get(k).map(String::as_str).unwrap_or("");
    assert!(
        get("installed_ko").contains("/updates/alloc_large_mem.ko"),
        "{}",
        r.out
    );
    assert_eq!(get("installed_bin"), "/usr/local/bin/vmtop", "{}", r.out);
    assert_eq!(get("dep"), "1", "{}", r.out);
    // Found by name for the running kernel, from a folder that is not the checkout.
    let file = get("module_file");
    assert!(
        file.starts_with("/lib/modules/") && file.contains("/updates/alloc_large_mem.ko"),
        "{}",
        r.out
    );
    assert_eq!(get("load_rc"), "0", "{}", r.out);
    assert_eq!(get("loaded_installed"), "1", "{}", r.out);
    assert_eq!(get("unload_rc"), "0", "{}", r.out);
    assert_eq!(get("loaded_after"), "0", "{}", r.out);
    assert_eq!(get("uninstall_rc"), "0", "{}", r.out);
    assert_eq!(get("left_after_uninstall"), "0", "{}", r.out);
    assert_eq!(get("dep_after"), "0", "{}", r.out);
    // No headers: the package named, and the lab offered.
    assert_ne!(get("noheaders_rc"), "0", "{}", r.out);
    assert!(r.out.contains("linux-headers-6."), "{}", r.out);
    assert!(r.out.contains("vmtop lab"), "{}", r.out);
}
