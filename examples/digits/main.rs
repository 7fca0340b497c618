//! Digit super-resolution, the SCONES paper's Super-res. task (Table 1, Fig. 1) in miniature:
//! 8 x 8 UCI digits whose sources are 2x-downsampled (4 x 4 block means shown at 8 x 8),
//! transported to sharp digits under the mean squared cost with KL and chi-square
//! regularization. Writes a table (JSON, and markdown on stdout) of the Frechet distance to
//! held-out digits and the class agreement, and a PNG grid of sources, barycentric outputs and
//! SCONES samples.
//!
//! cargo run --release --example digits -- [--quick] [--score library|torchscript:PATH|both:PATH]
//!     [--data DIR] [--out DIR] [--name STEM] [--figure kl|chi-square] [--set key=value ...]
//!
//! The data is prepared on first use (scripts/prepare_digits.sh into target/digits). `--score
//! both:PATH` samples every coupling with the library's trained score and with the TorchScript
//! module at PATH (scripts/train_digits_score.py), sharing the duals and maps between them.

#[path = "pipeline.rs"]
mod pipeline;

use std::path::PathBuf;
use std::time::Instant;

use pipeline::{divergence_name, Config, Digits, Res, Row, SIDE};
use scones::api::Divergence;
use scones::plot::ImageGrid;

/// Samples per source shown in the figure for each lambda.
const SHOWN: usize = 4;

struct Args {
    quick: bool,
    data: PathBuf,
    out: PathBuf,
    name: String,
    library_score: bool,
    torchscript: Option<PathBuf>,
    figure: Divergence,
    settings: Vec<String>,
}

fn parse() -> Res<Args> {
    let mut a = Args {
        quick: false,
        data: pipeline::default_data_dir(),
        out: PathBuf::from("docs/results"),
        name: "digits".into(),
        library_score: true,
        torchscript: None,
        figure: Divergence::ChiSquare,
        settings: Vec::new(),
    };
    let mut out_given = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--quick" => a.quick = true,
            "--data" => a.data = value()?.into(),
            "--out" => (a.out, out_given) = (value()?.into(), true),
            "--name" => a.name = value()?,
            "--set" => a.settings.push(value()?),
            "--score" => {
                let v = value()?;
                (a.library_score, a.torchscript) = match v.split_once(':') {
                    Some(("torchscript", path)) => (false, Some(path.into())),
                    Some(("both", path)) => (true, Some(path.into())),
                    None if v == "library" => (true, None),
                    _ => return Err(format!("--score takes library, torchscript:PATH or both:PATH, got '{v}'").into()),
                }
            }
            "--figure" => {
                a.figure = match value()?.as_str() {
                    "kl" => Divergence::Kl,
                    "chi-square" => Divergence::ChiSquare,
                    v => return Err(format!("--figure takes kl or chi-square, got '{v}'").into()),
                }
            }
            _ => return Err(format!("unknown argument '{flag}' (see the header of examples/digits/main.rs)").into()),
        }
    }
    if a.quick && !out_given {
        a.out = pipeline::default_data_dir().with_file_name("digits-quick");
    }
    Ok(a)
}

