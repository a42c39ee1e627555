//! Issue 2: the module, loaded and unloaded by vmtop in the lab VM, moves the real
//! kernel's /proc/meminfo as it should, and refuses bad parameters.

use crate::common::lab;

const MIB_KB: i64 = 1024;

#[test]
fn load_64_then_unload_returns_to_baseline() {
    let r = lab(
        &[],
        r#"
        vmtop load --memsize 1 && vmtop unload   # warm up: first load allocates kernel bookkeeping
        sleep 1
        base_used=$(mi VmallocUsed); echo base_used=$base_used base_free=$(mi MemFree) base_true=$(truefree)
        vmtop load --memsize 64; echo load_rc=$?
        echo loaded_used=$(mi VmallocUsed) loaded_free=$(mi MemFree) loaded_true=$(truefree)
        # The module's area in /proc/vmallocinfo (callers print as raw addresses here):
        # 16384 pages, mapped by vmalloc.
        area() { awk '$4 == "pages=16384" && $5 == "vmalloc" { n++; b = $2 } END { print "areas=" n+0, "area_bytes=" b+0 }' /proc/vmallocinfo; }
        echo loaded_$(area | sed 's/ / loaded_/')
        echo param=$(cat /sys/module/alloc_large_mem/parameters/memsize)
        echo bytes=$(cat /sys/module/alloc_large_mem/results/bytes)
        echo alloc_ns=$(cat /sys/module/alloc_large_mem/results/alloc_ns) fill_ns=$(cat /sys/module/alloc_large_mem/results/fill_ns)
        vmtop unload; echo unload_rc=$?
        # Freed vmalloc areas are purged lazily: give the kernel a moment.
        for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(mi VmallocUsed)" = "$base_used" ] && break; sleep 0.2; done
        echo after_used=$(mi VmallocUsed) after_free=$(mi MemFree) after_true=$(truefree) after_loaded=$(loaded)
        echo after_$(area | sed 's/ / after_/')
        dmesg | grep 'alloc_large_mem: \(load\|unload\)' | tail -n 2
        "#,
    );
    assert_eq!(r.num("load_rc"), 0);
    assert_eq!(r.num("unload_rc"), 0);
    let used_rise = r.num("loaded_used") - r.num("base_used");
    // MemFree alone moves by 45-65 MiB for this load: the allocator first takes pages
    // parked on the per-CPU lists, which MemFree does not count. Counting them too, the
    // fall matches the request.
    let free_fall = r.num("base_true") - r.num("loaded_true");
    assert!(
        used_rise >= 64 * MIB_KB,
        "VmallocUsed rose by {used_rise} kB"
    );
    // Free memory falls by about as much: 64 MiB, plus the page array, page tables and
    // module text (~0.5 MiB), give or take other activity in the VM.
    assert!(
        (60 * MIB_KB..=70 * MIB_KB).contains(&free_fall),
        "free memory (MemFree + per-CPU lists) fell by {free_fall} kB for 64 MiB (MemFree alone: {} kB)",
        r.num("base_free") - r.num("loaded_free")
    );
    assert_eq!(r.num("param"), 64);
    assert_eq!(r.num("bytes"), 64 << 20);
    assert!(r.num("alloc_ns") > 0 && r.num("fill_ns") > 0);
    // The module's own area, exactly: 64 MiB and one guard page while loaded, none after.
    assert_eq!(r.num("loaded_areas"), 1);
    assert_eq!(r.num("loaded_area_bytes"), (64 << 20) + 4096);
    assert_eq!(r.num("after_areas"), 0, "the module's vmalloc area is gone");
    // VmallocUsed as a whole also counts the 16 KiB kernel stacks (CONFIG_VMAP_STACK) of
    // processes that come and go (vmtop's own loader among them): back within 4 of them.
    let used_diff = (r.num("after_used") - r.num("base_used")).abs();
    assert!(
        used_diff <= 64,
        "VmallocUsed back to {} kB from {} kB",
        r.num("after_used"),
        r.num("base_used")
    );
    let free_diff = (r.num("after_true") - r.num("base_true")).abs() as f64;
    assert!(
        free_diff <= 0.02 * r.num("base_true") as f64,
        "free memory back within 2 %: {} vs {} kB (MemFree {} vs {} kB)",
        r.num("after_true"),
        r.num("base_true"),
        r.num("after_free"),
        r.num("base_free")
    );
    assert_eq!(r.num("after_loaded"), 0);
    assert!(r
        .out
        .contains("alloc_large_mem: load memsize_mib=64 bytes=67108864 oom_safe=Y"));
    assert!(r
        .out
        .contains("alloc_large_mem: unload memsize_mib=64 bytes=67108864"));
}

