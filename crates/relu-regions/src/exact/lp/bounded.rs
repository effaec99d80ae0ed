//! The bounded-variable dual simplex method, for the region tree's programs over a box:
//!
//! ```text
//!     max c.x   subject to   a_k . x <= b_k  (k < m),   lo_j <= x_j <= hi_j  (j < n)
//! ```
//!
//! The box's `2n` faces are *bounds* of the variables, not rows: the basis holds only the
//! `m` rows of the node (one per neuron decided along its path), so a pivot costs
//! `O(m n)` (one row of `B^-1 A`) plus `O(m^2)`, where a dense method over the box's
//! faces as rows costs `O(n^2)` (in 784-D about a thousand times more at depth 20). This
//! is how GLPK treats nnenum's input box (`glp_set_col_bnds`).
//!
//! # The method
//!
//! With slacks `s = b - A x >= 0` the program is `min q.(x, s)`, `q = (-c, 0)`, over
//! `[A I] (x, s) = b`. A basis `B` (`m` of the `n + m` columns) fixes the basic values
//! `x_B = B^-1 (b - N x_N)` from the nonbasic variables, each at one of its bounds; the
//! reduced costs are `d_j = q_j - pi . a_j` with `pi = B^-T q_B`. A basis is *dual
//! feasible* when every nonbasic variable at its lower bound has `d_j >= 0` and every one
//! at its upper bound `d_j <= 0`; it is optimal when, in addition, every basic value lies
//! within its bounds.
//!
//! - **Start.** The slack basis `B = I` with each `x_j` at the bound that maximises
//!   `c_j x_j` (`d_j = -c_j`) is dual feasible: the box's best corner, with the rows it
//!   violates as the basic infeasibilities.
//! - **Iteration.** A basic variable out of its bounds leaves (the largest violation
//!   relative to the norm of its row of `B^-1`, an approximation of dual steepest edge);
//!   the ratio test over the pivot row `alpha = e_r^T B^-1 [A I]` picks the entering
//!   variable that keeps the reduced costs' signs, passing (and flipping to the other
//!   bound) every boxed variable whose breakpoint comes first while the dual objective
//!   still rises: the *bound-flipping ratio test*, which on a box settles many variables
//!   per pivot. No candidate proves the program infeasible.
//! - `B^-1` is kept as a dense `m x m` matrix, updated by the pivot and refactored (with
//!   the basic values and reduced costs recomputed) every [`REFACTOR`] pivots and before
//!   infeasibility is declared. Optimality needs no refactorisation: nothing the caller
//!   relies on comes from the running values (module docs, below).
//!
//! The program is solved shifted to the box's midpoint `mid` (`x = mid + z`, rows
//! `a_k . z <= b_k - a_k . mid`, bounds `+-` the half-widths), which keeps the numbers on
//! the scale of the box rather than of the point.
//!
//! # What the answer certifies
//!
//! The optimum comes with multipliers `lambda >= 0` of the rows (`lambda_k = -pi_k`),
//! and for *any* `lambda >= 0` weak duality gives, for every feasible `x`,
//!
//! ```text
//!     c.x = lambda.(A x) + (c - A^T lambda).x
//!         <= lambda.b + sum_j max((c - A^T lambda)_j lo_j, (c - A^T lambda)_j hi_j)
//! ```
//!
//! [`DualOptimum::bound`] is this right-hand side, recomputed from the rows (not from the
//! solver's running values) plus a bound on its rounding error: an upper bound on the
//! maximum that holds whatever the accuracy of the pivots. The vertex
//! [`DualOptimum::x`] is only a point of the box where the rows hold to about `1e-9`;
//! callers that need a point inside check it themselves.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use pulp::{Simd, WithSimd};

use crate::geometry::HalfSpaces;
use crate::linalg::dot;
use crate::simd::vectorized;

use super::simplex::RowProducts;
use super::{DualOptimum, Halting, dual_residual};

