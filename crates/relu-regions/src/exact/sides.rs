//! Deciding a side of a hyperplane in high dimension by one program whose work grows
//! with the node's rows, not with the input dimension: over a box (a box or an L-inf
//! ball) by the bounded-variable dual simplex method ([`super::lp::bounded`]), over an L2
//! ball by its `m`-dimensional dual ([`super::lp::ball_dual`]).
//!
//! The low-dimensional path computes the Chebyshev radius `rho*` of the side `s z >= 0`
//! of the neuron `z = g . x + c0` within the node's polyhedron `P` (rows `A x <= b` of
//! unit norm, and the domain). Here, instead, one program gives `p* = max s g . x` over
//! `P`, with a proven upper bound `p+ >= p*` (weak duality):
//!
//! - Every ball `B(y, rho)` inside the side has `s z(y) >= rho ||g||`, so
//!   `rho* <= (p* + s c0) / ||g|| <= (p+ + s c0) / ||g||`. Over the true rows and map
//!   (each row within its error of the computed one, `docs/math.md` §5.2) `p+` moves by
//!   at most the multipliers' sum times the rows' error, plus the map's error; when the
//!   bound so widened is below zero, the side is empty.
//! - Otherwise the program's optimal point `v` (on the side, on `P`'s boundary) and an
//!   interior witness `w` of `P` give points `y(t) = w + t (v - w)`, `0 <= t < 1`, inside
//!   `P`: every row's slack at `y(t)` is `(1 - t)` times `w`'s plus `t` times `v`'s (affine
//!   in `t`; a box face's distance too), the ball's slack `r - ||y(t) - x0||` is concave
//!   in `t`, and so is the side's margin `s z(y(t)) / ||g||` (affine). The `t` that
//!   maximises the smallest of them (a concave function: ternary search) gives a witness
//!   whose inscribed ball, of radius that smallest slack (rows have unit norm), lies in
//!   the side. The radius is recomputed at the point itself; if it exceeds the error
//!   margin there (`Search::eta_at`), the point is the side's witness, by the same rule
//!   as a Chebyshev centre's.
//! - If neither holds (a thin witness although `p*` says the side is wide, or a program
//!   that did not end), the caller falls back to the Chebyshev program.
//!
//! The multipliers behind `p+` rest on the rows with positive `lambda_k` only (and the
//! domain): a side empty by them is shared with sibling subtrees as the Chebyshev
//! path's [`RadiusBound`] is ([`super::sharing`]).

use std::sync::atomic::Ordering;

use super::lp::ball_dual::{BallSolve, maximize_over_ball};
use super::lp::bounded::{BoxSolve, maximize_over_box};
use super::lp::{DualOptimum, RadiusBound};
use super::maps::MapError;
use super::tree::{Halt, Node, Search, SideOutcome};
use crate::domain::{Domain, Norm};
use crate::geometry::HalfSpaces;
use crate::linalg::dot;

/// Input dimension from which L-inf balls and boxes are decided by programs over the box
/// rather than by Chebyshev programs. In the agreement test
/// (`side_programs_agree_with_chebyshev_programs`, random `[d, 4-10, 4-10, 1-3]` nets,
/// release build) the programs over the box took 0.4 ms against 2.4 ms at d = 37 (15
/// regions), 25 ms against 268 ms at d = 51 (559 regions) and 35 ms against 82 ms at
/// d = 75 (281 regions); below 32-D they were not measured and the tuned Chebyshev path
/// stays.
pub(super) const MIN_BOX_PROGRAM_DIM: usize = 32;

/// Witnesses of the node tried as the interior end of the segment to the optimal point.
const WITNESS_TRIES: usize = 4;

/// The depths, in units of the margin, at which [`Search::deep_witness`] looks for a
/// witness after the segment's point failed: twice the margin (a point certified by the
/// margin alone), then below it (a point the forward pass may certify). On the ERAN 9x200
/// net at L-inf 0.0005 around MNIST test image 2, four sides had Chebyshev radii of 0.7
/// to 0.95 times the margin: each cost a 784-D Chebyshev program (0.75 s) before.
const DEEP_WITNESS_DEPTHS: [f64; 3] = [2.0, 0.5, 0.0625];

/// The domain of the side programs.
pub(super) enum SideDomain {
    /// The box `[lo, hi]` (a box, or an L-inf ball).
    Box { lo: Vec<f64>, hi: Vec<f64> },
    /// The L2 ball `B(center, radius)`.
    Ball { center: Vec<f64>, radius: f64 },
}

