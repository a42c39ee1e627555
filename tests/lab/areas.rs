//! Issue 21 on each 64-bit lab kernel: `vmtop areas` after a 100 MiB load lists the module's
//! buffer as one area of 100 MiB (and its guard page), its totals are an independent awk sum
//! of the same file in the same boot, and whether the kernel's vmalloc:alloc_vmap_area event
//! is recorded is what the kernel has (6.2+), the tracefs instance gone after each command.

use crate::common::{json_after, lab, lab_kernel};

const MIB: u64 = 1 << 20;

/// Linux 6.2 added the vmalloc trace events.
fn has_vmap_events(release: &str) -> bool {
    let mut v = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u64>().unwrap_or(0));
    let (major, minor) = (v.next().unwrap_or(0), v.next().unwrap_or(0));
    (major, minor) >= (6, 2)
}

#[test]
fn lab_areas_list_the_module_and_add_up() {
    let k = lab_kernel();
    let r = lab(
        &[],
        r#"
        mkdir -p /srv
        vmtop load --memsize 100 --json > /srv/load.json; echo load_rc=$?
        echo "instances_after_load=$(ls /sys/kernel/tracing/instances | grep -c vmtop)"
        echo "== areas"; vmtop areas --once --json --top 0
        cat /proc/vmallocinfo > /srv/v.txt
        echo "== file"; vmtop areas --once --json --file /srv/v.txt
        awk '/^0x/ { n++; s += $2 } END { print "awk_areas=" n, "awk_bytes=" s }' /srv/v.txt
        echo "== status"; vmtop status --json
        echo "== load"; cat /srv/load.json
        echo "== text"; vmtop areas --once --top 8
        vmtop unload >/dev/null; echo unload_rc=$?
        "#,
    );
    assert_eq!(r.num("load_rc"), 0, "{}", r.out);
    assert_eq!(r.num("unload_rc"), 0, "{}", r.out);

    // The live view: the module's buffer, found by its size, is the largest holder.
    let live = json_after(&r.out, "== areas");
    assert_eq!(live["addresses"], "real", "{live}");
    let m = &live["module"];
    assert_eq!(m["count"], 1, "{live}");
    assert_eq!(m["bytes"].as_u64(), Some(100 * MIB + 4096), "{live}");
    assert_eq!(m["kind"], "vmalloc", "{live}");
    assert_eq!(live["groups"][0]["module"], true, "{live}");

    // The same file, read once, against awk's sum of its size column.
    let file = json_after(&r.out, "== file");
    assert_eq!(
        file["areas"].as_i64(),
        Some(r.num("awk_areas")),
        "{}",
        r.out
    );
    assert_eq!(
        file["bytes"].as_i64(),
        Some(r.num("awk_bytes")),
        "{}",
        r.out
    );
    let sum: u64 = file["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["bytes"].as_u64().expect("bytes"))
        .sum();
    assert_eq!(Some(sum), file["bytes"].as_u64());

    // The kernel's events: recorded from 6.2 on, and said why not before.
    let status = json_after(&r.out, "== status");
    let load = json_after(&r.out, "== load");
    if has_vmap_events(&k.release) {
        assert_eq!(status["vmap_events"]["recorded"], true, "{status}");
        assert_eq!(load["vmap_trace"]["state"], "recorded", "{load}");
        assert_eq!(
            load["vmap_trace"]["failed"],
            serde_json::json!([]),
            "{load}"
        );
    } else {
        assert_eq!(status["vmap_events"]["recorded"], false, "{status}");
        let why = status["vmap_events"]["reason"].as_str().expect("a reason");
        assert!(
            why.contains("no vmalloc:alloc_vmap_area") && why.contains("6.2"),
            "{why}"
        );
        assert_eq!(load["vmap_trace"]["state"], "unavailable", "{load}");
    }
    // `vmtop load` made its instance and removed it when it ended.
    assert_eq!(r.num("instances_after_load"), 0, "{}", r.out);
    assert!(r.out.contains("<- vmtop's module"), "{}", r.out);
}
