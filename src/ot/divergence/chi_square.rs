//! Pearson chi-square in the reference code's form ("l2"): f(u) = u^2 - 1 on u >= 0,
//! f*(t) = relu(t)^2 / 4 + 1, M = relu(t) / 2. Couplings are sparse (M = 0 wherever v <= 0), so
//! log M is -inf there; sampling uses the paper's smoothing log(softplus_beta(v) / (2 lambda))
//! (Tables 4, 6: beta 10 to 1000). f* is already quadratic: no continuation.

use super::Conjugate;
use crate::runtime::error::Result;
use tch::Tensor;

pub struct ChiSquare;

impl Conjugate for ChiSquare {
    fn name(&self) -> &'static str {
        "chi_square"
    }

    fn f(&self, u: f64) -> f64 {
        u * u - 1.0
    }

    fn f_star_scalar(&self, t: f64) -> (f64, f64, f64) {
        let r = t.max(0.0);
        (r * r / 4.0 + 1.0, r / 2.0, if t > 0.0 { 0.5 } else { 0.0 })
    }

    fn extension_point(&self) -> Option<f64> {
        None
    }

    fn uses_exp(&self) -> bool {
        false
    }

    fn f_star(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_relu()?.f_square()?.f_div_scalar(4.0)?.f_add_scalar(1.0)?)
    }

    fn f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_relu()?.f_div_scalar(2.0)?)
    }

    /// 1 / t where M > 0; 0 where M = 0 and log M has no derivative (sampling uses the smoothing
    /// instead, so this form only completes the row).
    fn dlog_f_star_prime(&self, t: &Tensor) -> Result<Tensor> {
        Ok(t.f_reciprocal()?.f_where_self(&t.f_gt(0.0)?, &t.f_zeros_like()?)?)
    }

    fn log_compatibility(&self, v: &Tensor, lambda: f64, beta: f64) -> Result<Tensor> {
        Ok(log_softplus(v, beta)?.f_sub_scalar((2.0 * lambda).ln())?)
    }

    fn dlog_compatibility(&self, v: &Tensor, _lambda: f64, beta: f64) -> Result<Tensor> {
        // sigmoid(bz) / softplus_b(z) = exp(log sigmoid(bz) - log softplus_b(z)), evaluated in
        // log space because both factors underflow for z << 0 (ratio -> b).
        let log_sig = v.f_mul_scalar(beta)?.f_log_sigmoid()?;
        Ok(log_sig.f_sub(&log_softplus(v, beta)?)?.f_exp()?)
    }
}

/// log softplus_b(z) = log(log(1 + e^{bz}) / b), stable for z << 0 where it is bz - log b.
fn log_softplus(z: &Tensor, b: f64) -> Result<Tensor> {
    let bz = z.f_mul_scalar(b)?;
    let sp = bz.f_softplus()?; // log(1 + e^{bz})
    let small = bz.f_lt(-15.0)?;
    // In the small branch log(1+e^u) = e^u (1 - e^u/2 + ...), so log = u + log1p(-e^u/2).
    let approx = bz.f_add(&bz.f_exp()?.f_mul_scalar(-0.5)?.f_log1p()?)?;
    let direct = sp.f_clamp_min(1e-30)?.f_log()?;
    Ok(approx.f_where_self(&small, &direct)?.f_sub_scalar(b.ln())?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tensor_forms_match_scalar_forms() {
        super::super::tests::tensor_forms_match_scalar_forms(super::super::Divergence::ChiSquare);
    }
}
