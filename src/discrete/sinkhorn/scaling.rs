//! The scaling-domain iteration (Cuturi's original form), used where it is safe and faster.
//!
//! With the kernel K_ij = exp(-(C_ij - c0) / lambda) stored once per stage (c0 = min C), one
//! Sinkhorn iteration is two matrix-vector products over K and O(m + n) exponentials, against
//! the log domain's one exponential per pair per iteration: a memory-bound pass instead of an
//! exp-bound one (POT's plain `ot.sinkhorn` is this iteration). It is used when
//!
//! - the kernel cannot underflow: (max C - min C) / lambda <= [`max_exponent`] (250 in f64), so every
//!   entry is at least e^-250 and the products below stay normal f64 (the scaled potentials add at
//!   most another e^-250: the row and column sums stay far above the f64 underflow at e^-708);
//! - it fits: m n entries of the cost's float type within [`MAX_KERNEL_BYTES`], since this
//!   domain trades the blocked solver's O((m + n) d) memory for a stored m x n kernel.
//!
//! Otherwise (small lambda: the last stages of an epsilon-scaled solve, or large problems) the
//! iteration stays in the log domain. The potentials f, g are the same in both domains, so
//! stages can switch freely, and a scaling step whose sums come out non-positive or non-finite
//! is redone in the log domain.

use super::{blocks, Solver, Step};
use crate::runtime::error::Result;
use tch::{Kind, Tensor};

/// Largest (max C - min C) / lambda at which the kernel is formed: e^-250 for f64 (underflow
/// at e^-708), e^-30 for f32 (underflow at e^-87).
pub(super) fn max_exponent(kind: Kind) -> f64 {
    if kind == Kind::Double {
        250.0
    } else {
        30.0
    }
}
/// Largest stored kernel.
pub(super) const MAX_KERNEL_BYTES: i64 = 512 << 20;

/// The kernel of one lambda.
pub(super) struct Kernel {
    pub lambda: f64,
    /// min C, subtracted before the exponential.
    pub c0: f64,
    pub k: Tensor,
}

impl Solver<'_> {
    /// The kernel at `lambda` when the scaling domain is safe there and it fits; reuses `cache`
    /// when it already holds this lambda.
    pub(super) fn kernel<'k>(
        &self,
        lambda: f64,
        cost_range: (f64, f64),
        cache: &'k mut Option<Kernel>,
    ) -> Result<Option<&'k Kernel>> {
        let (lo, hi) = cost_range;
        let (m, n) = self.ground.shape();
        let elem = self.a.kind().elt_size_in_bytes() as i64;
        let bytes = m.checked_mul(n).and_then(|e| e.checked_mul(elem));
        if !((hi - lo) / lambda <= max_exponent(self.a.kind()) && bytes.is_some_and(|b| b <= MAX_KERNEL_BYTES)) {
            *cache = None;
            return Ok(None);
        }
        if let Some(k) = cache.as_mut().filter(|k| k.lambda == 2.0 * lambda) {
            // The default epsilon schedule halves lambda: exp(-2 (C - c0) / lambda) is the
            // square of the previous kernel, one multiply per entry instead of forming the cost
            // and an exponential again.
            let _ = k.k.f_square_()?;
            k.lambda = lambda;
        }
        if cache.as_ref().map_or(true, |k| k.lambda != lambda) {
            *cache = None; // free the previous stage's kernel before forming the next
            let mut parts = Vec::new();
            for (i0, len) in blocks(m, self.rows) {
                let mut c = self.ground.cost_block(i0, len)?.f_sub_scalar(lo)?;
                let _ = c.f_mul_scalar_(-1.0 / lambda)?.f_exp_()?;
                parts.push(c);
            }
            *cache = Some(Kernel { lambda, c0: lo, k: Tensor::f_cat(&parts, 0)? });
        }
        Ok(cache.as_ref())
    }

    /// One (possibly over-relaxed) iteration in the scaling domain; None when a row or column
    /// sum is not a positive finite number (then the caller redoes it in the log domain).
    ///
    /// f_sink_i = c0 - g_max - lambda log sum_j K_ij b_j exp((g_j - g_max) / lambda), and the
    /// column masses of the plan of (f_new, g_old) are
    /// b_j exp((g_j + f_max - c0) / lambda) sum_i K_ij a_i exp((f_new_i - f_max) / lambda).
    pub(super) fn iterate_scaling(
        &self,
        kernel: &Kernel,
        f: &Tensor,
        g: &Tensor,
        lambda: f64,
        omega: f64,
    ) -> Result<Option<Step>> {
        let (m, _) = self.ground.shape();
        let inv = 1.0 / lambda;
        let k = &kernel.k;
        let g_max = g.f_max()?.f_double_value(&[])?;
        let v = g.f_sub_scalar(g_max)?.f_mul_scalar(inv)?.f_exp()?.f_mul(&self.b)?;
        let kv = k.f_mv(&v)?;
        if !positive_finite(&kv)? {
            return Ok(None);
        }
        let f_sink = kv.f_log()?.f_mul_scalar(-lambda)?.f_add_scalar(kernel.c0 - g_max)?;
        let (f_new, _, err) = self.relax_rows(f, 0, m, &f_sink, lambda, omega)?;
        let f_max = f_new.f_max()?.f_double_value(&[])?;
        let u = f_new.f_sub_scalar(f_max)?.f_mul_scalar(inv)?.f_exp()?.f_mul(&self.a)?;
        let ku = k.f_transpose(0, 1)?.f_mv(&u)?;
        if !positive_finite(&ku)? {
            return Ok(None);
        }
        let col_log = ku.f_log()?.f_add(&self.log_b)?.f_add(&g.f_add_scalar(f_max - kernel.c0)?.f_mul_scalar(inv)?)?;
        self.finish_step(vec![f_new], vec![err], col_log, g, lambda, omega).map(Some)
    }
}

fn positive_finite(t: &Tensor) -> Result<bool> {
    let lo = t.f_min()?.f_to_kind(Kind::Double)?.f_double_value(&[])?;
    let hi = t.f_max()?.f_to_kind(Kind::Double)?.f_double_value(&[])?;
    Ok(lo > 0.0 && hi.is_finite())
}
