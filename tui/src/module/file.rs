//! Finding alloc_large_mem's module file and checking it before the kernel sees it.
//!
//! Order: `--module PATH`, `$VMTOP_MODULE`, the checkout's freshly built
//! `kmod-src/alloc_large_mem.ko`, then the installed module looked up by name through
//! libkmod (modules.dep of the running kernel: `updates/`, DKMS's `updates/dkms/`, `extra/`),
//! whether it is `.ko`, `.ko.xz`, `.ko.zst` or `.ko.gz`.
//!
//! The pre-check reads the module's `.modinfo` through libkmod, the same code that will
//! hand the file to the kernel, so a compressed file is read exactly as it will be loaded.
//! Each way a file can be wrong has its own typed refusal ([`FileProblem`]).
//!
//! The file checked is the file loaded: [`identify`] resolves the path once (canonical, no
//! link left) and notes the file's device and inode; the ownership check runs on that path,
//! and the helper reads .modinfo and loads only an open file of that same inode.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::MODULE_NAME;

/// Where the module file came from (shown in the confirmation pane).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Argument,
    Environment,
    Checkout,
    Installed,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleFile {
    pub path: PathBuf,
    pub origin: Origin,
}

/// How a module file is stored on disk, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Elf,
    Xz,
    Zstd,
    Gzip,
}

impl Format {
    fn sniff(head: &[u8]) -> Option<Format> {
        if head.starts_with(b"\x7fELF") {
            Some(Format::Elf)
        } else if head.starts_with(b"\xfd7zXZ\0") {
            Some(Format::Xz)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Format::Zstd)
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Some(Format::Gzip)
        } else {
            None
        }
    }

    /// The feature word `kmod --version` prints for this compression (None for ELF).
    fn kmod_feature(self) -> Option<&'static str> {
        match self {
            Format::Elf => None,
            Format::Xz => Some("XZ"),
            Format::Zstd => Some("ZSTD"),
            Format::Gzip => Some("ZLIB"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Elf => "ELF",
            Format::Xz => "xz-compressed",
            Format::Zstd => "zstd-compressed",
            Format::Gzip => "gzip-compressed",
        }
    }
}

/// Why vmtop will not hand a module file to the kernel. Each names the file and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    #[error("no {MODULE_NAME} module found (not given with --module or VMTOP_MODULE, not built in a checkout, not installed for this kernel): install the package alloc-large-mem-dkms (DKMS builds it for each kernel), build it with `make module` or install it with `make install` in a checkout, or pass --module PATH")]
    NotFound,
    #[error("module file {path} (from {from}) does not exist: check the path, or build it with `make module`")]
    Missing { path: PathBuf, from: String },
    #[error("cannot read the module file {path}: {error}")]
    Unreadable { path: PathBuf, error: String },
    #[error("{path} is a directory, not a module file: pass the .ko file inside it (e.g. {path}/{MODULE_NAME}.ko)")]
    Directory { path: PathBuf },
    #[error("{path} is not a regular file: pass a .ko file")]
    NotRegular { path: PathBuf },
    #[error("{path} is empty (0 bytes), not a kernel module: rebuild it with `make module`")]
    Empty { path: PathBuf },
    #[error("{path} is not a kernel module ({what}): pass the .ko file `make module` builds")]
    NotAModule { path: PathBuf, what: String },
    #[error("{path} looks like {} kernel module but cannot be read ({error}): it is truncated or damaged; rebuild it with `make module`", article(format))]
    Damaged {
        path: PathBuf,
        format: &'static str,
        error: String,
    },
    #[error("{path} is {} file, and this system's libkmod cannot decompress it (`kmod --version` lists {feature}): decompress it, or recompress it with xz or zstd", article(format))]
    Unsupported {
        path: PathBuf,
        format: &'static str,
        feature: String,
    },
    #[error(
        "{path} is an ELF file without a vermagic= entry in .modinfo: it is not a kernel module"
    )]
    NoVermagic { path: PathBuf },
    #[error("{path} was built for kernel {built_for}, but this kernel is {running}: rebuild it with `make module` (or `make -C kmod-src KDIR=/lib/modules/{running}/build`)")]
    OtherKernel {
        path: PathBuf,
        built_for: String,
        running: String,
    },
    /// Not the file's fault: the libkmod helper that reads it gave no answer (missing,
    /// untrusted, from another build, broken).
    #[error("{0}")]
    Helper(crate::helper::Problem),
    /// The path was re-pointed between vmtop's check and the helper's read or load.
    #[error("{0}")]
    Changed(String),
    #[error("refusing to load {path} as root: {why}; fix it with `{fix}`, or pass --allow-unsafe-file if you trust everyone who can write it")]
    UnsafeFile {
        path: PathBuf,
        why: String,
        fix: String,
    },
}