/// The outcome of [`maximize_over_box`].
#[derive(Debug, Clone)]
pub(crate) enum BoxSolve {
    Optimal(DualOptimum),
    /// The rows and the box have no common point (a row the box cannot satisfy given
    /// the others, found by the ratio test).
    Infeasible,
    /// No optimum within the iteration cap, or the pivots lost accuracy.
    Stalled,
    /// Told to stop during the solve ([`Halting`]).
    Interrupted,
}

/// Degenerate pivots in a row after which Bland's rule takes over.
const BLAND_AFTER: usize = 30;

/// Pivots between refactorisations of `B^-1`.
const REFACTOR: usize = 50;

/// Iterations between two looks at [`Halting`] (an iteration costs `O(m n)`).
const HALT_STRIDE: usize = 16;

/// Primal feasibility tolerance (absolute, on the scale of the shifted program: the
/// rows are expected normalised to unit norm, the box's half-widths set the scale).
const PRIMAL_TOL: f64 = 1e-11;

/// Dual feasibility tolerance of the ratio test (relative to the objective's size).
const DUAL_TOL: f64 = 1e-11;

/// A pivot element below this (relative to the pivot row's largest entry) is not used.
const PIVOT_TOL: f64 = 1e-9;

/// A breakpoint of the ratio test: its ratio and variable, ordered by the ratio.
#[derive(Debug, Clone, Copy)]
struct Breakpoint(f64, usize);

impl PartialEq for Breakpoint {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Breakpoint {}

impl PartialOrd for Breakpoint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Breakpoint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// Where a variable is: in the basis, or at one of its bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    Basic,
    Lower,
    Upper,
}

/// The state of one solve: variables `0..n` are the program's, `n..n + m` the slacks.
struct Dual<'a> {
    n: usize,
    m: usize,
    /// The rows, row-major (`m x n`).
    a: &'a [f64],
    /// The rows, column-major (`n x m`: column `j` of `A` at `j m .. (j + 1) m`).
    at: Vec<f64>,
    /// The perturbed objective of the program solved (see [`perturbed`]).
    cost: Vec<f64>,
    /// Right-hand sides, shifted to the midpoint.
    b: Vec<f64>,
    /// Bounds of the shifted variables (slacks: `[0, inf)`).
    lo: Vec<f64>,
    hi: Vec<f64>,
    basis: Vec<usize>,
    status: Vec<Status>,
    /// `+1` for a variable at its lower bound, `-1` at its upper bound, `0` for a basic
    /// or fixed one (the ratio test's kernel reads it).
    dir: Vec<f64>,
    /// Values of all `n + m` variables.
    x: Vec<f64>,
    /// Reduced costs of all `n + m` variables (zero for the basic ones).
    d: Vec<f64>,
    /// `B^-1`, row-major `m x m`.
    binv: Vec<f64>,
    /// The pivot row `alpha` (length `n + m`).
    alpha: Vec<f64>,
    /// The ratio test's ratios (length `n + m`; infinite for non-candidates).
    ratios: Vec<f64>,
    /// The objective's scale (for the dual tolerance).
    c_scale: f64,
}

/// The objective actually optimised: `c_j` pushed away from zero by `xi_j` in
/// `[1, 2) 1e-9 max|c|` (a fixed pseudo-random sequence), the sign of zero entries
/// chosen negative. Dual degeneracy (reduced costs at zero, as for coordinates the
/// objective ignores) otherwise lets the dual simplex method cycle; distinct small
/// perturbations break the ties. The start stays dual feasible (each `x_j` at the bound
/// its perturbed cost prefers), and nothing is lost: the certified bound is computed
/// with the true `c` ([`certified_bound`] holds for any multipliers), and the vertex is
/// only used as a point of the polyhedron. The cost is at most `sum_j xi_j (hi_j - lo_j)`
/// of looseness in the bound's tightness, never in its validity.
fn perturbed(c: &[f64]) -> Vec<f64> {
    let scale = c.iter().fold(0.0_f64, |s, v| s.max(v.abs()));
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    c.iter()
        .map(|&v| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            let xi = 1e-9 * scale * (1.0 + unit);
            if v > 0.0 { v + xi } else { v - xi }
        })
        .collect()
}

