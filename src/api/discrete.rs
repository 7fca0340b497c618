//! The discrete OT solvers on arrays: Sinkhorn, IPOT, the exact f-divergence dual and the
//! optimal assignment, between the rows of two point sets (or on a cost matrix). Work is done in
//! float64 on the CPU; see [`crate::discrete`] for the methods and the tensor-level API.
//!
//! ```
//! use ndarray::{array, Axis};
//! use scones::api::discrete::{self, DiscreteOptions};
//! # fn main() -> scones::Result<()> {
//! let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
//! let y = array![[0.1, 0.0], [1.0, 0.2], [0.0, 0.9], [0.5, 0.5]];
//! let s = discrete::sinkhorn(&x, &y, 0.05, &DiscreteOptions::new())?;
//! let plan = s.plan.unwrap(); // 3 x 4
//! // Its marginals are the uniform weights 1/3 and 1/4.
//! assert!(plan.sum_axis(Axis(1)).iter().all(|r| (r - 1.0 / 3.0).abs() < 1e-5));
//! assert!(plan.sum_axis(Axis(0)).iter().all(|c| (c - 0.25).abs() < 1e-5));
//! # Ok(()) }
//! ```

use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, AsArray, Ix1, Ix2};
use tch::Tensor;

use super::{read_f64, tensor_f64, to_array1, to_array2, Float, ProgressFn};
use crate::discrete::{assignment as assign, fdual as fd, ipot as ip, sinkhorn as sk};
use crate::ot::{Cost, Divergence, Regularizer};
use crate::runtime::error::{Error, Result};
use crate::runtime::progress::Progress;

pub use crate::discrete::assignment::Assignment;

/// Options shared by the discrete solvers, as a builder. Defaults: squared Euclidean cost,
/// uniform weights, each solver's own tolerance (Sinkhorn 1e-6, IPOT and the f-divergence dual
/// 1e-9 on the l1 marginal violation) and iteration cap, IPOT beta = 0.05 max C with one inner
/// sweep, plans returned.
#[derive(Clone)]
pub struct DiscreteOptions {
    cost: Cost,
    weights: Option<(Vec<f64>, Vec<f64>)>,
    tol: Option<f64>,
    max_iterations: Option<u64>,
    ipot: Option<(f64, usize)>,
    plan: bool,
    progress: Option<(ProgressFn, u64)>,
}

impl Default for DiscreteOptions {
    fn default() -> Self {
        DiscreteOptions {
            cost: Cost::SqEuclidean,
            weights: None,
            tol: None,
            max_iterations: None,
            ipot: None,
            plan: true,
            progress: None,
        }
    }
}

impl DiscreteOptions {
    pub fn new() -> DiscreteOptions {
        DiscreteOptions::default()
    }

    pub fn cost(mut self, cost: Cost) -> Self {
        self.cost = cost;
        self
    }

    /// Weights of the source and target points (each > 0, summing to 1); uniform by default.
    pub fn weights<'a, 'b, S: Float, T: Float>(
        mut self,
        source: impl AsArray<'a, S, Ix1>,
        target: impl AsArray<'b, T, Ix1>,
    ) -> Self {
        let (a, b): (ArrayView1<'_, S>, ArrayView1<'_, T>) = (source.into(), target.into());
        self.weights = Some((a.iter().map(|w| w.to_f64()).collect(), b.iter().map(|w| w.to_f64()).collect()));
        self
    }

