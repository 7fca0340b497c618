//! Theorem 4.3 made concrete: on two finite point sets (64 + 64 points) the neural potentials of
//! Algorithm 1 give a pseudo-plan P_ij = M(V(x_i, y_j)) / n^2 within a stated l1 distance of the
//! exact discrete regularized plan, for every regularizer.
//!
//! Both sides are the uniform measures on the point sets and every training batch is the whole
//! set with all n^2 pair terms, so the objective Algorithm 1 ascends is exactly the discrete dual
//! that `discrete::fdual` maximizes to a 1e-9 marginal violation: the distance measures only how
//! far the networks are from the optimum, not a sampling error.

use scones::discrete::fdual::{self, FDualConfig};
use scones::neural::dual::{self, BatchMode, DualConfig};
use scones::ot::measure::Empirical;
use scones::ot::regularizer::ALL_DIVERGENCES;
use scones::ot::{Cost, Divergence, Regularizer};
use scones::reference::toy;
use scones::runtime::progress;
use tch::{Kind, Tensor};

const N: usize = 64;
/// lambda about the mean cost between the two sets (3.3). At lambda = 1 the optimal plans of
/// reverse KL, Jensen-Shannon and GAN need density ratios close to n, where their conjugates are
/// near the end of their domains and the dual is stiff: 3000 Adam steps left their marginals
/// 0.5-0.8 off in l1 (10,000 steps: 0.1-0.2), while the KL family reached 0.002.
const LAMBDA: f64 = 3.0;

fn pts(v: &[f64]) -> Tensor {
    Tensor::from_slice(v).view([-1, 2]).to_kind(Kind::Double)
}

#[test]
fn neural_pseudo_plans_match_the_exact_discrete_plans_for_every_regularizer() {
    tch::set_num_threads(2);
    let x = pts(&toy::sample(toy::Toy::Gaussian, N, 1).unwrap());
    let y = pts(&toy::sample(toy::Toy::Moons, N, 2).unwrap());
    let independent = Tensor::full([N as i64, N as i64], 1.0 / (N * N) as f64, (Kind::Double, tch::Device::Cpu));
    let mut failures = Vec::new();
    for div in ALL_DIVERGENCES {
        let reg = Regularizer::new(div, LAMBDA).unwrap();
        let exact = fdual::solve_points(
            &reg,
            Cost::SqEuclidean,
            &x,
            &y,
            None,
            None,
            &FDualConfig::default(),
            &mut progress::ignore,
        )
        .unwrap();
        assert!(exact.converged && exact.extension_pairs == 0, "{div:?}: exact solver did not converge: {exact:?}");

        let mut cfg = DualConfig::new(reg);
        cfg.phi_hidden = vec![128, 128];
        cfg.psi_hidden = vec![128, 128];
        cfg.batch_mode = BatchMode::AllPairs;
        cfg.optim.batch_size = N;
        // Jensen-Shannon and GAN (the same plan: their f differ by (u + 1) log 2) squeeze density
        // ratios 1..20 into t in [-0.69, -0.05], where f*'' = M (1 + M) reaches 400: a stiffer
        // dual than KL's (f*'' = M). At Adam's 1e-3 their results depended on the seed (l1
        // 0.0015-0.16 after 8000 steps over seeds 0-2); at 3e-4 they were 0.0008-0.0033.
        let stiff = matches!(div, Divergence::JensenShannon | Divergence::Gan);
        cfg.optim.iterations = if stiff { 8000 } else { 3000 };
        cfg.optim.learning_rate = if stiff { 3e-4 } else { 1e-3 };
        let device = cfg.optim.device;
        let (xs, ys) = (x.to_kind(Kind::Float), y.to_kind(Kind::Float));
        let (pot, report) = dual::train(
            &cfg,
            &mut Empirical::new(&xs, device).unwrap().full_batches(),
            &mut Empirical::new(&ys, device).unwrap().full_batches(),
            &mut progress::ignore,
        )
        .unwrap();
        let plan = pot.compatibility(&xs, &ys).unwrap().to_kind(Kind::Double) / (N * N) as f64;
        let l1 = (&plan - &exact.plan).abs().sum(Kind::Double).double_value(&[]);
        let l1_independent = (&independent - &exact.plan).abs().sum(Kind::Double).double_value(&[]);
        // The networks' objective is the same discrete dual, so it can approach the exact value
        // only from below (up to float32 rounding of the pair terms).
        let gap = exact.dual_value - report.objective;
        println!(
            "{:<18} l1(neural, exact) {l1:.4}   l1(independent, exact) {l1_independent:.3}   dual gap {gap:.2e}   max ratio {:.1}",
            div.name(), exact.max_ratio
        );
        // Stated tolerance: 0.02 in l1 (measured 0.0008-0.0033 over seeds 0-2 for every
        // regularizer), and a pseudo-plan at least 20 times closer to the exact plan than the
        // independent coupling (l1 0.24-0.73 from it).
        if !(l1 < 0.02 && l1 < l1_independent / 20.0 && gap > -1e-4) {
            failures.push(format!("{div:?}: l1 {l1}, independent {l1_independent}, gap {gap}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
