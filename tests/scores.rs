//! Score sources and the barycentric baseline against known answers (issue: "Any target, any
//! data source"). Fixed seeds; tolerances derived from sample sizes where they are statistical.

use std::sync::Arc;

use scones::neural::barycentric::{self, BarycentricConfig};
use scones::neural::dual::{self, DualConfig, DualPotentials};
use scones::neural::sampler::{Annealing, Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Divergence, Regularizer};
use scones::reference::gaussian::{self, Spectrum};
use scones::reference::toy::{self, Toy};
use scones::reference::{linalg, metrics};
use scones::runtime::progress;
use scones::score::{trained, EmpiricalScore, GaussianScore, ScoreSource, TorchScriptScore};
use tch::{Device, Kind, Tensor};

fn pts(v: &[f64], d: usize) -> Tensor {
    Tensor::from_slice(v).view([-1, d as i64]).to_kind(Kind::Float)
}

fn vec_of(t: &Tensor) -> Vec<f64> {
    linalg::to_vec(t).unwrap()
}

#[test]
fn torchscript_fixture_gives_pytorchs_scores() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/score_module_expected.json")).unwrap()).unwrap();
    let y: Vec<f64> = expected["y"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    let src = TorchScriptScore::new(std::path::Path::new(&format!("{dir}/score_module.pt")), 2).unwrap();
    let mut b = src.bind(Device::Cpu).unwrap();
    for (sigma, rows) in expected["scores"].as_object().unwrap() {
        let want: Vec<f64> = rows
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
            .collect();
        let got = vec_of(&b.score(&pts(&y, 2), sigma.parse().unwrap()).unwrap());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6 * (1.0 + w.abs()), "sigma {sigma}: {g} vs PyTorch {w}");
        }
    }
    // The wrong dimension is caught when the module's output shape is checked.
    assert!(TorchScriptScore::new(std::path::Path::new(&format!("{dir}/score_module.pt")), 3).is_err());
    // A file that is not TorchScript is a format error.
    let e = TorchScriptScore::new(std::path::Path::new(&format!("{dir}/score_module_expected.json")), 2).err().unwrap();
    assert_eq!(e.kind, scones::runtime::error::ErrorKind::Format, "{e}");
}

#[test]
fn trained_score_matches_the_gaussian_closed_form() {
    tch::set_num_threads(2);
    let d = 2;
    let b = gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap();
    let mean = [0.5, -0.25];
    let y = gaussian::sample(&mean, &b, 20_000, 5).unwrap();
    let mut cfg = trained::ScoreTrainConfig { hidden: vec![64, 64], ..Default::default() };
    cfg.optim.iterations = 3000;
    // Denoising score matching learns sigma * s, so the error in s grows like 1 / sigma at
    // small sigma for a fixed number of samples; 0.1 keeps every level inside the tolerance.
    cfg.noise = trained::NoiseLevels { sigma_max: Some(3.0), sigma_min: 0.1, levels: 6 };
    let (net, stats) =
        trained::train(&cfg, &mut Empirical::new(&pts(&y, d), Device::Cpu).unwrap(), &mut progress::ignore).unwrap();
    println!("score training: loss {:.4}, {:.0} it/s", stats.loss, stats.iterations_per_second);
    let exact = GaussianScore::new(&mean, &b).unwrap();
    let (mut bn, mut be) = (net.bind(Device::Cpu).unwrap(), exact.bind(Device::Cpu).unwrap());
    // Relative L2 error over points of the smoothed target at each trained level. The exact
    // score's magnitude is ~ sqrt(d / var) there; a net that learned only the mean would be off
    // by ~100%. Measured errors (weight EMA 0.999, lr 3e-3) are 2-4% at sigma >= 0.39 and
    // 9-10% at sigma 0.1-0.2; 15% is the stated tolerance.
    for &sigma in net.noise_levels() {
        let cov: Vec<f64> = (0..4).map(|i| b[i] + if i % 3 == 0 { sigma * sigma } else { 0.0 }).collect();
        let probe = pts(&gaussian::sample(&mean, &cov, 2000, 9).unwrap(), d);
        let (sn, se) = (bn.score(&probe, sigma).unwrap(), be.score(&probe, sigma).unwrap());
        let rel = ((&sn - &se).square().sum(Kind::Float) / se.square().sum(Kind::Float)).sqrt().double_value(&[]);
        println!("sigma {sigma:.3}: relative L2 error {rel:.3}");
        assert!(rel < 0.15, "sigma {sigma}: relative error {rel}");
    }
}

/// Sliced W2 between two independent exact samples of the same size: the floor a perfect
/// sampler would sit at, from the sample size alone.
fn sw2_floor(toy_: Toy, n: usize) -> f64 {
    let (a, b) = (toy::sample(toy_, n, 1001).unwrap(), toy::sample(toy_, n, 1002).unwrap());
    metrics::sliced_w2(&a, &b, 2, 200, 0).unwrap()
}

