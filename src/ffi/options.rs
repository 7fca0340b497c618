//! ABI-stable option objects with typed setters, the enum values they take, and the progress
//! callback. New options are new setters; existing programs keep compiling and linking.

use std::ffi::{c_char, c_void};

use tch::Device;

use super::error::{boundary, free_box, scones_error, scones_status};
use super::{c_str, handle_mut, out_ptr, put};
use crate::neural::dual::{BatchMode, DualConfig};
use crate::neural::optim::{LrSchedule, Optim};
use crate::neural::sampler::{Annealing, ChainInit, SamplerConfig};
use crate::ot::{Cost, Divergence, Regularizer};
use crate::runtime::error::{Error, Result};
use crate::runtime::progress::{Phase, Progress};

/// Regularizer (f-divergence); one of the SCONES_REGULARIZER_* values.
pub type scones_regularizer = i32;
/// KL(pi || sigma x tau), f*(t) = exp(t - 1): the entropic (Sinkhorn) coupling.
pub const SCONES_REGULARIZER_KL: scones_regularizer = 0;
/// Chi-square, the reference code's "l2": M(v) = relu(v) / (2 lambda), sparse couplings.
pub const SCONES_REGULARIZER_CHI_SQUARE: scones_regularizer = 1;
/// KL in the exp(v / lambda) - 1 form; same coupling as SCONES_REGULARIZER_KL.
pub const SCONES_REGULARIZER_KL_CUTURI: scones_regularizer = 2;
/// Reverse KL, f*(t) = -1 - log(-t) (t < 0; extended quadratically near the boundary).
pub const SCONES_REGULARIZER_REVERSE_KL: scones_regularizer = 3;
/// Squared Hellinger, f*(t) = t / (1 - t) (t < 1; extended near the boundary).
pub const SCONES_REGULARIZER_SQUARED_HELLINGER: scones_regularizer = 4;
/// Jensen-Shannon, f*(t) = -log(2 - e^t) (t < log 2; extended near the boundary).
pub const SCONES_REGULARIZER_JENSEN_SHANNON: scones_regularizer = 5;
/// GAN, f*(t) = -log(1 - e^t) (t < 0; extended near the boundary).
pub const SCONES_REGULARIZER_GAN: scones_regularizer = 6;

/// Ground cost; one of the SCONES_COST_* values.
pub type scones_cost = i32;
/// c(x, y) = sum_k (x_k - y_k)^2.
pub const SCONES_COST_SQEUCLIDEAN: scones_cost = 0;
/// c(x, y) = sum_k (x_k - y_k)^2 / d.
pub const SCONES_COST_MEAN_SQEUCLIDEAN: scones_cost = 1;

/// Minibatch pairing for dual training; one of the SCONES_BATCH_* values.
pub type scones_batch_mode = i32;
/// m pair terms (x_i, y_i) per batch, as the authors' reference code.
pub const SCONES_BATCH_PAIRED: scones_batch_mode = 0;
/// all m^2 pair terms (x_i, y_j) per batch, the double sum of Algorithm 1 (default).
pub const SCONES_BATCH_ALL_PAIRS: scones_batch_mode = 1;

/// Learning-rate schedule; one of the SCONES_LR_* values.
pub type scones_lr_schedule = i32;
pub const SCONES_LR_CONSTANT: scones_lr_schedule = 0;
/// Cosine decay to final_fraction times the learning rate (default, final_fraction 0.01).
pub const SCONES_LR_COSINE: scones_lr_schedule = 1;

/// Where Langevin chains start; one of the SCONES_INIT_* values.
pub type scones_chain_init = i32;
/// y_0 ~ N(0, I) (default, Algorithm 2).
pub const SCONES_INIT_NOISE: scones_chain_init = 0;
/// y_0 = x (needs equal source and target dimensions).
pub const SCONES_INIT_SOURCE: scones_chain_init = 1;

