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

mod config;
pub mod schedule;
pub mod steps;
#[cfg(test)]
mod tests;

pub use config::{ChainInit, SampleReport, SamplerConfig};
pub use schedule::Annealing;

use std::sync::Arc;
use std::time::Instant;

use tch::{Device, Kind, Tensor};

use crate::neural::dual::DualPotentials;
use crate::neural::mlp::{InputGradBuffers, Mlp};
use crate::ot::{violation_paired, Cost, Regularizer};
use crate::runtime::error::{Error, Result};
use crate::runtime::progress::{Observer, Phase, Progress};
use crate::runtime::rng::Rng64;
use crate::score::{BoundScore, ScoreSource};
use schedule::{Level, Schedule};
use steps::{LogMSlope, MalaState};

/// Counters of one `sample` call, carried across chain batches.
struct ChainStats {
    /// Sum over MALA steps of the chains that accepted, and of the chains that proposed.
    accepted: f64,
    proposed: f64,
    /// Langevin steps done by all batches so far, out of `total_steps`.
    done_steps: u64,
    total_steps: u64,
}

impl ChainStats {
    /// NaN before any Metropolis-adjusted step.
    fn acceptance(&self) -> f64 {
        if self.proposed > 0.0 {
            self.accepted / self.proposed
        } else {
            f64::NAN
        }
    }

    fn record_mala(&mut self, accepted: f64, proposed: usize) {
        self.accepted += accepted;
        self.proposed += proposed as f64;
    }

    /// Whether the next `step_done` reports to the observer.
    fn report_due(&self, report_every: usize) -> bool {
        (self.done_steps + 1) % report_every as u64 == 0
    }

    /// Counts one Langevin step; every `report_every` steps tells the observer, which may cancel.
    fn step_done(&mut self, report_every: usize, observer: Observer) -> Result<()> {
        self.done_steps += 1;
        if self.done_steps % report_every as u64 == 0 {
            let mut p = Progress::new(Phase::Sampling, self.done_steps, self.total_steps);
            p.acceptance = self.acceptance();
            if !observer(&p) {
                return Err(Error::cancelled(format!("sampling cancelled by the host at step {}", self.done_steps)));
            }
        }
        Ok(())
    }
}

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
    cfg: SamplerConfig,
    rng: Rng64,
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
            psi: dual.psi.detached_to(cfg.device)?,
            regularizer: dual.regularizer,
            cost: dual.cost.clone(),
            dx: dual.dx,
            dy: dual.dy,
            score: bound,
            init_map,
            rng: Rng64::new(cfg.seed),
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
    /// CPU, the K samples of source i in rows i K .. i K + K - 1.
    pub fn sample(&mut self, x: &Tensor, observer: Observer) -> Result<(Tensor, SampleReport)> {
        let s = x.size();
        if s.len() != 2 || s[1] != self.dx as i64 {
            return Err(Error::shape(format!("sources must be [n, {}], got {s:?}", self.dx)));
        }
        if s[0] == 0 {
            return Err(Error::invalid("no source points given"));
        }
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
        };
        let mut first = 0usize;
        while first < n_chains {
            let b = self.cfg.chain_batch.min(n_chains - first);
            let xb = chains.f_narrow(0, first as i64, b as i64)?;
            let phi_x = if needs_phi || self.cfg.metropolis {
                Some(tch::no_grad(|| -> Result<Tensor> { Ok(self.phi.forward(&xb)?.f_squeeze_dim(1)?) })?)
            } else {
                None
            };
            let y = self.run_chains(&xb, phi_x.as_ref(), &mut stats, observer)?;
            outputs.push(y.f_to_device(Device::Cpu)?);
            first += b;
        }
        let out = Tensor::f_cat(&outputs, 0)?;
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

    /// One batch of chains through every noise level and the denoising step.
    fn run_chains(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        stats: &mut ChainStats,
        observer: Observer,
    ) -> Result<Tensor> {
        let shape = [x.size()[0], self.dy as i64];
        let mut y = match (&self.cfg.init, &self.init_map) {
            (ChainInit::Source, _) => x.shallow_clone(),
            (ChainInit::Map(_), Some(t)) => tch::no_grad(|| t.forward(x))?,
            _ => self.rng.normal_tensor(&shape, Kind::Float, self.cfg.device)?,
        };
        let schedule = self.schedule();
        for (i, &level) in schedule.levels.iter().enumerate() {
            y = if self.cfg.metropolis {
                self.mala_level(x, phi_x, y, level, stats, observer)?
            } else {
                self.ula_level(x, phi_x, y, level, stats, observer)?
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
    fn ula_level(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        mut y: Tensor,
        level: Level,
        stats: &mut ChainStats,
        observer: Observer,
    ) -> Result<Tensor> {
        let shape = y.size();
        for _ in 0..self.cfg.steps_per_level {
            let g = self.conditional_score(x, phi_x, &y, level.sigma, level.compatibility_weight)?;
            let z = self.rng.normal_tensor(&shape, Kind::Float, self.cfg.device)?;
            y = steps::ula_step(&y, &g, level.step, &z)?;
            stats.step_done(self.cfg.report_every, observer)?;
        }
        Ok(y)
    }

    /// T Metropolis-adjusted steps at one noise level, the step size adapted in the first half
    /// if so configured.
    fn mala_level(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        y: Tensor,
        level: Level,
        stats: &mut ChainStats,
        observer: Observer,
    ) -> Result<Tensor> {
        let shape = y.size();
        let (score, log_density) = self.score_and_log_density(x, phi_x, &y, level)?;
        let mut state = MalaState { y, score, log_density };
        let mut a = level.step;
        let chains = shape[0] as usize;
        // Accepted chains summed on the device since the last read, over `pending` steps: read
        // back (a host synchronisation) only when the step size adapts to it, when the observer
        // is told the acceptance, and at the end of the level.
        let mut accepted: Option<Tensor> = None;
        let mut pending = 0usize;
        for step in 0..self.cfg.steps_per_level {
            let z = self.rng.normal_tensor(&shape, Kind::Float, self.cfg.device)?;
            let u = self.rng.normal_tensor(&shape[..1], Kind::Float, self.cfg.device)?;
            let (next, acc) =
                steps::mala_step(&state, a, &z, &u, |prop| self.score_and_log_density(x, phi_x, prop, level))?;
            state = next;
            accepted = Some(match accepted {
                Some(mut sum) => sum.f_add_(&acc)?,
                None => acc,
            });
            pending += 1;
            let adapting = self.cfg.adapt_step && step < self.cfg.steps_per_level / 2;
            let last = step + 1 == self.cfg.steps_per_level;
            if adapting || last || stats.report_due(self.cfg.report_every) {
                let count = accepted.take().map_or(Ok(0.0), |t| t.f_double_value(&[]))?;
                stats.record_mala(count, pending * chains);
                if adapting {
                    a = steps::adapted_step_size(a, step, count / chains as f64);
                }
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
            return Ok(tempered(c.grad, weight)?.f_add_(&s)?);
        }
        let c = self.compatibility(x, phi_x, y, false)?;
        Ok(tempered(c.grad, weight)?.f_add_(&s)?)
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
