//! Conditional accuracy on the continuous entropic OT benchmark of Gushchin et al. (NeurIPS
//! 2023; construction in `scones::reference::entropic_bench`): a Gaussian-mixture source and a
//! plan pi(y | x) known in closed form. Only 20,000 source and 20,000 target samples go to the
//! library: duals with KL at lambda = 2 eps and the squared Euclidean cost, the target score
//! trained with the library's defaults, annealed Langevin (sigma 3 -> 0.01, 10 levels x 60
//! steps, denoising), K samples for each test source. Reports cBW2-UVP and the joint BW2-UVP
//! for SCONES, the barycentric map (its cBW2-UVP is large by construction: a map has no
//! conditional spread) and exact conditional samples of the same count (the floor), with two
//! diagnostics that isolate parts of the pipeline:
//!
//! - exact-score Langevin: the same sampler on the analytic conditional score
//!   grad log pi_sigma(y | x) (sampler error alone; `--sampler-only` runs just this and the floor);
//! - dual reweighting: pi(. | x) as the training targets weighted by M(V(x, y_j)) (the duals
//!   alone, no score and no Langevin; limited by the weights' effective sample size).
//!
//! ```text
//! cargo run --release --example conditional_bench -- [--quick] [--sampler-only]
//!     [--dims 2,16,64] [--eps 0.1,1,10] [--seed S] [--train N] [--test N] [--k K]
//!     [--dual-iterations N] [--dual-batch M] [--dual-width W] [--score trained|empirical]
//!     [--bandwidth H] [--score-iterations N] [--levels L] [--steps T] [--sigma-first S]
//!     [--sigma-last S] [--step-size A] [--no-denoise] [--init noise|map|source|resample]
//!     [--resample-sigma S] [--exact-smoothing full|none] [--bp-iterations N] [--threads N]
//!     [--out DIR] [--name NAME] [--score-param preconditioned|ncsn]
//!     [--compat-at y|denoised|posterior] [--dual-activation relu|silu] [--cache DIR] [--grad-check]
//! ```
//!
//! `--init resample` starts the chains at training targets drawn by M(V(x, y_j)) (the library's
//! `ChainInit::Resample`), annealing from `--resample-sigma` (default 0.03 = 3 sigma_N).
//! `--grad-check` prints how multimodal the conditionals are, and how far grad psi / lambda and
//! the target score are from their analytic values (psi / lambda = -log h, grad log Q = grad log
//! f + grad log h, see `grad_check`). Under every cell's row a line splits each method's error
//! into the conditional means' part and the ratio of its spread to the true one.
//!
//! One file of about 770 lines because it is one program (a cell's pipeline, its diagnostics, the
//! table writer and the flags); the library holds the reusable parts (`reference::entropic_bench`,
//! `reference::bures`).
//!
//! --quick: d = 2, eps = 1, 4000 samples each side, 40 test sources x 100 samples, small
//! networks and short training (about 30 s on 2 shared cores).

use std::sync::Arc;
use std::time::Instant;

use scones::neural::barycentric::{self, BarycentricConfig};
use scones::neural::dual::{self, DualConfig, DualPotentials};
use scones::neural::mlp::Mlp;
use scones::neural::sampler::{Annealing, ChainInit, Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Cost, Divergence, Regularizer};
use scones::reference::bures::{self, Moments};
use scones::reference::entropic_bench::{EntropicBench, IsoMixture};
use scones::reference::linalg;
use scones::runtime::error::{Error, Result};
use scones::runtime::progress;
use scones::runtime::rng::Rng64;
use scones::score::{self, trained, ScoreSource};
use tch::{Device, Kind, Tensor};

/// Independent exact-sample draws averaged into the floor.
pub const FLOOR_DRAWS: usize = 8;

#[derive(Clone, Debug)]
pub struct CellConfig {
    pub d: usize,
    pub eps: f64,
    pub seed: u64,
    pub n_train: usize,
    pub n_test: usize,
    pub k: usize,
    pub dual_iterations: usize,
    pub dual_batch: usize,
    pub dual_width: usize,
    /// Hidden activation of the potentials: "relu" (the library default) or "silu".
    pub dual_activation: String,
    /// "trained" (the library's defaults) or "empirical" (kernel score of the training targets).
    pub score: String,
    pub bandwidth: f64,
    pub score_iterations: usize,
    pub score_width: usize,
    pub levels: usize,
    pub steps: usize,
    pub sigma_first: f64,
    pub sigma_last: f64,
    pub step_size: f64,
    pub denoise: bool,
    pub init: String,
    /// With `init` "resample": the first noise level (annealing starts no higher).
    pub resample_sigma: f64,
    /// Smooth the exact conditional at each noise level ("full") or not ("none").
    pub exact_smoothing: String,
    pub bp_iterations: usize,
    pub bp_width: usize,
    pub sampler_only: bool,
    /// Score network parametrization: "preconditioned" (the library default) or "ncsn".
    pub score_param: String,
    /// Where grad log M is evaluated during annealing: "y" or "denoised".
    pub compat_at: String,
    /// Folder where trained duals, scores and maps are kept between runs (keyed by their
    /// settings), so that sampler experiments do not retrain; None: always train.
    pub cache: Option<String>,
    /// Print how far grad psi / lambda and the target score are from their analytic values.
    pub grad_check: bool,
}