/// Rows: the first test source of each digit class. Columns: the low-resolution source | per
/// lambda of the figure's divergence, the barycentric output and SCONES samples | the true image.
fn figure(d: &Digits, rows: &[Row], div: Divergence, path: &std::path::Path) -> Res<()> {
    let picks: Vec<usize> = (0..pipeline::CLASSES).filter_map(|c| d.test_label.iter().position(|&l| l == c)).collect();
    // Each barycentric row is followed by its SCONES rows, the first score's first.
    let groups: Vec<(&Row, &Row)> = rows
        .iter()
        .zip(rows.iter().skip(1))
        .filter(|(b, s)| {
            b.method == "barycentric projection" && s.method.starts_with("SCONES") && b.divergence == Some(div)
        })
        .collect();
    if groups.is_empty() {
        return Err(format!("no {} results to draw", divergence_name(div)).into());
    }
    let shown = SHOWN.min(groups[0].1.k);
    let cols = 2 + groups.len() * (1 + shown);
    let mut grid = ImageGrid::new(picks.len(), cols, SIDE, SIDE, 4)?;
    grid.separate_after(0)?;
    for g in 0..groups.len() {
        grid.separate_after(g * (1 + shown) + shown + 1)?;
    }
    for (r, &i) in picks.iter().enumerate() {
        let px = |m: &ndarray::Array2<f64>, row: usize| m.row(row).to_vec();
        grid.set(r, 0, &px(&d.test_low, i), 0.0, 1.0)?;
        for (g, (bary, scones)) in groups.iter().enumerate() {
            let c0 = 1 + g * (1 + shown);
            grid.set(r, c0, &px(&bary.images, i), 0.0, 1.0)?;
            for j in 0..shown {
                grid.set(r, c0 + 1 + j, &px(&scones.images, i * scones.k + j), 0.0, 1.0)?;
            }
        }
        grid.set(r, cols - 1, &px(&d.test_high, i), 0.0, 1.0)?;
    }
    grid.save_png(path)?;
    Ok(())
}

fn json(rows: &[Row], cfg: &Config, args: &Args, seconds: f64) -> serde_json::Value {
    let command: Vec<String> = std::env::args().skip(1).collect();
    serde_json::json!({
        "command": format!("cargo run --release --example digits -- {}", command.join(" ")).trim_end(),
        "config": format!("{cfg:?}"),
        "data": args.data.display().to_string(),
        "metrics": "frechet: pixel-space Frechet distance to the 300 held-out target digits, averaged over the \
                    K one-sample-per-source sets; class_agreement: fraction of outputs the logistic \
                    regression classifies as the source's true digit",
        "total_seconds": seconds,
        "rows": rows.iter().map(|r| serde_json::json!({
            "method": r.method,
            "divergence": r.divergence.map(divergence_name),
            "lambda": r.lambda,
            "frechet": r.frechet,
            "class_agreement": r.agreement,
            "samples_per_source": r.k,
            "seconds": r.seconds,
        })).collect::<Vec<_>>(),
    })
}

fn markdown(rows: &[Row]) -> String {
    let mut s = String::from("| method | divergence | lambda | Frechet distance | class agreement | seconds |\n");
    s += "|---|---|---|---|---|---|\n";
    for r in rows {
        let div = r.divergence.map_or("", divergence_name);
        let lambda = r.lambda.map_or(String::new(), |l| l.to_string());
        s += &format!(
            "| {} | {div} | {lambda} | {:.3} | {:.3} | {:.1} |\n",
            r.method, r.frechet, r.agreement, r.seconds
        );
    }
    s
}

fn main() -> Res<()> {
    let args = parse()?;
    let t = Instant::now();
    pipeline::prepare(&args.data)?;
    let d = Digits::load(&args.data)?;
    let mut cfg = if args.quick { Config::quick() } else { Config::full() };
    (cfg.library_score, cfg.torchscript) = (args.library_score, args.torchscript.clone());
    for s in &args.settings {
        pipeline::set(&mut cfg, s)?;
    }
    let rows = pipeline::run(&d, &cfg, &mut |line| eprintln!("{line}"))?;
    let seconds = t.elapsed().as_secs_f64();
    std::fs::create_dir_all(&args.out)?;
    let png = args.out.join(format!("{}.png", args.name));
    // The quick run has KL only.
    let shown = if cfg.divergences.contains(&args.figure) { args.figure } else { cfg.divergences[0] };
    figure(&d, &rows, shown, &png)?;
    let path = args.out.join(format!("{}.json", args.name));
    std::fs::write(&path, serde_json::to_string_pretty(&json(&rows, &cfg, &args, seconds))? + "\n")?;
    println!("{}", markdown(&rows));
    println!("total {seconds:.1} s; wrote {} and {}", path.display(), png.display());
    Ok(())
}
