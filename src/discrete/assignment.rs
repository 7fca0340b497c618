//! Exact solution of the assignment problem min_sigma sum_i C_{i, sigma(i)} over permutations:
//! the unregularized OT between two uniform measures with n atoms each (by Birkhoff's theorem a
//! permutation matrix / n is an optimal plan), used as the reference that Sinkhorn at small
//! lambda and IPOT must reach.
//!
//! [`solve`] is the shortest-augmenting-path form of the Hungarian method (Jonker-Volgenant
//! style, O(n^3)): rows are inserted one at a time, each by a Dijkstra search on reduced costs
//! C_ij - u_i - v_j >= 0, and the dual potentials (u, v) are kept feasible throughout, so the
//! result comes with an optimality certificate: sum_i u_i + sum_j v_j = cost and
//! u_i + v_j <= C_ij. [`brute_force`] enumerates all n! permutations for tiny n.

use crate::runtime::error::{Error, Result};
use tch::Tensor;

/// An optimal assignment: row i goes to column `columns[i]`.
#[derive(Clone, Debug)]
pub struct Assignment {
    pub columns: Vec<usize>,
    /// sum_i C_{i, columns\[i\]}.
    pub total_cost: f64,
    /// Dual potentials with u_i + v_j <= C_ij and equality on the assignment (empty from
    /// [`brute_force`]).
    pub u: Vec<f64>,
    pub v: Vec<f64>,
}

impl Assignment {
    /// <C, P> for the plan P = permutation / n between uniform measures.
    pub fn transport_cost(&self) -> f64 {
        self.total_cost / self.columns.len() as f64
    }

    /// The plan P_{i, sigma(i)} = 1/n as an [n, n] f64 tensor.
    pub fn plan(&self) -> Result<Tensor> {
        let n = self.columns.len();
        let mut p = vec![0.0; n * n];
        for (i, &j) in self.columns.iter().enumerate() {
            p[i * n + j] = 1.0 / n as f64;
        }
        crate::reference::linalg::mat(&p, n)
    }
}

fn square(cost: &[f64], n: usize) -> Result<()> {
    if n == 0 || cost.len() != n * n {
        return Err(Error::shape(format!(
            "assignment needs an n x n cost with n >= 1, got {} values for n = {n}",
            cost.len()
        )));
    }
    if cost.iter().any(|c| !c.is_finite()) {
        return Err(Error::non_finite("assignment cost holds NaN or infinity"));
    }
    Ok(())
}

/// Solves the assignment problem for a square cost tensor [n, n] (any float kind or device;
/// the work is done in f64 on the CPU).
pub fn solve_tensor(cost: &Tensor) -> Result<Assignment> {
    let s = cost.size();
    if s.len() != 2 || s[0] != s[1] {
        return Err(Error::shape(format!("assignment needs a square cost matrix, got {s:?}")));
    }
    solve(&crate::reference::linalg::to_vec(cost)?, s[0] as usize)
}