impl CellConfig {
    /// The issue's setting: library defaults for training, 20,000 samples each side, 200 test
    /// sources x 200 samples, sigma 3 -> 0.01 over 10 levels x 60 steps at a base step 2e-5.
    pub fn full(d: usize, eps: f64) -> CellConfig {
        CellConfig {
            d,
            eps,
            seed: 0,
            n_train: 20_000,
            n_test: 200,
            k: 200,
            dual_iterations: 5000,
            dual_batch: 500,
            dual_width: 256,
            dual_activation: "relu".into(),
            score: "trained".into(),
            bandwidth: 0.05,
            score_iterations: 5000,
            score_width: 128,
            levels: 10,
            steps: 60,
            sigma_first: 3.0,
            sigma_last: 0.01,
            step_size: 2e-5,
            denoise: true,
            init: "noise".into(),
            resample_sigma: 0.03,
            exact_smoothing: "full".into(),
            bp_iterations: 2500,
            bp_width: 256,
            sampler_only: false,
            score_param: "preconditioned".into(),
            compat_at: "denoised".into(),
            cache: None,
            grad_check: false,
        }
    }

    pub fn quick() -> CellConfig {
        CellConfig {
            n_train: 4000,
            n_test: 40,
            k: 100,
            dual_iterations: 600,
            dual_batch: 250,
            dual_width: 64,
            score_iterations: 1500,
            score_width: 64,
            bp_iterations: 400,
            bp_width: 64,
            ..CellConfig::full(2, 1.0)
        }
    }
}

/// One method's numbers: cBW2-UVP, joint BW2-UVP, wall seconds.
#[derive(Clone, Debug, Default)]
pub struct Scored {
    pub cbw2_uvp: f64,
    pub joint_bw2_uvp: f64,
    pub seconds: f64,
    /// The part of cBW2-UVP from the conditional means alone (100 mean_x |m - m_true|^2 / tr Cov(Q)).
    pub mean_part: f64,
    /// mean_x tr Cov(samples of x) / tr Cov(pi(. | x)): above 1 too wide, below too narrow.
    pub spread_ratio: f64,
}

#[derive(Clone, Debug, Default)]
pub struct CellResult {
    pub floor: Scored,
    pub exact_score_langevin: Scored,
    pub scones: Option<Scored>,
    pub barycentric: Option<Scored>,
    pub dual_reweighting: Option<Scored>,
    /// Mean effective sample size of the reweighting per source.
    pub reweighting_ess: f64,
    pub dual_seconds: f64,
    pub score_seconds: f64,
    pub mean_compatibility: f64,
    pub target_variance: f64,
    pub total_seconds: f64,
}

fn to_t(v: &[f64], d: usize) -> Tensor {
    Tensor::from_slice(v).view([-1, d as i64]).to_kind(Kind::Float)
}

struct Truth<'a> {
    x: &'a [f64],
    d: usize,
    cond: Vec<Moments>,
    joint: Moments,
    var: f64,
}

impl Truth<'_> {
    fn score(&self, samples: &[f64], seconds: f64) -> Result<Scored> {
        let d = self.d;
        let per = samples.len() / self.cond.len().max(1);
        let moments: Vec<Moments> =
            samples.chunks(per.max(1)).map(|c| Moments::of_samples(c, d)).collect::<Result<_>>()?;
        let (mean_part, spread_ratio) = self.breakdown(&moments);
        Ok(Scored {
            cbw2_uvp: bures::cbw2_uvp(samples, d, &self.cond, self.var)?,
            joint_bw2_uvp: bures::bw2_uvp(&bures::joint_sample_moments(self.x, d, samples, d)?, &self.joint)?,
            seconds,
            mean_part,
            spread_ratio,
        })
    }

    /// (the means' part of cBW2-UVP, the mean ratio of covariance traces) of per-source moments.
    fn breakdown(&self, moments: &[Moments]) -> (f64, f64) {
        let (mut mean_part, mut spread) = (0.0, 0.0);
        for (m, t) in moments.iter().zip(&self.cond) {
            mean_part += m.mean.iter().zip(&t.mean).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
            spread += m.trace() / t.trace();
        }
        let n = self.cond.len() as f64;
        (100.0 * mean_part / n / self.var, spread / n)
    }
}

