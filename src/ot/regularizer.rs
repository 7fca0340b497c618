//! f-divergence regularizers (Prop. 2.4, Table 3 after Nowozin et al. f-GAN).
//!
//! With t = v / lambda each regularizer supplies H*(v) = lambda f*(t) (the dual penalty), the
//! compatibility M(v) = f*'(t) (the density of the coupling with respect to sigma x tau) and
//! d/dv log M(v) (the compatibility term of the Langevin score).
//!
//! ## Restricted domains
//! Reverse KL, squared Hellinger, Jensen-Shannon and GAN have conjugates that are finite only for
//! t < t_max (0, 1, log 2, 0) and blow up at the boundary. A violation produced by a network can
//! land anywhere, so each conjugate is continued past an extension point t_b < t_max by its
//! second-order Taylor polynomial at t_b:
//!
//!   f*_ext(t) = f*(t_b) + f*'(t_b) (t - t_b) + f*''(t_b) (t - t_b)^2 / 2,   t > t_b.
//!
//! The continuation is convex, C^1 at t_b, finite everywhere, and M_ext = f*_ext' stays positive
//! and increasing, so the dual stays concave and smooth and nothing becomes NaN. t_b is where the
//! density ratio M reaches [`RATIO_CAP`]: couplings never need larger ratios than that in
//! practice, and training reports the fraction of pair terms beyond t_b (the extension is "active")
//! so that a user sees when it matters. KL-type conjugates are continued the same way far out
//! (M = 1e20), only to keep float32 finite early in training.

use crate::runtime::error::{Error, Result};
use tch::{Kind, Tensor};

/// Density ratio M at which restricted-domain conjugates switch to their quadratic extension.
pub const RATIO_CAP: f64 = 1e4;
/// Same for the KL family, whose domain is all of R: only float32 overflow matters there.
const KL_RATIO_CAP: f64 = 1e20;
/// Exponential-based conjugates see t clamped from below here, where f*' < 1e-34: exp results
/// that are float32 subnormals make libtorch's exp about 50 times slower (measured 35 ms vs 0.7
/// ms on a 1000 x 1000 batch of pair terms), and the change in f* is below 1e-34.
pub const T_FLOOR: f64 = -80.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Divergence {
    /// f(u) = u log u, f*(t) = exp(t - 1): the entropic (Sinkhorn) coupling, Prop. 2.3.
    Kl,
    /// f(u) = u log u - u + 1, f*(t) = exp(t) - 1: the form common in the Sinkhorn literature
    /// (Cuturi); same coupling as `Kl`, potentials shifted by lambda.
    KlCuturi,
    /// f(u) = u^2 - 1 on u >= 0, f*(t) = relu(t)^2 / 4 + 1 (the reference code's "l2"): sparse
    /// couplings with M = relu(v) / (2 lambda).
    ChiSquare,
    /// f(u) = -log u, f*(t) = -1 - log(-t), t < 0.
    ReverseKl,
    /// f(u) = (sqrt u - 1)^2, f*(t) = t / (1 - t), t < 1.
    SquaredHellinger,
    /// f(u) = u log u - (u + 1) log((u + 1) / 2), f*(t) = -log(2 - e^t), t < log 2.
    JensenShannon,
    /// f(u) = u log u - (u + 1) log(u + 1), f*(t) = -log(1 - e^t), t < 0.
    Gan,
}

pub const ALL_DIVERGENCES: [Divergence; 7] = [
    Divergence::Kl,
    Divergence::KlCuturi,
    Divergence::ChiSquare,
    Divergence::ReverseKl,
    Divergence::SquaredHellinger,
    Divergence::JensenShannon,
    Divergence::Gan,
];

