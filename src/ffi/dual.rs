//! Dual potentials: the options of Algorithm 1, the training calls, and the handle that saves,
//! loads and evaluates the trained (phi, psi).
//!
//! About 500 lines, kept as one file for the same reason as `sampler.rs`: most of it is one short
//! doc-commented setter per option of Algorithm 1, beside the handle that uses them.

use std::ffi::{c_char, c_void};

use super::guard::HandleLock;
use tch::Device;

use super::common::{self, report_fields, widths, write_report, Options, Run, RunOptions};
use super::enums::{
    cost_from, cost_to, regularizer_from, regularizer_to, schedule_from, scones_cost, scones_lr_schedule,
    scones_regularizer,
};
use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{check_out, read_tensor, scones_matrix, scones_matrix_mut, write_tensor};
use super::measure::scones_measure;
use super::progress::{scones_progress_fn, Caller, ProgressHook};
use super::{c_path, handle, out_ptr, put, put_dims};
use crate::neural::dual::{self, BatchMode, DualConfig, DualPotentials, TrainReport};
use crate::ot::measure::{Empirical, Measure};
use crate::ot::{Divergence, Regularizer};
use crate::runtime::error::{Error, Result};

/// Minibatch pairing for dual training; one of the SCONES_BATCH_* values.
pub type scones_batch_mode = i32;
/// m pair terms (x_i, y_i) per batch, as the authors' reference code.
pub const SCONES_BATCH_PAIRED: scones_batch_mode = 0;
/// all m^2 pair terms (x_i, y_j) per batch, the double sum of Algorithm 1 (default).
pub const SCONES_BATCH_ALL_PAIRS: scones_batch_mode = 1;

/// Options for scones_dual_train. Defaults: KL, lambda = 1, squared Euclidean cost, two hidden
/// layers of 256, Adam(lr 1e-3, 0.9, 0.999) with cosine decay to 1e-5, all-pairs batches of 500,
/// 5000 iterations, seed 0, CPU, no progress callback.
#[derive(Clone)]
pub struct scones_dual_options {
    pub(crate) cfg: DualConfig,
    pub(crate) caller: Caller,
}

impl Default for scones_dual_options {
    fn default() -> Self {
        scones_dual_options {
            cfg: DualConfig::new(Regularizer::new(Divergence::Kl, 1.0).expect("valid default")),
            caller: Caller::default(),
        }
    }
}

impl Options for scones_dual_options {
    const NAME: &'static str = "dual options";
    fn validate(&self) -> Result<()> {
        self.cfg.validate()
    }
    fn progress(&mut self) -> (&mut ProgressHook, &mut usize) {
        (&mut self.caller.progress, &mut self.cfg.optim.report_every)
    }
}

impl RunOptions for scones_dual_options {
    fn run(&mut self) -> Run<'_> {
        let o = &mut self.cfg.optim;
        Run { device: &mut o.device, seed: &mut o.seed, threads: &mut self.caller.threads }
    }
}

/// Creates dual training options with the defaults above.
#[no_mangle]
pub extern "C" fn scones_dual_options_new(
    out: *mut *mut scones_dual_options,
    err: *mut *mut scones_error,
) -> scones_status {
    common::create(out, err)
}

/// Releases dual options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_dual_options_free(opts: *mut scones_dual_options) {
    free_box(opts)
}

/// Regularizer and its strength lambda > 0.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_regularizer(
    opts: *mut scones_dual_options,
    regularizer: scones_regularizer,
    lambda: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        let beta = o.cfg.regularizer.softplus_beta;
        o.cfg.regularizer = Regularizer::new(regularizer_from(regularizer)?, lambda)?.with_softplus_beta(beta)?;
        Ok(())
    })
}

/// Ground cost.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_cost(
    opts: *mut scones_dual_options,
    cost: scones_cost,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.cost = cost_from(cost)?;
        Ok(())
    })
}

/// The linear-operator cost c(x, y) = |A y - B x|^2, with A (k x dy) and B (k x dx) read from
/// the views (finite; A not zero): compares sources and targets of different dimensions, e.g.
/// a low-resolution source (B = I) with a target that A downsamples. Replaces the ground cost;
/// scones_dual_problem then reports SCONES_COST_LINEAR, and saved models carry A and B.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_linear_cost(
    opts: *mut scones_dual_options,
    a: *const scones_matrix,
    b: *const scones_matrix,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.cost = super::enums::linear_cost_from(a, b)?;
        Ok(())
    })
}

/// Hidden layer widths of both potentials (n layers).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_hidden(
    opts: *mut scones_dual_options,
    widths_: *const usize,
    n: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    scones_dual_options_set_hidden_each(opts, widths_, n, widths_, n, err)
}

/// Hidden layer widths of phi and of psi separately.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_hidden_each(
    opts: *mut scones_dual_options,
    phi_widths: *const usize,
    phi_n: usize,
    psi_widths: *const usize,
    psi_n: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.phi_hidden = widths(phi_widths, phi_n)?;
        o.cfg.psi_hidden = widths(psi_widths, psi_n)?;
        Ok(())
    })
}

