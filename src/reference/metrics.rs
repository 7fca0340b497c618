//! Metrics against known answers: BW-UVP of a covariance, empirical covariances, sliced W2.

use tch::Tensor;

use crate::reference::linalg;
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::runtime::rng::Rng64;

/// Bures-Wasserstein unexplained-variance percentage (Korotin et al. 2021, on covariances as in
/// Chen et al. 2021 / the SCONES paper), on the 0-100 scale:
///
///   BW-UVP = 100 * B^2(S_hat, S) / (1/2 tr S),
///   B^2 = 1/2 (tr S_hat + tr S - 2 tr (S^1/2 S_hat S^1/2)^1/2).
///
/// Korotin et al.'s quadratic cost carries a factor 1/2, hence the 1/2 in both places.
pub fn bw_uvp(sigma_hat: &[f64], sigma: &[f64], k: usize) -> Result<f64> {
    let (sh, s) = (linalg::mat(sigma_hat, k)?, linalg::mat(sigma, k)?);
    if sigma_hat.iter().chain(sigma).any(|v| !v.is_finite()) {
        return Err(Error::non_finite("covariance holds NaN or infinity"));
    }
    check_psd(&sh, "estimated covariance")?;
    check_psd(&s, "reference covariance")?;
    let s_half = linalg::sqrtm_psd(&s)?;
    let cross = linalg::sqrtm_psd(&s_half.f_matmul(&sh)?.f_matmul(&s_half)?)?;
    let tr = |t: &Tensor| -> Result<f64> { Ok(t.f_trace()?.f_double_value(&[])?) };
    let (tr_sh, tr_s, tr_c) = (tr(&sh)?, tr(&s)?, tr(&cross)?);
    if tr_s.is_nan() || tr_s <= 0.0 {
        return Err(Error::invalid("reference covariance has zero trace"));
    }
    let b2 = 0.5 * (tr_sh + tr_s - 2.0 * tr_c);
    Ok(100.0 * b2.max(0.0) / (0.5 * tr_s))
}

/// Symmetric positive semi-definite up to rounding: a covariance with a clearly negative
/// eigenvalue is no covariance, and sqrtm_psd would silently clamp it to one (returning a
/// plausible-looking BW-UVP for garbage input).
fn check_psd(a: &Tensor, what: &str) -> Result<()> {
    let v = linalg::to_vec(a)?;
    let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let asym = linalg::to_vec(&a.f_sub(&a.f_transpose(0, 1)?)?.f_abs()?)?.into_iter().fold(0.0, f64::max);
    if asym > 1e-6 * scale.max(1e-300) {
        return Err(Error::invalid(format!("{what} is not symmetric (max |A - A^T| = {asym:e})")));
    }
    let w = linalg::eigenvalues(a)?;
    let (lo, hi) = (w[0], w[w.len() - 1]);
    if lo < -1e-9 * hi.abs().max(1e-300) {
        return Err(Error::invalid(format!("{what} is not positive semi-definite (smallest eigenvalue {lo:e})")));
    }
    Ok(())
}

/// Unbiased (n - 1) covariance of the rows of `samples` [n, k], row-major; centered on the
/// sample mean as numpy.cov does.
pub fn covariance(samples: &[f64], k: usize) -> Result<Vec<f64>> {
    if k == 0 || samples.len() % k != 0 || samples.len() / k < 2 {
        return Err(Error::shape(format!("need at least 2 rows of {k} values, got {} values", samples.len())));
    }
    let x = Tensor::f_from_slice(samples)?.f_view([-1, k as i64])?;
    let n = x.size()[0] as f64;
    let xc = x.f_sub(&x.f_mean_dim(0, true, None)?)?;
    linalg::to_vec(&xc.f_transpose(0, 1)?.f_matmul(&xc)?.f_div_scalar(n - 1.0)?)
}

