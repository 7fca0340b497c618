//! SPOT (the thesis' chapter 3): options of Algorithm 3, the training calls, and the handle that
//! samples paired points of the plan, estimates its cost, saves and loads.
//!
//! About 510 lines, kept as one file like `dual.rs`: most of it is one short doc-commented
//! setter per option of Algorithm 3 (17 of them), beside the handle that uses them.

use std::ffi::{c_char, c_void};

use tch::Device;

use super::common::{self, report_fields, widths, write_report, Options, Run, RunOptions};
use super::enums::{cost_from, schedule_from, scones_cost, scones_lr_schedule};
use super::error::{boundary, free_box, scones_error, scones_status};
use super::guard::HandleLock;
use super::matrix::{check_out, read_tensor, scones_matrix, scones_matrix_mut, write_tensor};
use super::measure::scones_measure;
use super::progress::{scones_progress_fn, Caller, ProgressHook};
use super::{c_path, handle, out_ptr, put};
use crate::neural::spot::{self, Entropy, SpotConfig, SpotModel, SpotReport, MAX_MARGINALS};
use crate::ot::measure::{Empirical, Measure};
use crate::runtime::error::{Error, Result};

/// Starting point of scones_spot_options_set_preset; one of the SCONES_SPOT_PRESET_* values.
pub type scones_spot_preset = i32;
/// The tuned default (see scones_spot_options_new).
pub const SCONES_SPOT_PRESET_TUNED: scones_spot_preset = 0;
/// The thesis' section 3.6.1: generators of two hidden layers of 8, critics of one hidden layer
/// of 8, eta 1e4, batch 100, Adam(1e-3, 0.5, 0.999) at a constant rate, no EMA, Euclidean cost.
pub const SCONES_SPOT_PRESET_THESIS: scones_spot_preset = 1;

/// Options for scones_spot_train. Defaults (the tuned setting): squared Euclidean cost, latent
/// dimension = the sum of the marginal dimensions, separate generators and critics with two hidden
/// layers of 64 (Leaky-ReLU, spectrally normalised critics), eta from the data, 5 critic steps per
/// generator step, Adam(1e-3, 0.5, 0.999) with cosine decay to 1e-4, batches of 256, 5000
/// iterations, generator EMA 0.999, seed 0, CPU, fair-share threads, no progress callback.
#[derive(Clone, Default)]
pub struct scones_spot_options {
    pub(crate) cfg: SpotConfig,
    pub(crate) caller: Caller,
}

impl Options for scones_spot_options {
    const NAME: &'static str = "SPOT options";
    fn validate(&self) -> Result<()> {
        self.cfg.validate()
    }
    fn progress(&mut self) -> (&mut ProgressHook, &mut usize) {
        (&mut self.caller.progress, &mut self.cfg.optim.report_every)
    }
}

impl RunOptions for scones_spot_options {
    fn run(&mut self) -> Run<'_> {
        let o = &mut self.cfg.optim;
        Run { device: &mut o.device, seed: &mut o.seed, threads: &mut self.caller.threads }
    }
}

/// Creates SPOT options with the defaults above.
#[no_mangle]
pub extern "C" fn scones_spot_options_new(
    out: *mut *mut scones_spot_options,
    err: *mut *mut scones_error,
) -> scones_status {
    common::create(out, err)
}

/// Releases SPOT options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_spot_options_free(opts: *mut scones_spot_options) {
    free_box(opts)
}

/// Replaces every setting of Algorithm 3 by a preset's; device, seed, threads and the progress
/// callback are kept.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_preset(
    opts: *mut scones_spot_options,
    preset: scones_spot_preset,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        let mut cfg = match preset {
            SCONES_SPOT_PRESET_TUNED => SpotConfig::default(),
            SCONES_SPOT_PRESET_THESIS => SpotConfig::thesis(),
            _ => return Err(Error::invalid(format!("unknown SPOT preset value {preset}"))),
        };
        let old = &o.cfg.optim;
        (cfg.optim.device, cfg.optim.seed, cfg.optim.report_every) = (old.device, old.seed, old.report_every);
        o.cfg = cfg;
        Ok(())
    })
}

