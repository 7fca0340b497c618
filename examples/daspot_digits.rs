//! DASPOT (Xie's thesis, section 3.5) on the scikit-learn digits: the source domain is labelled
//! digits, the target domain a transformed copy of *other* digits without labels, and the
//! question is the target-domain accuracy of
//!
//! - (a) a classifier of the same architecture trained on the source alone (no alignment),
//! - (b) DASPOT's target classifier D_Y,
//! - (c) the same architecture trained on labelled target data (the ceiling, for reference).
//!
//! Split per seed (a permutation of the 1,797 images): 898 source images with labels, 600
//! target training images whose labels are never read, 299 target test images whose labels are
//! used only to score (a), (b) and (c) (and (c)'s training uses the 600 target images' labels).
//! Domains (`--domains`): `inverted` (1 - x, the data's 16 - x on the [0, 1] scale), `faded`
//! (0.3 + 0.4 x plus Gaussian noise of sd 0.05: lower contrast, a grey background, noise).
//!
//! ```text
//! cargo run --release --example daspot_digits -- [--domains inverted,faded] [--seeds 3]
//!     [--iterations N] [--warm N] [--normalize] [--frozen-cost] [--separate] [--gamma-da G]
//!     [--cost-weight W] [--eta E] [--lr L] [--threads 1] [--data DIR] [--out PREFIX]
//! ```
//!
//! Writes PREFIX.json (per seed) and PREFIX.md (the table) when `--out` is given; the results
//! and what they mean are in docs/results/daspot.md.

#[path = "digits/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;

use std::path::{Path, PathBuf};
use std::time::Instant;

use scones::neural::spot::daspot::{self, DaspotConfig, Labelled};
use scones::runtime::progress;
use scones::runtime::rng::Rng64;
use tch::{Device, Kind, Tensor};

const N_SOURCE: usize = 898;
const N_TARGET_TRAIN: usize = 600;

struct Args {
    domains: Vec<String>,
    seeds: u64,
    iterations: usize,
    warm: usize,
    normalize: bool,
    gamma_da: f64,
    cost_weight: f64,
    eta: f64,
    shared: bool,
    frozen_cost: bool,
    lr: f64,
    data: PathBuf,
    out: Option<String>,
}

fn parse() -> Args {
    let a: Vec<String> = std::env::args().collect();
    let get = |f: &str| a.iter().position(|x| x == f).and_then(|i| a.get(i + 1).cloned());
    tch::set_num_threads(get("--threads").map(|v| v.parse().expect("--threads N")).unwrap_or(1));
    Args {
        domains: get("--domains").unwrap_or_else(|| "inverted,faded".into()).split(',').map(String::from).collect(),
        seeds: get("--seeds").map(|v| v.parse().expect("--seeds N")).unwrap_or(3),
        iterations: get("--iterations").map(|v| v.parse().expect("--iterations N")).unwrap_or(2000),
        warm: get("--warm").map(|v| v.parse().expect("--warm N")).unwrap_or(1000),
        normalize: a.iter().any(|x| x == "--normalize"),
        gamma_da: get("--gamma-da").map(|v| v.parse().expect("--gamma-da G")).unwrap_or(1.0),
        cost_weight: get("--cost-weight").map(|v| v.parse().expect("--cost-weight W")).unwrap_or(1.0),
        shared: !a.iter().any(|x| x == "--separate"),
        frozen_cost: a.iter().any(|x| x == "--frozen-cost"),
        lr: get("--lr").map(|v| v.parse().expect("--lr L")).unwrap_or(1e-3),
        eta: get("--eta").map(|v| v.parse().expect("--eta E")).unwrap_or(10.0),
        data: get("--data").map(PathBuf::from).unwrap_or_else(pipeline::default_data_dir),
        out: get("--out"),
    }
}

