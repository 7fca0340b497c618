//! Data-parallel training through `runtime::collective` with ranks as threads of one process
//! (a barrier-based in-place sum stands where MPI_Allreduce stands across processes; `make
//! test-mpi` runs the same over real MPI through the C ABI):
//! - full batches make the batches deterministic, so 2 ranks with paired batches of their 32-point
//!   shards must train the duals that 1 process trains on the 64 concatenated points (the mean of
//!   the ranks' gradients is the gradient of the concatenated batch), up to float rounding;
//! - a cancel on one rank, or a failing sampler, ends both ranks with the right kind;
//! - score training's setup statistics are exchanged, so both ranks end with the same network.

use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use scones::neural::dual::{self, BatchMode, DualConfig, DualPotentials};
use scones::ot::measure::{Empirical, FunctionMeasure, Measure};
use scones::ot::{Divergence, Regularizer};
use scones::runtime::collective::{Collective, Group};
use scones::runtime::error::{Error, ErrorKind, Result};
use scones::runtime::progress::Progress;
use scones::runtime::rng::Rng64;
use scones::score::trained::{self, ScoreTrainConfig};
use scones::score::ScoreSource;
use tch::{Device, Kind, Tensor};

/// Ranks as threads: each call adds its buffer into a shared sum and waits for every rank.
struct Threads {
    size: usize,
    state: Mutex<(usize, u64, Vec<f32>, Vec<f32>)>, // arrived, generation, sum, result
    cv: Condvar,
}

struct Rank(Arc<Threads>, usize);

impl Collective for Rank {
    fn rank(&self) -> usize {
        self.1
    }
    fn size(&self) -> usize {
        self.0.size
    }
    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()> {
        let t = &self.0;
        let mut s = t.state.lock().unwrap();
        if s.0 == 0 {
            s.2 = vec![0.0; buf.len()];
        }
        if s.2.len() != buf.len() {
            return Err(Error::internal(format!("mismatched all-reduce: {} vs {}", buf.len(), s.2.len())));
        }
        for (a, b) in s.2.iter_mut().zip(buf.iter()) {
            *a += *b;
        }
        s.0 += 1;
        if s.0 == t.size {
            s.3 = std::mem::take(&mut s.2);
            s.0 = 0;
            s.1 += 1;
            t.cv.notify_all();
        } else {
            let gen = s.1;
            while s.1 == gen {
                s = t.cv.wait(s).unwrap();
            }
        }
        buf.copy_from_slice(&s.3);
        Ok(())
    }
}

fn groups(size: usize) -> Vec<Group> {
    let t = Arc::new(Threads { size, state: Mutex::new((0, 0, Vec::new(), Vec::new())), cv: Condvar::new() });
    (0..size).map(|r| Group::new(Arc::new(Rank(t.clone(), r))).unwrap()).collect()
}

/// 64 source and 64 target points (row-major, d = 2), as plain floats that threads can share.
fn data() -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng64::new(21);
    let x = rng.normals_f32(128);
    let y = rng.normals_f32(128).iter().map(|v| 2.0 * v + 1.0).collect();
    (x, y)
}

/// Rows [first, first + rows) of a point set, scaled.
fn rows(p: &[f32], first: usize, rows: usize, scale: f32) -> Tensor {
    Tensor::from_slice(&p[2 * first..2 * (first + rows)]).view([rows as i64, 2]) * scale as f64
}

fn config(batch: usize) -> DualConfig {
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, 1.0).unwrap());
    (cfg.phi_hidden, cfg.psi_hidden) = (vec![16, 16], vec![16, 16]);
    cfg.batch_mode = BatchMode::Paired;
    (cfg.optim.batch_size, cfg.optim.iterations, cfg.optim.seed, cfg.optim.report_every) = (batch, 30, 5, 5);
    cfg
}

fn train_full(cfg: &DualConfig, x: &Tensor, y: &Tensor, stop_at: Option<u64>) -> Result<DualPotentials> {
    let mut s = Empirical::new(x, Device::Cpu)?.full_batches();
    let mut t = Empirical::new(y, Device::Cpu)?.full_batches();
    let mut observe = |p: &Progress| stop_at.map_or(true, |k| p.iteration < k);
    Ok(dual::train(cfg, &mut s, &mut t, &mut observe)?.0)
}

/// phi then psi at fixed probe points.
fn values(d: &DualPotentials) -> Vec<f32> {
    let probe = Tensor::from_slice(&[0.3f32, -1.0, 1.5, 0.2, -0.7, 2.0, 0.0, 0.0]).view([4, 2]);
    let v = Tensor::cat(&[d.phi(&probe).unwrap(), d.psi(&probe).unwrap()], 0);
    Vec::<f32>::try_from(v).unwrap()
}

