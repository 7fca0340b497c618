//! A continuous entropic-OT pair with a known plan: the Gaussian-mixture construction of
//! Gushchin et al. (NeurIPS 2023, "Building the Bridge of Schrodinger: A Continuous Entropic
//! Optimal Transport Benchmark").
//!
//! Source P: a Gaussian mixture. Plan: pi(y | x) proportional to exp(-|x - y|^2 / (2 eps)) f(y)
//! with f a second Gaussian mixture (their "potential"). A Gaussian in y times a Gaussian in y is
//! a Gaussian, so pi(. | x) is again a mixture, with component n
//!
//!   weight  ~ w_n N(x; m_n, (s_n^2 + eps) I),
//!   variance v_n = (1 / s_n^2 + 1 / eps)^-1,   mean v_n (m_n / s_n^2 + x / eps).
//!
//! The target Q is the y-marginal of P pi(. | x). The plan's log-density is a(x) + b(y) -
//! |x - y|^2 / (2 eps), which is the form of the entropic OT plan for the cost |x - y|^2 at
//! lambda = 2 eps (KL regularizer): pi(x, y) = M(phi(x) + psi(y) - c(x, y)) P(x) Q(y) with the
//! library's M(v) = exp(v / lambda - 1) and the potentials of [`EntropicBench::phi`] and
//! psi(y) = lambda (log f(y) - log Q(y)). Since pi has marginals P and Q by construction, it is
//! their EOT plan (the Schrodinger system has one solution).
//!
//! Parameters follow the benchmark repository's construction notebook
//! (notebooks/GaussianMixtureDraft.ipynb in ngushchin/EntropicOTBenchmark; its published data
//! files hold one random draw of the same recipe, which we do not download): source 3 components,
//! per coordinate the centers are a random permutation of {0, 1, 2} times 2, centred, variance
//! 0.25 I; potential 5 components, per coordinate a permutation of {0, .., 4} times 1, centred,
//! standard deviation 0.5 * scale(d, eps); weights uniform(0, 1) draws, normalised.

use crate::runtime::error::{Error, Result};
use crate::runtime::rng::Rng64;

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// A mixture of isotropic Gaussians N(`means[n]`, `vars[n]` I) in d dimensions.
#[derive(Clone, Debug)]
pub struct IsoMixture {
    pub d: usize,
    pub weights: Vec<f64>,
    /// [components * d], row-major.
    pub means: Vec<f64>,
    pub vars: Vec<f64>,
}

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

fn log_normal_iso(y: &[f64], mean: &[f64], var: f64) -> f64 {
    -0.5 * (sq_dist(y, mean) / var + y.len() as f64 * (LN_2PI + var.ln()))
}

fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

impl IsoMixture {
    pub fn components(&self) -> usize {
        self.weights.len()
    }

    pub fn mean_of(&self, n: usize) -> &[f64] {
        &self.means[n * self.d..(n + 1) * self.d]
    }

    /// log w_n + log N(y; m_n, (vars[n] + extra_var) I) for every component.
    fn log_terms(&self, y: &[f64], extra_var: f64) -> Vec<f64> {
        (0..self.components())
            .map(|n| self.weights[n].ln() + log_normal_iso(y, self.mean_of(n), self.vars[n] + extra_var))
            .collect()
    }

    /// log density at y of the mixture smoothed by N(0, extra_var I).
    pub fn log_density(&self, y: &[f64], extra_var: f64) -> f64 {
        log_sum_exp(&self.log_terms(y, extra_var))
    }

    /// grad_y log of the mixture smoothed by N(0, sigma^2 I), written into `out`: the posterior
    /// weights of the components times their own scores.
    pub fn score(&self, y: &[f64], sigma: f64, out: &mut [f64]) {
        let s2 = sigma * sigma;
        let terms = self.log_terms(y, s2);
        let lse = log_sum_exp(&terms);
        out.iter_mut().for_each(|o| *o = 0.0);
        for (n, t) in terms.iter().enumerate() {
            let r = (t - lse).exp() / (self.vars[n] + s2);
            for (k, o) in out.iter_mut().enumerate() {
                *o += r * (self.means[n * self.d + k] - y[k]);
            }
        }
    }

