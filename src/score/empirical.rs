//! The exact score of a point set smoothed by a Gaussian kernel, no training:
//!
//!   tau_s(y) = (1/n) sum_j N(y; y_j, s^2 I),   s^2 = sigma^2 + h^2,
//!   grad log tau_s(y) = (sum_j w_j(y) y_j - y) / s^2,   w = softmax_j(-|y - y_j|^2 / (2 s^2)).
//!
//! h is the kernel bandwidth (what plain Langevin at sigma = 0 sees); annealing adds its noise
//! level on top. The softmax runs over target chunks with a running maximum (as in streaming
//! log-sum-exp), so n_target in the hundreds of thousands never needs an n_chains x n_target
//! matrix at once.

use tch::{Device, Kind, Tensor};

use super::{BoundScore, ScoreSource};
use crate::runtime::error::{Error, Result};

/// Elements of one chains x chunk block of the softmax (1 MB of float32). Blocks of 64 MB were
/// 2-3x slower on the CPU (3000 chains x 3000 targets: 135 vs 46 ms per call, most of it system
/// time): every temporary that large is a fresh mmap that is page-faulted in and unmapped
/// again, while 1 MB temporaries are reused from the heap and stay in cache.
const BLOCK_ELEMENTS: i64 = 1 << 18;

pub struct EmpiricalScore {
    /// Behind a lock only because tch tensors are not Sync; it is read once per bind.
    points: parking_lot::Mutex<Tensor>,
    bandwidth: f64,
    n: usize,
    d: usize,
}

impl EmpiricalScore {
    /// `points` [n, d]; `bandwidth` h > 0.
    pub fn new(points: &Tensor, bandwidth: f64) -> Result<EmpiricalScore> {
        let s = points.size();
        if s.len() != 2 || s[0] == 0 || s[1] == 0 {
            return Err(Error::shape(format!("target points must be a non-empty [n, d] matrix, got {s:?}")));
        }
        // The kernel works in float32 with 1 / h^2: outside [1e-15, 1e15] that factor or h^2
        // itself overflows or underflows, and every score would be NaN or infinite.
        if !(bandwidth.is_finite() && (1e-15..=1e15).contains(&bandwidth)) {
            return Err(Error::invalid(format!("bandwidth must lie in [1e-15, 1e15], got {bandwidth}")));
        }
        let points = points.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?.f_contiguous()?;
        Ok(EmpiricalScore { points: parking_lot::Mutex::new(points), bandwidth, n: s[0] as usize, d: s[1] as usize })
    }
}

impl ScoreSource for EmpiricalScore {
    fn dim(&self) -> usize {
        self.d
    }

    fn describe(&self) -> String {
        format!("empirical score of {} points (d = {}, bandwidth {})", self.n, self.d, self.bandwidth)
    }

    fn bind(&self, device: Device) -> Result<Box<dyn BoundScore>> {
        let points = self.points.lock().f_to_device(device)?;
        let sq_norms = points.f_square()?.f_sum_dim_intlist(1, false, None)?;
        Ok(Box::new(BoundEmpirical { points, sq_norms, bandwidth: self.bandwidth }))
    }
}

struct BoundEmpirical {
    points: Tensor,
    sq_norms: Tensor,
    bandwidth: f64,
}

impl BoundEmpirical {
    /// Streaming softmax over the targets: (running max m [b], sum of weights [b], weighted sum
    /// of targets [b, d]), all relative to exp(m).
    fn moments(&self, y: &Tensor, s2: f64) -> Result<(Tensor, Tensor, Tensor)> {
        let b = y.size()[0];
        let n = self.points.size()[0];
        let chunk = (BLOCK_ELEMENTS / b.max(1)).clamp(1, n);
        let y_sq = y.f_square()?.f_sum_dim_intlist(1, true, None)?;
        let mut m = Tensor::f_full([b], f64::NEG_INFINITY, (Kind::Float, y.device()))?;
        let mut sum_w = Tensor::f_zeros([b], (Kind::Float, y.device()))?;
        let mut acc = y.f_zeros_like()?;
        let mut start = 0;
        while start < n {
            let len = chunk.min(n - start);
            let t = self.points.f_narrow(0, start, len)?;
            let t_sq = self.sq_norms.f_narrow(0, start, len)?.f_unsqueeze(0)?;
            let dist =
                y_sq.f_add(&t_sq)?.f_sub(&y.f_matmul(&t.f_transpose(0, 1)?)?.f_mul_scalar(2.0)?)?.f_clamp_min(0.0)?;
            let logits = dist.f_mul_scalar(-0.5 / s2)?;
            let m_new = m.f_maximum(&logits.f_amax(&[1i64][..], false)?)?;
            let rescale = m.f_sub(&m_new)?.f_exp()?;
            // Clamped at T_FLOOR: at small sigma most weights underflow, and exp results that
            // are float32 subnormals are slow (3000 x 3000 at sigma 0.01: 103-168 ms per call
            // without the clamp, 51-66 ms with it). Each clamped weight is < e^-80 against a
            // largest weight of 1, so the score changes by less than n * 1e-35 relative.
            let w = logits.f_sub(&m_new.f_unsqueeze(1)?)?.f_clamp_min(crate::ot::regularizer::T_FLOOR)?.f_exp()?;
            sum_w = sum_w.f_mul(&rescale)?.f_add(&w.f_sum_dim_intlist(1, false, None)?)?;
            acc = acc.f_mul(&rescale.f_unsqueeze(1)?)?.f_add(&w.f_matmul(&t)?)?;
            m = m_new;
            start += len;
        }
        Ok((m, sum_w, acc))
    }