/// "an ELF", "a zstd-compressed".
fn article(word: &str) -> String {
    let an = word.starts_with(['E', 'a', 'e', 'i', 'o', 'u', 'x']);
    format!("{} {word}", if an { "an" } else { "a" })
}

pub fn find(arg: Option<&Path>) -> Result<ModuleFile, FileProblem> {
    if let Some(p) = arg {
        return existing(p, Origin::Argument, "--module");
    }
    if let Some(p) = std::env::var_os("VMTOP_MODULE").filter(|v| !v.is_empty()) {
        return existing(Path::new(&p), Origin::Environment, "VMTOP_MODULE");
    }
    if let Some(c) = crate::env::checkout_dir() {
        let p = c.join("kmod-src").join(format!("{MODULE_NAME}.ko"));
        if p.is_file() {
            return Ok(ModuleFile {
                path: p,
                origin: Origin::Checkout,
            });
        }
    }
    if let Some(p) = installed()? {
        return Ok(ModuleFile {
            path: p,
            origin: Origin::Installed,
        });
    }
    Err(FileProblem::NotFound)
}

fn existing(p: &Path, origin: Origin, from: &str) -> Result<ModuleFile, FileProblem> {
    match std::fs::metadata(p) {
        Ok(_) => Ok(ModuleFile {
            path: p.to_path_buf(),
            origin,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(FileProblem::Missing {
            path: p.to_path_buf(),
            from: from.to_string(),
        }),
        Err(e) => Err(FileProblem::Unreadable {
            path: p.to_path_buf(),
            error: e.to_string(),
        }),
    }
}

/// The installed module for the running kernel, as `modprobe` would find it.
fn installed() -> Result<Option<PathBuf>, FileProblem> {
    Ok(crate::helper::lookup(MODULE_NAME)
        .map_err(helper_problem)?
        .into_iter()
        .find(|p| p.is_file()))
}

/// The helper's problem as the file's: its own refusal, or the file re-pointed.
fn helper_problem(p: crate::helper::Problem) -> FileProblem {
    match p {
        crate::helper::Problem::Changed { .. } => FileProblem::Changed(p.to_string()),
        p => FileProblem::Helper(p),
    }
}

/// A module file as it will be checked and loaded: its canonical path and which file it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identified {
    /// The path with every link resolved: what the ownership check walks and the helper opens.
    pub canonical: PathBuf,
    pub id: crate::helper::protocol::FileId,
}

/// Resolve `path` once: the canonical path, and the device and inode there. Whatever is
/// checked after this is checked of that file, and only that file is loaded.
pub fn identify(path: &Path) -> Result<Identified, FileProblem> {
    sniff_file(path)?;
    let unreadable = |e: std::io::Error| FileProblem::Unreadable {
        path: path.to_path_buf(),
        error: e.to_string(),
    };
    let canonical = std::fs::canonicalize(path).map_err(unreadable)?;
    let meta = std::fs::metadata(&canonical).map_err(unreadable)?;
    Ok(Identified {
        canonical,
        id: crate::helper::protocol::FileId::of(&meta),
    })
}

/// What the pre-check learnt about a module file that passed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub format: Format,
    pub vermagic: String,
    /// The file checked, and so the one to load.
    pub file: Identified,
}

