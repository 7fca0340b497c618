//! Algorithm 2: the sampler options, and the sampler handle that draws y ~ pi(y | x) by
//! (annealed) Langevin dynamics on the target score plus grad_y log M(V(x, y)).
//!
//! About 540 lines, kept as one file on purpose: two-thirds are the options' setters, one short
//! doc-commented export per sampler setting, and splitting them from the handle would separate
//! each setting from the code that reads it.

use std::ffi::{c_char, c_void};

use super::guard::HandleLock;

use super::barycentric::scones_barycentric;
use super::common::{self, flag, report_fields, write_report, Options, Run, RunOptions};
use super::dual::scones_dual;
use super::enums::lookup;
use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{check_out, dims, read_f64, read_tensor, scones_matrix, scones_matrix_mut, write_tensor};
use super::progress::{scones_progress_fn, Caller, ProgressHook};
use super::score::scones_score;
use super::{handle, out_ptr, put, put_dims};
use crate::neural::sampler::{Annealing, ChainInit, SampleReport, Sampler, SamplerConfig};
use crate::ot::{Divergence, Regularizer};
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;

/// Where Langevin chains start; one of the SCONES_INIT_* values.
pub type scones_chain_init = i32;
/// y_0 ~ N(0, I) (default, Algorithm 2).
pub const SCONES_INIT_NOISE: scones_chain_init = 0;
/// y_0 = x (needs equal source and target dimensions).
pub const SCONES_INIT_SOURCE: scones_chain_init = 1;

/// Options for scones_sampler_new. Defaults: the paper's Gaussian setting (no annealing,
/// 1000 steps at eps = 0.01), one sample per source, chains from N(0, I), no Metropolis
/// adjustment, seed 0, CPU, no progress callback.
#[derive(Clone, Default)]
pub struct scones_sampler_options {
    pub(crate) cfg: SamplerConfig,
    pub(crate) caller: Caller,
    pub(crate) softplus_beta: Option<f64>,
}

impl Options for scones_sampler_options {
    const NAME: &'static str = "sampler options";
    fn validate(&self) -> Result<()> {
        if let Some(beta) = self.softplus_beta {
            // The rule for beta belongs to the regularizer; any divergence will do to apply it.
            Regularizer::new(Divergence::ChiSquare, 1.0)?.with_softplus_beta(beta)?;
            limits::softplus_beta(beta)?;
        }
        self.cfg.validate()?;
        // The sampler's config lives in neural::sampler; the caps on its counts are checked
        // here, where every C setter passes.
        let c = &self.cfg;
        limits::count("samples per source", c.samples_per_source, limits::MAX_SAMPLES_PER_SOURCE)?;
        limits::at_most("chain batch", c.chain_batch, limits::MAX_SAMPLES_PER_SOURCE)?;
        let levels = c.annealing.as_ref().map_or(1, |a| a.levels);
        limits::at_most("annealing levels", levels, limits::MAX_NOISE_LEVELS)?;
        limits::at_most(
            "Langevin steps (levels x steps per level)",
            levels.saturating_mul(c.steps_per_level),
            limits::MAX_ITERATIONS,
        )?;
        Ok(())
    }
    fn progress(&mut self) -> (&mut ProgressHook, &mut usize) {
        (&mut self.caller.progress, &mut self.cfg.report_every)
    }
}

impl RunOptions for scones_sampler_options {
    fn run(&mut self) -> Run<'_> {
        Run { device: &mut self.cfg.device, seed: &mut self.cfg.seed, threads: &mut self.caller.threads }
    }
}

/// Creates sampler options with the defaults above.
#[no_mangle]
pub extern "C" fn scones_sampler_options_new(
    out: *mut *mut scones_sampler_options,
    err: *mut *mut scones_error,
) -> scones_status {
    common::create(out, err)
}