fn sampler_config(c: &CellConfig) -> SamplerConfig {
    let mut s = SamplerConfig::new();
    s.annealing = Some(Annealing { sigma_first: c.sigma_first, sigma_last: c.sigma_last, levels: c.levels });
    s.steps_per_level = c.steps;
    s.step_size = c.step_size;
    s.denoise = c.denoise;
    s.samples_per_source = c.k;
    s.seed = c.seed + 7;
    s.compatibility_at_denoised = c.compat_at != "y";
    s.posterior_smoothing = c.compat_at == "posterior";
    s
}

fn cache_path(c: &CellConfig, what: &str) -> Option<std::path::PathBuf> {
    let dir = c.cache.as_ref()?;
    let _ = std::fs::create_dir_all(dir);
    let key = format!("d{}_eps{}_seed{}_n{}_{what}", c.d, c.eps, c.seed, c.n_train);
    Some(std::path::Path::new(dir).join(key))
}

/// Langevin with the library's sampler on the analytic conditional score. The sampler adds no
/// compatibility term (use_compatibility = false) and sees one score source whose rows are the
/// chains in the sampler's order (all chains in one batch: chain j serves source j / K).
fn exact_score_langevin(c: &CellConfig, conds: Vec<IsoMixture>, x: &Tensor) -> Result<Tensor> {
    let (d, k, n) = (c.d, c.k, conds.len());
    let smooth = c.exact_smoothing != "none";
    let f = move |y: &[f64], rows: usize, sigma: f64, out: &mut [f64]| -> Result<()> {
        // The sampler pads a batch to a multiple of 16 rows with copies of its last chain.
        if rows < n * k || rows >= n * k + 16 {
            return Err(Error::internal(format!("expected all {} chains in one batch, got {rows}", n * k)));
        }
        let s = if smooth { sigma } else { 0.0 };
        for r in 0..rows {
            conds[r.min(n * k - 1) / k].score(&y[r * d..(r + 1) * d], s, &mut out[r * d..(r + 1) * d]);
        }
        Ok(())
    };
    let source = score::FunctionScore::new(d, "exact conditional score", Arc::new(f))?;
    // The potentials are unused without the compatibility term; they only carry dimensions.
    let mut rng = Rng64::new(0);
    let pot = DualPotentials {
        phi: Mlp::new(d, &[1], 1, &mut rng, Device::Cpu)?,
        psi: Mlp::new(d, &[1], 1, &mut rng, Device::Cpu)?,
        regularizer: Regularizer::new(Divergence::Kl, 2.0 * c.eps)?,
        cost: Cost::SqEuclidean,
        dx: d,
        dy: d,
        device: Device::Cpu,
    };
    let mut sc = sampler_config(c);
    sc.use_compatibility = false;
    sc.chain_batch = n * k;
    if c.init == "source" {
        sc.init = ChainInit::Source;
    }
    let mut s = Sampler::new(&pot, Arc::new(source), sc)?;
    Ok(s.sample(x, &mut progress::ignore)?.0)
}

/// A near-exact score of the target Q_sigma = E_x pi_sigma(. | x) (a diagnostic, slow): the
/// posterior-weighted conditional scores over `n_mc` fresh source draws, each pi_sigma(. | x_n)
/// a known mixture. Separates the learned score's error from the rest of the pipeline.
fn reference_target_score(bench: &EntropicBench, n_mc: usize) -> Result<Arc<dyn ScoreSource>> {
    let d = bench.d;
    let conds: Vec<IsoMixture> =
        bench.sample_source(n_mc, &mut Rng64::new(55)).chunks(d).map(|x| bench.conditional(x)).collect();
    let f = move |y: &[f64], rows: usize, sigma: f64, out: &mut [f64]| -> Result<()> {
        let mut sc = vec![0.0; d];
        for r in 0..rows {
            let yr = &y[r * d..(r + 1) * d];
            let logs: Vec<f64> = conds.iter().map(|c| c.log_density(yr, sigma * sigma)).collect();
            let m = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let w: Vec<f64> = logs.iter().map(|l| (l - m).exp()).collect();
            let tot: f64 = w.iter().sum();
            let o = &mut out[r * d..(r + 1) * d];
            o.iter_mut().for_each(|v| *v = 0.0);
            for (c, wi) in conds.iter().zip(&w) {
                if *wi / tot > 1e-9 {
                    c.score(yr, sigma, &mut sc);
                    o.iter_mut().zip(&sc).for_each(|(v, s)| *v += wi / tot * s);
                }
            }
        }
        Ok(())
    };
    Ok(Arc::new(score::FunctionScore::new(d, "reference target score", Arc::new(f))?))
}

