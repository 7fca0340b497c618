//! Throughput and accuracy-per-second benchmarks, written as JSON (not timed tests).
//!
//!   cargo run --release --example bench -- --out out/bench.json [--quick] [--threads N]
//!
//! - dual training: iterations/s for paired and all-pairs batches over batch sizes, widths and
//!   dimensions;
//! - dual accuracy per second: E|M_hat - M*| (the plan's L1 error against the closed-form
//!   Gaussian coupling) after equal wall-clock budgets, paired vs all-pairs;
//! - Langevin: chain-steps/s for unadjusted and Metropolis-adjusted steps over chain counts,
//!   widths and dimensions.

use std::sync::Arc;
use std::time::Instant;

use scones::neural::dual::{self, BatchMode, DualConfig};
use scones::neural::sampler::{Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Divergence, Regularizer};
use scones::reference::gaussian::{self, Spectrum};
use scones::reference::linalg;
use scones::runtime::progress;
use scones::score;
use tch::{Device, Kind, Tensor};

fn pts(v: &[f64], d: usize) -> Tensor {
    Tensor::from_slice(v).view([-1, d as i64]).to_kind(Kind::Float)
}

struct Problem {
    d: usize,
    a: Vec<f64>,
    b: Vec<f64>,
    x: Tensor,
    y: Tensor,
    exact: Vec<f64>,
}

fn problem(d: usize) -> Problem {
    let a = gaussian::random_covariance(d, Spectrum::Geometric, 1).unwrap();
    let b = gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap();
    let zero = vec![0.0; d];
    let x = pts(&gaussian::sample(&zero, &a, 20_000, 10).unwrap(), d);
    let y = pts(&gaussian::sample(&zero, &b, 20_000, 11).unwrap(), d);
    let exact = gaussian::entropic_coupling_covariance(&a, &b, d, 2.0 * d as f64).unwrap();
    Problem { d, a, b, x, y, exact }
}

fn config(p: &Problem, width: usize, mode: BatchMode, m: usize, iterations: usize) -> DualConfig {
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, 2.0 * p.d as f64).unwrap());
    cfg.phi_hidden = vec![width; 2];
    cfg.psi_hidden = vec![width; 2];
    cfg.batch_mode = mode;
    cfg.optim.batch_size = m;
    cfg.optim.iterations = iterations;
    cfg
}

fn train(p: &Problem, cfg: &DualConfig) -> (scones::neural::dual::DualPotentials, scones::neural::dual::TrainReport) {
    dual::train(
        cfg,
        &mut Empirical::new(&p.x, Device::Cpu).unwrap(),
        &mut Empirical::new(&p.y, Device::Cpu).unwrap(),
        &mut progress::ignore,
    )
    .unwrap()
}

