//! SPOT (thesis ch. 3) against known answers, written as JSON and markdown:
//!
//! - `w1`: the thesis' section 3.6.1, W1(N((-2.5, 0), I), N((2.5, 0), I)) = 5 under |x - y|, for
//!   the thesis setup and the tuned default at the given learning rates, mean and spread of the
//!   relative error over seeds next to the thesis' 0.6% / 0.3% / 0.3%;
//! - `gaussians`: squared Euclidean cost between two Gaussians with different covariances
//!   (d = 2, 16): the cost estimate against the squared Bures-Wasserstein distance and the
//!   BW-UVP of the generated joint covariance against the Brenier coupling's, next to Sinkhorn
//!   and SCONES on the same problem;
//! - `multi`: three 1-D Gaussians under the pairwise-summed squared cost (section 3.3);
//! - `entropic`: the entropy-regularised generator (section 3.4) on N(0, 1) and N(2, 0.5)
//!   against the closed-form KL-regularised coupling (lambdas from SPOT_LAMBDAS).
//!
//! ```text
//! cargo run --release --example spot_checks -- w1|gaussians|multi|entropic
//!     [--setup thesis|tuned|both] [--lrs 1e-3,1e-4] [--seeds N] [--iterations N] [--samples N]
//!     [--dims 2,16] [--eta E] [--width W] [--ema D] [--batch N] [--latent D] [--threads N] [--out PREFIX]
//! ```

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
    eta: Option<f64>,
    width: Option<usize>,
    ema: Option<f64>,
    batch: Option<usize>,
    latent: Option<usize>,
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
        eta: get("--eta").map(|v| v.parse().unwrap()),
        width: get("--width").map(|v| v.parse().unwrap()),
        ema: get("--ema").map(|v| v.parse().unwrap()),
        batch: get("--batch").map(|v| v.parse().unwrap()),
        latent: get("--latent").map(|v| v.parse().unwrap()),
    }
}

fn config(a: &Args, setup: &str, cost: Cost, lr: f64, seed: u64) -> SpotConfig {
    let iterations = a.iterations;
    let mut cfg = if setup == "thesis" { SpotConfig::thesis() } else { SpotConfig::default() };
    if let Some(eta) = a.eta {
        cfg.eta = eta;
    }
    if let Some(w) = a.width {
        (cfg.generator_hidden, cfg.critic_hidden) = (vec![w, w], vec![w, w]);
    }
    if let Some(e) = a.ema {
        cfg.generator_ema = e;
    }
    if let Some(b) = a.batch {
        cfg.optim.batch_size = b;
    }
    if let Some(l) = a.latent {
        cfg.latent_dim = l;
    }
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
                let mut cfg = config(a, setup, Cost::Euclidean, lr, seed);
                if setup == "thesis" {
                    cfg.latent_dim = 2; // "Z follows the standard Gaussian distribution in R^2"
                }
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
        "| d | method | seeds | cost estimate | exact W2^2 | relative error (mean abs) | BW-UVP of the joint vs Brenier (mean +- sd) | s / run |".into(),
        "|---|---|---|---|---|---|---|---|".into(),
    ]);
    for &d in &a.dims {
        let sa = gaussian::random_covariance(d, gaussian::Spectrum::Geometric, 11).unwrap();
        let sb = gaussian::random_covariance(d, gaussian::Spectrum::Uniform1To10, 12).unwrap();
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
        let setups: &[String] = if std::env::var("SPOT_ONLY_REFERENCES").is_ok() { &[] } else { &a.setups };
        for setup in setups {
            let (mut costs, mut uvps, mut secs) = (Vec::new(), Vec::new(), Vec::new());
            for seed in 0..a.seeds as u64 {
                let cfg = config(a, setup, Cost::SqEuclidean, a.lrs[0], seed);
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
                "| {d} | SPOT ({setup}) | {} | {cm:.4} | {exact:.4} | {:.2}% | {um:.3} +- {usd:.3} | {sm:.1} |",
                a.seeds,
                100.0 * rm
            ));
            json.push(format!(
                "{{\"check\": \"gaussians\", \"d\": {d}, \"setup\": \"{setup}\", \"costs\": {costs:?}, \"exact\": {exact}, \"bw_uvp\": {uvps:?}, \"seconds_per_run\": {sm}}}"
            ));
        }
        if std::env::var("SPOT_NO_REFERENCES").is_err() {
            let rows = references(d, &sa, &sb, &mean_b, &x, &y, exact, &brenier);
            for (name, cost, uvp, secs) in rows {
                md.push(format!(
                    "| {d} | {name} | 1 | {cost:.4} | {exact:.4} | {:.2}% | {uvp:.3} | {secs:.1} |",
                    100.0 * (cost - exact).abs() / exact
                ));
                json.push(format!(
                    "{{\"check\": \"gaussians\", \"d\": {d}, \"method\": \"{name}\", \"cost\": {cost}, \"exact\": {exact}, \"bw_uvp\": {uvp}, \"seconds\": {secs}}}"
                ));
            }
        }
    }
    (json, md)
}

