//! Throughput at image shapes (issue 13, item 5), shared by `bench --image-shapes` (the sweep,
//! repeated, written as JSON) and `bench_row row=dual_image|langevin_image` (one measurement).
//!
//! The paper's CelebA potentials (appendix Table 5): ReLU networks 3 x 64^2 -> 2048 x 8 -> 1,
//! paired batches of 1000, KL or chi-square regularization (KL at lambda = 0.1 here), the mean
//! squared cost. The table gives them a ReLU output too; the library's potentials keep a linear
//! output (src/neural/mlp.rs says why), one activation on [m, 1] that the rates cannot see.
//! Data are synthetic Gaussians of the image shape (x ~ N(0, I), y ~ N(0.3, 0.25 I)); the
//! arithmetic does not depend on the values.
//!
//! Langevin runs the library's sampler as it samples pi(y | x): annealed, unadjusted, each step
//! the TorchScript score s(y, sigma) plus the compatibility gradient, i.e. psi's input gradient
//! (the hand-written ReLU backward) minus the cost's y-gradient, evaluated at the denoised point
//! (the default), and a final Tweedie step. The score modules come from
//! scripts/make_image_scores.py (generated on first use into a git-ignored folder), with their
//! FLOPs per sample beside them.

// Each of the two examples that include this file uses a different part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use scones::neural::dual::{self, BatchMode, DualConfig, DualPotentials};
use scones::neural::sampler::{Annealing, Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Cost, Divergence, Regularizer};
use scones::runtime::progress::{self, Progress};
use scones::runtime::rng::Rng64;
use scones::score::{ScoreSource, TorchScriptScore};
use tch::{Device, Kind, Tensor};

pub type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Points per synthetic data set: batches of 1000 are drawn with replacement from them
/// (2 x 98 MB at d = 12,288).
const POINTS: i64 = 2000;
/// The paper's KL lambdas for CelebA are 0.1, 0.01 and 0.005; the rate does not depend on it.
const LAMBDA: f64 = 0.1;

/// The paper's potentials: `depth` hidden ReLU layers of `width`.
#[derive(Clone, Copy, Debug)]
pub struct Net {
    pub width: usize,
    pub depth: usize,
}

impl Net {
    pub const PAPER: Net = Net { width: 2048, depth: 8 };

    pub fn hidden(self) -> Vec<usize> {
        vec![self.width; self.depth]
    }

    /// Multiply-adds of one forward pass of d -> hidden -> 1 on one sample.
    pub fn macs(self, d: usize) -> f64 {
        let (w, k) = (self.width as f64, self.depth as f64);
        d as f64 * w + (k - 1.0) * w * w + w
    }

    pub fn parameters(self, d: usize) -> f64 {
        self.macs(d) + self.width as f64 * self.depth as f64 + 1.0
    }
}

/// FLOPs of one paired dual iteration with batch m: for phi on x and psi on y, the forward
/// (2 MACs), the weight gradients (2 MACs) and the gradients of the hidden activations (2 MACs
/// of every layer but the first: autograd does not differentiate the data). Adam's update (about
/// 10 flops per parameter) is counted too; the cost and pair terms are O(m d), left out.
pub fn dual_flops_per_iteration(d: usize, net: Net, m: usize) -> f64 {
    let per_sample = 6.0 * net.macs(d) - 2.0 * d as f64 * net.width as f64;
    2.0 * (m as f64 * per_sample + 10.0 * net.parameters(d))
}

/// FLOPs of one chain-step: psi's value and input gradient (forward 2 MACs, backward to the
/// input 2 MACs) and one forward pass of the score network; the cost gradient, noise and update
/// are O(d).
pub fn langevin_flops_per_chain_step(d: usize, net: Net, score_flops: f64) -> f64 {
    4.0 * net.macs(d) + score_flops
}

/// Parses `--device`: a device that is not there is an error (scones never falls back).
pub fn device(name: &str) -> Res<Device> {
    Ok(scones::runtime::device::parse_device(name)?)
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Synthetic source and target points of dimension d on `device`.
fn data(d: usize, device: Device) -> Res<(Empirical, Empirical)> {
    let mut rng = Rng64::new(7);
    let x = rng.normal_tensor(&[POINTS, d as i64], Kind::Float, Device::Cpu)?;
    let y = rng.normal_tensor(&[POINTS, d as i64], Kind::Float, Device::Cpu)? * 0.5 + 0.3;
    Ok((Empirical::new(&x, device)?, Empirical::new(&y, device)?))
}

fn dual_config(net: Net, m: usize, iterations: usize, device: Device) -> Res<DualConfig> {
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, LAMBDA)?);
    cfg.cost = Cost::MeanSqEuclidean;
    cfg.phi_hidden = net.hidden();
    cfg.psi_hidden = net.hidden();
    cfg.batch_mode = BatchMode::Paired;
    cfg.optim.batch_size = m;
    cfg.optim.iterations = iterations;
    cfg.optim.learning_rate = 1e-6;
    cfg.optim.device = device;
    cfg.optim.report_every = 1;
    Ok(cfg)
}

