//! C enum values shared by several handles (regularizer, cost, learning-rate schedule) and the
//! one lookup every C enum goes through, so an unknown value fails the same way everywhere.

use crate::neural::optim::LrSchedule;
use crate::ot::{Cost, Divergence};
use crate::runtime::error::{Error, Result};

/// Regularizer (f-divergence); one of the SCONES_REGULARIZER_* values.
pub type scones_regularizer = i32;
/// KL(pi || sigma x tau), f*(t) = exp(t - 1): the entropic (Sinkhorn) coupling.
pub const SCONES_REGULARIZER_KL: scones_regularizer = 0;
/// Chi-square, the reference code's "l2": M(v) = relu(v) / (2 lambda), sparse couplings.
pub const SCONES_REGULARIZER_CHI_SQUARE: scones_regularizer = 1;
/// KL in the exp(v / lambda) - 1 form; same coupling as SCONES_REGULARIZER_KL.
pub const SCONES_REGULARIZER_KL_CUTURI: scones_regularizer = 2;
/// Reverse KL, f*(t) = -1 - log(-t) (t < 0; extended quadratically near the boundary).
pub const SCONES_REGULARIZER_REVERSE_KL: scones_regularizer = 3;
/// Squared Hellinger, f*(t) = t / (1 - t) (t < 1; extended near the boundary).
pub const SCONES_REGULARIZER_SQUARED_HELLINGER: scones_regularizer = 4;
/// Jensen-Shannon, f*(t) = -log(2 - e^t) (t < log 2; extended near the boundary).
pub const SCONES_REGULARIZER_JENSEN_SHANNON: scones_regularizer = 5;
/// GAN, f*(t) = -log(1 - e^t) (t < 0; extended near the boundary).
pub const SCONES_REGULARIZER_GAN: scones_regularizer = 6;

/// Ground cost; one of the SCONES_COST_* values.
pub type scones_cost = i32;
/// c(x, y) = sum_k (x_k - y_k)^2.
pub const SCONES_COST_SQEUCLIDEAN: scones_cost = 0;
/// c(x, y) = sum_k (x_k - y_k)^2 / d.
pub const SCONES_COST_MEAN_SQEUCLIDEAN: scones_cost = 1;
/// c(x, y) = |x - y| (Wasserstein-1; dual training, discrete solvers and SPOT; refused by the
/// Langevin sampler, which needs a cost differentiable in y).
pub const SCONES_COST_EUCLIDEAN: scones_cost = 2;
/// c(x, y) = |A y - B x|^2, reported by scones_dual_problem for a dual trained with
/// scones_dual_options_set_linear_cost; not accepted by the cost setters (it needs A and B).
pub const SCONES_COST_LINEAR: scones_cost = 3;
/// A TorchScript cost module, reported by scones_dual_problem for a dual trained with
/// scones_dual_options_set_torchscript_cost; not accepted by the cost setters.
pub const SCONES_COST_TORCHSCRIPT: scones_cost = 4;
/// A host callback cost, reported by scones_dual_problem for a dual trained with
/// scones_dual_options_set_callback_cost; not accepted by the cost setters.
pub const SCONES_COST_CALLBACK: scones_cost = 5;

/// Learning-rate schedule; one of the SCONES_LR_* values.
pub type scones_lr_schedule = i32;
pub const SCONES_LR_CONSTANT: scones_lr_schedule = 0;
/// Cosine decay to final_fraction times the learning rate (default, final_fraction 0.01).
pub const SCONES_LR_COSINE: scones_lr_schedule = 1;

const REGULARIZERS: [(scones_regularizer, Divergence); 7] = [
    (SCONES_REGULARIZER_KL, Divergence::Kl),
    (SCONES_REGULARIZER_CHI_SQUARE, Divergence::ChiSquare),
    (SCONES_REGULARIZER_KL_CUTURI, Divergence::KlCuturi),
    (SCONES_REGULARIZER_REVERSE_KL, Divergence::ReverseKl),
    (SCONES_REGULARIZER_SQUARED_HELLINGER, Divergence::SquaredHellinger),
    (SCONES_REGULARIZER_JENSEN_SHANNON, Divergence::JensenShannon),
    (SCONES_REGULARIZER_GAN, Divergence::Gan),
];

