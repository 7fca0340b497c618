//! Fully connected ReLU networks, written directly on tensors.
//!
//! tch's `nn` module draws initial weights from libtorch's process-global generator; weights here
//! are drawn from a seeded [`Rng64`], so a seed reproduces a model regardless of what else the
//! host process does with libtorch. They train with libtorch's Adam ([`Adam`]).

use tch::{Device, Kind, Tensor};

use crate::runtime::error::{Error, Result};
use crate::runtime::rng::Rng64;

/// Where the training loops have always found them.
pub use crate::neural::activation::Activation;
pub use crate::neural::optim::Adam;

/// An MLP `input -> hidden[0] -> ... -> hidden[k-1] -> output` with a linear last layer.
///
/// The potentials of the dual problem must be able to take any sign, so there is no output
/// activation (the paper's tables mention a ReLU output, which would pin potentials at >= 0).
pub struct Mlp {
    /// (weight [out, in], bias \[out\]) per layer, last layer included.
    pub layers: Vec<(Tensor, Tensor)>,
    pub input: usize,
    pub hidden: Vec<usize>,
    pub output: usize,
    pub activation: Activation,
}

impl Mlp {
    /// PyTorch's default initialization (uniform in +-1/sqrt(fan_in) for weights and biases),
    /// drawn from `rng`.
    pub fn new(input: usize, hidden: &[usize], output: usize, rng: &mut Rng64, device: Device) -> Result<Mlp> {
        Self::with_activation(input, hidden, output, Activation::Relu, rng, device)
    }

    pub fn with_activation(
        input: usize,
        hidden: &[usize],
        output: usize,
        activation: Activation,
        rng: &mut Rng64,
        device: Device,
    ) -> Result<Mlp> {
        if input == 0 || output == 0 || hidden.contains(&0) {
            return Err(Error::invalid("network layer widths must be positive"));
        }
        let mut dims = vec![input];
        dims.extend_from_slice(hidden);
        dims.push(output);
        let mut layers = Vec::with_capacity(dims.len() - 1);
        for w in dims.windows(2) {
            let (fan_in, fan_out) = (w[0], w[1]);
            let bound = 1.0 / (fan_in as f64).sqrt();
            let mut draw =
                |n: usize| -> Vec<f32> { (0..n).map(|_| ((2.0 * rng.uniform() - 1.0) * bound) as f32).collect() };
            let weight = Tensor::f_from_slice(&draw(fan_in * fan_out))?
                .f_view([fan_out as i64, fan_in as i64])?
                .f_to_device(device)?
                .set_requires_grad(true);
            let bias = Tensor::f_from_slice(&draw(fan_out))?.f_to_device(device)?.set_requires_grad(true);
            layers.push((weight, bias));
        }
        Ok(Mlp { layers, input, hidden: hidden.to_vec(), output, activation })
    }

    /// Rebuilds a network from stored tensors, checking every shape against the architecture.
    pub fn from_tensors(
        input: usize,
        hidden: &[usize],
        output: usize,
        activation: Activation,
        tensors: Vec<(Tensor, Tensor)>,
        device: Device,
    ) -> Result<Mlp> {
        let mut dims = vec![input];
        dims.extend_from_slice(hidden);
        dims.push(output);
        if tensors.len() != dims.len() - 1 {
            return Err(Error::format(format!("expected {} layers, found {}", dims.len() - 1, tensors.len())));
        }
        let mut layers = Vec::new();
        for (i, ((w, b), d)) in tensors.into_iter().zip(dims.windows(2)).enumerate() {
            if w.size() != [d[1] as i64, d[0] as i64] || b.size() != [d[1] as i64] {
                return Err(Error::format(format!(
                    "layer {i}: weight {:?} / bias {:?} do not match widths {} -> {}",
                    w.size(),
                    b.size(),
                    d[0],
                    d[1]
                )));
            }
            let w = w.f_to_kind(Kind::Float)?.f_to_device(device)?.set_requires_grad(true);
            let b = b.f_to_kind(Kind::Float)?.f_to_device(device)?.set_requires_grad(true);
            layers.push((w, b));
        }
        Ok(Mlp { layers, input, hidden: hidden.to_vec(), output, activation })
    }

    /// A detached copy on `device` (for samplers, which never train).
    ///
    /// Always a deep copy: `detach` and a same-device `to_device` share storage, and a copy that
    /// aliased the original once turned an EMA update into weight decay on the live network.
    pub fn detached_to(&self, device: Device) -> Result<Mlp> {
        let copy = |t: &Tensor| -> Result<Tensor> {
            let src = t.f_detach()?.f_to_device(device)?;
            let mut dst = src.f_empty_like()?;
            dst.f_copy_(&src)?;
            Ok(dst)
        };
        let mut layers = Vec::new();
        for (w, b) in &self.layers {
            layers.push((copy(w)?, copy(b)?));
        }
        Ok(Mlp {
            layers,
            input: self.input,
            hidden: self.hidden.clone(),
            output: self.output,
            activation: self.activation,
        })
    }