/// Everything vmtop checks before loading `path` on kernel `release`: it is a regular,
/// non-empty file, a kernel module (plain or compressed, read through libkmod), built
/// for this kernel. `file` is `identify(path)`: the helper reads only that file.
pub fn check(path: &Path, file: &Identified, release: &str) -> Result<Checked, FileProblem> {
    let format = sniff_file(path)?;
    let info = crate::helper::modinfo(&file.canonical, file.id).map_err(helper_problem)?;
    let info = info.map_err(|errno| {
        // A compressed file libkmod was built without support for reads as garbage: say
        // that, not "damaged", when kmod's own feature list says so.
        let missing = format
            .kmod_feature()
            .filter(|f| kmod_features().is_some_and(|fs| fs.contains(&format!("-{f}"))));
        match missing {
            Some(f) => FileProblem::Unsupported {
                path: path.to_path_buf(),
                format: format.name(),
                feature: format!("-{f}"),
            },
            None => FileProblem::Damaged {
                path: path.to_path_buf(),
                format: format.name(),
                error: format!("libkmod: {}", crate::units::errno_name(errno)),
            },
        }
    })?;
    let vermagic = info
        .into_iter()
        .find_map(|(k, v)| (k == "vermagic").then_some(v))
        .ok_or_else(|| FileProblem::NoVermagic {
            path: path.to_path_buf(),
        })?;
    let built_for = vermagic_release(&vermagic);
    if built_for != release {
        return Err(FileProblem::OtherKernel {
            path: path.to_path_buf(),
            built_for: built_for.to_string(),
            running: release.to_string(),
        });
    }
    Ok(Checked {
        format,
        vermagic,
        file: file.clone(),
    })
}

/// The feature words of the system's kmod (`+ZSTD +XZ -ZLIB ...`), from the kmod tool that
/// ships with libkmod; None when it is not installed.
fn kmod_features() -> Option<Vec<String>> {
    // By its absolute path, never through PATH: as root, a `kmod` earlier in a user's PATH
    // (sudo -E, su without -) would run as root.
    let kmod = ["/usr/bin/kmod", "/bin/kmod", "/usr/sbin/kmod", "/sbin/kmod"]
        .into_iter()
        .find(|p| Path::new(p).is_file())?;
    let out = std::process::Command::new(kmod)
        .arg("--version")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.split_whitespace()
            .filter(|w| w.starts_with('+') || w.starts_with('-'))
            .map(str::to_string)
            .collect(),
    )
}

/// The file's kind from its metadata and first bytes.
fn sniff_file(path: &Path) -> Result<Format, FileProblem> {
    use std::io::Read as _;
    let p = || path.to_path_buf();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FileProblem::Missing {
            path: p(),
            from: "the module search".into(),
        },
        _ => FileProblem::Unreadable {
            path: p(),
            error: e.to_string(),
        },
    })?;
    if meta.is_dir() {
        return Err(FileProblem::Directory { path: p() });
    }
    if !meta.is_file() {
        return Err(FileProblem::NotRegular { path: p() });
    }
    if meta.len() == 0 {
        return Err(FileProblem::Empty { path: p() });
    }
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| FileProblem::Unreadable {
            path: p(),
            error: e.to_string(),
        })?;
    Format::sniff(&head[..n]).ok_or_else(|| FileProblem::NotAModule {
        path: p(),
        what: describe_unknown(&head[..n]),
    })
}

