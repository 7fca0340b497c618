//! The exact score of a Gaussian target N(mu, B): s(y, sigma) = -(B + sigma^2 I)^-1 (y - mu).

use std::collections::HashMap;

use tch::{Device, Kind, Tensor};

use super::{BoundScore, ScoreSource};
use crate::reference::linalg;
use crate::runtime::error::{Error, Result};

pub struct GaussianScore {
    mean: Vec<f64>,
    cov: Vec<f64>,
    d: usize,
}

impl GaussianScore {
    /// `mean` \[d\], `cov` [d, d] row-major, symmetric positive definite.
    pub fn new(mean: &[f64], cov: &[f64]) -> Result<GaussianScore> {
        let d = mean.len();
        if d == 0 {
            return Err(Error::invalid("Gaussian score needs a dimension > 0"));
        }
        if cov.len() != d * d {
            return Err(Error::shape(format!(
                "covariance must be {d}x{d} to match the mean, got {} values",
                cov.len()
            )));
        }
        if mean.iter().any(|v| !v.is_finite()) {
            return Err(Error::non_finite("Gaussian mean holds NaN or infinity"));
        }
        linalg::check_pd(&linalg::mat(cov, d)?, "Gaussian covariance")?;
        Ok(GaussianScore { mean: mean.to_vec(), cov: cov.to_vec(), d })
    }

    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    pub fn covariance(&self) -> &[f64] {
        &self.cov
    }
}

impl ScoreSource for GaussianScore {
    fn dim(&self) -> usize {
        self.d
    }

    fn describe(&self) -> String {
        format!("Gaussian score (d = {})", self.d)
    }

    fn bind(&self, device: Device) -> Result<Box<dyn BoundScore>> {
        let mean = Tensor::f_from_slice(&self.mean)?.f_to_kind(Kind::Float)?.f_to_device(device)?;
        Ok(Box::new(BoundGaussian { cov: linalg::mat(&self.cov, self.d)?, mean, device, precisions: HashMap::new() }))
    }
}

struct BoundGaussian {
    cov: Tensor,
    mean: Tensor,
    device: Device,
    /// (B + sigma^2 I)^-1 per noise level, computed in float64 once and kept on the device.
    precisions: HashMap<u64, Tensor>,
}

impl BoundGaussian {
    fn precision(&mut self, sigma: f64) -> Result<&Tensor> {
        let key = sigma.to_bits();
        if !self.precisions.contains_key(&key) {
            let d = self.cov.size()[0] as usize;
            let smoothed = self.cov.f_add(&linalg::eye(d)?.f_mul_scalar(sigma * sigma)?)?;
            let p = linalg::symmetrize(&smoothed.f_inverse()?)?.f_to_kind(Kind::Float)?.f_to_device(self.device)?;
            self.precisions.insert(key, p);
        }
        Ok(&self.precisions[&key])
    }
}

impl BoundScore for BoundGaussian {
    fn score(&mut self, y: &Tensor, sigma: f64) -> Result<Tensor> {
        let centered = y.f_sub(&self.mean)?;
        let p = self.precision(sigma)?;
        Ok(centered.f_matmul(p)?.f_neg()?)
    }

    fn log_density(&mut self, y: &Tensor, sigma: f64) -> Result<Option<Tensor>> {
        let centered = y.f_sub(&self.mean)?;
        let p = self.precision(sigma)?;
        let q = centered.f_matmul(p)?.f_mul(&centered)?.f_sum_dim_intlist(1, false, None)?;
        Ok(Some(q.f_mul_scalar(-0.5)?))
    }
}
