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
pub mod daspot;
mod generator;
mod train;

#[cfg(test)]
mod tests;

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::neural::mlp::Mlp;
use crate::neural::optim::{check_widths, LrSchedule, Optim};
use crate::ot::Cost;
use crate::runtime::device::device_name;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::model_file::ModelFile;
use crate::runtime::rng::Rng64;

pub use critic::{Critic, SpectralNorm};
pub use generator::{Flow, Generator};
pub use train::{train, SpotReport};

/// Most marginals one generator may carry (section 3.3's m); each has its own critic.
pub const MAX_MARGINALS: usize = 64;

/// The entropic term of section 3.4 and the flow that makes it computable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entropy {
    /// lambda > 0 of lambda KL(pi || mu x nu) (lambda E log p up to the marginals' entropies).
    pub lambda: f64,
    /// Euler steps of the flow (1 to 1000).
    pub steps: usize,
}

/// Options of Algorithm 3. [`SpotConfig::default`] is the tuned setting; [`SpotConfig::thesis`]
/// the thesis' section 3.6.1.
#[derive(Clone, Debug)]
pub struct SpotConfig {
    /// Dimension of Z ~ N(0, I); 0 takes the sum of the marginal dimensions. An unregularised
    /// plan of two d-dimensional marginals lives on a d-dimensional set, but a latent of that
    /// size traps the generator: with three 1-D marginals and Z in R^1 it settled on a
    /// non-monotone coupling (cost 22.1 against the optimum 15), with Z in R^3 it found 15.1.
    pub latent_dim: usize,
    pub generator_hidden: Vec<usize>,
    pub critic_hidden: Vec<usize>,
    /// One network with all marginals as output heads (the thesis' footnote 2) instead of one
    /// network per marginal (its experiments).
    pub shared_generator: bool,
    /// Weight of the marginal penalty; 0 chooses it from the data ([`SpotConfig::AUTO_ETA_FACTOR`]
    /// times the cost's Lipschitz scale on the first minibatch). The penalty is exact once eta
    /// exceeds the cost's Lipschitz constant: moving generated mass by a W1 distance delta changes
    /// E c by at most L delta (L = 1 for |x - y|, 2 |x - y| for |x - y|^2), so a smaller eta lets the
    /// generator trade marginal fit for cost, and a much larger one slows the pairing down
    /// (Adam sees the cost's gradient only relative to the penalty's).
    pub eta: f64,
    pub n_critic: usize,
    pub cost: Cost,
    /// Exponential moving average of the generator's weights, the weights sampled from after
    /// training (0 = off, the last iterate as in the thesis). It averages out the adversarial
    /// oscillation of the last iterates.
    pub generator_ema: f64,
    /// Entropy regularisation (section 3.4): the generator becomes a neural ODE with a known
    /// density and the objective gains lambda E log p(G(Z)), which with the marginals held makes
    /// the plan the minimiser of E c + lambda KL(pi || mu x nu), SCONES' KL-regularised problem.
    pub entropy: Option<Entropy>,
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
            entropy: None,
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
            entropy: None,
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
        if self.optim.collective.is_some() {
            return Err(Error::invalid("SPOT does not train data-parallel: its options take no collective"));
        }
        check_widths(&self.generator_hidden, "SPOT generator")?;
        check_widths(&self.critic_hidden, "SPOT critic")?;
        if !(self.eta.is_finite() && self.eta >= 0.0) {
            return Err(Error::invalid(format!("eta must be a finite number >= 0 (0: automatic), got {}", self.eta)));
        }
        limits::count("n_critic", self.n_critic, 1000)?;
        limits::at_most("latent dimension", self.latent_dim, 1 << 16)?;
        limits::count("batch size", self.optim.batch_size, limits::MAX_BATCH)?;
        limits::at_most("iterations", self.optim.iterations, limits::MAX_ITERATIONS)?;
        if let Some(e) = &self.entropy {
            if !(e.lambda.is_finite() && e.lambda > 0.0) {
                return Err(Error::invalid(format!("entropy lambda must be a finite number > 0, got {}", e.lambda)));
            }
            limits::count("flow steps", e.steps, 1000)?;
        }
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
            // |grad_x s |x - y|^2| = 2 s |x - y|, at its root-mean-square over pairs of the
            // batch's rows across marginals: the scale of the cost's pull on typical points
            // (the largest pair over-weights the tails by a factor 3-4 and slows the pairing).
            let mut worst: f64 = 0.0;
            for k in 0..batch.len() {
                for l in k + 1..batch.len() {
                    let mean_sq = self.cost.pairwise(&batch[k], &batch[l])?.f_mean(Kind::Double)?.f_double_value(&[])?;
                    let s = self.cost.scale(batch[k].size()[1]);
                    worst = worst.max(2.0 * (s * mean_sq).sqrt());
                }
            }
            worst.max(1e-6)
        } else {
            1.0
        };
        Ok(Self::AUTO_ETA_FACTOR * lipschitz)
    }

    pub(super) fn latent_for(&self, dims: &[usize]) -> usize {
        if self.latent_dim > 0 {
            self.latent_dim
        } else {
            dims.iter().sum()
        }
    }
}

