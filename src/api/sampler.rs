//! Algorithm 2 on arrays: [`SamplerOptions`] and the conditional [`Sampler`].

use std::sync::Arc;

use ndarray::{Array2, AsArray, Ix2};

use super::{observe, parse_device, tensor_f32, to_array2, Barycentric, Dual, Float, ProgressFn, Score};
use crate::neural::sampler::{self, Annealing, ChainInit, SampleReport, SamplerConfig};
use crate::runtime::error::{Error, Result};
use crate::runtime::progress::Progress;

/// Where Langevin chains start.
#[derive(Clone, Default)]
pub enum ChainStart {
    /// y_0 ~ N(0, I), as Algorithm 2.
    #[default]
    Noise,
    /// y_0 = x (needs dx = dy): near the coupling when the transport is short.
    Source,
    /// y_0 = T(x), a barycentric map: the conditional mean, inside pi(. | x)'s bulk.
    Map(Barycentric),
    /// y_0 a row of `targets` (N x dy, e.g. the duals' training targets) drawn with probability
    /// proportional to M(V(x, y_j)); the chain moves only at the noise levels at or below
    /// `sigma_start` (0: three times the last). A source whose weights have an effective sample
    /// size below K starts from noise instead. See [`ChainStart::resample`].
    Resample { targets: Arc<Vec<f32>>, dim: usize, sigma_start: f64 },
}

impl ChainStart {
    /// [`ChainStart::Resample`] from the rows of an array (checked when the sampler is made).
    pub fn resample<'a, T: Float>(targets: impl AsArray<'a, T, Ix2>, sigma_start: f64) -> ChainStart {
        let t = targets.into();
        let dim = t.ncols();
        ChainStart::Resample { targets: Arc::new(t.iter().map(|v| v.to_f64() as f32).collect()), dim, sigma_start }
    }
}

/// Options of Algorithm 2, as a builder. Defaults: the paper's Gaussian setting (no annealing,
/// 1000 steps at eps = 0.01), one sample per source, chains from N(0, I), no Metropolis
/// adjustment, seed 0, CPU.
#[derive(Clone)]
pub struct SamplerOptions {
    cfg: SamplerConfig,
    start: ChainStart,
    softplus_beta: Option<f64>,
    device: String,
    threads: usize,
    progress: Option<ProgressFn>,
}

impl Default for SamplerOptions {
    fn default() -> Self {
        SamplerOptions {
            cfg: SamplerConfig::new(),
            start: ChainStart::Noise,
            softplus_beta: None,
            device: "cpu".into(),
            threads: 0,
            progress: None,
        }
    }
}

impl SamplerOptions {
    pub fn new() -> SamplerOptions {
        SamplerOptions::default()
    }

    /// Annealed Langevin over `levels` geometric noise levels from `sigma_first` down to
    /// `sigma_last`, the target score smoothed at each (for learned scores).
    pub fn annealing(mut self, sigma_first: f64, sigma_last: f64, levels: usize) -> Self {
        self.cfg.annealing = Some(Annealing { sigma_first, sigma_last, levels });
        self
    }

    /// A final denoising step after annealing (Tweedie).
    pub fn denoise(mut self, denoise: bool) -> Self {
        self.cfg.denoise = denoise;
        self
    }

    /// Langevin steps per noise level and the step size eps.
    pub fn steps(mut self, steps_per_level: usize, step_size: f64) -> Self {
        (self.cfg.steps_per_level, self.cfg.step_size) = (steps_per_level, step_size);
        self
    }

    /// Samples per source K: rows i K .. i K + K - 1 of the output belong to source i.
    pub fn samples_per_source(mut self, k: usize) -> Self {
        self.cfg.samples_per_source = k;
        self
    }

    pub fn chain_start(mut self, start: ChainStart) -> Self {
        self.start = start;
        self
    }

    /// Metropolis-adjusted Langevin (needs a score with a known log-density: the Gaussian one);
    /// removes the O(eps) bias of unadjusted Langevin.
    pub fn metropolis(mut self, enabled: bool) -> Self {
        self.cfg.metropolis = enabled;
        self
    }