/// Ground cost (for more than two marginals, summed over all pairs of them).
#[no_mangle]
pub extern "C" fn scones_spot_options_set_cost(
    opts: *mut scones_spot_options,
    cost: scones_cost,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.cost = cost_from(cost)?;
        Ok(())
    })
}

/// The linear-operator cost |A y - B x|^2 (A k x dy, B k x dx), as
/// scones_dual_options_set_linear_cost; two marginals only.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_linear_cost(
    opts: *mut scones_spot_options,
    a: *const scones_matrix,
    b: *const scones_matrix,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.cost = super::enums::linear_cost_from(a, b)?;
        Ok(())
    })
}

/// Hidden layer widths of the generator network(s) (n_generator layers) and of the critics
/// (n_critic_layers layers); each list needs at least one layer.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_hidden(
    opts: *mut scones_spot_options,
    generator: *const usize,
    n_generator: usize,
    critic: *const usize,
    n_critic_layers: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        (o.cfg.generator_hidden, o.cfg.critic_hidden) =
            (widths(generator, n_generator)?, widths(critic, n_critic_layers)?);
        Ok(())
    })
}

/// Dimension of the latent Z ~ N(0, I); 0 (the default) takes the sum of the marginal dimensions.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_latent_dim(
    opts: *mut scones_spot_options,
    latent_dim: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.latent_dim = latent_dim;
        Ok(())
    })
}

/// 1: one generator network with an output head per marginal; 0 (default): one network each.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_shared_generator(
    opts: *mut scones_spot_options,
    shared: i32,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.shared_generator = common::flag(shared, "shared")?;
        Ok(())
    })
}

/// Weight eta >= 0 of the marginal penalty (0, the default: 10 times the cost's Lipschitz
/// constant over the first minibatch, which makes the penalty exact) and the number of critic
/// steps per generator step (1 to 1000).
#[no_mangle]
pub extern "C" fn scones_spot_options_set_penalty(
    opts: *mut scones_spot_options,
    eta: f64,
    n_critic: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        (o.cfg.eta, o.cfg.n_critic) = (eta, n_critic);
        Ok(())
    })
}

/// Adam learning rate (> 0) and moment decays beta1, beta2 in [0, 1), for generator and critics.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_adam(
    opts: *mut scones_spot_options,
    learning_rate: f64,
    beta1: f64,
    beta2: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        (o.cfg.optim.learning_rate, o.cfg.optim.beta1, o.cfg.optim.beta2) = (learning_rate, beta1, beta2);
        Ok(())
    })
}

/// Learning-rate schedule; final_fraction (in [0, 1]) is used by SCONES_LR_COSINE.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_schedule(
    opts: *mut scones_spot_options,
    schedule: scones_lr_schedule,
    final_fraction: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.optim.schedule = schedule_from(schedule, final_fraction)?;
        Ok(())
    })
}

/// Entropy regularisation (the thesis' section 3.4): lambda > 0 adds lambda E log p(G(Z)) to the
/// objective, making the plan the minimiser of E c + lambda KL(pi || mu x nu) (SCONES' KL
/// problem), and turns the generator into a neural ODE of `steps` Euler steps (1 to 1000) whose
/// density is exact up to 8 total dimensions and estimated (Hutchinson) beyond. lambda = 0 turns
/// it off (the default; `steps` is then ignored).
#[no_mangle]
pub extern "C" fn scones_spot_options_set_entropy(
    opts: *mut scones_spot_options,
    lambda: f64,
    steps: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.entropy = if lambda == 0.0 { None } else { Some(Entropy { lambda, steps }) };
        Ok(())
    })
}

/// Decay in [0, 1) of the moving average of the generator's weights that sampling uses
/// (0: the last iterate).
#[no_mangle]
pub extern "C" fn scones_spot_options_set_generator_ema(
    opts: *mut scones_spot_options,
    decay: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.generator_ema = decay;
        Ok(())
    })
}

/// Minibatch size n (> 0) of data and latent draws, and the number of generator steps.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_batch(
    opts: *mut scones_spot_options,
    batch_size: usize,
    iterations: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        (o.cfg.optim.batch_size, o.cfg.optim.iterations) = (batch_size, iterations);
        Ok(())
    })
}

