//! The sandbox: a real Debian kernel booted under QEMU, with vmtop and the module inside.
//!
//! `vmtop lab` finds a lab kernel and its headers, builds alloc_large_mem.ko for that
//! kernel, writes an initramfs (busybox, vmtop, its shared libraries, the module) and
//! boots it. Interactive mode runs the dashboard on the VM's serial console; `--exec`
//! runs a shell command line and returns its output and exit status.
//!
//! Nothing here assumes x86_64: the kernel, its headers and the program interpreter are
//! discovered, and the QEMU binary is chosen from the kernel's architecture. QEMU runs
//! with KVM where it works, else with TCG (see `accel`).

pub mod accel;
pub mod initramfs;
pub mod kernel;
pub mod private;
pub mod swap;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::env::checkout_dir;

pub use accel::Accel;
pub use kernel::{LabKernel, ReleaseFrom};

/// Where the module sits inside the VM.
pub const GUEST_MODULE: &str = "/lab/alloc_large_mem.ko";
/// Marker printed by the guest after an `--exec` command; never shown to the user.
const EXIT_MARKER: &str = "VMTOP-LAB-EXIT=";
/// Where `--copy` files wait in the initramfs. /init moves each into place once it has
/// mounted its file systems: a file unpacked straight into /tmp (busybox root) or /run
/// (Debian root) would be hidden under the tmpfs mounted there, and an archive entry for a
/// folder such as /tmp would also reset that folder's mode.
const COPY_STAGE: &str = "/lab/.copy";
/// The commands that move them (sourced by /init when present).
const COPY_SCRIPT: &str = "/lab/.copy.sh";

#[derive(Debug, Clone)]
pub struct LabOptions {
    pub mem_mib: u64,
    pub cpus: u32,
    pub kernel: Option<PathBuf>,
    pub kdir: Option<PathBuf>,
    /// Pick a fetched kernel by release prefix (default: the newest).
    pub kernel_release: Option<(String, ReleaseFrom)>,
    /// Architecture of the fetched kernel to boot (None: this machine's).
    pub arch: Option<kernel::Arch>,
    pub accel: Accel,
    pub append: Option<String>,
    pub exec: Option<String>,
    /// Kill the VM after this long (exec mode).
    pub timeout: Duration,
    /// Terminal size for the dashboard inside the VM.
    pub rows: u16,
    pub cols: u16,
    /// Extra arguments for the dashboard inside the VM.
    pub vmtop_args: Vec<String>,
    /// The vmtop binary to put in the VM (default: this one).
    pub vmtop: Option<PathBuf>,
    /// Extra files to put in the VM: (host path, guest path).
    pub files: Vec<(PathBuf, String)>,
    /// The VM's root file system.
    pub root: Root,
    /// Real swap, MiB (a virtio disk; 0: none).
    pub swap_mib: u64,
    /// A host file the guest's transcript serial port writes to (`transcript_tty`).
    pub transcript: Option<PathBuf>,
}

/// What the lab VM boots into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Root {
    /// A small initramfs: static busybox, vmtop, the module built on the host (fast)
    Busybox,
    /// Debian bookworm (debootstrap, from `make lab`) with make, gcc, sudo, a user `dev`,
    /// the kernel's modules and headers installed, and this checkout at /src
    Debian,
}

impl Root {
    /// VM memory by default: the Debian root lives in RAM (about 600 MiB unpacked).
    pub fn default_mem_mib(self) -> u64 {
        match self {
            Root::Busybox => 1024,
            Root::Debian => 2048,
        }
    }
}

/// What an `--exec` run produced.
#[derive(Debug)]
pub struct ExecResult {
    pub status: i32,
    pub boot_to_exit: Duration,
    pub kernel: String,
    pub accel: accel::Choice,
}

/// The module source: `VMTOP_KMOD_SRC`, the checkout's kmod-src, the copy `make install`
/// puts in /usr/local/share/vmtop, or the one the package alloc-large-mem-dkms puts in
/// /usr/src for DKMS (the newest version).
pub fn module_source() -> anyhow::Result<PathBuf> {
    let mut tried = Vec::new();
    let candidates = std::env::var_os(crate::env::KMOD_SRC)
        .map(PathBuf::from)
        .into_iter()
        .chain(checkout_dir().map(|d| d.join("kmod-src")))
        .chain([PathBuf::from("/usr/local/share/vmtop/kmod-src")])
        .chain(dkms_sources(Path::new("/usr/src")));
    for c in candidates {
        if c.join("alloc_large_mem.c").is_file() {
            return Ok(c);
        }
        tried.push(c.display().to_string());
    }
    bail!(
        "cannot find the module source (alloc_large_mem.c) in {}/usr/src/alloc_large_mem-VERSION: run from a checkout, `make install`, or install the package alloc-large-mem-dkms",
        tried.iter().map(|t| format!("{t}, ")).collect::<String>()
    )
}

