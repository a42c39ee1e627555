//! The helper's command line protocol, shared by vmtop and tui/src/bin/vmtop-kmod.rs: the
//! calls as one typed enum, written (`Call::args`) and read (`Call::parse`) here only.
//!
//! ```text
//! vmtop-kmod --protocol=N insert PATH DEV:INO [PARAM...]  load PATH with the parameters
//! vmtop-kmod --protocol=N remove NAME                     unload NAME
//! vmtop-kmod --protocol=N lookup NAME                     print the installed files of NAME
//! vmtop-kmod --protocol=N modinfo PATH DEV:INO            print PATH's .modinfo as KEY<TAB>VALUE
//! ```
//! A failure prints `vmtop-kmod-errno=N` on stdout and exits 1; bad usage exits 2; another
//! protocol than the helper's prints `vmtop-kmod-protocol=N` (the helper's) and exits 3.
//!
//! The file checked is the file loaded: vmtop checks the module file (who owns it, what it is)
//! at its canonical PATH and passes the device and inode it found there; the helper opens PATH
//! once (no link followed at its end), and reads and loads that open file only when it is the
//! same inode. When it is not (the path was re-pointed meanwhile), it prints
//! `vmtop-kmod-changed=DEV:INO` (what it found) and exits 4: nothing was read or loaded.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// The protocol's version: change it with any change to the calls, their arguments or their
/// output, so that a vmtop and a vmtop-kmod from different builds say so instead of
/// misreading each other.
pub const PROTOCOL: u32 = 2;
/// The first argument of every call: `--protocol=N`.
pub const PROTOCOL_ARG: &str = "--protocol=";
/// Printed on stdout before the helper's own protocol when the caller's is another.
pub const PROTOCOL_MARKER: &str = "vmtop-kmod-protocol=";
/// Printed on stdout before the errno of a failed call.
pub const ERRNO_MARKER: &str = "vmtop-kmod-errno=";
/// Exit status of a failed call (the errno is on stdout).
pub const EXIT_FAILED: i32 = 1;
/// Exit status of a bad command line.
pub const EXIT_USAGE: i32 = 2;
/// Exit status of a call in another protocol (vmtop and vmtop-kmod from different builds).
pub const EXIT_PROTOCOL: i32 = 3;
/// Exit status when the file at PATH is not the one vmtop checked (see the module doc).
pub const EXIT_CHANGED: i32 = 4;
/// Printed on stdout before the device and inode found, with `EXIT_CHANGED`.
pub const CHANGED_MARKER: &str = "vmtop-kmod-changed=";
/// The helper's file name.
pub const HELPER: &str = "vmtop-kmod";

/// Which file: its device and inode, as `stat` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    /// The file `meta` describes.
    pub fn of(meta: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt as _;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// `DEV:INO`, as the command line carries it.
    pub fn parse(s: &str) -> Option<FileId> {
        let (dev, ino) = s.split_once(':')?;
        Some(FileId {
            dev: dev.parse().ok()?,
            ino: ino.parse().ok()?,
        })
    }
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.dev, self.ino)
    }
}

/// One call of the helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Load the module file at `path`, which must be the file `id`, with `params`
    /// (`key=value` words).
    Insert {
        path: PathBuf,
        id: FileId,
        params: Vec<String>,
    },
    /// Unload module `name`.
    Remove { name: String },
    /// The files modprobe would load for module `name`.
    Lookup { name: String },
    /// The `.modinfo` of the module file at `path`, which must be the file `id`.
    Modinfo { path: PathBuf, id: FileId },
}

/// Why the helper will not run a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The caller speaks another protocol (`Some`: the version it named; None: it named
    /// none, as a vmtop older than the protocol's version does).
    Protocol(Option<String>),
    /// Not a call (wrong verb or arguments).
    Usage,
}