/// Section 3.3's multi-marginal problem with a closed form: three 1-D Gaussians N(m_k, s_k^2)
/// under the pairwise-summed squared cost, whose optimum is the comonotone coupling with cost
/// sum_{k<l} (m_k - m_l)^2 + (s_k - s_l)^2.
fn multi(a: &Args) -> (Vec<String>, Vec<String>) {
    let (means, sds) = ([-1.0, 0.5, 2.0], [0.5, 1.0, 1.5]);
    let mut exact = 0.0;
    for k in 0..3 {
        for l in k + 1..3 {
            exact += (means[k] - means[l]) * (means[k] - means[l]) + (sds[k] - sds[l]) * (sds[k] - sds[l]);
        }
    }
    let (mut json, mut md) = (
        Vec::new(),
        vec![
            "| setup | seeds | cost estimate (mean +- sd) | exact | relative error (mean abs) | s / run |".into(),
            "|---|---|---|---|---|---|".into(),
        ],
    );
    for setup in &a.setups {
        let (mut costs, mut secs) = (Vec::new(), Vec::new());
        for seed in 0..a.seeds as u64 {
            let mut cfg = config(a, setup, Cost::SqEuclidean, a.lrs[0], seed);
            cfg.shared_generator = true;
            let mut mus: Vec<Empirical> = (0..3)
                .map(|k| {
                    points(gaussian::sample(&[means[k]], &[sds[k] * sds[k]], a.samples, 10 + k as u64).unwrap(), 1)
                })
                .collect();
            let mut refs: Vec<&mut dyn scones::ot::measure::Measure> =
                mus.iter_mut().map(|m| m as &mut dyn scones::ot::measure::Measure).collect();
            let start = Instant::now();
            let (model, report) = spot::train(&cfg, &mut refs, &mut progress::ignore).unwrap();
            secs.push(start.elapsed().as_secs_f64());
            let (c, se) = model.cost_estimate(a.samples, 1000 + seed).unwrap();
            eprintln!("multi {setup} seed {seed}: cost {c:.4} +- {se:.4} vs {exact} (eta {:.1})", report.eta);
            costs.push(c);
        }
        let (cm, csd) = mean_sd(&costs);
        let rel: Vec<f64> = costs.iter().map(|c| (c - exact).abs() / exact).collect();
        let (rm, _) = mean_sd(&rel);
        let (sm, _) = mean_sd(&secs);
        md.push(format!("| {setup} | {} | {cm:.3} +- {csd:.3} | {exact} | {:.2}% | {sm:.1} |", a.seeds, 100.0 * rm));
        json.push(format!(
            "{{\"check\": \"multi\", \"setup\": \"{setup}\", \"costs\": {costs:?}, \"exact\": {exact}, \"seconds_per_run\": {sm}}}"
        ));
    }
    (json, md)
}

