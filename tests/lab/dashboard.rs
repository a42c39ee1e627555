//! The dashboard used as a person would, inside the lab VM: in tmux, keys typed with
//! send-keys, the screen read with capture-pane.

use crate::common::tmux::{mib_after, widest, Tmux};
use crate::common::{temp_dir, vmtop, HEALTH, PRELUDE};

#[test]
fn lab_dashboard_load_fail_unload_quit() {
    let t = Tmux::start(
        "vmtop-lab",
        100,
        30,
        &format!("{} lab -- --yes --interval 250ms; echo EXITED=$?", vmtop()),
    );
    let s = t.wait_for("the dashboard in the VM", 120, |s| {
        s.contains("VmallocUsed") && s.contains("not loaded")
    });
    let base = mib_after(&s, "VmallocUsed").expect("VmallocUsed on screen");
    assert!(widest(&s) <= 100, "{s}");
    // Resize the host terminal: the dashboard in the VM follows (forwarded over ttyS1).
    t.resize(140, 40);
    t.wait_for("the dashboard redrawn at 140x40", 60, |s| {
        widest(s) > 100 && s.lines().count() >= 40 && s.contains("VmallocUsed")
    });
    // Type a memsize, set it, load (--yes: no confirmation).
    t.keys(&["2", "0", "0", "Enter", "l"]);
    let s = t.wait_for("200 MiB loaded", 120, |s| {
        s.contains("Events (1)") && mib_after(s, "VmallocUsed").is_some_and(|v| v >= base + 200.0)
    });
    assert!(s.contains("▲"), "load marker on screen:\n{s}");
    // Ask for more than the VM's RAM: reload unloads, then the load fails.
    t.keys(&["2", "0", "0", "0", "Enter", "r"]);
    // The VM's screen comes over a serial line: wait for a whole frame (the banner and the
    // chart's figure), not the first bytes of it.
    let s = t.wait_for("the failure banner", 120, |s| {
        s.contains("LOAD FAILED") && mib_after(s, "VmallocUsed").is_some()
    });
    assert!(s.contains("more than all RAM"), "diagnosis on screen:\n{s}");
    assert!(s.contains("✗"), "failure marker:\n{s}");
    let after = mib_after(&s, "VmallocUsed").expect("VmallocUsed");
    assert!(
        after < base + 50.0,
        "the 200 MiB were unloaded: {after} MiB"
    );
    // The whole diagnosis, with the kernel line it rests on; Esc closes it, not the banner.
    t.keys(&["w"]);
    let s = t.wait_for("the why overlay", 30, |s| s.contains("How sure:"));
    assert!(s.contains("Why the load of 2000 MiB"), "{s}");
    assert!(
        s.contains("memsize_mib=2000"),
        "the module's log line:\n{s}"
    );
    t.keys(&["Escape"]);
    let s = t.wait_for("the overlay closed", 30, |s| !s.contains("How sure:"));
    assert!(s.contains("LOAD FAILED"), "{s}");
    t.keys(&["Escape", "q"]);
    let s = t.wait_for("the VM to power off", 60, |s| s.contains("EXITED="));
    assert!(s.contains("EXITED=0"), "{s}");
}

#[test]
fn lab_dashboard_adopts_a_module_loaded_by_hand() {
    // insmod first, then the dashboard on the VM console for 12 s (SIGTERM from timeout
    // ends it): the event log shows the adoption, and on the way out vmtop says the
    // module is still loaded (SIGTERM does not unload).
    let r = crate::common::lab(
        &[],
        r#"
        insmod /lab/alloc_large_mem.ko memsize=32
        setsid cttyhack sh -c "stty rows 30 cols 120; timeout 12 vmtop --yes"
        echo still_loaded=$(loaded)
        "#,
    );
    assert!(
        r.out.contains("adopt"),
        "adoption in the event log:\n{}",
        r.out
    );
    assert!(r.out.contains("still loaded (holding 32 MiB)"), "{}", r.out);
    assert_eq!(r.num("still_loaded"), 1);
}

