//! Digit super-resolution with SCONES, shared by `examples/digits` and `tests/digits_quick.rs`
//! (which includes this file by path, so the test runs the example's own pipeline): the data
//! written by scripts/prepare_digits.py, training (target score, Algorithm 1 duals, barycentric
//! maps), Algorithm 2 samples for the held-out sources, and the metrics (pixel-space Frechet
//! distance to held-out target digits, class agreement under a logistic-regression classifier).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{s, Array2, ArrayView2};
use scones::api::Cost;
use scones::api::{metrics, Divergence};
use scones::{Barycentric, ChainStart, Dual, DualOptions, Measure, Sampler, SamplerOptions, Score, TrainOptions};

pub type Res<T> = Result<T, Box<dyn Error>>;

pub const SIDE: usize = 8;
pub const D: usize = SIDE * SIDE;
/// Digit classes 0..9.
pub const CLASSES: usize = 10;
/// Largest matrix the manifest may declare (the data has 400 x 64); checked before allocating.
const MAX_VALUES: usize = 1 << 24;

/// The prepared data set (see scripts/prepare_digits.py for the split and the pixel scale).
pub struct Digits {
    pub source_low: Array2<f64>,
    pub target_high: Array2<f64>,
    pub test_low: Array2<f64>,
    pub test_high: Array2<f64>,
    pub test_label: Vec<usize>,
    pub heldout_high: Array2<f64>,
    coef: Array2<f64>,
    intercept: Vec<f64>,
}

/// The folder the data is prepared in when none is given: target/digits of this checkout.
pub fn default_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("digits")
}

/// Runs scripts/prepare_digits.sh into `dir` unless its manifest exists (the script writes the
/// manifest last, so its presence means complete data).
pub fn prepare(dir: &Path) -> Res<()> {
    if dir.join("manifest.txt").is_file() {
        return Ok(());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join("prepare_digits.sh");
    let status = std::process::Command::new(&script).arg(dir).status()?;
    if !status.success() {
        return Err(format!("{} {} failed ({status})", script.display(), dir.display()).into());
    }
    Ok(())
}

pub fn read_matrix(dir: &Path, manifest: &str, name: &str, cols: usize) -> Res<Array2<f64>> {
    let line = manifest
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.split_whitespace().next() == Some(name))
        .ok_or_else(|| format!("manifest has no matrix '{name}'"))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() != 4 {
        return Err(format!("manifest line '{line}': expected 'name rows cols file'").into());
    }
    let (rows, c): (usize, usize) = (f[1].parse()?, f[2].parse()?);
    let n = rows.checked_mul(c).filter(|&n| n > 0 && n <= MAX_VALUES && c == cols);
    let n = n.ok_or_else(|| {
        format!("'{name}' is declared {rows} x {c}; expected 1..{MAX_VALUES} values of {cols} columns")
    })?;
    let path = dir.join(f[3]);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() != 4 * n {
        return Err(format!(
            "{} holds {} bytes, expected {rows} x {c} float32 = {}",
            path.display(),
            bytes.len(),
            4 * n
        )
        .into());
    }
    let v: Vec<f64> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64).collect();
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(format!("{}: value {i} is not finite", path.display()).into());
    }
    Ok(Array2::from_shape_vec((rows, c), v)?)
}

impl Digits {
    pub fn load(dir: &Path) -> Res<Digits> {
        let manifest = std::fs::read_to_string(dir.join("manifest.txt"))
            .map_err(|e| format!("{}: {e} (run scripts/prepare_digits.sh DIR)", dir.join("manifest.txt").display()))?;
        let m = |name: &str, cols: usize| read_matrix(dir, &manifest, name, cols);
        let labels = m("test_label", 1)?;
        let test_label: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
        if labels.iter().any(|&l| l < 0.0 || l.fract() != 0.0 || l as usize >= CLASSES) {
            return Err("test_label holds values outside 0..9".into());
        }
        let digits = Digits {
            source_low: m("source_low", D)?,
            target_high: m("target_high", D)?,
            test_low: m("test_low", D)?,
            test_high: m("test_high", D)?,
            test_label,
            heldout_high: m("heldout_high", D)?,
            coef: m("classifier_coef", D)?,
            intercept: m("classifier_intercept", CLASSES)?.iter().copied().collect(),
        };
        if digits.coef.nrows() != CLASSES || digits.test_low.nrows() != digits.test_label.len() {
            return Err("classifier or test labels do not match the test images".into());
        }
        Ok(digits)
    }

