//! Algorithm 2: Langevin sampling of the conditional coupling pi(y | x).
//!
//! The conditional score is the target score plus the compatibility gradient:
//!
//!   grad_y log pi(y | x) = s(y) + grad_y log M(V(x, y)),
//!   grad_y log M(V) = (log M)'(V) (grad psi(y) - grad_y c(x, y)).
//!
//! Every step is y <- y + a score + sqrt(2 a) z. The noise levels and step sizes are in
//! [`schedule`] (plain Algorithm 2, or annealed with a final Tweedie step), the steps themselves
//! (unadjusted, Metropolis-adjusted, denoising, the compatibility gradient) in [`steps`]. When
//! annealing, the compatibility term is tempered at levels whose step would be unstable (M^w,
//! w = min(1, 1 / (a p)); see [`schedule`]) unless `temper_compatibility` is off. A run's settings are the
//! [`SamplerConfig`]; this module holds the `Sampler`: the potentials, the score source and the
//! seeded stream, which it feeds to the steps.
//!
//! With a score source that knows its log-density, each step can be Metropolis-adjusted (MALA):
//! the chain then targets pi(y | x) exactly instead of with O(eps) bias.
//!
//! Chains start from N(0, I) (Algorithm 2), at x, at a barycentric map's T(x), or at target
//! samples resampled by M (`resample.rs`): the last gets a multimodal conditional's mode weights
//! from the potentials' values, which annealing from noise only approximates, and its chains
//! move only at the last noise levels (chains whose source has too few effective targets start
//! from noise and anneal through every level).
//!
//! Sharding: every random number of chain k of source i (its start, its Langevin noise, its
//! Metropolis uniforms) comes from its own stream, addressed by the seed, i's *global* index
//! and k ([`ChainStreams`]), in an order fixed per chain; an adapting MALA step size is per
//! chain. So on the CPU the samples of source i depend on (seed, i) only: sampling sources
//! [0, n) in one call equals [0, k) at offset 0 and [k, n) at offset k, for any chain batch and
//! for ranks of a cluster each sampling its own range ([`Sampler::sample_at`]), bit for bit at a
//! fixed thread count (libtorch's per-row arithmetic does not depend on the other rows of a
//! batch; `tests_sharded.rs` checks it). On CUDA the noise comes from the device generator,
//! seeded per batch: reproducible for one split and batch size, not bit-identical across
//! splits.

mod chains;
mod config;
mod resample;
pub mod schedule;
pub mod steps;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_resample;
#[cfg(test)]
mod tests_sharded;

pub(crate) use chains::ROW_BLOCK;
pub use config::{ChainInit, SampleReport, SamplerConfig};
pub use schedule::Annealing;

use std::sync::Arc;
use std::time::Instant;

use tch::{Device, Kind, Tensor};

use crate::neural::dual::DualPotentials;
use crate::neural::mlp::{InputGradBuffers, Mlp};
use crate::ot::{violation_paired, Cost, Regularizer};
use crate::runtime::error::{Error, Result};
use crate::runtime::progress::Observer;
use crate::runtime::rng::{ChainStreams, Rng64};
use crate::score::{BoundScore, ScoreSource};
use chains::{BatchNoise, ChainStats};
use schedule::{Level, Schedule};
use steps::{LogMSlope, MalaState, StepSize};

pub struct Sampler {
    phi: Mlp,
    psi: Mlp,
    regularizer: Regularizer,
    cost: Cost,
    dx: usize,
    dy: usize,
    score: Box<dyn BoundScore>,
    /// The barycentric map chains start from, on the sampler's device.
    init_map: Option<Mlp>,
    /// The targets of [`ChainInit::Resample`], [N, dy] on the chains' device, and psi at them.
    init_targets: Option<(Tensor, Tensor)>,
    cfg: SamplerConfig,
    streams: ChainStreams,
    /// Global index of the source that the next `sample` call starts at.
    next_source: u64,
    /// psi's hidden activations and gradients, reused by every step.
    psi_buffers: InputGradBuffers,
}

/// The compatibility term at the current chain states.
struct Compatibility {
    grad: Tensor,
    /// log M(V), only computed for Metropolis adjustment.
    log_m: Option<Tensor>,
}

