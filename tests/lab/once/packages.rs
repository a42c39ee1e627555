//! Issue 22: the Debian packages, installed as a user installs them. `make deb` builds
//! build/deb/vmtop_VERSION_ARCH.deb and alloc-large-mem-dkms_VERSION_all.deb (`make test`
//! builds them before the lab tests; by hand, run `make deb` first). This test also builds
//! the module package's next version (the next patch number, in debian/changelog and in the
//! module's MODULE_VERSION) from a copy of debian/ and kmod-src/, with dpkg-buildpackage as
//! `make deb` does. Then, in the lab's Debian root (6.1, with dkms and the kernel's headers
//! installed as the packages install them), as the user dev through sudo:
//! `apt install ./vmtop_*.deb ./alloc-large-mem-dkms_*.deb` (DKMS builds and installs the
//! module for the running kernel), `sudo vmtop load` finding that module by name and the
//! installed helper (trusted only while no one else can change it), `sudo vmtop` (the
//! dashboard, not read-only), the module package upgraded (rebuilt, the old version gone),
//! and `apt purge` of both leaving no file behind (the whole file system listed before the
//! install and after the purge).

use crate::common::{json_after, lab, repo, run_ok, section, temp_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The one file in `dir` whose name starts with `prefix` and ends with `suffix`.
fn one_file(dir: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}: run `make deb` first", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .collect();
    match found.as_slice() {
        [one] => one.clone(),
        _ => panic!(
            "want one {prefix}*{suffix} in {}, found {found:?}: run `make deb`",
            dir.display()
        ),
    }
}

/// "0.1.0" -> "0.1.1".
fn next_patch(version: &str) -> String {
    let (head, last) = version
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("version {version} is not X.Y.Z"));
    let n: u32 = last
        .parse()
        .unwrap_or_else(|_| panic!("version {version} does not end in a number"));
    format!("{head}.{}", n + 1)
}

/// The module package at version `next`, built from a copy of the checkout's debian/ and
/// kmod-src/ in `tmp` (dpkg-buildpackage -A: the architecture-independent package only).
fn module_package_at(tmp: &Path, version: &str, next: &str) -> PathBuf {
    let src = tmp.join("src");
    std::fs::create_dir_all(&src).expect("source dir");
    run_ok(
        Command::new("cp")
            .arg("-a")
            .arg(repo().join("debian"))
            .arg(repo().join("kmod-src"))
            .arg(&src),
    );
    let c = src.join("kmod-src/alloc_large_mem.c");
    let text = std::fs::read_to_string(&c).expect("module source");
    let old = format!("MODULE_VERSION(\"{version}\");");
    assert_eq!(text.matches(&old).count(), 1, "{old} in {}", c.display());
    std::fs::write(
        &c,
        text.replace(&old, &format!("MODULE_VERSION(\"{next}\");")),
    )
    .expect("write");
    let log = src.join("debian/changelog");
    let text = std::fs::read_to_string(&log).expect("changelog");
    let trailer = text
        .lines()
        .find(|l| l.starts_with(" -- "))
        .expect("the changelog's trailer line");
    std::fs::write(
        &log,
        format!(
            "vmtop ({next}) unstable; urgency=medium\n\n  * The module package's next version, \
             for the upgrade test (tests/lab/once/packages.rs).\n\n{trailer}\n\n{text}"
        ),
    )
    .expect("write");
    let built = run_ok(
        Command::new("dpkg-buildpackage")
            .args(["-A", "-us", "-uc"])
            .current_dir(&src)
            .env_remove("DEB_DESTDIR"),
    );
    eprintln!("{built}");
    one_file(tmp, &format!("alloc-large-mem-dkms_{next}_"), "_all.deb")
}

