//! Costs the library does not know in closed form (issue 13 item 4): a TorchScript module or a
//! host callback evaluating c(x_i, y_i) and grad_y c pair by pair. Everything else a cost offers
//! (all pairs, Sinkhorn's blocks, the sampler's y-gradient) is built from those two calls.

use tch::{Kind, Tensor};

use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::model_file::ModelFile;

/// Pairs evaluated per call of [`ExternalCost::paired`] when all pairs are formed: bounds the
/// expanded [pairs, dx + dy] inputs (a 2^20 x 64 float32 block is 256 MiB at most for both).
pub(crate) const MAX_PAIRS_PER_BLOCK: usize = 1 << 20;

/// A ground cost evaluated by someone else, pair by pair.
pub trait ExternalCost: Send + Sync + std::fmt::Debug {
    /// "torchscript" or "callback": what `Cost::name` and model files call it.
    fn name(&self) -> &'static str;
    /// (dx, dy): the source and target dimensions it accepts.
    fn dims(&self) -> (usize, usize);
    /// c(x_i, y_i) for rows of x [m, dx] and y [m, dy] -> \[m\], of x's kind and device.
    fn paired(&self, x: &Tensor, y: &Tensor) -> Result<Tensor>;
    /// grad_y c(x_i, y_i) -> [m, dy], of y's kind and device.
    fn grad_y(&self, x: &Tensor, y: &Tensor) -> Result<Tensor>;
    /// A bound on the y-Hessian's norm, given by the caller (it cannot be read off a black box):
    /// the stiffness the Langevin sampler's step-size schedule assumes.
    fn y_curvature(&self) -> f64;
    /// Writes what `Cost::restore` needs; a cost that cannot be saved says so.
    fn store(&self, _f: &mut ModelFile) -> Result<()> {
        Err(Error::invalid(format!("a {} cost cannot be saved", self.name())))
    }
}

/// The caller's curvature bound: finite and > 0 (2 is the squared Euclidean cost's).
pub fn check_curvature(curvature: f64) -> Result<f64> {
    if curvature.is_finite() && curvature > 0.0 {
        return Ok(curvature);
    }
    Err(Error::invalid(format!("a cost's y-curvature bound must be finite and > 0, got {curvature}")))
}

/// c(x_i, y_j) for all pairs: x [m, dx], y [n, dy] -> [m, n], from `paired` on expanded pairs,
/// at most `MAX_PAIRS_PER_BLOCK` (2^20) per call.
pub fn pairwise(c: &dyn ExternalCost, x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let (m, n) = (x.size()[0], y.size()[0]);
    if m == 0 || n == 0 {
        return Ok(Tensor::f_zeros([m, n], (x.kind(), x.device()))?);
    }
    let block = MAX_PAIRS_PER_BLOCK as i64;
    // Rows per block, and columns per block when one row of pairs alone is too many.
    let (rows, cols) = if n <= block { ((block / n).max(1), n) } else { (1, block) };
    let mut out = Vec::with_capacity(((m + rows - 1) / rows) as usize);
    for i0 in (0..m).step_by(rows as usize) {
        let r = rows.min(m - i0);
        let xi = x.f_narrow(0, i0, r)?;
        let mut parts = Vec::with_capacity(((n + cols - 1) / cols) as usize);
        for j0 in (0..n).step_by(cols as usize) {
            let k = cols.min(n - j0);
            let yj = y.f_narrow(0, j0, k)?;
            let xe = xi.f_unsqueeze(1)?.f_expand([r, k, x.size()[1]], false)?.f_reshape([r * k, x.size()[1]])?;
            let ye = yj.f_unsqueeze(0)?.f_expand([r, k, y.size()[1]], false)?.f_reshape([r * k, y.size()[1]])?;
            parts.push(c.paired(&xe, &ye)?.f_view([r, k])?);
        }
        out.push(Tensor::f_cat(&parts, 1)?);
    }
    Ok(Tensor::f_cat(&out, 0)?)
}

/// Checks a returned tensor's shape and that every entry is finite: a non-finite value is the
/// user code's failure (SCONES_STATUS_CALLBACK in C), as for measure callbacks.
pub fn check_output(t: &Tensor, shape: &[i64], what: &str) -> Result<()> {
    if t.size() != shape {
        return Err(Error::shape(format!("{what} returned shape {:?}, expected {shape:?}", t.size())));
    }
    let finite = t.f_isfinite()?.f_all()?.f_to_kind(Kind::Int64)?.f_int64_value(&[])? != 0;
    if !finite {
        return Err(Error::new(ErrorKind::Callback, format!("{what} returned a non-finite value")));
    }
    Ok(())
}
