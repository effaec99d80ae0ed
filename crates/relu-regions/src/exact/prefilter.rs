//! Deciding a neuron without a program: bounds of its affine map over a set that contains
//! the node's polyhedron `P`, and interior points found by ray shooting.
//!
//! - [`box_sign`]: over a bounding box of `P` (computed by `2d` small programs,
//!   [`Search::bounding_box`], when [`Search::worth_a_box`]; a child tightens its parent's
//!   box by its new row, [`tighten_box`]);
//! - [`polygon_sign`]: over a polygon containing `P` for 2-D inputs (the domain's square,
//!   or the polygon circumscribed about its disc, [`outer_polygon`], clipped by every
//!   split);
//! - [`Search::shoot`]: a witness on the uncovered side of a hyperplane, from a ray.
//!
//! Every sign is proven with a rounding margin ([`crate::stability::rounding_margin`]).

use std::sync::atomic::Ordering;

use super::lp::{self, LpOutcome};
use super::tree::{Halt, Node, Search};
use crate::domain::Domain;
use crate::geometry::Point2;
use crate::linalg::dot;

/// Bounding boxes are used up to this input dimension (they cost `2d` solves).
pub(super) const MAX_BBOX_DIM: usize = 8;

impl Search<'_> {
    /// From witnesses `from` on one side of `z = g.x + c0`, a point of the node's interior
    /// on the other side, found without solving: along the ray from a witness `w`
    /// straight at the hyperplane (direction `-sign(z(w)) g / ||g||`), the hyperplane is
    /// crossed at `t_cross = |z(w)| / ||g||` and the node (its rows and the domain) left
    /// at `t_exit` (a ratio test). When `t_exit - t_cross > 2 eta` (`eta`: the node's
    /// error margin in input units, [`Search::eta`]), the midpoint of the two lies
    /// strictly inside the node (every row's slack is at least `(t_exit - t_mid)` times
    /// its rate, and only grows on rows moving away) and more than `eta` beyond the
    /// hyperplane: a witness in the sense of the module docs. The widest such gap over
    /// the first few witnesses wins.
    pub(super) fn shoot(
        &self,
        node: &Node,
        g: &[f64],
        c0: f64,
        gnorm: f64,
        from: &[Vec<f64>],
        eta: f64,
    ) -> Option<Vec<f64>> {
        let d = g.len();
        let need = 2.0 * eta;
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut dir = vec![0.0; d];
        for w in from.iter().take(4) {
            let z = dot(g, w) + c0;
            let sign = if z > 0.0 { -1.0 } else { 1.0 };
            for (o, v) in dir.iter_mut().zip(g) {
                *o = sign * v / gnorm;
            }
            let t_cross = z.abs() / gnorm;
            let mut t_exit = self.domain_exit(w, &dir);
            for k in 0..node.rows.len() {
                let rate = dot(node.rows.row(k), &dir);
                if rate > 0.0 {
                    t_exit = t_exit.min(node.rows.slack(k, w).max(0.0) / rate);
                }
            }
            let gap = t_exit - t_cross;
            if gap > need && best.as_ref().is_none_or(|(b, _)| gap > *b) {
                let t = 0.5 * (t_cross + t_exit);
                best = Some((gap, w.iter().zip(&dir).map(|(x, u)| x + t * u).collect()));
            }
        }
        best.map(|(_, x)| x)
    }

    /// How far from `x` (inside the domain) along the unit direction `u` the domain
    /// ends.
    pub(super) fn domain_exit(&self, x: &[f64], u: &[f64]) -> f64 {
        let along_box = |lo: &dyn Fn(usize) -> f64, hi: &dyn Fn(usize) -> f64| {
            (0..x.len()).fold(f64::INFINITY, |t, j| {
                if u[j] > 0.0 {
                    t.min(((hi(j) - x[j]) / u[j]).max(0.0))
                } else if u[j] < 0.0 {
                    t.min(((lo(j) - x[j]) / u[j]).max(0.0))
                } else {
                    t
                }
            })
        };
        match self.domain {
            Domain::Box(b) => along_box(&|j| b.lo[j], &|j| b.hi[j]),
            Domain::Ball(b) if b.norm == crate::Norm::LInf => {
                along_box(&|j| b.center[j] - b.radius, &|j| b.center[j] + b.radius)
            }
            Domain::Ball(b) => {
                // ||x - c + t u|| = r: t = -(u.e) + sqrt((u.e)^2 - (|e|^2 - r^2)), e = x - c.
                let e: Vec<f64> = x.iter().zip(&b.center).map(|(a, c)| a - c).collect();
                let ue = dot(u, &e);
                let disc = ue * ue - (dot(&e, &e) - b.radius * b.radius);
                if disc <= 0.0 {
                    0.0
                } else {
                    // Shrunk a little: the midpoint must be inside despite rounding.
                    ((-ue + disc.sqrt()) * (1.0 - 1e-12)).max(0.0)
                }
            }
        }
    }

    /// Whether a fresh bounding box (`2d` cheap programs) may pay for itself: at least
    /// `d` neurons of the layer from the current one on are open (not settled by the
    /// root's bounds) and not settled by the node's current box either (a parent's box,
    /// tightened by the rows added since), each of which could otherwise cost a
    /// Chebyshev program. On the `bench_count` rows this threshold was the best of `d/2`,
    /// `d`, `3d/2` and `2d` (ACAS Xu L-inf 0.05: 17.9 us per region against 20.7, 19.0 and
    /// 22.3; d5 20x3: 17.8 against 18.8, 17.8 and 18.4; the others within 3%).
    pub(super) fn worth_a_box(&self, node: &Node) -> bool {
        let l = node.layer;
        let d = self.domain.dim();
        (node.index..node.maps.width())
            .filter(|&i| self.root.lower[l][i] <= 0.0 && self.root.upper[l][i] >= 0.0)
            .filter(|&i| {
                node.bbox.as_ref().is_none_or(|(lo, hi)| {
                    let (g, c0) = node.maps.row(i);
                    box_sign(g, c0, lo, hi, node.maps.error[i].at(self.reach_inf)).is_none()
                })
            })
            .nth(d - 1)
            .is_some()
    }

    /// A bounding box of the node's polyhedron: `max +-x_j` over it, by the fast path's
    /// proven bounds (weak duality) widened by the rows' error (each true row lies within
    /// `row_error` of its computed one, and the bound moves by at most the multipliers'
    /// sum times that) and, to spare, by `1e-7` of the domain's size; by clarabel's
    /// optimum widened by that spare (ten times its accuracy) otherwise.
    pub(super) fn bounding_box(&self, node: &Node) -> Result<(Vec<f64>, Vec<f64>), Halt> {
        let d = self.domain.dim();
        let slack = 1e-7 * self.size.max(f64::MIN_POSITIVE);
        if let Some((mut lo, mut hi, weight)) = node
            .witnesses
            .first()
            .and_then(|w| lp::bounding_box_fast(&node.rows, self.domain, w, self.halting()))
        {
            self.solves.fetch_add(2 * d as u64, Ordering::Relaxed);
            let widen = slack + weight * node.row_error.at(self.reach_inf) * (1.0 + 1e-12);
            lo.iter_mut().for_each(|v| *v -= widen);
            hi.iter_mut().for_each(|v| *v += widen);
            return Ok((lo, hi));
        }
        if self.halting().now() {
            return Err(Halt::Interrupted);
        }
        let mut lo = vec![0.0; d];
        let mut hi = vec![0.0; d];
        for j in 0..d {
            for s in [1.0, -1.0] {
                let mut e = vec![0.0; d];
                e[j] = s;
                self.solves.fetch_add(1, Ordering::Relaxed);
                // The fast path declined this program: the interior-point solver.
                match lp::maximize(&e, &node.rows, self.domain, self.active_deadline()) {
                    LpOutcome::Optimal(v) => {
                        if s > 0.0 {
                            hi[j] = v + slack;
                        } else {
                            lo[j] = -v - slack;
                        }
                    }
                    LpOutcome::Infeasible => {
                        return Err(Halt::Failed(
                            "a node's polyhedron was reported empty".into(),
                        ));
                    }
                    LpOutcome::Interrupted => return Err(Halt::Interrupted),
                    LpOutcome::Failed(status) => return Err(Halt::Failed(status)),
                }
            }
        }
        Ok((lo, hi))
    }
}

