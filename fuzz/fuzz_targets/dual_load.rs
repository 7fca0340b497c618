//! See dual_load in fuzz/src/lib.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scones_fuzz::dual_load(data));
