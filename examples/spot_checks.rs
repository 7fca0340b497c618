//! SPOT (thesis ch. 3) against known answers, written as JSON and markdown:
//!
//! - `w1`: the thesis' section 3.6.1, W1(N((-2.5, 0), I), N((2.5, 0), I)) = 5 under |x - y|, for
//!   the thesis setup and the tuned default at the given learning rates, mean and spread of the
//!   relative error over seeds next to the thesis' 0.6% / 0.3% / 0.3%;
//! - `gaussians`: squared Euclidean cost between two Gaussians with different covariances
//!   (d = 2, 16): the cost estimate against the squared Bures-Wasserstein distance and the
//!   BW-UVP of the generated joint covariance against the Brenier coupling's.
//!
//!   cargo run --release --example spot_checks -- w1|gaussians [--setup thesis|tuned|both]
//!       [--lrs 1e-3,1e-4] [--seeds N] [--iterations N] [--samples N] [--dims 2,16]
//!       [--threads N] [--out PREFIX]

use std::time::Instant;

use scones::neural::spot::{self, SpotConfig};
use scones::ot::measure::Empirical;
use scones::ot::Cost;
use scones::reference::bures::{bw2_squared, Moments};
use scones::reference::{gaussian, linalg, metrics};
use scones::runtime::progress;
use tch::{Device, Kind, Tensor};

struct Args {
    check: String,
    setups: Vec<String>,
    lrs: Vec<f64>,
    seeds: usize,
    iterations: Option<usize>,
    samples: usize,
    dims: Vec<usize>,
    out: Option<String>,
}

fn parse() -> Args {
    let a: Vec<String> = std::env::args().collect();
    let get = |f: &str| a.iter().position(|x| x == f).map(|i| a[i + 1].clone());
    tch::set_num_threads(get("--threads").map(|v| v.parse().unwrap()).unwrap_or(1));
    let list = |v: String| v.split(',').map(|s| s.parse().unwrap()).collect::<Vec<f64>>();
    Args {
        check: a.get(1).cloned().unwrap_or_else(|| "w1".into()),
        setups: match get("--setup").as_deref() {
            None | Some("both") => vec!["thesis".into(), "tuned".into()],
            Some(s) => vec![s.to_string()],
        },
        lrs: get("--lrs").map(list).unwrap_or_else(|| vec![1e-3, 1e-4]),
        seeds: get("--seeds").map(|v| v.parse().unwrap()).unwrap_or(5),
        iterations: get("--iterations").map(|v| v.parse().unwrap()),
        samples: get("--samples").map(|v| v.parse().unwrap()).unwrap_or(100_000),
        dims: get("--dims").map(|v| list(v).iter().map(|&d| d as usize).collect()).unwrap_or_else(|| vec![2, 16]),
        out: get("--out"),
    }
}

fn config(setup: &str, cost: Cost, lr: f64, seed: u64, iterations: Option<usize>) -> SpotConfig {
    let mut cfg = if setup == "thesis" { SpotConfig::thesis() } else { SpotConfig::default() };
    cfg.cost = cost;
    cfg.optim.learning_rate = lr;
    cfg.optim.seed = seed;
    if let Some(n) = iterations {
        cfg.optim.iterations = n;
    }
    cfg
}

