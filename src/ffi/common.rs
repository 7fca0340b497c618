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
        *o.run().threads = threads;
        Ok(())
    })
}

pub(crate) fn parse_device(p: *const c_char) -> Result<Device> {
    crate::runtime::device::parse_device(c_str(p, "device")?)
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

/// Writes a versioned report struct (repr(C), struct_size first) to caller storage already
/// checked non-NULL: only the first struct_size bytes, so a caller built against an older,
/// shorter struct keeps working.
pub(crate) fn write_report<T>(full: &T, out: *mut T) -> Result<()> {
    // SAFETY: non-NULL; every report struct starts with struct_size, set by the caller.
    let size = unsafe { *(out as *const usize) };
    if size < std::mem::size_of::<usize>() {
        return Err(Error::invalid("struct_size is not set (must be sizeof the struct)"));
    }
    let n = size.min(std::mem::size_of::<T>());
    // SAFETY: out has at least `size` writable bytes (caller contract); we copy min(size, ours).
    unsafe { std::ptr::copy_nonoverlapping(full as *const T as *const u8, out as *mut u8, n) };
    Ok(())
}
