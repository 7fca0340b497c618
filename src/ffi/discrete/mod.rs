//! Discrete OT references over the C ABI: Sinkhorn, IPOT, the exact f-divergence dual and the
//! optimal assignment. Inputs are strided views (f32 or f64, read into f64 on the CPU); every
//! output goes into a caller-provided buffer, validated before any work and written only on
//! success.

use std::ffi::c_void;

use tch::Tensor;

use super::common::{self, options_or_default, report_fields, write_report, Options};
use super::enums::{cost_from, regularizer_from, scones_cost, scones_regularizer};
use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{
    check_out, dims, read_f64, read_vector, scones_matrix, scones_matrix_mut, write_f64, write_tensor,
};
use super::progress::{scones_progress_fn, ProgressHook};
use super::{out_ptr, put};
use crate::discrete::{assignment, fdual, ipot, sinkhorn};
use crate::ot::Regularizer;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::progress::Progress;

/// Options shared by the discrete solvers. Defaults: each solver's own tolerance (Sinkhorn 1e-6,
/// IPOT and the f-divergence dual 1e-9 on the l1 marginal violation), iteration caps 100000
/// (Sinkhorn, IPOT) and 10 coordinate sweeps + 200 Newton steps (f-divergence dual), IPOT beta = 0.05 max
/// C with one inner Sinkhorn sweep per proximal step (the thesis' L = 1), no progress callback.
#[derive(Clone)]
pub struct scones_discrete_options {
    /// None: each solver's own default.
    tol: Option<f64>,
    max_iterations: Option<u64>,
    ipot: ipot::IpotConfig,
    progress: ProgressHook,
    every: usize,
}

impl Default for scones_discrete_options {
    fn default() -> Self {
        let progress = ProgressHook::default();
        scones_discrete_options { tol: None, max_iterations: None, ipot: Default::default(), progress, every: 1 }
    }
}

impl Options for scones_discrete_options {
    const NAME: &'static str = "discrete options";
    /// The solvers check these rules again at the call; their configs have no public validate
    /// to delegate to, so this is the C-facing copy.
    fn validate(&self) -> Result<()> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if let Some(tol) = self.tol.filter(|&t| !positive(t)) {
            return Err(Error::invalid(format!("tolerance must be a finite number > 0, got {tol}")));
        }
        if let Some(n) = self.max_iterations {
            limits::count_u64("max_iterations", n, limits::MAX_ITERATIONS)?;
        }
        limits::at_most("IPOT inner iterations", self.ipot.inner_iterations, limits::MAX_ITERATIONS)?;
        if !positive(self.ipot.beta_relative) || self.ipot.inner_iterations == 0 {
            return Err(Error::invalid(format!(
                "IPOT needs beta_relative > 0 and inner_iterations >= 1, got {} and {}",
                self.ipot.beta_relative, self.ipot.inner_iterations
            )));
        }
        if self.every == 0 {
            return Err(Error::invalid("progress interval must be > 0"));
        }
        Ok(())
    }
    fn progress(&mut self) -> (&mut ProgressHook, &mut usize) {
        (&mut self.progress, &mut self.every)
    }
}

impl scones_discrete_options {
    /// Forwards every `every`-th iteration's report to the host.
    fn observer(&self) -> impl FnMut(&Progress) -> bool + '_ {
        move |p| p.iteration % self.every as u64 != 0 || self.progress.observe(p)
    }
}

/// Summary of a discrete solve. Set struct_size to sizeof(scones_discrete_report) before the
/// call; fields beyond it are not written (so the struct can grow).
#[repr(C)]
pub struct scones_discrete_report {
    pub struct_size: usize,
    /// <C, P> of the returned plan.
    pub transport_cost: f64,
    /// Sinkhorn and the f-divergence dual: the dual value (the regularized optimum at
    /// convergence). IPOT: <C, P>.
    pub objective: f64,
    /// l1 violation of the marginal constraints by the returned plan.
    pub marginal_error: f64,
    /// Iterations (Sinkhorn over all epsilon-scaling stages; IPOT proximal steps; f-divergence
    /// dual coordinate sweeps plus Newton steps).
    pub iterations: u64,
    /// 1 when the tolerance was reached, 0 when the iteration cap stopped the solver.
    pub converged: i32,
}

report_fields!(scones_discrete_report {
    transport_cost: f64,
    objective: f64,
    marginal_error: f64,
    iterations: u64,
    converged: i32
});

