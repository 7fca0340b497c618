//! Data-parallel training across processes (MPI ranks, or any other group) through one host
//! operation: an in-place all-reduce sum over a float32 buffer. The library never links MPI;
//! the host hands in whatever collective layer it already runs on.
//!
//! Every rank starts from the same weights (they come from the seed alone), draws its
//! minibatches from a stream of (seed, rank), and after each backward pass joins exactly one
//! all-reduce of one buffer: every parameter gradient flattened in order, the loop's scalars
//! (losses, shifts) and a control block. Dividing the sums by the group size gives every rank
//! the mean gradient, so the same Adam step keeps the weights identical; with paired batches of
//! m on each of p ranks the mean gradient is the gradient of the concatenated batch of p m.
//!
//! The control block has one slot per [`ErrorKind`]: a rank that stops (its progress observer
//! cancelled, its host sampler failed, anything else went wrong) still joins the next
//! collective, with zero gradients and a 1 in its kind's slot, and then returns its own error.
//! A rank that sees any slot non-zero after the sum returns an error of that kind (other kinds
//! before `Cancelled`, lowest code first), so every rank ends the call with a status and none
//! waits for a collective that will never come. The sequence of collectives every rank makes:
//! one handshake after setup (shape votes and the control block; see [`Lockstep::start`]), the trainer's setup exchanges (score networks), one
//! full exchange per iteration, one control-only exchange at the end (a cancel at the last
//! report has no later iteration to travel with). A host all-reduce that fails ends the call on
//! that rank only: the host's layer must then fail the others, as MPI's default error handler
//! does by aborting the job.

use std::fmt;
use std::sync::Arc;

use tch::{Device, Kind, Tensor};

use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::limits;

/// The host's group: this process's rank, the group size, and an in-place sum across ranks.
pub trait Collective {
    fn rank(&self) -> usize;
    fn size(&self) -> usize;
    /// Replaces `buf` on every rank by the element-wise sum of every rank's `buf` (same length
    /// on every rank). An error ends the call on this rank.
    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()>;
}

/// A checked collective that training options carry (cloning shares it).
#[derive(Clone)]
pub struct Group(Arc<dyn Collective + Send + Sync>);

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Group(rank {} of {})", self.rank(), self.size())
    }
}

/// The control block: one slot per error kind, in the order of the C status codes.
const KINDS: [ErrorKind; 10] = [
    ErrorKind::InvalidArgument,
    ErrorKind::ShapeMismatch,
    ErrorKind::NonFinite,
    ErrorKind::Io,
    ErrorKind::Format,
    ErrorKind::DeviceUnavailable,
    ErrorKind::Cancelled,
    ErrorKind::Diverged,
    ErrorKind::Callback,
    ErrorKind::Internal,
];
pub const CONTROL_SLOTS: usize = KINDS.len();

impl Group {
    /// Checks rank < size and size <= 2^20 (`limits::MAX_RANKS`): counts in the control block are
    /// summed in float32, exact up to 2^24.
    pub fn new(c: Arc<dyn Collective + Send + Sync>) -> Result<Group> {
        let (rank, size) = (c.rank(), c.size());
        limits::count("collective size", size, limits::MAX_RANKS)?;
        if rank >= size {
            return Err(Error::invalid(format!("collective rank must lie in 0..{size}, got {rank}")));
        }
        Ok(Group(c))
    }

    pub fn rank(&self) -> usize {
        self.0.rank()
    }

    pub fn size(&self) -> usize {
        self.0.size()
    }