/// pi(. | x) as the training targets weighted by M(V(x, y_j)) (self-normalized): the duals'
/// conditional on its own. Returns per-source moments and the mean effective sample size.
fn dual_reweighting(pot: &DualPotentials, x: &Tensor, y: &Tensor) -> Result<(Vec<Moments>, f64)> {
    tch::no_grad(|| {
        let psi = pot.psi.forward(y)?.f_squeeze_dim(1)?;
        let phi = pot.phi.forward(x)?.f_squeeze_dim(1)?;
        let v = phi.f_unsqueeze(1)?.f_add(&psi.f_unsqueeze(0)?)?.f_sub(&pot.cost.pairwise(x, y)?)?;
        let w = pot.regularizer.compatibility(&v)?.f_to_kind(Kind::Double)?;
        let w = w.f_div(&w.f_sum_dim_intlist(1, true, None)?)?;
        let ess = w.f_square()?.f_sum_dim_intlist(1, false, None)?.f_reciprocal()?.f_mean(None)?.f_double_value(&[])?;
        let yd = y.f_to_kind(Kind::Double)?;
        let mean = w.f_matmul(&yd)?;
        let mut out = Vec::new();
        for i in 0..x.size()[0] {
            let wi = w.f_get(i)?;
            let dev = yd.f_sub(&mean.f_get(i)?.f_unsqueeze(0)?)?;
            let cov = dev.f_mul(&wi.f_unsqueeze(1)?)?.f_transpose(0, 1)?.f_matmul(&dev)?;
            out.push(Moments { mean: linalg::to_vec(&mean.f_get(i)?)?, cov: linalg::to_vec(&cov)? });
        }
        Ok((out, ess))
    })
}

