//! Throughput and accuracy-per-second benchmarks, written as JSON (not timed tests).
//!
//!   cargo run --release --example bench -- --out out/bench.json [--quick] [--threads N]
//!   cargo run --release --example bench -- --image-shapes [--device cpu|cuda] [--threads 1,2]
//!       [--repeats 3] [--dual-iters 2] [--score-dir out/image_scores] [--out out/bench_image_shapes.json]
//!       [--only dual|langevin] [--dims 64,12288]
//!
//! - dual training: iterations/s for paired and all-pairs batches over batch sizes, widths and
//!   dimensions;
//! - dual accuracy per second: E|M_hat - M*| (the plan's L1 error against the closed-form
//!   Gaussian coupling) after equal wall-clock budgets, paired vs all-pairs;
//! - Langevin: chain-steps/s for unadjusted and Metropolis-adjusted steps over chain counts,
//!   widths and dimensions.
//! - with `--image-shapes` only (minutes; not part of the sweep above): the paper's CelebA
//!   potentials (8 hidden layers of 2048) at d = 64 and d = 3 x 64 x 64, dual training
//!   iterations/s with paired batches of 1000 and Langevin chain-steps/s with a TorchScript score,
//!   each measurement repeated, with the machine's load, FLOPs and GFLOP/s
//!   (examples/common/image_shapes.rs; docs/results/bench_image_shapes.md).

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

