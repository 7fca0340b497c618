//! Algorithm 2: Langevin sampling of the conditional coupling pi(y | x).
//!
//! The conditional score is the target score plus the compatibility gradient:
//!
//!   grad_y log pi(y | x) = s(y) + grad_y log M(V(x, y)),
//!   grad_y log M(V) = (log M)'(V) (grad psi(y) - grad_y c(x, y)).
//!
//! Every step is y <- y + a score + sqrt(2 a) z. Annealed (Song & Ermon 2020; the authors' code):
//! noise levels sigma_1 > ... > sigma_N geometric, a_i = eps (sigma_i / sigma_N)^2, T steps each,
//! the target score smoothed at sigma_i, then one denoising step
//! y <- y + sigma_N^2 (s(y, sigma_N) + grad_y log M) (Tweedie). The compatibility term is not
//! rescaled with the noise level. Plain (a known exact score, the paper's Gaussian experiment):
//! one level, a = eps / 2, i.e. y <- y + (eps/2) score + sqrt(eps) z, as in Algorithm 2.
//!
//! With a score source that knows its log-density, each step can be Metropolis-adjusted (MALA):
//! the chain then targets pi(y | x) exactly instead of with O(eps) bias.

use std::sync::Arc;
use std::time::Instant;

use tch::{Device, Kind, Tensor};

use crate::neural::dual::DualPotentials;
use crate::neural::mlp::Mlp;
use crate::ot::{Cost, Regularizer};
use crate::runtime::error::{Error, Result};
use crate::runtime::progress::{Observer, Phase, Progress};
use crate::runtime::rng::Rng64;
use crate::score::{BoundScore, ScoreSource};

