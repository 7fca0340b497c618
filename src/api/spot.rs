//! SPOT on arrays: [`SpotOptions`] and the trained joint sampler [`Spot`].

use std::path::Path;
use std::sync::Arc;

use ndarray::{Array2, AsArray, Ix2};

use super::{observe, parse_device, tensor_f32, to_array2, Float, Measure, ProgressFn};
use crate::neural::optim::LrSchedule;
use crate::neural::spot::{self, SpotConfig, SpotModel, SpotReport};
use crate::ot::measure::Empirical;
use crate::ot::Cost;
use crate::runtime::error::Result;
use crate::runtime::progress::Progress;

/// Options of SPOT training (the thesis' Algorithm 3), as a builder. Defaults are the tuned
/// setting ([`SpotOptions::new`]); [`SpotOptions::thesis`] starts from the thesis' section 3.6.1.
#[derive(Clone)]
pub struct SpotOptions {
    cfg: SpotConfig,
    device: String,
    threads: usize,
    progress: Option<ProgressFn>,
}

impl Default for SpotOptions {
    fn default() -> Self {
        SpotOptions { cfg: SpotConfig::default(), device: "cpu".into(), threads: 0, progress: None }
    }
}

impl SpotOptions {
    /// The tuned default: separate generators and critics of two hidden layers of 64, eta from the data,
    /// n_critic 5, Adam(1e-3, 0.5, 0.999) with cosine decay to 1e-4, batches of 256, 5000
    /// iterations, a generator EMA of 0.999, squared Euclidean cost.
    pub fn new() -> SpotOptions {
        SpotOptions::default()
    }

    /// The thesis' setup: generators of two hidden layers of 8, critics of one hidden layer of 8,
    /// eta 1e4, batch 100, Adam(1e-3, 0.5, 0.999) at a constant rate, no EMA, Euclidean cost.
    pub fn thesis() -> SpotOptions {
        SpotOptions { cfg: SpotConfig::thesis(), ..SpotOptions::default() }
    }

    pub fn cost(mut self, cost: Cost) -> Self {
        self.cfg.cost = cost;
        self
    }

    /// Hidden widths of the generator network(s) and of the critics.
    pub fn hidden(mut self, generator: &[usize], critic: &[usize]) -> Self {
        (self.cfg.generator_hidden, self.cfg.critic_hidden) = (generator.to_vec(), critic.to_vec());
        self
    }

    /// Dimension of the latent Z ~ N(0, I); 0 takes the sum of the marginal dimensions.
    pub fn latent_dim(mut self, d: usize) -> Self {
        self.cfg.latent_dim = d;
        self
    }

    /// One generator network with a head per marginal instead of one network per marginal.
    pub fn shared_generator(mut self, shared: bool) -> Self {
        self.cfg.shared_generator = shared;
        self
    }

    /// Weight eta of the marginal penalty (0: 10 times the cost's Lipschitz constant on the
    /// data) and critic steps per generator step.
    pub fn penalty(mut self, eta: f64, n_critic: usize) -> Self {
        (self.cfg.eta, self.cfg.n_critic) = (eta, n_critic);
        self
    }

    pub fn adam(mut self, learning_rate: f64, beta1: f64, beta2: f64) -> Self {
        let o = &mut self.cfg.optim;
        (o.learning_rate, o.beta1, o.beta2) = (learning_rate, beta1, beta2);
        self
    }

    pub fn schedule(mut self, schedule: LrSchedule) -> Self {
        self.cfg.optim.schedule = schedule;
        self
    }

    /// Entropy regularisation lambda E log p(G(Z)) through a neural-ODE generator of `steps`
    /// Euler steps (section 3.4); lambda = 0 turns it off.
    pub fn entropy(mut self, lambda: f64, steps: usize) -> Self {
        self.cfg.entropy = (lambda != 0.0).then_some(crate::neural::spot::Entropy { lambda, steps });
        self
    }

    /// Decay of the generator's weight average in [0, 1) (0: sample from the last iterate).
    pub fn generator_ema(mut self, decay: f64) -> Self {
        self.cfg.generator_ema = decay;
        self
    }

    pub fn batch_size(mut self, n: usize) -> Self {
        self.cfg.optim.batch_size = n;
        self
    }

    /// Generator steps (each after n_critic critic steps).
    pub fn iterations(mut self, iterations: usize) -> Self {
        self.cfg.optim.iterations = iterations;
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.optim.seed = seed;
        self
    }

    /// "cpu", "cuda", "cuda:N" or "auto"; an absent device fails the call.
    pub fn device(mut self, device: &str) -> Self {
        self.device = device.to_string();
        self
    }

