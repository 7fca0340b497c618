//! Target score handles. Every score source (closed-form Gaussian now; empirical, trained,
//! TorchScript and callback sources later) is a `scones_score`.

use std::sync::Arc;

use tch::Kind;

use std::ffi::{c_char, c_void};

use super::common::options_or_default;
use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{check_out, read_f64, read_tensor, read_vector, scones_matrix, scones_matrix_mut, write_tensor};
use super::measure::scones_measure;
use super::train_options::scones_train_options;
use super::{c_path, handle, out_ptr, put};
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::limits;
use crate::score::trained::{self, ScoreTrainConfig};
use crate::score::{EmpiricalScore, FunctionScore, GaussianScore, ScoreSource, TorchScriptScore, TrainedScore};

/// A target score source s(y, sigma) = grad_y log (tau * N(0, sigma^2 I))(y).
pub struct scones_score {
    pub(crate) source: Arc<dyn ScoreSource>,
    /// Set for trained networks, the one kind of score that can be saved.
    trained: Option<Arc<TrainedScore>>,
}

fn new_handle(source: Arc<dyn ScoreSource>, out: *mut *mut scones_score) {
    put(out, Box::into_raw(Box::new(scones_score { source, trained: None })));
}

/// A handle for a trained network, which (unlike other sources) can be saved.
fn trained_handle(score: TrainedScore, out: *mut *mut scones_score) {
    let score = Arc::new(score);
    put(out, Box::into_raw(Box::new(scones_score { source: score.clone(), trained: Some(score) })));
}

/// Fills `out` (n x d, row-major, contiguous) with the score at the n points `y` (n x d,
/// row-major) for noise level sigma (0 = the clean target). Return 0 on success; anything else
/// stops the calling scones function with SCONES_STATUS_CALLBACK. Called on the thread that
/// calls scones_sample_batch or scones_score_eval.
pub type scones_score_fn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, y: *const f64, n: usize, d: usize, sigma: f64, out: *mut f64) -> i32,
>;

/// The exact score of N(mean, cov): mean is 1 x d or d x 1, cov d x d symmetric positive
/// definite.
#[no_mangle]
pub extern "C" fn scones_score_new_gaussian(
    mean: *const scones_matrix,
    cov: *const scones_matrix,
    out: *mut *mut scones_score,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let mu = read_vector(mean, "mean")?;
        let (c, r, k) = read_f64(cov, "cov")?;
        if r != k || r != mu.len() {
            return Err(Error::shape(format!("cov must be {0} x {0} to match the mean, got {r} x {k}", mu.len())));
        }
        new_handle(Arc::new(GaussianScore::new(&mu, &c)?), out);
        Ok(())
    })
}

/// Releases a score. NULL is a no-op. Samplers made from it stay valid.
#[no_mangle]
pub extern "C" fn scones_score_free(score: *mut scones_score) {
    free_box(score)
}

/// Dimension of the score's space.
#[no_mangle]
pub extern "C" fn scones_score_dim(
    score: *const scones_score,
    dim: *mut usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(score, "score")?;
        out_ptr(dim, "dim")?;
        put(dim, s.source.dim());
        Ok(())
    })
}

/// Evaluates s(y, sigma) at the rows of y (n x d) into out (n x d) on the CPU; sigma >= 0.
#[no_mangle]
pub extern "C" fn scones_score_eval(
    score: *const scones_score,
    y: *const scones_matrix,
    sigma: f64,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(score, "score")?;
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::invalid(format!("sigma must be finite and >= 0, got {sigma}")));
        }
        let ys = read_tensor(y, "y")?;
        let d = s.source.dim();
        if ys.size()[1] != d as i64 {
            return Err(Error::shape(format!("y must have {d} columns, got {}", ys.size()[1])));
        }
        check_out(out, "out", ys.size()[0] as usize, d)?;
        let mut bound = s.source.bind(tch::Device::Cpu)?;
        let v = bound.score(&ys.f_to_kind(Kind::Float)?, sigma)?;
        // A source can overflow at extreme sigma or bandwidth; report it instead of handing
        // the caller infinities with SCONES_STATUS_OK.
        let bad = v.f_isfinite()?.f_logical_not()?.f_nonzero()?;
        if bad.size()[0] > 0 {
            let (i, j) = (bad.f_int64_value(&[0, 0])?, bad.f_int64_value(&[0, 1])?);
            return Err(Error::non_finite(format!(
                "the score at sigma = {sigma:e} is not finite (row {i}, column {j}): sigma or the source's \
                 bandwidth is outside what float32 can represent"
            )));
        }
        write_tensor(out, &v)
    })
}