/// Creates discrete-solver options with the defaults above; release with
/// scones_discrete_options_free.
#[no_mangle]
pub extern "C" fn scones_discrete_options_new(
    out: *mut *mut scones_discrete_options,
    err: *mut *mut scones_error,
) -> scones_status {
    common::create(out, err)
}

/// Releases discrete-solver options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_discrete_options_free(opts: *mut scones_discrete_options) {
    free_box(opts)
}

/// Stopping tolerance on the l1 marginal violation (> 0).
#[no_mangle]
pub extern "C" fn scones_discrete_options_set_tolerance(
    opts: *mut scones_discrete_options,
    tol: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.tol = Some(tol);
        Ok(())
    })
}

/// Iteration cap (>= 1): Sinkhorn iterations, IPOT proximal steps, or the f-divergence dual's
/// Newton steps.
#[no_mangle]
pub extern "C" fn scones_discrete_options_set_max_iterations(
    opts: *mut scones_discrete_options,
    max_iterations: u64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.max_iterations = Some(max_iterations);
        Ok(())
    })
}

/// IPOT: proximal step beta as a fraction of max C (> 0; default 0.05) and Sinkhorn sweeps per
/// proximal step (>= 1; default 1).
#[no_mangle]
pub extern "C" fn scones_discrete_options_set_ipot(
    opts: *mut scones_discrete_options,
    beta_relative: f64,
    inner_iterations: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        (o.ipot.beta_relative, o.ipot.inner_iterations) = (beta_relative, inner_iterations);
        Ok(())
    })
}

/// Progress callback, called every `every` iterations (> 0) with phase
/// SCONES_PHASE_DUAL_TRAINING and `objective` = the solver's current objective; a non-zero
/// return cancels the call (SCONES_STATUS_CANCELLED). NULL callback removes it.
#[no_mangle]
pub extern "C" fn scones_discrete_options_set_progress(
    opts: *mut scones_discrete_options,
    callback: scones_progress_fn,
    user_data: *mut c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_progress(opts, callback, user_data, every, err)
}

fn points(m: *const scones_matrix, what: &str) -> Result<Tensor> {
    let (v, r, c) = read_f64(m, what)?;
    Ok(Tensor::f_from_slice(&v)?.f_view([r as i64, c as i64])?)
}

/// Optional weights: NULL for uniform, otherwise a 1 x n or n x 1 view.
fn weights(m: *const scones_matrix, n: usize, what: &str) -> Result<Option<Tensor>> {
    if m.is_null() {
        return Ok(None);
    }
    let v = read_vector(m, what)?;
    if v.len() != n {
        return Err(Error::shape(format!("{what}: expected {n} weights (one per point), got {}", v.len())));
    }
    Ok(Some(Tensor::f_from_slice(&v)?))
}

fn rows(m: *const scones_matrix) -> usize {
    // SAFETY: only called after read_f64 validated the view.
    unsafe { (*m).rows }
}

/// Writes the report when the caller asked for one (its struct_size was checked up front).
fn report(
    out: *mut scones_discrete_report,
    transport_cost: f64,
    objective: f64,
    marginal_error: f64,
    iterations: u64,
    converged: bool,
) -> Result<()> {
    if out.is_null() {
        return Ok(());
    }
    let full = scones_discrete_report {
        struct_size: std::mem::size_of::<scones_discrete_report>(),
        transport_cost,
        objective,
        marginal_error,
        iterations,
        converged: converged as i32,
    };
    write_report(&full, out)
}

/// The outputs of the solvers that return potentials: one [m] and one [n] vector, an optional
/// [m, n] plan and the report, all checked before any work is done.
fn check_dual_outputs(
    potentials: [(*const scones_matrix_mut, &str); 2],
    plan: *const scones_matrix_mut,
    report: *const scones_discrete_report,
    m: usize,
    n: usize,
) -> Result<()> {
    check_out(potentials[0].0, potentials[0].1, m, 1)?;
    check_out(potentials[1].0, potentials[1].1, n, 1)?;
    if !plan.is_null() {
        check_out(plan, "plan", m, n)?;
    }
    check_report(report)
}

fn check_report(out: *const scones_discrete_report) -> Result<()> {
    // SAFETY: NULL or caller storage with struct_size set.
    if !out.is_null() && unsafe { (*out).struct_size } < std::mem::size_of::<usize>() {
        return Err(Error::invalid("report struct_size is not set (must be sizeof(scones_discrete_report))"));
    }
    Ok(())
}