const COSTS: [(scones_cost, Cost); 3] = [
    (SCONES_COST_SQEUCLIDEAN, Cost::SqEuclidean),
    (SCONES_COST_MEAN_SQEUCLIDEAN, Cost::MeanSqEuclidean),
    (SCONES_COST_EUCLIDEAN, Cost::Euclidean),
];

/// The Rust value of a C enum value; `what` names the enum in the error.
pub(crate) fn lookup<T: Clone>(value: i32, table: &[(i32, T)], what: &str) -> Result<T> {
    table
        .iter()
        .find(|(c, _)| *c == value)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| Error::invalid(format!("unknown {what} value {value}")))
}

/// The C value of a Rust value; the tables list every variant (tested below), so the fallback
/// -1 is never handed to a caller.
fn reverse<T: PartialEq>(value: T, table: &[(i32, T)]) -> i32 {
    table.iter().find(|(_, t)| *t == value).map_or(-1, |(c, _)| *c)
}

pub(crate) fn regularizer_from(r: scones_regularizer) -> Result<Divergence> {
    lookup(r, &REGULARIZERS, "regularizer")
}

pub(crate) fn regularizer_to(d: Divergence) -> scones_regularizer {
    reverse(d, &REGULARIZERS)
}

pub(crate) fn cost_from(c: scones_cost) -> Result<Cost> {
    match c {
        SCONES_COST_LINEAR => {
            return Err(Error::invalid(
                "SCONES_COST_LINEAR needs its matrices: use scones_dual_options_set_linear_cost",
            ))
        }
        SCONES_COST_TORCHSCRIPT => {
            return Err(Error::invalid(
                "SCONES_COST_TORCHSCRIPT needs its module: use scones_dual_options_set_torchscript_cost",
            ))
        }
        SCONES_COST_CALLBACK => {
            return Err(Error::invalid(
                "SCONES_COST_CALLBACK needs its function: use scones_dual_options_set_callback_cost",
            ))
        }
        _ => {}
    }
    lookup(c, &COSTS, "cost")
}

pub(crate) fn cost_to(c: &Cost) -> scones_cost {
    match c {
        Cost::Linear(_) => SCONES_COST_LINEAR,
        Cost::External(e) if e.name() == "torchscript" => SCONES_COST_TORCHSCRIPT,
        Cost::External(_) => SCONES_COST_CALLBACK,
        _ => reverse(c.clone(), &COSTS),
    }
}

/// |A y - B x|^2 from an A (k x dy) and a B (k x dx) view.
pub(crate) fn linear_cost_from(
    a: *const super::matrix::scones_matrix,
    b: *const super::matrix::scones_matrix,
) -> Result<Cost> {
    let (av, k, dy) = super::matrix::read_f64(a, "A")?;
    let (bv, kb, dx) = super::matrix::read_f64(b, "B")?;
    if k != kb {
        return Err(Error::shape(format!("A has {k} rows and B {kb}: both map into the same k dimensions")));
    }
    Cost::linear(&av, &bv, k, dx, dy)
}

/// The schedule; final_fraction is only read for SCONES_LR_COSINE (its range is Optim's rule).
pub(crate) fn schedule_from(schedule: scones_lr_schedule, final_fraction: f64) -> Result<LrSchedule> {
    match schedule {
        SCONES_LR_CONSTANT => Ok(LrSchedule::Constant),
        SCONES_LR_COSINE => Ok(LrSchedule::Cosine { final_fraction }),
        _ => Err(Error::invalid(format!("unknown learning-rate schedule value {schedule}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::regularizer::ALL_DIVERGENCES;

    #[test]
    fn every_divergence_has_one_c_value_and_back() {
        for d in ALL_DIVERGENCES {
            let c = regularizer_to(d);
            assert!(c >= 0, "{d:?} has no C value");
            assert_eq!(regularizer_from(c).unwrap(), d);
        }
        for c in [Cost::SqEuclidean, Cost::MeanSqEuclidean, Cost::Euclidean] {
            assert_eq!(cost_from(cost_to(&c)).unwrap(), c);
        }
        assert!(regularizer_from(7).is_err() && regularizer_from(-1).is_err() && cost_from(3).is_err());
        // The costs that need more than a value are reported, never accepted by value.
        for c in [SCONES_COST_LINEAR, SCONES_COST_TORCHSCRIPT, SCONES_COST_CALLBACK] {
            assert!(cost_from(c).unwrap_err().message.contains("needs its"));
        }
    }
}