/// The module's source folders DKMS packages install in `dir` (`alloc_large_mem-VERSION`),
/// newest version first.
fn dkms_sources(dir: &Path) -> Vec<PathBuf> {
    let prefix = format!("{}-", crate::module::MODULE_NAME);
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version = name.strip_prefix(&prefix)?.to_string();
            Some((version, e.path()))
        })
        .collect();
    found.sort_by(|a, b| kernel::version_cmp(&b.0, &a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// A module built for the lab kernel. The build folder stays locked while this lives, so a
/// second `vmtop lab` (tests run two at once) neither rebuilds nor reads a half-written .ko.
pub struct BuiltModule {
    pub ko: PathBuf,
    _lock: nix::fcntl::Flock<std::fs::File>,
}

/// Build alloc_large_mem.ko for `kdir` in a build folder of its own (never in kmod-src,
/// which holds the host's build).
pub fn build_module(
    kdir: &Path,
    release: &str,
    arch: kernel::Arch,
    work: &Path,
) -> anyhow::Result<BuiltModule> {
    let src = module_source()?;
    // Kbuild resolves M= from inside KDIR, so the folder must be absolute (it is: canonical),
    // and runs what `.*.cmd` files in it say: it is private (see `private`).
    let euid = nix::unistd::geteuid().as_raw();
    let dir = private::ensure(&work.join(format!("module-{release}")), euid)?;
    let lock_path = dir.join(".lock");
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening the build lock {}", lock_path.display()))?;
    let lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow::anyhow!("locking {}: {e}", lock_path.display()))?;
    for f in ["alloc_large_mem.c", "Kbuild"] {
        let (from, to) = (src.join(f), dir.join(f));
        // Copy only when changed, so make can skip an up-to-date build.
        let same = std::fs::read(&from).ok() == std::fs::read(&to).ok();
        if !same {
            std::fs::copy(&from, &to)
                .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        }
    }
    let out = Command::new("make")
        .arg("-C")
        .arg(kdir)
        .arg(format!("M={}", dir.display()))
        // Kbuild takes ARCH from the host (x86_64) otherwise; "x86" lets the kernel's own
        // configuration (CONFIG_X86_32) decide, as the lab notes found for i386 headers.
        .args((arch == kernel::Arch::I386).then_some("ARCH=x86"))
        .arg("W=1")
        .arg("modules")
        .output()
        .with_context(|| format!("running make -C {} to build the module", kdir.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "building the module for {release} failed (make -C {} M={}):\n{}{}",
            kdir.display(),
            dir.display(),
            err.trim(),
            build_hint(&err)
        );
    }
    let ko = dir.join("alloc_large_mem.ko");
    if !ko.is_file() {
        bail!("make succeeded but {} is missing", ko.display());
    }
    Ok(BuiltModule { ko, _lock: lock })
}

/// What a failed module build needs, when its output says so.
fn build_hint(stderr: &str) -> &'static str {
    if stderr.contains("pahole: not found") {
        // Kernels with CONFIG_DEBUG_INFO_BTF_MODULES (Debian's 6.12) run pahole at link time.
        "\nThis kernel adds BTF to modules, which needs pahole: install it (Debian package dwarves; `make deps` does)"
    } else {
        ""
    }
}

/// The guest path of `--copy HOST:GUEST`, normalised (`//`, `.` removed), or why no file can
/// be put there: /proc and /sys are the kernel's own file systems in the VM, `..` and a
/// trailing `/` do not name a file, and vmtop's staging folder is its own.
pub fn guest_copy_path(guest: &str) -> Result<String, String> {
    let fix = "pick a path such as /srv/NAME or /tmp/NAME";
    if !guest.starts_with('/') {
        return Err(format!("{guest:?} is not an absolute path: {fix}"));
    }
    if guest.ends_with('/') {
        return Err(format!(
            "{guest} names a folder: give the file's name too ({guest}NAME)"
        ));
    }
    let mut parts = Vec::new();
    for c in guest.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(format!("{guest} goes up with \"..\": {fix}")),
            c => parts.push(c),
        }
    }
    match parts.first().copied() {
        None => return Err(format!("{guest} is the root folder, not a file: {fix}")),
        Some(top @ ("proc" | "sys")) => {
            return Err(format!(
                "{guest} is under /{top}, the kernel's own file system in the VM, where no file can be put: {fix}"
            ))
        }
        _ => {}
    }
    let path = format!("/{}", parts.join("/"));
    if path == COPY_SCRIPT || path.starts_with(&format!("{COPY_STAGE}/")) || path == COPY_STAGE {
        return Err(format!(
            "{guest} is where vmtop lab keeps the --copy files on the way in: {fix}"
        ));
    }
    Ok(path)
}

/// The `--copy` files, checked before anything is built or booted: each host file exists
/// and is a regular file, each guest path can hold it. A refusal (exit 2) names the pair.
fn check_copies(files: &[(PathBuf, String)]) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let refuse = |host: &Path, guest: &str, why: String| {
        anyhow::Error::new(crate::refused::Refused(format!(
            "--copy {}:{guest}: {why}",
            host.display()
        )))
    };
    let mut out = Vec::new();
    for (host, guest) in files {
        match std::fs::metadata(host) {
            Ok(m) if m.is_file() => {}
            Ok(m) if m.is_dir() => {
                return Err(refuse(
                    host,
                    guest,
                    format!(
                        "{} is a folder; --copy takes one file a time (or a tar file of it)",
                        host.display()
                    ),
                ))
            }
            Ok(_) => {
                return Err(refuse(
                    host,
                    guest,
                    format!(
                        "{} is not a regular file: copy a regular file",
                        host.display()
                    ),
                ))
            }
            Err(e) => {
                return Err(refuse(
                    host,
                    guest,
                    format!("cannot read {} ({e}): check the path", host.display()),
                ))
            }
        }
        let path = guest_copy_path(guest).map_err(|why| refuse(host, guest, why))?;
        out.push((host.clone(), path));
    }
    Ok(out)
}

