//! What every training loop here shares: Adam settings, the learning-rate schedule, batch size,
//! iteration count, seed, device and how often progress is reported.

use tch::Device;

use crate::runtime::error::{Error, Result};

/// Learning-rate schedule over the iterations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LrSchedule {
    Constant,
    /// Cosine decay from the learning rate to `final_fraction` times it.
    Cosine {
        final_fraction: f64,
    },
}

#[derive(Clone, Debug)]
pub struct Optim {
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub schedule: LrSchedule,
    pub batch_size: usize,
    pub iterations: usize,
    pub seed: u64,
    pub device: Device,
    /// Iterations between progress reports (and divergence checks).
    pub report_every: usize,
}

impl Default for Optim {
    /// Adam(1e-3, 0.9, 0.999) with cosine decay to 1e-5, batches of 500, 5000 iterations,
    /// seed 0, CPU, a report every 100 iterations.
    fn default() -> Self {
        Optim {
            learning_rate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            schedule: LrSchedule::Cosine { final_fraction: 0.01 },
            batch_size: 500,
            iterations: 5000,
            seed: 0,
            device: Device::Cpu,
            report_every: 100,
        }
    }
}

impl Optim {
    pub fn validate(&self) -> Result<()> {
        let lr = self.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::invalid(format!("learning rate must be a finite number > 0, got {lr}")));
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
        if self.report_every == 0 {
            return Err(Error::invalid("report interval must be > 0"));
        }
        Ok(())
    }

    pub fn learning_rate_at(&self, it: usize) -> f64 {
        match self.schedule {
            LrSchedule::Constant => self.learning_rate,
            LrSchedule::Cosine { final_fraction } => {
                let p = it as f64 / self.iterations.max(1) as f64;
                let c = 0.5 * (1.0 + (std::f64::consts::PI * p).cos());
                self.learning_rate * (final_fraction + (1.0 - final_fraction) * c)
            }
        }
    }

    /// Whether iteration `done` (1-based) ends a report interval.
    pub fn reports_at(&self, done: usize) -> bool {
        done % self.report_every == 0 || done == self.iterations
    }
}

pub fn check_widths(hidden: &[usize], what: &str) -> Result<()> {
    if hidden.is_empty() {
        return Err(Error::invalid(format!("{what} needs at least one hidden layer")));
    }
    if hidden.iter().any(|&w| w == 0 || w > 1 << 16) {
        return Err(Error::invalid(format!("{what}: hidden widths must lie in 1..=65536, got {hidden:?}")));
    }
    Ok(())
}

/// Summary of a training run (score networks, barycentric maps).
#[derive(Clone, Debug)]
pub struct TrainStats {
    pub iterations: usize,
    /// The loss averaged over the last report interval.
    pub loss: f64,
    pub seconds: f64,
    pub iterations_per_second: f64,
}

/// Runs `step` (returning the batch loss) for every iteration with Adam's learning rate from
/// the schedule, reporting the averaged loss and checking it is finite at every report.
pub fn run_loop(
    o: &Optim,
    phase: crate::runtime::progress::Phase,
    what: &str,
    observer: crate::runtime::progress::Observer,
    mut step: impl FnMut(usize, f64) -> Result<f64>,
) -> Result<TrainStats> {
    let start = std::time::Instant::now();
    let (mut sum, mut count, mut last) = (0.0, 0usize, f64::NAN);
    for it in 0..o.iterations {
        sum += step(it, o.learning_rate_at(it))?;
        count += 1;
        let done = it + 1;
        if o.reports_at(done) {
            last = sum / count as f64;
            (sum, count) = (0.0, 0);
            if !last.is_finite() {
                return Err(Error::diverged(format!(
                    "{what} diverged near iteration {done}: loss {last} (try a smaller learning rate)"
                )));
            }
            let mut p = crate::runtime::progress::Progress::new(phase, done as u64, o.iterations as u64);
            p.objective = last;
            if !observer(&p) {
                return Err(Error::cancelled(format!("{what} cancelled by the host at iteration {done}")));
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(TrainStats {
        iterations: o.iterations,
        loss: last,
        seconds,
        iterations_per_second: o.iterations as f64 / seconds.max(1e-9),
    })
}