    /// libtorch intra-op threads: n > 0 exactly n, 0 the fair share (`runtime::threads`).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Calls `f` every `every` iterations with the batch plan cost (objective) and the critics'
    /// gap (marginal_error); `false` cancels.
    pub fn progress(mut self, every: usize, f: impl Fn(&Progress) -> bool + Send + Sync + 'static) -> Self {
        self.cfg.optim.report_every = every;
        self.progress = Some(Arc::new(f));
        self
    }

    fn config(&self) -> Result<SpotConfig> {
        let mut cfg = self.cfg.clone();
        cfg.optim.device = parse_device(&self.device)?;
        cfg.validate()?;
        Ok(cfg)
    }
}

/// A SPOT plan: a generator whose push-forward of Z ~ N(0, I) is a coupling of the marginals it
/// was trained on, sampled as paired rows.
///
/// ```
/// use ndarray::Array2;
/// use scones::api::{gaussian, Cost};
/// use scones::{Spot, SpotOptions};
/// # fn main() -> scones::Result<()> {
/// let x = gaussian::sample(&[-2.5, 0.0], &Array2::<f64>::eye(2), 4000, 1)?;
/// let y = gaussian::sample(&[2.5, 0.0], &Array2::<f64>::eye(2), 4000, 2)?;
/// let options = SpotOptions::new().cost(Cost::Euclidean).hidden(&[16, 16], &[16, 16]).iterations(300);
/// let plan = Spot::train(&x, &y, &options)?;
/// let (w1, standard_error) = plan.cost_estimate(10_000, 0)?;
/// assert!(standard_error < 0.05);
/// assert!((w1 - 5.0).abs() < 1.0); // W1 = 5 exactly; a longer run gets within 1-2%
/// let pairs = plan.sample(100, 0)?;
/// assert_eq!((pairs[0].dim(), pairs[1].dim()), ((100, 2), (100, 2)));
/// # Ok(()) }
/// ```
pub struct Spot {
    model: SpotModel,
    report: Option<SpotReport>,
}

impl std::fmt::Debug for Spot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.model.describe())
    }
}

impl Spot {
    /// Trains between the rows of `source` (n x dx) and `target` (m x dy).
    pub fn train<'a, 'b, S: Float, T: Float>(
        source: impl AsArray<'a, S, Ix2>,
        target: impl AsArray<'b, T, Ix2>,
        options: &SpotOptions,
    ) -> Result<Spot> {
        let cfg = options.config()?;
        let x = tensor_f32(&source.into(), "source")?;
        let y = tensor_f32(&target.into(), "target")?;
        let (mut s, mut t) = (Empirical::new(&x, cfg.optim.device)?, Empirical::new(&y, cfg.optim.device)?);
        Self::run(&cfg, options, &mut [&mut s, &mut t])
    }

    /// Trains from two or more measures (point sets or host samplers); with m > 2 the plan is
    /// the multi-marginal one for the sum of the cost over all pairs of marginals.
    pub fn train_measures(marginals: &mut [&mut Measure<'_>], options: &SpotOptions) -> Result<Spot> {
        let cfg = options.config()?;
        let mut owned = marginals.iter_mut().map(|m| m.instantiate(cfg.optim.device)).collect::<Result<Vec<_>>>()?;
        let mut refs: Vec<&mut dyn crate::ot::measure::Measure> =
            owned.iter_mut().map(|b| &mut **b as &mut dyn crate::ot::measure::Measure).collect();
        Self::run(&cfg, options, &mut refs)
    }

    fn run(
        cfg: &SpotConfig,
        options: &SpotOptions,
        marginals: &mut [&mut dyn crate::ot::measure::Measure],
    ) -> Result<Spot> {
        let mut observer = crate::runtime::threads::governed(options.threads, observe(&options.progress));
        let (model, report) = spot::train(cfg, marginals, &mut observer)?;
        Ok(Spot { model, report: Some(report) })
    }

    /// n paired draws, one n x d_k array per marginal; the same (n, seed) gives the same rows.
    pub fn sample(&self, n: usize, seed: u64) -> Result<Vec<Array2<f64>>> {
        self.model.sample(n, seed)?.iter().map(to_array2).collect()
    }

    /// The plan's cost E c(G(Z)) from n draws, with its standard error.
    pub fn cost_estimate(&self, n: usize, seed: u64) -> Result<(f64, f64)> {
        self.model.cost_estimate(n, seed)
    }

    /// Marginal dimensions.
    pub fn dims(&self) -> &[usize] {
        self.model.dims()
    }

    pub fn report(&self) -> Option<&SpotReport> {
        self.report.as_ref()
    }

    /// Writes the plan (one self-describing safetensors file, written atomically).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.model.save(path.as_ref())
    }

    pub fn load(path: impl AsRef<Path>, device: &str) -> Result<Spot> {
        Ok(Spot { model: SpotModel::load(path.as_ref(), parse_device(device)?)?, report: None })
    }

    /// The tensor-level model.
    pub fn model(&self) -> &SpotModel {
        &self.model
    }
}
