//! `vmtop replay`: the 2009 article's experiment rerun in the 32-bit lab, printed for people:
//! the article's figures beside the lab's, and what limited each failure (the runs and their
//! data are in `crate::replay`).

use super::print_json;
use crate::cli::exit;
use crate::diagnose::Cause;
use crate::replay::{article, Machine};
use crate::units::fmt_delta_mib;

fn kib(v: u64) -> String {
    crate::units::fmt_bytes(v * 1024)
}

/// What limited a failure, in a few words (from the cause vmtop's diagnosis named).
fn limit_words(cause: Option<Cause>) -> &'static str {
    match cause {
        Some(Cause::ExceedsTotalPages) => "RAM: more than all of it (the kernel's first check)",
        Some(Cause::AddressSpaceExhausted) => "the vmalloc address space",
        Some(Cause::PhysicalMemoryShort) => "free memory (safe mode's reserve or the allocator)",
        Some(Cause::OomKilled) => "memory: the OOM killer",
        _ => "other",
    }
}

/// The replay for people.
fn render(ms: &[Machine]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "The article (2009): 32-bit, {} of RAM, {} swap, VmallocTotal {}.",
        kib(article::MEM_TOTAL_KB),
        kib(article::SWAP_KB),
        kib(article::VMALLOC_TOTAL_KB)
    );
    for m in ms {
        let mi = |k: &str| m.meminfo.get(k).copied();
        let _ = writeln!(
            s,
            "\n== 32-bit VM, {} MiB{}, kernel {} (no swap)",
            m.mem_mib,
            m.vmalloc
                .as_ref()
                .map(|v| format!(", vmalloc={v}"))
                .unwrap_or_default(),
            m.release
        );
        let _ = writeln!(
            s,
            "  MemTotal {}  LowTotal {}  HighTotal {}",
            mi("MemTotal").map(kib).unwrap_or_default(),
            mi("LowTotal").map(kib).unwrap_or_default(),
            mi("HighTotal").map(kib).unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "  Vmalloc lines: Total {}  Used {}  Chunk {} (0 since Linux 4.4)  largest free range {}   [article: Total {} Used {} Chunk {}]",
            mi("VmallocTotal").map(kib).unwrap_or_default(),
            mi("VmallocUsed").map(kib).unwrap_or_default(),
            mi("VmallocChunk").map(kib).unwrap_or_default(),
            m.largest_free.map(crate::units::fmt_bytes).unwrap_or_else(|| "unknown".into()),
            kib(article::VMALLOC_TOTAL_KB),
            kib(article::VMALLOC_USED_KB),
            kib(article::VMALLOC_CHUNK_KB)
        );
        let _ = writeln!(s, "  {:<12} {:<36} here", "memsize", "article");
        for l in &m.loads {
            let art = article::LOADS
                .iter()
                .find(|(size, _)| *size == l.memsize_mib)
                .map_or("", |(_, o)| *o);
            let here = if l.loaded {
                "loaded".to_string()
            } else {
                format!(
                    "failed, limit: {} ({}): {}",
                    limit_words(l.cause),
                    l.confidence.map_or("?", |c| c.name()),
                    l.summary.as_deref().unwrap_or("")
                )
            };
            let _ = writeln!(
                s,
                "  {:<12} {:<36} {here}",
                format!("{} MiB", l.memsize_mib),
                art
            );
            if let Some(d) = l.delta {
                let _ = writeln!(
                    s,
                    "  {:<12} {:<36}   MemFree {}, VmallocUsed {}",
                    "",
                    "",
                    fmt_delta_mib(d.mem_free),
                    fmt_delta_mib(d.vmalloc_used)
                );
            }
            if let (true, Some((free, used))) = (l.loaded, article::change(l.memsize_mib)) {
                let _ = writeln!(
                    s,
                    "  {:<12} {:<36}   [article: MemFree {}{}]",
                    "",
                    "",
                    fmt_delta_mib(free * 1024),
                    used.map(|u| format!(", VmallocUsed {}", fmt_delta_mib(u * 1024)))
                        .unwrap_or_default()
                );
            }
            for e in l
                .evidence
                .iter()
                .filter(|e| !e.starts_with("alloc_large_mem:"))
                .take(2)
            {
                let _ = writeln!(s, "  {:<12} {:<36}   kernel: {e}", "", "");
            }
        }
        if let Some(p) = &m.probe {
            let _ = writeln!(
                s,
                "  probe: the largest size that loads is {} MiB; the limit: {}",
                p["largest_ok_mib"],
                p["bound_summary"].as_str().unwrap_or("?")
            );
        }
    }
    let _ = writeln!(s, "\nThe article's conclusion: {}.", article::CONCLUSION);
    let small = ms.iter().find(|m| m.mem_mib == 384 && m.vmalloc.is_none());
    let over_ram = small.is_some_and(|m| {
        m.loads
            .iter()
            .filter(|l| l.memsize_mib >= 400)
            .all(|l| l.cause == Some(Cause::ExceedsTotalPages))
    });
    if over_ram {
        let _ = writeln!(
            s,
            "What the kernel says: on the article's machine 400 and 500 MiB are more than all its RAM, and \
             __vmalloc_node_range() refuses any request above totalram_pages() before it looks for \
             address space; VmallocTotal there is larger than either request. vmalloc= cannot help: \
             it moves the split between lowmem and the vmalloc window, and RAM stays what it is. \
             The address space binds on a 32-bit machine with 1 GiB or more, where the default window \
             is ~120 MiB: there vmalloc=768M lets 300 and 400 MiB load, at the cost of lowmem."
        );
    }
    s
}

