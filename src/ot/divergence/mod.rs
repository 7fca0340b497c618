//! The f-divergences of Table 3 (Appendix A, after Nowozin et al.'s f-GAN), one file per row.
//!
//! Each row is a zero-sized type implementing [`Conjugate`]: f, the conjugate f* with f*' and
//! f*'' (f64 and tensor forms), d/dt log f*', the domain of f* and the extension point, whether
//! f* is built from exp, and how log M is evaluated for sampling. [`Divergence`] names the rows
//! and dispatches to them in one place, [`Divergence::row`]. The continuation past the extension
//! point is the same for every row and lives in [`extension`].
//!
//! Adding a divergence: one file here with its `Conjugate` impl and its test (see `kl.rs`), one
//! variant of [`Divergence`] with its arm in `row`, and an entry in [`ALL_DIVERGENCES`].
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

mod chi_square;
pub mod extension;
mod gan;
mod jensen_shannon;
mod kl;
mod kl_cuturi;
mod reverse_kl;
mod squared_hellinger;

use crate::runtime::error::{Error, Result};
use tch::Tensor;

/// Density ratio M at which restricted-domain conjugates switch to their quadratic extension.
pub const RATIO_CAP: f64 = 1e4;
/// Same for the KL family, whose domain is all of R: only float32 overflow matters there.
const KL_RATIO_CAP: f64 = 1e20;
/// Exponential-based conjugates see t clamped from below here, where f*' < 1e-34: exp results
/// that are float32 subnormals make libtorch's exp about 50 times slower (measured 35 ms vs 0.7
/// ms on a 1000 x 1000 batch of pair terms), and the change in f* is below 1e-34.
pub const T_FLOOR: f64 = -80.0;

/// One row of Table 3. The tensor forms take t = v / lambda already inside the domain (clamped
/// by [`extension`]); the v forms (log M and its derivative) take the violation itself.
pub trait Conjugate: Sync {
    /// Stable name (model files, bindings).
    fn name(&self) -> &'static str;
    /// f(u) for u >= 0 (u < 0 is outside every f's domain; [`Divergence::f`] handles it).
    fn f(&self, u: f64) -> f64;
    /// f*(t), f*'(t), f*''(t) inside the domain, in f64.
    fn f_star_scalar(&self, t: f64) -> (f64, f64, f64);
    /// Upper end of dom f*, if any.
    fn domain_max(&self) -> Option<f64> {
        None
    }
    /// t_b, where M = f*' reaches the ratio cap (None: f* needs no continuation).
    fn extension_point(&self) -> Option<f64>;
    /// Whether f* is built from exp, and so sees t clamped from below at [`T_FLOOR`].
    fn uses_exp(&self) -> bool;

    /// f*(t) on tensors.
    fn f_star(&self, t: &Tensor) -> Result<Tensor>;
    /// M = f*'(t) on tensors.
    fn f_star_prime(&self, t: &Tensor) -> Result<Tensor>;
    /// Both; rows where they share work (one exponential for KL) override this.
    fn f_star_and_prime(&self, t: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((self.f_star(t)?, self.f_star_prime(t)?))
    }
    /// d/dt log f*'(t) = f*''(t) / f*'(t) on tensors.
    fn dlog_f_star_prime(&self, t: &Tensor) -> Result<Tensor>;

    /// Whether log M is linear in v: grad_y log M then needs grad_y V only, not phi(x).
    fn log_compatibility_is_linear(&self) -> bool {
        false
    }
    /// log M(v) as used for sampling (`beta`: chi-square's softplus smoothing). Default: the log
    /// of the extended compatibility.
    fn log_compatibility(&self, v: &Tensor, lambda: f64, _beta: f64) -> Result<Tensor> {
        Ok(extension::compatibility(self, v, lambda)?.f_log()?)
    }
    /// d/dv log M(v), consistent with [`Conjugate::log_compatibility`].
    fn dlog_compatibility(&self, v: &Tensor, lambda: f64, _beta: f64) -> Result<Tensor> {
        extension::dlog_compatibility(self, v, lambda)
    }
}

