//! Issue 18 point 6: vmtop believes the kernel, not its helper. A helper that exits 0 without
//! loading is reported as a failure of the helper (LOADED only when /proc/modules lists the
//! module); a loader killed after the module's init returned is reported as loaded, and the
//! module unloads; a missing helper is said as such for a load and an unload.
//!
//! The two stand-in helpers are shell scripts in the VM, named through VMTOP_KMOD_HELPER (as
//! root, so they are root's own files in a folder only root writes). The one that "loads"
//! without loading is exactly the helper vmtop must not believe: the test is that vmtop says
//! so. The other runs the real helper (/bin/vmtop-kmod) for the real load, then is killed:
//! every load in this test that vmtop reports as loaded is the real kernel's.

use crate::common::{cause, json_after, lab};

#[test]
fn the_kernel_decides_loaded_not_the_helper() {
    let r = lab(
        &[],
        r#"
        mkdir -p /srv/h && chmod 755 /srv/h
        # Answers like the real helper, but "insert" exits 0 without loading anything.
        printf '#!/bin/sh\ncase "$2" in insert) exit 0;; esac\nexec /bin/vmtop-kmod "$@"\n' > /srv/h/liar
        # The real helper does the call; then this wrapper (the process vmtop started) is killed.
        printf '#!/bin/sh\n/bin/vmtop-kmod "$@"; rc=$?\ncase "$2" in insert) kill -9 $$;; esac\nexit $rc\n' > /srv/h/killed
        chmod 755 /srv/h/liar /srv/h/killed
        base_used=$(mi VmallocUsed)

        echo "== liar"; VMTOP_KMOD_HELPER=/srv/h/liar vmtop load --memsize 16 --json; echo liar_rc=$?
        echo liar_loaded=$(loaded)

        echo "== killed"; VMTOP_KMOD_HELPER=/srv/h/killed vmtop load --memsize 16 --json 2>/tmp/killed.err; echo killed_rc=$?
        echo "killed_err: $(cat /tmp/killed.err)"
        echo killed_loaded=$(loaded) killed_param=$(cat /sys/module/alloc_large_mem/parameters/memsize)
        echo killed_used_kib=$(( $(mi VmallocUsed) - base_used ))

        echo "== unload without helper"; VMTOP_KMOD_HELPER=/srv/h/none vmtop unload --json; echo nohelper_unload_rc=$?
        echo nohelper_still_loaded=$(loaded)
        vmtop unload; echo unload_rc=$? unloaded=$(loaded)

        echo "== load without helper"; VMTOP_KMOD_HELPER=/srv/h/none vmtop load --memsize 16 --json; echo nohelper_load_rc=$?
        echo nohelper_loaded=$(loaded)
        "#,
    );
    // The liar: its "loaded" is not believed, the failure is the helper's, nothing loaded.
    let liar = json_after(&r.out, "== liar");
    assert_eq!(cause(&liar), "helper_failed", "{liar}");
    let text = liar["event"]["outcome"]["diagnosis"].to_string();
    assert!(
        text.contains("/srv/h/liar said it loaded the module (exit 0), but alloc_large_mem is not in /proc/modules"),
        "{text}"
    );
    assert!(
        liar["event"]["outcome"]["diagnosis"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("the kernel does not list it: not loaded")),
        "{liar}"
    );
    assert_eq!(r.num("liar_rc"), 2);
    assert_eq!(r.num("liar_loaded"), 0);

    // Killed after the real load: reported as loaded (the kernel's list says so).
    let killed = json_after(&r.out, "== killed");
    assert_eq!(killed["event"]["outcome"]["result"], "ok", "{killed}");
    assert_eq!(killed["loader_killed_after_load"], "SIGKILL", "{killed}");
    assert_eq!(r.num("killed_rc"), 0);
    assert!(
        r.out.contains("killed_err: vmtop: the loader (vmtop-kmod) was killed by SIGKILL after the module's init had returned: alloc_large_mem is loaded all the same"),
        "{}",
        r.out
    );
    assert_eq!((r.num("killed_loaded"), r.num("killed_param")), (1, 16));
    // The real kernel holds the buffer: VmallocUsed rose by about the 16 MiB asked.
    let used = r.num("killed_used_kib");
    assert!(
        (16 * 1024..=20 * 1024).contains(&used),
        "VmallocUsed +{used} KiB"
    );

    // No helper: an unload says so (not EIO) and leaves the module as it was; a real unload
    // then frees it.
    let unload = json_after(&r.out, "== unload without helper");
    assert_eq!(
        unload["outcome"]["diagnosis"]["cause"], "helper_failed",
        "{unload}"
    );
    let summary = unload["outcome"]["diagnosis"]["summary"].to_string();
    assert!(summary.contains("vmtop-kmod is missing"), "{summary}");
    assert_eq!(r.num("nohelper_unload_rc"), 2);
    assert_eq!(r.num("nohelper_still_loaded"), 1);
    assert_eq!((r.num("unload_rc"), r.num("unloaded")), (0, 0));
    // And a load: the helper is named, not the module file (which is fine).
    let load = json_after(&r.out, "== load without helper");
    assert_eq!(cause(&load), "helper_failed", "{load}");
    let text = load["event"]["outcome"]["diagnosis"].to_string();
    assert!(text.contains("VMTOP_KMOD_HELPER=/srv/h/none"), "{text}");
    assert_eq!(r.num("nohelper_load_rc"), 2);
    assert_eq!(r.num("nohelper_loaded"), 0);
}