/// The ratio test's ratios: with `e_j = dir_j sigma alpha_j`, a variable is a candidate
/// when `e_j < -floor` (its reduced cost moves towards the wrong sign as the dual step
/// grows), with breakpoint `max(dir_j d_j, 0) / -e_j`; infinity otherwise.
struct DualRatios<'a> {
    dir: &'a [f64],
    d: &'a [f64],
    alpha: &'a [f64],
    sigma: f64,
    floor: f64,
    out: &'a mut [f64],
}

impl WithSimd for DualRatios<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self {
            dir,
            d,
            alpha,
            sigma,
            floor,
            out,
        } = self;
        for (((o, &s), &dj), &a) in out.iter_mut().zip(dir).zip(d).zip(alpha) {
            let e = s * sigma * a;
            let ratio = (s * dj).max(0.0) / -e;
            *o = if e < -floor { ratio } else { f64::INFINITY };
        }
    }
}

/// `d += t alpha`.
struct DualStep<'a> {
    d: &'a mut [f64],
    alpha: &'a [f64],
    t: f64,
}

impl WithSimd for DualStep<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { d, alpha, t } = self;
        for (dj, &a) in d.iter_mut().zip(alpha) {
            *dj += t * a;
        }
    }
}

/// `max c.x` over `rows ∩ [lo, hi]` by the bounded-variable dual simplex method (module
/// docs). `rows` should be normalised to unit norm. `lo <= hi` componentwise.
pub(crate) fn maximize_over_box(
    c: &[f64],
    rows: &HalfSpaces,
    lo: &[f64],
    hi: &[f64],
    halt: Halting,
) -> BoxSolve {
    let n = c.len();
    let m = rows.len();
    debug_assert_eq!(rows.dim(), n);
    let mid: Vec<f64> = lo.iter().zip(hi).map(|(l, h)| 0.5 * (l + h)).collect();
    let mut state = Dual::new(c, rows, &mid, lo, hi);
    let cap = 100 + 20 * (m + 1) + n;
    let mut since_refactor = 0;
    let (mut stalled_steps, mut bland) = (0, false);
    for iteration in 0..cap {
        if iteration % HALT_STRIDE == 0 && halt.now() {
            return BoxSolve::Interrupted;
        }
        let Some(r) = state.leaving_row(bland) else {
            return BoxSolve::Optimal(state.optimum(c, rows, &mid, lo, hi));
        };
        match state.pivot(r, bland) {
            Pivot::Done { degenerate } => {
                // Many degenerate steps in a row: Bland's rule from here on (it cannot
                // cycle).
                stalled_steps = if degenerate { stalled_steps + 1 } else { 0 };
                bland |= stalled_steps >= BLAND_AFTER;
            }
            // Fresh values: the verdict stands.
            Pivot::Infeasible if since_refactor == 0 => return BoxSolve::Infeasible,
            Pivot::Inaccurate if since_refactor == 0 => return BoxSolve::Stalled,
            // Accumulated rounding may be the cause: refactor and look again.
            Pivot::Infeasible | Pivot::Inaccurate => {
                if !state.refactor() {
                    return BoxSolve::Stalled;
                }
                since_refactor = 0;
                continue;
            }
        }
        since_refactor += 1;
        if since_refactor >= REFACTOR {
            if !state.refactor() {
                return BoxSolve::Stalled;
            }
            since_refactor = 0;
        }
    }
    BoxSolve::Stalled
}

enum Pivot {
    /// A pivot was made; `degenerate` when its dual step was (nearly) zero.
    Done {
        degenerate: bool,
    },
    Infeasible,
    /// The pivot column disagrees with the pivot row: refactor and retry.
    Inaccurate,
}

