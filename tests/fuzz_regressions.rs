//! Replays the fuzzing inputs on stable, in `cargo test` (issue 9, item 2): the seed corpus
//! (small model files written by the library, tests/fixtures/fuzz/seeds) and every crash or
//! hang input the fuzzers found (tests/fixtures/fuzz/crashes/<target>/), through the very
//! functions the fuzz targets run (fuzz/src, included here). `make fuzz` runs the fuzzers.

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

fn fixtures(sub: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz").join(sub);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => vec![],
    };
    files.sort();
    files
}

fn scratch() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-regressions");
    std::fs::create_dir_all(&dir).unwrap();
    std::env::set_var("SCONES_FUZZ_SCRATCH", &dir);
}

/// The seeds are valid files of their kind (else they would not seed the fuzzers past the
/// header), and every loader handles every seed, and every single-byte corruption of the
/// first 64 bytes and of the last 64 bytes (the header length, the tensor data) with a clean
/// status, with the checksum as written and repaired.
#[test]
fn seed_corpus_loads_and_corruptions_fail_cleanly() {
    scratch();
    let seeds = fixtures("seeds");
    assert_eq!(seeds.len(), 3, "{seeds:?}");
    for seed in &seeds {
        let bytes = std::fs::read(seed).unwrap();
        assert_eq!(harness::with_valid_crc(&bytes).as_deref(), Some(&bytes[..]), "{}: stale checksum", seed.display());
        let kind = seed.file_stem().unwrap().to_str().unwrap();
        let loaded = match kind {
            "dual" => harness::loads_as_dual(&bytes),
            "score" => harness::loads_as_score(&bytes),
            "barycentric" => harness::loads_as_barycentric(&bytes),
            _ => panic!("unexpected seed {kind}"),
        };
        assert!(loaded, "{}: the seed does not load as a {kind}", seed.display());
        let n = bytes.len();
        for at in (0..64.min(n)).chain(n.saturating_sub(64)..n) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            harness::dual_load(&bad);
            harness::score_load(&bad);
            harness::barycentric_load(&bad);
        }
    }
}

/// Every committed crash input, through the target that found it (the folder's name).
#[test]
fn committed_crash_inputs_replay_cleanly() {
    scratch();
    let mut replayed = 0;
    for target in ["dual_load", "score_load", "barycentric_load", "matrix_view"] {
        for input in fixtures(&format!("crashes/{target}")) {
            let bytes = std::fs::read(&input).unwrap();
            println!("replaying {}", input.display());
            match target {
                "dual_load" => harness::dual_load(&bytes),
                "score_load" => harness::score_load(&bytes),
                "barycentric_load" => harness::barycentric_load(&bytes),
                _ => harness::views::run(&bytes),
            }
            replayed += 1;
        }
    }
    println!("{replayed} crash inputs replayed");
}

/// The matrix-view target's invariant over a deterministic sweep of small views (every dtype,
/// offsets, sizes 0..5, strides -6..6, in and out), so the invariant is checked on stable even
/// where no crash input exists.
#[test]
fn matrix_view_invariant_on_a_sweep() {
    let mut cases = 0;
    for which in 0..2u8 {
        for dtype in [0u8, 3, 6, 7] {
            for offset in [0u8, 5, 200, 255] {
                for rows in 0..5u8 {
                    for cols in 0..5u8 {
                        for rs in (26..=38u8).step_by(3) {
                            for cs in (26..=38u8).step_by(4) {
                                harness::views::run(&[which, offset, dtype, rows, cols, rs, cs]);
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    // Overflowing sizes: 2^32 x 2^32 with ordinary and zero strides, in and out.
    for which in 0..2u8 {
        for (rs, cs) in [(1u64 << 32, 1u64), (0, 0)] {
            let mut v = vec![which, 0, 0, 0x80];
            v.extend_from_slice(&(1u64 << 32).to_le_bytes());
            v.push(0x80);
            v.extend_from_slice(&(1u64 << 32).to_le_bytes());
            v.push(0x80);
            v.extend_from_slice(&rs.to_le_bytes());
            v.push(0x80);
            v.extend_from_slice(&cs.to_le_bytes());
            harness::views::run(&v);
            cases += 1;
        }
    }
    println!("{cases} views checked");
}
