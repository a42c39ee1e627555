//! Folders the lab builds and caches in, that no other user can write to.
//!
//! `make M=DIR` runs in the module's build folder, and Kbuild reads (`-include`s) every
//! `.*.cmd` file it finds there: whoever can write to that folder can run commands as the
//! user running `vmtop lab`, root under sudo. So the lab never builds in a shared, fixed path
//! such as /tmp/vmtop-lab-work. It builds in the lab dir's `work` folder when the lab dir is
//! this user's own (`make lab` in a checkout), else in `$XDG_CACHE_HOME/vmtop/work`
//! (`~/.cache/vmtop/work`), else in a fresh folder of its own (mode 0700) under the temporary
//! folder, removed when the lab ends. Every folder is created mode 0700 and checked before
//! use: it and its parents must belong to this user or root and be writable by no one else
//! (a sticky parent such as /tmp is fine).

use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::TempDir;
use crate::refused::Refused;

/// A folder the lab may build in: its canonical path (every component checked), and the
/// temporary folder that holds it when there is no cache folder (removed on drop).
pub struct WorkDir {
    pub path: PathBuf,
    _tmp: Option<TempDir>,
}

/// The work folder: `lab_dir/work` when `lab_dir` belongs to this user, else the cache.
pub fn work_dir(lab_dir: Option<&Path>) -> anyhow::Result<WorkDir> {
    work_dir_in(lab_dir, cache_dir())
}

fn work_dir_in(lab_dir: Option<&Path>, cache: Option<PathBuf>) -> anyhow::Result<WorkDir> {
    let euid = nix::unistd::geteuid().as_raw();
    if let Some(d) = lab_dir {
        if std::fs::metadata(d).is_ok_and(|m| m.uid() == euid) {
            return Ok(WorkDir {
                path: ensure(&d.join("work"), euid)?,
                _tmp: None,
            });
        }
    }
    match cache {
        Some(c) => Ok(WorkDir {
            path: ensure(&c.join("vmtop").join("work"), euid)?,
            _tmp: None,
        }),
        None => {
            let tmp = TempDir::new("vmtop-lab-work")?;
            let path = ensure(&tmp.path, euid)?;
            Ok(WorkDir {
                path,
                _tmp: Some(tmp),
            })
        }
    }
}

/// `$XDG_CACHE_HOME`, else `$HOME/.cache`: absolute paths only (the XDG rule).
fn cache_dir() -> Option<PathBuf> {
    let abs = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    std::env::var_os("XDG_CACHE_HOME")
        .and_then(abs)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(abs)
                .map(|h| h.join(".cache"))
        })
}

/// Create `dir` (and its missing parents) mode 0700, then check it: the canonical path,
/// which the caller uses from then on (so a link cannot be re-pointed after the check).
pub fn ensure(dir: &Path, euid: u32) -> anyhow::Result<PathBuf> {
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        // Someone else's folder on the way is reported by the check below, with its owner.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && dir.exists() => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
    }
    let canonical = std::fs::canonicalize(dir)
        .with_context(|| format!("resolving the lab's work folder {}", dir.display()))?;
    check(&canonical, euid).map_err(|why| {
        anyhow::Error::new(Refused(format!(
            "refusing to build the lab module in {}: {why}",
            dir.display()
        )))
    })?;
    Ok(canonical)
}

/// Facts about one folder of the path, as `check_chain` needs them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub uid: u32,
    pub mode: u32,
    pub is_dir: bool,
}

fn check(canonical: &Path, euid: u32) -> Result<(), String> {
    let mut chain = Vec::new();
    for p in canonical.ancestors() {
        let m = std::fs::symlink_metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        chain.push((
            p.to_path_buf(),
            Node {
                uid: m.uid(),
                mode: m.mode(),
                is_dir: m.is_dir(),
            },
        ));
    }
    check_chain(&chain, euid)
}