pub fn run_cell(c: &CellConfig) -> Result<CellResult> {
    let start = Instant::now();
    let (d, seed) = (c.d, c.seed);
    let bench = EntropicBench::new(d, c.eps, 1000 + seed)?;
    let train_x = bench.sample_source(c.n_train, &mut Rng64::new(10 * seed + 1));
    let train_y = bench.sample_target(c.n_train, &mut Rng64::new(10 * seed + 2));
    let test_x = bench.sample_source(c.n_test, &mut Rng64::new(10 * seed + 3));
    let conds: Vec<IsoMixture> = test_x.chunks(d).map(|xi| bench.conditional(xi)).collect();
    let cond: Vec<Moments> = conds.iter().map(|m| Moments { mean: m.mean(), cov: m.covariance() }).collect();
    let joint = bures::joint_moments(&test_x, d, &cond)?;
    let truth = Truth { x: &test_x, d, cond, joint, var: bench.target_variance(100_000, 10 * seed + 4) };
    let mut r = CellResult { target_variance: truth.var, ..Default::default() };

    // The floor is heavy-tailed over sources (bimodal conditionals whose rare component gets a
    // few of the K samples), so one draw of it is a noisy yardstick: average FLOOR_DRAWS.
    let t = Instant::now();
    let mut rng = Rng64::new(10 * seed + 5);
    for _ in 0..FLOOR_DRAWS {
        let exact: Vec<f64> = conds.iter().flat_map(|m| m.sample(c.k, &mut rng)).collect();
        let s = truth.score(&exact, 0.0)?;
        r.floor.cbw2_uvp += s.cbw2_uvp / FLOOR_DRAWS as f64;
        r.floor.joint_bw2_uvp += s.joint_bw2_uvp / FLOOR_DRAWS as f64;
        r.floor.mean_part += s.mean_part / FLOOR_DRAWS as f64;
        r.floor.spread_ratio += s.spread_ratio / FLOOR_DRAWS as f64;
    }
    r.floor.seconds = t.elapsed().as_secs_f64() / FLOOR_DRAWS as f64;

    if c.grad_check {
        print_modes(&bench, &test_x);
    }
    let xe = to_t(&test_x, d);
    let t = Instant::now();
    let y = exact_score_langevin(c, conds, &xe)?;
    r.exact_score_langevin = truth.score(&linalg::to_vec(&y)?, t.elapsed().as_secs_f64())?;
    if c.sampler_only {
        r.total_seconds = start.elapsed().as_secs_f64();
        return Ok(r);
    }

    let (xs, ys) = (to_t(&train_x, d), to_t(&train_y, d));
    let mut dc = DualConfig::new(Regularizer::new(Divergence::Kl, bench.lambda())?);
    dc.phi_hidden = vec![c.dual_width; 2];
    dc.psi_hidden = vec![c.dual_width; 2];
    dc.activation = match c.dual_activation.as_str() {
        "silu" => scones::neural::mlp::Activation::Silu,
        _ => scones::neural::mlp::Activation::Relu,
    };
    dc.optim.iterations = c.dual_iterations;
    dc.optim.batch_size = c.dual_batch;
    dc.optim.seed = seed;
    let t = Instant::now();
    let dual_file = cache_path(
        c,
        &format!(
            "dual_{}x{}_{}{}.scones",
            c.dual_width,
            c.dual_batch,
            c.dual_iterations,
            if c.dual_activation == "relu" { "" } else { "_silu" }
        ),
    );
    let pot = match dual_file.as_ref().and_then(|f| DualPotentials::load(f, Device::Cpu).ok()) {
        Some(pot) => pot,
        None => {
            let (pot, rep) = dual::train(
                &dc,
                &mut Empirical::new(&xs, Device::Cpu)?,
                &mut Empirical::new(&ys, Device::Cpu)?,
                &mut progress::ignore,
            )?;
            r.mean_compatibility = rep.mean_compatibility;
            if let Some(f) = &dual_file {
                pot.save(f)?;
            }
            pot
        }
    };
    r.dual_seconds = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (moments, ess) = dual_reweighting(&pot, &xe, &ys)?;
    let per: f64 = moments.iter().zip(&truth.cond).map(|(a, b)| bures::bw2_squared(a, b)).sum::<Result<f64>>()?;
    let joint_rw = bures::joint_moments(&test_x, d, &moments)?;
    let (mean_part, spread_ratio) = truth.breakdown(&moments);
    r.dual_reweighting = Some(Scored {
        cbw2_uvp: 100.0 * per / moments.len() as f64 / truth.var,
        joint_bw2_uvp: bures::bw2_uvp(&joint_rw, &truth.joint)?,
        seconds: t.elapsed().as_secs_f64(),
        mean_part,
        spread_ratio,
    });
    r.reweighting_ess = ess;

    let t = Instant::now();
    let score: Arc<dyn ScoreSource> = if c.score == "empirical" {
        Arc::new(score::EmpiricalScore::new(&ys, c.bandwidth)?)
    } else if c.score == "reference" {
        reference_target_score(&bench, 1000)?
    } else {
        let file = cache_path(c, &format!("score_{}_{}_{}.scones", c.score_param, c.score_width, c.score_iterations));
        match file.as_ref().and_then(|f| trained::TrainedScore::load(f).ok()) {
            Some(s) => Arc::new(s),
            None => {
                let mut sc = trained::ScoreTrainConfig::default();
                sc.optim.iterations = c.score_iterations;
                sc.hidden = vec![c.score_width; 3];
                sc.optim.seed = seed;
                sc.parametrization = match c.score_param.as_str() {
                    "ncsn" => trained::Parametrization::Ncsn,
                    _ => trained::Parametrization::Preconditioned,
                };
                let s = trained::train(&sc, &mut Empirical::new(&ys, Device::Cpu)?, &mut progress::ignore)?.0;
                if let Some(f) = &file {
                    s.save(f)?;
                }
                Arc::new(s)
            }
        }
    };
    r.score_seconds = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let base = BarycentricConfig::default();
    let optim = scones::neural::optim::Optim { iterations: c.bp_iterations, seed, ..base.optim };
    let bc = BarycentricConfig { hidden: vec![c.bp_width; 2], optim };
    let map_file = cache_path(c, &format!("map_{}_{}.scones", c.bp_width, c.bp_iterations));
    let map = match map_file.as_ref().and_then(|f| barycentric::BarycentricMap::load(f).ok()) {
        Some(m) => m,
        None => {
            let (map, _) = barycentric::train(
                &bc,
                &pot,
                &mut Empirical::new(&xs, Device::Cpu)?,
                &mut Empirical::new(&ys, Device::Cpu)?,
                &mut progress::ignore,
            )?;
            if let Some(f) = &map_file {
                map.save(f)?;
            }
            map
        }
    };
    let tx = linalg::to_vec(&map.map(&xe)?)?;
    let mapped: Vec<Moments> = tx.chunks(d).map(|m| Moments { mean: m.to_vec(), cov: vec![0.0; d * d] }).collect();
    let per: f64 = mapped.iter().zip(&truth.cond).map(|(a, b)| bures::bw2_squared(a, b)).sum::<Result<f64>>()?;
    let (mean_part, spread_ratio) = truth.breakdown(&mapped);
    r.barycentric = Some(Scored {
        cbw2_uvp: 100.0 * per / mapped.len() as f64 / truth.var,
        joint_bw2_uvp: bures::bw2_uvp(&bures::joint_moments(&test_x, d, &mapped)?, &truth.joint)?,
        seconds: t.elapsed().as_secs_f64(),
        mean_part,
        spread_ratio,
    });

    if c.grad_check {
        grad_check(&bench, &pot, &score, &test_x, seed)?;
    }

    let t = Instant::now();
    let mut sc = sampler_config(c);
    sc.init = match c.init.as_str() {
        "map" => ChainInit::map(&map)?,
        "source" => ChainInit::Source,
        "resample" => ChainInit::Resample {
            targets: Arc::new(train_y.iter().map(|v| *v as f32).collect()),
            dim: d,
            sigma_start: c.resample_sigma,
        },
        _ => ChainInit::Noise,
    };
    let mut sampler = Sampler::new(&pot, score, sc)?;
    let (y, _) = sampler.sample(&xe, &mut progress::ignore)?;
    r.scones = Some(truth.score(&linalg::to_vec(&y)?, t.elapsed().as_secs_f64())?);
    r.total_seconds = start.elapsed().as_secs_f64();
    Ok(r)
}

