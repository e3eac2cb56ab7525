//! Gives the shared library a versioned soname (libsuperoffice.so.MAJOR) on Linux, so
//! programs link against the ABI they were built for.

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsuperoffice.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
