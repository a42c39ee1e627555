//! Link the dashboard's steady-loop code together (docs/hot-code.md): the vmtop binary is
//! linked with tui/hot-code.ld, a linker script that adds one output section, `.text.hot`,
//! before `.text` to the linker's default layout (rust-lld for x86_64, GNU ld for i686).
//! Only on Linux with glibc, the targets it was measured on; vmtop-kmod and the tests are
//! linked as before. VMTOP_HOT_CODE=0 links without it: scripts/hot-code.sh profiles such a
//! build, as valgrind names no function outside .text (it charges their cost to the caller).

fn main() {
    println!("cargo:rerun-if-changed=hot-code.ld");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=VMTOP_HOT_CODE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let off = std::env::var("VMTOP_HOT_CODE").is_ok_and(|v| v == "0");
    if os == "linux" && env == "gnu" && !off {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bin=vmtop=-Wl,-T,{dir}/hot-code.ld");
    }
}