    /// With Metropolis adjustment: tune the step towards 57% acceptance during the first half of
    /// each level's steps.
    pub fn adapt_step(mut self, enabled: bool) -> Self {
        self.cfg.adapt_step = enabled;
        self
    }

    /// `true` (default): the conditional score s(y) + grad_y log M(V(x, y)). `false`: the target
    /// score alone, ignoring the sources (samples tau itself: a check of a score source).
    pub fn compatibility(mut self, enabled: bool) -> Self {
        self.cfg.use_compatibility = enabled;
        self
    }

    /// Annealed sampling: `true` (default) tempers the compatibility term at the noise levels
    /// whose step would be unstable against it (M^w, w = min(1, 1 / (a_i p)), p = c'' / lambda);
    /// `false` reproduces the reference code's schedule.
    pub fn compatibility_tempering(mut self, enabled: bool) -> Self {
        self.cfg.temper_compatibility = enabled;
        self
    }

    /// Annealed, unadjusted sampling: `true` (default) evaluates grad log M at Tweedie's
    /// denoised point y + sigma^2 s(y, sigma) instead of y (exact as sigma -> 0; at large sigma it
    /// keeps psi where it was trained); `false` reproduces the reference code.
    pub fn compatibility_at_denoised(mut self, enabled: bool) -> Self {
        self.cfg.compatibility_at_denoised = enabled;
        self
    }

    /// Chains advanced together; bounds memory.
    pub fn chain_batch(mut self, chains: usize) -> Self {
        self.cfg.chain_batch = chains;
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.seed = seed;
        self
    }

    /// "cpu", "cuda", "cuda:N" or "auto".
    pub fn device(mut self, device: &str) -> Self {
        self.device = device.to_string();
        self
    }

    /// libtorch intra-op threads while sampling: n > 0 exactly n, 0 (the default) the fair share of
    /// the machine, following its load while the call runs (`runtime::threads`).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Overrides the chi-square softplus beta stored in the dual model.
    pub fn softplus_beta(mut self, beta: f64) -> Self {
        self.softplus_beta = Some(beta);
        self
    }

    /// Calls `f` every `every` Langevin steps; `false` cancels the sampling call.
    pub fn progress(mut self, every: usize, f: impl Fn(&Progress) -> bool + Send + Sync + 'static) -> Self {
        self.cfg.report_every = every;
        self.progress = Some(Arc::new(f));
        self
    }
}

/// A conditional sampler of the learned coupling pi(y | x) (Algorithm 2): Langevin dynamics on
/// s(y) + grad_y log M(V(x, y)). It copies what it needs; the dual and score may be dropped.
///
/// ```
/// use ndarray::Array2;
/// use scones::api::{gaussian, BatchMode, Divergence};
/// use scones::{Dual, DualOptions, Sampler, SamplerOptions, Score};
/// # fn main() -> scones::Result<()> {
/// let (a, b) = (Array2::<f64>::eye(2), Array2::<f64>::eye(2) * 2.0);
/// let x = gaussian::sample(&[0.0, 0.0], &a, 2000, 1)?;
/// let y = gaussian::sample(&[0.0, 0.0], &b, 2000, 2)?;
/// let options = DualOptions::new()
///     .regularizer(Divergence::Kl, 4.0)
///     .hidden(&[32, 32])
///     .batch(128, BatchMode::AllPairs)
///     .iterations(200);
/// let dual = Dual::train(&x, &y, &options)?;
/// let score = Score::gaussian(&[0.0, 0.0], &b)?;
/// let sampling = SamplerOptions::new().steps(200, 0.05).samples_per_source(2);
/// let mut sampler = Sampler::new(&dual, &score, &sampling)?;
/// let samples = sampler.sample(x.slice(ndarray::s![..500, ..]))?;
/// assert_eq!(samples.dim(), (1000, 2)); // 2 per source, source i in rows 2i and 2i + 1
/// // The target marginal is N(0, 2 I): its variance survives the coupling.
/// let var = samples.column(0).var(1.0);
/// assert!((var - 2.0).abs() < 0.6, "variance {var}");
/// # Ok(()) }
/// ```
pub struct Sampler {
    inner: sampler::Sampler,
    threads: usize,
    progress: Option<ProgressFn>,
    last: Option<SampleReport>,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (dx, dy) = self.dims();
        write!(f, "Sampler({dx} -> {dy}, {:?})", self.inner.config())
    }
}

