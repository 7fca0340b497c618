//! The paper's Gaussian experiment (Sec. 5.2) from Rust: train duals between two random
//! Gaussians, sample with the exact target score, print BW-UVP against the closed form.
//!
//! cargo run --release --example gaussian -- [key=value ...]
//! keys: d, iters, batch, lr, width, depth, mode (paired|all), steps, eps, mala (0|1),
//!       n (samples), threads, seed, init (noise|source), spectrum (geometric|uniform)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use scones::neural::dual::{self, BatchMode, DualConfig};
use scones::neural::sampler::{ChainInit, Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Divergence, Regularizer};
use scones::reference::gaussian::{self, Spectrum};
use scones::reference::metrics;
use scones::score;
use tch::{Kind, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: HashMap<String, String> = std::env::args()
        .skip(1)
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let get = |k: &str, d: &str| args.get(k).cloned().unwrap_or_else(|| d.to_string());
    let d: usize = get("d", "2").parse()?;
    let n: usize = get("n", "10000").parse()?;
    let seed: u64 = get("seed", "0").parse()?;
    let threads: i32 = get("threads", "2").parse()?;
    tch::set_num_threads(threads);
    let spectrum = if get("spectrum", "geometric") == "uniform" { Spectrum::Uniform1To10 } else { Spectrum::Geometric };
    let a = gaussian::random_covariance(d, spectrum, 2 * seed + 1)?;
    let b = gaussian::random_covariance(d, spectrum, 2 * seed + 2)?;
    let zero = vec![0.0; d];
    let lambda = 2.0 * d as f64;
    let reference = gaussian::entropic_coupling_covariance(&a, &b, d, lambda)?;
    let to_t = |v: &[f64]| Tensor::from_slice(v).view([-1, d as i64]).to_kind(Kind::Float);
    let xs = gaussian::sample(&zero, &a, 100_000, 100 + seed)?;
    let ys = gaussian::sample(&zero, &b, 100_000, 200 + seed)?;

    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, lambda)?);
    cfg.optim.iterations = get("iters", "5000").parse()?;
    cfg.optim.batch_size = get("batch", "1000").parse()?;
    cfg.optim.learning_rate = get("lr", "1e-3").parse()?;
    let width: usize = get("width", "256").parse()?;
    let depth: usize = get("depth", "2").parse()?;
    cfg.phi_hidden = vec![width; depth];
    cfg.psi_hidden = vec![width; depth];
    cfg.batch_mode = if get("mode", "all") == "paired" { BatchMode::Paired } else { BatchMode::AllPairs };
    cfg.optim.seed = seed;
    let t0 = Instant::now();
    let (mut src, mut tgt) =
        (Empirical::new(&to_t(&xs), cfg.optim.device)?, Empirical::new(&to_t(&ys), cfg.optim.device)?);
    let (pot, rep) = dual::train(&cfg, &mut src, &mut tgt, &mut |p| {
        if p.iteration % 1000 == 0 {
            eprintln!("  it {} J {:.5} E[M] {:.4}", p.iteration, p.objective, p.mean_compatibility);
        }
        true
    })?;
    let train_s = t0.elapsed().as_secs_f64();
    // Dual accuracy on its own: E_{sigma x tau} |M_hat - M*| on fresh independent pairs.
    let (xe, ye) = (gaussian::sample(&zero, &a, 20_000, 400 + seed)?, gaussian::sample(&zero, &b, 20_000, 500 + seed)?);
    let exact = gaussian::density_ratio(&reference, d, d, &xe, &ye)?;
    let v = pot.phi(&to_t(&xe))?.f_add(&pot.psi(&to_t(&ye))?)?.f_sub(&pot.cost.paired(&to_t(&xe), &to_t(&ye))?)?;
    let learned = scones::reference::linalg::to_vec(&pot.regularizer.compatibility(&v)?)?;
    let l1 = exact.iter().zip(&learned).map(|(e, l)| (e - l).abs()).sum::<f64>() / exact.len() as f64;
    println!("plan_l1={l1:.4}");

    let mut scfg = SamplerConfig::new();
    scfg.steps_per_level = get("steps", "1000").parse()?;
    scfg.step_size = get("eps", "5e-3").parse()?;
    scfg.metropolis = get("mala", "0") == "1";
    scfg.init = if get("init", "noise") == "source" { ChainInit::Source } else { ChainInit::Noise };
    scfg.seed = seed + 7;
    let t1 = Instant::now();
    let mut s = Sampler::new(&pot, Arc::new(score::GaussianScore::new(&zero, &b)?), scfg)?;
    let x_eval = gaussian::sample(&zero, &a, n, 300 + seed)?;
    let (y, srep) = s.sample(&to_t(&x_eval), &mut scones::runtime::progress::ignore)?;
    let sample_s = t1.elapsed().as_secs_f64();
    let yv = scones::reference::linalg::to_vec(&y)?;
    let cov = metrics::joint_covariance(&x_eval, d, &yv, d)?;
    let bw = metrics::bw_uvp(&cov, &reference, 2 * d)?;
    println!(
        "d={d} bw_uvp={bw:.4} train_s={train_s:.1} it/s={:.1} E[M]={:.4} J={:.5} sample_s={sample_s:.1} chain_steps/s={:.3e} acc={:.3}",
        rep.iterations_per_second, rep.mean_compatibility, rep.objective, srep.chain_steps_per_second, srep.acceptance
    );
    Ok(())
}