    /// Stores the layers as `{prefix}.{i}.weight` / `{prefix}.{i}.bias`, with the architecture
    /// in metadata `{prefix}_hidden` and `{prefix}_activation`.
    pub fn store(&self, prefix: &str, f: &mut crate::runtime::model_file::ModelFile) {
        f.set(&format!("{prefix}_hidden"), self.hidden.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(","));
        f.set(&format!("{prefix}_activation"), self.activation.name());
        for (i, (w, b)) in self.layers.iter().enumerate() {
            f.tensors.insert(format!("{prefix}.{i}.weight"), w.shallow_clone());
            f.tensors.insert(format!("{prefix}.{i}.bias"), b.shallow_clone());
        }
    }

    /// Inverse of [`Mlp::store`], validating every shape.
    pub fn restore(
        prefix: &str,
        input: usize,
        output: usize,
        f: &crate::runtime::model_file::ModelFile,
        device: Device,
    ) -> Result<Mlp> {
        let hidden = f.get_widths(&format!("{prefix}_hidden"))?;
        let activation = Activation::from_name(f.get(&format!("{prefix}_activation"))?)?;
        let mut layers = Vec::new();
        for i in 0..=hidden.len() {
            layers.push((
                f.tensor(&format!("{prefix}.{i}.weight"))?.shallow_clone(),
                f.tensor(&format!("{prefix}.{i}.bias"))?.shallow_clone(),
            ));
        }
        Mlp::from_tensors(input, &hidden, output, activation, layers, device).map_err(|e| e.context(prefix))
    }

    pub fn parameters(&self) -> Vec<&Tensor> {
        self.layers.iter().flat_map(|(w, b)| [w, b]).collect()
    }

    pub fn parameter_count(&self) -> usize {
        self.parameters().iter().map(|t| t.numel()).sum()
    }

