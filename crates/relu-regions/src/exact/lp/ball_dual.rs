//! A linear objective over an L2 ball cut by the node's rows, through its `m`-dimensional
//! dual:
//!
//! ```text
//!     p* = max c.x   subject to   ||x - x0||_2 <= r,   a_k . x <= b_k  (k < m)
//! ```
//!
//! With `z = x - x0` and `d = b - A x0`, the Lagrangian `c.z - lambda.(A z - d)`,
//! maximised over `||z|| <= r`, gives for every `lambda >= 0`
//!
//! ```text
//!     p* - c.x0 <= f(lambda) = lambda.d + r ||c - A^T lambda||_2,
//! ```
//!
//! with equality at the minimum over `lambda >= 0` when the set has an interior point
//! (Slater), and the primal optimum `z* = r (c - A^T lambda*) / ||c - A^T lambda*||` when
//! that norm is nonzero. With `G = A A^T` and `h = A c` (formed once, `O(m^2 n)`),
//! `||c - A^T lambda||^2 = c.c - 2 lambda.h + lambda^T G lambda`, so minimising `f` is a
//! smooth convex problem in `m` variables (where the norm is not zero), solved by a
//! projected Newton method (Bertsekas, *Projected Newton methods for optimization problems
//! with simple constraints*, SIAM J. Control Optim. 20 (1982)): the coordinates at zero
//! with a positive gradient are held there, a Newton step is taken in the others, and the
//! step is projected back onto `lambda >= 0` with an Armijo backtracking search.
//!
//! [`DualOptimum::bound`] is `f(lambda)` at the last iterate, evaluated through the
//! `n`-vector `c - A^T lambda` (not through `G`, which cancels) plus a bound on its
//! rounding error: an upper bound on `p*` whatever the accuracy of the iterations. The
//! point [`DualOptimum::x`] is `x0 + z*` for the last iterate, on the sphere; callers that
//! need a point inside check it themselves. When the norm vanishes at the optimum (the
//! rows alone bound the objective, the ball is not active) the method reports
//! [`BallSolve::Undecided`] and the caller uses another solver.

use crate::geometry::HalfSpaces;
use crate::linalg::dot;

use super::{DualOptimum, Halting, dual_residual};

/// The outcome of [`maximize_over_ball`].
#[derive(Debug, Clone)]
pub(crate) enum BallSolve {
    Optimal(DualOptimum),
    /// No convergence (or a vanishing norm): another solver must decide.
    Undecided,
    /// Told to stop ([`Halting`]).
    Interrupted,
}

/// Newton iterations before giving up.
const MAX_ITERATIONS: usize = 60;

