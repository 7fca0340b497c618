//! SPOT's generators: a feed-forward push-forward of Z (section 3.3), or, for the
//! entropy-regularised problem (section 3.4), a neural ODE whose output density is known.

use tch::{Device, Kind, Tensor};

use super::SpotConfig;
use crate::neural::activation::Activation;
use crate::neural::mlp::Mlp;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::rng::Rng64;

/// Largest flow dimension D whose Jacobian is formed exactly (D backward passes per step);
/// beyond it Hutchinson's estimator with one Rademacher probe per step.
pub const EXACT_JACOBIAN_MAX_DIM: usize = 8;

/// The neural ODE dz/dt = xi(z, t), z(0) = Z ~ N(0, I_D), D the sum of the marginal dimensions,
/// integrated by `steps` explicit Euler steps z <- z + h xi(z, t). The thesis integrates the
/// continuous ODE and its log-density (Proposition 1: d log p / dt = -tr d xi / dz); here the
/// density is that of the discrete map the generator actually is: log p(G(Z)) = log N(Z) -
/// sum_k log |det(I + h J_k)|, exact where J is formed (D <= 8), and to first order in h with
/// Hutchinson's trace estimate beyond (h tr J, unbiased for the trace, as in FFJORD).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flow {
    pub steps: usize,
}

/// The generator G: one network per marginal, or one shared network whose output is split, or
/// one flow network (with `flow`).
pub struct Generator {
    pub nets: Vec<Mlp>,
    pub dims: Vec<usize>,
    pub latent_dim: usize,
    pub flow: Option<Flow>,
}

impl Generator {
    pub(super) fn new(cfg: &SpotConfig, dims: &[usize], rng: &mut Rng64, device: Device) -> Result<Generator> {
        let total: usize = dims.iter().sum();
        if let Some(e) = &cfg.entropy {
            let flow = Flow { steps: e.steps };
            limits::network("SPOT flow", total + 1, &cfg.generator_hidden, total)?;
            let net = Mlp::with_activation(total + 1, &cfg.generator_hidden, total, Activation::Silu, rng, device)?;
            // Start from the identity flow: the last layer at zero (small weights would do; zero
            // makes the first marginals exactly N(0, I) and the first log-density exact).
            tch::no_grad(|| -> Result<()> {
                let (w, b) = net.layers.last().ok_or_else(|| Error::internal("empty flow network"))?;
                let _ = w.shallow_clone().f_zero_()?;
                let _ = b.shallow_clone().f_zero_()?;
                Ok(())
            })?;
            return Ok(Generator { nets: vec![net], dims: dims.to_vec(), latent_dim: total, flow: Some(flow) });
        }
        let latent = cfg.latent_for(dims);
        let make = |out: usize, rng: &mut Rng64| -> Result<Mlp> {
            limits::network("SPOT generator", latent, &cfg.generator_hidden, out)?;
            Mlp::with_activation(latent, &cfg.generator_hidden, out, Activation::LeakyRelu, rng, device)
        };
        let nets = if cfg.shared_generator {
            vec![make(total, rng)?]
        } else {
            dims.iter().map(|&d| make(d, rng)).collect::<Result<_>>()?
        };
        Ok(Generator { nets, dims: dims.to_vec(), latent_dim: latent, flow: None })
    }

    /// One output block for all marginals (a shared network or a flow).
    pub fn shared(&self) -> bool {
        self.nets.len() == 1 && self.dims.len() > 1
    }

    fn split(&self, out: &Tensor) -> Result<Vec<Tensor>> {
        let sizes: Vec<i64> = self.dims.iter().map(|&d| d as i64).collect();
        Ok(out.f_split_with_sizes(&sizes, 1)?)
    }

    /// G(z) for z [n, latent], one [n, d_k] block per marginal.
    pub fn forward(&self, z: &Tensor) -> Result<Vec<Tensor>> {
        match self.flow {
            Some(flow) => {
                let mut x = z.shallow_clone();
                let h = 1.0 / flow.steps as f64;
                for k in 0..flow.steps {
                    x = x.f_add(&self.velocity(&x, k as f64 * h)?.f_mul_scalar(h)?)?;
                }
                self.split(&x)
            }
            None if self.shared() => self.split(&self.nets[0].forward(z)?),
            None => self.nets.iter().map(|n| n.forward(z)).collect(),
        }
    }

    pub(super) fn velocity(&self, x: &Tensor, t: f64) -> Result<Tensor> {
        let time = Tensor::f_full([x.size()[0], 1], t, (x.kind(), x.device()))?;
        self.nets[0].forward(&Tensor::f_cat(&[x, &time], 1)?)
    }

    /// G(z) and log p(G(z)) \[n\] for a flow generator, differentiable in the weights (the
    /// Jacobians are formed with create_graph). `rng` draws Hutchinson's probes when D > 8.
    pub fn forward_with_log_density(&self, z: &Tensor, rng: &mut Rng64) -> Result<(Vec<Tensor>, Tensor)> {
        let flow = self.flow.ok_or_else(|| Error::internal("log-density of a generator that is not a flow"))?;
        let (n, d) = (z.size()[0], self.latent_dim as i64);
        let h = 1.0 / flow.steps as f64;
        let log_normal = z
            .f_square()?
            .f_sum_dim_intlist(1, false, None)?
            .f_mul_scalar(-0.5)?
            .f_add_scalar(-0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln())?;
        let mut log_det = Tensor::f_zeros([n], (Kind::Float, z.device()))?;
        let mut x = z.f_detach()?.set_requires_grad(true);
        let eye = Tensor::f_eye(d, (Kind::Float, z.device()))?;
        for k in 0..flow.steps {
            let v = self.velocity(&x, k as f64 * h)?;
            if self.latent_dim <= EXACT_JACOBIAN_MAX_DIM {
                let mut rows = Vec::with_capacity(d as usize);
                for i in 0..d {
                    let g = Tensor::f_run_backward(&[v.f_select(1, i)?.f_sum(Kind::Float)?], &[&x], true, true)?;
                    rows.push(g.into_iter().next().ok_or_else(|| Error::internal("no Jacobian row"))?);
                }
                // [n, D, D] with row i = d v_i / dx.
                let jac = Tensor::f_stack(&rows, 1)?;
                let (_, log_abs) = Tensor::f_linalg_slogdet(&eye.f_add(&jac.f_mul_scalar(h)?)?)?;
                log_det = log_det.f_add(&log_abs)?;
            } else {
                let probe = rng.normal_tensor(&[n, d], Kind::Float, z.device())?.f_sign()?;
                let g = Tensor::f_run_backward(&[v.f_mul(&probe)?.f_sum(Kind::Float)?], &[&x], true, true)?;
                let vjp = g.into_iter().next().ok_or_else(|| Error::internal("no vector-Jacobian product"))?;
                log_det = log_det.f_add(&vjp.f_mul(&probe)?.f_sum_dim_intlist(1, false, None)?.f_mul_scalar(h)?)?;
            }
            x = x.f_add(&v.f_mul_scalar(h)?)?;
        }
        Ok((self.split(&x)?, log_normal.f_sub(&log_det)?))
    }

    pub fn parameters(&self) -> Vec<&Tensor> {
        self.nets.iter().flat_map(|n| n.parameters()).collect()
    }

    pub(super) fn detached_to(&self, device: Device) -> Result<Generator> {
        Ok(Generator {
            nets: self.nets.iter().map(|n| n.detached_to(device)).collect::<Result<_>>()?,
            dims: self.dims.clone(),
            latent_dim: self.latent_dim,
            flow: self.flow,
        })
    }
}
