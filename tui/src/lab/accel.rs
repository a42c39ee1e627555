//! QEMU's accelerator for the lab: KVM where it works, else TCG (software emulation).
//!
//! `/dev/kvm` can exist and still not work: on nested build machines QEMU aborts with
//! `-cpu host` ("failed to set MSR 0x10a") and other CPU models hang after "Booting from
//! ROM". So `auto` boots the lab kernel once under KVM with a tiny initramfs whose /init
//! prints a marker, within a short deadline, and keeps the verdict for the host's boot
//! (keyed on its boot_id and the QEMU binary) so test suites pay the probe once.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::initramfs::Archive;
use super::kernel::Arch;
use super::TempDir;

/// What the user asked for (`--accel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Accel {
    /// KVM if a probe boot works on this machine, else TCG
    #[default]
    Auto,
    /// Hardware virtualisation (/dev/kvm); an error if it does not work here
    Kvm,
    /// Software emulation: slower, works everywhere
    Tcg,
}

/// What the VM runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    Kvm,
    Tcg,
}

impl Used {
    pub fn name(self) -> &'static str {
        match self {
            Used::Kvm => "kvm",
            Used::Tcg => "tcg",
        }
    }

    /// `-accel` and `-cpu` for QEMU. TCG's `max` emulates every feature QEMU has; KVM's
    /// `host` passes the real CPU through. TCG runs all vCPUs in one host thread: with one
    /// thread per vCPU (QEMU 7.2), Debian's 6.12 kernel sometimes dies at boot with
    /// "Oops: int3" in code it is patching (2 of ~55 boots here, none of 60 with one
    /// thread), and one thread is no slower on these 2-core machines running two VMs.
    pub fn qemu_args(self) -> [&'static str; 4] {
        match self {
            Used::Kvm => ["-accel", "kvm", "-cpu", "host"],
            Used::Tcg => ["-accel", "tcg,thread=single", "-cpu", "max"],
        }
    }
}

/// The accelerator chosen, and why (shown on stderr and in `--json`).
#[derive(Debug, Clone)]
pub struct Choice {
    pub used: Used,
    pub why: String,
    /// Time spent probing KVM in this run (None: no probe ran, e.g. a cached verdict).
    pub probe: Option<Duration>,
}

/// A KVM guest reaches /init in well under a second on hardware; TCG takes 2-5 s here.
const PROBE_DEADLINE: Duration = Duration::from_secs(5);
const PROBE_MARKER: &str = "VMTOP-KVM-PROBE-OK";
const PROBE_INIT: &str = "#!/bin/busybox sh
/bin/busybox mkdir -p /dev
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox echo VMTOP-KVM-PROBE-OK >/dev/console
/bin/busybox poweroff -f
";
const CACHE_FILE: &str = "kvm-probe";

/// What a probe boot needs.
pub struct ProbeInputs<'a> {
    pub qemu: &'a Path,
    pub arch: Arch,
    pub image: &'a Path,
    pub busybox: &'a Path,
    /// Where the verdict is kept: the lab's private work folder (`lab::private`).
    pub cache_dir: &'a Path,
}