impl<'a> Dual<'a> {
    fn new(c: &[f64], rows: &'a HalfSpaces, mid: &[f64], lo: &[f64], hi: &[f64]) -> Self {
        let n = c.len();
        let m = rows.len();
        let a = rows.rows_flat();
        let mut at = vec![0.0; n * m];
        for k in 0..m {
            for j in 0..n {
                at[j * m + k] = a[k * n + j];
            }
        }
        let cost = perturbed(c);
        let mut lo_s: Vec<f64> = lo.iter().zip(mid).map(|(l, c)| l - c).collect();
        let mut hi_s: Vec<f64> = hi.iter().zip(mid).map(|(h, c)| h - c).collect();
        lo_s.extend(std::iter::repeat_n(0.0, m));
        hi_s.extend(std::iter::repeat_n(f64::INFINITY, m));
        let b: Vec<f64> = (0..m)
            .map(|k| rows.rhs(k) - dot(rows.row(k), mid))
            .collect();
        let mut x = vec![0.0; n + m];
        let mut status = vec![Status::Basic; n + m];
        let mut dir = vec![0.0; n + m];
        let mut d = vec![0.0; n + m];
        for j in 0..n {
            d[j] = -cost[j];
            if cost[j] > 0.0 {
                x[j] = hi_s[j];
                status[j] = Status::Upper;
                dir[j] = -1.0;
            } else {
                x[j] = lo_s[j];
                status[j] = Status::Lower;
                dir[j] = 1.0;
            }
            if hi_s[j] <= lo_s[j] {
                dir[j] = 0.0;
            }
        }
        for k in 0..m {
            x[n + k] = b[k] - dot(rows.row(k), &x[..n]);
        }
        let mut binv = vec![0.0; m * m];
        for k in 0..m {
            binv[k * m + k] = 1.0;
        }
        let c_scale = cost.iter().fold(0.0_f64, |s, v| s.max(v.abs())).max(1e-300);
        Self {
            n,
            m,
            a,
            at,
            cost,
            b,
            lo: lo_s,
            hi: hi_s,
            basis: (n..n + m).collect(),
            status,
            dir,
            x,
            d,
            binv,
            alpha: vec![0.0; n + m],
            ratios: vec![0.0; n + m],
            c_scale,
        }
    }

