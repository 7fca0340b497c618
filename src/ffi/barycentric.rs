//! Barycentric-projection maps (the baseline SCONES is compared with).

use std::ffi::c_char;

use super::guard::HandleLock;

use super::common::options_or_default;
use super::dual::scones_dual;
use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{check_out, read_tensor, scones_matrix, scones_matrix_mut, write_tensor};
use super::measure::scones_measure;
use super::train_options::scones_train_options;
use super::{c_path, handle, out_ptr, put, put_dims};
use crate::neural::barycentric::{self, BarycentricConfig, BarycentricMap};

/// A trained barycentric map T: R^dx -> R^dy.
pub struct scones_barycentric {
    pub(crate) inner: HandleLock<BarycentricMap>,
}

/// Trains T(x) = E_pi[y | x] for the coupling of `dual`, from the source and target measures.
/// `options` may be NULL for the defaults (hidden layers {256, 256}).
#[no_mangle]
pub extern "C" fn scones_barycentric_train(
    dual: *const scones_dual,
    source: *const scones_measure,
    target: *const scones_measure,
    options: *const scones_train_options,
    out: *mut *mut scones_barycentric,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let d = handle(dual, "dual")?;
        let (s, t) = (handle(source, "source measure")?, handle(target, "target measure")?);
        let o = options_or_default(options);
        let defaults = BarycentricConfig::default();
        let mut cfg = BarycentricConfig { optim: o.optim_for(defaults.optim.learning_rate), ..defaults };
        if let Some(h) = &o.hidden {
            cfg.hidden = h.clone();
        }
        let (mut sm, mut tm) = (s.instantiate(cfg.optim.device)?, t.instantiate(cfg.optim.device)?);
        let (map, _) =
            barycentric::train(&cfg, &*d.inner.lock("dual")?, sm.as_mut(), tm.as_mut(), &mut o.caller.start())?;
        put(out, Box::into_raw(Box::new(scones_barycentric { inner: HandleLock::new(map) })));
        Ok(())
    })
}

/// T(x) for the rows of x (n x dx) into out (n x dy).
#[no_mangle]
pub extern "C" fn scones_barycentric_map(
    map: *const scones_barycentric,
    x: *const scones_matrix,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let m = handle(map, "barycentric map")?;
        let xs = read_tensor(x, "x")?;
        let g = m.inner.lock("barycentric map")?;
        check_out(out, "out", xs.size()[0] as usize, g.dy)?;
        write_tensor(out, &g.map(&xs)?)
    })
}

/// Source and target dimensions of the map.
#[no_mangle]
pub extern "C" fn scones_barycentric_dims(
    map: *const scones_barycentric,
    dx: *mut usize,
    dy: *mut usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let g = handle(map, "barycentric map")?.inner.lock("barycentric map")?;
        put_dims(dx, dy, (g.dx, g.dy))
    })
}

/// Saves the map (safetensors with metadata, written atomically).
#[no_mangle]
pub extern "C" fn scones_barycentric_save(
    map: *const scones_barycentric,
    path: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || handle(map, "barycentric map")?.inner.lock("barycentric map")?.save(&c_path(path, "path")?))
}

/// Loads a map saved by scones_barycentric_save.
#[no_mangle]
pub extern "C" fn scones_barycentric_load(
    path: *const c_char,
    out: *mut *mut scones_barycentric,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let m = BarycentricMap::load(&c_path(path, "path")?)?;
        put(out, Box::into_raw(Box::new(scones_barycentric { inner: HandleLock::new(m) })));
        Ok(())
    })
}

/// Releases a map. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_barycentric_free(map: *mut scones_barycentric) {
    free_box(map)
}
