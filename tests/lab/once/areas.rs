//! Issue 21, on the kernels it is about (each test picks its own):
//! - the 32-bit lab (1 GiB, a 120 MiB vmalloc window): `vmtop areas`' map before and after a
//!   100 MiB load, its largest free range `vmtop status`'s figure;
//! - the 6.12 lab (vmalloc:alloc_vmap_area, 6.2+): an address-space failure forced on
//!   x86_64 (a module with 1.5 GiB of .bss, more than the ~1 GiB module area holds, in a
//!   2 GiB VM so that RAM is not the limit), diagnosed from the kernel's event; vmtop's
//!   tracefs instance gone after SIGTERM, a panic and `q`, and a stale one (kill -9)
//!   removed by the next vmtop.

use crate::common::{json_after, lab, lab_expecting, lab_kernels, temp_dir, Expect};

const MIB: u64 = 1 << 20;

/// The first x86_64 lab kernel with the vmalloc trace events (Linux 6.2+).
fn traced_kernel() -> crate::common::LabKernel {
    let all = lab_kernels();
    all.iter()
        .find(|k| {
            let mut v = k.release.split('.').map(|n| n.parse::<u64>().unwrap_or(0));
            k.arch == "x86_64" && (v.next().unwrap_or(0), v.next().unwrap_or(0)) >= (6, 2)
        })
        .cloned()
        .unwrap_or_else(|| {
            panic!("no x86_64 lab kernel of 6.2 or later (make lab fetches 6.12): {all:?}")
        })
}

#[test]
fn lab_areas_32_bit_map_before_and_after_a_load() {
    let r = lab(
        // One CPU, as `vmtop replay` boots it: with two, QEMU's CPU model makes the 32-bit
        // kernel warn at boot ("not suitable for SMP"), which the health check rejects.
        &["--arch", "i386", "--mem", "1024", "--cpus", "1"],
        r#"
        mkdir -p /srv
        echo "== before"; vmtop areas --once --json
        echo "== status_before"; vmtop status --json
        echo "== map_before"; vmtop areas --once --top 5
        vmtop load --memsize 100 --json > /srv/load.json; echo load_rc=$?
        echo "== after"; vmtop areas --once --json
        echo "== status_after"; vmtop status --json
        echo "== map_after"; vmtop areas --once --top 5
        echo "== end"
        vmtop unload >/dev/null; echo unload_rc=$?
        "#,
    );
    assert_eq!(r.num("load_rc"), 0, "{}", r.out);
    let before = json_after(&r.out, "== before");
    let after = json_after(&r.out, "== after");
    let gap = |v: &serde_json::Value| {
        v["map"]["largest_free"]["size"]
            .as_u64()
            .unwrap_or_else(|| panic!("a map (32-bit: drawn unasked): {v}"))
    };
    let status_gap = |marker: &str| {
        let s = json_after(&r.out, marker);
        s["address_space"]["vmalloc_largest_free"]
            .as_u64()
            .unwrap_or_else(|| panic!("status' largest free range: {s}"))
    };
    // The map's largest free range is `vmtop status`'s figure, before and after.
    assert_eq!(gap(&before), status_gap("== status_before"), "{}", r.out);
    assert_eq!(gap(&after), status_gap("== status_after"), "{}", r.out);
    // The window is VmallocTotal (120 MiB with 1 GiB of RAM), the buffer in it, highlighted.
    let window =
        after["map"]["end"].as_u64().expect("end") - after["map"]["start"].as_u64().expect("start");
    assert_eq!(Some(window), after["vmalloc_total"].as_u64(), "{after}");
    let used = after["map"]["used"].as_array().expect("used ranges");
    let buffer: Vec<_> = used.iter().filter(|u| u["module"] == true).collect();
    assert_eq!(buffer.len(), 1, "{after}");
    let size =
        buffer[0]["end"].as_u64().expect("end") - buffer[0]["start"].as_u64().expect("start");
    assert_eq!(size, 100 * MIB + 4096, "{after}");
    // Only the largest free range could hold it: it took its bottom, first fit.
    assert_eq!(
        buffer[0]["start"], before["map"]["largest_free"]["start"],
        "{}",
        r.out
    );
    assert_eq!(gap(&after), gap(&before) - (100 * MIB + 4096), "{}", r.out);
    assert!(
        crate::common::section(&r.out, "== map_after").contains('#'),
        "{}",
        r.out
    );
    eprintln!("{}", crate::common::section(&r.out, "== map_before"));
    eprintln!("{}", crate::common::section(&r.out, "== map_after"));
}

