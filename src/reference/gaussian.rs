//! Gaussian measures: random test covariances, exact samples, and the closed-form entropic
//! coupling (Janati, Muzellec, Peyre & Cuturi 2020), the known answer the whole pipeline is
//! checked against.

use tch::Tensor;

use crate::reference::linalg;
use crate::runtime::error::{Error, Result};
use crate::runtime::rng::Rng64;

/// Eigenvalue spectrum of random test covariances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spectrum {
    /// geomspace(1/2, 2, d): the authors' code, which produced the paper's Table 2.
    Geometric,
    /// i.i.d. uniform in [1, 10]: the paper's text (Sec. 5.2).
    Uniform1To10,
}

/// U diag(w) U^T with U Haar-distributed on O(d) and w from `spectrum`, from `seed`.
/// Returns a row-major d x d matrix.
pub fn random_covariance(d: usize, spectrum: Spectrum, seed: u64) -> Result<Vec<f64>> {
    if d == 0 {
        return Err(Error::invalid("dimension must be > 0"));
    }
    let mut rng = Rng64::new(seed);
    let u = haar_orthogonal(d, &mut rng);
    let w: Vec<f64> = match spectrum {
        Spectrum::Geometric => {
            (0..d).map(|i| if d == 1 { 0.5 } else { 0.5 * 4f64.powf(i as f64 / (d - 1) as f64) }).collect()
        }
        Spectrum::Uniform1To10 => (0..d).map(|_| 1.0 + 9.0 * rng.uniform()).collect(),
    };
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..d).map(|k| u[i * d + k] * w[k] * u[j * d + k]).sum();
            c[i * d + j] = s;
            c[j * d + i] = s;
        }
    }
    Ok(c)
}