/// What a progress report is about; one of the SCONES_PHASE_* values.
pub type scones_phase = i32;
pub const SCONES_PHASE_DUAL_TRAINING: scones_phase = 0;
pub const SCONES_PHASE_SAMPLING: scones_phase = 1;
pub const SCONES_PHASE_SCORE_TRAINING: scones_phase = 2;
pub const SCONES_PHASE_BARYCENTRIC_TRAINING: scones_phase = 3;

/// A progress report. struct_size is sizeof(scones_progress) of the library that filled it:
/// fields may be appended in later versions, never reordered.
#[repr(C)]
pub struct scones_progress {
    pub struct_size: usize,
    pub phase: scones_phase,
    /// Iterations (training) or Langevin steps (sampling) done so far.
    pub iteration: u64,
    /// Total iterations or steps of the call.
    pub total: u64,
    /// Training: objective averaged since the last report (the dual objective J for dual
    /// training). NaN while sampling.
    pub objective: f64,
    /// Dual training: E[M(V)] averaged since the last report; tends to 1 as the marginal
    /// constraints are met. NaN otherwise.
    pub mean_compatibility: f64,
    /// Dual training: fraction of pair terms on a restricted-domain conjugate's extension.
    pub extension_fraction: f64,
    /// Metropolis-adjusted sampling: acceptance rate so far. NaN otherwise.
    pub acceptance: f64,
}

/// Progress callback: return 0 to continue, anything else to cancel the call (which then fails
/// with SCONES_STATUS_CANCELLED and produces nothing). Called on the thread that made the call.
pub type scones_progress_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, progress: *const scones_progress) -> i32>;

#[derive(Clone, Copy)]
pub(crate) struct ProgressHook {
    pub f: scones_progress_fn,
    pub user: *mut c_void,
}

// The user pointer is the host's business; the hook is only called on the calling thread.
unsafe impl Send for ProgressHook {}
unsafe impl Sync for ProgressHook {}

impl ProgressHook {
    pub fn none() -> ProgressHook {
        ProgressHook { f: None, user: std::ptr::null_mut() }
    }

    /// The Rust observer that forwards to the C callback.
    pub fn observe(&self, p: &Progress) -> bool {
        let Some(f) = self.f else { return true };
        let c = scones_progress {
            struct_size: std::mem::size_of::<scones_progress>(),
            phase: match p.phase {
                Phase::DualTraining => SCONES_PHASE_DUAL_TRAINING,
                Phase::Sampling => SCONES_PHASE_SAMPLING,
                Phase::ScoreTraining => SCONES_PHASE_SCORE_TRAINING,
                Phase::BarycentricTraining => SCONES_PHASE_BARYCENTRIC_TRAINING,
            },
            iteration: p.iteration,
            total: p.total,
            objective: p.objective,
            mean_compatibility: p.mean_compatibility,
            extension_fraction: p.extension_fraction,
            acceptance: p.acceptance,
        };
        // SAFETY: a host-supplied function pointer called with its own user data.
        unsafe { f(self.user, &c) == 0 }
    }
}

pub(crate) fn regularizer_from(r: scones_regularizer) -> Result<Divergence> {
    Ok(match r {
        SCONES_REGULARIZER_KL => Divergence::Kl,
        SCONES_REGULARIZER_CHI_SQUARE => Divergence::ChiSquare,
        SCONES_REGULARIZER_KL_CUTURI => Divergence::KlCuturi,
        SCONES_REGULARIZER_REVERSE_KL => Divergence::ReverseKl,
        SCONES_REGULARIZER_SQUARED_HELLINGER => Divergence::SquaredHellinger,
        SCONES_REGULARIZER_JENSEN_SHANNON => Divergence::JensenShannon,
        SCONES_REGULARIZER_GAN => Divergence::Gan,
        _ => return Err(Error::invalid(format!("unknown regularizer value {r}"))),
    })
}