/// Put the `--copy` files in the archive under `COPY_STAGE`, and the script that /init runs
/// after its mounts to move each to its guest path (its parents made as needed).
fn add_copies(a: &mut initramfs::Archive, files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut script = String::from("# vmtop lab --copy: put each file where it was asked for.\n");
    for (i, (host, guest)) in files.iter().enumerate() {
        let staged = format!("{COPY_STAGE}/{i}");
        a.copy(host, &staged)?;
        let parent = Path::new(guest)
            .parent()
            .map_or_else(|| "/".to_string(), |p| p.display().to_string());
        let (g, p, st) = (
            shell_quote(guest),
            shell_quote(&parent),
            shell_quote(&staged),
        );
        script.push_str(&format!(
            "if [ -d {g} ]; then echo \"vmtop lab: --copy: \"{g}\" is a folder in the VM: name the file\" >&2; \
else mkdir -p {p} && mv -f {st} {g} || echo \"vmtop lab: --copy: could not put \"{g}\" in place\" >&2; fi\n"
        ));
    }
    a.file(COPY_SCRIPT, 0o644, script.as_bytes());
    Ok(())
}

/// The vmtop binaries and the libraries they need, for the lab kernel's architecture.
struct Userland {
    /// vmtop for the kernel's architecture (vmtop-kmod beside it).
    vmtop: PathBuf,
    /// Root of that architecture's libraries and busybox, when it is not this machine's.
    sysroot: Option<PathBuf>,
}

impl Userland {
    fn for_kernel(
        kernel: &LabKernel,
        arch: kernel::Arch,
        vmtop: Option<&Path>,
    ) -> anyhow::Result<Userland> {
        if arch == kernel::Arch::HOST {
            let vmtop = match vmtop {
                Some(p) => p.to_path_buf(),
                None => {
                    std::env::current_exe().context("finding the vmtop binary to put in the VM")?
                }
            };
            return Ok(Userland {
                vmtop,
                sysroot: None,
            });
        }
        let hint =
            "run `make lab LAB_ARCH=i386` (fetches the 32-bit userland and builds vmtop for i686)";
        let sysroot = kernel
            .lab_dir
            .as_ref()
            .map(|d| d.join("sysroot"))
            .filter(|d| d.is_dir())
            .with_context(|| {
                format!(
                    "no {} userland beside kernel {}: {hint}",
                    arch.name(),
                    kernel.release
                )
            })?;
        let target = arch.rust_target();
        let from_env = std::env::var_os(crate::env::LAB_VMTOP)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let vmtop = match vmtop.map(Path::to_path_buf).or(from_env) {
            Some(p) => p,
            None => checkout_dir()
                .map(|c| c.join("target").join(target).join("release/vmtop"))
                .filter(|p| p.is_file())
                .with_context(|| {
                    format!(
                        "no vmtop built for {target} (kernel {}): {hint}, or pass VMTOP_LAB_VMTOP",
                        kernel.release
                    )
                })?,
        };
        Ok(Userland {
            vmtop,
            sysroot: Some(sysroot),
        })
    }

    /// (host path, guest path) of each shared library `binary` needs. For another
    /// architecture they come from the sysroot and go where that architecture's program
    /// interpreter looks for them (the sysroot prefix removed).
    fn shared_libraries(&self, binary: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
        let Some(root) = &self.sysroot else {
            return Ok(initramfs::shared_libraries(binary)?
                .into_iter()
                .map(|l| {
                    let g = l.display().to_string();
                    (l, g)
                })
                .collect());
        };
        let dirs = ["lib/i386-linux-gnu", "usr/lib/i386-linux-gnu"]
            .map(|d| root.join(d).display().to_string())
            .join(":");
        let mut out = Vec::new();
        for lib in initramfs::shared_libraries_with(binary, &dirs)? {
            match lib.strip_prefix(root) {
                Ok(rel) => out.push((lib.clone(), format!("/{}", rel.display()))),
                // The program interpreter, which ldd names by its absolute guest path:
                // take the sysroot's own copy (the same glibc as its libc.so.6).
                Err(_) => {
                    let own = root.join(lib.strip_prefix("/").unwrap_or(&lib));
                    anyhow::ensure!(
                        own.exists(),
                        "{} needs {}, which is not in {}",
                        binary.display(),
                        lib.display(),
                        root.display()
                    );
                    out.push((own, lib.display().to_string()));
                }
            }
        }
        Ok(out)
    }
}

/// A static busybox at `p` (the 32-bit userland's).
fn static_busybox(p: &Path) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        p.is_file(),
        "{} is missing: run `make lab LAB_ARCH=i386`",
        p.display()
    );
    Ok(p.to_path_buf())
}

fn find_busybox() -> anyhow::Result<PathBuf> {
    for p in ["/bin/busybox", "/usr/bin/busybox", "/sbin/busybox"] {
        let p = PathBuf::from(p);
        if p.is_file() {
            if !initramfs::shared_libraries(&p)?.is_empty() {
                bail!(
                    "{} is dynamically linked; the lab needs a static busybox: run `make lab` (installs busybox-static)",
                    p.display()
                );
            }
            return Ok(p);
        }
    }
    bail!("busybox is not installed: run `make lab` (installs busybox-static)")
}