/// Covariance of the joint rows (x_i, y_i), as a (dx + dy) square matrix.
pub fn joint_covariance(x: &[f64], dx: usize, y: &[f64], dy: usize) -> Result<Vec<f64>> {
    if dx == 0 || dy == 0 || x.len() % dx != 0 || y.len() % dy != 0 || x.len() / dx != y.len() / dy {
        return Err(Error::shape("x and y must hold the same number of rows"));
    }
    let n = x.len() / dx;
    let mut joint = Vec::with_capacity(n * (dx + dy));
    for i in 0..n {
        joint.extend_from_slice(&x[i * dx..(i + 1) * dx]);
        joint.extend_from_slice(&y[i * dy..(i + 1) * dy]);
    }
    covariance(&joint, dx + dy)
}

/// Multiply-adds one sliced_w2 call may do (it has no cancellation point).
const MAX_SLICED_WORK: usize = 1 << 36;

/// Sliced 2-Wasserstein distance between two point sets of the same dimension:
/// sqrt(mean over `projections` random unit directions of W2^2 of the 1-D projections).
/// With different set sizes the 1-D distance compares quantile functions on the union grid.
pub fn sliced_w2(a: &[f64], b: &[f64], d: usize, projections: usize, seed: u64) -> Result<f64> {
    if d == 0 || a.len() % d != 0 || b.len() % d != 0 || a.is_empty() || b.is_empty() {
        return Err(Error::shape("point sets must be non-empty with d values per point"));
    }
    limits::count("projections", projections, limits::MAX_PROJECTIONS)?;
    let (na, nb) = (a.len() / d, b.len() / d);
    // The work is projections x (na + nb) x d multiply-adds with no cancellation point: cap it
    // (2^36, about a minute) rather than let a caller's count run unbounded.
    let work = projections.saturating_mul(na + nb).saturating_mul(d);
    if work > MAX_SLICED_WORK {
        return Err(Error::invalid(format!(
            "sliced W2 with {projections} projections of {na} + {nb} points in dimension {d} exceeds the work cap \
             ({MAX_SLICED_WORK} multiply-adds); use fewer projections or points"
        )));
    }
    let mut rng = Rng64::new(seed);
    let mut total = 0.0;
    for _ in 0..projections {
        let mut dir = rng.normals_f64(d);
        let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
        dir.iter_mut().for_each(|v| *v /= norm);
        let project = |p: &[f64], n: usize| -> Vec<f64> {
            let mut v: Vec<f64> = (0..n).map(|i| (0..d).map(|k| p[i * d + k] * dir[k]).sum()).collect();
            v.sort_by(|x, y| x.total_cmp(y));
            v
        };
        total += w2_squared_1d(&project(a, na), &project(b, nb));
    }
    Ok((total / projections as f64).sqrt())
}

