//! vmtop's own tracefs instance, `instances/vmtop`: the kernel's `vmalloc:alloc_vmap_area`
//! event (Linux 6.2+, `crate::system::vmap_trace`) enabled there for the duration of each
//! load, so that an address-space failure is known from the kernel's own record.
//!
//! An instance is a trace buffer with its own event switches (Documentation/trace/ftrace.rst,
//! "Instances"): enabling the event there leaves the system's tracing — the top-level
//! buffer, other instances, their events, filters and tracers — as it was. vmtop creates it
//! at its first load (`mkdir`), with a small buffer and a filter keeping only failures,
//! enables the event just before `init_module` and disables it just after, and removes the
//! instance (`rmdir`) when it ends: on quit, on SIGTERM/SIGINT/SIGHUP (through the normal
//! exit path), and on a panic (the panic hook calls `cleanup`). A `kill -9` or a crash of the
//! machine's power leaves it behind: the next vmtop removes it when it starts
//! (`clean_stale`), unless another vmtop is using it, which holds a `flock` on its
//! directory.
//!
//! Needs root (tracefs is root's) and tracefs mounted (systemd mounts it at
//! /sys/kernel/tracing; the lab's /init does too). Each reason it cannot work is said in
//! words (`Unavailable`), and the diagnosis carries it.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::system::vmap_trace::{self, VmapEvent, VmapTrace};

/// The instance's name under instances/.
pub const INSTANCE: &str = "vmtop";
/// Per-CPU buffer of the instance, KiB (the kernel rounds up to a page): failures are rare
/// and filtered, a page holds dozens; the default (1.4 MiB per CPU) would be memory taken
/// from the experiment. A new instance is made with the default size, then shrunk.
const BUFFER_KIB: u32 = 4;
/// Only failures are recorded.
const FILTER: &str = "failed != 0";

/// Where tracefs is mounted: /sys/kernel/tracing, else debugfs' tracing/ (older systems).
pub fn root() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    tracefs_mount(&mounts).or_else(|| {
        let debug = Path::new("/sys/kernel/debug/tracing");
        debug
            .join("instances")
            .is_dir()
            .then(|| debug.to_path_buf())
    })
}

/// The first tracefs mount point in /proc/mounts text, /sys/kernel/tracing preferred.
fn tracefs_mount(mounts: &str) -> Option<PathBuf> {
    let points: Vec<&str> = mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_ascii_whitespace();
            let (_, point, fstype) = (f.next()?, f.next()?, f.next()?);
            (fstype == "tracefs").then_some(point)
        })
        .collect();
    points
        .iter()
        .find(|p| **p == "/sys/kernel/tracing")
        .or_else(|| points.first())
        .map(PathBuf::from)
}

/// Why the event cannot be recorded here, for the diagnosis and `vmtop status`; None when it
/// can.
pub fn unavailable_reason(root: Option<&Path>, release: &str) -> Option<String> {
    let Some(root) = root else {
        return Some(
            "tracefs is not mounted, so the kernel's vmalloc:alloc_vmap_area events cannot be read \
             (as root: mount -t tracefs nodev /sys/kernel/tracing)"
                .into(),
        );
    };
    let events = root.join("events");
    match std::fs::read_dir(&events) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Some(format!(
            "{} is root's: run vmtop as root to record the kernel's vmalloc:alloc_vmap_area events",
            root.display()
        ))
        }
        Err(e) => {
            return Some(format!(
            "cannot read {}: {e} (the kernel's vmalloc:alloc_vmap_area events are not recorded)",
            events.display()
        ))
        }
        Ok(_) => {}
    }
    if !events.join(vmap_trace::EVENT).is_dir() {
        return Some(format!(
            "kernel {release} has no vmalloc:alloc_vmap_area trace event (Linux 6.2 added it; \
             a kernel without CONFIG_TRACING lacks it too)"
        ));
    }
    if !root.join("instances").is_dir() {
        return Some(format!(
            "{} has no instances/ folder: vmtop records events only in an instance of its own",
            root.display()
        ));
    }
    None
}

