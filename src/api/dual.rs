//! Algorithm 1 on arrays: [`DualOptions`] and the trained potentials [`Dual`].

use std::path::Path;
use std::sync::Arc;

use ndarray::{Array1, Array2, AsArray, Ix2};

use super::{observe, parse_device, tensor_f32, to_array1, to_array2, Float, Measure, ProgressFn};
use crate::neural::dual::{self, BatchMode, DualConfig, DualPotentials, TrainReport};
use crate::neural::optim::{LrSchedule, Optim};
use crate::ot::measure::Empirical;
use crate::ot::{Cost, Divergence, Regularizer};
use crate::runtime::collective::Group;
use crate::runtime::error::Result;
use crate::runtime::progress::Progress;

/// Options of dual training (Algorithm 1), as a builder. Defaults: KL with lambda = 1, squared
/// Euclidean cost, two hidden layers of 256 per potential, Adam(1e-3, 0.9, 0.999) with cosine
/// decay to 1e-5, all-pairs batches of 500, 5000 iterations, seed 0, CPU.
#[derive(Clone)]
pub struct DualOptions {
    divergence: Divergence,
    lambda: f64,
    softplus_beta: Option<f64>,
    cost: Cost,
    phi_hidden: Vec<usize>,
    psi_hidden: Vec<usize>,
    batch_mode: BatchMode,
    optim: Optim,
    device: String,
    threads: usize,
    progress: Option<ProgressFn>,
}

impl Default for DualOptions {
    fn default() -> Self {
        let d = DualConfig::new(Regularizer::new(Divergence::Kl, 1.0).expect("KL with lambda 1 is valid"));
        DualOptions {
            divergence: Divergence::Kl,
            lambda: 1.0,
            softplus_beta: None,
            cost: d.cost,
            phi_hidden: d.phi_hidden,
            psi_hidden: d.psi_hidden,
            batch_mode: d.batch_mode,
            optim: d.optim,
            device: "cpu".into(),
            threads: 0,
            progress: None,
        }
    }
}

impl DualOptions {
    pub fn new() -> DualOptions {
        DualOptions::default()
    }

    /// The regularizer f-divergence and its strength lambda > 0 (paper eq. 3).
    pub fn regularizer(mut self, divergence: Divergence, lambda: f64) -> Self {
        (self.divergence, self.lambda) = (divergence, lambda);
        self
    }

    pub fn cost(mut self, cost: Cost) -> Self {
        self.cost = cost;
        self
    }

    /// Hidden layer widths of both potentials.
    pub fn hidden(mut self, widths: &[usize]) -> Self {
        (self.phi_hidden, self.psi_hidden) = (widths.to_vec(), widths.to_vec());
        self
    }

    /// Hidden layer widths of phi and of psi separately.
    pub fn hidden_each(mut self, phi: &[usize], psi: &[usize]) -> Self {
        (self.phi_hidden, self.psi_hidden) = (phi.to_vec(), psi.to_vec());
        self
    }

    /// Adam learning rate (> 0) and moment decays beta1, beta2 in [0, 1).
    pub fn adam(mut self, learning_rate: f64, beta1: f64, beta2: f64) -> Self {
        (self.optim.learning_rate, self.optim.beta1, self.optim.beta2) = (learning_rate, beta1, beta2);
        self
    }

    pub fn schedule(mut self, schedule: LrSchedule) -> Self {
        self.optim.schedule = schedule;
        self
    }

    /// Minibatch size m and how its sources and targets are paired.
    pub fn batch(mut self, batch_size: usize, mode: BatchMode) -> Self {
        (self.optim.batch_size, self.batch_mode) = (batch_size, mode);
        self
    }

    /// Training iterations (0 leaves the potentials at their initialization).
    pub fn iterations(mut self, iterations: usize) -> Self {
        self.optim.iterations = iterations;
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.optim.seed = seed;
        self
    }

    /// "cpu", "cuda", "cuda:N" or "auto"; an absent device fails the call (no silent fallback).
    pub fn device(mut self, device: &str) -> Self {
        self.device = device.to_string();
        self
    }

    /// libtorch intra-op threads during the call: n > 0 exactly n, 0 (the default) the fair share of
    /// the machine, following its load while the call runs (`runtime::threads`).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// beta of the chi-square softplus smoothing of log M used when sampling (stored with the
    /// model; default 1000).
    pub fn softplus_beta(mut self, beta: f64) -> Self {
        self.softplus_beta = Some(beta);
        self
    }

    /// Data-parallel training across the ranks of `group` (`runtime::collective`: one
    /// all-reduce of every gradient per iteration through the host's [`Collective`]): every rank
    /// calls the same training function with the same options on its own shard and ends with
    /// the same dual; a cancel or a failure on one rank ends the call on every rank.
    ///
    /// [`Collective`]: crate::runtime::collective::Collective
    pub fn collective(mut self, group: Group) -> Self {
        self.optim.collective = Some(group);
        self
    }

    /// Calls `f` every `every` iterations with the averaged objective J and E[M(V)]; `f`
    /// returning `false` cancels training.
    pub fn progress(mut self, every: usize, f: impl Fn(&Progress) -> bool + Send + Sync + 'static) -> Self {
        self.optim.report_every = every;
        self.progress = Some(Arc::new(f));
        self
    }

