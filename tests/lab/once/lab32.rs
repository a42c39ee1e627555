//! Issues 10 and 19: the 32-bit lab, where the vmalloc address space is the limit, and the
//! 2009 article replayed. `vmtop replay --json` runs the bundled lesson `article-2009`
//! unattended, each part in its own 32-bit VM (Debian's 686-pae kernel): the article's
//! machine (384 MiB of RAM, 512 MiB of real swap on a virtio disk, plain vmalloc as the
//! article's module), the article's fix on it (`vmalloc=768M`), then 1 GiB with and without
//! the fix. Every outcome, cause and figure below is from those kernels, read back from the
//! lesson's transcript.

use std::process::Command;

use serde_json::Value;

/// The transcript line of part `part`, step `step`.
fn step(t: &[Value], part: u64, step: u64) -> &Value {
    t.iter()
        .find(|r| r["part"] == part && r["step"] == step)
        .unwrap_or_else(|| panic!("no part {part} step {step} in the transcript"))
}

fn fig(r: &Value, key: &str) -> f64 {
    r["figures_mib"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing: {r}"))
}

fn delta(r: &Value, key: &str) -> f64 {
    r["delta_mib"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} change missing: {r}"))
}

#[test]
fn replay_of_the_article_on_32_bit_kernels() {
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_vmtop"))
        .args(["replay", "--json"])
        .output()
        .expect("running vmtop replay");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "{}\n{text}\n(replay took {:.0} s)",
        String::from_utf8_lossy(&out.stderr),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_str(&text).expect("replay JSON");
    assert_eq!(v["lesson"], "article-2009");
    let t = v["transcript"].as_array().expect("the transcript").clone();
    // Every part ran in its VM (none skipped), each with its machine.
    for p in v["parts"].as_array().expect("parts") {
        assert_eq!(p["status"], 0, "{p}");
        assert!(
            p["kernel"].as_str().is_some_and(|k| k.contains("686")),
            "{p}"
        );
    }
    assert!(t.iter().all(|r| r["outcome"] != "skipped"), "{v}");

    // Part 1, the article's machine: the article's order, 100 and 300 load, 500 and 400
    // fail because they are more than all RAM; its swap is real (a disk), and counts for
    // nothing in vmalloc()'s first check.
    let load100 = step(&t, 1, 1);
    assert_eq!(load100["machine"]["swap_mib"], 512, "{load100}");
    assert_eq!(load100["machine"]["arch"], "i386");
    assert!(
        (500.0..=512.0).contains(&fig(load100, "SwapTotal")),
        "real swap in the VM: {load100}"
    );
    assert!(fig(load100, "VmallocTotal") > 500.0, "{load100}");
    assert_eq!(fig(load100, "HighTotal"), 0.0, "no highmem below 896 MiB");
    assert_eq!(load100["outcome"], "loaded", "{load100}");
    // The article's `free` fell 99.2 MiB for its default load.
    assert!(
        (-115.0..=-90.0).contains(&delta(load100, "mem_free")),
        "{load100}"
    );
    let load300 = step(&t, 1, 3);
    assert_eq!(
        (&load300["memsize_mib"], &load300["outcome"]),
        (&Value::from(300), &Value::from("loaded")),
        "{load300}"
    );
    // The article: VmallocUsed 3512 -> 311032 kB (+300.3 MiB) with 300 MB loaded.
    assert!(
        (299.0..=304.0).contains(&delta(load300, "vmalloc_used")),
        "{load300}"
    );
    let first = step(&t, 1, 5);
    assert_eq!(first["memsize_mib"], 500);
    assert_eq!(first["outcome"], "failed");
    assert_eq!(first["cause"], "exceeds_total_pages", "{first}");
    assert_eq!(first["confidence"], "certain", "{first}");
    // The kernel prints its warning at most once every 10 s: the second may be inferred.
    let second = step(&t, 1, 6);
    assert_eq!(second["memsize_mib"], 400);
    assert_eq!(second["cause"], "exceeds_total_pages", "{second}");
    assert!(
        ["certain", "inferred"].contains(&second["confidence"].as_str().unwrap_or("")),
        "{second}"
    );

    // Part 2, the article's fix on its machine: a bigger window, less lowmem, the same
    // failure.
    let fix = step(&t, 2, 1);
    assert_eq!(fix["machine"]["append"], "vmalloc=768M");
    assert!(fig(fix, "VmallocTotal") >= 760.0, "{fix}");
    assert!(
        fig(fix, "LowTotal") < fig(load100, "MemTotal") - 100.0,
        "vmalloc= costs lowmem: {fix}"
    );
    assert_eq!(fix["cause"], "exceeds_total_pages", "{fix}");

    // Part 3, 1 GiB: the ~120 MiB window is the limit, in the kernel's own words (safe mode
    // is silent: the figures decide), and the probe finds ~116 MiB.
    let big = step(&t, 3, 1);
    assert!(fig(big, "VmallocTotal") < 200.0, "{big}");
    assert!(fig(big, "HighTotal") > 0.0, "{big}");
    assert_eq!(big["outcome"], "failed");
    assert_eq!(big["cause"], "address_space_exhausted", "{big}");
    let probe = step(&t, 3, 2);
    assert_eq!(probe["outcome"], "done", "{probe}");
    let largest = probe["largest_mib"].as_u64().expect("the probe's answer");
    assert!((100..=120).contains(&largest), "{probe}");
    assert_eq!(probe["cause"], "address_space_exhausted", "{probe}");

    // Part 4, the fix where it is the right one: 300 MiB loads, lowmem pays.
    let fixed = step(&t, 4, 1);
    assert_eq!(fixed["outcome"], "loaded", "{fixed}");
    assert!(
        (299.0..=304.0).contains(&delta(fixed, "vmalloc_used")),
        "{fixed}"
    );
    assert!(
        fig(fixed, "LowTotal") < fig(big, "LowTotal") - 500.0,
        "{fixed}"
    );

    // Every step agreed with the lesson: its narration is what these kernels do.
    let disagreed: Vec<&Value> = t.iter().filter(|r| r["agreed"] == false).collect();
    assert!(disagreed.is_empty(), "{disagreed:#?}");
}
