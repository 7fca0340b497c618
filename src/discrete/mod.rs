//! Discrete optimal transport between finite weighted point sets: the references against which
//! the neural solver is checked, and solvers in their own right.
//!
//! A problem is two discrete measures a = sum_i a_i delta_{x_i}, b = sum_j b_j delta_{y_j}
//! (weights positive, summing to 1; uniform when `None`) and a ground cost C_ij = c(x_i, y_j),
//! given either by the points and a [`Cost`] (computed block by block, never
//! stored whole) or as a dense [m, n] matrix.
//!
//! | module | problem | result |
//! |---|---|---|
//! | [`sinkhorn`] | min <C, P> + lambda KL(P ‖ a b^T), log domain, epsilon scaling, row blocks | potentials f, g; plan optional |
//! | [`ipot`] | min <C, P> (exact OT) by IPOT, thesis ch. 2 Algorithm 1 | plan |
//! | [`fdual`] | max_{phi, psi} sum a phi + sum b psi - sum a b H*(phi + psi - C), any [`Divergence`](crate::ot::Divergence) | phi, psi, plan, dual and primal values |
//! | [`assignment`] | min over permutations, uniform n x n (Jonker-Volgenant / Hungarian) | permutation, cost, duals |
//!
//! ```no_run
//! use scones::discrete::{self, sinkhorn::{self, SinkhornConfig}};
//! use scones::ot::Cost;
//! # fn main() -> scones::runtime::error::Result<()> {
//! let x = tch::Tensor::rand([20_000, 2], (tch::Kind::Double, tch::Device::Cpu));
//! let y = tch::Tensor::rand([20_000, 2], (tch::Kind::Double, tch::Device::Cpu));
//! let scale = discrete::max_cost(Cost::SqEuclidean, &x, &y)?;
//! let cfg = SinkhornConfig::new(1e-3 * scale);
//! let r = sinkhorn::sinkhorn_points(Cost::SqEuclidean, &x, &y, None, None, &cfg, &mut scones::runtime::progress::ignore)?;
//! println!("<C, P> = {} after {} iterations, marginal error {:e}", r.transport_cost, r.iterations, r.marginal_error);
//! # Ok(()) }
//! ```
//!
//! Conventions shared by the solvers:
//! - Computation happens in the kind and on the device of the points (or cost matrix); f64 on
//!   the CPU is the reference setting. `fdual` and `assignment` always work in f64 on the CPU.
//! - Marginal errors are l1: sum_i |sum_j P_ij - a_i| + sum_j |sum_i P_ij - b_j|.
//! - Potentials are returned in the gauge sum_i a_i phi_i = sum_j b_j psi_j (the dual objectives
//!   are invariant under phi + c, psi - c), so results of different solvers compare directly.
//! - Long solvers report through a [`progress::Observer`](crate::runtime::progress::Observer) once per
//!   iteration, with [`Phase::Discrete`](crate::runtime::progress::Phase), `objective` = the current
//!   objective and `marginal_error` = the current marginal violation. Returning `false` cancels
//!   with [`ErrorKind::Cancelled`](crate::runtime::error::ErrorKind).

pub mod assignment;
pub mod fdual;
pub mod ipot;
pub mod sinkhorn;

use crate::ot::Cost;
use crate::runtime::error::{Error, Result};
use tch::{Device, Kind, Tensor};

/// Weights of a discrete measure with `n` atoms, in `kind` on `device`: uniform when `None`;
/// otherwise checked (1-D of length n, finite, every entry > 0, sum within 1e-6 of 1) and then
/// divided by their sum, so that marginal errors measure the solver and not the input's rounding.
/// Zero weights are refused rather than dropped: in the log domain they are log 0 = -inf, and an
/// atom without mass is better removed by the caller.
pub fn weights(w: Option<&Tensor>, n: i64, kind: Kind, device: Device, what: &str) -> Result<Tensor> {
    let Some(w) = w else {
        return Ok(Tensor::f_full([n], 1.0 / n as f64, (kind, device))?);
    };
    if w.dim() != 1 || w.size()[0] != n {
        return Err(Error::shape(format!("{what} weights must have shape [{n}], got {:?}", w.size())));
    }
    let v = crate::reference::linalg::to_vec(w)?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::non_finite(format!("{what} weights hold NaN or infinity")));
    }
    if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| **x <= 0.0) {
        return Err(Error::invalid(format!("{what} weights must be > 0, entry {i} is {x}")));
    }
    let s: f64 = v.iter().sum();
    if (s - 1.0).abs() > 1e-6 {
        return Err(Error::invalid(format!("{what} weights must sum to 1, they sum to {s}")));
    }
    Ok(w.f_to_device(device)?.f_to_kind(Kind::Double)?.f_div_scalar(s)?.f_to_kind(kind)?)
}

/// Points [n, d] of a floating kind, finite, at least one row.
pub fn check_points(x: &Tensor, what: &str) -> Result<()> {
    if x.dim() != 2 || x.size()[0] < 1 || x.size()[1] < 1 {
        return Err(Error::shape(format!("{what} points must be [n, d] with n, d >= 1, got {:?}", x.size())));
    }
    if !matches!(x.kind(), Kind::Float | Kind::Double) {
        return Err(Error::invalid(format!("{what} points must be float32 or float64, got {:?}", x.kind())));
    }
    if !bool::try_from(x.f_isfinite()?.f_all()?)? {
        return Err(Error::non_finite(format!("{what} points hold NaN or infinity")));
    }
    Ok(())
}