/// A few words on a file that is not a module, e.g. "a text file starting with \"#!/bin/sh\"".
fn describe_unknown(head: &[u8]) -> String {
    let text = head
        .iter()
        .all(|&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b));
    if text {
        let first = String::from_utf8_lossy(head);
        let first = first.lines().next().unwrap_or("").trim();
        let first: String = first.chars().take(40).collect();
        format!("a text file starting with {first:?}")
    } else {
        format!(
            "no ELF header, nor xz, zstd or gzip compression; it starts with {}",
            head.iter()
                .take(4)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }
}

/// The kernel release a vermagic names (its first word).
pub fn vermagic_release(vermagic: &str) -> &str {
    vermagic.split_whitespace().next().unwrap_or("")
}

/// A root tool must not load what another user could have changed: the file and every
/// folder above it must belong to one of `owners` (root, this vmtop's owner, the user behind
/// sudo: `trust::Trust::module_owners`) and be writable by neither group nor others (a
/// sticky folder such as /tmp is fine for its owner's files).
pub fn check_ownership(path: &Path, owners: &[u32]) -> Result<(), FileProblem> {
    crate::trust::check_path(path, owners, "the module file")
        .map(|_| ())
        .map_err(|u| FileProblem::UnsafeFile {
            path: path.to_path_buf(),
            why: u.why,
            fix: u.fix,
        })
}

/// Marker that scripts/sign-file appends to a signed module (MODULE_SIG_STRING).
const SIGNATURE_MARKER: &[u8] = b"~Module signature appended~\n";

