//! Discrete OT references over the C ABI: Sinkhorn, IPOT, the exact f-divergence dual and the
//! optimal assignment, on point sets (`points.rs`) or on a caller's dense cost matrix
//! (`dense.rs`, as POT's `ot.sinkhorn(a, b, M, reg)`). Inputs are strided views (f32 or f64, read
//! into f64 on the CPU); every output goes into a caller-provided buffer, validated before any
//! work and written only on success. Both front doors build a `Problem` and share the drivers
//! below, so the two forms of a solver differ only in how the cost arrives.

use std::ffi::c_void;

use tch::Tensor;

use super::common::{self, options_or_default, report_fields, write_report, Options};
use super::enums::{cost_from, scones_cost};
use super::error::{free_box, scones_error, scones_status};
use super::matrix::{check_out, dims, read_f64, read_vector, scones_matrix, scones_matrix_mut, write_tensor};
use super::progress::{scones_progress_fn, ProgressHook};
use crate::discrete::{fdual, ipot, sinkhorn};
use crate::ot::{Cost, Regularizer};
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::progress::Progress;

pub mod dense;
pub mod points;

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

/// Progress callback, called every `every` iterations (> 0) with phase SCONES_PHASE_DISCRETE,
/// `objective` = the solver's current objective and `marginal_error` = its current l1 marginal
/// violation (ABI 0.1 reported these calls as SCONES_PHASE_DUAL_TRAINING, without
/// marginal_error); a non-zero return cancels the call (SCONES_STATUS_CANCELLED). NULL callback
/// removes it.
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

/// Where a solver's cost comes from.
enum Ground {
    /// Points under a ground cost: Sinkhorn forms the cost in row blocks and never holds it.
    Points { cost: Cost, x: Tensor, y: Tensor },
    /// The caller's m x n matrix, in f64 on the CPU.
    Dense(Tensor),
}

/// A validated discrete problem: the cost, optional weights, and its size m x n.
struct Problem {
    ground: Ground,
    a: Option<Tensor>,
    b: Option<Tensor>,
    m: usize,
    n: usize,
}

/// The m x n size of a problem against the cap on cost entries, before anything is read.
fn check_entries(m: usize, n: usize, what: &str) -> Result<()> {
    if m.saturating_mul(n) > limits::MAX_COST_ENTRIES {
        return Err(Error::invalid(format!(
            "{m} x {n} {what} exceed the cap of {} cost entries per sweep",
            limits::MAX_COST_ENTRIES
        )));
    }
    Ok(())
}

impl Problem {
    /// Source (m x d) and target (n x d) points under `cost`, with optional weights.
    fn points(
        cost: scones_cost,
        source: *const scones_matrix,
        target: *const scones_matrix,
        a: *const scones_matrix,
        b: *const scones_matrix,
    ) -> Result<Problem> {
        let cost = cost_from(cost)?;
        let read = |m: *const scones_matrix, what: &str| -> Result<(Tensor, usize)> {
            let (v, r, c) = read_f64(m, what)?;
            Ok((Tensor::f_from_slice(&v)?.f_view([r as i64, c as i64])?, r))
        };
        let (x, m) = read(source, "source")?;
        let (y, n) = read(target, "target")?;
        check_entries(m, n, "point pairs")?;
        let (a, b) = (weights(a, m, "source weights")?, weights(b, n, "target weights")?);
        Ok(Problem { ground: Ground::Points { cost, x, y }, a, b, m, n })
    }

    /// A dense m x n cost matrix (finite; any sign) with optional weights.
    fn dense(cost: *const scones_matrix, a: *const scones_matrix, b: *const scones_matrix) -> Result<Problem> {
        let (m, n) = dims(cost, "cost")?;
        check_entries(m, n, "costs")?;
        let (c, _, _) = read_f64(cost, "cost")?;
        let c = Tensor::f_from_slice(&c)?.f_view([m as i64, n as i64])?;
        let (a, b) = (weights(a, m, "source weights")?, weights(b, n, "target weights")?);
        Ok(Problem { ground: Ground::Dense(c), a, b, m, n })
    }
}