/// Source and target points that a cost can compare (same kind, device and dimension).
pub fn check_pair(cost: &Cost, x: &Tensor, y: &Tensor) -> Result<()> {
    check_points(x, "source")?;
    check_points(y, "target")?;
    cost.check_dims(x.size()[1] as usize, y.size()[1] as usize)?;
    if x.kind() != y.kind() || x.device() != y.device() {
        return Err(Error::invalid(format!(
            "source and target points must share kind and device, got {:?} on {:?} and {:?} on {:?}",
            x.kind(),
            x.device(),
            y.kind(),
            y.device()
        )));
    }
    Ok(())
}

/// A dense cost matrix [m, n] of a floating kind, finite.
pub fn check_cost_matrix(c: &Tensor) -> Result<()> {
    if c.dim() != 2 || c.size()[0] < 1 || c.size()[1] < 1 {
        return Err(Error::shape(format!("cost matrix must be [m, n] with m, n >= 1, got {:?}", c.size())));
    }
    if !matches!(c.kind(), Kind::Float | Kind::Double) {
        return Err(Error::invalid(format!("cost matrix must be float32 or float64, got {:?}", c.kind())));
    }
    if !bool::try_from(c.f_isfinite()?.f_all()?)? {
        return Err(Error::non_finite("cost matrix holds NaN or infinity"));
    }
    Ok(())
}

/// Rows per block such that a block of `cols` columns holds about `bytes` bytes (at least 1).
pub(crate) fn rows_for(bytes: usize, cols: i64, kind: Kind) -> i64 {
    let elem = if kind == Kind::Double { 8 } else { 4 };
    ((bytes / (elem * cols.max(1) as usize)) as i64).max(1)
}

/// max_ij c(x_i, y_j), computed in row blocks (the usual scale for lambda: "lambda = 1e-3 relative
/// to the cost" means 1e-3 times this).
pub fn max_cost(cost: Cost, x: &Tensor, y: &Tensor) -> Result<f64> {
    check_pair(&cost, x, y)?;
    let (m, n) = (x.size()[0], y.size()[0]);
    let rows = rows_for(1 << 24, n, x.kind());
    let mut hi = f64::NEG_INFINITY;
    let mut i0 = 0;
    while i0 < m {
        let len = rows.min(m - i0);
        let c = cost.pairwise(&x.f_narrow(0, i0, len)?, y)?;
        hi = hi.max(c.f_max()?.f_double_value(&[])?);
        i0 += len;
    }
    Ok(hi)
}

/// phi + c, psi - c with c chosen so that sum a phi = sum b psi.
pub(crate) fn balance_gauge(phi: &Tensor, psi: &Tensor, a: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor)> {
    let sa = phi.f_dot(a)?.f_double_value(&[])?;
    let sb = psi.f_dot(b)?.f_double_value(&[])?;
    let c = 0.5 * (sb - sa);
    Ok((phi.f_add_scalar(c)?, psi.f_sub_scalar(c)?))
}

#[cfg(test)]
pub(crate) mod testutil {
    use crate::runtime::rng::Rng64;
    use tch::{Kind, Tensor};

    /// n points uniform in the unit square [0, 1]^d, f64, from a fixed seed.
    pub fn uniform_points(n: usize, d: usize, seed: u64) -> Tensor {
        let mut r = Rng64::new(seed);
        let v: Vec<f64> = (0..n * d).map(|_| r.uniform()).collect();
        Tensor::from_slice(&v).view([n as i64, d as i64]).to_kind(Kind::Double)
    }

    /// Positive weights summing to 1, spread over [0.5, 1.5] before normalization.
    pub fn random_weights(n: usize, seed: u64) -> Tensor {
        let mut r = Rng64::new(seed);
        let v: Vec<f64> = (0..n).map(|_| 0.5 + r.uniform()).collect();
        let s: f64 = v.iter().sum();
        Tensor::from_slice(&v.iter().map(|x| x / s).collect::<Vec<_>>())
    }

    pub fn vals(t: &Tensor) -> Vec<f64> {
        crate::reference::linalg::to_vec(t).unwrap()
    }

    pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
        a.to_kind(Kind::Double).f_sub(&b.to_kind(Kind::Double)).unwrap().abs().max().double_value(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_checked_and_normalized() {
        let f64c = (Kind::Double, Device::Cpu);
        let u = weights(None, 4, Kind::Double, Device::Cpu, "source").unwrap();
        assert_eq!(crate::reference::linalg::to_vec(&u).unwrap(), vec![0.25; 4]);
        let w = Tensor::from_slice(&[0.5, 0.25, 0.25 + 1e-9]);
        let s = weights(Some(&w), 3, Kind::Double, Device::Cpu, "source").unwrap().sum(Kind::Double).double_value(&[]);
        assert!((s - 1.0).abs() < 1e-15);
        let bad = [
            (Tensor::from_slice(&[0.5, 0.5, 0.0]), crate::runtime::error::ErrorKind::InvalidArgument),
            (Tensor::from_slice(&[0.5, 0.6, 0.1]), crate::runtime::error::ErrorKind::InvalidArgument),
            (Tensor::from_slice(&[0.5, f64::NAN, 0.5]), crate::runtime::error::ErrorKind::NonFinite),
            (Tensor::ones([4], f64c), crate::runtime::error::ErrorKind::ShapeMismatch),
        ];
        for (w, kind) in bad {
            assert_eq!(weights(Some(&w), 3, Kind::Double, Device::Cpu, "source").unwrap_err().kind, kind);
        }
    }

    #[test]
    fn max_cost_matches_dense() {
        let x = testutil::uniform_points(37, 3, 1);
        let y = testutil::uniform_points(23, 3, 2);
        let dense = Cost::SqEuclidean.pairwise(&x, &y).unwrap().max().double_value(&[]);
        assert_eq!(max_cost(Cost::SqEuclidean, &x, &y).unwrap(), dense);
    }
}
