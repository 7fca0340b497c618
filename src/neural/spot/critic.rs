//! The 1-Lipschitz critics phi_X, phi_Y of SPOT (thesis eq. 3.7): Leaky-ReLU networks whose
//! every weight matrix is spectrally normalised (Miyato et al. 2018), W / sigma(W) with sigma the
//! largest singular value. With 1-Lipschitz activations the composition is at most 1-Lipschitz,
//! so E phi(G(z)) - E phi(x) estimates (from below) the Wasserstein-1 distance between the
//! generated and the given marginal, the penalty that pushes G's marginals onto the data.

use tch::{Device, Kind, Tensor};

use crate::neural::activation::Activation;
use crate::neural::mlp::Mlp;
use crate::runtime::error::Result;
use crate::runtime::rng::Rng64;

/// sigma(W) by power iteration from a persistent left vector u: one step per update, as the
/// thesis and Miyato et al. do (u changes little between optimizer steps, so one step keeps up).
pub struct SpectralNorm {
    u: Tensor,
}

fn unit(v: &Tensor) -> Result<Tensor> {
    Ok(v.f_div(&v.f_norm()?.f_clamp_min(1e-12)?)?)
}

impl SpectralNorm {
    /// For a weight with `rows` rows, u drawn from the seeded stream.
    pub fn new(rows: usize, rng: &mut Rng64, device: Device) -> Result<SpectralNorm> {
        let u = unit(&rng.normal_tensor(&[rows as i64], Kind::Float, device)?)?;
        Ok(SpectralNorm { u })
    }

    /// W / sigma(W). With `update`, one power-iteration step first moves u towards W's top left
    /// singular vector. u and v are constants for autograd and sigma = u^T W v carries W's
    /// gradient, as in torch.nn.utils.spectral_norm.
    pub fn normalize(&mut self, w: &Tensor, update: bool) -> Result<Tensor> {
        let (u, v) = tch::no_grad(|| -> Result<(Tensor, Tensor)> {
            let wd = w.f_detach()?;
            let v = unit(&wd.f_transpose(0, 1)?.f_mv(&self.u)?)?;
            let u = if update { unit(&wd.f_mv(&v)?)? } else { self.u.shallow_clone() };
            Ok((u, v))
        })?;
        let sigma = u.f_dot(&w.f_mv(&v)?)?;
        if update {
            self.u = u;
        }
        Ok(w.f_div(&sigma)?)
    }

    /// The current estimate u^T W v of the largest singular value (no update, no gradient).
    pub fn sigma(&self, w: &Tensor) -> Result<f64> {
        tch::no_grad(|| {
            let wd = w.f_detach()?;
            let v = unit(&wd.f_transpose(0, 1)?.f_mv(&self.u)?)?;
            Ok(self.u.f_dot(&wd.f_mv(&v)?)?.f_double_value(&[])?)
        })
    }
}

/// A scalar critic R^d -> R with spectrally normalised layers.
pub struct Critic {
    pub net: Mlp,
    norms: Vec<SpectralNorm>,
}

impl Critic {
    pub fn new(d: usize, hidden: &[usize], rng: &mut Rng64, device: Device) -> Result<Critic> {
        let net = Mlp::with_activation(d, hidden, 1, Activation::LeakyRelu, rng, device)?;
        let norms = net
            .layers
            .iter()
            .map(|(w, _)| SpectralNorm::new(w.size()[0] as usize, rng, device))
            .collect::<Result<_>>()?;
        Ok(Critic { net, norms })
    }

    /// phi(x) \[n\], recorded for the critic's own ascent step; `update` advances the power
    /// iterations (once per critic step).
    pub fn forward(&mut self, x: &Tensor, update: bool) -> Result<Tensor> {
        self.run(x, update, false)
    }

    /// phi(x) with the weights held constant: the generator's step differentiates through the
    /// critic to its input only, leaving no gradient on the critic's parameters.
    pub fn forward_frozen(&mut self, x: &Tensor) -> Result<Tensor> {
        self.run(x, false, true)
    }

    fn run(&mut self, x: &Tensor, update: bool, frozen: bool) -> Result<Tensor> {
        let mut h = x.shallow_clone();
        let last = self.net.layers.len() - 1;
        for (i, ((w, b), sn)) in self.net.layers.iter().zip(self.norms.iter_mut()).enumerate() {
            let (w, b) = if frozen { (w.f_detach()?, b.f_detach()?) } else { (w.shallow_clone(), b.shallow_clone()) };
            h = h.f_linear(&sn.normalize(&w, update)?, Some(&b))?;
            if i < last {
                h = self.net.activation.apply(&h)?;
            }
        }
        Ok(h.f_squeeze_dim(1)?)
    }