/// Adam learning rate (> 0) and moment decays beta1, beta2 in [0, 1).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_adam(
    opts: *mut scones_dual_options,
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
pub extern "C" fn scones_dual_options_set_schedule(
    opts: *mut scones_dual_options,
    schedule: scones_lr_schedule,
    final_fraction: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.optim.schedule = schedule_from(schedule, final_fraction)?;
        Ok(())
    })
}

/// Minibatch size m (> 0) and pairing mode.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_batch(
    opts: *mut scones_dual_options,
    batch_size: usize,
    mode: scones_batch_mode,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        let modes = [(SCONES_BATCH_PAIRED, BatchMode::Paired), (SCONES_BATCH_ALL_PAIRS, BatchMode::AllPairs)];
        o.cfg.batch_mode = super::enums::lookup(mode, &modes, "batch mode")?;
        o.cfg.optim.batch_size = batch_size;
        Ok(())
    })
}

/// Number of training iterations (0 is allowed: the potentials stay at their initialization).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_iterations(
    opts: *mut scones_dual_options,
    iterations: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.optim.iterations = iterations;
        Ok(())
    })
}

/// Seed of initialization and minibatch draws.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_seed(
    opts: *mut scones_dual_options,
    seed: u64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_seed(opts, seed, err)
}

/// Device: "cpu", "cuda", "cuda:N" or "auto". Fails with SCONES_STATUS_DEVICE_UNAVAILABLE when
/// the device is absent (no silent fallback).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_device(
    opts: *mut scones_dual_options,
    device: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_device(opts, device, err)
}

/// libtorch intra-op threads used during the call: n > 0 uses exactly n; 0 (the default) the
/// fair share (see "Threads" at the top of this header).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_threads(
    opts: *mut scones_dual_options,
    threads: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_threads(opts, threads, err)
}

/// Progress callback (NULL to remove), called every `every` iterations (> 0).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_progress(
    opts: *mut scones_dual_options,
    callback: scones_progress_fn,
    user_data: *mut c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_progress(opts, callback, user_data, every, err)
}

/// beta of the chi-square softplus smoothing of log M used when sampling (stored in the model;
/// default 1000, the paper uses 10 to 1000).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_softplus_beta(
    opts: *mut scones_dual_options,
    beta: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.regularizer = o.cfg.regularizer.with_softplus_beta(beta)?;
        Ok(())
    })
}

/// Trained dual potentials (phi, psi) with their regularizer, cost and dimensions.
pub struct scones_dual {
    pub(crate) inner: HandleLock<DualPotentials>,
    pub(crate) report: Option<TrainReport>,
}

/// Which potential to evaluate; one of the SCONES_POTENTIAL_* values.
pub type scones_potential = i32;
/// phi, on source points.
pub const SCONES_POTENTIAL_PHI: scones_potential = 0;
/// psi, on target points.
pub const SCONES_POTENTIAL_PSI: scones_potential = 1;

/// Summary of a training run. Set struct_size to sizeof(scones_train_report) before calling
/// scones_dual_train_report; fields beyond it are not written (so the struct can grow).
#[repr(C)]
pub struct scones_train_report {
    pub struct_size: usize,
    pub iterations: u64,
    /// Dual objective J averaged over the last report interval.
    pub objective: f64,
    /// E[M(V)] over the same iterations (1 at the optimum).
    pub mean_compatibility: f64,
    pub extension_fraction: f64,
    pub seconds: f64,
    pub iterations_per_second: f64,
}

report_fields!(scones_train_report {
    iterations: u64,
    objective: f64,
    mean_compatibility: f64,
    extension_fraction: f64,
    seconds: f64,
    iterations_per_second: f64
});

/// Both training calls once their measures are ready: Algorithm 1, then a new handle in `out`.
fn train_into(
    opts: &scones_dual_options,
    source: &mut dyn Measure,
    target: &mut dyn Measure,
    out: *mut *mut scones_dual,
) -> Result<()> {
    let (potentials, report) = dual::train(&opts.cfg, source, target, &mut opts.caller.start())?;
    put(out, Box::into_raw(Box::new(scones_dual { inner: HandleLock::new(potentials), report: Some(report) })));
    Ok(())
}

/// Algorithm 1: trains phi and psi between the rows of `source` (n x dx) and `target`
/// (m x dy). `options` may be NULL for the defaults. On success `*out` receives a new handle.
#[no_mangle]
pub extern "C" fn scones_dual_train(
    source: *const scones_matrix,
    target: *const scones_matrix,
    options: *const scones_dual_options,
    out: *mut *mut scones_dual,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let opts = common::options_or_default(options);
        let (x, y) = (read_tensor(source, "source")?, read_tensor(target, "target")?);
        let device = opts.cfg.optim.device;
        train_into(&opts, &mut Empirical::new(&x, device)?, &mut Empirical::new(&y, device)?, out)
    })
}

