//! Ground costs c(x, y).

pub mod external;
mod linear;
mod torchscript;

use std::sync::Arc;

use crate::runtime::error::{Error, Result};
use tch::Tensor;

pub use external::ExternalCost;
pub use linear::LinearCost;
pub use torchscript::TorchScriptCost;

/// A ground cost. The built-in squared costs compare coordinates one to one; [`Cost::Linear`]
/// compares a source and a target of different dimensions through linear views of each;
/// [`Cost::External`] is evaluated by a TorchScript module or a host callback. Cheap to clone
/// (operators and external costs are shared).
#[derive(Clone, Debug)]
pub enum Cost {
    /// sum_k (x_k - y_k)^2
    SqEuclidean,
    /// sum_k (x_k - y_k)^2 / d: the paper's image setting, which keeps the cost O(1) as d grows.
    MeanSqEuclidean,
    /// |x - y|: the Wasserstein-1 cost (SPOT's first check). Not differentiable at y = x and not
    /// split into row and column terms, so Langevin sampling refuses it ([`Cost::is_smooth`]) and
    /// Sinkhorn forms its blocks pairwise.
    Euclidean,
    /// |A y - B x|^2 with A [k, dy] and B [k, dx] (issue 13): super-resolution with the source
    /// at its own low resolution (B the identity, A the downsampling), or any pair of linear
    /// features.
    Linear(Arc<LinearCost>),
    /// A cost evaluated pair by pair elsewhere ([`ExternalCost`]): all pairs are formed from
    /// expanded pairs in bounded blocks, the sampler uses its y-gradient and the curvature bound
    /// its maker gave.
    External(Arc<dyn ExternalCost>),
}

/// External costs are equal when they are the same object: a black box cannot be compared.
impl PartialEq for Cost {
    fn eq(&self, o: &Cost) -> bool {
        match (self, o) {
            (Cost::Linear(a), Cost::Linear(b)) => a == b,
            (Cost::External(a), Cost::External(b)) => Arc::ptr_eq(a, b),
            (Cost::SqEuclidean, Cost::SqEuclidean)
            | (Cost::MeanSqEuclidean, Cost::MeanSqEuclidean)
            | (Cost::Euclidean, Cost::Euclidean) => true,
            _ => false,
        }
    }
}