impl Sampler {
    /// Copies the potentials to the sampler's device; the sampler does not keep `dual` borrowed.
    pub fn new(dual: &DualPotentials, score: Arc<dyn ScoreSource>, cfg: SamplerConfig) -> Result<Sampler> {
        cfg.validate()?;
        dual.cost.require_smooth("Langevin sampling of pi(y | x)")?;
        if score.dim() != dual.dy {
            return Err(Error::shape(format!(
                "score source has dimension {} but the dual's target dimension is {}",
                score.dim(),
                dual.dy
            )));
        }
        let init_map = match &cfg.init {
            ChainInit::Source if dual.dx != dual.dy => {
                return Err(Error::shape("chains can start from the source only when dx = dy"));
            }
            ChainInit::Map(m) => {
                let m = m.lock();
                if m.input != dual.dx || m.output != dual.dy {
                    return Err(Error::shape(format!(
                        "the barycentric map goes from dimension {} to {}, the dual from {} to {}",
                        m.input, m.output, dual.dx, dual.dy
                    )));
                }
                Some(m.detached_to(cfg.device)?)
            }
            _ => None,
        };
        let psi = dual.psi.detached_to(cfg.device)?;
        let init_targets = resample::targets(&cfg.init, &psi, dual.dy, cfg.device)?;
        let mut bound = score.bind(cfg.device)?;
        if cfg.metropolis {
            let probe = Tensor::f_zeros([1, dual.dy as i64], (Kind::Float, cfg.device))?;
            if bound.log_density(&probe, 0.0)?.is_none() {
                return Err(Error::invalid(format!(
                    "Metropolis adjustment needs a score source with a known log-density; {} has none",
                    score.describe()
                )));
            }
        }
        Ok(Sampler {
            phi: dual.phi.detached_to(cfg.device)?,
            psi,
            regularizer: dual.regularizer,
            cost: dual.cost.clone(),
            dx: dual.dx,
            dy: dual.dy,
            score: bound,
            init_map,
            init_targets,
            streams: ChainStreams::new(cfg.seed),
            next_source: 0,
            cfg,
            psi_buffers: InputGradBuffers::default(),
        })
    }

    pub fn config(&self) -> &SamplerConfig {
        &self.cfg
    }

    /// Overrides the chi-square softplus smoothing used for log M.
    pub fn set_softplus_beta(&mut self, beta: f64) -> Result<()> {
        self.regularizer = self.regularizer.with_softplus_beta(beta)?;
        Ok(())
    }