/// Quitting during a load: `q` right after `y` on a 700 MiB load asks whether to stop the
/// loader or wait; stopping (the default, also `q` again) leaves neither the module loaded
/// nor a loader running, checked in the VM with /proc/modules and pidof once vmtop is gone.
/// In the same boot, without the dashboard: `vmtop load` killed with SIGTERM while the
/// module's init runs stops its loader and says so, and `vmtop unload` meanwhile says why it
/// cannot (the module is still loading). "Loading" is read from /proc/modules, not timed.
///
/// The script runs on the VM's console through `--copy ...:/lab/exec.sh` (the lab's init
/// runs that file instead of the dashboard), so the keys typed into tmux reach it.
#[test]
fn lab_quit_during_a_load_stops_the_loader() {
    let tmp = temp_dir("quit");
    let script = tmp.path().join("exec.sh");
    std::fs::write(
        &script,
        [
            PRELUDE,
            r#"
state() { awk '$1 == "alloc_large_mem" { print $5 }' /proc/modules; }
kmods() { pidof vmtop-kmod | wc -w; }
setsid cttyhack sh -c "stty rows 30 cols 100; vmtop --memsize 700 --interval 250ms 2>/tmp/dash.err"
echo "dashboard-gone: loaded=$(loaded) kmod=$(kmods)"
sed 's/^/dash-stderr: /' /tmp/dash.err
# vmtop load, TERM while the module's init fills its buffer.
vmtop load --memsize 700 >/tmp/load.out 2>&1 &
pid=$!
n=0; while [ "$(state)" != Loading ] && [ $n -lt 600 ]; do n=$((n+1)); usleep 20000; done
echo "seen-state=$(state)"
vmtop unload >/tmp/unload.out 2>&1; echo "unload-while-loading=$?"
sed 's/^/unload-out: /' /tmp/unload.out
kill -TERM $pid; wait $pid; echo "load-term-exit=$?"
sed 's/^/load-out: /' /tmp/load.out
echo "after-term: loaded=$(loaded) kmod=$(kmods)"
dmesg | grep 'alloc_large_mem: fail' | sed 's/^/kmsg: /'
"#,
            HEALTH,
            "echo ALL-DONE\n",
        ]
        .concat(),
    )
    .expect("writing the VM script");
    // Taller than the dashboard (30 rows): the script's report must stay on screen.
    let t = Tmux::start(
        "vmtop-quit",
        100,
        60,
        &format!(
            "{} lab --copy {}:/lab/exec.sh; echo EXITED=$?",
            vmtop(),
            script.display()
        ),
    );
    t.wait_for("the dashboard in the VM", 120, |s| {
        s.contains("VmallocUsed") && s.contains("not loaded")
    });
    t.keys(&["l"]);
    t.wait_for("the load dialog", 30, |s| {
        s.contains("Load alloc_large_mem with 700 MiB?")
    });
    t.keys(&["y", "q"]);
    let s = t.wait_for("the quit dialog", 30, |s| s.contains("Quit while loading"));
    assert!(
        s.contains("700 MiB"),
        "the dialog names the load in flight:\n{s}"
    );
    assert!(s.contains("stop it and quit"), "{s}");
    // The default: q again stops the loader.
    t.keys(&["q"]);
    let s = t.wait_for("the script's end", 240, |s| s.contains("ALL-DONE"));
    assert!(
        s.contains("dashboard-gone: loaded=0 kmod=0"),
        "nothing left after quitting:\n{s}"
    );
    assert!(
        s.contains("dash-stderr: vmtop: Loading 700 MiB cancelled"),
        "the dashboard said what it stopped:\n{s}"
    );
    assert!(s.contains("seen-state=Loading"), "{s}");
    assert!(s.contains("unload-while-loading=1"), "{s}");
    assert!(s.contains("still loading"), "unload says why:\n{s}");
    assert!(s.contains("load-term-exit=1"), "{s}");
    assert!(s.contains("cancelled"), "vmtop load reports the stop:\n{s}");
    assert!(s.contains("cancelled by SIGTERM"), "and why:\n{s}");
    assert!(
        s.contains("after-term: loaded=0 kmod=0"),
        "nothing left after SIGTERM:\n{s}"
    );
    assert!(
        s.contains("bad_kernel_lines=0"),
        "the kernel log shows a problem:\n{s}"
    );
    let s = t.wait_for("the VM to power off", 60, |s| s.contains("EXITED="));
    assert!(s.contains("EXITED=0"), "{s}");
}