/// Seed of the initial weights and of the data and latent draws.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_seed(
    opts: *mut scones_spot_options,
    seed: u64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_seed(opts, seed, err)
}

/// Device: "cpu", "cuda", "cuda:N" or "auto"; an absent device fails with
/// SCONES_STATUS_DEVICE_UNAVAILABLE.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_device(
    opts: *mut scones_spot_options,
    device: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_device(opts, device, err)
}

/// libtorch intra-op threads during the call: n > 0 exactly n, 0 (default) the fair share.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_threads(
    opts: *mut scones_spot_options,
    threads: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_threads(opts, threads, err)
}

/// Progress callback (NULL to remove), called every `every` generator steps (> 0) with phase
/// SCONES_PHASE_SPOT_TRAINING.
#[no_mangle]
pub extern "C" fn scones_spot_options_set_progress(
    opts: *mut scones_spot_options,
    callback: scones_progress_fn,
    user_data: *mut c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_progress(opts, callback, user_data, every, err)
}

/// A trained SPOT plan: a generator of paired samples.
pub struct scones_spot {
    pub(crate) inner: HandleLock<SpotModel>,
    pub(crate) report: Option<SpotReport>,
}

/// Summary of a SPOT training run. Set struct_size to sizeof(scones_spot_report) first.
#[repr(C)]
pub struct scones_spot_report {
    pub struct_size: usize,
    pub iterations: u64,
    /// The batch plan cost E c(G(z)) averaged over the last report interval.
    pub cost: f64,
    /// The critics' summed gap E phi(G(z)) - E phi(x) over the same interval.
    pub marginal_gap: f64,
    pub seconds: f64,
    pub iterations_per_second: f64,
}

report_fields!(scones_spot_report {
    iterations: u64,
    cost: f64,
    marginal_gap: f64,
    seconds: f64,
    iterations_per_second: f64
});

fn train_into(
    opts: &scones_spot_options,
    marginals: &mut [&mut dyn Measure],
    out: *mut *mut scones_spot,
) -> Result<()> {
    let (model, report) = spot::train(&opts.cfg, marginals, &mut opts.caller.start())?;
    put(out, Box::into_raw(Box::new(scones_spot { inner: HandleLock::new(model), report: Some(report) })));
    Ok(())
}

/// Trains a SPOT plan between the rows of `source` (n x dx) and `target` (m x dy). `options`
/// may be NULL for the defaults. On success `*out` receives a new handle.
#[no_mangle]
pub extern "C" fn scones_spot_train(
    source: *const scones_matrix,
    target: *const scones_matrix,
    options: *const scones_spot_options,
    out: *mut *mut scones_spot,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let opts = common::options_or_default(options);
        let (x, y) = (read_tensor(source, "source")?, read_tensor(target, "target")?);
        let device = opts.cfg.optim.device;
        let (mut s, mut t) = (Empirical::new(&x, device)?, Empirical::new(&y, device)?);
        train_into(&opts, &mut [&mut s, &mut t], out)
    })
}

/// Trains from `count` measures (2 to 64; point sets or host samplers): two give a transport
/// plan, more the multi-marginal plan for the cost summed over all pairs of marginals.
#[no_mangle]
pub extern "C" fn scones_spot_train_measures(
    marginals: *const *const scones_measure,
    count: usize,
    options: *const scones_spot_options,
    out: *mut *mut scones_spot,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        if !(2..=MAX_MARGINALS).contains(&count) {
            return Err(Error::invalid(format!("SPOT needs 2 to {MAX_MARGINALS} marginals, got {count}")));
        }
        let ptrs = common::array(marginals, count, MAX_MARGINALS, "marginals")?;
        let handles =
            ptrs.iter().enumerate().map(|(k, &p)| handle(p, &format!("marginal {k}"))).collect::<Result<Vec<_>>>()?;
        let opts = common::options_or_default(options);
        let device = opts.cfg.optim.device;
        let mut owned = handles.iter().map(|h| h.instantiate(device)).collect::<Result<Vec<_>>>()?;
        let mut refs: Vec<&mut dyn Measure> = owned.iter_mut().map(|b| &mut **b as &mut dyn Measure).collect();
        train_into(&opts, &mut refs, out)
    })
}

