//! A dense primal active-set method for small linear programs
//! `max c.y  s.t.  a_k . y <= b_k` over free variables `y in R^n`, started from a
//! feasible point.
//!
//! The region tree's programs have few variables (the input dimension, plus the radius)
//! and tens to hundreds of rows, and a feasible start is always at hand (a witness, or
//! any point with a small enough radius), so no phase one is needed. From the current
//! point `y` with the rows `W` active (linearly independent, at most `n`):
//!
//! 1. `p` = the projection of `c` onto the null space of the active rows (an orthonormal
//!    basis of their span is kept, Gram-Schmidt twice). If `p != 0`, step along it to the
//!    first blocking row (ratio test over the rows with `a_k . p > 0`) and make that row
//!    active; no blocking row means the program is unbounded.
//! 2. If `p = 0`, `c` is a combination `sum lambda_k a_k` of the active rows. All
//!    `lambda_k >= 0` proves optimality (the KKT conditions of an LP); otherwise the
//!    row with the most negative multiplier leaves.
//!
//! With `|W| = n` this is the primal simplex method. Degenerate steps switch to Bland's
//! smallest-index rule after a few iterations, which rules out cycling; an iteration cap
//! reports [`Solve::Stalled`] (the caller then falls back to the interior-point solver).
//! Rows should be normalised to unit norm: the tolerances are absolute.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use pulp::{Simd, WithSimd};

use crate::geometry::HalfSpaces;
use crate::linalg::dot;
use crate::simd::vectorized;

/// The outcome of [`maximize_from`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Solve {
    /// An optimal vertex (or face point), the optimal value, and the rows active there
    /// (their multipliers are nonnegative: `c` is a nonnegative combination of them, so
    /// `value` is also the optimum over these rows alone, and an upper bound on the
    /// optimum over any set of rows that contains them).
    Optimal {
        y: Vec<f64>,
        value: f64,
        active: Vec<usize>,
        /// The multipliers of the active rows (same order; nonnegative up to `1e-11`
        /// of `||c||`): `c ~ sum lambda_i a_{active[i]}`, for a weak-duality bound.
        multipliers: Vec<f64>,
    },
    Unbounded,
    /// No progress within the iteration cap.
    Stalled,
    /// Told to stop during the solve ([`Halting`], checked every [`DEADLINE_STRIDE`]
    /// iterations).
    Interrupted,
}

/// Iterations between two looks at the clock and the stop flag (an iteration costs
/// `O(m n)`; in 784-D with a thousand rows about a millisecond, so a limit is overrun by a
/// few milliseconds at most).
const DEADLINE_STRIDE: usize = 16;

/// When a program must stop before it ends: at a deadline (the enumeration's time limit),
/// or when another part of the search raises a flag (a region limit reached by another
/// thread, or an earlier interruption).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Halting<'a> {
    pub deadline: Option<Instant>,
    pub flag: Option<&'a AtomicBool>,
}

impl Halting<'_> {
    /// Whether the program must stop now.
    pub fn now(&self) -> bool {
        self.flag.is_some_and(|f| f.load(Ordering::Relaxed))
            || self.deadline.is_some_and(|t| Instant::now() >= t)
    }
}

/// Relative size below which a direction or a row's component is zero.
const TINY: f64 = 1e-11;

/// An orthonormal basis `q` of the span of the active rows, with `R` such that
/// `a_{W[i]} = sum_{j <= i} r[i][j] q[j]` (both flat, row `i` at `i * n`).
struct Basis {
    n: usize,
    k: usize,
    q: Vec<f64>,
    r: Vec<f64>,
}

impl Basis {
    fn new(n: usize) -> Self {
        Self {
            n,
            k: 0,
            q: vec![0.0; n * n],
            r: vec![0.0; n * n],
        }
    }

    fn q(&self, j: usize) -> &[f64] {
        &self.q[j * self.n..(j + 1) * self.n]
    }