#[derive(Clone)]
pub enum ChainInit {
    /// y_0 ~ N(0, I), as Algorithm 2.
    Noise,
    /// y_0 = x (needs dx = dy): starts near the coupling when the transport is short.
    Source,
    /// y_0 = T(x), a barycentric map: starts at the conditional mean, inside pi(. | x)'s bulk.
    Map(Arc<parking_lot::Mutex<Mlp>>),
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
        })
    }
}

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
            cost: dual.cost,
            dx: dual.dx,
            dy: dual.dy,
            score: bound,
            init_map,
            rng: Rng64::new(cfg.seed),
            cfg,
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
        let levels = self.cfg.annealing.map_or(1, |a| a.levels);
        levels * self.cfg.steps_per_level + usize::from(self.cfg.annealing.is_some() && self.cfg.denoise)
    }

    fn compatibility(&self, x: &Tensor, phi_x: Option<&Tensor>, y: &Tensor, want_log: bool) -> Result<Compatibility> {
        if !self.cfg.use_compatibility {
            let log_m = if want_log { Some(Tensor::f_zeros([y.size()[0]], (Kind::Float, y.device()))?) } else { None };
            return Ok(Compatibility { grad: y.f_zeros_like()?, log_m });
        }
        let (psi_y, grad_psi) = self.psi.value_and_input_grad(y)?;
        let grad_v = grad_psi.f_sub(&self.cost.grad_y(x, y)?)?;
        let violation = match phi_x {
            Some(phi_x) => Some(phi_x.f_add(&psi_y)?.f_sub(&self.cost.paired(x, y)?)?),
            None => None,
        };
        let grad = if self.regularizer.log_compatibility_is_linear() {
            grad_v.f_div_scalar(self.regularizer.lambda)?
        } else {
            let v = violation.as_ref().expect("phi(x) is computed for nonlinear log M");
            grad_v.f_mul(&self.regularizer.dlog_compatibility(v)?.f_unsqueeze(1)?)?
        };
        let log_m = match (&violation, want_log) {
            (Some(v), true) => Some(self.regularizer.log_compatibility(v)?),
            _ => None,
        };
        Ok(Compatibility { grad, log_m })
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
        let total_steps = (n_chains.div_ceil(self.cfg.chain_batch) * steps) as u64;
        let needs_phi = !self.regularizer.log_compatibility_is_linear();
        let start = Instant::now();
        let mut outputs = Vec::new();
        let (mut accepted, mut proposed) = (0f64, 0f64);
        let mut done_steps = 0u64;
        let mut first = 0usize;
        while first < n_chains {
            let b = self.cfg.chain_batch.min(n_chains - first);
            let xb = chains.f_narrow(0, first as i64, b as i64)?;
            let phi_x = if needs_phi || self.cfg.metropolis {
                Some(tch::no_grad(|| -> Result<Tensor> { Ok(self.phi.forward(&xb)?.f_squeeze_dim(1)?) })?)
            } else {
                None
            };
            let y = self.run_chains(
                &xb,
                phi_x.as_ref(),
                &mut done_steps,
                total_steps,
                &mut accepted,
                &mut proposed,
                observer,
            )?;
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
            acceptance: if proposed > 0.0 { accepted / proposed } else { f64::NAN },
        };
        Ok((out, report))
    }

    #[allow(clippy::too_many_arguments)]
    fn run_chains(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        done_steps: &mut u64,
        total_steps: u64,
        accepted: &mut f64,
        proposed: &mut f64,
        observer: Observer,
    ) -> Result<Tensor> {
        let device = self.cfg.device;
        let b = x.size()[0];
        let shape = [b, self.dy as i64];
        let mut y = match (&self.cfg.init, &self.init_map) {
            (ChainInit::Source, _) => x.shallow_clone(),
            (ChainInit::Map(_), Some(t)) => tch::no_grad(|| t.forward(x))?,
            _ => self.rng.normal_tensor(&shape, Kind::Float, device)?,
        };
        let (sigmas, annealed) = match self.cfg.annealing {
            Some(a) => (a.sigmas(), true),
            None => (vec![0.0], false),
        };
        let sigma_last = *sigmas.last().unwrap();
        let mala = self.cfg.metropolis;
        for (level, &sigma) in sigmas.iter().enumerate() {
            let a = if annealed { self.cfg.step_size * (sigma / sigma_last).powi(2) } else { self.cfg.step_size / 2.0 };
            let mut a = a;
            // State carried between MALA steps: the score and log-density at y.
            let mut cached: Option<(Tensor, Tensor)> = None;
            for step in 0..self.cfg.steps_per_level {
                let noise_scale = (2.0 * a).sqrt();
                if mala {
                    let (g, logp) = match cached.take() {
                        Some(c) => c,
                        None => self.score_and_log_density(x, phi_x, &y, sigma)?,
                    };
                    let z = self.rng.normal_tensor(&shape, Kind::Float, device)?;
                    let prop = y.f_add(&g.f_mul_scalar(a)?)?.f_add(&z.f_mul_scalar(noise_scale)?)?;
                    let (g_prop, logp_prop) = self.score_and_log_density(x, phi_x, &prop, sigma)?;
                    // log q(y | prop) - log q(prop | y) with q(b | a) = N(b; a + a_step g(a), 2 a_step I)
                    let fwd = z.f_square()?.f_sum_dim_intlist(1, false, None)?.f_mul_scalar(-0.5)?;
                    let back_res = y.f_sub(&prop)?.f_sub(&g_prop.f_mul_scalar(a)?)?;
                    let bwd = back_res.f_square()?.f_sum_dim_intlist(1, false, None)?.f_div_scalar(-4.0 * a)?;
                    let log_ratio = logp_prop.f_sub(&logp)?.f_add(&bwd)?.f_sub(&fwd)?;
                    let u = self.rng.normal_tensor(&[b], Kind::Float, device)?;
                    let log_u = uniform_from_normal(&u)?.f_log()?;
                    let accept = log_u.f_lt_tensor(&log_ratio.f_nan_to_num(Some(f64::NEG_INFINITY), None, None)?)?;
                    let rate = accept.f_sum(Kind::Float)?.f_double_value(&[])? / b as f64;
                    *accepted += rate * b as f64;
                    *proposed += b as f64;
                    if self.cfg.adapt_step && step < self.cfg.steps_per_level / 2 {
                        // Robbins-Monro on log a with a decaying gain.
                        let gain = 1.0 / (1.0 + step as f64).powf(0.6);
                        a *= (gain * (rate - 0.574)).exp();
                    }
                    let acc_col = accept.f_unsqueeze(1)?;
                    y = prop.f_where_self(&acc_col, &y)?;
                    let g_new = g_prop.f_where_self(&acc_col, &g)?;
                    let lp_new = logp_prop.f_where_self(&accept, &logp)?;
                    cached = Some((g_new, lp_new));
                } else {
                    let g = self.score.score(&y, sigma)?.f_add(&self.compatibility(x, phi_x, &y, false)?.grad)?;
                    let z = self.rng.normal_tensor(&shape, Kind::Float, device)?;
                    y = y.f_add(&g.f_mul_scalar(a)?)?.f_add(&z.f_mul_scalar(noise_scale)?)?;
                }
                *done_steps += 1;
                if *done_steps % self.cfg.report_every as u64 == 0 {
                    let mut p = Progress::new(Phase::Sampling, *done_steps, total_steps);
                    if *proposed > 0.0 {
                        p.acceptance = *accepted / *proposed;
                    }
                    if !observer(&p) {
                        return Err(Error::cancelled(format!("sampling cancelled by the host at step {done_steps}")));
                    }
                }
            }
            if !bool::try_from(y.f_isfinite()?.f_all()?)? {
                return Err(Error::diverged(format!(
                    "sampling diverged at noise level {} of {} (sigma = {sigma}): non-finite chain states; \
                     the step size {} is likely too large",
                    level + 1,
                    sigmas.len(),
                    self.cfg.step_size
                )));
            }
        }
        if annealed && self.cfg.denoise {
            let g = self.score.score(&y, sigma_last)?.f_add(&self.compatibility(x, phi_x, &y, false)?.grad)?;
            y = y.f_add(&g.f_mul_scalar(sigma_last * sigma_last)?)?;
            *done_steps += 1;
        }
        if !bool::try_from(y.f_isfinite()?.f_all()?)? {
            return Err(Error::diverged("sampling produced non-finite samples"));
        }
        Ok(y)
    }

    /// Full conditional score and log pi(y | x) up to a constant (Metropolis adjustment).
    fn score_and_log_density(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        y: &Tensor,
        sigma: f64,
    ) -> Result<(Tensor, Tensor)> {
        let c = self.compatibility(x, phi_x, y, true)?;
        let s = self.score.score(y, sigma)?;
        let log_tau = self.score.log_density(y, sigma)?.ok_or_else(|| Error::internal("log-density vanished"))?;
        let log_m = c.log_m.ok_or_else(|| Error::internal("log M not computed"))?;
        Ok((s.f_add(&c.grad)?, log_tau.f_add(&log_m)?))
    }
}

