//! Status codes, the caller-owned error object and the panic boundary.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::runtime::error::{Error, ErrorKind, Result};

/// Status code returned by every fallible call; one of the SCONES_STATUS_* values.
pub type scones_status = i32;

/// Success.
pub const SCONES_STATUS_OK: scones_status = 0;
/// An argument is out of its domain (NULL pointer, zero rows, lambda <= 0, unknown enum value).
pub const SCONES_STATUS_INVALID_ARGUMENT: scones_status = 1;
/// Dimensions of inputs disagree with each other or with a model.
pub const SCONES_STATUS_SHAPE_MISMATCH: scones_status = 2;
/// Input data holds NaN or infinity, or a result would (scones_score_eval at a sigma or
/// bandwidth beyond float32).
pub const SCONES_STATUS_NON_FINITE: scones_status = 3;
/// A file could not be read or written.
pub const SCONES_STATUS_IO: scones_status = 4;
/// A file is not a scones model, is truncated, or has an unsupported version.
pub const SCONES_STATUS_FORMAT: scones_status = 5;
/// The requested device (e.g. CUDA) is not available.
pub const SCONES_STATUS_DEVICE_UNAVAILABLE: scones_status = 6;
/// The host cancelled the call through its progress callback.
pub const SCONES_STATUS_CANCELLED: scones_status = 7;
/// Training or sampling produced non-finite values.
pub const SCONES_STATUS_DIVERGED: scones_status = 8;
/// A host callback reported a failure.
pub const SCONES_STATUS_CALLBACK: scones_status = 9;
/// Internal error (a bug, a caught panic, or an unexpected libtorch exception).
pub const SCONES_STATUS_INTERNAL: scones_status = 10;

/// An error: a status code and a message. Created by the library, owned by the caller, released
/// with scones_error_free.
pub struct scones_error {
    code: scones_status,
    message: CString,
}

pub(crate) fn status_of(kind: ErrorKind) -> scones_status {
    match kind {
        ErrorKind::InvalidArgument => SCONES_STATUS_INVALID_ARGUMENT,
        ErrorKind::ShapeMismatch => SCONES_STATUS_SHAPE_MISMATCH,
        ErrorKind::NonFinite => SCONES_STATUS_NON_FINITE,
        ErrorKind::Io => SCONES_STATUS_IO,
        ErrorKind::Format => SCONES_STATUS_FORMAT,
        ErrorKind::DeviceUnavailable => SCONES_STATUS_DEVICE_UNAVAILABLE,
        ErrorKind::Cancelled => SCONES_STATUS_CANCELLED,
        ErrorKind::Diverged => SCONES_STATUS_DIVERGED,
        ErrorKind::Callback => SCONES_STATUS_CALLBACK,
        ErrorKind::Internal => SCONES_STATUS_INTERNAL,
    }
}

/// The status code of an error; SCONES_STATUS_OK for NULL.
#[no_mangle]
pub extern "C" fn scones_error_code(err: *const scones_error) -> scones_status {
    error_ref(err).map_or(SCONES_STATUS_OK, |e| e.code)
}

fn error_ref<'a>(err: *const scones_error) -> Option<&'a scones_error> {
    // SAFETY: err is NULL or an error this library created and the caller has not freed.
    unsafe { err.as_ref() }
}

/// The message of an error, valid until scones_error_free; "" for NULL.
#[no_mangle]
pub extern "C" fn scones_error_message(err: *const scones_error) -> *const c_char {
    match error_ref(err) {
        Some(e) => e.message.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// Releases an error. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_error_free(err: *mut scones_error) {
    free_box(err)
}

/// A static name for a status code ("ok", "invalid_argument", ...; "unknown" otherwise).
#[no_mangle]
pub extern "C" fn scones_status_name(status: scones_status) -> *const c_char {
    let s: &'static std::ffi::CStr = match status {
        SCONES_STATUS_OK => c"ok",
        SCONES_STATUS_INVALID_ARGUMENT => c"invalid_argument",
        SCONES_STATUS_SHAPE_MISMATCH => c"shape_mismatch",
        SCONES_STATUS_NON_FINITE => c"non_finite",
        SCONES_STATUS_IO => c"io",
        SCONES_STATUS_FORMAT => c"format",
        SCONES_STATUS_DEVICE_UNAVAILABLE => c"device_unavailable",
        SCONES_STATUS_CANCELLED => c"cancelled",
        SCONES_STATUS_DIVERGED => c"diverged",
        SCONES_STATUS_CALLBACK => c"callback",
        SCONES_STATUS_INTERNAL => c"internal",
        _ => c"unknown",
    };
    s.as_ptr()
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".into()
    }
}

/// Runs `f` as the body of an exported function: catches panics (which would otherwise abort
/// the host process), turns errors into a status and a caller-owned error object.
pub(crate) fn boundary(err: *mut *mut scones_error, f: impl FnOnce() -> Result<()>) -> scones_status {
    if !err.is_null() {
        // SAFETY: err points to writable storage for one pointer (documented).
        unsafe { *err = std::ptr::null_mut() };
    }
    let result = catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(Error::internal(format!("internal panic: {}", panic_message(&*p)))));
    match result {
        Ok(()) => SCONES_STATUS_OK,
        Err(e) => fail(err, e),
    }
}

fn fail(err: *mut *mut scones_error, e: Error) -> scones_status {
    let code = status_of(e.kind);
    if !err.is_null() {
        let message = CString::new(e.message.replace('\0', "\\0")).unwrap_or_default();
        let obj = Box::new(scones_error { code, message });
        // SAFETY: as in boundary.
        unsafe { *err = Box::into_raw(obj) };
    }
    code
}

/// Frees a handle created with Box::into_raw, catching panics from its destructor.
pub(crate) fn free_box<T>(p: *mut T) {
    if !p.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: created by Box::into_raw in this library, freed once by contract.
            drop(unsafe { Box::from_raw(p) })
        }));
    }
}