    /// Adds row `a`; false when it is (numerically) in the span already.
    fn push(&mut self, a: &[f64]) -> bool {
        let (n, k) = (self.n, self.k);
        if k == n {
            return false;
        }
        let (done, rest) = self.q.split_at_mut(k * n);
        let v = &mut rest[..n];
        v.copy_from_slice(a);
        let coef = &mut self.r[k * n..(k + 1) * n];
        coef.fill(0.0);
        // Classical Gram-Schmidt, repeated when the first pass shrank the norm below
        // `1/sqrt(2)` of it (the Daniel-Gragg-Kaufman-Stewart criterion; "twice is
        // enough": after a second pass the vector is orthogonal to rounding level).
        let scale = dot(a, a).sqrt();
        let mut before = scale;
        for _ in 0..2 {
            for j in 0..k {
                let q = &done[j * n..(j + 1) * n];
                let h = dot(q, v);
                coef[j] += h;
                for (vi, qi) in v.iter_mut().zip(q) {
                    *vi -= h * qi;
                }
            }
            let after = dot(v, v).sqrt();
            if k == 0 || after >= std::f64::consts::FRAC_1_SQRT_2 * before {
                break;
            }
            before = after;
        }
        let norm = dot(v, v).sqrt();
        if norm <= TINY * scale.max(f64::MIN_POSITIVE) {
            return false;
        }
        for vi in v.iter_mut() {
            *vi /= norm;
        }
        coef[k] = norm;
        self.k += 1;
        true
    }

    /// The component of `c` orthogonal to the span, into `p`.
    fn project_out(&self, c: &[f64], p: &mut [f64]) {
        p.copy_from_slice(c);
        for _ in 0..2 {
            for j in 0..self.k {
                let q = self.q(j);
                let h = dot(q, p);
                for (pi, qi) in p.iter_mut().zip(q) {
                    *pi -= h * qi;
                }
            }
        }
    }

    /// `lambda` with `sum_i lambda_i a_{W[i]} = c` (least squares), by back substitution
    /// in `R^T lambda = Q^T c`, into `lambda[..k]`.
    fn multipliers(&self, c: &[f64], lambda: &mut [f64]) {
        let (n, k) = (self.n, self.k);
        // a_i = sum_j r[i][j] q_j, so c = sum_i lambda_i a_i gives
        // (Q^T c)_j = sum_{i >= j} lambda_i r[i][j].
        for j in (0..k).rev() {
            let mut s = dot(self.q(j), c);
            for i in j + 1..k {
                s -= lambda[i] * self.r[i * n + j];
            }
            lambda[j] = s / self.r[j * n + j];
        }
    }
}

/// `max c.y` over `rows`, from the feasible point `y` (rows may be violated by rounding
/// only).
///
/// When `halt` says so the solve stops with [`Solve::Interrupted`].
pub(crate) fn maximize_from(c: &[f64], rows: &HalfSpaces, y: Vec<f64>, halt: Halting) -> Solve {
    WORKSPACE.with(|w| {
        let mut w = w.borrow_mut();
        w.reset(rows.dim(), rows.len());
        solve_in(&mut w, c, rows, y, halt)
    })
}

/// Buffers reused across solves on one thread (the solves are many and small).
struct SimplexWorkspace {
    basis: Basis,
    is_active: Vec<bool>,
    slack: Vec<f64>,
    ap: Vec<f64>,
    ratio: Vec<f64>,
    /// The rows by columns: `a_k[j]` at `cols[j * m + k]` (for products with all rows at
    /// once, vectorised across rows).
    cols: Vec<f64>,
    p: Vec<f64>,
    lambda: Vec<f64>,
}

