//! One row of the side-by-side benchmark (`benches/side_by_side.py`, `make bench`): measures one
//! named workload of the library on given shapes and threads and prints one JSON line. The
//! PyTorch peer (`benches/torch_peer.py`) takes the same keys and prints the same fields.
//!
//!   cargo run --release --example bench_row -- row=NAME [key=value ...]
//!
//! rows: langevin_ula_gaussian, langevin_mala_gaussian, langevin_ula_empirical (d, width,
//!       chains, steps, n_target), dual_paired, dual_all_pairs, barycentric (d, width, m, iters),
//!       sinkhorn (n, d, rel, tol, points = a file of 2 n d little-endian f64: x then y),
//!       dual_image (d, width 2048, depth 8, m 1000, iters 2, warmup 1, device) and
//!       langevin_image (d, width, depth, chains, levels 2, steps 2, scores = a folder for
//!       scripts/make_image_scores.py's modules, device): the image-shape rows of
//!       `bench --image-shapes` (examples/common/image_shapes.rs), one measurement each.
//! keys: threads (1), warmup (steps or iterations run first and not timed), seed (0).
//!
//! Every rate is work done / wall seconds of the timed run only: networks, data and the
//! libtorch thread pool are set up, and a short run of the same workload is done, before the
//! clock starts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use scones::discrete::{self, sinkhorn};
use scones::neural::barycentric::{self, BarycentricConfig};
use scones::neural::dual::{self, BatchMode, DualConfig, DualPotentials};
use scones::neural::sampler::{Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Cost, Divergence, Regularizer};
use scones::reference::gaussian::{self, Spectrum};
use scones::runtime::progress;
use scones::runtime::rng::Rng64;
use scones::score::{self, ScoreSource};
use tch::{Device, Kind, Tensor};

#[path = "common/image_shapes.rs"]
mod image_shapes;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Args(HashMap<String, String>);

impl Args {
    fn get<T: std::str::FromStr>(&self, k: &str, default: T) -> Res<T> {
        match self.0.get(k) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("bad value for {k}: {v}").into()),
        }
    }
}

/// The JSON line of a training row (dual or barycentric): iterations per second.
fn training_row(row: &str, d: usize, width: usize, m: usize, iters: usize, threads: i32, wall: f64) -> String {
    format!(
        "{{\"side\": \"library\", \"row\": \"{row}\", \"d\": {d}, \"widths\": [{width}, {width}], \"m\": {m}, \
         \"iterations\": {iters}, \"threads\": {threads}, \"rate\": {:.6e}, \"unit\": \"iterations/s\", \
         \"wall_s\": {wall:.4}}}",
        iters as f64 / wall
    )
}

fn pts(v: &[f64], d: usize) -> Tensor {
    Tensor::from_slice(v).view([-1, d as i64]).to_kind(Kind::Float)
}

/// 20,000 points from N(0, A) and N(0, B) (geometric spectra): what the training rows draw
/// minibatches from, and B is the Gaussian score's covariance.
fn gaussian_data(d: usize) -> Res<(Tensor, Tensor, Vec<f64>)> {
    let a = gaussian::random_covariance(d, Spectrum::Geometric, 1)?;
    let b = gaussian::random_covariance(d, Spectrum::Geometric, 2)?;
    let zero = vec![0.0; d];
    Ok((pts(&gaussian::sample(&zero, &a, 20_000, 10)?, d), pts(&gaussian::sample(&zero, &b, 20_000, 11)?, d), b))
}

fn dual_config(d: usize, width: usize, mode: BatchMode, m: usize, iters: usize) -> Res<DualConfig> {
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, 2.0 * d as f64)?);
    cfg.phi_hidden = vec![width; 2];
    cfg.psi_hidden = vec![width; 2];
    cfg.batch_mode = mode;
    cfg.optim.batch_size = m;
    cfg.optim.iterations = iters;
    Ok(cfg)
}

fn train_dual(x: &Tensor, y: &Tensor, cfg: &DualConfig) -> Res<(DualPotentials, f64)> {
    let t = Instant::now();
    let (pot, _) = dual::train(
        cfg,
        &mut Empirical::new(x, Device::Cpu)?,
        &mut Empirical::new(y, Device::Cpu)?,
        &mut progress::ignore,
    )?;
    Ok((pot, t.elapsed().as_secs_f64()))
}

fn read_f64(path: &str, count: usize) -> Res<Vec<f64>> {
    let bytes = std::fs::read(path)?;
    if bytes.len() != count * 8 {
        return Err(format!("{path}: expected {count} f64 values, found {} bytes", bytes.len()).into());
    }
    Ok(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect())
}