/// All 1,797 images [n, 64] in [0, 1] and their labels, preparing the data on first use (and
/// again when an older preparation lacks the whole-set matrices).
fn load(dir: &Path) -> pipeline::Res<(Tensor, Vec<i64>)> {
    let manifest_path = dir.join("manifest.txt");
    let complete = std::fs::read_to_string(&manifest_path).map(|m| m.contains("all_labels")).unwrap_or(false);
    if !complete {
        let _ = std::fs::remove_file(&manifest_path);
        pipeline::prepare(dir)?;
    }
    let manifest = std::fs::read_to_string(&manifest_path)?;
    let images = pipeline::read_matrix(dir, &manifest, "all_images", pipeline::D)?;
    let labels = pipeline::read_matrix(dir, &manifest, "all_labels", 1)?;
    if labels.nrows() != images.nrows() || labels.iter().any(|&l| l < 0.0 || l.fract() != 0.0 || l >= 10.0) {
        return Err("all_labels does not hold one label in 0..9 per image".into());
    }
    let flat: Vec<f32> = images.iter().map(|&v| v as f32).collect();
    let x = Tensor::from_slice(&flat).view([images.nrows() as i64, pipeline::D as i64]);
    Ok((x, labels.iter().map(|&l| l as i64).collect()))
}

fn transform(domain: &str, x: &Tensor, rng: &mut Rng64) -> Tensor {
    match domain {
        "inverted" => x.ones_like() - x,
        // No shift: a control of how much D_Y loses by learning from generated samples.
        "none" => x.shallow_clone(),
        "faded" => {
            let noise = rng.normal_tensor(&x.size(), Kind::Float, Device::Cpu).unwrap();
            x * 0.4 + 0.3 + noise * 0.05
        }
        other => panic!("unknown domain '{other}' (inverted, faded, none)"),
    }
}

struct Run {
    domain: String,
    seed: u64,
    source_only: f64,
    daspot: f64,
    daspot_source_on_target: f64,
    ceiling: f64,
    seconds: (f64, f64, f64),
    report: daspot::DaspotReport,
}

fn run_one(a: &Args, domain: &str, seed: u64, x: &Tensor, labels: &[i64]) -> Run {
    let mut rng = Rng64::new(seed);
    let n = labels.len();
    // Fisher-Yates from the seeded stream.
    let mut perm: Vec<i64> = (0..n as i64).collect();
    for i in (1..n).rev() {
        let j = (rng.uniform() * (i + 1) as f64) as usize;
        perm.swap(i, j.min(i));
    }
    let part = |r: std::ops::Range<usize>| {
        let idx = Tensor::from_slice(&perm[r.clone()]);
        let v: Vec<i64> = perm[r].iter().map(|&i| labels[i as usize]).collect();
        (x.index_select(0, &idx), Tensor::from_slice(&v))
    };
    let (xs, vs) = part(0..N_SOURCE);
    let (yt_clean, vt) = part(N_SOURCE..N_SOURCE + N_TARGET_TRAIN);
    let (ye_clean, ve) = part(N_SOURCE + N_TARGET_TRAIN..n);
    let mut noise = rng.fork();
    let (yt, ye) = (transform(domain, &yt_clean, &mut noise), transform(domain, &ye_clean, &mut noise));

    let mut cfg = DaspotConfig::default();
    (cfg.spot.generator_hidden, cfg.spot.critic_hidden) = (vec![128, 128], vec![128, 128]);
    cfg.spot.latent_dim = 32;
    (cfg.embedding_hidden, cfg.embedding_dim) = (vec![128], 16);
    (cfg.spot.optim.batch_size, cfg.spot.optim.iterations, cfg.spot.optim.seed) = (128, a.iterations, seed);
    cfg.warm_start = a.warm;
    cfg.normalize_embeddings = a.normalize;
    (cfg.gamma_da, cfg.cost_weight, cfg.spot.eta) = (a.gamma_da, a.cost_weight, a.eta);
    (cfg.spot.shared_generator, cfg.spot.optim.learning_rate) = (a.shared, a.lr);
    cfg.cost_trains_embeddings = !a.frozen_cost;
    // The baselines train as long as D_X does in DASPOT (warm start + joint steps).
    let mut base = cfg.clone();
    base.spot.optim.iterations = a.warm + a.iterations;

    let t = Instant::now();
    let source = Labelled { points: &xs, labels: &vs };
    let source_only = daspot::train_classifier(&base, &source, 10).unwrap().accuracy(&ye, &ve).unwrap();
    let t_a = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (model, report) = daspot::train(&cfg, &source, &yt, &mut progress::ignore).unwrap();
    let t_b = t.elapsed().as_secs_f64();
    let adapted = model.target.accuracy(&ye, &ve).unwrap();
    let source_on_target = model.source.accuracy(&ye, &ve).unwrap();
    let t = Instant::now();
    let target = Labelled { points: &yt, labels: &vt };
    let ceiling = daspot::train_classifier(&base, &target, 10).unwrap().accuracy(&ye, &ve).unwrap();
    let t_c = t.elapsed().as_secs_f64();
    eprintln!(
        "{domain} seed {seed}: source-only {source_only:.3} DASPOT D_Y {adapted:.3} (D_X on target \
         {source_on_target:.3}) ceiling {ceiling:.3}; {t_a:.0}/{t_b:.0}/{t_c:.0} s; {report:?}"
    );
    Run {
        domain: domain.into(),
        seed,
        source_only,
        daspot: adapted,
        daspot_source_on_target: source_on_target,
        ceiling,
        seconds: (t_a, t_b, t_c),
        report,
    }
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64 } else { 0.0 };
    (m, var.sqrt())
}

