//! See barycentric_load in fuzz/src/lib.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scones_fuzz::barycentric_load(data));
