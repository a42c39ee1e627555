//! Shared helpers for the tests that boot the lab VM.
//!
//! Every check here runs against a real Debian kernel under QEMU, through
//! `vmtop lab --exec`: nothing about loading is mocked.
#![allow(dead_code)]

use std::collections::HashMap;
use std::process::Command;

pub fn vmtop() -> &'static str {
    env!("CARGO_BIN_EXE_vmtop")
}

pub struct Run {
    pub out: String,
    pub status: i32,
}

impl Run {
    /// `key=value` pairs printed by the script (last one wins).
    pub fn vars(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for line in self.out.lines() {
            for word in line.split_whitespace() {
                if let Some((k, v)) = word.split_once('=') {
                    m.insert(k.to_string(), v.to_string());
                }
            }
        }
        m
    }

    pub fn num(&self, key: &str) -> i64 {
        let vars = self.vars();
        let v = vars
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from VM output:\n{}", self.out));
        v.parse()
            .unwrap_or_else(|_| panic!("{key}={v} is not a number:\n{}", self.out))
    }
}

/// Shell functions available to every script in the VM.
pub const PRELUDE: &str = r#"
mi() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
loaded() { grep -q '^alloc_large_mem ' /proc/modules && echo 1 || echo 0; }
# Free memory in KiB including the pages parked on per-CPU free lists (/proc/zoneinfo
# "count:"), which MemFree leaves out: up to tens of MiB per CPU move between the two.
truefree() { awk -v f="$(mi MemFree)" '$1 == "count:" { n += $2 } END { print f + n * 4 }' /proc/zoneinfo; }
"#;

/// Boot the lab with `args` (e.g. ["--mem", "512"]) and run `script` inside.
pub fn lab(args: &[&str], script: &str) -> Run {
    let full = format!("{PRELUDE}\n{script}");
    let out = Command::new(vmtop())
        .arg("lab")
        .args(args)
        .arg("--timeout")
        .arg("8m")
        .arg("--exec")
        .arg(&full)
        .output()
        .expect("running vmtop lab");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("vmtop: ") || out.status.code().is_some(),
        "vmtop lab failed: {stderr}"
    );
    eprintln!("--- VM output ---\n{stdout}\n--- stderr ---\n{stderr}");
    Run {
        out: stdout,
        status: out.status.code().unwrap_or(-1),
    }
}

/// Where `vmtop lab` builds the module (the lab dir's work folder).
pub fn lab_work_dir() -> std::path::PathBuf {
    let lab = std::env::var_os("VMTOP_LAB_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../build/lab"));
    lab.join("work")
}

/// The JSON document printed after the line `marker` (a `vmtop ... --json` output: it ends
/// at the first line that is a lone `}`).
pub fn json_after(out: &str, marker: &str) -> serde_json::Value {
    let start = out
        .find(&format!("{marker}\n"))
        .unwrap_or_else(|| panic!("{marker} missing:\n{out}"))
        + marker.len();
    let rest = &out[start..];
    let end = rest.find("\n}").map_or(rest.len(), |i| i + 2);
    serde_json::from_str(&rest[..end])
        .unwrap_or_else(|e| panic!("bad JSON after {marker}: {e}\n{rest}"))
}

/// The cause vmtop's diagnosis named in a load event's JSON ("none" for a success).
pub fn cause(v: &serde_json::Value) -> &str {
    v["event"]["outcome"]["diagnosis"]["cause"]
        .as_str()
        .unwrap_or("none")
}