/// The allocator key, the buddyinfo pane and the buffer's contiguity line at 80x24, with
/// real keys on the real kernel: `a a` picks kmalloc (header and confirmation say so), 8 MiB
/// fails and the diagnosis is the kmalloc limit, from the kernel's evidence; `a` picks
/// pages, 4 MiB loads as one physically contiguous run; `b` shows /proc/buddyinfo, and its
/// numbers are those the VM's /proc/buddyinfo held at one moment of the same boot (a loop
/// in the VM logs every change of the file while the dashboard runs).
#[test]
fn lab_dashboard_allocators_and_buddyinfo() {
    let tmp = temp_dir("alloc");
    let script = tmp.path().join("exec.sh");
    std::fs::write(
        &script,
        [
            PRELUDE,
            r#"
( prev=; while :; do cur=$(cat /proc/buddyinfo); if [ "$cur" != "$prev" ]; then echo "$cur"; echo "@@"; prev=$cur; fi; usleep 50000; done ) >/tmp/bi.log 2>&1 &
bg=$!
setsid cttyhack sh -c "stty rows 24 cols 80; vmtop --interval 250ms 2>/tmp/dash.err"
kill $bg
echo "dashboard-gone: loaded=$(loaded)"
sed 's/^/dash-stderr: /' /tmp/dash.err
# Spaces squeezed: the lines must not wrap on the 80-column console.
tr -s ' ' </tmp/bi.log | sed 's/^/bi: /'
echo "bi-states=$(grep -c '^@@' /tmp/bi.log)"
dmesg | grep 'alloc_large_mem: fail' | sed 's/^/kmsg: /'
"#,
            HEALTH,
            "echo ALL-DONE\n",
        ]
        .concat(),
    )
    .expect("writing the VM script");
    let t = Tmux::start(
        "vmtop-alloc",
        80,
        60,
        &format!(
            "{} lab --copy {}:/lab/exec.sh; echo EXITED=$?",
            vmtop(),
            script.display()
        ),
    );
    // The dashboard's 24 rows, without what the script prints below them later.
    let dash = |s: &str| s.lines().take(24).collect::<Vec<_>>().join("\n");
    t.wait_for("the dashboard in the VM", 120, |s| {
        s.contains("VmallocUsed") && s.contains("not loaded")
    });
    // vmalloc → kvmalloc → kmalloc.
    t.keys(&["a", "a"]);
    let s = t.wait_for("kmalloc in the header", 30, |s| {
        dash(s)
            .lines()
            .next()
            .is_some_and(|l| l.contains("alloc=kmalloc"))
    });
    assert!(widest(&dash(&s)) <= 80, "{s}");
    t.keys(&["8", "Enter", "l"]);
    let s = dash(&t.wait_for("the kmalloc load dialog", 30, |s| {
        s.contains("Load alloc_large_mem with 8 MiB (kmalloc)?")
    }));
    assert!(s.contains("alloc=kmalloc"), "the parameter:\n{s}");
    assert!(s.contains("expect kmalloc to fail"), "the prediction:\n{s}");
    t.keys(&["y"]);
    let s = dash(&t.wait_for("the kmalloc failure", 120, |s| s.contains("LOAD FAILED")));
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Asked 8 MiB from kmalloc, above KMALLOC_MAX_SIZE 4.00 MiB"),
        "diagnosed as the kmalloc limit:\n{s}"
    );
    eprintln!("--- the kmalloc 8 MiB failure at 80x24 ---\n{s}");
    // The kernel's evidence behind it.
    t.keys(&["w"]);
    let s = dash(&t.wait_for("the why overlay", 30, |s| s.contains("How sure:")));
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    // Refused by the module as a parameter, before asking the kernel (no WARNING).
    assert!(
        flat.contains("stage=param") && flat.contains("alloc=kmalloc"),
        "the module's fail line:\n{s}"
    );
    t.keys(&["Escape", "Escape"]);
    // kmalloc → pages, 4 MiB: one block of order 10.
    t.keys(&["a"]);
    t.wait_for("pages in the header", 30, |s| {
        dash(s)
            .lines()
            .next()
            .is_some_and(|l| l.contains("alloc=pages"))
    });
    t.keys(&["4", "Enter", "l"]);
    let s = dash(&t.wait_for("the pages load dialog", 30, |s| {
        s.contains("Load alloc_large_mem with 4 MiB (pages)?")
    }));
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("one block of order 10"), "{s}");
    assert!(
        flat.contains("free blocks of order 10 (4.00 MiB) or more now"),
        "{s}"
    );
    t.keys(&["y"]);
    let s = dash(&t.wait_for("the pages buffer loaded", 120, |s| {
        s.contains("LOADED 4 MiB") && s.contains("buffer pages")
    }));
    let line = s
        .lines()
        .find(|l| l.starts_with("buffer pages"))
        .expect("the contiguity line");
    assert!(
        line.contains("buffer pages 4.00 MiB: 1 run, largest 4.00 MiB"),
        "{line}"
    );
    assert!(line.contains("1024"), "1024 pages in one zone: {line}");
    // The event says where the memory went: MemFree, as the block is not vmalloc's.
    assert!(s.contains("pages: MemFree -"), "{s}");
    // The buddyinfo pane.
    t.keys(&["b"]);
    let s = dash(&t.wait_for("the buddyinfo pane", 30, |s| {
        s.contains("Free blocks per order")
    }));
    assert!(widest(&s) <= 80, "{s}");
    let pane: Vec<Vec<String>> = s
        .lines()
        .filter(|l| l.starts_with("N0 "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert!(!pane.is_empty(), "zones in the pane:\n{s}");
    eprintln!("--- the pages load and the buddyinfo pane at 80x24 ---\n{s}");
    // Quit: asked whether to unload; yes.
    t.keys(&["q"]);
    t.wait_for("the unload question", 30, |s| {
        s.contains("Unload alloc_large_mem before quitting?")
    });
    t.keys(&["y"]);
    t.wait_for("the script's end", 120, |s| s.contains("ALL-DONE"));
    let out = t.history();
    assert!(
        out.contains("dashboard-gone: loaded=0"),
        "unloaded on quit:\n{out}"
    );
    assert!(
        out.contains("bad_kernel_lines=0"),
        "the kernel log shows a problem:\n{out}"
    );
    // Every state /proc/buddyinfo went through, as the pane would show it: "N0 DMA32" and
    // the counts, `·` for none.
    let text: String = out
        .lines()
        .filter_map(|l| l.strip_prefix("bi: "))
        .map(|l| format!("{l}\n"))
        .collect();
    let states: Vec<Vec<Vec<String>>> = text
        .split("@@\n")
        .filter(|st| st.contains("Node"))
        .map(|st| {
            st.lines()
                .map(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    let mut row =
                        vec![format!("N{}", w[1].trim_end_matches(',')), w[3].to_string()];
                    row.extend(w[4..].iter().map(|n| {
                        if *n == "0" {
                            "·".to_string()
                        } else {
                            n.to_string()
                        }
                    }));
                    row
                })
                .collect()
        })
        .collect();
    assert!(!states.is_empty(), "the VM logged /proc/buddyinfo:\n{out}");
    // The pane's rows end with the largest free order; the counts before it.
    let shown: Vec<Vec<String>> = pane.iter().map(|r| r[..r.len() - 1].to_vec()).collect();
    eprintln!(
        "{} states of /proc/buddyinfo logged in the VM; the pane showed {shown:?}",
        states.len()
    );
    assert!(
        states.contains(&shown),
        "the pane shows {shown:?}, which /proc/buddyinfo never held in this boot: {states:?}"
    );
    for r in &pane {
        let counts = &r[2..r.len() - 1];
        let top = counts.iter().rposition(|c| c != "·").expect("a free block");
        assert_eq!(
            r[r.len() - 1],
            top.to_string(),
            "largest free order of {r:?}"
        );
    }
    let s = t.wait_for("the VM to power off", 60, |s| s.contains("EXITED="));
    assert!(s.contains("EXITED=0"), "{s}");
}