    pub fn mean(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.d];
        for n in 0..self.components() {
            for (k, mk) in m.iter_mut().enumerate() {
                *mk += self.weights[n] * self.means[n * self.d + k];
            }
        }
        m
    }

    /// Law of total covariance: sum_n w_n (v_n I + (m_n - m)(m_n - m)^T), row-major d x d.
    pub fn covariance(&self) -> Vec<f64> {
        let (d, m) = (self.d, self.mean());
        let mut c = vec![0.0; d * d];
        for n in 0..self.components() {
            let w = self.weights[n];
            let dev: Vec<f64> = (0..d).map(|k| self.means[n * d + k] - m[k]).collect();
            for i in 0..d {
                c[i * d + i] += w * self.vars[n];
                for j in 0..d {
                    c[i * d + j] += w * dev[i] * dev[j];
                }
            }
        }
        c
    }

    /// n exact samples, row-major [n, d]: a component by inverse CDF, then its Gaussian.
    pub fn sample(&self, n: usize, rng: &mut Rng64) -> Vec<f64> {
        let mut out = Vec::with_capacity(n * self.d);
        for _ in 0..n {
            let u = rng.uniform();
            let (mut acc, mut c) = (0.0, self.components() - 1);
            for (i, w) in self.weights.iter().enumerate() {
                acc += w;
                if u < acc {
                    c = i;
                    break;
                }
            }
            let sd = self.vars[c].sqrt();
            out.extend(self.mean_of(c).iter().map(|m| m + sd * rng.normal()));
        }
        out
    }
}

/// Scale of the potential's standard deviation (times 0.5) in the benchmark notebook: larger in
/// high dimension so that the components of pi(. | x) overlap; at eps = 0.1 larger still.
fn potential_scale(d: usize, eps: f64) -> f64 {
    let table: [(usize, f64, f64); 7] =
        [(2, 0.5, 0.5), (4, 0.5, 0.5), (8, 1.0, 1.0), (16, 1.0, 1.0), (32, 4.0, 2.0), (64, 8.0, 2.0), (128, 8.0, 2.0)];
    let row = table.iter().rev().find(|r| r.0 <= d).unwrap_or(&table[0]);
    if eps < 0.5 {
        row.1
    } else {
        row.2
    }
}

/// Centers of `num` components: per coordinate an independent permutation of 0..num times
/// `dist`, shifted so that the grid is centred at 0.
fn grid_centers(d: usize, num: usize, dist: f64, rng: &mut Rng64) -> Vec<f64> {
    let mut c = vec![0.0; num * d];
    for k in 0..d {
        let mut perm: Vec<usize> = (0..num).collect();
        for i in (1..num).rev() {
            perm.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
        }
        for (n, p) in perm.iter().enumerate() {
            c[n * d + k] = dist * *p as f64 - dist * (num - 1) as f64 / 2.0;
        }
    }
    c
}

fn random_mixture(d: usize, num: usize, dist: f64, sd: f64, rng: &mut Rng64) -> IsoMixture {
    let raw: Vec<f64> = (0..num).map(|_| rng.uniform().max(1e-3)).collect();
    let total: f64 = raw.iter().sum();
    let means = grid_centers(d, num, dist, rng);
    IsoMixture { d, weights: raw.iter().map(|w| w / total).collect(), means, vars: vec![sd * sd; num] }
}

#[derive(Clone, Debug)]
pub struct EntropicBench {
    pub d: usize,
    pub eps: f64,
    pub source: IsoMixture,
    /// f(y), the mixture that multiplies the heat kernel in pi(y | x).
    pub potential: IsoMixture,
}

impl EntropicBench {
    pub fn new(d: usize, eps: f64, seed: u64) -> Result<EntropicBench> {
        if d == 0 || !(eps.is_finite() && eps > 0.0) {
            return Err(Error::invalid(format!("need d > 0 and eps > 0, got d = {d}, eps = {eps}")));
        }
        let mut rng = Rng64::new(seed);
        let source = random_mixture(d, 3, 2.0, 0.5, &mut rng);
        let potential = random_mixture(d, 5, 1.0, 0.5 * potential_scale(d, eps), &mut rng);
        Ok(EntropicBench { d, eps, source, potential })
    }

    /// The KL regularization strength at which pi is the entropic plan for |x - y|^2.
    pub fn lambda(&self) -> f64 {
        2.0 * self.eps
    }

    /// pi(. | x) as a mixture (closed form, see the module notes).
    pub fn conditional(&self, x: &[f64]) -> IsoMixture {
        let (p, eps) = (&self.potential, self.eps);
        let logits = p.log_terms(x, eps);
        let lse = log_sum_exp(&logits);
        let vars: Vec<f64> = p.vars.iter().map(|s2| s2 * eps / (s2 + eps)).collect();
        let mut means = Vec::with_capacity(p.means.len());
        for (n, v) in vars.iter().enumerate() {
            means.extend(p.mean_of(n).iter().zip(x).map(|(m, xk)| v * (m / p.vars[n] + xk / eps)));
        }
        IsoMixture { d: self.d, weights: logits.iter().map(|l| (l - lse).exp()).collect(), means, vars }
    }

    /// log Z(x), Z(x) = integral of exp(-|x - y|^2 / (2 eps)) f(y) dy
    /// = (2 pi eps)^{d/2} sum_n w_n N(x; m_n, (s_n^2 + eps) I).
    pub fn log_normalizer(&self, x: &[f64]) -> f64 {
        0.5 * self.d as f64 * (LN_2PI + self.eps.ln()) + self.potential.log_density(x, self.eps)
    }

