//! The dashboard on the build host, in tmux: read-only without module support or
//! privileges, and what a panic leaves of the terminal.

use crate::common::tmux::Tmux;
use crate::common::vmtop;

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
        if !std::path::Path::new("/proc/modules").exists() {
            assert!(s.contains("READ-ONLY"), "{s}");
            assert!(s.contains("without module"), "{s}");
            assert!(s.contains("vmtop lab"), "{s}");
            // Loading is refused in read-only mode, with the reason in the footer: wait for
            // that answer to the key, then no dialog may be open.
            t.keys(&["l"]);
            let s = t.wait_for("the refusal of l", 10, |s| s.contains("» READ-ONLY"));
            assert!(
                !s.contains("Load alloc_large_mem with"),
                "no load dialog when read-only:\n{s}"
            );
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
