//! What every option object shares, written once: creation, the copy-apply-validate update that
//! every setter goes through, the device / seed / threads / progress setters, and the small
//! readers of C arguments (flags, width arrays, versioned report structs).

use std::borrow::Cow;
use std::ffi::{c_char, c_void};

use tch::Device;

use super::error::{boundary, scones_error, scones_status};
use super::progress::{scones_progress_fn, ProgressHook};
use super::{c_str, handle_mut, out_ptr, put};
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;

/// An option object filled by typed setters. Setters store values; `validate` holds the numeric
/// rules (delegating to the math module's config), so a value is judged in one place.
pub(crate) trait Options: Clone + Default {
    /// How errors name the object ("dual options").
    const NAME: &'static str;
    fn validate(&self) -> Result<()>;
    /// Where the progress hook and its reporting interval live.
    fn progress(&mut self) -> (&mut ProgressHook, &mut usize);
}

/// Options of a call that runs on a device, draws random numbers and uses libtorch threads.
pub(crate) trait RunOptions: Options {
    fn run(&mut self) -> Run<'_>;
}

/// Where a [`RunOptions`] keeps its device, seed and thread count.
pub(crate) struct Run<'a> {
    pub device: &'a mut Device,
    pub seed: &'a mut u64,
    pub threads: &'a mut usize,
}

/// The body of every *_options_new.
pub(crate) fn create<O: Options>(out: *mut *mut O, err: *mut *mut scones_error) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        put(out, Box::into_raw(Box::<O>::default()));
        Ok(())
    })
}

/// The body of every setter: applies `f` to a copy and validates the copy, so the caller gets
/// the error at the setter that caused it and a rejected value leaves the options unchanged.
pub(crate) fn update<O: Options>(
    opts: *mut O,
    err: *mut *mut scones_error,
    f: impl FnOnce(&mut O) -> Result<()>,
) -> scones_status {
    boundary(err, || {
        let o = handle_mut(opts, O::NAME)?;
        let mut copy = o.clone();
        f(&mut copy)?;
        copy.validate()?;
        *o = copy;
        Ok(())
    })
}

/// The options a call was given, or the defaults for NULL.
pub(crate) fn options_or_default<'a, O: Options>(p: *const O) -> Cow<'a, O> {
    // SAFETY: NULL or options created by the matching *_options_new.
    unsafe { p.as_ref() }.map_or_else(|| Cow::Owned(O::default()), Cow::Borrowed)
}

pub(crate) fn set_progress<O: Options>(
    opts: *mut O,
    callback: scones_progress_fn,
    user_data: *mut c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    update(opts, err, |o| {
        let (hook, interval) = o.progress();
        *hook = ProgressHook { f: callback, user: user_data };
        *interval = every;
        Ok(())
    })
}

/// "cpu", "cuda", "cuda:N" or "auto"; an absent device fails here, not at the call.
pub(crate) fn set_device<O: RunOptions>(
    opts: *mut O,
    device: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    update(opts, err, |o| {
        *o.run().device = parse_device(device)?;
        Ok(())
    })
}

pub(crate) fn set_seed<O: RunOptions>(opts: *mut O, seed: u64, err: *mut *mut scones_error) -> scones_status {
    update(opts, err, |o| {
        *o.run().seed = seed;
        Ok(())
    })
}

pub(crate) fn set_threads<O: RunOptions>(opts: *mut O, threads: usize, err: *mut *mut scones_error) -> scones_status {
    update(opts, err, |o| {
        *o.run().threads = limits::threads(threads)?;
        Ok(())
    })
}

/// The exact grammar first (the device module trims whitespace and takes "" for the CPU, which
/// would let a mangled string from a host silently mean something).
pub(crate) fn parse_device(p: *const c_char) -> Result<Device> {
    let name = c_str(p, "device")?;
    limits::device_name(name)?;
    crate::runtime::device::parse_device(name)
}

/// A C boolean: only 0 and 1, so that a stray value is not silently taken as true.
pub(crate) fn flag(v: i32, what: &str) -> Result<bool> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::invalid(format!("{what} must be 0 or 1, got {v}"))),
    }
}

/// Reads n hidden-layer widths. Only the array itself is checked here (the widths' range is the
/// network config's rule); a count above 64 is taken for a garbage length, not a network.
pub(crate) fn widths(p: *const usize, n: usize) -> Result<Vec<usize>> {
    if n > 64 {
        return Err(Error::invalid(format!("number of hidden layers must lie in 1..=64, got {n}")));
    }
    if p.is_null() {
        return Err(Error::invalid("widths pointer is NULL"));
    }
    // SAFETY: non-NULL, and the caller passes n readable values.
    Ok(unsafe { std::slice::from_raw_parts(p, n) }.to_vec())
}

/// `n` caller array entries (n <= `cap`, checked first, so a garbage length is refused before
/// any read), NULL refused.
pub(crate) fn array<'a, T>(p: *const T, n: usize, cap: usize, what: &str) -> Result<&'a [T]> {
    if n > cap {
        return Err(Error::invalid(format!("{what}: {n} entries, at most {cap} allowed")));
    }
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and the caller passes n readable entries.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// Writes `values` to a caller array of `values.len()` entries (which the caller guarantees).
pub(crate) fn write_array<T: Copy>(p: *mut T, values: &[T]) {
    if !p.is_null() {
        // SAFETY: non-NULL, and the caller provides values.len() writable entries.
        unsafe { std::slice::from_raw_parts_mut(p, values.len()) }.copy_from_slice(values);
    }
}

/// A versioned report struct (repr(C), struct_size first): where each field after struct_size
/// lives, so that a report is written field by field, never as a byte range that could end in
/// the middle of a field.
pub(crate) trait Report {
    /// (offset, size) of every field after struct_size, in declaration order.
    const FIELDS: &'static [(usize, usize)];
}

/// Implements [`Report`] from the field list; offset_of! keeps the offsets the compiler's.
macro_rules! report_fields {
    ($t:ty { $($f:ident : $ft:ty),+ $(,)? }) => {
        impl $crate::ffi::common::Report for $t {
            const FIELDS: &'static [(usize, usize)] =
                &[$((std::mem::offset_of!($t, $f), std::mem::size_of::<$ft>())),+];
        }
    };
}
pub(crate) use report_fields;

/// Writes a report to caller storage already checked non-NULL: every field that lies wholly
/// inside the caller's struct_size and nothing else. struct_size itself is the caller's and is
/// never written (overwriting it with ours would let a reused struct be written past its end),
/// so a caller built against an older, shorter struct keeps working and a longer one keeps its
/// extra bytes.
pub(crate) fn write_report<T: Report>(full: &T, out: *mut T) -> Result<()> {
    // SAFETY: non-NULL; every report struct starts with struct_size, set by the caller.
    let size = unsafe { std::ptr::read_unaligned(out as *const usize) };
    if size < std::mem::size_of::<usize>() {
        return Err(Error::invalid(format!("struct_size is {size}; set it to sizeof the struct before the call")));
    }
    for &(offset, len) in T::FIELDS {
        if offset + len <= size.min(std::mem::size_of::<T>()) {
            // SAFETY: the field lies inside both our struct and the caller's struct_size bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    (full as *const T as *const u8).add(offset),
                    (out as *mut u8).add(offset),
                    len,
                )
            };
        }
    }
    Ok(())
}