fn zero_dual(lambda: f64) -> DualPotentials {
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, lambda).unwrap());
    cfg.phi_hidden = vec![4];
    cfg.psi_hidden = vec![4];
    cfg.optim.iterations = 0;
    let z = Tensor::zeros([4, 2], (Kind::Float, Device::Cpu));
    dual::train(
        &cfg,
        &mut Empirical::new(&z, Device::Cpu).unwrap(),
        &mut Empirical::new(&z, Device::Cpu).unwrap(),
        &mut progress::ignore,
    )
    .unwrap()
    .0
}

#[test]
fn annealed_langevin_with_empirical_and_trained_scores_reproduces_the_target() {
    tch::set_num_threads(2);
    let target = toy::sample(Toy::SwissRoll, 2000, 7).unwrap();
    let mut tcfg = trained::ScoreTrainConfig::default();
    tcfg.optim.iterations = 3000;
    let (net, _) =
        trained::train(&tcfg, &mut Empirical::new(&pts(&target, 2), Device::Cpu).unwrap(), &mut progress::ignore)
            .unwrap();
    let sources: Vec<(&str, Arc<dyn ScoreSource>)> =
        vec![("empirical", Arc::new(EmpiricalScore::new(&pts(&target, 2), 0.05).unwrap())), ("trained", Arc::new(net))];
    let n = 2000;
    let floor = sw2_floor(Toy::SwissRoll, n);
    let fresh = toy::sample(Toy::SwissRoll, n, 8).unwrap();
    for (name, score) in sources {
        let mut c = SamplerConfig::new();
        c.annealing = Some(Annealing { sigma_first: 3.0, sigma_last: 0.01, levels: 10 });
        c.steps_per_level = 60;
        c.step_size = 2e-5;
        c.denoise = true;
        c.use_compatibility = false;
        let mut s = Sampler::new(&zero_dual(1.0), score, c).unwrap();
        let x = Tensor::zeros([n as i64, 2], (Kind::Float, Device::Cpu));
        let (y, _) = s.sample(&x, &mut progress::ignore).unwrap();
        let sw = metrics::sliced_w2(&vec_of(&y), &fresh, 2, 200, 0).unwrap();
        println!("{name}: sliced W2 to a fresh target sample {sw:.4} (two exact samples: {floor:.4})");
        // The kernel bandwidth (0.05) and the score network's error add a bias of a few
        // hundredths on top of the sampling floor; a sampler that misses an arm of the roll is
        // at 0.3 or more.
        assert!(sw < 2.0 * floor + 0.06, "{name}: sliced W2 {sw} vs floor {floor}");
    }
}

