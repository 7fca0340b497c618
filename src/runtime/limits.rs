//! Caps on every size a caller controls, in one place: elements per matrix view, counts that
//! size allocations (batches, widths, samples, levels, projections) and counts that drive loops
//! (iterations, steps, threads). A value over its cap is an invalid argument, reported before
//! anything is allocated or looped over, so a garbage or hostile count can neither abort the
//! process in the allocator nor run unbounded.
//!
//! The caps are far above any run this library is meant for (the paper's largest batch is
//! 1,000, its largest network 2,048 wide), and far below what would exhaust a machine.

use crate::runtime::error::{Error, Result};

/// Elements in one matrix view, input or output (2^31: 16 GiB of f64). Also the cap on any
/// buffer the library sizes from caller counts.
pub(crate) const MAX_ELEMENTS: usize = 1 << 31;
/// Minibatch size of any training loop.
pub(crate) const MAX_BATCH: usize = 1 << 20;
/// Pair terms of one all-pairs minibatch (m^2): a 16,384-point batch, a 1 GiB f32 matrix.
pub(crate) const MAX_PAIR_TERMS: usize = 1 << 28;
/// Weights of one network (sum over layers of fan_in x fan_out).
pub(crate) const MAX_PARAMETERS: usize = 1 << 28;
/// Iterations of a training loop or a discrete solver, and Langevin steps per level.
pub(crate) const MAX_ITERATIONS: usize = 1 << 31;
/// Noise levels (score training and annealed sampling).
pub(crate) const MAX_NOISE_LEVELS: usize = 1 << 16;
/// Samples per source point and parallel chains per call.
pub(crate) const MAX_SAMPLES_PER_SOURCE: usize = 1 << 20;
/// Target rows a sampler may resample its starts from: a block of 16 chains holds 16 x N
/// double weights (512 MiB at this cap).
pub(crate) const MAX_RESAMPLE_TARGETS: usize = 1 << 22;
/// Random projections of the sliced Wasserstein distance.
pub(crate) const MAX_PROJECTIONS: usize = 1 << 20;
/// Source x target pairs of one discrete sweep (Sinkhorn, IPOT, f-divergence dual): 2^32, a
/// 16 GiB float32 cost matrix when it is formed whole.
pub(crate) const MAX_COST_ENTRIES: usize = 1 << 32;
/// Rows of an assignment problem, whose O(n^3) solver has no cancellation point.
pub(crate) const MAX_ASSIGNMENT: usize = 1 << 14;
/// Dimension of a callback measure or score (each call allocates n x d).
pub(crate) const MAX_DIMENSION: usize = 1 << 20;
/// Ranks of a data-parallel collective: the control block's counts are summed in float32,
/// exact far beyond this.
pub(crate) const MAX_RANKS: usize = 1 << 20;
/// libtorch intra-op threads (0 leaves the process setting as is).
pub(crate) const MAX_THREADS: usize = 1024;

/// Chi-square softplus sharpness: the paper uses 10 to 1000; far beyond, beta x v overflows
/// float32 and the smoothing is a plain relu anyway.
pub(crate) const MAX_SOFTPLUS_BETA: f64 = 1e6;

/// The softplus beta's cap (its other rules are the regularizer's).
pub(crate) fn softplus_beta(beta: f64) -> Result<()> {
    if beta > MAX_SOFTPLUS_BETA {
        return Err(Error::invalid(format!("softplus beta must be at most {MAX_SOFTPLUS_BETA:e}, got {beta:e}")));
    }
    Ok(())
}

/// `value` must lie in 1..=cap; `what` names it in the error.
pub(crate) fn count(what: &str, value: usize, cap: usize) -> Result<usize> {
    if value == 0 || value > cap {
        return Err(Error::invalid(format!("{what} must lie in 1..={cap}, got {value}")));
    }
    Ok(value)
}

/// `value` must be at most cap (0 allowed: a loop that runs no times).
pub(crate) fn at_most(what: &str, value: usize, cap: usize) -> Result<usize> {
    if value > cap {
        return Err(Error::invalid(format!("{what} must be at most {cap}, got {value}")));
    }
    Ok(value)
}

/// Like [`count`] for values held as u64 at the C boundary.
pub(crate) fn count_u64(what: &str, value: u64, cap: usize) -> Result<usize> {
    let v = usize::try_from(value).unwrap_or(usize::MAX);
    count(what, v, cap)
}

/// A thread count: 0 (leave libtorch's setting) or 1..=MAX_THREADS.
pub(crate) fn threads(value: usize) -> Result<usize> {
    if value > MAX_THREADS {
        return Err(Error::invalid(format!("threads must lie in 0..={MAX_THREADS} (0 = the fair share), got {value}")));
    }
    Ok(value)
}

