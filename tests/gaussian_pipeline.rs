//! The foundation's acceptance check through the Rust API: Algorithm 1 then Algorithm 2 on the
//! paper's d = 2 Gaussian problem (lambda = 2d, KL, squared Euclidean cost), measured against
//! the closed-form entropic coupling, on a budget that keeps the test well under 2 minutes.

use std::sync::Arc;

use scones::neural::dual::{self, BatchMode, DualConfig};
use scones::neural::sampler::{Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Divergence, Regularizer};
use scones::reference::gaussian::{self, Spectrum};
use scones::reference::{linalg, metrics};
use scones::runtime::progress;
use scones::score;
use tch::{Kind, Tensor};

fn points(v: &[f64], d: usize) -> Tensor {
    Tensor::from_slice(v).view([-1, d as i64]).to_kind(Kind::Float)
}

#[test]
fn d2_gaussian_reaches_bw_uvp_below_one_and_its_plan_matches_the_closed_form() {
    tch::set_num_threads(2);
    let d = 2;
    let zero = vec![0.0; d];
    let a = gaussian::random_covariance(d, Spectrum::Geometric, 1).unwrap();
    let b = gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap();
    let lambda = 2.0 * d as f64;
    let exact = gaussian::entropic_coupling_covariance(&a, &b, d, lambda).unwrap();

    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, lambda).unwrap());
    cfg.phi_hidden = vec![64, 64];
    cfg.psi_hidden = vec![64, 64];
    cfg.optim.batch_size = 250;
    cfg.batch_mode = BatchMode::AllPairs;
    cfg.optim.iterations = 1500;
    let xs = gaussian::sample(&zero, &a, 20_000, 10).unwrap();
    let ys = gaussian::sample(&zero, &b, 20_000, 11).unwrap();
    let mut src = Empirical::new(&points(&xs, d), cfg.optim.device).unwrap();
    let mut tgt = Empirical::new(&points(&ys, d), cfg.optim.device).unwrap();
    let mut reports = 0;
    let (pot, report) = dual::train(&cfg, &mut src, &mut tgt, &mut |p| {
        reports += 1;
        assert!(p.objective.is_finite() && p.mean_compatibility > 0.0);
        true
    })
    .unwrap();
    assert_eq!(reports, 15, "one report every 100 iterations");
    // E[M(V)] -> 1 is the marginal condition; with 62,500 pair terms per batch its batch noise
    // is about 1e-3.
    assert!((report.mean_compatibility - 1.0).abs() < 0.02, "E[M(V)] = {}", report.mean_compatibility);

    // Dual accuracy on its own (Theorem 4.3's quantity): E_{sigma x tau}|M_hat - M*| over fresh
    // independent pairs, M* the exact density ratio of the closed-form coupling. An untrained
    // pair of potentials is off by about 1 (the ratio's mean absolute deviation from 0 or 1).
    let (xe, ye) = (gaussian::sample(&zero, &a, 20_000, 20).unwrap(), gaussian::sample(&zero, &b, 20_000, 21).unwrap());
    let m_star = gaussian::density_ratio(&exact, d, d, &xe, &ye).unwrap();
    let v = pot.phi(&points(&xe, d)).unwrap() + pot.psi(&points(&ye, d)).unwrap()
        - pot.cost.paired(&points(&xe, d), &points(&ye, d)).unwrap();
    let m_hat = linalg::to_vec(&pot.regularizer.compatibility(&v).unwrap()).unwrap();
    let l1 = m_star.iter().zip(&m_hat).map(|(s, h)| (s - h).abs()).sum::<f64>() / m_star.len() as f64;
    println!("plan L1 error E|M_hat - M*| = {l1:.4}");
    assert!(l1 < 0.1, "plan L1 error {l1}");

    let mut scfg = SamplerConfig::new();
    scfg.metropolis = true;
    scfg.step_size = 0.05;
    scfg.steps_per_level = 300;
    let mut sampler = Sampler::new(&pot, Arc::new(score::GaussianScore::new(&zero, &b).unwrap()), scfg).unwrap();
    let x_eval = gaussian::sample(&zero, &a, 10_000, 12).unwrap();
    let (y, srep) = sampler.sample(&points(&x_eval, d), &mut progress::ignore).unwrap();
    let cov = metrics::joint_covariance(&x_eval, d, &linalg::to_vec(&y).unwrap(), d).unwrap();
    let bw = metrics::bw_uvp(&cov, &exact, 2 * d).unwrap();
    println!(
        "d = 2: BW-UVP {bw:.4}, {:.0} dual iterations/s, {:.3e} chain-steps/s, acceptance {:.3}",
        report.iterations_per_second, srep.chain_steps_per_second, srep.acceptance
    );
    assert!(bw <= 1.0, "BW-UVP {bw}");
}
