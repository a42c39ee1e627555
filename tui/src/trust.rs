//! Whose files vmtop runs and loads when it runs as root (users run it with sudo).
//!
//! Three decisions, each made here once:
//! - **The user behind sudo** ([`invoking_uid`]): `SUDO_UID`, but only when sudo started this
//!   vmtop itself (`SUDO_COMMAND` names this binary). A root shell that sudo left behind
//!   (`sudo -s`, `sudo -i`, `sudo bash`) keeps `SUDO_UID` for every command run in it; a vmtop
//!   started from there is root's own, and trusts no other user's files.
//! - **Whose code root may run** ([`Trust::code_owners`]): root's, and that of the owner of
//!   this vmtop binary: whoever owns `target/release/vmtop` in a checkout run with sudo can
//!   change vmtop itself, so its helper beside it exposes nothing more. An installed vmtop
//!   (root's) runs only root's files.
//! - **A file or folder is trusted** ([`check_chain`]) when it and every folder above it
//!   belong to one of those owners and no one else can write to them (a sticky folder such as
//!   /tmp keeps others from replacing what is in it). The module file gets the same check
//!   with the user behind sudo added ([`Trust::module_owners`]).
//!
//! Leaf module: std and nix only.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

/// A file or folder vmtop will not use as root, and why: one line naming the path, its
/// owner or mode, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {why}; {fix}")]
pub struct Untrusted {
    /// What was being checked ("vmtop's helper /usr/bin/vmtop-kmod", "VMTOP_CHECKOUT=/x").
    pub what: String,
    pub why: String,
    pub fix: String,
}

/// The facts of the running process the decisions depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub euid: u32,
    /// The user behind sudo, or the real uid (see [`invoking_uid`]).
    pub invoking: u32,
    /// The owner of this vmtop binary (None when it cannot be read).
    pub exe_owner: Option<u32>,
}

impl Trust {
    /// This process's.
    pub fn current() -> Trust {
        let exe = std::env::current_exe().ok();
        Trust {
            euid: nix::unistd::geteuid().as_raw(),
            invoking: invoking_uid(
                nix::unistd::getuid().as_raw(),
                std::env::var("SUDO_UID").ok().as_deref(),
                std::env::var("SUDO_COMMAND").ok().as_deref(),
                exe.as_deref(),
            ),
            exe_owner: exe
                .as_deref()
                .and_then(|e| std::fs::metadata(e).ok())
                .map(|m| m.uid()),
        }
    }

    pub fn is_root(&self) -> bool {
        self.euid == 0
    }