/// Tightens the box `[lo, hi]` around a polyhedron by one of its rows `a . x <= b`
/// (bound propagation, no solving): on the box, `a_j x_j <= b - sum_{i != j} min(a_i lo_i,
/// a_i hi_i)`. The result still contains every point of the box satisfying the row, so
/// a box around the polyhedron stays one; each new bound is widened by a rounding slack
/// (`1e-12` of the magnitudes involved), and a bound that would cross the other is left
/// alone.
pub(super) fn tighten_box(lo: &mut [f64], hi: &mut [f64], a: &[f64], b: f64) {
    let low = |j: usize, lo: &[f64], hi: &[f64]| (a[j] * lo[j]).min(a[j] * hi[j]);
    let total: f64 = (0..a.len()).map(|j| low(j, lo, hi)).sum();
    let magnitude: f64 = b.abs()
        + (0..a.len())
            .map(|j| a[j].abs() * lo[j].abs().max(hi[j].abs()))
            .sum::<f64>();
    for j in 0..a.len() {
        if a[j] == 0.0 {
            continue;
        }
        let rest = total - low(j, lo, hi);
        let slack = 1e-12 * magnitude / a[j].abs();
        let bound = (b - rest) / a[j];
        if a[j] > 0.0 {
            let v = bound + slack;
            if v < hi[j] && v >= lo[j] {
                hi[j] = v;
            }
        } else {
            let v = bound - slack;
            if v > lo[j] && v <= hi[j] {
                lo[j] = v;
            }
        }
    }
}

