//! Sinkhorn for KL-regularized discrete OT: log domain with epsilon scaling and row blocks, and
//! the scaling domain (`scaling.rs`) for the stages where its kernel cannot underflow.
//!
//! About 560 lines after the cost blocks moved to `ground.rs` and the scaling domain to
//! `scaling.rs`: the rest is one solver (its configuration, the iteration with its underflow
//! fallbacks, over-relaxation and the epsilon schedule), which reads best in one place.
//!
//! Problem: min_P <C, P> + lambda KL(P ‖ a b^T) over P >= 0 with P 1 = a, P^T 1 = b, where
//! KL(P ‖ Q) = sum P log(P / Q) - P + Q. Its dual is the KL-Cuturi case of Prop. 2.4 on
//! discrete measures,
//!
//!   max_{f, g} sum_i a_i f_i + sum_j b_j g_j - lambda sum_ij a_i b_j (exp((f_i + g_j - C_ij)/lambda) - 1),
//!
//! with plan P_ij = a_i b_j exp((f_i + g_j - C_ij) / lambda). Sinkhorn is exact block coordinate
//! ascent on it:
//!
//!   f_i = -lambda log sum_j b_j exp((g_j - C_ij) / lambda),
//!   g_j = -lambda log sum_i a_i exp((f_i - C_ij) / lambda).
//!
//! Written with log-sum-exp the updates never under- or overflow, whatever lambda is; the
//! multiplicative form (scalings u = exp(f/lambda)) underflows once C / lambda exceeds ~700.
//!
//! **Epsilon scaling.** At small lambda, Sinkhorn started from zero potentials needs a number of
//! iterations that grows like (max C) / lambda. The solver starts at lambda_0 (max C by default)
//! and multiplies lambda by `scaling` after each stage until it reaches the target, warm-starting
//! the potentials: in the Cuturi form f, g tend to Kantorovich potentials as lambda -> 0, so each
//! stage starts close to its solution. Intermediate stages only need to be roughly converged
//! (`stage_tol`); the last runs to `tol`.
//!
//! **Blocks.** With points and a [`Cost`], C is never stored: each pass walks over row blocks of
//! `block_rows` rows, forms that block on the fly, updates f on those rows (which needs g only)
//! and adds the block's contribution to the column masses computed with the *new* f, which after
//! the last block give the new g. So one pass over the data is one full Sinkhorn iteration, and
//! memory is O((m + n) d + block_rows n). For c = s (|x|^2 + |y|^2 - 2 x.y), the row term
//! s |x_i|^2 cancels from the column update and adds back to f_i exactly, so a block costs one
//! matrix product (x_I scaled) @ y^T added onto a broadcast row vector.
//!
//! **One exponential per pair.** With E_ij = exp(S_ij - max_j S_ij) in [0, 1] (S the shifted
//! block), the row log-sum-exp is max + log sum_j E_ij and the column masses of the plan of
//! (f_new, g_old) are E^T w, w_i = a_i / sum_j E_ij: a matrix-vector product instead of a second
//! log-sum-exp. The potentials stay in the log domain across blocks and iterations; only a
//! column mass below exp(-600) (far from convergence) sends the iteration to the two-sided
//! log-sum-exp pass.
//!
//! **Over-relaxation** ([`Acceleration`]): at small lambda plain Sinkhorn's linear rate is close
//! to 1; f <- f + omega (f_sinkhorn - f) with omega adapted to the measured rate cuts the
//! iteration count several-fold.
//!
//! **Stopping.** Each pass measures, without another pass over the data, the row violation of
//! the plan of (f_old, g_old) (rows of P(f_old, g_old) sum to a_i exp((f_old - f_sinkhorn)_i /
//! lambda)) and the column violation of the plan of (f_new, g_old) (its column masses); their
//! sum is compared with the tolerance. The returned potentials end with a half step f = f(g), so
//! the returned plan has exact row sums (no entry can exceed a_i, whatever g is) and its
//! `marginal_error` (columns) is recomputed exactly in the final pass that forms <C, P>.

