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

#[derive(Clone)]
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

    /// Appends `n` standard normals (float32) to `out`.
    pub fn extend_normals_f32(&mut self, n: usize, out: &mut Vec<f32>) {
        out.extend((0..n).map(|_| self.inner.sample::<f32, _>(StandardNormal)));
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

/// Sampler streams addressed by (global source index, chain of that source), so that a chain's
/// random numbers depend on the seed and its address only: not on how sources are split into
/// calls, on the chain batch, or on which other chains share a batch.
///
/// Counter-based, with ChaCha8's own addressing rather than seeds mixed from (seed, index) by a
/// hash such as splitmix: source i is ChaCha stream (nonce) i under one key derived from the
/// seed, and chain k of it starts at word k 2^`CHAIN_WORDS_LOG2` (36) of that stream. Distinct
/// addresses are then disjoint pieces of ChaCha's keystream by construction, with no
/// birthday-bound chance of two chains sharing a seed and no reliance on a 64-bit hash to
/// decorrelate neighbouring indices. Seeking costs one ChaCha block, once per chain and call.
#[derive(Clone)]
pub struct ChainStreams {
    key: [u8; 32],
}

/// Words (u32) of keystream reserved per chain: ChaCha8's 68-bit word position leaves
/// 2^(68 - 36) = 2^32 chains per source.
pub(crate) const CHAIN_WORDS_LOG2: u32 = 36;

/// Most chains per source the addressing allows.
pub(crate) const MAX_CHAINS_PER_SOURCE: u64 = 1 << (68 - CHAIN_WORDS_LOG2);

/// Most standard normals one chain may draw: StandardNormal (a ziggurat) takes one u64 (two
/// words) per normal and retries with probability ~1%, so 2^32 normals use about 2^33 of the
/// chain's 2^36 words; running into the next chain's region would take an absurd run of retries.
pub(crate) const MAX_NORMALS_PER_CHAIN: u64 = 1 << 32;

/// The ChaCha stream the key is drawn from, away from stream 0 that `Rng64::new(seed)` uses,
/// so that a dual trained with the same seed does not share numbers with its sampler.
const KEY_STREAM: u64 = u64::from_le_bytes(*b"scnchain");

impl ChainStreams {
    pub fn new(seed: u64) -> ChainStreams {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(KEY_STREAM);
        let mut key = [0u8; 32];
        r.fill_bytes(&mut key);
        ChainStreams { key }
    }

    /// The stream of chain `chain` (< `MAX_CHAINS_PER_SOURCE`) of global source `source`.
    pub fn chain(&self, source: u64, chain: u64) -> Rng64 {
        debug_assert!(chain < MAX_CHAINS_PER_SOURCE);
        let mut inner = ChaCha8Rng::from_seed(self.key);
        inner.set_stream(source);
        inner.set_word_pos(u128::from(chain) << CHAIN_WORDS_LOG2);
        Rng64 { inner }
    }
}

/// `per_chain` standard normals from each stream in turn, as a float32 [streams, per_chain]
/// tensor on the CPU: row c comes from `streams[c]` alone.
pub fn chain_normals(streams: &mut [Rng64], per_chain: usize) -> Result<Tensor> {
    let mut v = Vec::with_capacity(streams.len() * per_chain);
    for s in streams.iter_mut() {
        s.extend_normals_f32(per_chain, &mut v);
    }
    Ok(Tensor::f_from_slice(&v)?.f_view([streams.len() as i64, per_chain as i64])?)
}
