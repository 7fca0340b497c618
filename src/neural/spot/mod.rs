//! SPOT, the scalable push-forward of optimal transport (Xie, thesis ch. 3): the plan is the law
//! of G(Z) = (G_1(Z), ..., G_m(Z)) for a latent Z ~ N(0, I), and G solves
//!
//!   min_G max_{phi_k 1-Lipschitz}  E_z c(G(z)) + eta sum_k ( E_z phi_k(G_k(z)) - E_{x~mu_k} phi_k(x) )   (3.7)
//!
//! (Algorithm 3: n_critic ascent steps on the critics, one descent step on G, Adam). With two
//! marginals c is the ground cost c(x, y); with m > 2 (section 3.3) it is the sum of the ground
//! cost over all pairs of marginals, sum_{k < l} c(x_k, x_l), the usual pairwise multi-marginal
//! cost. Unlike SCONES, which samples pi(y | x) for a given x, SPOT yields paired samples of the
//! joint plan.

mod critic;
mod train;

#[cfg(test)]
mod tests;

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::neural::activation::Activation;
use crate::neural::mlp::Mlp;
use crate::neural::optim::{check_widths, LrSchedule, Optim};
use crate::ot::Cost;
use crate::runtime::device::device_name;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::model_file::ModelFile;
use crate::runtime::rng::Rng64;

pub use critic::{Critic, SpectralNorm};
pub use train::{train, SpotReport};

/// Most marginals one generator may carry (section 3.3's m); each has its own critic.
pub const MAX_MARGINALS: usize = 64;

/// Options of Algorithm 3. [`SpotConfig::default`] is the tuned setting; [`SpotConfig::thesis`]
/// the thesis' section 3.6.1.
#[derive(Clone, Debug)]
pub struct SpotConfig {
    /// Dimension of Z ~ N(0, I); 0 takes the largest marginal dimension (the plan of two
    /// d-dimensional marginals under a strictly convex cost lives on a d-dimensional set).
    pub latent_dim: usize,
    pub generator_hidden: Vec<usize>,
    pub critic_hidden: Vec<usize>,
    /// One network with all marginals as output heads (the thesis' footnote 2) instead of one
    /// network per marginal (its experiments).
    pub shared_generator: bool,
    /// Weight of the marginal penalty; 0 chooses it from the data ([`SpotConfig::AUTO_ETA_FACTOR`]
    /// times the cost's Lipschitz constant over the first minibatch). The penalty is exact once
    /// eta exceeds that constant: moving generated mass by a W1 distance delta changes E c by at
    /// most L delta (L = 1 for |x - y|, 2 max |x - y| for |x - y|^2), so a smaller eta lets the
    /// generator trade marginal fit for cost, and a much larger one slows the pairing down
    /// (Adam sees the cost's gradient only relative to the penalty's).
    pub eta: f64,
    pub n_critic: usize,
    pub cost: Cost,
    /// Exponential moving average of the generator's weights, the weights sampled from after
    /// training (0 = off, the last iterate as in the thesis). It averages out the adversarial
    /// oscillation of the last iterates.
    pub generator_ema: f64,
    /// Adam (learning rate, betas (0.5, 0.999) in the thesis), batch size n, iterations of G,
    /// seed, device, report interval. The critics use the same settings.
    pub optim: Optim,
}

impl Default for SpotConfig {
    /// Tuned on the thesis' W1 check (docs/results/spot.md): critics of 64-64 instead of 8,
    /// eta from the data (10 for |x - y|) instead of 1e4, a generator EMA of 0.999, cosine decay of the learning rate.
    fn default() -> Self {
        SpotConfig {
            latent_dim: 0,
            generator_hidden: vec![64, 64],
            critic_hidden: vec![64, 64],
            shared_generator: false,
            eta: 0.0,
            n_critic: 5,
            cost: Cost::SqEuclidean,
            generator_ema: 0.999,
            optim: Optim {
                learning_rate: 1e-3,
                beta1: 0.5,
                beta2: 0.999,
                schedule: LrSchedule::Cosine { final_fraction: 0.1 },
                batch_size: 256,
                iterations: 5000,
                ..Optim::default()
            },
        }
    }
}

impl SpotConfig {
    /// Section 3.6.1 of the thesis: separate generators with two hidden layers of 8, critics with
    /// one hidden layer of 8, Leaky-ReLU, eta = 1e4, batch 100, Adam(1e-3, 0.5, 0.999) at a
    /// constant rate, the last iterate. n_critic is not given there; 5 is the Wasserstein-GAN
    /// value it follows.
    pub fn thesis() -> SpotConfig {
        SpotConfig {
            latent_dim: 0,
            generator_hidden: vec![8, 8],
            critic_hidden: vec![8],
            shared_generator: false,
            eta: 1e4,
            n_critic: 5,
            cost: Cost::Euclidean,
            generator_ema: 0.0,
            optim: Optim {
                learning_rate: 1e-3,
                beta1: 0.5,
                beta2: 0.999,
                schedule: LrSchedule::Constant,
                batch_size: 100,
                iterations: 5000,
                ..Optim::default()
            },
        }
    }