pub(crate) fn regularizer_to(d: Divergence) -> scones_regularizer {
    match d {
        Divergence::Kl => SCONES_REGULARIZER_KL,
        Divergence::ChiSquare => SCONES_REGULARIZER_CHI_SQUARE,
        Divergence::KlCuturi => SCONES_REGULARIZER_KL_CUTURI,
        Divergence::ReverseKl => SCONES_REGULARIZER_REVERSE_KL,
        Divergence::SquaredHellinger => SCONES_REGULARIZER_SQUARED_HELLINGER,
        Divergence::JensenShannon => SCONES_REGULARIZER_JENSEN_SHANNON,
        Divergence::Gan => SCONES_REGULARIZER_GAN,
    }
}

pub(crate) fn cost_from(c: scones_cost) -> Result<Cost> {
    match c {
        SCONES_COST_SQEUCLIDEAN => Ok(Cost::SqEuclidean),
        SCONES_COST_MEAN_SQEUCLIDEAN => Ok(Cost::MeanSqEuclidean),
        _ => Err(Error::invalid(format!("unknown cost value {c}"))),
    }
}

pub(crate) fn cost_to(c: Cost) -> scones_cost {
    match c {
        Cost::SqEuclidean => SCONES_COST_SQEUCLIDEAN,
        Cost::MeanSqEuclidean => SCONES_COST_MEAN_SQEUCLIDEAN,
    }
}

fn flag(v: i32, what: &str) -> Result<bool> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::invalid(format!("{what} must be 0 or 1, got {v}"))),
    }
}

fn positive(v: f64, what: &str) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::invalid(format!("{what} must be a finite number > 0, got {v}")))
    }
}

fn widths(p: *const usize, n: usize) -> Result<Vec<usize>> {
    if n == 0 || n > 64 {
        return Err(Error::invalid(format!("number of hidden layers must lie in 1..=64, got {n}")));
    }
    if p.is_null() {
        return Err(Error::invalid("widths pointer is NULL"));
    }
    // SAFETY: the caller passes n readable values.
    let w = unsafe { std::slice::from_raw_parts(p, n) }.to_vec();
    if w.iter().any(|&w| w == 0 || w > 1 << 16) {
        return Err(Error::invalid(format!("hidden widths must lie in 1..=65536, got {w:?}")));
    }
    Ok(w)
}

fn parse_device(p: *const c_char) -> Result<Device> {
    crate::runtime::device::parse_device(c_str(p, "device")?)
}

fn set_adam(o: &mut Optim, learning_rate: f64, beta1: f64, beta2: f64) -> Result<()> {
    let mut c = o.clone();
    c.learning_rate = positive(learning_rate, "learning rate")?;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.validate()?;
    *o = c;
    Ok(())
}

fn set_schedule(o: &mut Optim, schedule: scones_lr_schedule, final_fraction: f64) -> Result<()> {
    o.schedule = match schedule {
        SCONES_LR_CONSTANT => LrSchedule::Constant,
        SCONES_LR_COSINE => {
            if !(0.0..=1.0).contains(&final_fraction) {
                return Err(Error::invalid(format!("final fraction must lie in [0, 1], got {final_fraction}")));
            }
            LrSchedule::Cosine { final_fraction }
        }
        _ => return Err(Error::invalid(format!("unknown learning-rate schedule value {schedule}"))),
    };
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Dual training options

/// Options for scones_dual_train. Defaults: KL, lambda = 1, squared Euclidean cost, two hidden
/// layers of 256, Adam(lr 1e-3, 0.9, 0.999) with cosine decay to 1e-5, all-pairs batches of 500,
/// 5000 iterations, seed 0, CPU, no progress callback.
pub struct scones_dual_options {
    pub(crate) cfg: DualConfig,
    pub(crate) threads: usize,
    pub(crate) progress: ProgressHook,
}

impl Default for scones_dual_options {
    fn default() -> Self {
        scones_dual_options {
            cfg: DualConfig::new(Regularizer::new(Divergence::Kl, 1.0).expect("valid default")),
            threads: 0,
            progress: ProgressHook::none(),
        }
    }
}

/// Creates dual training options with the defaults above.
#[no_mangle]
pub extern "C" fn scones_dual_options_new(
    out: *mut *mut scones_dual_options,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        put(out, Box::into_raw(Box::default()));
        Ok(())
    })
}

