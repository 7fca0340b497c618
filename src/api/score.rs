//! Target score sources s(y, sigma) on arrays, and the options of the small trainers (score
//! networks, barycentric maps).

use std::path::Path;
use std::sync::Arc;

use ndarray::{Array2, ArrayView2, AsArray, Ix1, Ix2};

use super::{observe, parse_device, read_f64, read_vector, tensor_f32, to_array2, Float, Measure, ProgressFn};
use crate::neural::optim::{LrSchedule, Optim};
use crate::runtime::collective::Group;
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::progress::Progress;
use crate::score::trained::{self, NoiseLevels, Parametrization, ScoreTrainConfig};
use crate::score::{EmpiricalScore, FunctionScore, GaussianScore, ScoreSource, TorchScriptScore, TrainedScore};

/// Options of score-network and barycentric-map training, as a builder. Defaults: hidden layers
/// {128, 128, 128} (SiLU) for score networks and {256, 256} for maps; Adam(0.9, 0.999) at 3e-3
/// for score networks (weights averaged with EMA 0.999) and 1e-3 for maps, cosine decay to 1% of
/// it; batches of 500, 5000 iterations, seed 0, CPU; score noise levels: 10 geometric levels from
/// the largest pairwise distance of the data down to 0.01.
#[derive(Clone)]
pub struct TrainOptions {
    hidden: Option<Vec<usize>>,
    learning_rate: Option<f64>,
    optim: Optim,
    noise: NoiseLevels,
    parametrization: Parametrization,
    device: String,
    threads: usize,
    progress: Option<ProgressFn>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            hidden: None,
            learning_rate: None,
            optim: Optim::default(),
            noise: NoiseLevels::default(),
            parametrization: Parametrization::Preconditioned,
            device: "cpu".into(),
            threads: 0,
            progress: None,
        }
    }
}

impl TrainOptions {
    pub fn new() -> TrainOptions {
        TrainOptions::default()
    }

    pub fn hidden(mut self, widths: &[usize]) -> Self {
        self.hidden = Some(widths.to_vec());
        self
    }

    /// Adam learning rate (> 0; replaces the trainer's own default) and beta1, beta2 in [0, 1).
    pub fn adam(mut self, learning_rate: f64, beta1: f64, beta2: f64) -> Self {
        self.learning_rate = Some(learning_rate);
        (self.optim.beta1, self.optim.beta2) = (beta1, beta2);
        self
    }

    pub fn schedule(mut self, schedule: LrSchedule) -> Self {
        self.optim.schedule = schedule;
        self
    }

    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.optim.batch_size = batch_size;
        self
    }

    pub fn iterations(mut self, iterations: usize) -> Self {
        self.optim.iterations = iterations;
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.optim.seed = seed;
        self
    }

    /// "cpu", "cuda", "cuda:N" or "auto".
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

    /// Score training: noise from `sigma_max` (`None`: the largest pairwise distance of the
    /// data) down to `sigma_min` > 0; `levels` geometric levels with [`Parametrization::Ncsn`]
    /// (the default preconditioned parametrization draws sigma continuously from the range).
    pub fn noise_levels(mut self, sigma_max: Option<f64>, sigma_min: f64, levels: usize) -> Self {
        self.noise = NoiseLevels { sigma_max, sigma_min, levels };
        self
    }

    /// Score training: how the network's output becomes a score (default
    /// [`Parametrization::Preconditioned`]; [`Parametrization::Ncsn`] as the reference code).
    pub fn score_parametrization(mut self, parametrization: Parametrization) -> Self {
        self.parametrization = parametrization;
        self
    }

    /// Data-parallel training across the ranks of `group` (`runtime::collective`: one
    /// all-reduce of every gradient per iteration through the host's [`Collective`]): every rank
    /// calls the same training function with the same options on its own shard and ends with
    /// the same network; a cancel or a failure on one rank ends the call on every rank.
    ///
    /// [`Collective`]: crate::runtime::collective::Collective
    pub fn collective(mut self, group: Group) -> Self {
        self.optim.collective = Some(group);
        self
    }

    /// Calls `f` every `every` iterations with the averaged loss as `objective`; `false` cancels.
    pub fn progress(mut self, every: usize, f: impl Fn(&Progress) -> bool + Send + Sync + 'static) -> Self {
        self.optim.report_every = every;
        self.progress = Some(Arc::new(f));
        self
    }

    /// The optimizer settings for a trainer whose own defaults are `default`.
    pub(crate) fn optim(&self, default: &Optim) -> Result<Optim> {
        Ok(Optim {
            learning_rate: self.learning_rate.unwrap_or(default.learning_rate),
            device: parse_device(&self.device)?,
            ..self.optim.clone()
        })
    }

    pub(crate) fn hidden_or(&self, default: &[usize]) -> Vec<usize> {
        self.hidden.clone().unwrap_or_else(|| default.to_vec())
    }

    /// Sets the threads and returns the progress observer of one call.
    pub(crate) fn begin(&self) -> impl FnMut(&Progress) -> bool + '_ {
        crate::runtime::threads::governed(self.threads, observe(&self.progress))
    }
}

/// A target score s(y, sigma) = grad_y log (tau * N(0, sigma^2 I))(y): what Algorithm 2 adds the
/// compatibility gradient to. Cheap to clone (shared).
///
/// ```
/// use ndarray::array;
/// use scones::Score;
/// # fn main() -> scones::Result<()> {
/// let exact = Score::gaussian(&[0.0, 0.0], &array![[2.0, 0.0], [0.0, 0.5]])?;
/// // The same score from a host closure: for N(0, C) smoothed at sigma, -(C + sigma^2 I)^-1 y.
/// let closure = Score::from_fn(2, |y, sigma| {
///     let s2 = sigma * sigma;
///     Ok(ndarray::Array2::from_shape_fn(y.dim(), |(i, j)| -y[[i, j]] / ([2.0, 0.5][j] + s2)))
/// })?;
/// let y = array![[1.0, -1.0], [0.5, 2.0]];
/// let (a, b) = (exact.eval(&y, 0.3)?, closure.eval(&y, 0.3)?);
/// assert!((&a - &b).iter().all(|d| d.abs() < 1e-5));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Score {
    source: Arc<dyn ScoreSource>,
    /// Set for trained networks, the one kind of score that can be saved.
    trained: Option<Arc<TrainedScore>>,
}

