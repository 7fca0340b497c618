//! A score network trained by denoising score matching over noise levels (NCSN, Song & Ermon
//! 2019/2020): s(y, sigma) = net([y, log sigma]) / sigma, trained on
//!
//!   E_sigma E_y E_z 1/2 |sigma s(y + sigma z, sigma) + z|^2
//!
//! (the sigma^2-weighted DSM loss), with sigma drawn uniformly from geometric levels from about
//! the largest pairwise distance of the data down to sigma_min (technique 1 of Song & Ermon 2020).
//! Dividing the output by sigma is their NCSNv2 parametrization: the network only has to learn
//! an O(1) quantity at every level.
//!
//! About 500 lines in one file: training, the data statistics both parametrizations take from
//! probes of the target (gathered across ranks when training data-parallel) and the trained
//! network's evaluation all go through the private `Precond` and noise-level types, which a
//! split would have to make crate-visible for no other user.

use std::path::Path;

use parking_lot::Mutex;
use tch::{Device, Kind, Tensor};

use super::{BoundScore, ScoreSource};
use crate::neural::mlp::{Activation, Adam, Mlp};
use crate::neural::optim::{check_widths, run_loop_locked, Optim, TrainStats};
use crate::ot::measure::Measure;
use crate::runtime::collective::Lockstep;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::model_file::ModelFile;
use crate::runtime::progress::{Observer, Phase};
use crate::runtime::rng::Rng64;

#[derive(Clone, Debug)]
pub struct NoiseLevels {
    /// None: the largest pairwise distance among up to 2000 target points.
    pub sigma_max: Option<f64>,
    pub sigma_min: f64,
    pub levels: usize,
}

impl Default for NoiseLevels {
    fn default() -> Self {
        NoiseLevels { sigma_max: None, sigma_min: 0.01, levels: 10 }
    }
}

/// How the network's output becomes a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parametrization {
    /// NCSNv2 (Song & Ermon 2020): s(y, sigma) = net([y, log sigma]) / sigma, trained at the
    /// `levels` discrete noise levels. The raw noisy point is the network's input, so its scale
    /// grows with sigma.
    Ncsn,
    /// Karras et al. 2022 (EDM), Table 1: the denoiser D(y, sigma) = mu + c_skip (y - mu) +
    /// c_out F(c_in (y - mu), ln(sigma) / 4) with c_in = 1 / sqrt(sigma^2 + s_d^2), c_skip =
    /// s_d^2 / (sigma^2 + s_d^2), c_out = sigma s_d / sqrt(sigma^2 + s_d^2) (s_d the data's
    /// standard deviation, mu its mean) and the score s = (D - y) / sigma^2 (Tweedie). The
    /// network sees unit-variance inputs and regresses a unit-variance target at every level, and
    /// the Gaussian part of the score (-(y - mu) / (sigma^2 + s_d^2)) is exact without training.
    /// sigma is drawn log-uniformly from [sigma_min, sigma_max], so every sigma a sampler asks
    /// for lies inside the trained range, not between trained levels.
    Preconditioned,
}

