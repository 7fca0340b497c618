//! The sampler against known answers (zero potentials make the conditional a closed-form
//! Gaussian); one file of tests, about 460 lines, beside the sampler they check.

use super::*;
use crate::ot::Divergence;
use crate::reference::gaussian::{self, Spectrum};
use crate::score::GaussianScore;

/// Potentials that are exactly zero (last layers zeroed): with KL the conditional is then
/// pi(y | x) ∝ tau(y) exp(-|x - y|^2 / lambda), a Gaussian with precision B^-1 + (2/lambda) I
/// and mean P^-1 (2 x / lambda): a known answer for the sampler alone.
fn zero_dual(d: usize, lambda: f64) -> DualPotentials {
    zero_dual_with(Cost::SqEuclidean, d, d, lambda)
}

fn zero_dual_with(cost: Cost, dx: usize, dy: usize, lambda: f64) -> DualPotentials {
    let mut rng = Rng64::new(1);
    let phi = Mlp::new(dx, &[8], 1, &mut rng, Device::Cpu).unwrap();
    let psi = Mlp::new(dy, &[8], 1, &mut rng, Device::Cpu).unwrap();
    tch::no_grad(|| {
        for net in [&phi, &psi] {
            let (w, b) = net.layers.last().unwrap();
            let _ = w.shallow_clone().zero_();
            let _ = b.shallow_clone().zero_();
        }
    });
    DualPotentials {
        phi,
        psi,
        regularizer: Regularizer::new(Divergence::Kl, lambda).unwrap(),
        cost,
        dx,
        dy,
        device: Device::Cpu,
    }
}

struct Exact {
    mean: Vec<f64>,
    cov: Vec<f64>,
}

fn exact_conditional(b: &[f64], d: usize, lambda: f64, x: &[f64]) -> Exact {
    let bt = crate::reference::linalg::mat(b, d).unwrap();
    let p = bt.inverse() + crate::reference::linalg::eye(d).unwrap() * (2.0 / lambda);
    let cov = p.inverse();
    let mean = cov.matmul(&(Tensor::from_slice(x) * (2.0 / lambda)));
    Exact {
        mean: crate::reference::linalg::to_vec(&mean).unwrap(),
        cov: crate::reference::linalg::to_vec(&cov).unwrap(),
    }
}

fn moments(y: &Tensor, d: usize) -> (Vec<f64>, Vec<f64>) {
    let v = crate::reference::linalg::to_vec(y).unwrap();
    let n = v.len() / d;
    let mean: Vec<f64> = (0..d).map(|k| (0..n).map(|i| v[i * d + k]).sum::<f64>() / n as f64).collect();
    (mean, crate::reference::metrics::covariance(&v, d).unwrap())
}

/// Checks sample moments against the exact conditional within `z` standard errors of an
/// i.i.d. sample of size n (plus an allowed bias `bias` relative to the variances).
fn check(y: &Tensor, ex: &Exact, d: usize, z: f64, bias: f64) {
    let n = y.size()[0] as f64;
    let (mean, cov) = moments(y, d);
    for (k, (&got, &want)) in mean.iter().zip(&ex.mean).enumerate() {
        let se = (ex.cov[k * d + k] / n).sqrt();
        assert!((got - want).abs() < z * se, "mean[{k}] {got} vs {want} (se {se})");
    }
    for r in 0..d {
        for c in 0..d {
            // Var of a sample covariance entry: (S_rr S_cc + S_rc^2) / n.
            let se = ((ex.cov[r * d + r] * ex.cov[c * d + c] + ex.cov[r * d + c].powi(2)) / n).sqrt();
            let tol = z * se + bias * (ex.cov[r * d + r] * ex.cov[c * d + c]).sqrt();
            assert!(
                (cov[r * d + c] - ex.cov[r * d + c]).abs() < tol,
                "cov[{r},{c}] {} vs {} (tol {tol})",
                cov[r * d + c],
                ex.cov[r * d + c]
            );
        }
    }
}

fn setup(d: usize) -> (Vec<f64>, f64, Vec<f64>) {
    (
        gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap(),
        2.0 * d as f64,
        vec![1.0, -0.5, 0.25][..d].to_vec(),
    )
}

