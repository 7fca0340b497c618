use super::*;
use crate::discrete::sinkhorn::{sinkhorn_dense, SinkhornConfig};
use crate::discrete::testutil::{max_abs_diff, random_weights, uniform_points, vals};
use crate::ot::regularizer::ALL_DIVERGENCES;

/// A 30 x 41 problem with non-uniform weights (m != n exercises the transposition-free path;
/// the transposed one is exercised by `transposed_problem_agrees`).
fn problem(seed: u64) -> (Tensor, Tensor, Tensor, f64) {
    let x = uniform_points(30, 2, seed);
    let y = uniform_points(41, 2, seed + 7);
    let c = Cost::SqEuclidean.pairwise(&x, &y).unwrap();
    let maxc = c.max().double_value(&[]);
    (c, random_weights(30, seed + 1), random_weights(41, seed + 2), maxc)
}

#[test]
fn kkt_and_zero_duality_gap_for_every_divergence() {
    let (c, a, b, maxc) = problem(3);
    for d in ALL_DIVERGENCES {
        for rel in [1.0, 0.05, 0.005] {
            let reg = Regularizer::new(d, rel * maxc).unwrap();
            let r = solve(&reg, &c, Some(&a), Some(&b), &FDualConfig::default(), &mut crate::runtime::progress::ignore)
                .unwrap();
            let what = format!("{d:?} lambda {rel} max C");
            assert!(r.converged, "{what}: gradient norm {:e}", r.marginal_error);
            assert_eq!(r.extension_pairs, 0, "{what}: extension active at the optimum");
            // First-order conditions: the plan's marginals are a and b.
            let rows = max_abs_diff(&r.plan.sum_dim_intlist(1, false, Kind::Double), &a);
            let cols = max_abs_diff(&r.plan.sum_dim_intlist(0, false, Kind::Double), &b);
            assert!(rows < 1e-8 && cols < 1e-8, "{what}: marginal errors {rows:e} {cols:e}");
            assert!(vals(&r.plan).iter().all(|p| *p >= 0.0), "{what}: negative plan entry");
            // Fenchel: primal value of the plan equals the dual value.
            let gap = (r.primal_value - r.dual_value).abs() / r.primal_value.abs().max(1e-300);
            assert!(gap < 1e-6, "{what}: primal {} dual {} gap {gap:e}", r.primal_value, r.dual_value);
            // Gauge.
            let sa = r.phi.dot(&a).double_value(&[]);
            let sb = r.psi.dot(&b).double_value(&[]);
            assert!((sa - sb).abs() < 1e-9 * (1.0 + sa.abs()), "{what}: gauge {sa} vs {sb}");
        }
    }
}

#[test]
fn kl_plan_equals_sinkhorn_plan() {
    let (c, a, b, maxc) = problem(5);
    for rel in [0.5, 0.02] {
        let lambda = rel * maxc;
        let mut cfg = SinkhornConfig::new(lambda);
        cfg.tol = 1e-12;
        cfg.return_plan = true;
        let s = sinkhorn_dense(&c, Some(&a), Some(&b), &cfg, &mut crate::runtime::progress::ignore).unwrap();
        let sp = s.plan.as_ref().unwrap();
        for d in [Divergence::Kl, Divergence::KlCuturi] {
            let r = solve(
                &Regularizer::new(d, lambda).unwrap(),
                &c,
                Some(&a),
                Some(&b),
                &FDualConfig::default(),
                &mut crate::runtime::progress::ignore,
            )
            .unwrap();
            let diff = max_abs_diff(&r.plan, sp);
            assert!(diff < 1e-6, "{d:?} lambda {rel} max C: plans differ by {diff:e}");
            if d == Divergence::KlCuturi {
                // Sinkhorn solves exactly the Cuturi form of the dual: same potentials, same value.
                assert!(max_abs_diff(&r.phi, &s.f) < 1e-6 * maxc && max_abs_diff(&r.psi, &s.g) < 1e-6 * maxc);
                assert!((r.dual_value - s.dual_value).abs() < 1e-8 * maxc, "{} vs {}", r.dual_value, s.dual_value);
            }
        }
    }
}

#[test]
fn transposed_problem_agrees() {
    let (c, a, b, maxc) = problem(9);
    let reg = Regularizer::new(Divergence::SquaredHellinger, 0.1 * maxc).unwrap();
    let cfg = FDualConfig::default();
    let r = solve(&reg, &c, Some(&a), Some(&b), &cfg, &mut crate::runtime::progress::ignore).unwrap();
    let t =
        solve(&reg, &c.transpose(0, 1).contiguous(), Some(&b), Some(&a), &cfg, &mut crate::runtime::progress::ignore)
            .unwrap();
    assert!(max_abs_diff(&r.plan, &t.plan.transpose(0, 1)) < 1e-10);
    assert!(max_abs_diff(&r.phi, &t.psi) < 1e-8 && max_abs_diff(&r.psi, &t.phi) < 1e-8);
    assert!((r.dual_value - t.dual_value).abs() < 1e-10);
}

#[test]
fn points_entry_cancel_and_bad_input() {
    let x = uniform_points(12, 2, 1);
    let y = uniform_points(9, 2, 2);
    let reg = Regularizer::new(Divergence::Gan, 0.1).unwrap();
    let r = solve_points(
        &reg,
        Cost::SqEuclidean,
        &x.to_kind(Kind::Float),
        &y.to_kind(Kind::Float),
        None,
        None,
        &FDualConfig::default(),
        &mut crate::runtime::progress::ignore,
    )
    .unwrap();
    assert!(r.converged && r.plan.size() == [12, 9]);
    let mut calls = 0;
    let e = solve_points(&reg, Cost::SqEuclidean, &x, &y, None, None, &FDualConfig::default(), &mut |p| {
        assert!(p.phase == crate::runtime::progress::Phase::Discrete && p.marginal_error >= 0.0);
        calls += 1;
        calls < 2
    })
    .unwrap_err();
    assert_eq!(e.kind, crate::runtime::error::ErrorKind::Cancelled);
    let c = Cost::SqEuclidean.pairwise(&x, &y).unwrap();
    let nan = c.copy();
    let _ = nan.get(0).get(0).fill_(f64::NAN);
    assert_eq!(
        solve(&reg, &nan, None, None, &FDualConfig::default(), &mut crate::runtime::progress::ignore).unwrap_err().kind,
        crate::runtime::error::ErrorKind::NonFinite
    );
    let bad_cfg = FDualConfig { tol: 0.0, ..FDualConfig::default() };
    assert!(solve(&reg, &c, None, None, &bad_cfg, &mut crate::runtime::progress::ignore).is_err());
}