    /// Stopping tolerance on the l1 marginal violation (> 0).
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tol = Some(tol);
        self
    }

    /// Iteration cap: Sinkhorn iterations, IPOT proximal steps, or f-divergence Newton steps.
    pub fn max_iterations(mut self, max_iterations: u64) -> Self {
        self.max_iterations = Some(max_iterations);
        self
    }

    /// IPOT: proximal step as a fraction of max C (> 0) and Sinkhorn sweeps per step (>= 1).
    pub fn ipot(mut self, beta_relative: f64, inner_iterations: usize) -> Self {
        self.ipot = Some((beta_relative, inner_iterations));
        self
    }

    /// Whether Sinkhorn and the f-divergence dual return the m x n plan (IPOT always does).
    /// Without it Sinkhorn never holds the cost matrix, so large m, n fit in memory.
    pub fn plan(mut self, plan: bool) -> Self {
        self.plan = plan;
        self
    }

    /// Calls `f` every `every` iterations with the current objective and marginal error;
    /// `false` cancels.
    pub fn progress(mut self, every: usize, f: impl Fn(&Progress) -> bool + Send + Sync + 'static) -> Self {
        self.progress = Some((Arc::new(f), every as u64));
        self
    }

    fn observer(&self) -> impl FnMut(&Progress) -> bool + '_ {
        move |p| match &self.progress {
            Some((f, every)) if *every > 0 && p.iteration % every == 0 => f(p),
            _ => true,
        }
    }

    fn check(&self) -> Result<()> {
        if self.tol.is_some_and(|t| !(t.is_finite() && t > 0.0)) {
            return Err(Error::invalid(format!("tolerance must be a finite number > 0, got {:?}", self.tol)));
        }
        if self.max_iterations == Some(0) {
            return Err(Error::invalid("max_iterations must be >= 1"));
        }
        if self.progress.as_ref().is_some_and(|p| p.1 == 0) {
            return Err(Error::invalid("progress interval must be > 0"));
        }
        Ok(())
    }

    /// The problem's points as f64 tensors and its weights (None: uniform).
    fn problem<S: Float, T: Float>(
        &self,
        x: ArrayView2<'_, S>,
        y: ArrayView2<'_, T>,
    ) -> Result<(Tensor, Tensor, Option<Tensor>, Option<Tensor>)> {
        self.check()?;
        let (xs, ys) = (tensor_f64(&x, "source")?, tensor_f64(&y, "target")?);
        let Some((a, b)) = &self.weights else { return Ok((xs, ys, None, None)) };
        for (w, n, what) in [(a, x.nrows(), "source"), (b, y.nrows(), "target")] {
            if w.len() != n {
                return Err(Error::shape(format!("{what} weights: expected {n} (one per point), got {}", w.len())));
            }
        }
        Ok((xs, ys, Some(Tensor::f_from_slice(a)?), Some(Tensor::f_from_slice(b)?)))
    }
}

/// A discrete solution: potentials (Sinkhorn: f, g; f-divergence dual: phi, psi; IPOT: none)
/// in the gauge sum a phi = sum b psi, the plan when asked for, and the solver's report.
#[derive(Clone, Debug)]
pub struct Solution {
    pub potentials: Option<(Array1<f64>, Array1<f64>)>,
    pub plan: Option<Array2<f64>>,
    /// <C, P> of the returned plan.
    pub transport_cost: f64,
    /// Sinkhorn and the f-divergence dual: the dual value; IPOT: <C, P>.
    pub objective: f64,
    /// l1 violation of the marginal constraints by the plan.
    pub marginal_error: f64,
    pub iterations: u64,
    /// Whether the tolerance was reached (otherwise the iteration cap stopped the solver).
    pub converged: bool,
}

/// Entropic OT between the rows of `x` (m x d) and `y` (n x d) by log-domain Sinkhorn with
/// epsilon scaling: min <C, P> + lambda KL(P || a b^T), lambda in cost units. The plan is
/// P_ij = a_i b_j exp((f_i + g_j - C_ij) / lambda).
pub fn sinkhorn<'a, 'b, S: Float, T: Float>(
    x: impl AsArray<'a, S, Ix2>,
    y: impl AsArray<'b, T, Ix2>,
    lambda: f64,
    options: &DiscreteOptions,
) -> Result<Solution> {
    let (x, y, a, b) = options.problem(x.into(), y.into())?;
    let mut cfg = sk::SinkhornConfig::new(lambda);
    cfg.tol = options.tol.unwrap_or(cfg.tol);
    cfg.max_iter = options.max_iterations.unwrap_or(cfg.max_iter);
    cfg.return_plan = options.plan;
    let r = sk::sinkhorn_points(options.cost.clone(), &x, &y, a.as_ref(), b.as_ref(), &cfg, &mut options.observer())?;
    Ok(Solution {
        potentials: Some((to_array1(&r.f)?, to_array1(&r.g)?)),
        plan: r.plan.as_ref().map(to_array2).transpose()?,
        transport_cost: r.transport_cost,
        objective: r.dual_value,
        marginal_error: r.marginal_error,
        iterations: r.iterations,
        converged: r.converged,
    })
}