#[test]
fn metropolis_adjusted_langevin_hits_the_exact_conditional() {
    let d = 2;
    let (b, lambda, x) = setup(d);
    let mut cfg = SamplerConfig::new();
    cfg.metropolis = true;
    cfg.step_size = 0.2;
    cfg.steps_per_level = 300;
    cfg.samples_per_source = 8000;
    cfg.seed = 3;
    let mut s = Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
    let (y, rep) = s
        .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut crate::runtime::progress::ignore)
        .unwrap();
    assert_eq!(y.size(), [8000, 2]);
    assert!(rep.acceptance > 0.5 && rep.acceptance < 1.0, "acceptance {}", rep.acceptance);
    // MALA is exact: only sampling error (chains are independent after 300 steps).
    check(&y, &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.0);
}

#[test]
fn adapted_metropolis_step_reaches_its_acceptance_target_and_stays_exact() {
    let d = 3;
    let (b, lambda, x) = setup(d);
    let mut cfg = SamplerConfig::new();
    cfg.metropolis = true;
    cfg.adapt_step = true;
    cfg.step_size = 5.0; // far too large: acceptance near 0 until adapted
    cfg.steps_per_level = 400;
    cfg.samples_per_source = 6000;
    let mut s = Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 3], &b).unwrap()), cfg).unwrap();
    let mut last = f64::NAN;
    let (y, _) = s
        .sample(&Tensor::from_slice(&x).view([1, 3]).to_kind(Kind::Float), &mut |p| {
            last = p.acceptance;
            true
        })
        .unwrap();
    // The overall rate includes the first steps at the bad step size; it still ends near the
    // target (0.574) once adaptation has settled.
    assert!(last > 0.4 && last < 0.75, "acceptance {last}");
    check(&y, &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.0);
}

#[test]
fn unadjusted_langevin_is_close_with_a_small_step() {
    let d = 2;
    let (b, lambda, x) = setup(d);
    let mut cfg = SamplerConfig::new();
    cfg.step_size = 0.01;
    cfg.steps_per_level = 1500;
    cfg.samples_per_source = 6000;
    cfg.init = ChainInit::Source;
    let mut s = Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
    let (y, _) = s
        .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut crate::runtime::progress::ignore)
        .unwrap();
    // ULA with step a = eps/2 inflates variances by about a * lambda_max(P) / 2 (< 1% here).
    check(&y, &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.01);
}

#[test]
fn annealed_langevin_with_denoising_approaches_the_conditional() {
    let d = 2;
    let (b, lambda, x) = setup(d);
    let mut cfg = SamplerConfig::new();
    cfg.annealing = Some(Annealing { sigma_first: 1.0, sigma_last: 0.01, levels: 10 });
    cfg.denoise = true;
    cfg.step_size = 2e-5;
    cfg.steps_per_level = 100;
    cfg.samples_per_source = 6000;
    let mut s = Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
    assert_eq!(s.steps_per_chain(), 1001);
    let (y, _) = s
        .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut crate::runtime::progress::ignore)
        .unwrap();
    check(&y, &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.03);
}

#[test]
fn same_seed_reproduces_and_samples_are_grouped_by_source() {
    let d = 2;
    let (b, lambda, _) = setup(d);
    let mut cfg = SamplerConfig::new();
    cfg.steps_per_level = 20;
    cfg.samples_per_source = 3;
    cfg.chain_batch = 4; // several batches
    cfg.init = ChainInit::Source;
    let dual = zero_dual(d, lambda);
    let score: Arc<dyn ScoreSource> = Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap());
    let xs = Tensor::from_slice(&[50.0f32, 50.0, -50.0, -50.0]).view([2, 2]);
    let run = || {
        Sampler::new(&dual, score.clone(), cfg.clone())
            .unwrap()
            .sample(&xs, &mut crate::runtime::progress::ignore)
            .unwrap()
            .0
    };
    let (y1, y2) = (run(), run());
    assert_eq!(y1, y2);
    // lambda = 4 pulls samples strongly towards their source: rows 0-2 positive, 3-5 negative
    let v = crate::reference::linalg::to_vec(&y1).unwrap();
    assert!(v[..6].iter().all(|&t| t > 0.0) && v[6..].iter().all(|&t| t < 0.0), "{v:?}");
}