/// W2^2 between two sorted 1-D empirical measures with uniform weights.
pub fn w2_squared_1d(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len(), b.len());
    if na == nb {
        return a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / na as f64;
    }
    // Merge the two quantile grids: on each interval between consecutive breakpoints k/na, l/nb
    // both quantile functions are constant.
    let (mut i, mut j, mut t, mut acc) = (0usize, 0usize, 0.0f64, 0.0f64);
    while i < na && j < nb {
        let next_a = (i + 1) as f64 / na as f64;
        let next_b = (j + 1) as f64 / nb as f64;
        let next = next_a.min(next_b);
        acc += (next - t) * (a[i] - b[j]).powi(2);
        t = next;
        if next_a <= next {
            i += 1;
        }
        if next_b <= next {
            j += 1;
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::gaussian::{self, Spectrum};

    #[test]
    fn bw_uvp_is_zero_on_identical_covariances() {
        let c = gaussian::random_covariance(4, Spectrum::Geometric, 3).unwrap();
        assert!(bw_uvp(&c, &c, 4).unwrap() < 1e-9);
    }

    #[test]
    fn bw_uvp_hand_example() {
        // S = I_2, S_hat = diag(4, 1): tr S_hat + tr S - 2 tr (S_hat)^1/2 = 5 + 2 - 2 (2 + 1) = 1,
        // B^2 = 1/2, BW-UVP = 100 * (1/2) / (1/2 * 2) = 50.
        let v = bw_uvp(&[4.0, 0.0, 0.0, 1.0], &[1.0, 0.0, 0.0, 1.0], 2).unwrap();
        assert!((v - 50.0).abs() < 1e-9, "{v}");
    }

    #[test]
    fn exact_samples_sit_at_the_noise_floor() {
        // Second order in the estimation error D = S_hat - S, W2^2 = |D|_F^2 / 4 at S = I, and a
        // sample covariance of n points in k dimensions has E|D|_F^2 = k (k + 1) / n. So
        // E[BW-UVP] = 100 W2^2 / tr S ~ 100 (k + 1) / (4 n): 0.0125 for the d = 2 joint (k = 4)
        // at n = 10,000. Averaged over 12 seeds the mean must land within a factor 2.5 of it
        // (the exact factor depends on the spectrum of S).
        let d = 2;
        let a = gaussian::random_covariance(d, Spectrum::Geometric, 1).unwrap();
        let b = gaussian::random_covariance(d, Spectrum::Geometric, 2).unwrap();
        let j = gaussian::entropic_coupling_covariance(&a, &b, d, 4.0).unwrap();
        let (k, n) = (4usize, 10_000usize);
        let mut total = 0.0;
        for seed in 0..12 {
            let z = gaussian::sample(&[0.0; 4], &j, n, 100 + seed).unwrap();
            let v = bw_uvp(&covariance(&z, k).unwrap(), &j, k).unwrap();
            assert!(v > 0.0);
            total += v;
        }
        let mean = total / 12.0;
        let predicted = 100.0 * (k + 1) as f64 / (4.0 * n as f64);
        assert!(mean > predicted / 2.5 && mean < predicted * 2.5, "mean BW-UVP {mean} vs predicted {predicted}");
    }

    #[test]
    fn covariance_hand_example() {
        let c = covariance(&[1.0, 2.0, 3.0, 4.0, 5.0, 9.0], 2).unwrap();
        // x: 1, 3, 5 (var 4); y: 2, 4, 9 (mean 5, var (9 + 1 + 16) / 2 = 13); cov (-2*-3 + 0 + 2*4)/2 = 7
        assert_eq!(c, vec![4.0, 7.0, 7.0, 13.0]);
        let j = joint_covariance(&[1.0, 3.0, 5.0], 1, &[2.0, 4.0, 9.0], 1).unwrap();
        assert_eq!(j, c);
    }

    #[test]
    fn sliced_w2_hand_examples() {
        // 1-D: the only direction is +-1; W2 between {0, 1} and {2, 3} is 2.
        assert!((sliced_w2(&[0.0, 1.0], &[3.0, 2.0], 1, 3, 0).unwrap() - 2.0).abs() < 1e-12);
        // Identical sets: 0.
        let a = [0.1, 0.2, -1.0, 3.0, 0.5, 0.5];
        assert!(sliced_w2(&a, &a, 2, 10, 0).unwrap() < 1e-12);
        // A translation by c: SW2^2 = E_theta (theta . c)^2 = |c|^2 / d over the unit sphere.
        let c = [3.0, 4.0];
        let b: Vec<f64> = a.chunks(2).flat_map(|p| [p[0] + c[0], p[1] + c[1]]).collect();
        let sw = sliced_w2(&a, &b, 2, 20_000, 1).unwrap();
        let want = (25.0f64 / 2.0).sqrt();
        assert!((sw - want).abs() < 0.03 * want, "{sw} vs {want}");
        // Unequal sizes: {0} vs {0, 2}: quantiles 0|0 on [0, .5], 0|2 on [.5, 1] -> W2^2 = 2.
        assert!((w2_squared_1d(&[0.0], &[0.0, 2.0]) - 2.0).abs() < 1e-12);
    }
}
