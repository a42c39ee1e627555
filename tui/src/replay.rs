//! `vmtop replay`: the 2009 article's experiment, rerun in the 32-bit lab.
//!
//! The article (Godbach, "内核态用vmalloc申请大块内存", 2009-10-16) loaded a vmalloc module
//! on a 32-bit machine with 385624 kB of RAM: `free`, the default load (100 MB), `free`, the
//! Vmalloc lines of /proc/meminfo, then memsize=300 (loaded), 500 and 400 (both "Cannot
//! allocate memory"), and concluded that the default vmalloc size was exceeded, to be fixed
//! with `vmalloc=` on the kernel command line. The replay runs the same steps in the same
//! order in a 32-bit VM sized like that machine, then with the article's fix, then on a
//! 32-bit machine with 1 GiB where the address space really binds, with and without the fix,
//! and reports what limited each failure by the kernel's own evidence (its log lines, and
//! the figures where safe mode keeps it quiet).

use serde::Serialize;
use serde_json::Value;

use crate::lab::{kernel::Arch, LabOptions};

/// The article's own figures (kB, as `free` and /proc/meminfo printed them).
pub mod article {
    pub const MEM_TOTAL_KB: u64 = 385_624;
    #[allow(dead_code)] // used by the replay comparison (next commit)
    pub const FREE_BEFORE_KB: u64 = 196_864;
    #[allow(dead_code)] // used by the replay comparison (next commit)
    pub const FREE_AFTER_DEFAULT_KB: u64 = 95_236;
    pub const VMALLOC_TOTAL_KB: u64 = 638_968;
    pub const VMALLOC_USED_KB: u64 = 3_512;
    pub const VMALLOC_CHUNK_KB: u64 = 633_644;
    /// With memsize=300 loaded.
    #[allow(dead_code)] // used by the replay comparison (next commit)
    pub const VMALLOC_USED_300_KB: u64 = 311_032;
    #[allow(dead_code)] // used by the replay comparison (next commit)
    pub const VMALLOC_CHUNK_300_KB: u64 = 326_440;
    pub const SWAP_KB: u64 = 522_104;
    /// memsize and the article's outcome, in its order.
    pub const LOADS: [(u64, &str); 4] = [
        (100, "loaded"),
        (300, "loaded"),
        (500, "insmod: -1 Cannot allocate memory"),
        (400, "insmod: -1 Cannot allocate memory"),
    ];
    pub const CONCLUSION: &str =
        "the default vmalloc size set at boot was exceeded; boot with vmalloc=xxx to fix it";
}

/// One VM of the replay.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub mem_mib: u64,
    /// `vmalloc=` on the kernel command line, if any.
    pub vmalloc: Option<String>,
    pub release: String,
    /// /proc/meminfo lines (kB) at the start.
    pub meminfo: std::collections::BTreeMap<String, u64>,
    /// Largest free range of the vmalloc area at the start, bytes.
    pub largest_free: Option<u64>,
    pub loads: Vec<Load>,
    /// `vmtop probe` on this machine, where run: largest size that loads and what bound it.
    pub probe: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Load {
    pub memsize_mib: u64,
    pub loaded: bool,
    pub cause: Option<String>,
    pub confidence: Option<String>,
    pub summary: Option<String>,
    pub detail: Option<String>,
    /// The kernel's own log lines behind the diagnosis.
    pub evidence: Vec<String>,
}

/// The machines replayed: the article's (384 MiB), with its fix, then 1 GiB with and without.
pub fn machines() -> Vec<(u64, Option<&'static str>, bool)> {
    vec![
        (384, None, false),
        (384, Some("768M"), false),
        (1024, None, true),
        (1024, Some("768M"), false),
    ]
}

const SCRIPT: &str = r#"
echo "@meminfo"; grep -E '^(MemTotal|MemFree|MemAvailable|LowTotal|HighTotal|VmallocTotal|VmallocUsed|VmallocChunk):' /proc/meminfo
echo "@status"; vmtop status --json
echo "@free"; free
# The article used plain vmalloc() (unsafe mode). Where the kernel refuses before it takes
# a single page (more than all RAM, more than the whole vmalloc area) do the same, so the
# kernel says why in its own words; elsewhere safe mode, so that no process is OOM-killed.
kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
total=$(( $(kb MemTotal) / 1024 )); space=$(( $(kb VmallocTotal) / 1024 ))
for m in 100 300 500 400; do
    mode="--mode safe"
    if [ $m -gt $total ] || [ $m -gt $space ]; then mode="--mode unsafe --force"; fi
    echo "@load $m"; vmtop load --memsize $m $mode --json
    vmtop unload >/dev/null 2>&1
done
"#;

