//! Seeded randomness that does not depend on libtorch's process-global generator, so that two
//! handles used from two threads each reproduce their own results.

use parking_lot::Mutex;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use tch::{Device, Kind, Tensor};

use crate::runtime::error::Result;

/// Serializes every use of libtorch's global generator (only the CUDA noise path uses it).
static TORCH_GLOBAL_RNG: Mutex<()> = Mutex::new(());

pub struct Rng64 {
    inner: ChaCha8Rng,
}

impl Rng64 {
    pub fn new(seed: u64) -> Self {
        Rng64 { inner: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// An independent stream derived from this one (for sub-tasks whose draw count varies).
    pub fn fork(&mut self) -> Self {
        Rng64::new(self.inner.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    pub fn uniform(&mut self) -> f64 {
        self.inner.gen::<f64>()
    }

    pub fn normal(&mut self) -> f64 {
        self.inner.sample(StandardNormal)
    }

    pub fn normals_f32(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.inner.sample::<f32, _>(StandardNormal)).collect()
    }

    pub fn normals_f64(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.inner.sample::<f64, _>(StandardNormal)).collect()
    }

    /// `m` indices drawn uniformly with replacement from `0..n`, as an i64 tensor on `device`.
    pub fn indices(&mut self, m: usize, n: usize, device: Device) -> Result<Tensor> {
        let v: Vec<i64> = (0..m).map(|_| self.inner.gen_range(0..n as i64)).collect();
        Ok(Tensor::f_from_slice(&v)?.f_to_device(device)?)
    }

    /// Standard normal tensor of `shape`, float32, on `device`.
    ///
    /// On the CPU the numbers come from this stream. On CUDA, copying host noise every Langevin
    /// step would dominate, so libtorch's generator is seeded from this stream under a global
    /// lock and draws on the device: still reproducible for a given seed.
    pub fn normal_tensor(&mut self, shape: &[i64], kind: Kind, device: Device) -> Result<Tensor> {
        let n: i64 = shape.iter().product();
        match device {
            Device::Cpu => {
                let t = Tensor::f_from_slice(&self.normals_f32(n as usize))?.f_view(shape)?;
                Ok(if kind == Kind::Float { t } else { t.f_to_kind(kind)? })
            }
            _ => {
                let seed = self.inner.next_u64() >> 1;
                let _g = TORCH_GLOBAL_RNG.lock();
                tch::manual_seed(seed as i64);
                Ok(Tensor::f_randn(shape, (kind, device))?)
            }
        }
    }
}
