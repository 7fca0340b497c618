//! The noise schedule of Algorithm 2: which levels sigma_i the chains visit, the step size a_i
//! at each, and the noise level of the final denoising step.
//!
//! Annealed (Song & Ermon 2020; the authors' code): sigma_1 > ... > sigma_N geometric,
//! a_i = eps (sigma_i / sigma_N)^2, then one Tweedie step at sigma_N.
//!
//! Tempered compatibility (this library's default when annealing). The target score at level i
//! is smoothed by N(0, sigma_i^2 I), so its stiffness is at most about 1 / sigma_i^2 and the
//! step a_i ~ sigma_i^2 stays stable. The compatibility term is not smoothed by the score
//! source: for KL with the squared Euclidean cost, -log M(V(x, y)) has y-curvature
//! p = c'' / lambda = 2 / lambda whatever sigma_i is, so at small lambda the early, large steps
//! diverge (a_1 p > 2), and shrinking eps to fix that freezes the late levels. Smoothing a
//! Gaussian factor exp(-p |y - m|^2 / 2) by N(0, sigma^2 I) gives exp(-p w |y - m|^2 / 2) with
//! w = 1 / (1 + p sigma^2): the same factor raised to the power w. So at level i the chain
//! targets tau_sigma_i(y) M(V(x, y))^w_i, whose stiffness is below about 2 / sigma_i^2, and
//! w -> 1 as sigma -> 0: the last levels and the denoising step see the untempered conditional.
//! For the KL family with a quadratic cost this is the exact smoothing of the compatibility
//! factor when psi is quadratic; for the other divergences p uses the nominal slope
//! (log M)' ~ 1 / lambda. Plain (a known exact score,
//! the paper's Gaussian experiment): one level with the unsmoothed score (sigma = 0) and
//! a = eps / 2, i.e. y <- y + (eps/2) score + sqrt(eps) z as Algorithm 2 writes it.

/// Geometric noise levels sigma_first = sigma_1 > ... > sigma_N = sigma_last.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Annealing {
    pub sigma_first: f64,
    pub sigma_last: f64,
    pub levels: usize,
}

impl Annealing {
    /// sigma_1 > ... > sigma_N, geometric.
    pub fn sigmas(&self) -> Vec<f64> {
        if self.levels == 1 {
            return vec![self.sigma_last];
        }
        let r = (self.sigma_last / self.sigma_first).ln() / (self.levels - 1) as f64;
        (0..self.levels).map(|i| self.sigma_first * (r * i as f64).exp()).collect()
    }
}

/// One noise level: the target score is smoothed at `sigma` (0: the exact score) and every
/// Langevin step there has step size `step` (Algorithm 2's eps / 2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    pub sigma: f64,
    pub step: f64,
    /// w, the power of the compatibility M at this level (1: untempered).
    pub compatibility_weight: f64,
}

/// The levels a chain runs through, in order, and the noise level of the final denoising step.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub levels: Vec<Level>,
    pub denoise: Option<f64>,
    /// p, the y-stiffness of -log M used to temper the compatibility term (None: untempered).
    pub compatibility_stiffness: Option<f64>,
}

impl Schedule {
    /// `eps`: the configured step size. `denoise` only applies with annealing.
    pub fn new(annealing: Option<Annealing>, eps: f64, denoise: bool) -> Schedule {
        let Some(annealing) = annealing else {
            return Schedule {
                levels: vec![Level { sigma: 0.0, step: eps / 2.0, compatibility_weight: 1.0 }],
                denoise: None,
                compatibility_stiffness: None,
            };
        };
        let sigmas = annealing.sigmas();
        // The computed sigma_N, not `sigma_last`: they may differ in the last bit.
        let sigma_n = sigmas.last().copied().unwrap_or(annealing.sigma_last);
        Schedule {
            levels: sigmas
                .iter()
                .map(|&sigma| Level { sigma, step: eps * (sigma / sigma_n).powi(2), compatibility_weight: 1.0 })
                .collect(),
            denoise: denoise.then_some(sigma_n),
            compatibility_stiffness: None,
        }
    }