/// Releases dual options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_dual_options_free(opts: *mut scones_dual_options) {
    free_box(opts)
}

fn with_dual(
    opts: *mut scones_dual_options,
    err: *mut *mut scones_error,
    f: impl FnOnce(&mut scones_dual_options) -> Result<()>,
) -> scones_status {
    boundary(err, || f(handle_mut(opts, "dual options")?))
}

/// Regularizer and its strength lambda > 0.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_regularizer(
    opts: *mut scones_dual_options,
    regularizer: scones_regularizer,
    lambda: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_dual(opts, err, |o| {
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
    with_dual(opts, err, |o| {
        o.cfg.cost = cost_from(cost)?;
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
    with_dual(opts, err, |o| {
        let w = widths(widths_, n)?;
        o.cfg.phi_hidden = w.clone();
        o.cfg.psi_hidden = w;
        Ok(())
    })
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
    with_dual(opts, err, |o| {
        let (a, b) = (widths(phi_widths, phi_n)?, widths(psi_widths, psi_n)?);
        o.cfg.phi_hidden = a;
        o.cfg.psi_hidden = b;
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
    with_dual(opts, err, |o| set_adam(&mut o.cfg.optim, learning_rate, beta1, beta2))
}

/// Learning-rate schedule; final_fraction (in [0, 1]) is used by SCONES_LR_COSINE.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_schedule(
    opts: *mut scones_dual_options,
    schedule: scones_lr_schedule,
    final_fraction: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_dual(opts, err, |o| set_schedule(&mut o.cfg.optim, schedule, final_fraction))
}

/// Minibatch size m (> 0) and pairing mode.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_batch(
    opts: *mut scones_dual_options,
    batch_size: usize,
    mode: scones_batch_mode,
    err: *mut *mut scones_error,
) -> scones_status {
    with_dual(opts, err, |o| {
        if batch_size == 0 {
            return Err(Error::invalid("batch size must be > 0"));
        }
        o.cfg.batch_mode = match mode {
            SCONES_BATCH_PAIRED => BatchMode::Paired,
            SCONES_BATCH_ALL_PAIRS => BatchMode::AllPairs,
            _ => return Err(Error::invalid(format!("unknown batch mode value {mode}"))),
        };
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
    with_dual(opts, err, |o| {
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
    with_dual(opts, err, |o| {
        o.cfg.optim.seed = seed;
        Ok(())
    })
}

/// Device: "cpu", "cuda", "cuda:N" or "auto". Fails with SCONES_STATUS_DEVICE_UNAVAILABLE when
/// the device is absent (no silent fallback).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_device(
    opts: *mut scones_dual_options,
    device: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    with_dual(opts, err, |o| {
        o.cfg.optim.device = parse_device(device)?;
        Ok(())
    })
}

/// libtorch intra-op threads used during the call (process-wide setting; 0 = leave as is).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_threads(
    opts: *mut scones_dual_options,
    threads: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_dual(opts, err, |o| {
        o.threads = threads;
        Ok(())
    })
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
    with_dual(opts, err, |o| {
        if every == 0 {
            return Err(Error::invalid("progress interval must be > 0"));
        }
        o.progress = ProgressHook { f: callback, user: user_data };
        o.cfg.optim.report_every = every;
        Ok(())
    })
}

/// beta of the chi-square softplus smoothing of log M used when sampling (stored in the model;
/// default 1000, the paper uses 10 to 1000).
#[no_mangle]
pub extern "C" fn scones_dual_options_set_softplus_beta(
    opts: *mut scones_dual_options,
    beta: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_dual(opts, err, |o| {
        o.cfg.regularizer = o.cfg.regularizer.with_softplus_beta(beta)?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Sampler options

/// Options for scones_sampler_new. Defaults: the paper's Gaussian setting (no annealing,
/// 1000 steps at eps = 0.01), one sample per source, chains from N(0, I), no Metropolis
/// adjustment, seed 0, CPU, no progress callback.
pub struct scones_sampler_options {
    pub(crate) cfg: SamplerConfig,
    pub(crate) threads: usize,
    pub(crate) softplus_beta: Option<f64>,
    pub(crate) progress: ProgressHook,
}

impl Default for scones_sampler_options {
    fn default() -> Self {
        scones_sampler_options {
            cfg: SamplerConfig::new(),
            threads: 0,
            softplus_beta: None,
            progress: ProgressHook::none(),
        }
    }
}

/// Creates sampler options with the defaults above.
#[no_mangle]
pub extern "C" fn scones_sampler_options_new(
    out: *mut *mut scones_sampler_options,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        put(out, Box::into_raw(Box::default()));
        Ok(())
    })
}

/// Releases sampler options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_sampler_options_free(opts: *mut scones_sampler_options) {
    free_box(opts)
}

fn with_sampler(
    opts: *mut scones_sampler_options,
    err: *mut *mut scones_error,
    f: impl FnOnce(&mut scones_sampler_options) -> Result<()>,
) -> scones_status {
    boundary(err, || f(handle_mut(opts, "sampler options")?))
}

/// Annealed Langevin over `levels` geometric noise levels from sigma_first down to sigma_last,
/// with a final denoising step when `denoise` is 1. levels = 0 switches annealing off (plain
/// Langevin with the unsmoothed score; sigmas and denoise are then ignored).
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_annealing(
    opts: *mut scones_sampler_options,
    sigma_first: f64,
    sigma_last: f64,
    levels: usize,
    denoise: i32,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        let denoise = flag(denoise, "denoise")?;
        let mut c = o.cfg.clone();
        c.annealing = if levels == 0 { None } else { Some(Annealing { sigma_first, sigma_last, levels }) };
        c.denoise = denoise;
        c.validate()?;
        o.cfg = c;
        Ok(())
    })
}

/// Langevin steps per noise level (> 0) and step size eps (> 0).
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_steps(
    opts: *mut scones_sampler_options,
    steps_per_level: usize,
    step_size: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        if steps_per_level == 0 {
            return Err(Error::invalid("steps per level must be > 0"));
        }
        o.cfg.step_size = positive(step_size, "step size")?;
        o.cfg.steps_per_level = steps_per_level;
        Ok(())
    })
}

/// Samples per source point K (> 0): output rows i K .. i K + K - 1 belong to source i.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_samples_per_source(
    opts: *mut scones_sampler_options,
    k: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        if k == 0 {
            return Err(Error::invalid("samples per source must be > 0"));
        }
        o.cfg.samples_per_source = k;
        Ok(())
    })
}