/// u log u with its limit 0 at u = 0.
fn xlogx(u: f64) -> f64 {
    if u == 0.0 {
        0.0
    } else {
        u * u.ln()
    }
}

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
    /// The row of Table 3 that defines this divergence.
    pub fn row(self) -> &'static dyn Conjugate {
        match self {
            Divergence::Kl => &kl::Kl,
            Divergence::KlCuturi => &kl_cuturi::KlCuturi,
            Divergence::ChiSquare => &chi_square::ChiSquare,
            Divergence::ReverseKl => &reverse_kl::ReverseKl,
            Divergence::SquaredHellinger => &squared_hellinger::SquaredHellinger,
            Divergence::JensenShannon => &jensen_shannon::JensenShannon,
            Divergence::Gan => &gan::Gan,
        }
    }

    pub fn name(self) -> &'static str {
        self.row().name()
    }

    pub fn from_name(s: &str) -> Result<Divergence> {
        ALL_DIVERGENCES
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| Error::format(format!("unknown regularizer '{s}'")))
    }

    /// Upper end of dom f*, if any.
    pub fn domain_max(self) -> Option<f64> {
        self.row().domain_max()
    }

    /// The extension point t_b, where M(t_b) equals the ratio cap (none for chi-square, whose
    /// conjugate is already quadratic).
    pub fn extension_point(self) -> Option<f64> {
        self.row().extension_point()
    }

    /// f(u), +inf outside its domain. Used by the primal objective and the Fenchel checks.
    pub fn f(self, u: f64) -> f64 {
        if u < 0.0 {
            return f64::INFINITY;
        }
        self.row().f(u)
    }

    /// f*(t), f*'(t), f*''(t) with the extension past t_b: defined and finite for every t.
    pub fn conjugate_scalar(self, t: f64) -> (f64, f64, f64) {
        extension::scalar(self.row(), t)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tch::Kind;

    /// The tensor forms of a row against its f64 forms, inside the domain (where the row's own
    /// formulas apply, before any clamp or continuation), in float64.
    pub(crate) fn tensor_forms_match_scalar_forms(d: Divergence) {
        let row = d.row();
        let hi = row.extension_point().unwrap_or(4.0);
        let lo = if row.uses_exp() { T_FLOOR } else { -30.0 };
        let ts: Vec<f64> = (0..=200).map(|i| lo + (hi - lo) * i as f64 / 200.0).collect();
        let t = Tensor::from_slice(&ts).to_kind(Kind::Double);
        let vals = |x: Tensor| crate::reference::linalg::to_vec(&x).unwrap();
        let (f, m) = row.f_star_and_prime(&t).unwrap();
        let (f, m) = (vals(f), vals(m));
        let (f_alone, m_alone) = (vals(row.f_star(&t).unwrap()), vals(row.f_star_prime(&t).unwrap()));
        let dlog = vals(row.dlog_f_star_prime(&t).unwrap());
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
        for (i, &ti) in ts.iter().enumerate() {
            let (fs, ms, ks) = row.f_star_scalar(ti);
            assert!(close(f[i], fs) && close(f_alone[i], fs), "{d:?} t {ti}: f* {} vs {fs}", f[i]);
            assert!(close(m[i], ms) && close(m_alone[i], ms), "{d:?} t {ti}: f*' {} vs {ms}", m[i]);
            if ms > 0.0 {
                assert!(close(dlog[i], ks / ms), "{d:?} t {ti}: (log f*')' {} vs {}", dlog[i], ks / ms);
            }
        }
        // The extension point is where M reaches the cap, inside the domain.
        if let Some(tb) = row.extension_point() {
            let cap = if row.log_compatibility_is_linear() { KL_RATIO_CAP } else { RATIO_CAP };
            let (_, m_b, _) = row.f_star_scalar(tb);
            assert!((m_b - cap).abs() <= 1e-9 * cap, "{d:?}: M(t_b) = {m_b}, cap {cap}");
            assert!(row.domain_max().is_none_or(|hi| tb < hi), "{d:?}: t_b outside dom f*");
        }
    }
}
