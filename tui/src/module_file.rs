//! Finding alloc_large_mem.ko and checking it was built for the running kernel.
//!
//! Order: `--module PATH`, `$VMTOP_MODULE`, the checkout's freshly built
//! `kmod-src/alloc_large_mem.ko`, then the installed module looked up by name (libkmod).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

pub const MODULE_NAME: &str = "alloc_large_mem";

/// Where the module file came from (shown in the confirmation pane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Argument,
    Environment,
    Checkout,
    Installed,
}

#[derive(Debug, Clone)]
pub struct ModuleFile {
    pub path: PathBuf,
    pub origin: Origin,
}

pub fn find(arg: Option<&Path>) -> anyhow::Result<ModuleFile> {
    if let Some(p) = arg {
        return existing(p, Origin::Argument, "--module");
    }
    if let Some(p) = std::env::var_os("VMTOP_MODULE").filter(|v| !v.is_empty()) {
        return existing(Path::new(&p), Origin::Environment, "VMTOP_MODULE");
    }
    if let Some(c) = crate::lab::checkout_dir() {
        let p = c.join("kmod-src").join(format!("{MODULE_NAME}.ko"));
        if p.is_file() {
            return Ok(ModuleFile {
                path: p,
                origin: Origin::Checkout,
            });
        }
    }
    if let Some(p) = installed() {
        return Ok(ModuleFile {
            path: p,
            origin: Origin::Installed,
        });
    }
    bail!(
        "no {MODULE_NAME}.ko found (not given with --module or VMTOP_MODULE, not built in a checkout, not installed): build it with `make module` or pass --module PATH"
    )
}

fn existing(p: &Path, origin: Origin, from: &str) -> anyhow::Result<ModuleFile> {
    std::fs::File::open(p)
        .with_context(|| format!("opening the module file {} (from {from})", p.display()))?;
    Ok(ModuleFile {
        path: p.to_path_buf(),
        origin,
    })
}

fn installed() -> Option<PathBuf> {
    let ctx = kmod::Context::new().ok()?;
    let found = ctx.module_new_from_lookup(MODULE_NAME).ok()?;
    for m in found {
        if let Some(p) = m.path() {
            let p = PathBuf::from(p);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The `vermagic=` string from the module's .modinfo section.
pub fn vermagic(path: &Path) -> anyhow::Result<String> {
    let data = std::fs::read(path)
        .with_context(|| format!("reading the module file {}", path.display()))?;
    vermagic_of(&data)
        .with_context(|| format!("{} has no vermagic: is it a kernel module?", path.display()))
}

fn vermagic_of(data: &[u8]) -> Option<String> {
    // .modinfo holds NUL-separated key=value strings; a NUL precedes each key.
    let key = b"\0vermagic=";
    let at = data.windows(key.len()).position(|w| w == key)? + key.len();
    let end = data[at..].iter().position(|&b| b == 0)? + at;
    Some(String::from_utf8_lossy(&data[at..end]).into_owned())
}

/// The kernel release a vermagic names (its first word).
pub fn vermagic_release(vermagic: &str) -> &str {
    vermagic.split_whitespace().next().unwrap_or("")
}

/// None when the module matches `release`, else a one-line explanation with the fix.
pub fn mismatch(path: &Path, release: &str) -> anyhow::Result<Option<String>> {
    let vm = vermagic(path)?;
    let built_for = vermagic_release(&vm);
    if built_for == release {
        return Ok(None);
    }
    Ok(Some(format!(
        "{} was built for kernel {built_for}, but this kernel is {release}: rebuild it with `make -C kmod-src` (or `make module`)",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_vermagic_in_modinfo() {
        let blob = b"\x7fELF....\0license=GPL\0vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions \0name=alloc_large_mem\0";
        let vm = vermagic_of(blob).expect("vermagic");
        assert_eq!(vm, "6.1.0-56-amd64 SMP preempt mod_unload modversions ");
        assert_eq!(vermagic_release(&vm), "6.1.0-56-amd64");
        assert_eq!(vermagic_of(b"no modinfo here"), None);
    }
}
