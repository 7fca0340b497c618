//! What a sampling run is asked to do (chain start, schedule, adjustment, batching) and what it
//! reports.

use std::sync::Arc;

use tch::Device;

use super::schedule::{Annealing, Schedule};
use crate::neural::mlp::Mlp;
use crate::runtime::error::{Error, Result};

/// The automatic first noise level of resampled chains, in units of the last one: on the
/// entropic benchmark (d = 2, eps = 0.1) starting at 3 sigma_N gave 1.5x the floor, 10 sigma_N
/// 1.9x and 30 sigma_N 4.6x (the chains re-mix the modes and lose the resampled weights).
pub(crate) const RESAMPLE_START_OVER_LAST: f64 = 3.0;

#[derive(Clone)]
pub enum ChainInit {
    /// y_0 ~ N(0, I), as Algorithm 2.
    Noise,
    /// y_0 = x (needs dx = dy): starts near the coupling when the transport is short.
    Source,
    /// y_0 = T(x), a barycentric map: starts at the conditional mean, inside pi(. | x)'s bulk.
    Map(Arc<parking_lot::Mutex<Mlp>>),
    /// y_0 drawn from target samples y_1..y_N with probabilities proportional to M(V(x, y_j)):
    /// the dual's own discrete conditional (self-normalised importance resampling of Q by
    /// pi(y | x) / Q(y) = M). Its mode weights come straight from the potentials' values, which
    /// annealing from noise only approximates (the compatibility is unsmoothed at large sigma);
    /// Langevin then spreads the duplicates. Row-major [N, dy] in float32. A resampled chain
    /// moves only at the noise levels at or below `sigma_start` (0: three times the last level):
    /// from a large noise level it would forget the mode weight it starts with. A source whose
    /// weights have an effective sample size below its number of chains K (too few targets
    /// carry its conditional: high dimension, small lambda) starts from noise and anneals
    /// through every level instead.
    Resample { targets: Arc<Vec<f32>>, dim: usize, sigma_start: f64 },
}

impl ChainInit {
    pub fn map(map: &crate::neural::barycentric::BarycentricMap) -> Result<ChainInit> {
        Ok(ChainInit::Map(Arc::new(parking_lot::Mutex::new(map.net.detached_to(Device::Cpu)?))))
    }
}

impl std::fmt::Debug for ChainInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChainInit::Noise => "Noise",
            ChainInit::Source => "Source",
            ChainInit::Map(_) => "Map",
            ChainInit::Resample { .. } => "Resample",
        })
    }
}

#[derive(Clone, Debug)]
pub struct SamplerConfig {
    /// None: plain Langevin with the unsmoothed score.
    pub annealing: Option<Annealing>,
    pub steps_per_level: usize,
    pub step_size: f64,
    /// Final denoising step (annealed sampling only).
    pub denoise: bool,
    pub samples_per_source: usize,
    pub init: ChainInit,
    pub metropolis: bool,
    /// With Metropolis adjustment: tune the step size during the first half of each noise
    /// level's steps towards 57% acceptance (the optimal MALA rate, Roberts & Rosenthal 1998),
    /// then keep it fixed, so the chain targets pi(y | x) exactly in the second half.
    pub adapt_step: bool,
    /// false: sample the target score alone, ignoring x (checks a score source on its own).
    pub use_compatibility: bool,
    /// Annealed sampling: temper the compatibility term at levels whose step would be unstable
    /// against its stiffness p (M^w, w = min(1, 1 / (a_i p)); see [`super::schedule`]); stable
    /// levels are untouched. On by default; off reproduces the reference code.
    pub temper_compatibility: bool,
    /// Annealed, unadjusted sampling: evaluate grad log M at the denoised point
    /// y + sigma^2 s(y, sigma) (Tweedie's estimate of the clean y) instead of at y, the
    /// posterior-mean approximation of the smoothed compatibility (as diffusion posterior
    /// sampling does for a likelihood). At large sigma the chains sit far outside the target's
    /// support, where psi was never trained; the denoised point lies near it. Exact as sigma -> 0.
    /// On by default: on the entropic benchmark (d = 16, eps = 1) it took SCONES from 21x to 3x
    /// the floor of the conditional error (joint 2.1 -> 0.3), and at d = 2 from 3.06x to 3.05x
    /// (joint 0.069 -> 0.023). Metropolis-adjusted levels always use y: they follow the gradient
    /// of a density they also evaluate.
    pub compatibility_at_denoised: bool,
    /// With the compatibility at the denoised point: also smooth it by the posterior spread of
    /// the clean point, E[M(x, y0) | y] for a quadratic log M of stiffness p and a Gaussian
    /// posterior of variance tau^2 = sigma^2 + sigma^4 tr(grad s) / d (Tweedie's second
    /// moment), i.e. grad log M at the denoised point times 1 / (1 + p tau^2). Off by default:
    /// on the entropic benchmark (d = 2, eps = 0.1) it took the conditional error from 6.3x to
    /// 21.9x the floor (samples 1.9x too wide: a Gaussian posterior over a multimodal target
    /// over-smooths the compatibility, and the frozen late levels keep the width).
    pub posterior_smoothing: bool,
    /// Chains advanced together; bounds memory.
    pub chain_batch: usize,
    pub seed: u64,
    pub device: Device,
    /// Langevin steps between progress reports.
    pub report_every: usize,
}

