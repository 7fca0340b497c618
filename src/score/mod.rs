//! Target score sources: grad_y log tau_sigma(y), the score of the target smoothed by
//! N(0, sigma^2 I) (sigma = 0: the target itself). The sampler adds the compatibility gradient.
//!
//! A source is device-independent; [`ScoreSource::bind`] prepares it for one device (moves
//! weights, precomputes matrices) and the bound object is what the Langevin loop calls.

pub mod empirical;
pub mod function;
pub mod gaussian;
pub mod torchscript;
pub mod trained;

use tch::{Device, Tensor};

use crate::runtime::error::Result;

pub use empirical::EmpiricalScore;
pub use function::FunctionScore;
pub use gaussian::GaussianScore;
pub use torchscript::TorchScriptScore;
pub use trained::TrainedScore;

pub trait ScoreSource: Send + Sync {
    /// Dimension of the target space.
    fn dim(&self) -> usize;
    /// A short description for messages.
    fn describe(&self) -> String;
    fn bind(&self, device: Device) -> Result<Box<dyn BoundScore>>;
}

pub trait BoundScore: Send {
    /// y [n, d] float32 on the bound device -> score [n, d].
    fn score(&mut self, y: &Tensor, sigma: f64) -> Result<Tensor>;
    /// log tau_sigma(y) up to an additive constant, when the source knows it (it allows the
    /// Metropolis-adjusted step). Default: unknown.
    fn log_density(&mut self, _y: &Tensor, _sigma: f64) -> Result<Option<Tensor>> {
        Ok(None)
    }
    /// Both at once, for a Metropolis-adjusted step; a source whose score and log-density share
    /// work overrides it.
    fn score_and_log_density(&mut self, y: &Tensor, sigma: f64) -> Result<(Tensor, Option<Tensor>)> {
        Ok((self.score(y, sigma)?, self.log_density(y, sigma)?))
    }
}