impl Call {
    pub fn verb(&self) -> &'static str {
        match self {
            Call::Insert { .. } => "insert",
            Call::Remove { .. } => "remove",
            Call::Lookup { .. } => "lookup",
            Call::Modinfo { .. } => "modinfo",
        }
    }

    /// The helper's command line for this call (after the program name).
    pub fn args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec![
            format!("{PROTOCOL_ARG}{PROTOCOL}").into(),
            self.verb().into(),
        ];
        match self {
            Call::Insert { path, id, params } => {
                a.push(path.into());
                a.push(id.to_string().into());
                a.extend(params.iter().map(OsString::from));
            }
            Call::Remove { name } | Call::Lookup { name } => a.push(name.into()),
            Call::Modinfo { path, id } => {
                a.push(path.into());
                a.push(id.to_string().into());
            }
        }
        a
    }

    /// The call a command line asks for (after the program name).
    pub fn parse(args: &[OsString]) -> Result<Call, Refused> {
        let (first, rest) = args.split_first().ok_or(Refused::Protocol(None))?;
        let theirs = first
            .to_str()
            .and_then(|a| a.strip_prefix(PROTOCOL_ARG))
            .ok_or(Refused::Protocol(None))?;
        if theirs != PROTOCOL.to_string() {
            return Err(Refused::Protocol(Some(theirs.to_string())));
        }
        let text = |a: &OsStr| a.to_string_lossy().into_owned();
        let id = |a: &OsStr| a.to_str().and_then(FileId::parse).ok_or(Refused::Usage);
        match rest {
            [verb, path, file, params @ ..] if verb == "insert" => Ok(Call::Insert {
                path: path.into(),
                id: id(file)?,
                params: params.iter().map(|p| text(p)).collect(),
            }),
            [verb, name] if verb == "remove" => Ok(Call::Remove { name: text(name) }),
            [verb, name] if verb == "lookup" => Ok(Call::Lookup { name: text(name) }),
            [verb, path, file] if verb == "modinfo" => Ok(Call::Modinfo {
                path: path.into(),
                id: id(file)?,
            }),
            _ => Err(Refused::Usage),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_round_trips() {
        let id = FileId {
            dev: 2049,
            ino: 1_234_567,
        };
        for call in [
            Call::Insert {
                path: "/lab/alloc_large_mem.ko".into(),
                id,
                params: vec!["memsize=64".into(), "oom_safe=Y".into()],
            },
            Call::Insert {
                path: "m.ko".into(),
                id,
                params: vec![],
            },
            Call::Remove {
                name: "alloc_large_mem".into(),
            },
            Call::Lookup {
                name: "alloc_large_mem".into(),
            },
            Call::Modinfo {
                path: "/lib/modules/x/updates/alloc_large_mem.ko.xz".into(),
                id,
            },
        ] {
            assert_eq!(Call::parse(&call.args()), Ok(call.clone()), "{call:?}");
        }
    }

    #[test]
    fn another_protocol_is_refused_as_such() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        // A vmtop from before the protocol's version: the verb comes first.
        assert_eq!(
            Call::parse(&args(&["remove", "alloc_large_mem"])),
            Err(Refused::Protocol(None))
        );
        assert_eq!(Call::parse(&[]), Err(Refused::Protocol(None)));
        let other = format!("{PROTOCOL_ARG}{}", PROTOCOL + 1);
        assert_eq!(
            Call::parse(&args(&[&other, "remove", "alloc_large_mem"])),
            Err(Refused::Protocol(Some((PROTOCOL + 1).to_string())))
        );
        let ours = format!("{PROTOCOL_ARG}{PROTOCOL}");
        assert_eq!(Call::parse(&args(&[&ours, "remove"])), Err(Refused::Usage));
        assert_eq!(
            Call::parse(&args(&[&ours, "unload", "x"])),
            Err(Refused::Usage)
        );
        // A call of protocol 1 (no file identity) under this protocol's number: usage.
        assert_eq!(
            Call::parse(&args(&[&ours, "insert", "/m.ko", "memsize=1"])),
            Err(Refused::Usage)
        );
        assert_eq!(
            Call::parse(&args(&[&ours, "modinfo", "/m.ko"])),
            Err(Refused::Usage)
        );
    }

    #[test]
    fn file_ids_read_back() {
        let id = FileId {
            dev: 64769,
            ino: 42,
        };
        assert_eq!(id.to_string(), "64769:42");
        assert_eq!(FileId::parse("64769:42"), Some(id));
        for bad in ["", "1", "1:", ":2", "a:2", "1:2:3", "-1:2"] {
            assert_eq!(FileId::parse(bad), None, "{bad:?}");
        }
    }
}
