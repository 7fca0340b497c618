//! Progress reports for long calls, with cancellation: the observer returns `false` to stop.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    DualTraining,
    Sampling,
    ScoreTraining,
    BarycentricTraining,
    /// The discrete solvers (Sinkhorn, IPOT, the f-divergence dual).
    Discrete,
    /// SPOT's Algorithm 3 (generator and critics).
    SpotTraining,
}

#[derive(Clone, Debug)]
pub struct Progress {
    pub phase: Phase,
    /// Iterations (training) or Langevin steps (sampling) done so far.
    pub iteration: u64,
    pub total: u64,
    /// Training: the objective averaged over the iterations since the last report
    /// (the dual objective J for dual training, a loss for other training). NaN when sampling.
    pub objective: f64,
    /// Dual training: E[M(V)] over the same iterations (tends to 1). Sampling: NaN.
    pub mean_compatibility: f64,
    /// Dual training: fraction of pair terms on a restricted-domain conjugate's extension.
    pub extension_fraction: f64,
    /// Sampling with Metropolis adjustment: acceptance rate so far; otherwise NaN.
    pub acceptance: f64,
    /// Discrete solvers (Sinkhorn, IPOT, f-divergence dual): the l1 violation of the marginal
    /// constraints, the quantity their stopping rules test; otherwise NaN.
    pub marginal_error: f64,
}

impl Progress {
    pub fn new(phase: Phase, iteration: u64, total: u64) -> Progress {
        Progress {
            phase,
            iteration,
            total,
            objective: f64::NAN,
            mean_compatibility: f64::NAN,
            extension_fraction: f64::NAN,
            acceptance: f64::NAN,
            marginal_error: f64::NAN,
        }
    }
}

/// Observer of progress; returning `false` cancels the call.
pub type Observer<'a> = &'a mut dyn FnMut(&Progress) -> bool;

/// An observer that never cancels.
pub fn ignore(_: &Progress) -> bool {
    true
}
