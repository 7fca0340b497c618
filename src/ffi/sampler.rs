//! Sampler handles: Algorithm 2.

use parking_lot::Mutex;

use super::dual::{copy_prefix, scones_dual};
use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{check_out, read_tensor, scones_matrix, scones_matrix_mut, write_tensor};
use super::options::{scones_sampler_options, ProgressHook};
use super::score::scones_score;
use super::{handle, out_ptr, put};
use crate::neural::sampler::{SampleReport, Sampler};
use crate::runtime::error::Error;

/// A conditional sampler of pi(y | x): potentials, a target score and sampling options.
pub struct scones_sampler {
    inner: Mutex<SamplerState>,
}

struct SamplerState {
    sampler: Sampler,
    threads: usize,
    progress: ProgressHook,
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
        let d = handle(dual, "dual")?;
        let s = handle(score, "score")?;
        let default = scones_sampler_options::default();
        // SAFETY: NULL or options created by scones_sampler_options_new.
        let opts = unsafe { options.as_ref() }.unwrap_or(&default);
        let mut sampler = Sampler::new(&d.inner.lock(), s.source.clone(), opts.cfg.clone())?;
        if let Some(beta) = opts.softplus_beta {
            sampler.set_softplus_beta(beta)?;
        }
        let state = SamplerState { sampler, threads: opts.threads, progress: opts.progress, last: None };
        put(out, Box::into_raw(Box::new(scones_sampler { inner: Mutex::new(state) })));
        Ok(())
    })
}

/// Releases a sampler. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_sampler_free(sampler: *mut scones_sampler) {
    free_box(sampler)
}

/// Draws K samples y ~ pi(y | x_i) for each of the n rows of `sources` (n x dx) into `out`
/// ((n K) x dy); the samples of source i are rows i K .. i K + K - 1. Successive calls continue
/// the sampler's random stream. Fails with SCONES_STATUS_DIVERGED (and writes nothing) if any
/// chain becomes non-finite.
#[no_mangle]
pub extern "C" fn scones_sample_batch(
    sampler: *mut scones_sampler,
    sources: *const scones_matrix,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(sampler, "sampler")?;
        let x = read_tensor(sources, "sources")?;
        let mut st = s.inner.lock();
        let (dx, dy) = st.sampler.dims();
        if x.size()[1] != dx as i64 {
            return Err(Error::shape(format!(
                "sources must have {dx} columns (the dual's source dimension), got {}",
                x.size()[1]
            )));
        }
        let k = st.sampler.config().samples_per_source;
        check_out(out, "out", x.size()[0] as usize * k, dy)?;
        crate::runtime::device::set_threads(st.threads);
        let hook = st.progress;
        let (y, report) = st.sampler.sample(&x, &mut |p| hook.observe(p))?;
        write_tensor(out, &y)?;
        st.last = Some(report);
        Ok(())
    })
}

/// Statistics of the last successful scones_sample_batch.
#[no_mangle]
pub extern "C" fn scones_sampler_report(
    sampler: *const scones_sampler,
    out: *mut scones_sample_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(sampler, "sampler")?;
        out_ptr(out, "out")?;
        let st = s.inner.lock();
        let r = st.last.as_ref().ok_or_else(|| Error::invalid("no successful scones_sample_batch call yet"))?;
        // SAFETY: checked non-NULL; the caller set struct_size.
        let size = unsafe { (*out).struct_size };
        let full = scones_sample_report {
            struct_size: std::mem::size_of::<scones_sample_report>(),
            chains: r.chains as u64,
            steps_per_chain: r.steps_per_chain as u64,
            seconds: r.seconds,
            chain_steps_per_second: r.chain_steps_per_second,
            acceptance: r.acceptance,
        };
        copy_prefix(&full, out, size)
    })
}

/// Replaces the sampler's progress callback (NULL removes it), called every `every` Langevin
/// steps (> 0) of later scones_sample_batch calls. Lets a host pass per-call state (a
/// cancellation context) without rebuilding the sampler.
#[no_mangle]
pub extern "C" fn scones_sampler_set_progress(
    sampler: *mut scones_sampler,
    callback: super::options::scones_progress_fn,
    user_data: *mut std::ffi::c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(sampler, "sampler")?;
        if every == 0 {
            return Err(Error::invalid("progress interval must be > 0"));
        }
        let mut st = s.inner.lock();
        st.progress = ProgressHook { f: callback, user: user_data };
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
        let s = handle(sampler, "sampler")?;
        out_ptr(dx, "dx")?;
        out_ptr(dy, "dy")?;
        out_ptr(k, "k")?;
        let st = s.inner.lock();
        let (a, b) = st.sampler.dims();
        put(dx, a);
        put(dy, b);
        put(k, st.sampler.config().samples_per_source);
        Ok(())
    })
}
