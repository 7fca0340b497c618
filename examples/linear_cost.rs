//! SCONES under the linear-operator cost |A y - B x|^2 between Gaussians of different
//! dimensions, against the closed-form KL-regularised coupling (issue 13, item 4): a "Gaussian
//! super-resolution" with the source at its own low resolution (x in R^dx, B = I) and A the
//! 2x block average of the target (y in R^2dx). Writes JSON and markdown.
//!
//! ```text
//! cargo run --release --example linear_cost -- [--dx 4] [--lambda 0.5] [--seeds 2]
//!     [--iterations 4000] [--samples 10000] [--threads 1] [--out PREFIX]
//! ```

use std::sync::Arc;
use std::time::Instant;

use scones::neural::dual::{self, BatchMode, DualConfig};
use scones::neural::sampler::{Sampler, SamplerConfig};
use scones::ot::cost::LinearCost;
use scones::ot::measure::Empirical;
use scones::ot::{Cost, Divergence, Regularizer};
use scones::reference::gaussian::{self, Spectrum};
use scones::reference::{linalg, metrics};
use scones::runtime::progress;
use scones::score::GaussianScore;
use tch::{Device, Kind, Tensor};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let get = |f: &str| a.iter().position(|x| x == f).map(|i| a[i + 1].clone());
    let dx: usize = get("--dx").map_or(4, |v| v.parse().unwrap());
    let lambda: f64 = get("--lambda").map_or(0.5, |v| v.parse().unwrap());
    let seeds: u64 = get("--seeds").map_or(2, |v| v.parse().unwrap());
    let iterations: usize = get("--iterations").map_or(4000, |v| v.parse().unwrap());
    let samples: usize = get("--samples").map_or(10_000, |v| v.parse().unwrap());
    tch::set_num_threads(get("--threads").map_or(1, |v| v.parse().unwrap()));
    let dy = 2 * dx;
    // A: block average of neighbouring pairs (dx x dy); B: identity (dx x dx).
    let mut op_a = vec![0.0; dx * dy];
    let mut op_b = vec![0.0; dx * dx];
    for r in 0..dx {
        op_a[r * dy + 2 * r] = 0.5;
        op_a[r * dy + 2 * r + 1] = 0.5;
        op_b[r * dx + r] = 1.0;
    }
    let linear = LinearCost::new(&op_a, &op_b, dx, dx, dy).unwrap();
    let cost = Cost::linear(&op_a, &op_b, dx, dx, dy).unwrap();
    let to32 =
        |v: &[f64], d: usize| Tensor::from_slice(&v.iter().map(|&t| t as f32).collect::<Vec<_>>()).view([-1, d as i64]);
    let (mut rows, mut json) = (Vec::new(), Vec::new());
    for seed in 0..seeds {
        let sa = gaussian::random_covariance(dx, Spectrum::Geometric, 100 + seed).unwrap();
        let sb = gaussian::random_covariance(dy, Spectrum::Geometric, 200 + seed).unwrap();
        let truth = gaussian::linear_cost_coupling_covariance(&sa, &sb, &linear, lambda).unwrap();
        let independent: Vec<f64> = (0..(dx + dy) * (dx + dy))
            .map(|ij| {
                let (r, c) = (ij / (dx + dy), ij % (dx + dy));
                if (r < dx) != (c < dx) {
                    0.0
                } else {
                    truth[ij]
                }
            })
            .collect();
        let xs = gaussian::sample(&vec![0.0; dx], &sa, 50_000, 1000 + seed).unwrap();
        let ys = gaussian::sample(&vec![0.0; dy], &sb, 50_000, 2000 + seed).unwrap();
        let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, lambda).unwrap());
        cfg.cost = cost.clone();
        cfg.batch_mode = BatchMode::AllPairs;
        cfg.optim.iterations = iterations;
        cfg.optim.seed = seed;
        let start = Instant::now();
        let (pot, report) = dual::train(
            &cfg,
            &mut Empirical::new(&to32(&xs, dx), Device::Cpu).unwrap(),
            &mut Empirical::new(&to32(&ys, dy), Device::Cpu).unwrap(),
            &mut progress::ignore,
        )
        .unwrap();
        let train_s = start.elapsed().as_secs_f64();
        let mut sc = SamplerConfig::new();
        (sc.metropolis, sc.adapt_step, sc.step_size, sc.seed) = (true, true, 0.1 / (dy as f64).powf(1.0 / 3.0), seed);
        let start = Instant::now();
        let mut sampler = Sampler::new(&pot, Arc::new(GaussianScore::new(&vec![0.0; dy], &sb).unwrap()), sc).unwrap();
        let x_eval = gaussian::sample(&vec![0.0; dx], &sa, samples, 3000 + seed).unwrap();
        let (y, srep) = sampler.sample(&to32(&x_eval, dx), &mut progress::ignore).unwrap();
        let sample_s = start.elapsed().as_secs_f64();
        let y = linalg::to_vec(&y.to_kind(Kind::Double)).unwrap();
        let joint = metrics::joint_covariance(&x_eval, dx, &y, dy).unwrap();
        let uvp = metrics::bw_uvp(&joint, &truth, dx + dy).unwrap();
        let uvp_independent = metrics::bw_uvp(&independent, &truth, dx + dy).unwrap();
        // The floor: exact samples of the coupling, same n.
        let z = gaussian::sample(&vec![0.0; dx + dy], &truth, samples, 4000 + seed).unwrap();
        let floor = metrics::bw_uvp(&metrics::covariance(&z, dx + dy).unwrap(), &truth, dx + dy).unwrap();
        eprintln!(
            "seed {seed}: BW-UVP SCONES {uvp:.4} (floor {floor:.4}, independent coupling {uvp_independent:.3}); E[M] {:.4}; train {train_s:.0} s, sample {sample_s:.0} s, acceptance {:.2}",
            report.mean_compatibility, srep.acceptance
        );
        rows.push(format!(
            "| {seed} | {uvp:.4} | {floor:.4} | {uvp_independent:.3} | {:.4} | {train_s:.0} | {sample_s:.0} |",
            report.mean_compatibility
        ));
        json.push(format!(
            "{{\"seed\": {seed}, \"dx\": {dx}, \"dy\": {dy}, \"lambda\": {lambda}, \"bw_uvp\": {uvp}, \"floor\": {floor}, \"independent\": {uvp_independent}, \"mean_compatibility\": {}, \"train_seconds\": {train_s}, \"sample_seconds\": {sample_s}}}",
            report.mean_compatibility
        ));
    }
    let md = format!(
        "dx = {dx}, dy = {dy}, KL lambda = {lambda}, {iterations} dual iterations, {samples} samples\n\n| seed | BW-UVP of the joint (SCONES) | exact samples (floor) | independent coupling | E[M] | train s | sample s |\n|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    print!("{md}");
    if let Some(prefix) = get("--out") {
        std::fs::write(format!("{prefix}.md"), md).unwrap();
        std::fs::write(format!("{prefix}.json"), format!("[\n  {}\n]\n", json.join(",\n  "))).unwrap();
    }
}