pub fn choose(requested: Accel, p: &ProbeInputs) -> anyhow::Result<Choice> {
    let tcg = |why: String| Choice {
        used: Used::Tcg,
        why,
        probe: None,
    };
    let refuse = |problem: &str| -> anyhow::Error {
        anyhow::anyhow!(
            "--accel kvm: {problem}; use --accel tcg (software emulation) or --accel auto"
        )
    };
    if requested == Accel::Tcg {
        return Ok(tcg("--accel tcg".into()));
    }
    if let Err(why) = kvm_can_run(p.arch, std::env::consts::ARCH) {
        if requested == Accel::Kvm {
            return Err(refuse(&why));
        }
        return Ok(tcg(why));
    }
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    {
        let why = format!("/dev/kvm cannot be opened ({e})");
        if requested == Accel::Kvm {
            return Err(refuse(&why));
        }
        return Ok(tcg(why));
    }
    let key = cache_key(p.qemu);
    let cache = p.cache_dir.join(CACHE_FILE);
    // One probe at a time per lab dir: a second `vmtop lab` (tests run two) waits, then
    // reads the first one's verdict.
    std::fs::create_dir_all(p.cache_dir)
        .with_context(|| format!("creating {}", p.cache_dir.display()))?;
    let lock_path = p.cache_dir.join(format!("{CACHE_FILE}.lock"));
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening the probe lock {}", lock_path.display()))?;
    let _lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow::anyhow!("locking {}: {e}", lock_path.display()))?;

    // --accel kvm always probes afresh: its answer is final, so it must be current.
    let cached = match (&key, requested) {
        (Some(k), Accel::Auto) => read_cache(&cache, k),
        _ => None,
    };
    let (verdict, probe) = match cached {
        Some(v) => (v, None),
        None => {
            let start = Instant::now();
            let v = probe_boot(p);
            let took = start.elapsed();
            if let Some(k) = &key {
                // A cache that cannot be written only costs the next run another probe.
                let _ = write_cache(&cache, k, &v);
            }
            (v, Some(took))
        }
    };
    let when = match probe {
        Some(t) => format!("probed in {:.2} s", t.as_secs_f64()),
        None => format!("verdict of an earlier probe this boot, {}", cache.display()),
    };
    match verdict {
        Ok(()) => Ok(Choice {
            used: Used::Kvm,
            why: format!("KVM works here ({when})"),
            probe,
        }),
        Err(why) if requested == Accel::Kvm => {
            Err(refuse(&format!("KVM does not work on this machine: {why}")))
        }
        Err(why) => Ok(Choice {
            used: Used::Tcg,
            why: format!("KVM does not work here ({why}; {when})"),
            probe,
        }),
    }
}

/// KVM runs guests of the host's own instruction set (x86_64 hosts also run i386 ones).
fn kvm_can_run(kernel: Arch, host: &str) -> Result<(), String> {
    let ok = match host {
        "x86_64" => matches!(kernel, Arch::X86_64 | Arch::I386),
        "x86" => kernel == Arch::I386,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "KVM cannot run an {} kernel on this {host} machine",
            kernel.name()
        ))
    }
}

/// Boot the kernel under KVM with an initramfs that only prints a marker.
fn probe_boot(p: &ProbeInputs) -> Result<(), String> {
    let tmp = TempDir::new("vmtop-kvm-probe").map_err(|e| format!("{e:#}"))?;
    let initrd = tmp.path.join("probe.cpio");
    let mut a = Archive::new();
    a.copy(p.busybox, "/bin/busybox")
        .map_err(|e| format!("{e:#}"))?;
    a.file("/init", 0o755, PROBE_INIT.as_bytes());
    let f = std::fs::File::create(&initrd)
        .map_err(|e| format!("creating {}: {e}", initrd.display()))?;
    a.write_to(std::io::BufWriter::new(f))
        .map_err(|e| format!("writing {}: {e}", initrd.display()))?;
    let mut child = Command::new(p.qemu)
        .args(Used::Kvm.qemu_args())
        .args([
            "-m", "256", "-smp", "1", "-display", "none", "-monitor", "none",
        ])
        .args(["-no-reboot", "-serial", "stdio", "-kernel"])
        .arg(p.image)
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", "console=ttyS0 quiet loglevel=1 panic=-1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", p.qemu.display()))?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("QEMU's output pipes were not set up".into());
    };
    let (tx, rx) = std::sync::mpsc::channel::<bool>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(PROBE_MARKER) {
                let _ = tx.send(true);
                return;
            }
        }
        let _ = tx.send(false);
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let outcome = rx.recv_timeout(PROBE_DEADLINE);
    // The guest powers off by itself after the marker; otherwise stop it now.
    let _ = child.kill();
    let status = child.wait();
    let err = err_thread.join().unwrap_or_default();
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(format!(
            "QEMU stopped ({}) before the guest ran: {}",
            status.map_or_else(|e| e.to_string(), |s| s.to_string()),
            qemu_complaint(&err)
        )),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "the guest did not reach /init within {} s (it hangs)",
            PROBE_DEADLINE.as_secs()
        )),
    }
}

/// The lines of QEMU's stderr that say what went wrong.
fn qemu_complaint(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains("error"))
        .collect();
    let chosen = if errors.is_empty() { lines } else { errors };
    match chosen.first() {
        Some(first) => first.to_string(),
        None => "no message".into(),
    }
}

/// The host's boot and the QEMU binary (path, size, mtime): a new boot or another QEMU
/// probes again. None when the boot cannot be told apart (then every run probes).
fn cache_key(qemu: &Path) -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let meta = std::fs::metadata(qemu).ok()?;
    use std::os::unix::fs::MetadataExt as _;
    Some(format!(
        "{} {} {} {}",
        boot.trim(),
        qemu.display(),
        meta.len(),
        meta.mtime()
    ))
}