#[test]
fn apt_install_use_upgrade_and_purge_the_packages() {
    let dir = std::env::var_os("VMTOP_DEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("build/deb"));
    let vmtop_deb = one_file(&dir, "vmtop_", ".deb");
    let dkms_deb = one_file(&dir, "alloc-large-mem-dkms_", "_all.deb");
    let version = dkms_deb
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("alloc-large-mem-dkms_"))
        .and_then(|n| n.strip_suffix("_all.deb"))
        .expect("version in the file name")
        .to_string();
    let next = next_patch(&version);
    let tmp_dir = temp_dir("packages");
    let next_deb = module_package_at(tmp_dir.path(), &version, &next);

    let name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .expect("file name")
            .to_string()
    };
    let copies = [
        format!("{}:/srv/debs/{}", vmtop_deb.display(), name(&vmtop_deb)),
        format!("{}:/srv/debs/{}", dkms_deb.display(), name(&dkms_deb)),
        format!("{}:/srv/next/{}", next_deb.display(), name(&next_deb)),
    ];
    let mut args = vec!["--root", "debian", "--kernel-release", "6.1"];
    for c in &copies {
        args.extend(["--copy", c.as_str()]);
    }
    let script = format!(
        r#"{tmux}
# Every path on the root file system, but for what changes on its own (apt's and dpkg's own
# records, logs, caches, home folders, /tmp): what a package may leave behind.
files() {{
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \) -prune -o -print 2>/dev/null |
		grep -v -E '^/(var/lib/dpkg|var/lib/apt|var/log|var/cache|root|home)(/|$)' | LC_ALL=C sort
}}
files > /root/files-before
echo "dkms_before=$(dkms status | wc -l)"
mark "apt install"
su dev -c 'cd /srv/debs && sudo apt install -y ./vmtop_*.deb ./alloc-large-mem-dkms_*.deb' >/root/install.log 2>&1
echo "install_rc=$?"
sed 's/^/install: /' /root/install.log
dkms status | sed 's/^/dkms_status: /'
ko=$(ls /lib/modules/$R/updates/dkms/alloc_large_mem.ko*)
echo "ko=$ko"
echo "ko_version=$(modinfo -F version $ko)"
echo "ko_vermagic=$(modinfo -F vermagic $ko | cut -d' ' -f1)"
echo "ko_signer=$(modinfo -F signer $ko | tr ' ' _)"
echo "dep=$(grep -c '^updates/dkms/alloc_large_mem' /lib/modules/$R/modules.dep)"
echo "vmtop_at=$(su dev -c 'command -v vmtop')"
echo "helper=$(stat -c %n:%a:%U:%G /usr/libexec/vmtop/vmtop-kmod)"
echo "man_pages=$(ls /usr/share/man/man1/vmtop*.1.gz | wc -l)"
ls /usr/share/bash-completion/completions/vmtop /usr/share/zsh/vendor-completions/_vmtop \
  /usr/share/fish/vendor_completions.d/vmtop.fish /usr/share/doc/vmtop/examples/lessons/meminfo.toml
dpkg --verify vmtop alloc-large-mem-dkms; echo "verify_rc=$?"

mark "vmtop status as dev"
cd /tmp
su dev -c 'vmtop status --json' | grep -o '"module_file": *"[^"]*"' | sed 's/"module_file": *"\(.*\)"/module_file=\1/'
mark "sudo vmtop load"
u0=$(mi VmallocUsed)
echo "== load"; su dev -c 'sudo vmtop load --memsize 64 --json'; echo "load_rc=$?"
echo "loaded=$(loaded) vmalloc_kb=$(( $(mi VmallocUsed) - u0 )) loaded_version=$(cat /sys/module/alloc_large_mem/version)"
su dev -c 'sudo vmtop unload'; echo "unload_rc=$?"
echo "loaded_after=$(loaded)"
mark "the installed helper taken away"
mv /usr/libexec/vmtop/vmtop-kmod /root/vmtop-kmod
echo "== no helper"; su dev -c 'sudo vmtop load --memsize 64' 2>&1; echo "nohelper_rc=$?"
echo "nohelper_loaded=$(loaded)"
mv /root/vmtop-kmod /usr/libexec/vmtop/vmtop-kmod
mark "the installed helper made writable by others"
chmod o+w /usr/libexec/vmtop/vmtop-kmod
echo "== writable helper"; su dev -c 'sudo vmtop load --memsize 64' 2>&1; echo "writable_rc=$?"
echo "writable_loaded=$(loaded)"
chmod o-w /usr/libexec/vmtop/vmtop-kmod
dpkg --verify vmtop; echo "verify_again_rc=$?"

