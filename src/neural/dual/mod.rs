//! Algorithm 1: the dual potentials phi, psi as ReLU MLPs trained by stochastic gradient ascent
//! (Adam) on the regularized dual objective J.

mod stiff;

use std::path::Path;
use std::time::Instant;

use tch::{Device, Tensor};

use crate::neural::mlp::{Activation, Adam, Mlp};
use crate::neural::optim::{check_widths, Optim};
use crate::ot::measure::Measure;
use crate::ot::{self, Cost, Divergence, Regularizer};
use crate::runtime::collective::Lockstep;
use crate::runtime::device::device_name;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::model_file::ModelFile;
use crate::runtime::progress::{Observer, Phase, Progress};
use crate::runtime::rng::Rng64;

/// How a minibatch of m sources and m targets becomes pair terms of E_{sigma x tau}[H*(V)].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchMode {
    /// m terms (x_i, y_i), as the authors' reference code does.
    Paired,
    /// all m^2 terms (x_i, y_j), the double sum of Algorithm 1: m^2 pair terms for the price of
    /// the same 2m network evaluations.
    AllPairs,
}

#[derive(Clone, Debug)]
pub struct DualConfig {
    pub regularizer: Regularizer,
    pub cost: Cost,
    pub phi_hidden: Vec<usize>,
    pub psi_hidden: Vec<usize>,
    /// Hidden activation of both potentials: ReLU (the paper's) by default. SiLU gives smooth
    /// input gradients; on the entropic benchmark (d = 2, eps = 0.1) it changed neither the
    /// gradient's accuracy enough to matter nor the conditional error (6.5x against 6.3x).
    pub activation: Activation,
    pub batch_mode: BatchMode,
    pub optim: Optim,
    /// Continuation in lambda and bounded marginal residuals for the regularizers whose
    /// conjugate ends at a finite t_max (reverse KL, squared Hellinger, Jensen-Shannon, GAN);
    /// no effect on the others. On by default: it took those from 0.7-1.1 to 0.01-0.05 in l1
    /// from the exact plan at lambda = 1 (see `stiff.rs`).
    pub stiff_duals: bool,
}

impl DualConfig {
    /// Defaults: squared Euclidean cost, two hidden layers of 256 for each potential,
    /// all-pairs batches of 500, Adam(1e-3, 0.9, 0.999) with cosine decay over 5000 iterations.
    /// The paper (Tables 4-7) uses Adam(0.9, 0.999), 5000 iterations and batches of 1000 at a
    /// learning rate of 1e-6; at that rate the duals stay far from optimal after 5000 iterations
    /// (DESIGN.md measured BW-UVP 0.63 vs 0.0064 with 1e-4 at d = 2), and all-pairs batches of
    /// 500 give more dual accuracy per second than paired batches of 1000 (README, "Accuracy").
    pub fn new(regularizer: Regularizer) -> DualConfig {
        DualConfig {
            regularizer,
            cost: Cost::SqEuclidean,
            phi_hidden: vec![256, 256],
            psi_hidden: vec![256, 256],
            activation: Activation::Relu,
            batch_mode: BatchMode::AllPairs,
            optim: Optim::default(),
            stiff_duals: true,
        }
    }

