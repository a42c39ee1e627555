//! Finding the lab kernel: a kernel image and the headers its modules are built with.
//!
//! Searched, in order: `--kernel`/`--kdir`, `$VMTOP_LAB_DIR`, the checkout's `build/lab`
//! (written by `make lab`), `~/.cache/vmtop/lab`, `/usr/local/share/vmtop/lab`, and finally
//! the host's own `/boot/vmlinuz-*` with `/lib/modules/*/build`. A lab dir holds Debian
//! packages unpacked under `root/` (see scripts/fetch-lab-kernel.sh). No version and no
//! architecture is assumed: whatever `vmlinuz-RELEASE` has matching headers is used, and
//! the architecture is read from the headers' kernel configuration.

use std::path::{Path, PathBuf};

use anyhow::bail;

#[derive(Debug, Clone)]
pub struct LabKernel {
    pub release: String,
    pub image: PathBuf,
    pub kdir: PathBuf,
    /// The lab dir it came from, if any (module builds go under it).
    pub lab_dir: Option<PathBuf>,
}

const NOT_FOUND_HINT: &str = "run `make lab` to fetch the lab kernel, or pass --kernel and --kdir";

/// The architecture a lab kernel was built for: it picks the QEMU binary, not the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    I386,
}

impl Arch {
    /// The architecture of the machine vmtop was built for.
    #[cfg(target_arch = "x86")]
    pub const HOST: Arch = Arch::I386;
    #[cfg(not(target_arch = "x86"))]
    pub const HOST: Arch = Arch::X86_64;

    /// Parse `--arch`: x86_64 (amd64) or i386 (x86, i686).
    pub fn parse(s: &str) -> Result<Arch, String> {
        match s {
            "x86_64" | "amd64" => Ok(Arch::X86_64),
            "i386" | "i686" | "x86" => Ok(Arch::I386),
            other => Err(format!(
                "unknown --arch {other:?}: use x86_64 (amd64) or i386 (i686)"
            )),
        }
    }

    /// The Rust target vmtop is built for to run on kernels of this architecture.
    pub fn rust_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::I386 => "i686-unknown-linux-gnu",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
        }
    }

    /// From a kernel configuration (`include/config/auto.conf` or `.config`).
    pub fn from_config(config: &str) -> Result<Arch, String> {
        let set = |key: &str| {
            config
                .lines()
                .any(|l| l.trim().strip_prefix(key) == Some("=y"))
        };
        if set("CONFIG_X86_64") {
            return Ok(Arch::X86_64);
        }
        if set("CONFIG_X86_32") {
            return Ok(Arch::I386);
        }
        // Name what it is, so the message says which kernels the lab cannot boot yet.
        let other = [
            "ARM64",
            "ARM",
            "RISCV",
            "PPC64",
            "S390",
            "MIPS",
            "LOONGARCH",
        ]
        .into_iter()
        .find(|a| set(&format!("CONFIG_{a}")));
        Err(match other {
            Some(a) => format!("built for {} (CONFIG_{a}=y)", a.to_lowercase()),
            None => "built for an architecture the lab does not know (neither CONFIG_X86_64=y nor CONFIG_X86_32=y)".into(),
        })
    }
}

/// Where a choice of kernel release came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseFrom {
    Flag,
    Env,
}

/// `vmtop lab`'s default for --kernel-release (the Makefile runs the lab tests once per kernel).
pub const KERNEL_ENV: &str = "VMTOP_LAB_KERNEL";

