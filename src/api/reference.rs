//! Known answers on arrays: Gaussian closed forms, metrics and toy data ([`crate::reference`]
//! at the tensor and slice level).

/// Gaussian measures: random test covariances, exact samples and the closed-form entropic
/// coupling (Janati et al. 2020), the known answer SCONES is checked against.
///
/// ```
/// use scones::api::gaussian::{self, Spectrum};
/// # fn main() -> scones::Result<()> {
/// let a = gaussian::random_covariance(2, Spectrum::Geometric, 1)?;
/// let b = gaussian::random_covariance(2, Spectrum::Geometric, 2)?;
/// let joint = gaussian::entropic_coupling(&a, &b, 4.0)?; // 4 x 4: [[A, C], [C^T, B]]
/// assert_eq!(joint.dim(), (4, 4));
/// let x = gaussian::sample(&[0.0, 0.0], &a, 100, 3)?; // 100 x 2
/// assert_eq!(x.dim(), (100, 2));
/// # Ok(()) }
/// ```
pub mod gaussian {
    use ndarray::{Array2, AsArray, Ix1, Ix2};

    use super::super::{array2, read_f64, read_vector, Float};
    use crate::reference::gaussian as closed;
    use crate::runtime::error::{Error, Result};

    pub use crate::reference::gaussian::Spectrum;

    fn square<T: Float>(m: ndarray::ArrayView2<'_, T>, what: &str) -> Result<(Vec<f64>, usize)> {
        if m.nrows() != m.ncols() {
            return Err(Error::shape(format!("{what} must be square, got {:?}", m.dim())));
        }
        Ok((read_f64(&m, what)?, m.nrows()))
    }

    /// U diag(w) U^T (d x d) with Haar-random U and eigenvalues w from `spectrum`.
    pub fn random_covariance(d: usize, spectrum: Spectrum, seed: u64) -> Result<Array2<f64>> {
        if d == 0 || d > 4096 {
            return Err(Error::invalid(format!("dimension must lie in 1..=4096, got {d}")));
        }
        array2(closed::random_covariance(d, spectrum, seed)?, d, d)
    }

    /// n exact samples of N(mean, cov), as n x d.
    pub fn sample<'a, 'b, S: Float, T: Float>(
        mean: impl AsArray<'a, S, Ix1>,
        cov: impl AsArray<'b, T, Ix2>,
        n: usize,
        seed: u64,
    ) -> Result<Array2<f64>> {
        let mean = read_vector(&mean.into(), "mean")?;
        let (c, d) = square(cov.into(), "cov")?;
        if d != mean.len() {
            return Err(Error::shape(format!("cov is {d} x {d} but the mean has {} entries", mean.len())));
        }
        if n == 0 {
            return Err(Error::invalid("n must be > 0"));
        }
        array2(closed::sample(&mean, &c, n, seed)?, n, d)
    }

    /// Joint covariance (2d x 2d) of the KL-regularized coupling between N(0, cov_source) and
    /// N(0, cov_target) for the squared Euclidean cost at regularization lambda.
    pub fn entropic_coupling<'a, 'b, S: Float, T: Float>(
        cov_source: impl AsArray<'a, S, Ix2>,
        cov_target: impl AsArray<'b, T, Ix2>,
        lambda: f64,
    ) -> Result<Array2<f64>> {
        let (a, d) = square(cov_source.into(), "cov_source")?;
        let (b, d2) = square(cov_target.into(), "cov_target")?;
        if d != d2 {
            return Err(Error::shape(format!("covariances are {d} x {d} and {d2} x {d2}")));
        }
        array2(closed::entropic_coupling_covariance(&a, &b, d, lambda)?, 2 * d, 2 * d)
    }
}

/// Metrics against known answers: BW-UVP, covariances and sliced W2.
pub mod metrics {
    use ndarray::{Array2, AsArray, Ix2};

    use super::super::{array2, read_f64, Float};
    use crate::reference::metrics as m;
    use crate::runtime::error::{Error, Result};

