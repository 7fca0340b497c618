//! KL in the form common in the Sinkhorn literature (Cuturi): f(u) = u log u - u + 1,
//! f*(t) = exp(t) - 1, M = exp(t). Same coupling as KL, potentials shifted by lambda.

use super::{xlogx, Conjugate, KL_RATIO_CAP};
use crate::runtime::error::Result;
use tch::Tensor;

pub struct KlCuturi;

impl Conjugate for KlCuturi {
    fn name(&self) -> &'static str {
        "kl_cuturi"
    }

    fn f(&self, u: f64) -> f64 {
        xlogx(u) - u + 1.0
    }

    fn f_star_scalar(&self, t: f64) -> (f64, f64, f64) {
        let e = t.exp();
        (e - 1.0, e, e)
    }

    fn extension_point(&self) -> Option<f64> {
        Some(KL_RATIO_CAP.ln())
    }

    fn uses_exp(&self) -> bool {
        true
    }

    fn f_star(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_exp()?.f_sub_scalar(1.0)?)
    }

    fn f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_exp()?)
    }

    fn f_star_and_prime(&self, t: &Tensor) -> Result<(Tensor, Tensor)> {
        let e = t.f_exp()?;
        Ok((e.f_sub_scalar(1.0)?, e))
    }

    fn dlog_f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_ones_like()?)
    }

    fn log_compatibility_is_linear(&self) -> bool {
        true
    }

    fn log_compatibility(&self, v: &Tensor, lambda: f64, _beta: f64) -> Result<Tensor> {
        Ok(v.f_div_scalar(lambda)?)
    }

    fn dlog_compatibility(&self, v: &Tensor, lambda: f64, _beta: f64) -> Result<Tensor> {
        Ok(v.f_ones_like()?.f_div_scalar(lambda)?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tensor_forms_match_scalar_forms() {
        super::super::tests::tensor_forms_match_scalar_forms(super::super::Divergence::KlCuturi);
    }
}