/// `vmtop replay`: boot the machines, then print what they showed.
pub(super) fn replay(json: bool) -> anyhow::Result<i32> {
    let machines = crate::replay::run(&super::lab::defaults(), &mut |l| {
        eprintln!("vmtop replay: {l}")
    })?;
    if json {
        print_json(&serde_json::json!({ "machines": machines }))?;
    } else {
        print!("{}", render(&machines));
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::Load;

    fn machine(loads: Vec<Load>) -> Machine {
        Machine {
            mem_mib: 384,
            vmalloc: None,
            release: "6.1.0-57-686-pae".into(),
            meminfo: [("MemTotal".to_string(), 372_968u64)].into_iter().collect(),
            largest_free: Some(612 << 20),
            loads,
            probe: None,
        }
    }

    fn load(
        memsize_mib: u64,
        cause: Option<Cause>,
        delta: Option<crate::system::meminfo::Delta>,
    ) -> Load {
        Load {
            memsize_mib,
            loaded: cause.is_none(),
            cause,
            confidence: cause.map(|_| crate::diagnose::Confidence::Certain),
            summary: cause.map(|_| "Asked 400 MiB, more than all RAM".to_string()),
            detail: None,
            evidence: vec!["vmalloc error: size 419430400, exceeds total pages".into()],
            delta,
        }
    }

    #[test]
    fn loaded_steps_stand_beside_the_articles_figures() {
        let d = crate::system::meminfo::Delta {
            mem_free: -(100 << 20),
            mem_available: -(100 << 20),
            vmalloc_used: 100 << 20,
        };
        let text = render(&[machine(vec![
            load(100, None, Some(d)),
            load(400, Some(Cause::ExceedsTotalPages), None),
        ])]);
        // 196864 -> 95236 kB in the article's `free`.
        assert!(text.contains("[article: MemFree -99.2 MiB]"), "{text}");
        assert!(
            text.contains("MemFree -100.0 MiB, VmallocUsed +100.0 MiB"),
            "{text}"
        );
        assert!(text.contains("kernel: vmalloc error: size 419430400, exceeds total pages"));
        // Every 400+ MiB failure on the article's machine was "more than all RAM".
        assert!(text.contains("more than all its RAM"), "{text}");
    }

    #[test]
    fn the_300_mib_step_compares_vmallocused() {
        let (free, used) = article::change(300).expect("the article shows 300");
        assert_eq!(free, 5_584 - 284_408);
        assert_eq!(used, Some(311_032 - 3_512));
        assert_eq!(article::change(500), None);
    }
}
