//! Where the digits example loses class agreement (issue #13's open point): at KL lambda = 0.01
//! the exact discrete plan between the 300 test sources and the 400 training targets keeps the
//! source's digit in 0.514 of its conditional's mass, SCONES' samples in 0.21-0.36. This probe
//! takes the chain apart, cheapest part first, on one dual:
//!
//! 1. the exact plan (log-domain Sinkhorn, as scripts/digits_plan_reference.py) and the learned
//!    dual's own conditional over the 400 targets, w_ij proportional to M(V(x_i, y_j)): its class
//!    mass, its total-variation distance to the exact conditional, and its marginals;
//! 2. Algorithm 2 with the empirical (kernel-smoothed) score of the 400 targets in place of the
//!    trained network, then with the trained network, same dual and schedule;
//! 3. schedule variants (compatibility at the denoised point off, tempering off; steps, levels
//!    and step size through `--set`);
//! 4. (`--probe exact`, about 10 min on one core) the same annealed chains driven by the exact
//!    score of the noised conditional sum_j w_ij N(y; y_j, (sigma^2 + h^2) I), with w the dual's
//!    and the exact plan's conditionals and the compatibility term off: the schedule's ceiling.
//!
//! cargo run --release --example digits_agree -- [--set key=value ...] [--probe dual,empirical,library,variants,exact,resample]
//!
//! Findings (KL, lambda = 0.01, 1 thread) are in docs/results/digits.md, "Where the agreement
//! goes".
//!
//! Settings are the digits example's (`Config`, full preset; `divergences` and `lambdas` take
//! the first entry) plus `lr` (Adam rate of the dual, default 1e-3) and `bandwidth` (of the
//! empirical score, default 0.01). The dual is cached under target/digits-agree/ by its settings.

#[path = "digits/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;

use std::time::Instant;

use ndarray::{Array2, Axis};
use pipeline::{Config, Digits, Res};
use scones::api::{BatchMode, Cost};
use scones::{Dual, DualOptions, Measure, Sampler, SamplerOptions, Score, TrainOptions};

/// Sinkhorn sweeps for the exact plan: the script reaches a marginal l1 of 1e-15 in 5000.
const SINKHORN_SWEEPS: usize = 5000;

fn logsumexp(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = v.clone().fold(f64::NEG_INFINITY, f64::max);
    m + v.map(|a| (a - m).exp()).sum::<f64>().ln()
}

/// The exact KL plan's conditionals pi(j | i) (rows sum to 1) between uniform point sets.
fn exact_conditional(c: &Array2<f64>, lambda: f64) -> Array2<f64> {
    let (n, m) = c.dim();
    let (la, lb) = (-(n as f64).ln(), -(m as f64).ln());
    let (mut f, mut g) = (vec![0.0; n], vec![0.0; m]);
    for _ in 0..SINKHORN_SWEEPS {
        for i in 0..n {
            f[i] = -lambda * logsumexp((0..m).map(|j| (g[j] - c[[i, j]]) / lambda + lb));
        }
        for j in 0..m {
            g[j] = -lambda * logsumexp((0..n).map(|i| (f[i] - c[[i, j]]) / lambda + la));
        }
    }
    let mut p = Array2::from_shape_fn((n, m), |(i, j)| (f[i] + g[j] - c[[i, j]]) / lambda);
    for mut row in p.rows_mut() {
        let z = logsumexp(row.iter().copied());
        row.mapv_inplace(|a| (a - z).exp());
    }
    p
}

/// The class mass sum_j w_ij [class_j == label_i], averaged over sources.
fn class_mass(w: &Array2<f64>, target_class: &[usize], labels: &[usize]) -> f64 {
    let per: f64 = w
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(r, &l)| r.iter().zip(target_class).filter(|(_, &c)| c == l).map(|(p, _)| p).sum::<f64>())
        .sum();
    per / labels.len() as f64
}