/// Sinkhorn on either ground; outputs as documented at scones_sinkhorn.
fn run_sinkhorn(
    p: Problem,
    lambda: f64,
    options: *const scones_discrete_options,
    f: *const scones_matrix_mut,
    g: *const scones_matrix_mut,
    plan: *const scones_matrix_mut,
    report_out: *mut scones_discrete_report,
) -> Result<()> {
    check_dual_outputs([(f, "f"), (g, "g")], plan, report_out, p.m, p.n)?;
    let o = options_or_default(options);
    let mut cfg = sinkhorn::SinkhornConfig::new(lambda);
    (cfg.tol, cfg.max_iter) = (o.tol.unwrap_or(cfg.tol), o.max_iterations.unwrap_or(cfg.max_iter));
    cfg.return_plan = !plan.is_null();
    let (a, b, obs) = (p.a.as_ref(), p.b.as_ref(), &mut o.observer());
    let r = match &p.ground {
        Ground::Points { cost, x, y } => sinkhorn::sinkhorn_points(cost.clone(), x, y, a, b, &cfg, obs)?,
        Ground::Dense(c) => sinkhorn::sinkhorn_dense(c, a, b, &cfg, obs)?,
    };
    write_tensor(f, &r.f)?;
    write_tensor(g, &r.g)?;
    if let Some(pl) = &r.plan {
        write_tensor(plan, pl)?;
    }
    report(report_out, r.transport_cost, r.dual_value, r.marginal_error, r.iterations, r.converged)
}

/// IPOT on either ground; outputs as documented at scones_ipot.
fn run_ipot(
    p: Problem,
    options: *const scones_discrete_options,
    plan: *const scones_matrix_mut,
    report_out: *mut scones_discrete_report,
) -> Result<()> {
    check_out(plan, "plan", p.m, p.n)?;
    check_report(report_out)?;
    let o = options_or_default(options);
    let mut cfg = o.ipot.clone();
    (cfg.tol, cfg.max_iter) = (o.tol.unwrap_or(cfg.tol), o.max_iterations.unwrap_or(cfg.max_iter));
    let (a, b, obs) = (p.a.as_ref(), p.b.as_ref(), &mut o.observer());
    let r = match &p.ground {
        Ground::Points { cost, x, y } => ipot::ipot_points(cost.clone(), x, y, a, b, &cfg, obs)?,
        Ground::Dense(c) => ipot::ipot(c, a, b, &cfg, obs)?,
    };
    write_tensor(plan, &r.plan)?;
    report(report_out, r.transport_cost, r.transport_cost, r.marginal_error, r.iterations, r.converged)
}

/// The f-divergence dual on either ground; outputs as documented at scones_discrete_fdual.
#[allow(clippy::too_many_arguments)]
fn run_fdual(
    p: Problem,
    reg: &Regularizer,
    options: *const scones_discrete_options,
    phi: *const scones_matrix_mut,
    psi: *const scones_matrix_mut,
    plan: *const scones_matrix_mut,
    report_out: *mut scones_discrete_report,
) -> Result<()> {
    check_dual_outputs([(phi, "phi"), (psi, "psi")], plan, report_out, p.m, p.n)?;
    let o = options_or_default(options);
    let mut cfg = fdual::FDualConfig::default();
    (cfg.tol, cfg.max_newton) = (o.tol.unwrap_or(cfg.tol), o.max_iterations.map_or(cfg.max_newton, |k| k as usize));
    let (a, b, obs) = (p.a.as_ref(), p.b.as_ref(), &mut o.observer());
    let r = match &p.ground {
        Ground::Points { cost, x, y } => fdual::solve_points(reg, cost.clone(), x, y, a, b, &cfg, obs)?,
        Ground::Dense(c) => fdual::solve(reg, c, a, b, &cfg, obs)?,
    };
    write_tensor(phi, &r.phi)?;
    write_tensor(psi, &r.psi)?;
    if !plan.is_null() {
        write_tensor(plan, &r.plan)?;
    }
    let iterations = (r.sweeps + r.newton_steps) as u64;
    report(report_out, r.transport_cost, r.dual_value, r.marginal_error, iterations, r.converged)
}