    pub fn set_report_every(&mut self, every: usize) {
        self.cfg.report_every = every.max(1);
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.dx, self.dy)
    }

    /// Langevin steps each chain takes (the denoising step included).
    pub fn steps_per_chain(&self) -> usize {
        self.schedule().steps_per_chain(self.cfg.steps_per_level)
    }

    /// K samples y ~ pi(. | x_i) for every row of `x` [n, dx]; returns [n K, dy] float32 on the
    /// CPU, the K samples of source i in rows i K .. i K + K - 1. The sources continue the
    /// global numbering of this sampler's earlier calls (the first call starts at 0): successive
    /// calls draw new numbers, and splitting sources over calls does not change the samples.
    pub fn sample(&mut self, x: &Tensor, observer: Observer) -> Result<(Tensor, SampleReport)> {
        self.sample_at(x, self.next_source, observer)
    }

    /// [`Sampler::sample`] with row r of `x` the source of global index `first_source + r`: its
    /// samples depend on the seed and that index only (bit for bit on the CPU at a fixed thread
    /// count), so ranks that each sample their own range of a source set reproduce one call
    /// over the whole set. Later `sample` calls continue after the last source.
    pub fn sample_at(&mut self, x: &Tensor, first_source: u64, observer: Observer) -> Result<(Tensor, SampleReport)> {
        let s = x.size();
        if s.len() != 2 || s[1] != self.dx as i64 {
            return Err(Error::shape(format!("sources must be [n, {}], got {s:?}", self.dx)));
        }
        if s[0] == 0 {
            return Err(Error::invalid("no source points given"));
        }
        let end = first_source
            .checked_add(s[0] as u64)
            .ok_or_else(|| Error::invalid(format!("source indices {first_source} + {} overflow 64 bits", s[0])))?;
        chains::check_stream_budget(self.steps_per_chain(), self.dy, self.cfg.metropolis, self.cfg.samples_per_source)?;
        let device = self.cfg.device;
        let k = self.cfg.samples_per_source as i64;
        let x = x.f_to_kind(Kind::Float)?.f_to_device(device)?;
        // Chain j serves source j / K.
        let chains = x.f_repeat_interleave_self_int(k, Some(0), None)?;
        let n_chains = chains.size()[0] as usize;
        let steps = self.steps_per_chain();
        let needs_phi = !self.regularizer.log_compatibility_is_linear();
        let start = Instant::now();
        let mut outputs = Vec::new();
        let mut stats = ChainStats {
            accepted: 0.0,
            proposed: 0.0,
            done_steps: 0,
            total_steps: (n_chains.div_ceil(self.cfg.chain_batch) * steps) as u64,
            batch_real: 0,
        };
        let mut first = 0usize;
        while first < n_chains {
            let b = self.cfg.chain_batch.min(n_chains - first);
            let padded = b.next_multiple_of(ROW_BLOCK);
            let mut xb = chains.f_narrow(0, first as i64, b as i64)?;
            if padded > b {
                let last = xb.f_narrow(0, b as i64 - 1, 1)?.f_expand([(padded - b) as i64, self.dx as i64], false)?;
                xb = Tensor::f_cat(&[xb, last], 0)?;
            }
            let phi_x = if needs_phi || self.cfg.metropolis {
                Some(tch::no_grad(|| -> Result<Tensor> { Ok(self.phi.forward(&xb)?.f_squeeze_dim(1)?) })?)
            } else {
                None
            };
            let mut noise = self.batch_noise(first_source, first, b, padded);
            stats.batch_real = b;
            let y = self.run_chains(&xb, phi_x.as_ref(), &mut noise, &mut stats, observer)?;
            outputs.push(y.f_narrow(0, 0, b as i64)?.f_to_device(Device::Cpu)?);
            first += b;
        }
        let out = Tensor::f_cat(&outputs, 0)?;
        self.next_source = end;
        let seconds = start.elapsed().as_secs_f64();
        let report = SampleReport {
            chains: n_chains,
            steps_per_chain: steps,
            seconds,
            chain_steps_per_second: (n_chains * steps) as f64 / seconds.max(1e-9),
            acceptance: stats.acceptance(),
        };
        Ok((out, report))
    }

    /// The streams of chains `first .. first + b` of a call whose first source has global index
    /// `first_source` (chain j serves that call's source j / K), the last one repeated up to
    /// `padded` rows so that the padding chains copy it exactly.
    fn batch_noise(&self, first_source: u64, first: usize, b: usize, padded: usize) -> BatchNoise {
        let k = self.cfg.samples_per_source;
        let stream = |j: usize| self.streams.chain(first_source + (j / k) as u64, (j % k) as u64);
        match self.cfg.device {
            Device::Cpu => {
                let mut streams: Vec<Rng64> = (first..first + b).map(stream).collect();
                streams.resize(padded, streams[b - 1].clone());
                BatchNoise::PerChain(streams)
            }
            device => BatchNoise::Device(Box::new(stream(first)), device),
        }
    }

    /// One batch of chains through every noise level and the denoising step.
    fn run_chains(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        noise: &mut BatchNoise,
        stats: &mut ChainStats,
        observer: Observer,
    ) -> Result<Tensor> {
        let chains = x.size()[0] as usize;
        // `resampled`: [b, 1] bool, the chains that start at a resampled target.
        let (mut y, resampled) = match (&self.cfg.init, &self.init_map) {
            (ChainInit::Source, _) => (x.shallow_clone(), None),
            (ChainInit::Resample { .. }, _) => {
                let (y, m) = self.resampled_starts(x, phi_x, noise)?;
                (y, Some(m))
            }
            (ChainInit::Map(_), Some(t)) => (tch::no_grad(|| t.forward(x))?, None),
            _ => (noise.normals(chains, self.dy)?.f_to_device(self.cfg.device)?, None),
        };
        let schedule = self.schedule();
        let join = self.cfg.resample_join();
        for (i, &level) in schedule.levels.iter().enumerate() {
            let frozen = match (&resampled, join) {
                (Some(m), Some(s)) if level.sigma > s => Some(m),
                _ => None,
            };
            y = match frozen {
                // Every chain waits for a lower level: only their noise streams advance, as they
                // would in a batch that also holds chains from noise.
                Some(m) if !self.cfg.metropolis && bool::try_from(m.f_all()?)? => {
                    for _ in 0..self.cfg.steps_per_level {
                        let _ = noise.normals(chains, self.dy)?;
                        stats.step_done(self.cfg.report_every, observer)?;
                    }
                    y
                }
                _ => {
                    let before = frozen.map(|_| y.shallow_clone());
                    let after = if self.cfg.metropolis {
                        self.mala_level(x, phi_x, y, level, noise, stats, observer)?
                    } else {
                        self.ula_level(x, phi_x, y, level, noise, stats, observer)?
                    };
                    match (frozen, before) {
                        (Some(m), Some(b)) => b.f_where_self(m, &after)?,
                        _ => after,
                    }
                }
            };
            if !bool::try_from(y.f_isfinite()?.f_all()?)? {
                return Err(Error::diverged(format!(
                    "sampling diverged at noise level {} of {} (sigma = {}): non-finite chain states; \
                     the step size {} is likely too large",
                    i + 1,
                    schedule.levels.len(),
                    level.sigma,
                    self.cfg.step_size
                )));
            }
        }
        if let Some(sigma) = schedule.denoise {
            let g = self.conditional_score(x, phi_x, &y, sigma, schedule.compatibility_weight_for(sigma * sigma))?;
            y = steps::tweedie_denoise(&y, &g, sigma)?;
            stats.done_steps += 1;
        }
        if !bool::try_from(y.f_isfinite()?.f_all()?)? {
            return Err(Error::diverged("sampling produced non-finite samples"));
        }
        Ok(y)
    }

    /// T unadjusted steps at one noise level.
    #[allow(clippy::too_many_arguments)]
    fn ula_level(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        mut y: Tensor,
        level: Level,
        noise: &mut BatchNoise,
        stats: &mut ChainStats,
        observer: Observer,
    ) -> Result<Tensor> {
        let chains = y.size()[0] as usize;
        for _ in 0..self.cfg.steps_per_level {
            let g = self.conditional_score(x, phi_x, &y, level.sigma, level.compatibility_weight)?;
            let z = noise.normals(chains, self.dy)?.f_to_device(self.cfg.device)?;
            y = steps::ula_step(&y, &g, level.step, &z)?;
            stats.step_done(self.cfg.report_every, observer)?;
        }
        Ok(y)
    }

    /// T Metropolis-adjusted steps at one noise level, each chain's step size adapted in the
    /// first half if so configured.
    #[allow(clippy::too_many_arguments)]
    fn mala_level(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        y: Tensor,
        level: Level,
        noise: &mut BatchNoise,
        stats: &mut ChainStats,
        observer: Observer,
    ) -> Result<Tensor> {
        let chains = y.size()[0] as usize;
        let (score, log_density) = self.score_and_log_density(x, phi_x, &y, level)?;
        let mut state = MalaState { y, score, log_density };
        let mut a = if self.cfg.adapt_step {
            StepSize::PerChain(Tensor::f_full([chains as i64, 1], level.step, (Kind::Float, self.cfg.device))?)
        } else {
            StepSize::Shared(level.step)
        };
        // Accepted chains summed on the device since the last read, over `pending` steps: read
        // back (a host synchronisation) only when the observer is told the acceptance and at the
        // end of the level.
        let mut accepted: Option<Tensor> = None;
        let mut pending = 0usize;
        for step in 0..self.cfg.steps_per_level {
            // Chain by chain: its dy proposal normals, then its accept-test normal.
            let zu = noise.normals(chains, self.dy + 1)?.f_to_device(self.cfg.device)?;
            let z = zu.f_narrow(1, 0, self.dy as i64)?;
            let u = zu.f_select(1, self.dy as i64)?;
            let (next, outcome) =
                steps::mala_step(&state, &a, &z, &u, |prop| self.score_and_log_density(x, phi_x, prop, level))?;
            state = next;
            if let (StepSize::PerChain(sizes), true) = (&a, step < self.cfg.steps_per_level / 2) {
                a = StepSize::PerChain(steps::adapted_step_sizes(sizes, step, &outcome.probability)?);
            }
            let acc = outcome.accept.f_narrow(0, 0, stats.batch_real as i64)?.f_sum(Kind::Float)?;
            accepted = Some(match accepted {
                Some(mut sum) => sum.f_add_(&acc)?,
                None => acc,
            });
            pending += 1;
            if step + 1 == self.cfg.steps_per_level || stats.report_due(self.cfg.report_every) {
                let count = accepted.take().map_or(Ok(0.0), |t| t.f_double_value(&[]))?;
                stats.record_mala(count, pending * stats.batch_real);
                pending = 0;
            }
            stats.step_done(self.cfg.report_every, observer)?;
        }
        Ok(state.y)
    }

    fn compatibility(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        y: &Tensor,
        want_log: bool,
    ) -> Result<Compatibility> {
        if !self.cfg.use_compatibility {
            let log_m = if want_log { Some(Tensor::f_zeros([y.size()[0]], (Kind::Float, y.device()))?) } else { None };
            return Ok(Compatibility { grad: y.f_zeros_like()?, log_m });
        }
        let (psi_y, grad_psi) = self.psi.value_and_input_grad_in(y, &mut self.psi_buffers)?;
        let violation = match phi_x {
            Some(phi_x) => Some(violation_paired(phi_x, &psi_y, &self.cost.paired(x, y)?)?),
            None => None,
        };
        let slope = if self.regularizer.log_compatibility_is_linear() {
            LogMSlope::Linear { lambda: self.regularizer.lambda }
        } else {
            let v = violation.as_ref().ok_or_else(|| Error::internal("phi(x) is needed for nonlinear log M"))?;
            LogMSlope::PerChain(self.regularizer.dlog_compatibility(v)?)
        };
        let grad = steps::compatibility_gradient(grad_psi, &self.cost.grad_y(x, y)?, &slope)?;
        let log_m = match (&violation, want_log) {
            (Some(v), true) => Some(self.regularizer.log_compatibility(v)?),
            _ => None,
        };
        Ok(Compatibility { grad, log_m })
    }

    /// The conditional score s(y, sigma) + w grad_y log M(V(x, y)), w the level's compatibility
    /// weight (1 untempered).
    fn conditional_score(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        y: &Tensor,
        sigma: f64,
        weight: f64,
    ) -> Result<Tensor> {
        let s = self.score.score(y, sigma)?;
        if self.cfg.compatibility_at_denoised && sigma > 0.0 {
            let c = self.compatibility(x, phi_x, &steps::tweedie_denoise(y, &s, sigma)?, false)?;
            let mut grad = tempered(c.grad, weight)?;
            if self.cfg.posterior_smoothing {
                let w = self.posterior_smoothing_weight(y, &s, sigma)?;
                grad = grad.f_mul_(&w)?;
            }
            return Ok(grad.f_add_(&s)?);
        }
        let c = self.compatibility(x, phi_x, y, false)?;
        Ok(tempered(c.grad, weight)?.f_add_(&s)?)
    }

    /// 1 / (1 + p tau^2) per chain, [b, 1]: tau^2 = sigma^2 + sigma^4 tr(grad s) / d, the
    /// posterior variance of the clean point (Tweedie), clamped to [0, sigma^2]; the trace is a
    /// finite difference of the score along the fixed probe (1, -1, 1, ...), the same for every
    /// chain so that a chain's moves depend on its own state only.
    fn posterior_smoothing_weight(&mut self, y: &Tensor, s: &Tensor, sigma: f64) -> Result<Tensor> {
        let d = self.dy as i64;
        let probe: Vec<f32> = (0..d).map(|k| if k % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let v = Tensor::f_from_slice(&probe)?.f_to_device(y.device())?.f_unsqueeze(0)?;
        let delta = 1e-2 * sigma;
        let shifted = self.score.score(&y.f_add(&v.f_mul_scalar(delta)?)?, sigma)?;
        let quad = shifted.f_sub(s)?.f_mul(&v)?.f_sum_dim_intlist(1, true, None)?.f_div_scalar(delta * d as f64)?;
        let tau2 = quad.f_mul_scalar(sigma.powi(4))?.f_add_scalar(sigma * sigma)?.f_clamp(0.0, sigma * sigma)?;
        let p = self.compatibility_stiffness();
        Ok(tau2.f_mul_scalar(p)?.f_add_scalar(1.0)?.f_reciprocal()?)
    }

    /// Full conditional score and log of tau_sigma(y) M(V(x, y))^w up to a constant (Metropolis
    /// adjustment) at one level.
    fn score_and_log_density(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        y: &Tensor,
        level: Level,
    ) -> Result<(Tensor, Tensor)> {
        let c = self.compatibility(x, phi_x, y, true)?;
        let (s, log_tau) = self.score.score_and_log_density(y, level.sigma)?;
        let log_tau = log_tau.ok_or_else(|| Error::internal("log-density vanished"))?;
        let log_m = c.log_m.ok_or_else(|| Error::internal("log M not computed"))?;
        let w = level.compatibility_weight;
        Ok((tempered(c.grad, w)?.f_add_(&s)?, tempered(log_m, w)?.f_add_(&log_tau)?))
    }

    /// p, the y-stiffness of -log M: the cost's y-curvature times the nominal slope 1 / lambda.
    fn compatibility_stiffness(&self) -> f64 {
        self.cost.y_curvature(self.dy) / self.regularizer.lambda
    }

    fn schedule(&self) -> Schedule {
        self.cfg.schedule(self.compatibility_stiffness())
    }
}

/// t w (in place: t is a fresh temporary), skipping the multiplication when w = 1 (untempered
/// levels stay bit-identical).
fn tempered(mut t: Tensor, w: f64) -> Result<Tensor> {
    if w == 1.0 {
        Ok(t)
    } else {
        Ok(t.f_mul_scalar_(w)?)
    }
}