#[test]
fn refusals_leave_nothing_loaded_and_cycles_leave_no_trace() {
    let r = lab(
        &[],
        r#"
        vmtop load --memsize 2000 2>err.txt; echo big_rc=$?; echo big_loaded=$(loaded)
        echo "big_err: $(cat err.txt)"
        insmod /lab/alloc_large_mem.ko memsize=0 2>/dev/null; echo zero_rc=$? zero_loaded=$(loaded)
        # 2^44 MiB parses as an unsigned long but its byte count overflows.
        insmod /lab/alloc_large_mem.ko memsize=17592186044416 2>/dev/null; echo ovf_rc=$? ovf_loaded=$(loaded)
        vmtop load --memsize 0 2>err0.txt; echo cli_zero_rc=$? cli_zero_loaded=$(loaded)
        echo "cli_zero_err: $(cat err0.txt)"
        # Each refusal by the module's parameter check, on its own (EINVAL, stage=param).
        echo zero_param_lines=$(dmesg | grep -c 'alloc_large_mem: fail memsize_mib=0 .*err=-22 stage=param')
        echo ovf_param_lines=$(dmesg | grep -c 'alloc_large_mem: fail memsize_mib=17592186044416 .*err=-22 stage=param')
        vmtop load --memsize 1 && vmtop unload; sleep 1
        echo base_used=$(mi VmallocUsed)
        fails=0
        i=0; while [ $i -lt 20 ]; do
            vmtop load --memsize 32 >/dev/null || fails=$((fails+1))
            vmtop unload >/dev/null || fails=$((fails+1))
            i=$((i+1))
        done
        echo cycle_fails=$fails
        for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(mi VmallocUsed)" = "$base_used" ] && break; sleep 0.2; done
        echo cycles_used=$(mi VmallocUsed) cycles_loaded=$(loaded)
        echo loads_logged=$(dmesg | grep -c 'alloc_large_mem: load memsize_mib=32')
        "#,
    );
    assert_eq!(r.num("big_rc"), 1);
    assert_eq!(r.num("big_loaded"), 0);
    let big_err = r
        .out
        .lines()
        .find(|l| l.starts_with("big_err:"))
        .expect("big_err");
    assert!(big_err.contains("ENOMEM"), "{big_err}");
    assert_ne!(r.num("zero_rc"), 0);
    assert_eq!(r.num("zero_loaded"), 0);
    assert_ne!(r.num("ovf_rc"), 0);
    assert_eq!(r.num("ovf_loaded"), 0);
    // Both refused by the module's own parameter check (not by an allocation that failed):
    // busybox insmod retries with init_module after finit_module fails, so each is logged
    // once or twice.
    for key in ["zero_param_lines", "ovf_param_lines"] {
        assert!(
            (1..=2).contains(&r.num(key)),
            "{key}: the module's stage=param refusal:\n{}",
            r.out
        );
    }
    assert_eq!(r.num("cli_zero_rc"), 2);
    assert_eq!(r.num("cli_zero_loaded"), 0);
    assert_eq!(r.num("cycle_fails"), 0);
    // VmallocUsed also counts the 16 KiB vmap'd kernel stack of every process
    // (CONFIG_VMAP_STACK), and the kernel caches freed stacks per CPU: after a loop that
    // forked 40 processes, a few stacks may differ. One 32 MiB load would be 2048 stacks.
    let stacks = (r.num("cycles_used") - r.num("base_used")).abs();
    assert!(
        stacks <= 4 * 16,
        "VmallocUsed back at baseline: {} vs {} kB",
        r.num("cycles_used"),
        r.num("base_used")
    );
    assert_eq!(r.num("cycles_loaded"), 0);
    assert_eq!(r.num("loads_logged"), 20);
}
