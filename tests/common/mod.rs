//! Helpers shared by the host tests (tests/host) and the lab tests (tests/lab), included by
//! both binaries with `#[path = "../common/mod.rs"] mod common;`. Each helper exists here
//! once; a test file adds only what is its own.
//!
//! Every lab check runs against a real Debian kernel under QEMU, through
//! `vmtop lab --exec`: nothing about loading is mocked.
#![allow(dead_code)]

pub mod tmux;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The vmtop binary cargo built for this test run.
pub fn vmtop() -> &'static str {
    env!("CARGO_BIN_EXE_vmtop")
}

/// The checkout (the crate sits in `tui/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the repository")
        .to_path_buf()
}

/// A private temporary folder (mode 0700, a name nobody can take first: tempfile creates
/// it and fails rather than reuse one that exists), removed when dropped.
pub fn temp_dir(what: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("vmtop-{what}-"))
        .tempdir()
        .unwrap_or_else(|e| panic!("creating a private temporary folder for {what}: {e}"))
}

/// What a command printed and how it ended.
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; -1 when a signal ended it.
    pub status: i32,
    pub took: Duration,
}

/// Run `cmd` to its end, print what it printed (shown when the test fails), and return it.
pub fn run(cmd: &mut Command) -> Out {
    let start = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let o = Out {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
        took: start.elapsed(),
    };
    eprintln!(
        "$ {cmd:?} ({:.1} s, exit {})\n--- stdout ---\n{}--- stderr ---\n{}",
        o.took.as_secs_f64(),
        o.status,
        o.stdout,
        o.stderr
    );
    o
}

/// Run `cmd`, which must succeed; its stdout and stderr together.
pub fn run_ok(cmd: &mut Command) -> String {
    let o = run(cmd);
    assert_eq!(o.status, 0, "{cmd:?} failed:\n{}{}", o.stdout, o.stderr);
    o.stdout + &o.stderr
}

/// The lab folder `vmtop lab` uses: $VMTOP_LAB_DIR, else the checkout's build/lab.
pub fn lab_dir() -> PathBuf {
    std::env::var_os("VMTOP_LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("build/lab"))
}

/// A lab kernel, as `vmtop lab --list-kernels` lists it.
#[derive(Debug, Clone)]
pub struct LabKernel {
    pub release: String,
    pub arch: String,
    pub image: PathBuf,
    /// Its headers (what `make -C` builds modules against).
    pub kdir: PathBuf,
    /// The one a plain `vmtop lab` boots ($VMTOP_LAB_KERNEL as it is set).
    pub default: bool,
}

/// Every lab kernel vmtop finds, from `vmtop lab --list-kernels` (no VM is booted).
pub fn lab_kernels() -> Vec<LabKernel> {
    let o = run(Command::new(vmtop()).args(["lab", "--list-kernels"]));
    assert_eq!(o.status, 0, "vmtop lab --list-kernels: {}", o.stderr);
    o.stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 4, "a kernel line has 4 or 5 columns: {l:?}");
            LabKernel {
                release: f[0].to_string(),
                arch: f[1].to_string(),
                image: PathBuf::from(f[2]),
                kdir: PathBuf::from(f[3]),
                default: f.get(4) == Some(&"default"),
            }
        })
        .collect()
}

/// The lab kernel a plain `vmtop lab` boots (the one this test run is about).
pub fn lab_kernel() -> LabKernel {
    let all = lab_kernels();
    let mut default = all.iter().filter(|k| k.default);
    let k = default
        .next()
        .unwrap_or_else(|| panic!("no default lab kernel in {all:?}"))
        .clone();
    assert!(default.next().is_none(), "one default lab kernel: {all:?}");
    assert!(
        k.kdir.join("Makefile").is_file(),
        "headers of {} at {}",
        k.release,
        k.kdir.display()
    );
    k
}

/// Build the module from kmod-src for `kernel` in `dir` (a private folder of the test's
/// own), as `make -C <headers> M=<dir> modules` does; the path of the .ko.
pub fn build_module(kernel: &LabKernel, dir: &Path) -> PathBuf {
    for f in ["alloc_large_mem.c", "Kbuild"] {
        std::fs::copy(repo().join("kmod-src").join(f), dir.join(f))
            .unwrap_or_else(|e| panic!("copying kmod-src/{f} to {}: {e}", dir.display()));
    }
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(&kernel.kdir)
        .arg(format!("M={}", dir.display()));
    if kernel.arch == "i386" {
        make.arg("ARCH=x86");
    }
    run_ok(make.arg("modules"));
    let ko = dir.join("alloc_large_mem.ko");
    assert!(ko.is_file(), "{} built", ko.display());
    ko
}