/// What both lab roots do after their own set-up: the kernel's settings vmtop relies on, then
/// the `--exec` script (its output and exit code on the console), or the interactive command
/// (`{interactive}`) in a console sized like the host's terminal and kept so on resize.
/// `{exit_marker}` is `EXIT_MARKER` (`init_run` fills both in).
const INIT_RUN: &str = r#"
# Keep kernel messages off the console (they stay readable in /dev/kmsg and dmesg).
echo 1 > /proc/sys/kernel/printk
# Real addresses in /proc/vmallocinfo for root (hashed otherwise), so vmtop can compute
# the largest free range of the vmalloc space.
echo 1 > /proc/sys/kernel/kptr_restrict
hostname vmtop-lab
{swap}
if [ -f /lab/exec.sh ]; then
	sh /lab/exec.sh </dev/null >/dev/console 2>&1
	echo "{exit_marker}$?" >/dev/console
else
	set -- $(cat /proc/cmdline)
	for a; do case "$a" in vmtop.rows=*) rows=${a#*=};; vmtop.cols=*) cols=${a#*=};; esac; done
	# Window size changes: vmtop lab writes "ROWS COLS" to the second serial port when the
	# host terminal is resized; setting the console's size sends SIGWINCH to the program.
	if [ -c /dev/ttyS1 ]; then
		stty -F /dev/ttyS1 -echo 2>/dev/null
		while read -r r c; do stty -F /dev/ttyS0 rows "$r" cols "$c"; done </dev/ttyS1 &
	fi
	{interactive}
fi
sync
"#;

/// `INIT_RUN` with the interactive command and the exit marker filled in.
fn init_run(interactive: &str) -> String {
    INIT_RUN
        .replace("{swap}", swap::INIT.trim())
        .replace("{interactive}", interactive)
        .replace("{exit_marker}", EXIT_MARKER)
}

/// /init of the busybox lab: mount the API filesystems, then run one command and power off.
fn busybox_init() -> String {
    let setup = r#"#!/bin/sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
# tracefs, as systemd mounts it: vmtop records the kernel's vmap-area events (6.2+) there.
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
[ -f /lab/.copy.sh ] && . /lab/.copy.sh
export PATH=/bin:/sbin HOME=/root {module_env}={guest_module}
"#;
    let interactive = r#". /lab/env
	setsid cttyhack sh -c "stty rows ${rows:-24} cols ${cols:-80}; exec /bin/vmtop $(cat /lab/args)""#;
    let setup = setup
        .replace("{module_env}", crate::env::MODULE)
        .replace("{guest_module}", GUEST_MODULE);
    format!("{setup}{}poweroff -f\n", init_run(interactive))
}

fn qemu_binary(arch: kernel::Arch) -> &'static str {
    match arch {
        kernel::Arch::X86_64 => "qemu-system-x86_64",
        kernel::Arch::I386 => "qemu-system-i386",
    }
}

fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.is_file())
}

/// Everything needed to boot: kernel image and initramfs on disk.
pub struct Prepared {
    pub kernel: LabKernel,
    pub arch: kernel::Arch,
    pub accel: accel::Choice,
    pub initrd: PathBuf,
    pub qemu: PathBuf,
    /// FIFO pair `winch.in`/`winch.out` (the guest's ttyS1) for window-size changes.
    pub winch: PathBuf,
    /// The swap disk's image (`--swap`).
    pub swap: Option<PathBuf>,
    _tmp: TempDir,
}

/// Find the kernel, build the module, write the initramfs.
pub fn prepare(opts: &LabOptions) -> anyhow::Result<Prepared> {
    // Refused before anything is built or booted.
    let copies = check_copies(&opts.files)?;
    let release = opts
        .kernel_release
        .as_ref()
        .map(|(prefix, from)| (prefix.as_str(), *from));
    let kernel = LabKernel::discover(
        opts.kernel.as_deref(),
        opts.kdir.as_deref(),
        release,
        opts.arch,
    )?;
    let arch = kernel.arch()?;
    // The folder the module is built in, checked (or refused) before anything else is used.
    let work_dir = kernel.work_dir()?;
    let work = work_dir.path.clone();
    // A kernel of another architecture runs a vmtop built for it, with that
    // architecture's libraries and busybox (scripts/fetch-lab-i386.sh fetches them).
    let userland = Userland::for_kernel(&kernel, arch, opts.vmtop.as_deref())?;
    let qemu_name = qemu_binary(arch);
    let qemu = which(qemu_name).with_context(|| {
        format!("{qemu_name} is not installed: run `make lab` (installs QEMU and the lab kernel)")
    })?;
    let busybox = match &userland.sysroot {
        Some(root) => static_busybox(&root.join("bin/busybox"))?,
        None => find_busybox()?,
    };
    let accel = accel::choose(
        opts.accel,
        &accel::ProbeInputs {
            qemu: &qemu,
            arch,
            image: &kernel.image,
            busybox: &busybox,
            cache_dir: &work,
        },
    )?;
    if opts.root == Root::Debian {
        if opts.swap_mib > 0 {
            bail!("--swap works with the busybox root only: drop --root debian or --swap");
        }
        return prepare_debian(opts, &copies, kernel, arch, accel, qemu, &userland.vmtop);
    }
    let module = build_module(&kernel.kdir, &kernel.release, arch, &work)?;

    let mut a = initramfs::Archive::new();
    a.copy(&busybox, "/bin/busybox")?;
    a.symlink("/bin/sh", "busybox");
    let vmtop = userland.vmtop.clone();
    a.copy(&vmtop, "/bin/vmtop")?;
    // vmtop's libkmod helper sits beside it, in the VM as on the host.
    let helper = vmtop.with_file_name(crate::helper::protocol::HELPER);
    if !helper.is_file() {
        bail!(
            "{} is missing beside {}: build both with `cargo build --release` (or `make vmtop`)",
            helper.display(),
            vmtop.display()
        );
    }
    a.copy(
        &helper,
        &format!("/bin/{}", crate::helper::protocol::HELPER),
    )?;
    let mut libs = userland.shared_libraries(&vmtop)?;
    libs.extend(userland.shared_libraries(&helper)?);
    libs.sort();
    libs.dedup();
    for (host, guest) in libs {
        a.copy(&host, &guest)?;
    }
    a.copy(&module.ko, GUEST_MODULE)?;
    drop(module);
    add_copies(&mut a, &copies)?;
    if opts.swap_mib > 0 {
        for (i, (name, bytes)) in swap::modules(&kernel)?.into_iter().enumerate() {
            a.file(
                &format!("{}/{i:02}-{name}.ko", swap::GUEST_DIR),
                0o644,
                &bytes,
            );
        }
    }
    a.file("/init", 0o755, busybox_init().as_bytes());
    if let Some(cmd) = &opts.exec {
        a.file("/lab/exec.sh", 0o755, cmd.as_bytes());
    }
    let args: Vec<String> = opts.vmtop_args.iter().map(|s| shell_quote(s)).collect();
    a.file("/lab/args", 0o644, args.join(" ").as_bytes());
    a.file("/lab/env", 0o644, guest_env().as_bytes());

    let mut p = finish(kernel, arch, accel, qemu, &[], a)?;
    if opts.swap_mib > 0 {
        p.swap = Some(swap::disk(&p._tmp.path, opts.swap_mib)?);
    }
    Ok(p)
}

