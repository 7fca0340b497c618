//! Training aids for stiff duals: the regularizers whose conjugate f* ends at a finite t_max
//! (reverse KL, squared Hellinger, Jensen-Shannon, GAN).
//!
//! Near t_max, M = f*' and its slope f*'' blow up (reverse KL: f*'' = M^2, Jensen-Shannon and GAN:
//! M (1 + M), against KL's M). At lambda = 1 on 64 + 64 points the optimal plan puts density
//! ratios of 30-40 on its heaviest pairs, whose violations then sit 0.025-0.035 (in units of
//! lambda) below the cliff, about one Adam step of a 128-wide network at a learning rate of 1e-3.
//! Plain Adam kept overshooting: a pair past the extension point gives its row a marginal ratio
//! of 100 or more, a gradient 100 times the usual, and Adam's second moment then shrinks every
//! step for about 1/(1 - beta2) = 1000 iterations; 3000 iterations ended 0.7-1.1 off in l1.
//!
//! Three changes, applied only to these regularizers (KL, KL-Cuturi and chi-square train exactly
//! as before, bit for bit):
//!
//! - **Balancing the constant.** With all-pairs batches, J(phi + k/2, psi + k/2) as a function
//!   of the scalar k is concave with derivative 1 - mean_ij M(V_ij + k): the constant direction
//!   is one the networks otherwise walk slowly (Adam moves every weight by about the learning
//!   rate, and for Jensen-Shannon and GAN the optimal constant moves by lambda log 2 while lambda
//!   falls). Each step finds the k with mean M = 1 (Newton on a convex increasing function, from
//!   k = 0, a few evaluations over the batch's pairs) and adds k/2 to both networks' output
//!   biases: exact coordinate ascent along that direction, after which the marginal residuals
//!   1 - r_i sum to zero. (This replaced bounded residuals (1 - r_i) / max(1, r_i), whose
//!   positive bias fought the balancing.)
//! - **Shorter second-moment memory.** An overshooting pair gives its row a gradient 100 times
//!   the usual, and Adam's second moment then damps every later step for about 1 / (1 - beta2)
//!   steps; beta2 is capped at [`BETA2`] (memory of 20 steps) so the run recovers.
//! - **Continuation in lambda.** Training starts at `START_FACTOR` times lambda, where the
//!   heaviest pairs sit `START_FACTOR` times farther from the cliff, and lambda falls as
//!   lambda * START_FACTOR^((1 - p)^2), p = iteration / (FRACTION * iterations), reaching the
//!   target with zero slope so the networks can track the optimum, which moves smoothly with
//!   lambda.
//!
//! Measured (docs/results/stiff_duals.md): a Jacobi preconditioner (dividing each row by its
//! curvature sum_j M'_ij relative to KL's, capped or not), log-ratio residuals, weight
//! averaging, a restart of Adam at the end of the continuation and larger learning rates were
//! tried and did worse.

use tch::Tensor;

use crate::ot::Regularizer;
use crate::runtime::error::Result;

/// lambda at the start of training, as a multiple of the target.
pub(crate) const START_FACTOR: f64 = 4.0;
/// Fraction of the iterations over which lambda falls to the target.
pub(crate) const FRACTION: f64 = 0.8;
/// Adam's beta2 for these regularizers (at most; a smaller one set by the caller is kept).
pub(crate) const BETA2: f64 = 0.95;
/// Newton steps and the tolerance on mean M - 1 of the balancing shift (after the first steps
/// of training the networks carry the shift and two or three steps suffice).
const NEWTON_STEPS: usize = 30;
const NEWTON_TOLERANCE: f64 = 1e-9;

/// Whether `reg` gets the stiff-dual treatment: its conjugate's domain ends at a finite t_max.
pub fn applies(reg: &Regularizer) -> bool {
    reg.divergence.domain_max().is_some()
}

/// The regularizer to train with at iteration `it` of `iterations`.
pub fn regularizer_at(reg: &Regularizer, it: usize, iterations: usize) -> Regularizer {
    let p = it as f64 / (FRACTION * iterations as f64).max(1.0);
    if p >= 1.0 {
        return *reg;
    }
    Regularizer { lambda: reg.lambda * START_FACTOR.powf((1.0 - p) * (1.0 - p)), ..*reg }
}

