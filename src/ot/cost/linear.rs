//! The linear-operator cost c(x, y) = |A y - B x|^2 (A [k, dy], B [k, dx]): a source and a
//! target of different dimensions compared in a shared k-dimensional view. The paper's
//! super-resolution compares a 2x-downsampled source with the target; with this cost the
//! source stays at its own resolution (B = I) and A downsamples the target.

use parking_lot::Mutex;
use tch::{Device, Kind, Tensor};

use crate::runtime::error::{Error, Result};
use crate::runtime::model_file::ModelFile;

/// Largest operator (entries of A plus B): the matrices are copied to each device in use.
const MAX_ENTRIES: usize = 1 << 26;

pub struct LinearCost {
    /// Row-major A (k x dy) and B (k x dx), float64 as given.
    a: Vec<f64>,
    b: Vec<f64>,
    pub k: usize,
    pub dx: usize,
    pub dy: usize,
    /// 2 x the largest eigenvalue of A^T A: the y-Hessian's norm.
    curvature: f64,
    /// A^T and B^T as float32 tensors on the last device asked for (the networks' precision).
    on_device: Mutex<Option<(Device, Tensor, Tensor)>>,
}

impl std::fmt::Debug for LinearCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LinearCost(|A y - B x|^2, A {}x{}, B {}x{})", self.k, self.dy, self.k, self.dx)
    }
}

impl PartialEq for LinearCost {
    fn eq(&self, o: &Self) -> bool {
        (self.k, self.dx, self.dy) == (o.k, o.dx, o.dy) && self.a == o.a && self.b == o.b
    }
}

impl LinearCost {
    pub fn new(a: &[f64], b: &[f64], k: usize, dx: usize, dy: usize) -> Result<LinearCost> {
        if k == 0 || dx == 0 || dy == 0 {
            return Err(Error::invalid(format!("linear cost needs k, dx, dy > 0, got {k}, {dx}, {dy}")));
        }
        let (na, nb) = (k.checked_mul(dy), k.checked_mul(dx));
        match (na, nb) {
            (Some(na), Some(nb)) if na.saturating_add(nb) <= MAX_ENTRIES => {
                if a.len() != na || b.len() != nb {
                    return Err(Error::shape(format!(
                        "linear cost: A must hold k x dy = {na} values and B k x dx = {nb}, got {} and {}",
                        a.len(),
                        b.len()
                    )));
                }
            }
            _ => {
                return Err(Error::invalid(format!(
                    "linear cost: operators of {k} x ({dx} + {dy}) exceed {MAX_ENTRIES} entries"
                )))
            }
        }
        if let Some(i) = a.iter().chain(b).position(|v| !v.is_finite()) {
            return Err(Error::non_finite(format!("linear cost: entry {i} of A then B is not finite")));
        }
        let at = Tensor::f_from_slice(a)?.f_view([k as i64, dy as i64])?;
        let top = Tensor::f_linalg_eigvalsh(&at.f_transpose(0, 1)?.f_matmul(&at)?, "L")?.f_max()?.f_double_value(&[])?;
        if top <= 0.0 {
            return Err(Error::invalid("linear cost: A is zero, so the cost does not depend on y"));
        }
        Ok(LinearCost { a: a.to_vec(), b: b.to_vec(), k, dx, dy, curvature: 2.0 * top, on_device: Mutex::new(None) })
    }

    pub fn check_dims(&self, dx: usize, dy: usize) -> Result<()> {
        if (dx, dy) != (self.dx, self.dy) {
            return Err(Error::shape(format!(
                "linear cost maps sources of dimension {} and targets of dimension {}, got {dx} and {dy}",
                self.dx, self.dy
            )));
        }
        Ok(())
    }

    /// A (k x dy) and B (k x dx), row-major, as given.
    pub fn operators_f64(&self) -> (&[f64], &[f64]) {
        (&self.a, &self.b)
    }

    pub fn y_curvature(&self) -> f64 {
        self.curvature
    }

