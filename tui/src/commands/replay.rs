//! `vmtop replay`: the 2009 article's experiment rerun in the 32-bit lab (the lesson
//! `article-2009` run unattended, see `crate::replay`), printed for people: each step of the
//! transcript beside what the article's own `free` and `insmod` printed.

use serde_json::Value;

use super::print_json;
use crate::cli::exit;
use crate::replay::article;
use crate::units::fmt_delta_mib;

fn kib(v: u64) -> String {
    crate::units::fmt_bytes(v * 1024)
}

/// What the article printed for a load of `memsize` MiB (its machine only).
fn article_says(memsize: u64) -> Option<String> {
    let (_, outcome) = article::LOADS.iter().find(|(m, _)| *m == memsize)?;
    let mut s = (*outcome).to_string();
    if let Some((free, used)) = article::change(memsize) {
        s.push_str(&format!("; free {}", fmt_delta_mib(free * 1024)));
        if let Some(u) = used {
            s.push_str(&format!(", VmallocUsed {}", fmt_delta_mib(u * 1024)));
        }
    }
    Some(s)
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or("").to_string()
}

/// What happened at a step, in one line.
fn here(r: &Value) -> String {
    let mut s = text(r, "outcome");
    if let Some(c) = r["cause"].as_str() {
        s.push_str(&format!(" ({c}, {})", text(r, "confidence")));
    }
    if let Some(d) = r["delta_mib"].as_object() {
        let f = |k: &str| d.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        if r["outcome"] == "loaded" || r["outcome"] == "unloaded" {
            s.push_str(&format!(
                ": MemFree {:+.1} MiB, VmallocUsed {:+.1} MiB",
                f("mem_free"),
                f("vmalloc_used")
            ));
        }
    }
    if let Some(m) = r["largest_mib"].as_u64() {
        s.push_str(&format!(": largest {m} MiB"));
    }
    s
}

/// The replay for people: per part, each step that acted, the article beside the kernel.
fn render(records: &[Value]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "The article (2009): 32-bit, {} of RAM, {} of swap, VmallocTotal {}; plain vmalloc().",
        kib(article::MEM_TOTAL_KB),
        kib(article::SWAP_KB),
        kib(article::VMALLOC_TOTAL_KB)
    );
    let mut part = 0;
    for r in records
        .iter()
        .filter(|r| !r["action"].is_null() || r["outcome"] == "skipped")
    {
        let p = r["part"].as_u64().unwrap_or(0);
        if p != part {
            part = p;
            let m = &r["machine"];
            let _ = writeln!(
                s,
                "\n== part {p}: {} {} MiB, swap {} MiB{}, kernel {}",
                text(m, "arch"),
                m["mem_mib"],
                m["swap_mib"],
                m["append"]
                    .as_str()
                    .map(|a| format!(", {a}"))
                    .unwrap_or_default(),
                text(r, "kernel")
            );
        }
        let agreed = match r["agreed"].as_bool() {
            Some(true) => "as the lesson expected".to_string(),
            Some(false) => format!(
                "NOT as the lesson expected: {}",
                r["differences"]
                    .as_array()
                    .and_then(|d| d.first())
                    .and_then(Value::as_str)
                    .unwrap_or("")
            ),
            None => "nothing to check".to_string(),
        };
        let _ = writeln!(s, "  step {}: {}", r["step"], text(r, "action"));
        if p == 1 {
            if let Some(a) = r["memsize_mib"]
                .as_u64()
                .filter(|_| r["action"].as_str().is_some_and(|a| a.starts_with("load")))
                .and_then(article_says)
            {
                let _ = writeln!(s, "    article: {a}");
            }
        }
        let _ = writeln!(s, "    here:    {} [{agreed}]", here(r));
        if r["agreed"] == false || r["cause"].is_string() {
            if let Some(sum) = r["summary"].as_str() {
                let _ = writeln!(s, "    vmtop:   {sum}");
            }
        }
    }
    let _ = writeln!(s, "\nThe article's conclusion: {}.", article::CONCLUSION);
    let over_ram = records
        .iter()
        .filter(|r| r["part"] == 1 && r["memsize_mib"].as_u64().is_some_and(|m| m >= 400))
        .all(|r| r["cause"] == "exceeds_total_pages");
    let space = records
        .iter()
        .any(|r| r["part"] == 3 && r["cause"] == "address_space_exhausted");
    if over_ram && space {
        let _ = writeln!(
            s,
            "What the kernel says: on the article's machine 400 and 500 MiB are more than all its RAM, and \
             __vmalloc_node_range() refuses any request above totalram_pages() before it looks for \
             address space (swap does not count); its VmallocTotal is larger than either request, and \
             vmalloc= changes nothing there but lowmem. The address space binds on a 32-bit machine with \
             1 GiB or more, where the default window is ~120 MiB: there vmalloc=768M is the right fix, \
             at the cost of lowmem."
        );
    }
    s
}

