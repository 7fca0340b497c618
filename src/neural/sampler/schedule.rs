//! The noise schedule of Algorithm 2: which levels sigma_i the chains visit, the step size a_i
//! at each, and the noise level of the final denoising step.
//!
//! Annealed (Song & Ermon 2020; the authors' code): sigma_1 > ... > sigma_N geometric,
//! a_i = eps (sigma_i / sigma_N)^2, then one Tweedie step at sigma_N. Plain (a known exact score,
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
}

/// The levels a chain runs through, in order, and the noise level of the final denoising step.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub levels: Vec<Level>,
    pub denoise: Option<f64>,
}

impl Schedule {
    /// `eps`: the configured step size. `denoise` only applies with annealing.
    pub fn new(annealing: Option<Annealing>, eps: f64, denoise: bool) -> Schedule {
        let Some(annealing) = annealing else {
            return Schedule { levels: vec![Level { sigma: 0.0, step: eps / 2.0 }], denoise: None };
        };
        let sigmas = annealing.sigmas();
        // The computed sigma_N, not `sigma_last`: they may differ in the last bit.
        let sigma_n = sigmas.last().copied().unwrap_or(annealing.sigma_last);
        Schedule {
            levels: sigmas.iter().map(|&sigma| Level { sigma, step: eps * (sigma / sigma_n).powi(2) }).collect(),
            denoise: denoise.then_some(sigma_n),
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
        assert_eq!(s, Schedule { levels: vec![Level { sigma: 0.0, step: 0.005 }], denoise: None });
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
        assert_eq!(one, Schedule { levels: vec![Level { sigma: 0.5, step: 0.1 }], denoise: None });
    }
}
