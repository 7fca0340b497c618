//! Known answers to check against: closed-form Gaussian couplings (Janati et al. 2020), the
//! BW-UVP and sliced W2 metrics, toy data sets, and the small dense linear algebra they need.
//! Nothing here is used by the algorithms themselves.

pub mod bures;
pub mod entropic_bench;
pub mod gaussian;
pub mod linalg;
pub mod metrics;
pub mod toy;