    /// `x` [n, input] -> [n, output]; recorded by autograd when parameters require grad.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.shallow_clone();
        let last = self.layers.len() - 1;
        for (i, (w, b)) in self.layers.iter().enumerate() {
            h = h.f_linear(w, Some(b))?;
            if i < last {
                h = match self.activation {
                    // In place: the linear layer's backward does not need its output, and ReLU's
                    // backward reads only its own result, so autograd allows it; one 10 MB
                    // temporary fewer per layer at [10000, 256].
                    Activation::Relu => h.f_relu_()?,
                    Activation::Silu | Activation::LeakyRelu => self.activation.apply(&h)?,
                };
            }
        }
        Ok(h)
    }

    /// Scalar-output network: value \[n\] and input gradient [n, input] (both fresh tensors the
    /// caller may modify in place), by a hand-written backward pass. Langevin needs only grad_y psi(y); going through autograd would record a
    /// graph and allocate parameter gradients at every step for nothing.
    pub fn value_and_input_grad(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        self.value_and_input_grad_in(x, &mut InputGradBuffers::default())
    }

    /// [`Mlp::value_and_input_grad`] with the hidden layers' activations and gradients written
    /// into `buf`, which a Langevin loop keeps across steps: fresh [10000, 256] temporaries cost
    /// a page fault per 4 KB page at every step (about a tenth of a step's time), and the ReLU
    /// derivative is applied as one masking pass on the kept activation instead of being built
    /// as a float mask. Only the returned value and gradient are new tensors.
    pub fn value_and_input_grad_in(&self, x: &Tensor, buf: &mut InputGradBuffers) -> Result<(Tensor, Tensor)> {
        if self.output != 1 {
            return Err(Error::internal("value_and_input_grad needs a scalar-output network"));
        }
        if self.activation == Activation::Relu && !self.hidden.is_empty() {
            return tch::no_grad(|| self.relu_value_and_input_grad(x, buf));
        }
        tch::no_grad(|| {
            let last = self.layers.len() - 1;
            let mut masks = Vec::with_capacity(last);
            let mut h = x.shallow_clone();
            for (i, (w, b)) in self.layers.iter().enumerate() {
                h = h.f_linear(&w.f_detach()?, Some(&b.f_detach()?))?;
                if i < last {
                    masks.push(self.activation.derivative(&h)?);
                    h = self.activation.apply(&h)?;
                }
            }
            let value = h.f_squeeze_dim(1)?;
            // d out / d h_last = w_last (row vector), then back through each ReLU and weight.
            let n = x.size()[0];
            let mut g = self.layers[last].0.f_detach()?.f_expand([n, -1], false)?;
            for i in (0..last).rev() {
                g = g.f_mul(&masks[i])?.f_matmul(&self.layers[i].0.f_detach()?)?;
            }
            if last == 0 {
                // Without hidden layers g is still a view of the weight; callers may update the
                // gradient in place.
                g = g.f_contiguous()?;
            }
            Ok((value, g))
        })
    }

    fn relu_value_and_input_grad(&self, x: &Tensor, buf: &mut InputGradBuffers) -> Result<(Tensor, Tensor)> {
        let n = x.size()[0];
        let block = if x.device() == Device::Cpu {
            let row_bytes = 2 * self.hidden.iter().sum::<usize>() as i64 * x.kind().elt_size_in_bytes() as i64;
            (CPU_BLOCK_BYTES / row_bytes.max(1)).max(CPU_MIN_BLOCK_ROWS).min(n)
        } else {
            n
        };
        buf.fit(block, &self.hidden, x.kind(), x.device())?;
        let last = self.layers.len() - 1;
        let transposed = self.layers.iter().map(|(w, _)| w.f_tr()).collect::<std::result::Result<Vec<_>, _>>()?;
        let (w_last, b_last) = &self.layers[last];
        let opts = (x.kind(), x.device());
        // One block (small batches, GPU): the outputs come straight from the last products, as
        // each narrow and out= call costs about as much as a small kernel at d = 2.
        let single = block == n;
        let (value, g) = if single {
            (Tensor::new(), Tensor::new())
        } else {
            (Tensor::f_empty([n, 1], opts)?, Tensor::f_empty([n, self.input as i64], opts)?)
        };
        let mut outputs = None;
        let top = w_last.f_expand([block, -1], false)?;
        let mut first = 0;
        while first < n {
            let rows = block.min(n - first);
            let fit = |t: &Tensor| if rows == block { Ok(t.shallow_clone()) } else { t.f_narrow(0, 0, rows) };
            let acts = buf.acts.iter().map(fit).collect::<std::result::Result<Vec<_>, _>>()?;
            let grads = buf.grads.iter().map(fit).collect::<std::result::Result<Vec<_>, _>>()?;
            let xb = if single { x.shallow_clone() } else { x.f_narrow(0, first, rows)? };
            for i in 0..last {
                let input = if i == 0 { &xb } else { &acts[i - 1] };
                let _ = self.layers[i].1.f_addmm_out(&acts[i], input, &transposed[i])?;
                let _ = acts[i].shallow_clone().f_relu_()?;
            }
            let value_b = if single {
                b_last.f_addmm(&acts[last - 1], &transposed[last])?
            } else {
                b_last.f_addmm_out(&value.f_narrow(0, first, rows)?, &acts[last - 1], &transposed[last])?
            };
            // grads[i] = d out / d (pre-activation of hidden layer i): the gradient from above
            // where the ReLU passed (its output > 0), 0 elsewhere.
            let _ = acts[last - 1].f_threshold_backward_grad_input(&grads[last - 1], &fit(&top)?, 0.0)?;
            for i in (0..last - 1).rev() {
                let _ = grads[i + 1].f_mm_out(&grads[i], &self.layers[i + 1].0)?;
                let _ = acts[i].f_threshold_backward_grad_input(&grads[i], &grads[i], 0.0)?;
            }
            if single {
                outputs = Some((value_b, grads[0].f_mm(&self.layers[0].0)?));
            } else {
                let _ = grads[0].f_mm_out(&g.f_narrow(0, first, rows)?, &self.layers[0].0)?;
            }
            first += rows;
        }
        let (value, g) = outputs.unwrap_or((value, g));
        Ok((value.f_squeeze_dim(1)?, g))
    }
}

/// On the CPU the chains go through psi in row blocks whose hidden activations and gradients
/// take about this many bytes, so that each elementwise pass reads what the matrix product just
/// wrote from cache instead of memory. Measured at d = 16, 2 x 256, 10,000 chains (1 thread,
/// medians of 3): blocks of 128 / 256 / 512 / 1,024 rows / no blocking gave 1.72 / 1.82 / 1.86 /
/// 1.81 / 1.39e5 chain-steps/s; 512 rows of 2 x 256 are 2 MiB. At d = 2, 2 x 64, 1,000 chains,
/// splitting into two blocks cost 15% (per-call overhead), which this size avoids.
const CPU_BLOCK_BYTES: i64 = 2 << 20;
/// Below this the matrix products lose efficiency faster than the cache gains.
const CPU_MIN_BLOCK_ROWS: i64 = 64;

/// Scratch tensors of [`Mlp::value_and_input_grad_in`], one activation and one gradient
/// [block rows, width] per hidden layer, reallocated only when the block (bounded by the chain
/// batch) or the architecture changes.
#[derive(Default)]
pub struct InputGradBuffers {
    acts: Vec<Tensor>,
    grads: Vec<Tensor>,
}