    /// The seed of this rank's minibatch stream: the seed and the rank mixed (SplitMix64), so
    /// ranks draw different batches while the weights, drawn from the seed alone, agree.
    pub fn data_seed(&self, seed: u64) -> u64 {
        splitmix(seed ^ splitmix(0x9e37_79b9_7f4a_7c15 ^ self.rank() as u64))
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One training call's side of the protocol above; with no group every method is free and
/// changes nothing, so a loop reads the same with and without one.
pub struct Lockstep {
    group: Option<Group>,
    what: String,
    /// Gradient elements per exchange.
    params: usize,
    /// Loop scalars averaged with the gradients.
    scalars: usize,
    buf: Vec<f32>,
    /// Full exchanges the loop will make, and made so far.
    iterations: usize,
    done: usize,
    /// Set once this rank has seen a stop (its own or another's) or its all-reduce failed:
    /// from then on it joins no further collective.
    ended: bool,
}

impl Lockstep {
    /// `what` names the call in errors ("dual training"). [`Lockstep::shape`] sizes the
    /// iteration buffer once the networks exist.
    pub fn new(group: Option<&Group>, what: &str) -> Lockstep {
        Lockstep {
            group: group.cloned(),
            what: what.to_string(),
            params: 0,
            scalars: 0,
            buf: Vec::new(),
            iterations: 0,
            done: 0,
            ended: false,
        }
    }

    /// `params` gradient elements and `scalars` loop values averaged with them at each of
    /// `iterations` exchanges.
    pub fn shape(&mut self, params: usize, scalars: usize, iterations: usize) -> Result<()> {
        if self.group.is_some() {
            limits::at_most("gradient elements", params, limits::MAX_ELEMENTS - scalars - CONTROL_SLOTS)?;
            self.buf = vec![0.0; params + scalars + CONTROL_SLOTS];
        }
        (self.params, self.scalars, self.iterations) = (params, scalars, iterations);
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        self.group.is_some()
    }

    pub fn size(&self) -> usize {
        self.group.as_ref().map_or(1, Group::size)
    }

    pub fn rank_and_size(&self) -> (usize, usize) {
        self.group.as_ref().map_or((0, 1), |g| (g.rank(), g.size()))
    }

    /// The handshake after setup: every rank reports whether its setup (networks, measures,
    /// statistics) succeeded, so one that failed there does not leave the others waiting at
    /// the first gradient exchange. It also checks that every rank trains the same shape (the
    /// call, gradient and scalar counts, iterations): ranks given different widths, dimensions
    /// or iteration counts would otherwise reach the host's all-reduce with buffers of different
    /// lengths, which MPI answers with an abort or worse. Every rank sees the same sums, so all
    /// of them refuse together.
    pub fn start<T>(&mut self, setup: Result<T>) -> Result<T> {
        let mut votes = if self.group.is_some() { self.shape_votes() } else { Vec::new() };
        self.exchange_values(&mut votes, setup.as_ref().err().cloned())?;
        if self.group.is_some() && setup.is_ok() {
            let size = self.size() as f32;
            let agree = votes.chunks(16).all(|nibble| nibble.contains(&size));
            if !agree {
                self.ended = true;
                return Err(Error::invalid(format!(
                    "{}: the ranks disagree on the training shape (rank {} has {} gradient elements, {} loop \
                     values, {} iterations): pass the same options and data dimensions on every rank",
                    self.what,
                    self.rank_and_size().0,
                    self.params,
                    self.scalars,
                    self.iterations
                )));
            }
        }
        setup
    }

    /// A fingerprint of this rank's shape as votes that sum exactly in float32 for any group
    /// size (counts up to 2^20 < 2^24): for each of the 16 nibbles of a 64-bit hash, a 1 in the
    /// nibble's value among 16 slots. The ranks agree when each nibble has one slot counting
    /// every rank (a mismatch goes unseen with probability 2^-64).
    fn shape_votes(&self) -> Vec<f32> {
        let mut h = splitmix(self.params as u64);
        h = splitmix(h ^ self.scalars as u64);
        h = splitmix(h ^ self.iterations as u64);
        for b in self.what.bytes() {
            h = splitmix(h ^ u64::from(b));
        }
        let mut votes = vec![0.0f32; 16 * 16];
        for i in 0..16 {
            votes[16 * i + ((h >> (4 * i)) & 15) as usize] = 1.0;
        }
        votes
    }

    /// A setup exchange: `values` summed across ranks (not averaged), or this rank's `local`
    /// error announced to the others.
    pub fn exchange_values(&mut self, values: &mut [f32], local: Option<Error>) -> Result<()> {
        if self.group.is_none() {
            return local.map_or(Ok(()), Err);
        }
        if self.ended {
            return Err(
                local.unwrap_or_else(|| Error::internal(format!("{}: collective used after a stop", self.what)))
            );
        }
        let mut block = vec![0.0f32; values.len() + CONTROL_SLOTS];
        if local.is_none() {
            block[..values.len()].copy_from_slice(values);
        }
        self.run(&mut block, local)?;
        values.copy_from_slice(&block[..values.len()]);
        Ok(())
    }

    /// After backward: replaces every gradient of `params` by its mean over the ranks and each
    /// of `scalars` by its mean, in one all-reduce. An error when any rank stopped.
    pub fn gradients(&mut self, params: &[&Tensor], scalars: &mut [f64]) -> Result<()> {
        let Some(_) = &self.group else { return Ok(()) };
        if scalars.len() != self.scalars {
            return Err(Error::internal(format!(
                "{}: {} loop scalars, expected {}",
                self.what,
                scalars.len(),
                self.scalars
            )));
        }
        let flat = tch::no_grad(|| -> Result<Tensor> {
            let grads = params
                .iter()
                .map(|p| {
                    let g = p.grad();
                    if !g.defined() {
                        return Err(Error::internal(format!("{}: a parameter has no gradient", self.what)));
                    }
                    Ok(g.f_reshape([-1])?)
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Tensor::f_cat(&grads, 0)?.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?.f_contiguous()?)
        })?;
        if flat.numel() != self.params {
            return Err(Error::internal(format!(
                "{}: {} gradient elements, expected {}",
                self.what,
                flat.numel(),
                self.params
            )));
        }
        let mut buf = std::mem::take(&mut self.buf);
        flat.f_copy_data(&mut buf[..self.params], self.params)?;
        for (b, s) in buf[self.params..self.params + self.scalars].iter_mut().zip(scalars.iter()) {
            *b = *s as f32;
        }
        buf[self.params + self.scalars..].fill(0.0);
        let outcome = self.run(&mut buf, None);
        self.done += 1;
        let result = outcome.and_then(|()| {
            let inv = 1.0 / self.size() as f32;
            for v in &mut buf[..self.params + self.scalars] {
                *v *= inv;
            }
            for (s, b) in scalars.iter_mut().zip(&buf[self.params..self.params + self.scalars]) {
                *s = *b as f64;
            }
            tch::no_grad(|| -> Result<()> {
                let mean = Tensor::f_from_slice(&buf[..self.params])?;
                let mut at = 0i64;
                for p in params {
                    let mut g = p.grad();
                    let n = g.numel() as i64;
                    let src = mean.f_narrow(0, at, n)?.f_view_as(&g)?.f_to_device(g.device())?.f_to_kind(g.kind())?;
                    g.f_copy_(&src)?;
                    at += n;
                }
                Ok(())
            })
        });
        self.buf = buf;
        result
    }

    /// This rank stops with `e`: it joins the collective the others will make next (the next
    /// iteration's, or the final one once every iteration has exchanged) with zero gradients
    /// and its kind's control slot set, then returns `e`. A rank that already ended returns `e`.
    pub fn fail(&mut self, e: Error) -> Error {
        if self.group.is_none() || self.ended {
            return e;
        }
        let len = if self.done < self.iterations { self.buf.len() } else { CONTROL_SLOTS };
        let mut block = vec![0.0f32; len];
        let _ = self.run(&mut block, Some(e.clone()));
        e
    }

    /// The last collective of the call: a stop announced after the last iteration's exchange.
    pub fn finish(&mut self) -> Result<()> {
        if self.group.is_none() {
            return Ok(());
        }
        let mut none = [];
        self.exchange_values(&mut none, None)
    }

    /// One all-reduce of `block`, whose last CONTROL_SLOTS entries are the control block.
    fn run(&mut self, block: &mut [f32], local: Option<Error>) -> Result<()> {
        let group = self.group.as_ref().expect("run needs a group");
        let n = block.len();
        if let Some(e) = &local {
            block[n - CONTROL_SLOTS..].fill(0.0);
            let slot = KINDS.iter().position(|k| *k == e.kind).unwrap_or(KINDS.len() - 1);
            block[n - CONTROL_SLOTS + slot] = 1.0;
        }
        if let Err(e) = group.0.all_reduce_sum(block) {
            self.ended = true;
            return Err(local.unwrap_or(e));
        }
        if let Some(e) = local {
            self.ended = true;
            return Err(e);
        }
        let control = &block[n - CONTROL_SLOTS..];
        if control.iter().any(|&c| c != 0.0) {
            self.ended = true;
            let cancel = KINDS.iter().position(|k| *k == ErrorKind::Cancelled).expect("listed");
            let slot = (0..CONTROL_SLOTS).filter(|&i| i != cancel).find(|&i| control[i] != 0.0).unwrap_or(cancel);
            let stopped: f32 = control.iter().sum();
            return Err(Error::new(
                KINDS[slot],
                format!(
                    "{} stopped on rank {} of {} because {} other rank(s) stopped ({} there; that rank's error says why)",
                    self.what,
                    group.rank(),
                    group.size(),
                    stopped,
                    kind_name(KINDS[slot])
                ),
            ));
        }
        Ok(())
    }
}

fn kind_name(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::InvalidArgument => "an invalid argument",
        ErrorKind::ShapeMismatch => "a shape mismatch",
        ErrorKind::NonFinite => "non-finite input",
        ErrorKind::Io => "an I/O error",
        ErrorKind::Format => "a format error",
        ErrorKind::DeviceUnavailable => "a missing device",
        ErrorKind::Cancelled => "cancelled by the host",
        ErrorKind::Diverged => "diverged",
        ErrorKind::Callback => "a host callback failed",
        ErrorKind::Internal => "an internal error",
    }
}