mark "sudo vmtop: the dashboard"
T kill-session -t run 2>/dev/null
su dev -c 'cd /tmp && tmux new-session -d -s run -x 100 -y 30 "sudo vmtop; echo DASH-EXIT=\$?; sleep 600"'
w 'not loaded' 120 && echo dashboard_up=1
screen; echo "readonly_banner=$(grep -c READ-ONLY /tmp/screen)"
head -1 /tmp/screen | sed 's/^/dashboard_header: /'
T send-keys -t run q
w DASH-EXIT 60; grep -o 'DASH-EXIT=[0-9]*' /tmp/screen | tr - _
T kill-session -t run

mark "upgrade the module package"
su dev -c 'cd /srv/next && sudo apt install -y ./alloc-large-mem-dkms_*.deb' >/root/upgrade.log 2>&1
echo "upgrade_rc=$?"
sed 's/^/upgrade: /' /root/upgrade.log
dkms status | sed 's/^/dkms_status_upgraded: /'
echo "sources=$(ls -d /usr/src/alloc_large_mem-* | tr '\n' ,)"
echo "dkms_versions=$(ls /var/lib/dkms/alloc_large_mem | grep -v '^kernel-' | tr '\n' ,)"
ko=$(ls /lib/modules/$R/updates/dkms/alloc_large_mem.ko*)
echo "upgraded_ko_version=$(modinfo -F version $ko)"
su dev -c 'sudo vmtop load --memsize 64'; echo "upgraded_load_rc=$?"
echo "upgraded_loaded_version=$(cat /sys/module/alloc_large_mem/version)"
su dev -c 'sudo vmtop unload'; echo "upgraded_unload_rc=$?"
echo "upgraded_loaded_after=$(loaded)"

mark "apt purge"
su dev -c 'sudo apt purge -y vmtop alloc-large-mem-dkms' >/root/purge.log 2>&1
echo "purge_rc=$?"
sed 's/^/purge: /' /root/purge.log
echo "dkms_after=$(dkms status | wc -l)"
echo "ours_left=$(ls -d /usr/src/alloc_large_mem* /var/lib/dkms/alloc_large_mem /lib/modules/*/updates/* \
  /usr/libexec/vmtop /usr/bin/vmtop /usr/share/doc/vmtop /usr/share/doc/alloc-large-mem-dkms 2>/dev/null | wc -l)"