/// Write the initramfs (the `parts` archives, then `a`) and the window-size FIFOs.
fn finish(
    kernel: LabKernel,
    arch: kernel::Arch,
    accel: accel::Choice,
    qemu: PathBuf,
    parts: &[PathBuf],
    a: initramfs::Archive,
) -> anyhow::Result<Prepared> {
    let tmp = TempDir::new("vmtop-lab")?;
    let initrd = tmp.path.join("initrd.cpio");
    let f =
        std::fs::File::create(&initrd).with_context(|| format!("creating {}", initrd.display()))?;
    let mut w = std::io::BufWriter::new(f);
    // The kernel unpacks concatenated archives in order, later entries over earlier ones.
    for part in parts {
        let mut r = std::fs::File::open(part)
            .with_context(|| format!("opening {} for the lab initramfs", part.display()))?;
        std::io::copy(&mut r, &mut w)
            .with_context(|| format!("copying {} into {}", part.display(), initrd.display()))?;
    }
    a.write_to(&mut w)
        .and_then(|()| w.flush())
        .with_context(|| format!("writing {}", initrd.display()))?;
    let winch = tmp.path.join("winch");
    for end in ["in", "out"] {
        let fifo = winch.with_extension(end);
        nix::unistd::mkfifo(
            &fifo,
            nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
        )
        .with_context(|| format!("creating the FIFO {}", fifo.display()))?;
    }
    Ok(Prepared {
        kernel,
        arch,
        accel,
        initrd,
        qemu,
        winch,
        swap: None,
        _tmp: tmp,
    })
}

/// The Debian root's parts, built by scripts/build-lab-root.sh (`make lab`).
fn debian_parts(kernel: &LabKernel) -> anyhow::Result<Vec<PathBuf>> {
    let fix = "run `make lab` (it runs scripts/build-lab-root.sh as root)";
    let dir = kernel
        .lab_dir
        .as_ref()
        .map(|d| d.join("rootfs-debian"))
        .with_context(|| {
            format!(
                "--root debian needs a fetched lab kernel (not --kernel/--kdir {}): {fix}",
                kernel.kdir.display()
            )
        })?;
    let parts = [
        dir.join("base.cpio"),
        dir.join(format!("kernel-{}.cpio", kernel.release)),
    ];
    for p in &parts {
        anyhow::ensure!(
            p.is_file(),
            "the Debian root for {} is not built ({} is missing): {fix}",
            kernel.release,
            p.display()
        );
    }
    Ok(parts.to_vec())
}

/// The Debian root: the cached distribution and kernel parts, then this boot's init, the
/// checkout at /src with the host-built binaries in its target/release (so `make run`
/// there needs no cargo), the command and the --copy files.
fn prepare_debian(
    opts: &LabOptions,
    copies: &[(PathBuf, String)],
    kernel: LabKernel,
    arch: kernel::Arch,
    accel: accel::Choice,
    qemu: PathBuf,
    vmtop: &Path,
) -> anyhow::Result<Prepared> {
    anyhow::ensure!(
        arch == kernel::Arch::X86_64,
        "--root debian is built for x86_64 kernels; {} is {}",
        kernel.release,
        arch.name()
    );
    let parts = debian_parts(&kernel)?;
    let checkout = checkout_dir().context(
        "--root debian puts the checkout at /src: run vmtop from a checkout (target/release/vmtop) or set VMTOP_CHECKOUT",
    )?;
    let mut a = initramfs::Archive::new();
    a.file("/init", 0o755, debian_init().as_bytes());
    a.copy_tree(&checkout, "/src", &["target", "build", ".git"])?;
    let helper = vmtop.with_file_name(crate::helper::protocol::HELPER);
    a.copy(vmtop, "/src/target/release/vmtop")?;
    a.copy(
        &helper,
        &format!("/src/target/release/{}", crate::helper::protocol::HELPER),
    )?;
    add_copies(&mut a, copies)?;
    if let Some(cmd) = &opts.exec {
        a.file("/lab/exec.sh", 0o755, cmd.as_bytes());
    }
    a.file("/lab/env", 0o644, guest_env().as_bytes());
    finish(kernel, arch, accel, qemu, &parts, a)
}