/// `max c.x` over `rows ∩ B(x0, r)` by the projected Newton method on the dual (module
/// docs). `rows` should be normalised to unit norm.
pub(crate) fn maximize_over_ball(
    c: &[f64],
    rows: &HalfSpaces,
    x0: &[f64],
    r: f64,
    halt: Halting,
) -> BallSolve {
    let n = c.len();
    let m = rows.len();
    let d: Vec<f64> = (0..m).map(|k| rows.rhs(k) - dot(rows.row(k), x0)).collect();
    let h: Vec<f64> = (0..m).map(|k| dot(rows.row(k), c)).collect();
    let mut gram = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let v = dot(rows.row(i), rows.row(j));
            gram[i * m + j] = v;
            gram[j * m + i] = v;
        }
    }
    let cc = dot(c, c);
    let scale = cc.sqrt().max(f64::MIN_POSITIVE);
    // ||c - A^T lambda||^2 by the expansion (cheap; the final bound does not use it).
    let norm2 = |lambda: &[f64]| {
        let mut q = cc;
        for i in 0..m {
            q -= 2.0 * lambda[i] * h[i];
            q += lambda[i] * dot(&gram[i * m..(i + 1) * m], lambda);
        }
        q.max(0.0)
    };
    let f = |lambda: &[f64]| dot(lambda, &d) + r * norm2(lambda).sqrt();
    let mut lambda = vec![0.0; m];
    let mut value = f(&lambda);
    let mut converged = false;
    for iteration in 0..MAX_ITERATIONS {
        if iteration % 8 == 0 && halt.now() {
            return BallSolve::Interrupted;
        }
        let q = norm2(&lambda);
        let norm = q.sqrt();
        if norm <= 1e-9 * scale {
            return BallSolve::Undecided;
        }
        // gradient: d + r (G lambda - h) / norm
        let gl: Vec<f64> = (0..m)
            .map(|i| dot(&gram[i * m..(i + 1) * m], &lambda) - h[i])
            .collect();
        let grad: Vec<f64> = (0..m).map(|i| d[i] + r * gl[i] / norm).collect();
        // Converged: the projected gradient vanishes (relative to the objective's scale).
        let tol = 1e-12 * (scale * r + d.iter().fold(0.0_f64, |s, v| s.max(v.abs())));
        let projected = (0..m)
            .map(|i| {
                if lambda[i] > 0.0 {
                    grad[i].abs()
                } else {
                    (-grad[i]).max(0.0)
                }
            })
            .fold(0.0_f64, f64::max);
        if projected <= tol {
            converged = true;
            break;
        }
        // Held coordinates: at (or near) zero with a positive gradient.
        let eps = 1e-12 * (1.0 + lambda.iter().fold(0.0_f64, |s, v| s.max(*v)));
        let free: Vec<usize> = (0..m)
            .filter(|&i| !(lambda[i] <= eps && grad[i] > 0.0))
            .collect();
        // Newton step on the free coordinates: H = r (G / norm - g g^T / norm^3).
        let k = free.len();
        let mut step = vec![0.0; m];
        if k > 0 {
            let mut hess = vec![0.0; k * k];
            let mut trace = 0.0;
            for (a, &i) in free.iter().enumerate() {
                for (b, &j) in free.iter().enumerate() {
                    hess[a * k + b] = r * (gram[i * m + j] / norm - gl[i] * gl[j] / (norm * q));
                }
                trace += hess[a * k + a];
            }
            let shift = 1e-10 * (trace / k as f64).abs().max(f64::MIN_POSITIVE);
            for a in 0..k {
                hess[a * k + a] += shift;
            }
            let rhs: Vec<f64> = free.iter().map(|&i| -grad[i]).collect();
            match solve_symmetric(hess, rhs, k) {
                Some(p) => {
                    for (a, &i) in free.iter().enumerate() {
                        step[i] = p[a];
                    }
                }
                None => {
                    for &i in &free {
                        step[i] = -grad[i];
                    }
                }
            }
        }
        // Projected Armijo search.
        let mut alpha = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let trial: Vec<f64> = (0..m)
                .map(|i| (lambda[i] + alpha * step[i]).max(0.0))
                .collect();
            let decrease: f64 = (0..m).map(|i| grad[i] * (trial[i] - lambda[i])).sum();
            let v = f(&trial);
            if v <= value + 1e-4 * decrease.min(0.0) && v <= value {
                lambda = trial;
                value = v;
                accepted = true;
                break;
            }
            alpha *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    // The certificate through the n-vector w = c - A^T lambda, with its rounding error
    // (as in `bounded::certified_bound`).
    let (w, w_mag) = dual_residual(c, rows, &lambda);
    let wnorm = dot(&w, &w).sqrt();
    if wnorm <= 1e-9 * scale {
        return BallSolve::Undecided;
    }
    let u = f64::EPSILON / 2.0;
    let terms = (2 * (m + n) + 4) as f64;
    let gamma = terms * u / (1.0 - terms * u);
    let lambda_d: f64 = dot(&lambda, &d);
    let lambda_d_mag: f64 = lambda
        .iter()
        .zip(&d)
        .map(|(l, v)| (l * v).abs())
        .sum::<f64>()
        + lambda
            .iter()
            .enumerate()
            .map(|(k, l)| l * (rows.rhs(k).abs() + dot_abs(rows.row(k), x0)))
            .sum::<f64>();
    let c_x0 = dot(c, x0);
    let c_x0_mag: f64 = c.iter().zip(x0).map(|(a, b)| (a * b).abs()).sum();
    let w_mag_norm = dot(&w_mag, &w_mag).sqrt();
    let bound = c_x0
        + lambda_d
        + r * wnorm
        + 2.0 * gamma * (c_x0_mag + lambda_d_mag + r * w_mag_norm)
        + f64::MIN_POSITIVE;
    let x: Vec<f64> = x0
        .iter()
        .zip(&w)
        .map(|(a, wj)| a + r * wj / wnorm)
        .collect();
    BallSolve::Optimal(DualOptimum {
        value: dot(c, &x),
        x,
        bound,
        multipliers: lambda,
        converged,
    })
}