use crate::discrete::{balance_gauge, check_cost_matrix, check_pair, rows_for, weights};
use crate::ot::Cost;
use crate::runtime::error::{Error, Result};
use crate::runtime::progress::{Observer, Phase, Progress};
use tch::{Kind, Tensor};

mod ground;
mod scaling;
use ground::{blocks, Ground};

#[derive(Clone, Debug)]
pub struct SinkhornConfig {
    /// Target regularization lambda, in the units of the cost (e.g. 1e-3 * max C).
    pub lambda: f64,
    /// Stop when the l1 marginal violation is below this (default 1e-6).
    pub tol: f64,
    /// Cap on Sinkhorn iterations over all stages (one iteration = one f and one g update).
    pub max_iter: u64,
    /// lambda_{k+1} = scaling * lambda_k between stages, in (0, 1) (default 0.5).
    pub scaling: f64,
    /// First-stage lambda; default max C (no scaling when lambda >= lambda_start).
    pub lambda_start: Option<f64>,
    /// Marginal violation at which an intermediate stage hands over to the next (default 1e-2;
    /// never below `tol`).
    pub stage_tol: f64,
    /// Rows of the cost formed at once; default: blocks of about 2 MiB (cache-sized, measured
    /// fastest on the CPU).
    pub block_rows: Option<usize>,
    /// Whether to return the dense plan (m x n: only for problems that fit in memory).
    pub return_plan: bool,
    /// Over-relaxation of the updates (default adaptive).
    pub acceleration: Acceleration,
    /// Iterate in the scaling domain where the kernel cannot underflow and fits in memory
    /// (`scaling.rs`; default true); false keeps every iteration in the log domain.
    pub scaling_domain: bool,
}

/// Over-relaxed Sinkhorn (Thibault et al. 2017): f <- f + omega (f_sinkhorn - f), likewise g.
/// omega = 1 is plain Sinkhorn; 1 < omega < 2 converges locally and, near the solution, by up to
/// the square root of plain Sinkhorn's rate, which matters at small lambda where that rate is
/// close to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Acceleration {
    None,
    Fixed(f64),
    /// Per stage: plain iterations until the linear rate theta can be measured, then
    /// omega = 2 / (1 + sqrt(1 - theta)) (at most 1.9); back to omega = 1 whenever the violation
    /// stops decreasing over 10 iterations.
    Adaptive,
}

impl SinkhornConfig {
    pub fn new(lambda: f64) -> SinkhornConfig {
        SinkhornConfig {
            lambda,
            tol: 1e-6,
            max_iter: 100_000,
            scaling: 0.5,
            lambda_start: None,
            stage_tol: 1e-2,
            block_rows: None,
            return_plan: false,
            acceleration: Acceleration::Adaptive,
            scaling_domain: true,
        }
    }

    fn validate(&self) -> Result<()> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !pos(self.lambda) {
            return Err(Error::invalid(format!("lambda must be a finite number > 0, got {}", self.lambda)));
        }
        if !pos(self.tol) || !pos(self.stage_tol) {
            return Err(Error::invalid(format!(
                "tolerances must be > 0, got tol {} and stage_tol {}",
                self.tol, self.stage_tol
            )));
        }
        if !(self.scaling > 0.0 && self.scaling < 1.0) {
            return Err(Error::invalid(format!("scaling must lie in (0, 1), got {}", self.scaling)));
        }
        if self.lambda_start.is_some_and(|l| !pos(l)) {
            return Err(Error::invalid("lambda_start must be a finite number > 0"));
        }
        if let Acceleration::Fixed(w) = self.acceleration {
            if !(w > 0.0 && w < 2.0) {
                return Err(Error::invalid(format!("over-relaxation omega must lie in (0, 2), got {w}")));
            }
        }
        if self.block_rows == Some(0) || self.max_iter == 0 {
            return Err(Error::invalid("block_rows and max_iter must be >= 1"));
        }
        Ok(())
    }
}

