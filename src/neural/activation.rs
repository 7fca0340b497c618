//! Hidden-layer nonlinearities of the networks, with the derivatives the hand-written input
//! gradients need.

use tch::Tensor;

use crate::runtime::error::{Error, Result};

/// Hidden-layer nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// The paper's potentials and maps.
    Relu,
    /// x sigmoid(x): smooth, for score networks, whose output is itself a gradient field that
    /// Langevin follows (a ReLU score is piecewise constant in y).
    Silu,
    /// max(z, z / 5): SPOT's generators and critics (thesis ch. 3, "Leaky-ReLU"; the slope is
    /// not given there, 0.2 is the common choice for Wasserstein GAN critics).
    LeakyRelu,
}

/// Negative-side slope of [`Activation::LeakyRelu`].
pub const LEAKY_SLOPE: f64 = 0.2;

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Silu => "silu",
            Activation::LeakyRelu => "leaky_relu",
        }
    }

    pub fn from_name(s: &str) -> Result<Activation> {
        match s {
            "relu" => Ok(Activation::Relu),
            "silu" => Ok(Activation::Silu),
            "leaky_relu" => Ok(Activation::LeakyRelu),
            _ => Err(Error::format(format!("unsupported activation '{s}'"))),
        }
    }

    pub(crate) fn apply(self, z: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Relu => z.f_relu()?,
            Activation::Silu => z.f_silu()?,
            // PReLU with a constant slope: one kernel each way, where max(z, 0.2 z) costs five
            // (its backward builds comparison masks), which dominated SPOT's small networks.
            Activation::LeakyRelu => z.f_prelu(&Tensor::f_full([1], LEAKY_SLOPE, (z.kind(), z.device()))?)?,
        })
    }

    /// The derivative at the pre-activation z.
    pub(crate) fn derivative(self, z: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Relu => z.f_gt(0.0)?.f_to_kind(z.kind())?,
            Activation::LeakyRelu => {
                z.f_gt(0.0)?.f_to_kind(z.kind())?.f_mul_scalar(1.0 - LEAKY_SLOPE)?.f_add_scalar(LEAKY_SLOPE)?
            }
            Activation::Silu => {
                let s = z.f_sigmoid()?;
                // d/dz z s(z) = s (1 + z (1 - s))
                s.f_mul(&z.f_mul(&s.f_neg()?.f_add_scalar(1.0)?)?.f_add_scalar(1.0)?)?
            }
        })
    }
}
