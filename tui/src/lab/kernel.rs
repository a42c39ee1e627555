//! Finding the lab kernel: a kernel image and the headers its modules are built with.
//!
//! Searched, in order: `--kernel`/`--kdir`, `$VMTOP_LAB_DIR`, the checkout's `build/lab`
//! (written by `make lab`), `~/.cache/vmtop/lab`, `/usr/local/share/vmtop/lab`, and finally
//! the host's own `/boot/vmlinuz-*` with `/lib/modules/*/build`. A lab dir holds Debian
//! packages unpacked under `root/` (see scripts/fetch-lab-kernel.sh). No version and no
//! architecture is assumed: whatever `vmlinuz-RELEASE` has matching headers is used.

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

impl LabKernel {
    pub fn discover(kernel: Option<&Path>, kdir: Option<&Path>) -> anyhow::Result<LabKernel> {
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
                let all = candidates();
                match all.into_iter().next() {
                    Some(k) => Ok(k),
                    None => bail!(
                        "no lab kernel found (looked in {}): {NOT_FOUND_HINT}",
                        lab_dirs()
                            .iter()
                            .map(|d| d.display().to_string())
                            .chain(["/boot".to_string()])
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            }
        }
    }

    /// Where module builds for this kernel go.
    pub fn work_dir(&self) -> PathBuf {
        match &self.lab_dir {
            Some(d) => d.join("work"),
            None => std::env::temp_dir().join("vmtop-lab-work"),
        }
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
    if let Some(d) = std::env::var_os("VMTOP_LAB_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(c) = super::checkout_dir() {
        dirs.push(c.join("build/lab"));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(c) = cache {
        dirs.push(c.join("vmtop/lab"));
    }
    dirs.push(PathBuf::from("/usr/local/share/vmtop/lab"));
    dirs
}

/// Every usable (image, headers) pair, newest release first within each place.
pub fn candidates() -> Vec<LabKernel> {
    let mut out = Vec::new();
    for dir in lab_dirs() {
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

    #[test]
    fn release_from_names() {
        assert_eq!(
            release_of_image(Path::new("/x/boot/vmlinuz-6.1.0-56-686-pae")).as_deref(),
            Some("6.1.0-56-686-pae")
        );
        assert_eq!(release_of_image(Path::new("/x/boot/System.map-6.1")), None);
    }
}
