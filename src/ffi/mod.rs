//! The C ABI and nothing else: handles, status codes, caller-owned errors, pointer and shape
//! validation, panic catching and strided matrix views. No math lives here.
//!
//! Conventions (also stated in the generated header):
//! - Fallible functions return a `scones_status` and take `scones_error **err` last. On failure
//!   `*err` receives an error object (code + message) that the caller frees with
//!   `scones_error_free`; on success `*err` is set to NULL. `err` may be NULL when the caller
//!   only wants the status. The message travels with the object, not in thread-local state, so
//!   a Go goroutine that changes OS threads between calls still reads its own error.
//! - Outputs are written only on success.
//! - `*_free(NULL)` is a no-op.
//! - Different handles may be used from different threads at once; one handle used from two
//!   threads at once serializes on an internal lock.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

// One module per handle with its options (barycentric, discrete, dual, gaussian, measure, plot,
// sampler, score, spot, train_options; collective, the host's all-reduce those options take)
// over shared plumbing (common, enums, error, matrix, progress).
// Imports go from handles down to the plumbing, and from sampler to the handles it is built
// from, never back: there is no import circle.
pub mod barycentric;
pub mod collective;
mod common;
pub mod cost;
pub mod discrete;
pub mod dual;
pub mod enums;
pub mod error;
pub mod gaussian;
mod guard;
pub mod matrix;
pub mod measure;
pub mod plot;
pub mod progress;
pub mod sampler;
pub mod score;
pub mod spot;
pub mod train_options;

use std::ffi::{c_char, CStr};
use std::path::PathBuf;

use crate::runtime::error::{Error, Result};

pub use error::*;
pub use matrix::*;

/// Library version as "MAJOR.MINOR.PATCH" (static storage; do not free). Compatibility rule: a
/// program compiled against header MAJOR.MINOR runs against any library with the same MAJOR and
/// a minor >= MINOR (0.x included: minor releases only append functions, constants and struct
/// fields, which is why the soname stays libscones.so.MAJOR); a program that checks at run time
/// should accept exactly those. A change that breaks this goes to the next major. See
/// docs/ABI.md for what each minor added.
#[no_mangle]
pub extern "C" fn scones_version() -> *const c_char {
    static V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr() as *const c_char
}

/// Whether this build of the library can use CUDA on this machine (1) or not (0).
#[no_mangle]
pub extern "C" fn scones_cuda_available() -> i32 {
    std::panic::catch_unwind(crate::runtime::device::cuda_available).map(i32::from).unwrap_or(0)
}

pub(crate) fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string (documented).
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

pub(crate) fn c_path(p: *const c_char, what: &str) -> Result<PathBuf> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: as above.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    if bytes.is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

/// Borrow a handle argument, failing with a clear message on NULL.
pub(crate) fn handle<'a, T>(p: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: non-NULL handles are ones this library created and the caller has not freed.
    unsafe { p.as_ref() }.ok_or_else(|| Error::invalid(format!("{what} handle is NULL")))
}

pub(crate) fn handle_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: as above.
    unsafe { p.as_mut() }.ok_or_else(|| Error::invalid(format!("{what} handle is NULL")))
}

/// Checks an output pointer before any work is done, so a NULL is reported up front.
pub(crate) fn out_ptr<T>(p: *mut T, what: &str) -> Result<()> {
    if p.is_null() {
        return Err(Error::invalid(format!("output pointer {what} is NULL")));
    }
    Ok(())
}

/// Writes a value to an output pointer already checked by [`out_ptr`].
pub(crate) fn put<T>(p: *mut T, v: T) {
    // SAFETY: checked non-NULL by out_ptr; the caller provides writable storage.
    unsafe { p.write(v) }
}

/// Writes (dx, dy) to two output pointers, both checked before either is written.
pub(crate) fn put_dims(dx: *mut usize, dy: *mut usize, dims: (usize, usize)) -> Result<()> {
    out_ptr(dx, "dx")?;
    out_ptr(dy, "dy")?;
    put(dx, dims.0);
    put(dy, dims.1);
    Ok(())
}