/// A Haar-random orthogonal matrix (row-major): Gram-Schmidt on the columns of a standard
/// Gaussian matrix. Orthonormalizing Gaussian columns in order is the QR decomposition with a
/// positive diagonal of R, which is what makes Q Haar-distributed (Mezzadri 2007).
pub fn haar_orthogonal(d: usize, rng: &mut Rng64) -> Vec<f64> {
    let g = rng.normals_f64(d * d);
    let mut cols: Vec<Vec<f64>> = (0..d).map(|j| (0..d).map(|i| g[i * d + j]).collect()).collect();
    for j in 0..d {
        // Twice for numerical orthogonality ("twice is enough").
        for _ in 0..2 {
            let (done, rest) = cols.split_at_mut(j);
            let col = &mut rest[0];
            for prev in done.iter() {
                let dot: f64 = col.iter().zip(prev).map(|(a, b)| a * b).sum();
                for (a, b) in col.iter_mut().zip(prev) {
                    *a -= dot * b;
                }
            }
        }
        let norm = cols[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        for v in cols[j].iter_mut() {
            *v /= norm;
        }
    }
    let mut u = vec![0.0; d * d];
    for j in 0..d {
        for i in 0..d {
            u[i * d + j] = cols[j][i];
        }
    }
    u
}

/// n exact samples of N(mean, cov), row-major [n, d], via the symmetric square root of cov.
pub fn sample(mean: &[f64], cov: &[f64], n: usize, seed: u64) -> Result<Vec<f64>> {
    let d = mean.len();
    let c = linalg::mat(cov, d)?;
    linalg::check_pd(&c, "covariance")?;
    let root = linalg::sqrtm_psd(&c)?;
    let mut rng = Rng64::new(seed);
    let z = Tensor::f_from_slice(&rng.normals_f64(n * d))?.f_view([n as i64, d as i64])?;
    let m = Tensor::f_from_slice(mean)?;
    linalg::to_vec(&z.f_matmul(&root)?.f_add(&m)?)
}

/// Joint covariance [[A, C], [C^T, B]] (row-major 2d x 2d) of the KL-regularized OT coupling
/// between N(a_mean, A) and N(b_mean, B) for the cost |x - y|^2 and regularizer
/// lambda KL(pi || sigma x tau). With s^2 = lambda / 2 (Janati et al.'s sigma^2):
///
///   D = (4 A^1/2 B A^1/2 + s^4 I)^1/2,   C = 1/2 A^1/2 D A^-1/2 - (s^2 / 2) I.
///
/// The means do not enter C; the coupling's mean is (a_mean, b_mean).
pub fn entropic_coupling_covariance(a: &[f64], b: &[f64], d: usize, lambda: f64) -> Result<Vec<f64>> {
    if !(lambda.is_finite() && lambda > 0.0) {
        return Err(Error::invalid(format!("lambda must be > 0, got {lambda}")));
    }
    let (ta, tb) = (linalg::mat(a, d)?, linalg::mat(b, d)?);
    linalg::check_pd(&ta, "source covariance")?;
    linalg::check_pd(&tb, "target covariance")?;
    let s2 = lambda / 2.0;
    let a_half = linalg::sqrtm_psd(&ta)?;
    let a_inv_half = linalg::inv_sqrtm_pd(&ta)?;
    let eye = linalg::eye(d)?;
    let inner = a_half.f_matmul(&tb)?.f_matmul(&a_half)?.f_mul_scalar(4.0)?.f_add(&eye.f_mul_scalar(s2 * s2)?)?;
    let dm = linalg::sqrtm_psd(&inner)?;
    let c = a_half.f_matmul(&dm)?.f_matmul(&a_inv_half)?.f_mul_scalar(0.5)?.f_sub(&eye.f_mul_scalar(s2 / 2.0)?)?;
    let top = Tensor::f_cat(&[&ta, &c], 1)?;
    let bottom = Tensor::f_cat(&[&c.f_transpose(0, 1)?, &tb], 1)?;
    linalg::to_vec(&Tensor::f_cat(&[&top, &bottom], 0)?)
}

/// Joint covariance (row-major (dx + dy)^2) of the KL-regularized coupling between N(., A)
/// (dimension dx) and N(., B) (dimension dy) for the linear cost |L y - K x|^2 (`cost`'s
/// operators L [k, dy] and K [k, dx], both of full row rank k). The optimal density against sigma x tau depends on x
/// and y only through u = K x and v = L y (the potentials inherit it from the cost), so (u, v)
/// carries the entropic coupling of N(., K A K^T) and N(., L B L^T) under |u - v|^2, and x, y
/// are conditionally independent given (u, v) with their Gaussian regressions on u and v:
///
///   C_xy = A K^T (K A K^T)^-1 C_uv (L B L^T)^-1 L B.
pub fn linear_cost_coupling_covariance(
    a: &[f64],
    b: &[f64],
    cost: &crate::ot::cost::LinearCost,
    lambda: f64,
) -> Result<Vec<f64>> {
    let (l, k_op) = cost.operators_f64();
    let (k, dx, dy) = (cost.k, cost.dx, cost.dy);
    let ta = linalg::mat(a, dx)?;
    let tb = linalg::mat(b, dy)?;
    let tl = Tensor::f_from_slice(l)?.f_view([k as i64, dy as i64])?;
    let tk = Tensor::f_from_slice(k_op)?.f_view([k as i64, dx as i64])?;
    let su = tk.f_matmul(&ta)?.f_matmul(&tk.f_transpose(0, 1)?)?;
    let sv = tl.f_matmul(&tb)?.f_matmul(&tl.f_transpose(0, 1)?)?;
    linalg::check_pd(&su, "K A K^T")?;
    linalg::check_pd(&sv, "L B L^T")?;
    let uv = entropic_coupling_covariance(&linalg::to_vec(&su)?, &linalg::to_vec(&sv)?, k, lambda)?;
    let c_uv = linalg::mat(&uv, 2 * k)?.f_narrow(0, 0, k as i64)?.f_narrow(1, k as i64, k as i64)?;
    let c_xy = ta
        .f_matmul(&tk.f_transpose(0, 1)?)?
        .f_matmul(&su.f_inverse()?)?
        .f_matmul(&c_uv)?
        .f_matmul(&sv.f_inverse()?)?
        .f_matmul(&tl)?
        .f_matmul(&tb)?;
    let top = Tensor::f_cat(&[&ta, &c_xy], 1)?;
    let bottom = Tensor::f_cat(&[&c_xy.f_transpose(0, 1)?, &tb], 1)?;
    linalg::to_vec(&Tensor::f_cat(&[&top, &bottom], 0)?)
}

/// Joint covariance of (x, E[y | x]) under a centered Gaussian coupling with joint covariance
/// `joint` [[S_xx, S_xy], [S_yx, S_yy]]: [[S_xx, S_xy], [S_yx, S_yx S_xx^-1 S_xy]]. The conditional
/// mean is what barycentric projection estimates, so this is the BW-UVP reference for a perfect
/// barycentric map: what the method gives up by collapsing pi(y | x) to a point.
pub fn barycentric_projection_covariance(joint: &[f64], dx: usize, dy: usize) -> Result<Vec<f64>> {
    let k = dx + dy;
    if joint.len() != k * k {
        return Err(Error::shape(format!("joint covariance must have {} entries, got {}", k * k, joint.len())));
    }
    let j = linalg::mat(joint, k)?;
    let (kx, ky) = (dx as i64, dy as i64);
    let sxx = j.f_narrow(0, 0, kx)?.f_narrow(1, 0, kx)?;
    linalg::check_pd(&sxx, "source covariance")?;
    let sxy = j.f_narrow(0, 0, kx)?.f_narrow(1, kx, ky)?;
    let syy_bp = sxy.f_transpose(0, 1)?.f_matmul(&sxx.f_inverse()?)?.f_matmul(&sxy)?;
    let top = Tensor::f_cat(&[&sxx, &sxy], 1)?;
    let bottom = Tensor::f_cat(&[&sxy.f_transpose(0, 1)?, &linalg::symmetrize(&syy_bp)?], 1)?;
    linalg::to_vec(&Tensor::f_cat(&[&top, &bottom], 0)?)
}

/// The Monge (Brenier) map between centered Gaussians, T = A^-1/2 (A^1/2 B A^1/2)^1/2 A^-1/2:
/// the lambda -> 0 limit of the entropic coupling (whose cross-covariance tends to A T).
pub fn monge_map(a: &[f64], b: &[f64], d: usize) -> Result<Vec<f64>> {
    let (ta, tb) = (linalg::mat(a, d)?, linalg::mat(b, d)?);
    let a_half = linalg::sqrtm_psd(&ta)?;
    let a_inv_half = linalg::inv_sqrtm_pd(&ta)?;
    let mid = linalg::sqrtm_psd(&a_half.f_matmul(&tb)?.f_matmul(&a_half)?)?;
    linalg::to_vec(&a_inv_half.f_matmul(&mid)?.f_matmul(&a_inv_half)?)
}

/// Log-density of N(mean, cov) at the rows of y (for tests and references), up to nothing.
pub fn log_density(mean: &[f64], cov: &[f64], y: &[f64]) -> Result<Vec<f64>> {
    let d = mean.len();
    let c = linalg::mat(cov, d)?;
    let prec = c.f_inverse()?;
    let logdet = linalg::eigenvalues(&c)?.iter().map(|w| w.ln()).sum::<f64>();
    let yt = Tensor::f_from_slice(y)?.f_view([-1, d as i64])?.f_sub(&Tensor::f_from_slice(mean)?)?;
    let q = yt.f_matmul(&prec)?.f_mul(&yt)?.f_sum_dim_intlist(1, false, None)?;
    let k = -0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + logdet);
    linalg::to_vec(&q.f_mul_scalar(-0.5)?.f_add_scalar(k)?)
}

