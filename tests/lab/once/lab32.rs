//! Issue 10: the 32-bit lab, where the vmalloc address space is the limit, and the replay of
//! the 2009 article. `vmtop replay --json` boots four 32-bit VMs (Debian's 686-pae kernel):
//! the article's 384 MiB machine with and without `vmalloc=768M`, and 1 GiB with and
//! without it. Every figure and diagnosis below comes from those kernels.

use std::process::Command;

use crate::common::vmtop;

fn machine<'a>(v: &'a serde_json::Value, mem: u64, vmalloc: Option<&str>) -> &'a serde_json::Value {
    v["machines"]
        .as_array()
        .expect("machines")
        .iter()
        .find(|m| m["mem_mib"] == mem && m["vmalloc"].as_str() == vmalloc)
        .unwrap_or_else(|| panic!("no {mem} MiB / {vmalloc:?} machine in {v}"))
}

fn load(m: &serde_json::Value, size: u64) -> &serde_json::Value {
    m["loads"]
        .as_array()
        .expect("loads")
        .iter()
        .find(|l| l["memsize_mib"] == size)
        .unwrap_or_else(|| panic!("no {size} MiB load in {m}"))
}

fn kb(m: &serde_json::Value, key: &str) -> u64 {
    m["meminfo"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing: {m}"))
}

fn evidence(l: &serde_json::Value) -> String {
    l["evidence"].to_string()
}

#[test]
fn replay_of_the_article_on_32_bit_kernels() {
    let out = Command::new(vmtop())
        .args(["replay", "--json"])
        .output()
        .expect("running vmtop replay");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{}\n{text}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&text).expect("replay JSON");

    // The article's machine: its vmalloc area is bigger than every request (as the article's
    // 638968 kB was), and 400 and 500 MiB fail because they are more than all RAM: the
    // kernel says "exceeds total pages" before it looks at the address space.
    let a = machine(&v, 384, None);
    assert!(kb(a, "VmallocTotal") > 500 * 1024, "{a}");
    assert_eq!(
        kb(a, "HighTotal"),
        0,
        "no highmem below 896 MiB of RAM: {a}"
    );
    assert_eq!(load(a, 100)["loaded"], true, "{a}");
    // The replay loads 500 before 400, as the article did; the kernel prints its warning
    // for the first (warn_alloc prints at most one every 10 s), and the second is decided
    // from the figures, and says so.
    let first = load(a, 500);
    assert_eq!(first["cause"], "exceeds_total_pages", "{first}");
    assert_eq!(first["confidence"], "certain", "{first}");
    assert!(evidence(first).contains("exceeds total pages"), "{first}");
    let second = load(a, 400);
    assert_eq!(second["loaded"], false);
    assert_eq!(second["cause"], "exceeds_total_pages", "{second}");
    if second["confidence"] != "certain" {
        assert_eq!(second["confidence"], "inferred", "{second}");
        assert!(
            second["detail"].to_string().contains("one every 10 s"),
            "{second}"
        );
    }
    // The article's fix on its machine: a bigger window, less lowmem, the same failures.
    let af = machine(&v, 384, Some("768M"));
    assert!(kb(af, "VmallocTotal") >= 760 * 1024, "{af}");
    assert!(
        kb(af, "LowTotal") < kb(a, "LowTotal") - 100 * 1024,
        "vmalloc= costs lowmem: {af}"
    );
    for size in [400, 500] {
        assert_eq!(load(af, size)["cause"], "exceeds_total_pages");
    }

    // 1 GiB: the default window is ~120 MiB and is the limit, in the kernel's own words.
    let b = machine(&v, 1024, None);
    let space = kb(b, "VmallocTotal");
    assert!(space < 200 * 1024, "{b}");
    assert!(kb(b, "HighTotal") > 0, "{b}");
    assert_eq!(load(b, 100)["loaded"], true, "{b}");
    for size in [300, 400, 500] {
        let l = load(b, size);
        assert_eq!(l["cause"], "address_space_exhausted", "{l}");
        assert_eq!(l["confidence"], "certain", "{l}");
        assert!(
            evidence(l).contains("use vmalloc=<size> to increase size"),
            "{l}"
        );
    }
    // The probe: the largest size that loads is just under the largest free range, and
    // the limit it names is the address space.
    let p = &b["probe"];
    let ok = p["largest_ok_mib"].as_u64().expect("probe answer");
    let largest = b["largest_free"].as_u64().expect("largest free range") / (1024 * 1024);
    assert!(
        ok <= largest && ok + 4 >= largest,
        "probe {ok} MiB vs largest free {largest} MiB: {p}"
    );
    assert_eq!(p["bound_by"], "address_space_exhausted", "{p}");

    // The fix where it is the right one: vmalloc=768M lets 300, 400 and 500 MiB load.
    let bf = machine(&v, 1024, Some("768M"));
    assert!(kb(bf, "LowTotal") < kb(b, "LowTotal"), "{bf}");
    for size in [300, 400, 500] {
        assert_eq!(
            load(bf, size)["loaded"],
            true,
            "{size} MiB with vmalloc=768M: {bf}"
        );
    }
    // What the article saw with 300 MB loaded: VmallocUsed +300.3 MiB (3512 -> 311032 kB),
    // the buffer plus its page array and guard page; the replay measures the same here.
    let d = &load(bf, 300)["delta"];
    let used = d["vmalloc_used"].as_i64().expect("VmallocUsed change") >> 20;
    let free = d["mem_free"].as_i64().expect("MemFree change") >> 20;
    assert!((300..=302).contains(&used), "VmallocUsed {used:+} MiB: {d}");
    assert!(free <= -295, "MemFree {free:+} MiB: {d}");
}
