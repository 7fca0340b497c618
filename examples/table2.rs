//! The paper's Table 2 (Sec. 5.2), reproduced: KL-regularized OT between random Gaussians with
//! lambda = 2d, covariances U diag(geomspace(1/2, 2, d)) U^T with Haar-random U from fixed seeds
//! (the authors' code), exact target score, 10,000 samples; SCONES and barycentric projection;
//! BW-UVP mean and standard error over seeds. Writes JSON and a markdown table next to the
//! paper's numbers.
//!
//!   cargo run --release --example table2 -- [--quick] [--device cpu|cuda] [--dims 2,16,64]
//!       [--seeds N] [--width W] [--depth L] [--iterations N] [--batch M] [--steps T]
//!       [--samples N] [--threads N] [--out-dir DIR]
//!
//! --quick runs d = 2 and 16 with 3 seeds on the CPU (675-881 s on 2 cores; the output is
//! committed as docs/results/table2_quick.{md,json}).

use std::sync::Arc;
use std::time::Instant;

use scones::neural::barycentric::{self, BarycentricConfig};
use scones::neural::dual::{self, BatchMode, DualConfig};
use scones::neural::sampler::{Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Divergence, Regularizer};
use scones::reference::gaussian::{self, Spectrum};
use scones::reference::{linalg, metrics};
use scones::runtime::progress;
use scones::score;
use tch::{Device, Kind, Tensor};

const PAPER_DIMS: [usize; 5] = [2, 16, 64, 128, 256];
const PAPER_SCONES: [f64; 5] = [0.025, 0.52, 1.2, 1.4, 2.0];
const PAPER_BP: [f64; 5] = [7.1, 35.0, 42.0, 41.0, 41.0];

struct Args {
    quick: bool,
    device: Device,
    dims: Vec<usize>,
    seeds: usize,
    width: usize,
    depth: usize,
    iterations: usize,
    batch: usize,
    steps: usize,
    samples: usize,
    out_dir: String,
    spectrum: Spectrum,
}

fn parse() -> Args {
    let a: Vec<String> = std::env::args().collect();
    let get = |f: &str| a.iter().position(|x| x == f).map(|i| a[i + 1].clone());
    let quick = a.iter().any(|x| x == "--quick");
    let threads: i32 = get("--threads").map(|v| v.parse().unwrap()).unwrap_or(2);
    tch::set_num_threads(threads);
    let device =
        scones::runtime::device::parse_device(&get("--device").unwrap_or_else(|| "cpu".into())).expect("device");
    let dims = get("--dims").map(|v| v.split(',').map(|d| d.parse().unwrap()).collect()).unwrap_or_else(|| {
        if quick {
            vec![2, 16]
        } else {
            PAPER_DIMS.to_vec()
        }
    });
    Args {
        quick,
        device,
        dims,
        seeds: get("--seeds").map(|v| v.parse().unwrap()).unwrap_or(if quick { 3 } else { 10 }),
        width: get("--width").map(|v| v.parse().unwrap()).unwrap_or(256),
        depth: get("--depth").map(|v| v.parse().unwrap()).unwrap_or(2),
        iterations: get("--iterations").map(|v| v.parse().unwrap()).unwrap_or(5000),
        batch: get("--batch").map(|v| v.parse().unwrap()).unwrap_or(500),
        steps: get("--steps").map(|v| v.parse().unwrap()).unwrap_or(1000),
        samples: get("--samples").map(|v| v.parse().unwrap()).unwrap_or(10_000),
        out_dir: get("--out-dir").unwrap_or_else(|| "out".into()),
        spectrum: if a.iter().any(|x| x == "--uniform") { Spectrum::Uniform1To10 } else { Spectrum::Geometric },
    }
}

fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (m, f64::NAN);
    }
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