/// How multimodal the conditionals are: components above 5% weight, and the distance of the two
/// heaviest in units of the component standard deviation.
fn print_modes(bench: &EntropicBench, test_x: &[f64]) {
    let d = bench.d;
    let (mut modes, mut sep) = (0.0, 0.0);
    for x in test_x.chunks(d) {
        let cm = bench.conditional(x);
        let mut order: Vec<usize> = (0..cm.components()).collect();
        order.sort_by(|a, b| cm.weights[*b].total_cmp(&cm.weights[*a]));
        modes += cm.weights.iter().filter(|w| **w > 0.05).count() as f64;
        let (a, b) = (order[0], order[1]);
        let dist: f64 = cm.mean_of(a).iter().zip(cm.mean_of(b)).map(|(p, q)| (p - q) * (p - q)).sum::<f64>().sqrt();
        sep += dist / cm.vars[a].sqrt();
    }
    let nt = (test_x.len() / d) as f64;
    println!(
        "conditionals: {:.2} components above 5% weight on average; the two heaviest {:.2} standard deviations apart",
        modes / nt,
        sep / nt
    );
}

/// The two halves of SCONES' conditional score against their analytic values at exact
/// conditional samples of the test sources. Here pi(y | x) = f(y) exp(-|x - y|^2 / (2 eps)) / Z(x)
/// and Q = f h with h(y) = E_x exp(-|x - y|^2 / (2 eps)) / Z(x), so psi / lambda = -log h + const
/// and grad log Q = grad log f + grad log h; grad log h is a posterior average over 20,000
/// fresh source draws.
fn grad_check(
    bench: &EntropicBench,
    pot: &DualPotentials,
    score: &Arc<dyn ScoreSource>,
    test_x: &[f64],
    seed: u64,
) -> Result<()> {
    let (d, eps, lambda) = (bench.d, bench.eps, bench.lambda());
    let mut rng = Rng64::new(seed ^ 0x5eed);
    let xs = bench.sample_source(20_000, &mut rng);
    let log_z: Vec<f64> = xs.chunks(d).map(|x| bench.log_normalizer(x)).collect();
    let per = 20;
    let mut ys = Vec::new();
    for x in test_x.chunks(d) {
        ys.extend(bench.conditional(x).sample(per, &mut rng));
    }
    let n = ys.len() / d;
    let grad_log_h: Vec<f64> = ys
        .chunks(d)
        .flat_map(|y| {
            let logits: Vec<f64> = xs
                .chunks(d)
                .zip(&log_z)
                .map(|(x, lz)| -x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / (2.0 * eps) - lz)
                .collect();
            let top = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let w: Vec<f64> = logits.iter().map(|l| (l - top).exp()).collect();
            let total: f64 = w.iter().sum();
            let mut g = vec![0.0; d];
            for (x, wi) in xs.chunks(d).zip(&w) {
                for k in 0..d {
                    g[k] += wi / total * (x[k] - y[k]) / eps;
                }
            }
            g
        })
        .collect();
    let mut grad_log_f = vec![0.0; n * d];
    for (y, out) in ys.chunks(d).zip(grad_log_f.chunks_mut(d)) {
        bench.potential.score(y, 0.0, out);
    }
    let yt = to_t(&ys, d);
    let grad_psi = linalg::to_vec(&pot.psi.value_and_input_grad(&yt)?.1.f_div_scalar(lambda)?)?;
    // relative squared error overall and of its per-source mean (the part that shifts the means)
    let rel = |a: &[f64], b: &[f64]| -> (f64, f64) {
        let (mut err, mut norm, mut sys) = (0.0, 0.0, 0.0);
        for (ca, cb) in a.chunks(per * d).zip(b.chunks(per * d)) {
            let mut m = vec![0.0; d];
            for (ra, rb) in ca.chunks(d).zip(cb.chunks(d)) {
                for k in 0..d {
                    err += (ra[k] - rb[k]).powi(2);
                    norm += rb[k].powi(2);
                    m[k] += (ra[k] - rb[k]) / per as f64;
                }
            }
            sys += m.iter().map(|v| v * v).sum::<f64>() * per as f64;
        }
        (err / norm, sys / norm)
    };
    let neg_h: Vec<f64> = grad_log_h.iter().map(|v| -v).collect();
    let (e, s) = rel(&grad_psi, &neg_h);
    println!("grad psi / lambda vs -grad log h: relative squared error {e:.4}, of it per-source mean {s:.4}");
    let mut bound = score.bind(Device::Cpu)?;
    let true_q: Vec<f64> = grad_log_f.iter().zip(&grad_log_h).map(|(a, b)| a + b).collect();
    for sigma in [0.01, 0.03, 0.1, 0.3] {
        let sq = linalg::to_vec(&bound.score(&yt, sigma)?)?;
        let (e, s) = rel(&sq, &true_q);
        // the sum that the sampler uses against grad log f (the part of the conditional score
        // that does not come from the cost)
        let sum: Vec<f64> = sq.iter().zip(&grad_psi).map(|(a, b)| a + b).collect();
        let (es, ss) = rel(&sum, &grad_log_f);
        println!(
            "sigma {sigma}: score vs grad log Q {e:.4} (mean {s:.4}); score + grad psi / lambda vs grad log f {es:.4} (mean {ss:.4})"
        );
    }
    Ok(())
}