    pub fn validate(&self) -> Result<()> {
        self.optim.validate()?;
        check_widths(&self.generator_hidden, "SPOT generator")?;
        check_widths(&self.critic_hidden, "SPOT critic")?;
        if !(self.eta.is_finite() && self.eta >= 0.0) {
            return Err(Error::invalid(format!("eta must be a finite number >= 0 (0: automatic), got {}", self.eta)));
        }
        limits::count("n_critic", self.n_critic, 1000)?;
        limits::at_most("latent dimension", self.latent_dim, 1 << 16)?;
        limits::count("batch size", self.optim.batch_size, limits::MAX_BATCH)?;
        limits::at_most("iterations", self.optim.iterations, limits::MAX_ITERATIONS)?;
        if !(0.0..1.0).contains(&self.generator_ema) {
            return Err(Error::invalid(format!("generator EMA must lie in [0, 1), got {}", self.generator_ema)));
        }
        Ok(())
    }

    /// eta = 0 asks for this many times the cost's Lipschitz constant on the data.
    pub const AUTO_ETA_FACTOR: f64 = 10.0;

    /// The penalty weight for a run whose first minibatch is `batch` (one tensor per marginal).
    pub fn effective_eta(&self, batch: &[Tensor]) -> Result<f64> {
        if self.eta > 0.0 {
            return Ok(self.eta);
        }
        let lipschitz = if self.cost.is_smooth() {
            // |grad_x s |x - y|^2| = 2 s |x - y|: its largest value over pairs of the batch's
            // rows across marginals bounds the constant over the bulk of the data.
            let mut worst: f64 = 0.0;
            for k in 0..batch.len() {
                for l in k + 1..batch.len() {
                    let d = self.cost.pairwise(&batch[k], &batch[l])?.f_max()?.f_double_value(&[])?;
                    let s = self.cost.scale(batch[k].size()[1]);
                    worst = worst.max(2.0 * (s * d).sqrt());
                }
            }
            worst.max(1e-6)
        } else {
            1.0
        };
        Ok(Self::AUTO_ETA_FACTOR * lipschitz)
    }

    fn latent_for(&self, dims: &[usize]) -> usize {
        if self.latent_dim > 0 {
            self.latent_dim
        } else {
            dims.iter().copied().max().unwrap_or(1)
        }
    }
}

/// The generator G: one network per marginal, or one shared network whose output is split.
pub struct Generator {
    pub nets: Vec<Mlp>,
    pub dims: Vec<usize>,
    pub latent_dim: usize,
}

impl Generator {
    fn new(cfg: &SpotConfig, dims: &[usize], rng: &mut Rng64, device: Device) -> Result<Generator> {
        let latent = cfg.latent_for(dims);
        let make = |out: usize, rng: &mut Rng64| -> Result<Mlp> {
            limits::network("SPOT generator", latent, &cfg.generator_hidden, out)?;
            Mlp::with_activation(latent, &cfg.generator_hidden, out, Activation::LeakyRelu, rng, device)
        };
        let nets = if cfg.shared_generator {
            vec![make(dims.iter().sum(), rng)?]
        } else {
            dims.iter().map(|&d| make(d, rng)).collect::<Result<_>>()?
        };
        Ok(Generator { nets, dims: dims.to_vec(), latent_dim: latent })
    }

    pub fn shared(&self) -> bool {
        self.nets.len() == 1 && self.dims.len() > 1
    }

    /// G(z) for z [n, latent], one [n, d_k] block per marginal.
    pub fn forward(&self, z: &Tensor) -> Result<Vec<Tensor>> {
        if self.shared() {
            let out = self.nets[0].forward(z)?;
            let sizes: Vec<i64> = self.dims.iter().map(|&d| d as i64).collect();
            Ok(out.f_split_with_sizes(&sizes, 1)?)
        } else {
            self.nets.iter().map(|n| n.forward(z)).collect()
        }
    }

    pub fn parameters(&self) -> Vec<&Tensor> {
        self.nets.iter().flat_map(|n| n.parameters()).collect()
    }

    fn detached_to(&self, device: Device) -> Result<Generator> {
        Ok(Generator {
            nets: self.nets.iter().map(|n| n.detached_to(device)).collect::<Result<_>>()?,
            dims: self.dims.clone(),
            latent_dim: self.latent_dim,
        })
    }
}