    /// Owners whose programs and code folders this process may use: root, itself, and the
    /// owner of this vmtop binary.
    pub fn code_owners(&self) -> Vec<u32> {
        let mut v = vec![0, self.euid];
        v.extend(self.exe_owner);
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Owners whose module files this process may load: the code owners and the user
    /// behind sudo (`sudo vmtop` with a module built in that user's checkout).
    pub fn module_owners(&self) -> Vec<u32> {
        let mut v = self.code_owners();
        v.push(self.invoking);
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The value of `VMTOP_*` variable `name` that names a program, module or folder: used
    /// as it is when not root; as root only when it passes [`check_chain`] for `owners`
    /// (an untrusted value is refused, never quietly ignored: the user asked for it).
    pub fn env_path(&self, name: &str, owners: &[u32]) -> Result<Option<PathBuf>, Untrusted> {
        self.var_path(name, std::env::var_os(name), owners)
    }

    /// `env_path` for the value `value` of variable `name`.
    fn var_path(
        &self,
        name: &str,
        value: Option<std::ffi::OsString>,
        owners: &[u32],
    ) -> Result<Option<PathBuf>, Untrusted> {
        let Some(v) = value.filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let p = PathBuf::from(v);
        if !self.is_root() {
            return Ok(Some(p));
        }
        check_path(&p, owners, &format!("{name}={}", p.display()))
            .map_err(|mut u| {
                u.fix = format!(
                    "as root vmtop uses {name} only when it names a path that {}: unset {name} (sudo keeps it only with -E or env_keep), or {}",
                    owners_words(owners),
                    u.fix
                );
                u
            })?;
        Ok(Some(p))
    }
}

/// "root" or "root or uid 1000 owns and no one else can write to".
fn owners_words(owners: &[u32]) -> String {
    let others: Vec<String> = owners
        .iter()
        .filter(|&&u| u != 0)
        .map(|u| format!("uid {u}"))
        .collect();
    if others.is_empty() {
        "root owns and no one else can write to".into()
    } else {
        format!(
            "root or {} owns and no one else can write to",
            others.join(" or ")
        )
    }
}

/// The user behind this process. `sudo_uid` (SUDO_UID) counts only when this process is
/// root and `sudo_command` (SUDO_COMMAND, "PROGRAM ARGS...") names `exe`, the running vmtop:
/// sudo ran vmtop itself. Otherwise the real uid `uid`.
pub fn invoking_uid(
    uid: u32,
    sudo_uid: Option<&str>,
    sudo_command: Option<&str>,
    exe: Option<&Path>,
) -> u32 {
    let sudo = sudo_uid.and_then(|s| s.trim().parse::<u32>().ok());
    let ran_us = match (sudo_command, exe) {
        (Some(cmd), Some(exe)) => cmd.split(' ').next().is_some_and(|prog| {
            let prog = Path::new(prog);
            prog == exe || std::fs::canonicalize(prog).is_ok_and(|p| p == exe)
        }),
        _ => false,
    };
    match sudo {
        Some(s) if uid == 0 && ran_us => s,
        _ => uid,
    }
}

/// One component of a checked path: its owner, mode and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub uid: u32,
    pub mode: u32,
    pub is_dir: bool,
}

/// Check the file or folder at `path` (resolved: every link followed) and every folder
/// above it against `owners`; the resolved path. `what` names it in the refusal. A path
/// that does not exist (yet) is checked from its nearest existing folder, which no one else
/// may be able to write to, sticky or not: whoever can create it could fill it.
pub fn check_path(path: &Path, owners: &[u32], what: &str) -> Result<PathBuf, Untrusted> {
    let unresolved = |p: &Path, e: std::io::Error| Untrusted {
        what: what.to_string(),
        why: format!("cannot resolve {} ({e})", p.display()),
        fix: "check the path".into(),
    };
    let (canonical, resolved) = match std::fs::canonicalize(path) {
        Ok(c) => (c.clone(), c),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let existing = path
                .ancestors()
                .skip(1)
                .find(|a| !a.as_os_str().is_empty() && a.exists())
                .unwrap_or(Path::new("."));
            let c = std::fs::canonicalize(existing).map_err(|e| unresolved(existing, e))?;
            (c, path.to_path_buf())
        }
        Err(e) => return Err(unresolved(path, e)),
    };
    let mut chain = Vec::new();
    for p in canonical.ancestors() {
        let m = std::fs::symlink_metadata(p).map_err(|e| Untrusted {
            what: what.to_string(),
            why: format!("cannot read {} ({e})", p.display()),
            fix: "check the path".into(),
        })?;
        chain.push((
            p.to_path_buf(),
            Node {
                uid: m.uid(),
                mode: m.mode(),
                is_dir: m.is_dir(),
            },
        ));
    }
    check_chain(&chain, owners, what).map_err(|mut u| {
        if resolved != canonical {
            u.why = format!("{} does not exist, and {}", path.display(), u.why);
            u.fix = format!(
                "create {} first in a folder no one else can write to, or name another path",
                path.display()
            );
        }
        u
    })?;
    Ok(resolved)
}