impl Cost {
    pub fn name(&self) -> &'static str {
        match self {
            Cost::SqEuclidean => "sqeuclidean",
            Cost::MeanSqEuclidean => "mean_sqeuclidean",
            Cost::Euclidean => "euclidean",
            Cost::Linear(_) => "linear",
            Cost::External(e) => e.name(),
        }
    }

    /// |A y - B x|^2 from row-major A (k x dy) and B (k x dx).
    pub fn linear(a: &[f64], b: &[f64], k: usize, dx: usize, dy: usize) -> Result<Cost> {
        Ok(Cost::Linear(Arc::new(LinearCost::new(a, b, k, dx, dy)?)))
    }

    /// A TorchScript module `forward(x [m, dx], y [m, dy]) -> [m]` read from `path`, with the
    /// caller's bound on its y-Hessian's norm (2 for the squared Euclidean cost).
    pub fn torchscript(path: &std::path::Path, dx: usize, dy: usize, curvature: f64) -> Result<Cost> {
        Ok(Cost::External(Arc::new(TorchScriptCost::new(path, dx, dy, curvature)?)))
    }

    pub fn from_name(s: &str) -> Result<Cost> {
        match s {
            "sqeuclidean" => Ok(Cost::SqEuclidean),
            "mean_sqeuclidean" => Ok(Cost::MeanSqEuclidean),
            "euclidean" => Ok(Cost::Euclidean),
            "linear" => Err(Error::format("a linear cost is stored with its matrices (Cost::restore)")),
            "torchscript" => Err(Error::format("a TorchScript cost is stored with its module (Cost::restore)")),
            "callback" => Err(Error::format("a callback cost is never stored")),
            _ => Err(Error::format(format!("unknown cost '{s}'"))),
        }
    }

    /// Whether c is twice differentiable in y with the constant curvature [`Cost::y_curvature`]
    /// (the squared costs), which Langevin sampling of pi(y | x) needs.
    pub fn is_smooth(&self) -> bool {
        !matches!(self, Cost::Euclidean)
    }

    /// Refuses a cost without a smooth y-gradient, for callers that follow one.
    pub fn require_smooth(&self, what: &str) -> Result<()> {
        if self.is_smooth() {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "{what} needs a cost differentiable in y with bounded curvature; {} is not (use sqeuclidean or mean_sqeuclidean)",
            self.name()
        )))
    }

    /// Whether c splits as r(x) + k(y) - 2 s x.y (the squared costs), which Sinkhorn's blocks
    /// use; other costs are formed pair by pair.
    pub fn splits(&self) -> bool {
        matches!(self, Cost::SqEuclidean | Cost::MeanSqEuclidean)
    }

    /// The squared and Euclidean costs compare coordinates one to one, so source and target
    /// dimensions must agree; a linear cost needs the dimensions of its operators.
    pub fn check_dims(&self, dx: usize, dy: usize) -> Result<()> {
        if let Cost::Linear(l) = self {
            return l.check_dims(dx, dy);
        }
        if let Cost::External(e) = self {
            if e.dims() != (dx, dy) {
                return Err(Error::shape(format!(
                    "the {} cost takes sources of dimension {} and targets of dimension {}, got {dx} and {dy}",
                    e.name(),
                    e.dims().0,
                    e.dims().1
                )));
            }
            return Ok(());
        }
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
    pub fn y_curvature(&self, dy: usize) -> f64 {
        match self {
            // The Hessian 2 A^T A: its largest eigenvalue bounds the stiffness.
            Cost::Linear(l) => l.y_curvature(),
            Cost::External(e) => e.y_curvature(),
            _ => 2.0 * self.scale(dy as i64),
        }
    }

    /// The factor s of the squared costs s |x - y|^2 (1 for the Euclidean cost, which is not one).
    pub(crate) fn scale(&self, d: i64) -> f64 {
        match self {
            Cost::SqEuclidean | Cost::Euclidean | Cost::Linear(_) | Cost::External(_) => 1.0,
            Cost::MeanSqEuclidean => 1.0 / d as f64,
        }
    }

    /// c(x_i, y_i) for rows of x [m, dx] and y [m, dy] -> \[m\].
    pub fn paired(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        match self {
            Cost::Linear(l) => return l.paired(x, y),
            Cost::External(e) => return e.paired(x, y),
            _ => {}
        }
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
    pub fn pairwise(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        match self {
            Cost::Linear(l) => return l.pairwise(x, y),
            Cost::External(e) => return external::pairwise(e.as_ref(), x, y),
            _ => {}
        }
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
    pub fn grad_y(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        match self {
            Cost::Linear(l) => return l.grad_y(x, y),
            Cost::External(e) => return e.grad_y(x, y),
            _ => {}
        }
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

    /// Scalar version for references and tests (NaN where an external cost fails).
    pub fn eval(&self, x: &[f64], y: &[f64]) -> f64 {
        match self {
            Cost::Linear(l) => return l.eval(x, y),
            Cost::External(e) => {
                let one = |v: &[f64]| Tensor::f_from_slice(v).and_then(|t| t.f_view([1, v.len() as i64]));
                return match (one(x), one(y)) {
                    (Ok(xt), Ok(yt)) => {
                        e.paired(&xt, &yt).and_then(|c| Ok(c.f_double_value(&[0])?)).unwrap_or(f64::NAN)
                    }
                    _ => f64::NAN,
                };
            }
            _ => {}
        }
        let s: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
        match self {
            Cost::Euclidean => s.sqrt(),
            _ => s * self.scale(x.len() as i64),
        }
    }

    /// Writes what [`Cost::restore`] needs into a model file: the name, a linear cost's
    /// matrices as tensors `cost.a` / `cost.b`, a TorchScript cost's module bytes as
    /// `cost.module`. A callback cost cannot be saved (its code lives in the host program).
    pub fn store(&self, f: &mut crate::runtime::model_file::ModelFile) -> Result<()> {
        f.set("cost", self.name());
        match self {
            Cost::Linear(l) => l.store(f),
            Cost::External(e) => e.store(f)?,
            _ => {}
        }
        Ok(())
    }

    /// Inverse of [`Cost::store`], validating a linear cost's matrices against dx and dy.
    pub fn restore(f: &crate::runtime::model_file::ModelFile, dx: usize, dy: usize) -> Result<Cost> {
        let name = f.get("cost")?;
        match name {
            "linear" => return Ok(Cost::Linear(Arc::new(LinearCost::restore(f, dx, dy)?))),
            "torchscript" => return Ok(Cost::External(Arc::new(TorchScriptCost::restore(f, dx, dy)?))),
            _ => {}
        }
        Cost::from_name(name)
    }
}
