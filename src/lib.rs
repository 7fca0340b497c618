//! # scones
//!
//! Score-based neural optimal transport (SCONES, Daniels, Maunu & Hand, NeurIPS 2021): learn the
//! regularized (Sinkhorn) coupling between two data sets with neural dual potentials
//! (Algorithm 1, [`dual`]) and sample it conditionally with Langevin dynamics driven by a target
//! score plus the compatibility gradient (Algorithm 2, [`sampler`]).
//!
//! The Rust API is the modules below; the C ABI ([`ffi`], header `include/scones.h`) wraps them
//! for C, C++, Julia and Go hosts. The math modules know nothing of the C ABI.
//!
//! ```no_run
//! use std::sync::Arc;
//! use scones::{dual, gaussian, measure::Empirical, ot, progress, sampler, score};
//! # fn main() -> scones::runtime::error::Result<()> {
//! let d = 2;
//! let a = gaussian::random_covariance(d, gaussian::Spectrum::Geometric, 1)?;
//! let b = gaussian::random_covariance(d, gaussian::Spectrum::Geometric, 2)?;
//! let x = gaussian::sample(&vec![0.0; d], &a, 10_000, 3)?;
//! let y = gaussian::sample(&vec![0.0; d], &b, 10_000, 4)?;
//! let to_t = |v: &[f64]| tch::Tensor::from_slice(v).view([-1, d as i64]).to_kind(tch::Kind::Float);
//! let reg = ot::Regularizer::new(ot::Divergence::Kl, 2.0 * d as f64)?;
//! let cfg = dual::DualConfig::new(reg);
//! let (mut src, mut tgt) = (Empirical::new(&to_t(&x), cfg.optim.device)?, Empirical::new(&to_t(&y), cfg.optim.device)?);
//! let (potentials, _) = dual::train(&cfg, &mut src, &mut tgt, &mut progress::ignore)?;
//! let target_score = Arc::new(score::GaussianScore::new(&vec![0.0; d], &b)?);
//! let mut s = sampler::Sampler::new(&potentials, target_score, sampler::SamplerConfig::new())?;
//! let (samples, _) = s.sample(&to_t(&x), &mut progress::ignore)?;
//! # Ok(()) }
//! ```

pub mod discrete;
pub mod neural;
pub mod ot;
pub mod reference;
pub mod runtime;
pub mod score;

pub mod ffi;
pub mod plot;

pub use runtime::error::{Error, ErrorKind, Result};

/// The library version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