#[path = "common/image_shapes.rs"]
mod image_shapes;

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
    if flag("--image-shapes").is_some() {
        if let Err(e) = image_shapes_sweep(&args) {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
        return;
    }
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

/// `--image-shapes`: every row at each thread count, a warm-up then `repeats` timed runs, the
/// machine's load read before and after each row (the host is shared), written as JSON.
fn image_shapes_sweep(args: &[String]) -> image_shapes::Res<()> {
    use image_shapes::{best_and_median, loadavg, peak_rss_mib, Net};
    let value = |f: &str| args.iter().position(|a| a == f).and_then(|i| args.get(i + 1)).cloned();
    let device_name = value("--device").unwrap_or_else(|| "cpu".into());
    // Before anything else: asking for a GPU that is not there ends here, with the reason.
    let device = image_shapes::device(&device_name)?;
    let threads: Vec<i32> = value("--threads")
        .unwrap_or_else(|| "1,2".into())
        .split(',')
        .map(|t| t.trim().parse().map_err(|_| format!("bad --threads entry '{t}'")))
        .collect::<Result<_, _>>()?;
    let repeats: usize = value("--repeats").map_or(Ok(3), |v| v.parse()).map_err(|_| "bad --repeats")?;
    let dual_iters: usize = value("--dual-iters").map_or(Ok(2), |v| v.parse()).map_err(|_| "bad --dual-iters")?;
    let score_dir = std::path::PathBuf::from(value("--score-dir").unwrap_or_else(|| "out/image_scores".into()));
    let out = value("--out").unwrap_or_else(|| "out/bench_image_shapes.json".into());
    let only = value("--only").unwrap_or_default();
    if !["", "dual", "langevin"].contains(&only.as_str()) {
        return Err(format!("--only takes dual or langevin, not '{only}'").into());
    }
    let dims: Vec<usize> = match value("--dims") {
        None => vec![64, 12288],
        Some(v) => v
            .split(',')
            .map(|t| t.trim().parse().map_err(|_| format!("bad --dims entry '{t}'")))
            .collect::<Result<_, _>>()?,
    };
    if repeats == 0 || dual_iters == 0 || threads.iter().any(|&t| t < 1) {
        return Err("--repeats, --dual-iters and --threads must be positive".into());
    }
    let net = Net::PAPER;
    let (m, levels, steps) = (1000usize, 2usize, 2usize);
    let shape = |d: usize| if d == 64 { "[1, 8, 8]" } else { "[3, 64, 64]" };
    let mut rows = Vec::new();
    let mut scores = Vec::new();
    let stats = |rates: &[f64], per_unit: f64| {
        let (best, median) = best_and_median(rates);
        let list = rates.iter().map(|r| format!("{r:.4e}")).collect::<Vec<_>>().join(", ");
        format!(
            "\"rates\": [{list}], \"best\": {best:.4e}, \"median\": {median:.4e}, \"gflop_per_s_best\": {:.2}, \
             \"gflop_per_s_median\": {:.2}",
            best * per_unit / 1e9,
            median * per_unit / 1e9
        )
    };
    for &d in dims.iter().filter(|_| only != "langevin") {
        let flops = image_shapes::dual_flops_per_iteration(d, net, m);
        for &t in &threads {
            tch::set_num_threads(t);
            let before = loadavg();
            let gemm = image_shapes::gemm_probe(device)?;
            let mut rates = Vec::new();
            for _ in 0..repeats {
                rates.push(image_shapes::dual_rate(d, net, m, dual_iters, 1, device)?);
                println!("dual d={d} threads={t}: {:.4} iterations/s", rates.last().unwrap());
            }
            let gemm_after = image_shapes::gemm_probe(device)?;
            rows.push(format!(
                "{{\"bench\": \"dual_training\", \"d\": {d}, \"image_shape\": {}, \"hidden\": \"{} x {}\", \
                 \"activation\": \"relu\", \"batch_mode\": \"paired\", \"batch\": {m}, \"cost\": \"mean_sq_euclidean\", \
                 \"regularizer\": \"kl\", \"lambda\": 0.1, \"timed_iterations\": {dual_iters}, \"warmup_iterations\": 1, \
                 \"repeats\": {repeats}, \"threads\": {t}, \"unit\": \"iterations/s\", \"flops_per_iteration\": {flops:.4e}, {}, \
                 \"gemm_probe_gflop_per_s\": [{gemm:.2}, {gemm_after:.2}], \"loadavg_before\": \"{before}\", \"loadavg_after\": \"{}\", \"peak_rss_mib\": {:.0}}}",
                shape(d),
                net.depth,
                net.width,
                stats(&rates, flops),
                loadavg(),
                peak_rss_mib().unwrap_or(f64::NAN)
            ));
        }
    }
    for &d in dims.iter().filter(|_| only != "dual") {
        let chains = if d <= 1024 { 256 } else { 32 };
        let score = image_shapes::score_module(&score_dir, d)?;
        let flops = image_shapes::langevin_flops_per_chain_step(d, net, score.flops_per_sample);
        scores.push(format!(
            "{{\"d\": {d}, \"file\": \"{}\", \"architecture\": \"{}\", \"parameters\": {}, \"forward_flops_per_sample\": {:.4e}}}",
            score.path.display(),
            score.architecture,
            score.parameters,
            score.flops_per_sample
        ));
        let cfg = image_shapes::sampler_config(levels, steps, device);
        for &t in &threads {
            tch::set_num_threads(t);
            let mut bench = image_shapes::LangevinBench::new(d, net, &score, chains, cfg.clone())?;
            bench.run()?; // warm-up: the TorchScript executor's profiling runs, first-touch pages
            let before = loadavg();
            let gemm = image_shapes::gemm_probe(device)?;
            let mut rates = Vec::new();
            for _ in 0..repeats {
                rates.push(bench.run()?);
                println!("langevin d={d} threads={t}: {:.4e} chain-steps/s", rates.last().unwrap());
            }
            let parts = bench.components(repeats)?;
            let gemm_after = image_shapes::gemm_probe(device)?;
            let psi_flops = image_shapes::langevin_flops_per_chain_step(d, net, 0.0) * chains as f64;
            let score_flops = score.flops_per_sample * chains as f64;
            rows.push(format!(
                "{{\"bench\": \"langevin\", \"d\": {d}, \"image_shape\": {}, \"psi_hidden\": \"{} x {}\", \
                 \"score\": \"torchscript\", \"score_flops_per_sample\": {:.4e}, \"chains\": {chains}, \
                 \"noise_levels\": {levels}, \"steps_per_level\": {steps}, \"steps_per_chain\": {}, \"denoise\": true, \
                 \"metropolis\": false, \"compatibility\": \"psi input gradient at the denoised point\", \
                 \"repeats\": {repeats}, \"threads\": {t}, \"unit\": \"chain-steps/s\", \"flops_per_chain_step\": {flops:.4e}, {}, \
                 \"alone_score_s_per_call\": {:.4}, \"alone_score_gflop_per_s\": {:.2}, \"alone_psi_grad_s_per_call\": {:.4}, \
                 \"alone_psi_grad_gflop_per_s\": {:.2}, \"gemm_probe_gflop_per_s\": [{gemm:.2}, {gemm_after:.2}], \
                 \"loadavg_before\": \"{before}\", \"loadavg_after\": \"{}\", \"peak_rss_mib\": {:.0}}}",
                shape(d),
                net.depth,
                net.width,
                score.flops_per_sample,
                bench.steps_per_chain(),
                stats(&rates, flops),
                parts.score_s,
                score_flops / parts.score_s / 1e9,
                parts.psi_grad_s,
                psi_flops / parts.psi_grad_s / 1e9,
                loadavg(),
                peak_rss_mib().unwrap_or(f64::NAN)
            ));
        }
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let json = format!(
        "{{\n  \"library_version\": \"{}\",\n  \"command\": \"{}\",\n  \"device\": \"{}\",\n  \"cuda_available\": {},\n  \
         \"cpu\": \"{cpu}\",\n  \"cpus_online\": {},\n  \"omp_wait_policy\": \"{}\",\n  \"score_modules\": [\n    {}\n  ],\n  \
         \"results\": [\n    {}\n  ]\n}}\n",
        scones::VERSION,
        args.iter().skip(1).cloned().collect::<Vec<_>>().join(" "),
        scones::runtime::device::device_name(device),
        scones::runtime::device::cuda_available(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::var("OMP_WAIT_POLICY").unwrap_or_default(),
        scores.join(",\n    "),
        rows.join(",\n    ")
    );
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, json)?;
    println!("wrote {out}");
    Ok(())
}