    /// The logistic regression's class of each row: argmax(coef z + intercept).
    pub fn classify(&self, images: ArrayView2<'_, f64>) -> Vec<usize> {
        let logits = images.dot(&self.coef.t());
        logits
            .rows()
            .into_iter()
            .map(|r| {
                let scored = r.iter().zip(&self.intercept).map(|(a, b)| a + b).enumerate();
                scored.fold((0, f64::NEG_INFINITY), |best, (c, v)| if v > best.1 { (c, v) } else { best }).0
            })
            .collect()
    }

    /// The fraction of `images` (K rows per test source, source i in rows i K .. i K + K - 1)
    /// classified as their source's true digit.
    pub fn agreement(&self, images: &Array2<f64>, k: usize) -> f64 {
        let predicted = self.classify(images.view());
        let hits = predicted.iter().enumerate().filter(|(r, &c)| c == self.test_label[r / k]).count();
        hits as f64 / predicted.len() as f64
    }

    /// The Frechet distance from the held-out target digits, averaged over the K sets that hold
    /// one image per source (each set has as many rows as the held-out targets, so every method
    /// carries the same finite-sample bias).
    pub fn frechet(&self, images: &Array2<f64>, k: usize) -> Res<f64> {
        let mut sum = 0.0;
        for j in 0..k {
            sum += metrics::frechet_distance(images.slice(s![j..;k, ..]), &self.heldout_high)?;
        }
        Ok(sum / k as f64)
    }
}

/// What to run: sizes, iterations and sampler settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub divergences: Vec<Divergence>,
    pub lambdas: Vec<f64>,
    /// SCONES samples per test source.
    pub k: usize,
    /// Sample with the library's own score network, trained on the target half with its
    /// defaults (score_iterations aside).
    pub library_score: bool,
    /// Also (or only) sample with this TorchScript score module (scripts/train_digits_score.py);
    /// both scores share the duals and maps, so their rows differ only by the score.
    pub torchscript: Option<PathBuf>,
    pub score_iterations: usize,
    /// A file for the library's score network: loaded if it exists, else written after training
    /// (so that sampler experiments do not retrain it).
    pub score_cache: Option<PathBuf>,
    pub dual_iterations: usize,
    /// Dual and map minibatch size (all pairs of it each iteration).
    pub batch: usize,
    /// Hidden widths of phi, psi and the barycentric map.
    pub hidden: Vec<usize>,
    pub map_iterations: usize,
    pub sigma_first: f64,
    pub sigma_last: f64,
    pub levels: usize,
    pub steps: usize,
    pub step_size: f64,
    /// Where chains start: "noise" (Algorithm 2), "source" (the low-resolution image) or "map"
    /// (the barycentric output).
    pub start: String,
    pub threads: usize,
    pub seed: u64,
}

impl Config {
    /// The table's run: KL and chi-square at lambda = 0.005, 0.01, 0.05 (the mean squared cost
    /// of a low-resolution test digit to its nearest target digit averages 0.045, to a random one
    /// 0.11, so these span nearly deterministic to digit-mixing couplings); a preset sized for
    /// 400 points a side: phi, psi and the map with two hidden layers of 128, all-pairs batches of
    /// 256, 2000 dual and 1500 map iterations (the library's 5000 of 500 at width 256 took ~5 min
    /// per coupling on 2 shared cores); the library's defaults for the score network; Algorithm 2
    /// from noise, sigma 3 -> 0.01 over 10 levels x 60 steps at 2e-5, 4 samples per source.
    pub fn full() -> Config {
        Config {
            divergences: vec![Divergence::Kl, Divergence::ChiSquare],
            lambdas: vec![0.005, 0.01, 0.05],
            k: 4,
            library_score: true,
            torchscript: None,
            score_iterations: 5000,
            score_cache: None,
            dual_iterations: 2000,
            batch: 256,
            hidden: vec![128, 128],
            map_iterations: 1500,
            sigma_first: 3.0,
            sigma_last: 0.01,
            levels: 10,
            steps: 60,
            step_size: 2e-5,
            start: "noise".into(),
            threads: 2,
            seed: 0,
        }
    }