/// rows x cols, checked for overflow and against [`MAX_ELEMENTS`].
pub(crate) fn elements(what: &str, rows: usize, cols: usize) -> Result<usize> {
    match rows.checked_mul(cols) {
        Some(n) if n <= MAX_ELEMENTS => Ok(n),
        _ => Err(Error::invalid(format!(
            "{what}: {rows} x {cols} elements exceed the cap of {MAX_ELEMENTS} elements per matrix"
        ))),
    }
}

/// A Vec with room for `n` values, or an error instead of the allocator's abort.
pub(crate) fn try_vec<T>(what: &str, n: usize) -> Result<Vec<T>> {
    if n > MAX_ELEMENTS {
        return Err(Error::invalid(format!("{what}: {n} values exceed the cap of {MAX_ELEMENTS}")));
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::invalid(format!("{what}: cannot allocate {n} values")))?;
    Ok(v)
}

/// Weights of an MLP with the given input width, hidden widths and output width, checked
/// against [`MAX_PARAMETERS`] without overflow (widths are caller counts).
pub(crate) fn network(what: &str, input: usize, hidden: &[usize], output: usize) -> Result<()> {
    let mut total: usize = 0;
    let mut fan_in = input;
    for &w in hidden.iter().chain(std::iter::once(&output)) {
        total = fan_in.checked_mul(w).and_then(|p| total.checked_add(p)).unwrap_or(usize::MAX);
        fan_in = w;
    }
    if total > MAX_PARAMETERS {
        return Err(Error::invalid(format!("{what}: the network would hold more than {MAX_PARAMETERS} weights")));
    }
    Ok(())
}

/// Minibatch size m and, for all-pairs batches, its m^2 pair terms.
pub(crate) fn batch(m: usize, all_pairs: bool) -> Result<()> {
    count("batch size", m, MAX_BATCH)?;
    if all_pairs && m.saturating_mul(m) > MAX_PAIR_TERMS {
        return Err(Error::invalid(format!(
            "an all-pairs batch of {m} would hold {m}^2 pair terms (cap {MAX_PAIR_TERMS}); use a smaller batch or paired batches"
        )));
    }
    Ok(())
}

/// The device grammar, exactly: `cpu`, `cuda`, `cuda:N` (N decimal digits, no sign, no spaces)
/// or `auto`. Checked before the device module's parse, which is lenient about whitespace.
pub(crate) fn device_name(name: &str) -> Result<()> {
    let ok = match name {
        "cpu" | "cuda" | "auto" => true,
        _ => name
            .strip_prefix("cuda:")
            .is_some_and(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit())),
    };
    if !ok {
        return Err(Error::invalid(format!("device {name:?} is not one of cpu, cuda, cuda:N or auto")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reject_zero_and_above_cap() {
        assert!(count("n", 0, 10).is_err() && count("n", 11, 10).is_err());
        assert_eq!(count("n", 10, 10).unwrap(), 10);
        assert!(count_u64("n", 1 << 40, MAX_ITERATIONS).is_err());
        assert!(threads(1 << 31).is_err() && threads(usize::MAX).is_err() && threads((1 << 32) + 1).is_err());
        assert_eq!(threads(0).unwrap(), 0);
    }

    #[test]
    fn elements_catch_overflow_and_cap() {
        assert!(elements("m", 1 << 32, 1 << 32).is_err(), "wraps to 0 without the checked product");
        assert!(elements("m", usize::MAX, 2).is_err());
        assert!(elements("m", MAX_ELEMENTS, 2).is_err());
        assert_eq!(elements("m", 3, 4).unwrap(), 12);
    }

    #[test]
    fn try_vec_fails_instead_of_aborting() {
        assert!(try_vec::<f64>("v", usize::MAX / 2).is_err());
        assert!(try_vec::<f64>("v", 16).unwrap().capacity() >= 16);
    }

    #[test]
    fn networks_and_batches() {
        assert!(network("phi", 2, &[1_000_000_000], 1).is_err(), "hidden width 1e9");
        assert!(network("phi", 2, &[usize::MAX, usize::MAX], 1).is_err(), "overflowing product");
        assert!(network("phi", 2, &[256, 256], 1).is_ok());
        assert!(batch(1 << 32, true).is_err() && batch(usize::MAX, false).is_err());
        assert!(batch(20_000, true).is_err() && batch(20_000, false).is_ok() && batch(500, true).is_ok());
    }

    #[test]
    fn device_grammar_is_exact() {
        for good in ["cpu", "cuda", "cuda:0", "cuda:12", "auto"] {
            assert!(device_name(good).is_ok(), "{good}");
        }
        for bad in ["", " cpu", "cpu\n", "CPU", "cuda:", "cuda:-1", "cuda: 1", "cuda:+1", "cuda:99999999999", "gpu"] {
            assert!(device_name(bad).is_err(), "{bad:?}");
        }
    }
}