impl Parametrization {
    fn name(self) -> &'static str {
        match self {
            Parametrization::Ncsn => "ncsn",
            Parametrization::Preconditioned => "preconditioned",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ScoreTrainConfig {
    pub hidden: Vec<usize>,
    pub noise: NoiseLevels,
    pub parametrization: Parametrization,
    pub optim: Optim,
    /// Exponential moving average of the weights, returned instead of the last iterate (0 turns
    /// it off). NCSNv2 uses 0.999 (paper Table 5): the DSM gradient is noisy, and the average
    /// gives visibly cleaner samples.
    pub ema: f64,
}

impl Default for ScoreTrainConfig {
    /// Three hidden layers of 128 (SiLU), 10 levels down to 0.01, batches of 500 for 5000
    /// iterations of Adam(3e-3) with cosine decay, EMA 0.999. On the Swiss roll 3e-3 gave a
    /// sliced W2 of 0.051 against 0.146 at 1e-3 after 3000 iterations (floor 0.073).
    fn default() -> Self {
        let optim = Optim { learning_rate: 3e-3, ..Optim::default() };
        ScoreTrainConfig {
            hidden: vec![128, 128, 128],
            noise: NoiseLevels::default(),
            parametrization: Parametrization::Preconditioned,
            optim,
            ema: 0.999,
        }
    }
}

pub struct TrainedScore {
    net: Mutex<Mlp>,
    d: usize,
    sigmas: Vec<f64>,
    precond: Option<Precond>,
}

/// The data statistics of [`Parametrization::Preconditioned`].
#[derive(Clone, Debug)]
struct Precond {
    mean: Vec<f64>,
    sigma_data: f64,
}

impl Precond {
    fn estimate(probe: &Tensor) -> Result<Precond> {
        let p = probe.f_to_kind(Kind::Double)?;
        let mean = p.f_mean_dim(Some(&[0i64][..]), false, Kind::Double)?;
        let var = p.f_sub(&mean.f_unsqueeze(0)?)?.f_square()?.f_mean(Kind::Double)?.f_double_value(&[])?;
        let mean: Vec<f64> = Vec::<f64>::try_from(&mean).map_err(|e| Error::internal(e.to_string()))?;
        // A point mass (all samples equal) has s_d = 0, which would make c_out vanish: the
        // floor keeps the parametrization defined and leaves the network a tiny output scale.
        Ok(Precond { mean, sigma_data: var.sqrt().max(1e-3) })
    }

    /// [`Precond::estimate`] over the probes of every rank of `lock`, each weighted equally:
    /// the mean first, then the spread around it (two exchanges, no cancellation in float32).
    fn estimate_over_ranks(lock: &mut Lockstep, probe: Result<Tensor>, d: usize) -> Result<Precond> {
        if !lock.is_active() {
            return Precond::estimate(&probe?);
        }
        let size = lock.rank_and_size().1 as f64;
        let local = probe.and_then(|p| Ok((p.f_to_kind(Kind::Double)?, Precond::estimate(&p)?)));
        let mut sums = vec![0.0f32; d];
        if let Ok((_, pc)) = &local {
            for (s, m) in sums.iter_mut().zip(&pc.mean) {
                *s = *m as f32;
            }
        }
        lock.exchange_values(&mut sums, local.as_ref().err().cloned())?;
        let (p, _) = local?;
        let mean: Vec<f64> = sums.iter().map(|&s| s as f64 / size).collect();
        let mu = Tensor::f_from_slice(&mean)?.f_unsqueeze(0)?;
        let mut var = [p.f_sub(&mu)?.f_square()?.f_mean(Kind::Double)?.f_double_value(&[])? as f32];
        lock.exchange_values(&mut var, None)?;
        Ok(Precond { mean, sigma_data: (var[0] as f64 / size).sqrt().max(1e-3) })
    }

    /// (c_in, c_skip, c_out) at each sigma of `sig` [n, 1].
    fn coefficients(&self, sig: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let sd2 = self.sigma_data * self.sigma_data;
        let total = sig.f_square()?.f_add_scalar(sd2)?;
        let c_in = total.f_rsqrt()?;
        let c_skip = total.f_reciprocal()?.f_mul_scalar(sd2)?;
        let c_out = sig.f_mul(&c_in)?.f_mul_scalar(self.sigma_data)?;
        Ok((c_in, c_skip, c_out))
    }

    fn mean_tensor(&self, device: Device) -> Result<Tensor> {
        Ok(Tensor::f_from_slice(&self.mean)?.f_to_kind(Kind::Float)?.f_to_device(device)?.f_unsqueeze(0)?)
    }
}

/// The largest of the ranks' `local` values (each rank's in its own slot of one sum), or
/// `local` alone without a collective.
fn largest_over_ranks(lock: &mut Lockstep, local: Result<f64>) -> Result<f64> {
    if !lock.is_active() {
        return local;
    }
    let (rank, size) = lock.rank_and_size();
    let mut slots = vec![0.0f32; size];
    if let Ok(v) = &local {
        slots[rank] = *v as f32;
    }
    lock.exchange_values(&mut slots, local.err())?;
    Ok(slots.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64)))
}