impl SamplerConfig {
    /// The paper's Gaussian setting (Sec. 5.2): exact score, no annealing, T = 1000 steps
    /// (Table 7) at eps = 0.01 (the authors' Gaussian code; Table 7's 5e-3 is for d = 784, and
    /// at d = 2 it leaves chains from N(0, I) visibly unmixed after 1000 steps), chains from
    /// N(0, I), one sample per source.
    pub fn new() -> SamplerConfig {
        SamplerConfig {
            annealing: None,
            steps_per_level: 1000,
            step_size: 1e-2,
            denoise: false,
            samples_per_source: 1,
            init: ChainInit::Noise,
            metropolis: false,
            adapt_step: false,
            use_compatibility: true,
            temper_compatibility: true,
            compatibility_at_denoised: true,
            posterior_smoothing: false,
            chain_batch: 16384,
            seed: 0,
            device: Device::Cpu,
            report_every: 50,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let eps = self.step_size;
        if !(eps.is_finite() && eps > 0.0) {
            return Err(Error::invalid(format!("step size must be > 0, got {eps}")));
        }
        if self.steps_per_level == 0 {
            return Err(Error::invalid("steps per noise level must be > 0"));
        }
        if self.samples_per_source == 0 {
            return Err(Error::invalid("samples per source must be > 0"));
        }
        if self.chain_batch == 0 || self.report_every == 0 {
            return Err(Error::invalid("chain batch and report interval must be > 0"));
        }
        if let ChainInit::Resample { sigma_start, .. } = &self.init {
            if !(sigma_start.is_finite() && *sigma_start >= 0.0) {
                return Err(Error::invalid(format!(
                    "the first noise level of resampled chains must be >= 0 (0: automatic), got {sigma_start}"
                )));
            }
        }
        if let Some(a) = self.annealing {
            if a.levels == 0 {
                return Err(Error::invalid("annealing needs at least one noise level"));
            }
            if !(a.sigma_last > 0.0 && a.sigma_first.is_finite() && a.sigma_first >= a.sigma_last) {
                return Err(Error::invalid(format!(
                    "noise levels must satisfy sigma_first >= sigma_last > 0, got {} and {}",
                    a.sigma_first, a.sigma_last
                )));
            }
        }
        Ok(())
    }

    /// With resampled starts and annealing: the noise level at and below which the resampled
    /// chains move (`sigma_start`, 0: three times the last level); above it they keep their
    /// start while the chains that started from noise anneal.
    pub(super) fn resample_join(&self) -> Option<f64> {
        match (&self.init, self.annealing) {
            (ChainInit::Resample { sigma_start, .. }, Some(a)) => {
                Some(if *sigma_start > 0.0 { *sigma_start } else { RESAMPLE_START_OVER_LAST * a.sigma_last })
            }
            _ => None,
        }
    }

    /// The schedule; `stiffness` is the compatibility term's p, used when tempering.
    pub(super) fn schedule(&self, stiffness: f64) -> Schedule {
        let s = Schedule::new(self.annealing, self.step_size, self.denoise);
        if self.temper_compatibility && self.use_compatibility && self.annealing.is_some() {
            s.tempered(stiffness)
        } else {
            s
        }
    }
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Debug)]
pub struct SampleReport {
    pub chains: usize,
    pub steps_per_chain: usize,
    pub seconds: f64,
    pub chain_steps_per_second: f64,
    /// Metropolis acceptance rate (NaN without Metropolis adjustment).
    pub acceptance: f64,
}
