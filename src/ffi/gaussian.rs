//! Closed forms and metrics: random test covariances, exact Gaussian samples, the entropic
//! Gaussian coupling, BW-UVP, covariances and sliced W2.

use super::enums::lookup;
use super::error::{boundary, scones_error, scones_status};
use super::matrix::{check_out, read_f64, read_vector, scones_matrix, scones_matrix_mut, write_f64};
use super::{out_ptr, put};
use crate::reference::gaussian::{self, Spectrum};
use crate::reference::metrics;
use crate::reference::toy::{self, Toy};
use crate::runtime::error::{Error, Result};

/// Eigenvalue spectrum of random test covariances; one of the SCONES_SPECTRUM_* values.
pub type scones_spectrum = i32;
/// geomspace(1/2, 2, d): the authors' code, which produced the paper's Table 2.
pub const SCONES_SPECTRUM_GEOMETRIC: scones_spectrum = 0;
/// i.i.d. uniform in [1, 10]: the paper's text.
pub const SCONES_SPECTRUM_UNIFORM_1_10: scones_spectrum = 1;

fn square(m: *const scones_matrix, what: &str) -> Result<(Vec<f64>, usize)> {
    let (v, r, c) = read_f64(m, what)?;
    if r != c {
        return Err(Error::shape(format!("{what} must be square, got {r} x {c}")));
    }
    Ok((v, r))
}

/// Checks `out` before any work is done, then writes what `make` computes into it.
fn fill(
    out: *const scones_matrix_mut,
    rows: usize,
    cols: usize,
    make: impl FnOnce() -> Result<Vec<f64>>,
) -> Result<()> {
    check_out(out, "out", rows, cols)?;
    write_f64(out, &make()?);
    Ok(())
}

fn nonempty(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::invalid("n must be > 0"));
    }
    Ok(())
}

/// U diag(w) U^T with Haar-random U and eigenvalues from `spectrum`, into out (d x d).
#[no_mangle]
pub extern "C" fn scones_gaussian_random_covariance(
    d: usize,
    spectrum: scones_spectrum,
    seed: u64,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let spectra =
            [(SCONES_SPECTRUM_GEOMETRIC, Spectrum::Geometric), (SCONES_SPECTRUM_UNIFORM_1_10, Spectrum::Uniform1To10)];
        let sp = lookup(spectrum, &spectra, "spectrum")?;
        if d == 0 || d > 4096 {
            return Err(Error::invalid(format!("dimension must lie in 1..=4096, got {d}")));
        }
        fill(out, d, d, || gaussian::random_covariance(d, sp, seed))
    })
}

/// n exact samples of N(mean, cov) into out (n x d).
#[no_mangle]
pub extern "C" fn scones_gaussian_sample(
    mean: *const scones_matrix,
    cov: *const scones_matrix,
    n: usize,
    seed: u64,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let mu = read_vector(mean, "mean")?;
        let (c, d) = square(cov, "cov")?;
        if d != mu.len() {
            return Err(Error::shape(format!("cov is {d} x {d} but the mean has {} entries", mu.len())));
        }
        nonempty(n)?;
        fill(out, n, d, || gaussian::sample(&mu, &c, n, seed))
    })
}

/// Joint covariance (2d x 2d) of the closed-form KL-regularized coupling between N(0, cov_source)
/// and N(0, cov_target) for the squared Euclidean cost at regularization lambda.
#[no_mangle]
pub extern "C" fn scones_gaussian_entropic_coupling(
    cov_source: *const scones_matrix,
    cov_target: *const scones_matrix,
    lambda: f64,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let (a, d) = square(cov_source, "cov_source")?;
        let (b, d2) = square(cov_target, "cov_target")?;
        if d != d2 {
            return Err(Error::shape(format!("covariances are {d} x {d} and {d2} x {d2}")));
        }
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::invalid(format!("lambda must be a finite number > 0, got {lambda}")));
        }
        fill(out, 2 * d, 2 * d, || gaussian::entropic_coupling_covariance(&a, &b, d, lambda))
    })
}

/// BW-UVP (0-100 scale) of an estimated covariance against a reference covariance.
#[no_mangle]
pub extern "C" fn scones_bw_uvp(
    cov_estimate: *const scones_matrix,
    cov_reference: *const scones_matrix,
    out: *mut f64,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let (e, k) = square(cov_estimate, "cov_estimate")?;
        let (r, k2) = square(cov_reference, "cov_reference")?;
        if k != k2 {
            return Err(Error::shape(format!("covariances are {k} x {k} and {k2} x {k2}")));
        }
        put(out, metrics::bw_uvp(&e, &r, k)?);
        Ok(())
    })
}

/// Unbiased covariance ((dx + dy) square) of the joint rows (x_i, y_i); x is n x dx, y n x dy.
#[no_mangle]
pub extern "C" fn scones_joint_covariance(
    x: *const scones_matrix,
    y: *const scones_matrix,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let (xv, n, dx) = read_f64(x, "x")?;
        let (yv, m, dy) = read_f64(y, "y")?;
        if n != m {
            return Err(Error::shape(format!("x has {n} rows but y has {m}")));
        }
        if n < 2 {
            return Err(Error::invalid("need at least 2 rows"));
        }
        fill(out, dx + dy, dx + dy, || metrics::joint_covariance(&xv, dx, &yv, dy))
    })
}

/// Sliced 2-Wasserstein distance between the rows of a and b (same number of columns).
#[no_mangle]
pub extern "C" fn scones_sliced_w2(
    a: *const scones_matrix,
    b: *const scones_matrix,
    projections: usize,
    seed: u64,
    out: *mut f64,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let (av, _, d) = read_f64(a, "a")?;
        let (bv, _, d2) = read_f64(b, "b")?;
        if d != d2 {
            return Err(Error::shape(format!("a has {d} columns but b has {d2}")));
        }
        put(out, metrics::sliced_w2(&av, &bv, d, projections, seed)?);
        Ok(())
    })
}

/// A 2-D toy distribution; one of the SCONES_TOY_* values.
pub type scones_toy = i32;
/// N(0, I_2).
pub const SCONES_TOY_GAUSSIAN: scones_toy = 0;
/// Swiss roll: t = 1.5 pi (1 + 2u), (t cos t, t sin t) / 5 + N(0, 0.1^2 I).
pub const SCONES_TOY_SWISS_ROLL: scones_toy = 1;
/// Two interleaving half circles with N(0, 0.1^2 I) noise.
pub const SCONES_TOY_MOONS: scones_toy = 2;
/// The circle of radius 2 with small radial noise.
pub const SCONES_TOY_CIRCLE: scones_toy = 3;
/// 8 Gaussians (std 0.1) on the circle of radius 2.
pub const SCONES_TOY_8GAUSSIANS: scones_toy = 4;

/// n points of a 2-D toy distribution into out (n x 2).
#[no_mangle]
pub extern "C" fn scones_toy_sample(
    toy: scones_toy,
    n: usize,
    seed: u64,
    out: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let toys = [
            (SCONES_TOY_GAUSSIAN, Toy::Gaussian),
            (SCONES_TOY_SWISS_ROLL, Toy::SwissRoll),
            (SCONES_TOY_MOONS, Toy::Moons),
            (SCONES_TOY_CIRCLE, Toy::Circle),
            (SCONES_TOY_8GAUSSIANS, Toy::EightGaussians),
        ];
        let t = lookup(toy, &toys, "toy distribution")?;
        nonempty(n)?;
        fill(out, n, 2, || toy::sample(t, n, seed))
    })
}