#[derive(Debug)]
pub struct SinkhornResult {
    /// Potentials \[m\] and \[n\] (gauge: sum a f = sum b g), plan P_ij = a_i b_j exp((f_i + g_j - C_ij)/lambda).
    pub f: Tensor,
    pub g: Tensor,
    /// The plan [m, n] when asked for.
    pub plan: Option<Tensor>,
    /// <C, P>.
    pub transport_cost: f64,
    /// The regularized objective: the dual value sum a f + sum b g - lambda (sum P - 1), equal to
    /// <C, P> + lambda KL(P ‖ a b^T) at convergence.
    pub dual_value: f64,
    /// l1 marginal violation of the returned plan.
    pub marginal_error: f64,
    pub iterations: u64,
    /// Epsilon-scaling stages run (1 when lambda >= lambda_start), and iterations in each.
    pub stages: u32,
    pub stage_iterations: Vec<u64>,
    /// Whether the last stage reached `tol` within `max_iter`.
    pub converged: bool,
    /// The lambda of the returned potentials and plan: the target, unless `max_iter` ran out
    /// during an earlier stage (then `converged` is false).
    pub lambda: f64,
    /// max C (the default start of the scaling; the natural scale of lambda).
    pub max_cost: f64,
    /// Iterations run in the scaling domain (`scaling.rs`); the rest ran in the log domain.
    pub scaling_iterations: u64,
}

struct Solver<'a> {
    ground: Ground<'a>,
    a: Tensor,
    b: Tensor,
    log_a: Tensor,
    log_b: Tensor,
    rows: i64,
}

/// One (possibly over-relaxed) iteration: new potentials and the two halves of the marginal
/// violation it measured on the way.
struct Step {
    f: Tensor,
    g: Tensor,
    /// Row violation of the plan of (f_old, g_old).
    row_err: f64,
    /// Column violation of the plan of (f_new, g_old).
    col_err: f64,
}

/// Column masses below exp(-600) are too close to f64 underflow for the one-exponential pass
/// (whose block sums are formed as plain, not log-domain, sums); the pass is then redone with
/// log-sum-exp on both sides.
const LOG_MASS_FLOOR: f64 = -600.0;

/// Exponents are clamped from below here before exp: results that are subnormal floats make
/// both exp and the following matrix-vector product many times slower (x86 microcode assists),
/// and at small lambda a few percent of a block lands there. The floor adds at most n e^{-700}
/// (f64) or n e^{-80} (f32) to a row sum whose largest term is 1.
fn exp_floor(kind: Kind) -> f64 {
    if kind == Kind::Double {
        -700.0
    } else {
        -80.0
    }
}