fn main() -> Res<()> {
    let mut cfg = Config::full();
    cfg.threads = 1;
    let (mut lr, mut bandwidth) = (1e-3, 0.01);
    // "exact" is left out by default: its host-side mixture score takes minutes.
    let mut probes = vec!["dual".to_string(), "empirical".into(), "library".into(), "variants".into()];
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match (flag.as_str(), v.split_once('=')) {
            ("--set", Some(("lr", x))) => lr = x.parse()?,
            ("--set", Some(("bandwidth", x))) => bandwidth = x.parse()?,
            ("--set", _) => pipeline::set(&mut cfg, &v)?,
            ("--probe", _) => probes = v.split(',').map(String::from).collect(),
            _ => return Err(format!("unknown argument '{flag}'").into()),
        }
    }
    let dir = pipeline::default_data_dir();
    pipeline::prepare(&dir)?;
    let d = Digits::load(&dir)?;
    let (div, lambda) = (cfg.divergences[0], cfg.lambdas[0]);
    let target_class = d.classify(d.target_high.view());

    let cache = dir.with_file_name("digits-agree");
    std::fs::create_dir_all(&cache)?;
    let name = format!(
        "dual-{}-{lambda}-it{}-b{}-h{:?}-lr{lr}-s{}.pt",
        pipeline::divergence_name(div),
        cfg.dual_iterations,
        cfg.batch,
        cfg.hidden,
        cfg.seed
    );
    let t = Instant::now();
    let dual = if cache.join(&name).is_file() {
        Dual::load(cache.join(&name), "cpu")?
    } else {
        let options = DualOptions::new()
            .regularizer(div, lambda)
            .cost(Cost::MeanSqEuclidean)
            .iterations(cfg.dual_iterations)
            .batch(cfg.batch, BatchMode::AllPairs)
            .hidden(&cfg.hidden)
            .adam(lr, 0.9, 0.999)
            .threads(cfg.threads)
            .seed(cfg.seed + 1);
        let dual = Dual::train(&d.source_low, &d.target_high, &options)?;
        dual.save(cache.join(&name))?;
        dual
    };
    println!("dual {name}: {:.1} s", t.elapsed().as_secs_f64());

    let mut conditional = None;
    if probes.iter().any(|p| p == "dual" || p == "exact") {
        let c = Array2::from_shape_fn((d.test_low.nrows(), d.target_high.nrows()), |(i, j)| {
            let diff = &d.test_low.row(i) - &d.target_high.row(j);
            diff.dot(&diff) / pipeline::D as f64
        });
        let exact = exact_conditional(&c, lambda);
        let m = dual.compatibility(&d.test_low, &d.target_high)?;
        let m_train = dual.compatibility(&d.source_low, &d.target_high)?;
        let mut w = m.clone();
        for mut row in w.rows_mut() {
            let z = row.sum();
            row.mapv_inplace(|a| a / z);
        }
        let tv = (&w - &exact).mapv(f64::abs).sum_axis(Axis(1)).mean().unwrap_or(f64::NAN) / 2.0;
        let spread = |m: &Array2<f64>, ax: usize| {
            let v = m.mean_axis(Axis(ax)).unwrap_or_default();
            (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        };
        let ess = |w: &Array2<f64>| w.rows().into_iter().map(|r| 1.0 / r.dot(&r)).sum::<f64>() / w.nrows() as f64;
        println!(
            "exact plan: class mass {:.3}, effective targets per source {:.1}",
            class_mass(&exact, &target_class, &d.test_label),
            ess(&exact)
        );
        println!(
            "dual conditional: class mass {:.3}, effective targets per source {:.1}, TV to exact {tv:.3}",
            class_mass(&w, &target_class, &d.test_label),
            ess(&w)
        );
        let (rs, cs) = (spread(&m, 1), spread(&m_train, 0));
        println!(
            "E[M] test x targets {:.3}, train x targets {:.3}; per test source mean_j M in [{:.3}, {:.3}]; per target mean over training sources in [{:.3}, {:.3}]",
            m.mean().unwrap_or(f64::NAN),
            m_train.mean().unwrap_or(f64::NAN),
            rs.0,
            rs.1,
            cs.0,
            cs.1
        );
        conditional = Some((w, exact));
    }

    let base = SamplerOptions::new()
        .annealing(cfg.sigma_first, cfg.sigma_last, cfg.levels)
        .steps(cfg.steps, cfg.step_size)
        .denoise(true)
        .samples_per_source(cfg.k)
        .threads(cfg.threads)
        .seed(cfg.seed + 1);
    let run = |label: &str, score: &Score, options: &SamplerOptions| -> Res<()> {
        let t = Instant::now();
        let y = Sampler::new(&dual, score, options)?.sample(&d.test_low)?;
        println!(
            "{label}: agreement {:.3}, FD {:.3} ({:.1} s)",
            d.agreement(&y, cfg.k),
            d.frechet(&y, cfg.k)?,
            t.elapsed().as_secs_f64()
        );
        Ok(())
    };
    if let (Some((w, exact)), true) = (&conditional, probes.iter().any(|p| p == "exact")) {
        // The same annealed chains driven by the exact score of the noised conditional
        // sum_j w_ij N(y; y_j, (sigma^2 + h^2) I), the compatibility term off: what the
        // schedule reaches when nothing is approximated but the Langevin discretisation.
        for (label, w) in [("dual's conditional", w), ("exact plan's conditional", exact)] {
            let t = Instant::now();
            let mut y = Array2::zeros((0, pipeline::D));
            for i in 0..d.test_low.nrows() {
                let logw: Vec<f64> = w.row(i).iter().map(|p| p.max(1e-300).ln()).collect();
                let targets = d.target_high.clone();
                let score = Score::from_fn(pipeline::D, move |y, sigma| {
                    let s2 = sigma * sigma + bandwidth * bandwidth;
                    let mut out = Array2::zeros(y.dim());
                    for (yr, mut o) in y.rows().into_iter().zip(out.rows_mut()) {
                        let a: Vec<f64> = targets
                            .rows()
                            .into_iter()
                            .zip(&logw)
                            .map(|(t, lw)| lw - (&yr - &t).mapv(|v| v * v).sum() / (2.0 * s2))
                            .collect();
                        let z = logsumexp(a.iter().copied());
                        for (t, a) in targets.rows().into_iter().zip(&a) {
                            o.scaled_add((a - z).exp() / s2, &(&t - &yr));
                        }
                    }
                    Ok(out)
                })?;
                let options = base.clone().compatibility(false);
                let yi = Sampler::new(&dual, &score, &options)?
                    .sample_at(d.test_low.slice(ndarray::s![i..i + 1, ..]), i as u64)?;
                y.append(Axis(0), yi.view())?;
            }
            println!(
                "annealed Langevin on the {label} (exact mixture score, no compatibility): agreement {:.3}, FD {:.3} ({:.1} s)",
                d.agreement(&y, cfg.k),
                d.frechet(&y, cfg.k)?,
                t.elapsed().as_secs_f64()
            );
        }
    }
    let mut scores = Vec::new();
    if probes.iter().any(|p| p == "empirical") {
        scores.push((format!("empirical score h {bandwidth}"), Score::empirical(&d.target_high, bandwidth)?));
    }
    if probes.iter().any(|p| p == "library") {
        let path = cache.join(format!("score-it{}-s{}.pt", cfg.score_iterations, cfg.seed));
        let t = Instant::now();
        let score = if path.is_file() {
            Score::load(&path)?
        } else {
            let options = TrainOptions::new().iterations(cfg.score_iterations).threads(cfg.threads).seed(cfg.seed);
            let s = Score::train(&mut Measure::points(&d.target_high)?, &options)?;
            s.save(&path)?;
            s
        };
        println!("library score: {:.1} s", t.elapsed().as_secs_f64());
        scores.push(("library score".into(), score));
    }
    for (label, score) in &scores {
        run(&format!("SCONES, {label}"), score, &base)?;
        if probes.iter().any(|p| p == "variants") {
            run(
                &format!("  {label}, compatibility at y (not denoised)"),
                score,
                &base.clone().compatibility_at_denoised(false),
            )?;
            run(&format!("  {label}, no tempering"), score, &base.clone().compatibility_tempering(false))?;
        }
        if probes.iter().any(|p| p == "resample") {
            run(
                &format!("  {label}, chains from the targets resampled by M"),
                score,
                &base.clone().chain_start(scones::api::ChainStart::resample(&d.target_high, 0.0)),
            )?;
        }
    }
    Ok(())
}
