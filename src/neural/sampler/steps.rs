//! The pure steps of Algorithm 2, tensors in and tensors out; the random numbers are drawn by
//! the caller (in the order of the seeded stream) and passed in.
//!
//! With a_i the step size of noise level i (see [`super::schedule`]) and
//! g(y) = s(y) + grad_y log M(V(x, y)) the conditional score:
//!
//! - unadjusted (ULA, Algorithm 2's update): y <- y + a g(y) + sqrt(2 a) z;
//! - Metropolis-adjusted (MALA): the same move as a proposal y', accepted with probability
//!   min(1, pi(y') q(y | y') / (pi(y) q(y' | y))), q(b | a) = N(b; a + a_step g(a), 2 a_step I),
//!   so that the chain targets pi(y | x) exactly instead of with O(eps) bias;
//! - denoising (Tweedie): y <- y + sigma_N^2 g(y), once after the last level.

use crate::runtime::error::Result;
use tch::Tensor;

/// (log M)'(V), the factor of the compatibility gradient.
pub enum LogMSlope {
    /// KL family: log M is linear in V with slope 1 / lambda (no need for phi(x)).
    Linear { lambda: f64 },
    /// Other divergences: (log M)'(V) per chain, `[b]`.
    PerChain(Tensor),
}

/// grad_y log M(V(x, y)) = (log M)'(V) (grad psi(y) - grad_y c(x, y)), all [b, dy]; computed
/// in place in `grad_psi`, which the caller gives up.
pub fn compatibility_gradient(mut grad_psi: Tensor, grad_c: &Tensor, slope: &LogMSlope) -> Result<Tensor> {
    let _ = grad_psi.f_sub_(grad_c)?;
    Ok(match slope {
        LogMSlope::Linear { lambda } => grad_psi.f_div_scalar_(*lambda)?,
        LogMSlope::PerChain(d) => grad_psi.f_mul_(&d.f_unsqueeze(1)?)?,
    })
}

/// One unadjusted Langevin step: y + a score + sqrt(2 a) z, z ~ N(0, I).
pub fn ula_step(y: &Tensor, score: &Tensor, a: f64, z: &Tensor) -> Result<Tensor> {
    langevin_move(y, score, &StepSize::Shared(a), z)
}

/// A Metropolis-adjusted level's step size: one for all chains, or one per chain while it
/// adapts. Per chain because a chain's moves may depend on its own history only: a step size
/// adapted to a batch's mean acceptance would make every chain's samples depend on which
/// chains share its batch (and so on the chain batch size and on how sources are split).
pub enum StepSize {
    Shared(f64),
    /// `[b, 1]`, float32, on the chains' device.
    PerChain(Tensor),
}

impl StepSize {
    /// t a, as a fresh tensor.
    fn times(&self, t: &Tensor) -> Result<Tensor> {
        Ok(match self {
            StepSize::Shared(a) => t.f_mul_scalar(*a)?,
            StepSize::PerChain(a) => t.f_mul(a)?,
        })
    }

    /// z sqrt(2 a), as a fresh tensor.
    fn noise(&self, z: &Tensor) -> Result<Tensor> {
        Ok(match self {
            StepSize::Shared(a) => z.f_mul_scalar((2.0 * a).sqrt())?,
            StepSize::PerChain(a) => z.f_mul(&a.f_mul_scalar(2.0)?.f_sqrt_()?)?,
        })
    }

    /// t c / a in place.
    fn scale_over_(&self, mut t: Tensor, c: f64) -> Result<Tensor> {
        Ok(match self {
            StepSize::Shared(a) => t.f_mul_scalar_(c / a)?,
            StepSize::PerChain(a) => t.f_mul_(&a.f_reciprocal()?.f_mul_scalar_(c)?)?,
        })
    }
}

/// y + a score + sqrt(2 a) z, in place on the one fresh tensor, in the order
/// (y + a score) + sqrt(2 a) z.
fn langevin_move(y: &Tensor, score: &Tensor, a: &StepSize, z: &Tensor) -> Result<Tensor> {
    let mut next = a.times(score)?;
    let _ = next.f_add_(y)?;
    Ok(next.f_add_(&a.noise(z)?)?)
}