/// Sections of the VM output: "@name" lines start one.
fn sections(out: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for line in out.lines() {
        if let Some(name) = line.strip_prefix('@') {
            v.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = v.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    v
}

fn parse_machine(mem_mib: u64, vmalloc: Option<&str>, release: &str, out: &str) -> Machine {
    let mut m = Machine {
        mem_mib,
        vmalloc: vmalloc.map(str::to_string),
        release: release.to_string(),
        meminfo: Default::default(),
        largest_free: None,
        loads: Vec::new(),
        probe: None,
    };
    for (name, body) in sections(out) {
        if name == "meminfo" {
            for l in body.lines() {
                let mut f = l.split_whitespace();
                if let (Some(k), Some(v)) = (f.next(), f.next().and_then(|v| v.parse().ok())) {
                    m.meminfo.insert(k.trim_end_matches(':').to_string(), v);
                }
            }
        } else if name == "status" {
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            m.largest_free = v["address_space"]["vmalloc_largest_free"].as_u64();
        } else if let Some(size) = name.strip_prefix("load ").and_then(|s| s.parse().ok()) {
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let d = &v["event"]["outcome"]["diagnosis"];
            let s = |k: &str| d[k].as_str().map(str::to_string);
            m.loads.push(Load {
                memsize_mib: size,
                loaded: v["event"]["outcome"]["result"] == "ok",
                cause: s("cause"),
                confidence: s("confidence"),
                summary: s("summary"),
                detail: s("detail"),
                evidence: d["evidence"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|e| e.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        } else if name == "probe" {
            m.probe = serde_json::from_str(&body).ok();
        }
    }
    m
}

/// Boot each machine and run the steps. `progress` gets one line per machine.
pub fn run(progress: &mut dyn FnMut(&str)) -> anyhow::Result<Vec<Machine>> {
    let mut out = Vec::new();
    for (mem, vmalloc, probe) in machines() {
        let mut script = SCRIPT.to_string();
        if probe {
            script.push_str("echo \"@probe\"; vmtop probe --to 512 --json\n");
        }
        progress(&format!(
            "booting a 32-bit VM with {mem} MiB{}...",
            vmalloc
                .map(|v| format!(", vmalloc={v}"))
                .unwrap_or_default()
        ));
        let opts = LabOptions {
            mem_mib: mem,
            cpus: 1,
            arch: Some(Arch::I386),
            append: vmalloc.map(|v| format!("vmalloc={v}")),
            exec: Some(script),
            ..Default::default()
        };
        let mut sink = std::io::sink();
        let r = crate::lab::run_exec(&opts, &mut sink)?;
        out.push(parse_machine(mem, vmalloc, &r.kernel, &r.output));
    }
    Ok(out)
}

fn kib(v: u64) -> String {
    crate::units::fmt_bytes(v * 1024)
}

/// What limited a failure, in a few words (from the cause vmtop's diagnosis named).
fn limit_words(cause: Option<&str>) -> &'static str {
    match cause {
        Some("exceeds_total_pages") => "RAM: more than all of it (the kernel's first check)",
        Some("address_space_exhausted") => "the vmalloc address space",
        Some("physical_memory_short") => "free memory (safe mode's reserve or the allocator)",
        Some("oom_killed") => "memory: the OOM killer",
        _ => "other",
    }
}

/// The replay for people.
pub fn render(ms: &[Machine]) -> String {
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
                    limit_words(l.cause.as_deref()),
                    l.confidence.as_deref().unwrap_or("?"),
                    l.summary.as_deref().unwrap_or("")
                )
            };
            let _ = writeln!(
                s,
                "  {:<12} {:<36} {here}",
                format!("{} MiB", l.memsize_mib),
                art
            );
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
            .all(|l| l.cause.as_deref() == Some("exceeds_total_pages"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_loads_parse() {
        let out = "@meminfo\nMemTotal:  372968 kB\nVmallocTotal: 630904 kB\n@load 400\n{\"event\":{\"outcome\":{\"result\":\"failed\",\"diagnosis\":{\"cause\":\"exceeds_total_pages\",\"confidence\":\"inferred\",\"summary\":\"Asked 400 MiB\",\"evidence\":[]}}}}\n@load 100\n{\"event\":{\"outcome\":{\"result\":\"ok\"}}}\n";
        let m = parse_machine(384, None, "r", out);
        assert_eq!(m.meminfo.get("VmallocTotal"), Some(&630_904));
        assert_eq!(m.loads.len(), 2);
        assert!(!m.loads[0].loaded);
        assert_eq!(m.loads[0].cause.as_deref(), Some("exceeds_total_pages"));
        assert!(m.loads[1].loaded);
        assert!(render(&[m]).contains("more than all its RAM"));
    }
}
