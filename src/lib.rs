//! # scones
//!
//! Score-based neural optimal transport (SCONES, Daniels, Maunu & Hand, NeurIPS 2021): learn the
//! regularized (Sinkhorn) coupling between two data sets with neural dual potentials
//! (Algorithm 1, [`Dual`]) and sample it conditionally with Langevin dynamics driven by a target
//! score plus the compatibility gradient (Algorithm 2, [`Sampler`]).
//!
//! The Rust API is [`api`], on [`ndarray`]: 2-D views of `f32` or `f64` in (any layout),
//! `Array2<f64>` out, errors as [`Error`]; its main types are re-exported here. The math modules
//! below it ([`neural`], [`score`], [`ot`], [`discrete`], [`reference`](mod@reference), [`runtime`]) work on
//! `tch` tensors and stay public for work at that level. The C ABI ([`ffi`], header
//! `include/scones.h`) wraps the same modules for C, C++, Julia and Go hosts; the math modules
//! know nothing of it.
//!
//! The paper's d = 2 Gaussian experiment at a small budget: learn the KL-regularized coupling
//! between N(0, A) and N(0, B), sample it with the exact target score, and compare the joint
//! covariance with the closed form.
//!
//! ```
//! use scones::api::gaussian::{self, Spectrum};
//! use scones::api::{metrics, BatchMode, Divergence};
//! use scones::{Dual, DualOptions, Sampler, SamplerOptions, Score};
//! # fn main() -> scones::Result<()> {
//! let (d, lambda) = (2, 4.0);
//! let a = gaussian::random_covariance(d, Spectrum::Geometric, 1)?;
//! let b = gaussian::random_covariance(d, Spectrum::Geometric, 2)?;
//! let x = gaussian::sample(&[0.0, 0.0], &a, 5000, 3)?; // 5000 x 2
//! let y = gaussian::sample(&[0.0, 0.0], &b, 5000, 4)?;
//!
//! // Algorithm 1: the dual potentials.
//! let options = DualOptions::new()
//!     .regularizer(Divergence::Kl, lambda)
//!     .hidden(&[32, 32])
//!     .batch(128, BatchMode::AllPairs)
//!     .iterations(200);
//! let dual = Dual::train(&x, &y, &options)?;
//!
//! // Algorithm 2: Langevin on the target score plus the compatibility gradient.
//! let score = Score::gaussian(&[0.0, 0.0], &b)?;
//! let sampling = SamplerOptions::new().steps(200, 0.05).metropolis(true);
//! let mut sampler = Sampler::new(&dual, &score, &sampling)?;
//! let x_eval = gaussian::sample(&[0.0, 0.0], &a, 2000, 5)?;
//! let y_eval = sampler.sample(&x_eval)?; // one y ~ pi(. | x) per row
//!
//! let exact = gaussian::entropic_coupling(&a, &b, lambda)?;
//! let bw = metrics::bw_uvp(&metrics::joint_covariance(&x_eval, &y_eval)?, &exact)?;
//! assert!(bw < 1.0, "BW-UVP {bw}"); // 0.15 with these seeds
//! # Ok(()) }
//! ```

// `!(x > 0.0)` is how this crate rejects NaN together with non-positive values; the lint's
// suggested `partial_cmp` spelling hides that intent.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod api;
pub mod discrete;
pub mod neural;
pub mod ot;
pub mod reference;
pub mod runtime;
pub mod score;

pub mod ffi;
pub mod plot;

pub use api::{
    Barycentric, ChainStart, Dual, DualOptions, Measure, Sampler, SamplerOptions, Score, Spot, SpotOptions,
    TrainOptions,
};
pub use runtime::error::{Error, ErrorKind, Result};

/// The library version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
