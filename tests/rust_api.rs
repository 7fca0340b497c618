//! The ndarray API end to end against known answers: the d = 2 Gaussian coupling in closed
//! form, exact discrete plans, layouts (a transposed view reads as its row-major copy), model
//! files, and the errors a caller can branch on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ndarray::{array, s, Array1, Array2, Axis, ShapeBuilder};
use scones::api::discrete::{self, DiscreteOptions};
use scones::api::gaussian::{self, Spectrum};
use scones::api::toy::{self, Toy};
use scones::api::{metrics, BatchMode, Divergence};
use scones::{
    Barycentric, ChainStart, Dual, DualOptions, ErrorKind, Measure, Sampler, SamplerOptions, Score, TrainOptions,
};

fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn small_dual_options(iterations: usize) -> DualOptions {
    DualOptions::new()
        .regularizer(Divergence::Kl, 4.0)
        .hidden(&[32, 32])
        .batch(128, BatchMode::AllPairs)
        .iterations(iterations)
        .threads(2)
}

#[test]
fn d2_gaussian_coupling_reaches_bw_uvp_below_half_with_the_exact_score() {
    let (d, lambda) = (2, 4.0);
    let zero = [0.0; 2];
    let a = gaussian::random_covariance(d, Spectrum::Geometric, 1).unwrap();
    let b = gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap();
    let exact = gaussian::entropic_coupling(&a, &b, lambda).unwrap();
    let x = gaussian::sample(&zero, &a, 20_000, 10).unwrap();
    let y = gaussian::sample(&zero, &b, 20_000, 11).unwrap();
    let reports = Arc::new(AtomicUsize::new(0));
    let seen = reports.clone();
    let options = DualOptions::new()
        .regularizer(Divergence::Kl, lambda)
        .hidden(&[64, 64])
        .batch(250, BatchMode::AllPairs)
        .iterations(500)
        .threads(2)
        .progress(50, move |p| {
            seen.fetch_add(1, Ordering::Relaxed);
            p.objective.is_finite()
        });
    let dual = Dual::train(&x, &y, &options).unwrap();
    assert_eq!(reports.load(Ordering::Relaxed), 10, "one report every 50 iterations");
    let r = dual.report().unwrap();
    assert!((r.mean_compatibility - 1.0).abs() < 0.03, "E[M(V)] = {}", r.mean_compatibility);

    let score = Score::gaussian(&zero, &b).unwrap();
    let sampling = SamplerOptions::new().steps(300, 0.05).metropolis(true).threads(2);
    let mut sampler = Sampler::new(&dual, &score, &sampling).unwrap();
    let x_eval = gaussian::sample(&zero, &a, 10_000, 12).unwrap();
    let y_eval = sampler.sample(&x_eval).unwrap();
    let bw = metrics::bw_uvp(&metrics::joint_covariance(&x_eval, &y_eval).unwrap(), &exact).unwrap();
    let acceptance = sampler.report().unwrap().acceptance;
    println!(
        "d = 2: BW-UVP {bw:.4} after {} iterations ({:.1} s), acceptance {acceptance:.3}",
        r.iterations, r.seconds
    );
    assert!(bw < 0.5, "BW-UVP {bw}");
    // The independent coupling (x_eval paired with fresh target samples) is far off: the
    // metric can fail.
    let independent = gaussian::sample(&zero, &b, 10_000, 13).unwrap();
    let bw0 = metrics::bw_uvp(&metrics::joint_covariance(&x_eval, &independent).unwrap(), &exact).unwrap();
    assert!(bw0 > 5.0 * bw.max(0.1), "independent coupling BW-UVP {bw0}");
}