/// `chain`: the path itself first, then each folder above it up to `/`. Each must belong to
/// one of `owners` (root among them) and be writable by neither its group nor others; a
/// folder above may be writable by others when it is sticky (/tmp).
pub fn check_chain(chain: &[(PathBuf, Node)], owners: &[u32], what: &str) -> Result<(), Untrusted> {
    for (i, (p, n)) in chain.iter().enumerate() {
        let d = p.display();
        let kind = match (i, n.is_dir) {
            (0, false) => "the file",
            (0, true) => "the folder",
            _ => "its folder",
        };
        if !owners.contains(&n.uid) && n.uid != 0 {
            return Err(Untrusted {
                what: what.to_string(),
                why: format!("{kind} {d} belongs to uid {}, who could change it", n.uid),
                fix: format!("sudo chown root: {d}"),
            });
        }
        let sticky_dir = i > 0 && n.mode & 0o1000 != 0;
        if n.mode & 0o022 != 0 && !sticky_dir {
            let who = match (n.mode & 0o020 != 0, n.mode & 0o002 != 0) {
                (true, true) => "its group and others",
                (true, false) => "its group",
                _ => "others",
            };
            return Err(Untrusted {
                what: what.to_string(),
                why: format!(
                    "{kind} {d} is writable by {who} (mode {:o})",
                    n.mode & 0o7777
                ),
                fix: format!("sudo chmod go-w {d}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(uid: u32, mode: u32, is_dir: bool) -> Node {
        Node { uid, mode, is_dir }
    }

    fn chain(nodes: &[(&str, Node)]) -> Vec<(PathBuf, Node)> {
        nodes.iter().map(|(p, n)| (PathBuf::from(p), *n)).collect()
    }

    fn root_usr_local(helper_uid: u32, bin_mode: u32) -> Vec<(PathBuf, Node)> {
        chain(&[
            ("/usr/local/bin/vmtop-kmod", node(helper_uid, 0o755, false)),
            ("/usr/local/bin", node(0, bin_mode, true)),
            ("/usr/local", node(0, 0o755, true)),
            ("/usr", node(0, 0o755, true)),
            ("/", node(0, 0o755, true)),
        ])
    }

    #[test]
    fn sudo_uid_counts_only_when_sudo_ran_this_vmtop() {
        let exe = Path::new("/usr/local/bin/vmtop");
        // sudo vmtop load ...: SUDO_COMMAND names this binary.
        let cmd = Some("/usr/local/bin/vmtop load --memsize 64");
        assert_eq!(invoking_uid(0, Some("1000"), cmd, Some(exe)), 1000);
        // A root shell from sudo -s: SUDO_UID is still set, SUDO_COMMAND names the shell.
        assert_eq!(
            invoking_uid(0, Some("1000"), Some("/bin/bash"), Some(exe)),
            0
        );
        // sudo make run, where make runs vmtop: not sudo's own command.
        assert_eq!(
            invoking_uid(0, Some("1000"), Some("/usr/bin/make run"), Some(exe)),
            0
        );
        // No SUDO_COMMAND, a garbled SUDO_UID, or not root: the real uid.
        assert_eq!(invoking_uid(0, Some("1000"), None, Some(exe)), 0);
        assert_eq!(invoking_uid(0, Some("x"), cmd, Some(exe)), 0);
        assert_eq!(invoking_uid(1000, Some("1001"), cmd, Some(exe)), 1000);
    }

    #[test]
    fn code_owners_are_root_and_the_owner_of_this_vmtop() {
        let installed = Trust {
            euid: 0,
            invoking: 1000,
            exe_owner: Some(0),
        };
        assert_eq!(installed.code_owners(), [0]);
        assert_eq!(installed.module_owners(), [0, 1000]);
        // sudo target/release/vmtop in uid 1000's checkout.
        let checkout = Trust {
            exe_owner: Some(1000),
            ..installed.clone()
        };
        assert_eq!(checkout.code_owners(), [0, 1000]);
        // Not root: its own files too.
        let user = Trust {
            euid: 1000,
            invoking: 1000,
            exe_owner: Some(0),
        };
        assert_eq!(user.code_owners(), [0, 1000]);
    }

    #[test]
    fn a_helper_planted_beside_an_installed_vmtop_is_refused() {
        // The review's case: /usr/local/bin of Debian's old root:staff 2775 layout.
        let e = check_chain(&root_usr_local(0, 0o2775), &[0], "vmtop's helper")
            .expect_err("group-writable bin");
        assert_eq!(
            e.to_string(),
            "vmtop's helper: its folder /usr/local/bin is writable by its group (mode 2775); sudo chmod go-w /usr/local/bin"
        );
        // A helper owned by a user, in a root folder.
        let e = check_chain(&root_usr_local(1000, 0o755), &[0], "vmtop's helper")
            .expect_err("user's helper");
        assert!(
            e.why
                .contains("the file /usr/local/bin/vmtop-kmod belongs to uid 1000"),
            "{e}"
        );
        assert_eq!(check_chain(&root_usr_local(0, 0o755), &[0], "h"), Ok(()));
        // The same file is fine for the owner of a checkout's vmtop.
        assert_eq!(
            check_chain(&root_usr_local(1000, 0o755), &[0, 1000], "h"),
            Ok(())
        );
    }

    #[test]
    fn sticky_folders_above_are_fine_and_the_file_itself_never_writable() {
        let in_tmp = |mode| {
            chain(&[
                ("/tmp/m/alloc_large_mem.ko", node(1000, mode, false)),
                ("/tmp/m", node(1000, 0o755, true)),
                ("/tmp", node(0, 0o1777, true)),
                ("/", node(0, 0o755, true)),
            ])
        };
        assert_eq!(check_chain(&in_tmp(0o644), &[0, 1000], "m"), Ok(()));
        let e = check_chain(&in_tmp(0o666), &[0, 1000], "m").expect_err("0666");
        assert!(e.why.contains("its group and others (mode 666)"), "{e}");
        // A sticky file is no excuse.
        assert!(check_chain(&in_tmp(0o1666), &[0, 1000], "m").is_err());
        // Not one of the owners: uid 1000's module for a root shell without sudo's word.
        let e = check_chain(&in_tmp(0o644), &[0], "m").expect_err("not trusted");
        assert!(e.why.contains("belongs to uid 1000"), "{e}");
    }

    #[test]
    fn env_paths_are_checked_only_as_root() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("vmtop-trust-{}", std::process::id()));
        std::fs::create_dir(&dir).expect("a new folder");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let f = dir.join("vmtop-kmod");
        std::fs::write(&f, b"#!/bin/sh\n").expect("write");
        let name = "VMTOP_KMOD_HELPER";
        let value = Some(f.clone().into_os_string());
        let me = nix::unistd::geteuid().as_raw();
        let user = Trust {
            euid: 1000,
            invoking: 1000,
            exe_owner: Some(1000),
        };
        assert_eq!(
            user.var_path(name, value.clone(), &[0, 1000]),
            Ok(Some(f.clone()))
        );
        let root = Trust {
            euid: 0,
            invoking: 0,
            exe_owner: Some(0),
        };
        let e = root
            .var_path(name, value.clone(), &[0, me])
            .expect_err("0777 folder");
        let s = e.to_string();
        assert!(s.starts_with(&format!("{name}={}: ", f.display())), "{s}");
        assert!(
            s.contains("writable by its group and others (mode 777)"),
            "{s}"
        );
        assert!(s.contains(&format!("unset {name}")), "{s}");
        assert!(!s.contains('\n'), "{s}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(root.var_path(name, value, &[0, me]), Ok(Some(f.clone())));
        // Not there yet: its nearest folder decides (the Makefile names build/lab before
        // `make lab` made it). In a folder only its owner writes to: fine.
        let later = Some(dir.join("build/lab").into_os_string());
        assert_eq!(
            root.var_path(name, later.clone(), &[0, me]),
            Ok(Some(dir.join("build/lab")))
        );
        // In the sticky /tmp, where anyone could make it first: refused.
        let in_tmp = Some(
            std::env::temp_dir()
                .join("vmtop-not-there/lab")
                .into_os_string(),
        );
        let e = root
            .var_path(name, in_tmp, &[0, me])
            .expect_err("sticky /tmp");
        assert!(
            e.why.contains("does not exist, and the folder /tmp is writable by its group and others (mode 1777)"),
            "{e}"
        );
        assert!(
            e.fix.contains("or create /tmp/vmtop-not-there/lab first"),
            "{e}"
        );
        assert_eq!(root.var_path(name, None, &[0]), Ok(None));
        assert_eq!(root.var_path(name, Some("".into()), &[0]), Ok(None));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
