//! The fuzz targets' bodies, shared with tests/fuzz_regressions.rs (which includes this file
//! with #[path] and replays the committed inputs on stable). Loaders: the input goes to a real file that the library's C
//! exports load, as a host would; a second pass repairs the CRC-32 so that mutations reach the
//! tensor and metadata parsing behind the checksum instead of stopping at it.

use std::ffi::CString;
use std::path::PathBuf;
use std::ptr::null_mut;

use scones::ffi::barycentric::*;
use scones::ffi::dual::*;
use scones::ffi::score::*;
use scones::ffi::*;

pub mod views;

/// One file per process and thread (libFuzzer jobs share a folder; the regression test runs
/// its cases on several threads).
pub fn scratch_path() -> CString {
    let dir = std::env::var_os("SCONES_FUZZ_SCRATCH").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let thread: String = format!("{:?}", std::thread::current().id()).chars().filter(char::is_ascii_digit).collect();
    let p = dir.join(format!("scones-fuzz-{}-{thread}.safetensors", std::process::id()));
    CString::new(p.into_os_string().into_encoded_bytes()).expect("no NUL in a temp path")
}

pub fn write_input(path: &CString, bytes: &[u8]) {
    std::fs::write(std::str::from_utf8(path.as_bytes()).unwrap(), bytes).expect("the scratch file is writable");
}

/// The input with its `"crc32":"xxxxxxxx"` field set to the CRC-32 the loader computes (the
/// whole file with those 8 digits read as "00000000"); None when the header does not hold
/// exactly one such field, as the loader then refuses the file before the checksum anyway.
pub fn with_valid_crc(bytes: &[u8]) -> Option<Vec<u8>> {
    let header_len = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let header = bytes.get(8..8usize.checked_add(header_len)?)?;
    let key = b"\"crc32\":\"";
    let mut hits = header.windows(key.len()).enumerate().filter(|(_, w)| w == key);
    let (first, _) = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    let at = 8 + first + key.len();
    let mut out = bytes.to_vec();
    out.get_mut(at..at + 8)?.copy_from_slice(b"00000000");
    let crc = format!("{:08x}", crc32fast_hash(&out));
    out[at..at + 8].copy_from_slice(crc.as_bytes());
    Some(out)
}