/// `sum_i |x_i y_i|`.
fn dot_abs(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| (a * b).abs()).sum()
}

/// The solution of `H p = rhs` for a symmetric positive definite `k x k` matrix by
/// Cholesky factorisation; `None` when a pivot is not positive.
fn solve_symmetric(mut a: Vec<f64>, mut rhs: Vec<f64>, k: usize) -> Option<Vec<f64>> {
    for j in 0..k {
        let mut diag = a[j * k + j];
        for p in 0..j {
            diag -= a[j * k + p] * a[j * k + p];
        }
        if diag <= 0.0 || !diag.is_finite() {
            return None;
        }
        let diag = diag.sqrt();
        a[j * k + j] = diag;
        for i in j + 1..k {
            let mut v = a[i * k + j];
            for p in 0..j {
                v -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = v / diag;
        }
    }
    for i in 0..k {
        let mut v = rhs[i];
        for p in 0..i {
            v -= a[i * k + p] * rhs[p];
        }
        rhs[i] = v / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut v = rhs[i];
        for p in i + 1..k {
            v -= a[p * k + i] * rhs[p];
        }
        rhs[i] = v / a[i * k + i];
    }
    Some(rhs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Domain, Norm};
    use crate::exact::lp::{LpOutcome, maximize};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn agrees_with_the_interior_point_solver_on_random_programs() {
        let mut rng = StdRng::seed_from_u64(17);
        let (mut decided, mut converged, mut total) = (0, 0, 0);
        for case in 0..200 {
            let n = [2, 3, 8, 30, 100, 256, 784][case % 7];
            let m = rng.random_range(0..12);
            let x0: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let r = rng.random_range(0.05..2.0);
            let mut rows = HalfSpaces::new(n);
            for _ in 0..m {
                let a: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
                let norm = dot(&a, &a).sqrt();
                let a: Vec<f64> = a.iter().map(|v| v / norm).collect();
                // Through a point of the ball, so that the centre side keeps an interior.
                let offset = rng.random_range(-0.6..1.2) * r;
                rows.push(&a, dot(&a, &x0) + offset);
            }
            let c: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let domain = Domain::ball(x0.clone(), r, Norm::L2).unwrap();
            let LpOutcome::Optimal(reference) = maximize(&c, &rows, &domain, None) else {
                continue;
            };
            total += 1;
            let scale = 1.0 + reference.abs();
            match maximize_over_ball(&c, &rows, &x0, r, Halting::default()) {
                BallSolve::Optimal(opt) => {
                    decided += 1;
                    // A proven bound: above clarabel's optimum (to its accuracy), and tight.
                    assert!(
                        opt.bound >= reference - 1e-7 * scale,
                        "case {case}: bound {} below {reference}",
                        opt.bound
                    );
                    assert!(
                        !opt.converged || opt.bound <= reference + 1e-6 * scale,
                        "case {case} (n {n}, m {m}): bound {} far above {reference}",
                        opt.bound
                    );
                    converged += usize::from(opt.converged);
                    // The point is on the sphere and, at convergence, nearly on the rows.
                    let e: Vec<f64> = opt.x.iter().zip(&x0).map(|(a, b)| a - b).collect();
                    assert!((dot(&e, &e).sqrt() - r).abs() <= 1e-9 * r, "case {case}");
                    let worst = (0..m).map(|k| -rows.slack(k, &opt.x)).fold(0.0, f64::max);
                    assert!(
                        !opt.converged || worst <= 1e-5 * r,
                        "case {case}: rows off by {worst}"
                    );
                }
                BallSolve::Undecided => {}
                BallSolve::Interrupted => panic!("no halting was asked"),
            }
        }
        assert!(
            converged * 10 >= total * 9,
            "{decided} of {total} decided, {converged} converged"
        );
    }
}
