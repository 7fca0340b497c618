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
//! Two changes, both applied only to these regularizers (KL, KL-Cuturi and chi-square train
//! exactly as before, bit for bit):
//!
//! - **Bounded marginal residuals.** With all-pairs batches, dJ/dphi(x_i) = (1 - r_i) / m, where
//!   r_i = mean_j M(V_ij) is row i's marginal ratio (1 at the optimum). Rows with r_i > 1 are
//!   scaled by 1 / r_i, so the residual is 1/r_i - 1, in (-1, 0]: the same sign and the same
//!   zeros (full batches reach the same optimum), the same gradient wherever r_i <= 1 and to
//!   first order near r_i = 1, but an overshooting pair no longer floods Adam's moments. This is
//!   a positive diagonal preconditioner on the potentials' values, so it is still an ascent
//!   direction of J. With minibatches of a continuous measure the nonlinearity biases r_i's
//!   fixed point by O(Var(r_i)), which shrinks as 1/m. Paired batches (one pair per row) are
//!   left alone: there the scaling would move the fixed point.
//! - **Continuation in lambda.** Training starts at `START_FACTOR` times lambda, where the
//!   heaviest pairs sit `START_FACTOR` times farther from the cliff, and lambda falls as
//!   lambda * START_FACTOR^((1 - p)^2), p = iteration / (FRACTION * iterations), reaching the
//!   target with zero slope so the networks can track the optimum, which moves smoothly with
//!   lambda.
//!
//! Measured (docs/results/stiff_duals.md): a Jacobi preconditioner (dividing each row by its
//! curvature sum_j M'_ij relative to KL's) and log-ratio residuals were tried and did worse.

use tch::Tensor;

use crate::ot::Regularizer;
use crate::runtime::error::Result;

/// lambda at the start of training, as a multiple of the target.
pub(crate) const START_FACTOR: f64 = 4.0;
/// Fraction of the iterations over which lambda falls to the target.
pub(crate) const FRACTION: f64 = 0.8;

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

/// (1 - r) / m scaled by 1 / max(1, r): `grad` is dJ/dphi(x_i) (or dJ/dpsi(y_j)) over a batch
/// of m all-pairs rows (columns), so r = 1 - m grad.
pub fn bound_residual(grad: &Tensor) -> Result<Tensor> {
    let m = grad.size()[0] as f64;
    let ratio = grad.f_mul_scalar(-m)?.f_add_scalar(1.0)?.f_clamp_min(1.0)?;
    Ok(grad.f_div(&ratio)?)
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
    fn residuals_keep_their_sign_and_zeros_and_are_bounded() {
        // m = 4 rows with marginal ratios 0, 0.5, 1, 3 and 1000: grad = (1 - r) / m.
        let r = [0.0f64, 0.5, 1.0, 3.0, 1000.0];
        let m = r.len() as f64;
        let grad = Tensor::from_slice(&r.map(|r| (1.0 - r) / m)).to_kind(Kind::Double);
        let got: Vec<f64> = Vec::try_from(bound_residual(&grad).unwrap()).unwrap();
        let want = r.map(|r| (1.0 - r) / m / r.max(1.0));
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        assert!(got.iter().all(|g| g.abs() <= 1.0 / m));
    }
}
