//! Reverse KL: f(u) = -log u, f*(t) = -1 - log(-t) on t < 0, M = -1 / t.

use super::{Conjugate, RATIO_CAP};
use crate::runtime::error::Result;
use tch::Tensor;

pub struct ReverseKl;

impl Conjugate for ReverseKl {
    fn name(&self) -> &'static str {
        "reverse_kl"
    }

    fn f(&self, u: f64) -> f64 {
        if u == 0.0 {
            f64::INFINITY
        } else {
            -u.ln()
        }
    }

    fn f_star_scalar(&self, t: f64) -> (f64, f64, f64) {
        (-1.0 - (-t).ln(), -1.0 / t, 1.0 / (t * t))
    }

    fn domain_max(&self) -> Option<f64> {
        Some(0.0)
    }

    /// -1 / t_b = cap.
    fn extension_point(&self) -> Option<f64> {
        Some(-1.0 / RATIO_CAP)
    }

    fn uses_exp(&self) -> bool {
        false
    }

    fn f_star(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_neg()?.f_log()?.f_neg()?.f_sub_scalar(1.0)?)
    }

    fn f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_reciprocal()?.f_neg()?)
    }

    fn dlog_f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_reciprocal()?.f_neg()?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tensor_forms_match_scalar_forms() {
        super::super::tests::tensor_forms_match_scalar_forms(super::super::Divergence::ReverseKl);
    }
}