/// The plan's cost c(x_1, ..., x_m) per row: the ground cost for two marginals, the sum over
/// pairs for more.
pub fn plan_cost(cost: &Cost, parts: &[Tensor]) -> Result<Tensor> {
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
        let c = tch::no_grad(|| plan_cost(&self.cost, &parts))?.f_to_kind(Kind::Double)?;
        let mean = c.f_mean(Kind::Double)?.f_double_value(&[])?;
        let sd = c.f_std(true)?.f_double_value(&[])?;
        Ok((mean, sd / (n as f64).sqrt()))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut f = ModelFile::new("spot");
        self.cost.store(&mut f)?;
        f.set("dims", self.generator.dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","));
        f.set("latent_dim", self.generator.latent_dim);
        f.set("shared_generator", self.generator.shared());
        f.set("flow_steps", self.generator.flow.map_or(0, |fl| fl.steps));
        for (k, net) in self.generator.nets.iter().enumerate() {
            net.store(&format!("generator{k}"), &mut f);
        }
        f.save(path)
    }

    pub fn load(path: &Path, device: Device) -> Result<SpotModel> {
        let f = ModelFile::load(path, "spot")?;
        let dims = f.get_widths("dims")?;
        let latent: usize = f.get_parsed("latent_dim")?;
        let shared: bool = f.get_parsed("shared_generator")?;
        let steps: usize = f.get_parsed("flow_steps")?;
        if dims.len() < 2 || dims.len() > MAX_MARGINALS || dims.contains(&0) || latent == 0 || steps > 1000 {
            return Err(Error::format(format!(
                "SPOT model has marginal dimensions {dims:?}, latent {latent}, flow steps {steps}"
            )));
        }
        let cost = Cost::restore(&f, dims[0], dims[1])?;
        let total: usize = dims.iter().sum();
        let flow = (steps > 0).then_some(Flow { steps });
        if flow.is_some() && (latent != total || !shared) {
            return Err(Error::format(format!("a SPOT flow must map R^{total} to itself, got latent {latent}")));
        }
        let (input, outs): (usize, Vec<usize>) = match (flow, shared) {
            (Some(_), _) => (latent + 1, vec![total]),
            (None, true) => (latent, vec![total]),
            (None, false) => (latent, dims.clone()),
        };
        let nets = outs
            .iter()
            .enumerate()
            .map(|(k, &out)| Mlp::restore(&format!("generator{k}"), input, out, &f, device))
            .collect::<Result<Vec<_>>>()?;
        Ok(SpotModel { generator: Generator { nets, dims, latent_dim: latent, flow }, cost, device })
    }

    pub fn describe(&self) -> String {
        format!(
            "SPOT plan: marginals {:?} cost={} latent {} {} generator {:?} on {}",
            self.generator.dims,
            self.cost.name(),
            self.generator.latent_dim,
            match (self.generator.flow, self.generator.shared()) {
                (Some(_), _) => "flow",
                (None, true) => "shared",
                (None, false) => "separate",
            },
            self.generator.nets[0].hidden,
            device_name(self.device)
        )
    }
}
