//! Issue 9 part 2: installed and compressed modules, as distributions and DKMS install them.
//!
//! On the host: DKMS (Debian's `dkms`) builds and installs the module for the lab kernel
//! from the shipped kmod-src/dkms.conf, into trees of the test's own (nothing under the
//! host's /var/lib/dkms or /lib/modules); the module is also compressed the way the
//! kernel's `modules_install` does (xz with the CRC32 check the kernel's decompressor
//! needs, zstd). In the VM: each file is installed under /lib/modules/RELEASE/updates,
//! the real `depmod` (kmod's) makes modules.dep, and `vmtop load` finds it by name, loads
//! it, and unloads it; the damaged files get their own diagnosis.

use crate::common::{cause, json_after, lab, lab_kernel, repo, run_ok, temp_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

fn sha256(p: &Path) -> String {
    run_ok(Command::new("sha256sum").arg(p))
        .split_whitespace()
        .next()
        .expect("sha256sum output")
        .to_string()
}

#[test]
fn installed_compressed_and_dkms_modules_load_by_name() {
    let kernel = lab_kernel();
    let (release, kdir) = (&kernel.release, &kernel.kdir);
    let tmp_dir = temp_dir("install");
    let tmp = tmp_dir.path();
    let src = repo().join("kmod-src");

    // DKMS: add, build and install from the shipped dkms.conf, for the lab kernel.
    let (tree, srctree, inst) = (tmp.join("dkms"), tmp.join("src"), tmp.join("modules"));
    // The install tree stands for /lib/modules: DKMS installs only for kernels it holds.
    for d in [&tree, &srctree, &inst.join(&release)] {
        std::fs::create_dir_all(d).expect("dkms dirs");
    }
    let pkg = srctree.join("alloc_large_mem-0.1.0");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    for f in ["alloc_large_mem.c", "Kbuild", "Makefile", "dkms.conf"] {
        std::fs::copy(src.join(f), pkg.join(f)).expect("copy source");
    }
    let dkms = |action: &str| {
        let mut c = Command::new("dkms");
        c.arg(action)
            .args(["-m", "alloc_large_mem", "-v", "0.1.0", "-k", &release])
            .arg("--kernelsourcedir")
            .arg(&kdir)
            .arg("--dkmstree")
            .arg(&tree)
            .arg("--sourcetree")
            .arg(&srctree)
            .arg("--installtree")
            .arg(&inst)
            .arg("--no-depmod");
        run_ok(&mut c)
    };
    dkms("add");
    let built = dkms("build");
    eprintln!("--- dkms build ---\n{built}");
    let installed = dkms("install");
    eprintln!("--- dkms install ---\n{installed}");
    let dkms_dir = inst.join(&release).join("updates/dkms");
    let dkms_ko = std::fs::read_dir(&dkms_dir)
        .unwrap_or_else(|e| panic!("DKMS installed nothing in {}: {e}", dkms_dir.display()))
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("alloc_large_mem.ko"))
        })
        .expect("DKMS's alloc_large_mem.ko*");
    let dkms_name = dkms_ko
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_string();
    let dkms_sum = sha256(&dkms_ko);

    // The kernel's own compression (scripts/Makefile.modinst): xz --check=crc32, zstd.
    let ko = tmp.join("alloc_large_mem.ko");
    std::fs::copy(dkms_dir.join(&dkms_name), &ko).ok();
    if !dkms_name.ends_with(".ko") {
        // DKMS compressed it: start from DKMS's own build of the plain file.
        let plain = tree.join(format!(
            "alloc_large_mem/0.1.0/{release}/{}/module/alloc_large_mem.ko",
            std::env::consts::ARCH
        ));
        std::fs::copy(&plain, &ko).expect("plain module");
    }
    run_ok(
        Command::new("xz")
            .args(["--check=crc32", "--lzma2=dict=1MiB", "-kf"])
            .arg(&ko),
    );
    run_ok(Command::new("zstd").args(["-q", "-T0", "-kf"]).arg(&ko));
    let check = run_ok(
        Command::new("xz")
            .args(["--list", "--robot"])
            .arg(ko.with_extension("ko.xz")),
    );
    assert!(check.contains("CRC32"), "xz check is CRC32: {check}");
    // Damaged files: a module cut in half, and a compressed one cut in half.
    let bytes = std::fs::read(&ko).expect("read ko");
    std::fs::write(tmp.join("trunc.ko"), &bytes[..bytes.len() / 2]).expect("write");
    let zst = std::fs::read(ko.with_extension("ko.zst")).expect("read zst");
    std::fs::write(tmp.join("trunc.ko.zst"), &zst[..zst.len() / 2]).expect("write");

    let copies: Vec<String> = [
        (dkms_dir.join(&dkms_name), format!("/lab/dkms/{dkms_name}")),
        (
            ko.with_extension("ko.xz"),
            "/lab/alloc_large_mem.ko.xz".into(),
        ),
        (
            ko.with_extension("ko.zst"),
            "/lab/alloc_large_mem.ko.zst".into(),
        ),
        (tmp.join("trunc.ko"), "/lab/trunc.ko".into()),
        (tmp.join("trunc.ko.zst"), "/lab/trunc.ko.zst".into()),
        (PathBuf::from("/usr/bin/kmod"), "/lab/kmod".into()),
    ]
    .into_iter()
    .map(|(h, g)| format!("{}:{g}", h.display()))
    .collect();
    let mut args: Vec<&str> = Vec::new();
    for c in &copies {
        args.push("--copy");
        args.push(c);
    }
    let script = format!(
        r#"
        # As a distribution installs it: no VMTOP_MODULE, the module under /lib/modules.
        unset VMTOP_MODULE
        # kmod's depmod (modules.dep.bin, which libkmod reads), called by path: busybox's
        # shell would run its own depmod applet for the bare name.
        mkdir -p /lab/bin; ln -sf /lab/kmod /lab/bin/depmod
        R=$(uname -r); U=/lib/modules/$R/updates
        echo "== none"; vmtop load --memsize 8 --json; echo none_rc=$? none_loaded=$(loaded)
        try() {{
            name=$1 dir=$2 file=$3
            rm -rf /lib/modules/$R; mkdir -p $dir; cp $file $dir/
            /lab/bin/depmod -a 2>/dev/null; echo ${{name}}_depmod_rc=$?
            echo ${{name}}_dep_lines=$(grep -c alloc_large_mem /lib/modules/$R/modules.dep)
            echo "== $name status"; vmtop status --json
            sha256sum $dir/$(basename $file) | sed "s/^/${{name}}_sum=/; s/ .*//"
            u0=$(mi VmallocUsed)
            echo "== $name load"; vmtop load --memsize 64 --json; echo ${{name}}_load_rc=$?
            echo ${{name}}_loaded=$(loaded) ${{name}}_vmalloc_kb=$(( $(mi VmallocUsed) - u0 ))
            echo "== $name unload"; vmtop unload --json; echo ${{name}}_unload_rc=$? ${{name}}_after=$(loaded)
        }}
        try dkms $U/dkms /lab/dkms/{dkms_name}
        try xz $U /lab/alloc_large_mem.ko.xz
        try zst $U /lab/alloc_large_mem.ko.zst
        for f in trunc.ko trunc.ko.zst; do
            echo "== $f"; vmtop load --memsize 8 --module /lab/$f --json
            echo rc_$f=$? loaded_$f=$(loaded)
        done
        "#
    );
    let r = lab(&args, &script);

    // Nothing installed, nothing given: the refusal says where vmtop looked.
    let none = json_after(&r.out, "== none");
    assert_eq!(cause(&none), "module_file_missing", "{none}");
    assert!(none.to_string().contains("make install"), "{none}");
    assert_eq!(r.num("none_loaded"), 0);

    for (name, ext) in [("dkms", ""), ("xz", ".xz"), ("zst", ".zst")] {
        assert_eq!(r.num(&format!("{name}_depmod_rc")), 0, "{name}");
        assert_eq!(
            r.num(&format!("{name}_dep_lines")),
            1,
            "{name}: modules.dep"
        );
        let st = json_after(&r.out, &format!("== {name} status"));
        let path = st["module_file"].as_str().unwrap_or_default();
        let sub = if name == "dkms" {
            "updates/dkms/"
        } else {
            "updates/"
        };
        let expect = if name == "dkms" {
            format!("{sub}{dkms_name}")
        } else {
            format!("{sub}alloc_large_mem.ko{ext}")
        };
        assert!(
            path.ends_with(&expect),
            "{name}: found {path}, want …{expect}"
        );
        assert!(
            st["module_file_problem"].is_null(),
            "{name}: compressed file read right: {st}"
        );
        let format = st["module_file_format"].as_str().unwrap_or_default();
        let want = match name {
            "xz" => "xz",
            "zst" => "zstd",
            _ if dkms_name.ends_with(".xz") => "xz",
            _ if dkms_name.ends_with(".zst") => "zstd",
            _ => "elf",
        };
        assert_eq!(format, want, "{name}: {st}");
        assert_eq!(
            r.num(&format!("{name}_load_rc")),
            0,
            "{name} load:\n{}",
            r.out
        );
        assert_eq!(r.num(&format!("{name}_loaded")), 1, "{name}");
        // 64 MiB in VmallocUsed (kB), a little more for the module's own pages.
        let kb = r.num(&format!("{name}_vmalloc_kb"));
        assert!(
            (65536..65536 + 4096).contains(&kb),
            "{name}: VmallocUsed +{kb} kB"
        );
        assert_eq!(r.num(&format!("{name}_unload_rc")), 0, "{name}");
        assert_eq!(r.num(&format!("{name}_after")), 0, "{name}");
    }
    // The file the VM loaded by name is the very file DKMS produced on the host.
    assert_eq!(r.vars()["dkms_sum"], dkms_sum);

    for f in ["trunc.ko", "trunc.ko.zst"] {
        let v = json_after(&r.out, &format!("== {f}"));
        assert_eq!(cause(&v), "module_file_invalid", "{f}: {v}");
        let detail = v["event"]["outcome"]["diagnosis"]["detail"]
            .as_str()
            .unwrap_or_default();
        assert!(detail.contains("truncated or damaged"), "{f}: {detail}");
        assert!(!detail.contains("another kernel"), "{f}: {detail}");
        assert_eq!(r.num(&format!("rc_{f}")), 1, "{f}");
        assert_eq!(r.num(&format!("loaded_{f}")), 0, "{f}");
    }
}