    /// Also caps every count that sizes an allocation or drives the loop (runtime::limits), so
    /// a hostile batch or width fails here rather than in the allocator.
    pub fn validate(&self) -> Result<()> {
        self.optim.validate()?;
        check_widths(&self.phi_hidden, "phi")?;
        check_widths(&self.psi_hidden, "psi")?;
        limits::network("phi", 1, &self.phi_hidden, 1)?;
        limits::network("psi", 1, &self.psi_hidden, 1)?;
        limits::batch(self.optim.batch_size, self.batch_mode == BatchMode::AllPairs)?;
        limits::at_most("iterations", self.optim.iterations, limits::MAX_ITERATIONS)?;
        limits::softplus_beta(self.regularizer.softplus_beta)
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

/// With `cfg.optim.collective` set, every rank runs this on its own shard and the ranks train
/// one model (`runtime::collective`): weights from the seed, batches from (seed, rank), one
/// all-reduce per iteration carrying the gradients, the three reported means and the balancing
/// shift of the stiff all-pairs duals (each rank shifts its own batch's terms by its own shift,
/// and the biases by the mean shift, so the weights stay identical).
pub fn train(
    cfg: &DualConfig,
    source: &mut dyn Measure,
    target: &mut dyn Measure,
    observer: Observer,
) -> Result<(DualPotentials, TrainReport)> {
    let group = cfg.optim.collective.as_ref();
    let mut lock = Lockstep::new(group, "dual training");
    let o = &cfg.optim;
    let device = o.device;
    let mut rng = Rng64::new(o.seed);
    let (dx, dy) = (source.dim(), target.dim());
    let setup = (|| {
        cfg.validate()?;
        cfg.cost.check_dims(dx, dy)?;
        limits::network("phi", dx, &cfg.phi_hidden, 1)?;
        limits::network("psi", dy, &cfg.psi_hidden, 1)?;
        let phi = Mlp::with_activation(dx, &cfg.phi_hidden, 1, cfg.activation, &mut rng, device)?;
        let psi = Mlp::with_activation(dy, &cfg.psi_hidden, 1, cfg.activation, &mut rng, device)?;
        lock.shape(phi.parameter_count() + psi.parameter_count(), 4, o.iterations)?;
        Ok((phi, psi))
    })();
    let (phi, psi) = lock.start(setup)?;
    if let Some(g) = group {
        rng = Rng64::new(g.data_seed(o.seed));
    }
    let mut params = phi.parameters();
    params.extend(psi.parameters());
    let m = o.batch_size;
    let stiff = cfg.stiff_duals && stiff::applies(&cfg.regularizer);
    let beta2 = if stiff { o.beta2.min(stiff::BETA2) } else { o.beta2 };
    let mut adam = match Adam::new(&params, o.beta1, beta2) {
        Ok(a) => a,
        Err(e) => return Err(lock.fail(e)),
    };

    let start = Instant::now();
    let mut sums = (0.0, 0.0, 0.0);
    let mut since_report = 0usize;
    let mut last = (f64::NAN, f64::NAN, f64::NAN);
    for it in 0..o.iterations {
        // This rank's part of the step, up to its gradients; a failure here still joins the
        // step's collective (Lockstep::fail), so the other ranks stop too.
        let local = (|| -> Result<(ot::PairTerms, f64)> {
            let x = source.sample(m, &mut rng, device)?;
            let y = target.sample(m, &mut rng, device)?;
            let phi_x = phi.forward(&x)?.f_squeeze_dim(1)?;
            let psi_y = psi.forward(&y)?.f_squeeze_dim(1)?;
            let (mut phi_x, mut psi_y) = (phi_x, psi_y);
            let mut violation = match cfg.batch_mode {
                BatchMode::Paired => ot::violation_paired(&phi_x, &psi_y, &cfg.cost.paired(&x, &y)?)?,
                BatchMode::AllPairs => ot::violation_pairwise(&phi_x, &psi_y, &cfg.cost.pairwise(&x, &y)?)?,
            };
            let reg = if stiff { stiff::regularizer_at(&cfg.regularizer, it, o.iterations) } else { cfg.regularizer };
            let mut kappa = 0.0;
            if stiff && violation.dim() == 2 {
                // J's exact maximum along the constant direction: the shift goes into both
                // output biases, so the networks carry it from now on (across ranks, the mean
                // shift goes in after the exchange).
                kappa = stiff::balancing_shift(&reg, &violation)?;
                if !lock.is_active() {
                    stiff::add_to_output_bias(&phi, 0.5 * kappa)?;
                    stiff::add_to_output_bias(&psi, 0.5 * kappa)?;
                }
                phi_x = phi_x.f_add_scalar(0.5 * kappa)?;
                psi_y = psi_y.f_add_scalar(0.5 * kappa)?;
                violation = violation.f_add_scalar(kappa)?;
            }
            // Gradient ascent on J: backpropagate dJ/dphi(x_i), dJ/dpsi(y_j) through the networks.
            let terms = ot::pair_terms(&reg, &phi_x, &psi_y, &violation)?;
            let surrogate = phi_x.f_dot(&terms.grad_phi)?.f_add(&psi_y.f_dot(&terms.grad_psi)?)?;
            surrogate.f_neg()?.f_backward()?;
            Ok((terms, kappa))
        })();
        let (terms, kappa) = match local {
            Ok(t) => t,
            Err(e) => return Err(lock.fail(e)),
        };
        let mut means = [terms.objective, terms.mean_compatibility, terms.extension_fraction, kappa];
        let synced = lock.gradients(&params, &mut means).and_then(|()| {
            if lock.is_active() && means[3] != 0.0 {
                stiff::add_to_output_bias(&phi, 0.5 * means[3])?;
                stiff::add_to_output_bias(&psi, 0.5 * means[3])?;
            }
            adam.step(&params, o.learning_rate_at(it))
        });
        if let Err(e) = synced {
            return Err(lock.fail(e));
        }
        sums.0 += means[0];
        sums.1 += means[1];
        sums.2 += means[2];
        since_report += 1;
        let done = it + 1;
        if o.reports_at(done) {
            let k = since_report as f64;
            last = (sums.0 / k, sums.1 / k, sums.2 / k);
            sums = (0.0, 0.0, 0.0);
            since_report = 0;
            if !last.0.is_finite() || !last.1.is_finite() {
                return Err(lock.fail(Error::diverged(format!(
                    "dual training diverged near iteration {done}: objective {}, E[M(V)] {} \
                     (try a smaller learning rate or a larger lambda)",
                    last.0, last.1
                ))));
            }
            let mut p = Progress::new(Phase::DualTraining, done as u64, o.iterations as u64);
            p.objective = last.0;
            p.mean_compatibility = last.1;
            p.extension_fraction = last.2;
            if !observer(&p) {
                return Err(
                    lock.fail(Error::cancelled(format!("dual training cancelled by the host at iteration {done}")))
                );
            }
        }
    }
    lock.finish()?;
    let seconds = start.elapsed().as_secs_f64();
    let report = TrainReport {
        iterations: o.iterations,
        objective: last.0,
        mean_compatibility: last.1,
        extension_fraction: last.2,
        seconds,
        iterations_per_second: o.iterations as f64 / seconds.max(1e-9),
    };
    Ok((DualPotentials { phi, psi, regularizer: cfg.regularizer, cost: cfg.cost.clone(), dx, dy, device }, report))
}

impl DualPotentials {
    /// phi(x) for x [n, dx] -> \[n\].
    pub fn phi(&self, x: &Tensor) -> Result<Tensor> {
        self.check("source", x, self.dx)?;
        tch::no_grad(|| Ok(self.phi.forward(&x.f_to_device(self.device)?)?.f_squeeze_dim(1)?))
    }

    /// psi(y) for y [n, dy] -> \[n\].
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
        self.cost.store(&mut f)?;
        f.set("dx", self.dx);
        f.set("dy", self.dy);
        self.phi.store("phi", &mut f);
        self.psi.store("psi", &mut f);
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
        let dx: usize = f.get_parsed("dx")?;
        let dy: usize = f.get_parsed("dy")?;
        if dx == 0 || dy == 0 {
            return Err(Error::format("model has a zero dimension"));
        }
        let cost = Cost::restore(&f, dx, dy)?;
        let phi = Mlp::restore("phi", dx, 1, &f, device)?;
        let psi = Mlp::restore("psi", dy, 1, &f, device)?;
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