/// /init of the Debian root: the distribution's own shell and tools, no systemd. Runs the
/// --exec command as root, or an interactive shell as `dev` in /src.
fn debian_init() -> String {
    let setup = r#"#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# As udev makes them: bash's <(...) opens /dev/fd/N (dkms relies on it).
ln -sfn /proc/self/fd /dev/fd
for f in 0:stdin 1:stdout 2:stderr; do ln -sfn /proc/self/fd/${f%:*} /dev/${f#*:}; done
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
# tracefs, as systemd mounts it: vmtop records the kernel's vmap-area events (6.2+) there.
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
[ -f /lab/.copy.sh ] && . /lab/.copy.sh
grep -qs vmtop-lab /etc/hosts || echo "127.0.1.1 vmtop-lab" >> /etc/hosts
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
. /lab/env
# The checkout belongs to the user who builds in it.
chown -R dev:dev /src
cd /root
"#;
    let interactive = r#"echo "vmtop lab (Debian root): user dev (sudo without password), the checkout in /src; exit powers off"
	setsid -c sh -c "stty rows ${rows:-24} cols ${cols:-80}; cd /src && exec su dev" </dev/ttyS0 >/dev/ttyS0 2>&1"#;
    // No poweroff(8) without an init system: ask the kernel directly.
    format!(
        "{setup}{}echo o > /proc/sysrq-trigger\nsleep 30\n",
        init_run(interactive)
    )
}

/// Terminal settings passed from the host to the dashboard in the VM.
fn guest_env() -> String {
    let term = std::env::var("TERM")
        .ok()
        .filter(|t| !t.is_empty() && t != "dumb")
        .unwrap_or_else(|| "xterm-256color".into());
    let mut env = format!("export TERM={}\n", shell_quote(&term));
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        env.push_str("export NO_COLOR=1\n");
    }
    env
}

pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn qemu_command(p: &Prepared, opts: &LabOptions, interactive: bool) -> Command {
    let mut append = String::from("console=ttyS0 quiet loglevel=1 panic=-1");
    if p.arch == kernel::Arch::I386 {
        // With a large vmalloc= the 32-bit kernel sometimes dies silently before any
        // console output unless its placement is fixed (the lab notes).
        append.push_str(" nokaslr");
    }
    if interactive {
        append.push_str(&format!(
            " vmtop.rows={} vmtop.cols={}",
            opts.rows, opts.cols
        ));
    }
    if let Some(extra) = &opts.append {
        append.push(' ');
        append.push_str(extra);
    }
    let mut c = Command::new(&p.qemu);
    c.args(p.accel.used.qemu_args())
        .arg("-m")
        .arg(opts.mem_mib.to_string())
        .arg("-smp")
        .arg(opts.cpus.to_string())
        .args(["-display", "none", "-monitor", "none", "-no-reboot"])
        // signal=off: Ctrl-C goes to the guest instead of killing QEMU.
        .args([
            "-chardev",
            "stdio,id=con,signal=off",
            "-serial",
            "chardev:con",
        ])
        .arg("-kernel")
        .arg(&p.kernel.image)
        .arg("-initrd")
        .arg(&p.initrd)
        .arg("-append")
        .arg(append);
    if interactive {
        // ttyS1: the window-size channel (see `forward_resizes`).
        c.arg("-chardev")
            .arg(format!("pipe,id=winch,path={}", p.winch.display()))
            .args(["-serial", "chardev:winch"]);
    }
    if let Some(t) = &opts.transcript {
        // The next serial port (`transcript_tty`): what the guest writes there lands in `t`.
        c.arg("-chardev")
            .arg(format!("file,id=transcript,path={}", t.display()))
            .args(["-serial", "chardev:transcript"]);
    }
    if let Some(disk) = &p.swap {
        c.arg("-drive").arg(format!(
            "file={},if=virtio,format=raw,cache=unsafe",
            disk.display()
        ));
    }
    c
}

/// The guest's serial port that writes to `LabOptions::transcript`: after the console and,
/// in interactive mode, the window-size channel.
pub fn transcript_tty(interactive: bool) -> &'static str {
    if interactive {
        "/dev/ttyS2"
    } else {
        "/dev/ttyS1"
    }
}

/// Send the host terminal's size to the guest on every SIGWINCH, over the serial port
/// that QEMU connects to the FIFOs `winch.in`/`winch.out`. SIGWINCH must already be
/// blocked in every thread (it is waited for here with sigwait) except in QEMU, which
/// unblocks it before exec.
fn forward_resizes(winch: &Path) -> anyhow::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let path = winch.with_extension("in");
    // Read-write: opening a FIFO this way never blocks, whether or not QEMU has it open.
    let mut fifo = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening the window-size channel {}", path.display()))?;
    let mut set = SigSet::empty();
    set.add(Signal::SIGWINCH);
    std::thread::Builder::new()
        .name("winch".into())
        .spawn(move || {
            while set.wait().is_ok() {
                if let Ok((cols, rows)) = crossterm::terminal::size() {
                    if writeln!(fifo, "{rows} {cols}").is_err() {
                        return;
                    }
                }
            }
        })
        .context("starting the window-size thread")?;
    Ok(())
}