impl Solver<'_> {
    /// h = hb - k / lambda with hb = g / lambda + log b: the vector a block is shifted by.
    fn shifts(&self, g: &Tensor, inv: f64) -> Result<(Tensor, Tensor)> {
        let hb = g.f_mul_scalar(inv)?.f_add(&self.log_b)?;
        let h = match self.ground.col_term() {
            Some(k) => hb.f_sub(&k.f_mul_scalar(inv)?)?,
            None => hb.shallow_clone(),
        };
        Ok((hb, h.f_unsqueeze(0)?))
    }

    /// f from lse_i = lse_j S_ij on rows [i0, i0 + len): f_i = r_i - lambda lse_i.
    fn f_from_lse(&self, i0: i64, len: i64, lse: &Tensor, lambda: f64) -> Result<Tensor> {
        Ok(match self.ground.row_term(i0, len)? {
            Some(r) => r.f_sub(&lse.f_mul_scalar(lambda)?)?,
            None => lse.f_mul_scalar(-lambda)?,
        })
    }

    /// The f update for rows [i0, i0 + len), relaxed by omega: returns (f_new, d = f_sink - f_old,
    /// row violation terms a_i |exp(-d_i / lambda) - 1| of the plan of (f_old, g_old)).
    fn relax_rows(
        &self,
        f: &Tensor,
        i0: i64,
        len: i64,
        f_sink: &Tensor,
        lambda: f64,
        omega: f64,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let f_old = f.f_narrow(0, i0, len)?;
        let d = f_sink.f_sub(&f_old)?;
        let f_new = if omega == 1.0 { f_sink.shallow_clone() } else { f_old.f_add(&d.f_mul_scalar(omega)?)? };
        let err = d.f_mul_scalar(-1.0 / lambda)?.f_expm1()?.f_abs()?.f_mul(&self.a.f_narrow(0, i0, len)?)?;
        Ok((f_new, d, err))
    }

    fn iterate(&self, f: &Tensor, g: &Tensor, lambda: f64, omega: f64) -> Result<Step> {
        match self.iterate_one_exp(f, g, lambda, omega)? {
            Some(step) => Ok(step),
            None => self.iterate_log(f, g, lambda, omega),
        }
    }

    /// The fast pass: one exponential per pair. E_ij = exp(S_ij - max_j S_ij) in [0, 1] gives the
    /// row log-sum-exp, and the column masses of the plan of (f_new, g_old) are then the matrix-
    /// vector product E^T w with w_i = a_i / sum_j E_ij (times exp((f_new - f_sink)_i / lambda)
    /// when relaxed), instead of a second log-sum-exp with its own exponentials. None when a
    /// column mass comes out too small to trust (see [`LOG_MASS_FLOOR`]).
    fn iterate_one_exp(&self, f: &Tensor, g: &Tensor, lambda: f64, omega: f64) -> Result<Option<Step>> {
        let (m, _) = self.ground.shape();
        let kind = g.kind();
        let inv = 1.0 / lambda;
        let (_, h) = self.shifts(g, inv)?;
        let (mut f_parts, mut err_parts) = (Vec::new(), Vec::new());
        let mut col_log: Option<Tensor> = None;
        for (i0, len) in blocks(m, self.rows) {
            let mut e = self.ground.shifted_block(i0, len, &h, inv)?;
            let mx = e.f_amax([1], true)?;
            let _ = e.f_sub_(&mx)?;
            let _ = e.f_clamp_min_(exp_floor(kind))?;
            let _ = e.f_exp_()?;
            let log_rs = e.f_sum_dim_intlist(1, false, None)?.f_log()?;
            let lse = mx.f_squeeze_dim(1)?.f_add(&log_rs)?;
            let f_sink = self.f_from_lse(i0, len, &lse, lambda)?;
            let (f_new, d, err) = self.relax_rows(f, i0, len, &f_sink, lambda, omega)?;
            // log w_i = log a_i - log sum_j E_ij + (f_new - f_sink)_i / lambda, scaled by its
            // maximum so that the product cannot overflow.
            let mut log_w = self.log_a.f_narrow(0, i0, len)?.f_sub(&log_rs)?;
            if omega != 1.0 {
                log_w = log_w.f_add(&d.f_mul_scalar((omega - 1.0) * inv)?)?;
            }
            let w_max = log_w.f_max()?;
            let w = log_w.f_sub(&w_max)?.f_exp()?;
            let lc = e.f_transpose(0, 1)?.f_mv(&w)?.f_log()?.f_add(&w_max)?;
            col_log = Some(match col_log {
                None => lc,
                Some(acc) => acc.f_logaddexp(&lc)?,
            });
            f_parts.push(f_new);
            err_parts.push(err);
        }
        let col_log = col_log.expect("m >= 1");
        if col_log.f_min()?.f_double_value(&[])? < LOG_MASS_FLOOR {
            return Ok(None);
        }
        self.finish_step(f_parts, err_parts, col_log, g, lambda, omega).map(Some)
    }

    /// The safe pass: log-sum-exp over rows and over columns (two exponentials per pair).
    fn iterate_log(&self, f: &Tensor, g: &Tensor, lambda: f64, omega: f64) -> Result<Step> {
        let (m, _) = self.ground.shape();
        let inv = 1.0 / lambda;
        let (_, h) = self.shifts(g, inv)?;
        let (mut f_parts, mut err_parts) = (Vec::new(), Vec::new());
        let mut col_log: Option<Tensor> = None;
        for (i0, len) in blocks(m, self.rows) {
            let mut s = self.ground.shifted_block(i0, len, &h, inv)?;
            let lse = s.f_logsumexp([1], false)?;
            let f_sink = self.f_from_lse(i0, len, &lse, lambda)?;
            let (f_new, d, err) = self.relax_rows(f, i0, len, &f_sink, lambda, omega)?;
            // S_ij + log a_i - lse_i + (f_new - f_sink)_i / lambda = log P(f_new, g_old)_ij.
            let shift = self.log_a.f_narrow(0, i0, len)?.f_sub(&lse)?.f_add(&d.f_mul_scalar((omega - 1.0) * inv)?)?;
            let _ = s.f_add_(&shift.f_unsqueeze(1)?)?;
            let lc = s.f_logsumexp([0], false)?;
            col_log = Some(match col_log {
                None => lc,
                Some(acc) => acc.f_logaddexp(&lc)?,
            });
            f_parts.push(f_new);
            err_parts.push(err);
        }
        self.finish_step(f_parts, err_parts, col_log.expect("m >= 1"), g, lambda, omega)
    }

    /// From the log column masses of the plan of (f_new, g_old): g_sink = g - lambda log(mass / b),
    /// relaxed by omega.
    fn finish_step(
        &self,
        f_parts: Vec<Tensor>,
        err_parts: Vec<Tensor>,
        col_log: Tensor,
        g: &Tensor,
        lambda: f64,
        omega: f64,
    ) -> Result<Step> {
        let f = Tensor::f_cat(&f_parts, 0)?;
        let row_err = Tensor::f_cat(&err_parts, 0)?.f_sum(Kind::Double)?.f_double_value(&[])?;
        let col_err = col_log.f_exp()?.f_sub(&self.b)?.f_abs()?.f_sum(Kind::Double)?.f_double_value(&[])?;
        let dg = col_log.f_sub(&self.log_b)?.f_mul_scalar(-lambda * omega)?;
        Ok(Step { f, g: g.f_add(&dg)?, row_err, col_err })
    }

    /// The final half step: f from g (so that every row of the plan has exactly its mass, and no
    /// entry can exceed a_i whatever state g is in), then <C, P>, the column sums and the plan if
    /// asked for. Returns (f, cost, column sums, plan).
    fn evaluate(&self, g: &Tensor, lambda: f64, keep_plan: bool) -> Result<(Tensor, f64, Tensor, Option<Tensor>)> {
        let (m, _) = self.ground.shape();
        let kind = g.kind();
        let inv = 1.0 / lambda;
        let (_, h) = self.shifts(g, inv)?;
        let (mut cost, mut f_parts, mut col_sums, mut plan) = (0.0, Vec::new(), None::<Tensor>, Vec::new());
        for (i0, len) in blocks(m, self.rows) {
            let mut e = self.ground.shifted_block(i0, len, &h, inv)?;
            let mx = e.f_amax([1], true)?;
            let _ = e.f_sub_(&mx)?;
            let _ = e.f_clamp_min_(exp_floor(kind))?;
            let _ = e.f_exp_()?;
            let rs = e.f_sum_dim_intlist(1, false, None)?;
            f_parts.push(self.f_from_lse(i0, len, &mx.f_squeeze_dim(1)?.f_add(&rs.f_log()?)?, lambda)?);
            let p = e.f_mul(&self.a.f_narrow(0, i0, len)?.f_div(&rs)?.f_unsqueeze(1)?)?;
            cost += p.f_mul(&self.ground.cost_block(i0, len)?)?.f_sum(Kind::Double)?.f_double_value(&[])?;
            let cs = p.f_sum_dim_intlist(0, false, Kind::Double)?;
            col_sums = Some(match col_sums {
                None => cs,
                Some(acc) => acc.f_add(&cs)?,
            });
            if keep_plan {
                plan.push(p);
            }
        }
        let plan = if keep_plan { Some(Tensor::f_cat(&plan, 0)?) } else { None };
        Ok((Tensor::f_cat(&f_parts, 0)?, cost, col_sums.expect("m >= 1"), plan))
    }
}