#[test]
fn divergence_is_reported_not_returned() {
    let d = 2;
    let (b, lambda, x) = setup(d);
    let mut cfg = SamplerConfig::new();
    cfg.step_size = 50.0; // far beyond stability for precisions ~1
    cfg.steps_per_level = 400;
    let mut s = Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
    let e = s
        .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut crate::runtime::progress::ignore)
        .unwrap_err();
    assert_eq!(e.kind, crate::runtime::error::ErrorKind::Diverged, "{e}");
}

#[test]
fn cancellation_stops_sampling() {
    let d = 2;
    let (b, lambda, x) = setup(d);
    let mut cfg = SamplerConfig::new();
    cfg.report_every = 10;
    let mut s = Sampler::new(&zero_dual(d, lambda), Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
    let mut calls = 0;
    let e = s
        .sample(&Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float), &mut |p| {
            calls += 1;
            p.iteration < 30
        })
        .unwrap_err();
    assert_eq!(e.kind, crate::runtime::error::ErrorKind::Cancelled);
    assert_eq!(calls, 3);
}

/// A fixed-seed run of every mode, pinned bit for bit: an FNV-1a hash of all samples and of the
/// acceptance rates reported to the observer. Guards refactorings that must keep the random
/// stream's order and the arithmetic. Ignored by default because the bits depend on libtorch's
/// CPU kernels (the hashes were recorded with torch 2.11 on the development machine); run with
/// `cargo test --release --lib fixed_seed_runs_are_pinned -- --ignored` before and after
/// changing the sampler or the regularizers. Re-recorded when the noise moved to per-chain
/// streams and adaptive MALA to per-chain step sizes (issue 12, sharded sampling).
/// Small lambda (0.2, the benchmark's eps = 0.1): the compatibility term's stiffness 2 / lambda
/// = 10 against the first level's step eps (sigma_1 / sigma_N)^2 = 1.8. Untempered, the chains
/// blow up at the first level; tempered, the default schedule reaches the exact conditional.
#[test]
fn tempered_compatibility_keeps_small_lambda_stable_and_exact() {
    let d = 2;
    let (b, _, x) = setup(d);
    let lambda = 0.2;
    let mut cfg = SamplerConfig::new();
    cfg.annealing = Some(Annealing { sigma_first: 3.0, sigma_last: 0.01, levels: 10 });
    cfg.denoise = true;
    cfg.step_size = 2e-5;
    cfg.steps_per_level = 60;
    cfg.samples_per_source = 6000;
    let score: Arc<dyn ScoreSource> = Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap());
    let xs = Tensor::from_slice(&x).view([1, 2]).to_kind(Kind::Float);
    let run = |temper: bool| {
        let mut c = cfg.clone();
        c.temper_compatibility = temper;
        // The reference code's schedule when untempered: grad log M at y. (At the denoised point,
        // whose Jacobian 1 / (1 + sigma^2) softens the stiffness at the first level, a_1 p is
        // 1.98 there and the untempered run happens to stay inside ULA's stability limit.)
        c.compatibility_at_denoised = temper;
        Sampler::new(&zero_dual(d, lambda), score.clone(), c)
            .unwrap()
            .sample(&xs, &mut crate::runtime::progress::ignore)
            .map(|(y, _)| y)
    };
    let e = run(false).unwrap_err();
    assert_eq!(e.kind, crate::runtime::error::ErrorKind::Diverged, "{e}");
    // The last levels' small steps (a_N = 2e-5) leave the conditional slightly wide: allow 5% of
    // the variances as bias on top of 4.5 standard errors.
    check(&run(true).unwrap(), &exact_conditional(&b, d, lambda, &x), d, 4.5, 0.05);
}

