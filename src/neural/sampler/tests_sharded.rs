//! Sharded sampling: the samples of a source depend on the seed and its global index only, so
//! any split of the sources over calls (ranks) and any chain batch reproduce one whole call bit
//! for bit on the CPU; and the per-row network arithmetic that this rests on.

use super::*;
use crate::neural::activation::Activation;
use crate::ot::Divergence;
use crate::score::GaussianScore;

/// Sets libtorch's intra-op thread count for the calling thread and restores it on drop.
struct Threads(i32);

impl Threads {
    fn set(n: i32) -> Threads {
        let old = tch::get_num_threads();
        tch::set_num_threads(n);
        Threads(old)
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        tch::set_num_threads(self.0);
    }
}

/// Untrained potentials (so that grad psi and V are not trivial) with a divergence whose log M
/// is nonlinear, so phi(x) is evaluated too.
fn dual(d: usize, div: Divergence) -> DualPotentials {
    let mut rng = Rng64::new(7);
    DualPotentials {
        phi: Mlp::new(d, &[16, 16], 1, &mut rng, Device::Cpu).unwrap(),
        psi: Mlp::new(d, &[16, 16], 1, &mut rng, Device::Cpu).unwrap(),
        regularizer: Regularizer::new(div, 0.5).unwrap(),
        cost: Cost::SqEuclidean,
        dx: d,
        dy: d,
        device: Device::Cpu,
    }
}

fn bits(t: &Tensor) -> Vec<u32> {
    Vec::<f32>::try_from(t.flatten(0, -1)).unwrap().iter().map(|v| v.to_bits()).collect()
}

