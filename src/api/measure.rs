//! Measures to train from: a point set, or a function that draws each minibatch on request.

use ndarray::{Array2, AsArray, Ix2};
use tch::{Device, Tensor};

use super::{tensor_f32, Float};
use crate::ot::measure::{Empirical, FunctionMeasure};
use crate::runtime::error::{Error, ErrorKind, Result};

type DrawFn<'f> = dyn FnMut(usize, u64) -> Result<Array2<f64>> + 'f;

/// A measure for [`crate::Dual::train_measures`], [`crate::Score::train`] and
/// [`crate::Barycentric::train`]: its points (batches are uniform draws with replacement) or a
/// sampler `f(m, seed)` returning m x d points (a simulator, a data set larger than memory).
///
/// ```
/// use ndarray::Array2;
/// use scones::Measure;
/// # fn main() -> scones::Result<()> {
/// // The uniform measure on the unit square, drawn from the seed the training loop hands out.
/// let square = Measure::from_fn(2, |m, seed| {
///     let mut s = seed | 1;
///     Ok(Array2::from_shape_fn((m, 2), |_| {
///         s ^= s << 13;
///         s ^= s >> 7;
///         s ^= s << 17;
///         (s >> 11) as f64 / (1u64 << 53) as f64
///     }))
/// })?;
/// assert_eq!(square.dim(), 2);
/// # Ok(()) }
/// ```
pub struct Measure<'f> {
    source: Source<'f>,
}

enum Source<'f> {
    Points(Tensor),
    Draw { d: usize, f: Box<DrawFn<'f>> },
}

impl Measure<'static> {
    /// The empirical measure of the rows of `points` (n x d), kept as a float32 copy.
    pub fn points<'a, T: Float>(points: impl AsArray<'a, T, Ix2>) -> Result<Measure<'static>> {
        Ok(Measure { source: Source::Points(tensor_f32(&points.into(), "points")?) })
    }
}

impl<'f> Measure<'f> {
    /// A measure in dimension d drawn by `f(m, seed)`, which returns m x d points; `seed` comes
    /// from the training run's seeded stream, so drawing from it makes runs reproducible.
    pub fn from_fn(d: usize, f: impl FnMut(usize, u64) -> Result<Array2<f64>> + 'f) -> Result<Measure<'f>> {
        if d == 0 {
            return Err(Error::invalid("measure dimension must be > 0"));
        }
        Ok(Measure { source: Source::Draw { d, f: Box::new(f) } })
    }

    pub fn dim(&self) -> usize {
        match &self.source {
            Source::Points(t) => t.size()[1] as usize,
            Source::Draw { d, .. } => *d,
        }
    }

    /// The math modules' measure for one training call.
    pub(crate) fn instantiate(&mut self, device: Device) -> Result<Box<dyn crate::ot::measure::Measure + '_>> {
        match &mut self.source {
            Source::Points(t) => Ok(Box::new(Empirical::new(t, device)?)),
            Source::Draw { d, f } => {
                let d = *d;
                Ok(Box::new(FunctionMeasure::new(
                    d,
                    Box::new(move |m, seed, out: &mut [f64]| {
                        let a = f(m, seed)?;
                        if a.dim() != (m, d) {
                            return Err(Error::new(
                                ErrorKind::Callback,
                                format!("measure function returned {:?} points, {m} x {d} were asked for", a.dim()),
                            ));
                        }
                        out.iter_mut().zip(a.iter()).for_each(|(o, v)| *o = *v);
                        Ok(())
                    }),
                )?))
            }
        }
    }
}