/// Whether an uncompressed module file carries a signature; None when it cannot tell
/// (compressed files carry it inside the compressed data; unreadable files).
pub fn is_signed(path: &Path) -> Option<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if path.extension().is_none_or(|e| e != "ko") {
        return None;
    }
    let mut f = std::fs::File::open(path).ok()?;
    f.seek(SeekFrom::End(-(SIGNATURE_MARKER.len() as i64)))
        .ok()?;
    let mut tail = [0u8; SIGNATURE_MARKER.len()];
    f.read_exact(&mut tail).ok()?;
    Some(tail == SIGNATURE_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private temporary folder (mode 0700, a fresh unpredictable name), removed on drop.
    fn tmp(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("vmtop-mf-{name}-"))
            .tempdir()
            .expect("temporary folder")
    }

    #[test]
    fn formats_from_magic() {
        assert_eq!(Format::sniff(b"\x7fELF\x02\x01"), Some(Format::Elf));
        assert_eq!(Format::sniff(b"\xfd7zXZ\0\0\x01"), Some(Format::Xz));
        assert_eq!(
            Format::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(Format::Zstd)
        );
        assert_eq!(Format::sniff(&[0x1f, 0x8b, 8]), Some(Format::Gzip));
        assert_eq!(Format::sniff(b"#!/bin/sh\n"), None);
    }

    #[test]
    fn each_bad_file_is_reported_as_what_it_is() {
        // Decided before libkmod is asked (tests/host/status.rs has the files libkmod must read).
        let t = tmp("bad");
        let d = t.path();
        let empty = d.join("empty.ko");
        std::fs::write(&empty, b"").expect("write");
        let text = d.join("text.ko");
        std::fs::write(&text, b"#!/bin/sh\necho hi\n").expect("write");
        assert!(matches!(identify(&empty), Err(FileProblem::Empty { .. })));
        assert!(matches!(identify(d), Err(FileProblem::Directory { .. })));
        match identify(&text) {
            Err(FileProblem::NotAModule { what, .. }) => {
                assert!(what.contains("text file"), "{what}");
                assert!(what.contains("#!/bin/sh"), "{what}");
            }
            other => panic!("text file: {other:?}"),
        }
        let missing = d.join("nope.ko");
        let e = identify(&missing).expect_err("missing");
        assert!(matches!(e, FileProblem::Missing { .. }), "{e:?}");
        assert!(e.to_string().contains("nope.ko"), "{e}");
    }

    #[test]
    fn a_module_is_identified_by_its_resolved_path_and_inode() {
        use std::os::unix::fs::MetadataExt as _;
        let t = tmp("identify");
        let d = t.path();
        let real = d.join("build/alloc_large_mem.ko");
        std::fs::create_dir_all(real.parent().expect("parent")).expect("mkdir");
        std::fs::write(&real, b"\x7fELF\x02\x01").expect("write");
        // Through a link to the folder and one to the file: the file behind them.
        std::os::unix::fs::symlink(d.join("build"), d.join("out")).expect("link");
        std::os::unix::fs::symlink(d.join("out/alloc_large_mem.ko"), d.join("m.ko")).expect("link");
        let f = identify(&d.join("m.ko")).expect("identified");
        let canonical = std::fs::canonicalize(&real).expect("canonical");
        assert_eq!(f.canonical, canonical);
        let meta = std::fs::metadata(&real).expect("stat");
        assert_eq!((f.id.dev, f.id.ino), (meta.dev(), meta.ino()));
        // Re-pointed afterwards: another file at the same path is another id.
        std::fs::remove_file(d.join("m.ko")).expect("rm");
        let other = d.join("other.ko");
        std::fs::write(&other, b"\x7fELF\x02\x01").expect("write");
        std::os::unix::fs::symlink(&other, d.join("m.ko")).expect("link");
        assert_ne!(identify(&d.join("m.ko")).expect("identified").id, f.id);
    }

    #[test]
    fn missing_argument_names_its_path() {
        let e = find(Some(Path::new("/nonexistent/dir/x.ko"))).expect_err("missing");
        let s = e.to_string();
        assert!(
            s.contains("/nonexistent/dir/x.ko") && s.contains("--module"),
            "{s}"
        );
    }

    #[test]
    fn writable_files_and_folders_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let t = tmp("perm");
        let d = t.path();
        let ko = d.join("m.ko");
        std::fs::write(&ko, b"x").expect("write");
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(&ko, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let me = nix::unistd::geteuid().as_raw();
        // The temporary folder's parents (/tmp is sticky) are fine.
        assert_eq!(check_ownership(&ko, &[0, me]), Ok(()));
        std::fs::set_permissions(&ko, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        match check_ownership(&ko, &[0, me]) {
            Err(e @ FileProblem::UnsafeFile { .. }) => {
                let s = e.to_string();
                assert!(
                    s.contains("group and others") && s.contains("chmod go-w"),
                    "{s}"
                );
            }
            other => panic!("0666 file: {other:?}"),
        }
        std::fs::set_permissions(&ko, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o757)).expect("chmod");
        match check_ownership(&ko, &[0, me]) {
            Err(e @ FileProblem::UnsafeFile { .. }) => {
                let s = e.to_string();
                assert!(s.contains("its folder") && s.contains("others"), "{s}");
            }
            other => panic!("0757 folder: {other:?}"),
        }
    }

    #[test]
    fn release_is_the_first_word() {
        assert_eq!(
            vermagic_release("6.1.0-57-amd64 SMP preempt mod_unload modversions "),
            "6.1.0-57-amd64"
        );
        assert_eq!(vermagic_release(""), "");
    }

    #[test]
    fn signature_marker_at_the_end_of_the_file() {
        let t = tmp("sig");
        let dir = t.path();
        let (signed, unsigned) = (dir.join("a.ko"), dir.join("b.ko"));
        std::fs::write(
            &signed,
            [b"\x7fELF...sig...".as_slice(), SIGNATURE_MARKER].concat(),
        )
        .expect("write");
        std::fs::write(
            &unsigned,
            b"\x7fELF... a module without a signature at its end",
        )
        .expect("write");
        assert_eq!(is_signed(&signed), Some(true));
        assert_eq!(is_signed(&unsigned), Some(false));
        assert_eq!(is_signed(&dir.join("missing.ko")), None);
        assert_eq!(is_signed(&dir.join("c.ko.zst")), None);
    }
}
