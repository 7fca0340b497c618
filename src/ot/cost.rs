//! Ground costs c(x, y).

use crate::runtime::error::{Error, Result};
use tch::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// sum_k (x_k - y_k)^2
    SqEuclidean,
    /// sum_k (x_k - y_k)^2 / d: the paper's image setting, which keeps the cost O(1) as d grows.
    MeanSqEuclidean,
    /// |x - y|: the Wasserstein-1 cost (SPOT's first check). Not differentiable at y = x and not
    /// split into row and column terms, so Langevin sampling refuses it ([`Cost::is_smooth`]) and
    /// Sinkhorn forms its blocks pairwise.
    Euclidean,
}

impl Cost {
    pub fn name(self) -> &'static str {
        match self {
            Cost::SqEuclidean => "sqeuclidean",
            Cost::MeanSqEuclidean => "mean_sqeuclidean",
            Cost::Euclidean => "euclidean",
        }
    }

    pub fn from_name(s: &str) -> Result<Cost> {
        match s {
            "sqeuclidean" => Ok(Cost::SqEuclidean),
            "mean_sqeuclidean" => Ok(Cost::MeanSqEuclidean),
            "euclidean" => Ok(Cost::Euclidean),
            _ => Err(Error::format(format!("unknown cost '{s}'"))),
        }
    }

    /// Whether c is twice differentiable in y with the constant curvature [`Cost::y_curvature`]
    /// (the squared costs), which Langevin sampling of pi(y | x) needs.
    pub fn is_smooth(self) -> bool {
        !matches!(self, Cost::Euclidean)
    }

    /// Refuses a cost without a smooth y-gradient, for callers that follow one.
    pub fn require_smooth(self, what: &str) -> Result<()> {
        if self.is_smooth() {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "{what} needs a cost differentiable in y with bounded curvature; {} is not (use sqeuclidean or mean_sqeuclidean)",
            self.name()
        )))
    }

    /// Every cost coordinates one to one, so source and target dimensions must agree.
    pub fn check_dims(self, dx: usize, dy: usize) -> Result<()> {
        if dx != dy {
            return Err(Error::shape(format!(
                "cost {} needs source and target of the same dimension, got {dx} and {dy}",
                self.name()
            )));
        }
        Ok(())
    }

    /// The y-Hessian of c(x, y) is this times the identity (2 for the squared Euclidean cost):
    /// the stiffness the compatibility term adds to a Langevin chain in y (smooth costs only).
    pub fn y_curvature(self, dy: usize) -> f64 {
        2.0 * self.scale(dy as i64)
    }

    /// The factor s of the squared costs s |x - y|^2 (1 for the Euclidean cost, which is not one).
    pub(crate) fn scale(self, d: i64) -> f64 {
        match self {
            Cost::SqEuclidean | Cost::Euclidean => 1.0,
            Cost::MeanSqEuclidean => 1.0 / d as f64,
        }
    }

    /// c(x_i, y_i) for rows of x [m, d] and y [m, d] -> \[m\].
    pub fn paired(self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let d = x.size()[1];
        let sq = x.f_sub(y)?.f_square()?.f_sum_dim_intlist(1, false, None)?;
        match self {
            // norm's backward is 0 at a zero difference (a subgradient), where
            // sqrt of the sum of squares would give 0 / 0.
            Cost::Euclidean => Ok(x.f_sub(y)?.f_norm_scalaropt_dim(2.0, [1i64].as_slice(), false)?),
            _ => Ok(sq.f_mul_scalar(self.scale(d))?),
        }
    }

    /// c(x_i, y_j) for all pairs: x [m, d], y [n, d] -> [m, n]. Expanded as
    /// |x|^2 + |y|^2 - 2 x.y so that the work is one matrix product; clamped at 0 against
    /// rounding.
    pub fn pairwise(self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let d = x.size()[1];
        let xx = x.f_square()?.f_sum_dim_intlist(1, true, None)?;
        let yy = y.f_square()?.f_sum_dim_intlist(1, true, None)?.f_transpose(0, 1)?;
        let xy = x.f_matmul(&y.f_transpose(0, 1)?)?;
        let sq = xx.f_add(&yy)?.f_sub(&xy.f_mul_scalar(2.0)?)?.f_clamp_min(0.0)?;
        match self {
            Cost::Euclidean => Ok(sq.f_sqrt()?),
            _ => Ok(sq.f_mul_scalar(self.scale(d))?),
        }
    }

    /// grad_y c(x_i, y_i) -> [m, d].
    pub fn grad_y(self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let d = x.size()[1];
        let diff = y.f_sub(x)?;
        match self {
            Cost::Euclidean => {
                let norm = diff.f_norm_scalaropt_dim(2.0, [1i64].as_slice(), true)?;
                Ok(diff.f_div(&norm.f_clamp_min(1e-30)?)?)
            }
            _ => Ok(diff.f_mul_scalar(2.0 * self.scale(d))?),
        }
    }

    /// Scalar version for references and tests.
    pub fn eval(self, x: &[f64], y: &[f64]) -> f64 {
        let s: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
        match self {
            Cost::Euclidean => s.sqrt(),
            _ => s * self.scale(x.len() as i64),
        }
    }
}
