//! The regularizer H = lambda D_f(pi || sigma x tau) of Prop. 2.4, for any f-divergence of
//! Table 3 ([`crate::ot::divergence`]).
//!
//! With t = v / lambda it supplies H*(v) = lambda f*(t) (the dual penalty), the compatibility
//! M(v) = f*'(t) (the density of the coupling with respect to sigma x tau) and d/dv log M(v) (the
//! compatibility term of the Langevin score), each continued past the divergence's extension
//! point ([`crate::ot::divergence::extension`]).

pub use crate::ot::divergence::{Divergence, ALL_DIVERGENCES, RATIO_CAP, T_FLOOR};

use crate::ot::divergence::extension;
use crate::runtime::error::{Error, Result};
use tch::{Kind, Tensor};

/// A regularizer H = lambda D_f(pi || sigma x tau).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regularizer {
    pub divergence: Divergence,
    pub lambda: f64,
    /// beta of the chi-square softplus smoothing of log M used for sampling (paper Tables 4, 6:
    /// 10 to 1000). Ignored by the other divergences.
    pub softplus_beta: f64,
}

impl Regularizer {
    pub fn new(divergence: Divergence, lambda: f64) -> Result<Regularizer> {
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::invalid(format!("lambda must be a finite number > 0, got {lambda}")));
        }
        Ok(Regularizer { divergence, lambda, softplus_beta: 1000.0 })
    }

    pub fn with_softplus_beta(mut self, beta: f64) -> Result<Regularizer> {
        if !(beta.is_finite() && beta > 0.0) {
            return Err(Error::invalid(format!("softplus beta must be a finite number > 0, got {beta}")));
        }
        self.softplus_beta = beta;
        Ok(self)
    }

    /// Whether grad_y log M depends on V itself (then phi(x) is needed to sample), or only on
    /// grad_y V (KL family: log M is linear in V).
    pub fn log_compatibility_is_linear(&self) -> bool {
        self.divergence.row().log_compatibility_is_linear()
    }

    /// H*(v) = lambda f*(v / lambda), extended past t_b.
    pub fn conjugate(&self, v: &Tensor) -> Result<Tensor> {
        Ok(self.conjugate_and_compatibility(v)?.0)
    }

    /// H*(v) and M(v) together, sharing the work (for KL they are the same exponential).
    pub fn conjugate_and_compatibility(&self, v: &Tensor) -> Result<(Tensor, Tensor)> {
        extension::conjugate_and_compatibility(self.divergence.row(), v, self.lambda)
    }

    /// M(v) = f*'(v / lambda), extended past t_b.
    pub fn compatibility(&self, v: &Tensor) -> Result<Tensor> {
        extension::compatibility(self.divergence.row(), v, self.lambda)
    }

    /// Where t = v / lambda lies beyond the extension point.
    pub fn extension_active(&self, v: &Tensor) -> Result<Tensor> {
        match self.divergence.extension_point() {
            Some(tb) => Ok(v.f_gt(tb * self.lambda)?),
            None => Ok(v.f_zeros_like()?.f_to_kind(Kind::Bool)?),
        }
    }

    /// Fraction of elements of v beyond the extension point (0 without computing a mask when
    /// the maximum is inside).
    pub fn extension_fraction(&self, v: &Tensor) -> Result<f64> {
        match self.divergence.extension_point() {
            Some(tb) if v.f_max()?.f_double_value(&[])? > tb * self.lambda => {
                Ok(v.f_gt(tb * self.lambda)?.f_to_kind(Kind::Float)?.f_mean(None)?.f_double_value(&[])?)
            }
            _ => Ok(0.0),
        }
    }

    /// log M(v) as used for sampling. KL family: exact (linear in v). Chi-square: the paper's
    /// smoothing log(softplus_beta(v) / (2 lambda)), since log relu(v) is -inf wherever v <= 0.
    /// Others: log of the (extended) compatibility.
    pub fn log_compatibility(&self, v: &Tensor) -> Result<Tensor> {
        self.divergence.row().log_compatibility(v, self.lambda, self.softplus_beta)
    }

    /// d/dv log M(v), consistent with [`Self::log_compatibility`].
    pub fn dlog_compatibility(&self, v: &Tensor) -> Result<Tensor> {
        self.divergence.row().dlog_compatibility(v, self.lambda, self.softplus_beta)
    }

    /// Scalar H*(v), M(v) in f64 (references, discrete solvers, tests).
    pub fn scalar(&self, v: f64) -> (f64, f64) {
        let (f, m, _) = self.divergence.conjugate_scalar(v / self.lambda);
        (self.lambda * f, m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn t64(v: &[f64]) -> Tensor {
        Tensor::from_slice(v).to_kind(Kind::Double)
    }

    fn vals(t: &Tensor) -> Vec<f64> {
        crate::reference::linalg::to_vec(t).unwrap()
    }

    /// t values spanning each divergence's domain, including beyond the extension point.
    fn grid(d: Divergence) -> Vec<f64> {
        let hi = d.domain_max().unwrap_or(4.0);
        let mut g: Vec<f64> = (0..60).map(|i| -6.0 + (hi + 6.0) * i as f64 / 60.0).collect();
        if let Some(tb) = d.extension_point() {
            g.extend([tb - 1e-3, tb + 1e-3, tb + 0.5, tb + 10.0]);
        }
        g.extend([hi + 3.0, 50.0, -50.0, -200.0]);
        g
    }

    #[test]
    fn conjugate_derivative_is_compatibility_by_finite_differences() {
        for d in ALL_DIVERGENCES {
            for lambda in [0.1, 1.0, 4.0] {
                let reg = Regularizer::new(d, lambda).unwrap();
                for t in grid(d) {
                    let v = t * lambda;
                    if d == Divergence::ChiSquare && v.abs() < 1e-3 {
                        continue; // kink of relu^2's second derivative; first derivative is fine
                    }
                    let h = 1e-6 * lambda.max(v.abs());
                    let (fp, _) = reg.scalar(v + h);
                    let (fm, _) = reg.scalar(v - h);
                    let (_, m) = reg.scalar(v);
                    let fd = (fp - fm) / (2.0 * h);
                    let tol = 1e-5 * (1.0 + m.abs());
                    assert!((fd - m).abs() < tol, "{d:?} lambda {lambda} t {t}: dH*/dv {fd} vs M {m}");
                }
            }
        }
    }

    #[test]
    fn tensor_forms_match_scalar_forms_and_stay_finite() {
        for d in ALL_DIVERGENCES {
            let lambda = 0.7;
            let reg = Regularizer::new(d, lambda).unwrap();
            let ts = grid(d);
            let v: Vec<f64> = ts.iter().map(|t| t * lambda).collect();
            let (h, m) = reg.conjugate_and_compatibility(&t64(&v)).unwrap();
            let (h, m) = (vals(&h), vals(&m));
            for (i, &vi) in v.iter().enumerate() {
                let (hs, ms) = reg.scalar(vi);
                assert!(h[i].is_finite() && m[i].is_finite(), "{d:?} v {vi}: non-finite");
                assert!((h[i] - hs).abs() <= 1e-9 * (1.0 + hs.abs()), "{d:?} v {vi}: H* {} vs {hs}", h[i]);
                assert!((m[i] - ms).abs() <= 1e-9 * (1.0 + ms.abs()), "{d:?} v {vi}: M {} vs {ms}", m[i]);
                assert!(m[i] >= 0.0, "{d:?}: compatibility must be a density ratio >= 0");
            }
        }
    }

    #[test]
    fn fenchel_identity_holds_inside_the_domain() {
        // f*(t) + f(u) = t u at u = f*'(t), the equality case of Fenchel-Young.
        for d in ALL_DIVERGENCES {
            for t in grid(d) {
                if d.extension_point().is_some_and(|tb| t >= tb) || t < -30.0 {
                    continue;
                }
                let (fs, u, _) = d.conjugate_scalar(t);
                if d == Divergence::ChiSquare && t <= 0.0 {
                    // u = 0 is the boundary of f's domain: f(0) + f*(t) = -1 + 1 = 0 = t * 0.
                    assert!((fs + d.f(0.0)).abs() < 1e-12);
                    continue;
                }
                let lhs = fs + d.f(u);
                assert!(
                    (lhs - t * u).abs() < 1e-8 * (1.0 + (t * u).abs()),
                    "{d:?} t {t}: f*+f = {lhs}, t u = {}",
                    t * u
                );
                // Fenchel-Young inequality at a different u.
                let u2 = u * 1.3 + 0.1;
                assert!(fs + d.f(u2) >= t * u2 - 1e-9, "{d:?} t {t}: Fenchel-Young violated");
            }
        }
    }

    #[test]
    fn extension_is_c1_convex_and_reported() {
        for d in ALL_DIVERGENCES {
            let Some(tb) = d.extension_point() else { continue };
            // Across a gap of 2 delta, a C^1 function moves by about 2 delta times its slope.
            let delta = 1e-9 * (1.0 + tb.abs());
            let (f0, m0, k0) = d.conjugate_scalar(tb - delta);
            let (f1, m1, k1) = d.conjugate_scalar(tb + delta);
            assert!((f1 - f0).abs() <= 3.0 * delta * m0 + 1e-12 * (1.0 + f0.abs()), "{d:?}: f* jumps at t_b");
            assert!((m1 - m0).abs() <= 3.0 * delta * k0 + 1e-12 * (1.0 + m0.abs()), "{d:?}: M jumps at t_b");
            assert!(k0 > 0.0 && k1 > 0.0, "{d:?}: curvature must stay positive");
            let reg = Regularizer::new(d, 2.0).unwrap();
            let v = t64(&[(tb - 1.0) * 2.0, (tb + 1.0) * 2.0]);
            assert_eq!(reg.extension_fraction(&v).unwrap(), 0.5);
        }
    }

    #[test]
    fn dlog_compatibility_matches_finite_differences_of_log_compatibility() {
        for d in ALL_DIVERGENCES {
            for beta in [10.0, 1000.0] {
                let reg = Regularizer::new(d, 1.5).unwrap().with_softplus_beta(beta).unwrap();
                let v: Vec<f64> = grid(d).iter().map(|t| t * 1.5).filter(|v| v.abs() < 40.0).collect();
                let h = 1e-6;
                let vp: Vec<f64> = v.iter().map(|x| x + h).collect();
                let vm: Vec<f64> = v.iter().map(|x| x - h).collect();
                let lp = vals(&reg.log_compatibility(&t64(&vp)).unwrap());
                let lm = vals(&reg.log_compatibility(&t64(&vm)).unwrap());
                let g = vals(&reg.dlog_compatibility(&t64(&v)).unwrap());
                for i in 0..v.len() {
                    let fd = (lp[i] - lm[i]) / (2.0 * h);
                    assert!(g[i].is_finite() && lp[i].is_finite(), "{d:?} v {}: non-finite log M", v[i]);
                    assert!(
                        (fd - g[i]).abs() < 1e-4 * (1.0 + g[i].abs()),
                        "{d:?} beta {beta} v {}: fd {fd} vs {}",
                        v[i],
                        g[i]
                    );
                }
            }
        }
    }

    #[test]
    fn chi_square_smoothing_tends_to_log_relu() {
        let reg = Regularizer::new(Divergence::ChiSquare, 0.5).unwrap().with_softplus_beta(1e4).unwrap();
        let v = t64(&[0.3, 1.0, 2.0]);
        let l = vals(&reg.log_compatibility(&v).unwrap());
        for (i, x) in [0.3f64, 1.0, 2.0].iter().enumerate() {
            assert!((l[i] - (x / (2.0 * 0.5)).ln()).abs() < 1e-3);
        }
        // far below zero the smoothed score still points up (towards positive violations)
        let g = vals(&reg.dlog_compatibility(&t64(&[-5.0])).unwrap());
        assert!(g[0] > 0.0 && g[0].is_finite());
    }

    #[test]
    fn float32_stays_finite_for_extreme_violations() {
        for d in ALL_DIVERGENCES {
            let reg = Regularizer::new(d, 1e-3).unwrap();
            let v = Tensor::from_slice(&[-1e6f32, -1.0, 0.0, 1e-4, 1.0, 1e6]).to_device(Device::Cpu);
            let (h, m) = reg.conjugate_and_compatibility(&v).unwrap();
            let g = reg.dlog_compatibility(&v).unwrap();
            let l = reg.log_compatibility(&v).unwrap();
            for t in [&h, &m, &g, &l] {
                assert!(bool::try_from(t.isfinite().all()).unwrap(), "{d:?}: non-finite in {t:?}");
            }
        }
    }

    #[test]
    fn lambda_must_be_positive() {
        for l in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                Regularizer::new(Divergence::Kl, l).unwrap_err().kind,
                crate::runtime::error::ErrorKind::InvalidArgument
            );
        }
    }
}
