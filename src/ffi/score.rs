//! Target score handles. Every score source (closed-form Gaussian now; empirical, trained,
//! TorchScript and callback sources later) is a `scones_score`.

use std::sync::Arc;

use tch::Kind;

use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{check_out, read_f64, read_tensor, read_vector, scones_matrix, scones_matrix_mut, write_tensor};
use super::{handle, out_ptr, put};
use crate::error::{Error, Result};
use crate::score::{GaussianScore, ScoreSource};

/// A target score source s(y, sigma) = grad_y log (tau * N(0, sigma^2 I))(y).
pub struct scones_score {
    pub(crate) source: Arc<dyn ScoreSource>,
}

/// The exact score of N(mean, cov): mean is 1 x d or d x 1, cov d x d symmetric positive
/// definite.
#[no_mangle]
pub extern "C" fn scones_score_new_gaussian(mean: *const scones_matrix, cov: *const scones_matrix, out: *mut *mut scones_score, err: *mut *mut scones_error) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let mu = read_vector(mean, "mean")?;
        let (c, r, k) = read_f64(cov, "cov")?;
        if r != k || r != mu.len() {
            return Err(Error::shape(format!("cov must be {0} x {0} to match the mean, got {r} x {k}", mu.len())));
        }
        let s = GaussianScore::new(&mu, &c)?;
        put(out, Box::into_raw(Box::new(scones_score { source: Arc::new(s) })));
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
pub extern "C" fn scones_score_dim(score: *const scones_score, dim: *mut usize, err: *mut *mut scones_error) -> scones_status {
    boundary(err, || {
        let s = handle(score, "score")?;
        out_ptr(dim, "dim")?;
        put(dim, s.source.dim());
        Ok(())
    })
}

/// Evaluates s(y, sigma) at the rows of y (n x d) into out (n x d) on the CPU; sigma >= 0.
#[no_mangle]
pub extern "C" fn scones_score_eval(score: *const scones_score, y: *const scones_matrix, sigma: f64, out: *const scones_matrix_mut, err: *mut *mut scones_error) -> scones_status {
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
        let v: Result<_> = bound.score(&ys.f_to_kind(Kind::Float)?, sigma);
        write_tensor(out, &v?)
    })
}
