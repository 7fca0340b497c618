//! Dual potentials handles: train (Algorithm 1), save, load, evaluate.

use std::ffi::c_char;

use parking_lot::Mutex;
use tch::Device;

use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{check_out, read_tensor, scones_matrix, scones_matrix_mut, write_tensor};
use super::measure::scones_measure;
use super::options::{cost_to, regularizer_to, scones_cost, scones_dual_options, scones_regularizer};
use super::{c_path, c_str, handle, out_ptr, put};
use crate::neural::dual::{self, DualPotentials, TrainReport};
use crate::ot::measure::Empirical;
use crate::runtime::error::{Error, Result};

/// Trained dual potentials (phi, psi) with their regularizer, cost and dimensions.
pub struct scones_dual {
    pub(crate) inner: Mutex<DualPotentials>,
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
        let default = scones_dual_options::default();
        // SAFETY: NULL or options created by scones_dual_options_new.
        let opts = unsafe { options.as_ref() }.unwrap_or(&default);
        let x = read_tensor(source, "source")?;
        let y = read_tensor(target, "target")?;
        crate::runtime::device::set_threads(opts.threads);
        let mut src = Empirical::new(&x, opts.cfg.optim.device)?;
        let mut tgt = Empirical::new(&y, opts.cfg.optim.device)?;
        let hook = opts.progress;
        let (potentials, report) = dual::train(&opts.cfg, &mut src, &mut tgt, &mut |p| hook.observe(p))?;
        put(out, Box::into_raw(Box::new(scones_dual { inner: Mutex::new(potentials), report: Some(report) })));
        Ok(())
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
        let default = scones_dual_options::default();
        // SAFETY: NULL or options created by scones_dual_options_new.
        let opts = unsafe { options.as_ref() }.unwrap_or(&default);
        opts.cfg.cost.check_dims(s.dim(), t.dim())?;
        crate::runtime::device::set_threads(opts.threads);
        let device = opts.cfg.optim.device;
        let (mut sm, mut tm) = (s.instantiate(device)?, t.instantiate(device)?);
        let hook = opts.progress;
        let (potentials, report) = dual::train(&opts.cfg, sm.as_mut(), tm.as_mut(), &mut |p| hook.observe(p))?;
        put(out, Box::into_raw(Box::new(scones_dual { inner: Mutex::new(potentials), report: Some(report) })));
        Ok(())
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
    boundary(err, || {
        let d = handle(dual, "dual")?;
        let path = c_path(path, "path")?;
        d.inner.lock().save(&path)
    })
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
        let device = if device.is_null() {
            Device::Cpu
        } else {
            crate::runtime::device::parse_device(c_str(device, "device")?)?
        };
        let d = DualPotentials::load(&path, device)?;
        put(out, Box::into_raw(Box::new(scones_dual { inner: Mutex::new(d), report: None })));
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
        let d = handle(dual, "dual")?;
        out_ptr(dx, "dx")?;
        out_ptr(dy, "dy")?;
        let g = d.inner.lock();
        put(dx, g.dx);
        put(dy, g.dy);
        Ok(())
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
        let g = d.inner.lock();
        put(regularizer, regularizer_to(g.regularizer.divergence));
        put(lambda, g.regularizer.lambda);
        put(cost, cost_to(g.cost));
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
        // SAFETY: checked non-NULL; the caller set struct_size to the size it allocated.
        let size = unsafe { (*out).struct_size };
        let full = scones_train_report {
            struct_size: std::mem::size_of::<scones_train_report>(),
            iterations: r.iterations as u64,
            objective: r.objective,
            mean_compatibility: r.mean_compatibility,
            extension_fraction: r.extension_fraction,
            seconds: r.seconds,
            iterations_per_second: r.iterations_per_second,
        };
        copy_prefix(&full, out, size)
    })
}

/// Copies the first `size` bytes of a report struct (versioned by its leading struct_size).
pub(crate) fn copy_prefix<T>(full: &T, out: *mut T, size: usize) -> Result<()> {
    if size < std::mem::size_of::<usize>() {
        return Err(Error::invalid("struct_size is not set (must be sizeof the struct)"));
    }
    let n = size.min(std::mem::size_of::<T>());
    // SAFETY: out has at least `size` writable bytes (caller contract); we copy min(size, ours).
    unsafe { std::ptr::copy_nonoverlapping(full as *const T as *const u8, out as *mut u8, n) };
    Ok(())
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
        let g = d.inner.lock();
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
        let xs = read_tensor(x, "x")?;
        let ys = read_tensor(y, "y")?;
        check_out(out, "out", xs.size()[0] as usize, ys.size()[0] as usize)?;
        let m = d.inner.lock().compatibility(&xs, &ys)?;
        write_tensor(out, &m)
    })
}