/// Whether `release` starts with `prefix` at a boundary: "6.1" picks 6.1.0-57-amd64 but
/// not 6.12.95+deb12-amd64.
pub fn release_matches(release: &str, prefix: &str) -> bool {
    let Some(rest) = release.strip_prefix(prefix) else {
        return false;
    };
    let digit_end = prefix.ends_with(|c: char| c.is_ascii_digit());
    !(digit_end && rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// The first candidate whose release matches `prefix` (candidates come most specific
/// place first, newest first within a place), or the first of all without a prefix.
pub fn choose(
    candidates: Vec<LabKernel>,
    prefix: Option<(&str, ReleaseFrom)>,
) -> anyhow::Result<LabKernel> {
    let available = || {
        candidates
            .iter()
            .map(|k| format!("{} ({})", k.release, k.place()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match prefix {
        None => match candidates.first() {
            Some(k) => Ok(k.clone()),
            None => bail!(
                "no lab kernel found (looked in {}): {NOT_FOUND_HINT}",
                lab_dirs()
                    .iter()
                    .map(|d| d.display().to_string())
                    .chain(["/boot".to_string()])
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Some((p, from)) => {
            if let Some(k) = candidates.iter().find(|k| release_matches(&k.release, p)) {
                return Ok(k.clone());
            }
            let asked = match from {
                ReleaseFrom::Flag => format!("--kernel-release {p}"),
                ReleaseFrom::Env => format!("{KERNEL_ENV}={p}"),
            };
            if candidates.is_empty() {
                bail!("no lab kernel matches {asked}: none is fetched; {NOT_FOUND_HINT}");
            }
            bail!(
                "no lab kernel matches {asked}; available: {}. Pick one of those, or fetch another with scripts/fetch-lab-kernel.sh",
                available()
            )
        }
    }
}

impl LabKernel {
    /// The kernel's architecture, from its headers' configuration.
    pub fn arch(&self) -> anyhow::Result<Arch> {
        let mut tried = Vec::new();
        for f in ["include/config/auto.conf", ".config"] {
            let path = self.kdir.join(f);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return Arch::from_config(&text).map_err(|what| {
                        anyhow::anyhow!(
                            "kernel {} is {what} ({}): the lab boots x86_64 and i386 kernels only",
                            self.release,
                            path.display()
                        )
                    })
                }
                Err(e) => tried.push(format!("{}: {e}", path.display())),
            }
        }
        bail!(
            "cannot tell the architecture of kernel {} from its headers ({}): pass --kdir with the headers it was built with",
            self.release,
            tried.join("; ")
        )
    }

    /// Where it was found, for listings.
    pub fn place(&self) -> String {
        match &self.lab_dir {
            Some(d) => d.display().to_string(),
            None => self
                .image
                .parent()
                .map_or_else(|| "?".into(), |p| p.display().to_string()),
        }
    }

    /// `arch`: with neither --kernel nor --kdir, the architecture to pick a fetched kernel
    /// of (None: this machine's own, so a 32-bit lab is booted only when asked for).
    pub fn discover(
        kernel: Option<&Path>,
        kdir: Option<&Path>,
        release: Option<(&str, ReleaseFrom)>,
        arch: Option<Arch>,
    ) -> anyhow::Result<LabKernel> {
        match (kernel, kdir) {
            (Some(image), Some(kdir)) => {
                let release = release_of_image(image)
                    .or_else(|| release_of_kdir(kdir))
                    .unwrap_or_else(|| "custom".into());
                check_image(image)?;
                check_kdir(kdir)?;
                Ok(LabKernel {
                    release,
                    image: image.to_path_buf(),
                    kdir: kdir.to_path_buf(),
                    lab_dir: None,
                })
            }
            (Some(image), None) => {
                check_image(image)?;
                let Some(release) = release_of_image(image) else {
                    bail!("cannot tell the release of {} (expected a name like vmlinuz-RELEASE): pass --kdir too", image.display());
                };
                let found = candidates()
                    .into_iter()
                    .find(|k| k.release == release)
                    .map(|k| k.kdir);
                let kdir = found
                    .or_else(|| sibling_headers(image, &release))
                    .ok_or_else(|| anyhow::anyhow!("no headers found for kernel {release}: pass --kdir (the headers folder that has Module.symvers)"))?;
                Ok(LabKernel {
                    release,
                    image: image.to_path_buf(),
                    kdir,
                    lab_dir: None,
                })
            }
            (None, Some(kdir)) => {
                check_kdir(kdir)?;
                let Some(release) = release_of_kdir(kdir) else {
                    bail!(
                        "cannot tell the release of the headers in {}: pass --kernel too",
                        kdir.display()
                    );
                };
                candidates()
                    .into_iter()
                    .find(|k| k.release == release)
                    .map(|k| LabKernel {
                        kdir: kdir.to_path_buf(),
                        ..k
                    })
                    .ok_or_else(|| {
                        anyhow::anyhow!("no kernel image vmlinuz-{release} found: pass --kernel")
                    })
            }
            (None, None) => {
                let want = arch.unwrap_or(Arch::HOST);
                let all = candidates();
                let (same, other): (Vec<_>, Vec<_>) = all
                    .into_iter()
                    .partition(|k| k.arch().is_ok_and(|a| a == want));
                if same.is_empty() && !other.is_empty() {
                    bail!(
                        "no {} lab kernel is fetched (there are: {}): {}",
                        want.name(),
                        other
                            .iter()
                            .map(|k| k.release.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        match want {
                            Arch::I386 => "run `make lab LAB_ARCH=i386`",
                            Arch::X86_64 => "run `make lab`",
                        }
                    );
                }
                choose(same, release)
            }
        }
    }

    /// Where module builds for this kernel go: a folder no other user can write to
    /// (`private`: the lab dir's `work` when it is this user's, else the user's cache).
    pub fn work_dir(&self) -> anyhow::Result<super::private::WorkDir> {
        super::private::work_dir(self.lab_dir.as_deref())
    }
}

fn check_image(image: &Path) -> anyhow::Result<()> {
    if !image.is_file() {
        bail!(
            "kernel image {} does not exist: {NOT_FOUND_HINT}",
            image.display()
        );
    }
    Ok(())
}

fn check_kdir(kdir: &Path) -> anyhow::Result<()> {
    if !kdir.join("Makefile").is_file() {
        bail!(
            "{} is not a kernel headers folder (no Makefile): {NOT_FOUND_HINT}",
            kdir.display()
        );
    }
    Ok(())
}

fn release_of_image(image: &Path) -> Option<String> {
    let name = image.file_name()?.to_str()?;
    let r = name
        .strip_prefix("vmlinuz-")
        .or_else(|| name.strip_prefix("bzImage-"))?;
    Some(r.to_string())
}

fn release_of_kdir(kdir: &Path) -> Option<String> {
    if let Ok(s) = std::fs::read_to_string(kdir.join("include/config/kernel.release")) {
        let s = s.trim();
        if !s.is_empty() {
            return Some(s.to_string());
        }
    }
    // Debian names the folder linux-headers-RELEASE.
    let name = kdir.file_name()?.to_str()?;
    name.strip_prefix("linux-headers-").map(str::to_string)
}

fn sibling_headers(image: &Path, release: &str) -> Option<PathBuf> {
    let root = image.parent()?.parent()?;
    [
        root.join("usr/src")
            .join(format!("linux-headers-{release}")),
        PathBuf::from("/lib/modules").join(release).join("build"),
    ]
    .into_iter()
    .find(|d| d.join("Makefile").is_file())
}

/// Lab dirs, most specific first.
pub fn lab_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os(crate::env::LAB_DIR) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(c) = crate::env::checkout_dir() {
        dirs.push(c.join("build/lab"));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(c) = cache {
        dirs.push(c.join("vmtop/lab"));
    }
    dirs.push(PathBuf::from("/usr/local/share/vmtop/lab"));
    // The Makefile exports VMTOP_LAB_DIR as the checkout's build/lab: one place, listed once.
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())));
    dirs
}

/// Every usable (image, headers) pair, newest release first within each place.
pub fn candidates() -> Vec<LabKernel> {
    let mut out = Vec::new();
    // A lab dir holds the 64-bit kernels under root/, the 32-bit lab under i386/root/
    // (scripts/fetch-lab-i386.sh).
    for dir in lab_dirs()
        .into_iter()
        .flat_map(|d| [d.clone(), d.join("i386")])
    {
        let root = dir.join("root");
        for (release, image) in images_in(&root.join("boot")) {
            let kdir = root
                .join("usr/src")
                .join(format!("linux-headers-{release}"));
            if kdir.join("Makefile").is_file() {
                out.push(LabKernel {
                    release,
                    image,
                    kdir,
                    lab_dir: Some(dir.clone()),
                });
            }
        }
    }
    for (release, image) in images_in(Path::new("/boot")) {
        let kdir = PathBuf::from("/lib/modules").join(&release).join("build");
        if kdir.join("Makefile").is_file() {
            out.push(LabKernel {
                release,
                image,
                kdir,
                lab_dir: None,
            });
        }
    }
    out
}

fn images_in(boot: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(boot) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            release_of_image(&p).map(|r| (r, p))
        })
        .collect();
    v.sort_by(|a, b| version_cmp(&b.0, &a.0));
    v
}

/// Compare releases with numbers compared as numbers ("6.1.0-56" > "6.1.0-9").
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<Result<u64, String>> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut digit = None;
        for c in s.chars() {
            let d = c.is_ascii_digit();
            if digit.is_some_and(|x| x != d) {
                out.push(if digit == Some(true) {
                    cur.parse().map_err(|_| cur.clone())
                } else {
                    Err(cur.clone())
                });
                cur.clear();
            }
            digit = Some(d);
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(if digit == Some(true) {
                cur.parse().map_err(|_| cur.clone())
            } else {
                Err(cur)
            });
        }
        out
    }
    parts(a).cmp(&parts(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_compare_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp("6.1.0-56-amd64", "6.1.0-9-amd64"), Greater);
        assert_eq!(version_cmp("6.10.0-1-686-pae", "6.9.0-1-686-pae"), Greater);
        assert_eq!(version_cmp("6.1.0-56-amd64", "6.1.0-56-amd64"), Equal);
    }

    fn fake(release: &str, dir: &str) -> LabKernel {
        LabKernel {
            release: release.into(),
            image: PathBuf::from(format!("{dir}/root/boot/vmlinuz-{release}")),
            kdir: PathBuf::from(format!("{dir}/root/usr/src/linux-headers-{release}")),
            lab_dir: Some(PathBuf::from(dir)),
        }
    }

    #[test]
    fn release_prefixes_match_at_boundaries() {
        assert!(release_matches("6.1.0-57-amd64", "6.1"));
        assert!(release_matches("6.1.0-57-amd64", "6.1."));
        assert!(release_matches("6.1.0-57-amd64", "6.1.0-57-amd64"));
        assert!(!release_matches("6.12.95+deb12-amd64", "6.1"));
        assert!(release_matches("6.12.95+deb12-amd64", "6.12"));
        assert!(release_matches("6.12.95+deb12-amd64", "6"));
        assert!(!release_matches("6.1.0-57-amd64", "6.12"));
        assert!(!release_matches("6.1.0-57-amd64", "amd64"));
    }

    #[test]
    fn choice_by_prefix_and_default() {
        // As candidates() orders them: first lab dir newest first, then the next place.
        let all = || {
            vec![
                fake("6.12.95+deb12-amd64", "/a"),
                fake("6.1.0-57-amd64", "/a"),
                fake("6.1.0-56-amd64", "/b"),
            ]
        };
        let pick = |p: Option<&str>| {
            choose(all(), p.map(|p| (p, ReleaseFrom::Flag))).map(|k| {
                let place = k.place();
                (k.release, place)
            })
        };
        assert_eq!(
            pick(None).ok(),
            Some(("6.12.95+deb12-amd64".into(), "/a".into()))
        );
        assert_eq!(
            pick(Some("6.1")).ok(),
            Some(("6.1.0-57-amd64".into(), "/a".into()))
        );
        assert_eq!(
            pick(Some("6.1.0-56")).ok(),
            Some(("6.1.0-56-amd64".into(), "/b".into()))
        );
        assert_eq!(
            pick(Some("6.12")).ok(),
            Some(("6.12.95+deb12-amd64".into(), "/a".into()))
        );
        let e = pick(Some("6.6")).expect_err("no 6.6").to_string();
        assert!(e.contains("--kernel-release 6.6"), "{e}");
        assert!(
            e.contains("6.12.95+deb12-amd64 (/a), 6.1.0-57-amd64 (/a), 6.1.0-56-amd64 (/b)"),
            "{e}"
        );
        let e = choose(all(), Some(("5", ReleaseFrom::Env)))
            .expect_err("no 5")
            .to_string();
        assert!(e.contains("VMTOP_LAB_KERNEL=5"), "{e}");
        let e = choose(Vec::new(), Some(("6.1", ReleaseFrom::Flag)))
            .expect_err("none")
            .to_string();
        assert!(e.contains("make lab"), "{e}");
    }

    #[test]
    fn arch_from_kernel_config() {
        let amd64 = "# Automatically generated\nCONFIG_64BIT=y\nCONFIG_X86_64=y\nCONFIG_X86=y\n";
        assert_eq!(Arch::from_config(amd64), Ok(Arch::X86_64));
        let i386 = "CONFIG_X86_32=y\nCONFIG_X86=y\nCONFIG_X86_PAE=y\n";
        assert_eq!(Arch::from_config(i386), Ok(Arch::I386));
        // .config spells unset options as comments; they must not count.
        let unset = "# CONFIG_X86_64 is not set\nCONFIG_X86_32=y\n";
        assert_eq!(Arch::from_config(unset), Ok(Arch::I386));
        let arm = "CONFIG_ARM64=y\nCONFIG_64BIT=y\n";
        assert_eq!(
            Arch::from_config(arm),
            Err("built for arm64 (CONFIG_ARM64=y)".into())
        );
        assert!(Arch::from_config("CONFIG_X86_64_SMP=y\n").is_err());
    }

    #[test]
    fn release_from_names() {
        assert_eq!(
            release_of_image(Path::new("/x/boot/vmlinuz-6.1.0-56-686-pae")).as_deref(),
            Some("6.1.0-56-686-pae")
        );
        assert_eq!(release_of_image(Path::new("/x/boot/System.map-6.1")), None);
    }
}