#[test]
fn lab_areas_traced_failure_and_the_instance_lifecycle() {
    let k = traced_kernel();
    // The module with 1.5 GiB of .bss: less than the VM's 2 GiB of RAM (the kernel's first
    // check passes), more than the module area holds.
    let dir = temp_dir("areas-bss");
    let ko = build_module_with(&k, dir.path(), "\n/* vmtop's lab test: more .bss than the module area holds. */\nstatic char lab_test_bss[1536UL << 20] __used;\n");
    let copy = format!("{}:/srv/bigbss.ko", ko.display());
    let release = format!("--kernel-release={}", k.release);
    let r = lab_expecting(
        &[&release, "--mem", "2048", "--copy", &copy],
        r#"
        I=/sys/kernel/tracing/instances
        n() { ls $I | grep -c '^vmtop$'; }
        # Wait (10 s at most) for vmtop's instance to appear, then note it in $1.
        seen() { i=0; while [ $i -lt 100 ]; do [ -d $I/vmtop ] && { echo 1 > "$1"; return; }; sleep 0.1; i=$((i+1)); done; echo 0 > "$1"; }
        dash() { setsid cttyhack sh -c "stty rows 30 cols 120; $1" > /dev/null 2>&1; }

        vmtop load --memsize 8 --module /srv/bigbss.ko --json > /srv/big.json; echo big_rc=$?
        echo "== big"; cat /srv/big.json
        echo "== end"
        echo "after_load=$(n)"

        # SIGTERM (timeout's) ends the dashboard: the instance goes with it.
        seen /srv/seen_term & dash "timeout 10 vmtop --yes"; wait
        echo; echo "seen_term=$(cat /srv/seen_term) after_term=$(n)"

        # A panic in the engine thread (VMTOP_TEST_PANIC, test-hooks builds): the hook removes it.
        seen /srv/seen_panic & dash "VMTOP_TEST_PANIC=engine timeout 30 vmtop --yes; echo \$? > /srv/panic_rc"; wait
        echo; echo "seen_panic=$(cat /srv/seen_panic) panic_rc=$(cat /srv/panic_rc) after_panic=$(n)"

        # kill -9 leaves it behind; the next vmtop removes it and says so.
        seen /srv/seen_kill & dash "timeout -s KILL 8 vmtop --yes"; wait
        echo; echo "seen_kill=$(cat /srv/seen_kill) after_kill=$(n)"
        setsid cttyhack sh -c "stty rows 30 cols 160; timeout 8 vmtop --yes"
        echo; echo "after_next=$(n)"
        "#,
        Expect::default(),
    );
    // The diagnosis: certain, from the event, the event quoted.
    assert_eq!(r.num("big_rc"), 1, "{}", r.out);
    let big = json_after(&r.out, "== big");
    let d = &big["event"]["outcome"]["diagnosis"];
    assert_eq!(d["cause"], "address_space_exhausted", "{big}");
    assert_eq!(d["confidence"], "certain", "{big}");
    let ev = d["evidence"][0].as_str().expect("evidence");
    assert!(
        ev.contains("alloc_vmap_area: va_start:") && ev.ends_with("failed=1"),
        "{ev}"
    );
    assert!(
        ev.contains("vend=0xffffffffff000000"),
        "the module area's end: {ev}"
    );
    let failed = big["vmap_trace"]["failed"]
        .as_array()
        .expect("recorded failures");
    assert!(!failed.is_empty(), "{big}");
    let size = failed[0]["size"].as_u64().expect("size");
    assert!(
        size > 1536 * MIB && size < 1600 * MIB,
        "the .bss and the module: {size}"
    );
    assert!(
        d["summary"]
            .as_str()
            .expect("summary")
            .contains("module area"),
        "{d}"
    );
    eprintln!("{}", d);

    assert_eq!(r.num("after_load"), 0, "{}", r.out);
    assert_eq!(
        (r.num("seen_term"), r.num("after_term")),
        (1, 0),
        "{}",
        r.out
    );
    assert_eq!(r.num("panic_rc"), 101, "{}", r.out);
    assert_eq!(
        (r.num("seen_panic"), r.num("after_panic")),
        (1, 0),
        "{}",
        r.out
    );
    assert_eq!(
        (r.num("seen_kill"), r.num("after_kill")),
        (1, 1),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("an earlier vmtop left behind"),
        "the next vmtop's notice:\n{}",
        r.out
    );
    assert_eq!(r.num("after_next"), 0, "{}", r.out);
}

/// Quit with `q`, typed into the dashboard in tmux (the Debian root has tmux; the busybox
/// lab's console cannot be typed into from a script).
#[test]
fn lab_areas_instance_gone_after_q() {
    let k = traced_kernel();
    let release = format!("--kernel-release={}", k.release);
    let r = lab(
        &[&release, "--root", "debian"],
        r#"
        I=/sys/kernel/tracing/instances
        tmux new-session -d -s q -x 120 -y 30 "/src/target/release/vmtop --yes"
        i=0; while [ $i -lt 60 ] && ! tmux capture-pane -p -t q | grep -q 'not loaded'; do sleep 1; i=$((i+1)); done
        echo "during=$(ls $I | grep -c '^vmtop$')"
        tmux send-keys -t q q
        i=0; while [ $i -lt 30 ] && tmux has-session -t q 2>/dev/null; do sleep 1; i=$((i+1)); done
        echo "running=$(pgrep -xc vmtop)"
        echo "after_q=$(ls $I | grep -c '^vmtop$')"
        "#,
    );
    assert_eq!(r.num("during"), 1, "{}", r.out);
    assert_eq!(r.num("running"), 0, "vmtop ended:\n{}", r.out);
    assert_eq!(r.num("after_q"), 0, "{}", r.out);
}

/// The module from kmod-src with `extra` appended to its source, built for `k` in `dir`.
fn build_module_with(
    k: &crate::common::LabKernel,
    dir: &std::path::Path,
    extra: &str,
) -> std::path::PathBuf {
    let src = crate::common::repo().join("kmod-src");
    let mut c = std::fs::read_to_string(src.join("alloc_large_mem.c")).expect("kmod-src");
    c.push_str(extra);
    std::fs::write(dir.join("alloc_large_mem.c"), c).expect("writing the source");
    std::fs::copy(src.join("Kbuild"), dir.join("Kbuild")).expect("copying Kbuild");
    crate::common::run_ok(
        std::process::Command::new("make")
            .arg("-C")
            .arg(&k.kdir)
            .arg(format!("M={}", dir.display()))
            .arg("modules"),
    );
    let ko = dir.join("alloc_large_mem.ko");
    assert!(ko.is_file(), "{} built", ko.display());
    ko
}