fn points(v: Vec<f64>, d: usize) -> Empirical {
    let t = Tensor::from_slice(&v.iter().map(|&x| x as f32).collect::<Vec<_>>()).view([-1, d as i64]);
    Empirical::new(&t, Device::Cpu).unwrap()
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

fn w1(a: &Args) -> (Vec<String>, Vec<String>) {
    let (mut json, mut md) = (Vec::new(), vec![
        "| setup | lr | iterations | seeds | W1 estimate (mean +- sd) | relative error: mean abs | sd | max | thesis | s / run |".into(),
        "|---|---|---|---|---|---|---|---|---|---|".into(),
    ]);
    let eye = [1.0, 0.0, 0.0, 1.0];
    let x = gaussian::sample(&[-2.5, 0.0], &eye, a.samples, 1).unwrap();
    let y = gaussian::sample(&[2.5, 0.0], &eye, a.samples, 2).unwrap();
    for setup in &a.setups {
        for &lr in &a.lrs {
            let thesis = if lr >= 1e-3 { "0.6%" } else { "0.3%" };
            let (mut est, mut rel, mut secs) = (Vec::new(), Vec::new(), Vec::new());
            let mut iterations = 0;
            for seed in 0..a.seeds as u64 {
                let cfg = config(setup, Cost::Euclidean, lr, seed, a.iterations);
                iterations = cfg.optim.iterations;
                let (mut s, mut t) = (points(x.clone(), 2), points(y.clone(), 2));
                let start = Instant::now();
                let (model, _) = spot::train(&cfg, &mut [&mut s, &mut t], &mut progress::ignore).unwrap();
                secs.push(start.elapsed().as_secs_f64());
                let (w, _) = model.cost_estimate(a.samples, 1000 + seed).unwrap();
                eprintln!("w1 {setup} lr {lr:e} seed {seed}: {w:.4} ({:.1} s)", secs.last().unwrap());
                est.push(w);
                rel.push((w - 5.0).abs() / 5.0);
            }
            let (m, sd) = mean_sd(&est);
            let (rm, rsd) = mean_sd(&rel);
            let rmax = rel.iter().cloned().fold(0.0, f64::max);
            let (sm, _) = mean_sd(&secs);
            md.push(format!(
                "| {setup} | {lr:e} | {iterations} | {} | {m:.3} +- {sd:.3} | {:.2}% | {:.2}% | {:.2}% | {thesis} | {sm:.1} |",
                a.seeds,
                100.0 * rm,
                100.0 * rsd,
                100.0 * rmax
            ));
            json.push(format!(
                "{{\"check\": \"w1\", \"setup\": \"{setup}\", \"lr\": {lr:e}, \"iterations\": {iterations}, \"estimates\": {est:?}, \"mean_abs_relative_error\": {rm}, \"max_relative_error\": {rmax}, \"seconds_per_run\": {sm}}}"
            ));
        }
    }
    (json, md)
}

fn gaussians(a: &Args) -> (Vec<String>, Vec<String>) {
    let (mut json, mut md) = (Vec::new(), vec![
        "| d | setup | seeds | cost estimate | exact BW^2 | relative error (mean abs) | BW-UVP of the joint (mean +- sd) | s / run |".into(),
        "|---|---|---|---|---|---|---|---|".into(),
    ]);
    for &d in &a.dims {
        let sa = gaussian::random_covariance(d, gaussian::Spectrum::Geometric, 11).unwrap();
        let sb = gaussian::random_covariance(d, gaussian::Spectrum::Geometric, 12).unwrap();
        let mean_b: Vec<f64> = (0..d).map(|k| if k == 0 { 1.0 } else { 0.0 }).collect();
        let zero = vec![0.0; d];
        let x = gaussian::sample(&zero, &sa, a.samples, 1).unwrap();
        let y = gaussian::sample(&mean_b, &sb, a.samples, 2).unwrap();
        let exact = 1.0
            + bw2_squared(
                &Moments { mean: zero.clone(), cov: sa.clone() },
                &Moments { mean: zero.clone(), cov: sb.clone() },
            )
            .unwrap();
        // The Brenier coupling: y = T x with T the Monge map, joint covariance [[A, A T], [T A, B]].
        let t = gaussian::monge_map(&sa, &sb, d).unwrap();
        let brenier = brenier_joint(&sa, &sb, &t, d);
        for setup in &a.setups {
            let (mut costs, mut uvps, mut secs) = (Vec::new(), Vec::new(), Vec::new());
            for seed in 0..a.seeds as u64 {
                let cfg = config(setup, Cost::SqEuclidean, a.lrs[0], seed, a.iterations);
                let (mut s, mut tt) = (points(x.clone(), d), points(y.clone(), d));
                let start = Instant::now();
                let (model, _) = spot::train(&cfg, &mut [&mut s, &mut tt], &mut progress::ignore).unwrap();
                secs.push(start.elapsed().as_secs_f64());
                let (c, _) = model.cost_estimate(a.samples, 1000 + seed).unwrap();
                let pairs = model.sample(a.samples, 2000 + seed).unwrap();
                let gx = linalg::to_vec(&pairs[0].to_kind(Kind::Double)).unwrap();
                let gy = linalg::to_vec(&pairs[1].to_kind(Kind::Double)).unwrap();
                let joint = metrics::joint_covariance(&gx, d, &gy, d).unwrap();
                let uvp = metrics::bw_uvp(&joint, &brenier, 2 * d).unwrap();
                eprintln!("gaussians d {d} {setup} seed {seed}: cost {c:.4} vs {exact:.4}, BW-UVP {uvp:.3}%");
                costs.push(c);
                uvps.push(uvp);
            }
            let (cm, _) = mean_sd(&costs);
            let rel: Vec<f64> = costs.iter().map(|c| (c - exact).abs() / exact).collect();
            let (rm, _) = mean_sd(&rel);
            let (um, usd) = mean_sd(&uvps);
            let (sm, _) = mean_sd(&secs);
            md.push(format!(
                "| {d} | {setup} | {} | {cm:.4} | {exact:.4} | {:.2}% | {um:.3} +- {usd:.3} | {sm:.1} |",
                a.seeds,
                100.0 * rm
            ));
            json.push(format!(
                "{{\"check\": \"gaussians\", \"d\": {d}, \"setup\": \"{setup}\", \"costs\": {costs:?}, \"exact\": {exact}, \"bw_uvp\": {uvps:?}, \"seconds_per_run\": {sm}}}"
            ));
        }
    }
    (json, md)
}

/// [[A, A T], [T A, B]] (T symmetric), row-major (2d x 2d).
fn brenier_joint(a: &[f64], b: &[f64], t: &[f64], d: usize) -> Vec<f64> {
    let at: Vec<f64> = (0..d * d).map(|ij| (0..d).map(|k| a[(ij / d) * d + k] * t[k * d + ij % d]).sum()).collect();
    let mut j = vec![0.0; 4 * d * d];
    for r in 0..d {
        for c in 0..d {
            j[r * 2 * d + c] = a[r * d + c];
            j[r * 2 * d + d + c] = at[r * d + c];
            j[(d + r) * 2 * d + c] = at[c * d + r];
            j[(d + r) * 2 * d + d + c] = b[r * d + c];
        }
    }
    j
}

fn main() {
    let a = parse();
    let (json, md) = match a.check.as_str() {
        "w1" => w1(&a),
        "gaussians" => gaussians(&a),
        other => panic!("unknown check {other}: use w1 or gaussians"),
    };
    let json = format!("[\n  {}\n]\n", json.join(",\n  "));
    let md = md.join("\n") + "\n";
    print!("{md}");
    if let Some(prefix) = &a.out {
        std::fs::write(format!("{prefix}.json"), json).unwrap();
        std::fs::write(format!("{prefix}.md"), md).unwrap();
    }
}