/// Instances that must be removed when vmtop ends, whoever ends it (the panic hook).
static ACTIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remove every instance this process created (idempotent; from the panic hook and the
/// exit paths). Never blocks: a lock held by the panicking thread is skipped.
pub fn cleanup() {
    let dirs = match ACTIVE.try_lock() {
        Ok(mut v) => std::mem::take(&mut *v),
        Err(std::sync::TryLockError::Poisoned(p)) => std::mem::take(&mut *p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    for d in dirs {
        let _ = remove(&d);
    }
}

/// Disable the event and remove the instance folder.
fn remove(dir: &Path) -> std::io::Result<()> {
    let _ = std::fs::write(
        dir.join("events").join(vmap_trace::EVENT).join("enable"),
        "0",
    );
    std::fs::remove_dir(dir)
}

/// An instance left by a vmtop that died (no flock on it): remove it. Returns what was done,
/// for a notice; None when there was nothing (or no tracefs, or another vmtop owns it).
pub fn clean_stale() -> Option<String> {
    let dir = root()?.join("instances").join(INSTANCE);
    if !dir.is_dir() {
        return None;
    }
    let f = File::open(&dir).ok()?;
    if !try_lock(&f) {
        return None;
    }
    drop(f);
    match remove(&dir) {
        Ok(()) => Some(format!(
            "removed the tracefs instance {} that an earlier vmtop left behind",
            dir.display()
        )),
        Err(e) => Some(format!(
            "could not remove the stale tracefs instance {}: {e} (as root: rmdir {})",
            dir.display(),
            dir.display()
        )),
    }
}

fn try_lock(f: &File) -> bool {
    use std::os::fd::AsRawFd as _;
    // SAFETY: flock on a file descriptor this function borrows; no memory is involved.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// vmtop's instance, made ready to record the event; removed on drop.
#[derive(Debug)]
pub struct Instance {
    dir: PathBuf,
    /// Held open with a flock while the instance is vmtop's (see `clean_stale`).
    lock: Option<File>,
}

impl Instance {
    /// Create (or take over a stale) `instances/vmtop` under `root` and set it up: small
    /// buffer, failures only, event off.
    pub fn create(root: &Path) -> Result<Instance, String> {
        let dir = root.join("instances").join(INSTANCE);
        if dir.is_dir() {
            let f = File::open(&dir).map_err(|e| format!("opening {}: {e}", dir.display()))?;
            if !try_lock(&f) {
                return Err(format!(
                    "another vmtop is using the tracefs instance {} (it holds its lock): this one does not record the kernel's vmalloc:alloc_vmap_area events",
                    dir.display()
                ));
            }
            drop(f);
            remove(&dir).map_err(|e| {
                format!(
                    "removing the stale tracefs instance {}: {e} (as root: rmdir {})",
                    dir.display(),
                    dir.display()
                )
            })?;
        }
        std::fs::create_dir(&dir).map_err(|e| {
            format!(
                "creating the tracefs instance {}: {e}{}",
                dir.display(),
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    " (needs root)"
                } else {
                    ""
                }
            )
        })?;
        if let Ok(mut v) = ACTIVE.lock() {
            v.push(dir.clone());
        }
        let mut inst = Instance { dir, lock: None };
        let lock =
            File::open(&inst.dir).map_err(|e| format!("opening {}: {e}", inst.dir.display()))?;
        if !try_lock(&lock) {
            return Err(format!(
                "another vmtop took the tracefs instance {} at the same moment",
                inst.dir.display()
            ));
        }
        inst.lock = Some(lock);
        inst.write("buffer_size_kb", &BUFFER_KIB.to_string())?;
        inst.write(&format!("events/{}/filter", vmap_trace::EVENT), FILTER)?;
        inst.write(&format!("events/{}/enable", vmap_trace::EVENT), "0")?;
        Ok(inst)
    }

    fn write(&self, rel: &str, value: &str) -> Result<(), String> {
        let p = self.dir.join(rel);
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&p)
            .and_then(|mut f| f.write_all(value.as_bytes()))
            .map_err(|e| format!("writing {value:?} to {}: {e}", p.display()))
    }

    /// Empty the buffer and enable the event: call just before the load.
    pub fn arm(&self) -> Result<(), String> {
        // Opening `trace` for writing with O_TRUNC empties the instance's buffer.
        self.write("trace", "")?;
        self.write(&format!("events/{}/enable", vmap_trace::EVENT), "1")
    }

    /// Disable the event and read what it recorded: call just after the load.
    pub fn collect(&self) -> Result<Vec<VmapEvent>, String> {
        let off = self.write(&format!("events/{}/enable", vmap_trace::EVENT), "0");
        let p = self.dir.join("trace");
        let mut text = String::new();
        File::open(&p)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|e| format!("reading {}: {e}", p.display()))?;
        off?;
        Ok(vmap_trace::parse(&text))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.lock = None;
        let _ = remove(&self.dir);
        if let Ok(mut v) = ACTIVE.lock() {
            v.retain(|d| d != &self.dir);
        }
    }
}

/// The recorder a load uses: the instance made at the first load, or why there is none.
#[derive(Debug, Default)]
pub struct Recorder {
    state: Option<Result<Instance, String>>,
}

impl Recorder {
    /// Before a load: make the instance if not yet made, and arm it. On a kernel or a
    /// machine where it cannot work the reason is kept for `finish`.
    pub fn start(&mut self, release: &str) {
        if self.state.is_none() {
            let r = root();
            self.state = Some(match unavailable_reason(r.as_deref(), release) {
                Some(why) => Err(why),
                None => r
                    .ok_or_else(|| "tracefs is not mounted".to_string())
                    .and_then(|r| Instance::create(&r)),
            });
        }
        if let Some(Ok(inst)) = &self.state {
            if let Err(e) = inst.arm() {
                self.state = Some(Err(e));
            }
        }
    }

    /// Make the instance now, without arming it (the dashboard: the instance lives as long
    /// as the session). Returns a notice when a stale instance was removed first.
    pub fn prepare(&mut self, release: &str) -> Option<String> {
        if self.state.is_some() {
            return None;
        }
        let stale = clean_stale();
        let r = root();
        self.state = Some(match unavailable_reason(r.as_deref(), release) {
            Some(why) => Err(why),
            None => r
                .ok_or_else(|| "tracefs is not mounted".to_string())
                .and_then(|r| Instance::create(&r)),
        });
        stale
    }

    /// After the load: the failures recorded, or why none could be.
    pub fn finish(&mut self) -> VmapTrace {
        match &self.state {
            Some(Ok(inst)) => match inst.collect() {
                Ok(events) => VmapTrace::Recorded {
                    failed: events.into_iter().filter(|e| e.failed).collect(),
                },
                Err(reason) => VmapTrace::Unavailable { reason },
            },
            Some(Err(reason)) => VmapTrace::Unavailable {
                reason: reason.clone(),
            },
            None => VmapTrace::Unavailable {
                reason: "not armed".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tracefs_mount_is_found() {
        let m = "sysfs /sys sysfs rw 0 0\nnodev /sys/kernel/debug/tracing tracefs rw 0 0\ntracefs /sys/kernel/tracing tracefs rw,nosuid 0 0\n";
        assert_eq!(tracefs_mount(m), Some(PathBuf::from("/sys/kernel/tracing")));
        let m = "nodev /mnt/t tracefs rw 0 0\n";
        assert_eq!(tracefs_mount(m), Some(PathBuf::from("/mnt/t")));
        assert_eq!(tracefs_mount("proc /proc proc rw 0 0\n"), None);
    }

    /// A tracefs look-alike in a temporary folder: the reasons, in the order they are found.
    #[test]
    fn reasons_say_what_is_missing() {
        let why = unavailable_reason(None, "6.1.0-57-amd64").expect("not mounted");
        assert!(why.contains("mount -t tracefs"), "{why}");
        let dir = std::env::temp_dir().join(format!("vmtop-tracefs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("events/kmem")).expect("dirs");
        let why = unavailable_reason(Some(&dir), "6.1.0-57-amd64").expect("no event");
        assert!(
            why.contains("kernel 6.1.0-57-amd64 has no vmalloc:alloc_vmap_area")
                && why.contains("6.2"),
            "{why}"
        );
        std::fs::create_dir_all(dir.join("events/vmalloc/alloc_vmap_area")).expect("dirs");
        let why = unavailable_reason(Some(&dir), "x").expect("no instances");
        assert!(why.contains("instances/"), "{why}");
        std::fs::create_dir_all(dir.join("instances")).expect("dirs");
        assert_eq!(unavailable_reason(Some(&dir), "x"), None);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_recorder_without_tracefs_says_why() {
        let mut r = Recorder {
            state: Some(Err(
                "kernel 6.1 has no vmalloc:alloc_vmap_area trace event".into()
            )),
        };
        r.start("6.1");
        match r.finish() {
            VmapTrace::Unavailable { reason } => assert!(reason.contains("6.1"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
