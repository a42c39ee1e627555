//! The helper's command line protocol, shared by vmtop and tui/src/bin/vmtop-kmod.rs: the
//! calls as one typed enum, written (`Call::args`) and read (`Call::parse`) here only.
//!
//! ```text
//! vmtop-kmod --protocol=N insert PATH [PARAM...]   load PATH with the parameters
//! vmtop-kmod --protocol=N remove NAME              unload NAME
//! vmtop-kmod --protocol=N lookup NAME              print the installed files of module NAME
//! vmtop-kmod --protocol=N modinfo PATH             print PATH's .modinfo as KEY<TAB>VALUE lines
//! ```
//! A failure prints `vmtop-kmod-errno=N` on stdout and exits 1; bad usage exits 2; another
//! protocol than the helper's prints `vmtop-kmod-protocol=N` (the helper's) and exits 3.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// The protocol's version: change it with any change to the calls, their arguments or their
/// output, so that a vmtop and a vmtop-kmod from different builds say so instead of
/// misreading each other.
pub const PROTOCOL: u32 = 1;
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
/// The helper's file name.
pub const HELPER: &str = "vmtop-kmod";

/// One call of the helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Load the module file at `path` with `params` (`key=value` words).
    Insert { path: PathBuf, params: Vec<String> },
    /// Unload module `name`.
    Remove { name: String },
    /// The files modprobe would load for module `name`.
    Lookup { name: String },
    /// The module file's `.modinfo`.
    Modinfo { path: PathBuf },
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
    fn verb(&self) -> &'static str {
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
            Call::Insert { path, params } => {
                a.push(path.into());
                a.extend(params.iter().map(OsString::from));
            }
            Call::Remove { name } | Call::Lookup { name } => a.push(name.into()),
            Call::Modinfo { path } => a.push(path.into()),
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
        match rest {
            [verb, path, params @ ..] if verb == "insert" => Ok(Call::Insert {
                path: path.into(),
                params: params.iter().map(|p| text(p)).collect(),
            }),
            [verb, name] if verb == "remove" => Ok(Call::Remove { name: text(name) }),
            [verb, name] if verb == "lookup" => Ok(Call::Lookup { name: text(name) }),
            [verb, path] if verb == "modinfo" => Ok(Call::Modinfo { path: path.into() }),
            _ => Err(Refused::Usage),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_round_trips() {
        for call in [
            Call::Insert {
                path: "/lab/alloc_large_mem.ko".into(),
                params: vec!["memsize=64".into(), "oom_safe=Y".into()],
            },
            Call::Insert {
                path: "m.ko".into(),
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
    }
}
