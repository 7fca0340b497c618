//! Resampled chain starts (ChainInit::Resample): the starts follow M(V(x, y_j)) over the given
//! targets, annealing starts low enough to keep them, and bad targets are refused.

use super::*;
use crate::ot::Divergence;
use crate::score::FunctionScore;

/// phi = psi = 0 (zero weights and biases), KL at lambda = 1 with the squared Euclidean cost:
/// M(V(x, y)) = exp(-|x - y|^2 - 1), so the resampling probabilities are known in closed form.
fn flat_dual(d: usize) -> DualPotentials {
    let mut rng = Rng64::new(1);
    let zero = |m: Mlp| {
        tch::no_grad(|| {
            for p in m.parameters() {
                let _ = p.shallow_clone().zero_();
            }
        });
        m
    };
    DualPotentials {
        phi: zero(Mlp::new(d, &[8], 1, &mut rng, Device::Cpu).unwrap()),
        psi: zero(Mlp::new(d, &[8], 1, &mut rng, Device::Cpu).unwrap()),
        regularizer: Regularizer::new(Divergence::Kl, 1.0).unwrap(),
        cost: Cost::SqEuclidean,
        dx: d,
        dy: d,
        device: Device::Cpu,
    }
}

fn zero_score(d: usize) -> Arc<dyn ScoreSource> {
    let f = |_: &[f64], _: usize, _: f64, out: &mut [f64]| -> Result<()> {
        out.iter_mut().for_each(|o| *o = 0.0);
        Ok(())
    };
    Arc::new(FunctionScore::new(d, "zero", Arc::new(f)).unwrap())
}

fn resample(targets: Vec<f32>, dim: usize) -> ChainInit {
    ChainInit::Resample { targets: Arc::new(targets), dim, sigma_start: 0.0 }
}

/// Targets at y = 0 and y = 1 (4,000 copies each) and the source x = 0: P(start at 0) =
/// 1 / (1 + e^-1) = 0.7311, and the weights' effective sample size, 6,593, exceeds K = 4,000, so
/// every chain keeps its resampled start. Steps of 1e-12 leave each chain at its start; 4,000
/// chains give a standard error of 0.0070, and the tolerance is 4 of them.
#[test]
fn starts_follow_the_compatibility_of_the_targets() {
    let mut cfg = SamplerConfig::new();
    cfg.init = resample((0..8000).map(|i| (i % 2) as f32).collect(), 1);
    cfg.samples_per_source = 4000;
    cfg.step_size = 1e-12;
    cfg.steps_per_level = 1;
    cfg.seed = 3;
    let mut s = Sampler::new(&flat_dual(1), zero_score(1), cfg).unwrap();
    let (y, _) =
        s.sample(&Tensor::zeros([1, 1], (Kind::Float, Device::Cpu)), &mut crate::runtime::progress::ignore).unwrap();
    let y: Vec<f32> = Vec::try_from(y.flatten(0, -1)).unwrap();
    assert!(y.iter().all(|v| v.abs() < 1e-3 || (v - 1.0).abs() < 1e-3), "chains moved off their starts");
    let at_zero = y.iter().filter(|v| v.abs() < 0.5).count() as f64 / y.len() as f64;
    let p = 1.0 / (1.0 + (-1.0f64).exp());
    let se = (p * (1.0 - p) / y.len() as f64).sqrt();
    assert!((at_zero - p).abs() < 4.0 * se, "P(start at 0) = {at_zero}, want {p:.4} +- {:.4}", 4.0 * se);
}