    /// Tempers the compatibility term at each level (see the module documentation); `stiffness`
    /// is p = c'' (log M)', e.g. 2 / lambda for KL with the squared Euclidean cost.
    pub fn tempered(mut self, stiffness: f64) -> Schedule {
        self.compatibility_stiffness = Some(stiffness);
        for level in &mut self.levels {
            level.compatibility_weight = 1.0 / (1.0 + stiffness * level.sigma * level.sigma);
        }
        self
    }

    /// w(sigma) = 1 / (1 + p sigma^2), the power of M at noise level sigma (1 untempered).
    pub fn compatibility_weight(&self, sigma: f64) -> f64 {
        match self.compatibility_stiffness {
            Some(p) => 1.0 / (1.0 + p * sigma * sigma),
            None => 1.0,
        }
    }

    /// Langevin steps per chain, the denoising step included.
    pub fn steps_per_chain(&self, steps_per_level: usize) -> usize {
        self.levels.len() * steps_per_level + usize::from(self.denoise.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sampling_is_algorithm_2_with_half_the_step() {
        let s = Schedule::new(None, 0.01, true);
        assert_eq!(
            s,
            Schedule {
                levels: vec![Level { sigma: 0.0, step: 0.005, compatibility_weight: 1.0 }],
                denoise: None,
                compatibility_stiffness: None
            }
        );
        assert_eq!(s.steps_per_chain(1000), 1000);
    }

    #[test]
    fn annealed_levels_are_geometric_with_steps_scaled_by_sigma_squared() {
        let s = Schedule::new(Some(Annealing { sigma_first: 1.0, sigma_last: 0.01, levels: 3 }), 2e-5, true);
        let sigmas: Vec<f64> = s.levels.iter().map(|l| l.sigma).collect();
        for (got, want) in sigmas.iter().zip([1.0, 0.1, 0.01]) {
            assert!((got - want).abs() < 1e-15, "{sigmas:?}");
        }
        // a_N = eps exactly, a_1 = eps (sigma_1 / sigma_N)^2
        assert_eq!(s.levels[2].step, 2e-5);
        assert!((s.levels[0].step - 2e-5 * 1e4).abs() < 1e-15);
        assert_eq!(s.denoise, Some(s.levels[2].sigma));
        assert_eq!(s.steps_per_chain(100), 301);
        let one = Schedule::new(Some(Annealing { sigma_first: 1.0, sigma_last: 0.5, levels: 1 }), 0.1, false);
        assert_eq!(
            one,
            Schedule {
                levels: vec![Level { sigma: 0.5, step: 0.1, compatibility_weight: 1.0 }],
                denoise: None,
                compatibility_stiffness: None
            }
        );
    }

    #[test]
    fn tempering_smooths_a_gaussian_factor_exactly_and_vanishes_as_sigma_goes_to_zero() {
        let s = Schedule::new(Some(Annealing { sigma_first: 3.0, sigma_last: 0.01, levels: 10 }), 2e-5, true);
        assert_eq!(s.compatibility_weight(3.0), 1.0);
        let p = 2.0 / 0.2; // KL, squared Euclidean cost, lambda = 0.2
        let t = s.tempered(p);
        // N(0, 1/p) convolved with N(0, sigma^2) has precision p / (1 + p sigma^2) = p w.
        for sigma in [3.0, 0.3, 0.01] {
            let w = t.compatibility_weight(sigma);
            assert!((p * w - 1.0 / (1.0 / p + sigma * sigma)).abs() < 1e-12);
        }
        assert!(t.compatibility_weight(0.01) > 0.999);
        for level in &t.levels {
            assert_eq!(level.compatibility_weight, t.compatibility_weight(level.sigma));
        }
        // The first level's step times the tempered stiffness is now below 2 / sigma_1^2 a_1.
        let a1 = t.levels[0].step;
        assert!(a1 * p * t.compatibility_weight(3.0) < a1 / 9.0 + 1e-12);
    }
}
