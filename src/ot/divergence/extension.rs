//! The continuation of f* past the extension point t_b (see the module notes of
//! [`super`]), and the T_FLOOR clamp, for any row: the forms of H*, M and log M that
//! [`crate::ot::Regularizer`] exposes, with t = v / lambda.

use super::{Conjugate, T_FLOOR};
use crate::runtime::error::Result;
use tch::Tensor;

/// f*(t), f*'(t), f*''(t) with the continuation past t_b: defined and finite for every t.
pub fn scalar<C: Conjugate + ?Sized>(row: &C, t: f64) -> (f64, f64, f64) {
    let t = if row.uses_exp() { t.max(T_FLOOR) } else { t };
    match row.extension_point() {
        Some(tb) if t > tb => {
            let (f0, f1, f2) = row.f_star_scalar(tb);
            let e = t - tb;
            (f0 + f1 * e + 0.5 * f2 * e * e, f1 + f2 * e, f2)
        }
        _ => row.f_star_scalar(t),
    }
}

/// t = v / lambda clamped into [T_FLOOR, t_b], and the excess beyond t_b (None when no element
/// exceeds t_b, the common case, which then skips the continuation's arithmetic).
fn split<C: Conjugate + ?Sized>(row: &C, v: &Tensor, lambda: f64) -> Result<(Tensor, Option<(Tensor, f64)>)> {
    let t = v.f_div_scalar(lambda)?;
    let floor = if row.uses_exp() { Some(T_FLOOR) } else { None };
    match row.extension_point() {
        Some(tb) if t.f_max()?.f_double_value(&[])? > tb => {
            let tc = t.f_clamp(floor.unwrap_or(f64::NEG_INFINITY), tb)?;
            let excess = t.f_sub_scalar(tb)?.f_relu()?;
            Ok((tc, Some((excess, tb))))
        }
        _ => Ok((if let Some(lo) = floor { t.f_clamp_min(lo)? } else { t }, None)),
    }
}

/// H*(v) = lambda f*(v / lambda) and M(v) = f*'(v / lambda), continued past t_b.
pub fn conjugate_and_compatibility<C: Conjugate + ?Sized>(
    row: &C,
    v: &Tensor,
    lambda: f64,
) -> Result<(Tensor, Tensor)> {
    let (tc, ext) = split(row, v, lambda)?;
    let (mut f, mut m) = row.f_star_and_prime(&tc)?;
    if let Some((excess, tb)) = ext {
        let (_, m_b, k_b) = row.f_star_scalar(tb);
        f = f.f_add(&excess.f_mul_scalar(m_b)?)?.f_add(&excess.f_square()?.f_mul_scalar(0.5 * k_b)?)?;
        m = m.f_add(&excess.f_mul_scalar(k_b)?)?;
    }
    Ok((f.f_mul_scalar(lambda)?, m))
}

/// M(v) = f*'(v / lambda), continued past t_b.
pub fn compatibility<C: Conjugate + ?Sized>(row: &C, v: &Tensor, lambda: f64) -> Result<Tensor> {
    let (tc, ext) = split(row, v, lambda)?;
    let mut m = row.f_star_prime(&tc)?;
    if let Some((excess, tb)) = ext {
        let (_, _, k_b) = row.f_star_scalar(tb);
        m = m.f_add(&excess.f_mul_scalar(k_b)?)?;
    }
    Ok(m)
}

/// d/dv log M(v) of the continued compatibility.
pub fn dlog_compatibility<C: Conjugate + ?Sized>(row: &C, v: &Tensor, lambda: f64) -> Result<Tensor> {
    let (tc, ext) = split(row, v, lambda)?;
    let inside = row.dlog_f_star_prime(&tc)?;
    let d = match ext {
        None => inside,
        Some((excess, tb)) => {
            let (_, m_b, k_b) = row.f_star_scalar(tb);
            // beyond t_b: M_ext' / M_ext = k_b / (m_b + k_b e)
            let outside = excess.f_mul_scalar(k_b)?.f_add_scalar(m_b)?.f_reciprocal()?.f_mul_scalar(k_b)?;
            outside.f_where_self(&excess.f_gt(0.0)?, &inside)?
        }
    };
    Ok(d.f_div_scalar(lambda)?)
}