impl Divergence {
    pub fn name(self) -> &'static str {
        match self {
            Divergence::Kl => "kl",
            Divergence::KlCuturi => "kl_cuturi",
            Divergence::ChiSquare => "chi_square",
            Divergence::ReverseKl => "reverse_kl",
            Divergence::SquaredHellinger => "squared_hellinger",
            Divergence::JensenShannon => "jensen_shannon",
            Divergence::Gan => "gan",
        }
    }

    pub fn from_name(s: &str) -> Result<Divergence> {
        ALL_DIVERGENCES
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| Error::format(format!("unknown regularizer '{s}'")))
    }

    /// Whether f* is built from exp (and so gets the T_FLOOR clamp).
    fn uses_exp(self) -> bool {
        matches!(self, Divergence::Kl | Divergence::KlCuturi | Divergence::JensenShannon | Divergence::Gan)
    }

    /// Upper end of dom f*, if any.
    pub fn domain_max(self) -> Option<f64> {
        match self {
            Divergence::Kl | Divergence::KlCuturi | Divergence::ChiSquare => None,
            Divergence::ReverseKl | Divergence::Gan => Some(0.0),
            Divergence::SquaredHellinger => Some(1.0),
            Divergence::JensenShannon => Some(std::f64::consts::LN_2),
        }
    }

    /// The extension point t_b, where M(t_b) equals the ratio cap (none for chi-square, whose
    /// conjugate is already quadratic).
    pub fn extension_point(self) -> Option<f64> {
        let r = RATIO_CAP;
        match self {
            Divergence::Kl => Some(1.0 + KL_RATIO_CAP.ln()),
            Divergence::KlCuturi => Some(KL_RATIO_CAP.ln()),
            Divergence::ChiSquare => None,
            Divergence::ReverseKl => Some(-1.0 / r),
            Divergence::SquaredHellinger => Some(1.0 - 1.0 / r.sqrt()),
            Divergence::JensenShannon => Some((2.0 * r / (1.0 + r)).ln()),
            Divergence::Gan => Some((r / (1.0 + r)).ln()),
        }
    }

    /// f(u), +inf outside its domain. Used by the primal objective and the Fenchel checks.
    pub fn f(self, u: f64) -> f64 {
        let xlogx = |u: f64| if u == 0.0 { 0.0 } else { u * u.ln() };
        if u < 0.0 {
            return f64::INFINITY;
        }
        match self {
            Divergence::Kl => xlogx(u),
            Divergence::KlCuturi => xlogx(u) - u + 1.0,
            Divergence::ChiSquare => u * u - 1.0,
            Divergence::ReverseKl => {
                if u == 0.0 {
                    f64::INFINITY
                } else {
                    -u.ln()
                }
            }
            Divergence::SquaredHellinger => (u.sqrt() - 1.0).powi(2),
            Divergence::JensenShannon => xlogx(u) - (u + 1.0) * ((u + 1.0) / 2.0).ln(),
            Divergence::Gan => xlogx(u) - xlogx(u + 1.0),
        }
    }

    /// f*(t), f*'(t), f*''(t) inside the domain (no extension), in f64.
    fn raw(self, t: f64) -> (f64, f64, f64) {
        match self {
            Divergence::Kl => {
                let e = (t - 1.0).exp();
                (e, e, e)
            }
            Divergence::KlCuturi => {
                let e = t.exp();
                (e - 1.0, e, e)
            }
            Divergence::ChiSquare => {
                let r = t.max(0.0);
                (r * r / 4.0 + 1.0, r / 2.0, if t > 0.0 { 0.5 } else { 0.0 })
            }
            Divergence::ReverseKl => (-1.0 - (-t).ln(), -1.0 / t, 1.0 / (t * t)),
            Divergence::SquaredHellinger => {
                let s = 1.0 - t;
                (t / s, 1.0 / (s * s), 2.0 / (s * s * s))
            }
            Divergence::JensenShannon => {
                let e = t.exp();
                let s = 2.0 - e;
                (-s.ln(), e / s, 2.0 * e / (s * s))
            }
            Divergence::Gan => {
                let e = t.exp();
                let s = -t.exp_m1();
                (-s.ln(), e / s, e / (s * s))
            }
        }
    }

    /// f*(t), f*'(t), f*''(t) with the extension past t_b: defined and finite for every t.
    pub fn conjugate_scalar(self, t: f64) -> (f64, f64, f64) {
        let t = if self.uses_exp() { t.max(T_FLOOR) } else { t };
        match self.extension_point() {
            Some(tb) if t > tb => {
                let (f0, f1, f2) = self.raw(tb);
                let e = t - tb;
                (f0 + f1 * e + 0.5 * f2 * e * e, f1 + f2 * e, f2)
            }
            _ => self.raw(t),
        }
    }
}