#[test]
fn sinkhorn_plan_has_the_given_marginals_and_matches_the_kl_dual_and_ipot_the_assignment() {
    let x = toy::sample(Toy::Moons, 40, 1).unwrap();
    let y = toy::sample(Toy::EightGaussians, 30, 2).unwrap();
    let a = Array1::from_shape_fn(40, |i| (1 + i % 3) as f64);
    let a = &a / a.sum();
    let b = Array1::from_elem(30, 1.0 / 30.0);
    let options = DiscreteOptions::new().weights(&a, &b).tolerance(1e-9);
    let lambda = 0.5;
    let sk = discrete::sinkhorn(&x, &y, lambda, &options).unwrap();
    assert!(sk.converged);
    let plan = sk.plan.as_ref().unwrap();
    assert_eq!(plan.dim(), (40, 30));
    let rows = plan.sum_axis(Axis(1));
    let cols = plan.sum_axis(Axis(0));
    assert!((&rows - &a).iter().all(|e| e.abs() < 1e-8), "row sums {rows}");
    assert!((&cols - &b).iter().all(|e| e.abs() < 1e-8), "column sums {cols}");
    let (f, g) = sk.potentials.as_ref().unwrap();
    assert!((f.dot(&a) - g.dot(&b)).abs() < 1e-8, "gauge sum a f = sum b g");

    // KL-regularized discrete dual at the same lambda: the same plan.
    let kl = discrete::fdual(&x, &y, Divergence::Kl, lambda, &options).unwrap();
    let diff = max_abs_diff(kl.plan.as_ref().unwrap(), plan);
    assert!(diff < 1e-7, "Sinkhorn vs f-divergence dual plans differ by {diff}");

    // Uniform n x n: IPOT reaches the optimal assignment's cost.
    let (xs, ys) = (x.slice(s![..30, ..]), y.view());
    let ip = discrete::ipot(xs, ys, &DiscreteOptions::new()).unwrap();
    let cost = Array2::from_shape_fn((30, 30), |(i, j)| (&xs.row(i) - &ys.row(j)).mapv(|v| v * v).sum());
    let best = discrete::assignment(&cost).unwrap();
    let mut seen = best.columns.clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..30).collect::<Vec<_>>(), "a permutation");
    let exact = best.total_cost / 30.0;
    assert!((ip.transport_cost - exact).abs() < 1e-4 * exact, "IPOT {} vs exact {exact}", ip.transport_cost);
}

#[test]
fn any_layout_and_either_precision_reads_as_the_row_major_copy() {
    let x = toy::sample(Toy::SwissRoll, 300, 3).unwrap();
    let y = toy::sample(Toy::Gaussian, 200, 4).unwrap();
    // The same points stored column-major (a Fortran-order array seen through .t() of its
    // transpose) and as a strided view into a wider matrix.
    let mut x_f = Array2::zeros((300, 2).f());
    x_f.assign(&x);
    assert!(!x_f.is_standard_layout());
    let mut wide = Array2::zeros((300, 5));
    wide.slice_mut(s![.., 1..;2]).assign(&x);
    let x_strided = wide.slice(s![.., 1..;2]);
    let x_t = x.t().to_owned(); // 2 x 300, so x_t.t() is a transposed view of it
    let y32 = y.mapv(|v| v as f32);

    let dual = Dual::train(&x, &y, &small_dual_options(50)).unwrap();
    let m = dual.compatibility(&x, &y).unwrap();
    for (name, other) in [
        ("column-major", dual.compatibility(&x_f, &y32).unwrap()),
        ("strided", dual.compatibility(x_strided, &y).unwrap()),
        ("transposed", dual.compatibility(x_t.t(), &y).unwrap()),
    ] {
        assert_eq!(max_abs_diff(&m, &other), 0.0, "{name}");
    }
    let phi = dual.phi(&x).unwrap();
    assert_eq!(phi, dual.phi(x_t.t()).unwrap());

    let opts = DiscreteOptions::new();
    let p = discrete::sinkhorn(&x, &y, 0.1, &opts).unwrap().plan.unwrap();
    let q = discrete::sinkhorn(x_t.t(), &y, 0.1, &opts).unwrap().plan.unwrap();
    assert_eq!(max_abs_diff(&p, &q), 0.0);
    let c = metrics::covariance(&x).unwrap();
    assert_eq!(max_abs_diff(&c, &metrics::covariance(&x_f).unwrap()), 0.0);
}