    pub fn parameters(&self) -> Vec<&Tensor> {
        self.net.parameters()
    }

    /// The estimate of each layer's largest singular value.
    pub fn sigmas(&self) -> Result<Vec<f64>> {
        self.net.layers.iter().zip(&self.norms).map(|((w, _), sn)| sn.sigma(w)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: sqrt of the largest eigenvalue of W^T W, by LAPACK's symmetric solver
    /// (libtorch's SVD takes a driver argument only on CUDA).
    fn top_singular_value(w: &Tensor) -> f64 {
        let w = w.detach().to_kind(Kind::Double);
        let e = w.transpose(0, 1).matmul(&w).linalg_eigvalsh("L");
        e.max().double_value(&[]).sqrt()
    }

    #[test]
    fn power_iteration_matches_the_largest_singular_value_of_lapack() {
        let mut rng = Rng64::new(5);
        for (rows, cols) in [(8usize, 3usize), (3, 8), (32, 32), (1, 5)] {
            let w = rng.normal_tensor(&[rows as i64, cols as i64], Kind::Float, Device::Cpu).unwrap();
            let top = top_singular_value(&w);
            let mut sn = SpectralNorm::new(rows, &mut rng, Device::Cpu).unwrap();
            // Power iteration converges at the rate (s2 / s1)^2 per step; 200 steps is plenty
            // for these draws (their gaps are > 5%).
            for _ in 0..200 {
                let _ = sn.normalize(&w, true).unwrap();
            }
            let est = sn.sigma(&w).unwrap();
            assert!((est - top).abs() < 1e-4 * top, "{rows}x{cols}: {est} vs SVD {top}");
            // And the normalised matrix has spectral norm 1.
            let wn = sn.normalize(&w, false).unwrap();
            assert!((top_singular_value(&wn) - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn gradient_of_sigma_is_the_outer_product_of_the_singular_vectors() {
        // d sigma / dW = u v^T at converged vectors: checked by finite differences of LAPACK's value.
        let mut rng = Rng64::new(9);
        let w0 = rng.normal_tensor(&[4, 3], Kind::Float, Device::Cpu).unwrap().to_kind(Kind::Double);
        let mut sn = SpectralNorm::new(4, &mut rng, Device::Cpu).unwrap();
        sn.u = sn.u.to_kind(Kind::Double);
        for _ in 0..300 {
            let _ = sn.normalize(&w0, true).unwrap();
        }
        let w = w0.copy().set_requires_grad(true);
        // sum(W / sigma) has gradient (1/sigma) 11^T - sum(W)/sigma^2 * d sigma/dW.
        let g = {
            let out = sn.normalize(&w, false).unwrap().sum(Kind::Double);
            Tensor::run_backward(&[out], &[&w], false, false).pop().unwrap()
        };
        let f = |m: &Tensor| -> f64 { m.sum(Kind::Double).double_value(&[]) / top_singular_value(m) };
        let h = 1e-6;
        for (i, j) in [(0i64, 0i64), (1, 2), (3, 1)] {
            let p = w0.copy();
            let _ = p.get(i).get(j).f_add_scalar_(h).unwrap();
            let q = w0.copy();
            let _ = q.get(i).get(j).f_add_scalar_(-h).unwrap();
            let fd = (f(&p) - f(&q)) / (2.0 * h);
            let an = g.double_value(&[i, j]);
            assert!((fd - an).abs() < 1e-6 * (1.0 + fd.abs()), "({i},{j}): {an} vs finite difference {fd}");
        }
    }

    #[test]
    fn a_normalised_critic_is_one_lipschitz() {
        let mut rng = Rng64::new(2);
        let mut c = Critic::new(3, &[64, 64], &mut rng, Device::Cpu).unwrap();
        for _ in 0..100 {
            let _ = c.forward(&Tensor::zeros([1, 3], (Kind::Float, Device::Cpu)), true).unwrap();
        }
        let x = rng.normal_tensor(&[500, 3], Kind::Float, Device::Cpu).unwrap().set_requires_grad(true);
        let out = c.forward_frozen(&x).unwrap().sum(Kind::Float);
        let g = Tensor::run_backward(&[out], &[&x], false, false).pop().unwrap();
        let max_norm = g.norm_scalaropt_dim(2, [1i64].as_slice(), false).max().double_value(&[]);
        assert!(max_norm <= 1.0 + 1e-3, "gradient norm {max_norm} > 1");
        // Not trivially small either: the bound is what limits it.
        assert!(max_norm > 0.05, "gradient norm {max_norm}");
        // The frozen pass left no gradient on the critic.
        assert!(c.parameters().iter().all(|p| !p.grad().defined()));
    }
}