/// Boot the VM with the dashboard on its console, attached to this terminal.
pub fn run_interactive(opts: &LabOptions) -> anyhow::Result<i32> {
    let p = prepare(opts)?;
    eprintln!("{}", banner(&p, opts));
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    use std::os::unix::process::CommandExt as _;
    let mut winch = SigSet::empty();
    winch.add(Signal::SIGWINCH);
    winch
        .thread_block()
        .context("blocking SIGWINCH to forward resizes to the VM")?;
    forward_resizes(&p.winch)?;
    let mut cmd = qemu_command(&p, opts, true);
    // SAFETY: only pthread_sigmask (async-signal-safe) runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&winch), None)
                .map_err(std::io::Error::from)
        });
    }
    let status = cmd
        .status()
        .with_context(|| format!("starting {}", p.qemu.display()))?;
    // QEMU leaves the terminal as the guest left it; make sure it is sane.
    let _ = Command::new("stty").arg("sane").status();
    Ok(status.code().unwrap_or(1))
}

/// Boot, run `opts.exec` in the VM, stream its output to `out`, return its status.
pub fn run_exec(opts: &LabOptions, out: &mut dyn Write) -> anyhow::Result<ExecResult> {
    let p = prepare(opts)?;
    eprintln!("{}", banner(&p, opts));
    let start = Instant::now();
    let mut child = qemu_command(&p, opts, false)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", p.qemu.display()))?;
    let stdout = child.stdout.take().context("QEMU stdout")?;
    let mut stderr = child.stderr.take().context("QEMU stderr")?;
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // Watchdog: a hung guest must not hang the caller.
    let pid = child.id();
    let timeout = opts.timeout;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(timeout).is_err() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            return true;
        }
        false
    });

    let mut output = String::new();
    let mut status = None;
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .context("reading the VM console")?;
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if let Some(code) = text.strip_prefix(EXIT_MARKER) {
            status = code.trim().parse::<i32>().ok();
            continue;
        }
        if is_boot_noise(text) {
            continue;
        }
        output.push_str(text);
        output.push('\n');
        let _ = writeln!(out, "{text}");
    }
    let qemu_status = child.wait().context("waiting for QEMU")?;
    let _ = done_tx.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    let qemu_err = err_thread.join().unwrap_or_default();
    if timed_out {
        bail!(
            "the lab VM did not finish within {} s and was stopped",
            opts.timeout.as_secs()
        );
    }
    let Some(status) = status else {
        bail!(
            "the lab VM ended without running the command to completion (QEMU {}): {}{}",
            qemu_status,
            qemu_err.trim(),
            if output.is_empty() {
                String::new()
            } else {
                format!("\nconsole:\n{output}")
            }
        );
    };
    Ok(ExecResult {
        status,
        boot_to_exit: start.elapsed(),
        kernel: p.kernel.release.clone(),
        accel: p.accel.clone(),
    })
}

/// The one line that says what boots, and with which accelerator and why.
fn banner(p: &Prepared, opts: &LabOptions) -> String {
    let how = match p.accel.used {
        accel::Used::Kvm => "KVM",
        accel::Used::Tcg => "TCG (software emulation)",
    };
    format!(
        "vmtop lab: booting {} ({}, {} MiB) under {how}: {}",
        p.kernel.release,
        p.arch.name(),
        opts.mem_mib,
        p.accel.why
    )
}

/// Lines the firmware and early kernel print before /init takes the console.
fn is_boot_noise(line: &str) -> bool {
    line.contains("SeaBIOS")
        || line.starts_with("Booting from ROM")
        || line.contains("iPXE")
        || line.starts_with("\u{1b}c")
        // Printed by the kernel at poweroff, after the command's own output.
        || line.ends_with("reboot: Power down")
        // The Debian root powers off through sysrq, which prints whatever the log level.
        || line.ends_with("sysrq: Power Off")
}

