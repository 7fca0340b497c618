//! Small dense symmetric-matrix helpers in float64 on the CPU (closed forms and metrics).

use tch::{Device, Kind, Tensor};

use crate::runtime::error::{Error, Result};

pub const F64: (Kind, Device) = (Kind::Double, Device::Cpu);

/// [n, n] row-major f64 slice -> tensor.
pub fn mat(data: &[f64], n: usize) -> Result<Tensor> {
    if data.len() != n * n {
        return Err(Error::shape(format!("expected {n}x{n} = {} values, got {}", n * n, data.len())));
    }
    Ok(Tensor::f_from_slice(data)?.f_view([n as i64, n as i64])?)
}

pub fn to_vec(t: &Tensor) -> Result<Vec<f64>> {
    let t = t.f_to_device(Device::Cpu)?.f_to_kind(Kind::Double)?.f_contiguous()?.f_flatten(0, -1)?;
    let mut v = vec![0f64; t.numel()];
    t.f_copy_data(&mut v, t.numel())?;
    Ok(v)
}

pub fn eye(n: usize) -> Result<Tensor> {
    Ok(Tensor::f_eye(n as i64, F64)?)
}

/// (A + A^T) / 2: removes rounding asymmetry before an eigendecomposition.
pub fn symmetrize(a: &Tensor) -> Result<Tensor> {
    Ok(a.f_add(&a.f_transpose(0, 1)?)?.f_mul_scalar(0.5)?)
}

/// Applies `f` to the eigenvalues of a symmetric matrix: U diag(f(w)) U^T.
pub fn sym_apply(a: &Tensor, f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let (w, u) = symmetrize(a)?.f_linalg_eigh("L")?;
    let fw = f(&w)?;
    Ok(u.f_mul(&fw.f_unsqueeze(0)?)?.f_matmul(&u.f_transpose(0, 1)?)?)
}

/// Principal square root of a symmetric positive semi-definite matrix (negative rounding
/// eigenvalues are clamped to 0).
pub fn sqrtm_psd(a: &Tensor) -> Result<Tensor> {
    sym_apply(a, |w| Ok(w.f_clamp_min(0.0)?.f_sqrt()?))
}

/// A^{-1/2} for symmetric positive definite A.
pub fn inv_sqrtm_pd(a: &Tensor) -> Result<Tensor> {
    check_pd(a, "matrix")?;
    sym_apply(a, |w| Ok(w.f_rsqrt()?))
}

pub fn eigenvalues(a: &Tensor) -> Result<Vec<f64>> {
    to_vec(&symmetrize(a)?.f_linalg_eigvalsh("L")?)
}

/// Symmetric, finite and positive definite (smallest eigenvalue > 1e-12 times the largest).
pub fn check_pd(a: &Tensor, what: &str) -> Result<()> {
    let v = to_vec(a)?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::non_finite(format!("{what} holds NaN or infinity")));
    }
    let asym = to_vec(&a.f_sub(&a.f_transpose(0, 1)?)?.f_abs()?)?.into_iter().fold(0.0, f64::max);
    let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if asym > 1e-6 * scale.max(1e-300) {
        return Err(Error::invalid(format!("{what} is not symmetric (max |A - A^T| = {asym:e})")));
    }
    let w = eigenvalues(a)?;
    let (lo, hi) = (w[0], w[w.len() - 1]);
    if !(lo > 1e-12 * hi.abs().max(1e-300)) {
        return Err(Error::invalid(format!("{what} is not positive definite (smallest eigenvalue {lo:e})")));
    }
    Ok(())
}