    /// Column `j` of `[A I]`.
    fn column(&self, j: usize) -> std::borrow::Cow<'_, [f64]> {
        let m = self.m;
        if j < self.n {
            std::borrow::Cow::Borrowed(&self.at[j * m..(j + 1) * m])
        } else {
            let mut e = vec![0.0; m];
            e[j - self.n] = 1.0;
            std::borrow::Cow::Owned(e)
        }
    }

    /// Marks variable `j` as at a bound (or basic), keeping `dir` in step.
    fn set_status(&mut self, j: usize, status: Status) {
        self.status[j] = status;
        self.dir[j] = match status {
            _ if self.hi[j] <= self.lo[j] => 0.0,
            Status::Basic => 0.0,
            Status::Lower => 1.0,
            Status::Upper => -1.0,
        };
    }

    /// The primal infeasibility of basic position `p` (signed: negative below the lower
    /// bound, positive above the upper one, zero within the tolerance).
    fn violation(&self, p: usize) -> f64 {
        let k = self.basis[p];
        let v = self.x[k];
        let scale = 1.0 + self.lo[k].abs().min(self.hi[k].abs());
        if v < self.lo[k] - PRIMAL_TOL * scale {
            v - self.lo[k]
        } else if v > self.hi[k] + PRIMAL_TOL * scale {
            v - self.hi[k]
        } else {
            0.0
        }
    }

    /// The basic position to leave: the largest violation relative to its row of `B^-1`
    /// (under Bland's rule: the infeasible basic variable of smallest index).
    fn leaving_row(&self, bland: bool) -> Option<usize> {
        let m = self.m;
        if bland {
            return (0..m)
                .filter(|&p| self.violation(p) != 0.0)
                .min_by_key(|&p| self.basis[p]);
        }
        let mut best: Option<(f64, usize)> = None;
        for p in 0..m {
            let v = self.violation(p);
            if v == 0.0 {
                continue;
            }
            let norm2: f64 = self.binv[p * m..(p + 1) * m].iter().map(|x| x * x).sum();
            let score = v * v / norm2.max(1e-300);
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, p));
            }
        }
        best.map(|(_, p)| p)
    }

    /// `B^-1 a_j`.
    fn ftran(&self, j: usize) -> Vec<f64> {
        let m = self.m;
        let col = self.column(j);
        (0..m)
            .map(|p| dot(&self.binv[p * m..(p + 1) * m], &col))
            .collect()
    }

    /// One dual simplex iteration with basic position `r` leaving (under Bland's rule:
    /// no bound flips, and the entering variable of smallest index among the ties).
    fn pivot(&mut self, r: usize, bland: bool) -> Pivot {
        let (n, m) = (self.n, self.m);
        let violation = self.violation(r);
        let leaving = self.basis[r];
        // sigma = +1: the leaving variable is below its lower bound and leaves there.
        let sigma = if violation < 0.0 { 1.0 } else { -1.0 };
        let target = if sigma > 0.0 {
            self.lo[leaving]
        } else {
            self.hi[leaving]
        };
        // The pivot row alpha = rho^T [A I], rho = row r of B^-1.
        let rho: Vec<f64> = self.binv[r * m..(r + 1) * m].to_vec();
        let (alpha_x, alpha_s) = self.alpha.split_at_mut(n);
        vectorized(RowProducts {
            cols: self.a,
            v: &rho,
            out: alpha_x,
        });
        alpha_s.copy_from_slice(&rho);
        let amax = self.alpha.iter().fold(0.0_f64, |s, v| s.max(v.abs()));
        let floor = PIVOT_TOL * amax.max(1e-300);
        let dtol = DUAL_TOL * self.c_scale;
        vectorized(DualRatios {
            dir: &self.dir,
            d: &self.d,
            alpha: &self.alpha,
            sigma,
            floor,
            out: &mut self.ratios,
        });
        // Bound flipping: pass breakpoints, in the order of their ratios (a heap: only the
        // first few are needed), while the dual objective's slope stays positive.
        let mut heap: BinaryHeap<Reverse<Breakpoint>> = self
            .ratios
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_finite())
            .map(|(j, &ratio)| Reverse(Breakpoint(ratio, j)))
            .collect();
        if heap.is_empty() {
            return Pivot::Infeasible;
        }
        let mut slope = violation.abs();
        let mut passed: Vec<usize> = Vec::new();
        let mut stop = None;
        while let Some(Reverse(Breakpoint(ratio, j))) = heap.pop() {
            let width = self.hi[j] - self.lo[j];
            let drop = self.alpha[j].abs() * width;
            if !bland && width.is_finite() && slope - drop > 0.0 {
                slope -= drop;
                passed.push(j);
            } else {
                stop = Some((ratio, j));
                break;
            }
        }
        let Some((r0, j0)) = stop else {
            // Every candidate flipped and the row is still violated: no entering variable
            // can repair it.
            return Pivot::Infeasible;
        };
        // Among the ties of the stopping breakpoint, the largest pivot element enters
        // (under Bland's rule, the smallest index).
        let limit = r0 + 1e-12 * (r0 + dtol);
        let (mut step, mut q) = (r0, j0);
        while let Some(Reverse(Breakpoint(ratio, j))) = heap.pop() {
            if ratio > limit {
                break;
            }
            let better = if bland {
                j < q
            } else {
                self.alpha[j].abs() > self.alpha[q].abs()
            };
            if better {
                (step, q) = (ratio, j);
            }
        }
        // The entering column, checked against the pivot row.
        let w = self.ftran(q);
        let wr = w[r];
        if (wr - self.alpha[q]).abs() > 1e-7 * (1.0 + wr.abs()) || wr.abs() <= floor {
            return Pivot::Inaccurate;
        }
        // Flip the variables passed; their move shifts the basic values by
        // -B^-1 (sum a_j delta_j).
        if !passed.is_empty() {
            let mut shift = vec![0.0; m];
            for &j in &passed {
                let (delta, now) = match self.status[j] {
                    Status::Lower => (self.hi[j] - self.lo[j], Status::Upper),
                    _ => (self.lo[j] - self.hi[j], Status::Lower),
                };
                self.x[j] += delta;
                self.set_status(j, now);
                for (s, a) in shift.iter_mut().zip(self.column(j).iter()) {
                    *s += a * delta;
                }
            }
            for p in 0..m {
                let change = dot(&self.binv[p * m..(p + 1) * m], &shift);
                self.x[self.basis[p]] -= change;
            }
        }
        // Dual update (the basic variables' reduced costs stay zero).
        let t = sigma * step;
        vectorized(DualStep {
            d: &mut self.d,
            alpha: &self.alpha,
            t,
        });
        for p in 0..m {
            self.d[self.basis[p]] = 0.0;
        }
        self.d[leaving] = t;
        self.d[q] = 0.0;
        // Primal update: x_q moves so that the leaving variable lands on its bound.
        let theta = (self.x[leaving] - target) / wr;
        for p in 0..m {
            self.x[self.basis[p]] -= theta * w[p];
        }
        self.x[q] += theta;
        self.x[leaving] = target;
        self.set_status(
            leaving,
            if sigma > 0.0 {
                Status::Lower
            } else {
                Status::Upper
            },
        );
        self.set_status(q, Status::Basic);
        self.basis[r] = q;
        let degenerate = step <= dtol;
        // B^-1 update (pivot on w at r).
        let inv = 1.0 / wr;
        for v in &mut self.binv[r * m..(r + 1) * m] {
            *v *= inv;
        }
        let pivot_row: Vec<f64> = self.binv[r * m..(r + 1) * m].to_vec();
        for p in 0..m {
            if p != r && w[p] != 0.0 {
                let f = w[p];
                for (v, pr) in self.binv[p * m..(p + 1) * m].iter_mut().zip(&pivot_row) {
                    *v -= f * pr;
                }
            }
        }
        Pivot::Done { degenerate }
    }

    /// Recomputes `B^-1` (Gauss-Jordan with partial pivoting), the basic values and the
    /// reduced costs from scratch. `false` when the basis is numerically singular.
    fn refactor(&mut self) -> bool {
        let (n, m) = (self.n, self.m);
        // B, column p = column basis[p] of [A I].
        let mut bmat = vec![0.0; m * m];
        for (p, &j) in self.basis.iter().enumerate() {
            for (k, v) in self.column(j).iter().enumerate() {
                bmat[k * m + p] = *v;
            }
        }
        let Some(binv) = invert(bmat, m) else {
            return false;
        };
        self.binv = binv;
        // x_B = B^-1 (b - N x_N).
        let mut rhs = self.b.clone();
        for j in 0..n + m {
            if self.status[j] == Status::Basic || self.x[j] == 0.0 {
                continue;
            }
            let xj = self.x[j];
            for (r, a) in rhs.iter_mut().zip(self.column(j).iter()) {
                *r -= a * xj;
            }
        }
        for p in 0..m {
            self.x[self.basis[p]] = dot(&self.binv[p * m..(p + 1) * m], &rhs);
        }
        // pi = B^-T q_B, d_j = q_j - pi . a_j.
        let pi = self.prices();
        for j in 0..n + m {
            self.d[j] = if self.status[j] == Status::Basic {
                0.0
            } else if j < n {
                -self.cost[j] - dot(&pi, &self.at[j * m..(j + 1) * m])
            } else {
                -pi[j - n]
            };
        }
        true
    }

    /// The simplex multipliers `pi = B^-T q_B`.
    fn prices(&self) -> Vec<f64> {
        let (n, m) = (self.n, self.m);
        let mut pi = vec![0.0; m];
        for (p, &j) in self.basis.iter().enumerate() {
            if j < n {
                let qj = -self.cost[j];
                for (k, v) in pi.iter_mut().enumerate() {
                    *v += self.binv[p * m + k] * qj;
                }
            }
        }
        pi
    }

    /// The optimum in the caller's coordinates, with its bound certified for the true
    /// objective `c`.
    fn optimum(
        &self,
        c: &[f64],
        rows: &HalfSpaces,
        mid: &[f64],
        lo: &[f64],
        hi: &[f64],
    ) -> DualOptimum {
        let n = self.n;
        let x: Vec<f64> = (0..n)
            .map(|j| (mid[j] + self.x[j]).clamp(lo[j], hi[j]))
            .collect();
        let value = dot(c, &x);
        let multipliers: Vec<f64> = self.prices().iter().map(|p| (-p).max(0.0)).collect();
        let bound = certified_bound(c, rows, &multipliers, lo, hi);
        DualOptimum {
            x,
            value,
            bound,
            multipliers,
            converged: true,
        }
    }
}

