//! Gaussian -> Swiss roll (paper Fig. 4) from Rust: SCONES with a trained and with an empirical
//! score against barycentric projection, sliced W2 of each to a fresh target sample.
//!
//! cargo run --release --example swiss_roll -- [key=value ...]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use scones::neural::barycentric::{self, BarycentricConfig};
use scones::neural::dual::{self, DualConfig};
use scones::neural::sampler::{Annealing, ChainInit, Sampler, SamplerConfig};
use scones::ot::measure::Empirical;
use scones::ot::{Divergence, Regularizer};
use scones::reference::toy::{self, Toy};
use scones::reference::{linalg, metrics};
use scones::runtime::progress;
use scones::score::{trained, EmpiricalScore, ScoreSource};
use tch::{Kind, Tensor};

fn pts(v: &[f64]) -> Tensor {
    Tensor::from_slice(v).view([-1, 2]).to_kind(Kind::Float)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: HashMap<String, String> =
        std::env::args().skip(1).filter_map(|a| a.split_once('=').map(|(k, v)| (k.into(), v.into()))).collect();
    let get = |k: &str, d: &str| args.get(k).cloned().unwrap_or_else(|| d.to_string());
    tch::set_num_threads(2);
    let n = 20_000;
    let x = toy::sample(Toy::Gaussian, n, 1)?;
    let y = toy::sample(Toy::SwissRoll, n, 2)?;
    let fresh = toy::sample(Toy::SwissRoll, 5000, 3)?;
    let x_eval = toy::sample(Toy::Gaussian, 5000, 4)?;
    let (xt, yt) = (pts(&x), pts(&y));

    let t = Instant::now();
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, 2.0)?);
    cfg.phi_hidden = vec![128, 128];
    cfg.psi_hidden = vec![128, 128];
    cfg.batch_mode = dual::BatchMode::AllPairs;
    cfg.optim.batch_size = 250;
    cfg.optim.iterations = get("dual_iters", "4000").parse()?;
    let (pot, _) = dual::train(
        &cfg,
        &mut Empirical::new(&xt, cfg.optim.device)?,
        &mut Empirical::new(&yt, cfg.optim.device)?,
        &mut progress::ignore,
    )?;
    println!("dual {:.1}s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let mut bcfg = BarycentricConfig { hidden: vec![128, 128], ..Default::default() };
    bcfg.optim.batch_size = 250;
    bcfg.optim.iterations = get("bary_iters", "3000").parse()?;
    let (bmap, _) = barycentric::train(
        &bcfg,
        &pot,
        &mut Empirical::new(&xt, bcfg.optim.device)?,
        &mut Empirical::new(&yt, bcfg.optim.device)?,
        &mut progress::ignore,
    )?;
    let tb = linalg::to_vec(&bmap.map(&pts(&x_eval))?)?;
    println!("barycentric {:.1}s  SW2 {:.4}", t.elapsed().as_secs_f64(), metrics::sliced_w2(&tb, &fresh, 2, 200, 0)?);
    println!(
        "floor (two target samples) SW2 {:.4}",
        metrics::sliced_w2(&toy::sample(Toy::SwissRoll, 5000, 9)?, &fresh, 2, 200, 0)?
    );

    let t = Instant::now();
    let mut scfg = trained::ScoreTrainConfig::default();
    scfg.optim.iterations = get("score_iters", "5000").parse()?;
    let (ts, st) = trained::train(&scfg, &mut Empirical::new(&yt, scfg.optim.device)?, &mut progress::ignore)?;
    println!("score training {:.1}s loss {:.4} levels {:?}", t.elapsed().as_secs_f64(), st.loss, ts.noise_levels());
    let empirical = EmpiricalScore::new(&yt, get("h", "0.05").parse()?)?;
    let sources: Vec<(&str, Arc<dyn ScoreSource>)> =
        vec![("trained", Arc::new(ts)), ("empirical", Arc::new(empirical))];
    for (name, score) in sources {
        for compat in [false, true] {
            let t = Instant::now();
            let mut c = SamplerConfig::new();
            c.annealing = Some(Annealing {
                sigma_first: get("s1", "1.0").parse()?,
                sigma_last: get("sN", "0.01").parse()?,
                levels: get("levels", "10").parse()?,
            });
            c.steps_per_level = get("T", "100").parse()?;
            c.step_size = get("eps", "2e-5").parse()?;
            c.denoise = true;
            c.use_compatibility = compat;
            if get("init", "noise") == "map" {
                c.init = ChainInit::map(&bmap)?;
            }
            let mut s = Sampler::new(&pot, score.clone(), c)?;
            let (out, _) = s.sample(&pts(&x_eval), &mut progress::ignore)?;
            let o = linalg::to_vec(&out)?;
            println!(
                "{name} compat={compat}: SW2 {:.4} ({:.1}s)",
                metrics::sliced_w2(&o, &fresh, 2, 200, 0)?,
                t.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