/// Unregularized OT between the rows of `x` and `y` by IPOT (inexact proximal point, log
/// domain); the plan converges to an optimal plan.
pub fn ipot<'a, 'b, S: Float, T: Float>(
    x: impl AsArray<'a, S, Ix2>,
    y: impl AsArray<'b, T, Ix2>,
    options: &DiscreteOptions,
) -> Result<Solution> {
    let (x, y, a, b) = options.problem(x.into(), y.into())?;
    let mut cfg = ip::IpotConfig::default();
    cfg.tol = options.tol.unwrap_or(cfg.tol);
    cfg.max_iter = options.max_iterations.unwrap_or(cfg.max_iter);
    if let Some((beta_relative, inner)) = options.ipot {
        (cfg.beta_relative, cfg.inner_iterations) = (beta_relative, inner);
    }
    let r = ip::ipot_points(options.cost.clone(), &x, &y, a.as_ref(), b.as_ref(), &cfg, &mut options.observer())?;
    Ok(Solution {
        potentials: None,
        plan: Some(to_array2(&r.plan)?),
        transport_cost: r.transport_cost,
        objective: r.transport_cost,
        marginal_error: r.marginal_error,
        iterations: r.iterations,
        converged: r.converged,
    })
}

/// The f-divergence-regularized discrete dual solved exactly (Newton), with the same
/// conjugates as the neural dual: max sum a phi + sum b psi - sum a_i b_j H*(phi_i + psi_j -
/// C_ij). The plan is P_ij = a_i b_j M(V_ij). Dense: meant for up to a few thousand points.
pub fn fdual<'a, 'b, S: Float, T: Float>(
    x: impl AsArray<'a, S, Ix2>,
    y: impl AsArray<'b, T, Ix2>,
    divergence: Divergence,
    lambda: f64,
    options: &DiscreteOptions,
) -> Result<Solution> {
    let reg = Regularizer::new(divergence, lambda)?;
    let (x, y, a, b) = options.problem(x.into(), y.into())?;
    let mut cfg = fd::FDualConfig::default();
    cfg.tol = options.tol.unwrap_or(cfg.tol);
    if let Some(k) = options.max_iterations {
        cfg.max_newton = k as usize;
    }
    let r =
        fd::solve_points(&reg, options.cost.clone(), &x, &y, a.as_ref(), b.as_ref(), &cfg, &mut options.observer())?;
    Ok(Solution {
        potentials: Some((to_array1(&r.phi)?, to_array1(&r.psi)?)),
        plan: if options.plan { Some(to_array2(&r.plan)?) } else { None },
        transport_cost: r.transport_cost,
        objective: r.dual_value,
        marginal_error: r.marginal_error,
        iterations: (r.sweeps + r.newton_steps) as u64,
        converged: r.converged,
    })
}

/// The exact optimal assignment for a square cost matrix (O(n^3)), with dual potentials that
/// certify it. Between uniform measures the transport cost is `total_cost / n`.
pub fn assignment<'a, T: Float>(cost: impl AsArray<'a, T, Ix2>) -> Result<Assignment> {
    let c = cost.into();
    if c.nrows() != c.ncols() {
        return Err(Error::shape(format!("cost: assignment needs a square matrix, got {:?}", c.dim())));
    }
    assign::solve(&read_f64(&c, "cost")?, c.nrows())
}
