//! Which target score is better, measured without sampling: the held-out denoising score
//! matching loss L(sigma) = 1/2 E |sigma s(y + sigma z, sigma) + z|^2 on fresh target samples of
//! the entropic OT benchmark (`scones::reference::entropic_bench`), at the noise levels an
//! annealed sampler visits. L(sigma) = 1/2 sigma^2 E |s - grad log q_sigma|^2 + C(sigma) with
//! C independent of the score (Vincent 2011), so differences between two scores at one sigma
//! are exact differences of their sigma^2-weighted Fisher errors; the same y and z are used for
//! every score (common random numbers), so small differences are resolved.
//!
//! ```text
//! cargo run --release --example score_probe -- --d 16 --eps 1 \
//!     --configs preconditioned:128x3:5000,ncsn:128x3:5000 [--train N] [--heldout N] [--threads N]
//! ```
//! A config is parametrization:WIDTHxDEPTH:ITERATIONS[:LEARNING_RATE]; `empirical` is the kernel
//! score of the training samples (the exact score of their smoothed empirical measure).

use std::time::Instant;

use scones::ot::measure::Empirical;
use scones::reference::entropic_bench::EntropicBench;
use scones::runtime::error::{Error, Result};
use scones::runtime::progress;
use scones::runtime::rng::Rng64;
use scones::score::{self, trained, ScoreSource};
use tch::{Device, Kind, Tensor};