/// Chain states with the conditional score and log pi(y | x) (up to a constant) there, which
/// the next MALA step reuses.
pub struct MalaState {
    pub y: Tensor,
    pub score: Tensor,
    pub log_density: Tensor,
}

/// What one MALA step returns besides the new states.
pub struct MalaOutcome {
    /// Which chains accepted, `[b]` bool.
    pub accept: Tensor,
    /// Each chain's acceptance probability min(1, ratio), `[b]` (0 for a NaN ratio): what a
    /// per-chain step size adapts to (less noisy than the 0/1 outcome).
    pub probability: Tensor,
}

/// One Metropolis-adjusted Langevin step from `cur` with step size `a`. `z` `[b, dy]` and `u` `[b]`
/// are standard normals (`u` becomes the uniform of the accept test); `target` returns the
/// conditional score and log-density at the proposal.
pub fn mala_step(
    cur: &MalaState,
    a: &StepSize,
    z: &Tensor,
    u: &Tensor,
    target: impl FnOnce(&Tensor) -> Result<(Tensor, Tensor)>,
) -> Result<(MalaState, MalaOutcome)> {
    let proposal = langevin_move(&cur.y, &cur.score, a, z)?;
    let (score_prop, log_density_prop) = target(&proposal)?;
    // log q(y | y') - log q(y' | y); the forward residual y' - y - a g(y) is sqrt(2 a) z.
    // Both terms in one pass: sum_j (z_j^2 - r_j^2 / (2 a)) / 2 with r the backward residual.
    let mut r = cur.y.f_sub(&proposal)?;
    let _ = r.f_sub_(&a.times(&score_prop)?)?;
    let _ = a.scale_over_(r.f_square_()?, -0.5)?.f_addcmul_(z, z)?;
    let log_q_ratio = r.f_sum_dim_intlist(1, false, None)?.f_mul_scalar_(0.5)?;
    let log_ratio = log_density_prop.f_sub(&cur.log_density)?.f_add_(&log_q_ratio)?;
    // log u = log Phi(u_normal) in one call (log_ndtr stays finite far into the lower tail).
    let log_u = u.f_special_log_ndtr()?;
    // A NaN ratio (a proposal outside the density's support) rejects.
    let log_ratio = log_ratio.f_nan_to_num(Some(f64::NEG_INFINITY), None, None)?;
    let accept = log_u.f_lt_tensor(&log_ratio)?;
    let probability = log_ratio.f_clamp_max(0.0)?.f_exp_()?;
    let accept_col = accept.f_unsqueeze(1)?;
    let next = MalaState {
        y: proposal.f_where_self(&accept_col, &cur.y)?,
        score: score_prop.f_where_self(&accept_col, &cur.score)?,
        log_density: log_density_prop.f_where_self(&accept, &cur.log_density)?,
    };
    Ok((next, MalaOutcome { accept, probability }))
}

/// The optimal MALA acceptance rate (Roberts & Rosenthal 1998).
pub(crate) const MALA_TARGET_ACCEPTANCE: f64 = 0.574;

/// Robbins-Monro on log a with a decaying gain (1 + step)^-0.6, towards the target acceptance.
pub fn adapted_step_size(a: f64, step: usize, acceptance: f64) -> f64 {
    a * (adaptation_gain(step) * (acceptance - MALA_TARGET_ACCEPTANCE)).exp()
}

fn adaptation_gain(step: usize) -> f64 {
    1.0 / (1.0 + step as f64).powf(0.6)
}

/// [`adapted_step_size`] for every chain at once, on the device (no host synchronisation):
/// `a` `[b, 1]` each chain's step size, `probability` `[b]` its acceptance probability.
pub fn adapted_step_sizes(a: &Tensor, step: usize, probability: &Tensor) -> Result<Tensor> {
    let factor = probability.f_sub_scalar(MALA_TARGET_ACCEPTANCE)?.f_mul_scalar_(adaptation_gain(step))?.f_exp_()?;
    Ok(a.f_mul(&factor.f_unsqueeze(1)?)?)
}

