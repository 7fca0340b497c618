//! Algorithm 3 of the thesis' chapter 3: alternating stochastic gradient steps on (3.7).

use tch::{Kind, Tensor};

use super::critic::Critic;
use super::generator::Generator;
use super::{plan_cost, SpotConfig, SpotModel, MAX_MARGINALS};
use crate::neural::optim::{run_loop_with_marginals, Adam, TrainStats};
use crate::ot::measure::Measure;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::progress::{Observer, Phase};
use crate::runtime::rng::Rng64;

/// Summary of a SPOT training run.
#[derive(Clone, Debug)]
pub struct SpotReport {
    pub stats: TrainStats,
    /// The batch plan cost E c(G(z)) averaged over the last report interval.
    pub cost: f64,
    /// The critics' summed gap E phi(G(z)) - E phi(x) over the same interval: small when the
    /// generated marginals match the data.
    pub marginal_gap: f64,
    /// The penalty weight used (chosen from the data when the configuration's eta is 0).
    pub eta: f64,
}

/// Trains G and the critics on minibatches of the `marginals` (two for a transport plan, up to
/// [`MAX_MARGINALS`] for the multi-marginal problem of section 3.3).
pub fn train(
    cfg: &SpotConfig,
    marginals: &mut [&mut dyn Measure],
    observer: Observer,
) -> Result<(SpotModel, SpotReport)> {
    cfg.validate()?;
    let m = marginals.len();
    if !(2..=MAX_MARGINALS).contains(&m) {
        return Err(Error::invalid(format!("SPOT needs 2 to {MAX_MARGINALS} marginals, got {m}")));
    }
    let dims: Vec<usize> = marginals.iter().map(|mu| mu.dim()).collect();
    for k in 1..m {
        cfg.cost.check_dims(dims[0], dims[k])?;
    }
    for &d in &dims {
        limits::network("SPOT critic", d, &cfg.critic_hidden, 1)?;
    }
    let o = &cfg.optim;
    let device = o.device;
    let n = o.batch_size;
    // Weights first, then independent streams for data and latent draws, so that changing one
    // network's size does not reshuffle the minibatches.
    let mut rng = Rng64::new(o.seed);
    let generator = Generator::new(cfg, &dims, &mut rng, device)?;
    let mut critics =
        dims.iter().map(|&d| Critic::new(d, &cfg.critic_hidden, &mut rng, device)).collect::<Result<Vec<_>>>()?;
    let (mut data_rng, mut latent_rng) = (rng.fork(), rng.fork());
    let mut ema = if cfg.generator_ema > 0.0 { Some(generator.detached_to(device)?) } else { None };

    let g_params = generator.parameters();
    let mut g_adam = Adam::new(&g_params, o.beta1, o.beta2)?;
    let c_params: Vec<Tensor> = critics.iter().flat_map(|c| c.parameters()).map(|p| p.shallow_clone()).collect();
    let c_refs: Vec<&Tensor> = c_params.iter().collect();
    let mut c_adam = Adam::new(&c_refs, o.beta1, o.beta2)?;
    let latent = generator.latent_dim as i64;
    let draw_z = |rng: &mut Rng64| rng.normal_tensor(&[n as i64, latent], Kind::Float, device);

    let eta = {
        let mut probe_rng = Rng64::new(o.seed ^ 0x5107);
        let probe = marginals.iter_mut().map(|mu| mu.sample(n, &mut probe_rng, device)).collect::<Result<Vec<_>>>()?;
        tch::no_grad(|| cfg.effective_eta(&probe))?
    };
    let stats = run_loop_with_marginals(o, Phase::SpotTraining, "SPOT training", observer, |it, lr| {
        let mut gap = 0.0;
        for _ in 0..cfg.n_critic {
            let mut data = Vec::with_capacity(m);
            for mu in marginals.iter_mut() {
                data.push(mu.sample(n, &mut data_rng, device)?);
            }
            let generated = tch::no_grad(|| generator.forward(&draw_z(&mut latent_rng)?))?;
            // Ascent on E phi(G) - E phi(x) for every critic at once: descent on its negative.
            let mut loss: Option<Tensor> = None;
            let mut step_gap = Tensor::f_zeros([], (Kind::Float, device))?;
            for ((c, x), g) in critics.iter_mut().zip(&data).zip(&generated) {
                // One pass over [G(z); x]: the power iteration and the layer normalisation are
                // done once per step, not once per half.
                let values = c.forward(&Tensor::f_cat(&[g, x], 0)?, true)?;
                let (vg, vx) = (values.f_narrow(0, 0, n as i64)?, values.f_narrow(0, n as i64, n as i64)?);
                let term = vg.f_mean(Kind::Float)?.f_sub(&vx.f_mean(Kind::Float)?)?;
                step_gap = step_gap.f_add(&term.f_detach()?)?;
                loss = Some(match loss {
                    None => term.f_neg()?,
                    Some(l) => l.f_sub(&term)?,
                });
            }
            loss.ok_or_else(|| Error::internal("no critics"))?.f_backward()?;
            c_adam.step(&c_refs, lr)?;
            gap = step_gap.f_double_value(&[])?;
        }
        // Descent on E c(G(z)) + eta sum_k E phi_k(G_k(z)) (+ lambda E log p(G(z)) with
        // entropy), through the frozen critics.
        let z = draw_z(&mut latent_rng)?;
        let (generated, log_density) = match cfg.entropy {
            Some(_) => {
                let (g, lp) = generator.forward_with_log_density(&z, &mut latent_rng)?;
                (g, Some(lp))
            }
            None => (generator.forward(&z)?, None),
        };
        let cost = plan_cost(cfg.cost, &generated)?.f_mean(Kind::Float)?;
        let mut penalty = Tensor::f_zeros([], (Kind::Float, device))?;
        for (c, g) in critics.iter_mut().zip(&generated) {
            penalty = penalty.f_add(&c.forward_frozen(g)?.f_mean(Kind::Float)?)?;
        }
        let mut objective = cost.f_add(&penalty.f_mul_scalar(eta)?)?;
        if let (Some(e), Some(lp)) = (cfg.entropy, &log_density) {
            objective = objective.f_add(&lp.f_mean(Kind::Float)?.f_mul_scalar(e.lambda)?)?;
        }
        objective.f_backward()?;
        g_adam.step(&g_params, lr)?;
        if let Some(e) = ema.as_mut() {
            // Warm-up (t + 1) / (t + 10) as in TensorFlow's moving averages: the average never
            // reaches back to the initial weights, and covers about the last tenth of the run
            // until the configured decay takes over.
            let decay = cfg.generator_ema.min((it as f64 + 1.0) / (it as f64 + 10.0));
            average_into(e, &generator, 1.0 - decay)?;
        }
        Ok((cost.f_double_value(&[])?, gap))
    })?;
    let final_generator = match ema {
        Some(e) => e,
        None => generator.detached_to(device)?,
    };
    let report = SpotReport { cost: stats.loss, marginal_gap: stats.marginal_error, eta, stats };
    Ok((SpotModel { generator: final_generator, cost: cfg.cost, device }, report))
}

/// ema <- ema + weight (current - ema), parameter by parameter.
fn average_into(ema: &mut Generator, current: &Generator, weight: f64) -> Result<()> {
    tch::no_grad(|| -> Result<()> {
        for (e, c) in ema.parameters().into_iter().zip(current.parameters()) {
            let mut e = e.shallow_clone();
            let _ = e.f_lerp_(&c.f_detach()?, weight)?;
        }
        Ok(())
    })
}