fn geometric(first: f64, last: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![last];
    }
    (0..n).map(|i| first * (last / first).powf(i as f64 / (n - 1) as f64)).collect()
}

/// With `cfg.optim.collective` set, every rank trains one network on its own shard
/// (`runtime::collective`): the weights come from a stream of the seed alone, the probes and
/// batches from (seed, rank); sigma_max (when not given) is the largest of the ranks' probe
/// estimates and the preconditioning's mean and spread are those of all ranks' probes together,
/// so every rank trains the same objective.
pub fn train(
    cfg: &ScoreTrainConfig,
    target: &mut dyn Measure,
    observer: Observer,
) -> Result<(TrainedScore, TrainStats)> {
    let o = &cfg.optim;
    let device = o.device;
    let d = target.dim();
    let nl = &cfg.noise;
    let group = o.collective.as_ref();
    let mut lock = Lockstep::new(group, "score training");
    let setup = (|| {
        o.validate()?;
        check_widths(&cfg.hidden, "score network")?;
        if !(nl.sigma_min.is_finite() && nl.sigma_min > 0.0) || nl.levels == 0 {
            return Err(Error::invalid(format!(
                "noise levels need sigma_min > 0 and at least one level, got {} and {}",
                nl.sigma_min, nl.levels
            )));
        }
        if !(0.0..1.0).contains(&cfg.ema) {
            return Err(Error::invalid(format!("EMA rate must lie in [0, 1), got {}", cfg.ema)));
        }
        limits::at_most("noise levels", nl.levels, limits::MAX_NOISE_LEVELS)?;
        limits::count("batch size", o.batch_size, limits::MAX_BATCH)?;
        limits::at_most("iterations", o.iterations, limits::MAX_ITERATIONS)?;
        limits::network("score network", d + 1, &cfg.hidden, d)?;
        // Across ranks the weights cannot follow the probes in one stream: how many numbers a
        // probe of a shard consumes depends on the shard.
        let net = match group {
            Some(_) => {
                let net =
                    Mlp::with_activation(d + 1, &cfg.hidden, d, Activation::Silu, &mut Rng64::new(o.seed), device)?;
                lock.shape(net.parameter_count(), 1, o.iterations)?;
                Some(net)
            }
            None => None,
        };
        Ok(net)
    })();
    let early_net = lock.start(setup)?;
    let mut rng = Rng64::new(group.map_or(o.seed, |g| g.data_seed(o.seed)));
    let sigma_max = match nl.sigma_max {
        Some(s) => s,
        None => {
            let local = (|| -> Result<f64> {
                let probe = target.sample(2000, &mut rng, Device::Cpu)?;
                let dist = crate::ot::Cost::SqEuclidean.pairwise(&probe, &probe)?.f_max()?.f_double_value(&[])?.sqrt();
                Ok(dist.max(nl.sigma_min))
            })();
            largest_over_ranks(&mut lock, local)?
        }
    };
    if !(sigma_max.is_finite() && sigma_max >= nl.sigma_min) {
        // Every rank sees the same sigma_max, so every rank returns here without a collective.
        return Err(Error::invalid(format!("sigma_max {sigma_max} must be >= sigma_min {}", nl.sigma_min)));
    }
    let sigmas = geometric(sigma_max, nl.sigma_min, nl.levels);
    let precond = match cfg.parametrization {
        Parametrization::Ncsn => None,
        Parametrization::Preconditioned => {
            let probe = target.sample(2000, &mut rng, Device::Cpu);
            Some(Precond::estimate_over_ranks(&mut lock, probe, d)?)
        }
    };
    let setup = (|| -> Result<_> {
        let mu = match &precond {
            Some(p) => Some(p.mean_tensor(device)?),
            None => None,
        };
        let net = match early_net {
            Some(net) => net,
            None => Mlp::with_activation(d + 1, &cfg.hidden, d, Activation::Silu, &mut rng, device)?,
        };
        Ok((mu, net))
    })();
    let (mu, net) = match setup {
        Ok(v) => v,
        Err(e) => return Err(lock.fail(e)),
    };
    // Training draws reach a factor 2 below sigma_min: at the edge of the drawn range the
    // network is least constrained, and sigma_min is where a sampler finishes (on a 2-D Gaussian
    // the error at sigma_min fell from 17% to 9.6% with the margin).
    let (ln_lo, ln_hi) = ((0.5 * nl.sigma_min).ln(), sigma_max.ln());
    let params = net.parameters();
    let made = Adam::new(&params, o.beta1, o.beta2).and_then(|a| Ok((a, net.detached_to(device)?)));
    let (mut adam, ema) = match made {
        Ok(v) => v,
        Err(e) => return Err(lock.fail(e)),
    };
    let log_sigmas = Tensor::f_from_slice(&sigmas)?.f_log()?.f_to_kind(Kind::Float)?.f_to_device(device)?;
    let sig_t = Tensor::f_from_slice(&sigmas)?.f_to_kind(Kind::Float)?.f_to_device(device)?;
    let m = o.batch_size;
    let stats = run_loop_locked(o, Phase::ScoreTraining, "score training", observer, &mut lock, |it, lr, lock| {
        let y = target.sample(m, &mut rng, device)?;
        let z = rng.normal_tensor(&[m as i64, d as i64], Kind::Float, device)?;
        let loss = match (&precond, &mu) {
            (Some(pc), Some(mu)) => {
                let u: Vec<f32> = (0..m).map(|_| (ln_lo + (ln_hi - ln_lo) * rng.uniform()).exp() as f32).collect();
                let sig = Tensor::f_from_slice(&u)?.f_to_device(device)?.f_unsqueeze(1)?;
                let (c_in, c_skip, c_out) = pc.coefficients(&sig)?;
                let clean = y.f_sub(mu)?;
                let noisy = clean.f_add(&z.f_mul(&sig)?)?;
                let input = Tensor::f_cat(&[noisy.f_mul(&c_in)?, sig.f_log()?], 1)?;
                // lambda(sigma) = 1 / c_out^2 makes the loss on F unit-scale at every level
                // (EDM eq. 8); it equals the sigma^2-weighted DSM loss times (sigma^2 + s_d^2) /
                // s_d^2, so the large levels count more than in NCSN's weighting.
                let want = clean.f_sub(&noisy.f_mul(&c_skip)?)?.f_div(&c_out)?;
                net.forward(&input)?.f_sub(&want)?.f_square()?.f_sum_dim_intlist(1, false, None)?.f_mean(None)?
            }
            _ => {
                let idx = rng.indices(m, sigmas.len(), device)?;
                let sig = sig_t.f_index_select(0, &idx)?.f_unsqueeze(1)?;
                let noisy = y.f_add(&z.f_mul(&sig)?)?;
                let input = Tensor::f_cat(&[noisy, log_sigmas.f_index_select(0, &idx)?.f_unsqueeze(1)?], 1)?;
                net.forward(&input)?.f_add(&z)?.f_square()?.f_sum_dim_intlist(1, false, None)?.f_mean(None)?
            }
        }
        .f_mul_scalar(0.5)?;
        loss.f_backward()?;
        let mut value = [loss.f_double_value(&[])?];
        lock.gradients(&params, &mut value)?;
        adam.step(&params, lr)?;
        if cfg.ema > 0.0 {
            // The rate ramps up as (1 + t) / (10 + t) so that short runs are not dominated by
            // the initial weights (TensorFlow's num_updates rule).
            let rate = cfg.ema.min((1.0 + it as f64) / (10.0 + it as f64));
            tch::no_grad(|| -> Result<()> {
                for (e, p) in ema.parameters().into_iter().zip(&params) {
                    let _ = e.shallow_clone().f_mul_scalar_(rate)?.f_add_(&p.f_mul_scalar(1.0 - rate)?)?;
                }
                Ok(())
            })?;
        }
        Ok(value[0])
    })?;
    let net = if cfg.ema > 0.0 { ema.detached_to(Device::Cpu)? } else { net.detached_to(Device::Cpu)? };
    Ok((TrainedScore { net: Mutex::new(net), d, sigmas, precond }, stats))
}

