// vmtop's patch (patches/README.md): the bindings are generated once and kept in
// src/bindings.rs, so building needs neither bindgen nor libclang; this only links libkmod.
fn main() {
    // Tell cargo to tell rustc to link the system kmod
    // shared library.
    println!("cargo:rustc-link-lib=kmod");
}