/// Chain initialization.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_init(
    opts: *mut scones_sampler_options,
    init: scones_chain_init,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        o.cfg.init = match init {
            SCONES_INIT_NOISE => ChainInit::Noise,
            SCONES_INIT_SOURCE => ChainInit::Source,
            _ => return Err(Error::invalid(format!("unknown chain init value {init}"))),
        };
        Ok(())
    })
}

/// Metropolis-adjusted Langevin (1) or plain (0). Needs a score source with a known
/// log-density (the Gaussian one); removes the O(eps) bias of unadjusted Langevin.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_metropolis(
    opts: *mut scones_sampler_options,
    enabled: i32,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        o.cfg.metropolis = flag(enabled, "metropolis")?;
        Ok(())
    })
}

/// Chains advanced together (> 0); bounds memory use.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_chain_batch(
    opts: *mut scones_sampler_options,
    chains: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        if chains == 0 {
            return Err(Error::invalid("chain batch must be > 0"));
        }
        o.cfg.chain_batch = chains;
        Ok(())
    })
}

/// Seed of chain initialization and Langevin noise.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_seed(
    opts: *mut scones_sampler_options,
    seed: u64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        o.cfg.seed = seed;
        Ok(())
    })
}

/// Device, as for dual options.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_device(
    opts: *mut scones_sampler_options,
    device: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        o.cfg.device = parse_device(device)?;
        Ok(())
    })
}