/// Uniform(0, 1) from standard normals through the normal CDF, so that one noise source serves
/// both (keeps the CUDA path on-device and the CPU path on the seeded stream).
fn uniform_from_normal(z: &Tensor) -> Result<Tensor> {
    Ok(z.f_div_scalar(std::f64::consts::SQRT_2)?.f_erf()?.f_add_scalar(1.0)?.f_mul_scalar(0.5)?.f_clamp(1e-12, 1.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::Divergence;
    use crate::reference::gaussian::{self, Spectrum};
    use crate::score::GaussianScore;

    /// Potentials that are exactly zero (last layers zeroed): with KL the conditional is then
    /// pi(y | x) ∝ tau(y) exp(-|x - y|^2 / lambda), a Gaussian with precision B^-1 + (2/lambda) I
    /// and mean P^-1 (2 x / lambda): a known answer for the sampler alone.
    fn zero_dual(d: usize, lambda: f64) -> DualPotentials {
        let mut rng = Rng64::new(1);
        let phi = Mlp::new(d, &[8], 1, &mut rng, Device::Cpu).unwrap();
        let psi = Mlp::new(d, &[8], 1, &mut rng, Device::Cpu).unwrap();
        tch::no_grad(|| {
            for net in [&phi, &psi] {
                let (w, b) = net.layers.last().unwrap();
                let _ = w.shallow_clone().zero_();
                let _ = b.shallow_clone().zero_();
            }
        });
        DualPotentials {
            phi,
            psi,
            regularizer: Regularizer::new(Divergence::Kl, lambda).unwrap(),
            cost: Cost::SqEuclidean,
            dx: d,
            dy: d,
            device: Device::Cpu,
        }
    }

    struct Exact {
        mean: Vec<f64>,
        cov: Vec<f64>,
    }

    fn exact_conditional(b: &[f64], d: usize, lambda: f64, x: &[f64]) -> Exact {
        let bt = crate::reference::linalg::mat(b, d).unwrap();
        let p = bt.inverse() + crate::reference::linalg::eye(d).unwrap() * (2.0 / lambda);
        let cov = p.inverse();
        let mean = cov.matmul(&(Tensor::from_slice(x) * (2.0 / lambda)));
        Exact {
            mean: crate::reference::linalg::to_vec(&mean).unwrap(),
            cov: crate::reference::linalg::to_vec(&cov).unwrap(),
        }
    }

    fn moments(y: &Tensor, d: usize) -> (Vec<f64>, Vec<f64>) {
        let v = crate::reference::linalg::to_vec(y).unwrap();
        let n = v.len() / d;
        let mean: Vec<f64> = (0..d).map(|k| (0..n).map(|i| v[i * d + k]).sum::<f64>() / n as f64).collect();
        (mean, crate::reference::metrics::covariance(&v, d).unwrap())
    }

    /// Checks sample moments against the exact conditional within `z` standard errors of an
    /// i.i.d. sample of size n (plus an allowed bias `bias` relative to the variances).
    fn check(y: &Tensor, ex: &Exact, d: usize, z: f64, bias: f64) {
        let n = y.size()[0] as f64;
        let (mean, cov) = moments(y, d);
        for k in 0..d {
            let var = ex.cov[k * d + k];
            let se = (var / n).sqrt();
            assert!((mean[k] - ex.mean[k]).abs() < z * se, "mean[{k}] {} vs {} (se {se})", mean[k], ex.mean[k]);
        }
        for r in 0..d {
            for c in 0..d {
                // Var of a sample covariance entry: (S_rr S_cc + S_rc^2) / n.
                let se = ((ex.cov[r * d + r] * ex.cov[c * d + c] + ex.cov[r * d + c].powi(2)) / n).sqrt();
                let tol = z * se + bias * (ex.cov[r * d + r] * ex.cov[c * d + c]).sqrt();
                assert!(
                    (cov[r * d + c] - ex.cov[r * d + c]).abs() < tol,
                    "cov[{r},{c}] {} vs {} (tol {tol})",
                    cov[r * d + c],
                    ex.cov[r * d + c]
                );
            }
        }
    }

    fn setup(d: usize) -> (Vec<f64>, f64, Vec<f64>) {
        (
            gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap(),
            2.0 * d as f64,
            vec![1.0, -0.5, 0.25][..d].to_vec(),
        )
    }

    #[test]
    fn metropolis_adjusted_langevin_hits_the_exact_conditional() {
        let d = 2;
        let (b, lambda, x) = setup(d);
        let mut cfg = SamplerConfig::new();
        cfg.metropolis = true;
        cfg.step_size = 0.2;
        cfg.steps_per_level = 300;
        cfg.samples_per_source = 8000;
        cfg.seed = 3;
        let mut s =
            Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
        let (y, rep) = s
            .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut crate::runtime::progress::ignore)
            .unwrap();
        assert_eq!(y.size(), [8000, 2]);
        assert!(rep.acceptance > 0.5 && rep.acceptance < 1.0, "acceptance {}", rep.acceptance);
        // MALA is exact: only sampling error (chains are independent after 300 steps).
        check(&y, &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.0);
    }

    #[test]
    fn adapted_metropolis_step_reaches_its_acceptance_target_and_stays_exact() {
        let d = 3;
        let (b, lambda, x) = setup(d);
        let mut cfg = SamplerConfig::new();
        cfg.metropolis = true;
        cfg.adapt_step = true;
        cfg.step_size = 5.0; // far too large: acceptance near 0 until adapted
        cfg.steps_per_level = 400;
        cfg.samples_per_source = 6000;
        let mut s =
            Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 3], &b).unwrap()), cfg).unwrap();
        let mut last = f64::NAN;
        let (y, _) = s
            .sample(&Tensor::from_slice(&x).view([1, 3]).to_kind(Kind::Float), &mut |p| {
                last = p.acceptance;
                true
            })
            .unwrap();
        // The overall rate includes the first steps at the bad step size; it still ends near the
        // target (0.574) once adaptation has settled.
        assert!(last > 0.4 && last < 0.75, "acceptance {last}");
        check(&y, &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.0);
    }

    #[test]
    fn unadjusted_langevin_is_close_with_a_small_step() {
        let d = 2;
        let (b, lambda, x) = setup(d);
        let mut cfg = SamplerConfig::new();
        cfg.step_size = 0.01;
        cfg.steps_per_level = 1500;
        cfg.samples_per_source = 6000;
        cfg.init = ChainInit::Source;
        let mut s =
            Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
        let (y, _) = s
            .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut crate::runtime::progress::ignore)
            .unwrap();
        // ULA with step a = eps/2 inflates variances by about a * lambda_max(P) / 2 (< 1% here).
        check(&y, &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.01);
    }

    #[test]
    fn annealed_langevin_with_denoising_approaches_the_conditional() {
        let d = 2;
        let (b, lambda, x) = setup(d);
        let mut cfg = SamplerConfig::new();
        cfg.annealing = Some(Annealing { sigma_first: 1.0, sigma_last: 0.01, levels: 10 });
        cfg.denoise = true;
        cfg.step_size = 2e-5;
        cfg.steps_per_level = 100;
        cfg.samples_per_source = 6000;
        let mut s =
            Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
        assert_eq!(s.steps_per_chain(), 1001);
        let (y, _) = s
            .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut crate::runtime::progress::ignore)
            .unwrap();
        check(&y, &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.03);
    }

    #[test]
    fn same_seed_reproduces_and_samples_are_grouped_by_source() {
        let d = 2;
        let (b, lambda, _) = setup(d);
        let mut cfg = SamplerConfig::new();
        cfg.steps_per_level = 20;
        cfg.samples_per_source = 3;
        cfg.chain_batch = 4; // several batches
        cfg.init = ChainInit::Source;
        let dual = zero_dual(d, lambda);
        let score: Arc<dyn ScoreSource> = Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap());
        let xs = Tensor::from_slice(&[50.0f32, 50.0, -50.0, -50.0]).view([2, 2]);
        let run = || {
            Sampler::new(&dual, score.clone(), cfg.clone())
                .unwrap()
                .sample(&xs, &mut crate::runtime::progress::ignore)
                .unwrap()
                .0
        };
        let (y1, y2) = (run(), run());
        assert_eq!(y1, y2);
        // lambda = 4 pulls samples strongly towards their source: rows 0-2 positive, 3-5 negative
        let v = crate::reference::linalg::to_vec(&y1).unwrap();
        assert!(v[..6].iter().all(|&t| t > 0.0) && v[6..].iter().all(|&t| t < 0.0), "{v:?}");
    }

    #[test]
    fn divergence_is_reported_not_returned() {
        let d = 2;
        let (b, lambda, x) = setup(d);
        let mut cfg = SamplerConfig::new();
        cfg.step_size = 50.0; // far beyond stability for precisions ~1
        cfg.steps_per_level = 400;
        let mut s =
            Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
        let e = s
            .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut crate::runtime::progress::ignore)
            .unwrap_err();
        assert_eq!(e.kind, crate::runtime::error::ErrorKind::Diverged, "{e}");
    }

    #[test]
    fn cancellation_stops_sampling() {
        let d = 2;
        let (b, lambda, x) = setup(d);
        let mut cfg = SamplerConfig::new();
        cfg.report_every = 10;
        let mut s =
            Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
        let mut calls = 0;
        let e = s
            .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut |p| {
                calls += 1;
                p.iteration < 30
            })
            .unwrap_err();
        assert_eq!(e.kind, crate::runtime::error::ErrorKind::Cancelled);
        assert_eq!(calls, 3);
    }
}