/// CRC-32 (IEEE, reflected), bitwise: the fuzz crate needs no dependency for 1 KB inputs.
fn crc32fast_hash(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Checks a failed call's error object: the status it carries and a non-empty message, and
/// that no panic (INTERNAL) escaped the validation. Frees it.
///
/// # Safety
/// `err` is NULL or an error object returned by the library.
pub unsafe fn expect_clean_failure(what: &str, status: scones_status, err: *mut scones_error) {
    assert!(!err.is_null(), "{what}: status {status} without an error object");
    assert_eq!(scones_error_code(err), status, "{what}: error object code");
    let msg = std::ffi::CStr::from_ptr(scones_error_message(err)).to_string_lossy().into_owned();
    assert!(!msg.is_empty(), "{what}: empty error message");
    assert_ne!(status, SCONES_STATUS_INTERNAL, "{what}: INTERNAL (a panic or unexpected libtorch error): {msg}");
    scones_error_free(err);
}

fn load_dual(path: &CString) -> bool {
    let mut dual: *mut scones_dual = null_mut();
    let mut err: *mut scones_error = null_mut();
    let st = scones_dual_load(path.as_ptr(), c"cpu".as_ptr(), &mut dual, &mut err);
    if st != SCONES_STATUS_OK {
        assert!(dual.is_null(), "failed load wrote its handle");
        unsafe { expect_clean_failure("dual_load", st, err) };
        return false;
    }
    let (mut dx, mut dy) = (0usize, 0usize);
    assert_eq!(scones_dual_dims(dual, &mut dx, &mut dy, null_mut()), SCONES_STATUS_OK);
    if dx <= 64 && dy <= 64 {
        for (which, d) in [(SCONES_POTENTIAL_PHI, dx), (SCONES_POTENTIAL_PSI, dy)] {
            let pts = vec![0.5f64; 2 * d];
            let mut out = [0f64; 2];
            let m = scones_matrix {
                data: pts.as_ptr().cast(),
                rows: 2,
                cols: d,
                row_stride: d as isize,
                col_stride: 1,
                dtype: SCONES_DTYPE_F64,
            };
            let o = scones_matrix_mut {
                data: out.as_mut_ptr().cast(),
                rows: 2,
                cols: 1,
                row_stride: 1,
                col_stride: 1,
                dtype: SCONES_DTYPE_F64,
            };
            let st = scones_dual_potential(dual, which, &m, &o, &mut err);
            if st != SCONES_STATUS_OK {
                unsafe { expect_clean_failure("potential of a loaded dual", st, err) };
                err = null_mut();
            }
        }
    }
    scones_dual_free(dual);
    true
}

/// `load` on `data` written to the scratch file.
fn loads(data: &[u8], load: fn(&CString) -> bool) -> bool {
    let path = scratch_path();
    write_input(&path, data);
    load(&path)
}

/// `load` on `data` as read, then with its CRC-32 repaired so that mutations also reach the
/// parser behind the checksum.
fn as_read_and_repaired(data: &[u8], load: fn(&CString) -> bool) {
    let _ = loads(data, load);
    if let Some(fixed) = with_valid_crc(data) {
        let _ = loads(&fixed, load);
    }
}

/// Whether `data` loads as a dual (the regression test checks its seeds with it).
pub fn loads_as_dual(data: &[u8]) -> bool {
    loads(data, load_dual)
}

/// scones_dual_load on arbitrary bytes, as read from a file, then with the checksum repaired.
/// A file the loader accepts must be a usable dual: its dims are sane and both potentials
/// evaluate without an INTERNAL error (a model whose tensors disagree with its metadata must
/// be refused at load time as SCONES_STATUS_FORMAT, not fail later).
pub fn dual_load(data: &[u8]) {
    as_read_and_repaired(data, load_dual);
}

fn load_score(path: &CString) -> bool {
    let mut score: *mut scones_score = null_mut();
    let mut err: *mut scones_error = null_mut();
    let st = scones_score_load(path.as_ptr(), &mut score, &mut err);
    if st != SCONES_STATUS_OK {
        assert!(score.is_null(), "failed load wrote its handle");
        unsafe { expect_clean_failure("score_load", st, err) };
        return false;
    }
    let mut d = 0usize;
    assert_eq!(scones_score_dim(score, &mut d, null_mut()), SCONES_STATUS_OK);
    if d <= 64 {
        let pts = vec![0.5f64; 2 * d];
        let mut out = vec![0f64; 2 * d];
        let m = scones_matrix {
            data: pts.as_ptr().cast(),
            rows: 2,
            cols: d,
            row_stride: d as isize,
            col_stride: 1,
            dtype: SCONES_DTYPE_F64,
        };
        let o = scones_matrix_mut {
            data: out.as_mut_ptr().cast(),
            rows: 2,
            cols: d,
            row_stride: d as isize,
            col_stride: 1,
            dtype: SCONES_DTYPE_F64,
        };
        for sigma in [0.0, 0.3] {
            let st = scones_score_eval(score, &m, sigma, &o, &mut err);
            if st != SCONES_STATUS_OK {
                unsafe { expect_clean_failure("eval of a loaded score", st, err) };
                err = null_mut();
            }
        }
    }
    scones_score_free(score);
    true
}

/// Whether `data` loads as a score (the regression test checks its seeds with it).
pub fn loads_as_score(data: &[u8]) -> bool {
    loads(data, load_score)
}

/// scones_score_load on arbitrary bytes, then with the checksum repaired. An accepted file must
/// give a score network that evaluates (OK or a clean error, never INTERNAL).
pub fn score_load(data: &[u8]) {
    as_read_and_repaired(data, load_score);
}

fn load_barycentric(path: &CString) -> bool {
    let mut map: *mut scones_barycentric = null_mut();
    let mut err: *mut scones_error = null_mut();
    let st = scones_barycentric_load(path.as_ptr(), &mut map, &mut err);
    if st != SCONES_STATUS_OK {
        assert!(map.is_null(), "failed load wrote its handle");
        unsafe { expect_clean_failure("barycentric_load", st, err) };
        return false;
    }
    let (mut dx, mut dy) = (0usize, 0usize);
    assert_eq!(scones_barycentric_dims(map, &mut dx, &mut dy, null_mut()), SCONES_STATUS_OK);
    if dx <= 64 && dy <= 64 {
        let pts = vec![0.5f64; 2 * dx];
        let mut out = vec![0f64; 2 * dy];
        let m = scones_matrix {
            data: pts.as_ptr().cast(),
            rows: 2,
            cols: dx,
            row_stride: dx as isize,
            col_stride: 1,
            dtype: SCONES_DTYPE_F64,
        };
        let o = scones_matrix_mut {
            data: out.as_mut_ptr().cast(),
            rows: 2,
            cols: dy,
            row_stride: dy as isize,
            col_stride: 1,
            dtype: SCONES_DTYPE_F64,
        };
        let st = scones_barycentric_map(map, &m, &o, &mut err);
        if st != SCONES_STATUS_OK {
            unsafe { expect_clean_failure("map of a loaded barycentric map", st, err) };
        }
    }
    scones_barycentric_free(map);
    true
}

/// Whether `data` loads as a barycentric (the regression test checks its seeds with it).
pub fn loads_as_barycentric(data: &[u8]) -> bool {
    loads(data, load_barycentric)
}

/// scones_barycentric_load on arbitrary bytes, then with the checksum repaired. An accepted file
/// must give a map that evaluates (OK or a clean error, never INTERNAL).
pub fn barycentric_load(data: &[u8]) {
    as_read_and_repaired(data, load_barycentric);
}