/// Reads source (m x d) and target (n x d) points and optional weights; the points are used in
/// f64 on the CPU.
fn problem(
    source: *const scones_matrix,
    target: *const scones_matrix,
    a: *const scones_matrix,
    b: *const scones_matrix,
) -> Result<(Tensor, Tensor, Option<Tensor>, Option<Tensor>)> {
    let x = points(source, "source")?;
    let y = points(target, "target")?;
    let (m, n) = (x.size()[0] as usize, y.size()[0] as usize);
    if m.saturating_mul(n) > limits::MAX_COST_ENTRIES {
        return Err(Error::invalid(format!(
            "{m} x {n} point pairs exceed the cap of {} cost entries per sweep",
            limits::MAX_COST_ENTRIES
        )));
    }
    let a = weights(a, rows(source), "source weights")?;
    let b = weights(b, rows(target), "target weights")?;
    Ok((x, y, a, b))
}

/// Entropic OT between the rows of `source` (m x d) and `target` (n x d) under `cost`, by
/// log-domain Sinkhorn with epsilon scaling: min <C, P> + lambda KL(P || a b^T). The cost is
/// formed in row blocks, so large m, n fit in memory when `plan` is NULL. `source_weights`
/// (m, as 1 x m or m x 1) and `target_weights` may be NULL for uniform weights; given, they must
/// be > 0 and sum to 1. Outputs: potentials `f` (m x 1) and `g` (n x 1), gauge sum a f = sum b g,
/// with P_ij = a_i b_j exp((f_i + g_j - C_ij) / lambda); `plan` (m x n) may be NULL; `report`
/// may be NULL. `options` may be NULL for the defaults. lambda is in cost units (e.g. 1e-3 times
/// the largest cost).
#[no_mangle]
pub extern "C" fn scones_sinkhorn(
    source: *const scones_matrix,
    target: *const scones_matrix,
    source_weights: *const scones_matrix,
    target_weights: *const scones_matrix,
    cost: scones_cost,
    lambda: f64,
    options: *const scones_discrete_options,
    f: *const scones_matrix_mut,
    g: *const scones_matrix_mut,
    plan: *const scones_matrix_mut,
    report_out: *mut scones_discrete_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let cost = cost_from(cost)?;
        let (x, y, a, b) = problem(source, target, source_weights, target_weights)?;
        let (m, n) = (x.size()[0] as usize, y.size()[0] as usize);
        check_dual_outputs([(f, "f"), (g, "g")], plan, report_out, m, n)?;
        let o = options_or_default(options);
        let mut cfg = sinkhorn::SinkhornConfig::new(lambda);
        (cfg.tol, cfg.max_iter) = (o.tol.unwrap_or(cfg.tol), o.max_iterations.unwrap_or(cfg.max_iter));
        cfg.return_plan = !plan.is_null();
        let r = sinkhorn::sinkhorn_points(cost, &x, &y, a.as_ref(), b.as_ref(), &cfg, &mut o.observer())?;
        write_tensor(f, &r.f)?;
        write_tensor(g, &r.g)?;
        if let Some(p) = &r.plan {
            write_tensor(plan, p)?;
        }
        report(report_out, r.transport_cost, r.dual_value, r.marginal_error, r.iterations, r.converged)
    })
}

/// Unregularized OT between the rows of `source` and `target` by IPOT (inexact proximal point,
/// thesis ch. 2 Algorithm 1), in the log domain. The plan (m x n, required) converges to an
/// optimal plan; weights, `options` and `report` as for scones_sinkhorn (the proximal step and
/// inner iteration count are set with scones_discrete_options_set_ipot).
#[no_mangle]
pub extern "C" fn scones_ipot(
    source: *const scones_matrix,
    target: *const scones_matrix,
    source_weights: *const scones_matrix,
    target_weights: *const scones_matrix,
    cost: scones_cost,
    options: *const scones_discrete_options,
    plan: *const scones_matrix_mut,
    report_out: *mut scones_discrete_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let cost = cost_from(cost)?;
        let (x, y, a, b) = problem(source, target, source_weights, target_weights)?;
        check_out(plan, "plan", x.size()[0] as usize, y.size()[0] as usize)?;
        check_report(report_out)?;
        let o = options_or_default(options);
        let mut cfg = o.ipot.clone();
        (cfg.tol, cfg.max_iter) = (o.tol.unwrap_or(cfg.tol), o.max_iterations.unwrap_or(cfg.max_iter));
        let r = ipot::ipot_points(cost, &x, &y, a.as_ref(), b.as_ref(), &cfg, &mut o.observer())?;
        write_tensor(plan, &r.plan)?;
        report(report_out, r.transport_cost, r.transport_cost, r.marginal_error, r.iterations, r.converged)
    })
}

