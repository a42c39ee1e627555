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
    pub const FREE_BEFORE_KB: u64 = 196_864;
    pub const FREE_AFTER_DEFAULT_KB: u64 = 95_236;
    pub const VMALLOC_TOTAL_KB: u64 = 638_968;
    pub const VMALLOC_USED_KB: u64 = 3_512;
    pub const VMALLOC_CHUNK_KB: u64 = 633_644;
    /// With memsize=300 loaded.
    pub const VMALLOC_USED_300_KB: u64 = 311_032;
    pub const SWAP_KB: u64 = 522_104;
    /// memsize and the article's outcome, in its order.
    pub const LOADS: [(u64, &str); 4] = [
        (100, "loaded"),
        (300, "loaded"),
        (500, "insmod: -1 Cannot allocate memory"),
        (400, "insmod: -1 Cannot allocate memory"),
    ];
    /// What the article's loads changed, kB: `free`'s "free" column around the default load
    /// (100 MB) and around memsize=300 (after its reboot: 284408 -> 5584), and VmallocUsed
    /// around memsize=300 (3512 -> 311032; it did not print Vmalloc lines for the first).
    pub const FREE_BEFORE_300_KB: u64 = 284_408;
    pub const FREE_AFTER_300_KB: u64 = 5_584;
    /// (memsize, MemFree change, VmallocUsed change), kB.
    pub fn change(memsize_mib: u64) -> Option<(i64, Option<i64>)> {
        let d = |a: u64, b: u64| a as i64 - b as i64;
        match memsize_mib {
            100 => Some((d(FREE_AFTER_DEFAULT_KB, FREE_BEFORE_KB), None)),
            300 => Some((
                d(FREE_AFTER_300_KB, FREE_BEFORE_300_KB),
                Some(d(VMALLOC_USED_300_KB, VMALLOC_USED_KB)),
            )),
            _ => None,
        }
    }
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
    /// What a load that worked changed in /proc/meminfo, bytes (None for a failure).
    pub delta: Option<crate::system::meminfo::Delta>,
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
            let delta = &v["event"]["delta"];
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
                delta: (v["event"]["outcome"]["result"] == "ok")
                    .then(|| {
                        Some(crate::system::meminfo::Delta {
                            mem_free: delta["mem_free"].as_i64()?,
                            mem_available: delta["mem_available"].as_i64()?,
                            vmalloc_used: delta["vmalloc_used"].as_i64()?,
                        })
                    })
                    .flatten(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_loads_parse() {
        let out = "@meminfo\nMemTotal:  372968 kB\nVmallocTotal: 630904 kB\n@load 400\n{\"event\":{\"outcome\":{\"result\":\"failed\",\"diagnosis\":{\"cause\":\"exceeds_total_pages\",\"confidence\":\"inferred\",\"summary\":\"Asked 400 MiB\",\"evidence\":[]}}}}\n@load 100\n{\"event\":{\"outcome\":{\"result\":\"ok\"},\"delta\":{\"mem_free\":-104857600,\"mem_available\":-104000000,\"vmalloc_used\":105000000}}}\n";
        let m = parse_machine(384, None, "r", out);
        assert_eq!(m.meminfo.get("VmallocTotal"), Some(&630_904));
        assert_eq!(m.loads.len(), 2);
        assert!(!m.loads[0].loaded);
        assert_eq!(m.loads[0].cause.as_deref(), Some("exceeds_total_pages"));
        assert!(m.loads[1].loaded);
        assert_eq!(m.loads[1].delta.map(|d| d.vmalloc_used), Some(105_000_000));
        assert!(m.loads[0].delta.is_none());
    }
}
