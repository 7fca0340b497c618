//! The discrete solvers on point sets, the cost formed by the library, and the optimal
//! assignment on a square cost matrix.

use super::super::enums::{regularizer_from, scones_cost, scones_regularizer};
use super::super::error::{boundary, scones_error, scones_status};
use super::super::matrix::{check_out, dims, read_f64, scones_matrix, scones_matrix_mut, write_f64};
use super::super::{out_ptr, put};
use super::{run_fdual, run_ipot, run_sinkhorn, scones_discrete_options, scones_discrete_report, Problem};
use crate::discrete::assignment;
use crate::ot::Regularizer;
use crate::runtime::error::Error;
use crate::runtime::limits;

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
        let p = Problem::points(cost, source, target, source_weights, target_weights)?;
        run_sinkhorn(p, lambda, options, f, g, plan, report_out)
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
        let p = Problem::points(cost, source, target, source_weights, target_weights)?;
        run_ipot(p, options, plan, report_out)
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
        let reg = Regularizer::new(regularizer_from(regularizer)?, lambda)?;
        let p = Problem::points(cost, source, target, source_weights, target_weights)?;
        run_fdual(p, &reg, options, phi, psi, plan, report_out)
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
