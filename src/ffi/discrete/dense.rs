//! The discrete solvers on a caller's dense cost matrix, as POT's `ot.sinkhorn(a, b, M, reg)`:
//! users of discrete OT usually hold a cost matrix, not points and a ground cost. Arguments,
//! outputs, options and reports follow the point-set functions exactly, with `cost` (m x n) in
//! place of source, target and the ground cost.

use super::super::enums::{regularizer_from, scones_regularizer};
use super::super::error::{boundary, scones_error, scones_status};
use super::super::matrix::{scones_matrix, scones_matrix_mut};
use super::{run_fdual, run_ipot, run_sinkhorn, scones_discrete_options, scones_discrete_report, Problem};
use crate::ot::Regularizer;

/// Entropic OT on a dense cost matrix `cost` (m x n, f32 or f64, finite): as scones_sinkhorn,
/// min <C, P> + lambda KL(P || a b^T) by log-domain Sinkhorn with epsilon scaling, the matrix
/// held in memory. `source_weights` (m entries, as 1 x m or m x 1) and `target_weights` (n) may
/// be NULL for uniform weights; given, they must be > 0 and sum to 1. Outputs: potentials `f`
/// (m x 1) and `g` (n x 1), gauge sum a f = sum b g, with P_ij = a_i b_j exp((f_i + g_j - C_ij) /
/// lambda); `plan` (m x n) and `report` may be NULL; `options` may be NULL for the defaults. On
/// the cost matrix of two point sets it returns what scones_sinkhorn returns on the points.
#[no_mangle]
pub extern "C" fn scones_sinkhorn_cost(
    cost: *const scones_matrix,
    source_weights: *const scones_matrix,
    target_weights: *const scones_matrix,
    lambda: f64,
    options: *const scones_discrete_options,
    f: *const scones_matrix_mut,
    g: *const scones_matrix_mut,
    plan: *const scones_matrix_mut,
    report_out: *mut scones_discrete_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let p = Problem::dense(cost, source_weights, target_weights)?;
        run_sinkhorn(p, lambda, options, f, g, plan, report_out)
    })
}

/// Unregularized OT on a dense cost matrix `cost` (m x n, finite) by IPOT, as scones_ipot: the
/// plan (m x n, required) converges to an optimal plan; weights, `options` and `report` as for
/// scones_sinkhorn_cost.
#[no_mangle]
pub extern "C" fn scones_ipot_cost(
    cost: *const scones_matrix,
    source_weights: *const scones_matrix,
    target_weights: *const scones_matrix,
    options: *const scones_discrete_options,
    plan: *const scones_matrix_mut,
    report_out: *mut scones_discrete_report,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let p = Problem::dense(cost, source_weights, target_weights)?;
        run_ipot(p, options, plan, report_out)
    })
}

/// The f-divergence-regularized discrete dual on a dense cost matrix `cost` (m x n, finite),
/// solved exactly, as scones_discrete_fdual: outputs phi (m x 1), psi (n x 1) and optionally the
/// plan P_ij = a_i b_j M(phi_i + psi_j - C_ij) (m x n); weights, `options` and `report` as for
/// scones_sinkhorn_cost.
#[no_mangle]
pub extern "C" fn scones_discrete_fdual_cost(
    cost: *const scones_matrix,
    source_weights: *const scones_matrix,
    target_weights: *const scones_matrix,
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
        let p = Problem::dense(cost, source_weights, target_weights)?;
        run_fdual(p, &reg, options, phi, psi, plan, report_out)
    })
}