/// The conditional score with grad log M at Tweedie's denoised point, against its closed form:
/// target N(0, I) smoothed by sigma has score -y / (1 + sigma^2) and denoised point
/// y0 = y / (1 + sigma^2); with zero potentials, KL and the squared Euclidean cost,
/// grad log M(x, y0) = -2 (y0 - x) / lambda. As sigma -> 0 it is the score at y itself.
#[test]
fn compatibility_at_the_denoised_point_matches_its_closed_form() {
    let (d, lambda) = (2, 0.5);
    let score: Arc<dyn ScoreSource> = Arc::new(GaussianScore::new(&[0.0; 2], &[1.0, 0.0, 0.0, 1.0]).unwrap());
    let x = Tensor::from_slice(&[0.3f32, -0.7, 1.5, 0.2]).view([2, 2]);
    let y = Tensor::from_slice(&[2.0f32, 1.0, -1.0, 0.5]).view([2, 2]);
    for (at_denoised, sigma) in [(true, 2.0), (true, 0.3), (false, 2.0), (true, 0.0)] {
        let mut cfg = SamplerConfig::new();
        cfg.compatibility_at_denoised = at_denoised;
        let mut s = Sampler::new(&zero_dual(d, lambda), score.clone(), cfg).unwrap();
        let got = crate::reference::linalg::to_vec(&s.conditional_score(&x, None, &y, sigma, 1.0).unwrap()).unwrap();
        let (xv, yv) = ([0.3, -0.7, 1.5, 0.2], [2.0, 1.0, -1.0, 0.5]);
        for k in 0..4 {
            let shrink = 1.0 / (1.0 + sigma * sigma);
            let at = if at_denoised { yv[k] * shrink } else { yv[k] };
            let want = -yv[k] * shrink - 2.0 * (at - xv[k]) / lambda;
            assert!((got[k] - want).abs() < 1e-5, "at_denoised {at_denoised}, sigma {sigma}: {got:?}[{k}] vs {want}");
        }
    }
}

