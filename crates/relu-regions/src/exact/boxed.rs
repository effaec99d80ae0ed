//! Deciding a side of a hyperplane over a box in high dimension, by one linear program
//! whose basis has only the node's rows ([`super::lp::bounded`]).
//!
//! For a box domain (a box or an L-inf ball) the side `s z >= 0` of the neuron
//! `z = g . x + c0` meets the node's polyhedron `P` (rows `A x <= b`, unit norm, and the
//! box) in a set whose Chebyshev radius `rho*` the low-dimensional path computes. Here,
//! instead, one program gives `p* = max s g . x` over `P`, with a proven upper bound
//! `p+ >= p*` (weak duality, [`super::lp::bounded`]):
//!
//! - Every ball `B(y, rho)` inside the side has `s z(y) >= rho ||g||`, so
//!   `rho* <= (p* + s c0) / ||g|| <= (p+ + s c0) / ||g||`. When that is at most
//!   `thin = tolerance * size`, the side is not a region, exactly as when the Chebyshev
//!   radius is at most `thin` (and it is degenerate when above `-thin`, as there).
//! - Otherwise the optimal vertex `v` (on the side, on `P`'s boundary) and an interior
//!   witness `w` of `P` give points `y(t) = w + t (v - w)`, `0 <= t < 1`, inside `P`:
//!   every slack of `P` at `y(t)` is `(1 - t)` times `w`'s plus `t` times `v`'s (a convex
//!   combination, affine in `t`; a box face's distance too), and the side's margin
//!   `s z(y(t)) / ||g||` is affine in `t` as well. The `t` that maximises the smallest of
//!   them (a concave function of `t`: ternary search) gives a witness whose inscribed
//!   ball, of radius the smallest slack (rows have unit norm), lies in the side. Its
//!   radius is recomputed at the point itself; if it exceeds `thin`, the side is a region
//!   by the same rule as a Chebyshev centre's (`rho* >=` that radius `> thin`).
//! - If neither holds (a thin witness although `p*` says the side is wide, or a program
//!   that did not end), the caller falls back to the Chebyshev program.
//!
//! The multipliers behind `p+` rest on the rows with positive `lambda_k` only (and the
//! box): a side clearly empty by them is shared with sibling subtrees as the Chebyshev
//! path's [`RadiusBound`] is ([`super::sharing`]).

use std::sync::atomic::Ordering;

use super::lp::RadiusBound;
use super::lp::bounded::{BoxSolve, maximize_over_box};
use super::tree::{Halt, Node, Search};
use crate::linalg::dot;

/// Input dimension from which L-inf balls and boxes are decided by [`Search::side_over_box`]
/// rather than by Chebyshev programs. Measured with `bench_count` (see `DESIGN.md`).
pub(super) const MIN_BOX_PROGRAM_DIM: usize = 32;

/// Witnesses of the node tried as the interior end of the segment to the vertex.
const WITNESS_TRIES: usize = 4;

impl Search<'_> {
    /// The side `s z >= 0` of `z = g . x + c0` on `node` over the box `[lo, hi]` (the
    /// module docs): `Some` with the side's witness, or none with the bound that proved
    /// it; `None` when the caller must solve the Chebyshev program instead.
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    pub(super) fn side_over_box(
        &self,
        node: &Node,
        g: &[f64],
        c0: f64,
        gnorm: f64,
        s: f64,
        lo: &[f64],
        hi: &[f64],
    ) -> Option<Result<(Option<Vec<f64>>, Option<RadiusBound>), Halt>> {
        let thin = self.options.tolerance * self.size;
        let objective: Vec<f64> = g.iter().map(|v| s * v).collect();
        self.solves.fetch_add(1, Ordering::Relaxed);
        let optimum = match maximize_over_box(&objective, &node.rows, lo, hi, self.halting()) {
            BoxSolve::Optimal(o) => o,
            BoxSolve::Interrupted => return Some(Err(Halt::Interrupted)),
            BoxSolve::Infeasible | BoxSolve::Stalled => return None,
        };
        // The vertex's value above the proven bound means the pivots lost accuracy.
        if optimum.value > optimum.bound + 1e-9 * (1.0 + optimum.bound.abs()) {
            return None;
        }
        let top = (optimum.bound + s * c0) / gnorm;
        if top <= thin {
            if top > -thin {
                self.degenerate.fetch_add(1, Ordering::Relaxed);
            }
            let rows_used = optimum
                .multipliers
                .iter()
                .rposition(|&l| l > 0.0)
                .map_or(0, |k| k + 1);
            return Some(Ok((
                None,
                Some(RadiusBound {
                    value: top,
                    rows_used,
                }),
            )));
        }
        let side = |x: &[f64]| s * (dot(g, x) + c0) / gnorm;
        let witness = node
            .witnesses
            .iter()
            .take(WITNESS_TRIES)
            .map(|w| {
                let t = best_mix(node, lo, hi, w, &optimum.x, &side);
                let y: Vec<f64> = w
                    .iter()
                    .zip(&optimum.x)
                    .map(|(a, b)| a + t * (b - a))
                    .collect();
                let radius = inradius(node, lo, hi, &y).min(side(&y));
                (radius, y)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        (witness.0 > thin).then_some(Ok((Some(witness.1), None)))
    }
}

/// The radius of the largest L2 ball about `y` inside the node's rows and the box.
fn inradius(node: &Node, lo: &[f64], hi: &[f64], y: &[f64]) -> f64 {
    let rows = (0..node.rows.len())
        .map(|k| node.rows.slack(k, y))
        .fold(f64::INFINITY, f64::min);
    y.iter()
        .zip(lo.iter().zip(hi))
        .map(|(v, (l, h))| (v - l).min(h - v))
        .fold(rows, f64::min)
}

/// The `t` in `[0, 1]` that maximises the smallest slack (rows, box faces, side) at
/// `w + t (v - w)`: each is affine in `t`, so their minimum is concave (ternary search).
fn best_mix(
    node: &Node,
    lo: &[f64],
    hi: &[f64],
    w: &[f64],
    v: &[f64],
    side: &dyn Fn(&[f64]) -> f64,
) -> f64 {
    // (value at t = 0, value at t = 1) of every slack.
    let mut ends: Vec<(f64, f64)> = (0..node.rows.len())
        .map(|k| (node.rows.slack(k, w), node.rows.slack(k, v)))
        .collect();
    for ((a, b), (l, h)) in w.iter().zip(v).zip(lo.iter().zip(hi)) {
        ends.push((a - l, b - l));
        ends.push((h - a, h - b));
    }
    ends.push((side(w), side(v)));
    let smallest = |t: f64| {
        ends.iter()
            .map(|(a, b)| a + t * (b - a))
            .fold(f64::INFINITY, f64::min)
    };
    let (mut a, mut b) = (0.0_f64, 1.0_f64);
    for _ in 0..60 {
        let m1 = a + (b - a) / 3.0;
        let m2 = b - (b - a) / 3.0;
        if smallest(m1) < smallest(m2) {
            a = m1;
        } else {
            b = m2;
        }
    }
    0.5 * (a + b)
}