/// Cache lines: `KEY<TAB>ok` or `KEY<TAB>fail<TAB>REASON`.
fn parse_cache(text: &str, key: &str) -> Option<Result<(), String>> {
    text.lines().rev().find_map(|l| {
        let mut f = l.splitn(3, '\t');
        if f.next()? != key {
            return None;
        }
        match (f.next()?, f.next()) {
            ("ok", _) => Some(Ok(())),
            ("fail", Some(why)) => Some(Err(why.to_string())),
            _ => None,
        }
    })
}

fn read_cache(path: &Path, key: &str) -> Option<Result<(), String>> {
    parse_cache(&std::fs::read_to_string(path).ok()?, key)
}

fn cache_line(key: &str, verdict: &Result<(), String>) -> String {
    match verdict {
        Ok(()) => format!("{key}\tok\n"),
        Err(why) => format!("{key}\tfail\t{}\n", why.replace(['\n', '\t'], " ")),
    }
}

/// Keeps this boot's entries (other QEMU binaries), drops older boots'; atomic rename.
fn write_cache(path: &Path, key: &str, verdict: &Result<(), String>) -> std::io::Result<()> {
    let boot = key.split(' ').next().unwrap_or_default();
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut text: String = old
        .lines()
        .filter(|l| l.split(' ').next() == Some(boot) && !l.starts_with(&format!("{key}\t")))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(&cache_line(key, verdict));
    // The folder is private (lab::private); still, never write through a link left there.
    let tmp: PathBuf = path.with_extension(format!("tmp{}", std::process::id()));
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvm_runs_the_hosts_own_instruction_set() {
        assert!(kvm_can_run(Arch::X86_64, "x86_64").is_ok());
        assert!(kvm_can_run(Arch::I386, "x86_64").is_ok());
        assert!(kvm_can_run(Arch::I386, "x86").is_ok());
        let e = kvm_can_run(Arch::X86_64, "aarch64").expect_err("arm host");
        assert_eq!(e, "KVM cannot run an x86_64 kernel on this aarch64 machine");
        assert!(kvm_can_run(Arch::X86_64, "x86").is_err());
    }

    #[test]
    fn cache_lines_round_trip_by_key() {
        let a = "boot1 /usr/bin/qemu-system-x86_64 100 5";
        let b = "boot1 /usr/bin/qemu-system-i386 90 5";
        let text = cache_line(a, &Err("exited: failed to set\tMSR 0x10a".into()))
            + &cache_line(b, &Ok(()));
        assert_eq!(
            parse_cache(&text, a),
            Some(Err("exited: failed to set MSR 0x10a".into()))
        );
        assert_eq!(parse_cache(&text, b), Some(Ok(())));
        assert_eq!(
            parse_cache(&text, "boot2 /usr/bin/qemu-system-x86_64 100 5"),
            None
        );
        // A key that is a prefix of another does not match it.
        assert_eq!(
            parse_cache(&text, "boot1 /usr/bin/qemu-system-x86_64 100"),
            None
        );
    }

    #[test]
    fn cache_file_keeps_this_boots_other_entries() {
        let tmp = TempDir::new("vmtop-accel-test").expect("temp dir");
        let path = tmp.path.join(CACHE_FILE);
        let old = "boot0 /q 1 1";
        let a = "boot1 /q 1 1";
        let b = "boot1 /r 1 1";
        write_cache(&path, old, &Ok(())).expect("write");
        write_cache(&path, b, &Ok(())).expect("write");
        write_cache(&path, a, &Err("hangs".into())).expect("write");
        write_cache(&path, a, &Err("hangs again".into())).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "boot1 /r 1 1\tok\nboot1 /q 1 1\tfail\thangs again\n");
        assert_eq!(read_cache(&path, old), None);
    }

    #[test]
    fn qemus_error_line_is_the_reason() {
        let abort = "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n\
qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n";
        assert_eq!(
            qemu_complaint(abort),
            "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69"
        );
        assert_eq!(
            qemu_complaint("\nqemu: could not open /dev/kvm\n"),
            "qemu: could not open /dev/kvm"
        );
        assert_eq!(qemu_complaint(""), "no message");
    }
}