/// A regularizer H = lambda D_f(pi || sigma x tau).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regularizer {
    pub divergence: Divergence,
    pub lambda: f64,
    /// beta of the chi-square softplus smoothing of log M used for sampling (paper Tables 4, 6:
    /// 10 to 1000). Ignored by the other divergences.
    pub softplus_beta: f64,
}

impl Regularizer {
    pub fn new(divergence: Divergence, lambda: f64) -> Result<Regularizer> {
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::invalid(format!("lambda must be a finite number > 0, got {lambda}")));
        }
        Ok(Regularizer { divergence, lambda, softplus_beta: 1000.0 })
    }

    pub fn with_softplus_beta(mut self, beta: f64) -> Result<Regularizer> {
        if !(beta.is_finite() && beta > 0.0) {
            return Err(Error::invalid(format!("softplus beta must be a finite number > 0, got {beta}")));
        }
        self.softplus_beta = beta;
        Ok(self)
    }

    /// Whether grad_y log M depends on V itself (then phi(x) is needed to sample), or only on
    /// grad_y V (KL family: log M is linear in V).
    pub fn log_compatibility_is_linear(&self) -> bool {
        matches!(self.divergence, Divergence::Kl | Divergence::KlCuturi)
    }

    /// t = v / lambda clamped into [T_FLOOR, t_b], and the excess beyond t_b (None when no
    /// element exceeds t_b, the common case, which then skips the extension arithmetic).
    fn split(&self, v: &Tensor) -> Result<(Tensor, Option<(Tensor, f64)>)> {
        let t = v.f_div_scalar(self.lambda)?;
        let floor = if self.divergence.uses_exp() { Some(T_FLOOR) } else { None };
        match self.divergence.extension_point() {
            Some(tb) if t.f_max()?.f_double_value(&[])? > tb => {
                let tc = t.f_clamp(floor.unwrap_or(f64::NEG_INFINITY), tb)?;
                let excess = t.f_sub_scalar(tb)?.f_relu()?;
                Ok((tc, Some((excess, tb))))
            }
            _ => Ok((if let Some(lo) = floor { t.f_clamp_min(lo)? } else { t }, None)),
        }
    }

    /// f* on tensors whose values lie in the domain (the clamped part of t).
    fn raw_conjugate(&self, t: &Tensor) -> Result<Tensor> {
        Ok(match self.divergence {
            Divergence::Kl => t.f_sub_scalar(1.0)?.f_exp()?,
            Divergence::KlCuturi => t.f_exp()?.f_sub_scalar(1.0)?,
            Divergence::ChiSquare => t.f_relu()?.f_square()?.f_div_scalar(4.0)?.f_add_scalar(1.0)?,
            Divergence::ReverseKl => t.f_neg()?.f_log()?.f_neg()?.f_sub_scalar(1.0)?,
            Divergence::SquaredHellinger => t.f_div(&t.f_neg()?.f_add_scalar(1.0)?)?,
            Divergence::JensenShannon => t.f_exp()?.f_neg()?.f_add_scalar(2.0)?.f_log()?.f_neg()?,
            Divergence::Gan => t.f_expm1()?.f_neg()?.f_log()?.f_neg()?,
        })
    }

    /// f*' on in-domain tensors.
    fn raw_compatibility(&self, t: &Tensor) -> Result<Tensor> {
        Ok(match self.divergence {
            Divergence::Kl => t.f_sub_scalar(1.0)?.f_exp()?,
            Divergence::KlCuturi => t.f_exp()?,
            Divergence::ChiSquare => t.f_relu()?.f_div_scalar(2.0)?,
            Divergence::ReverseKl => t.f_reciprocal()?.f_neg()?,
            Divergence::SquaredHellinger => t.f_neg()?.f_add_scalar(1.0)?.f_square()?.f_reciprocal()?,
            Divergence::JensenShannon => {
                let e = t.f_exp()?;
                e.f_div(&e.f_neg()?.f_add_scalar(2.0)?)?
            }
            Divergence::Gan => t.f_neg()?.f_expm1()?.f_reciprocal()?,
        })
    }

    /// d/dt log f*'(t) on in-domain tensors (not used for chi-square, see log_compatibility).
    fn raw_dlog_compatibility(&self, t: &Tensor) -> Result<Tensor> {
        Ok(match self.divergence {
            Divergence::Kl | Divergence::KlCuturi => t.f_ones_like()?,
            Divergence::ChiSquare => unreachable!("chi-square uses its softplus smoothing"),
            Divergence::ReverseKl => t.f_reciprocal()?.f_neg()?,
            Divergence::SquaredHellinger => t.f_neg()?.f_add_scalar(1.0)?.f_reciprocal()?.f_mul_scalar(2.0)?,
            Divergence::JensenShannon => t.f_exp()?.f_neg()?.f_add_scalar(2.0)?.f_reciprocal()?.f_mul_scalar(2.0)?,
            Divergence::Gan => t.f_expm1()?.f_neg()?.f_reciprocal()?,
        })
    }

    /// H*(v) = lambda f*(v / lambda), extended past t_b.
    pub fn conjugate(&self, v: &Tensor) -> Result<Tensor> {
        Ok(self.conjugate_and_compatibility(v)?.0)
    }

    /// H*(v) and M(v) together, sharing the work (for KL they are the same exponential).
    pub fn conjugate_and_compatibility(&self, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let (tc, ext) = self.split(v)?;
        let (mut f, mut m) = match self.divergence {
            Divergence::Kl => {
                let e = tc.f_sub_scalar(1.0)?.f_exp()?;
                (e.shallow_clone(), e)
            }
            Divergence::KlCuturi => {
                let e = tc.f_exp()?;
                (e.f_sub_scalar(1.0)?, e)
            }
            _ => (self.raw_conjugate(&tc)?, self.raw_compatibility(&tc)?),
        };
        if let Some((excess, tb)) = ext {
            let (_, m_b, k_b) = self.divergence.raw(tb);
            f = f.f_add(&excess.f_mul_scalar(m_b)?)?.f_add(&excess.f_square()?.f_mul_scalar(0.5 * k_b)?)?;
            m = m.f_add(&excess.f_mul_scalar(k_b)?)?;
        }
        Ok((f.f_mul_scalar(self.lambda)?, m))
    }

    /// M(v) = f*'(v / lambda), extended past t_b.
    pub fn compatibility(&self, v: &Tensor) -> Result<Tensor> {
        let (tc, ext) = self.split(v)?;
        let mut m = self.raw_compatibility(&tc)?;
        if let Some((excess, tb)) = ext {
            let (_, _, k_b) = self.divergence.raw(tb);
            m = m.f_add(&excess.f_mul_scalar(k_b)?)?;
        }
        Ok(m)
    }

    /// Where t = v / lambda lies beyond the extension point.
    pub fn extension_active(&self, v: &Tensor) -> Result<Tensor> {
        match self.divergence.extension_point() {
            Some(tb) => Ok(v.f_gt(tb * self.lambda)?),
            None => Ok(v.f_zeros_like()?.f_to_kind(Kind::Bool)?),
        }
    }

    /// Fraction of elements of v beyond the extension point (0 without computing a mask when
    /// the maximum is inside).
    pub fn extension_fraction(&self, v: &Tensor) -> Result<f64> {
        match self.divergence.extension_point() {
            Some(tb) if v.f_max()?.f_double_value(&[])? > tb * self.lambda => {
                Ok(v.f_gt(tb * self.lambda)?.f_to_kind(Kind::Float)?.f_mean(None)?.f_double_value(&[])?)
            }
            _ => Ok(0.0),
        }
    }

    /// log M(v) as used for sampling. KL family: exact (linear in v). Chi-square: the paper's
    /// smoothing log(softplus_beta(v) / (2 lambda)), since log relu(v) is -inf wherever v <= 0.
    /// Others: log of the (extended) compatibility.
    pub fn log_compatibility(&self, v: &Tensor) -> Result<Tensor> {
        let t = v.f_div_scalar(self.lambda)?;
        match self.divergence {
            Divergence::Kl => Ok(t.f_sub_scalar(1.0)?),
            Divergence::KlCuturi => Ok(t),
            Divergence::ChiSquare => Ok(log_softplus(v, self.softplus_beta)?.f_sub_scalar((2.0 * self.lambda).ln())?),
            _ => Ok(self.compatibility(v)?.f_log()?),
        }
    }

    /// d/dv log M(v), consistent with [`Self::log_compatibility`].
    pub fn dlog_compatibility(&self, v: &Tensor) -> Result<Tensor> {
        match self.divergence {
            Divergence::Kl | Divergence::KlCuturi => Ok(v.f_ones_like()?.f_div_scalar(self.lambda)?),
            Divergence::ChiSquare => {
                // sigmoid(bz) / softplus_b(z) = exp(log sigmoid(bz) - log softplus_b(z)),
                // evaluated in log space because both factors underflow for z << 0 (ratio -> b).
                let b = self.softplus_beta;
                let log_sig = v.f_mul_scalar(b)?.f_log_sigmoid()?;
                Ok(log_sig.f_sub(&log_softplus(v, b)?)?.f_exp()?)
            }
            _ => {
                let (tc, ext) = self.split(v)?;
                let inside = self.raw_dlog_compatibility(&tc)?;
                let d = match ext {
                    None => inside,
                    Some((excess, tb)) => {
                        let (_, m_b, k_b) = self.divergence.raw(tb);
                        // beyond t_b: M_ext' / M_ext = k_b / (m_b + k_b e)
                        let outside = excess.f_mul_scalar(k_b)?.f_add_scalar(m_b)?.f_reciprocal()?.f_mul_scalar(k_b)?;
                        outside.f_where_self(&excess.f_gt(0.0)?, &inside)?
                    }
                };
                Ok(d.f_div_scalar(self.lambda)?)
            }
        }
    }

    /// Scalar H*(v), M(v), d/dv log M(v) in f64 (references, discrete solvers, tests).
    pub fn scalar(&self, v: f64) -> (f64, f64) {
        let (f, m, _) = self.divergence.conjugate_scalar(v / self.lambda);
        (self.lambda * f, m)
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
    use super::*;
    use tch::{Device, Kind};

    fn t64(v: &[f64]) -> Tensor {
        Tensor::from_slice(v).to_kind(Kind::Double)
    }

    fn vals(t: &Tensor) -> Vec<f64> {
        crate::reference::linalg::to_vec(t).unwrap()
    }

    /// t values spanning each divergence's domain, including beyond the extension point.
    fn grid(d: Divergence) -> Vec<f64> {
        let hi = d.domain_max().unwrap_or(4.0);
        let mut g: Vec<f64> = (0..60).map(|i| -6.0 + (hi + 6.0) * i as f64 / 60.0).collect();
        if let Some(tb) = d.extension_point() {
            g.extend([tb - 1e-3, tb + 1e-3, tb + 0.5, tb + 10.0]);
        }
        g.extend([hi + 3.0, 50.0, -50.0, -200.0]);
        g
    }

    #[test]
    fn conjugate_derivative_is_compatibility_by_finite_differences() {
        for d in ALL_DIVERGENCES {
            for lambda in [0.1, 1.0, 4.0] {
                let reg = Regularizer::new(d, lambda).unwrap();
                for t in grid(d) {
                    let v = t * lambda;
                    if d == Divergence::ChiSquare && v.abs() < 1e-3 {
                        continue; // kink of relu^2's second derivative; first derivative is fine
                    }
                    let h = 1e-6 * lambda.max(v.abs());
                    let (fp, _) = reg.scalar(v + h);
                    let (fm, _) = reg.scalar(v - h);
                    let (_, m) = reg.scalar(v);
                    let fd = (fp - fm) / (2.0 * h);
                    let tol = 1e-5 * (1.0 + m.abs());
                    assert!((fd - m).abs() < tol, "{d:?} lambda {lambda} t {t}: dH*/dv {fd} vs M {m}");
                }
            }
        }
    }

    #[test]
    fn tensor_forms_match_scalar_forms_and_stay_finite() {
        for d in ALL_DIVERGENCES {
            let lambda = 0.7;
            let reg = Regularizer::new(d, lambda).unwrap();
            let ts = grid(d);
            let v: Vec<f64> = ts.iter().map(|t| t * lambda).collect();
            let (h, m) = reg.conjugate_and_compatibility(&t64(&v)).unwrap();
            let (h, m) = (vals(&h), vals(&m));
            for (i, &vi) in v.iter().enumerate() {
                let (hs, ms) = reg.scalar(vi);
                assert!(h[i].is_finite() && m[i].is_finite(), "{d:?} v {vi}: non-finite");
                assert!((h[i] - hs).abs() <= 1e-9 * (1.0 + hs.abs()), "{d:?} v {vi}: H* {} vs {hs}", h[i]);
                assert!((m[i] - ms).abs() <= 1e-9 * (1.0 + ms.abs()), "{d:?} v {vi}: M {} vs {ms}", m[i]);
                assert!(m[i] >= 0.0, "{d:?}: compatibility must be a density ratio >= 0");
            }
        }
    }

    #[test]
    fn fenchel_identity_holds_inside_the_domain() {
        // f*(t) + f(u) = t u at u = f*'(t), the equality case of Fenchel-Young.
        for d in ALL_DIVERGENCES {
            for t in grid(d) {
                if d.extension_point().is_some_and(|tb| t >= tb) || t < -30.0 {
                    continue;
                }
                let (fs, u, _) = d.conjugate_scalar(t);
                if d == Divergence::ChiSquare && t <= 0.0 {
                    // u = 0 is the boundary of f's domain: f(0) + f*(t) = -1 + 1 = 0 = t * 0.
                    assert!((fs + d.f(0.0)).abs() < 1e-12);
                    continue;
                }
                let lhs = fs + d.f(u);
                assert!(
                    (lhs - t * u).abs() < 1e-8 * (1.0 + (t * u).abs()),
                    "{d:?} t {t}: f*+f = {lhs}, t u = {}",
                    t * u
                );
                // Fenchel-Young inequality at a different u.
                let u2 = u * 1.3 + 0.1;
                assert!(fs + d.f(u2) >= t * u2 - 1e-9, "{d:?} t {t}: Fenchel-Young violated");
            }
        }
    }

    #[test]
    fn extension_is_c1_convex_and_reported() {
        for d in ALL_DIVERGENCES {
            let Some(tb) = d.extension_point() else { continue };
            // Across a gap of 2 delta, a C^1 function moves by about 2 delta times its slope.
            let delta = 1e-9 * (1.0 + tb.abs());
            let (f0, m0, k0) = d.conjugate_scalar(tb - delta);
            let (f1, m1, k1) = d.conjugate_scalar(tb + delta);
            assert!((f1 - f0).abs() <= 3.0 * delta * m0 + 1e-12 * (1.0 + f0.abs()), "{d:?}: f* jumps at t_b");
            assert!((m1 - m0).abs() <= 3.0 * delta * k0 + 1e-12 * (1.0 + m0.abs()), "{d:?}: M jumps at t_b");
            assert!(k0 > 0.0 && k1 > 0.0, "{d:?}: curvature must stay positive");
            let reg = Regularizer::new(d, 2.0).unwrap();
            let v = t64(&[(tb - 1.0) * 2.0, (tb + 1.0) * 2.0]);
            assert_eq!(reg.extension_fraction(&v).unwrap(), 0.5);
        }
    }

    #[test]
    fn dlog_compatibility_matches_finite_differences_of_log_compatibility() {
        for d in ALL_DIVERGENCES {
            for beta in [10.0, 1000.0] {
                let reg = Regularizer::new(d, 1.5).unwrap().with_softplus_beta(beta).unwrap();
                let v: Vec<f64> = grid(d).iter().map(|t| t * 1.5).filter(|v| v.abs() < 40.0).collect();
                let h = 1e-6;
                let vp: Vec<f64> = v.iter().map(|x| x + h).collect();
                let vm: Vec<f64> = v.iter().map(|x| x - h).collect();
                let lp = vals(&reg.log_compatibility(&t64(&vp)).unwrap());
                let lm = vals(&reg.log_compatibility(&t64(&vm)).unwrap());
                let g = vals(&reg.dlog_compatibility(&t64(&v)).unwrap());
                for i in 0..v.len() {
                    let fd = (lp[i] - lm[i]) / (2.0 * h);
                    assert!(g[i].is_finite() && lp[i].is_finite(), "{d:?} v {}: non-finite log M", v[i]);
                    assert!(
                        (fd - g[i]).abs() < 1e-4 * (1.0 + g[i].abs()),
                        "{d:?} beta {beta} v {}: fd {fd} vs {}",
                        v[i],
                        g[i]
                    );
                }
            }
        }
    }

    #[test]
    fn chi_square_smoothing_tends_to_log_relu() {
        let reg = Regularizer::new(Divergence::ChiSquare, 0.5).unwrap().with_softplus_beta(1e4).unwrap();
        let v = t64(&[0.3, 1.0, 2.0]);
        let l = vals(&reg.log_compatibility(&v).unwrap());
        for (i, x) in [0.3f64, 1.0, 2.0].iter().enumerate() {
            assert!((l[i] - (x / (2.0 * 0.5)).ln()).abs() < 1e-3);
        }
        // far below zero the smoothed score still points up (towards positive violations)
        let g = vals(&reg.dlog_compatibility(&t64(&[-5.0])).unwrap());
        assert!(g[0] > 0.0 && g[0].is_finite());
    }

    #[test]
    fn float32_stays_finite_for_extreme_violations() {
        for d in ALL_DIVERGENCES {
            let reg = Regularizer::new(d, 1e-3).unwrap();
            let v = Tensor::from_slice(&[-1e6f32, -1.0, 0.0, 1e-4, 1.0, 1e6]).to_device(Device::Cpu);
            let (h, m) = reg.conjugate_and_compatibility(&v).unwrap();
            let g = reg.dlog_compatibility(&v).unwrap();
            let l = reg.log_compatibility(&v).unwrap();
            for t in [&h, &m, &g, &l] {
                assert!(bool::try_from(t.isfinite().all()).unwrap(), "{d:?}: non-finite in {t:?}");
            }
        }
    }

    #[test]
    fn lambda_must_be_positive() {
        for l in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                Regularizer::new(Divergence::Kl, l).unwrap_err().kind,
                crate::runtime::error::ErrorKind::InvalidArgument
            );
        }
    }
}
