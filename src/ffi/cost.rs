//! Costs evaluated outside the library: a TorchScript module file, or a host callback
//! (`scones_cost_fn`) that evaluates pairs row by row.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use tch::{Device, Kind, Tensor};

use super::common;
use super::dual::scones_dual_options;
use super::error::{scones_error, scones_status};
use super::spot::scones_spot_options;
use crate::ot::cost::external::{check_curvature, ExternalCost};
use crate::ot::Cost;
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::limits;

/// Evaluates m pairs (x_i, y_i), row-major x (m x dx) and y (m x dy): entry i of values is c(x_i, y_i)
/// and, when grad_y is not NULL, grad_y (m x dy) = the gradient of c in y at each pair. Return 0
/// on success; anything else stops the calling function with SCONES_STATUS_CALLBACK, as does a
/// non-finite (or unwritten) output. Called on the thread of the library call that needs it.
pub type scones_cost_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        m: usize,
        dx: usize,
        dy: usize,
        x: *const f64,
        y: *const f64,
        values: *mut f64,
        grad_y: *mut f64,
    ) -> i32,
>;

type CostFn = unsafe extern "C" fn(*mut c_void, usize, usize, usize, *const f64, *const f64, *mut f64, *mut f64) -> i32;

/// A host function and its user data; the host owns both and keeps them alive while a dual or
/// sampler made with the cost is in use.
struct CallbackCost {
    f: CostFn,
    user: usize,
    dx: usize,
    dy: usize,
    curvature: f64,
}

impl std::fmt::Debug for CallbackCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CallbackCost(dx {}, dy {}, curvature {})", self.dx, self.dy, self.curvature)
    }
}

fn host_f64(t: &Tensor) -> Result<Vec<f64>> {
    crate::reference::linalg::to_vec(&t.f_detach()?.f_to_device(Device::Cpu)?.f_to_kind(Kind::Double)?.f_contiguous()?)
}

impl CallbackCost {
    /// Calls the host on the pairs; (values, grad_y if asked).
    fn call(&self, x: &Tensor, y: &Tensor, want_grad: bool) -> Result<(Vec<f64>, Vec<f64>)> {
        let (sx, sy) = (x.size(), y.size());
        if sx.len() != 2 || sy.len() != 2 || sx[0] != sy[0] || sx[1] != self.dx as i64 || sy[1] != self.dy as i64 {
            return Err(Error::shape(format!(
                "the callback cost takes pairs [m, {}] and [m, {}], got {sx:?} and {sy:?}",
                self.dx, self.dy
            )));
        }
        let m = sx[0] as usize;
        let (xs, ys) = (host_f64(x)?, host_f64(y)?);
        // NaN first: a callback that forgets to write a value is caught below.
        let mut values = vec![f64::NAN; m];
        let mut grad = if want_grad { vec![f64::NAN; m * self.dy] } else { Vec::new() };
        let gp = if want_grad { grad.as_mut_ptr() } else { std::ptr::null_mut() };
        // SAFETY: a host function with its own user data, m x dx and m x dy inputs, an m-value
        // output and an m x dy gradient output (or NULL), all live for the call.
        let rc = unsafe {
            (self.f)(self.user as *mut c_void, m, self.dx, self.dy, xs.as_ptr(), ys.as_ptr(), values.as_mut_ptr(), gp)
        };
        if rc != 0 {
            return Err(Error::new(ErrorKind::Callback, format!("cost callback returned {rc}")));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::new(
                ErrorKind::Callback,
                format!("cost callback left value {i} unwritten or non-finite"),
            ));
        }
        if let Some(i) = grad.iter().position(|v| !v.is_finite()) {
            return Err(Error::new(
                ErrorKind::Callback,
                format!(
                    "cost callback left grad_y row {}, column {} unwritten or non-finite",
                    i / self.dy,
                    i % self.dy
                ),
            ));
        }
        Ok((values, grad))
    }
}