/// The f-divergence-regularized discrete dual, solved exactly (to the tolerance, default 1e-9 on
/// the gradient norm): max sum a phi + sum b psi - sum_ij a_i b_j H*(phi_i + psi_j - C_ij),
/// H*(v) = lambda f*(v / lambda), with the same conjugates as the neural dual
/// (`regularizer` is a SCONES_REGULARIZER_* value, lambda > 0). Outputs phi (m x 1) and psi
/// (n x 1) in the gauge sum a phi = sum b psi, and optionally the plan P_ij = a_i b_j M(V_ij)
/// (m x n). The dense m x n problem is held in memory and Newton's method factors an
/// min(m, n)^2 matrix: meant for up to a few thousand points.
#[no_mangle]
pub extern "C" fn scones_discrete_fdual(
    source: *const scones_matrix,
    target: *const scones_matrix,
    source_weights: *const scones_matrix,
    target_weights: *const scones_matrix,
    cost: scones_cost,
    regularizer: scones_regularizer,
    lambda: f64,
    options: *const scones_discrete_options,
    phi: *const scones_matrix_mut,
    psi: *const scones_matrix_mut,
    plan: *const scones_matrix_mut,
    report_out: *mut scones_discrete_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let cost = cost_from(cost)?;
        let reg = Regularizer::new(regularizer_from(regularizer)?, lambda)?;
        let (x, y, a, b) = problem(source, target, source_weights, target_weights)?;
        let (m, n) = (x.size()[0] as usize, y.size()[0] as usize);
        check_dual_outputs([(phi, "phi"), (psi, "psi")], plan, report_out, m, n)?;
        let o = options_or_default(options);
        let mut cfg = fdual::FDualConfig::default();
        (cfg.tol, cfg.max_newton) = (o.tol.unwrap_or(cfg.tol), o.max_iterations.map_or(cfg.max_newton, |k| k as usize));
        let r = fdual::solve_points(&reg, cost, &x, &y, a.as_ref(), b.as_ref(), &cfg, &mut o.observer())?;
        write_tensor(phi, &r.phi)?;
        write_tensor(psi, &r.psi)?;
        if !plan.is_null() {
            write_tensor(plan, &r.plan)?;
        }
        report(
            report_out,
            r.transport_cost,
            r.dual_value,
            r.marginal_error,
            (r.sweeps + r.newton_steps) as u64,
            r.converged,
        )
    })
}

/// Exact optimal assignment for an n x n cost matrix (shortest augmenting paths, O(n^3)):
/// `assignment[i]` (n entries, required) receives the column matched to row i, `total_cost`
/// (may be NULL) `sum_i C_{i, assignment[i]}`, and `u` (n x 1) and `v` (n x 1), each may be NULL,
/// dual potentials with u_i + v_j <= C_ij, equality on the assignment and sum u + sum v =
/// total cost. Between uniform measures the transport cost is total_cost / n.
#[no_mangle]
pub extern "C" fn scones_assignment(
    cost: *const scones_matrix,
    assignment: *mut usize,
    total_cost: *mut f64,
    u: *const scones_matrix_mut,
    v: *const scones_matrix_mut,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let (r, k) = dims(cost, "cost")?;
        if r != k {
            return Err(Error::shape(format!("cost: assignment needs a square matrix, got {r} x {k}")));
        }
        // O(n^3): beyond this the call would run for hours with no cancellation point.
        limits::count("assignment size n", r, limits::MAX_ASSIGNMENT)?;
        let (c, _, _) = read_f64(cost, "cost")?;
        out_ptr(assignment, "assignment")?;
        for (out, what) in [(u, "u"), (v, "v")] {
            if !out.is_null() {
                check_out(out, what, r, 1)?;
            }
        }
        let a = assignment::solve(&c, r)?;
        write_indices(assignment, &a.columns);
        if !total_cost.is_null() {
            put(total_cost, a.total_cost);
        }
        if !u.is_null() {
            write_f64(u, &a.u);
        }
        if !v.is_null() {
            write_f64(v, &a.v);
        }
        Ok(())
    })
}

/// Writes `v` to caller storage already checked non-NULL by [`out_ptr`].
fn write_indices(p: *mut usize, v: &[usize]) {
    // SAFETY: non-NULL (checked); the caller provides v.len() writable entries (documented).
    unsafe { std::slice::from_raw_parts_mut(p, v.len()) }.copy_from_slice(v);
}