fn scored_json(s: &Scored) -> serde_json::Value {
    serde_json::json!({"cbw2_uvp": s.cbw2_uvp, "joint_bw2_uvp": s.joint_bw2_uvp, "seconds": s.seconds,
        "mean_part": s.mean_part, "spread_ratio": s.spread_ratio})
}

fn cell_json(c: &CellConfig, r: &CellResult) -> serde_json::Value {
    let opt = |s: &Option<Scored>| s.as_ref().map(scored_json);
    serde_json::json!({
        "d": c.d, "eps": c.eps, "lambda": 2.0 * c.eps, "config": format!("{c:?}"),
        "target_variance": r.target_variance,
        "floor": scored_json(&r.floor), "exact_score_langevin": scored_json(&r.exact_score_langevin),
        "scones": opt(&r.scones), "barycentric": opt(&r.barycentric), "dual_reweighting": opt(&r.dual_reweighting),
        "reweighting_ess": r.reweighting_ess, "dual_seconds": r.dual_seconds, "score_seconds": r.score_seconds,
        "mean_compatibility": r.mean_compatibility, "total_seconds": r.total_seconds,
    })
}

/// "mean part / spread ratio" of each method, the line under a cell's row.
fn breakdown_line(r: &CellResult) -> String {
    let one = |name: &str, s: &Option<Scored>| {
        s.as_ref().map_or(String::new(), |s| format!(" {name} {:.3} / {:.3};", s.mean_part, s.spread_ratio))
    };
    format!(
        "means' part of cBW2-UVP / spread ratio:{}{}{}{}\n",
        one("floor", &Some(r.floor.clone())),
        one("SCONES", &r.scones),
        one("exact-score", &Some(r.exact_score_langevin.clone())),
        one("reweighting", &r.dual_reweighting)
    )
}

fn md_row(c: &CellConfig, r: &CellResult) -> String {
    let f = r.floor.cbw2_uvp;
    let cell = |s: &Option<Scored>| {
        s.as_ref().map_or("-".to_string(), |s| format!("{:.3} ({:.2}x)", s.cbw2_uvp, s.cbw2_uvp / f))
    };
    let joint = |s: &Option<Scored>| s.as_ref().map_or("-".to_string(), |s| format!("{:.3}", s.joint_bw2_uvp));
    let e = Some(r.exact_score_langevin.clone());
    format!(
        "| {} | {} | {:.3} | {} | {} | {} | {} | {:.3} | {} | {} | {} | {:.0} / {:.0} / {:.0} s | {:.0} s |\n",
        c.d,
        c.eps,
        f,
        cell(&r.scones),
        cell(&e),
        cell(&r.dual_reweighting),
        cell(&r.barycentric),
        r.floor.joint_bw2_uvp,
        joint(&r.scones),
        joint(&e),
        joint(&r.barycentric),
        r.dual_seconds,
        r.score_seconds,
        r.scones.as_ref().map_or(r.exact_score_langevin.seconds, |s| s.seconds),
        r.total_seconds
    )
}