/// Releases a plan. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_spot_free(spot: *mut scones_spot) {
    free_box(spot)
}

/// Number of marginals in `*count` and, when `dims` is not NULL, the first min(count, capacity)
/// marginal dimensions in dims[0..].
#[no_mangle]
pub extern "C" fn scones_spot_dims(
    spot: *const scones_spot,
    dims: *mut usize,
    capacity: usize,
    count: *mut usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(spot, "spot")?;
        out_ptr(count, "count")?;
        let g = s.inner.lock("spot")?;
        let d = g.dims();
        common::write_array(dims, &d[..capacity.min(d.len())]);
        put(count, d.len());
        Ok(())
    })
}

/// Paired samples of the plan: `outs` holds one matrix per marginal (`count` of them, in the
/// training order), all with the same number of rows n and the marginal's dimension as columns;
/// row i of every matrix comes from the same latent draw. The same (seed, n) gives the same rows.
#[no_mangle]
pub extern "C" fn scones_spot_sample(
    spot: *const scones_spot,
    seed: u64,
    outs: *const scones_matrix_mut,
    count: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(spot, "spot")?;
        let g = s.inner.lock("spot")?;
        let dims = g.dims().to_vec();
        let outs = common::array(outs, count, MAX_MARGINALS, "outs")?;
        if count != dims.len() {
            return Err(Error::shape(format!("the plan has {} marginals, {count} output matrices given", dims.len())));
        }
        let n = outs[0].rows;
        for (k, (o, &d)) in outs.iter().zip(&dims).enumerate() {
            check_out(o, &format!("outs[{k}]"), n, d)?;
        }
        let parts = g.sample(n, seed)?;
        for (o, p) in outs.iter().zip(&parts) {
            write_tensor(o, p)?;
        }
        Ok(())
    })
}

/// E c(G(Z)) from n >= 2 latent draws (the plan's transport cost estimate) and its standard
/// error (sample standard deviation / sqrt(n)).
#[no_mangle]
pub extern "C" fn scones_spot_cost_estimate(
    spot: *const scones_spot,
    n: usize,
    seed: u64,
    estimate: *mut f64,
    standard_error: *mut f64,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(spot, "spot")?;
        out_ptr(estimate, "estimate")?;
        out_ptr(standard_error, "standard_error")?;
        let (m, se) = s.inner.lock("spot")?.cost_estimate(n, seed)?;
        put(estimate, m);
        put(standard_error, se);
        Ok(())
    })
}

/// Summary of the training run that made this plan (SCONES_STATUS_INVALID_ARGUMENT for a loaded
/// plan, which carries none).
#[no_mangle]
pub extern "C" fn scones_spot_train_report(
    spot: *const scones_spot,
    out: *mut scones_spot_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(spot, "spot")?;
        out_ptr(out, "out")?;
        let r = s.report.as_ref().ok_or_else(|| Error::invalid("a loaded SPOT plan carries no training report"))?;
        let full = scones_spot_report {
            struct_size: std::mem::size_of::<scones_spot_report>(),
            iterations: r.stats.iterations as u64,
            cost: r.cost,
            marginal_gap: r.marginal_gap,
            seconds: r.stats.seconds,
            iterations_per_second: r.stats.iterations_per_second,
        };
        write_report(&full, out)
    })
}

/// Writes the plan to `path` (one self-describing safetensors file, written atomically).
#[no_mangle]
pub extern "C" fn scones_spot_save(
    spot: *const scones_spot,
    path: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || handle(spot, "spot")?.inner.lock("spot")?.save(&c_path(path, "path")?))
}

/// Loads a plan saved by scones_spot_save onto `device` (NULL means "cpu").
#[no_mangle]
pub extern "C" fn scones_spot_load(
    path: *const c_char,
    device: *const c_char,
    out: *mut *mut scones_spot,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let path = c_path(path, "path")?;
        let device = if device.is_null() { Device::Cpu } else { common::parse_device(device)? };
        let m = SpotModel::load(&path, device)?;
        put(out, Box::into_raw(Box::new(scones_spot { inner: HandleLock::new(m), report: None })));
        Ok(())
    })
}