/// Density ratio pi(x, y) / (sigma(x) tau(y)) of a centered joint Gaussian with covariance
/// `joint` ((dx + dy) square) against the product of its marginals, at the rows of x [n, dx]
/// and y [n, dy]. For the closed-form coupling this is the exact compatibility M*(V*(x, y)), the
/// reference for a learned pseudo-plan (Theorem 4.3 bounds their L1 distance).
pub fn density_ratio(joint: &[f64], dx: usize, dy: usize, x: &[f64], y: &[f64]) -> Result<Vec<f64>> {
    let k = dx + dy;
    let j = linalg::mat(joint, k)?;
    let n = x.len() / dx;
    if x.len() != n * dx || y.len() != n * dy {
        return Err(Error::shape("x and y must hold the same number of rows"));
    }
    let xt = Tensor::f_from_slice(x)?.f_view([n as i64, dx as i64])?;
    let yt = Tensor::f_from_slice(y)?.f_view([n as i64, dy as i64])?;
    let xy = Tensor::f_cat(&[&xt, &yt], 1)?;
    // log N(z; 0, S) without the 2 pi terms, which cancel between numerator and denominator.
    let logn = |z: &Tensor, s: &Tensor| -> Result<Tensor> {
        let logdet = linalg::eigenvalues(s)?.iter().map(|w| w.ln()).sum::<f64>();
        let q = z.f_matmul(&s.f_inverse()?)?.f_mul(z)?.f_sum_dim_intlist(1, false, None)?;
        Ok(q.f_add_scalar(logdet)?.f_mul_scalar(-0.5)?)
    };
    let a = j.f_narrow(0, 0, dx as i64)?.f_narrow(1, 0, dx as i64)?;
    let b = j.f_narrow(0, dx as i64, dy as i64)?.f_narrow(1, dx as i64, dy as i64)?;
    let log_ratio = logn(&xy, &j)?.f_sub(&logn(&xt, &a)?)?.f_sub(&logn(&yt, &b)?)?;
    linalg::to_vec(&log_ratio.f_exp()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
    }

    fn inverse(m: &[f64], k: usize) -> Vec<f64> {
        linalg::to_vec(&linalg::mat(m, k).unwrap().inverse()).unwrap()
    }

    #[test]
    fn barycentric_projection_covariance_by_hand_and_in_the_deterministic_limit() {
        // d = 1: [[a, c], [c, b]] -> [[a, c], [c, c^2 / a]].
        let bp = barycentric_projection_covariance(&[2.0, 0.6, 0.6, 1.5], 1, 1).unwrap();
        assert!(close(&bp, &[2.0, 0.6, 0.6, 0.18], 1e-12), "{bp:?}");
        // lambda -> 0: y = T x, E[y | x] = y, nothing is lost.
        let a = random_covariance(3, Spectrum::Geometric, 1).unwrap();
        let b = random_covariance(3, Spectrum::Geometric, 2).unwrap();
        let joint = entropic_coupling_covariance(&a, &b, 3, 1e-8).unwrap();
        let bp = barycentric_projection_covariance(&joint, 3, 3).unwrap();
        assert!(close(&bp, &joint, 1e-5), "{bp:?} vs {joint:?}");
    }

    #[test]
    fn one_dimensional_coupling_by_hand() {
        // d = 1, A = a, B = b, s^2 = lambda / 2: C solves c^2 + s^2 c - a b = 0 (the inverse
        // joint covariance has off-diagonal -2 / lambda), c = (sqrt(s^4 + 4 a b) - s^2) / 2.
        let (a, b, lambda) = (2.0f64, 0.5f64, 3.0f64);
        let s2 = lambda / 2.0;
        let c = ((s2 * s2 + 4.0 * a * b).sqrt() - s2) / 2.0;
        let j = entropic_coupling_covariance(&[a], &[b], 1, lambda).unwrap();
        assert!(close(&j, &[a, c, c, b], 1e-12), "{j:?} vs c = {c}");
    }

    #[test]
    fn coupling_has_the_entropic_interaction_and_the_marginals() {
        // pi(x, y) ∝ exp((phi(x) + psi(y) - |x - y|^2) / lambda) sigma(x) tau(y): the only x-y
        // interaction in log pi is 2 x.y / lambda, so the inverse joint covariance has
        // off-diagonal block -(2 / lambda) I, whatever A and B are. An independent check of C.
        for (d, seed) in [(2, 1u64), (5, 2), (16, 3)] {
            let a = random_covariance(d, Spectrum::Geometric, seed).unwrap();
            let b = random_covariance(d, Spectrum::Uniform1To10, seed + 10).unwrap();
            let lambda = 2.0 * d as f64;
            let j = entropic_coupling_covariance(&a, &b, d, lambda).unwrap();
            let inv = inverse(&j, 2 * d);
            for r in 0..d {
                for c in 0..d {
                    assert!(close(&[j[r * 2 * d + c]], &[a[r * d + c]], 1e-10));
                    assert!(close(&[j[(d + r) * 2 * d + d + c]], &[b[r * d + c]], 1e-10));
                    let off = inv[r * 2 * d + d + c];
                    let want = if r == c { -2.0 / lambda } else { 0.0 };
                    assert!((off - want).abs() < 1e-8, "d {d}: inverse off-diagonal ({r},{c}) = {off}, want {want}");
                }
            }
        }
    }

    #[test]
    fn vanishing_regularization_gives_the_brenier_map() {
        let d = 4;
        let a = random_covariance(d, Spectrum::Geometric, 7).unwrap();
        let b = random_covariance(d, Spectrum::Geometric, 8).unwrap();
        let t = monge_map(&a, &b, d).unwrap();
        // cross-covariance of (x, T x) is A T (T symmetric)
        let at = linalg::to_vec(&linalg::mat(&a, d).unwrap().matmul(&linalg::mat(&t, d).unwrap())).unwrap();
        let j = entropic_coupling_covariance(&a, &b, d, 1e-7).unwrap();
        let c: Vec<f64> = (0..d).flat_map(|r| (0..d).map(move |k| (r, k))).map(|(r, k)| j[r * 2 * d + d + k]).collect();
        assert!(close(&c, &at, 1e-5), "{c:?} vs {at:?}");
        // and T pushes A to B: T A T = B
        let (tt, ta) = (linalg::mat(&t, d).unwrap(), linalg::mat(&a, d).unwrap());
        let pushed = linalg::to_vec(&tt.matmul(&ta).matmul(&tt)).unwrap();
        assert!(close(&pushed, &b, 1e-8));
    }

    #[test]
    fn random_covariances_have_the_requested_spectrum() {
        let d = 6;
        let c = random_covariance(d, Spectrum::Geometric, 11).unwrap();
        let w = linalg::eigenvalues(&linalg::mat(&c, d).unwrap()).unwrap();
        let want: Vec<f64> = (0..d).map(|i| 0.5 * 4f64.powf(i as f64 / (d - 1) as f64)).collect();
        assert!(close(&w, &want, 1e-10), "{w:?}");
        let u = random_covariance(d, Spectrum::Uniform1To10, 11).unwrap();
        let w = linalg::eigenvalues(&linalg::mat(&u, d).unwrap()).unwrap();
        assert!(w.iter().all(|&x| (1.0..=10.0).contains(&x)));
        // eigenvectors are not axis-aligned: the matrix is not diagonal
        assert!(c[1].abs() > 1e-3);
        assert_eq!(c, random_covariance(d, Spectrum::Geometric, 11).unwrap(), "same seed, same matrix");
    }

    #[test]
    fn haar_matrices_are_orthogonal() {
        let d = 9;
        let u = haar_orthogonal(d, &mut Rng64::new(4));
        let ut = linalg::mat(&u, d).unwrap();
        let eye = linalg::to_vec(&ut.matmul(&ut.tr())).unwrap();
        let want = linalg::to_vec(&linalg::eye(d).unwrap()).unwrap();
        assert!(close(&eye, &want, 1e-12));
    }

    #[test]
    fn density_ratio_integrates_to_one_over_the_product() {
        // E_{sigma x tau}[pi / (sigma tau)] = 1 (Monte Carlo, 200k pairs: standard error ~0.01).
        let d = 2;
        let a = random_covariance(d, Spectrum::Geometric, 1).unwrap();
        let b = random_covariance(d, Spectrum::Geometric, 2).unwrap();
        let j = entropic_coupling_covariance(&a, &b, d, 4.0).unwrap();
        let n = 200_000;
        let x = sample(&[0.0; 2], &a, n, 5).unwrap();
        let y = sample(&[0.0; 2], &b, n, 6).unwrap();
        let r = density_ratio(&j, d, d, &x, &y).unwrap();
        let mean = r.iter().sum::<f64>() / n as f64;
        let sd = (r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((mean - 1.0).abs() < 4.0 * sd / (n as f64).sqrt(), "mean ratio {mean} (sd {sd})");
    }
}
