//! What a `sample` call keeps per chain batch: where its random numbers come from, how it is
//! padded, and the counters it reports.

use tch::{Device, Kind, Tensor};

use crate::runtime::error::{Error, Result};
use crate::runtime::progress::{Observer, Phase, Progress};
use crate::runtime::rng::{chain_normals, Rng64, MAX_CHAINS_PER_SOURCE, MAX_NORMALS_PER_CHAIN};

/// Where one chain batch's random numbers come from.
pub(super) enum BatchNoise {
    /// CPU: one stream per chain, so a chain's numbers do not depend on its batch.
    PerChain(Vec<Rng64>),
    /// Other devices: copying host noise every step would dominate, so libtorch's device
    /// generator draws, seeded from the batch's first chain stream (see `Rng64::normal_tensor`).
    Device(Box<Rng64>, Device),
}

impl BatchNoise {
    /// `per_chain` standard normals for every chain of the batch, `[b, per_chain]` float32.
    pub(super) fn normals(&mut self, chains: usize, per_chain: usize) -> Result<Tensor> {
        match self {
            BatchNoise::PerChain(streams) => chain_normals(streams, per_chain),
            BatchNoise::Device(rng, device) => {
                rng.normal_tensor(&[chains as i64, per_chain as i64], Kind::Float, *device)
            }
        }
    }
}

/// Chain batches are padded to a multiple of this many rows (copies of the batch's last chain,
/// dropped at the end). libtorch's MKL sgemm computes a row differently when the rows a thread
/// gets are fewer than 4 (measured with torch 2.11 on AVX2, 1 to 16 threads: a batch of M rows
/// reproduced the rows of a larger batch for every M that is a multiple of 4, and failed for
/// M = 1..3 with 1 thread, M = 5..7 and 9..11 with 2 to 8, up to M = 27 with 16). Padding keeps
/// every gemm in the regime where a row depends on that row alone; 16 rather than 4 leaves a
/// margin for wider kernels on other CPUs and costs at most 15 rows per batch.
/// `tests_sharded.rs` checks the network arithmetic and the sampler across batch sizes.
pub(crate) const ROW_BLOCK: usize = 16;

/// Counters of one `sample` call, carried across chain batches.
pub(super) struct ChainStats {
    /// Sum over MALA steps of the chains that accepted, and of the chains that proposed.
    pub(super) accepted: f64,
    pub(super) proposed: f64,
    /// Langevin steps done by all batches so far, out of `total_steps`.
    pub(super) done_steps: u64,
    pub(super) total_steps: u64,
    /// Chains of the batch being run that are real (the rest pad it to [`ROW_BLOCK`] rows).
    pub(super) batch_real: usize,
}

impl ChainStats {
    /// NaN before any Metropolis-adjusted step.
    pub(super) fn acceptance(&self) -> f64 {
        if self.proposed > 0.0 {
            self.accepted / self.proposed
        } else {
            f64::NAN
        }
    }

    pub(super) fn record_mala(&mut self, accepted: f64, proposed: usize) {
        self.accepted += accepted;
        self.proposed += proposed as f64;
    }

    /// Whether the next `step_done` reports to the observer.
    pub(super) fn report_due(&self, report_every: usize) -> bool {
        (self.done_steps + 1) % report_every as u64 == 0
    }

    /// Counts one Langevin step; every `report_every` steps tells the observer, which may cancel.
    pub(super) fn step_done(&mut self, report_every: usize, observer: Observer) -> Result<()> {
        self.done_steps += 1;
        if self.done_steps % report_every as u64 == 0 {
            let mut p = Progress::new(Phase::Sampling, self.done_steps, self.total_steps);
            p.acceptance = self.acceptance();
            if !observer(&p) {
                return Err(Error::cancelled(format!("sampling cancelled by the host at step {}", self.done_steps)));
            }
        }
        Ok(())
    }
}

/// A chain's stream holds [`MAX_NORMALS_PER_CHAIN`] normals and a source
/// [`MAX_CHAINS_PER_SOURCE`] chains; a run that needs more is refused rather than letting chains
/// share numbers. A chain draws dy normals to start, then dy per step (dy + 1 with Metropolis).
pub(super) fn check_stream_budget(steps_per_chain: usize, dy: usize, metropolis: bool, k: usize) -> Result<()> {
    let per_step = dy as u64 + u64::from(metropolis);
    let normals = (steps_per_chain as u64).saturating_mul(per_step).saturating_add(dy as u64);
    if normals > MAX_NORMALS_PER_CHAIN {
        return Err(Error::invalid(format!(
            "a chain would draw {normals} normals, more than its stream's {MAX_NORMALS_PER_CHAIN}"
        )));
    }
    if k as u64 > MAX_CHAINS_PER_SOURCE {
        return Err(Error::invalid(format!("at most {MAX_CHAINS_PER_SOURCE} samples per source")));
    }
    Ok(())
}
