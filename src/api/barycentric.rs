//! The barycentric-projection baseline on arrays.

use std::path::Path;
use std::sync::Arc;

use ndarray::{Array2, AsArray, Ix2};
use parking_lot::{Mutex, MutexGuard};

use super::{tensor_f32, to_array2, Dual, Float, Measure, TrainOptions};
use crate::neural::barycentric::{self, BarycentricConfig, BarycentricMap};
use crate::runtime::error::Result;

/// A map T(x) = E_pi[y | x] for the coupling of a [`Dual`] (Seguy et al. 2018), the baseline
/// SCONES is compared with: it averages the modes of pi(y | x). Also a chain start for the
/// sampler ([`crate::ChainStart::Map`]). Cheap to clone (shared).
///
/// ```
/// use ndarray::Array2;
/// use scones::api::{gaussian, BatchMode, Divergence};
/// use scones::{Barycentric, Dual, DualOptions, Measure, TrainOptions};
/// # fn main() -> scones::Result<()> {
/// let x = gaussian::sample(&[0.0, 0.0], &Array2::<f64>::eye(2), 2000, 1)?;
/// let y = gaussian::sample(&[3.0, 0.0], &Array2::<f64>::eye(2), 2000, 2)?;
/// let dual_options = DualOptions::new()
///     .regularizer(Divergence::Kl, 4.0)
///     .hidden(&[32, 32])
///     .batch(128, BatchMode::AllPairs)
///     .iterations(200);
/// let dual = Dual::train(&x, &y, &dual_options)?;
/// let (mut source, mut target) = (Measure::points(&x)?, Measure::points(&y)?);
/// let options = TrainOptions::new().hidden(&[32, 32]).batch_size(128).iterations(300).adam(1e-2, 0.9, 0.999);
/// let map = Barycentric::train(&dual, &mut source, &mut target, &options)?;
/// let t = map.map(&x)?;
/// // Conditional means average to the target mean (3, 0); after this short training of the
/// // dual they get most of the way there (2.5).
/// assert!(t.column(0).mean().unwrap() > 2.0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Barycentric {
    // Behind a lock only because tch tensors are not Sync; it keeps the map shareable.
    map: Arc<Mutex<BarycentricMap>>,
}

impl std::fmt::Debug for Barycentric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (dx, dy) = self.dims();
        write!(f, "Barycentric({dx} -> {dy})")
    }
}

impl Barycentric {
    /// Trains T against the coupling that `dual` defines, from its source and target measures.
    pub fn train(
        dual: &Dual,
        source: &mut Measure<'_>,
        target: &mut Measure<'_>,
        options: &TrainOptions,
    ) -> Result<Barycentric> {
        let d = BarycentricConfig::default();
        let cfg = BarycentricConfig { hidden: options.hidden_or(&d.hidden), optim: options.optim(&d.optim)? };
        let device = cfg.optim.device;
        let (mut s, mut t) = (source.instantiate(device)?, target.instantiate(device)?);
        let mut observer = options.begin();
        let (map, _) = barycentric::train(&cfg, dual.potentials(), s.as_mut(), t.as_mut(), &mut observer)?;
        Ok(Barycentric { map: Arc::new(Mutex::new(map)) })
    }

    /// T(x) at the rows of `x` (n x dx), as n x dy.
    pub fn map<'a, T: Float>(&self, x: impl AsArray<'a, T, Ix2>) -> Result<Array2<f64>> {
        to_array2(&self.map.lock().map(&tensor_f32(&x.into(), "x")?)?)
    }

    /// Source and target dimensions (dx, dy).
    pub fn dims(&self) -> (usize, usize) {
        let m = self.map.lock();
        (m.dx, m.dy)
    }

    /// Writes the map (safetensors with metadata, written atomically).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.map.lock().save(path.as_ref())
    }

    /// Loads a map saved by [`Barycentric::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Barycentric> {
        Ok(Barycentric { map: Arc::new(Mutex::new(BarycentricMap::load(path.as_ref())?)) })
    }

    /// The math modules' map.
    pub fn inner(&self) -> MutexGuard<'_, BarycentricMap> {
        self.map.lock()
    }
}