/// Algorithm 1 from measures: like scones_dual_train, but each side is a scones_measure (a
/// point set or a host sampler callback that fills each minibatch on request).
#[no_mangle]
pub extern "C" fn scones_dual_train_measures(
    source: *const scones_measure,
    target: *const scones_measure,
    options: *const scones_dual_options,
    out: *mut *mut scones_dual,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let (s, t) = (handle(source, "source measure")?, handle(target, "target measure")?);
        let opts = common::options_or_default(options);
        opts.cfg.cost.check_dims(s.dim(), t.dim())?;
        let device = opts.cfg.optim.device;
        train_into(&opts, s.instantiate(device)?.as_mut(), t.instantiate(device)?.as_mut(), out)
    })
}

/// Releases a dual. NULL is a no-op. Samplers made from it stay valid (they hold copies).
#[no_mangle]
pub extern "C" fn scones_dual_free(dual: *mut scones_dual) {
    free_box(dual)
}

/// Writes the model to `path` (one self-describing safetensors file, written atomically).
#[no_mangle]
pub extern "C" fn scones_dual_save(
    dual: *const scones_dual,
    path: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || handle(dual, "dual")?.inner.lock("dual")?.save(&c_path(path, "path")?))
}

/// Loads a model saved by scones_dual_save onto `device` (NULL means "cpu").
#[no_mangle]
pub extern "C" fn scones_dual_load(
    path: *const c_char,
    device: *const c_char,
    out: *mut *mut scones_dual,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let path = c_path(path, "path")?;
        let device = if device.is_null() { Device::Cpu } else { common::parse_device(device)? };
        let d = DualPotentials::load(&path, device)?;
        put(out, Box::into_raw(Box::new(scones_dual { inner: HandleLock::new(d), report: None })));
        Ok(())
    })
}

/// Source and target dimensions.
#[no_mangle]
pub extern "C" fn scones_dual_dims(
    dual: *const scones_dual,
    dx: *mut usize,
    dy: *mut usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let g = handle(dual, "dual")?.inner.lock("dual")?;
        put_dims(dx, dy, (g.dx, g.dy))
    })
}

/// Regularizer, lambda and cost of the model.
#[no_mangle]
pub extern "C" fn scones_dual_problem(
    dual: *const scones_dual,
    regularizer: *mut scones_regularizer,
    lambda: *mut f64,
    cost: *mut scones_cost,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let d = handle(dual, "dual")?;
        out_ptr(regularizer, "regularizer")?;
        out_ptr(lambda, "lambda")?;
        out_ptr(cost, "cost")?;
        let g = d.inner.lock("dual")?;
        put(regularizer, regularizer_to(g.regularizer.divergence));
        put(lambda, g.regularizer.lambda);
        put(cost, cost_to(&g.cost));
        Ok(())
    })
}

/// Summary of the training run that made this dual (SCONES_STATUS_INVALID_ARGUMENT for a loaded
/// model, which carries none).
#[no_mangle]
pub extern "C" fn scones_dual_train_report(
    dual: *const scones_dual,
    out: *mut scones_train_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let d = handle(dual, "dual")?;
        out_ptr(out, "out")?;
        let r = d
            .report
            .as_ref()
            .ok_or_else(|| Error::invalid("this dual was loaded from a file and has no training report"))?;
        let full = scones_train_report {
            struct_size: std::mem::size_of::<scones_train_report>(),
            iterations: r.iterations as u64,
            objective: r.objective,
            mean_compatibility: r.mean_compatibility,
            extension_fraction: r.extension_fraction,
            seconds: r.seconds,
            iterations_per_second: r.iterations_per_second,
        };
        write_report(&full, out)
    })
}

/// Evaluates phi (on n x dx source points) or psi (on n x dy target points) into `out` (n x 1).
#[no_mangle]
pub extern "C" fn scones_dual_potential(
    dual: *const scones_dual,
    which: scones_potential,
    points: *const scones_matrix,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let d = handle(dual, "dual")?;
        let p = read_tensor(points, "points")?;
        check_out(out, "out", p.size()[0] as usize, 1)?;
        let g = d.inner.lock("dual")?;
        let v = match which {
            SCONES_POTENTIAL_PHI => g.phi(&p)?,
            SCONES_POTENTIAL_PSI => g.psi(&p)?,
            _ => return Err(Error::invalid(format!("unknown potential value {which}"))),
        };
        write_tensor(out, &v)
    })
}

/// The compatibility density M(V(x_i, y_j)) for all pairs into `out` (n x m): the coupling's
/// density with respect to sigma x tau, as learned.
#[no_mangle]
pub extern "C" fn scones_dual_compatibility(
    dual: *const scones_dual,
    x: *const scones_matrix,
    y: *const scones_matrix,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let d = handle(dual, "dual")?;
        let (xs, ys) = (read_tensor(x, "x")?, read_tensor(y, "y")?);
        check_out(out, "out", xs.size()[0] as usize, ys.size()[0] as usize)?;
        write_tensor(out, &d.inner.lock("dual")?.compatibility(&xs, &ys)?)
    })
}