/// `vmtop replay`: run the lesson in the VMs, then print what they showed.
pub(super) fn replay(json: bool) -> anyhow::Result<i32> {
    // The runner's own lines go to stderr: stdout is the report (or the JSON).
    let mut err = std::io::stderr();
    let (runs, records) = crate::replay::run(super::lab::defaults(), &mut err)?;
    if json {
        print_json(&serde_json::json!({
            "lesson": crate::replay::LESSON,
            "parts": runs.iter().map(|r| serde_json::json!({
                "part": r.part + 1,
                "kernel": r.kernel,
                "status": r.status,
                "boot_to_exit_s": r.boot_to_exit.map(|d| d.as_secs_f64()),
            })).collect::<Vec<_>>(),
            "article": {
                "mem_total_kb": article::MEM_TOTAL_KB,
                "swap_kb": article::SWAP_KB,
                "vmalloc_total_kb": article::VMALLOC_TOTAL_KB,
                "vmalloc_used_kb": article::VMALLOC_USED_KB,
                "vmalloc_chunk_kb": article::VMALLOC_CHUNK_KB,
                "loads": article::LOADS.iter().map(|(m, o)| serde_json::json!({"memsize_mib": m, "outcome": o})).collect::<Vec<_>>(),
            },
            "transcript": records,
        }))?;
    } else {
        print!("{}", render(&records));
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(
        part: u64,
        step: u64,
        action: &str,
        memsize: u64,
        outcome: &str,
        cause: Option<&str>,
    ) -> Value {
        json!({
            "lesson": "article-2009", "part": part, "step": step,
            "machine": {"arch": "i386", "mem_mib": 384, "swap_mib": 512, "append": null},
            "kernel": "6.1.0-57-686-pae", "action": action, "memsize_mib": memsize,
            "outcome": outcome, "cause": cause, "confidence": cause.map(|_| "certain"),
            "summary": cause.map(|_| "Asked 500 MiB, more than all RAM"),
            "delta_mib": {"mem_free": -100.4, "mem_available": -100.1, "vmalloc_used": 100.0},
            "agreed": true, "differences": [],
        })
    }

    #[test]
    fn each_step_stands_beside_the_articles_figures() {
        let t = render(&[
            rec(
                1,
                2,
                "load 100 MiB vmalloc, unsafe (forced)",
                100,
                "loaded",
                None,
            ),
            rec(
                1,
                6,
                "load 500 MiB vmalloc, unsafe (forced)",
                500,
                "failed",
                Some("exceeds_total_pages"),
            ),
            rec(
                3,
                1,
                "load 300 MiB vmalloc, safe",
                300,
                "failed",
                Some("address_space_exhausted"),
            ),
        ]);
        // 196864 -> 95236 kB in the article's `free`.
        assert!(t.contains("article: loaded; free -99.2 MiB"), "{t}");
        assert!(t.contains("here:    loaded: MemFree -100.4 MiB, VmallocUsed +100.0 MiB [as the lesson expected]"), "{t}");
        assert!(
            t.contains("article: insmod: -1 Cannot allocate memory"),
            "{t}"
        );
        assert!(t.contains("failed (exceeds_total_pages, certain)"), "{t}");
        assert!(t.contains("more than all its RAM"), "{t}");
        // The article's figures only beside its own machine.
        assert_eq!(t.matches("article: ").count(), 2, "{t}");
    }

    #[test]
    fn the_300_mib_step_compares_vmallocused() {
        let (free, used) = article::change(300).expect("the article shows 300");
        assert_eq!(free, 5_584 - 284_408);
        assert_eq!(used, Some(311_032 - 3_512));
        assert_eq!(article::change(500), None);
        assert_eq!(
            article_says(300).as_deref(),
            Some("loaded; free -272.3 MiB, VmallocUsed +300.3 MiB")
        );
    }
}