/// The weak-duality bound of the module docs for multipliers `lambda >= 0`, computed in
/// the caller's coordinates, plus a bound on its rounding error: with `u = 2^-53` and
/// `k = m + n + 2` terms in any sum, every computed sum is within `gamma_k = k u / (1 - k
/// u)` times the sum of its terms' magnitudes (Higham, Accuracy and Stability of
/// Numerical Algorithms, 2nd ed., eq. 3.5), applied to `w = c - A^T lambda` and to the
/// final sum, with a factor 2 for the products.
pub(crate) fn certified_bound(
    c: &[f64],
    rows: &HalfSpaces,
    lambda: &[f64],
    lo: &[f64],
    hi: &[f64],
) -> f64 {
    let n = c.len();
    let m = rows.len();
    let (w, w_mag) = dual_residual(c, rows, lambda);
    let mut total = 0.0;
    let mut magnitude = 0.0;
    for k in 0..m {
        total += lambda[k] * rows.rhs(k);
        magnitude += (lambda[k] * rows.rhs(k)).abs();
    }
    for j in 0..n {
        let best = if w[j] > 0.0 {
            w[j] * hi[j]
        } else {
            w[j] * lo[j]
        };
        total += best;
        // The error of w_j (at most gamma w_mag_j) times the larger bound, plus the term.
        let reach = lo[j].abs().max(hi[j].abs());
        magnitude += w_mag[j] * reach;
    }
    let u = f64::EPSILON / 2.0;
    let k = (m + n + 2) as f64;
    let gamma = k * u / (1.0 - k * u);
    total + 2.0 * gamma * magnitude + f64::MIN_POSITIVE
}

