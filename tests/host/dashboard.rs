//! The dashboard on the build host, in tmux: read-only without module support or
//! privileges, and what a panic leaves of the terminal.

use crate::common::tmux::Tmux;
use crate::common::vmtop;

/// What the kernel will say to a load from this process, from the kernel's own files (not
/// vmtop's): None without module support (no /proc/modules), else whether it may load
/// (CAP_SYS_MODULE in CapEff, loading not switched off, not in a user namespace).
fn may_load() -> Option<bool> {
    if !std::path::Path::new("/proc/modules").exists() {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|h| u64::from_str_radix(h.trim(), 16).expect("hex mask"))
        .expect("CapEff line");
    let uid_map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    let initial_ns = uid_map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"];
    Some((eff >> 16) & 1 == 1 && !modules_disabled() && initial_ns)
}

fn modules_disabled() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/modules_disabled").is_ok_and(|s| s.trim() == "1")
}

#[test]
fn host_dashboard_is_read_only_and_quits_cleanly() {
    for (cols, rows) in [(80u16, 24u16), (160, 45)] {
        let t = Tmux::start(
            &format!("vmtop-host-{cols}"),
            cols,
            rows,
            &format!("{} --interval 100ms; echo EXITED=$?", vmtop()),
        );
        let s = t.wait_for("the dashboard", 10, |s| {
            s.contains("MemAvailable") && s.contains("VmallocUsed")
        });
        match may_load() {
            // The build machines: no CONFIG_MODULES. Read-only, the reason and a way out.
            None => {
                assert!(s.contains("READ-ONLY"), "{s}");
                assert!(s.contains("without module"), "{s}");
                assert!(s.contains("vmtop lab"), "{s}");
                // Loading is refused in read-only mode, with the reason in the footer: wait
                // for that answer to the key, then no dialog may be open.
                t.keys(&["l"]);
                let s = t.wait_for("the refusal of l", 10, |s| s.contains("» READ-ONLY"));
                assert!(
                    !s.contains("Load alloc_large_mem with"),
                    "no load dialog when read-only:\n{s}"
                );
            }
            // Module support, and this process may load (root with CAP_SYS_MODULE): the
            // dashboard offers loading (nothing is loaded: the test only looks).
            Some(true) => assert!(!s.contains("READ-ONLY"), "{s}"),
            // Module support without the right to load: read-only, and the reason (in full
            // at 160 columns).
            Some(false) => {
                assert!(s.contains("READ-ONLY"), "{s}");
                let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
                let reason = if modules_disabled() {
                    "modules_disabled"
                } else if nix::unistd::geteuid().is_root() {
                    "CAP_SYS_MODULE"
                } else {
                    "sudo vmtop"
                };
                assert!(cols < 160 || flat.contains(reason), "{reason}:\n{s}");
            }
        }
        t.keys(&["q"]);
        let s = t.wait_for("exit", 10, |s| s.contains("EXITED=") || t.dead());
        assert!(!s.contains("EXITED=") || s.contains("EXITED=0"), "{s}");
        assert!(t.dead_status() == Some(0) || s.contains("EXITED=0"), "{s}");
        // Alternate screen left: the dashboard is gone from the pane.
        assert!(!s.contains("Kernel log"), "terminal not restored:\n{s}");
    }
}

/// A panic in a worker thread restores the terminal (raw mode off, main screen back) and
/// ends vmtop with 101: the dashboard does not go on drawing in cooked mode.
#[test]
fn host_worker_panic_restores_the_terminal_and_stops() {
    let t = Tmux::start(
        "vmtop-panic",
        100,
        30,
        &format!(
            "VMTOP_TEST_PANIC=engine {} --interval 100ms; echo EXITED=$?; stty -a | grep -o -- '-\\?icanon' | sed 's/^/MODE=/'",
            vmtop()
        ),
    );
    let s = t.wait_for("the exit", 30, |s| s.contains("MODE="));
    assert!(s.contains("EXITED=101"), "{s}");
    assert!(s.contains("MODE=icanon"), "cooked mode back:\n{s}");
    assert!(
        s.contains("VMTOP_TEST_PANIC=engine"),
        "the panic message:\n{s}"
    );
    assert!(s.contains("the engine thread panicked"), "{s}");
    assert!(
        !s.contains("Kernel log"),
        "no dashboard drawn after the panic:\n{s}"
    );
}
