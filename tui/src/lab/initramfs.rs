//! A minimal initramfs, written as an uncompressed "newc" cpio archive.
//!
//! Written in Rust rather than by `find | cpio`: no temporary tree, no dependency on the
//! host's cpio, the same bytes on every architecture. The kernel unpacks uncompressed
//! archives directly, which also saves the gzip time on every boot.

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context as _;

/// An archive being built in memory.
#[derive(Default)]
pub struct Archive {
    buf: Vec<u8>,
    ino: u32,
    dirs: std::collections::BTreeSet<String>,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;

impl Archive {
    pub fn new() -> Archive {
        Archive::default()
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.ino += 1;
        let name = name.trim_start_matches('/');
        let namesize = name.len() + 1;
        let header = format!(
            "070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
            self.ino,
            mode,
            0, // uid
            0, // gid
            1, // nlink
            0, // mtime: fixed, so archives are reproducible
            data.len(),
            0,
            0,
            0,
            0,
            namesize,
            0, // check
        );
        self.buf.extend_from_slice(header.as_bytes());
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad();
        self.buf.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// Add a directory and its parents (once each).
    pub fn dir(&mut self, path: &str) {
        let path = path.trim_matches('/');
        if path.is_empty() {
            return;
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        if self.dirs.insert(path.to_string()) {
            self.entry(path, S_IFDIR | 0o755, &[]);
        }
    }

    fn parent_of(&mut self, path: &str) {
        if let Some((parent, _)) = path.trim_start_matches('/').rsplit_once('/') {
            self.dir(parent);
        }
    }

    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) {
        self.parent_of(path);
        self.entry(path, S_IFREG | (mode & 0o7777), data);
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.parent_of(path);
        self.entry(path, S_IFLNK | 0o777, target.as_bytes());
    }

    /// Copy a host file into the archive at `dest`, keeping its permission bits.
    pub fn copy(&mut self, src: &Path, dest: &str) -> anyhow::Result<()> {
        let data = std::fs::read(src)
            .with_context(|| format!("reading {} for the lab initramfs", src.display()))?;
        let mode = std::fs::metadata(src)
            .with_context(|| format!("reading the permissions of {}", src.display()))?
            .permissions()
            .mode();
        self.file(dest, mode, &data);
        Ok(())
    }

    /// Copy the tree under `src` to `dest`, leaving out the top-level entries named in
    /// `skip`. Symbolic links stay links.
    pub fn copy_tree(&mut self, src: &Path, dest: &str, skip: &[&str]) -> anyhow::Result<()> {
        self.dir(dest);
        let entries = std::fs::read_dir(src)
            .with_context(|| format!("listing {} for the lab initramfs", src.display()))?;
        let mut entries: Vec<_> = entries
            .collect::<Result<_, _>>()
            .with_context(|| format!("listing {} for the lab initramfs", src.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                anyhow::bail!("{}: a file name that is not UTF-8", e.path().display());
            };
            if skip.contains(&name) {
                continue;
            }
            let (from, to) = (e.path(), format!("{}/{name}", dest.trim_end_matches('/')));
            let kind = e
                .file_type()
                .with_context(|| format!("reading the type of {}", from.display()))?;
            if kind.is_symlink() {
                let target = std::fs::read_link(&from)
                    .with_context(|| format!("reading the link {}", from.display()))?;
                self.symlink(&to, &target.to_string_lossy());
            } else if kind.is_dir() {
                self.copy_tree(&from, &to, &[])?;
            } else if kind.is_file() {
                self.copy(&from, &to)?;
            }
        }
        Ok(())
    }

    /// Finish the archive (trailer entry) and write it out.
    pub fn write_to(mut self, mut w: impl Write) -> io::Result<()> {
        self.entry("TRAILER!!!", 0, &[]);
        w.write_all(&self.buf)
    }
}

/// Shared libraries a dynamically linked binary needs, as `ldd` reports them
/// (including the program interpreter, whatever its name on this architecture).
pub fn shared_libraries(binary: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    shared_libraries_with(binary, "")
}

/// As `shared_libraries`, with `library_path` searched first (LD_LIBRARY_PATH): the
/// libraries of another architecture's userland unpacked in a folder.
pub fn shared_libraries_with(
    binary: &Path,
    library_path: &str,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut cmd = std::process::Command::new("ldd");
    if !library_path.is_empty() {
        cmd.env("LD_LIBRARY_PATH", library_path);
    }
    let out = cmd
        .arg(binary)
        .output()
        .with_context(|| format!("running ldd on {}", binary.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // Static binaries make ldd exit 1 with "not a dynamic executable".
        if text.contains("not a dynamic executable")
            || String::from_utf8_lossy(&out.stderr).contains("not a dynamic executable")
        {
            return Ok(Vec::new());
        }
        anyhow::bail!(
            "ldd {} failed: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(parse_ldd(&text))
}

fn parse_ldd(text: &str) -> Vec<std::path::PathBuf> {
    let mut libs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.push(std::path::PathBuf::from(p));
        }
    }
    libs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_entries_are_aligned_and_terminated() {
        let mut a = Archive::new();
        a.file("/bin/hello", 0o755, b"abc");
        a.symlink("/bin/sh", "busybox");
        let mut out = Vec::new();
        a.write_to(&mut out).expect("write");
        assert_eq!(out.len() % 4, 0);
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("070701"));
        // The parent directory comes before the file, the trailer last.
        let bin = text.find("bin\0").expect("dir");
        let hello = text.find("bin/hello\0").expect("file");
        assert!(bin < hello);
        assert!(text.trim_end_matches('\0').ends_with("TRAILER!!!"));
        // Mode of the file: regular, 0755.
        let hdr = &text[hello - 110..hello];
        assert_eq!(&hdr[14..22], "000081ED");
    }

    #[test]
    fn parses_ldd_output_for_any_loader_name() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibkmod.so.2 => /lib/x86_64-linux-gnu/libkmod.so.2 (0x1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n\t/lib64/ld-linux-x86-64.so.2 (0x3)\n\tlibm.so.6 => /lib/i386-linux-gnu/libm.so.6 (0x4)\n\t/lib/ld-linux.so.2 (0x5)\n";
        let libs = parse_ldd(out);
        let names: Vec<_> = libs.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "/lib/x86_64-linux-gnu/libkmod.so.2",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2",
                "/lib/i386-linux-gnu/libm.so.6",
                "/lib/ld-linux.so.2"
            ]
        );
    }
}