/// The k with mean M(V + k) = 1 over the batch's pairs `violation` (any shape). g(k) =
/// mean M(V + k) - 1 is increasing and convex for these conjugates (their quadratic extension
/// past t_b keeps M convex), so Newton from the right of the root descends to it monotonically;
/// a step from the left may overshoot to the right, after which the same holds.
pub fn balancing_shift(reg: &Regularizer, violation: &Tensor) -> Result<f64> {
    let _no_grad = tch::no_grad_guard();
    let v = violation.detach().f_to_kind(tch::Kind::Double)?;
    let g = |k: f64| -> Result<f64> {
        Ok(reg.compatibility(&v.f_add_scalar(k)?)?.f_mean(tch::Kind::Double)?.f_double_value(&[])? - 1.0)
    };
    let h = 1e-6 * reg.lambda;
    let mut k = 0.0;
    for _ in 0..NEWTON_STEPS {
        let gk = g(k)?;
        if !gk.is_finite() {
            return Ok(0.0);
        }
        if gk.abs() < NEWTON_TOLERANCE {
            break;
        }
        let slope = (g(k + h)? - gk) / h;
        if !(slope.is_finite() && slope > 0.0) {
            break;
        }
        k -= gk / slope;
    }
    Ok(if k.is_finite() { k } else { 0.0 })
}

/// Adds `k` to the output bias of `net` (its last parameter), outside autograd.
pub fn add_to_output_bias(net: &crate::neural::mlp::Mlp, k: f64) -> Result<()> {
    let _no_grad = tch::no_grad_guard();
    if let Some(bias) = net.parameters().last() {
        let mut b = bias.detach();
        let _ = b.f_add_scalar_(k)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::Divergence;
    use tch::Kind;

    #[test]
    fn applies_exactly_to_the_restricted_domain_conjugates() {
        for d in crate::ot::regularizer::ALL_DIVERGENCES {
            let restricted = matches!(
                d,
                Divergence::ReverseKl | Divergence::SquaredHellinger | Divergence::JensenShannon | Divergence::Gan
            );
            assert_eq!(applies(&Regularizer::new(d, 1.0).unwrap()), restricted, "{d:?}");
        }
    }

    #[test]
    fn lambda_falls_from_the_start_factor_to_the_target_and_stays() {
        let reg = Regularizer::new(Divergence::Gan, 0.5).unwrap();
        let at = |it| regularizer_at(&reg, it, 1000).lambda;
        assert!((at(0) - 0.5 * START_FACTOR).abs() < 1e-12);
        let end = (FRACTION * 1000.0) as usize;
        assert!((1..end).all(|it| at(it) < at(it - 1) && at(it) > 0.5));
        assert!((end..1000).all(|it| at(it) == 0.5));
        // Zero slope at the target: the last falling step is far smaller than the first.
        assert!(at(end - 1) - 0.5 < 1e-3 * (at(0) - at(1)));
    }

    #[test]
    fn the_balancing_shift_makes_the_mean_compatibility_one_and_maximizes_j_along_constants() {
        for d in [Divergence::ReverseKl, Divergence::SquaredHellinger, Divergence::JensenShannon, Divergence::Gan] {
            let reg = Regularizer::new(d, 0.7).unwrap();
            // Violations spread over the domain, some past the extension point.
            let tmax = d.domain_max().unwrap() * 0.7;
            for offset in [-3.0, -0.5, 0.0, 0.05] {
                let v = Tensor::linspace(-4.0, tmax + offset, 200, (Kind::Double, tch::Device::Cpu)).view([20, 10]);
                let k = balancing_shift(&reg, &v).unwrap();
                let mean_m = reg.compatibility(&(&v + k)).unwrap().mean(Kind::Double).double_value(&[]);
                assert!((mean_m - 1.0).abs() < 1e-7, "{d:?} offset {offset}: mean M {mean_m} after k = {k}");
                // J(k) = k - mean H*(V + k) is largest there: nudging k either way lowers it.
                let j = |k: f64| k - reg.conjugate(&(&v + k)).unwrap().mean(Kind::Double).double_value(&[]);
                assert!(j(k) >= j(k + 1e-3) && j(k) >= j(k - 1e-3), "{d:?}: not a maximum at {k}");
            }
        }
    }
}