/// libtorch intra-op threads used during sampling (process-wide; 0 = leave as is).
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_threads(
    opts: *mut scones_sampler_options,
    threads: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        o.threads = threads;
        Ok(())
    })
}

/// Progress callback (NULL to remove), called every `every` Langevin steps (> 0).
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_progress(
    opts: *mut scones_sampler_options,
    callback: scones_progress_fn,
    user_data: *mut c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        if every == 0 {
            return Err(Error::invalid("progress interval must be > 0"));
        }
        o.progress = ProgressHook { f: callback, user: user_data };
        o.cfg.report_every = every;
        Ok(())
    })
}

/// Overrides the chi-square softplus beta stored in the dual model, for this sampler.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_softplus_beta(
    opts: *mut scones_sampler_options,
    beta: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        o.softplus_beta = Some(positive(beta, "softplus beta")?);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Training options for score networks and barycentric maps

/// Options for scones_score_train and scones_barycentric_train. Defaults: hidden layers
/// {128, 128, 128} (SiLU) for score networks and {256, 256} for maps; Adam(0.9, 0.999) at
/// 3e-3 for score networks (whose weights are averaged with EMA 0.999) and 1e-3 for maps, with
/// cosine decay to 1% of it; batches of 500, 5000 iterations, seed 0, CPU; score noise levels:
/// 10 geometric levels from the largest pairwise distance of the data down to 0.01.
pub struct scones_train_options {
    pub(crate) optim: Optim,
    /// Set by scones_train_options_set_adam; otherwise each trainer's own default rate.
    pub(crate) learning_rate_set: bool,
    pub(crate) hidden: Option<Vec<usize>>,
    pub(crate) noise: crate::score::trained::NoiseLevels,
    pub(crate) threads: usize,
    pub(crate) progress: ProgressHook,
}

impl scones_train_options {
    /// The optimizer settings for a trainer whose own default learning rate is `default_lr`.
    pub(crate) fn optim_for(&self, default_lr: f64) -> Optim {
        let mut o = self.optim.clone();
        if !self.learning_rate_set {
            o.learning_rate = default_lr;
        }
        o
    }
}

impl Default for scones_train_options {
    fn default() -> Self {
        scones_train_options {
            optim: Optim::default(),
            learning_rate_set: false,
            hidden: None,
            noise: Default::default(),
            threads: 0,
            progress: ProgressHook::none(),
        }
    }
}

/// Creates training options with the defaults above.
#[no_mangle]
pub extern "C" fn scones_train_options_new(
    out: *mut *mut scones_train_options,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        put(out, Box::into_raw(Box::default()));
        Ok(())
    })
}

/// Releases training options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_train_options_free(opts: *mut scones_train_options) {
    free_box(opts)
}

fn with_train(
    opts: *mut scones_train_options,
    err: *mut *mut scones_error,
    f: impl FnOnce(&mut scones_train_options) -> Result<()>,
) -> scones_status {
    boundary(err, || f(handle_mut(opts, "training options")?))
}

/// Hidden layer widths (n layers).
#[no_mangle]
pub extern "C" fn scones_train_options_set_hidden(
    opts: *mut scones_train_options,
    widths_: *const usize,
    n: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        o.hidden = Some(widths(widths_, n)?);
        Ok(())
    })
}

/// Adam learning rate (> 0) and moment decays beta1, beta2 in [0, 1).
#[no_mangle]
pub extern "C" fn scones_train_options_set_adam(
    opts: *mut scones_train_options,
    learning_rate: f64,
    beta1: f64,
    beta2: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        set_adam(&mut o.optim, learning_rate, beta1, beta2)?;
        o.learning_rate_set = true;
        Ok(())
    })
}

/// Learning-rate schedule; final_fraction (in [0, 1]) is used by SCONES_LR_COSINE.
#[no_mangle]
pub extern "C" fn scones_train_options_set_schedule(
    opts: *mut scones_train_options,
    schedule: scones_lr_schedule,
    final_fraction: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| set_schedule(&mut o.optim, schedule, final_fraction))
}