/// Releases sampler options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_sampler_options_free(opts: *mut scones_sampler_options) {
    free_box(opts)
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
    common::update(opts, err, |o| {
        o.cfg.denoise = flag(denoise, "denoise")?;
        o.cfg.annealing = (levels > 0).then_some(Annealing { sigma_first, sigma_last, levels });
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
    common::update(opts, err, |o| {
        (o.cfg.steps_per_level, o.cfg.step_size) = (steps_per_level, step_size);
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
    common::update(opts, err, |o| {
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
    common::update(opts, err, |o| {
        let inits = [(SCONES_INIT_NOISE, ChainInit::Noise), (SCONES_INIT_SOURCE, ChainInit::Source)];
        o.cfg.init = lookup(init, &inits, "chain init")?;
        Ok(())
    })
}

/// Metropolis-adjusted Langevin (1) or plain (0). Needs a score source with a known
/// log-density: the Gaussian and the empirical (kernel-smoothed, an exact Gaussian mixture)
/// ones; with a callback, trained or TorchScript score scones_sampler_new fails with
/// SCONES_STATUS_INVALID_ARGUMENT. Removes the O(eps) bias of unadjusted Langevin.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_metropolis(
    opts: *mut scones_sampler_options,
    enabled: i32,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
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
    common::update(opts, err, |o| {
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
    common::set_seed(opts, seed, err)
}

/// Device, as for dual options.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_device(
    opts: *mut scones_sampler_options,
    device: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_device(opts, device, err)
}

/// libtorch intra-op threads used during sampling: n > 0 uses exactly n; 0 (the default) the
/// fair share (see "Threads" at the top of this header).
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_threads(
    opts: *mut scones_sampler_options,
    threads: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_threads(opts, threads, err)
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
    common::set_progress(opts, callback, user_data, every, err)
}

/// Overrides the chi-square softplus beta stored in the dual model, for this sampler.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_softplus_beta(
    opts: *mut scones_sampler_options,
    beta: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.softplus_beta = Some(beta);
        Ok(())
    })
}

/// Chains start at T(x) for the given barycentric map (whose dimensions must match the dual's
/// when the sampler is made). The options keep their own copy of the map.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_init_map(
    opts: *mut scones_sampler_options,
    map: *const scones_barycentric,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.init = ChainInit::map(&*handle(map, "barycentric map")?.inner.lock("barycentric map")?)?;
        Ok(())
    })
}

/// Chains start at target samples drawn, for each source x, with probability proportional to
/// M(V(x, y_j)) over the rows y_j of `targets` (N x dy, e.g. the target data the duals were
/// trained on; at most 2^22 rows): the duals' own discrete conditional, whose mode weights
/// annealing from noise only approximates. With annealing, a resampled chain moves only at the
/// noise levels at or below `sigma_start` (0: three times the last noise level), so that Langevin
/// spreads the repeated starts without re-mixing the modes. A source whose weights have an
/// effective sample size below its K samples (too few targets carry its conditional) starts
/// from N(0, I) and anneals through every level instead. On the entropic benchmark of Gushchin
/// et al. this took the conditional error at d = 2, eps = 0.1 from 8.0x to 1.4x the sampling
/// floor (docs/results/conditional_bench.md). The options keep their own copy of the targets.
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_init_resample(
    opts: *mut scones_sampler_options,
    targets: *const scones_matrix,
    sigma_start: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        if !(sigma_start.is_finite() && sigma_start >= 0.0) {
            return Err(Error::invalid(format!(
                "sigma_start must be >= 0 (0: three times the last noise level), got {sigma_start}"
            )));
        }
        let (rows, _) = dims(targets, "targets")?;
        limits::at_most("resampling target rows", rows, limits::MAX_RESAMPLE_TARGETS)?;
        let (values, _, dim) = read_f64(targets, "targets")?;
        let values: Vec<f32> = values.iter().map(|v| *v as f32).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::non_finite("targets: values overflow float32"));
        }
        o.cfg.init = ChainInit::Resample { targets: std::sync::Arc::new(values), dim, sigma_start };
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
    common::update(opts, err, |o| {
        o.cfg.use_compatibility = flag(enabled, "compatibility")?;
        Ok(())
    })
}

