//! The host's collective as C sees it: a struct of rank, size and an all-reduce callback that
//! dual and network training options accept. The library never links MPI; the callback is
//! where the host's MPI_Allreduce (or NCCL, Gloo, a test double of threads) goes.

use std::ffi::c_void;
use std::sync::Arc;

use super::common;
use super::dual::scones_dual_options;
use super::error::{scones_error, scones_status};
use super::train_options::scones_train_options;
use crate::runtime::collective::{Collective, Group};
use crate::runtime::error::{Error, ErrorKind, Result};

/// In-place all-reduce sum: replace buffer[0..count] on every rank by the element-wise sum over
/// all ranks (MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, comm)). count is
/// the same on every rank at each call. Return 0 on success; anything else ends the call on this
/// rank with SCONES_STATUS_CALLBACK. Called on the thread that made the training call.
pub type scones_allreduce_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, buffer: *mut f32, count: usize) -> i32>;

/// A host collective for data-parallel training (scones_dual_options_set_collective,
/// scones_train_options_set_collective). Set struct_size to sizeof(scones_collective); the
/// library copies the struct when it is set.
///
/// Each of `size` processes (ranks) calls the same training function with the same options
/// (apart from this struct's rank) on its own shard of the data, and all ranks end up with the
/// same model:
/// - the initial weights come from the seed alone, so they agree; each rank draws its
///   minibatches from a stream of (seed, rank), so the ranks see different batches;
/// - after each backward pass every gradient is flattened into one float buffer, followed by
///   the iteration's loss values and a control block of 10 slots (one per status code 1..10),
///   and allreduce_sum is called once; the sums divided by `size` are the mean gradient,
///   written back, and the same Adam step on every rank keeps the weights identical. With
///   paired dual batches (SCONES_BATCH_PAIRED) of m on each rank, the mean gradient is that of
///   the concatenated batch of size x m; all-pairs batches (the default) lose the pair terms
///   (x_i, y_j) whose points sit on different ranks, so they train on size x m^2 of the
///   (size x m)^2 pairs of one large batch (docs/SCALING.md);
/// - progress callbacks run on every rank, each with the objective averaged over the ranks;
/// - a rank that stops (its progress callback cancels, its host sampler or another callback
///   fails, anything else goes wrong) still joins the next all-reduce, with zero gradients and
///   its status's control slot set, and returns its own status. Every rank that sees a set slot
///   returns that status (SCONES_STATUS_CANCELLED, or the failing rank's status when one
///   failed), with a message that names the rank count that stopped; none waits for a
///   collective that will not come. The calls a rank makes, in order: one handshake once its
///   setup is done (count 266: 256 votes that fingerprint the training shape, then the control
///   block); for score networks one call per data statistic it
///   estimates (the largest pairwise distance when sigma_max is automatic, count size + 10; the
///   mean and the spread with the preconditioned parametrization, counts d + 10 and 11), the
///   largest of the ranks' distances and the statistics of all ranks' probes together being what
///   every rank then trains with; one call per iteration; and one control-only call at the end
///   (a cancel at the last report has no iteration left to ride);
/// - an allreduce_sum that returns non-zero ends the call on its rank with
///   SCONES_STATUS_CALLBACK; the other ranks are then inside or past that collective, and the
///   host's layer must fail them: MPI's default error handler (MPI_ERRORS_ARE_FATAL) aborts the
///   whole job, which is what this needs.
///
/// Pass the same options everywhere. Ranks whose widths, dimensions or iteration counts differ
/// would reach the later calls with buffers of different lengths; the handshake's votes (for
/// each of the 16 nibbles of a hash of the gradient count, loop values, iterations and call
/// kind, a 1 among 16 slots, so the sums stay exact in float) catch that, and every rank then
/// returns SCONES_STATUS_INVALID_ARGUMENT before any gradient call. Buffers are host (CPU)
/// float32 memory.
#[repr(C)]
pub struct scones_collective {
    pub struct_size: usize,
    /// This process's rank, 0 <= rank < size.
    pub rank: usize,
    /// The number of ranks, 1 to 2^20.
    pub size: usize,
    pub allreduce_sum: scones_allreduce_fn,
    pub user_data: *mut c_void,
}

/// The struct as copied from the host.
struct HostCollective {
    f: unsafe extern "C" fn(user_data: *mut c_void, buffer: *mut f32, count: usize) -> i32,
    user: *mut c_void,
    rank: usize,
    size: usize,
}

// The user pointer is the host's business; the callback is only called on the calling thread.
unsafe impl Send for HostCollective {}
unsafe impl Sync for HostCollective {}

impl Collective for HostCollective {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()> {
        // SAFETY: a host-supplied function pointer called with its own user data and a buffer
        // of exactly `len` floats that lives for the call.
        let status = unsafe { (self.f)(self.user, buf.as_mut_ptr(), buf.len()) };
        if status != 0 {
            return Err(Error::new(
                ErrorKind::Callback,
                format!(
                    "the collective's allreduce_sum returned {status} on rank {} of {} ({} floats); the other \
                     ranks must be failed by the host's collective layer (MPI aborts the job by default)",
                    self.rank,
                    self.size,
                    buf.len()
                ),
            ));
        }
        Ok(())
    }
}

/// Reads the host's struct (NULL: no collective).
fn group_from(c: *const scones_collective) -> Result<Option<Group>> {
    // SAFETY: NULL or a struct the caller owns for the duration of the setter.
    let Some(c) = (unsafe { c.as_ref() }) else { return Ok(None) };
    let need = std::mem::size_of::<scones_collective>();
    if c.struct_size < need {
        return Err(Error::invalid(format!(
            "scones_collective.struct_size must be at least {need} (sizeof(scones_collective)), got {}",
            c.struct_size
        )));
    }
    let f = c.allreduce_sum.ok_or_else(|| Error::invalid("scones_collective.allreduce_sum must not be NULL"))?;
    Ok(Some(Group::new(Arc::new(HostCollective { f, user: c.user_data, rank: c.rank, size: c.size }))?))
}

/// Trains data-parallel across the host's ranks (see scones_collective); NULL trains alone
/// again. The struct is copied; user_data must stay valid while training calls use it.
#[no_mangle]
pub extern "C" fn scones_dual_options_set_collective(
    opts: *mut scones_dual_options,
    collective: *const scones_collective,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.cfg.optim.collective = group_from(collective)?;
        Ok(())
    })
}

/// Score networks and barycentric maps trained data-parallel across the host's ranks (see
/// scones_collective); NULL trains alone again. The struct is copied; user_data must stay valid
/// while training calls use it.
#[no_mangle]
pub extern "C" fn scones_train_options_set_collective(
    opts: *mut scones_train_options,
    collective: *const scones_collective,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.optim.collective = group_from(collective)?;
        Ok(())
    })
}