    /// BW-UVP (0-100 scale) of an estimated covariance against a reference covariance.
    pub fn bw_uvp<'a, 'b, S: Float, T: Float>(
        estimate: impl AsArray<'a, S, Ix2>,
        reference: impl AsArray<'b, T, Ix2>,
    ) -> Result<f64> {
        let (e, r) = (estimate.into(), reference.into());
        if e.nrows() != e.ncols() || e.dim() != r.dim() {
            return Err(Error::shape(format!(
                "covariances must be square and alike, got {:?} and {:?}",
                e.dim(),
                r.dim()
            )));
        }
        m::bw_uvp(&read_f64(&e, "estimate")?, &read_f64(&r, "reference")?, e.nrows())
    }

    /// Unbiased covariance (d x d) of the rows of `x` (n x d, n >= 2).
    pub fn covariance<'a, T: Float>(x: impl AsArray<'a, T, Ix2>) -> Result<Array2<f64>> {
        let x = x.into();
        let d = x.ncols();
        array2(m::covariance(&read_f64(&x, "x")?, d)?, d, d)
    }

    /// Unbiased covariance ((dx + dy) square) of the joint rows (x_i, y_i).
    pub fn joint_covariance<'a, 'b, S: Float, T: Float>(
        x: impl AsArray<'a, S, Ix2>,
        y: impl AsArray<'b, T, Ix2>,
    ) -> Result<Array2<f64>> {
        let (x, y) = (x.into(), y.into());
        if x.nrows() != y.nrows() {
            return Err(Error::shape(format!("x has {} rows but y has {}", x.nrows(), y.nrows())));
        }
        let k = x.ncols() + y.ncols();
        array2(m::joint_covariance(&read_f64(&x, "x")?, x.ncols(), &read_f64(&y, "y")?, y.ncols())?, k, k)
    }

    /// The Frechet distance between Gaussians fitted to the rows of `a` and `b` (same number of
    /// columns, at least 2 rows each): |m_a - m_b|^2 + tr(A + B - 2 (B^1/2 A B^1/2)^1/2), the FID
    /// formula on whatever features the rows are.
    pub fn frechet_distance<'a, 'b, S: Float, T: Float>(
        a: impl AsArray<'a, S, Ix2>,
        b: impl AsArray<'b, T, Ix2>,
    ) -> Result<f64> {
        let (a, b) = (a.into(), b.into());
        if a.ncols() != b.ncols() {
            return Err(Error::shape(format!("a has {} columns but b has {}", a.ncols(), b.ncols())));
        }
        crate::reference::bures::frechet_distance(&read_f64(&a, "a")?, &read_f64(&b, "b")?, a.ncols())
    }

    /// Sliced 2-Wasserstein distance between the rows of `a` and `b` over `projections` random
    /// directions.
    pub fn sliced_w2<'a, 'b, S: Float, T: Float>(
        a: impl AsArray<'a, S, Ix2>,
        b: impl AsArray<'b, T, Ix2>,
        projections: usize,
        seed: u64,
    ) -> Result<f64> {
        let (a, b) = (a.into(), b.into());
        if a.ncols() != b.ncols() {
            return Err(Error::shape(format!("a has {} columns but b has {}", a.ncols(), b.ncols())));
        }
        m::sliced_w2(&read_f64(&a, "a")?, &read_f64(&b, "b")?, a.ncols(), projections, seed)
    }
}

/// Seeded 2-D toy distributions (the SCONES paper's Fig. 4 transports a Gaussian to the Swiss
/// roll).
pub mod toy {
    use ndarray::Array2;

    use super::super::array2;
    use crate::runtime::error::Result;

    pub use crate::reference::toy::Toy;

    /// n points (n x 2) of `toy`.
    pub fn sample(toy: Toy, n: usize, seed: u64) -> Result<Array2<f64>> {
        array2(crate::reference::toy::sample(toy, n, seed)?, n, 2)
    }
}
