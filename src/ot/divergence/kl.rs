//! Kullback-Leibler: f(u) = u log u, f*(t) = exp(t - 1) on all of R, M = f*' = f*. The
//! entropic (Sinkhorn) coupling of Prop. 2.3; log M = v / lambda - 1 is linear in v.

use super::{xlogx, Conjugate, KL_RATIO_CAP};
use crate::runtime::error::Result;
use tch::Tensor;

pub struct Kl;

impl Conjugate for Kl {
    fn name(&self) -> &'static str {
        "kl"
    }

    fn f(&self, u: f64) -> f64 {
        xlogx(u)
    }

    fn f_star_scalar(&self, t: f64) -> (f64, f64, f64) {
        let e = (t - 1.0).exp();
        (e, e, e)
    }

    fn extension_point(&self) -> Option<f64> {
        Some(1.0 + KL_RATIO_CAP.ln())
    }

    fn uses_exp(&self) -> bool {
        true
    }

    fn f_star(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_sub_scalar(1.0)?.f_exp()?)
    }

    fn f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_sub_scalar(1.0)?.f_exp()?)
    }

    fn f_star_and_prime(&self, t: &Tensor) -> Result<(Tensor, Tensor)> {
        let e = t.f_sub_scalar(1.0)?.f_exp()?;
        Ok((e.shallow_clone(), e))
    }

    fn dlog_f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_ones_like()?)
    }

    fn log_compatibility_is_linear(&self) -> bool {
        true
    }

    fn log_compatibility(&self, v: &Tensor, lambda: f64, _beta: f64) -> Result<Tensor> {
        Ok(v.f_div_scalar(lambda)?.f_sub_scalar(1.0)?)
    }

    fn dlog_compatibility(&self, v: &Tensor, lambda: f64, _beta: f64) -> Result<Tensor> {
        Ok(v.f_ones_like()?.f_div_scalar(lambda)?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tensor_forms_match_scalar_forms() {
        super::super::tests::tensor_forms_match_scalar_forms(super::super::Divergence::Kl);
    }
}