/// Section 3.6.2's density recovery with a closed form: N(0, 1) and N(2, 0.5) (0.5 read as the
/// variance) under |x - y|^2 with entropy lambda E log p; the plan is the KL-regularised Gaussian
/// coupling, whose joint covariance the generated one is compared with (BW-UVP), with the cost.
fn entropic(a: &Args) -> (Vec<String>, Vec<String>) {
    let lambdas: Vec<f64> = std::env::var("SPOT_LAMBDAS")
        .map(|v| v.split(',').map(|x| x.parse().unwrap()).collect())
        .unwrap_or_else(|_| vec![0.1, 0.5, 2.0]);
    let (mut json, mut md) = (Vec::new(), vec![
        "| lambda | seeds | joint covariance (mean) | closed form | BW-UVP (mean +- sd) | cost estimate | exact E c | s / run |".into(),
        "|---|---|---|---|---|---|---|---|".into(),
    ]);
    let x = gaussian::sample(&[0.0], &[1.0], a.samples, 1).unwrap();
    let y = gaussian::sample(&[2.0], &[0.5], a.samples, 2).unwrap();
    for &lambda in &lambdas {
        let truth = gaussian::entropic_coupling_covariance(&[1.0], &[0.5], 1, lambda).unwrap();
        // E |x - y|^2 = (m_x - m_y)^2 + A + B - 2 C.
        let exact_cost = 4.0 + 1.0 + 0.5 - 2.0 * truth[1];
        let (mut uvps, mut covs, mut costs, mut secs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for seed in 0..a.seeds as u64 {
            let mut cfg = config(a, "tuned", Cost::SqEuclidean, a.lrs[0], seed);
            cfg.entropy = Some(spot::Entropy { lambda, steps: 10 });
            let (mut s, mut t) = (points(x.clone(), 1), points(y.clone(), 1));
            let start = Instant::now();
            let (model, report) = spot::train(&cfg, &mut [&mut s, &mut t], &mut progress::ignore).unwrap();
            secs.push(start.elapsed().as_secs_f64());
            let pairs = model.sample(a.samples, 2000 + seed).unwrap();
            let gx = linalg::to_vec(&pairs[0].to_kind(Kind::Double)).unwrap();
            let gy = linalg::to_vec(&pairs[1].to_kind(Kind::Double)).unwrap();
            let joint = metrics::joint_covariance(&gx, 1, &gy, 1).unwrap();
            let uvp = metrics::bw_uvp(&joint, &truth, 2).unwrap();
            let (c, _) = model.cost_estimate(a.samples, 1000 + seed).unwrap();
            eprintln!(
                "entropic lambda {lambda} seed {seed}: joint {joint:.3?} vs {truth:.3?}, BW-UVP {uvp:.3}%, cost {c:.3} vs {exact_cost:.3} (eta {:.1}, gap {:.4}, {:.0} s)",
                report.eta,
                report.marginal_gap,
                secs.last().unwrap()
            );
            uvps.push(uvp);
            covs.push(joint);
            costs.push(c);
        }
        let (um, usd) = mean_sd(&uvps);
        let mean_cov: Vec<f64> = (0..4).map(|i| covs.iter().map(|c| c[i]).sum::<f64>() / covs.len() as f64).collect();
        let (cm, _) = mean_sd(&costs);
        let (sm, _) = mean_sd(&secs);
        md.push(format!(
            "| {lambda} | {} | {:.3}, {:.3}, {:.3} | {:.3}, {:.3}, {:.3} | {um:.3} +- {usd:.3} | {cm:.3} | {exact_cost:.3} | {sm:.0} |",
            a.seeds, mean_cov[0], mean_cov[1], mean_cov[3], truth[0], truth[1], truth[3]
        ));
        json.push(format!(
            "{{\"check\": \"entropic\", \"lambda\": {lambda}, \"bw_uvp\": {uvps:?}, \"joint_covariances\": {covs:?}, \"closed_form\": {truth:?}, \"costs\": {costs:?}, \"exact_cost\": {exact_cost}, \"seconds_per_run\": {sm}}}"
        ));
    }
    (json, md)
}

/// The same problem for the other solvers: Sinkhorn on 3,000 of the samples at lambda 1e-2 x the
/// mean cost (at most 20,000 iterations) (the discrete plan's own cost and weighted joint covariance), SCONES (KL at
/// lambda = d / 10, Metropolis-adjusted Langevin with the exact target score, as Table 2), and
/// the closed-form entropic coupling at SCONES' lambda (its regularisation bias alone).
#[allow(clippy::too_many_arguments)]
fn references(
    d: usize,
    sa: &[f64],
    sb: &[f64],
    mean_b: &[f64],
    x: &[f64],
    y: &[f64],
    exact: f64,
    brenier: &[f64],
) -> Vec<(String, f64, f64, f64)> {
    use scones::discrete::sinkhorn::{sinkhorn_points, SinkhornConfig};
    use scones::neural::dual::{self, BatchMode, DualConfig};
    use scones::neural::sampler::{Sampler, SamplerConfig};
    use scones::ot::{Divergence, Regularizer};
    let mut rows = Vec::new();
    let to64 = |v: &[f64], n: usize| Tensor::from_slice(&v[..n * d]).view([n as i64, d as i64]);
    let joint_of = |gx: &[f64], gy: &[f64]| metrics::joint_covariance(gx, d, gy, d).unwrap();
    // Sinkhorn.
    let n = 3000;
    let (xs, ys) = (to64(x, n), to64(y, n));
    let mut cfg = SinkhornConfig::new(1e-2 * exact);
    (cfg.return_plan, cfg.max_iter) = (true, 20_000);
    let start = Instant::now();
    let r = sinkhorn_points(Cost::SqEuclidean, &xs, &ys, None, None, &cfg, &mut progress::ignore).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let p = r.plan.unwrap();
    // Joint moments under P: E[x x^T] = X^T diag(a) X, E[x y^T] = X^T P Y, E[y y^T] = Y^T diag(b) Y.
    let (ra, cb) = (p.sum_dim_intlist(1, false, None), p.sum_dim_intlist(0, false, None));
    let (mx, my) = (xs.transpose(0, 1).mv(&ra), ys.transpose(0, 1).mv(&cb));
    let sxx = xs.transpose(0, 1).matmul(&(&xs * ra.unsqueeze(1))) - mx.outer(&mx);
    let syy = ys.transpose(0, 1).matmul(&(&ys * cb.unsqueeze(1))) - my.outer(&my);
    let sxy = xs.transpose(0, 1).matmul(&p.matmul(&ys)) - mx.outer(&my);
    let joint = Tensor::cat(&[Tensor::cat(&[&sxx, &sxy], 1), Tensor::cat(&[&sxy.transpose(0, 1), &syy], 1)], 0);
    let uvp = metrics::bw_uvp(&linalg::to_vec(&joint).unwrap(), brenier, 2 * d).unwrap();
    rows.push((
        format!("Sinkhorn, n = {n}, lambda = {:.1e} ({} iterations)", 1e-2 * exact, r.iterations),
        r.transport_cost,
        uvp,
        secs,
    ));

    // SCONES at lambda = d / 10 and the closed form at the same lambda.
    let lambda = d as f64 / 10.0;
    let entropic = gaussian::entropic_coupling_covariance(sa, sb, d, lambda).unwrap();
    let closed_cost =
        1.0 + (0..d).map(|i| sa[i * d + i] + sb[i * d + i] - 2.0 * entropic[i * 2 * d + d + i]).sum::<f64>();
    let closed_uvp = metrics::bw_uvp(&entropic, brenier, 2 * d).unwrap();
    let to32 = |v: &[f64]| Tensor::from_slice(&v.iter().map(|&t| t as f32).collect::<Vec<_>>()).view([-1, d as i64]);
    let mut dc = DualConfig::new(Regularizer::new(Divergence::Kl, lambda).unwrap());
    dc.batch_mode = BatchMode::AllPairs;
    let start = Instant::now();
    let (pot, _) = dual::train(
        &dc,
        &mut Empirical::new(&to32(x), Device::Cpu).unwrap(),
        &mut Empirical::new(&to32(y), Device::Cpu).unwrap(),
        &mut progress::ignore,
    )
    .unwrap();
    let mut sc = SamplerConfig::new();
    (sc.metropolis, sc.adapt_step, sc.step_size) = (true, true, 0.1 / (d as f64).powf(1.0 / 3.0));
    let score = scones::score::GaussianScore::new(mean_b, sb).unwrap();
    let mut sampler = Sampler::new(&pot, std::sync::Arc::new(score), sc).unwrap();
    let x_eval = gaussian::sample(&vec![0.0; d], sa, 10_000, 77).unwrap();
    let (gy, _) = sampler.sample(&to32(&x_eval), &mut progress::ignore).unwrap();
    let gy = linalg::to_vec(&gy.to_kind(Kind::Double)).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let cost = x_eval.iter().zip(&gy).map(|(p, q)| (p - q) * (p - q)).sum::<f64>() / 10_000.0;
    let uvp = metrics::bw_uvp(&joint_of(&x_eval, &gy), brenier, 2 * d).unwrap();
    rows.push((format!("SCONES, KL lambda = {lambda}, 10,000 samples"), cost, uvp, secs));
    rows.push((format!("closed-form entropic coupling, lambda = {lambda}"), closed_cost, closed_uvp, 0.0));
    rows
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
        "multi" => multi(&a),
        "entropic" => entropic(&a),
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