/// The inverse of the `m x m` row-major matrix `a` by Gauss-Jordan elimination with
/// partial pivoting; `None` when a pivot is negligible.
fn invert(mut a: Vec<f64>, m: usize) -> Option<Vec<f64>> {
    let mut inv = vec![0.0; m * m];
    for k in 0..m {
        inv[k * m + k] = 1.0;
    }
    let scale = a.iter().fold(0.0_f64, |s, v| s.max(v.abs())).max(1e-300);
    for col in 0..m {
        let (piv, best) = (col..m)
            .map(|r| (r, a[r * m + col].abs()))
            .max_by(|x, y| x.1.total_cmp(&y.1))?;
        if best <= 1e-13 * scale {
            return None;
        }
        if piv != col {
            for j in 0..m {
                a.swap(piv * m + j, col * m + j);
                inv.swap(piv * m + j, col * m + j);
            }
        }
        let f = 1.0 / a[col * m + col];
        for j in 0..m {
            a[col * m + j] *= f;
            inv[col * m + j] *= f;
        }
        for r in 0..m {
            if r == col {
                continue;
            }
            let g = a[r * m + col];
            if g == 0.0 {
                continue;
            }
            for j in 0..m {
                a[r * m + j] -= g * a[col * m + j];
                inv[r * m + j] -= g * inv[col * m + j];
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Domain;
    use crate::exact::lp::{LpOutcome, maximize};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// A random program: rows through points near the box's centre (so that the centre
    /// is often feasible), normalised; sometimes infeasible, sometimes with rows that
    /// cut deep.
    fn random_program(
        rng: &mut StdRng,
        n: usize,
        m: usize,
    ) -> (Vec<f64>, HalfSpaces, Vec<f64>, Vec<f64>) {
        let center: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let half: Vec<f64> = (0..n).map(|_| rng.random_range(0.01..0.5)).collect();
        let lo: Vec<f64> = center.iter().zip(&half).map(|(c, h)| c - h).collect();
        let hi: Vec<f64> = center.iter().zip(&half).map(|(c, h)| c + h).collect();
        let mut rows = HalfSpaces::new(n);
        let reach: f64 = half.iter().map(|h| h * h).sum::<f64>().sqrt();
        for _ in 0..m {
            let a: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
            let a: Vec<f64> = a.iter().map(|v| v / norm).collect();
            let offset = rng.random_range(-0.45..1.0) * reach;
            rows.push(&a, dot(&a, &center) + offset);
        }
        let c: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        (c, rows, lo, hi)
    }

    #[test]
    fn agrees_with_the_interior_point_solver_on_random_programs() {
        let mut rng = StdRng::seed_from_u64(7);
        let (mut optimal, mut infeasible) = (0, 0);
        for case in 0..300 {
            let n = [2, 3, 5, 10, 40, 100, 300, 1000][case % 8];
            let m = rng.random_range(0..(n + 5).min(40));
            let (c, rows, lo, hi) = random_program(&mut rng, n, m);
            let domain = Domain::boxed(lo.clone(), hi.clone()).unwrap();
            let reference = maximize(&c, &rows, &domain, None);
            match (
                maximize_over_box(&c, &rows, &lo, &hi, Halting::default()),
                reference,
            ) {
                (BoxSolve::Optimal(opt), LpOutcome::Optimal(v)) => {
                    optimal += 1;
                    let scale = 1.0 + v.abs();
                    assert!(
                        (opt.value - v).abs() < 1e-6 * scale,
                        "case {case} (n {n}, m {m}): {} against clarabel's {v}",
                        opt.value
                    );
                    // The certified bound is above the true maximum (clarabel's optimum
                    // to its accuracy) and tight.
                    assert!(
                        opt.bound >= v - 1e-7 * scale,
                        "case {case}: bound {} < {v}",
                        opt.bound
                    );
                    assert!(
                        opt.bound <= opt.value + 1e-8 * scale,
                        "case {case}: loose bound"
                    );
                    for (k, (a, b)) in rows.iter().enumerate() {
                        assert!(dot(a, &opt.x) <= b + 1e-8, "case {case}: row {k} violated");
                    }
                    assert!(
                        opt.x
                            .iter()
                            .zip(&lo)
                            .zip(&hi)
                            .all(|((x, l), h)| l <= x && x <= h)
                    );
                }
                (BoxSolve::Infeasible, LpOutcome::Infeasible) => infeasible += 1,
                (ours, theirs) => panic!("case {case} (n {n}, m {m}): {ours:?} against {theirs:?}"),
            }
        }
        assert!(
            optimal > 150 && infeasible > 40,
            "{optimal} optimal, {infeasible} infeasible"
        );
    }

    #[test]
    fn the_bound_holds_for_any_nonnegative_multipliers() {
        // Weak duality: for random lambda >= 0 the bound is never below the optimum.
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..100 {
            let n = rng.random_range(2..60);
            let m = rng.random_range(1..12);
            let (c, rows, lo, hi) = random_program(&mut rng, n, m);
            let BoxSolve::Optimal(opt) = maximize_over_box(&c, &rows, &lo, &hi, Halting::default())
            else {
                continue;
            };
            for _ in 0..10 {
                let lambda: Vec<f64> = (0..m).map(|_| rng.random_range(0.0..2.0)).collect();
                let b = certified_bound(&c, &rows, &lambda, &lo, &hi);
                assert!(b >= opt.value - 1e-12 * (1.0 + opt.value.abs()));
            }
        }
    }

    #[test]
    fn a_raised_flag_interrupts() {
        let mut rng = StdRng::seed_from_u64(3);
        let (c, rows, lo, hi) = random_program(&mut rng, 500, 39);
        let flag = std::sync::atomic::AtomicBool::new(true);
        let halt = Halting {
            deadline: None,
            flag: Some(&flag),
        };
        assert!(matches!(
            maximize_over_box(&c, &rows, &lo, &hi, halt),
            BoxSolve::Interrupted
        ));
        flag.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(!matches!(
            maximize_over_box(&c, &rows, &lo, &hi, halt),
            BoxSolve::Interrupted | BoxSolve::Stalled
        ));
    }
}
