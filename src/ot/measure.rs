//! Measures that can be sampled in minibatches: an array of points (the simple path) or
//! anything else that can produce a batch on request (a host callback, a generator).

use tch::{Device, Kind, Tensor};

use crate::runtime::error::{Error, Result};
use crate::runtime::rng::Rng64;

pub trait Measure {
    fn dim(&self) -> usize;
    /// `m` points [m, dim], float32 on `device`, drawn i.i.d. from the measure.
    fn sample(&mut self, m: usize, rng: &mut Rng64, device: Device) -> Result<Tensor>;
}

/// The empirical measure of a point set: batches are uniform draws with replacement, or, with
/// [`Empirical::full_batches`], the whole set in order.
pub struct Empirical {
    points: Tensor,
    n: usize,
    d: usize,
    full: bool,
}

impl Empirical {
    /// `points` [n, d]; moved to `device` once, so batches are gathered where they are used.
    pub fn new(points: &Tensor, device: Device) -> Result<Empirical> {
        let s = points.size();
        if s.len() != 2 || s[0] == 0 || s[1] == 0 {
            return Err(Error::shape(format!("point set must be a non-empty [n, d] matrix, got {s:?}")));
        }
        let points = points.f_to_kind(Kind::Float)?.f_to_device(device)?;
        Ok(Empirical { points, n: s[0] as usize, d: s[1] as usize, full: false })
    }

    /// Every batch is the whole point set (the batch size must equal its size). With all-pairs
    /// dual batches on both sides the stochastic objective of Algorithm 1 becomes the exact
    /// discrete dual of the two uniform point sets and its gradient the exact gradient: how small
    /// discrete problems are solved to the precision of the exact discrete solvers.
    pub fn full_batches(mut self) -> Empirical {
        self.full = true;
        self
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn points(&self) -> &Tensor {
        &self.points
    }
}

impl Measure for Empirical {
    fn dim(&self) -> usize {
        self.d
    }

    fn sample(&mut self, m: usize, rng: &mut Rng64, device: Device) -> Result<Tensor> {
        if self.full {
            if m != self.n {
                return Err(Error::shape(format!(
                    "a full-batch measure of {} points was asked for a batch of {m}",
                    self.n
                )));
            }
            return Ok(self.points.f_to_device(device)?);
        }
        let idx = rng.indices(m, self.n, self.points.device())?;
        Ok(self.points.f_index_select(0, &idx)?.f_to_device(device)?)
    }
}

/// f(m, seed, out [m * d]): fills m points row-major. The seed comes from the training loop's
/// own stream, so a host that draws from it reproduces runs.
pub type SampleFn<'a> = dyn FnMut(usize, u64, &mut [f64]) -> Result<()> + 'a;

/// A measure known only through a function that draws batches from it (a simulator, a data
/// set larger than memory).
pub struct FunctionMeasure<'a> {
    d: usize,
    f: Box<SampleFn<'a>>,
}

impl<'a> FunctionMeasure<'a> {
    pub fn new(d: usize, f: Box<SampleFn<'a>>) -> Result<FunctionMeasure<'a>> {
        if d == 0 {
            return Err(Error::invalid("measure dimension must be > 0"));
        }
        Ok(FunctionMeasure { d, f })
    }
}

impl Measure for FunctionMeasure<'_> {
    fn dim(&self) -> usize {
        self.d
    }

    fn sample(&mut self, m: usize, rng: &mut Rng64, device: Device) -> Result<Tensor> {
        let mut out = vec![0.0f64; m * self.d];
        (self.f)(m, rng.next_u64(), &mut out)?;
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::new(
                crate::runtime::error::ErrorKind::Callback,
                format!("measure callback returned a non-finite value at row {}, column {}", i / self.d, i % self.d),
            ));
        }
        Ok(Tensor::f_from_slice(&out)?
            .f_view([m as i64, self.d as i64])?
            .f_to_kind(Kind::Float)?
            .f_to_device(device)?)
    }
}