/// A temporary directory removed on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    /// A new folder `PREFIX-PID-N` in the temporary folder, mode 0700; never one that
    /// exists already (another user's stays theirs: the next N is tried).
    pub fn new(prefix: &str) -> anyhow::Result<TempDir> {
        use std::os::unix::fs::DirBuilderExt as _;
        let base = std::env::temp_dir();
        for i in 0..100u32 {
            let path = base.join(format!("{prefix}-{}-{i}", std::process::id()));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        bail!("cannot create a temporary directory in {}", base.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dkms_sources_newest_version_first() {
        let tmp = tempfile::tempdir().expect("temp dir");
        for d in [
            "alloc_large_mem-0.1.0",
            "alloc_large_mem-0.10.0",
            "alloc_large_mem-0.9.1",
            "linux-headers-6.1.0-57-amd64",
            "alloc_large_memory-1.0",
        ] {
            std::fs::create_dir(tmp.path().join(d)).expect("mkdir");
        }
        let names: Vec<String> = dkms_sources(tmp.path())
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect();
        assert_eq!(
            names,
            [
                "alloc_large_mem-0.10.0",
                "alloc_large_mem-0.9.1",
                "alloc_large_mem-0.1.0"
            ]
        );
        assert!(dkms_sources(&tmp.path().join("missing")).is_empty());
    }

    #[test]
    fn both_inits_run_the_exec_script_or_their_interactive_command() {
        for (init, interactive, off) in [
            (busybox_init(), "exec /bin/vmtop", "poweroff -f"),
            (debian_init(), "exec su dev", "/proc/sysrq-trigger"),
        ] {
            assert!(init.starts_with("#!/bin/sh\n"), "{init}");
            assert!(!init.contains("{interactive}"), "{init}");
            let exec = init.find("sh /lab/exec.sh").expect("exec branch");
            let inter = init.find(interactive).expect("interactive branch");
            let end = init.find(off).expect("power off");
            assert!(exec < inter && inter < end, "{init}");
            assert!(init.contains("echo 1 > /proc/sys/kernel/kptr_restrict"));
            // The marker `run_exec` looks for, filled in: no placeholder left.
            assert!(
                init.contains(&format!("echo \"{EXIT_MARKER}$?\" >/dev/console")),
                "{init}"
            );
            assert!(!init.contains("{exit_marker}"), "{init}");
        }
        // The busybox root tells vmtop where the module is, as the guest has it.
        assert!(busybox_init().contains(&format!("VMTOP_MODULE={GUEST_MODULE}\n")));
    }

    #[test]
    fn copies_are_moved_into_place_after_the_mounts() {
        for (init, mounts) in [
            (busybox_init(), "mount -t tmpfs tmpfs /tmp"),
            (debian_init(), "mount -t tmpfs -o mode=755 tmpfs /run"),
        ] {
            let mount = init.find(mounts).expect("the tmpfs mount");
            let copy = init.find(". /lab/.copy.sh").expect("the copy step");
            let exec = init.find("sh /lab/exec.sh").expect("the command");
            assert!(mount < copy && copy < exec, "{init}");
        }
    }

    #[test]
    fn guest_paths_every_folder_but_the_kernels_own() {
        assert_eq!(guest_copy_path("/tmp/x").as_deref(), Ok("/tmp/x"));
        assert_eq!(guest_copy_path("/tmp/m/F.ko").as_deref(), Ok("/tmp/m/F.ko"));
        assert_eq!(guest_copy_path("//srv/./a").as_deref(), Ok("/srv/a"));
        assert_eq!(guest_copy_path("/run/x").as_deref(), Ok("/run/x"));
        assert_eq!(guest_copy_path("/dev/shm/x").as_deref(), Ok("/dev/shm/x"));
        assert_eq!(guest_copy_path("/processes").as_deref(), Ok("/processes"));
        for (bad, says) in [
            ("/proc/x", "under /proc, the kernel's own file system"),
            ("/sys/kernel/x", "under /sys"),
            ("/a/../etc/x", "goes up"),
            ("/srv/", "names a folder"),
            ("/", "names a folder"),
            ("/.", "root folder"),
            ("/lab/.copy/0", "vmtop lab keeps the --copy files"),
            ("/lab/.copy.sh", "vmtop lab keeps the --copy files"),
        ] {
            let e = guest_copy_path(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn copies_are_checked_before_anything_is_built() {
        let tmp = TempDir::new("vmtop-copy-test").expect("temp dir");
        let f = tmp.path.join("m.ko.zst");
        std::fs::write(&f, b"x").expect("write");
        let ok = check_copies(&[(f.clone(), "/tmp/m/m.ko.zst".into())]).expect("fine");
        assert_eq!(ok, [(f.clone(), "/tmp/m/m.ko.zst".to_string())]);
        for (host, guest, says) in [
            (f.clone(), "/proc/m", "--copy "),
            (tmp.path.join("nope"), "/srv/nope", "cannot read"),
            (tmp.path.clone(), "/srv/d", "is a folder"),
        ] {
            let e = check_copies(&[(host.clone(), guest.into())]).expect_err(guest);
            assert!(crate::refused::Refused::in_chain(&e), "{e:#}");
            let s = format!("{e:#}");
            assert!(
                s.starts_with(&format!("--copy {}:{guest}: ", host.display())) && s.contains(says),
                "{s}"
            );
            assert!(!s.contains('\n'), "one line: {s}");
        }
        // The archive holds the file under the staging folder, and the script moves it.
        let mut a = initramfs::Archive::new();
        add_copies(&mut a, &ok).expect("add");
        let mut bytes = Vec::new();
        a.write_to(&mut bytes).expect("archive");
        let text = String::from_utf8_lossy(&bytes);
        // Entry names end with a NUL in a newc archive.
        assert!(text.contains("lab/.copy/0\0"), "staged");
        assert!(
            !text.contains("tmp\0") && !text.contains("tmp/m\0"),
            "no archive entry under /tmp itself"
        );
        assert!(
            text.contains("else mkdir -p '/tmp/m' && mv -f '/lab/.copy/0' '/tmp/m/m.ko.zst'"),
            "{text}"
        );
    }

    #[test]
    fn missing_pahole_is_named_with_its_package() {
        // As Debian's 6.12 headers print it without dwarves installed.
        let err = "  BTF [M] /tmp/m/alloc_large_mem.ko\n/bin/sh: 1: pahole: not found\n\
make[2]: *** [scripts/Makefile.modfinal:64: /tmp/m/alloc_large_mem.ko] Error 127\n";
        assert!(build_hint(err).contains("dwarves"));
        assert_eq!(build_hint("alloc_large_mem.c:1: error: junk"), "");
    }

    #[test]
    fn qemu_follows_the_kernels_architecture() {
        assert_eq!(qemu_binary(kernel::Arch::X86_64), "qemu-system-x86_64");
        assert_eq!(qemu_binary(kernel::Arch::I386), "qemu-system-i386");
    }
}
