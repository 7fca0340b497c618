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
use tch::{Kind, Tensor};

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
    let noise_scale = (2.0 * a).sqrt();
    // In place on the one fresh tensor, in the order (y + a score) + sqrt(2 a) z.
    let mut next = score.f_mul_scalar(a)?;
    let _ = next.f_add_(y)?;
    Ok(next.f_add_(&z.f_mul_scalar(noise_scale)?)?)
}

/// Chain states with the conditional score and log pi(y | x) (up to a constant) there, which
/// the next MALA step reuses.
pub struct MalaState {
    pub y: Tensor,
    pub score: Tensor,
    pub log_density: Tensor,
}

/// One Metropolis-adjusted Langevin step from `cur` with step size `a`. `z` `[b, dy]` and `u` `[b]`
/// are standard normals (`u` becomes the uniform of the accept test); `target` returns the
/// conditional score and log-density at the proposal. Returns the new states and the number of
/// chains that accepted as a 0-dim float tensor on the chains' device: reading it costs a host
/// synchronisation, which the caller does only when it needs the number.
pub fn mala_step(
    cur: &MalaState,
    a: f64,
    z: &Tensor,
    u: &Tensor,
    target: impl FnOnce(&Tensor) -> Result<(Tensor, Tensor)>,
) -> Result<(MalaState, Tensor)> {
    let proposal = ula_step(&cur.y, &cur.score, a, z)?;
    let (score_prop, log_density_prop) = target(&proposal)?;
    // log q(y | y') - log q(y' | y); the forward residual y' - y - a g(y) is sqrt(2 a) z.
    // Both terms in one pass: sum_j (z_j^2 - r_j^2 / (2 a)) / 2 with r the backward residual.
    let mut r = cur.y.f_sub(&proposal)?;
    let _ = r.f_sub_(&score_prop.f_mul_scalar(a)?)?;
    let _ = r.f_square_()?.f_mul_scalar_(-0.5 / a)?.f_addcmul_(z, z)?;
    let log_q_ratio = r.f_sum_dim_intlist(1, false, None)?.f_mul_scalar_(0.5)?;
    let log_ratio = log_density_prop.f_sub(&cur.log_density)?.f_add_(&log_q_ratio)?;
    // log u = log Phi(u_normal) in one call (log_ndtr stays finite far into the lower tail).
    let log_u = u.f_special_log_ndtr()?;
    // A NaN ratio (a proposal outside the density's support) rejects.
    let accept = log_u.f_lt_tensor(&log_ratio.f_nan_to_num(Some(f64::NEG_INFINITY), None, None)?)?;
    let accepted = accept.f_sum(Kind::Float)?;
    let accept_col = accept.f_unsqueeze(1)?;
    let next = MalaState {
        y: proposal.f_where_self(&accept_col, &cur.y)?,
        score: score_prop.f_where_self(&accept_col, &cur.score)?,
        log_density: log_density_prop.f_where_self(&accept, &cur.log_density)?,
    };
    Ok((next, accepted))
}

/// The optimal MALA acceptance rate (Roberts & Rosenthal 1998).
pub const MALA_TARGET_ACCEPTANCE: f64 = 0.574;

/// Robbins-Monro on log a with a decaying gain (1 + step)^-0.6, towards the target acceptance.
pub fn adapted_step_size(a: f64, step: usize, acceptance: f64) -> f64 {
    let gain = 1.0 / (1.0 + step as f64).powf(0.6);
    a * (gain * (acceptance - MALA_TARGET_ACCEPTANCE)).exp()
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
        let (next, accepted) = mala_step(&cur, a, &z, &u, |p| {
            let lp = p.square().sum_dim_intlist(1, false, None) * -0.5;
            // second chain: a NaN log-density must reject
            let lp = lp.where_self(&Tensor::from_slice(&[true, false]), &Tensor::from_slice(&[f32::NAN, f32::NAN]));
            Ok((p.neg(), lp))
        })
        .unwrap();
        assert_eq!(accepted.double_value(&[]), 1.0);
        assert_eq!(next.y, t(&[-1.0, 1.0], 2));
    }

    #[test]
    fn step_size_adaptation_moves_towards_the_target_rate() {
        assert!(adapted_step_size(1.0, 0, 0.9) > 1.0);
        assert!(adapted_step_size(1.0, 0, 0.1) < 1.0);
        assert_eq!(adapted_step_size(1.0, 5, MALA_TARGET_ACCEPTANCE), 1.0);
    }
}