/// The exact score of the target points (n x d) smoothed by a Gaussian kernel of bandwidth h > 0
/// (annealing adds its noise level on top: s^2 = sigma^2 + h^2). No training; the softmax over
/// targets runs in chunks, so hundreds of thousands of targets fit.
#[no_mangle]
pub extern "C" fn scones_score_new_empirical(
    points: *const scones_matrix,
    bandwidth: f64,
    out: *mut *mut scones_score,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let p = read_tensor(points, "points")?;
        new_handle(Arc::new(EmpiricalScore::new(&p, bandwidth)?), out);
        Ok(())
    })
}

/// A score computed by a host callback in dimension d.
#[no_mangle]
pub extern "C" fn scones_score_new_callback(
    d: usize,
    callback: scones_score_fn,
    user_data: *mut c_void,
    out: *mut *mut scones_score,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let f = callback.ok_or_else(|| Error::invalid("callback is NULL"))?;
        let user = user_data as usize;
        limits::count("dimension", d, limits::MAX_DIMENSION)?;
        let call = move |y: &[f64], n: usize, sigma: f64, o: &mut [f64]| -> Result<()> {
            // SAFETY: a host function with its own user data and n x d buffers.
            let rc = unsafe { f(user as *mut c_void, y.as_ptr(), n, d, sigma, o.as_mut_ptr()) };
            if rc != 0 {
                return Err(Error::new(ErrorKind::Callback, format!("score callback returned {rc}")));
            }
            Ok(())
        };
        new_handle(Arc::new(FunctionScore::new(d, "host score callback", Arc::new(call))?), out);
        Ok(())
    })
}

/// A TorchScript module saved from PyTorch (torch.jit.save) with
/// `forward(y: Tensor[n, d] float32, sigma: Tensor[n] float32) -> Tensor[n, d]`. It is loaded and
/// called once on zeros to check the contract (SCONES_STATUS_FORMAT if it does not load).
#[no_mangle]
pub extern "C" fn scones_score_new_torchscript(
    path: *const c_char,
    d: usize,
    out: *mut *mut scones_score,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        limits::count("dimension", d, limits::MAX_DIMENSION)?;
        new_handle(Arc::new(TorchScriptScore::new(&c_path(path, "path")?, d)?), out);
        Ok(())
    })
}

/// Trains a score network by denoising score matching on the target measure (NCSN). `options`
/// may be NULL for the defaults.
#[no_mangle]
pub extern "C" fn scones_score_train(
    target: *const scones_measure,
    options: *const scones_train_options,
    out: *mut *mut scones_score,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let t = handle(target, "target measure")?;
        let o = options_or_default(options);
        let d = ScoreTrainConfig::default();
        let mut cfg = ScoreTrainConfig { optim: o.optim_for(d.optim.learning_rate), noise: o.noise.clone(), ..d };
        if let Some(h) = &o.hidden {
            cfg.hidden = h.clone();
        }
        if let Some(p) = o.parametrization {
            cfg.parametrization = p;
        }
        let mut m = t.instantiate(cfg.optim.device)?;
        let (score, _) = trained::train(&cfg, m.as_mut(), &mut o.caller.start())?;
        trained_handle(score, out);
        Ok(())
    })
}

/// Saves a trained score network (SCONES_STATUS_INVALID_ARGUMENT for other kinds of score).
#[no_mangle]
pub extern "C" fn scones_score_save(
    score: *const scones_score,
    path: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let s = handle(score, "score")?;
        let t = s.trained.as_ref().ok_or_else(|| {
            Error::invalid(format!("only trained score networks can be saved; this is a {}", s.source.describe()))
        })?;
        t.save(&c_path(path, "path")?)
    })
}

/// Loads a score network saved by scones_score_save.
#[no_mangle]
pub extern "C" fn scones_score_load(
    path: *const c_char,
    out: *mut *mut scones_score,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        trained_handle(TrainedScore::load(&c_path(path, "path")?)?, out);
        Ok(())
    })
}
