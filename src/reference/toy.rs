//! Seeded 2-D toy distributions (the usual test beds of neural OT papers; the SCONES paper's
//! Fig. 4 transports a unit Gaussian to the Swiss roll).

use crate::runtime::error::{Error, Result};
use crate::runtime::rng::Rng64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toy {
    /// Standard normal N(0, I_2).
    Gaussian,
    /// Swiss roll: t = 1.5 pi (1 + 2u), (t cos t, t sin t) / 5 plus N(0, 0.1^2) noise per axis
    /// (the scikit-learn generator, scaled so that the roll spans about [-2.5, 3]).
    SwissRoll,
    /// Two interleaving half circles (scikit-learn's make_moons) with N(0, 0.1^2) noise.
    Moons,
    /// Uniform on the circle of radius 2 with N(0, 0.05^2) radial noise.
    Circle,
    /// Mixture of 8 Gaussians (std 0.1) on the circle of radius 2, equal weights.
    EightGaussians,
}

impl Toy {
    pub fn name(self) -> &'static str {
        match self {
            Toy::Gaussian => "gaussian",
            Toy::SwissRoll => "swiss_roll",
            Toy::Moons => "moons",
            Toy::Circle => "circle",
            Toy::EightGaussians => "8gaussians",
        }
    }
}

/// n points [n, 2] row-major from `toy` with `seed`.
pub fn sample(toy: Toy, n: usize, seed: u64) -> Result<Vec<f64>> {
    if n == 0 {
        return Err(Error::invalid("n must be > 0"));
    }
    let mut rng = Rng64::new(seed);
    let mut out = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let (x, y) = match toy {
            Toy::Gaussian => (rng.normal(), rng.normal()),
            Toy::SwissRoll => {
                let t = 1.5 * std::f64::consts::PI * (1.0 + 2.0 * rng.uniform());
                (t * t.cos() / 5.0 + 0.1 * rng.normal(), t * t.sin() / 5.0 + 0.1 * rng.normal())
            }
            Toy::Moons => {
                let a = std::f64::consts::PI * rng.uniform();
                let (x, y) = if rng.uniform() < 0.5 { (a.cos(), a.sin()) } else { (1.0 - a.cos(), 0.5 - a.sin()) };
                (x + 0.1 * rng.normal(), y + 0.1 * rng.normal())
            }
            Toy::Circle => {
                let a = 2.0 * std::f64::consts::PI * rng.uniform();
                let r = 2.0 + 0.05 * rng.normal();
                (r * a.cos(), r * a.sin())
            }
            Toy::EightGaussians => {
                let k = (rng.uniform() * 8.0).floor().min(7.0);
                let a = k * std::f64::consts::PI / 4.0;
                (2.0 * a.cos() + 0.1 * rng.normal(), 2.0 * a.sin() + 0.1 * rng.normal())
            }
        };
        out.push(x);
        out.push(y);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toys_have_their_shapes() {
        let n = 20_000;
        let mean_sq_radius = |v: &[f64]| v.chunks(2).map(|p| p[0] * p[0] + p[1] * p[1]).sum::<f64>() / n as f64;
        // N(0, I_2): E|x|^2 = 2, standard error sqrt(Var |x|^2 / n) = sqrt(4 / n) = 0.014.
        assert!((mean_sq_radius(&sample(Toy::Gaussian, n, 1).unwrap()) - 2.0).abs() < 0.06);
        // Circle: radius 2 with tiny noise.
        let c = sample(Toy::Circle, n, 2).unwrap();
        assert!(c.chunks(2).all(|p| ((p[0] * p[0] + p[1] * p[1]).sqrt() - 2.0).abs() < 0.35));
        // 8 Gaussians: every point within 0.6 of one of the 8 centres, all centres used.
        let g = sample(Toy::EightGaussians, n, 3).unwrap();
        let mut used = [0usize; 8];
        for p in g.chunks(2) {
            let k = (0..8)
                .min_by(|&a, &b| {
                    let d = |k: usize| {
                        let a = k as f64 * std::f64::consts::PI / 4.0;
                        (p[0] - 2.0 * a.cos()).powi(2) + (p[1] - 2.0 * a.sin()).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            used[k] += 1;
        }
        assert!(used.iter().all(|&u| u > n / 8 - 400 && u < n / 8 + 400), "{used:?}");
        // Swiss roll: radius from the origin grows with the angle, spans roughly [-2.5, 3].
        let s = sample(Toy::SwissRoll, n, 4).unwrap();
        let (lo, hi) = s.iter().fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(lo > -3.5 && lo < -2.0 && hi > 2.0 && hi < 3.5, "{lo} {hi}");
        // Moons: two clusters of equal size split by y relative to the line y = 0.25.
        let m = sample(Toy::Moons, n, 5).unwrap();
        let upper = m.chunks(2).filter(|p| p[1] > 0.25).count();
        assert!((upper as f64 / n as f64 - 0.5).abs() < 0.05);
        assert_eq!(sample(Toy::Moons, 10, 5).unwrap(), sample(Toy::Moons, 10, 5).unwrap());
    }
}
