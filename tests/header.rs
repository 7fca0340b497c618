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

/// cbindgen parses the whole crate, so any `pub const` anywhere would land in the header as an
/// unprefixed macro in the host's namespace (it happened: `MALA_TARGET_ACCEPTANCE`,
/// `ROW_BLOCK`, and a `(1 << 32)` that is undefined behaviour in C). Every name the header
/// defines must carry the library's prefix; math constants stay `pub(crate)`.
#[test]
fn header_defines_only_prefixed_names() {
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/scones.h")).unwrap();
    let stray: Vec<&str> = header
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("#define "))
        .map(|rest| rest.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or(""))
        .filter(|name| !name.starts_with("SCONES_"))
        .collect();
    assert!(stray.is_empty(), "unprefixed macros in include/scones.h: {stray:?} (make the Rust constants pub(crate))");
}
