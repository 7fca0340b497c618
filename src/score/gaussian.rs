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
    /// Per noise level, computed in float64 once and kept on the device: -P and mu P, with
    /// P = (B + sigma^2 I)^-1, so that the score -(y - mu) P = mu P + y (-P) is one addmm.
    precisions: HashMap<u64, (Tensor, Tensor)>,
}

impl BoundGaussian {
    fn precision(&mut self, sigma: f64) -> Result<&(Tensor, Tensor)> {
        let key = sigma.to_bits();
        if !self.precisions.contains_key(&key) {
            let d = self.cov.size()[0] as usize;
            let smoothed = self.cov.f_add(&linalg::eye(d)?.f_mul_scalar(sigma * sigma)?)?;
            let p = linalg::symmetrize(&smoothed.f_inverse()?)?;
            let mean_p = self.mean.f_to_kind(Kind::Double)?.f_to_device(Device::Cpu)?.f_matmul(&p)?;
            let to_dev = |t: Tensor| -> Result<Tensor> { Ok(t.f_to_kind(Kind::Float)?.f_to_device(self.device)?) };
            let entry = (to_dev(p.f_neg()?)?, to_dev(mean_p)?);
            self.precisions.insert(key, entry);
        }
        Ok(&self.precisions[&key])
    }
}

impl BoundScore for BoundGaussian {
    fn score(&mut self, y: &Tensor, sigma: f64) -> Result<Tensor> {
        let (neg_p, mean_p) = self.precision(sigma)?;
        Ok(mean_p.f_addmm(y, neg_p)?)
    }

    fn log_density(&mut self, y: &Tensor, sigma: f64) -> Result<Option<Tensor>> {
        Ok(self.score_and_log_density(y, sigma)?.1)
    }

    /// -(y - mu) P (y - mu) / 2 = s . (y - mu) / 2 with s the score: one matrix product for both.
    fn score_and_log_density(&mut self, y: &Tensor, sigma: f64) -> Result<(Tensor, Option<Tensor>)> {
        let s = self.score(y, sigma)?;
        let q = s.f_mul(&y.f_sub(&self.mean)?)?.f_sum_dim_intlist(1, false, None)?.f_mul_scalar(0.5)?;
        Ok((s, Some(q)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Score and log-density (differences, as it is up to a constant) against float64 sums,
    /// at a nonzero mean and a smoothing level, through both entry points.
    #[test]
    fn score_and_log_density_match_the_closed_form() {
        let (mean, cov) = ([0.5, -1.0], [2.0, 0.6, 0.6, 1.0]);
        let sigma = 0.7;
        let (a, b, c) = (cov[0] + sigma * sigma, cov[1], cov[3] + sigma * sigma);
        let det = a * c - b * b;
        let p = [c / det, -b / det, -b / det, a / det];
        let ys = [[0.3, 0.2], [-1.5, 2.0], [4.0, -3.0]];
        let y = Tensor::from_slice(&ys.concat()).view([3, 2]).to_kind(Kind::Float);
        let mut bound = GaussianScore::new(&mean, &cov).unwrap().bind(Device::Cpu).unwrap();
        let (s, ld) = bound.score_and_log_density(&y, sigma).unwrap();
        let (s, ld) = (linalg::to_vec(&s).unwrap(), linalg::to_vec(&ld.unwrap()).unwrap());
        let alone = linalg::to_vec(&bound.log_density(&y, sigma).unwrap().unwrap()).unwrap();
        assert_eq!(ld, alone);
        for (i, yi) in ys.iter().enumerate() {
            let r = [yi[0] - mean[0], yi[1] - mean[1]];
            let want = [-(p[0] * r[0] + p[1] * r[1]), -(p[2] * r[0] + p[3] * r[1])];
            for k in 0..2 {
                assert!((s[2 * i + k] - want[k]).abs() < 1e-5 * (1.0 + want[k].abs()), "{s:?} vs {want:?}");
            }
            let q = -0.5 * (r[0] * (p[0] * r[0] + p[1] * r[1]) + r[1] * (p[2] * r[0] + p[3] * r[1]));
            assert!((ld[i] - q).abs() < 1e-5 * (1.0 + q.abs()), "{ld:?}[{i}] vs {q}");
        }
    }
}