/// For a 2-D domain, a polygon containing it: its corners (a box or an L-inf ball), or
/// the regular 64-gon circumscribed about a disc.
pub(super) fn outer_polygon(domain: &Domain) -> Option<Vec<Point2>> {
    if domain.dim() != 2 {
        return None;
    }
    Some(match domain {
        Domain::Box(b) => vec![
            [b.lo[0], b.lo[1]],
            [b.hi[0], b.lo[1]],
            [b.hi[0], b.hi[1]],
            [b.lo[0], b.hi[1]],
        ],
        Domain::Ball(b) if b.norm == crate::Norm::LInf => {
            let (c, r) = (&b.center, b.radius);
            vec![
                [c[0] - r, c[1] - r],
                [c[0] + r, c[1] - r],
                [c[0] + r, c[1] + r],
                [c[0] - r, c[1] + r],
            ]
        }
        Domain::Ball(b) => {
            let n = 64;
            let step = std::f64::consts::TAU / n as f64;
            // Vertex radius r / cos(pi / n), a little more for rounding.
            let reach = b.radius / (0.5 * step).cos() * (1.0 + 1e-12);
            (0..n)
                .map(|k| {
                    let t = step * k as f64;
                    [b.center[0] + reach * t.cos(), b.center[1] + reach * t.sin()]
                })
                .collect()
        }
    })
}

/// The sign of `g.x + c0` on a polygon when it is proven at every vertex, with a margin
/// of `1e-10 ||g|| size` above the rounding of the value (the polygon's vertices carry
/// rounding from repeated clipping, far below that) plus `map_error`, the bound on the
/// error of the map `(g, c0)` itself (`LayerMaps::error`).
pub(super) fn polygon_sign(
    g: &[f64],
    c0: f64,
    poly: &[Point2],
    size: f64,
    map_error: f64,
) -> Option<bool> {
    if poly.is_empty() {
        return None;
    }
    let gnorm = (g[0] * g[0] + g[1] * g[1]).sqrt();
    let (mut lo, mut hi, mut magnitude) = (f64::INFINITY, f64::NEG_INFINITY, c0.abs());
    for v in poly {
        let z = g[0] * v[0] + g[1] * v[1] + c0;
        lo = lo.min(z);
        hi = hi.max(z);
        magnitude = magnitude.max((g[0] * v[0]).abs() + (g[1] * v[1]).abs() + c0.abs());
    }
    let margin = 1e-10 * gnorm * size + crate::stability::rounding_margin(2, magnitude) + map_error;
    if lo > margin {
        Some(true)
    } else if hi < -margin {
        Some(false)
    } else {
        None
    }
}

/// The sign of `g.x + c0` on the box `[lo, hi]` when it is proven (with a rounding
/// margin, plus `map_error`, the bound on the error of the map itself,
/// `LayerMaps::error`): `Some(true)` for positive, `Some(false)` for negative.
pub(super) fn box_sign(g: &[f64], c0: f64, lo: &[f64], hi: &[f64], map_error: f64) -> Option<bool> {
    let mut center = c0;
    let mut spread = 0.0;
    let mut magnitude = c0.abs();
    for ((gj, l), h) in g.iter().zip(lo).zip(hi) {
        let (m, w) = (0.5 * (l + h), 0.5 * (h - l));
        center += gj * m;
        spread += gj.abs() * w;
        magnitude += (gj * m).abs();
    }
    let margin = crate::stability::rounding_margin(g.len(), magnitude + spread) + map_error;
    if center - spread > margin {
        Some(true)
    } else if center + spread < -margin {
        Some(false)
    } else {
        None
    }
}