fn main() -> Res<()> {
    let args = Args(
        std::env::args()
            .skip(1)
            .filter_map(|a| a.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
            .collect(),
    );
    let row: String = args.get("row", String::new())?;
    let threads: i32 = args.get("threads", 1)?;
    let seed: u64 = args.get("seed", 0)?;
    tch::set_num_threads(threads);
    let d: usize = args.get("d", 16)?;
    let width: usize = args.get("width", 256)?;

    let line = match row.as_str() {
        "langevin_ula_gaussian" | "langevin_mala_gaussian" | "langevin_ula_empirical" => {
            let chains: usize = args.get("chains", 10_000)?;
            let steps: usize = args.get("steps", 20)?;
            let warmup: usize = args.get("warmup", 3)?;
            let n_target: usize = args.get("n_target", 1000)?;
            let (xs, ys, b) = gaussian_data(d)?;
            // The rate does not depend on how well psi is trained; a few iterations give real
            // potentials of the right architecture.
            let (pot, _) = train_dual(&xs, &ys, &dual_config(d, width, BatchMode::Paired, 100, 2)?)?;
            let score: Arc<dyn ScoreSource> = if row == "langevin_ula_empirical" {
                Arc::new(score::EmpiricalScore::new(&ys.narrow(0, 0, n_target as i64), 0.1)?)
            } else {
                Arc::new(score::GaussianScore::new(&vec![0.0; d], &b)?)
            };
            let x = Rng64::new(seed + 3).normal_tensor(&[chains as i64, d as i64], Kind::Float, Device::Cpu)?;
            let sampler = |steps: usize| -> Res<Sampler> {
                let mut c = SamplerConfig::new();
                c.steps_per_level = steps;
                c.metropolis = row == "langevin_mala_gaussian";
                c.seed = seed;
                Ok(Sampler::new(&pot, score.clone(), c)?)
            };
            let _ = sampler(warmup.max(1))?.sample(&x, &mut progress::ignore)?;
            let mut s = sampler(steps)?;
            let t = Instant::now();
            let (_, r) = s.sample(&x, &mut progress::ignore)?;
            let wall = t.elapsed().as_secs_f64();
            let chain_steps = (r.chains * r.steps_per_chain) as f64;
            format!(
                "{{\"side\": \"library\", \"row\": \"{row}\", \"d\": {d}, \"widths\": [{width}, {width}], \
                 \"chains\": {chains}, \"steps\": {}, \"n_target\": {}, \"threads\": {threads}, \
                 \"rate\": {:.6e}, \"unit\": \"chain-steps/s\", \"wall_s\": {wall:.4}, \"acceptance\": {}}}",
                r.steps_per_chain,
                if row == "langevin_ula_empirical" { n_target.to_string() } else { "null".into() },
                chain_steps / wall,
                if r.acceptance.is_finite() { format!("{:.4}", r.acceptance) } else { "null".into() },
            )
        }
        "dual_paired" | "dual_all_pairs" => {
            let m: usize = args.get("m", 500)?;
            let iters: usize = args.get("iters", 100)?;
            let warmup: usize = args.get("warmup", 5)?;
            let mode = if row == "dual_paired" { BatchMode::Paired } else { BatchMode::AllPairs };
            let (xs, ys, _) = gaussian_data(d)?;
            train_dual(&xs, &ys, &dual_config(d, width, mode, m, warmup.max(1))?)?;
            let (_, wall) = train_dual(&xs, &ys, &dual_config(d, width, mode, m, iters)?)?;
            training_row(&row, d, width, m, iters, threads, wall)
        }
        "barycentric" => {
            let m: usize = args.get("m", 500)?;
            let iters: usize = args.get("iters", 100)?;
            let warmup: usize = args.get("warmup", 5)?;
            let (xs, ys, _) = gaussian_data(d)?;
            let (pot, _) = train_dual(&xs, &ys, &dual_config(d, width, BatchMode::Paired, 100, 2)?)?;
            let run = |iters: usize| -> Res<f64> {
                let mut cfg = BarycentricConfig { hidden: vec![width; 2], ..Default::default() };
                cfg.optim.batch_size = m;
                cfg.optim.iterations = iters;
                let t = Instant::now();
                barycentric::train(
                    &cfg,
                    &pot,
                    &mut Empirical::new(&xs, Device::Cpu)?,
                    &mut Empirical::new(&ys, Device::Cpu)?,
                    &mut progress::ignore,
                )?;
                Ok(t.elapsed().as_secs_f64())
            };
            run(warmup.max(1))?;
            let wall = run(iters)?;
            training_row(&row, d, width, m, iters, threads, wall)
        }
        "sinkhorn" => {
            let n: usize = args.get("n", 2000)?;
            let d: usize = args.get("d", 2)?;
            let rel: f64 = args.get("rel", 1e-2)?;
            let tol: f64 = args.get("tol", 1e-6)?;
            let path: String = args.get("points", String::new())?;
            let v = if path.is_empty() {
                let mut rng = Rng64::new(seed);
                (0..2 * n * d).map(|_| rng.uniform()).collect()
            } else {
                read_f64(&path, 2 * n * d)?
            };
            let all = Tensor::from_slice(&v).view([2 * n as i64, d as i64]);
            let (x, y) = (all.narrow(0, 0, n as i64), all.narrow(0, n as i64, n as i64));
            let max_cost = discrete::max_cost(Cost::SqEuclidean, &x, &y)?;
            let mut cfg = sinkhorn::SinkhornConfig::new(rel * max_cost);
            cfg.tol = tol;
            // domain=log keeps every iteration in the log domain (the solver's only mode before
            // the scaling domain existed), for before / after comparisons.
            cfg.scaling_domain = args.get("domain", String::from("auto"))? != "log";
            // Warm-up: the same solver on a small problem (thread pool, allocator).
            let (xw, yw) = (x.narrow(0, 0, 200.min(n as i64)), y.narrow(0, 0, 200.min(n as i64)));
            sinkhorn::sinkhorn_points(Cost::SqEuclidean, &xw, &yw, None, None, &cfg, &mut progress::ignore)?;
            let t = Instant::now();
            let r = sinkhorn::sinkhorn_points(Cost::SqEuclidean, &x, &y, None, None, &cfg, &mut progress::ignore)?;
            let wall = t.elapsed().as_secs_f64();
            format!(
                "{{\"side\": \"library\", \"row\": \"{row}\", \"d\": {d}, \"n\": {n}, \"lambda_relative\": {rel:e}, \
                 \"lambda\": {:e}, \"tol\": {tol:e}, \"dtype\": \"float64\", \"domain\": \"{}\", \"threads\": {threads}, \
                 \"iterations\": {}, \"scaling_iterations\": {}, \"stages\": {}, \"converged\": {}, \"marginal_l1\": {:e}, \"transport_cost\": {:.9e}, \
                 \"rate\": {:.6e}, \"unit\": \"iterations/s\", \"seconds_per_iteration\": {:.6e}, \"wall_s\": {wall:.4}}}",
                cfg.lambda,
                match (r.scaling_iterations, r.iterations) {
                    (0, _) => "log",
                    (s, i) if s == i => "scaling",
                    _ => "scaling, then log",
                },
                r.iterations,
                r.scaling_iterations,
                r.stages,
                r.converged,
                r.marginal_error,
                r.transport_cost,
                r.iterations as f64 / wall,
                wall / r.iterations.max(1) as f64,
            )
        }
        "dual_image" | "langevin_image" => {
            let net = image_shapes::Net { width: args.get("width", 2048)?, depth: args.get("depth", 8)? };
            let device = image_shapes::device(&args.get("device", String::from("cpu"))?)?;
            let d: usize = args.get("d", 12288)?;
            let common = format!(
                "\"side\": \"library\", \"row\": \"{row}\", \"d\": {d}, \"hidden\": \"{} x {}\", \"threads\": {threads}, \
                 \"device\": \"{}\", \"loadavg_before\": \"{}\"",
                net.depth,
                net.width,
                scones::runtime::device::device_name(device),
                image_shapes::loadavg()
            );
            if row == "dual_image" {
                let m: usize = args.get("m", 1000)?;
                let iters: usize = args.get("iters", 2)?;
                let rate = image_shapes::dual_rate(d, net, m, iters, args.get("warmup", 1)?, device)?;
                let flops = image_shapes::dual_flops_per_iteration(d, net, m);
                format!(
                    "{{{common}, \"m\": {m}, \"iterations\": {iters}, \"rate\": {rate:.6e}, \"unit\": \"iterations/s\", \
                     \"gflop_per_s\": {:.2}, \"loadavg_after\": \"{}\"}}",
                    rate * flops / 1e9,
                    image_shapes::loadavg()
                )
            } else {
                let chains: usize = args.get("chains", 32)?;
                let dir: String = args.get("scores", String::from("out/image_scores"))?;
                let score = image_shapes::score_module(std::path::Path::new(&dir), d)?;
                let cfg = image_shapes::sampler_config(args.get("levels", 2)?, args.get("steps", 2)?, device);
                let mut bench = image_shapes::LangevinBench::new(d, net, &score, chains, cfg)?;
                bench.run()?;
                let rate = bench.run()?;
                let flops = image_shapes::langevin_flops_per_chain_step(d, net, score.flops_per_sample);
                format!(
                    "{{{common}, \"chains\": {chains}, \"steps\": {}, \"rate\": {rate:.6e}, \"unit\": \"chain-steps/s\", \
                     \"gflop_per_s\": {:.2}, \"loadavg_after\": \"{}\"}}",
                    bench.steps_per_chain(),
                    rate * flops / 1e9,
                    image_shapes::loadavg()
                )
            }
        }
        _ => return Err(format!("unknown row '{row}' (see the header of examples/bench_row.rs)").into()),
    };
    println!("{line}");
    Ok(())
}