impl Sampler {
    /// A sampler from trained potentials and a score of the target (of dimension dy).
    pub fn new(dual: &Dual, score: &Score, options: &SamplerOptions) -> Result<Sampler> {
        let mut cfg = options.cfg.clone();
        cfg.device = parse_device(&options.device)?;
        cfg.init = match &options.start {
            ChainStart::Noise => ChainInit::Noise,
            ChainStart::Source => ChainInit::Source,
            ChainStart::Map(map) => ChainInit::map(&map.inner())?,
            ChainStart::Resample { targets, dim, sigma_start } => {
                ChainInit::Resample { targets: targets.clone(), dim: *dim, sigma_start: *sigma_start }
            }
        };
        let mut inner = sampler::Sampler::new(dual.potentials(), score.source(), cfg)?;
        if let Some(beta) = options.softplus_beta {
            inner.set_softplus_beta(beta)?;
        }
        Ok(Sampler { inner, threads: options.threads, progress: options.progress.clone(), last: None })
    }

    /// K samples y ~ pi(y | x_i) for each row of `sources` (n x dx), as (n K) x dy; the samples
    /// of source i are rows i K .. i K + K - 1. The sources are numbered on from the previous
    /// call's last one (the first call starts at 0), so successive calls draw new numbers; see
    /// [`Sampler::sample_at`]. Fails with Diverged if a chain becomes non-finite.
    pub fn sample<'a, T: Float>(&mut self, sources: impl AsArray<'a, T, Ix2>) -> Result<Array2<f64>> {
        self.sample_from(sources, None)
    }

    /// [`Sampler::sample`] with row r of `sources` the source of global index
    /// `first_source + r`: its samples depend only on the seed and that index, so a sharded run
    /// (each rank sampling its own range of sources, with any chain batch) reproduces one call
    /// over all sources bit for bit on the CPU at a fixed thread count. On CUDA the noise comes
    /// from the device generator and only one split reproduces itself.
    pub fn sample_at<'a, T: Float>(
        &mut self,
        sources: impl AsArray<'a, T, Ix2>,
        first_source: u64,
    ) -> Result<Array2<f64>> {
        self.sample_from(sources, Some(first_source))
    }

    fn sample_from<'a, T: Float>(
        &mut self,
        sources: impl AsArray<'a, T, Ix2>,
        first_source: Option<u64>,
    ) -> Result<Array2<f64>> {
        let x = sources.into();
        let (dx, _) = self.dims();
        if x.ncols() != dx {
            return Err(Error::shape(format!(
                "sources must have {dx} columns (the dual's source dimension), got {}",
                x.ncols()
            )));
        }
        let x = tensor_f32(&x, "sources")?;
        let mut observer = crate::runtime::threads::governed(self.threads, observe(&self.progress));
        let (y, report) = match first_source {
            Some(first) => self.inner.sample_at(&x, first, &mut observer)?,
            None => self.inner.sample(&x, &mut observer)?,
        };
        self.last = Some(report);
        to_array2(&y)
    }

    /// Statistics of the last successful [`Sampler::sample`] call.
    pub fn report(&self) -> Option<&SampleReport> {
        self.last.as_ref()
    }

    /// Source and target dimensions (dx, dy).
    pub fn dims(&self) -> (usize, usize) {
        self.inner.dims()
    }

    pub fn samples_per_source(&self) -> usize {
        self.inner.config().samples_per_source
    }
}