type HostScoreFn = dyn Fn(ArrayView2<'_, f64>, f64) -> Result<Array2<f64>> + Send + Sync;

impl std::fmt::Debug for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Score({})", self.source.describe())
    }
}

impl Score {
    fn of(source: impl ScoreSource + 'static) -> Score {
        Score { source: Arc::new(source), trained: None }
    }

    /// The exact score of N(mean, cov) (cov symmetric positive definite).
    pub fn gaussian<'a, 'b, S: Float, T: Float>(
        mean: impl AsArray<'a, S, Ix1>,
        cov: impl AsArray<'b, T, Ix2>,
    ) -> Result<Score> {
        let mean = read_vector(&mean.into(), "mean")?;
        let cov = cov.into();
        let d = mean.len();
        if cov.dim() != (d, d) {
            return Err(Error::shape(format!("cov must be {d} x {d} to match the mean, got {:?}", cov.dim())));
        }
        Ok(Score::of(GaussianScore::new(&mean, &read_f64(&cov, "cov")?)?))
    }

    /// The exact score of the target points (n x d) smoothed by a Gaussian kernel of bandwidth
    /// h > 0 (annealing adds its noise on top: s^2 = sigma^2 + h^2). No training.
    pub fn empirical<'a, T: Float>(points: impl AsArray<'a, T, Ix2>, bandwidth: f64) -> Result<Score> {
        Ok(Score::of(EmpiricalScore::new(&tensor_f32(&points.into(), "points")?, bandwidth)?))
    }

    /// A TorchScript module saved from PyTorch with
    /// `forward(y: Tensor[n, d] float32, sigma: Tensor[n] float32) -> Tensor[n, d]`; loaded and
    /// called once on zeros to check that contract.
    pub fn torchscript(path: impl AsRef<Path>, d: usize) -> Result<Score> {
        Ok(Score::of(TorchScriptScore::new(path.as_ref(), d)?))
    }

    /// A score computed by `f(y, sigma)` on the host, y being n x d; it must return n x d.
    /// Called on the thread that samples.
    pub fn from_fn(
        d: usize,
        f: impl Fn(ArrayView2<'_, f64>, f64) -> Result<Array2<f64>> + Send + Sync + 'static,
    ) -> Result<Score> {
        let f: Arc<HostScoreFn> = Arc::new(f);
        let call = move |y: &[f64], n: usize, sigma: f64, out: &mut [f64]| -> Result<()> {
            let view = ArrayView2::from_shape((n, d), y).map_err(|e| Error::internal(e.to_string()))?;
            let s = f(view, sigma)?;
            if s.dim() != (n, d) {
                let msg = format!("score function returned {:?} values for {n} x {d} points", s.dim());
                return Err(Error::new(ErrorKind::Callback, msg));
            }
            out.iter_mut().zip(s.iter()).for_each(|(o, v)| *o = *v);
            Ok(())
        };
        Ok(Score::of(FunctionScore::new(d, "host score function", Arc::new(call))?))
    }

    /// Trains a score network by denoising score matching on `target` (NCSN).
    pub fn train(target: &mut Measure<'_>, options: &TrainOptions) -> Result<Score> {
        let d = ScoreTrainConfig::default();
        let cfg = ScoreTrainConfig {
            hidden: options.hidden_or(&d.hidden),
            optim: options.optim(&d.optim)?,
            noise: options.noise.clone(),
            parametrization: options.parametrization,
            ..d
        };
        let mut m = target.instantiate(cfg.optim.device)?;
        let (score, _) = trained::train(&cfg, m.as_mut(), &mut options.begin())?;
        Ok(Score::trained(score))
    }

    fn trained(score: TrainedScore) -> Score {
        let score = Arc::new(score);
        Score { source: score.clone(), trained: Some(score) }
    }

    /// Saves a trained score network (other kinds of score fail with InvalidArgument).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let t = self.trained.as_ref().ok_or_else(|| {
            Error::invalid(format!("only trained score networks can be saved; this is a {}", self.source.describe()))
        })?;
        t.save(path.as_ref())
    }

    /// Loads a score network saved by [`Score::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Score> {
        Ok(Score::trained(TrainedScore::load(path.as_ref())?))
    }

    /// Dimension of the target space.
    pub fn dim(&self) -> usize {
        self.source.dim()
    }

    /// s(y, sigma) at the rows of `y` (n x d), on the CPU; sigma >= 0 (0: the target itself).
    pub fn eval<'a, T: Float>(&self, y: impl AsArray<'a, T, Ix2>, sigma: f64) -> Result<Array2<f64>> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::invalid(format!("sigma must be finite and >= 0, got {sigma}")));
        }
        let y = y.into();
        let d = self.dim();
        if y.ncols() != d {
            return Err(Error::shape(format!("y must have {d} columns, got {}", y.ncols())));
        }
        let mut bound = self.source.bind(tch::Device::Cpu)?;
        to_array2(&bound.score(&tensor_f32(&y, "y")?, sigma)?)
    }

    /// The math modules' score source, for [`crate::neural::sampler`].
    pub fn source(&self) -> Arc<dyn ScoreSource> {
        self.source.clone()
    }
}