/// One dual training run of `warmup + iterations` paired iterations; the rate counts only the
/// last `iterations`, timed from the end of the warm-up ones (the first iteration allocates
/// Adam's state and every gradient), by the progress observer that runs after each iteration.
pub fn dual_rate(d: usize, net: Net, m: usize, iterations: usize, warmup: usize, device: Device) -> Res<f64> {
    let (mut xs, mut ys) = data(d, device)?;
    let warmup = warmup.max(1);
    let cfg = dual_config(net, m, warmup + iterations, device)?;
    let mut marks: Vec<Instant> = Vec::new();
    let mut observe = |p: &Progress| {
        sync(device);
        if p.iteration as usize >= warmup {
            marks.push(Instant::now());
        }
        true
    };
    dual::train(&cfg, &mut xs, &mut ys, &mut observe)?;
    let (first, last) = (marks.first().ok_or("no iteration timed")?, marks.last().ok_or("no iteration timed")?);
    Ok((marks.len() - 1) as f64 / last.duration_since(*first).as_secs_f64().max(1e-9))
}

/// Potentials of the paper's architecture for the sampler: two iterations on small batches (the
/// sampling rate does not depend on how well psi is trained).
pub fn potentials(d: usize, net: Net, device: Device) -> Res<DualPotentials> {
    let (mut xs, mut ys) = data(d, device)?;
    Ok(dual::train(&dual_config(net, 16, 2, device)?, &mut xs, &mut ys, &mut progress::ignore)?.0)
}

/// A TorchScript score of scripts/make_image_scores.py and its FLOPs per sample.
pub struct ScoreModule {
    pub path: PathBuf,
    pub architecture: String,
    pub parameters: u64,
    pub flops_per_sample: f64,
}

