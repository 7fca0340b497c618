use tch::{Device, Kind, Tensor};

use super::*;
use crate::ot::measure::{Empirical, Measure};
use crate::runtime::progress::ignore;

fn shifted_gaussian(n: usize, mean: &[f64], sd: f64, seed: u64) -> Empirical {
    let d = mean.len();
    let mut rng = Rng64::new(seed);
    let z = rng.normal_tensor(&[n as i64, d as i64], Kind::Float, Device::Cpu).unwrap();
    let m = Tensor::from_slice(&mean.iter().map(|&v| v as f32).collect::<Vec<_>>());
    Empirical::new(&(z * sd + m), Device::Cpu).unwrap()
}

fn quick(cost: Cost, iterations: usize, seed: u64) -> SpotConfig {
    let mut cfg = SpotConfig { cost, ..SpotConfig::default() };
    (cfg.generator_hidden, cfg.critic_hidden) = (vec![32, 32], vec![32, 32]);
    (cfg.optim.iterations, cfg.optim.batch_size, cfg.optim.seed) = (iterations, 128, seed);
    cfg
}

#[test]
fn wasserstein_one_between_shifted_gaussians_is_five() {
    // The thesis' section 3.6.1 check at a small budget: W1(N((-2.5, 0), I), N((2.5, 0), I)) = 5
    // under c = |x - y| (a translation is optimal). The estimate's standard error at 20,000
    // draws is ~0.015 (W1's optimal couplings are not unique: |x - y| need not be constant); the tolerance is the training error a budget of 1,500 iterations leaves
    // (measured 0.6-2% over seeds, docs/results/spot.md), not the sampling error.
    let mut x = shifted_gaussian(20_000, &[-2.5, 0.0], 1.0, 1);
    let mut y = shifted_gaussian(20_000, &[2.5, 0.0], 1.0, 2);
    let cfg = quick(Cost::Euclidean, 1500, 0);
    let (model, report) = train(&cfg, &mut [&mut x, &mut y], &mut ignore).unwrap();
    let (w1, se) = model.cost_estimate(20_000, 7).unwrap();
    assert!(se < 0.03, "standard error {se}");
    assert!((w1 - 5.0).abs() < 0.25, "W1 estimate {w1} +- {se}, expected 5 (report {report:?})");
    // The generated marginals carry the given means.
    let s = model.sample(20_000, 8).unwrap();
    let mx = s[0].mean_dim([0i64].as_slice(), false, Kind::Double);
    let my = s[1].mean_dim([0i64].as_slice(), false, Kind::Double);
    assert!((mx.double_value(&[0]) + 2.5).abs() < 0.15 && (my.double_value(&[0]) - 2.5).abs() < 0.15);
    assert!(report.marginal_gap.is_finite() && report.marginal_gap.abs() < 0.5, "gap {}", report.marginal_gap);
}

#[test]
fn three_marginals_in_one_dimension_couple_comonotonically() {
    // Pairwise squared cost between N(m_k, s_k^2): the optimum couples all three monotonically,
    // x_k = m_k + s_k z, so its cost is sum_{k<l} (m_k - m_l)^2 + (s_k - s_l)^2.
    let (means, sds) = ([-1.0, 0.5, 2.0], [0.5, 1.0, 1.5]);
    let mut mus: Vec<Empirical> =
        (0..3).map(|k| shifted_gaussian(20_000, &[means[k]], sds[k], 10 + k as u64)).collect();
    let mut refs: Vec<&mut dyn Measure> = mus.iter_mut().map(|m| m as &mut dyn Measure).collect();
    let mut cfg = quick(Cost::SqEuclidean, 1500, 3);
    cfg.shared_generator = true;
    cfg.latent_dim = 1;
    let (model, _) = train(&cfg, &mut refs, &mut ignore).unwrap();
    let mut exact = 0.0;
    for k in 0..3 {
        for l in k + 1..3 {
            exact += (means[k] - means[l]).powi(2) + (sds[k] - sds[l]).powi(2);
        }
    }
    let (c, se) = model.cost_estimate(20_000, 1).unwrap();
    assert!((c - exact).abs() < 0.05 * exact + 4.0 * se, "cost {c} +- {se}, exact {exact}");
}

#[test]
fn save_load_and_seeded_sampling_reproduce_the_plan() {
    let mut x = shifted_gaussian(500, &[0.0, 0.0], 1.0, 1);
    let mut y = shifted_gaussian(500, &[1.0, 1.0], 2.0, 2);
    let mut cfg = quick(Cost::SqEuclidean, 20, 4);
    cfg.shared_generator = true;
    let (model, _) = train(&cfg, &mut [&mut x, &mut y], &mut ignore).unwrap();
    let a = model.sample(1000, 5).unwrap();
    assert!(a.iter().zip(model.sample(1000, 5).unwrap()).all(|(p, q)| p.equal(&q)));
    assert!(!a[0].equal(&model.sample(1000, 6).unwrap()[0]));
    let dir = std::env::temp_dir().join(format!("scones-spot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("plan.safetensors");
    model.save(&path).unwrap();
    let back = SpotModel::load(&path, Device::Cpu).unwrap();
    assert!(a.iter().zip(back.sample(1000, 5).unwrap()).all(|(p, q)| p.equal(&q)));
    assert_eq!(back.dims(), &[2, 2]);
    assert!(SpotModel::load(&path, Device::Cpu).is_ok());
    // A dual model is not a SPOT model.
    std::fs::write(&path, b"not a model").unwrap();
    assert!(SpotModel::load(&path, Device::Cpu).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_configurations_are_refused_before_training() {
    let mut x = shifted_gaussian(100, &[0.0, 0.0], 1.0, 1);
    let mut y = shifted_gaussian(100, &[0.0, 0.0, 0.0], 1.0, 2);
    let cfg = quick(Cost::SqEuclidean, 10, 0);
    assert!(train(&cfg, &mut [&mut x, &mut y], &mut ignore).is_err(), "dimensions differ");
    assert!(train(&cfg, &mut [&mut x], &mut ignore).is_err(), "one marginal");
    let mut z = shifted_gaussian(100, &[0.0, 0.0], 1.0, 3);
    for bad in [
        SpotConfig { eta: -1.0, ..cfg.clone() },
        SpotConfig { eta: f64::NAN, ..cfg.clone() },
        SpotConfig { n_critic: 0, ..cfg.clone() },
        SpotConfig { generator_ema: 1.0, ..cfg.clone() },
        SpotConfig { critic_hidden: vec![], ..cfg.clone() },
    ] {
        assert!(train(&bad, &mut [&mut x, &mut z], &mut ignore).is_err(), "{bad:?}");
    }
}

#[test]
fn cancellation_and_divergence_end_training_with_a_status() {
    let mut x = shifted_gaussian(100, &[0.0], 1.0, 1);
    let mut y = shifted_gaussian(100, &[3.0], 1.0, 2);
    let mut cfg = quick(Cost::SqEuclidean, 100, 0);
    cfg.optim.report_every = 10;
    let mut calls = 0;
    let err = train(&cfg, &mut [&mut x, &mut y], &mut |_| {
        calls += 1;
        false
    })
    .err()
    .unwrap();
    assert_eq!(err.kind, crate::runtime::error::ErrorKind::Cancelled);
    assert_eq!(calls, 1);
}