/// `--copy` arguments that put a host program, and the shared libraries `ldd` lists for it,
/// into the VM: the program at `guest`, the libraries at their host paths.
/// `program`: a name looked up in PATH, or a path.
pub fn copy_with_libraries(program: &str, guest: &str) -> Vec<String> {
    let found = Command::new("sh")
        .args(["-c", "command -v \"$0\"", program])
        .output()
        .expect("sh");
    let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
    assert!(!path.is_empty(), "{program} is not installed on this host");
    let ldd = Command::new("ldd").arg(&path).output().expect("ldd");
    let mut args = vec!["--copy".to_string(), format!("{path}:{guest}")];
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        if let Some(lib) = line.split("=> ").nth(1).and_then(|r| r.split(' ').next()) {
            args.push("--copy".into());
            args.push(format!("{lib}:{lib}"));
        }
    }
    args
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

    /// The value of `key=`: panics when the script did not print it.
    pub fn get(&self, key: &str) -> String {
        self.vars()
            .remove(key)
            .unwrap_or_else(|| panic!("{key} missing from VM output:\n{}", self.out))
    }

    pub fn num(&self, key: &str) -> i64 {
        let v = self.get(key);
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

/// What the kernel says when something went wrong inside it.
pub const KERNEL_BAD: &str = "WARNING:|BUG:|Oops|Bad page state";

/// The kernel health check, appended to every lab script: each line of the kernel log that
/// shows a kernel problem (`bad: ...`), and their count (`bad_kernel_lines=N`).
pub const HEALTH: &str = r#"
echo "== kernel health"
dmesg | grep -E 'WARNING:|BUG:|Oops|Bad page state' | sed 's/^/bad: /'
echo bad_kernel_lines=$(dmesg | grep -c -E 'WARNING:|BUG:|Oops|Bad page state')
"#;

/// What a lab run must end with (the default: status 0, no kernel warning).
#[derive(Clone, Copy, Debug, Default)]
pub struct Expect {
    /// The exit status of `vmtop lab` (the script's own).
    pub status: i32,
    /// The kernel log may show a WARNING (a capture of the kernel's own warning, in unsafe
    /// mode). Every other run requires a log free of WARNING/BUG/Oops/Bad page state.
    pub kernel_warning_allowed: bool,
}

/// Boot the lab with `args` (e.g. ["--mem", "512"]) and run `script` inside; the script must
/// end with status 0 and the kernel log must show no kernel problem.
pub fn lab(args: &[&str], script: &str) -> Run {
    lab_expecting(args, script, Expect::default())
}

/// `lab`, for a script that ends with another status or may make the kernel warn.
pub fn lab_expecting(args: &[&str], script: &str, expect: Expect) -> Run {
    // The script's own status is kept across the health check.
    let full = format!("{PRELUDE}\n{script}\n__vmtop_rc=$?\n{HEALTH}\nexit $__vmtop_rc\n");
    let o = run(Command::new(vmtop())
        .arg("lab")
        .args(args)
        .args(["--timeout", "8m", "--exec"])
        .arg(&full));
    assert_eq!(
        o.status, expect.status,
        "vmtop lab {args:?} ended with {} (expected {}):\n{}\n--- stderr ---\n{}",
        o.status, expect.status, o.stdout, o.stderr
    );
    let r = Run {
        out: o.stdout,
        status: o.status,
    };
    if !expect.kernel_warning_allowed {
        assert_eq!(
            r.num("bad_kernel_lines"),
            0,
            "the kernel log shows a problem ({KERNEL_BAD}):\n{}",
            r.out
        );
    }
    r
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

/// The text between the line `from` and the next line starting with "== ".
pub fn section<'a>(out: &'a str, from: &str) -> &'a str {
    let start = out
        .find(from)
        .unwrap_or_else(|| panic!("{from} missing:\n{out}"))
        + from.len();
    let rest = &out[start..];
    let rest = rest.strip_prefix('\n').unwrap_or(rest);
    &rest[..rest.find("\n== ").map_or(rest.len(), |i| i + 1)]
}

/// The cause vmtop's diagnosis named in a load event's JSON ("none" for a success).
pub fn cause(v: &serde_json::Value) -> &str {
    v["event"]["outcome"]["diagnosis"]["cause"]
        .as_str()
        .unwrap_or("none")
}