fn main() {
    let a = parse();
    let (x, labels) = load(&a.data).expect("loading the digits (scripts/prepare_digits.sh)");
    let mut runs = Vec::new();
    for domain in &a.domains {
        for seed in 0..a.seeds {
            runs.push(run_one(&a, domain, seed, &x, &labels));
        }
    }
    let mut md = vec![
        "| target domain | seeds | (a) source only | (b) DASPOT D_Y | DASPOT's D_X on the target | (c) ceiling: trained on labelled target | seconds per seed (a / b / c) |".to_string(),
        "|---|---|---|---|---|---|---|".to_string(),
    ];
    for domain in &a.domains {
        let rs: Vec<&Run> = runs.iter().filter(|r| &r.domain == domain).collect();
        let col = |f: &dyn Fn(&Run) -> f64| {
            let (m, s) = mean_sd(&rs.iter().map(|r| f(r)).collect::<Vec<_>>());
            format!("{:.1}% +- {:.1}", 100.0 * m, 100.0 * s)
        };
        let secs = |f: &dyn Fn(&Run) -> f64| mean_sd(&rs.iter().map(|r| f(r)).collect::<Vec<_>>()).0;
        md.push(format!(
            "| {domain} | {} | {} | {} | {} | {} | {:.0} / {:.0} / {:.0} |",
            rs.len(),
            col(&|r| r.source_only),
            col(&|r| r.daspot),
            col(&|r| r.daspot_source_on_target),
            col(&|r| r.ceiling),
            secs(&|r| r.seconds.0),
            secs(&|r| r.seconds.1),
            secs(&|r| r.seconds.2),
        ));
    }
    let md = md.join("\n") + "\n";
    print!("{md}");
    let json: Vec<String> = runs
        .iter()
        .map(|r| {
            let p = &r.report;
            format!(
                "{{\"domain\": \"{}\", \"seed\": {}, \"iterations\": {}, \"warm_start\": {}, \"normalize\": {}, \"shared_generator\": {}, \
                 \"cost_trains_embeddings\": {}, \"gamma_da\": {}, \"cost_weight\": {}, \"eta\": {}, \"lr\": {}, \
                 \"source_only\": {:.4}, \"daspot\": {:.4}, \"daspot_dx_on_target\": {:.4}, \"ceiling\": {:.4}, \
                 \"seconds\": [{:.1}, {:.1}, {:.1}], \"plan_cost\": {:.5}, \"unpaired_cost\": {:.5}, \
                 \"embedding_rms\": [{:.5}, {:.5}], \"source_ce\": {:.4}, \"pseudo_label_ce\": {:.4}, \
                 \"pair_agreement\": {:.4}, \"marginal_gap\": {:.4}}}",
                r.domain,
                r.seed,
                a.iterations,
                a.warm,
                a.normalize,
                a.shared,
                !a.frozen_cost,
                a.gamma_da,
                a.cost_weight,
                a.eta,
                a.lr,
                r.source_only,
                r.daspot,
                r.daspot_source_on_target,
                r.ceiling,
                r.seconds.0,
                r.seconds.1,
                r.seconds.2,
                p.cost,
                p.unpaired_cost,
                p.embedding_rms.0,
                p.embedding_rms.1,
                p.source_ce,
                p.pseudo_label_ce,
                p.pair_agreement,
                p.marginal_gap
            )
        })
        .collect();
    if let Some(prefix) = &a.out {
        std::fs::write(format!("{prefix}.json"), format!("[\n  {}\n]\n", json.join(",\n  "))).unwrap();
        std::fs::write(format!("{prefix}.md"), &md).unwrap();
    }
}
