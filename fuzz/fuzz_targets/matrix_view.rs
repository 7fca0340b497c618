//! See fuzz/src/views.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scones_fuzz::views::run(data));
