//! The committed header must be exactly what cbindgen generates from src/ffi, and its version
//! macros must match Cargo.toml and scones_version().

use std::ffi::CStr;

#[test]
fn committed_header_is_fresh() {
    let generated = std::fs::read_to_string(env!("SCONES_GENERATED_HEADER")).unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/scones.h")).unwrap();
    assert!(generated == committed, "include/scones.h is stale: run `make header` and commit it (src/ffi changed)");
}

#[test]
fn version_macros_match_cargo_and_the_library() {
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/scones.h")).unwrap();
    let get = |name: &str| -> String {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("{name} missing"))
            .trim()
            .to_string()
    };
    assert_eq!(get("SCONES_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(get("SCONES_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(get("SCONES_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(get("SCONES_VERSION_STRING"), format!("\"{}\"", env!("CARGO_PKG_VERSION")));
    let v = unsafe { CStr::from_ptr(scones::ffi::scones_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
}
