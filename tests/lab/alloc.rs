//! Issue 11: the allocators side by side on the lab kernel. kmalloc and alloc_pages stop at
//! the limits the module publishes (as the kernel was built), kvmalloc falls back to vmalloc
//! above them, vmalloc goes on to the RAM limit; the contiguity figures come from the real
//! buffer (checked against /proc/vmallocinfo); and the fragmentation demo
//! (scripts/fragment-demo.sh). One boot.

use crate::common::{json_after, lab, repo, section};

fn rows<'a>(v: &'a serde_json::Value, alloc: &str) -> Vec<&'a serde_json::Value> {
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["alloc"] == alloc)
        .collect()
}

fn num(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Free blocks of each order, per zone, from /proc/buddyinfo text.
fn buddy(text: &str) -> Vec<(String, Vec<u64>)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.split_once("zone")?.1;
            let mut f = rest.split_whitespace();
            let zone = f.next()?.to_string();
            Some((zone, f.map(|n| n.parse().expect("count")).collect()))
        })
        .collect()
}

#[test]
fn allocators_limits_contiguity_and_fragmentation() {
    let demo = repo().join("scripts/fragment-demo.sh");
    let copy = format!("{}:/lab/fragment-demo.sh", demo.display());
    let r = lab(
        &["--copy", &copy],
        r#"
        echo "== compare"; vmtop compare --json; echo compare_rc=$?
        echo "== table"; vmtop compare --memsize 4M,8M
        echo "== ram"; vmtop compare --alloc vmalloc,kvmalloc,pages --memsize 700M,2000M --json
        echo "== v256"; vmtop load --memsize 256 --json
        echo "== vmallocinfo"; grep "pages=" /proc/vmallocinfo
        echo "== unload"; vmtop unload
        echo "== demo"; sh /lab/fragment-demo.sh 10 4
        echo "== end"
        "#,
    );

    // 1. The limits the module published, and each allocator against them.
    let c = json_after(&r.out, "== compare");
    assert_eq!(r.num("compare_rc"), 0);
    let lim = &c["limits"];
    let page = num(&lim["page_size"]);
    let kmax = num(&lim["kmalloc_max_size"]);
    let max_block = page << num(&lim["max_order"]);
    assert!(page >= 4096 && kmax >= page, "{lim}");
    let mib = 1u64 << 20;
    for alloc in ["kmalloc", "pages"] {
        let limit = if alloc == "kmalloc" { kmax } else { max_block };
        let rs = rows(&c, alloc);
        assert_eq!(rs.len(), 4, "{c}");
        for row in rs {
            let bytes = num(&row["memsize_mib"]) * mib;
            if bytes <= limit {
                assert_eq!(row["ok"], true, "{alloc} {row}");
                // One block by construction, and the walk of the real pages agrees.
                assert_eq!(row["layout"]["runs"], 1, "{row}");
                assert_eq!(num(&row["layout"]["largest_run_bytes"]), bytes, "{row}");
                assert_eq!(row["layout"]["backing"], "linear", "{row}");
            } else {
                assert_eq!(row["ok"], false, "{alloc} {row}");
                let want = if alloc == "kmalloc" {
                    "kmalloc_above_max"
                } else {
                    "order_above_max"
                };
                assert_eq!(row["cause"], want, "{row}");
                // Refused by the module as a parameter, before any allocation, with the
                // allocator's limit (the kernel would WARN on it without __GFP_NOWARN).
                let line = row["log_line"].as_str().unwrap_or("");
                assert!(
                    line.contains(&format!("stage=param allocated=0 alloc={alloc} "))
                        && line.contains(&format!("limit_bytes={limit}")),
                    "{row}"
                );
            }
        }
    }
    // kvmalloc: kmalloc up to its limit, vmalloc above.
    for row in rows(&c, "kvmalloc") {
        assert_eq!(row["ok"], true, "{row}");
        let bytes = num(&row["memsize_mib"]) * mib;
        let want = if bytes <= kmax { "linear" } else { "vmalloc" };
        assert_eq!(row["layout"]["backing"], want, "{row}");
    }
    // vmalloc: every size; its pages are scattered (more than one run at 256 MiB).
    for row in rows(&c, "vmalloc") {
        assert_eq!(row["ok"], true, "{row}");
    }
    let v = rows(&c, "vmalloc");
    let big = v
        .iter()
        .find(|r| r["memsize_mib"] == 256)
        .expect("vmalloc 256");
    assert!(num(&big["layout"]["runs"]) > 1, "{big}");
    assert!(
        num(&big["layout"]["largest_run_bytes"]) < 256 * mib,
        "{big}"
    );

    let table = section(&r.out, "== table");
    assert!(table.contains("KMALLOC_MAX_SIZE"), "{table}");
    assert!(table.contains("FAILED"), "{table}");

    // 2. Up to the RAM limit: vmalloc and kvmalloc take 700 MiB, alloc_pages cannot;
    // 2000 MiB is more than the VM's RAM for every one of them.
    let ram = json_after(&r.out, "== ram");
    for row in ram["rows"].as_array().expect("rows") {
        let (alloc, size) = (
            row["alloc"].as_str().unwrap_or(""),
            num(&row["memsize_mib"]),
        );
        match (alloc, size) {
            ("vmalloc" | "kvmalloc", 700) => assert_eq!(row["ok"], true, "{row}"),
            ("vmalloc" | "kvmalloc", 2000) => {
                assert_eq!(row["cause"], "exceeds_total_pages", "{row}")
            }
            ("pages", _) => assert_eq!(row["cause"], "order_above_max", "{row}"),
            _ => panic!("unexpected row {row}"),
        }
    }

    // 3. The contiguity figures of a 256 MiB vmalloc buffer come from its real pages: the
    // zone counts add up to the buffer, and the kernel's own /proc/vmallocinfo line for the
    // area gives the same page count per node.
    let v256 = json_after(&r.out, "== v256");
    let l = &v256["layout"];
    let pages = 256 * mib / page;
    let zone_sum: u64 = l["zones"]
        .as_str()
        .expect("zones")
        .split(',')
        .map(|z| {
            z.rsplit_once(':')
                .expect("zone:pages")
                .1
                .parse::<u64>()
                .expect("pages")
        })
        .sum();
    assert_eq!(zone_sum, pages, "{l}");
    // The module's init code is freed after loading, so the area's caller is a bare
    // address: the area is the one of 256 MiB plus its guard page.
    let info = section(&r.out, "== vmallocinfo");
    let area = info
        .lines()
        .find(|a| a.contains(&format!(" {} ", 256 * mib + page)))
        .unwrap_or_else(|| panic!("no 256 MiB area in {info}"));
    assert!(area.contains(&format!("pages={pages} ")), "{area}");
    for node in l["nodes"].as_str().expect("nodes").split(',') {
        let (n, p) = node.split_once(':').expect("node:pages");
        assert!(area.contains(&format!("N{n}={p}")), "{node} not in {area}");
    }
    assert!(
        num(&l["runs"]) > 1 && num(&l["largest_run_bytes"]) >= page,
        "{l}"
    );

    // 4. Fragmentation: free memory, but no block of order 10; vmalloc does not care.
    let before = buddy(section(&r.out, "== buddyinfo before"));
    let after = buddy(section(
        &r.out,
        "== buddyinfo after (the vmalloc buffer and the fragments held)",
    ));
    let high = |b: &[(String, Vec<u64>)]| -> u64 {
        b.iter()
            .map(|(_, c)| c.get(10..).map_or(0, |h| h.iter().sum::<u64>()))
            .sum()
    };
    assert!(high(&before) > 0, "{before:?}");
    // The allocations saw none (max_free_order, below: the claim itself); by the time
    // buddyinfo is read blocks may have formed again from memory freed once the module had
    // looked (the loader's exit, pages back from the per-CPU lists; without the 6.16-only
    // alloc_contig_range pass, 17 of 212 blocks on 6.1 in one run of 2026-12-05), so this
    // asks only that most of them are still gone.
    assert!(
        high(&after) * 4 < high(&before),
        "blocks of order 10 after: {after:?}, before: {before:?}"
    );
    let free_after: u64 = after
        .iter()
        .map(|(_, c)| {
            c.iter()
                .enumerate()
                .map(|(o, &n)| n * (page << o))
                .sum::<u64>()
        })
        .sum();
    assert!(
        free_after > 256 * mib,
        "only {free_after} bytes free in buddy lists"
    );
    assert!(r.num("pages_rc") == 1, "{}", r.out);
    assert_eq!(r.num("vmalloc_rc"), 0, "{}", r.out);
    let pages_out = section(&r.out, "== alloc_pages of 4 MiB after fragment_order=10");
    assert!(
        pages_out.contains("free, but no free block of order 10"),
        "{pages_out}"
    );
    // Each load fragmented memory by itself, by the module's own figures: no free block of
    // order 10 at the call, every block taken (not stopped at a watermark). The first held
    // pages; the second may hold none: the failed load's pages went back to the per-CPU lists,
    // and on these kernels (before 6.16) the module does not walk for such blocks.
    for (name, out) in [
        ("pages", pages_out),
        (
            "vmalloc",
            section(&r.out, "== vmalloc of 4 MiB after fragment_order=10"),
        ),
    ] {
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix("module: "))
            .unwrap_or_else(|| panic!("no module line for {name}:\n{out}"));
        let field = |k: &str| -> i64 {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name}: no {k} in {line}"))
        };
        if name == "pages" {
            assert!(field("held_kib=") > 0, "{name}: {line}");
        }
        assert!(field("max_free_order=") < 10, "{name}: {line}");
        assert!(line.contains("fragment_stop=none"), "{name}: {line}");
    }
    // Below the pageblock order: vmtop refuses before loading anything.
    let floor = section(&r.out, "== fragment_order=");
    assert_eq!(r.num("floor_rc"), 2, "{floor}");
    assert_eq!(r.num("floor_loaded"), 0, "{floor}");
    assert!(
        floor.contains("is below this kernel's pageblock order"),
        "{floor}"
    );
    // Nothing the kernel should not have said, from the demo's first load to its end.
    assert_eq!(r.num("kernel_log_problems"), 0, "{}", r.out);
}
