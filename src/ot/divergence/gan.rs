//! GAN: f(u) = u log u - (u + 1) log(u + 1), f*(t) = -log(1 - e^t) on t < 0,
//! M = e^t / (1 - e^t) = 1 / (e^-t - 1).

use super::{xlogx, Conjugate, RATIO_CAP};
use crate::runtime::error::Result;
use tch::Tensor;

pub struct Gan;

impl Conjugate for Gan {
    fn name(&self) -> &'static str {
        "gan"
    }

    fn f(&self, u: f64) -> f64 {
        xlogx(u) - xlogx(u + 1.0)
    }

    fn f_star_scalar(&self, t: f64) -> (f64, f64, f64) {
        let e = t.exp();
        let s = -t.exp_m1();
        (-s.ln(), e / s, e / (s * s))
    }

    fn domain_max(&self) -> Option<f64> {
        Some(0.0)
    }

    /// e^t_b / (1 - e^t_b) = cap.
    fn extension_point(&self) -> Option<f64> {
        let r = RATIO_CAP;
        Some((r / (1.0 + r)).ln())
    }

    fn uses_exp(&self) -> bool {
        true
    }

    fn f_star(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_expm1()?.f_neg()?.f_log()?.f_neg()?)
    }

    fn f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_neg()?.f_expm1()?.f_reciprocal()?)
    }

    fn dlog_f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_expm1()?.f_neg()?.f_reciprocal()?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tensor_forms_match_scalar_forms() {
        super::super::tests::tensor_forms_match_scalar_forms(super::super::Divergence::Gan);
    }
}