/// Solves the assignment problem for a row-major n x n cost, in O(n^3).
pub fn solve(cost: &[f64], n: usize) -> Result<Assignment> {
    square(cost, n)?;
    // 1-based arrays with a virtual column 0 holding the row being inserted, as in the classic
    // formulation; p[j] is the row matched to column j (0 = free).
    let inf = f64::INFINITY;
    let c = |i: usize, j: usize| cost[(i - 1) * n + (j - 1)];
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let (mut p, mut way) = (vec![0usize; n + 1], vec![0usize; n + 1]);
    let mut minv = vec![inf; n + 1];
    let mut used = vec![false; n + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        minv.iter_mut().for_each(|m| *m = inf);
        used.iter_mut().for_each(|b| *b = false);
        // Dijkstra on reduced costs from row i until a free column is reached.
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=n {
                if !used[j] {
                    let cur = c(i0, j) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        // Flip the augmenting path.
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut columns = vec![0usize; n];
    for j in 1..=n {
        columns[p[j] - 1] = j - 1;
    }
    let total_cost = columns.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum();
    Ok(Assignment { columns, total_cost, u: u[1..].to_vec(), v: v[1..].to_vec() })
}

/// The best of all n! permutations (Heap's algorithm), for n <= 10: an independent reference.
pub fn brute_force(cost: &[f64], n: usize) -> Result<Assignment> {
    square(cost, n)?;
    if n > 10 {
        return Err(Error::invalid(format!("brute-force assignment is for n <= 10, got {n}")));
    }
    let total = |perm: &[usize]| perm.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum::<f64>();
    let mut perm: Vec<usize> = (0..n).collect();
    let mut best = (total(&perm), perm.clone());
    let mut ctr = vec![0usize; n];
    let mut i = 1;
    while i < n {
        if ctr[i] < i {
            let k = if i % 2 == 0 { 0 } else { ctr[i] };
            perm.swap(k, i);
            let t = total(&perm);
            if t < best.0 {
                best = (t, perm.clone());
            }
            ctr[i] += 1;
            i = 1;
        } else {
            ctr[i] = 0;
            i += 1;
        }
    }
    Ok(Assignment { columns: best.1, total_cost: best.0, u: vec![], v: vec![] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discrete::testutil::uniform_points;
    use crate::ot::Cost;

    fn cost_of(n: usize, seed: u64) -> Vec<f64> {
        let x = uniform_points(n, 2, seed);
        let y = uniform_points(n, 2, seed + 1000);
        crate::reference::linalg::to_vec(&Cost::SqEuclidean.pairwise(&x, &y).unwrap()).unwrap()
    }

    #[test]
    fn hungarian_matches_brute_force() {
        for n in 1..=8 {
            for seed in 0..5 {
                let c = cost_of(n, seed);
                let h = solve(&c, n).unwrap();
                let b = brute_force(&c, n).unwrap();
                // Both sum the same n terms, so they agree to rounding of n additions.
                assert!(
                    (h.total_cost - b.total_cost).abs() <= 1e-12,
                    "n {n} seed {seed}: {} vs {}",
                    h.total_cost,
                    b.total_cost
                );
            }
        }
        // Ties and negative entries.
        let c = vec![1.0, 1.0, 1.0, 1.0, -2.0, 1.0, 1.0, 1.0, 1.0];
        assert_eq!(solve(&c, 3).unwrap().total_cost, brute_force(&c, 3).unwrap().total_cost);
    }

    #[test]
    fn hungarian_duals_certify_optimality() {
        // Weak duality: any permutation costs >= sum u + sum v when u_i + v_j <= C_ij, so
        // equality with a feasible (u, v) proves optimality without a second solver.
        let n = 300;
        let c = cost_of(n, 42);
        let a = solve(&c, n).unwrap();
        let mut seen = vec![false; n];
        a.columns.iter().for_each(|&j| seen[j] = true);
        assert!(seen.iter().all(|s| *s), "not a permutation");
        let dual: f64 = a.u.iter().sum::<f64>() + a.v.iter().sum::<f64>();
        // Rounding: potentials are sums of up to O(n) deltas of size <= max C = 2.
        assert!((dual - a.total_cost).abs() <= 1e-9 * a.total_cost.abs().max(1.0), "gap {}", dual - a.total_cost);
        let worst = (0..n * n).map(|k| a.u[k / n] + a.v[k % n] - c[k]).fold(f64::NEG_INFINITY, f64::max);
        assert!(worst <= 1e-12, "dual infeasible by {worst}");
        // Complementary slackness: every assigned pair is tight.
        let slack =
            a.columns.iter().enumerate().map(|(i, &j)| (c[i * n + j] - a.u[i] - a.v[j]).abs()).fold(0.0, f64::max);
        assert!(slack <= 1e-12, "assigned pair with slack {slack}");
        // The same on the brute-force sizes.
        for m in 1..=8 {
            let c = cost_of(m, 77);
            let a = solve(&c, m).unwrap();
            assert!((a.total_cost - brute_force(&c, m).unwrap().total_cost).abs() <= 1e-12);
            for i in 0..m {
                for j in 0..m {
                    let r = c[i * m + j] - a.u[i] - a.v[j];
                    assert!(
                        r >= -1e-12 && (a.columns[i] != j || r.abs() <= 1e-12),
                        "n {m}: reduced cost {r} at ({i}, {j})"
                    );
                }
            }
        }
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(solve(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(solve(&[1.0, f64::NAN, 3.0, 4.0], 2).is_err());
        assert!(brute_force(&vec![0.0; 121], 11).is_err());
        assert!(solve_tensor(&Tensor::zeros([2, 3], (tch::Kind::Double, tch::Device::Cpu))).is_err());
    }
}
