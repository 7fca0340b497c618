//! Squared Hellinger: f(u) = (sqrt u - 1)^2, f*(t) = t / (1 - t) on t < 1, M = (1 - t)^-2.

use super::{Conjugate, RATIO_CAP};
use crate::runtime::error::Result;
use tch::Tensor;

pub struct SquaredHellinger;

impl Conjugate for SquaredHellinger {
    fn name(&self) -> &'static str {
        "squared_hellinger"
    }

    fn f(&self, u: f64) -> f64 {
        (u.sqrt() - 1.0).powi(2)
    }

    fn f_star_scalar(&self, t: f64) -> (f64, f64, f64) {
        let s = 1.0 - t;
        (t / s, 1.0 / (s * s), 2.0 / (s * s * s))
    }

    fn domain_max(&self) -> Option<f64> {
        Some(1.0)
    }

    /// (1 - t_b)^-2 = cap.
    fn extension_point(&self) -> Option<f64> {
        Some(1.0 - 1.0 / RATIO_CAP.sqrt())
    }

    fn uses_exp(&self) -> bool {
        false
    }

    fn f_star(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_div(&t.f_neg()?.f_add_scalar(1.0)?)?)
    }

    fn f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_neg()?.f_add_scalar(1.0)?.f_square()?.f_reciprocal()?)
    }

    fn dlog_f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_neg()?.f_add_scalar(1.0)?.f_reciprocal()?.f_mul_scalar(2.0)?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tensor_forms_match_scalar_forms() {
        super::super::tests::tensor_forms_match_scalar_forms(super::super::Divergence::SquaredHellinger);
    }
}
