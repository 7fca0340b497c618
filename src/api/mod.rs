//! The Rust API on [`ndarray`]: points in as any 2-D view of `f32` or `f64` (row-major, a
//! transposed `.t()` view, a slice with steps: any layout), results out as `Array2<f64>` /
//! `Array1<f64>`, failures as [`crate::Error`]. The same operations as the C ABI, as thin
//! wrappers over the math modules ([`crate::neural`], [`crate::score`], [`crate::discrete`],
//! [`crate::reference`]), which stay available for work at the tensor level.
//!
//! | SCONES step | types and functions |
//! |---|---|
//! | Algorithm 1: dual potentials phi, psi | [`Dual`], [`DualOptions`], [`Measure`] |
//! | target score s(y, sigma) | [`Score`], [`TrainOptions`] |
//! | Algorithm 2: Langevin sampling of pi(y \| x) | [`Sampler`], [`SamplerOptions`], [`ChainStart`] |
//! | barycentric-projection baseline | [`Barycentric`] |
//! | SPOT (thesis ch. 3): a generator of paired samples of the plan | [`Spot`], [`SpotOptions`] |
//! | discrete OT references | [`discrete::sinkhorn`], [`discrete::ipot`], [`discrete::fdual`], [`discrete::assignment`] |
//! | closed forms, metrics, toy data | [`gaussian`], [`metrics`], [`toy`] |
//!
//! Rows are points, columns coordinates. Inputs are read once into the precision the work is
//! done in (float32 for the networks, float64 for closed forms and discrete solvers), and NaN or
//! infinity is refused with its row and column named. Options are builders that only store
//! values; the rules are checked once, when a call uses them.

mod barycentric;
pub mod discrete;
mod dual;
mod measure;
mod reference;
mod sampler;
mod score;
mod spot;

use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use tch::{Device, Tensor};

pub use crate::neural::dual::{BatchMode, TrainReport};
pub use crate::neural::optim::{LrSchedule, TrainStats};
pub use crate::neural::sampler::SampleReport;
pub use crate::ot::{Cost, Divergence};
pub use crate::runtime::progress::{Phase, Progress};
pub use crate::score::trained::Parametrization;
pub use barycentric::Barycentric;
pub use dual::{Dual, DualOptions};
pub use measure::Measure;
pub use reference::{gaussian, metrics, toy};
pub use sampler::{ChainStart, Sampler, SamplerOptions};
pub use score::{Score, TrainOptions};
pub use spot::{Spot, SpotOptions};

use crate::runtime::error::{Error, Result};

/// The element types accepted as input: `f32` and `f64`.
pub trait Float: Copy + 'static + sealed::Sealed {
    fn to_f64(self) -> f64;
}

impl Float for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Float for f64 {
    fn to_f64(self) -> f64 {
        self
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A progress observer: called with each report of a long call; returning `false` cancels the
/// call, which then fails with [`crate::ErrorKind::Cancelled`].
pub type ProgressFn = Arc<dyn Fn(&Progress) -> bool + Send + Sync>;

fn observe(progress: &Option<ProgressFn>) -> impl FnMut(&Progress) -> bool + '_ {
    move |p| progress.as_ref().map_or(true, |f| f(p))
}

/// Reads a view in logical (row-major) order, whatever its strides, into float64, refusing empty
/// matrices and non-finite values.
fn read_f64<T: Float>(a: &ArrayView2<'_, T>, what: &str) -> Result<Vec<f64>> {
    let (rows, cols) = a.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::invalid(format!("{what}: matrix has {rows} rows and {cols} columns; both must be > 0")));
    }
    let mut out = Vec::with_capacity(rows * cols);
    for ((i, j), v) in a.indexed_iter() {
        let v = v.to_f64();
        if !v.is_finite() {
            return Err(Error::non_finite(format!("{what}: row {i}, column {j} is {v}")));
        }
        out.push(v);
    }
    Ok(out)
}

/// A view as an [rows, cols] float64 tensor on the CPU (closed forms and discrete solvers).
fn tensor_f64<T: Float>(a: &ArrayView2<'_, T>, what: &str) -> Result<Tensor> {
    let v = read_f64(a, what)?;
    Ok(Tensor::f_from_slice(&v)?.f_view([a.nrows() as i64, a.ncols() as i64])?)
}

/// A view as an [rows, cols] float32 tensor on the CPU, the precision the networks use.
fn tensor_f32<T: Float>(a: &ArrayView2<'_, T>, what: &str) -> Result<Tensor> {
    let v = read_f64(a, what)?;
    let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    if f.iter().any(|x| !x.is_finite()) {
        return Err(Error::non_finite(format!("{what}: values overflow float32")));
    }
    Ok(Tensor::f_from_slice(&f)?.f_view([a.nrows() as i64, a.ncols() as i64])?)
}

fn read_vector<T: Float>(a: &ArrayView1<'_, T>, what: &str) -> Result<Vec<f64>> {
    read_f64(&a.view().insert_axis(ndarray::Axis(0)), what)
}

fn array2(v: Vec<f64>, rows: usize, cols: usize) -> Result<Array2<f64>> {
    Array2::from_shape_vec((rows, cols), v).map_err(|e| Error::internal(format!("result shape: {e}")))
}

/// A 2-D tensor (any kind, any device) as an `Array2<f64>`.
fn to_array2(t: &Tensor) -> Result<Array2<f64>> {
    let s = t.size();
    if s.len() != 2 {
        return Err(Error::internal(format!("expected a 2-D result, got shape {s:?}")));
    }
    array2(crate::reference::linalg::to_vec(t)?, s[0] as usize, s[1] as usize)
}

/// A 1-D tensor as an `Array1<f64>`.
fn to_array1(t: &Tensor) -> Result<Array1<f64>> {
    Ok(Array1::from(crate::reference::linalg::to_vec(t)?))
}

fn parse_device(name: &str) -> Result<Device> {
    crate::runtime::device::parse_device(name)
}