impl SimplexWorkspace {
    fn reset(&mut self, n: usize, m: usize) {
        if self.basis.n != n {
            self.basis = Basis::new(n);
        }
        self.basis.k = 0;
        self.is_active.clear();
        self.is_active.resize(m, false);
        self.slack.resize(m, 0.0);
        self.ap.resize(m, 0.0);
        self.ratio.resize(m, 0.0);
        self.p.resize(n, 0.0);
        self.lambda.resize(n, 0.0);
    }
}

thread_local! {
    static WORKSPACE: std::cell::RefCell<SimplexWorkspace> = std::cell::RefCell::new(SimplexWorkspace {
        basis: Basis::new(0),
        is_active: Vec::new(),
        slack: Vec::new(),
        ap: Vec::new(),
        ratio: Vec::new(),
        cols: Vec::new(),
        p: Vec::new(),
        lambda: Vec::new(),
    });
}

/// `out[k] = a_k . v` for every row, from the rows by columns (`cols[j * m + k]`), summed
/// over `j` in order (the same rounding as [`dot`] on the row, up to the sign of a zero:
/// columns with `v_j = 0` are skipped). Equally `out = sum_j v_j c_j` over the chunks
/// `c_j` of length `m` (the bounded-variable method's pivot row `rho^T A` from the rows of
/// `A`).
pub(super) struct RowProducts<'a> {
    pub(super) cols: &'a [f64],
    pub(super) v: &'a [f64],
    pub(super) out: &'a mut [f64],
}

impl WithSimd for RowProducts<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { cols, v, out } = self;
        let m = out.len();
        out.fill(0.0);
        if m == 0 {
            return;
        }
        for (col, &vj) in cols.chunks_exact(m).zip(v) {
            if vj != 0.0 {
                for (o, &a) in out.iter_mut().zip(col) {
                    *o += a * vj;
                }
            }
        }
    }
}

/// The ratio test's steps: `slack_k / ap_k` for the rows not active with `ap_k > floor`,
/// infinity for the others; returns the smallest.
struct PrimalSteps<'a> {
    is_active: &'a [bool],
    slack: &'a [f64],
    ap: &'a [f64],
    floor: f64,
    out: &'a mut [f64],
}

impl WithSimd for PrimalSteps<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let Self {
            is_active,
            slack,
            ap,
            floor,
            out,
        } = self;
        for (((o, &on), &s), &a) in out.iter_mut().zip(is_active).zip(slack).zip(ap) {
            *o = if !on && a > floor {
                s / a
            } else {
                f64::INFINITY
            };
        }
        // Four running minima (a vectorisable reduction; no NaN can occur).
        let mut lanes = [f64::INFINITY; 4];
        let mut chunks = out.chunks_exact(4);
        for q in &mut chunks {
            for (l, &r) in lanes.iter_mut().zip(q) {
                *l = l.min(r);
            }
        }
        let tail = chunks
            .remainder()
            .iter()
            .fold(f64::INFINITY, |s, &r| s.min(r));
        lanes.iter().fold(tail, |s, &r| s.min(r))
    }
}

/// The slacks after a step of length `step` (rows not active; clamped at zero: rounding
/// only).
struct Step<'a> {
    is_active: &'a [bool],
    slack: &'a mut [f64],
    ap: &'a [f64],
    step: f64,
}

impl WithSimd for Step<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self {
            is_active,
            slack,
            ap,
            step,
        } = self;
        for ((s, &a), &on) in slack.iter_mut().zip(ap).zip(is_active) {
            let moved = (*s - step * a).max(0.0);
            *s = if on { *s } else { moved };
        }
    }
}