impl InputGradBuffers {
    fn fit(&mut self, rows: i64, widths: &[usize], kind: Kind, device: Device) -> Result<()> {
        let fits = self.acts.len() == widths.len()
            && self
                .acts
                .iter()
                .zip(widths)
                .all(|(t, &w)| t.size() == [rows, w as i64] && t.kind() == kind && t.device() == device);
        if !fits {
            let alloc = |&w: &usize| Tensor::f_empty([rows, w as i64], (kind, device));
            self.acts = widths.iter().map(alloc).collect::<std::result::Result<_, _>>()?;
            self.grads = widths.iter().map(alloc).collect::<std::result::Result<_, _>>()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_gradient_matches_autograd() {
        for act in [Activation::Relu, Activation::Silu, Activation::LeakyRelu] {
            let mut rng = Rng64::new(5);
            let net = Mlp::with_activation(3, &[16, 8], 1, act, &mut rng, Device::Cpu).unwrap();
            let x = Tensor::randn([10, 3], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let out = net.forward(&x).unwrap().sum(Kind::Float);
            let auto = Tensor::run_backward(&[out], &[&x], false, false).pop().unwrap();
            let (value, grad) = net.value_and_input_grad(&x.detach()).unwrap();
            let direct = net.forward(&x.detach()).unwrap().squeeze_dim(1);
            assert!((value - direct).abs().max().double_value(&[]) < 1e-6);
            assert!((grad - auto).abs().max().double_value(&[]) < 1e-5, "{act:?}");
        }
    }

    /// One set of buffers serves calls of different batch sizes and depths in turn (the last
    /// chain batch is smaller), and results returned earlier are not overwritten by later calls.
    #[test]
    fn reused_buffers_give_autograd_gradients_across_batch_sizes() {
        let mut rng = Rng64::new(8);
        let deep = Mlp::new(3, &[16, 8, 4], 1, &mut rng, Device::Cpu).unwrap();
        let shallow = Mlp::new(3, &[5], 1, &mut rng, Device::Cpu).unwrap();
        // 2 x 1024 hidden: CPU blocks of 128 rows, so 300 rows end in a partial block.
        let wide = Mlp::new(3, &[1024, 1024], 1, &mut rng, Device::Cpu).unwrap();
        let mut buf = InputGradBuffers::default();
        let mut kept = Vec::new();
        for (net, rows) in [(&deep, 10), (&deep, 7), (&shallow, 7), (&wide, 300), (&wide, 128), (&deep, 10)] {
            let x = Tensor::randn([rows, 3], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let out = net.forward(&x).unwrap().sum(Kind::Float);
            let auto = Tensor::run_backward(&[out], &[&x], false, false).pop().unwrap();
            let (value, grad) = net.value_and_input_grad_in(&x.detach(), &mut buf).unwrap();
            let direct = net.forward(&x.detach()).unwrap().squeeze_dim(1);
            assert!((&value - direct).abs().max().double_value(&[]) < 1e-6);
            assert!((&grad - &auto).abs().max().double_value(&[]) < 1e-5, "{rows} rows");
            kept.push((grad, auto));
        }
        for (grad, auto) in kept {
            assert!((grad - auto).abs().max().double_value(&[]) < 1e-5);
        }
    }

    #[test]
    fn detached_copies_do_not_alias_the_network() {
        let net = Mlp::new(2, &[4], 1, &mut Rng64::new(1), Device::Cpu).unwrap();
        let copy = net.detached_to(Device::Cpu).unwrap();
        let before = net.layers[0].0.detach().copy();
        tch::no_grad(|| {
            let _ = copy.layers[0].0.shallow_clone().fill_(7.0);
        });
        assert_eq!(net.layers[0].0.detach(), before);
    }

    #[test]
    fn same_seed_same_weights() {
        let a = Mlp::new(2, &[4], 1, &mut Rng64::new(9), Device::Cpu).unwrap();
        let b = Mlp::new(2, &[4], 1, &mut Rng64::new(9), Device::Cpu).unwrap();
        for (p, q) in a.parameters().iter().zip(b.parameters()) {
            assert_eq!(p.detach(), q.detach());
        }
    }

    #[test]
    fn adam_minimizes_a_quadratic() {
        let p = Tensor::from_slice(&[3.0f32, -2.0]).set_requires_grad(true);
        let mut adam = Adam::new(&[&p], 0.9, 0.999).unwrap();
        for _ in 0..2000 {
            let loss = (&p - Tensor::from_slice(&[1.0f32, 0.5])).square().sum(Kind::Float);
            loss.backward();
            adam.step(&[&p], 1e-2).unwrap();
        }
        let v: Vec<f32> = Vec::try_from(p.detach()).unwrap();
        assert!((v[0] - 1.0).abs() < 1e-2 && (v[1] - 0.5).abs() < 1e-2, "{v:?}");
    }
}
