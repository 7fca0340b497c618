//! Algorithm 1: the dual potentials phi, psi as ReLU MLPs trained by stochastic gradient ascent
//! (Adam) on the regularized dual objective J.

use std::path::Path;
use std::time::Instant;

use tch::{Device, Tensor};

use crate::device::device_name;
use crate::error::{Error, Result};
use crate::measure::Measure;
use crate::model_file::ModelFile;
use crate::nn::{Adam, Mlp};
use crate::ot::{self, Cost, Divergence, Regularizer};
use crate::progress::{Observer, Phase, Progress};
use crate::rng::Rng64;

/// How a minibatch of m sources and m targets becomes pair terms of E_{sigma x tau}[H*(V)].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchMode {
    /// m terms (x_i, y_i), as the authors' reference code does.
    Paired,
    /// all m^2 terms (x_i, y_j), the double sum of Algorithm 1: m^2 pair terms for the price of
    /// the same 2m network evaluations.
    AllPairs,
}

/// Learning-rate schedule over the iterations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LrSchedule {
    Constant,
    /// Cosine decay from the learning rate to `final_fraction` times it.
    Cosine { final_fraction: f64 },
}

#[derive(Clone, Debug)]
pub struct DualConfig {
    pub regularizer: Regularizer,
    pub cost: Cost,
    pub phi_hidden: Vec<usize>,
    pub psi_hidden: Vec<usize>,
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub schedule: LrSchedule,
    pub batch_size: usize,
    pub batch_mode: BatchMode,
    pub iterations: usize,
    pub seed: u64,
    pub device: Device,
    /// Iterations between progress reports (and divergence checks).
    pub report_every: usize,
}

impl DualConfig {
    /// Defaults: KL at lambda = 1, squared Euclidean cost, Adam(0.9, 0.999) on batches of 1000
    /// for 5000 iterations as in the paper's Tables 4-7. Width and learning rate follow what
    /// measured best on the Gaussian benchmark (the paper's 1e-6 learning rate leaves the duals
    /// far from optimal after 5000 iterations; see README, "Accuracy").
    pub fn new(regularizer: Regularizer) -> DualConfig {
        DualConfig {
            regularizer,
            cost: Cost::SqEuclidean,
            phi_hidden: vec![256, 256],
            psi_hidden: vec![256, 256],
            learning_rate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            schedule: LrSchedule::Cosine { final_fraction: 0.01 },
            batch_size: 1000,
            batch_mode: BatchMode::AllPairs,
            iterations: 5000,
            seed: 0,
            device: Device::Cpu,
            report_every: 100,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let lr = self.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::invalid(format!("learning rate must be > 0, got {lr}")));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::invalid(format!("Adam {name} must lie in [0, 1), got {b}")));
            }
        }
        if let LrSchedule::Cosine { final_fraction } = self.schedule {
            if !(0.0..=1.0).contains(&final_fraction) {
                return Err(Error::invalid(format!("cosine final fraction must lie in [0, 1], got {final_fraction}")));
            }
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("batch size must be > 0"));
        }
        if self.phi_hidden.is_empty() || self.psi_hidden.is_empty() {
            return Err(Error::invalid("potential networks need at least one hidden layer"));
        }
        if self.phi_hidden.iter().chain(&self.psi_hidden).any(|&w| w == 0 || w > 1 << 16) {
            return Err(Error::invalid("hidden widths must lie in 1..=65536"));
        }
        if self.report_every == 0 {
            return Err(Error::invalid("report interval must be > 0"));
        }
        Ok(())
    }

    fn learning_rate_at(&self, it: usize) -> f64 {
        match self.schedule {
            LrSchedule::Constant => self.learning_rate,
            LrSchedule::Cosine { final_fraction } => {
                let p = it as f64 / self.iterations.max(1) as f64;
                let c = 0.5 * (1.0 + (std::f64::consts::PI * p).cos());
                self.learning_rate * (final_fraction + (1.0 - final_fraction) * c)
            }
        }
    }
}

/// Trained potentials and everything needed to use them.
pub struct DualPotentials {
    pub phi: Mlp,
    pub psi: Mlp,
    pub regularizer: Regularizer,
    pub cost: Cost,
    pub dx: usize,
    pub dy: usize,
    pub device: Device,
}

