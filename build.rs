//! Build script: rpath to libtorch, the versioned soname, and the C header.
use std::env;
use std::path::PathBuf;

fn main() {
    // cbindgen parses the whole crate: a `pub const` anywhere lands in the header (two from
    // src/neural once did), so any source change regenerates it, not only src/ffi.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    // torch-sys exports its libtorch lib folder (links = "tch"). An rpath to it lets the cdylib,
    // tests and examples load libtorch without LD_LIBRARY_PATH; $ORIGIN lets an installed
    // libscones.so find a libtorch copied next to it.
    if let Ok(lib) = env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        println!("cargo:rustc-env=SCONES_LIBTORCH_LIB={lib}");
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    let patch = env::var("CARGO_PKG_VERSION_PATCH").unwrap();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libscones.so.{major}");

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("scones.h");
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    // Version macros come from Cargo.toml so the header can never disagree with the library.
    config.after_includes = Some(format!(
        "\n#define SCONES_VERSION_MAJOR {major}\n#define SCONES_VERSION_MINOR {minor}\n#define SCONES_VERSION_PATCH {patch}\n#define SCONES_VERSION_STRING \"{major}.{minor}.{patch}\"\n"
    ));
    config.trailer = Some(include_str!("include/scones_inline.h.in").to_string());
    match cbindgen::Builder::new().with_crate(&crate_dir).with_config(config).generate() {
        Ok(b) => {
            b.write_to_file(&out);
        }
        Err(e) => panic!("cbindgen failed to generate the header: {e}"),
    }
    println!("cargo:rustc-env=SCONES_GENERATED_HEADER={}", out.display());
}