/// `chain`: the folder itself first, then each parent up to `/`. The folder must be a
/// directory of `euid`'s that no one else can write to; each parent must belong to root or
/// `euid` and be writable by no one else unless sticky (then no one else can rename ours).
pub(crate) fn check_chain(chain: &[(PathBuf, Node)], euid: u32) -> Result<(), String> {
    let fix = "remove it, or set XDG_CACHE_HOME to a folder of your own";
    for (i, (p, n)) in chain.iter().enumerate() {
        let d = p.display();
        if i == 0 {
            if !n.is_dir {
                return Err(format!("{d} is not a folder: {fix}"));
            }
            if n.uid != euid {
                return Err(format!(
                    "{d} belongs to uid {}, not to you (uid {euid}), and make would run what it holds: {fix}",
                    n.uid
                ));
            }
            if n.mode & 0o022 != 0 {
                return Err(format!(
                    "{d} is writable by other users (mode {:o}), who could put files there that make runs: chmod go-w {d}",
                    n.mode & 0o7777
                ));
            }
            continue;
        }
        if n.uid != 0 && n.uid != euid {
            return Err(format!(
                "its parent {d} belongs to uid {}, who could replace it: {fix}",
                n.uid
            ));
        }
        if n.mode & 0o022 != 0 && n.mode & 0o1000 == 0 {
            return Err(format!(
                "its parent {d} is writable by other users (mode {:o}), who could replace it: chmod go-w {d}, or {fix}",
                n.mode & 0o7777
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(uid: u32, mode: u32) -> Node {
        Node {
            uid,
            mode,
            is_dir: true,
        }
    }

    fn chain(nodes: &[(&str, Node)]) -> Vec<(PathBuf, Node)> {
        nodes.iter().map(|(p, n)| (PathBuf::from(p), *n)).collect()
    }

    #[test]
    fn a_folder_of_ones_own_under_safe_parents_passes() {
        // ~/.cache/vmtop/work of uid 1000, and root's in /root.
        let user = chain(&[
            ("/home/u/.cache/vmtop/work", node(1000, 0o700)),
            ("/home/u/.cache/vmtop", node(1000, 0o700)),
            ("/home/u/.cache", node(1000, 0o755)),
            ("/home/u", node(1000, 0o750)),
            ("/home", node(0, 0o755)),
            ("/", node(0, 0o755)),
        ]);
        assert_eq!(check_chain(&user, 1000), Ok(()));
        // The same folder is not root's: sudo with HOME kept must not build in it.
        let e = check_chain(&user, 0).expect_err("root in a user's cache");
        assert!(e.contains("belongs to uid 1000, not to you (uid 0)"), "{e}");
        // A private folder in the sticky /tmp (the fallback).
        let tmp = chain(&[
            ("/tmp/vmtop-lab-work-42-0", node(0, 0o700)),
            ("/tmp", node(0, 0o1777)),
            ("/", node(0, 0o755)),
        ]);
        assert_eq!(check_chain(&tmp, 0), Ok(()));
    }

    #[test]
    fn the_shared_tmp_folder_of_another_user_is_refused() {
        // /tmp/vmtop-lab-work made first by uid 1001, as the review's attack has it.
        let planted = chain(&[
            ("/tmp/vmtop-lab-work", node(1001, 0o755)),
            ("/tmp", node(0, 0o1777)),
            ("/", node(0, 0o755)),
        ]);
        let e = check_chain(&planted, 0).expect_err("planted");
        assert!(
            e.starts_with("/tmp/vmtop-lab-work belongs to uid 1001"),
            "{e}"
        );
        assert!(e.contains("XDG_CACHE_HOME"), "{e}");
        // Ours, but opened up to others.
        let open = chain(&[("/tmp/w", node(0, 0o777)), ("/tmp", node(0, 0o1777))]);
        let e = check_chain(&open, 0).expect_err("0777");
        assert!(
            e.contains("mode 777") && e.contains("chmod go-w /tmp/w"),
            "{e}"
        );
        // A parent others can write and that is not sticky.
        let parent = chain(&[
            ("/srv/lab/work", node(0, 0o700)),
            ("/srv/lab", node(0, 0o777)),
            ("/srv", node(0, 0o755)),
        ]);
        let e = check_chain(&parent, 0).expect_err("parent 0777");
        assert!(e.contains("its parent /srv/lab is writable"), "{e}");
        // A parent owned by another user.
        let owned = chain(&[
            ("/home/v/w", node(1000, 0o700)),
            ("/home/v", node(1002, 0o755)),
        ]);
        let e = check_chain(&owned, 1000).expect_err("parent of another user");
        assert!(e.contains("its parent /home/v belongs to uid 1002"), "{e}");
        // A file where the folder should be.
        let file = chain(&[(
            "/tmp/x",
            Node {
                uid: 0,
                mode: 0o600,
                is_dir: false,
            },
        )]);
        assert!(check_chain(&file, 0)
            .expect_err("file")
            .contains("not a folder"));
    }

    #[test]
    fn ensure_creates_private_folders_and_refuses_open_ones() {
        use std::os::unix::fs::PermissionsExt as _;
        let euid = nix::unistd::geteuid().as_raw();
        let tmp = TempDir::new("vmtop-private-test").expect("temp dir");
        let work = tmp.path.join("cache/vmtop/work");
        let got = ensure(&work, euid).expect("created");
        assert_eq!(got, std::fs::canonicalize(&work).expect("canonical"));
        for d in [&work, &tmp.path.join("cache/vmtop")] {
            let mode = std::fs::metadata(d).expect("stat").mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        // Opened up afterwards: refused, as a refusal (exit 2), naming the folder.
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let e = ensure(&work, euid).expect_err("0777");
        assert!(Refused::in_chain(&e), "{e:#}");
        let s = format!("{e:#}");
        assert!(
            s.contains(&work.display().to_string()) && s.contains("chmod go-w"),
            "{s}"
        );
        // Through a link: the canonical folder is what is checked and returned.
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let link = tmp.path.join("link");
        std::os::unix::fs::symlink(&work, &link).expect("symlink");
        assert_eq!(
            ensure(&link, euid).expect("via link"),
            std::fs::canonicalize(&work).expect("canonical")
        );
    }

    #[test]
    fn work_dir_is_the_own_lab_dir_then_the_cache_then_a_fresh_private_folder() {
        let euid = nix::unistd::geteuid().as_raw();
        let tmp = TempDir::new("vmtop-workdir-test").expect("temp dir");
        let (lab, cache) = (tmp.path.join("lab"), tmp.path.join("cache"));
        std::fs::create_dir(&lab).expect("lab dir");
        let canonical = |p: PathBuf| std::fs::canonicalize(p).expect("made");
        let w = work_dir_in(Some(&lab), Some(cache.clone())).expect("lab work");
        assert_eq!(w.path, canonical(lab.join("work")));
        // No lab dir (a /boot kernel, --kernel/--kdir): the cache.
        let w = work_dir_in(None, Some(cache.clone())).expect("cache work");
        assert_eq!(w.path, canonical(cache.join("vmtop/work")));
        // No cache either: a folder of its own, 0700, gone with the lab run.
        let w = work_dir_in(None, None).expect("private work");
        let p = w.path.clone();
        let m = std::fs::metadata(&p).expect("stat");
        assert_eq!(
            (m.uid(), m.mode() & 0o777),
            (euid, 0o700),
            "{}",
            p.display()
        );
        assert!(
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmtop-lab-work-")),
            "{}",
            p.display()
        );
        drop(w);
        assert!(!p.exists(), "{} removed", p.display());
    }
}