/// Annealed sampling: 1 (default) tempers the compatibility term at the noise levels whose step
/// a_i would be unstable against its stiffness p = c'' / lambda (2 / lambda for KL with the
/// squared Euclidean cost): M^w with w = min(1, 1 / (a_i p)). Levels with a_i p <= 1 are
/// untouched. It keeps small-lambda runs stable at the default step. 0: the compatibility term
/// is never rescaled (the reference code's schedule).
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_compatibility_tempering(
    opts: *mut scones_sampler_options,
    enabled: i32,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.temper_compatibility = flag(enabled, "compatibility tempering")?;
        Ok(())
    })
}

/// Annealed, unadjusted sampling: 1 (default) evaluates grad log M at Tweedie's denoised point
/// y + sigma^2 s(y, sigma) rather than at y, the posterior-mean approximation of the smoothed
/// compatibility; exact as sigma -> 0. At large sigma the chains are far outside the target's
/// support, where psi was never trained; on the entropic benchmark at d = 16 this took the
/// conditional error from 21x to 3x the sampling floor. 0: at y (the reference code). Metropolis-
/// adjusted levels always use y (they need the density whose gradient they follow).
#[no_mangle]
pub extern "C" fn scones_sampler_options_set_compatibility_at_denoised(
    opts: *mut scones_sampler_options,
    enabled: i32,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.compatibility_at_denoised = flag(enabled, "compatibility at the denoised point")?;
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
    common::update(opts, err, |o| {
        o.cfg.adapt_step = flag(enabled, "adapt_step")?;
        Ok(())
    })
}

/// A conditional sampler of pi(y | x): potentials, a target score and sampling options.
pub struct scones_sampler {
    inner: HandleLock<SamplerState>,
}

struct SamplerState {
    sampler: Sampler,
    caller: Caller,
    last: Option<SampleReport>,
}

/// Statistics of the last scones_sample_batch call. Set struct_size before calling
/// scones_sampler_report.
#[repr(C)]
pub struct scones_sample_report {
    pub struct_size: usize,
    pub chains: u64,
    pub steps_per_chain: u64,
    pub seconds: f64,
    /// Langevin chain-steps per second (chains x steps / seconds).
    pub chain_steps_per_second: f64,
    /// Metropolis acceptance rate, NaN without Metropolis adjustment.
    pub acceptance: f64,
}

report_fields!(scones_sample_report {
    chains: u64,
    steps_per_chain: u64,
    seconds: f64,
    chain_steps_per_second: f64,
    acceptance: f64
});

/// Creates a sampler from a dual and a score source (whose dimension must equal the dual's
/// target dimension). `options` may be NULL for the defaults. The sampler copies what it needs:
/// the dual and score may be freed afterwards.
#[no_mangle]
pub extern "C" fn scones_sampler_new(
    dual: *const scones_dual,
    score: *const scones_score,
    options: *const scones_sampler_options,
    out: *mut *mut scones_sampler,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let (d, s) = (handle(dual, "dual")?, handle(score, "score")?);
        let opts = common::options_or_default(options);
        let mut sampler = Sampler::new(&*d.inner.lock("dual")?, s.source.clone(), opts.cfg.clone())?;
        if let Some(beta) = opts.softplus_beta {
            sampler.set_softplus_beta(beta)?;
        }
        let state = SamplerState { sampler, caller: opts.caller, last: None };
        put(out, Box::into_raw(Box::new(scones_sampler { inner: HandleLock::new(state) })));
        Ok(())
    })
}

/// Releases a sampler. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_sampler_free(sampler: *mut scones_sampler) {
    free_box(sampler)
}

/// Draws K samples y ~ pi(y | x_i) for each of the n rows of `sources` (n x dx) into `out`
/// ((n K) x dy); the samples of source i are rows i K .. i K + K - 1. The sources are numbered
/// on from the previous call's last one (the first call starts at 0; see
/// scones_sample_batch_at), so successive calls draw new numbers. Fails with
/// SCONES_STATUS_DIVERGED (and writes nothing) if any chain becomes non-finite.
#[no_mangle]
pub extern "C" fn scones_sample_batch(
    sampler: *mut scones_sampler,
    sources: *const scones_matrix,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || sample(sampler, sources, None, out))
}