#[test]
#[ignore = "exact bits depend on libtorch's CPU kernels; run with --include-ignored before and after a refactor"]
fn fixed_seed_runs_are_pinned() {
    type Mode = (&'static str, Divergence, fn(&mut SamplerConfig), u64);
    let modes: [Mode; 8] = [
        ("ula", Divergence::Kl, |c| c.steps_per_level = 30, 0x665caff2c81f62e0),
        (
            "ula_js",
            Divergence::JensenShannon,
            |c| {
                c.steps_per_level = 30;
                c.init = ChainInit::Source;
            },
            0x7cb7510f1ee19524,
        ),
        (
            "mala",
            Divergence::Kl,
            |c| {
                c.metropolis = true;
                c.step_size = 0.2;
                c.steps_per_level = 30;
            },
            0x7c824d179d3d5b6f,
        ),
        (
            "mala_chi",
            Divergence::ChiSquare,
            |c| {
                c.metropolis = true;
                c.step_size = 0.2;
                c.steps_per_level = 30;
            },
            0x498803db1c22b613,
        ),
        (
            "amala",
            Divergence::ReverseKl,
            |c| {
                c.metropolis = true;
                c.adapt_step = true;
                c.step_size = 3.0;
                c.steps_per_level = 40;
            },
            0x796d4a610f396d15,
        ),
        (
            "anneal",
            Divergence::Kl,
            |c| {
                c.annealing = Some(Annealing { sigma_first: 1.0, sigma_last: 0.01, levels: 4 });
                c.temper_compatibility = false; // pinned before tempering existed
                c.denoise = true;
                c.step_size = 2e-5;
                c.steps_per_level = 10;
            },
            0x094b0db3b88125dc,
        ),
        (
            "anneal_mala",
            Divergence::SquaredHellinger,
            |c| {
                c.annealing = Some(Annealing { sigma_first: 1.0, sigma_last: 0.1, levels: 3 });
                c.temper_compatibility = false; // pinned before tempering existed
                c.metropolis = true;
                c.adapt_step = true;
                c.denoise = true;
                c.step_size = 1e-2;
                c.steps_per_level = 10;
            },
            0x7f81bd8fe623f88e,
        ),
        (
            "nocompat",
            Divergence::Gan,
            |c| {
                c.use_compatibility = false;
                c.steps_per_level = 10;
            },
            0x451aa151d6394629,
        ),
    ];
    let d = 2;
    let (b, _, _) = setup(d);
    let score: Arc<dyn ScoreSource> = Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap());
    // Untrained potentials, so that grad psi and V are not trivial.
    let mut rng = Rng64::new(7);
    let phi = Mlp::new(d, &[8], 1, &mut rng, Device::Cpu).unwrap();
    let psi = Mlp::new(d, &[8], 1, &mut rng, Device::Cpu).unwrap();
    let xs = Tensor::from_slice(&[1.0f32, -0.5, 0.3, 0.8, -1.0, 0.2]).view([3, 2]);
    let mut mismatches = Vec::new();
    for (name, div, configure, pinned) in modes {
        let mut cfg = SamplerConfig::new();
        cfg.samples_per_source = 5;
        cfg.chain_batch = 4; // several batches
        cfg.report_every = 7;
        cfg.seed = 11;
        // The hashes were recorded with grad log M at y; the denoised-point default is checked
        // against its closed form above.
        cfg.compatibility_at_denoised = false;
        configure(&mut cfg);
        let dual = DualPotentials {
            phi: phi.detached_to(Device::Cpu).unwrap(),
            psi: psi.detached_to(Device::Cpu).unwrap(),
            regularizer: Regularizer::new(div, 0.5).unwrap(),
            cost: Cost::SqEuclidean,
            dx: d,
            dy: d,
            device: Device::Cpu,
        };
        let mut s = Sampler::new(&dual, score.clone(), cfg).unwrap();
        if div == Divergence::ChiSquare {
            s.set_softplus_beta(10.0).unwrap();
        }
        let mut acceptances = Vec::new();
        let (y, _) = s
            .sample(&xs, &mut |p| {
                acceptances.push(p.acceptance.to_bits());
                true
            })
            .unwrap();
        let v = Vec::<f32>::try_from(y.flatten(0, -1)).unwrap();
        let mut h: u64 = 0xcbf29ce484222325;
        for x in v.iter().map(|x| u64::from(x.to_bits())).chain(acceptances) {
            h = (h ^ x).wrapping_mul(0x100000001b3);
        }
        if h != pinned {
            mismatches.push(format!("{name}: {h:#018x}, pinned {pinned:#018x}"));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:?}");
}

#[test]
fn a_linear_cost_between_dimensions_samples_its_exact_conditional() {
    // dx = 1, dy = 2, c = |L y - K x|^2 with L = (1/2, 1/2), K = 3: with zero potentials and KL
    // the conditional is Gaussian with precision P = B^-1 + (2 / lambda) L^T L and mean
    // P^-1 (2 / lambda) L^T K x. Exercises the cost's y-gradient, its curvature in the
    // schedule and the dimension bookkeeping of a sampler whose x and y differ in size.
    let (l, k) = ([0.5, 0.5], [3.0]);
    let cost = Cost::linear(&l, &k, 1, 1, 2).unwrap();
    let b = [1.0, 0.3, 0.3, 0.5];
    let (lambda, x) = (0.5, 0.4);
    let mut cfg = SamplerConfig::new();
    cfg.metropolis = true;
    cfg.step_size = 0.1;
    cfg.steps_per_level = 300;
    cfg.samples_per_source = 8000;
    cfg.seed = 4;
    let dual = zero_dual_with(cost, 1, 2, lambda);
    let mut s = Sampler::new(&dual, Arc::new(GaussianScore::new(&[0.0; 2], &b).unwrap()), cfg).unwrap();
    let (y, _) =
        s.sample(&Tensor::from_slice(&[x as f32]).view([1, 1]), &mut crate::runtime::progress::ignore).unwrap();
    assert_eq!(y.size(), [8000, 2]);
    let (bt, lt) = (crate::reference::linalg::mat(&b, 2).unwrap(), Tensor::from_slice(&l).view([1, 2]));
    let p = bt.inverse() + lt.transpose(0, 1).matmul(&lt) * (2.0 / lambda);
    let cov = p.inverse();
    let mean = cov.matmul(&(lt.transpose(0, 1) * (2.0 / lambda * k[0] * x))).view([2]);
    let ex = Exact {
        mean: crate::reference::linalg::to_vec(&mean).unwrap(),
        cov: crate::reference::linalg::to_vec(&cov).unwrap(),
    };
    // The pull towards L y = 3 x is strong enough to move the mean well off the prior's 0.
    assert!(ex.mean.iter().all(|m| *m > 0.3), "{:?}", ex.mean);
    check(&y, &ex, 2, 4.5, 0.03);
}