/// Sinkhorn between points x [m, d] and y [n, d] under `cost`, with weights a \[m\], b \[n\]
/// (uniform when `None`). The cost matrix is formed block by block and never stored (unless
/// `return_plan` asks for the m x n plan).
pub fn sinkhorn_points(
    cost: Cost,
    x: &Tensor,
    y: &Tensor,
    a: Option<&Tensor>,
    b: Option<&Tensor>,
    cfg: &SinkhornConfig,
    observer: Observer,
) -> Result<SinkhornResult> {
    check_pair(&cost, x, y)?;
    solve(Ground::points(cost, x, y)?, x.kind(), x.device(), a, b, cfg, observer)
}

/// Sinkhorn on a dense cost matrix c [m, n] (small problems, or costs that are not a [`Cost`]).
pub fn sinkhorn_dense(
    c: &Tensor,
    a: Option<&Tensor>,
    b: Option<&Tensor>,
    cfg: &SinkhornConfig,
    observer: Observer,
) -> Result<SinkhornResult> {
    check_cost_matrix(c)?;
    solve(Ground::Dense(c), c.kind(), c.device(), a, b, cfg, observer)
}

/// The over-relaxation factor of one stage, adapted from the observed convergence rate.
struct Relaxation {
    mode: Acceleration,
    omega: f64,
    /// Violations since omega last changed.
    history: Vec<f64>,
}