#[test]
fn models_survive_save_and_load() {
    let dir = std::env::temp_dir().join(format!("scones-rust-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = toy::sample(Toy::Gaussian, 500, 5).unwrap();
    let y = toy::sample(Toy::Moons, 500, 6).unwrap();
    let dual = Dual::train(&x, &y, &small_dual_options(30)).unwrap();
    dual.save(dir.join("dual.safetensors")).unwrap();
    let loaded = Dual::load(dir.join("dual.safetensors"), "cpu").unwrap();
    assert_eq!(loaded.dims(), (2, 2));
    assert_eq!(loaded.regularizer().lambda, 4.0);
    assert!(loaded.report().is_none());
    assert_eq!(dual.psi(&y).unwrap(), loaded.psi(&y).unwrap());

    let (mut source, mut target) = (Measure::points(&x).unwrap(), Measure::points(&y).unwrap());
    let train = TrainOptions::new().hidden(&[16, 16]).batch_size(64).iterations(30).threads(2);
    let map = Barycentric::train(&loaded, &mut source, &mut target, &train).unwrap();
    map.save(dir.join("map.safetensors")).unwrap();
    let map2 = Barycentric::load(dir.join("map.safetensors")).unwrap();
    assert_eq!(map.map(&x).unwrap(), map2.map(&x).unwrap());

    let score = Score::train(&mut target, &train).unwrap();
    score.save(dir.join("score.safetensors")).unwrap();
    let score2 = Score::load(dir.join("score.safetensors")).unwrap();
    assert_eq!(score.eval(&y, 0.1).unwrap(), score2.eval(&y, 0.1).unwrap());
    let not_trained = Score::gaussian(&[0.0, 0.0], &Array2::<f64>::eye(2)).unwrap();
    assert_eq!(not_trained.save(dir.join("g.safetensors")).unwrap_err().kind, ErrorKind::InvalidArgument);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn host_closures_serve_as_measures_and_scores() {
    // A measure drawn by a closure: N(mean, I) from the seed the training loop hands out.
    let calls = AtomicUsize::new(0);
    let mut target = Measure::from_fn(2, |m, seed| {
        calls.fetch_add(1, Ordering::Relaxed);
        gaussian::sample(&[2.0, -1.0], &Array2::<f64>::eye(2), m, seed)
    })
    .unwrap();
    let mut source = Measure::points(&toy::sample(Toy::Gaussian, 400, 7).unwrap()).unwrap();
    let dual = Dual::train_measures(&mut source, &mut target, &small_dual_options(20)).unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 20, "one draw per iteration");

    // The closure score of N((2, -1), I) agrees with the closed form.
    let closure = Score::from_fn(2, |y, sigma| {
        let mean = array![[2.0, -1.0]];
        Ok((&mean - &y) / (1.0 + sigma * sigma))
    })
    .unwrap();
    let exact = Score::gaussian(&[2.0, -1.0], &Array2::<f64>::eye(2)).unwrap();
    let y = toy::sample(Toy::Circle, 50, 8).unwrap();
    assert!(max_abs_diff(&closure.eval(&y, 0.5).unwrap(), &exact.eval(&y, 0.5).unwrap()) < 1e-5);

    // Sampling with the closure score, K = 3 per source, chains from a barycentric map.
    let (mut s2, mut t2) = (Measure::points(&y).unwrap(), Measure::points(&y).unwrap());
    let train = TrainOptions::new().hidden(&[16]).batch_size(32).iterations(10);
    let map = Barycentric::train(&dual, &mut s2, &mut t2, &train).unwrap();
    let options = SamplerOptions::new().steps(20, 0.01).samples_per_source(3).chain_start(ChainStart::Map(map));
    let mut sampler = Sampler::new(&dual, &closure, &options).unwrap();
    let out = sampler.sample(y.slice(s![..4, ..])).unwrap();
    assert_eq!(out.dim(), (12, 2));
    assert!(out.iter().all(|v| v.is_finite()));

    let wrong = Score::from_fn(2, |y, _| Ok(Array2::zeros((y.nrows(), 3)))).unwrap();
    assert_eq!(wrong.eval(&y, 0.0).unwrap_err().kind, ErrorKind::Callback);
}

#[test]
fn errors_name_what_went_wrong() {
    let x = toy::sample(Toy::Gaussian, 100, 9).unwrap();
    let mut bad = x.clone();
    bad[[7, 1]] = f64::NAN;
    let e = Dual::train(&bad, &x, &small_dual_options(5)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NonFinite);
    assert!(e.message.contains("row 7, column 1"), "{}", e.message);

    let e = Dual::train(&x, &x, &small_dual_options(5).regularizer(Divergence::Kl, -1.0)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let e = Dual::train(&x, &x, &small_dual_options(5).device("cuda:99")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::DeviceUnavailable | ErrorKind::InvalidArgument), "{e}");

    let cancel = small_dual_options(50).progress(10, |p| p.iteration < 20);
    assert_eq!(Dual::train(&x, &x, &cancel).unwrap_err().kind, ErrorKind::Cancelled);

    let dual = Dual::train(&x, &x, &small_dual_options(5)).unwrap();
    let three = Array2::<f64>::zeros((4, 3));
    assert_eq!(dual.phi(&three).unwrap_err().kind, ErrorKind::ShapeMismatch);
    let empty = Array2::<f64>::zeros((0, 2));
    assert_eq!(dual.phi(&empty).unwrap_err().kind, ErrorKind::InvalidArgument);
    let score3 = Score::gaussian(&[0.0; 3], &Array2::<f64>::eye(3)).unwrap();
    let e = Sampler::new(&dual, &score3, &SamplerOptions::new()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::ShapeMismatch);
    let e = discrete::assignment(&Array2::<f64>::zeros((2, 3))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ShapeMismatch);
    let e = discrete::sinkhorn(&x, &x, 0.1, &DiscreteOptions::new().weights(&[0.5, 0.5], &[0.5, 0.5])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ShapeMismatch);
    assert_eq!(metrics::sliced_w2(&x, &x, 8, 0).unwrap(), 0.0);
}

/// Standard normal sources and targets (400 each), a KL dual at lambda = 0.2 trained 100
/// iterations, and the targets' exact score.
fn small_lambda_problem() -> (Array2<f64>, Array2<f64>, Dual, Score) {
    let x = gaussian::sample(&[0.0, 0.0], &Array2::<f64>::eye(2), 400, 1).unwrap();
    let y = gaussian::sample(&[0.0, 0.0], &Array2::<f64>::eye(2), 400, 2).unwrap();
    let dual = Dual::train(&x, &y, &small_dual_options(100).regularizer(Divergence::Kl, 0.2)).unwrap();
    let score = Score::gaussian(&[0.0, 0.0], &Array2::<f64>::eye(2)).unwrap();
    (x, y, dual, score)
}

/// lambda = 0.2 with the annealed schedule sigma 3 -> 0.01, 10 x 60 steps at eps = 2e-5: the
/// first step (1.8) against the compatibility stiffness 2 / lambda = 10 blows the untempered
/// chains up; the default tempering keeps them finite and near their sources.
#[test]
fn compatibility_tempering_keeps_small_lambda_stable() {
    let (x, _, dual, score) = small_lambda_problem();
    let annealed = SamplerOptions::new().annealing(3.0, 0.01, 10).steps(60, 2e-5);
    let sources = x.slice(s![..100, ..]);
    let mut untempered =
        Sampler::new(&dual, &score, &annealed.clone().compatibility_tempering(false).compatibility_at_denoised(false))
            .unwrap();
    assert_eq!(untempered.sample(sources).unwrap_err().kind, ErrorKind::Diverged);
    let out = Sampler::new(&dual, &score, &annealed).unwrap().sample(sources).unwrap();
    let mean_distance = (&out - &sources).map_axis(Axis(1), |r| r.dot(&r).sqrt()).mean().unwrap();
    assert!(out.iter().all(|v| v.is_finite()) && mean_distance < 0.8, "mean distance {mean_distance}");
}

/// Chains started from the targets resampled by M (`ChainStart::resample`): with steps of 1e-12
/// every sample is one of the given target rows; with the annealed defaults at lambda = 0.2 the
/// samples are finite and near their sources; targets of another dimension are refused.
#[test]
fn resampled_chain_starts_come_from_the_targets() {
    let (x, y, dual, score) = small_lambda_problem();
    let sources = x.slice(s![..50, ..]);
    let frozen = SamplerOptions::new().chain_start(ChainStart::resample(&y, 0.0)).steps(1, 1e-12);
    let out = Sampler::new(&dual, &score, &frozen).unwrap().sample(sources).unwrap();
    for row in out.rows() {
        let nearest = y.rows().into_iter().map(|t| (&t - &row).mapv(|v| v * v).sum()).fold(f64::INFINITY, f64::min);
        assert!(nearest < 1e-8, "a resampled chain is {} from every target", nearest.sqrt());
    }
    let annealed =
        SamplerOptions::new().annealing(3.0, 0.01, 10).steps(60, 2e-5).chain_start(ChainStart::resample(&y, 0.0));
    let out = Sampler::new(&dual, &score, &annealed).unwrap().sample(sources).unwrap();
    let mean_distance = (&out - &sources).map_axis(Axis(1), |r| r.dot(&r).sqrt()).mean().unwrap();
    assert!(out.iter().all(|v| v.is_finite()) && mean_distance < 0.8, "mean distance {mean_distance}");
    let wide = Array2::<f64>::zeros((10, 3));
    let err = Sampler::new(&dual, &score, &frozen.clone().chain_start(ChainStart::resample(&wide, 0.0))).err().unwrap();
    assert_eq!(err.kind, ErrorKind::ShapeMismatch);
}
