//! Real swap in the lab VM (`vmtop lab --swap SIZE`): a sparse disk image on the host,
//! attached as a virtio disk, made swap by /init with mkswap and swapon. Debian builds the
//! virtio block driver (and on 6.1 the virtio PCI transport) as modules, so the lab carries
//! the lab kernel's own modules for it and loads them first, dependencies first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::LabKernel;

/// Where /init finds the modules to load (in name order: `00-virtio_ring.ko`, ...).
pub const GUEST_DIR: &str = "/lab/swap";

/// The drivers the swap disk needs: the PCI transport and the block driver.
const NEEDED: [&str; 2] = ["virtio_pci", "virtio_blk"];

/// /init's part: load the modules, wait for the disk, make it swap. Only when the lab put
/// them there (`--swap`).
pub const INIT: &str = r#"
if [ -d /lab/swap ]; then
	for m in $(ls /lab/swap/*.ko | sort); do insmod "$m" || echo "vmtop lab: insmod $m failed" >&2; done
	i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	if mkswap /dev/vda >/dev/null 2>&1 && swapon /dev/vda; then :; else echo "vmtop lab: no swap: /dev/vda could not be made swap" >&2; fi
fi
"#;

/// The kernel's modules folder: `lib/modules/RELEASE` beside the image's `boot/`.
pub fn modules_dir(kernel: &LabKernel) -> PathBuf {
    kernel
        .image
        .parent()
        .and_then(Path::parent)
        .map(|root| root.join("lib/modules").join(&kernel.release))
        .unwrap_or_else(|| Path::new("/lib/modules").join(&kernel.release))
}

/// A module's name as the kernel spells it (dashes are underscores), from its file name.
fn module_name(file: &str) -> Option<String> {
    let stem = file
        .strip_suffix(".ko")
        .or_else(|| file.strip_suffix(".ko.xz"))
        .or_else(|| file.strip_suffix(".ko.zst"))
        .or_else(|| file.strip_suffix(".ko.gz"))?;
    Some(stem.replace('-', "_"))
}

/// Every module file under `dir`, by name.
fn index(dir: &Path) -> anyhow::Result<HashMap<String, PathBuf>> {
    let mut map = HashMap::new();
    let mut stack = vec![dir.join("kernel")];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(n) = p.file_name().and_then(|n| n.to_str()).and_then(module_name) {
                map.insert(n, p);
            }
        }
    }
    Ok(map)
}

/// The names in `modules.builtin` (built into the kernel: nothing to load).
fn builtin(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("modules.builtin"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.rsplit('/').next().and_then(module_name))
        .collect()
}

/// A module file's bytes, decompressed (busybox insmod hands the kernel what it reads).
pub fn read_module(path: &Path) -> anyhow::Result<Vec<u8>> {
    let name = path.to_string_lossy();
    let tool = if name.ends_with(".xz") {
        Some("xz")
    } else if name.ends_with(".zst") {
        Some("zstd")
    } else if name.ends_with(".gz") {
        Some("gzip")
    } else {
        None
    };
    let Some(tool) = tool else {
        return std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    };
    let out = std::process::Command::new(tool)
        .arg("-dc")
        .arg(path)
        .output()
        .with_context(|| {
            format!(
                "running {tool} to decompress {} (install {tool} for --swap)",
                path.display()
            )
        })?;
    if !out.status.success() {
        bail!(
            "{tool} -dc {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// `depends=a,b` from a module's .modinfo strings.
pub fn depends(ko: &[u8]) -> Vec<String> {
    ko.split(|b| *b == 0)
        .find_map(|s| s.strip_prefix(b"depends="))
        .map(|d| {
            String::from_utf8_lossy(d)
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.replace('-', "_"))
                .collect()
        })
        .unwrap_or_default()
}

/// The modules the swap disk needs, dependencies first, each (name, decompressed bytes).
pub fn modules(kernel: &LabKernel) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let dir = modules_dir(kernel);
    let files = index(&dir).with_context(|| {
        format!(
            "--swap needs the lab kernel's modules (virtio_blk) in {}: fetch the kernel with `make lab`",
            dir.display()
        )
    })?;
    let built_in = builtin(&dir);
    let mut order: Vec<(String, Vec<u8>)> = Vec::new();
    // Depth-first, dependencies before the module; `visiting` catches a cycle.
    fn visit(
        name: &str,
        files: &HashMap<String, PathBuf>,
        built_in: &[String],
        visiting: &mut Vec<String>,
        order: &mut Vec<(String, Vec<u8>)>,
    ) -> anyhow::Result<()> {
        if order.iter().any(|(n, _)| n == name) || built_in.iter().any(|b| b == name) {
            return Ok(());
        }
        if visiting.iter().any(|v| v == name) {
            bail!(
                "the modules depend on each other in a cycle: {}",
                visiting.join(" -> ")
            );
        }
        let Some(path) = files.get(name) else {
            bail!("the lab kernel has no {name} module, neither as a file nor built in: --swap cannot attach a disk");
        };
        let bytes = read_module(path)?;
        visiting.push(name.to_string());
        for d in depends(&bytes) {
            visit(&d, files, built_in, visiting, order)?;
        }
        visiting.pop();
        order.push((name.to_string(), bytes));
        Ok(())
    }
    let mut visiting = Vec::new();
    for n in NEEDED {
        visit(n, &files, &built_in, &mut visiting, &mut order)?;
    }
    Ok(order)
}

/// A sparse file of `mib` MiB for the swap disk.
pub fn disk(dir: &Path, mib: u64) -> anyhow::Result<PathBuf> {
    let path = dir.join("swap.img");
    let f = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    f.set_len(mib * crate::units::MIB)
        .with_context(|| format!("sizing {} to {mib} MiB", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_is_read_from_the_modinfo_strings() {
        let ko =
            b"\x7fELF...\0license=GPL\0depends=virtio_ring,virtio-pci-modern-dev\0vermagic=6.1\0";
        assert_eq!(depends(ko), vec!["virtio_ring", "virtio_pci_modern_dev"]);
        assert!(depends(b"\0depends=\0").is_empty());
        assert!(depends(b"nothing").is_empty());
    }

    #[test]
    fn module_names_drop_the_suffix_and_dashes() {
        assert_eq!(
            module_name("virtio_blk.ko.xz").as_deref(),
            Some("virtio_blk")
        );
        assert_eq!(module_name("virtio-pci.ko").as_deref(), Some("virtio_pci"));
        assert_eq!(module_name("README"), None);
    }
}
