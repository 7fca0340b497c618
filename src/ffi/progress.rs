//! The progress callback as C sees it: the phase values, the report struct and the hook that
//! forwards a Rust `Progress` to the host.

use std::ffi::c_void;

use crate::runtime::progress::{Phase, Progress};

/// What a progress report is about; one of the SCONES_PHASE_* values.
pub type scones_phase = i32;
pub const SCONES_PHASE_DUAL_TRAINING: scones_phase = 0;
pub const SCONES_PHASE_SAMPLING: scones_phase = 1;
pub const SCONES_PHASE_SCORE_TRAINING: scones_phase = 2;
pub const SCONES_PHASE_BARYCENTRIC_TRAINING: scones_phase = 3;
/// The discrete solvers (Sinkhorn, IPOT, the f-divergence dual), since ABI 0.2; in 0.1 they
/// reported as SCONES_PHASE_DUAL_TRAINING.
pub const SCONES_PHASE_DISCRETE: scones_phase = 4;
/// SPOT training (Algorithm 3 of the thesis' chapter 3), since ABI 0.3. objective is the batch
/// plan cost E c(G(z)); marginal_error the critics' summed gap E phi(G(z)) - E phi(x), an
/// estimate from below of the Wasserstein-1 distance of the generated marginals to the data.
pub const SCONES_PHASE_SPOT_TRAINING: scones_phase = 5;

/// A progress report. struct_size is sizeof(scones_progress) of the library that filled it:
/// fields may be appended in later versions, never reordered. Fields that do not apply to the
/// phase are NaN.
#[repr(C)]
pub struct scones_progress {
    pub struct_size: usize,
    pub phase: scones_phase,
    /// Steps done: training iterations, or Langevin steps while sampling.
    pub iteration: u64,
    /// Steps the call will take in all.
    pub total: u64,
    /// Training: the loss (for dual training the objective J) averaged over the steps since the
    /// previous report.
    pub objective: f64,
    /// Dual training: E[M(V)] since the previous report; 1 once the marginals are met.
    pub mean_compatibility: f64,
    /// Dual training: share of pair terms that fell on the extension of a conjugate whose
    /// domain is restricted.
    pub extension_fraction: f64,
    /// Sampling with Metropolis adjustment: share of proposals accepted so far.
    pub acceptance: f64,
    /// Discrete solvers: the current l1 violation of the marginal constraints, the quantity
    /// their stopping rules test. SPOT training: the critics' summed gap E phi(G(z)) - E phi(x).
    /// Since ABI 0.2: read it only when struct_size >=
    /// offsetof(scones_progress, marginal_error) + sizeof(double).
    pub marginal_error: f64,
}

/// Progress callback: return 0 to continue, anything else to cancel the call (which then fails
/// with SCONES_STATUS_CANCELLED and produces nothing). Called on the thread that made the call.
pub type scones_progress_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, progress: *const scones_progress) -> i32>;

/// A host callback with its user data; no callback means "never cancel".
#[derive(Clone, Copy)]
pub(crate) struct ProgressHook {
    pub f: scones_progress_fn,
    pub user: *mut c_void,
}

// The user pointer is the host's business; the hook is only called on the calling thread.
unsafe impl Send for ProgressHook {}
unsafe impl Sync for ProgressHook {}

impl Default for ProgressHook {
    fn default() -> Self {
        ProgressHook { f: None, user: std::ptr::null_mut() }
    }
}

impl ProgressHook {
    /// The Rust observer that forwards to the C callback.
    pub fn observe(&self, p: &Progress) -> bool {
        let Some(f) = self.f else { return true };
        let c = scones_progress {
            struct_size: std::mem::size_of::<scones_progress>(),
            phase: match p.phase {
                Phase::DualTraining => SCONES_PHASE_DUAL_TRAINING,
                Phase::Sampling => SCONES_PHASE_SAMPLING,
                Phase::ScoreTraining => SCONES_PHASE_SCORE_TRAINING,
                Phase::BarycentricTraining => SCONES_PHASE_BARYCENTRIC_TRAINING,
                Phase::Discrete => SCONES_PHASE_DISCRETE,
                Phase::SpotTraining => SCONES_PHASE_SPOT_TRAINING,
            },
            iteration: p.iteration,
            total: p.total,
            objective: p.objective,
            mean_compatibility: p.mean_compatibility,
            extension_fraction: p.extension_fraction,
            acceptance: p.acceptance,
            marginal_error: p.marginal_error,
        };
        // SAFETY: a host-supplied function pointer called with its own user data.
        unsafe { f(self.user, &c) == 0 }
    }
}

/// What the host sets for a call besides the math: libtorch's thread count and the progress
/// callback.
#[derive(Clone, Copy, Default)]
pub(crate) struct Caller {
    pub threads: usize,
    pub progress: ProgressHook,
}

impl Caller {
    /// Applies the thread count (the host's, or the fair share that follows the machine's load:
    /// runtime/threads.rs) and returns the observer to hand to the math.
    pub fn start(&self) -> impl FnMut(&Progress) -> bool {
        let hook = self.progress;
        crate::runtime::threads::governed(self.threads, move |p| hook.observe(p))
    }
}