impl Relaxation {
    fn new(mode: Acceleration) -> Relaxation {
        let omega = match mode {
            Acceleration::Fixed(w) => w,
            _ => 1.0,
        };
        Relaxation { mode, omega, history: Vec::new() }
    }

    fn observe(&mut self, err: f64) {
        if self.mode != Acceleration::Adaptive {
            return;
        }
        self.history.push(err);
        let k = self.history.len();
        if self.omega == 1.0 && k >= 8 {
            // Plain Sinkhorn converges linearly near the solution; with rate theta the
            // over-relaxed iteration is fastest at omega = 2 / (1 + sqrt(1 - theta)) (Thibault
            // et al. 2017, as for successive over-relaxation). Only worth it when slow.
            let theta = (self.history[k - 1] / self.history[k - 6]).powf(0.2);
            if theta.is_finite() && theta > 0.5 && theta < 1.0 {
                self.omega = (2.0 / (1.0 + (1.0 - theta).sqrt())).min(OMEGA_MAX);
                self.history.clear();
            }
        } else if self.omega > 1.0 && k >= 20 && self.history[k - 1] >= self.history[k - 11] {
            // No progress over 10 iterations: the estimate was wrong or the iteration is not in
            // its linear regime; fall back to plain Sinkhorn, which always increases the dual.
            self.omega = 1.0;
            self.history.clear();
        }
    }
}

/// Over-relaxation converges for omega < 2; staying clear of 2 keeps it robust when the rate
/// estimate is a little optimistic.
const OMEGA_MAX: f64 = 1.9;

