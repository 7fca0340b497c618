//! What every algorithm runs on: errors, devices and threads, seeded random streams, progress
//! and cancellation, the host's collective for data-parallel training, and the self-describing
//! model file.

pub mod atomic_file;
pub mod collective;
pub mod device;
pub mod error;
pub mod limits;
pub mod model_file;
pub mod progress;
pub(crate) mod race_checker;
pub mod rng;
pub mod threads;