/// Minibatch size (> 0).
#[no_mangle]
pub extern "C" fn scones_train_options_set_batch_size(
    opts: *mut scones_train_options,
    batch_size: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        if batch_size == 0 {
            return Err(Error::invalid("batch size must be > 0"));
        }
        o.optim.batch_size = batch_size;
        Ok(())
    })
}

/// Number of training iterations.
#[no_mangle]
pub extern "C" fn scones_train_options_set_iterations(
    opts: *mut scones_train_options,
    iterations: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        o.optim.iterations = iterations;
        Ok(())
    })
}

/// Seed of initialization and batch draws.
#[no_mangle]
pub extern "C" fn scones_train_options_set_seed(
    opts: *mut scones_train_options,
    seed: u64,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        o.optim.seed = seed;
        Ok(())
    })
}

/// Device, as for dual options.
#[no_mangle]
pub extern "C" fn scones_train_options_set_device(
    opts: *mut scones_train_options,
    device: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        o.optim.device = parse_device(device)?;
        Ok(())
    })
}

/// libtorch intra-op threads during the call (process-wide; 0 = leave as is).
#[no_mangle]
pub extern "C" fn scones_train_options_set_threads(
    opts: *mut scones_train_options,
    threads: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        o.threads = threads;
        Ok(())
    })
}

/// Progress callback (NULL to remove), every `every` iterations (> 0); `objective` is the loss.
#[no_mangle]
pub extern "C" fn scones_train_options_set_progress(
    opts: *mut scones_train_options,
    callback: scones_progress_fn,
    user_data: *mut c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        if every == 0 {
            return Err(Error::invalid("progress interval must be > 0"));
        }
        o.progress = ProgressHook { f: callback, user: user_data };
        o.optim.report_every = every;
        Ok(())
    })
}

/// Noise levels of score training: `levels` geometric levels from sigma_max down to sigma_min
/// (0 < sigma_min <= sigma_max); sigma_max = 0 means the largest pairwise distance of the data.
#[no_mangle]
pub extern "C" fn scones_train_options_set_noise_levels(
    opts: *mut scones_train_options,
    sigma_max: f64,
    sigma_min: f64,
    levels: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    with_train(opts, err, |o| {
        let sigma_min = positive(sigma_min, "sigma_min")?;
        if levels == 0 {
            return Err(Error::invalid("need at least one noise level"));
        }
        let sigma_max = if sigma_max == 0.0 {
            None
        } else if sigma_max.is_finite() && sigma_max >= sigma_min {
            Some(sigma_max)
        } else {
            return Err(Error::invalid(format!("sigma_max must be 0 (automatic) or >= sigma_min, got {sigma_max}")));
        };
        o.noise = crate::score::trained::NoiseLevels { sigma_max, sigma_min, levels };
        Ok(())
    })
}

/// Chains start at T(x) for the given barycentric map (whose dimensions must match the dual's
/// when the sampler is made). The options keep their own copy of the map.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_init_map(
    opts: *mut scones_sampler_options,
    map: *const super::barycentric::scones_barycentric,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        let m = super::handle(map, "barycentric map")?;
        o.cfg.init = ChainInit::map(&m.inner.lock())?;
        Ok(())
    })
}

/// 1 (default): the conditional score s(y) + grad_y log M(V(x, y)). 0: the target score alone,
/// ignoring the sources (samples tau itself: a check of a score source).
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_compatibility(
    opts: *mut scones_sampler_options,
    enabled: i32,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        o.cfg.use_compatibility = flag(enabled, "compatibility")?;
        Ok(())
    })
}

/// With Metropolis adjustment: 1 tunes the step size during the first half of each noise
/// level's steps towards 57% acceptance, then keeps it fixed; 0 (default) keeps the given step.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_adapt_step(
    opts: *mut scones_sampler_options,
    enabled: i32,
    err: *mut *mut scones_error,
) -> scones_status {
    with_sampler(opts, err, |o| {
        o.cfg.adapt_step = flag(enabled, "adapt_step")?;
        Ok(())
    })
}