fn solve(
    ground: Ground,
    kind: Kind,
    device: tch::Device,
    a: Option<&Tensor>,
    b: Option<&Tensor>,
    cfg: &SinkhornConfig,
    observer: Observer,
) -> Result<SinkhornResult> {
    cfg.validate()?;
    let (m, n) = ground.shape();
    let a = weights(a, m, kind, device, "source")?;
    let b = weights(b, n, kind, device, "target")?;
    let rows = match cfg.block_rows {
        Some(r) => r as i64,
        None => rows_for(2 << 20, n, kind),
    }
    .min(m);
    let solver = Solver { log_a: a.f_log()?, log_b: b.f_log()?, a, b, ground, rows };
    let cost_range = solver.ground.cost_range(rows)?;
    let max_cost = cost_range.1;
    let mut kernel = None;
    let mut scaling_iterations = 0u64;
    let mut lambda = cfg.lambda_start.unwrap_or(max_cost).max(cfg.lambda);
    let mut f = Tensor::f_zeros([m], (kind, device))?;
    let mut g = Tensor::f_zeros([n], (kind, device))?;
    let (mut iterations, mut converged, mut stage_iterations) = (0u64, false, Vec::new());
    'stages: loop {
        let last = lambda <= cfg.lambda * (1.0 + 1e-12);
        if last {
            lambda = cfg.lambda;
        }
        let target = if last { cfg.tol } else { cfg.stage_tol.max(cfg.tol) };
        let mut relax = Relaxation::new(cfg.acceleration);
        stage_iterations.push(0);
        loop {
            let scaled = match solver.kernel(lambda, cost_range, &mut kernel)? {
                Some(k) if cfg.scaling_domain => solver.iterate_scaling(k, &f, &g, lambda, relax.omega)?,
                _ => None,
            };
            scaling_iterations += scaled.is_some() as u64;
            let step = match scaled {
                Some(step) => step,
                None => solver.iterate(&f, &g, lambda, relax.omega)?,
            };
            iterations += 1;
            *stage_iterations.last_mut().expect("pushed") += 1;
            let err = step.row_err + step.col_err;
            if !err.is_finite() {
                return Err(Error::diverged(format!(
                    "Sinkhorn produced non-finite potentials at lambda {lambda:e} (iteration {iterations})"
                )));
            }
            f = step.f;
            g = step.g;
            let mut p = Progress::new(Phase::Discrete, iterations, cfg.max_iter);
            p.objective = f.f_dot(&solver.a)?.f_double_value(&[])? + g.f_dot(&solver.b)?.f_double_value(&[])?;
            p.marginal_error = err;
            if !observer(&p) {
                return Err(Error::cancelled(format!("Sinkhorn cancelled at iteration {iterations}")));
            }
            if err <= target {
                if last {
                    converged = true;
                    break 'stages;
                }
                break;
            }
            if iterations >= cfg.max_iter {
                break 'stages;
            }
            relax.observe(err);
        }
        lambda = (lambda * cfg.scaling).max(cfg.lambda);
    }
    drop(kernel);
    let (f, transport_cost, cols_sum, plan) = solver.evaluate(&g, lambda, cfg.return_plan)?;
    let (f, g) = balance_gauge(&f, &g, &solver.a, &solver.b)?;
    // Rows are exact by construction of the final half step; only columns can be off.
    let marginal_error =
        cols_sum.f_sub(&solver.b.f_to_kind(Kind::Double)?)?.f_abs()?.f_sum(Kind::Double)?.f_double_value(&[])?;
    let dot = |u: &Tensor, w: &Tensor| -> Result<f64> {
        Ok(u.f_to_kind(Kind::Double)?.f_dot(&w.f_to_kind(Kind::Double)?)?.f_double_value(&[])?)
    };
    // Total mass is exactly 1 (rows exact), so the dual value is sum a f + sum b g.
    let dual_value = dot(&f, &solver.a)? + dot(&g, &solver.b)?;
    let stages = stage_iterations.len() as u32;
    Ok(SinkhornResult {
        f,
        g,
        plan,
        transport_cost,
        dual_value,
        marginal_error,
        iterations,
        stages,
        stage_iterations,
        converged,
        lambda,
        max_cost,
        scaling_iterations,
    })
}

#[cfg(test)]
mod tests;
