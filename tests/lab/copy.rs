//! Issue 18 point 7: `vmtop lab --copy HOST:GUEST` puts the file at GUEST for every guest
//! path, /tmp included (the busybox /init mounts a tmpfs there after the initramfs is
//! unpacked, which used to hide the file). Shown with what a new user copies in: a compressed
//! module, loaded from /tmp by vmtop in the VM.

use std::process::Command;

use crate::common::{build_module, lab, lab_kernel, run_ok, temp_dir};

#[test]
fn copies_land_under_tmp_and_a_compressed_module_loads_from_there() {
    let kernel = lab_kernel();
    let tmp = temp_dir("copy");
    let ko = build_module(&kernel, tmp.path());
    // As Fedora and DKMS store modules; the kernel's own xz reader takes CRC32 checks only.
    run_ok(
        Command::new("xz")
            .args(["-C", "crc32", "-k", "-f"])
            .arg(&ko),
    );
    let xz = ko.with_extension("ko.xz");
    let note = tmp.path().join("note.txt");
    std::fs::write(
        &note,
        format!("copied by the lab test {}\n", std::process::id()),
    )
    .expect("write the note");
    let sum = |p: &std::path::Path| {
        run_ok(Command::new("sha256sum").arg(p))
            .split_whitespace()
            .next()
            .expect("a sum")
            .to_string()
    };
    let copies = [
        format!("{}:/tmp/m/alloc_large_mem.ko.xz", xz.display()),
        format!("{}:/tmp/note.txt", note.display()),
        format!("{}:/srv/note.txt", note.display()),
    ];
    let mut args = Vec::new();
    for c in &copies {
        args.extend(["--copy", c.as_str()]);
    }
    let r = lab(
        &args,
        r#"
        echo tmp_mounts=$(awk '$2 == "/tmp" && $3 == "tmpfs"' /proc/mounts | wc -l)
        echo tmp_mode=$(stat -c %a /tmp)
        echo xz_sum=$(sha256sum /tmp/m/alloc_large_mem.ko.xz | cut -d' ' -f1)
        echo note_tmp=$(sha256sum /tmp/note.txt | cut -d' ' -f1)
        echo note_srv=$(sha256sum /srv/note.txt | cut -d' ' -f1)
        echo staged_left=$(ls -A /lab/.copy | wc -l)
        vmtop load --module /tmp/m/alloc_large_mem.ko.xz --memsize 16; echo load_rc=$?
        echo loaded=$(loaded) param=$(cat /sys/module/alloc_large_mem/parameters/memsize)
        vmtop unload; echo unload_rc=$? after=$(loaded)
        "#,
    );
    // /tmp is still the tmpfs /init mounted, with its usual mode, and holds the files.
    assert_eq!(r.num("tmp_mounts"), 1, "{}", r.out);
    assert_eq!(r.get("tmp_mode"), "1777");
    assert_eq!(r.get("xz_sum"), sum(&xz));
    assert_eq!(r.get("note_tmp"), sum(&note));
    assert_eq!(r.get("note_srv"), sum(&note));
    // Moved, not copied twice: nothing is left in the staging folder.
    assert_eq!(r.num("staged_left"), 0);
    // The real kernel loaded the file copied under /tmp.
    assert_eq!(r.num("load_rc"), 0);
    assert_eq!((r.num("loaded"), r.num("param")), (1, 16));
    assert_eq!((r.num("unload_rc"), r.num("after")), (0, 0));
}
