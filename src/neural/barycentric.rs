//! The barycentric-projection baseline (Seguy et al. 2018): a map T minimizing
//!
//!   E_{(x, y) ~ sigma x tau}[ M(V(x, y)) |T(x) - y|^2 ],
//!
//! whose minimizer is the conditional mean T(x) = E_pi[y | x]. SCONES exists because this mean
//! averages the modes of pi(y | x) (paper Fig. 4): on a Swiss roll it lands between the arms.

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::neural::dual::DualPotentials;
use crate::neural::mlp::{Adam, Mlp};
use crate::neural::optim::{check_widths, run_loop_locked, Optim, TrainStats};
use crate::ot;
use crate::ot::measure::Measure;
use crate::runtime::collective::Lockstep;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::model_file::ModelFile;
use crate::runtime::progress::{Observer, Phase};
use crate::runtime::rng::Rng64;

#[derive(Clone, Debug)]
pub struct BarycentricConfig {
    pub hidden: Vec<usize>,
    pub optim: Optim,
}

impl Default for BarycentricConfig {
    fn default() -> Self {
        BarycentricConfig { hidden: vec![256, 256], optim: Optim::default() }
    }
}

pub struct BarycentricMap {
    pub net: Mlp,
    pub dx: usize,
    pub dy: usize,
}

/// Trains T against the coupling that `dual` defines. Each batch pairs every source with every
/// target (weights M(V(x_i, y_j)), the learned density of pi with respect to sigma x tau), so the
/// loss expands to mean_i [ r_i |T(x_i)|^2 - 2 T(x_i) . b_i ] + const with r_i = mean_j M_ij and
/// b_i = mean_j M_ij y_j: one small matrix product per step instead of m^2 distances. With a
/// collective in the options the ranks train one map on their shards (`runtime::collective`);
/// all-pairs batches lose the pairs across ranks.
pub fn train(
    cfg: &BarycentricConfig,
    dual: &DualPotentials,
    source: &mut dyn Measure,
    target: &mut dyn Measure,
    observer: Observer,
) -> Result<(BarycentricMap, TrainStats)> {
    let o = &cfg.optim;
    let device = o.device;
    let group = o.collective.as_ref();
    let mut lock = Lockstep::new(group, "barycentric training");
    let mut rng = Rng64::new(o.seed);
    let setup = (|| {
        o.validate()?;
        check_widths(&cfg.hidden, "barycentric map")?;
        limits::network("barycentric map", dual.dx, &cfg.hidden, dual.dy)?;
        limits::count("batch size", o.batch_size, limits::MAX_BATCH)?;
        limits::at_most("iterations", o.iterations, limits::MAX_ITERATIONS)?;
        if source.dim() != dual.dx || target.dim() != dual.dy {
            return Err(Error::shape(format!(
                "measures have dimensions {} and {}, the dual expects {} and {}",
                source.dim(),
                target.dim(),
                dual.dx,
                dual.dy
            )));
        }
        let net = Mlp::new(dual.dx, &cfg.hidden, dual.dy, &mut rng, device)?;
        lock.shape(net.parameter_count(), 1, o.iterations)?;
        Ok((net, dual.phi.detached_to(device)?, dual.psi.detached_to(device)?))
    })();
    let (net, phi, psi) = lock.start(setup)?;
    if let Some(g) = group {
        rng = Rng64::new(g.data_seed(o.seed));
    }
    let params = net.parameters();
    let mut adam = match Adam::new(&params, o.beta1, o.beta2) {
        Ok(a) => a,
        Err(e) => return Err(lock.fail(e)),
    };
    let m = o.batch_size;
    let what = "barycentric training";
    let stats = run_loop_locked(o, Phase::BarycentricTraining, what, observer, &mut lock, |_, lr, lock| {
        let x = source.sample(m, &mut rng, device)?;
        let y = target.sample(m, &mut rng, device)?;
        let (r, b, y_term) = tch::no_grad(|| -> Result<(Tensor, Tensor, Tensor)> {
            let v = ot::violation_pairwise(
                &phi.forward(&x)?.f_squeeze_dim(1)?,
                &psi.forward(&y)?.f_squeeze_dim(1)?,
                &dual.cost.pairwise(&x, &y)?,
            )?;
            let w = dual.regularizer.compatibility(&v)?.f_div_scalar(m as f64)?;
            let y_sq = y.f_square()?.f_sum_dim_intlist(1, false, None)?;
            Ok((
                w.f_sum_dim_intlist(1, false, None)?,
                w.f_matmul(&y)?,
                w.f_matmul(&y_sq.f_unsqueeze(1)?)?.f_squeeze_dim(1)?,
            ))
        })?;
        let t = net.forward(&x)?;
        let per_source = t
            .f_square()?
            .f_sum_dim_intlist(1, false, None)?
            .f_mul(&r)?
            .f_sub(&t.f_mul(&b)?.f_sum_dim_intlist(1, false, None)?.f_mul_scalar(2.0)?)?;
        let loss = per_source.f_mean(None)?;
        loss.f_backward()?;
        let mut value = [loss.f_double_value(&[])? + y_term.f_mean(None)?.f_double_value(&[])?];
        lock.gradients(&params, &mut value)?;
        adam.step(&params, lr)?;
        Ok(value[0])
    })?;
    Ok((BarycentricMap { net: net.detached_to(Device::Cpu)?, dx: dual.dx, dy: dual.dy }, stats))
}

impl BarycentricMap {
    /// T(x) for x [n, dx] -> [n, dy] (float32, on x's device).
    pub fn map(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.size();
        if s.len() != 2 || s[1] != self.dx as i64 {
            return Err(Error::shape(format!("source points must be [n, {}], got {s:?}", self.dx)));
        }
        let net = self.net.detached_to(x.device())?;
        tch::no_grad(|| net.forward(&x.f_to_kind(Kind::Float)?))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut f = ModelFile::new("barycentric");
        f.set("dx", self.dx);
        f.set("dy", self.dy);
        self.net.store("map", &mut f);
        f.save(path)
    }

    pub fn load(path: &Path) -> Result<BarycentricMap> {
        let f = ModelFile::load(path, "barycentric")?;
        let (dx, dy): (usize, usize) = (f.get_parsed("dx")?, f.get_parsed("dy")?);
        if dx == 0 || dy == 0 {
            return Err(Error::format("barycentric model has a zero dimension"));
        }
        Ok(BarycentricMap { net: Mlp::restore("map", dx, dy, &f, Device::Cpu)?, dx, dy })
    }
}