type Mode = (&'static str, Divergence, fn(&mut SamplerConfig));

const MODES: [Mode; 5] = [
    ("ula", Divergence::JensenShannon, |c| c.steps_per_level = 12),
    ("adaptive_mala", Divergence::Kl, |c| {
        c.metropolis = true;
        c.adapt_step = true;
        c.step_size = 1.0;
        c.steps_per_level = 12;
    }),
    ("anneal_from_source", Divergence::ChiSquare, |c| {
        c.annealing = Some(Annealing { sigma_first: 1.0, sigma_last: 0.05, levels: 3 });
        c.denoise = true;
        c.init = ChainInit::Source;
        c.step_size = 1e-3;
        c.steps_per_level = 4;
    }),
    ("anneal_mala", Divergence::SquaredHellinger, |c| {
        c.annealing = Some(Annealing { sigma_first: 1.0, sigma_last: 0.1, levels: 2 });
        c.metropolis = true;
        c.adapt_step = true;
        c.step_size = 1e-2;
        c.steps_per_level = 6;
    }),
    ("anneal_from_resampled_targets", Divergence::Kl, |c| {
        // 40 fixed target points: each chain's start is drawn with its own stream's first normal
        let targets: Vec<f32> = (0..80).map(|i| ((i * 37 % 23) as f32) / 11.0 - 1.0).collect();
        c.init = ChainInit::Resample { targets: Arc::new(targets), dim: 2, sigma_start: 0.0 };
        c.annealing = Some(Annealing { sigma_first: 1.0, sigma_last: 0.05, levels: 3 });
        c.denoise = true;
        c.step_size = 1e-3;
        c.steps_per_level = 4;
    }),
];

#[test]
fn split_calls_and_any_chain_batch_reproduce_one_call_bit_for_bit() {
    let d = 2;
    let n = 7i64;
    let x = Tensor::randn([n, d as i64], (Kind::Float, Device::Cpu));
    let score: Arc<dyn ScoreSource> = Arc::new(GaussianScore::new(&[0.0; 2], &[1.0, 0.3, 0.3, 0.6]).unwrap());
    for threads in [1, 2] {
        let _t = Threads::set(threads);
        for (name, div, configure) in MODES {
            let pot = dual(d, div);
            let sampler = |batch: usize| {
                let mut cfg = SamplerConfig::new();
                cfg.samples_per_source = 3;
                cfg.seed = 5;
                cfg.chain_batch = batch;
                configure(&mut cfg);
                Sampler::new(&pot, score.clone(), cfg).unwrap()
            };
            let ignore = &mut crate::runtime::progress::ignore;
            let (whole, _) = sampler(1 << 14).sample(&x, ignore).unwrap();
            let whole = bits(&whole);
            // Batches of 1, 2 and 5 chains split sources' K = 3 chains across batches.
            for (batch, k) in [(1, 3), (2, 1), (5, 4), (21, 6), (1 << 14, 2)] {
                let mut s = sampler(batch);
                let (head, _) = s.sample_at(&x.narrow(0, 0, k), 0, ignore).unwrap();
                let (tail, _) = sampler(batch).sample_at(&x.narrow(0, k, n - k), k as u64, ignore).unwrap();
                let split = bits(&Tensor::cat(&[head, tail], 0));
                assert!(split == whole, "{name}, threads {threads}: batch {batch}, split at {k} differs");
                // A plain `sample` continues the numbering, so successive calls split the same way.
                let (rest, _) = s.sample(&x.narrow(0, k, n - k), ignore).unwrap();
                assert!(bits(&rest) == whole[(k as usize) * 3 * d..], "{name}: continuation differs");
            }
            // Different sources get different numbers: the same point at indices 0 and 1.
            let twice = Tensor::cat(&[x.narrow(0, 0, 1), x.narrow(0, 0, 1)], 0);
            let (y, _) = sampler(4).sample(&twice, ignore).unwrap();
            assert_ne!(bits(&y.narrow(0, 0, 3)), bits(&y.narrow(0, 3, 3)), "{name}");
        }
    }
}

/// What the sharding guarantee rests on: a row of a batched network evaluation (matmuls,
/// activations, input gradients) padded to a multiple of [`ROW_BLOCK`] rows, as the sampler
/// pads its chain batches, is bitwise the same whichever rows share its batch and at any offset
/// in it, with one or two threads. Sizes large enough for libtorch to block its gemms and to
/// split elementwise kernels between threads (grain 32768 elements). Without the padding, a
/// batch of 1 to 3 rows differs from the same rows inside a larger batch (MKL's small-M path).
#[test]
fn padded_network_rows_do_not_depend_on_their_batch() {
    let (d, rows) = (16usize, 3000i64);
    let x = Tensor::randn([rows, d as i64], (Kind::Float, Device::Cpu));
    let pad = |t: Tensor| {
        let b = t.size()[0];
        let padded = (b as usize).next_multiple_of(ROW_BLOCK) as i64;
        Tensor::cat(&[t.shallow_clone(), t.narrow(0, b - 1, 1).expand([padded - b, d as i64], false)], 0)
    };
    let mut unpadded_differs = false;
    for activation in [Activation::Relu, Activation::Silu, Activation::LeakyRelu] {
        let mut rng = Rng64::new(3);
        let net = Mlp::with_activation(d, &[64, 64], 1, activation, &mut rng, Device::Cpu).unwrap();
        let eval = |t: &Tensor, b: i64| -> Vec<u32> {
            let v = tch::no_grad(|| net.forward(t)).unwrap();
            let (_, g) = net.value_and_input_grad(t).unwrap();
            bits(&Tensor::cat(&[v, g], 1).narrow(0, 0, b))
        };
        for threads in [1, 2] {
            let _t = Threads::set(threads);
            let whole = eval(&pad(x.shallow_clone()), rows);
            let width = 1 + d;
            unpadded_differs |= eval(&x.narrow(0, 5, 1), 1) != whole[5 * width..6 * width];
            for batch in [1i64, 3, 8, 17, 64, 509, 1024, 2999] {
                let mut first = 0;
                while first < rows {
                    let b = batch.min(rows - first);
                    let got = eval(&pad(x.narrow(0, first, b)), b);
                    let (lo, hi) = (first as usize * width, (first + b) as usize * width);
                    assert!(got == whole[lo..hi], "{activation:?}, threads {threads}: batch {batch} at row {first}");
                    first += b;
                    // Bounds the check's time: the first batches, and the last (a partial one).
                    if first >= 2 * batch && first + batch < rows {
                        first = rows - (rows - first) % batch;
                    }
                }
            }
        }
    }
    // The padding is needed with these kernels: if this fails, libtorch's small-M gemm now
    // matches its blocked one and ROW_BLOCK could go (the other assertions would still hold).
    assert!(unpadded_differs, "a 1-row batch reproduced its row of the whole batch without padding");
}
