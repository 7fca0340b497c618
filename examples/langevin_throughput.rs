//! Langevin chain-steps/s on the CPU for the sampler alone (no training of note), best of
//! three runs per case: a focused measurement for changes to the sampler's inner loop.
//!
//!   cargo run --release --example langevin_throughput -- [--threads N]

use std::sync::Arc;

use scones::neural::dual::{self, DualConfig};
use scones::neural::sampler::{Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Divergence, Regularizer};
use scones::reference::gaussian::{self, Spectrum};
use scones::runtime::progress;
use scones::score;
use tch::{Device, Kind, Tensor};

fn pts(v: &[f64], d: usize) -> Tensor {
    Tensor::from_slice(v).view([-1, d as i64]).to_kind(Kind::Float)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads = args.iter().position(|a| a == "--threads").map_or(1, |i| args[i + 1].parse().unwrap());
    tch::set_num_threads(threads as i32);
    for d in [2usize, 16] {
        let a = gaussian::random_covariance(d, Spectrum::Geometric, 1).unwrap();
        let b = gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap();
        let zero = vec![0.0; d];
        let x = pts(&gaussian::sample(&zero, &a, 2000, 10).unwrap(), d);
        let y = pts(&gaussian::sample(&zero, &b, 2000, 11).unwrap(), d);
        let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, 2.0 * d as f64).unwrap());
        cfg.phi_hidden = vec![64; 2];
        cfg.psi_hidden = vec![64; 2];
        cfg.optim.iterations = 10;
        let (pot, _) = dual::train(
            &cfg,
            &mut Empirical::new(&x, Device::Cpu).unwrap(),
            &mut Empirical::new(&y, Device::Cpu).unwrap(),
            &mut progress::ignore,
        )
        .unwrap();
        for chains in [1000usize, 10_000] {
            for mala in [false, true] {
                let mut best = 0.0f64;
                for _ in 0..3 {
                    let mut c = SamplerConfig::new();
                    c.steps_per_level = 50;
                    c.metropolis = mala;
                    let score = Arc::new(score::GaussianScore::new(&zero, &b).unwrap());
                    let mut s = Sampler::new(&pot, score, c).unwrap();
                    let xs = pts(&gaussian::sample(&zero, &a, chains, 3).unwrap(), d);
                    let (_, r) = s.sample(&xs, &mut progress::ignore).unwrap();
                    best = best.max(r.chain_steps_per_second);
                }
                println!(
                    "{{\"d\": {d}, \"chains\": {chains}, \"metropolis\": {mala}, \"threads\": {threads}, \"chain_steps_per_second\": {best:.4e}}}"
                );
            }
        }
    }
}