    fn s2(&self, sigma: f64) -> f64 {
        sigma * sigma + self.bandwidth * self.bandwidth
    }
}

impl BoundScore for BoundEmpirical {
    fn score(&mut self, y: &Tensor, sigma: f64) -> Result<Tensor> {
        let s2 = self.s2(sigma);
        let (_, sum_w, acc) = self.moments(y, s2)?;
        let mean = acc.f_div(&sum_w.f_unsqueeze(1)?)?;
        Ok(mean.f_sub(y)?.f_div_scalar(s2)?)
    }

    fn log_density(&mut self, y: &Tensor, sigma: f64) -> Result<Option<Tensor>> {
        let s2 = self.s2(sigma);
        let (m, sum_w, _) = self.moments(y, s2)?;
        let n = self.points.size()[0] as f64;
        let d = y.size()[1] as f64;
        let c = -n.ln() - 0.5 * d * (2.0 * std::f64::consts::PI * s2).ln();
        Ok(Some(m.f_add(&sum_w.f_log()?)?.f_add_scalar(c)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_the_gradient_of_the_log_mixture_density() {
        let pts = Tensor::from_slice(&[0.0f32, 0.0, 1.0, 0.5, -0.7, 2.0, 3.0, -1.0, 0.2, 0.1]).view([5, 2]);
        let src = EmpiricalScore::new(&pts, 0.3).unwrap();
        let mut b = src.bind(Device::Cpu).unwrap();
        let y = Tensor::from_slice(&[0.4f32, 0.2, -1.0, 1.0, 2.5, -0.5]).view([3, 2]);
        for sigma in [0.0, 0.5] {
            let s = crate::reference::linalg::to_vec(&b.score(&y, sigma).unwrap()).unwrap();
            let yv = crate::reference::linalg::to_vec(&y).unwrap();
            // central differences of the log density in float64 from its definition
            let logp = |p: [f64; 2]| -> f64 {
                let s2 = sigma * sigma + 0.09;
                let pv = crate::reference::linalg::to_vec(&pts).unwrap();
                let terms: Vec<f64> =
                    pv.chunks(2).map(|q| -((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)) / (2.0 * s2)).collect();
                let m = terms.iter().cloned().fold(f64::MIN, f64::max);
                m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
            };
            for i in 0..3 {
                for k in 0..2 {
                    let h = 1e-5;
                    let mut p = [yv[2 * i], yv[2 * i + 1]];
                    p[k] += h;
                    let up = logp(p);
                    p[k] -= 2.0 * h;
                    let fd = (up - logp(p)) / (2.0 * h);
                    assert!(
                        (fd - s[2 * i + k]).abs() < 1e-3 * (1.0 + fd.abs()),
                        "sigma {sigma} point {i} axis {k}: {fd} vs {}",
                        s[2 * i + k]
                    );
                }
            }
            // and the log density agrees with the definition up to the constant
            let ld = crate::reference::linalg::to_vec(&b.log_density(&y, sigma).unwrap().unwrap()).unwrap();
            let s2 = sigma * sigma + 0.09;
            for i in 0..3 {
                let want = logp([yv[2 * i], yv[2 * i + 1]]) - 5f64.ln() - (2.0 * std::f64::consts::PI * s2).ln();
                assert!((ld[i] - want).abs() < 1e-4, "{} vs {want}", ld[i]);
            }
        }
    }

    #[test]
    fn chunking_does_not_change_the_result() {
        tch::manual_seed(1);
        let pts = Tensor::randn([5000, 3], (Kind::Float, Device::Cpu));
        let y = Tensor::randn([4000, 3], (Kind::Float, Device::Cpu));
        let src = EmpiricalScore::new(&pts, 0.2).unwrap();
        let mut b = src.bind(Device::Cpu).unwrap();
        // 4000 chains -> chunks of 4194 targets: two chunks; a single chain -> one chunk.
        let all = b.score(&y, 0.1).unwrap();
        let one = b.score(&y.narrow(0, 17, 1), 0.1).unwrap();
        let diff = (all.narrow(0, 17, 1) - one).abs().max().double_value(&[]);
        assert!(diff < 1e-4, "{diff}");
    }
}