impl TrainedScore {
    pub fn noise_levels(&self) -> &[f64] {
        &self.sigmas
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut f = ModelFile::new("score_mlp");
        f.set("d", self.d);
        f.set("sigmas", self.sigmas.iter().map(|s| format!("{s:e}")).collect::<Vec<_>>().join(","));
        if let Some(p) = &self.precond {
            f.set("parametrization", Parametrization::Preconditioned.name());
            f.set("sigma_data", format!("{:e}", p.sigma_data));
            f.set("mean", p.mean.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(","));
        }
        self.net.lock().store("net", &mut f);
        f.save(path)
    }

    pub fn load(path: &Path) -> Result<TrainedScore> {
        let f = ModelFile::load(path, "score_mlp")?;
        let d: usize = f.get_parsed("d")?;
        let sigmas: Vec<f64> = f
            .get("sigmas")?
            .split(',')
            .map(|s| s.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::format("score model has invalid noise levels"))?;
        if d == 0 || sigmas.is_empty() {
            return Err(Error::format("score model has a zero dimension or no noise levels"));
        }
        // Files written before the preconditioned parametrization have no such key: NCSN.
        let precond = match f.get("parametrization").ok() {
            None | Some("ncsn") => None,
            Some("preconditioned") => {
                let sigma_data: f64 = f.get_parsed("sigma_data")?;
                let mean = f
                    .get("mean")?
                    .split(',')
                    .map(|s| s.parse::<f64>().ok().filter(|v| v.is_finite()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Error::format("score model has an invalid data mean"))?;
                if !(sigma_data.is_finite() && sigma_data > 0.0) || mean.len() != d {
                    return Err(Error::format("score model has invalid preconditioning statistics"));
                }
                Some(Precond { mean, sigma_data })
            }
            Some(other) => return Err(Error::format(format!("unknown score parametrization {other:?}"))),
        };
        let net = Mlp::restore("net", d + 1, d, &f, Device::Cpu)?;
        Ok(TrainedScore { net: Mutex::new(net), d, sigmas, precond })
    }
}

impl ScoreSource for TrainedScore {
    fn dim(&self) -> usize {
        self.d
    }