    /// Seconds on 2 cores: KL at lambda = 0.01 only, short training and sampling.
    pub fn quick() -> Config {
        Config {
            divergences: vec![Divergence::Kl],
            lambdas: vec![0.01],
            k: 2,
            score_iterations: 250,
            dual_iterations: 400,
            map_iterations: 300,
            levels: 8,
            steps: 20,
            step_size: 5e-5,
            ..Config::full()
        }
    }
}
/// One row of the table: a method's images for the test sources and their metrics.
pub struct Row {
    pub method: String,
    pub divergence: Option<Divergence>,
    pub lambda: Option<f64>,
    pub frechet: f64,
    pub agreement: f64,
    pub seconds: f64,
    /// K rows per test source (K = 1 for deterministic methods).
    pub images: Array2<f64>,
    pub k: usize,
}

impl Row {
    fn new(
        d: &Digits,
        method: &str,
        at: Option<(Divergence, f64)>,
        images: Array2<f64>,
        k: usize,
        t: Instant,
    ) -> Res<Row> {
        Ok(Row {
            method: method.into(),
            divergence: at.map(|a| a.0),
            lambda: at.map(|a| a.1),
            frechet: d.frechet(&images, k)?,
            agreement: d.agreement(&images, k),
            seconds: t.elapsed().as_secs_f64(),
            images,
            k,
        })
    }
}

/// Sets one field from `key=value` (for experiments from the command line); lists are
/// comma-separated.
pub fn set(cfg: &mut Config, assignment: &str) -> Res<()> {
    let (key, v) = assignment.split_once('=').ok_or_else(|| format!("expected key=value, got '{assignment}'"))?;
    match key {
        "lambdas" => cfg.lambdas = v.split(',').map(str::parse).collect::<Result<_, _>>()?,
        "divergences" => {
            cfg.divergences = v.split(',').map(Divergence::from_name).collect::<Result<_, _>>()?;
        }
        "k" => cfg.k = v.parse()?,
        "score_iterations" => cfg.score_iterations = v.parse()?,
        "score_cache" => cfg.score_cache = Some(v.into()),
        "dual_iterations" => cfg.dual_iterations = v.parse()?,
        "batch" => cfg.batch = v.parse()?,
        "hidden" => cfg.hidden = v.split(',').map(str::parse).collect::<Result<_, _>>()?,
        "map_iterations" => cfg.map_iterations = v.parse()?,
        "sigma_first" => cfg.sigma_first = v.parse()?,
        "sigma_last" => cfg.sigma_last = v.parse()?,
        "levels" => cfg.levels = v.parse()?,
        "steps" => cfg.steps = v.parse()?,
        "step_size" => cfg.step_size = v.parse()?,
        "start" => cfg.start = v.into(),
        "threads" => cfg.threads = v.parse()?,
        "seed" => cfg.seed = v.parse()?,
        _ => return Err(format!("unknown setting '{key}'").into()),
    }
    Ok(())
}

pub fn divergence_name(d: Divergence) -> &'static str {
    match d {
        Divergence::Kl => "KL",
        Divergence::ChiSquare => "chi-square",
        _ => "other",
    }
}

