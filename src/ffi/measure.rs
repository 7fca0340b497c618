//! Measures for training: arrays of points, or a host callback that fills a batch on request
//! (a simulator, a data set larger than memory).

use std::ffi::c_void;

use parking_lot::Mutex;
use tch::{Device, Tensor};

use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{read_tensor, scones_matrix};
use super::{out_ptr, put};
use crate::ot::measure::{Empirical, FunctionMeasure, Measure};
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::limits;

/// Fills `out` (m x d, row-major, contiguous) with m points drawn from the measure. `seed` comes
/// from the training run's seeded stream: draw from it to make runs reproducible. Return 0 on
/// success; anything else stops the training call with SCONES_STATUS_CALLBACK.
pub type scones_measure_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, m: usize, d: usize, seed: u64, out: *mut f64) -> i32>;

/// A measure to train from: a point set or a host sampler callback.
pub struct scones_measure {
    kind: MeasureKind,
}

enum MeasureKind {
    Points(Mutex<Tensor>),
    Callback { d: usize, f: unsafe extern "C" fn(*mut c_void, usize, usize, u64, *mut f64) -> i32, user: usize },
}

impl scones_measure {
    pub(crate) fn dim(&self) -> usize {
        match &self.kind {
            MeasureKind::Points(t) => t.lock().size()[1] as usize,
            MeasureKind::Callback { d, .. } => *d,
        }
    }

    /// A fresh Rust measure for one training call. Callbacks run on the calling thread.
    pub(crate) fn instantiate(&self, device: Device) -> Result<Box<dyn Measure + '_>> {
        match &self.kind {
            MeasureKind::Points(t) => Ok(Box::new(Empirical::new(&t.lock(), device)?)),
            MeasureKind::Callback { d, f, user } => {
                let (d, f, user) = (*d, *f, *user);
                Ok(Box::new(FunctionMeasure::new(
                    d,
                    Box::new(move |m, seed, out: &mut [f64]| {
                        // NaN first: a callback that forgets to write a value is caught below
                        // instead of training on whatever the buffer held.
                        out.fill(f64::NAN);
                        // SAFETY: a host function with its own user data and an m x d buffer.
                        let rc = unsafe { f(user as *mut c_void, m, d, seed, out.as_mut_ptr()) };
                        if rc != 0 {
                            return Err(Error::new(ErrorKind::Callback, format!("measure callback returned {rc}")));
                        }
                        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
                            return Err(Error::new(
                                ErrorKind::Callback,
                                format!(
                                    "measure callback left row {}, column {} unwritten or non-finite",
                                    i / d,
                                    i % d
                                ),
                            ));
                        }
                        Ok(())
                    }),
                )?))
            }
        }
    }
}

/// A measure given by its points (n x d); the library keeps a float32 copy.
#[no_mangle]
pub extern "C" fn scones_measure_new_points(
    points: *const scones_matrix,
    out: *mut *mut scones_measure,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let t = read_tensor(points, "points")?;
        put(out, Box::into_raw(Box::new(scones_measure { kind: MeasureKind::Points(Mutex::new(t)) })));
        Ok(())
    })
}

/// A measure in dimension d given by a host sampler callback.
#[no_mangle]
pub extern "C" fn scones_measure_new_callback(
    d: usize,
    callback: scones_measure_fn,
    user_data: *mut c_void,
    out: *mut *mut scones_measure,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let f = callback.ok_or_else(|| Error::invalid("callback is NULL"))?;
        limits::count("dimension", d, limits::MAX_DIMENSION)?;
        put(
            out,
            Box::into_raw(Box::new(scones_measure { kind: MeasureKind::Callback { d, f, user: user_data as usize } })),
        );
        Ok(())
    })
}

/// Releases a measure. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_measure_free(measure: *mut scones_measure) {
    free_box(measure)
}