    fn describe(&self) -> String {
        format!(
            "trained score network (d = {}, sigma {:.3} .. {:.3})",
            self.d,
            self.sigmas[0],
            self.sigmas[self.sigmas.len() - 1]
        )
    }

    fn bind(&self, device: Device) -> Result<Box<dyn BoundScore>> {
        let (lo, hi) = (self.sigmas[self.sigmas.len() - 1], self.sigmas[0]);
        let precond = match &self.precond {
            Some(p) => Some((p.clone(), p.mean_tensor(device)?)),
            None => None,
        };
        Ok(Box::new(BoundTrained { net: self.net.lock().detached_to(device)?, lo, hi, precond }))
    }
}

struct BoundTrained {
    net: Mlp,
    lo: f64,
    hi: f64,
    precond: Option<(Precond, Tensor)>,
}

impl BoundScore for BoundTrained {
    /// sigma is clamped into the trained range: plain Langevin (sigma = 0) sees the smallest
    /// level, the closest the network knows to the clean target.
    fn score(&mut self, y: &Tensor, sigma: f64) -> Result<Tensor> {
        let s = sigma.clamp(self.lo, self.hi);
        let n = y.size()[0];
        if let Some((pc, mu)) = &self.precond {
            let sd2 = pc.sigma_data * pc.sigma_data;
            let total = s * s + sd2;
            let c_in = 1.0 / total.sqrt();
            let ls = Tensor::f_full([n, 1], s.ln(), (Kind::Float, y.device()))?;
            return tch::no_grad(|| {
                let centred = y.f_sub(mu)?;
                let f = self.net.forward(&Tensor::f_cat(&[&centred.f_mul_scalar(c_in)?, &ls], 1)?)?;
                // (D - y) / sigma^2 = ((c_skip - 1) (y - mu) + c_out F) / sigma^2, with
                // (c_skip - 1) / sigma^2 = -1 / (sigma^2 + s_d^2) written without the
                // cancellation that would lose it at small sigma.
                let c_out_over_s2 = pc.sigma_data / (s * total.sqrt());
                Ok(centred.f_mul_scalar(-1.0 / total)?.f_add(&f.f_mul_scalar(c_out_over_s2)?)?)
            });
        }
        let ls = Tensor::f_full([n, 1], s.ln(), (Kind::Float, y.device()))?;
        tch::no_grad(|| Ok(self.net.forward(&Tensor::f_cat(&[y, &ls], 1)?)?.f_div_scalar(s)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::measure::Empirical;
    use crate::runtime::progress;

    fn tiny(parametrization: Parametrization) -> TrainedScore {
        let y = Tensor::from_slice(&[0.0f32, 1.0, 2.0, -1.0, 0.5, 0.5, 3.0, 1.0]).view([4, 2]);
        let mut cfg = ScoreTrainConfig { hidden: vec![8], parametrization, ..Default::default() };
        cfg.optim.iterations = 20;
        cfg.optim.batch_size = 4;
        train(&cfg, &mut Empirical::new(&y, Device::Cpu).unwrap(), &mut progress::ignore).unwrap().0
    }

    fn scores(s: &TrainedScore, sigma: f64) -> Vec<f32> {
        let y = Tensor::from_slice(&[0.3f32, -0.2, 1.5, 2.5]).view([2, 2]);
        Vec::<f32>::try_from(s.bind(Device::Cpu).unwrap().score(&y, sigma).unwrap().view([-1])).unwrap()
    }

    /// Both parametrizations survive a save and load bit for bit, and a file written before the
    /// preconditioned one existed (no `parametrization` key) still loads as NCSN.
    #[test]
    fn both_parametrizations_round_trip_and_old_files_load_as_ncsn() {
        let dir = std::env::temp_dir().join(format!("scones-score-param-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for p in [Parametrization::Ncsn, Parametrization::Preconditioned] {
            let s = tiny(p);
            let path = dir.join(format!("{}.scones", p.name()));
            s.save(&path).unwrap();
            let back = TrainedScore::load(&path).unwrap();
            assert_eq!(back.precond.is_some(), p == Parametrization::Preconditioned);
            for sigma in [0.01, 0.3, 2.0] {
                assert_eq!(scores(&s, sigma), scores(&back, sigma), "{p:?} at sigma {sigma}");
            }
            let f = ModelFile::load(&path, "score_mlp").unwrap();
            assert_eq!(f.get("parametrization").is_ok(), p == Parametrization::Preconditioned);
        }
        let mut f = ModelFile::load(&dir.join("preconditioned.scones"), "score_mlp").unwrap();
        f.set("parametrization", "bogus");
        let bad = dir.join("bogus.scones");
        f.save(&bad).unwrap();
        let e = TrainedScore::load(&bad).err().unwrap();
        assert_eq!(e.kind, crate::runtime::error::ErrorKind::Format, "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The preconditioned score is -(y - mu) / (sigma^2 + s_d^2) + s_d F / (sigma sqrt(sigma^2 +
    /// s_d^2)): with the network's output zeroed it is exactly the score of N(mu, s_d^2 I)
    /// smoothed by sigma, the Gaussian part that needs no training.
    #[test]
    fn preconditioned_score_with_a_zero_network_is_the_gaussian_score_of_the_data_moments() {
        let s = tiny(Parametrization::Preconditioned);
        tch::no_grad(|| {
            let net = s.net.lock();
            let (w, b) = net.layers.last().unwrap();
            let _ = w.shallow_clone().zero_();
            let _ = b.shallow_clone().zero_();
        });
        let pc = s.precond.clone().unwrap();
        let y = [0.3f32, -0.2, 1.5, 2.5];
        for sigma in [0.01, 0.5, 3.0] {
            let got = scores(&s, sigma);
            for (k, g) in got.iter().enumerate() {
                let want = -(y[k] as f64 - pc.mean[k % 2]) / (sigma * sigma + pc.sigma_data * pc.sigma_data);
                assert!((*g as f64 - want).abs() < 1e-5 * (1.0 + want.abs()), "sigma {sigma}: {g} vs {want}");
            }
        }
    }
}