/// scones_sample_batch with row r of `sources` the source of global index
/// `first_source_index + r`: the K samples of a source depend only on the seed and its global
/// index, so ranks that each sample their own range of a source set (rank r passing the index
/// of its first source) reproduce one call over the whole set. Bit for bit on the CPU for any
/// split and chain batch, given the same thread count on every rank (set threads explicitly);
/// on CUDA the noise comes from the device generator and only the same split reproduces
/// itself. Later scones_sample_batch calls continue after this call's last source.
#[no_mangle]
pub extern "C" fn scones_sample_batch_at(
    sampler: *mut scones_sampler,
    first_source_index: u64,
    sources: *const scones_matrix,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || sample(sampler, sources, Some(first_source_index), out))
}

fn sample(
    sampler: *mut scones_sampler,
    sources: *const scones_matrix,
    first_source: Option<u64>,
    out: *const scones_matrix_mut,
) -> Result<()> {
    let s = handle(sampler, "sampler")?;
    let x = read_tensor(sources, "sources")?;
    let mut st = s.inner.lock("sampler")?;
    let (dx, dy) = st.sampler.dims();
    if x.size()[1] != dx as i64 {
        return Err(Error::shape(format!(
            "sources must have {dx} columns (the dual's source dimension), got {}",
            x.size()[1]
        )));
    }
    let k = st.sampler.config().samples_per_source;
    check_out(out, "out", x.size()[0] as usize * k, dy)?;
    let mut observe = st.caller.start();
    let (y, report) = match first_source {
        Some(first) => st.sampler.sample_at(&x, first, &mut observe)?,
        None => st.sampler.sample(&x, &mut observe)?,
    };
    write_tensor(out, &y)?;
    st.last = Some(report);
    Ok(())
}

/// Statistics of the last successful scones_sample_batch or scones_sample_batch_at.
#[no_mangle]
pub extern "C" fn scones_sampler_report(
    sampler: *const scones_sampler,
    out: *mut scones_sample_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(sampler, "sampler")?;
        out_ptr(out, "out")?;
        let st = s.inner.lock("sampler")?;
        let r = st.last.as_ref().ok_or_else(|| Error::invalid("no successful scones_sample_batch call yet"))?;
        let full = scones_sample_report {
            struct_size: std::mem::size_of::<scones_sample_report>(),
            chains: r.chains as u64,
            steps_per_chain: r.steps_per_chain as u64,
            seconds: r.seconds,
            chain_steps_per_second: r.chain_steps_per_second,
            acceptance: r.acceptance,
        };
        write_report(&full, out)
    })
}

/// Replaces the sampler's progress callback (NULL removes it), called every `every` Langevin
/// steps (> 0) of later scones_sample_batch calls. Lets a host pass per-call state (a
/// cancellation context) without rebuilding the sampler.
#[no_mangle]
pub extern "C" fn scones_sampler_set_progress(
    sampler: *mut scones_sampler,
    callback: scones_progress_fn,
    user_data: *mut c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let mut st = handle(sampler, "sampler")?.inner.lock("sampler")?;
        // The interval's rule is the sampler config's, as for the options.
        let mut cfg = st.sampler.config().clone();
        cfg.report_every = every;
        cfg.validate()?;
        st.caller.progress = ProgressHook { f: callback, user: user_data };
        st.sampler.set_report_every(every);
        Ok(())
    })
}

/// Source dimension dx, target dimension dy and samples per source K: scones_sample_batch on n
/// sources writes (n K) x dy.
#[no_mangle]
pub extern "C" fn scones_sampler_shape(
    sampler: *const scones_sampler,
    dx: *mut usize,
    dy: *mut usize,
    k: *mut usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let st = handle(sampler, "sampler")?.inner.lock("sampler")?;
        out_ptr(k, "k")?;
        put_dims(dx, dy, st.sampler.dims())?;
        put(k, st.sampler.config().samples_per_source);
        Ok(())
    })
}