echo "dep_after=$(grep -c alloc_large_mem /lib/modules/$R/modules.dep)"
files > /root/files-after
# DKMS's own signing key, made at its first build, belongs to the dkms package.
LC_ALL=C comm -13 /root/files-before /root/files-after | grep -v -x -E '/var/lib/dkms/mok\.(key|pub)' | sed 's/^/left: /'
echo "left=$(LC_ALL=C comm -13 /root/files-before /root/files-after | grep -c -v -x -E '/var/lib/dkms/mok\.(key|pub)')"
LC_ALL=C comm -23 /root/files-before /root/files-after | sed 's/^/gone: /'
echo "gone=$(LC_ALL=C comm -23 /root/files-before /root/files-after | wc -l)"
mark end
"#,
        tmux = super::root_lab::TMUX
    );
    let r = lab(&args, &script);
    // The transcript, kept for whoever reads the packages' behaviour (and the issue's note).
    let transcript = repo().join("build/lab-packages-transcript.txt");
    std::fs::write(&transcript, &r.out)
        .unwrap_or_else(|e| panic!("writing {}: {e}", transcript.display()));
    let get = |k: &str| r.get(k);
    let release = get("release");
    assert!(release.starts_with("6.1."), "{}", r.out);
    assert_eq!(get("dkms_before"), "0", "{}", r.out);

    // apt install: DKMS built the module for the running kernel and installed it.
    assert_eq!(get("install_rc"), "0", "{}", r.out);
    assert!(
        r.out.contains(&format!(
            "dkms_status: alloc_large_mem/{version}, {release}, x86_64: installed"
        )),
        "{}",
        r.out
    );
    let ko = format!("/lib/modules/{release}/updates/dkms/alloc_large_mem.ko");
    assert_eq!(get("ko"), ko, "{}", r.out);
    assert_eq!(get("ko_version"), version, "{}", r.out);
    assert_eq!(get("ko_vermagic"), release, "{}", r.out);
    assert_eq!(get("ko_signer"), "DKMS_module_signing_key", "{}", r.out);
    assert_eq!(get("dep"), "1", "{}", r.out);
    assert_eq!(get("vmtop_at"), "/usr/bin/vmtop", "{}", r.out);
    assert_eq!(
        get("helper"),
        "/usr/libexec/vmtop/vmtop-kmod:755:root:root",
        "{}",
        r.out
    );
    assert!(r.num("man_pages") >= 2, "{}", r.out);
    assert_eq!(get("verify_rc"), "0", "{}", r.out);

    // Found by name, loaded through the installed helper, unloaded.
    assert_eq!(get("module_file"), ko, "{}", r.out);
    let load = json_after(&r.out, "== load");
    assert_eq!(
        load["event"]["outcome"]["result"].as_str(),
        Some("ok"),
        "{load}"
    );
    assert_eq!(get("load_rc"), "0", "{}", r.out);
    assert_eq!(get("loaded"), "1", "{}", r.out);
    assert_eq!(get("loaded_version"), version, "{}", r.out);
    let kb = r.num("vmalloc_kb");
    assert!((65536..65536 + 4096).contains(&kb), "VmallocUsed +{kb} kB");
    assert_eq!(get("unload_rc"), "0", "{}", r.out);
    assert_eq!(get("loaded_after"), "0", "{}", r.out);
    // The helper vmtop runs is the installed one, and it is trusted as root's: without it,
    // vmtop says it is missing where the package puts it; writable by others, vmtop refuses
    // to run it. Nothing is loaded either way.
    let nohelper = section(&r.out, "== no helper");
    assert!(
        nohelper.contains("helper vmtop-kmod is missing")
            && nohelper.contains("/libexec/vmtop/vmtop-kmod"),
        "{nohelper}"
    );
    assert_ne!(get("nohelper_rc"), "0", "{}", r.out);
    assert_eq!(get("nohelper_loaded"), "0", "{}", r.out);
    let writable = section(&r.out, "== writable helper");
    assert!(
        writable.contains("refusing to run vmtop's libkmod helper as root")
            && writable.contains("/usr/libexec/vmtop/vmtop-kmod is writable by others"),
        "{writable}"
    );
    assert_ne!(get("writable_rc"), "0", "{}", r.out);
    assert_eq!(get("writable_loaded"), "0", "{}", r.out);
    assert_eq!(get("verify_again_rc"), "0", "{}", r.out);

    // sudo vmtop: the dashboard, as root, not read-only; q quits it.
    assert_eq!(get("dashboard_up"), "1", "{}", r.out);
    assert_eq!(get("readonly_banner"), "0", "{}", r.out);
    let header = r
        .out
        .lines()
        .find_map(|l| l.strip_prefix("dashboard_header: "))
        .expect("the dashboard's header");
    assert!(
        header.contains(&release) && header.trim_end().ends_with("root"),
        "{header}"
    );
    assert_eq!(get("DASH_EXIT"), "0", "{}", r.out);

    // The upgrade: the new version built and installed, the old one removed from DKMS and
    // from /usr/src; the module loaded is the new build.
    assert_eq!(get("upgrade_rc"), "0", "{}", r.out);
    assert!(
        r.out.contains(&format!(
            "dkms_status_upgraded: alloc_large_mem/{next}, {release}, x86_64: installed"
        )),
        "{}",
        r.out
    );
    assert!(
        !r.out
            .contains(&format!("dkms_status_upgraded: alloc_large_mem/{version},")),
        "{}",
        r.out
    );
    assert_eq!(
        get("sources"),
        format!("/usr/src/alloc_large_mem-{next},"),
        "{}",
        r.out
    );
    assert_eq!(get("dkms_versions"), format!("{next},"), "{}", r.out);
    assert_eq!(get("upgraded_ko_version"), next, "{}", r.out);
    assert_eq!(get("upgraded_load_rc"), "0", "{}", r.out);
    assert_eq!(get("upgraded_loaded_version"), next, "{}", r.out);
    assert_eq!(get("upgraded_unload_rc"), "0", "{}", r.out);
    assert_eq!(get("upgraded_loaded_after"), "0", "{}", r.out);

    // apt purge: nothing of either package is left, and nothing else was removed.
    assert_eq!(get("purge_rc"), "0", "{}", r.out);
    assert_eq!(get("dkms_after"), "0", "{}", r.out);
    assert_eq!(get("ours_left"), "0", "{}", r.out);
    assert_eq!(get("dep_after"), "0", "{}", r.out);
    assert_eq!(get("left"), "0", "{}", r.out);
    assert_eq!(get("gone"), "0", "{}", r.out);
}