    /// (A^T [dy, k], B^T [dx, k]) on `device`, of `kind`: float32 (the networks') cached per
    /// device, float64 (the discrete solvers') formed from the float64 matrices each call.
    fn operators(&self, device: Device, kind: Kind) -> Result<(Tensor, Tensor)> {
        let t = |v: &[f64], cols: usize, kind: Kind| -> Result<Tensor> {
            Ok(Tensor::f_from_slice(v)?
                .f_view([self.k as i64, cols as i64])?
                .f_transpose(0, 1)?
                .f_contiguous()?
                .f_to_kind(kind)?
                .f_to_device(device)?)
        };
        if kind != Kind::Float {
            return Ok((t(&self.a, self.dy, kind)?, t(&self.b, self.dx, kind)?));
        }
        let mut cache = self.on_device.lock();
        if cache.as_ref().map_or(true, |(d, _, _)| *d != device) {
            *cache = Some((device, t(&self.a, self.dy, kind)?, t(&self.b, self.dx, kind)?));
        }
        let (_, at, bt) = cache.as_ref().ok_or_else(|| Error::internal("operator cache"))?;
        Ok((at.shallow_clone(), bt.shallow_clone()))
    }

    /// (B x [m, k], A y [n, k]).
    fn views(&self, x: &Tensor, y: &Tensor) -> Result<(Tensor, Tensor)> {
        self.check_dims(x.size()[1] as usize, y.size()[1] as usize)?;
        let (at, bt) = self.operators(x.device(), x.kind())?;
        Ok((x.f_matmul(&bt)?, y.f_matmul(&at)?))
    }

    pub fn paired(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (bx, ay) = self.views(x, y)?;
        Ok(ay.f_sub(&bx)?.f_square()?.f_sum_dim_intlist(1, false, None)?)
    }

    pub fn pairwise(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (bx, ay) = self.views(x, y)?;
        let xx = bx.f_square()?.f_sum_dim_intlist(1, true, None)?;
        let yy = ay.f_square()?.f_sum_dim_intlist(1, true, None)?.f_transpose(0, 1)?;
        let xy = bx.f_matmul(&ay.f_transpose(0, 1)?)?;
        Ok(xx.f_add(&yy)?.f_sub(&xy.f_mul_scalar(2.0)?)?.f_clamp_min(0.0)?)
    }

    /// grad_y = 2 A^T (A y - B x), row by row: 2 (y A^T - x B^T) A.
    pub fn grad_y(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (bx, ay) = self.views(x, y)?;
        let (at, _) = self.operators(x.device(), x.kind())?;
        Ok(ay.f_sub(&bx)?.f_matmul(&at.f_transpose(0, 1)?)?.f_mul_scalar(2.0)?)
    }

    pub fn eval(&self, x: &[f64], y: &[f64]) -> f64 {
        (0..self.k)
            .map(|r| {
                let ay: f64 = (0..self.dy).map(|j| self.a[r * self.dy + j] * y[j]).sum();
                let bx: f64 = (0..self.dx).map(|j| self.b[r * self.dx + j] * x[j]).sum();
                (ay - bx) * (ay - bx)
            })
            .sum()
    }

    pub fn store(&self, f: &mut ModelFile) {
        f.set("cost_k", self.k);
        let t = |v: &[f64], cols: usize| Tensor::from_slice(v).view([self.k as i64, cols as i64]);
        f.tensors.insert("cost.a".into(), t(&self.a, self.dy));
        f.tensors.insert("cost.b".into(), t(&self.b, self.dx));
    }

