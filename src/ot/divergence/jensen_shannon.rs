//! Jensen-Shannon: f(u) = u log u - (u + 1) log((u + 1) / 2), f*(t) = -log(2 - e^t) on
//! t < log 2, M = e^t / (2 - e^t).

use super::{xlogx, Conjugate, RATIO_CAP};
use crate::runtime::error::Result;
use tch::Tensor;

pub struct JensenShannon;

impl Conjugate for JensenShannon {
    fn name(&self) -> &'static str {
        "jensen_shannon"
    }

    fn f(&self, u: f64) -> f64 {
        xlogx(u) - (u + 1.0) * ((u + 1.0) / 2.0).ln()
    }

    fn f_star_scalar(&self, t: f64) -> (f64, f64, f64) {
        let e = t.exp();
        let s = 2.0 - e;
        (-s.ln(), e / s, 2.0 * e / (s * s))
    }

    fn domain_max(&self) -> Option<f64> {
        Some(std::f64::consts::LN_2)
    }

    /// e^t_b / (2 - e^t_b) = cap.
    fn extension_point(&self) -> Option<f64> {
        let r = RATIO_CAP;
        Some((2.0 * r / (1.0 + r)).ln())
    }

    fn uses_exp(&self) -> bool {
        true
    }

    fn f_star(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_exp()?.f_neg()?.f_add_scalar(2.0)?.f_log()?.f_neg()?)
    }

    fn f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        let e = t.f_exp()?;
        Ok(e.f_div(&e.f_neg()?.f_add_scalar(2.0)?)?)
    }

    fn dlog_f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_exp()?.f_neg()?.f_add_scalar(2.0)?.f_reciprocal()?.f_mul_scalar(2.0)?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tensor_forms_match_scalar_forms() {
        super::super::tests::tensor_forms_match_scalar_forms(super::super::Divergence::JensenShannon);
    }
}