fn solve_in(
    w: &mut SimplexWorkspace,
    c: &[f64],
    rows: &HalfSpaces,
    mut y: Vec<f64>,
    halt: Halting,
) -> Solve {
    let n = rows.dim();
    let m = rows.len();
    let c_norm = dot(c, c).sqrt().max(f64::MIN_POSITIVE);
    let SimplexWorkspace {
        basis,
        is_active,
        slack,
        ap,
        ratio,
        cols,
        p,
        lambda,
    } = w;
    // The active rows, in the order of the basis.
    let mut active: Vec<usize> = Vec::with_capacity(n);
    cols.resize(n * m, 0.0);
    for (k, row) in rows.rows_flat().chunks_exact(n).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            cols[j * m + k] = v;
        }
    }
    // Slacks, updated along each step (and clamped at zero: rounding only).
    vectorized(RowProducts {
        cols,
        v: &y,
        out: ap,
    });
    for ((s, b), a) in slack.iter_mut().zip(rows.rhs_all()).zip(ap.iter()) {
        *s = (b - a).max(0.0);
    }
    let cap = 50 * (n + 2) + 4 * m;
    let bland_after = 4 * (n + 2);
    for iter in 0..cap {
        if iter % DEADLINE_STRIDE == DEADLINE_STRIDE - 1 && halt.now() {
            return Solve::Interrupted;
        }
        let bland = iter >= bland_after;
        basis.project_out(c, p);
        let p_norm = dot(p, p).sqrt();
        if p_norm > TINY * c_norm {
            // Ratio test: the rows not active that `p` moves towards, the smallest step
            // `slack / a_k . p` (ties: the largest rate, or under Bland's rule the
            // smallest index).
            vectorized(RowProducts {
                cols,
                v: p,
                out: ap,
            });
            let floor = TINY * p_norm;
            let step = vectorized(PrimalSteps {
                is_active,
                slack,
                ap,
                floor,
                out: ratio,
            });
            if step == f64::INFINITY {
                return Solve::Unbounded;
            }
            let mut entering = m;
            for (k, &r) in ratio.iter().enumerate() {
                if r == step && (entering == m || (!bland && ap[k] > ap[entering])) {
                    entering = k;
                }
            }
            for (yi, pi) in y.iter_mut().zip(p.iter()) {
                *yi += step * pi;
            }
            vectorized(Step {
                is_active,
                slack,
                ap,
                step,
            });
            slack[entering] = 0.0;
            if !basis.push(rows.row(entering)) {
                return Solve::Stalled;
            }
            active.push(entering);
            is_active[entering] = true;
            continue;
        }
        // Optimal unless a multiplier is negative.
        basis.multipliers(c, lambda);
        let negative = (0..active.len()).filter(|&i| lambda[i] < -TINY * c_norm);
        let leave = if bland {
            negative.min_by_key(|&i| active[i])
        } else {
            negative.min_by(|&i, &j| lambda[i].total_cmp(&lambda[j]))
        };
        let Some(i) = leave else {
            let value = dot(c, &y);
            let multipliers = lambda[..active.len()].to_vec();
            return Solve::Optimal {
                y,
                value,
                active,
                multipliers,
            };
        };
        is_active[active[i]] = false;
        active.remove(i);
        // The basis of the rows before the leaving one is unchanged (Gram-Schmidt is
        // sequential): only the later rows are orthogonalised again.
        basis.k = i;
        for &k in &active[i..] {
            if !basis.push(rows.row(k)) {
                return Solve::Stalled;
            }
        }
    }
    Solve::Stalled
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn unit(v: Vec<f64>) -> Vec<f64> {
        let n = dot(&v, &v).sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    #[test]
    fn box_corner_and_degenerate_rows() {
        // max x + y over the unit square, with a duplicated and a redundant row.
        let mut rows = HalfSpaces::new(2);
        rows.push(&[1.0, 0.0], 1.0);
        rows.push(&[0.0, 1.0], 1.0);
        rows.push(&[1.0, 0.0], 1.0);
        rows.push(&unit(vec![1.0, 1.0]), 2.0_f64.sqrt());
        rows.push(&[-1.0, 0.0], 0.0);
        rows.push(&[0.0, -1.0], 0.0);
        match maximize_from(&[1.0, 1.0], &rows, vec![0.2, 0.3], Halting::default()) {
            Solve::Optimal { y, value, .. } => {
                assert!((value - 2.0).abs() < 1e-12, "{value}");
                assert!((y[0] - 1.0).abs() < 1e-12 && (y[1] - 1.0).abs() < 1e-12);
            }
            other => panic!("{other:?}"),
        }
        // Unbounded without the upper rows.
        let mut open = HalfSpaces::new(2);
        open.push(&[-1.0, 0.0], 0.0);
        open.push(&[0.0, -1.0], 0.0);
        assert_eq!(
            maximize_from(&[1.0, 1.0], &open, vec![0.0, 0.0], Halting::default()),
            Solve::Unbounded
        );
    }

    /// Against brute force over all vertices (every `n`-subset of rows) on random
    /// bounded programs.
    #[test]
    fn matches_vertex_enumeration() {
        let mut rng = StdRng::seed_from_u64(7);
        for trial in 0..400 {
            let n = rng.random_range(1..=3);
            let m = rng.random_range(n + 1..=9);
            let mut rows = HalfSpaces::new(n);
            // A box keeps it bounded; random rows through a neighbourhood of 0.
            for j in 0..n {
                let mut e = vec![0.0; n];
                e[j] = 1.0;
                rows.push(&e, 2.0);
                e[j] = -1.0;
                rows.push(&e, 2.0);
            }
            for _ in 0..m {
                let a = unit((0..n).map(|_| rng.random_range(-1.0..1.0)).collect());
                // Some rows pass exactly through the start: degenerate vertices.
                let b = if trial % 3 == 0 {
                    0.0
                } else {
                    rng.random_range(0.0..1.0)
                };
                rows.push(&a, b);
            }
            let c: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let Solve::Optimal { value, y, .. } =
                maximize_from(&c, &rows, vec![0.0; n], Halting::default())
            else {
                panic!("trial {trial}: not optimal");
            };
            for k in 0..rows.len() {
                assert!(rows.slack(k, &y) > -1e-9, "trial {trial}: infeasible");
            }
            // Brute force: solve every n x n subsystem, keep the feasible best.
            let mut best = f64::NEG_INFINITY;
            let mut idx: Vec<usize> = (0..n).collect();
            loop {
                if let Some(v) = solve_square(&rows, &idx)
                    && (0..rows.len()).all(|k| rows.slack(k, &v) > -1e-9)
                {
                    best = best.max(dot(&c, &v));
                }
                // Next combination.
                let mut i = n;
                while i > 0 && idx[i - 1] == rows.len() - n + i - 1 {
                    i -= 1;
                }
                if i == 0 {
                    break;
                }
                idx[i - 1] += 1;
                for j in i..n {
                    idx[j] = idx[j - 1] + 1;
                }
            }
            assert!(
                (value - best).abs() < 1e-9 * (1.0 + best.abs()),
                "trial {trial}: {value} vs {best}"
            );
        }
    }

    /// The row kernels on the dispatched path (AVX2 here) and on pulp's scalar fallback,
    /// which other CPUs run: bit for bit equal (no fused operations in them).
    #[test]
    fn kernels_agree_with_the_scalar_fallback() {
        let mut rng = StdRng::seed_from_u64(11);
        for trial in 0..100 {
            let (n, m) = (rng.random_range(1..8), rng.random_range(1..70));
            let cols: Vec<f64> = (0..n * m).map(|_| rng.random_range(-1.0..1.0)).collect();
            let v: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let is_active: Vec<bool> = (0..m).map(|_| rng.random_bool(0.2)).collect();
            let slack: Vec<f64> = (0..m).map(|_| rng.random_range(0.0..1.0)).collect();
            let run = |scalar: bool| {
                let mut ap = vec![0.0; m];
                let products = RowProducts {
                    cols: &cols,
                    v: &v,
                    out: &mut ap,
                };
                if scalar {
                    products.with_simd(pulp::Scalar::new());
                } else {
                    vectorized(products);
                }
                let mut ratio = vec![0.0; m];
                let ratios = PrimalSteps {
                    is_active: &is_active,
                    slack: &slack,
                    ap: &ap,
                    floor: 1e-3,
                    out: &mut ratio,
                };
                let step = if scalar {
                    ratios.with_simd(pulp::Scalar::new())
                } else {
                    vectorized(ratios)
                };
                let mut moved = slack.clone();
                let update = Step {
                    is_active: &is_active,
                    slack: &mut moved,
                    ap: &ap,
                    step: step.min(1.0),
                };
                if scalar {
                    update.with_simd(pulp::Scalar::new());
                } else {
                    vectorized(update);
                }
                (ap, ratio, step, moved)
            };
            let (wide, scalar) = (run(false), run(true));
            assert_eq!(wide, scalar, "trial {trial}");
            // And the products are the rows' dot products, the step the smallest ratio.
            let (ap, ratio, step, _) = wide;
            for k in 0..m {
                let row: Vec<f64> = (0..n).map(|j| cols[j * m + k]).collect();
                assert_eq!(ap[k], dot(&row, &v), "trial {trial}");
            }
            assert_eq!(step, ratio.iter().fold(f64::INFINITY, |s, &r| s.min(r)));
        }
    }

    /// Gaussian elimination with partial pivoting on the rows `idx` as equalities.
    fn solve_square(rows: &HalfSpaces, idx: &[usize]) -> Option<Vec<f64>> {
        let n = rows.dim();
        let mut m: Vec<Vec<f64>> = idx
            .iter()
            .map(|&k| {
                let mut r = rows.row(k).to_vec();
                r.push(rows.rhs(k));
                r
            })
            .collect();
        for col in 0..n {
            let piv = (col..n).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
            if m[piv][col].abs() < 1e-12 {
                return None;
            }
            m.swap(col, piv);
            for i in 0..n {
                if i != col {
                    let f = m[i][col] / m[col][col];
                    for j in col..=n {
                        m[i][j] -= f * m[col][j];
                    }
                }
            }
        }
        Some((0..n).map(|i| m[i][n] / m[i][i]).collect())
    }

    /// A deadline that has passed stops a solve that needs more than one stride of
    /// iterations, and none stops a solve that ends sooner.
    #[test]
    fn a_passed_deadline_or_a_raised_flag_interrupts_long_solves_only() {
        // max sum y over the cube [-1, 1]^40 from its centre: one pivot per coordinate.
        let n = 40;
        let mut cube = HalfSpaces::new(n);
        let mut e = vec![0.0; n];
        for j in 0..n {
            e[j] = 1.0;
            cube.push(&e, 1.0);
            e[j] = -1.0;
            cube.push(&e, 1.0);
            e[j] = 0.0;
        }
        let c = vec![1.0; n];
        let past = Halting {
            deadline: Some(Instant::now()),
            flag: None,
        };
        assert_eq!(
            maximize_from(&c, &cube, vec![0.0; n], past),
            Solve::Interrupted
        );
        let Solve::Optimal { value, .. } =
            maximize_from(&c, &cube, vec![0.0; n], Halting::default())
        else {
            panic!("not optimal");
        };
        assert!((value - n as f64).abs() < 1e-9);
        // A raised flag stops it too.
        let raised = AtomicBool::new(true);
        let flagged = Halting {
            deadline: None,
            flag: Some(&raised),
        };
        assert_eq!(
            maximize_from(&c, &cube, vec![0.0; n], flagged),
            Solve::Interrupted
        );
        // Two coordinates take fewer iterations than a stride: the deadline is not read.
        let mut square = HalfSpaces::new(2);
        for row in [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]] {
            square.push(&row, 1.0);
        }
        assert!(matches!(
            maximize_from(&[1.0, 1.0], &square, vec![0.0, 0.0], past),
            Solve::Optimal { .. }
        ));
    }
}