    pub fn restore(f: &ModelFile, dx: usize, dy: usize) -> Result<LinearCost> {
        let k: usize = f.get_parsed("cost_k")?;
        let read = |name: &str, cols: usize| -> Result<Vec<f64>> {
            let t = f.tensor(name)?;
            if t.size() != [k as i64, cols as i64] {
                return Err(Error::format(format!("{name} is {:?}, expected [{k}, {cols}]", t.size())));
            }
            crate::reference::linalg::to_vec(&t.f_to_kind(Kind::Double)?)
        };
        LinearCost::new(&read("cost.a", dy)?, &read("cost.b", dx)?, k, dx, dy).map_err(|e| Error::format(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::Cost;
    use crate::runtime::rng::Rng64;

    fn cost(k: usize, dx: usize, dy: usize, seed: u64) -> Cost {
        let mut rng = Rng64::new(seed);
        Cost::linear(&rng.normals_f64(k * dy), &rng.normals_f64(k * dx), k, dx, dy).unwrap()
    }

    #[test]
    fn values_pairs_and_gradient_agree_with_the_scalar_form_and_finite_differences() {
        let c = cost(3, 2, 5, 1);
        let mut rng = Rng64::new(2);
        let x = rng.normal_tensor(&[4, 2], Kind::Double, Device::Cpu).unwrap();
        let y = rng.normal_tensor(&[6, 5], Kind::Double, Device::Cpu).unwrap();
        let pw = c.pairwise(&x, &y).unwrap();
        let xs = crate::reference::linalg::to_vec(&x).unwrap();
        let ys = crate::reference::linalg::to_vec(&y).unwrap();
        for i in 0..4 {
            for j in 0..6 {
                let want = c.eval(&xs[i * 2..i * 2 + 2], &ys[j * 5..j * 5 + 5]);
                assert!((pw.double_value(&[i as i64, j as i64]) - want).abs() < 1e-9 * (1.0 + want));
            }
        }
        // Paired rows, and grad_y by central differences of the scalar form.
        let y4 = y.narrow(0, 0, 4);
        let pr = c.paired(&x, &y4).unwrap();
        let g = c.grad_y(&x, &y4).unwrap();
        let h = 1e-6;
        for i in 0..4 {
            let xi = &xs[i * 2..i * 2 + 2];
            let yi = ys[i * 5..i * 5 + 5].to_vec();
            assert!((pr.double_value(&[i as i64]) - c.eval(xi, &yi)).abs() < 1e-9);
            for j in 0..5 {
                let (mut p, mut q) = (yi.clone(), yi.clone());
                p[j] += h;
                q[j] -= h;
                let fd = (c.eval(xi, &p) - c.eval(xi, &q)) / (2.0 * h);
                let an = g.double_value(&[i as i64, j as i64]);
                assert!((fd - an).abs() < 1e-6 * (1.0 + fd.abs()), "({i}, {j}): {an} vs {fd}");
            }
        }
    }

    #[test]
    fn curvature_is_the_largest_eigenvalue_of_the_y_hessian() {
        // A = diag(1, 3) (k = dy = 2): Hessian 2 A^T A = diag(2, 18).
        let c = Cost::linear(&[1.0, 0.0, 0.0, 3.0], &[1.0, 1.0], 2, 1, 2).unwrap();
        assert!((c.y_curvature(2) - 18.0).abs() < 1e-9);
    }

    #[test]
    fn bad_operators_and_dimensions_are_refused() {
        assert!(Cost::linear(&[1.0; 5], &[1.0; 4], 2, 2, 3).is_err(), "A of the wrong size");
        assert!(Cost::linear(&[f64::NAN; 6], &[1.0; 4], 2, 2, 3).is_err(), "non-finite A");
        assert!(Cost::linear(&[0.0; 6], &[1.0; 4], 2, 2, 3).is_err(), "A = 0");
        assert!(Cost::linear(&[], &[], 0, 2, 3).is_err(), "k = 0");
        assert!(Cost::linear(&[1.0], &[1.0], usize::MAX, 2, 3).is_err(), "overflowing size");
        let c = cost(2, 2, 3, 4);
        assert!(c.check_dims(2, 3).is_ok() && c.check_dims(3, 2).is_err() && c.check_dims(2, 2).is_err());
    }

    #[test]
    fn a_model_file_round_trip_keeps_the_operators() {
        let c = cost(3, 2, 4, 5);
        let mut f = ModelFile::new("test");
        c.store(&mut f).unwrap();
        assert_eq!(Cost::restore(&f, 2, 4).unwrap(), c);
        assert!(Cost::restore(&f, 4, 2).is_err());
    }
}