/// Runs `f(rank, group)` on one thread per rank of a fresh group.
fn on_ranks<T: Send + 'static>(size: usize, f: impl Fn(usize, Group) -> T + Send + Sync + 'static) -> Vec<T> {
    let f = Arc::new(f);
    let handles: Vec<_> = groups(size)
        .into_iter()
        .enumerate()
        .map(|(r, g)| {
            let f = f.clone();
            thread::spawn(move || f(r, g))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn two_ranks_on_shards_train_the_duals_of_the_concatenated_batch() {
    tch::set_num_threads(1);
    let (x, y) = data();
    let (xt, yt) = (rows(&x, 0, 64, 1.0), rows(&y, 0, 64, 1.0));
    let alone = values(&train_full(&config(64), &xt, &yt, None).unwrap());
    let ranks = on_ranks(2, move |r, g| {
        let mut cfg = config(32);
        cfg.optim.collective = Some(g);
        values(&train_full(&cfg, &rows(&x, 32 * r, 32, 1.0), &rows(&y, 32 * r, 32, 1.0), None).unwrap())
    });
    assert_eq!(ranks[0], ranks[1], "the ranks' duals differ");
    let mut untrained = config(64);
    untrained.optim.iterations = 0;
    let initial = values(&train_full(&untrained, &xt, &yt, None).unwrap());
    let scale = alone.iter().fold(0f32, |a, v| a.max(v.abs()));
    let diff = alone.iter().zip(&ranks[0]).fold(0f32, |a, (p, q)| a.max((p - q).abs()));
    let moved = alone.iter().zip(&initial).fold(0f32, |a, (p, q)| a.max((p - q).abs()));
    // Only the order of float32 sums differs (1e-7 relative per step); Adam's normalized updates
    // keep that far below 1e-5 of the scale after 30 steps, while training moved the values by
    // a large fraction of it.
    assert!(diff <= 1e-5 * scale, "2 ranks vs 1 process: max |difference| {diff:e}, scale {scale}");
    assert!(moved > 1e-2 * scale, "training moved the potentials by only {moved}");
}

#[test]
fn a_cancel_or_a_failure_on_one_rank_ends_every_rank() {
    tch::set_num_threads(1);
    let (x, y) = data();
    // Rank 1 cancels at iteration 10, and (second run) at the last report, 30.
    for at in [10u64, 30] {
        let (x, y) = (x.clone(), y.clone());
        let kinds = on_ranks(2, move |r, g| {
            let mut cfg = config(32);
            cfg.optim.collective = Some(g);
            let (xs, ys) = (rows(&x, 32 * r, 32, 1.0), rows(&y, 32 * r, 32, 1.0));
            train_full(&cfg, &xs, &ys, (r == 1).then_some(at)).err().map(|e| e.kind)
        });
        assert_eq!(kinds, vec![Some(ErrorKind::Cancelled); 2], "cancel at {at}");
    }
    // Rank 0's source sampler fails at its 4th call.
    let kinds = on_ranks(2, |r, g| {
        let mut cfg = config(32);
        cfg.optim.collective = Some(g);
        let mut calls = 0;
        let mut s = FunctionMeasure::new(
            2,
            Box::new(move |m, seed, out: &mut [f64]| {
                calls += 1;
                if r == 0 && calls == 4 {
                    return Err(Error::new(ErrorKind::Callback, "sampler broke"));
                }
                let mut rng = Rng64::new(seed);
                out[..m * 2].iter_mut().for_each(|v| *v = rng.normal());
                Ok(())
            }),
        )
        .unwrap();
        let mut t = Empirical::new(&Tensor::ones([8, 2], (Kind::Float, Device::Cpu)), Device::Cpu).unwrap();
        dual::train(&cfg, &mut s as &mut dyn Measure, &mut t, &mut |_: &Progress| true).err().map(|e| e.kind)
    });
    assert_eq!(kinds, vec![Some(ErrorKind::Callback); 2]);
}

#[test]
fn score_ranks_share_their_data_statistics_and_end_identical() {
    tch::set_num_threads(1);
    let (_, y) = data();
    let nets = on_ranks(2, move |r, g| {
        let mut cfg = ScoreTrainConfig { hidden: vec![16, 16], ..ScoreTrainConfig::default() };
        (cfg.optim.batch_size, cfg.optim.iterations) = (16, 20);
        cfg.optim.collective = Some(g);
        // Shards of different spread: without the exchange their sigma_max and preconditioning
        // would differ, and so would the trained networks.
        let shard = if r == 0 { rows(&y, 0, 32, 1.0) } else { rows(&y, 32, 32, 3.0) };
        let mut t = Empirical::new(&shard, Device::Cpu).unwrap();
        let (s, _) = trained::train(&cfg, &mut t, &mut |_: &Progress| true).unwrap();
        let probe = Tensor::from_slice(&[0.5f32, -0.5, 1.0, 2.0]).view([2, 2]);
        let out = s.bind(Device::Cpu).unwrap().score(&probe, 0.3).unwrap();
        (s.noise_levels().to_vec(), Vec::<f32>::try_from(out.view([-1])).unwrap())
    });
    assert_eq!(nets[0].0, nets[1].0, "noise levels differ across ranks");
    assert_eq!(nets[0].1, nets[1].1, "score networks differ across ranks");
}

/// Ranks given different shapes (a width, an iteration count) would hand the host all-reduces of
/// different lengths; the handshake's shape votes make every rank refuse before the first one.
#[test]
fn ranks_that_disagree_on_the_shape_all_refuse_before_training() {
    tch::set_num_threads(1);
    let (x, y) = data();
    for (name, change) in [("width", 0usize), ("iterations", 1)] {
        let (x, y) = (x.clone(), y.clone());
        let kinds = on_ranks(2, move |r, g| {
            let mut cfg = config(32);
            cfg.optim.collective = Some(g);
            if r == 1 {
                match change {
                    0 => cfg.psi_hidden = vec![16, 17],
                    _ => cfg.optim.iterations = 31,
                }
            }
            train_full(&cfg, &rows(&x, 32 * r, 32, 1.0), &rows(&y, 32 * r, 32, 1.0), None).err().map(|e| e.kind)
        });
        assert_eq!(kinds, vec![Some(ErrorKind::InvalidArgument); 2], "{name}");
    }
}
