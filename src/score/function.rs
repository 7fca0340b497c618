//! A score computed by a function the caller supplies (how a host program plugs in its own
//! model). The function receives row-major float64 points and fills the scores.

use tch::{Device, Kind, Tensor};

use super::{BoundScore, ScoreSource};
use crate::runtime::error::{Error, Result};

/// f(points [n * d], n, sigma, out [n * d]).
pub type ScoreFn = dyn Fn(&[f64], usize, f64, &mut [f64]) -> Result<()> + Send + Sync;

pub struct FunctionScore {
    d: usize,
    f: std::sync::Arc<ScoreFn>,
    name: String,
}

impl FunctionScore {
    pub fn new(d: usize, name: impl Into<String>, f: std::sync::Arc<ScoreFn>) -> Result<FunctionScore> {
        if d == 0 {
            return Err(Error::invalid("score dimension must be > 0"));
        }
        Ok(FunctionScore { d, f, name: name.into() })
    }
}

impl ScoreSource for FunctionScore {
    fn dim(&self) -> usize {
        self.d
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn bind(&self, _device: Device) -> Result<Box<dyn BoundScore>> {
        Ok(Box::new(BoundFunction { d: self.d, f: self.f.clone() }))
    }
}

struct BoundFunction {
    d: usize,
    f: std::sync::Arc<ScoreFn>,
}

impl BoundScore for BoundFunction {
    fn score(&mut self, y: &Tensor, sigma: f64) -> Result<Tensor> {
        let n = y.size()[0] as usize;
        let yv = crate::reference::linalg::to_vec(y)?;
        // NaN first, so that a value the function never wrote fails the check below rather
        // than passing as a score of 0.
        let mut out = vec![f64::NAN; n * self.d];
        (self.f)(&yv, n, sigma, &mut out)?;
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::new(
                crate::runtime::error::ErrorKind::Callback,
                format!(
                    "score callback left row {}, column {} unwritten or returned a non-finite value there",
                    i / self.d,
                    i % self.d
                ),
            ));
        }
        Ok(Tensor::f_from_slice(&out)?
            .f_view([n as i64, self.d as i64])?
            .f_to_kind(Kind::Float)?
            .f_to_device(y.device())?)
    }
}
