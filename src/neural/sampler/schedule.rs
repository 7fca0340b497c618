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
//! diverge (a_1 p > 2; unadjusted Langevin is unstable beyond a L = 2 on a quadratic of
//! curvature L), and shrinking eps to fix that freezes the late levels. Where a level's step
//! would be unstable the compatibility is tempered just enough: the chain targets
//! tau_sigma_i(y) M(V(x, y))^w_i with w_i = min(1, 1 / (a_i p)), so a_i p w_i <= 1, half the
//! stability limit. Levels whose step is already stable (all but the first few at small lambda,
//! at most the first at lambda >= 2 with the usual eps) keep the untempered conditional, so the
//! last levels and the denoising step are untouched. (Tempering by the Gaussian smoothing
//! w = 1 / (1 + p sigma^2) instead was measured worse on the entropic benchmark at eps = 1,
//! 5.5x against 3.1x the floor: with the short late levels frozen, wider intermediate targets
//! leave wider samples; see docs/results/conditional_bench.md.) For divergences other than
//! the KL family, p uses the nominal slope (log M)' ~ 1 / lambda. Plain (a known exact score,
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

    /// Tempers the compatibility term where a level's step would be unstable (see the module
    /// documentation); `stiffness` is p = c'' (log M)', e.g. 2 / lambda for KL with the squared
    /// Euclidean cost.
    pub fn tempered(mut self, stiffness: f64) -> Schedule {
        self.compatibility_stiffness = Some(stiffness);
        let weights: Vec<f64> = self.levels.iter().map(|l| self.compatibility_weight_for(l.step)).collect();
        for (level, w) in self.levels.iter_mut().zip(weights) {
            level.compatibility_weight = w;
        }
        self
    }

    /// w = min(1, 1 / (a p)), the power of M for a step of size `step` (1 untempered).
    pub fn compatibility_weight_for(&self, step: f64) -> f64 {
        match self.compatibility_stiffness {
            Some(p) if step * p > 1.0 => 1.0 / (step * p),
            _ => 1.0,
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
    fn tempering_caps_each_step_at_half_the_stability_limit_and_leaves_stable_levels_alone() {
        let s = Schedule::new(Some(Annealing { sigma_first: 3.0, sigma_last: 0.01, levels: 10 }), 2e-5, true);
        assert_eq!(s.compatibility_weight_for(1.8), 1.0);
        let p = 2.0 / 0.2; // KL, squared Euclidean cost, lambda = 0.2
        let t = s.clone().tempered(p);
        for (level, plain) in t.levels.iter().zip(&s.levels) {
            assert_eq!(level.step, plain.step);
            assert!(level.step * p * level.compatibility_weight <= 1.0 + 1e-12, "{level:?}");
            // untouched where already stable (a p <= 1), and tempered no more than needed
            if level.step * p <= 1.0 {
                assert_eq!(level.compatibility_weight, 1.0);
            } else {
                assert!((level.step * p * level.compatibility_weight - 1.0).abs() < 1e-12);
            }
        }
        // a_1 = 1.8 at sigma_1 = 3: w = 1 / 18; the last levels and the denoising step keep w = 1.
        assert!((t.levels[0].compatibility_weight - 1.0 / 18.0).abs() < 1e-12);
        assert_eq!(t.levels[9].compatibility_weight, 1.0);
        assert_eq!(t.compatibility_weight_for(0.01 * 0.01), 1.0);
        // lambda = 2 (p = 1): only the first level (a_1 = 1.8) is tempered.
        let wide = s.tempered(1.0);
        assert!(wide.levels[0].compatibility_weight < 1.0);
        assert!(wide.levels[1..].iter().all(|l| l.compatibility_weight == 1.0));
    }
}