    fn config(&self) -> Result<DualConfig> {
        let mut regularizer = Regularizer::new(self.divergence, self.lambda)?;
        if let Some(beta) = self.softplus_beta {
            regularizer = regularizer.with_softplus_beta(beta)?;
        }
        let mut cfg = DualConfig::new(regularizer);
        cfg.cost = self.cost.clone();
        cfg.phi_hidden = self.phi_hidden.clone();
        cfg.psi_hidden = self.psi_hidden.clone();
        cfg.batch_mode = self.batch_mode;
        cfg.optim = Optim { device: parse_device(&self.device)?, ..self.optim.clone() };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Trained dual potentials phi (on sources) and psi (on targets) with their regularizer and
/// cost: the learned coupling has density M(V(x, y)) = M(phi(x) + psi(y) - c(x, y)) with respect
/// to the product of the marginals.
///
/// ```
/// use ndarray::Array2;
/// use scones::api::{gaussian, BatchMode, Divergence};
/// use scones::{Dual, DualOptions};
/// # fn main() -> scones::Result<()> {
/// let x = gaussian::sample(&[0.0, 0.0], &Array2::<f64>::eye(2), 2000, 1)?;
/// let y = gaussian::sample(&[1.0, 1.0], &Array2::<f64>::eye(2), 2000, 2)?;
/// let options = DualOptions::new()
///     .regularizer(Divergence::Kl, 4.0)
///     .hidden(&[32, 32])
///     .batch(128, BatchMode::AllPairs)
///     .iterations(200);
/// let dual = Dual::train(&x, &y, &options)?;
/// let m = dual.compatibility(x.slice(ndarray::s![..5, ..]), &y)?; // 5 x 2000
/// assert_eq!(m.dim(), (5, 2000));
/// // Compatibilities are densities against the product of the marginals: their mean tends to 1.
/// assert!((m.mean().unwrap() - 1.0).abs() < 0.5);
/// # Ok(()) }
/// ```
pub struct Dual {
    potentials: DualPotentials,
    report: Option<TrainReport>,
}

impl std::fmt::Debug for Dual {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.potentials.describe())
    }
}

impl Dual {
    /// Trains phi and psi between the rows of `source` (n x dx) and `target` (m x dy).
    pub fn train<'a, 'b, S: Float, T: Float>(
        source: impl AsArray<'a, S, Ix2>,
        target: impl AsArray<'b, T, Ix2>,
        options: &DualOptions,
    ) -> Result<Dual> {
        let cfg = options.config()?;
        let x = tensor_f32(&source.into(), "source")?;
        let y = tensor_f32(&target.into(), "target")?;
        let mut src = Empirical::new(&x, cfg.optim.device)?;
        let mut tgt = Empirical::new(&y, cfg.optim.device)?;
        Self::run(&cfg, options, &mut src, &mut tgt)
    }

    /// Trains from measures: point sets or samplers that draw each minibatch on request.
    pub fn train_measures(source: &mut Measure<'_>, target: &mut Measure<'_>, options: &DualOptions) -> Result<Dual> {
        let cfg = options.config()?;
        cfg.cost.check_dims(source.dim(), target.dim())?;
        let (mut s, mut t) = (source.instantiate(cfg.optim.device)?, target.instantiate(cfg.optim.device)?);
        Self::run(&cfg, options, s.as_mut(), t.as_mut())
    }

    fn run(
        cfg: &DualConfig,
        options: &DualOptions,
        source: &mut dyn crate::ot::measure::Measure,
        target: &mut dyn crate::ot::measure::Measure,
    ) -> Result<Dual> {
        let mut observer = crate::runtime::threads::governed(options.threads, observe(&options.progress));
        let (potentials, report) = dual::train(cfg, source, target, &mut observer)?;
        Ok(Dual { potentials, report: Some(report) })
    }

    /// Writes the model (one self-describing safetensors file, written atomically).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.potentials.save(path.as_ref())
    }

    /// Loads a model saved by [`Dual::save`] (or the C ABI) onto `device` ("cpu", "cuda", ...).
    pub fn load(path: impl AsRef<Path>, device: &str) -> Result<Dual> {
        Ok(Dual { potentials: DualPotentials::load(path.as_ref(), parse_device(device)?)?, report: None })
    }

    /// Source and target dimensions (dx, dy).
    pub fn dims(&self) -> (usize, usize) {
        (self.potentials.dx, self.potentials.dy)
    }

    /// The regularizer's divergence and lambda.
    pub fn regularizer(&self) -> Regularizer {
        self.potentials.regularizer
    }

    pub fn cost(&self) -> Cost {
        self.potentials.cost.clone()
    }

    /// Summary of the training run; `None` for a loaded model.
    pub fn report(&self) -> Option<&TrainReport> {
        self.report.as_ref()
    }

    /// phi at the rows of `x` (n x dx).
    pub fn phi<'a, T: Float>(&self, x: impl AsArray<'a, T, Ix2>) -> Result<Array1<f64>> {
        to_array1(&self.potentials.phi(&tensor_f32(&x.into(), "x")?)?)
    }

    /// psi at the rows of `y` (n x dy).
    pub fn psi<'a, T: Float>(&self, y: impl AsArray<'a, T, Ix2>) -> Result<Array1<f64>> {
        to_array1(&self.potentials.psi(&tensor_f32(&y.into(), "y")?)?)
    }

    /// M(V(x_i, y_j)) for all pairs (n x m): the learned coupling's density with respect to
    /// sigma x tau.
    pub fn compatibility<'a, 'b, S: Float, T: Float>(
        &self,
        x: impl AsArray<'a, S, Ix2>,
        y: impl AsArray<'b, T, Ix2>,
    ) -> Result<Array2<f64>> {
        let (x, y) = (tensor_f32(&x.into(), "x")?, tensor_f32(&y.into(), "y")?);
        to_array2(&self.potentials.compatibility(&x, &y)?)
    }

    /// The tensor-level model, for [`crate::neural`] and the sampler internals.
    pub fn potentials(&self) -> &DualPotentials {
        &self.potentials
    }
}
