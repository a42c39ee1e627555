//! Safe mode refuses before it allocates what the figures at the call already rule out
//! (kmod-src/README.md, "What safe mode guarantees"). With swap (zram) and page cache to lose,
//! a safe-mode load of MemAvailable + 100 MiB must be refused with nothing allocated, and
//! must leave the kernel's reclaim and OOM counters where they were: no page swapped out,
//! no direct reclaim, no OOM kill. The VM is set up by scripts/safe-mode-proof.sh (Debian's
//! zram module from the lab kernel's package, 1 GiB of swap, 400 MiB of block-device page
//! cache, a 200 MiB tmpfs working set).

use std::collections::HashMap;
use std::process::Command;

use crate::common::{lab_kernel, repo, run, vmtop, KERNEL_BAD};

/// The `key=value` words of the first line starting with `prefix`.
fn fields(out: &str, prefix: &str) -> HashMap<String, String> {
    let line = out
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?}:\n{out}"));
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn num(f: &HashMap<String, String>, key: &str, what: &str) -> u64 {
    let v = f
        .get(key)
        .unwrap_or_else(|| panic!("{key} missing from the {what} line: {f:?}"));
    v.parse()
        .unwrap_or_else(|_| panic!("{key}={v} is not a number ({what})"))
}

#[test]
fn a_refused_safe_load_swaps_reclaims_and_kills_nothing() {
    let kernel = lab_kernel();
    let o = run(Command::new("sh")
        .arg(repo().join("scripts/safe-mode-proof.sh"))
        .arg(&kernel.release)
        .arg("avail+100")
        .env("VMTOP", vmtop()));
    assert_eq!(o.status, 0, "the proof script ended with {}", o.status);
    let out = &o.stdout;
    // The swap and the page cache were there to lose.
    let before_mem = fields(out, "MEMINFO before-");
    assert!(
        num(&before_mem, "SwapTotal", "MEMINFO") >= 512 * 1024,
        "swap on zram0: {before_mem:?}"
    );
    assert!(
        num(&before_mem, "Buffers", "MEMINFO") + num(&before_mem, "Cached", "MEMINFO")
            >= 300 * 1024,
        "page cache to lose: {before_mem:?}"
    );
    // Refused before allocating, by the reserve, and vmtop says nothing was allocated.
    let load = out
        .lines()
        .find(|l| l.starts_with("LOAD "))
        .unwrap_or_else(|| panic!("no LOAD line:\n{out}"));
    assert!(!load.ends_with("rc=0"), "the load must fail: {load}");
    let kline = fields(out, "KLINE ");
    assert_eq!(
        kline.get("stage").map(String::as_str),
        Some("reserve"),
        "{kline:?}"
    );
    assert_eq!(
        kline.get("allocated").map(String::as_str),
        Some("0"),
        "{kline:?}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("JSON ") && l.contains("\"allocated\": false")),
        "vmtop load --json says nothing was allocated:\n{out}"
    );
    // The kernel's own counters did not move.
    let before = fields(out, "VMSTAT before-");
    let after = fields(out, "VMSTAT after-");
    for key in ["pswpout", "pgsteal_direct", "oom_kill"] {
        assert_eq!(
            num(&before, key, "VMSTAT before"),
            num(&after, key, "VMSTAT after"),
            "{key} moved across a refused safe-mode load"
        );
    }
    let bad: Vec<&str> = out.lines().filter(|l| l.starts_with("KERN ")).collect();
    assert!(
        bad.is_empty(),
        "the kernel log shows an OOM kill or a problem ({KERNEL_BAD}): {bad:?}"
    );
}