fn main() -> Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let get = |f: &str| a.iter().position(|x| x == f).and_then(|i| a.get(i + 1).cloned());
    let num = |f: &str, d: f64| get(f).map_or(d, |v| v.parse().expect(f));
    tch::set_num_threads(num("--threads", 2.0) as i32);
    let (d, eps) = (num("--d", 16.0) as usize, num("--eps", 1.0));
    let (n_train, n_held) = (num("--train", 20_000.0) as usize, num("--heldout", 5000.0) as usize);
    let seed = num("--seed", 0.0) as u64;
    let bench = EntropicBench::new(d, eps, 1000 + seed)?;
    let ys = Tensor::from_slice(&bench.sample_target(n_train, &mut Rng64::new(10 * seed + 2)))
        .view([-1, d as i64])
        .to_kind(Kind::Float);
    let held = Tensor::from_slice(&bench.sample_target(n_held, &mut Rng64::new(77 + seed)))
        .view([-1, d as i64])
        .to_kind(Kind::Float);
    let levels = num("--levels", 10.0) as usize;
    let (s_first, s_last) = (num("--sigma-first", 3.0), num("--sigma-last", 0.01));
    let sigmas: Vec<f64> =
        (0..levels).map(|i| s_first * (s_last / s_first).powf(i as f64 / (levels - 1).max(1) as f64)).collect();
    let z = Rng64::new(99).normal_tensor(&[n_held as i64, d as i64], Kind::Float, Device::Cpu)?;
    println!("d = {d}, eps = {eps}, {n_train} training and {n_held} held-out target samples");
    // Reference score of Q_sigma = E_x pi_sigma(. | x): self-normalised over n_mc source draws,
    // each pi_sigma(. | x_n) a known isotropic mixture (its components widened by sigma^2).
    let n_mc = num("--truth", 0.0) as usize;
    let truth: Vec<Vec<f64>> = if n_mc > 0 {
        let conds: Vec<_> =
            bench.sample_source(n_mc, &mut Rng64::new(55)).chunks(d).map(|x| bench.conditional(x)).collect();
        let hv: Vec<f64> = Vec::<f64>::try_from(held.to_kind(Kind::Double).view([-1])).unwrap();
        let zv: Vec<f64> = Vec::<f64>::try_from(z.to_kind(Kind::Double).view([-1])).unwrap();
        let mut all = Vec::new();
        for &s in &sigmas {
            let (mut out, mut ess_sum) = (vec![0.0; n_held * d], 0.0);
            let mut sc = vec![0.0; d];
            for r in 0..n_held {
                let y: Vec<f64> = (0..d).map(|k| hv[r * d + k] + s * zv[r * d + k]).collect();
                let logs: Vec<f64> = conds.iter().map(|c| c.log_density(&y, s * s)).collect();
                let m = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let w: Vec<f64> = logs.iter().map(|l| (l - m).exp()).collect();
                let tot: f64 = w.iter().sum();
                ess_sum += tot * tot / w.iter().map(|v| v * v).sum::<f64>();
                for (c, wi) in conds.iter().zip(&w) {
                    if *wi / tot > 1e-12 {
                        c.score(&y, s, &mut sc);
                        for k in 0..d {
                            out[r * d + k] += wi / tot * sc[k];
                        }
                    }
                }
            }
            println!("reference score at sigma {s:.3}: mean ESS {:.0} of {n_mc}", ess_sum / n_held as f64);
            all.push(out);
        }
        all
    } else {
        Vec::new()
    };
    println!("sigma: {}", sigmas.iter().map(|s| format!("{s:.3}")).collect::<Vec<_>>().join(" "));
    let configs = get("--configs").unwrap_or_else(|| "preconditioned:128x3:5000,ncsn:128x3:5000".into());
    for spec in configs.split(',') {
        let t = Instant::now();
        let source: Box<dyn ScoreSource> = if spec == "empirical" {
            Box::new(score::EmpiricalScore::new(&ys, 1e-6)?)
        } else {
            let parts: Vec<&str> = spec.split(':').collect();
            let parametrization = match parts[0] {
                "ncsn" => trained::Parametrization::Ncsn,
                "preconditioned" => trained::Parametrization::Preconditioned,
                p => return Err(Error::invalid(format!("unknown parametrization {p}"))),
            };
            let mut cfg = trained::ScoreTrainConfig { parametrization, ..Default::default() };
            let (w, depth) = parts[1].split_once('x').ok_or_else(|| Error::invalid("WIDTHxDEPTH"))?;
            cfg.hidden = vec![w.parse().unwrap(); depth.parse().unwrap()];
            cfg.optim.iterations = parts[2].parse().unwrap();
            if let Some(lr) = parts.get(3) {
                cfg.optim.learning_rate = lr.parse().unwrap();
            }
            cfg.optim.seed = seed;
            Box::new(trained::train(&cfg, &mut Empirical::new(&ys, Device::Cpu)?, &mut progress::ignore)?.0)
        };
        let train_s = t.elapsed().as_secs_f64();
        let mut bound = source.bind(Device::Cpu)?;
        let mut losses = Vec::new();
        let mut rel = Vec::new();
        for (li, &s) in sigmas.iter().enumerate() {
            let noisy = held.f_add(&z.f_mul_scalar(s)?)?;
            let sc = bound.score(&noisy, s)?;
            if let Some(t) = truth.get(li) {
                let t = Tensor::from_slice(t).view([-1, d as i64]);
                let err = sc.to_kind(Kind::Double).f_sub(&t)?.f_square()?.f_sum(Kind::Double)?.f_double_value(&[])?;
                rel.push(err / t.f_square()?.f_sum(Kind::Double)?.f_double_value(&[])?);
            }
            let l = sc.f_mul_scalar(s)?.f_add(&z)?.f_square()?.f_sum_dim_intlist(1, false, None)?;
            losses.push(l.f_mean(Kind::Double)?.f_double_value(&[])? * 0.5);
        }
        println!(
            "{spec:<32} train {train_s:6.1} s  sum {:8.4}  | {}",
            losses.iter().sum::<f64>(),
            losses.iter().map(|l| format!("{l:.4}")).collect::<Vec<_>>().join(" ")
        );
        if !rel.is_empty() {
            println!(
                "{:<32} relative Fisher error E|s - s_ref|^2 / E|s_ref|^2 by level: {}",
                "",
                rel.iter().map(|l| format!("{l:.4}")).collect::<Vec<_>>().join(" ")
            );
        }
    }
    Ok(())
}