impl ExternalCost for CallbackCost {
    fn name(&self) -> &'static str {
        "callback"
    }

    fn dims(&self) -> (usize, usize) {
        (self.dx, self.dy)
    }

    fn paired(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (v, _) = self.call(x, y, false)?;
        Ok(Tensor::f_from_slice(&v)?.f_to_kind(x.kind())?.f_to_device(x.device())?)
    }

    fn grad_y(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (_, g) = self.call(x, y, true)?;
        Ok(Tensor::f_from_slice(&g)?
            .f_view([y.size()[0], self.dy as i64])?
            .f_to_kind(y.kind())?
            .f_to_device(y.device())?)
    }

    fn y_curvature(&self) -> f64 {
        self.curvature
    }

    fn store(&self, _f: &mut crate::runtime::model_file::ModelFile) -> Result<()> {
        Err(Error::invalid("a callback cost cannot be saved: its code lives in the host program"))
    }
}

fn torchscript_cost(path: *const c_char, dx: usize, dy: usize, curvature: f64) -> Result<Cost> {
    limits::count("dimension", dx, limits::MAX_DIMENSION)?;
    limits::count("dimension", dy, limits::MAX_DIMENSION)?;
    let path = super::c_path(path, "path")?;
    check_curvature(curvature)?;
    Cost::torchscript(&path, dx, dy, curvature)
}

fn callback_cost(f: scones_cost_fn, user: *mut c_void, dx: usize, dy: usize, curvature: f64) -> Result<Cost> {
    let f = f.ok_or_else(|| Error::invalid("cost callback is NULL"))?;
    limits::count("dimension", dx, limits::MAX_DIMENSION)?;
    limits::count("dimension", dy, limits::MAX_DIMENSION)?;
    let curvature = check_curvature(curvature)?;
    Ok(Cost::External(Arc::new(CallbackCost { f, user: user as usize, dx, dy, curvature })))
}

/// The cost c(x, y) = forward(x, y) of a TorchScript module saved with torch.jit.save:
/// `forward(x: Tensor[m, dx] float32, y: Tensor[m, dy] float32) -> Tensor[m]`, differentiable in
/// y (the Langevin sampler follows grad_y by autograd). `curvature` (> 0) bounds the norm of its
/// y-Hessian (2 for the squared Euclidean cost): the sampler's step-size schedule assumes it.
/// The module is loaded and called on zeros to check the contract (SCONES_STATUS_FORMAT if it
/// does not load); saved duals embed it, so they reload without the file.
/// scones_dual_problem reports SCONES_COST_TORCHSCRIPT.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_torchscript_cost(
    opts: *mut scones_dual_options,
    path: *const c_char,
    dx: usize,
    dy: usize,
    curvature: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.cost = torchscript_cost(path, dx, dy, curvature)?;
        Ok(())
    })
}

/// A cost evaluated by the host: `callback` (see scones_cost_fn) with `user_data`, sources of
/// dimension dx and targets of dimension dy, `curvature` (> 0) a bound on the norm of its
/// y-Hessian. The callback must stay valid while the options, or a dual or sampler made from
/// them, are in use. Such a dual cannot be saved (scones_dual_save fails with
/// SCONES_STATUS_INVALID_ARGUMENT); scones_dual_problem reports SCONES_COST_CALLBACK.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_callback_cost(
    opts: *mut scones_dual_options,
    callback: scones_cost_fn,
    user_data: *mut c_void,
    dx: usize,
    dy: usize,
    curvature: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.cost = callback_cost(callback, user_data, dx, dy, curvature)?;
        Ok(())
    })
}

/// A TorchScript cost as scones_dual_options_set_torchscript_cost; two marginals only. SPOT
/// differentiates through the module in both arguments. (A callback cost gives no x-gradient,
/// so SPOT has no callback setter.)
#[no_mangle]
pub extern "C" fn scones_spot_options_set_torchscript_cost(
    opts: *mut scones_spot_options,
    path: *const c_char,
    dx: usize,
    dy: usize,
    curvature: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.cost = torchscript_cost(path, dx, dy, curvature)?;
        Ok(())
    })
}
