//! Issue 20: `vmtop record` files carry events as well as samples. In the lab VM, `vmtop
//! record` runs while another vmtop loads, unloads and fails; the recording's events are
//! checked against what the kernel did (/proc/modules, /proc/meminfo read by the script),
//! and `vmtop plot` and `vmtop report` read it back.

use crate::common::{lab, section};

#[test]
fn record_carries_the_loads_unloads_and_failures_it_saw() {
    let r = lab(
        &[],
        r#"
        vmtop record --duration 14s --interval 250ms --format jsonl --out /tmp/r.jsonl &
        vmtop record --duration 14s --interval 250ms --format csv --out /tmp/r.csv &
        sleep 2
        used0=$(mi VmallocUsed)
        vmtop load --memsize 64 >/dev/null; echo load_rc=$? loaded_after_load=$(loaded)
        used1=$(mi VmallocUsed)
        sleep 1
        vmtop unload >/dev/null; echo unload_rc=$? loaded_after_unload=$(loaded)
        sleep 1
        vmtop load --memsize 5000 >/dev/null 2>&1; echo big_rc=$? loaded_after_big=$(loaded)
        vmtop load --memsize 8 --alloc kmalloc >/dev/null 2>&1; echo kmalloc_rc=$?
        echo used_before_kib=$used0 used_loaded_kib=$used1
        wait
        echo "== jsonl"; cat /tmp/r.jsonl
        echo "== csv"; cat /tmp/r.csv
        echo "== csv events"; cat /tmp/r.events.jsonl
        echo "== plot"
        vmtop plot /tmp/r.jsonl --out /tmp/r.svg; echo plot_rc=$?
        vmtop plot /tmp/r.csv --out /tmp/r.png; echo plot_png_rc=$?
        vmtop report /tmp/r.jsonl --out /tmp/r.html; echo report_rc=$?
        echo report_failures=$(grep -c 'class="failure"' /tmp/r.html)
        echo plot_markers=$(grep -c 'more than all RAM' /tmp/r.svg)
        head -c 8 /tmp/r.png | od -An -c | tr -d ' \n'; echo
        "#,
    );
    assert_eq!(r.num("load_rc"), 0);
    assert_eq!(r.num("loaded_after_load"), 1);
    assert_eq!(r.num("loaded_after_unload"), 0);
    assert_ne!(r.num("big_rc"), 0, "5000 MiB is more than the VM's RAM");
    assert_eq!(r.num("loaded_after_big"), 0);
    assert_ne!(r.num("kmalloc_rc"), 0, "kmalloc gives at most 4 MiB");

    let rec = vmtop::record::read(section(&r.out, "== jsonl")).expect("the JSONL recording reads");
    let events: Vec<_> = rec.events.iter().map(|e| &e.event).collect();
    let summary: Vec<(String, u64, bool)> = events
        .iter()
        .map(|e| (format!("{:?}", e.kind), e.memsize_mib, e.failed()))
        .collect();
    assert_eq!(
        summary,
        [
            ("Load".into(), 64, false),
            ("Unload".into(), 64, false),
            ("Load".into(), 5000, true),
            ("Load".into(), 8, true),
        ],
        "{}",
        r.out
    );
    // The load: its allocator, mode, the module's own line, and what changed by the kernel's
    // figures (VmallocUsed by the 64 MiB, within the kernel stacks that come and go).
    let load = serde_json::to_value(events[0]).expect("json");
    assert_eq!(load["alloc"], "vmalloc");
    assert_eq!(load["oom_safe"], true);
    assert!(
        load["module_line"]
            .as_str()
            .is_some_and(|l| l.contains("alloc_large_mem: load memsize_mib=64")),
        "{load}"
    );
    let grew = load["delta"]["vmalloc_used"].as_i64().expect("a delta") / 1024;
    let by_hand = r.num("used_loaded_kib") - r.num("used_before_kib");
    assert!(
        (grew - by_hand).abs() <= 2048 && grew >= 64 * 1024,
        "VmallocUsed +{grew} KiB in the recording, +{by_hand} KiB by /proc/meminfo"
    );
    // The failures, diagnosed.
    let big = serde_json::to_value(events[2]).expect("json");
    assert_eq!(
        big["outcome"]["diagnosis"]["cause"], "exceeds_total_pages",
        "{big}"
    );
    let kmalloc = serde_json::to_value(events[3]).expect("json");
    assert_eq!(kmalloc["alloc"], "kmalloc");
    assert_eq!(
        kmalloc["outcome"]["diagnosis"]["cause"], "kmalloc_above_max",
        "{kmalloc}"
    );
    assert!(
        kmalloc["outcome"]["diagnosis"]["evidence"]
            .as_array()
            .is_some_and(|ev| ev
                .iter()
                .any(|l| l.as_str().is_some_and(|l| l.contains("stage=param")))),
        "{kmalloc}"
    );
    // The samples see the load too: VmallocUsed rises by 64 MiB between the load and unload.
    let used = |t: f64| {
        rec.points
            .iter()
            .filter(|p| p.t <= t)
            .filter_map(|p| p.sample.map(|s| s.vmalloc_used))
            .last()
            .expect("a sample before")
    };
    let (t_load, t_unload) = (events[0].t, events[1].t);
    let between = used((t_load + t_unload) / 2.0 + 0.3);
    assert!(
        between >= used(t_load - 0.5) + 60 * 1024 * 1024,
        "VmallocUsed {between} between load and unload"
    );
    let m = rec.header.machine.as_ref().expect("the machine");
    assert!(m.kernel.starts_with("6."), "{m:?}");
    assert_eq!(rec.header.source.as_deref(), Some("record"));

    // CSV: the same columns as before, nothing else; its events beside it.
    let csv = section(&r.out, "== csv");
    assert!(
        csv.lines().skip(1).all(|l| l.split(',').count() == 9),
        "{csv}"
    );
    let csv_rec = vmtop::record::read(csv).expect("csv");
    let with = vmtop::record::read_csv_with_events(&csv_rec, section(&r.out, "== csv events"))
        .expect("csv with its events");
    assert_eq!(with.events.len(), 4);

    // Plot and report read it back.
    assert_eq!(r.num("plot_rc"), 0);
    assert_eq!(r.num("plot_png_rc"), 0);
    assert_eq!(r.num("report_rc"), 0);
    assert_eq!(r.num("report_failures"), 2);
    assert!(r.num("plot_markers") >= 1);
    // `od -c` of the file's first bytes: the PNG signature.
    assert!(r.out.contains(r"211PNG\r\n032\n"), "{}", r.out);
}