#[test]
fn scones_beats_barycentric_projection_on_the_gaussian_and_the_swiss_roll() {
    tch::set_num_threads(2);
    // Gaussian, d = 2 (paper Table 2: SCONES 0.025, BP 7.1).
    let d = 2;
    let zero = vec![0.0; d];
    let a = gaussian::random_covariance(d, Spectrum::Geometric, 1).unwrap();
    let b = gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap();
    let lambda = 2.0 * d as f64;
    let exact = gaussian::entropic_coupling_covariance(&a, &b, d, lambda).unwrap();
    let (xs, ys) = (
        pts(&gaussian::sample(&zero, &a, 20_000, 10).unwrap(), d),
        pts(&gaussian::sample(&zero, &b, 20_000, 11).unwrap(), d),
    );
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, lambda).unwrap());
    cfg.phi_hidden = vec![64, 64];
    cfg.psi_hidden = vec![64, 64];
    cfg.optim.batch_size = 250;
    cfg.optim.iterations = 1500;
    let (pot, _) = dual::train(
        &cfg,
        &mut Empirical::new(&xs, Device::Cpu).unwrap(),
        &mut Empirical::new(&ys, Device::Cpu).unwrap(),
        &mut progress::ignore,
    )
    .unwrap();
    let mut bcfg = BarycentricConfig { hidden: vec![64, 64], ..Default::default() };
    bcfg.optim.batch_size = 250;
    bcfg.optim.iterations = 1500;
    let (bmap, _) = barycentric::train(
        &bcfg,
        &pot,
        &mut Empirical::new(&xs, Device::Cpu).unwrap(),
        &mut Empirical::new(&ys, Device::Cpu).unwrap(),
        &mut progress::ignore,
    )
    .unwrap();
    let x_eval = gaussian::sample(&zero, &a, 10_000, 12).unwrap();
    let bw = |y: &Tensor| {
        metrics::bw_uvp(&metrics::joint_covariance(&x_eval, d, &vec_of(y), d).unwrap(), &exact, 2 * d).unwrap()
    };
    let bw_bp = bw(&bmap.map(&pts(&x_eval, d)).unwrap());

    // The same SCONES sampler with the exact score and with a trained score network.
    let mut tcfg = trained::ScoreTrainConfig { hidden: vec![64, 64], ..Default::default() };
    tcfg.optim.iterations = 3000;
    // Plain Langevin evaluates the network at its smallest level: the target smoothed by
    // N(0, 0.1^2 I), a variance change of 0.01 against eigenvalues 0.5 to 2.
    tcfg.noise = trained::NoiseLevels { sigma_max: Some(3.0), sigma_min: 0.1, levels: 6 };
    let (net, _) =
        trained::train(&tcfg, &mut Empirical::new(&ys, Device::Cpu).unwrap(), &mut progress::ignore).unwrap();
    let mut bws = Vec::new();
    for score in [Arc::new(GaussianScore::new(&zero, &b).unwrap()) as Arc<dyn ScoreSource>, Arc::new(net)] {
        let mut c = SamplerConfig::new();
        c.steps_per_level = 1000;
        c.step_size = 0.01;
        let (y, _) = Sampler::new(&pot, score, c).unwrap().sample(&pts(&x_eval, d), &mut progress::ignore).unwrap();
        bws.push(bw(&y));
    }
    println!(
        "d = 2 BW-UVP: SCONES exact score {:.4}, SCONES trained score {:.4}, barycentric projection {bw_bp:.3}",
        bws[0], bws[1]
    );
    // Stated tolerance: the trained score costs at most 0.5 BW-UVP points here (measured 0.073
    // vs 0.026 exact). Barycentric projection collapses pi(y | x) to its mean: its ideal value,
    // BW-UVP of the closed-form coupling's Y-marginal shrunk to E[y | x], is 28.9 on this
    // problem (measured 28.5), far above the paper's 7.1 (see README); the check is relative.
    assert!(bws[1] < bws[0] + 0.5, "trained score {} vs exact {}", bws[1], bws[0]);
    assert!(bw_bp > 3.0 && bw_bp > 10.0 * bws[1], "barycentric {bw_bp} vs SCONES {}", bws[1]);

    // Swiss roll (paper Fig. 4): unit Gaussian -> Swiss roll, lambda = 2, KL.
    let (xr, yr) = (
        pts(&toy::sample(Toy::Gaussian, 20_000, 1).unwrap(), 2),
        pts(&toy::sample(Toy::SwissRoll, 20_000, 2).unwrap(), 2),
    );
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, 2.0).unwrap());
    cfg.phi_hidden = vec![64, 64];
    cfg.psi_hidden = vec![64, 64];
    cfg.optim.batch_size = 250;
    cfg.optim.iterations = 2000;
    let (pot, _) = dual::train(
        &cfg,
        &mut Empirical::new(&xr, Device::Cpu).unwrap(),
        &mut Empirical::new(&yr, Device::Cpu).unwrap(),
        &mut progress::ignore,
    )
    .unwrap();
    let (bmap, _) = barycentric::train(
        &bcfg,
        &pot,
        &mut Empirical::new(&xr, Device::Cpu).unwrap(),
        &mut Empirical::new(&yr, Device::Cpu).unwrap(),
        &mut progress::ignore,
    )
    .unwrap();
    let n = 2000;
    let x_eval = toy::sample(Toy::Gaussian, n, 4).unwrap();
    let fresh = toy::sample(Toy::SwissRoll, n, 3).unwrap();
    let target_pts = toy::sample(Toy::SwissRoll, 2000, 6).unwrap();
    let mut c = SamplerConfig::new();
    c.annealing = Some(Annealing { sigma_first: 3.0, sigma_last: 0.01, levels: 10 });
    c.steps_per_level = 60;
    c.step_size = 2e-5;
    c.denoise = true;
    let score = Arc::new(EmpiricalScore::new(&pts(&target_pts, 2), 0.05).unwrap());
    let (y, _) = Sampler::new(&pot, score, c).unwrap().sample(&pts(&x_eval, 2), &mut progress::ignore).unwrap();
    let sw_scones = metrics::sliced_w2(&vec_of(&y), &fresh, 2, 200, 0).unwrap();
    let sw_bp = metrics::sliced_w2(&vec_of(&bmap.map(&pts(&x_eval, 2)).unwrap()), &fresh, 2, 200, 0).unwrap();
    println!(
        "Swiss roll sliced W2: SCONES {sw_scones:.4}, barycentric projection {sw_bp:.4}, floor {:.4}",
        sw2_floor(Toy::SwissRoll, n)
    );
    assert!(sw_scones < sw_bp, "SCONES {sw_scones} vs barycentric {sw_bp}");
}