/// The whole comparison: reference rows (true images, the blurry sources themselves, the target
/// score alone), then barycentric projection and SCONES (with each score) at each divergence and
/// lambda.
pub fn run(d: &Digits, cfg: &Config, log: &mut dyn FnMut(&str)) -> Res<Vec<Row>> {
    let mut scores: Vec<(&str, Score)> = Vec::new();
    if cfg.library_score {
        let t = Instant::now();
        let cached = cfg.score_cache.as_ref().filter(|p| p.is_file());
        let score = match cached {
            Some(path) => Score::load(path)?,
            None => {
                let options = TrainOptions::new().iterations(cfg.score_iterations).threads(cfg.threads).seed(cfg.seed);
                let score = Score::train(&mut Measure::points(&d.target_high)?, &options)?;
                if let Some(path) = &cfg.score_cache {
                    score.save(path)?;
                }
                score
            }
        };
        log(&format!("library score: {:.1} s", t.elapsed().as_secs_f64()));
        scores.push(("", score));
    }
    if let Some(path) = &cfg.torchscript {
        scores.push((" (TorchScript score)", Score::torchscript(path, D)?));
    }
    if scores.is_empty() {
        return Err("no score to sample with: enable the library score or give a TorchScript module".into());
    }
    let mut rows = vec![
        Row::new(d, "true 8x8 images (floor)", None, d.test_high.clone(), 1, Instant::now())?,
        Row::new(d, "low-resolution sources", None, d.test_low.clone(), 1, Instant::now())?,
    ];
    let sampling = SamplerOptions::new()
        .annealing(cfg.sigma_first, cfg.sigma_last, cfg.levels)
        .steps(cfg.steps, cfg.step_size)
        .denoise(true)
        .samples_per_source(cfg.k)
        .threads(cfg.threads);
    for (i, &div) in cfg.divergences.iter().enumerate() {
        for (j, &lambda) in cfg.lambdas.iter().enumerate() {
            let seed = cfg.seed + 1 + (i * cfg.lambdas.len() + j) as u64;
            let t = Instant::now();
            let options = DualOptions::new()
                .regularizer(div, lambda)
                .cost(Cost::MeanSqEuclidean)
                .iterations(cfg.dual_iterations)
                .batch(cfg.batch, scones::api::BatchMode::AllPairs)
                .hidden(&cfg.hidden)
                .threads(cfg.threads)
                .seed(seed);
            let dual = Dual::train(&d.source_low, &d.target_high, &options)?;
            let report = dual.report().map(|r| r.mean_compatibility).unwrap_or(f64::NAN);
            log(&format!(
                "{} lambda {lambda}: dual {:.1} s, E[M] {report:.3}",
                divergence_name(div),
                t.elapsed().as_secs_f64()
            ));
            for (tag, score) in scores.iter().filter(|_| i == 0 && j == 0) {
                // The target score alone, as the paper's reference point: the same chains with the
                // compatibility term switched off (the dual only fixes the dimensions).
                let t = Instant::now();
                let mut alone = Sampler::new(&dual, score, &sampling.clone().compatibility(false).seed(seed))?;
                let y = alone.sample(&d.test_low)?;
                rows.push(Row::new(d, &format!("target score alone{tag}"), None, y, cfg.k, t)?);
            }
            let t = Instant::now();
            let (mut src, mut tgt) = (Measure::points(&d.source_low)?, Measure::points(&d.target_high)?);
            let map_options = TrainOptions::new()
                .iterations(cfg.map_iterations)
                .batch_size(cfg.batch)
                .hidden(&cfg.hidden)
                .threads(cfg.threads)
                .seed(seed);
            let map = Barycentric::train(&dual, &mut src, &mut tgt, &map_options)?;
            rows.push(Row::new(d, "barycentric projection", Some((div, lambda)), map.map(&d.test_low)?, 1, t)?);
            let start = match cfg.start.as_str() {
                "noise" => ChainStart::Noise,
                "source" => ChainStart::Source,
                "map" => ChainStart::Map(map.clone()),
                other => return Err(format!("unknown chain start '{other}'").into()),
            };
            for (tag, score) in &scores {
                let t = Instant::now();
                let mut sampler = Sampler::new(&dual, score, &sampling.clone().chain_start(start.clone()).seed(seed))?;
                let y = sampler.sample(&d.test_low)?;
                rows.push(Row::new(d, &format!("SCONES{tag}"), Some((div, lambda)), y, cfg.k, t)?);
            }
            for r in &rows[rows.len() - 1 - scores.len()..] {
                log(&format!("  {}: FD {:.3}, agreement {:.3} ({:.1} s)", r.method, r.frechet, r.agreement, r.seconds));
            }
        }
    }
    Ok(rows)
}