impl SideDomain {
    /// The side programs' domain for `domain`, when they apply: a box or an L-inf ball in
    /// [`MIN_BOX_PROGRAM_DIM`] or more dimensions, an L2 ball above
    /// [`super::lp::MAX_FAST_L2_DIM`] (where the Chebyshev programs go to clarabel).
    pub(super) fn of(domain: &Domain) -> Option<Self> {
        let d = domain.dim();
        match domain {
            Domain::Box(b) if d >= MIN_BOX_PROGRAM_DIM => Some(Self::Box {
                lo: b.lo.clone(),
                hi: b.hi.clone(),
            }),
            Domain::Ball(b) if b.norm == Norm::LInf && d >= MIN_BOX_PROGRAM_DIM => {
                Some(Self::Box {
                    lo: b.center.iter().map(|c| c - b.radius).collect(),
                    hi: b.center.iter().map(|c| c + b.radius).collect(),
                })
            }
            Domain::Ball(b) if b.norm == Norm::L2 && d > super::lp::MAX_FAST_L2_DIM => {
                Some(Self::Ball {
                    center: b.center.clone(),
                    radius: b.radius,
                })
            }
            _ => None,
        }
    }

    /// The domain moved inwards by `depth`: the points whose L2 ball of radius `depth`
    /// lies inside it (`None` when there are none).
    fn shrunk(&self, depth: f64) -> Option<Self> {
        match self {
            Self::Box { lo, hi } => {
                let lo: Vec<f64> = lo.iter().map(|l| l + depth).collect();
                let hi: Vec<f64> = hi.iter().map(|h| h - depth).collect();
                lo.iter()
                    .zip(&hi)
                    .all(|(l, h)| l < h)
                    .then_some(Self::Box { lo, hi })
            }
            Self::Ball { center, radius } => (*radius > depth).then(|| Self::Ball {
                center: center.clone(),
                radius: radius - depth,
            }),
        }
    }

    /// The radius of the largest L2 ball about `y` inside the domain.
    fn inradius(&self, y: &[f64]) -> f64 {
        match self {
            Self::Box { lo, hi } => y
                .iter()
                .zip(lo.iter().zip(hi))
                .map(|(v, (l, h))| (v - l).min(h - v))
                .fold(f64::INFINITY, f64::min),
            Self::Ball { center, radius } => {
                let e: f64 = y
                    .iter()
                    .zip(center)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>();
                radius - e.sqrt()
            }
        }
    }
}