fn main() {
    let args = parse();
    let to_t = |v: &[f64], d: usize| Tensor::from_slice(v).view([-1, d as i64]).to_kind(Kind::Float);
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for &d in &args.dims {
        let lambda = 2.0 * d as f64;
        let zero = vec![0.0; d];
        let (mut s_vals, mut b_vals, mut f_vals, mut i_vals) = (vec![], vec![], vec![], vec![]);
        let t_dim = Instant::now();
        for seed in 0..args.seeds as u64 {
            let a = gaussian::random_covariance(d, args.spectrum, 1000 * seed + 1).unwrap();
            let b = gaussian::random_covariance(d, args.spectrum, 1000 * seed + 2).unwrap();
            let exact = gaussian::entropic_coupling_covariance(&a, &b, d, lambda).unwrap();
            let xs = to_t(&gaussian::sample(&zero, &a, 50_000, 1000 * seed + 3).unwrap(), d);
            let ys = to_t(&gaussian::sample(&zero, &b, 50_000, 1000 * seed + 4).unwrap(), d);
            let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, lambda).unwrap());
            cfg.phi_hidden = vec![args.width; args.depth];
            cfg.psi_hidden = vec![args.width; args.depth];
            cfg.batch_mode = BatchMode::AllPairs;
            cfg.optim.batch_size = args.batch;
            cfg.optim.iterations = args.iterations;
            cfg.optim.seed = seed;
            cfg.optim.device = args.device;
            let t = Instant::now();
            let (pot, rep) = dual::train(
                &cfg,
                &mut Empirical::new(&xs, args.device).unwrap(),
                &mut Empirical::new(&ys, args.device).unwrap(),
                &mut progress::ignore,
            )
            .unwrap();
            let t_train = t.elapsed().as_secs_f64();
            let x_eval = gaussian::sample(&zero, &a, args.samples, 1000 * seed + 5).unwrap();
            let xe = to_t(&x_eval, d);
            let bw = |y: &Tensor| {
                metrics::bw_uvp(
                    &metrics::joint_covariance(&x_eval, d, &linalg::to_vec(y).unwrap(), d).unwrap(),
                    &exact,
                    2 * d,
                )
                .unwrap()
            };

            // SCONES: Metropolis-adjusted Langevin with the exact score, step size adapted to
            // 57% acceptance, chains started from N(0, I) as in Algorithm 2.
            let mut sc = SamplerConfig::new();
            sc.metropolis = true;
            sc.adapt_step = true;
            sc.step_size = 0.1 / (d as f64).powf(1.0 / 3.0);
            sc.steps_per_level = args.steps;
            sc.seed = seed;
            sc.device = args.device;
            let t = Instant::now();
            let mut sampler = Sampler::new(&pot, Arc::new(score::GaussianScore::new(&zero, &b).unwrap()), sc).unwrap();
            let (y, srep) = sampler.sample(&xe, &mut progress::ignore).unwrap();
            let t_sample = t.elapsed().as_secs_f64();
            let s_bw = bw(&y);

            // Barycentric projection against the same duals.
            let mut bc = BarycentricConfig { hidden: vec![args.width; args.depth], ..Default::default() };
            bc.optim.batch_size = args.batch;
            bc.optim.iterations = args.iterations / 2;
            bc.optim.seed = seed;
            bc.optim.device = args.device;
            let (map, _) = barycentric::train(
                &bc,
                &pot,
                &mut Empirical::new(&xs, args.device).unwrap(),
                &mut Empirical::new(&ys, args.device).unwrap(),
                &mut progress::ignore,
            )
            .unwrap();
            let b_bw = bw(&map.map(&xe.to_device(args.device)).unwrap());

            // The floor: exact samples of the coupling, same n.
            let z = gaussian::sample(&vec![0.0; 2 * d], &exact, args.samples, 1000 * seed + 6).unwrap();
            let f_bw = metrics::bw_uvp(&metrics::covariance(&z, 2 * d).unwrap(), &exact, 2 * d).unwrap();
            // A perfect barycentric map, E[y | x] in closed form: the floor of the BP column.
            let ideal_bp =
                metrics::bw_uvp(&gaussian::barycentric_projection_covariance(&exact, d, d).unwrap(), &exact, 2 * d)
                    .unwrap();
            println!(
                "d={d} seed={seed}: SCONES {s_bw:.4}  BP {b_bw:.3} (E[y|x]: {ideal_bp:.3})  exact samples {f_bw:.4}  (train {t_train:.1}s at {:.0} it/s, E[M] {:.4}; sample {t_sample:.1}s, {:.3e} chain-steps/s, acceptance {:.2})",
                rep.iterations_per_second, rep.mean_compatibility, srep.chain_steps_per_second, srep.acceptance
            );
            json.push(format!(
                "{{\"d\": {d}, \"seed\": {seed}, \"scones\": {s_bw:.6}, \"bp\": {b_bw:.6}, \"ideal_bp\": {ideal_bp:.6}, \"exact_samples\": {f_bw:.6}, \"train_seconds\": {t_train:.2}, \"dual_iterations_per_second\": {:.1}, \"sample_seconds\": {t_sample:.2}, \"chain_steps_per_second\": {:.4e}, \"acceptance\": {:.4}}}",
                rep.iterations_per_second, srep.chain_steps_per_second, srep.acceptance
            ));
            s_vals.push(s_bw);
            b_vals.push(b_bw);
            f_vals.push(f_bw);
            i_vals.push(ideal_bp);
        }
        let paper = PAPER_DIMS.iter().position(|&p| p == d);
        rows.push((
            d,
            mean_se(&s_vals),
            mean_se(&b_vals),
            mean_se(&f_vals),
            mean_se(&i_vals),
            paper,
            t_dim.elapsed().as_secs_f64(),
        ));
    }

    let mut md = String::from(
        "| d | SCONES (ours) | paper SCONES | BP (ours) | paper BP | E[y given x] (ideal BP) | exact samples | seeds | time |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (d, s, b, f, ib, p, t) in &rows {
        let (ps, pb) =
            p.map_or(("-".to_string(), "-".to_string()), |i| (PAPER_SCONES[i].to_string(), PAPER_BP[i].to_string()));
        md += &format!(
            "| {d} | {:.4} ± {:.4} | {ps} | {:.2} ± {:.2} | {pb} | {:.2} ± {:.2} | {:.4} ± {:.4} | {} | {:.0} s |\n",
            s.0, s.1, b.0, b.1, ib.0, ib.1, f.0, f.1, args.seeds, t
        );
    }
    md += &format!(
        "\nBW-UVP (0-100, lower is better), mean ± standard error over seeds; {} samples; lambda = 2d; KL; \
         covariances with eigenvalues {}; duals: ReLU MLP {}x{}, all-pairs batches of {}, {} Adam iterations; \
         SCONES: Metropolis-adjusted Langevin with the exact score, {} steps; device {}{}.\n",
        args.samples,
        if args.spectrum == Spectrum::Geometric { "geomspace(1/2, 2, d)" } else { "uniform in [1, 10]" },
        args.depth,
        args.width,
        args.batch,
        args.iterations,
        args.steps,
        scones::runtime::device::device_name(args.device),
        if args.quick { " (--quick)" } else { "" }
    );
    print!("\n{md}");
    std::fs::create_dir_all(&args.out_dir).unwrap();
    let name = if args.quick { "table2_quick" } else { "table2" };
    std::fs::write(format!("{}/{name}.md", args.out_dir), &md).unwrap();
    std::fs::write(format!("{}/{name}.json", args.out_dir), format!("{{\"runs\": [\n  {}\n]}}\n", json.join(",\n  ")))
        .unwrap();
    println!("wrote {}/{name}.md and .json", args.out_dir);
}