/// The cached torch environment's python (scripts/setup-torch.sh prints its torch/ folder).
fn python() -> Res<PathBuf> {
    let out = std::process::Command::new("bash").arg("scripts/setup-torch.sh").output()?;
    if !out.status.success() {
        return Err(format!("scripts/setup-torch.sh failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let torch = PathBuf::from(String::from_utf8(out.stdout)?.trim());
    let venv = torch.ancestors().nth(4).ok_or("unexpected torch path")?;
    Ok(venv.join("bin").join("python"))
}

/// Loads `dir/score_d{d}.pt`, writing the modules first when they are not there.
pub fn score_module(dir: &Path, d: usize) -> Res<ScoreModule> {
    let (pt, meta) = (dir.join(format!("score_d{d}.pt")), dir.join(format!("score_d{d}.json")));
    if !pt.exists() || !meta.exists() {
        let status = std::process::Command::new(python()?).arg("scripts/make_image_scores.py").arg(dir).status()?;
        if !status.success() {
            return Err("scripts/make_image_scores.py failed".into());
        }
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&meta)?)?;
    let field = |k: &str| v.get(k).ok_or_else(|| format!("{}: no field {k}", meta.display()));
    if field("d")?.as_u64() != Some(d as u64) {
        return Err(format!("{}: not a module for d = {d}", meta.display()).into());
    }
    Ok(ScoreModule {
        path: pt,
        architecture: field("architecture")?.as_str().unwrap_or("").to_string(),
        parameters: field("parameters")?.as_u64().unwrap_or(0),
        flops_per_sample: field("forward_flops_per_sample")?.as_f64().ok_or("bad FLOP count")?,
    })
}

/// The sampler's settings: annealed as the paper's CelebA runs (Table 6: sigma 90 -> 0.1,
/// denoising), but `levels` x `steps` steps instead of 500 per level.
pub fn sampler_config(levels: usize, steps: usize, device: Device) -> SamplerConfig {
    let mut c = SamplerConfig::new();
    c.annealing = Some(Annealing { sigma_first: 90.0, sigma_last: 0.1, levels });
    c.steps_per_level = steps;
    c.step_size = 1.5e-7;
    c.denoise = true;
    c.device = device;
    c
}

/// A sampler over `chains` chains, ready to run: the same sampler (and so the same loaded
/// TorchScript module, whose profiling executor specializes on its first calls) serves the
/// warm-up and every timed run.
pub struct LangevinBench {
    sampler: Sampler,
    pot: DualPotentials,
    source: Arc<dyn ScoreSource>,
    x: Tensor,
    device: Device,
}

/// Seconds of one call of each part of a step on all chains, timed apart from the sampler.
pub struct Components {
    pub score_s: f64,
    pub psi_grad_s: f64,
}

impl LangevinBench {
    pub fn new(d: usize, net: Net, score: &ScoreModule, chains: usize, cfg: SamplerConfig) -> Res<LangevinBench> {
        let device = cfg.device;
        let pot = potentials(d, net, device)?;
        let source: Arc<dyn ScoreSource> = Arc::new(TorchScriptScore::new(&score.path, d)?);
        let sampler = Sampler::new(&pot, source.clone(), cfg)?;
        let x = Rng64::new(3).normal_tensor(&[chains as i64, d as i64], Kind::Float, Device::Cpu)?;
        Ok(LangevinBench { sampler, pot, source, x, device })
    }

    /// The step's two networks alone on all chains, best of `repeats` calls after two warm-up
    /// calls: the TorchScript score at sigma = 1 and psi's value and input gradient (the same
    /// hand-written backward the sampler calls), to show where a step's time goes.
    pub fn components(&self, repeats: usize) -> Res<Components> {
        let y = self.x.f_to_device(self.device)?;
        let mut score = self.source.bind(self.device)?;
        let mut buffers = scones::neural::mlp::InputGradBuffers::default();
        let mut best = (f64::INFINITY, f64::INFINITY);
        for i in 0..repeats + 2 {
            sync(self.device);
            let t = Instant::now();
            let s = score.score(&y, 1.0)?;
            sync(self.device);
            let t_score = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let (v, g) = self.pot.psi.value_and_input_grad_in(&y, &mut buffers)?;
            sync(self.device);
            let t_psi = t.elapsed().as_secs_f64();
            drop((s, v, g));
            if i >= 2 {
                best = (best.0.min(t_score), best.1.min(t_psi));
            }
        }
        Ok(Components { score_s: best.0, psi_grad_s: best.1 })
    }

    pub fn steps_per_chain(&self) -> usize {
        self.sampler.steps_per_chain()
    }

    /// One full sampling run: chain-steps per second of wall time (the samples come back to
    /// the CPU, which also waits for a GPU).
    pub fn run(&mut self) -> Res<f64> {
        sync(self.device);
        let t = Instant::now();
        let (y, r) = self.sampler.sample(&self.x, &mut progress::ignore)?;
        let wall = t.elapsed().as_secs_f64();
        if !bool::try_from(y.f_isfinite()?.f_all()?)? {
            return Err("non-finite samples".into());
        }
        Ok((r.chains * r.steps_per_chain) as f64 / wall.max(1e-9))
    }
}

/// The machine's load averages and running / total tasks, `/proc/loadavg` as it reads.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unavailable".into())
}

/// This process's peak resident memory in MiB (`VmHWM`), where Linux reports it.
pub fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Best (largest) and median of the rates.
pub fn best_and_median(rates: &[f64]) -> (f64, f64) {
    let mut v = rates.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) };
    (v[n - 1], median)
}

/// What the machine gives a dense product right now at the current thread count: GFLOP/s of a
/// [1000, 2048] x [2048, 2048] float32 matmul on `device` (the dual's hidden layers at m = 1000),
/// best of three after one warm-up. The host is shared, so each row records this beside its
/// rate: a rate divided by it reads the same whether the neighbours were busy or not.
pub fn gemm_probe(device: Device) -> Res<f64> {
    let mut rng = Rng64::new(11);
    let a = rng.normal_tensor(&[1000, 2048], Kind::Float, device)?;
    let b = rng.normal_tensor(&[2048, 2048], Kind::Float, device)?;
    let mut best = f64::INFINITY;
    for i in 0..4 {
        sync(device);
        let t = Instant::now();
        let c = a.f_mm(&b)?;
        sync(device);
        drop(c);
        if i > 0 {
            best = best.min(t.elapsed().as_secs_f64());
        }
    }
    Ok(2.0 * 1000.0 * 2048.0 * 2048.0 / best / 1e9)
}