/// Tweedie's denoising step at noise level sigma: y + sigma^2 score.
pub fn tweedie_denoise(y: &Tensor, score: &Tensor, sigma: f64) -> Result<Tensor> {
    Ok(y.f_add(&score.f_mul_scalar(sigma * sigma)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32], rows: i64) -> Tensor {
        Tensor::from_slice(v).view([rows, -1])
    }

    #[test]
    fn linear_slope_equals_the_per_chain_slope_one_over_lambda() {
        let (gp, gc) = (t(&[1.0, 2.0, -3.0, 0.5], 2), t(&[0.5, -1.0, 1.0, 1.5], 2));
        let lin = compatibility_gradient(gp.copy(), &gc, &LogMSlope::Linear { lambda: 4.0 }).unwrap();
        let per = compatibility_gradient(gp.copy(), &gc, &LogMSlope::PerChain(t(&[0.25, 0.25], 2).view([2]))).unwrap();
        assert_eq!(lin, per);
        assert_eq!(lin, t(&[0.125, 0.75, -1.0, -0.25], 2));
    }

    #[test]
    fn mala_accepts_a_move_that_matches_the_target_and_rejects_nan() {
        // Target N(0, I) in 1-D: score -y, log-density -y^2/2; symmetric moves from y to -y
        // with z chosen so that y' = -y keep the density and the proposal ratio equal: accept.
        let a = 0.5;
        let y = t(&[1.0, 1.0], 2);
        let cur = MalaState { y: y.shallow_clone(), score: y.neg(), log_density: t(&[-0.5, -0.5], 2).view([2]) };
        // y' = y + a (-y) + sqrt(2a) z = 0.5 + z: z = -1.5 gives y' = -1.
        let z = t(&[-1.5, -1.5], 2);
        let u = t(&[3.0, 3.0], 2).view([2]); // uniform ~ 0.9987 < ratio 1
        let (next, outcome) = mala_step(&cur, &StepSize::Shared(a), &z, &u, |p| {
            let lp = p.square().sum_dim_intlist(1, false, None) * -0.5;
            // second chain: a NaN log-density must reject
            let lp = lp.where_self(&Tensor::from_slice(&[true, false]), &Tensor::from_slice(&[f32::NAN, f32::NAN]));
            Ok((p.neg(), lp))
        })
        .unwrap();
        assert_eq!(outcome.accept, Tensor::from_slice(&[true, false]));
        assert_eq!(next.y, t(&[-1.0, 1.0], 2));
        // Equal densities and proposal ratios: probability 1; a NaN ratio: 0.
        assert_eq!(outcome.probability, t(&[1.0, 0.0], 2).view([2]));
        // Per-chain step sizes equal to the shared one move the chains identically.
        let per_chain = StepSize::PerChain(Tensor::from_slice(&[a as f32, a as f32]).view([2, 1]));
        let (next2, _) =
            mala_step(&cur, &per_chain, &z, &u, |p| Ok((p.neg(), p.square().sum_dim_intlist(1, false, None) * -0.5)))
                .unwrap();
        assert_eq!(next2.y, t(&[-1.0, -1.0], 2));
    }

    #[test]
    fn step_size_adaptation_moves_towards_the_target_rate() {
        assert!(adapted_step_size(1.0, 0, 0.9) > 1.0);
        assert!(adapted_step_size(1.0, 0, 0.1) < 1.0);
        assert_eq!(adapted_step_size(1.0, 5, MALA_TARGET_ACCEPTANCE), 1.0);
        // Per chain on the device, the same rule.
        let sizes =
            adapted_step_sizes(&Tensor::from_slice(&[1.0f32, 2.0]).view([2, 1]), 3, &t(&[0.9, 0.1], 2).view([2]))
                .unwrap();
        let want = [adapted_step_size(1.0, 3, 0.9), adapted_step_size(2.0, 3, 0.1)];
        for (got, want) in Vec::<f32>::try_from(sizes.view([2])).unwrap().iter().zip(want) {
            assert!((f64::from(*got) - want).abs() < 1e-6 * want, "{got} vs {want}");
        }
    }
}
