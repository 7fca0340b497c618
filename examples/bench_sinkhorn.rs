//! Times log-domain Sinkhorn (row blocks, epsilon scaling) on n uniform points in [0, 1]^d with
//! the squared Euclidean cost at lambda = rel * max C, and writes out/bench_sinkhorn.json.
//!
//! cargo run --release --example bench_sinkhorn -- [key=value ...]
//! keys: n (20000), d (2), rel (1e-3), tol (1e-6), threads (2), kind (f64|f32), max_iter (100000),
//!       seed (0), out (out/bench_sinkhorn.json)
//!
//! Measured once with the defaults (f64, 2 threads on a 2-core machine shared with other jobs,
//! run at nice 19, so an upper bound): converged in 334 iterations over 11 epsilon-scaling stages
//! (285 in the last), 1195 s = 3.6 s per iteration, marginal error 2.6e-7, <C, P> = 2.0817e-3.
//! The first 20 iterations of an earlier run took 2.4 s each.

use std::collections::HashMap;
use std::time::Instant;

use scones::discrete::{self, sinkhorn};
use scones::ot::Cost;
use scones::runtime::rng::Rng64;
use tch::{Kind, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: HashMap<String, String> = std::env::args()
        .skip(1)
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let get = |k: &str, d: &str| args.get(k).cloned().unwrap_or_else(|| d.to_string());
    let n: usize = get("n", "20000").parse()?;
    let d: usize = get("d", "2").parse()?;
    let rel: f64 = get("rel", "1e-3").parse()?;
    let tol: f64 = get("tol", "1e-6").parse()?;
    let threads: i32 = get("threads", "2").parse()?;
    let max_iter: u64 = get("max_iter", "100000").parse()?;
    let seed: u64 = get("seed", "0").parse()?;
    let kind = if get("kind", "f64") == "f32" { Kind::Float } else { Kind::Double };
    let out = get("out", "out/bench_sinkhorn.json");
    tch::set_num_threads(threads);

    let mut rng = Rng64::new(seed);
    let mut points = |n: usize| {
        let v: Vec<f64> = (0..n * d).map(|_| rng.uniform()).collect();
        Tensor::from_slice(&v).view([n as i64, d as i64]).to_kind(kind)
    };
    let (x, y) = (points(n), points(n));
    let max_cost = discrete::max_cost(Cost::SqEuclidean, &x, &y)?;
    let mut cfg = sinkhorn::SinkhornConfig::new(rel * max_cost);
    cfg.tol = tol;
    cfg.max_iter = max_iter;
    let t = Instant::now();
    let mut last = Instant::now();
    let r = sinkhorn::sinkhorn_points(Cost::SqEuclidean, &x, &y, None, None, &cfg, &mut |p| {
        if last.elapsed().as_secs_f64() > 30.0 {
            eprintln!(
                "iteration {}: marginal error {:.3e} ({:.0} s)",
                p.iteration,
                p.marginal_error,
                t.elapsed().as_secs_f64()
            );
            last = Instant::now();
        }
        true
    })?;
    let seconds = t.elapsed().as_secs_f64();
    let json = format!(
        "{{\"n\": {n}, \"d\": {d}, \"kind\": \"{}\", \"lambda\": {:e}, \"lambda_relative\": {rel:e}, \"max_cost\": {max_cost}, \"tol\": {tol:e}, \
         \"iterations\": {}, \"stages\": {}, \"stage_iterations\": {:?}, \"converged\": {}, \"marginal_error\": {:e}, \
         \"transport_cost\": {}, \"dual_value\": {}, \"seconds\": {seconds:.3}, \"seconds_per_iteration\": {:.4}, \"threads\": {threads}}}\n",
        if kind == Kind::Float { "f32" } else { "f64" },
        cfg.lambda,
        r.iterations,
        r.stages,
        r.stage_iterations,
        r.converged,
        r.marginal_error,
        r.transport_cost,
        r.dual_value,
        seconds / r.iterations as f64,
    );
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &json)?;
    print!("{json}");
    Ok(())
}