#[derive(Clone, Debug)]
pub struct TrainReport {
    pub iterations: usize,
    /// J averaged over the last report interval.
    pub objective: f64,
    pub mean_compatibility: f64,
    pub extension_fraction: f64,
    pub seconds: f64,
    pub iterations_per_second: f64,
}

pub fn train(
    cfg: &DualConfig,
    source: &mut dyn Measure,
    target: &mut dyn Measure,
    observer: Observer,
) -> Result<(DualPotentials, TrainReport)> {
    cfg.validate()?;
    let (dx, dy) = (source.dim(), target.dim());
    cfg.cost.check_dims(dx, dy)?;
    let device = cfg.device;
    let mut rng = Rng64::new(cfg.seed);
    let phi = Mlp::new(dx, &cfg.phi_hidden, 1, &mut rng, device)?;
    let psi = Mlp::new(dy, &cfg.psi_hidden, 1, &mut rng, device)?;
    let mut params = phi.parameters();
    params.extend(psi.parameters());
    let mut adam = Adam::new(&params, cfg.beta1, cfg.beta2)?;
    let m = cfg.batch_size;

    let start = Instant::now();
    let mut sums = (0.0, 0.0, 0.0);
    let mut since_report = 0usize;
    let mut last = (f64::NAN, f64::NAN, f64::NAN);
    for it in 0..cfg.iterations {
        let x = source.sample(m, &mut rng, device)?;
        let y = target.sample(m, &mut rng, device)?;
        let phi_x = phi.forward(&x)?.f_squeeze_dim(1)?;
        let psi_y = psi.forward(&y)?.f_squeeze_dim(1)?;
        let violation = match cfg.batch_mode {
            BatchMode::Paired => ot::violation_paired(&phi_x, &psi_y, &cfg.cost.paired(&x, &y)?)?,
            BatchMode::AllPairs => ot::violation_pairwise(&phi_x, &psi_y, &cfg.cost.pairwise(&x, &y)?)?,
        };
        // Gradient ascent on J: backpropagate dJ/dphi(x_i), dJ/dpsi(y_j) through the networks.
        let terms = ot::pair_terms(&cfg.regularizer, &phi_x, &psi_y, &violation)?;
        let surrogate = phi_x.f_dot(&terms.grad_phi)?.f_add(&psi_y.f_dot(&terms.grad_psi)?)?;
        surrogate.f_neg()?.f_backward()?;
        adam.step(&params, cfg.learning_rate_at(it))?;
        sums.0 += terms.objective;
        sums.1 += terms.mean_compatibility;
        sums.2 += terms.extension_fraction;
        since_report += 1;
        let done = it + 1;
        if done % cfg.report_every == 0 || done == cfg.iterations {
            let k = since_report as f64;
            last = (sums.0 / k, sums.1 / k, sums.2 / k);
            sums = (0.0, 0.0, 0.0);
            since_report = 0;
            if !last.0.is_finite() || !last.1.is_finite() {
                return Err(Error::diverged(format!(
                    "dual training diverged near iteration {done}: objective {}, E[M(V)] {} \
                     (try a smaller learning rate or a larger lambda)",
                    last.0, last.1
                )));
            }
            let mut p = Progress::new(Phase::DualTraining, done as u64, cfg.iterations as u64);
            p.objective = last.0;
            p.mean_compatibility = last.1;
            p.extension_fraction = last.2;
            if !observer(&p) {
                return Err(Error::cancelled(format!("dual training cancelled by the host at iteration {done}")));
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let report = TrainReport {
        iterations: cfg.iterations,
        objective: last.0,
        mean_compatibility: last.1,
        extension_fraction: last.2,
        seconds,
        iterations_per_second: cfg.iterations as f64 / seconds.max(1e-9),
    };
    Ok((DualPotentials { phi, psi, regularizer: cfg.regularizer, cost: cfg.cost, dx, dy, device }, report))
}

impl DualPotentials {
    /// phi(x) for x [n, dx] -> [n].
    pub fn phi(&self, x: &Tensor) -> Result<Tensor> {
        self.check("source", x, self.dx)?;
        tch::no_grad(|| Ok(self.phi.forward(&x.f_to_device(self.device)?)?.f_squeeze_dim(1)?))
    }

    /// psi(y) for y [n, dy] -> [n].
    pub fn psi(&self, y: &Tensor) -> Result<Tensor> {
        self.check("target", y, self.dy)?;
        tch::no_grad(|| Ok(self.psi.forward(&y.f_to_device(self.device)?)?.f_squeeze_dim(1)?))
    }

    /// M(V(x_i, y_j)) for all pairs [n, m]: the density of the (pseudo-)coupling with respect to
    /// sigma x tau.
    pub fn compatibility(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let v = self.violation(x, y)?;
        tch::no_grad(|| self.regularizer.compatibility(&v))
    }

    /// V(x_i, y_j) for all pairs [n, m].
    pub fn violation(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (phi, psi) = (self.phi(x)?, self.psi(y)?);
        tch::no_grad(|| {
            let c = self.cost.pairwise(&x.f_to_device(self.device)?, &y.f_to_device(self.device)?)?;
            ot::violation_pairwise(&phi, &psi, &c)
        })
    }

    fn check(&self, what: &str, t: &Tensor, d: usize) -> Result<()> {
        let s = t.size();
        if s.len() != 2 || s[1] != d as i64 {
            return Err(Error::shape(format!("{what} points must be [n, {d}], got {s:?}")));
        }
        Ok(())
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut f = ModelFile::new("dual");
        f.set("regularizer", self.regularizer.divergence.name());
        f.set("lambda", format!("{:e}", self.regularizer.lambda));
        f.set("softplus_beta", format!("{:e}", self.regularizer.softplus_beta));
        f.set("cost", self.cost.name());
        f.set("dx", self.dx);
        f.set("dy", self.dy);
        f.set("activation", "relu");
        f.set("phi_hidden", join(&self.phi.hidden));
        f.set("psi_hidden", join(&self.psi.hidden));
        for (net, mlp) in [("phi", &self.phi), ("psi", &self.psi)] {
            for (i, (w, b)) in mlp.layers.iter().enumerate() {
                f.tensors.insert(format!("{net}.{i}.weight"), w.shallow_clone());
                f.tensors.insert(format!("{net}.{i}.bias"), b.shallow_clone());
            }
        }
        f.save(path)
    }

    pub fn load(path: &Path, device: Device) -> Result<DualPotentials> {
        let f = ModelFile::load(path, "dual")?;
        let divergence = Divergence::from_name(f.get("regularizer")?)?;
        let lambda: f64 = f.get_parsed("lambda")?;
        let beta: f64 = f.get_parsed("softplus_beta")?;
        let regularizer = Regularizer::new(divergence, lambda)
            .and_then(|r| r.with_softplus_beta(beta))
            .map_err(|e| Error::format(e.message))?;
        let cost = Cost::from_name(f.get("cost")?)?;
        let dx: usize = f.get_parsed("dx")?;
        let dy: usize = f.get_parsed("dy")?;
        if dx == 0 || dy == 0 {
            return Err(Error::format("model has a zero dimension"));
        }
        if f.get("activation")? != "relu" {
            return Err(Error::format(format!("unsupported activation '{}'", f.get("activation")?)));
        }
        let mut nets = Vec::new();
        for (net, d) in [("phi", dx), ("psi", dy)] {
            let hidden = f.get_widths(&format!("{net}_hidden"))?;
            let mut layers = Vec::new();
            for i in 0..=hidden.len() {
                layers.push((
                    f.tensor(&format!("{net}.{i}.weight"))?.shallow_clone(),
                    f.tensor(&format!("{net}.{i}.bias"))?.shallow_clone(),
                ));
            }
            nets.push(Mlp::from_tensors(d, &hidden, 1, layers, device).map_err(|e| e.context(net))?);
        }
        let psi = nets.pop().unwrap();
        let phi = nets.pop().unwrap();
        Ok(DualPotentials { phi, psi, regularizer, cost, dx, dy, device })
    }

    pub fn describe(&self) -> String {
        format!(
            "dual potentials: {} lambda={} cost={} dx={} dy={} phi {:?} psi {:?} on {}",
            self.regularizer.divergence.name(),
            self.regularizer.lambda,
            self.cost.name(),
            self.dx,
            self.dy,
            self.phi.hidden,
            self.psi.hidden,
            device_name(self.device)
        )
    }
}

fn join(w: &[usize]) -> String {
    w.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(",")
}