fn main() -> Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let get = |f: &str| a.iter().position(|x| x == f).and_then(|i| a.get(i + 1).cloned());
    let has = |f: &str| a.iter().any(|x| x == f);
    let num = |f: &str, v: f64| get(f).map_or(v, |s| s.parse().expect(f));
    let list = |f: &str, v: &[f64]| {
        get(f).map_or(v.to_vec(), |s| s.split(',').map(|x| x.parse().expect(f)).collect::<Vec<f64>>())
    };
    tch::set_num_threads(num("--threads", 2.0) as i32);
    let quick = has("--quick");
    let (dims, epss) = if quick {
        (vec![2.0], vec![1.0])
    } else {
        (list("--dims", &[2.0, 16.0, 64.0]), list("--eps", &[0.1, 1.0, 10.0]))
    };
    let out = get("--out").unwrap_or_else(|| "out".into());
    let name =
        get("--name")
            .unwrap_or_else(|| if quick { "conditional_bench_quick".into() } else { "conditional_bench".into() });
    let mut md = String::from(
        "| d | eps | floor cBW2-UVP | SCONES (x floor) | exact-score Langevin | dual reweighting | barycentric map | joint floor | joint SCONES | joint exact-score | joint BP | dual / score / sampling | total |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut cells = Vec::new();
    for &d in &dims {
        for &eps in &epss {
            let base = if quick {
                CellConfig { d: d as usize, eps, ..CellConfig::quick() }
            } else {
                CellConfig::full(d as usize, eps)
            };
            let c = CellConfig {
                seed: num("--seed", base.seed as f64) as u64,
                n_train: num("--train", base.n_train as f64) as usize,
                n_test: num("--test", base.n_test as f64) as usize,
                k: num("--k", base.k as f64) as usize,
                dual_iterations: num("--dual-iterations", base.dual_iterations as f64) as usize,
                dual_batch: num("--dual-batch", base.dual_batch as f64) as usize,
                dual_width: num("--dual-width", base.dual_width as f64) as usize,
                dual_activation: get("--dual-activation").unwrap_or(base.dual_activation.clone()),
                score: get("--score").unwrap_or(base.score.clone()),
                bandwidth: num("--bandwidth", base.bandwidth),
                score_iterations: num("--score-iterations", base.score_iterations as f64) as usize,
                score_width: num("--score-width", base.score_width as f64) as usize,
                levels: num("--levels", base.levels as f64) as usize,
                steps: num("--steps", base.steps as f64) as usize,
                sigma_first: num("--sigma-first", base.sigma_first),
                sigma_last: num("--sigma-last", base.sigma_last),
                step_size: num("--step-size", base.step_size),
                denoise: !has("--no-denoise"),
                init: get("--init").unwrap_or(base.init.clone()),
                resample_sigma: num("--resample-sigma", base.resample_sigma),
                exact_smoothing: get("--exact-smoothing").unwrap_or(base.exact_smoothing.clone()),
                bp_iterations: num("--bp-iterations", base.bp_iterations as f64) as usize,
                bp_width: base.bp_width,
                sampler_only: has("--sampler-only"),
                score_param: get("--score-param").unwrap_or(base.score_param.clone()),
                compat_at: get("--compat-at").unwrap_or(base.compat_at.clone()),
                cache: get("--cache").or(base.cache.clone()),
                grad_check: has("--grad-check"),
                ..base
            };
            let r = match run_cell(&c) {
                Ok(r) => r,
                Err(e) => {
                    println!("d={d} eps={eps}: {e}");
                    cells.push(
                        serde_json::json!({"d": c.d, "eps": eps, "error": e.to_string(), "config": format!("{c:?}")}),
                    );
                    md += &format!("| {} | {eps} | failed: {e} |\n", c.d);
                    continue;
                }
            };
            let row = md_row(&c, &r);
            print!("{row}{}", breakdown_line(&r));
            md += &row;
            cells.push(cell_json(&c, &r));
        }
    }
    md += &format!(
        "\ncBW2-UVP = 100 mean_x BW2^2(samples, pi(. | x)) / tr Cov(Q); joint = BW2-UVP of (x, y) over the test \
         sources; (x floor) = ratio to exact conditional samples of the same count (the floor: mean of {FLOOR_DRAWS} draws). Command: `{}`\n",
        a[1..].join(" ")
    );
    std::fs::create_dir_all(&out).map_err(|e| Error::io(e.to_string()))?;
    std::fs::write(format!("{out}/{name}.md"), &md).map_err(|e| Error::io(e.to_string()))?;
    let json = serde_json::to_string_pretty(&serde_json::json!({ "cells": cells })).expect("json");
    std::fs::write(format!("{out}/{name}.json"), json + "\n").map_err(|e| Error::io(e.to_string()))?;
    println!("{md}\nwrote {out}/{name}.md and .json");
    Ok(())
}