    /// log pi(y | x) from the definition (heat kernel times f, over Z).
    pub fn log_plan_density(&self, x: &[f64], y: &[f64]) -> f64 {
        self.potential.log_density(y, 0.0) - sq_dist(x, y) / (2.0 * self.eps) - self.log_normalizer(x)
    }

    /// The source potential phi(x) = lambda (1 - log Z(x)) in the library's KL convention
    /// M(v) = exp(v / lambda - 1); with psi(y) = lambda (log f(y) - log Q(y)),
    /// M(phi + psi - c) Q(y) = pi(y | x).
    pub fn phi(&self, x: &[f64]) -> f64 {
        self.lambda() * (1.0 - self.log_normalizer(x))
    }

    /// Source points, row-major [n, d].
    pub fn sample_source(&self, n: usize, rng: &mut Rng64) -> Vec<f64> {
        self.source.sample(n, rng)
    }

    /// Target points: fresh sources, each pushed through the exact plan.
    pub fn sample_target(&self, n: usize, rng: &mut Rng64) -> Vec<f64> {
        let x = self.sample_source(n, rng);
        x.chunks(self.d).flat_map(|xi| self.conditional(xi).sample(1, rng)).collect()
    }

    /// tr Cov(Y) under Q by the law of total variance over `n` source draws (E tr Cov(Y | x) +
    /// tr Cov E[Y | x]): no y sampling noise, only the source average.
    pub fn target_variance(&self, n: usize, seed: u64) -> f64 {
        let mut rng = Rng64::new(seed);
        let x = self.sample_source(n, &mut rng);
        let d = self.d;
        let (mut inner, mut sum, mut sum_sq) = (0.0, vec![0.0; d], 0.0);
        for xi in x.chunks(d) {
            let c = self.conditional(xi);
            let m = c.mean();
            inner += (0..c.components())
                .map(|k| c.weights[k] * (d as f64 * c.vars[k] + sq_dist(c.mean_of(k), &m)))
                .sum::<f64>();
            sum.iter_mut().zip(&m).for_each(|(s, v)| *s += v);
            sum_sq += m.iter().map(|v| v * v).sum::<f64>();
        }
        let nf = n as f64;
        inner / nf + sum_sq / nf - sum.iter().map(|s| (s / nf) * (s / nf)).sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::{Cost, Divergence, Regularizer};

    #[test]
    fn conditional_moments_match_monte_carlo_of_the_exact_sampler() {
        for (d, eps) in [(2, 0.1), (16, 1.0), (64, 10.0)] {
            let b = EntropicBench::new(d, eps, 7).unwrap();
            let mut rng = Rng64::new(1);
            let x = b.sample_source(1, &mut rng);
            let c = b.conditional(&x);
            assert!((c.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            let n = 40_000;
            let y = c.sample(n, &mut rng);
            let (m, cov) = (c.mean(), c.covariance());
            let tr: f64 = (0..d).map(|i| cov[i * d + i]).sum();
            let emp_m: Vec<f64> = (0..d).map(|k| y.iter().skip(k).step_by(d).sum::<f64>() / n as f64).collect();
            // Mean error: E|m_hat - m|^2 = tr C / n; allow 4x that (a 1e-5 chance of a false alarm
            // would need about 5x for a chi-square with d degrees of freedom at d = 2).
            let err = sq_dist(&emp_m, &m);
            assert!(err < 6.0 * tr / n as f64, "d={d} eps={eps}: mean error^2 {err} vs tr C / n {}", tr / n as f64);
            let emp_c = crate::reference::metrics::covariance(&y, d).unwrap();
            let fro: f64 = emp_c.iter().zip(&cov).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
            // For Gaussian data E|C_hat - C|_F^2 = ((tr C)^2 + |C|_F^2) / n; a mixture has heavier
            // tails, hence the factor 4 on the standard deviation.
            let fro2: f64 = cov.iter().map(|v| v * v).sum();
            let sd = ((tr * tr + fro2) / n as f64).sqrt();
            assert!(fro < 4.0 * sd, "d={d} eps={eps}: |dC|_F {fro} vs expected {sd}");
        }
    }

    #[test]
    fn the_plan_is_the_kl_entropic_plan_at_lambda_two_eps() {
        let (d, eps) = (2, 1.0);
        let b = EntropicBench::new(d, eps, 3).unwrap();
        let mut rng = Rng64::new(5);
        let xs = b.sample_source(4, &mut rng);
        let ys = b.sample_target(4, &mut rng);
        let (x, y) = (|i: usize| &xs[i * d..(i + 1) * d], |j: usize| &ys[j * d..(j + 1) * d]);
        // The closed-form mixture pi(. | x) is the normalized heat kernel times f.
        for i in 0..4 {
            let c = b.conditional(x(i));
            for j in 0..4 {
                let a = c.log_density(y(j), 0.0);
                assert!((a - b.log_plan_density(x(i), y(j))).abs() < 1e-10);
            }
        }
        // log pi(y | x) + c(x, y) / lambda splits into a(x) + b(y) for the library's cost at
        // lambda = 2 eps: its mixed second difference vanishes.
        let cost = Cost::SqEuclidean;
        let h = |i: usize, j: usize| b.log_plan_density(x(i), y(j)) + cost.eval(x(i), y(j)) / b.lambda();
        for (i, j) in [(0, 1), (2, 3), (1, 3)] {
            let mixed = h(i, i) - h(i, j) - h(j, i) + h(j, j);
            assert!(mixed.abs() < 1e-9, "mixed difference {mixed}");
            // and at another lambda it does not.
            let wrong = |i: usize, j: usize| h(i, j) - cost.eval(x(i), y(j)) / b.lambda() + cost.eval(x(i), y(j));
            assert!((wrong(i, i) - wrong(i, j) - wrong(j, i) + wrong(j, j)).abs() > 1e-3);
        }
        // With the library's KL regularizer: Q(y) by Monte Carlo over the source, psi(y) =
        // lambda (log f(y) - log Q(y)), and M(phi + psi - c) must integrate to 1 over y ~ Q for
        // every x (pi(. | x) is a probability) and reproduce pi(y | x) / Q(y) pointwise.
        let reg = Regularizer::new(Divergence::Kl, b.lambda()).unwrap();
        let xq = b.sample_source(20_000, &mut Rng64::new(11));
        let log_q = |y: &[f64]| {
            let v: Vec<f64> = xq.chunks(d).map(|xk| b.log_plan_density(xk, y)).collect();
            log_sum_exp(&v) - (v.len() as f64).ln()
        };
        let psi = |y: &[f64]| b.lambda() * (b.potential.log_density(y, 0.0) - log_q(y));
        let yq = b.sample_target(1000, &mut Rng64::new(12));
        let psi_q: Vec<f64> = yq.chunks(d).map(psi).collect();
        for i in 0..4 {
            let m: f64 = yq
                .chunks(d)
                .zip(&psi_q)
                .map(|(yk, p)| reg.scalar(b.phi(x(i)) + p - cost.eval(x(i), yk)).1)
                .sum::<f64>()
                / psi_q.len() as f64;
            assert!((m - 1.0).abs() < 0.1, "E_Q[M] = {m} at source {i}");
            let (yj, pj) = (y(i), psi(y(i)));
            let ratio = reg.scalar(b.phi(x(i)) + pj - cost.eval(x(i), yj)).1;
            let want = (b.log_plan_density(x(i), yj) - log_q(yj)).exp();
            assert!((ratio / want - 1.0).abs() < 1e-9, "{ratio} vs {want}");
        }
    }

    #[test]
    fn smoothed_score_is_the_gradient_of_the_smoothed_log_density() {
        let b = EntropicBench::new(3, 0.1, 2).unwrap();
        let c = b.conditional(&[0.3, -1.0, 0.5]);
        let y = [0.1, -0.8, 0.7];
        for sigma in [0.0, 0.05, 1.0] {
            let mut g = [0.0; 3];
            c.score(&y, sigma, &mut g);
            for k in 0..3 {
                let (mut a, mut z) = (y, y);
                a[k] += 1e-6;
                z[k] -= 1e-6;
                let fd = (c.log_density(&a, sigma * sigma) - c.log_density(&z, sigma * sigma)) / 2e-6;
                assert!((fd - g[k]).abs() < 1e-4 * (1.0 + fd.abs()), "sigma {sigma}: {fd} vs {}", g[k]);
            }
        }
    }

    #[test]
    fn construction_is_seeded_and_target_variance_is_stable() {
        let a = EntropicBench::new(16, 1.0, 4).unwrap();
        let b = EntropicBench::new(16, 1.0, 4).unwrap();
        assert_eq!(a.potential.means, b.potential.means);
        let (v1, v2) = (a.target_variance(20_000, 1), a.target_variance(20_000, 2));
        assert!((v1 / v2 - 1.0).abs() < 0.03, "{v1} vs {v2}");
        let mut rng = Rng64::new(9);
        let y = a.sample_target(20_000, &mut rng);
        let c = crate::reference::metrics::covariance(&y, 16).unwrap();
        let tr: f64 = (0..16).map(|i| c[i * 16 + i]).sum();
        assert!((tr / v1 - 1.0).abs() < 0.05, "sampled tr Cov {tr} vs {v1}");
    }
}
