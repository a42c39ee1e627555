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

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnose::{Cause, Confidence};
use crate::engine::Event;
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
    pub cause: Option<Cause>,
    pub confidence: Option<Confidence>,
    pub summary: Option<String>,
    pub detail: Option<String>,
    /// The kernel's own log lines behind the diagnosis.
    pub evidence: Vec<String>,
    /// What a load that worked changed in /proc/meminfo, bytes (None for a failure).
    pub delta: Option<crate::system::meminfo::Delta>,
}

/// What `vmtop load --json` prints, as far as the replay reads it.
#[derive(Deserialize)]
struct LoadJson {
    event: Event,
}

impl Load {
    /// A load of `memsize_mib` from `vmtop load --json`'s output (nothing known when it is
    /// not that: the load did not run to its end).
    fn from_json(memsize_mib: u64, json: &str) -> Load {
        let event = serde_json::from_str::<LoadJson>(json).ok().map(|j| j.event);
        let d = event.as_ref().and_then(Event::diagnosis);
        Load {
            memsize_mib,
            loaded: event.as_ref().is_some_and(|e| !e.failed()),
            cause: d.map(|d| d.cause),
            confidence: d.map(|d| d.confidence),
            summary: d.map(|d| d.summary.clone()),
            detail: d.map(|d| d.detail.clone()),
            evidence: d.map(|d| d.evidence.clone()).unwrap_or_default(),
            delta: event.as_ref().filter(|e| !e.failed()).and_then(|e| e.delta),
        }
    }
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
            m.loads.push(Load::from_json(size, &body));
        } else if name == "probe" {
            m.probe = serde_json::from_str(&body).ok();
        }
    }
    m
}

/// Boot each machine, a VM as `lab` describes it otherwise, and run the steps. `progress`
/// gets one line per machine.
pub fn run(lab: &LabOptions, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Vec<Machine>> {
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
            ..lab.clone()
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
    use crate::diagnose::Diagnosis;
    use crate::engine::{EventKind, Outcome};
    use crate::system::meminfo::Delta;

    fn event(outcome: Outcome, delta: Option<Delta>) -> Event {
        Event {
            t: 1.5,
            kind: EventKind::Load,
            memsize_mib: 400,
            oom_safe: true,
            outcome,
            wall_ns: 1_000,
            alloc_ns: None,
            fill_ns: None,
            module_line: None,
            delta,
            alloc: Some(crate::module::alloc::Allocator::Vmalloc),
        }
    }

    /// As `vmtop load --json` prints it (commands/load.rs).
    fn load_json(e: &Event) -> String {
        serde_json::to_string_pretty(&serde_json::json!({
            "event": e,
            "alloc": "vmalloc",
            "layout": null,
            "errno": 12,
            "asked_kernel": true,
        }))
        .expect("JSON")
    }

    #[test]
    fn sections_and_loads_parse() {
        let failed = event(
            Outcome::Failed {
                diagnosis: Diagnosis {
                    cause: Cause::ExceedsTotalPages,
                    confidence: Confidence::Inferred,
                    summary: "Asked 400 MiB".into(),
                    detail: "more than all RAM".into(),
                    evidence: vec!["vmalloc error: size 419430400, exceeds total pages".into()],
                },
            },
            None,
        );
        let delta = Delta {
            mem_free: -104_857_600,
            mem_available: -104_000_000,
            vmalloc_used: 105_000_000,
        };
        let ok = event(Outcome::Ok, Some(delta));
        let out = format!(
            "@meminfo\nMemTotal:  372968 kB\nVmallocTotal: 630904 kB\n@load 400\n{}\n@load 100\n{}\n@load 500\nvmtop: not JSON\n",
            load_json(&failed),
            load_json(&ok)
        );
        let m = parse_machine(384, None, "r", &out);
        assert_eq!(m.meminfo.get("VmallocTotal"), Some(&630_904));
        assert_eq!(m.loads.len(), 3);
        let (l0, l1, l2) = (&m.loads[0], &m.loads[1], &m.loads[2]);
        assert!(!l0.loaded);
        assert_eq!(l0.cause, Some(Cause::ExceedsTotalPages));
        assert_eq!(l0.confidence, Some(Confidence::Inferred));
        assert_eq!(l0.evidence.len(), 1);
        assert!(l0.delta.is_none());
        assert!(l1.loaded);
        assert_eq!(l1.delta, Some(delta));
        assert_eq!(l1.cause, None);
        // A load whose output is not the JSON: nothing known, not loaded.
        assert!(!l2.loaded && l2.cause.is_none() && l2.summary.is_none());
        // The replay's own JSON names the cause as the load's JSON does.
        let v = serde_json::to_value(l0).expect("JSON");
        assert_eq!(v["cause"], "exceeds_total_pages");
        assert_eq!(v["confidence"], "inferred");
    }
}
