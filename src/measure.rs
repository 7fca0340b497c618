//! Measures that can be sampled in minibatches: an array of points (the simple path) or
//! anything else that can produce a batch on request (a host callback, a generator).

use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::rng::Rng64;

pub trait Measure {
    fn dim(&self) -> usize;
    /// `m` points [m, dim], float32 on `device`, drawn i.i.d. from the measure.
    fn sample(&mut self, m: usize, rng: &mut Rng64, device: Device) -> Result<Tensor>;
}

/// The empirical measure of a point set: batches are uniform draws with replacement.
pub struct Empirical {
    points: Tensor,
    n: usize,
    d: usize,
}

impl Empirical {
    /// `points` [n, d]; moved to `device` once, so batches are gathered where they are used.
    pub fn new(points: &Tensor, device: Device) -> Result<Empirical> {
        let s = points.size();
        if s.len() != 2 || s[0] == 0 || s[1] == 0 {
            return Err(Error::shape(format!("point set must be a non-empty [n, d] matrix, got {s:?}")));
        }
        let points = points.f_to_kind(Kind::Float)?.f_to_device(device)?;
        Ok(Empirical { points, n: s[0] as usize, d: s[1] as usize })
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
        let idx = rng.indices(m, self.n, self.points.device())?;
        Ok(self.points.f_index_select(0, &idx)?.f_to_device(device)?)
    }
}