/// Two targets carry an effective sample size of at most 2, below K = 10: those chains start
/// from N(0, I) instead, and none sits on a target.
#[test]
fn sources_with_too_few_effective_targets_start_from_noise() {
    let mut cfg = SamplerConfig::new();
    cfg.init = resample(vec![0.0, 1.0], 1);
    cfg.samples_per_source = 10;
    cfg.step_size = 1e-12;
    cfg.steps_per_level = 1;
    let mut s = Sampler::new(&flat_dual(1), zero_score(1), cfg).unwrap();
    let (y, _) =
        s.sample(&Tensor::zeros([1, 1], (Kind::Float, Device::Cpu)), &mut crate::runtime::progress::ignore).unwrap();
    let y: Vec<f32> = Vec::try_from(y.flatten(0, -1)).unwrap();
    assert!(y.iter().all(|v| v.abs() > 1e-6 && (v - 1.0).abs() > 1e-6), "{y:?}");
}

/// Annealed: resampled chains keep their starts at the levels above sigma_start (0: three times
/// the last level) and move below it; chains from noise (here a second source whose targets are
/// too few) move at every level.
#[test]
fn resampled_chains_join_the_annealing_at_sigma_start() {
    let mut cfg = SamplerConfig::new();
    cfg.annealing = Some(Annealing { sigma_first: 3.0, sigma_last: 0.01, levels: 10 });
    assert_eq!(cfg.resample_join(), None);
    cfg.init = resample(vec![0.0], 1);
    assert!((cfg.resample_join().unwrap() - 0.03).abs() < 1e-12);
    cfg.init = ChainInit::Resample { targets: Arc::new(vec![0.0]), dim: 1, sigma_start: 0.5 };
    assert_eq!(cfg.resample_join(), Some(0.5));
    cfg.init = ChainInit::Resample { targets: Arc::new(vec![0.0]), dim: 1, sigma_start: -1.0 };
    assert!(cfg.validate().is_err());

    // Levels 1, 0.1, 0.01 with sigma_start = 0.05: a resampled chain moves only at the last level
    // (and the denoising step), by about sqrt(2 a T) = sqrt(2 * 1e-4 * 50) = 0.1.
    let run = |sigma_start: f64| {
        let mut cfg = SamplerConfig::new();
        cfg.annealing = Some(Annealing { sigma_first: 1.0, sigma_last: 0.01, levels: 3 });
        cfg.init = ChainInit::Resample { targets: Arc::new(vec![5.0; 400]), dim: 1, sigma_start };
        cfg.samples_per_source = 200;
        cfg.step_size = 1e-4;
        cfg.steps_per_level = 50;
        let mut s = Sampler::new(&flat_dual(1), zero_score(1), cfg).unwrap();
        let (y, _) = s
            .sample(&Tensor::zeros([1, 1], (Kind::Float, Device::Cpu)), &mut crate::runtime::progress::ignore)
            .unwrap();
        let y: Vec<f32> = Vec::try_from(y.flatten(0, -1)).unwrap();
        y.iter().map(|v| ((v - 5.0) as f64).powi(2)).sum::<f64>() / y.len() as f64
    };
    let late = run(0.05);
    assert!(late > 0.0 && late < 0.05, "mean squared move {late} when joining at the last level");
    // Joining at every level: the first level's steps a = 1e-4 * 100^2 = 1 move a chain by far more
    // (the score is zero, so nothing pulls it back but the compatibility exp(-|x - y|^2)).
    let early = run(1.0);
    assert!(early > 10.0 * late, "joining at the first level moved {early}, at the last {late}");
}

#[test]
fn bad_targets_are_refused_when_the_sampler_is_made() {
    let make = |init: ChainInit| {
        let mut cfg = SamplerConfig::new();
        cfg.init = init;
        Sampler::new(&flat_dual(2), zero_score(2), cfg).map(|_| ())
    };
    assert!(make(resample(vec![0.0, 1.0, 2.0], 2)).is_err(), "3 values are not rows of 2");
    assert!(make(resample(vec![0.0, 1.0, 2.0], 3)).is_err(), "dimension 3 against dy = 2");
    assert!(make(resample(vec![], 2)).is_err(), "no targets");
    assert!(make(resample(vec![0.0, f32::NAN], 2)).is_err(), "NaN target");
    assert!(make(resample(vec![0.0, 1.0, 2.0, 3.0], 2)).is_ok());
}