/// The plan's cost c(x_1, ..., x_m) per row: the ground cost for two marginals, the sum over
/// pairs for more.
pub fn plan_cost(cost: Cost, parts: &[Tensor]) -> Result<Tensor> {
    let mut total: Option<Tensor> = None;
    for k in 0..parts.len() {
        for l in k + 1..parts.len() {
            let c = cost.paired(&parts[k], &parts[l])?;
            total = Some(match total {
                None => c,
                Some(t) => t.f_add(&c)?,
            });
        }
    }
    total.ok_or_else(|| Error::internal("a plan needs at least two marginals"))
}

/// A trained SPOT generator with its cost.
pub struct SpotModel {
    pub generator: Generator,
    pub cost: Cost,
    pub device: Device,
}

/// Largest number of latent draws in one generator pass when sampling (bounds memory, not n).
const SAMPLE_CHUNK: usize = 1 << 16;

impl SpotModel {
    pub fn dims(&self) -> &[usize] {
        &self.generator.dims
    }

    /// n paired draws (G_1(z), ..., G_m(z)) of the plan, z from the seeded stream; float32
    /// tensors [n, d_k] on the model's device. Chunks of 65,536 draws share one stream, so the
    /// result depends only on (seed, n).
    pub fn sample(&self, n: usize, seed: u64) -> Result<Vec<Tensor>> {
        limits::count("number of samples", n, limits::MAX_BATCH * 64)?;
        let mut rng = Rng64::new(seed);
        let mut parts: Vec<Vec<Tensor>> = (0..self.generator.dims.len()).map(|_| Vec::new()).collect();
        tch::no_grad(|| -> Result<()> {
            let mut done = 0;
            while done < n {
                let m = (n - done).min(SAMPLE_CHUNK);
                let z = rng.normal_tensor(&[m as i64, self.generator.latent_dim as i64], Kind::Float, self.device)?;
                for (k, g) in self.generator.forward(&z)?.into_iter().enumerate() {
                    parts[k].push(g);
                }
                done += m;
            }
            Ok(())
        })?;
        parts.into_iter().map(|p| Ok(Tensor::f_cat(&p, 0)?)).collect()
    }

    /// E c(G(Z)) from n latent draws, with its standard error (sample standard deviation /
    /// sqrt(n)): the SPOT estimate of the optimal transport cost.
    pub fn cost_estimate(&self, n: usize, seed: u64) -> Result<(f64, f64)> {
        if n < 2 {
            return Err(Error::invalid(format!("a cost estimate needs n >= 2 draws, got {n}")));
        }
        let parts = self.sample(n, seed)?;
        let c = tch::no_grad(|| plan_cost(self.cost, &parts))?.f_to_kind(Kind::Double)?;
        let mean = c.f_mean(Kind::Double)?.f_double_value(&[])?;
        let sd = c.f_std(true)?.f_double_value(&[])?;
        Ok((mean, sd / (n as f64).sqrt()))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut f = ModelFile::new("spot");
        f.set("cost", self.cost.name());
        f.set("dims", self.generator.dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","));
        f.set("latent_dim", self.generator.latent_dim);
        f.set("shared_generator", self.generator.shared());
        for (k, net) in self.generator.nets.iter().enumerate() {
            net.store(&format!("generator{k}"), &mut f);
        }
        f.save(path)
    }

    pub fn load(path: &Path, device: Device) -> Result<SpotModel> {
        let f = ModelFile::load(path, "spot")?;
        let cost = Cost::from_name(f.get("cost")?)?;
        let dims = f.get_widths("dims")?;
        let latent: usize = f.get_parsed("latent_dim")?;
        let shared: bool = f.get_parsed("shared_generator")?;
        if dims.len() < 2 || dims.len() > MAX_MARGINALS || dims.contains(&0) || latent == 0 {
            return Err(Error::format(format!("SPOT model has marginal dimensions {dims:?} and latent {latent}")));
        }
        let outs: Vec<usize> = if shared { vec![dims.iter().sum()] } else { dims.clone() };
        let nets = outs
            .iter()
            .enumerate()
            .map(|(k, &out)| Mlp::restore(&format!("generator{k}"), latent, out, &f, device))
            .collect::<Result<Vec<_>>>()?;
        Ok(SpotModel { generator: Generator { nets, dims, latent_dim: latent }, cost, device })
    }

    pub fn describe(&self) -> String {
        format!(
            "SPOT plan: marginals {:?} cost={} latent {} {} generator {:?} on {}",
            self.generator.dims,
            self.cost.name(),
            self.generator.latent_dim,
            if self.generator.shared() { "shared" } else { "separate" },
            self.generator.nets[0].hidden,
            device_name(self.device)
        )
    }
}