impl Search<'_> {
    /// The side `s z >= 0` of `z = g . x + c0` on `node` (the module docs): a witness, or
    /// the proof that it is empty; `None` when the caller must solve the Chebyshev
    /// program instead. `map_error` is the map's error bound
    /// ([`super::maps::LayerMaps::error`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn side_by_program(
        &self,
        node: &Node,
        (g, c0): (&[f64], f64),
        gnorm: f64,
        s: f64,
        map_error: MapError,
        domain: &SideDomain,
    ) -> Option<Result<SideOutcome, Halt>> {
        let objective: Vec<f64> = g.iter().map(|v| s * v).collect();
        self.solves.fetch_add(1, Ordering::Relaxed);
        let optimum = match domain {
            SideDomain::Box { lo, hi } => {
                match maximize_over_box(&objective, &node.rows, lo, hi, self.halting()) {
                    BoxSolve::Optimal(o) => o,
                    BoxSolve::Interrupted => return Some(Err(Halt::Interrupted)),
                    BoxSolve::Infeasible | BoxSolve::Stalled => return None,
                }
            }
            SideDomain::Ball { center, radius } => {
                match maximize_over_ball(&objective, &node.rows, center, *radius, self.halting()) {
                    BallSolve::Optimal(o) => o,
                    BallSolve::Interrupted => return Some(Err(Halt::Interrupted)),
                    BallSolve::Undecided => return None,
                }
            }
        };
        let DualOptimum {
            x,
            value,
            bound,
            multipliers,
            converged,
        } = optimum;
        // A box's vertex is feasible: its value above the proven bound means the pivots
        // lost accuracy. (An L2 ball's point may lie beyond the rows, by the dual's
        // residual, and its value above the bound.)
        if matches!(domain, SideDomain::Box { .. }) && value > bound + 1e-9 * (1.0 + bound.abs()) {
            return None;
        }
        // Over the true rows (each within `row_error` of its computed one, in input
        // units, so the multipliers' combination moves by at most their sum times it) and
        // the true map (within `map_error`, plus the rounding of the bound's terms):
        let reach = self.node_reach(node);
        let slack = multipliers.iter().sum::<f64>() * node.row_error.at(reach)
            + map_error.at(reach)
            + crate::stability::rounding_margin(g.len(), bound.abs() + c0.abs())
            + self.rounding * gnorm;
        let top = (bound + s * c0 + slack) / gnorm;
        if top < 0.0 {
            let rows_used = multipliers
                .iter()
                .rposition(|&l| l > 0.0)
                .map_or(0, |k| k + 1);
            // The margins are in `top` already.
            return Some(Ok(SideOutcome::Empty(Some(RadiusBound {
                value: top,
                rows_used,
                weight: 0.0,
            }))));
        }
        // A loose bound from dual iterations that did not converge may still prove a side
        // empty (above), but their point is not worth a witness.
        if !converged {
            return None;
        }
        let side = |y: &[f64]| s * (dot(g, y) + c0) / gnorm;
        let witness = node
            .witnesses
            .iter()
            .take(WITNESS_TRIES)
            .map(|w| {
                let t = best_mix(node, domain, w, &x, &side);
                let y: Vec<f64> = w.iter().zip(&x).map(|(a, b)| a + t * (b - a)).collect();
                let radius = inradius(node, domain, &y).min(side(&y));
                (radius, y)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        let eta = self.eta_at(node, (g, c0), map_error, &witness.1);
        if witness.0 > eta || (witness.0 > 0.0 && self.certifies(node, s > 0.0, &witness.1)) {
            return Some(Ok(SideOutcome::Witness(witness.1)));
        }
        // The segment to the optimal vertex runs close to the node's rows or the domain's
        // faces, but the side may still hold a ball wider than the margin, or a thinner
        // one whose centre the forward pass certifies: programs over the node and the
        // domain moved inwards by a few depths around the margin.
        for depth in DEEP_WITNESS_DEPTHS.map(|k| k * eta) {
            if let Some(found) =
                self.deep_witness(node, (g, c0), gnorm, s, map_error, domain, depth)
            {
                return Some(found.map(SideOutcome::Witness));
            }
        }
        None
    }

    /// A witness of the side `s z >= 0` at depth about `depth` (input units): the
    /// maximiser of the side over the node's rows moved inwards by `depth` and the
    /// domain shrunk by `depth` (a box's faces moved in, a ball's radius reduced). Every
    /// point of that program clears each row and the domain's boundary by `depth`, so
    /// when the side's value there exceeds `depth` too, the point is a ball of radius
    /// `depth` deep in the side (checked like every witness, against the margin or by
    /// the forward pass). `None` when there is none at that depth (the Chebyshev program
    /// then decides), or the program is not conclusive.
    #[allow(clippy::too_many_arguments)]
    fn deep_witness(
        &self,
        node: &Node,
        (g, c0): (&[f64], f64),
        gnorm: f64,
        s: f64,
        map_error: MapError,
        domain: &SideDomain,
        depth: f64,
    ) -> Option<Result<Vec<f64>, Halt>> {
        let shrunk = domain.shrunk(depth)?;
        let mut rows = HalfSpaces::with_capacity(node.rows.dim(), node.rows.len());
        for (a, b) in node.rows.iter() {
            rows.push(a, b - depth * dot(a, a).sqrt());
        }
        let objective: Vec<f64> = g.iter().map(|v| s * v).collect();
        self.solves.fetch_add(1, Ordering::Relaxed);
        let x = match &shrunk {
            SideDomain::Box { lo, hi } => {
                match maximize_over_box(&objective, &rows, lo, hi, self.halting()) {
                    BoxSolve::Optimal(o) => o.x,
                    BoxSolve::Interrupted => return Some(Err(Halt::Interrupted)),
                    BoxSolve::Infeasible | BoxSolve::Stalled => return None,
                }
            }
            SideDomain::Ball { center, radius } => {
                match maximize_over_ball(&objective, &rows, center, *radius, self.halting()) {
                    BallSolve::Optimal(o) if o.converged => o.x,
                    BallSolve::Interrupted => return Some(Err(Halt::Interrupted)),
                    BallSolve::Optimal(_) | BallSolve::Undecided => return None,
                }
            }
        };
        let radius = inradius(node, domain, &x).min(s * (dot(g, &x) + c0) / gnorm);
        (radius > self.eta_at(node, (g, c0), map_error, &x)
            || (radius > 0.0 && self.certifies(node, s > 0.0, &x)))
        .then_some(Ok(x))
    }
}

/// The radius of the largest L2 ball about `y` inside the node's rows and the domain.
fn inradius(node: &Node, domain: &SideDomain, y: &[f64]) -> f64 {
    (0..node.rows.len())
        .map(|k| node.rows.slack(k, y))
        .fold(domain.inradius(y), f64::min)
}

/// The `t` in `[0, 1]` that maximises the smallest slack (rows, domain, side) at
/// `w + t (v - w)`: each is concave in `t`, so their minimum is too (ternary search).
fn best_mix(
    node: &Node,
    domain: &SideDomain,
    w: &[f64],
    v: &[f64],
    side: &dyn Fn(&[f64]) -> f64,
) -> f64 {
    // The rows' and the side's slacks are affine in t: (value at 0, value at 1).
    let mut ends: Vec<(f64, f64)> = (0..node.rows.len())
        .map(|k| (node.rows.slack(k, w), node.rows.slack(k, v)))
        .collect();
    ends.push((side(w), side(v)));
    let mut y = vec![0.0; w.len()];
    let mut smallest = |t: f64| {
        for ((o, a), b) in y.iter_mut().zip(w).zip(v) {
            *o = a + t * (b - a);
        }
        ends.iter()
            .map(|(a, b)| a + t * (b - a))
            .fold(domain.inradius(&y), f64::min)
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