/// E_{sigma x tau} |M_hat - M*| on 20,000 fresh independent pairs.
fn plan_l1(p: &Problem, pot: &scones::neural::dual::DualPotentials) -> f64 {
    let zero = vec![0.0; p.d];
    let xe = gaussian::sample(&zero, &p.a, 20_000, 20).unwrap();
    let ye = gaussian::sample(&zero, &p.b, 20_000, 21).unwrap();
    let m_star = gaussian::density_ratio(&p.exact, p.d, p.d, &xe, &ye).unwrap();
    let (xt, yt) = (pts(&xe, p.d), pts(&ye, p.d));
    let v = pot.phi(&xt).unwrap() + pot.psi(&yt).unwrap() - pot.cost.paired(&xt, &yt).unwrap();
    let m_hat = linalg::to_vec(&pot.regularizer.compatibility(&v).unwrap()).unwrap();
    m_star.iter().zip(&m_hat).map(|(s, h)| (s - h).abs()).sum::<f64>() / m_star.len() as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |f: &str| args.iter().position(|a| a == f);
    let out = flag("--out").map(|i| args[i + 1].clone()).unwrap_or_else(|| "out/bench.json".into());
    let quick = flag("--quick").is_some();
    let threads: i32 = flag("--threads").map(|i| args[i + 1].parse().unwrap()).unwrap_or(2);
    tch::set_num_threads(threads);
    let mut records = Vec::new();
    let record = |records: &mut Vec<String>, s: String| {
        println!("{s}");
        records.push(s);
    };

    // Dual training throughput.
    let dims: &[usize] = if quick { &[2] } else { &[2, 16] };
    for &d in dims {
        let p = problem(d);
        for width in [64, 256] {
            for (mode, m) in [
                (BatchMode::Paired, 1000),
                (BatchMode::Paired, 4000),
                (BatchMode::AllPairs, 250),
                (BatchMode::AllPairs, 500),
                (BatchMode::AllPairs, 1000),
            ] {
                let iters = if quick { 100 } else { 300 };
                let (_, r) = train(&p, &config(&p, width, mode, m, iters));
                let pairs = if mode == BatchMode::Paired { m } else { m * m };
                record(&mut records, format!(
                    "{{\"bench\": \"dual_training\", \"d\": {d}, \"width\": {width}, \"depth\": 2, \"batch_mode\": \"{}\", \"batch\": {m}, \"pair_terms\": {pairs}, \"threads\": {threads}, \"iterations_per_second\": {:.1}, \"pair_terms_per_second\": {:.3e}}}",
                    if mode == BatchMode::Paired { "paired" } else { "all_pairs" }, r.iterations_per_second, r.iterations_per_second * pairs as f64
                ));
            }
        }
    }

    // Dual accuracy at equal wall-clock budgets (d = 2, width 128).
    let p = problem(2);
    let budgets: &[f64] = if quick { &[5.0] } else { &[5.0, 20.0] };
    for &budget in budgets {
        for (mode, m) in [
            (BatchMode::Paired, 1000),
            (BatchMode::Paired, 4000),
            (BatchMode::AllPairs, 250),
            (BatchMode::AllPairs, 500),
        ] {
            // Calibrate the iteration count to the budget with a short run, then train once.
            let (_, probe) = train(&p, &config(&p, 128, mode, m, 50));
            let iters = (probe.iterations_per_second * budget) as usize;
            let t = Instant::now();
            let (pot, r) = train(&p, &config(&p, 128, mode, m, iters.max(10)));
            record(&mut records, format!(
                "{{\"bench\": \"dual_accuracy_per_time\", \"d\": 2, \"width\": 128, \"batch_mode\": \"{}\", \"batch\": {m}, \"budget_s\": {budget}, \"seconds\": {:.2}, \"iterations\": {}, \"plan_l1_error\": {:.5}, \"mean_compatibility\": {:.4}, \"threads\": {threads}}}",
                if mode == BatchMode::Paired { "paired" } else { "all_pairs" }, t.elapsed().as_secs_f64(), r.iterations, plan_l1(&p, &pot), r.mean_compatibility
            ));
        }
    }

    // Langevin throughput.
    for &d in dims {
        let p = problem(d);
        for width in [64, 256] {
            let (pot, _) = train(&p, &config(&p, width, BatchMode::Paired, 100, 10));
            for chains in [1000usize, 10_000] {
                for mala in [false, true] {
                    let mut c = SamplerConfig::new();
                    c.steps_per_level = if quick { 20 } else { 100 };
                    c.metropolis = mala;
                    let score = Arc::new(score::GaussianScore::new(&vec![0.0; d], &p.b).unwrap());
                    let mut s = Sampler::new(&pot, score, c).unwrap();
                    let x = pts(&gaussian::sample(&vec![0.0; d], &p.a, chains, 3).unwrap(), d);
                    let (_, r) = s.sample(&x, &mut progress::ignore).unwrap();
                    record(&mut records, format!(
                        "{{\"bench\": \"langevin\", \"d\": {d}, \"psi_width\": {width}, \"psi_depth\": 2, \"chains\": {chains}, \"steps\": {}, \"metropolis\": {mala}, \"threads\": {threads}, \"chain_steps_per_second\": {:.4e}}}",
                        r.steps_per_chain, r.chain_steps_per_second
                    ));
                }
            }
        }
    }

    let json = format!(
        "{{\n  \"library_version\": \"{}\",\n  \"threads\": {threads},\n  \"device\": \"cpu\",\n  \"results\": [\n    {}\n  ]\n}}\n",
        scones::VERSION,
        records.join(",\n    ")
    );
    if let Some(dir) = std::path::Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, json).unwrap();
    println!("wrote {out}");
}
