//! Builds the vendored libkmod (vendor/libkmod, see its README.md) into a static archive.
//! The `kmod` crate asks the linker for `-lkmod`; the archive's folder comes first in the
//! search path, so it is linked instead of the system's shared library.

fn main() {
    let root = std::path::Path::new("vendor/libkmod");
    println!("cargo:rerun-if-changed=vendor/libkmod");
    let sources = [
        "libkmod/libkmod.c",
        "libkmod/libkmod-builtin.c",
        "libkmod/libkmod-config.c",
        "libkmod/libkmod-elf.c",
        "libkmod/libkmod-file.c",
        "libkmod/libkmod-index.c",
        "libkmod/libkmod-list.c",
        "libkmod/libkmod-module.c",
        "libkmod/libkmod-signature.c",
        "shared/array.c",
        "shared/hash.c",
        "shared/scratchbuf.c",
        "shared/strbuf.c",
        "shared/util.c",
    ];
    cc::Build::new()
        .files(sources.iter().map(|s| root.join(s)))
        .include(root)
        .include(root.join("libkmod"))
        .flag("-include")
        .flag(root.join("config.h").to_string_lossy().as_ref())
        .define("_GNU_SOURCE", None)
        // Third-party code, built as upstream builds it; its warnings are not ours to fix.
        .warnings(false)
        .cargo_metadata(false)
        .compile("kmod");
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    println!("cargo:rustc-link-search=native={out}");
}
