//! Link the dashboard's steady-loop code together (docs/hot-code.md): the vmtop binary is
//! linked with tui/hot-code.ld, a linker script that adds one output section, `.text.hot`,
//! before `.text` to the linker's default layout (GNU ld for i686, rust-lld for x86_64).
//! Only on Linux with glibc, the targets it was measured on; vmtop-kmod and the tests are
//! linked as before.

fn main() {
    println!("cargo:rerun-if-changed=hot-code.ld");
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bin=vmtop=-Wl,-T,{dir}/hot-code.ld");
    }
}
