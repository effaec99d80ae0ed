//! The exact activation regions of a 2-D slice of the input space.
//!
//! # The slice
//!
//! A [`Plane`] is a centre `c` and two directions `u`, `v` of the input space; the slice is
//! `{c + a u + b v : (a, b) in S}` for a planar [`Shape`] `S` in the `(a, b)` coordinates:
//! the square `[-r, r]^2`, or the disc of radius `r` as a regular polygon of stated
//! resolution (inscribed by default, [`DEFAULT_DISC_VERTICES`] vertices; circumscribed on
//! request). The disc result is exactly the partition *of that polygon*. Activation
//! regions are convex, so the regions meeting the inscribed polygon are among those
//! meeting the disc, which are among those meeting the circumscribed polygon: the two
//! counts bracket the disc's.
//!
//! Directions are used as given (`u`, `v` need not be unit or orthogonal; a region's area
//! is then in `(a, b)` units). [`Plane::orthonormalized`] turns them into an orthonormal
//! pair (Gram-Schmidt), making `(a, b)` Euclidean coordinates of the plane.
//!
//! # The algorithm (SplineCam's, without a graph library or a GPU)
//!
//! Restricted to the plane, neuron `k` of layer `l` is, on the part of the plane where the
//! earlier layers have a fixed pattern, an affine function `z_k(a, b) = α_k a + β_k b + γ_k`.
//! Starting from the shape polygon with the first layer's maps `α = W_1 u`, `β = W_1 v`,
//! `γ = W_1 c + b_1`, every layer does, for every current convex polygon `P`:
//!
//! 1. Evaluate each neuron of the layer at the vertices of `P` (the extremes of an affine
//!    function over a convex polygon are at its vertices). A neuron with values of both
//!    signs (beyond the tolerance below) *cuts* `P`; the others have one state on all of
//!    `P` (active iff some vertex is `> tol`; when every vertex is within `tol` of zero the
//!    neuron is numerically zero on `P` and its sign at the vertex mean decides).
//! 2. Split `P` by the cutting neurons one after another (convex-polygon clipping by a
//!    line: each piece is cut again only by the later neurons that cross it). Each piece
//!    records the states of the cutting neurons.
//! 3. For each piece, freeze the layer's ReLUs and compose: the next layer's maps are
//!    `W_{l+1} D (α, β, γ) + (0, 0, b_{l+1})` with `D` the piece's states. The pieces of one
//!    `P` differ only in the cutting neurons, so the product over the neurons that do not
//!    cut `P` is computed once per `P` and each piece adds one column per active cutting
//!    neuron.
//!
//! After the last ReLU layer every piece is one activation region; its output map
//! (`output = A (a, b) + c`, the output ReLU applied when the network has one) comes from
//! the same composition with the output layer. Nothing here solves a linear program.
//! Polygons of the first two layers' partitions are processed in parallel (rayon).
//!
//! # Floating point
//!
//! - **Vertex classification.** Neuron `k` of layer `l` counts as zero at a vertex when
//!   `|z_k| <= tol_k = 64 (n_in + 1) eps (||W_k||_1 S + |b_k|)`, where `n_in` is the layer's
//!   fan-in, `eps` the f64 machine epsilon, `||W_k||_1` the L1 norm of the neuron's weight
//!   row and `S = max_j (|α_j| + |β_j|) R + |γ_j|` the largest magnitude of the layer's
//!   inputs over the shape (`R` the shape's extent in `a` and `b`). This bounds the
//!   rounding error of the dot product that computes `z_k` from the layer's inputs (the
//!   same rule as the segment walk in [`super::line`]); errors carried in from earlier
//!   layers are not bounded, and a misclassification they cause would show up in the
//!   verification below. Vertices that earlier cuts placed on a line are therefore
//!   on it for later neurons with the same line (lines through one point, duplicated or
//!   negated neurons), and no sliver is created from rounding noise. A region narrower
//!   than this rounding error in `z` is not resolved in f64 and is merged into its
//!   neighbour.
//! - **Intersection points.** An edge whose end values have strictly opposite signs is cut
//!   at `p + t (q - p)`, `t = z_p / (z_p - z_q)` in `[0, 1]`, with the edge's end points
//!   taken in lexicographic order, so both polygons sharing the edge get the same point.
//! - **Areas.** A piece whose shoelace area is at most `16 m eps d^2` (`m` vertices, `d`
//!   the diagonal of its bounding box: the rounding error of the shoelace sum in
//!   coordinates relative to a vertex) has numerically zero area: the cut is not made and
//!   the whole polygon takes the larger side's state. Such refusals are counted in
//!   [`PlanePartition::merged_slivers`].
//! - **Verification.** Every region's interior point (its centroid) is mapped to the input
//!   space and the network's pattern there is computed from scratch by a forward pass
//!   ([`Network::evaluate_batch`]); a mismatch is counted in
//!   [`PlanePartition::unverified`] (zero in all our tests), never hidden. The largest
//!   relative difference between the region's output map and the forward pass at that
//!   point is reported as [`PlanePartition::max_output_error`].
//!
//! # Linear pieces
//!
//! [`PlanePartition::pieces`] counts the distinct affine maps of the network *restricted
//! to the slice* among the regions, adjacent or not: two regions have equal maps when
//! `|Δα_i| R + |Δβ_i| R + |Δγ_i| <= 1e-9 M` for every output `i`, with
//! `M = max (|α_i| R + |β_i| R + |γ_i|)` over all regions and outputs (equal values over
//! the shape up to relative tolerance 1e-9). The count is the number of classes of the
//! transitive closure of that relation. It is at most the number of regions, and at most
//! the number of distinct affine maps of the network itself on these regions (two maps
//! of the network can agree on the plane).
//!
//! # Decision boundary
//!
//! [`PlanePartition::decision_boundary`] returns the segments where the predicted class
//! (the largest output, or the smallest for [`Decision::ArgMin`]; for one output, its
//! sign) changes. Within a region the outputs are affine, so the boundary there is, for
//! each pair `j < k` of classes, the part of the line `f_j = f_k` inside the polygon where
//! `f_j = f_k >= f_i` for all other `i` (a line clipped by half-planes). Tolerances, with
//! `M` the region's largest `|α_i| R + |β_i| R + |γ_i|`: the classes considered are those
//! within `1e-12 M` of the top at a vertex or the centroid; pairs whose difference has a
//! slope below `1e-12 M / R` are skipped (a tie on the whole region, which is no
//! segment); segments shorter than `1e-9 R` are dropped. A tie that runs along a region
//! edge (within `1e-9 R`) is kept once, from the region on the side of the lower class,
//! when the class at the point `1e-7 R` across the edge's midpoint is the other one.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use faer::{Mat, Par};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use crate::error::NetworkError;
use crate::network::Network;
use crate::pattern::ActivationPattern;
use crate::simd::vectorized;
use pulp::{Simd, WithSimd};

/// A point `(a, b)` of the slice's coordinates.
pub type Point2 = [f64; 2];

/// Vertices of the regular polygon that stands for a disc unless told otherwise.
pub const DEFAULT_DISC_VERTICES: usize = 256;

/// Why a slice could not be partitioned.
#[derive(Debug, thiserror::Error)]
pub enum SliceError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("the centre has {center} coordinates, u has {u} and v has {v}; they must agree")]
    Lengths { center: usize, u: usize, v: usize },
    #[error("{0} has a NaN or infinite coordinate")]
    NonFinite(&'static str),
    #[error("the directions u and v are zero or parallel: they span no plane")]
    DegenerateDirections,
    #[error("a plane needs an input dimension of at least 2, the network takes {0}")]
    InputTooSmall(usize),
    #[error("invalid shape: {0}")]
    Shape(String),
    #[error("more than {0} regions; raise the limit")]
    TooManyRegions(usize),
}

/// The plane `c + a u + b v` through the input space.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    center: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

impl Plane {
    /// The plane through `center` spanned by `u` and `v`, used as given.
    ///
    /// Errors when the lengths differ, a coordinate is not finite, or `u` and `v` span no
    /// plane: one is zero or `sin^2` of their angle is below `1e-24`.
    pub fn new(center: Vec<f64>, u: Vec<f64>, v: Vec<f64>) -> Result<Self, SliceError> {
        if center.len() != u.len() || center.len() != v.len() {
            return Err(SliceError::Lengths {
                center: center.len(),
                u: u.len(),
                v: v.len(),
            });
        }
        for (name, x) in [("the centre", &center), ("u", &u), ("v", &v)] {
            if x.iter().any(|t| !t.is_finite()) {
                return Err(SliceError::NonFinite(name));
            }
        }
        let (uu, vv, uv) = (dot(&u, &u), dot(&v, &v), dot(&u, &v));
        if uu == 0.0 || vv == 0.0 || uu * vv - uv * uv <= 1e-24 * uu * vv {
            return Err(SliceError::DegenerateDirections);
        }
        Ok(Self { center, u, v })
    }

    /// The plane through `center` and the points `p` and `q`: `u = p - center`,
    /// `v = q - center`, as given, so that `p` is at `(a, b) = (1, 0)` and `q` at `(0, 1)`.
    /// Follow with [`Plane::orthonormalized`] for Euclidean coordinates.
    pub fn through(center: Vec<f64>, p: &[f64], q: &[f64]) -> Result<Self, SliceError> {
        if p.len() != center.len() || q.len() != center.len() {
            return Err(SliceError::Lengths {
                center: center.len(),
                u: p.len(),
                v: q.len(),
            });
        }
        let u = p.iter().zip(&center).map(|(x, c)| x - c).collect();
        let v = q.iter().zip(&center).map(|(x, c)| x - c).collect();
        Self::new(center, u, v)
    }

    /// A uniformly random orthonormal pair of directions through `center` (Gaussian
    /// vectors, orthonormalised), deterministic for a given `seed`.
    pub fn random_orthonormal(center: Vec<f64>, seed: u64) -> Result<Self, SliceError> {
        let d = center.len();
        if d < 2 {
            return Err(SliceError::InputTooSmall(d));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let u: Vec<f64> = (0..d)
            .map(|_| crate::random::standard_normal(&mut rng))
            .collect();
        let v: Vec<f64> = (0..d)
            .map(|_| crate::random::standard_normal(&mut rng))
            .collect();
        Self::new(center, u, v)?.orthonormalized()
    }

    /// The same plane with `u, v` replaced by an orthonormal basis of their span
    /// (Gram-Schmidt, applied twice for accuracy): `u' = u / |u|`, `v'` the unit part of
    /// `v` orthogonal to `u`. `(a, b)` become Euclidean coordinates of the plane.
    pub fn orthonormalized(&self) -> Result<Self, SliceError> {
        let nu = dot(&self.u, &self.u).sqrt();
        let u: Vec<f64> = self.u.iter().map(|x| x / nu).collect();
        let mut v = self.v.clone();
        for _ in 0..2 {
            let p = dot(&v, &u);
            v.iter_mut().zip(&u).for_each(|(x, y)| *x -= p * y);
        }
        let nv = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|x| *x /= nv);
        Self::new(self.center.clone(), u, v)
    }

    /// The centre `c`.
    pub fn center(&self) -> &[f64] {
        &self.center
    }

    /// The first direction `u`.
    pub fn u(&self) -> &[f64] {
        &self.u
    }

    /// The second direction `v`.
    pub fn v(&self) -> &[f64] {
        &self.v
    }

    /// Dimension of the input space.
    pub fn dim(&self) -> usize {
        self.center.len()
    }

    /// The input point `c + a u + b v`.
    pub fn point(&self, p: Point2) -> Vec<f64> {
        (0..self.dim())
            .map(|j| self.center[j] + p[0] * self.u[j] + p[1] * self.v[j])
            .collect()
    }

    /// The points of `ps`, one per row.
    pub fn points(&self, ps: &[Point2]) -> Mat<f64> {
        Mat::from_fn(ps.len(), self.dim(), |i, j| {
            self.center[j] + ps[i][0] * self.u[j] + ps[i][1] * self.v[j]
        })
    }
}

/// The part of the plane that is partitioned, in `(a, b)` coordinates, centred at `(0, 0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// The square `[-half_width, half_width]^2`.
    Square { half_width: f64 },
    /// The regular polygon with `vertices` vertices (the first at angle 0) inscribed in the
    /// disc of radius `radius`, or circumscribed about it.
    Disc {
        radius: f64,
        vertices: usize,
        circumscribed: bool,
    },
}

impl Shape {
    /// The square `[-r, r]^2`.
    pub fn square(r: f64) -> Self {
        Self::Square { half_width: r }
    }

    /// The disc of radius `r` as the inscribed regular polygon with
    /// [`DEFAULT_DISC_VERTICES`] vertices.
    pub fn disc(r: f64) -> Self {
        Self::Disc {
            radius: r,
            vertices: DEFAULT_DISC_VERTICES,
            circumscribed: false,
        }
    }

    fn check(&self) -> Result<(), SliceError> {
        let r = match *self {
            Self::Square { half_width } => half_width,
            Self::Disc {
                radius, vertices, ..
            } => {
                if vertices < 3 {
                    return Err(SliceError::Shape(format!(
                        "a disc polygon needs at least 3 vertices, got {vertices}"
                    )));
                }
                radius
            }
        };
        if !(r.is_finite() && r > 0.0) {
            return Err(SliceError::Shape(format!(
                "the radius must be positive and finite, got {r}"
            )));
        }
        Ok(())
    }

    /// Distance from the origin to the polygon's vertices.
    fn vertex_radius(&self) -> f64 {
        match *self {
            Self::Square { half_width } => half_width * std::f64::consts::SQRT_2,
            Self::Disc {
                radius,
                vertices,
                circumscribed,
            } => {
                if circumscribed {
                    radius / (std::f64::consts::PI / vertices as f64).cos()
                } else {
                    radius
                }
            }
        }
    }

    /// The largest `|a|` and `|b|` over the shape.
    pub fn extent(&self) -> f64 {
        match *self {
            Self::Square { half_width } => half_width,
            Self::Disc { .. } => self.vertex_radius(),
        }
    }

    /// The vertices, counter-clockwise.
    pub fn polygon(&self) -> Vec<Point2> {
        match *self {
            Self::Square { half_width: r } => vec![[-r, -r], [r, -r], [r, r], [-r, r]],
            Self::Disc { vertices: n, .. } => {
                let rho = self.vertex_radius();
                (0..n)
                    .map(|k| {
                        let t = std::f64::consts::TAU * k as f64 / n as f64;
                        [rho * t.cos(), rho * t.sin()]
                    })
                    .collect()
            }
        }
    }

    /// The exact area of the polygon: `4 r^2`, or `n/2 rho^2 sin(2 pi / n)` for the regular
    /// `n`-gon with vertices at distance `rho`.
    pub fn area(&self) -> f64 {
        match *self {
            Self::Square { half_width: r } => 4.0 * r * r,
            Self::Disc { vertices: n, .. } => {
                let rho = self.vertex_radius();
                0.5 * n as f64 * rho * rho * (std::f64::consts::TAU / n as f64).sin()
            }
        }
    }

    /// Whether `p` is strictly inside the polygon.
    pub fn contains(&self, p: Point2) -> bool {
        polygon_contains(&self.polygon(), p)
    }

    /// The centres of an `n x n` grid of cells over `[-R, R]^2` that lie strictly inside
    /// the shape, shifted by `0.0137 / n` of the width in `a` and `0.0071 / n` in `b` so
    /// that no grid point lies on the axes or diagonals (where hand-made networks put
    /// their lines).
    pub fn grid(&self, n: usize) -> Vec<Point2> {
        let r = self.extent();
        let poly = self.polygon();
        let step = 2.0 * r / n as f64;
        let mut out = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let p = [
                    -r + (i as f64 + 0.5137) * step,
                    -r + (j as f64 + 0.5071) * step,
                ];
                if polygon_contains(&poly, p) {
                    out.push(p);
                }
            }
        }
        out
    }
}

/// Whether `p` is strictly inside the convex counter-clockwise polygon `poly`.
pub fn polygon_contains(poly: &[Point2], p: Point2) -> bool {
    let m = poly.len();
    (0..m).all(|i| {
        let (s, e) = (poly[i], poly[(i + 1) % m]);
        (e[0] - s[0]) * (p[1] - s[1]) - (e[1] - s[1]) * (p[0] - s[0]) > 0.0
    })
}

/// The signed area of a polygon (positive when counter-clockwise), by the shoelace sum in
/// coordinates relative to its first vertex.
pub fn polygon_area(poly: &[Point2]) -> f64 {
    if poly.len() < 3 {
        return 0.0;
    }
    let o = poly[0];
    let mut s = 0.0;
    for w in poly[1..].windows(2) {
        let (p, q) = (
            [w[0][0] - o[0], w[0][1] - o[1]],
            [w[1][0] - o[0], w[1][1] - o[1]],
        );
        s += p[0] * q[1] - p[1] * q[0];
    }
    0.5 * s
}

/// The centroid of a convex polygon (area-weighted; the vertex mean when the area is zero).
pub fn polygon_centroid(poly: &[Point2]) -> Point2 {
    let o = poly[0];
    let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
    for w in poly[1..].windows(2) {
        let (p, q) = (
            [w[0][0] - o[0], w[0][1] - o[1]],
            [w[1][0] - o[0], w[1][1] - o[1]],
        );
        let c = p[0] * q[1] - p[1] * q[0];
        sx += c * (p[0] + q[0]);
        sy += c * (p[1] + q[1]);
        sw += c;
    }
    if sw > 0.0 {
        [o[0] + sx / (3.0 * sw), o[1] + sy / (3.0 * sw)]
    } else {
        vertex_mean(poly)
    }
}

fn vertex_mean(poly: &[Point2]) -> Point2 {
    let n = poly.len() as f64;
    let (sx, sy) = poly
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    [sx / n, sy / n]
}

/// The area below which a polygon is numerically flat: `16 m eps d^2` with `d` the
/// diagonal of its bounding box.
fn area_floor(poly: &[Point2]) -> f64 {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in poly {
        for i in 0..2 {
            lo[i] = lo[i].min(p[i]);
            hi[i] = hi[i].max(p[i]);
        }
    }
    let d2 = (hi[0] - lo[0]).powi(2) + (hi[1] - lo[1]).powi(2);
    16.0 * poly.len() as f64 * f64::EPSILON * d2
}

/// Splits the convex polygon `poly` by an affine function with values `z` at its vertices:
/// returns the parts where it is `>= 0` and `<= 0`, vertices with `|z| <= tol` on both.
/// The intersection point of an edge whose ends are beyond `tol` with opposite signs is
/// computed from the lexicographically smaller end point (so neighbours agree on it).
fn split(poly: &[Point2], z: &[f64], tol: f64) -> (Vec<Point2>, Vec<Point2>) {
    let m = poly.len();
    let sign = |v: f64| -> i8 {
        if v > tol {
            1
        } else if v < -tol {
            -1
        } else {
            0
        }
    };
    let mut plus = Vec::with_capacity(m + 2);
    let mut minus = Vec::with_capacity(m + 2);
    for i in 0..m {
        let j = (i + 1) % m;
        let (si, sj) = (sign(z[i]), sign(z[j]));
        if si >= 0 {
            plus.push(poly[i]);
        }
        if si <= 0 {
            minus.push(poly[i]);
        }
        if si * sj < 0 {
            let (p, zp, q, zq) = if poly[i] <= poly[j] {
                (poly[i], z[i], poly[j], z[j])
            } else {
                (poly[j], z[j], poly[i], z[i])
            };
            let t = zp / (zp - zq);
            let x = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
            plus.push(x);
            minus.push(x);
        }
    }
    (dedup(plus), dedup(minus))
}

/// Removes consecutive (cyclically) identical vertices.
fn dedup(mut poly: Vec<Point2>) -> Vec<Point2> {
    poly.dedup();
    while poly.len() > 1 && poly.first() == poly.last() {
        poly.pop();
    }
    poly
}

/// The network's outputs restricted to the plane: output `i` is
/// `slope[i][0] a + slope[i][1] b + offset[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaneAffine {
    pub slope: Vec<[f64; 2]>,
    pub offset: Vec<f64>,
}

impl PlaneAffine {
    /// The outputs at `p`.
    pub fn eval(&self, p: Point2) -> Vec<f64> {
        self.slope
            .iter()
            .zip(&self.offset)
            .map(|(s, c)| s[0] * p[0] + s[1] * p[1] + c)
            .collect()
    }

    /// The Frobenius norm of the slope (the `outputs x 2` Jacobian in `(a, b)`).
    pub fn slope_norm(&self) -> f64 {
        self.slope
            .iter()
            .map(|s| s[0] * s[0] + s[1] * s[1])
            .sum::<f64>()
            .sqrt()
    }

    /// The class scores: the outputs (negated for [`Decision::ArgMin`]); for a single
    /// output `f`, the pair `(0, f)` (class 1 when `f > 0`; `f < 0` for `ArgMin`).
    fn scores(&self, decision: Decision) -> PlaneAffine {
        let sign = match decision {
            Decision::ArgMax => 1.0,
            Decision::ArgMin => -1.0,
        };
        let mut slope: Vec<[f64; 2]> = self
            .slope
            .iter()
            .map(|s| [sign * s[0], sign * s[1]])
            .collect();
        let mut offset: Vec<f64> = self.offset.iter().map(|c| sign * c).collect();
        if slope.len() == 1 {
            slope.insert(0, [0.0, 0.0]);
            offset.insert(0, 0.0);
        }
        PlaneAffine { slope, offset }
    }
}

/// How the predicted class is read from the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decision {
    /// The largest output (logits, scores).
    #[default]
    ArgMax,
    /// The smallest output (e.g. ACAS Xu, whose advisory is the smallest score).
    ArgMin,
}

/// The first index of the largest value.
fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// One activation region of the slice.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaneRegion {
    /// The region's activation pattern.
    pub pattern: ActivationPattern,
    /// The convex polygon, counter-clockwise, in `(a, b)` coordinates.
    pub vertices: Vec<Point2>,
    /// Its area in `(a, b)` units.
    pub area: f64,
    /// An interior point: the centroid.
    pub interior: Point2,
    /// The network's output on the region, as a function of `(a, b)`.
    pub output: PlaneAffine,
    /// Whether a forward pass at `interior` gave `pattern` (`None` when not checked).
    pub verified: Option<bool>,
}

impl PlaneRegion {
    /// The predicted class at the interior point.
    pub fn class(&self, decision: Decision) -> usize {
        argmax(&self.output.scores(decision).eval(self.interior))
    }

    /// The region cut into the parts where each class is predicted: `(class, polygon)`
    /// with positive area, ties going to the lower class.
    pub fn class_cells(&self, decision: Decision) -> Vec<(usize, Vec<Point2>)> {
        let s = self.output.scores(decision);
        let classes: Vec<usize> = self
            .vertices
            .iter()
            .chain(std::iter::once(&self.interior))
            .map(|&p| argmax(&s.eval(p)))
            .collect();
        if classes.iter().all(|&c| c == classes[0]) {
            return vec![(classes[0], self.vertices.clone())];
        }
        let mut out = Vec::new();
        for j in 0..s.offset.len() {
            let mut cell = self.vertices.clone();
            for i in 0..s.offset.len() {
                if i == j || cell.len() < 3 {
                    continue;
                }
                // s_j - s_i >= 0, strictly for lower i (ties to the lower class).
                let g = [
                    s.slope[j][0] - s.slope[i][0],
                    s.slope[j][1] - s.slope[i][1],
                    s.offset[j] - s.offset[i],
                ];
                let z: Vec<f64> = cell
                    .iter()
                    .map(|p| g[0] * p[0] + g[1] * p[1] + g[2])
                    .collect();
                cell = split(&cell, &z, 0.0).0;
            }
            if cell.len() >= 3 && polygon_area(&cell) > area_floor(&cell) {
                out.push((j, cell));
            }
        }
        out
    }
}

/// Options of [`plane_partition`].
#[derive(Clone, Copy)]
pub struct PlaneOptions<'a> {
    /// Stop with [`SliceError::TooManyRegions`] beyond this many regions.
    pub max_regions: usize,
    /// Check every region's pattern by a forward pass at its interior point.
    pub verify: bool,
    /// Called from worker threads as parts of the shape are finished, with the fraction of
    /// the shape's area just completed (the calls add up to 1).
    pub progress: Option<&'a (dyn Fn(f64) + Sync)>,
}

impl Default for PlaneOptions<'_> {
    fn default() -> Self {
        Self {
            max_regions: 10_000_000,
            verify: true,
            progress: None,
        }
    }
}

impl std::fmt::Debug for PlaneOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaneOptions")
            .field("max_regions", &self.max_regions)
            .field("verify", &self.verify)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The exact partition of a slice into activation regions.
#[derive(Debug, Clone)]
pub struct PlanePartition {
    /// The shape that was partitioned.
    pub shape: Shape,
    /// The regions, each with a distinct pattern.
    pub regions: Vec<PlaneRegion>,
    /// Distinct affine maps of the network restricted to the slice (see the module
    /// documentation).
    pub pieces: usize,
    /// The shape's exact area ([`Shape::area`]).
    pub shape_area: f64,
    /// The sum of the regions' areas (equal to `shape_area` up to rounding).
    pub area_total: f64,
    /// Regions whose pattern a forward pass at the interior point did not confirm.
    pub unverified: usize,
    /// Largest `|f(x) - map(a, b)| / (1 + |f(x)|)` over regions and outputs at the interior
    /// points (forward pass against the region's map); 0 when not verified.
    pub max_output_error: f64,
    /// Cuts not made because a side had numerically zero area (module documentation).
    pub merged_slivers: usize,
}

impl PlanePartition {
    /// Number of activation regions meeting the shape.
    pub fn region_count(&self) -> usize {
        self.regions.len()
    }

    /// The decision boundary in the slice as segments `[p, q]` in `(a, b)` coordinates
    /// (module documentation).
    pub fn decision_boundary(&self, decision: Decision) -> Vec<[Point2; 2]> {
        let r = self.shape.extent();
        let index = RegionIndex::new(&self.regions, r);
        self.regions
            .par_iter()
            .flat_map_iter(|region| decision_segments(region, decision, r, &index))
            .collect()
    }
}

impl PlanePartition {
    /// The regions adjacent to each region (sharing a piece of an edge), by locating the
    /// point just across the midpoint of every edge (`1e-9 R` outside it). This finds every
    /// pair of neighbours one of which has a whole edge on their common boundary (in a
    /// partition by convex polygons, nearly all); it is meant for colouring pictures.
    pub fn neighbours(&self) -> Vec<Vec<usize>> {
        let r = self.shape.extent();
        let index = RegionIndex::new(&self.regions, r);
        let found: Vec<Vec<usize>> = self
            .regions
            .par_iter()
            .map(|region| {
                let poly = &region.vertices;
                let m = poly.len();
                let mut out: Vec<usize> = (0..m)
                    .filter_map(|i| {
                        let (a, b) = (poly[i], poly[(i + 1) % m]);
                        let e = [b[0] - a[0], b[1] - a[1]];
                        let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
                        if el == 0.0 {
                            return None;
                        }
                        let step = 1e-9 * r;
                        let q = [
                            0.5 * (a[0] + b[0]) + step * e[1] / el,
                            0.5 * (a[1] + b[1]) - step * e[0] / el,
                        ];
                        index.locate(q)
                    })
                    .collect();
                out.sort_unstable();
                out.dedup();
                out
            })
            .collect();
        // Symmetrise.
        let mut adj: Vec<Vec<usize>> = found.clone();
        for (i, list) in found.iter().enumerate() {
            for &j in list {
                if j != i {
                    adj[j].push(i);
                }
            }
        }
        for (i, list) in adj.iter_mut().enumerate() {
            list.retain(|&j| j != i);
            list.sort_unstable();
            list.dedup();
        }
        adj
    }
}

/// A bucket grid over the regions' bounding boxes, for point location.
struct RegionIndex<'a> {
    regions: &'a [PlaneRegion],
    n: usize,
    r: f64,
    buckets: Vec<Vec<usize>>,
}

impl<'a> RegionIndex<'a> {
    fn new(regions: &'a [PlaneRegion], r: f64) -> Self {
        let n = ((regions.len() as f64).sqrt().ceil() as usize).clamp(1, 512);
        let mut buckets = vec![Vec::new(); n * n];
        let cell = |x: f64| -> usize {
            (((x + r) / (2.0 * r) * n as f64).floor().max(0.0) as usize).min(n - 1)
        };
        for (k, reg) in regions.iter().enumerate() {
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for p in &reg.vertices {
                for i in 0..2 {
                    lo[i] = lo[i].min(p[i]);
                    hi[i] = hi[i].max(p[i]);
                }
            }
            for i in cell(lo[0])..=cell(hi[0]) {
                for j in cell(lo[1])..=cell(hi[1]) {
                    buckets[i * n + j].push(k);
                }
            }
        }
        Self {
            regions,
            n,
            r,
            buckets,
        }
    }

    /// The index of a region containing `p` strictly, if any.
    fn locate(&self, p: Point2) -> Option<usize> {
        let cell = |x: f64| -> Option<usize> {
            let c = ((x + self.r) / (2.0 * self.r) * self.n as f64).floor();
            (c >= 0.0 && c < self.n as f64).then_some(c as usize)
        };
        let (i, j) = (cell(p[0])?, cell(p[1])?);
        self.buckets[i * self.n + j]
            .iter()
            .copied()
            .find(|&k| polygon_contains(&self.regions[k].vertices, p))
    }
}

/// The decision-boundary segments inside one region.
fn decision_segments(
    region: &PlaneRegion,
    decision: Decision,
    r: f64,
    index: &RegionIndex<'_>,
) -> Vec<[Point2; 2]> {
    let s = region.output.scores(decision);
    let nc = s.offset.len();
    let scale = (0..nc)
        .map(|i| (s.slope[i][0].abs() + s.slope[i][1].abs()) * r + s.offset[i].abs())
        .fold(0.0_f64, f64::max);
    if scale == 0.0 {
        return Vec::new();
    }
    let tol = 1e-12 * scale;
    // Classes within `tol` of the top at a vertex or the interior point.
    let mut candidate = vec![false; nc];
    for &p in region
        .vertices
        .iter()
        .chain(std::iter::once(&region.interior))
    {
        let v = s.eval(p);
        let top = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (c, &x) in v.iter().enumerate() {
            if x >= top - tol {
                candidate[c] = true;
            }
        }
    }
    let k_set: Vec<usize> = (0..nc).filter(|&c| candidate[c]).collect();
    if k_set.len() < 2 {
        return Vec::new();
    }
    let poly = &region.vertices;
    let m = poly.len();
    let delta = 1e-9 * r;
    let min_len = 1e-9 * r;
    let mut out = Vec::new();
    for (x, &j) in k_set.iter().enumerate() {
        for &k in &k_set[x + 1..] {
            let g = [
                s.slope[j][0] - s.slope[k][0],
                s.slope[j][1] - s.slope[k][1],
                s.offset[j] - s.offset[k],
            ];
            let gn2 = g[0] * g[0] + g[1] * g[1];
            let gn = gn2.sqrt();
            if gn * r <= tol {
                continue; // a tie on the whole region, or no tie
            }
            let c = region.interior;
            let gc = g[0] * c[0] + g[1] * c[1] + g[2];
            let p0 = [c[0] - gc * g[0] / gn2, c[1] - gc * g[1] / gn2];
            let d = [-g[1] / gn, g[0] / gn];
            let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
            // Constrain `c0 + c1 t >= 0`. A constraint parallel to the line (`|c1| <=
            // parallel`) holds or fails on all of it, with `slack` for rounding: this is
            // what keeps a tie that runs along a region edge.
            let mut constrain = |c0: f64, c1: f64, parallel: f64, slack: f64| {
                if c1.abs() <= parallel {
                    if c0 < -slack {
                        lo = f64::INFINITY;
                    }
                } else if c1 > 0.0 {
                    lo = lo.max(-c0 / c1);
                } else {
                    hi = hi.min(-c0 / c1);
                }
            };
            for i in 0..m {
                let (a, b) = (poly[i], poly[(i + 1) % m]);
                let e = [b[0] - a[0], b[1] - a[1]];
                let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
                if el == 0.0 {
                    continue;
                }
                let c0 = (e[0] * (p0[1] - a[1]) - e[1] * (p0[0] - a[0])) / el;
                let c1 = (e[0] * d[1] - e[1] * d[0]) / el;
                constrain(c0, c1, 1e-9, delta);
            }
            for i in 0..nc {
                if i == j || i == k {
                    continue;
                }
                let h = [
                    s.slope[j][0] - s.slope[i][0],
                    s.slope[j][1] - s.slope[i][1],
                    s.offset[j] - s.offset[i],
                ];
                let c0 = h[0] * p0[0] + h[1] * p0[1] + h[2];
                let c1 = h[0] * d[0] + h[1] * d[1];
                constrain(c0, c1, tol / r, tol);
            }
            // (Written so that an empty interval, where `hi - lo` may be NaN, is skipped.)
            let long_enough = hi - lo > min_len;
            if !long_enough {
                continue;
            }
            let pa = [p0[0] + lo * d[0], p0[1] + lo * d[1]];
            let pb = [p0[0] + hi * d[0], p0[1] + hi * d[1]];
            let mid = [0.5 * (pa[0] + pb[0]), 0.5 * (pa[1] + pb[1])];
            // Does the segment run along an edge of the region?
            let on_edge = (0..m).find(|&i| {
                let (a, b) = (poly[i], poly[(i + 1) % m]);
                let e = [b[0] - a[0], b[1] - a[1]];
                let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
                el > 0.0
                    && ((e[0] * (mid[1] - a[1]) - e[1] * (mid[0] - a[0])) / el).abs() <= 1e-9 * r
                    && (e[0] * d[1] - e[1] * d[0]).abs() / el <= 1e-9
            });
            if let Some(i) = on_edge {
                // Kept once: from the side of class j (g > 0 inside), when the class just
                // across the edge is k.
                if gc <= 0.0 {
                    continue;
                }
                let (a, b) = (poly[i], poly[(i + 1) % m]);
                let e = [b[0] - a[0], b[1] - a[1]];
                let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
                let outward = [e[1] / el, -e[0] / el];
                let step = 1e-7 * r;
                let q = [mid[0] + step * outward[0], mid[1] + step * outward[1]];
                let across = index.locate(q).map(|other| {
                    let v = index.regions[other].output.scores(decision).eval(q);
                    argmax(&v)
                });
                if across != Some(k) {
                    continue;
                }
            }
            out.push([pa, pb]);
        }
    }
    out
}

/// Per layer: the weights by columns and what the tolerances need.
struct LayerData {
    n_out: usize,
    /// Column `j` of `W` at `cols[j * n_out..(j + 1) * n_out]`.
    cols: Vec<f64>,
    bias: Vec<f64>,
    row_l1: Vec<f64>,
    /// `64 (n_in + 1) eps`.
    tol_factor: f64,
}

impl LayerData {
    fn col(&self, j: usize) -> &[f64] {
        &self.cols[j * self.n_out..(j + 1) * self.n_out]
    }
}

/// The pre-activations of one layer as affine functions of `(a, b)` on a polygon:
/// `z_k = a_k a + b_k b + c_k`; `scale` is the `S` of the tolerance (largest input
/// magnitude of the layer over the shape).
#[derive(Default)]
struct Map {
    /// `[a_0 .. a_{n-1}, b_0 .. b_{n-1}, c_0 .. c_{n-1}]`, one allocation.
    coef: Vec<f64>,
    n: usize,
    scale: f64,
}

impl Clone for Map {
    fn clone(&self) -> Self {
        Self {
            coef: self.coef.clone(),
            n: self.n,
            scale: self.scale,
        }
    }

    /// Reuses `self`'s buffer.
    fn clone_from(&mut self, other: &Self) {
        self.coef.clone_from(&other.coef);
        self.n = other.n;
        self.scale = other.scale;
    }
}

impl Map {
    fn with_bias(bias: &[f64]) -> Self {
        let mut map = Self::default();
        map.reset(bias);
        map
    }

    /// `a = b = 0`, `c = bias`, `scale = 0`, in the existing buffer.
    fn reset(&mut self, bias: &[f64]) {
        self.n = bias.len();
        self.coef.clear();
        self.coef.resize(2 * self.n, 0.0);
        self.coef.extend_from_slice(bias);
        self.scale = 0.0;
    }

    fn a(&self) -> &[f64] {
        &self.coef[..self.n]
    }

    fn b(&self) -> &[f64] {
        &self.coef[self.n..2 * self.n]
    }

    fn c(&self) -> &[f64] {
        &self.coef[2 * self.n..]
    }

    /// `(a_k, b_k, c_k)`.
    fn at(&self, k: usize) -> (f64, f64, f64) {
        (
            self.coef[k],
            self.coef[self.n + k],
            self.coef[2 * self.n + k],
        )
    }

    fn parts_mut(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]) {
        let (a, rest) = self.coef.split_at_mut(self.n);
        let (b, c) = rest.split_at_mut(self.n);
        (a, b, c)
    }

    /// `self += sum over j in js of col_j ⊗ (h.a_j, h.b_j, h.c_j)` ([`AddColumns`]).
    fn add_columns(&mut self, layer: &LayerData, js: &[usize], h: &Map) {
        vectorized(AddColumns {
            map: self,
            layer,
            js,
            h,
        });
    }

    fn eval(&self, k: usize, p: Point2) -> f64 {
        let (a, b, c) = self.at(k);
        a * p[0] + b * p[1] + c
    }
}

/// The kernel of [`Map::add_columns`]: four columns at a time (one pass over the
/// accumulators per four columns), then the rest one by one. A [`WithSimd`] type rather
/// than a closure, so that its loops are compiled inside [`vectorized`]'s wide function.
/// Where the CPU has FMA the products are fused into the sums (one rounding instead of
/// two: 6-10% faster on mnist-net_256x6 slices); elsewhere they are separate, so the
/// composed maps can differ in their last bits between the two kinds of CPU, well within
/// the vertex tolerances of the module documentation.
struct AddColumns<'a> {
    map: &'a mut Map,
    layer: &'a LayerData,
    js: &'a [usize],
    h: &'a Map,
}

impl WithSimd for AddColumns<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { map, layer, js, h } = self;
        let mut chunks = js.chunks_exact(4);
        let (a, b, c) = map.parts_mut();
        for q in &mut chunks {
            let (c0, c1, c2, c3) = (
                layer.col(q[0]),
                layer.col(q[1]),
                layer.col(q[2]),
                layer.col(q[3]),
            );
            let hs = [h.at(q[0]), h.at(q[1]), h.at(q[2]), h.at(q[3])];
            let ha = [hs[0].0, hs[1].0, hs[2].0, hs[3].0];
            let hb = [hs[0].1, hs[1].1, hs[2].1, hs[3].1];
            let hc = [hs[0].2, hs[1].2, hs[2].2, hs[3].2];
            for (i, ((a, b), c)) in a.iter_mut().zip(b.iter_mut()).zip(c.iter_mut()).enumerate() {
                let w = [c0[i], c1[i], c2[i], c3[i]];
                if S::IS_SCALAR {
                    *a += (w[0] * ha[0] + w[1] * ha[1]) + (w[2] * ha[2] + w[3] * ha[3]);
                    *b += (w[0] * hb[0] + w[1] * hb[1]) + (w[2] * hb[2] + w[3] * hb[3]);
                    *c += (w[0] * hc[0] + w[1] * hc[1]) + (w[2] * hc[2] + w[3] * hc[3]);
                } else {
                    let fused = |acc: f64, h: &[f64; 4]| {
                        let acc = w[0].mul_add(h[0], acc);
                        let acc = w[1].mul_add(h[1], acc);
                        w[3].mul_add(h[3], w[2].mul_add(h[2], acc))
                    };
                    *a = fused(*a, &ha);
                    *b = fused(*b, &hb);
                    *c = fused(*c, &hc);
                }
            }
        }
        for &j in chunks.remainder() {
            let (ha, hb, hc) = h.at(j);
            let col = layer.col(j);
            for (((a, b), c), &w) in a.iter_mut().zip(b.iter_mut()).zip(c.iter_mut()).zip(col) {
                if S::IS_SCALAR {
                    *a += w * ha;
                    *b += w * hb;
                    *c += w * hc;
                } else {
                    *a = w.mul_add(ha, *a);
                    *b = w.mul_add(hb, *b);
                    *c = w.mul_add(hc, *c);
                }
            }
        }
    }
}

/// [`ClassifyOnBox`]: neuron active on the whole bounding box (beyond its tolerance).
const BOX_ACTIVE: u8 = 1;
/// [`ClassifyOnBox`]: neuron neither active nor inactive on the whole bounding box.
const BOX_OPEN: u8 = 2;

/// For every neuron `k` of a layer, on the box `centre ± half` of the `(a, b)` plane: its
/// vertex tolerance `tol_k` (module documentation) and whether `z_k > tol_k` on the whole
/// box ([`BOX_ACTIVE`]: `z_k(centre) - |a_k| half_a - |b_k| half_b > tol_k`), `z_k < -tol_k`
/// on it (0), or neither ([`BOX_OPEN`]). Branch-free, so it vectorises.
struct ClassifyOnBox<'a> {
    map: &'a Map,
    layer: &'a LayerData,
    centre: Point2,
    half: Point2,
    tols: &'a mut [f64],
    state: &'a mut [u8],
}

impl WithSimd for ClassifyOnBox<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self {
            map,
            layer,
            centre,
            half,
            tols,
            state,
        } = self;
        let (tf, scale) = (layer.tol_factor, map.scale);
        let terms = map
            .a()
            .iter()
            .zip(map.b())
            .zip(map.c())
            .zip(layer.row_l1.iter().zip(&layer.bias));
        for ((((a, b), c), (l1, bias)), (tol, state)) in terms.zip(tols.iter_mut().zip(state)) {
            let t = tf * (l1 * scale + bias.abs());
            let zc = a * centre[0] + b * centre[1] + c;
            let spread = a.abs() * half[0] + b.abs() * half[1];
            let (on, off) = (zc - spread > t, zc + spread < -t);
            *state = u8::from(on) | (u8::from(!on && !off) << 1);
            *tol = t;
        }
    }
}

/// A polygon of the partition in progress.
struct Piece {
    poly: Vec<Point2>,
    area: f64,
    /// States of the current layer's cutting neurons, in the order of `cuts`.
    cut_active: CutBits,
}

/// A list of bits, inline up to 128 (no allocation for the common case).
#[derive(Clone, Default)]
struct CutBits {
    len: usize,
    small: u128,
    large: Vec<u64>,
}

impl CutBits {
    fn push(&mut self, on: bool) {
        if self.len < 128 {
            self.small |= u128::from(on) << self.len;
        } else {
            let i = self.len - 128;
            if i % 64 == 0 {
                self.large.push(0);
            }
            self.large[i / 64] |= u64::from(on) << (i % 64);
        }
        self.len += 1;
    }

    fn get(&self, i: usize) -> bool {
        if i < 128 {
            self.small >> i & 1 == 1
        } else {
            let i = i - 128;
            self.large[i / 64] >> (i % 64) & 1 == 1
        }
    }
}

/// Makes `v` at least `n` long (new entries zero).
fn grow<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::default());
    }
}

/// The buffers of one [`Run::process`] frame, reused by the frames that follow on the same
/// thread: a frame takes one from the thread's stack on entry and puts it back on exit, so
/// nested frames (the recursion, and rayon tasks run while a frame waits) never share one,
/// and a thread holds about one per layer.
#[derive(Default)]
struct Workspace {
    state: Vec<u8>,
    tols_all: Vec<f64>,
    open: Vec<usize>,
    cuts: Vec<usize>,
    tols: Vec<f64>,
    z: Vec<f64>,
    pieces: Vec<Piece>,
    next: Vec<Piece>,
    js: Vec<usize>,
    child_js: Vec<usize>,
    base_pattern: ActivationPattern,
    child_pattern: ActivationPattern,
    base: Map,
    child: Map,
}

thread_local! {
    static WORKSPACES: std::cell::RefCell<Vec<Workspace>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Workspace {
    fn take() -> Self {
        WORKSPACES
            .with(|w| w.borrow_mut().pop())
            .unwrap_or_default()
    }

    fn give(self) {
        WORKSPACES.with(|w| w.borrow_mut().push(self));
    }
}

/// The state of one run.
struct Run<'a> {
    layers: Vec<LayerData>,
    relu_layers: usize,
    starts: Vec<usize>,
    extent: f64,
    shape_area: f64,
    max_regions: usize,
    count: AtomicUsize,
    overflow: AtomicBool,
    merged: AtomicUsize,
    progress: Option<&'a (dyn Fn(f64) + Sync)>,
}

impl Run<'_> {
    /// Partitions `poly` (a polygon of the partition by layers `< l`, on which layer `l`'s
    /// pre-activations are `map` and the earlier neurons' states are in `pattern`) by the
    /// remaining layers, appending the regions to `out`.
    fn process(
        &self,
        l: usize,
        poly: Vec<Point2>,
        area: f64,
        map: &Map,
        pattern: &ActivationPattern,
        out: &mut Vec<PlaneRegion>,
    ) {
        if self.overflow.load(Ordering::Relaxed) {
            return;
        }
        let mut ws = Workspace::take();
        self.process_in(&mut ws, l, poly, area, map, pattern, out);
        Workspace::give(ws);
    }

    /// [`Run::process`] with the buffers of `ws`.
    #[allow(clippy::too_many_arguments)]
    fn process_in(
        &self,
        ws: &mut Workspace,
        l: usize,
        poly: Vec<Point2>,
        area: f64,
        map: &Map,
        pattern: &ActivationPattern,
        out: &mut Vec<PlaneRegion>,
    ) {
        let ld = &self.layers[l];
        let n = ld.n_out;
        // 1. Classify the layer's neurons on the polygon.
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in &poly {
            for i in 0..2 {
                lo[i] = lo[i].min(p[i]);
                hi[i] = hi[i].max(p[i]);
            }
        }
        let centre = [0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])];
        let half = [0.5 * (hi[0] - lo[0]), 0.5 * (hi[1] - lo[1])];
        // Bounding-box test first, for all neurons at once: one evaluation at the box's
        // centre decides most of them. Then the neurons it leaves open are tested at the
        // vertices. `js` collects the neurons active on the whole polygon.
        // (Buffers only grow: the kernel and the compaction write every entry they read.)
        grow(&mut ws.state, n);
        grow(&mut ws.tols_all, n);
        vectorized(ClassifyOnBox {
            map,
            layer: ld,
            centre,
            half,
            tols: &mut ws.tols_all[..n],
            state: &mut ws.state[..n],
        });
        // Branch-free compaction of the active and the open neurons, skipping eight
        // inactive neurons (a zero word) at a time.
        grow(&mut ws.js, n);
        grow(&mut ws.open, n);
        let (mut n_active, mut n_open) = (0, 0);
        for (w, chunk) in ws.state[..n].chunks(8).enumerate() {
            if chunk.len() == 8 && chunk.iter().all(|&s| s == 0) {
                continue;
            }
            for (t, &state) in chunk.iter().enumerate() {
                let k = 8 * w + t;
                ws.js[n_active] = k;
                n_active += usize::from(state == BOX_ACTIVE);
                ws.open[n_open] = k;
                n_open += usize::from(state == BOX_OPEN);
            }
        }

        ws.cuts.clear();
        ws.tols.clear();
        for &k in &ws.open[..n_open] {
            let tol = ws.tols_all[k];
            let (mut zlo, mut zhi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &p in &poly {
                let z = map.eval(k, p);
                zlo = zlo.min(z);
                zhi = zhi.max(z);
            }
            if zhi > tol && zlo < -tol {
                ws.cuts.push(k);
                ws.tols.push(tol);
            } else if zhi > tol
                // Numerically zero on the whole polygon: the sign at the vertex mean.
                || (zlo >= -tol && map.eval(k, vertex_mean(&poly)) > 0.0)
            {
                ws.js[n_active] = k;
                n_active += 1;
            }
        }
        // 2. Split by the cutting neurons (two piece lists and one value buffer, reused).
        let mut pieces = std::mem::take(&mut ws.pieces);
        let mut next = std::mem::take(&mut ws.next);
        pieces.clear();
        pieces.push(Piece {
            poly,
            area,
            cut_active: CutBits::default(),
        });
        for (&k, &tol) in ws.cuts.iter().zip(&ws.tols) {
            next.clear();
            for mut piece in pieces.drain(..) {
                ws.z.clear();
                ws.z.extend(piece.poly.iter().map(|&p| map.eval(k, p)));
                let (zlo, zhi) =
                    ws.z.iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                            (a.min(v), b.max(v))
                        });
                if zhi > tol && zlo < -tol {
                    let (plus, minus) = split(&piece.poly, &ws.z, tol);
                    let (ap, am) = (polygon_area(&plus), polygon_area(&minus));
                    let plus_ok = plus.len() >= 3 && ap > area_floor(&plus);
                    let minus_ok = minus.len() >= 3 && am > area_floor(&minus);
                    if plus_ok && minus_ok {
                        let mut cut_minus = piece.cut_active.clone();
                        cut_minus.push(false);
                        piece.cut_active.push(true);
                        next.push(Piece {
                            poly: plus,
                            area: ap,
                            cut_active: piece.cut_active,
                        });
                        next.push(Piece {
                            poly: minus,
                            area: am,
                            cut_active: cut_minus,
                        });
                        continue;
                    }
                    self.merged.fetch_add(1, Ordering::Relaxed);
                    piece.cut_active.push(ap >= am);
                } else if zhi > tol {
                    piece.cut_active.push(true);
                } else if zlo < -tol {
                    piece.cut_active.push(false);
                } else {
                    let on = map.eval(k, vertex_mean(&piece.poly)) > 0.0;
                    piece.cut_active.push(on);
                }
                next.push(piece);
            }
            std::mem::swap(&mut pieces, &mut next);
        }
        ws.next = next;
        // 3. Freeze the layer and compose with the next one.
        ws.base_pattern.clone_from(pattern);
        let active = &ws.js[..n_active];
        for &k in active {
            ws.base_pattern.set(self.starts[l] + k, true);
        }
        let last = l + 1 == self.relu_layers;
        // The layer fed by this one: the next hidden layer, the output layer, or none when
        // this is the output layer (output ReLU).
        let next_layer = self.layers.get(l + 1);
        if let Some(next_layer) = next_layer {
            ws.base.reset(&next_layer.bias);
            ws.base.add_columns(next_layer, active, map);
            ws.base.scale = active.iter().fold(0.0, |s, &j| {
                let (ha, hb, hc) = map.at(j);
                s.max((ha.abs() + hb.abs()) * self.extent + hc.abs())
            });
        }
        // The pattern and (when there is a next layer) the next layer's map of a piece.
        let mut m = std::mem::take(&mut ws.child);
        // One piece: its map is the base itself (no copy).
        let single = pieces.len() == 1;
        if single {
            std::mem::swap(&mut m, &mut ws.base);
        }
        let child = |piece: &Piece, js: &mut Vec<usize>, p: &mut ActivationPattern, m: &mut Map| {
            p.clone_from(&ws.base_pattern);
            js.clear();
            for (i, &k) in ws.cuts.iter().enumerate() {
                if piece.cut_active.get(i) {
                    p.set(self.starts[l] + k, true);
                    js.push(k);
                }
            }
            if let Some(next_layer) = next_layer {
                if !single {
                    m.clone_from(&ws.base);
                }
                m.add_columns(next_layer, js, map);
                for &k in js.iter() {
                    let (ha, hb, hc) = map.at(k);
                    m.scale = m.scale.max((ha.abs() + hb.abs()) * self.extent + hc.abs());
                }
            }
        };
        let mut js = std::mem::take(&mut ws.child_js);
        if last {
            for piece in pieces.drain(..) {
                let mut p = ActivationPattern::default();
                child(&piece, &mut js, &mut p, &mut m);
                let output = if next_layer.is_some() {
                    PlaneAffine {
                        slope: m.a().iter().zip(m.b()).map(|(&a, &b)| [a, b]).collect(),
                        offset: m.c().to_vec(),
                    }
                } else {
                    // Output ReLU: the output map is this layer's, masked.
                    let on = |k: usize| p.get(self.starts[l] + k) == Some(true);
                    PlaneAffine {
                        slope: (0..n)
                            .map(|k| {
                                if on(k) {
                                    [map.a()[k], map.b()[k]]
                                } else {
                                    [0.0; 2]
                                }
                            })
                            .collect(),
                        offset: (0..n)
                            .map(|k| if on(k) { map.c()[k] } else { 0.0 })
                            .collect(),
                    }
                };
                self.push_region(piece, p, output, out);
            }
        } else if pieces.len() > 1 && l < 2 {
            let parts: Vec<Vec<PlaneRegion>> = pieces
                .par_drain(..)
                .map(|piece| {
                    let (mut js, mut p, mut m) =
                        (Vec::new(), ActivationPattern::default(), Map::default());
                    child(&piece, &mut js, &mut p, &mut m);
                    let mut v = Vec::new();
                    let a = piece.area;
                    self.process(l + 1, piece.poly, a, &m, &p, &mut v);
                    self.report(l + 1, a);
                    v
                })
                .collect();
            out.extend(parts.into_iter().flatten());
        } else {
            let mut p = std::mem::take(&mut ws.child_pattern);
            for piece in pieces.drain(..) {
                child(&piece, &mut js, &mut p, &mut m);
                let a = piece.area;
                self.process(l + 1, piece.poly, a, &m, &p, out);
                self.report(l + 1, a);
            }
            ws.child_pattern = p;
        }
        ws.child_js = js;
        ws.child = m;
        ws.pieces = pieces;
    }

    /// Progress at the end of a polygon of the first layer's partition.
    fn report(&self, l: usize, area: f64) {
        if l == 1
            && let Some(f) = self.progress
        {
            f(area / self.shape_area);
        }
    }

    fn push_region(
        &self,
        piece: Piece,
        pattern: ActivationPattern,
        output: PlaneAffine,
        out: &mut Vec<PlaneRegion>,
    ) {
        if self.count.fetch_add(1, Ordering::Relaxed) >= self.max_regions {
            self.overflow.store(true, Ordering::Relaxed);
            return;
        }
        let interior = polygon_centroid(&piece.poly);
        out.push(PlaneRegion {
            pattern,
            vertices: piece.poly,
            area: piece.area,
            interior,
            output,
            verified: None,
        });
    }
}

/// The exact partition of the slice `{c + a u + b v : (a, b) in shape}` into the
/// activation regions of `net` (module documentation).
pub fn plane_partition(
    net: &Network,
    plane: &Plane,
    shape: Shape,
    options: PlaneOptions<'_>,
) -> Result<PlanePartition, SliceError> {
    shape.check()?;
    if plane.dim() != net.input_dim() {
        return Err(NetworkError::InputLength {
            point: 0,
            expected: net.input_dim(),
            found: plane.dim(),
        }
        .into());
    }
    let layers: Vec<LayerData> = net
        .layers()
        .iter()
        .map(|layer| {
            let w = layer.weight();
            let (n_out, n_in) = (w.nrows(), w.ncols());
            // Column by column (contiguous in faer's layout), the row sums in column
            // order as well.
            let mut cols = Vec::with_capacity(n_in * n_out);
            let mut row_l1 = vec![0.0; n_out];
            for j in 0..n_in {
                let start = cols.len();
                match w.col(j).try_as_col_major() {
                    Some(col) => cols.extend_from_slice(col.as_slice()),
                    None => cols.extend((0..n_out).map(|i| w[(i, j)])),
                }
                for (l1, v) in row_l1.iter_mut().zip(&cols[start..]) {
                    *l1 += v.abs();
                }
            }
            LayerData {
                n_out,
                cols,
                bias: layer.bias().to_vec(),
                row_l1,
                tol_factor: 64.0 * (n_in as f64 + 1.0) * f64::EPSILON,
            }
        })
        .collect();
    let extent = shape.extent();
    let relu_layers = net.relu_layer_count();
    let mut starts = Vec::with_capacity(relu_layers);
    let mut acc = 0;
    for w in net.relu_widths() {
        starts.push(acc);
        acc += w;
    }
    // The first layer's maps: W_1 u, W_1 v, W_1 c + b_1.
    let mut first = Map::with_bias(&layers[0].bias);
    let directions = Map {
        coef: [&plane.u[..], &plane.v[..], &plane.center[..]].concat(),
        n: plane.dim(),
        scale: 0.0,
    };
    let all: Vec<usize> = (0..plane.dim()).collect();
    first.add_columns(&layers[0], &all, &directions);
    first.scale = (0..plane.dim())
        .map(|j| {
            let (u, v, c) = directions.at(j);
            (u.abs() + v.abs()) * extent + c.abs()
        })
        .fold(0.0, f64::max);
    let poly = shape.polygon();
    let shape_area = shape.area();
    let run = Run {
        layers,
        relu_layers,
        starts,
        extent,
        shape_area,
        max_regions: options.max_regions,
        count: AtomicUsize::new(0),
        overflow: AtomicBool::new(false),
        merged: AtomicUsize::new(0),
        progress: options.progress,
    };
    let mut regions = Vec::new();
    let area = polygon_area(&poly);
    if relu_layers == 0 {
        run.push_region(
            Piece {
                poly,
                area,
                cut_active: CutBits::default(),
            },
            ActivationPattern::inactive(0),
            PlaneAffine {
                slope: first
                    .a()
                    .iter()
                    .zip(first.b())
                    .map(|(&a, &b)| [a, b])
                    .collect(),
                offset: first.c().to_vec(),
            },
            &mut regions,
        );
    } else {
        run.process(
            0,
            poly,
            area,
            &first,
            &ActivationPattern::inactive(net.relu_count()),
            &mut regions,
        );
        if relu_layers == 1
            && let Some(f) = options.progress
        {
            f(1.0);
        }
    }
    if run.overflow.load(Ordering::Relaxed) {
        return Err(SliceError::TooManyRegions(options.max_regions));
    }
    let (unverified, max_output_error) = if options.verify {
        verify(net, plane, &mut regions)?
    } else {
        (0, 0.0)
    };
    let area_total = regions.iter().map(|r| r.area).sum();
    let pieces = count_pieces(&regions, extent);
    Ok(PlanePartition {
        shape,
        regions,
        pieces,
        shape_area,
        area_total,
        unverified,
        max_output_error,
        merged_slivers: run.merged.load(Ordering::Relaxed),
    })
}

/// The network restricted to the plane, on `(a, b)`: its first layer is `W_1 [u v]` with
/// bias `W_1 c + b_1` (one pass over `W_1`), the later layers are the network's own. A
/// forward pass through it is a forward pass of the network at `c + a u + b v`, up to
/// rounding, without the input dimension's cost; it does not use the partition's
/// composed maps, so the check below stays independent of them.
fn restricted_to_plane(net: &Network, plane: &Plane) -> Result<Network, NetworkError> {
    let first = &net.layers()[0];
    let w = first.weight();
    let n = w.nrows();
    // Column by column (contiguous in faer's layout); each sum still runs over `j` in
    // order.
    let (mut wu, mut wv, mut wc) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for j in 0..w.ncols() {
        let (u, v, c) = (plane.u[j], plane.v[j], plane.center[j]);
        for (i, wij) in w.col(j).iter().enumerate() {
            wu[i] += wij * u;
            wv[i] += wij * v;
            wc[i] += wij * c;
        }
    }
    let w2 = Mat::<f64>::from_fn(n, 2, |i, k| if k == 0 { wu[i] } else { wv[i] });
    let bias: Vec<f64> = first.bias().iter().zip(&wc).map(|(b, c)| b + c).collect();
    let mut layers = vec![crate::network::Affine::new(w2, bias)?];
    layers.extend(net.layers()[1..].iter().cloned());
    Network::new(layers, net.output_relu())
}

/// Forward passes at the interior points, in parallel chunks.
fn verify(
    net: &Network,
    plane: &Plane,
    regions: &mut [PlaneRegion],
) -> Result<(usize, f64), NetworkError> {
    let restricted = restricted_to_plane(net, plane)?;
    let results: Vec<(usize, f64)> = regions
        .par_chunks_mut(256)
        .map(|chunk| -> Result<(usize, f64), NetworkError> {
            let x = Mat::from_fn(chunk.len(), 2, |i, j| chunk[i].interior[j]);
            let eval = restricted.evaluate_batch(x.as_ref(), Par::Seq)?;
            let mut bad = 0;
            let mut err = 0.0_f64;
            for (i, region) in chunk.iter_mut().enumerate() {
                let ok = eval.patterns[i] == region.pattern;
                region.verified = Some(ok);
                bad += usize::from(!ok);
                for (o, v) in region.output.eval(region.interior).iter().enumerate() {
                    let f = eval.outputs[(i, o)];
                    err = err.max((f - v).abs() / (1.0 + f.abs()));
                }
            }
            Ok((bad, err))
        })
        .collect::<Result<_, _>>()?;
    Ok(results
        .into_iter()
        .fold((0, 0.0), |(b, e), (b2, e2)| (b + b2, f64::max(e, e2))))
}

/// Distinct restricted output maps (module documentation): sort by a fixed random
/// projection of the coefficients, compare neighbours within the tolerance window, and
/// count the classes of the union-find closure.
fn count_pieces(regions: &[PlaneRegion], r: f64) -> usize {
    if regions.is_empty() {
        return 0;
    }
    let coef = |reg: &PlaneRegion| -> Vec<f64> {
        reg.output
            .slope
            .iter()
            .zip(&reg.output.offset)
            .flat_map(|(s, &c)| [s[0] * r, s[1] * r, c])
            .collect()
    };
    let coefs: Vec<Vec<f64>> = regions.iter().map(coef).collect();
    let scale = coefs
        .iter()
        .flat_map(|c| c.chunks(3).map(|t| t[0].abs() + t[1].abs() + t[2].abs()))
        .fold(0.0_f64, f64::max);
    if scale == 0.0 {
        return 1;
    }
    let tol = 1e-9 * scale;
    // Weights in [1, 2): a projection that cannot cancel two distinct maps by accident
    // more than any other fixed direction.
    let weights: Vec<f64> = (0..coefs[0].len())
        .map(|i| 1.0 + ((i as f64 + 1.0) * 0.618_033_988_749_895).fract())
        .collect();
    let wsum: f64 = weights.iter().sum();
    let key = |c: &[f64]| -> f64 { c.iter().zip(&weights).map(|(x, w)| x * w).sum() };
    let mut order: Vec<(f64, usize)> = coefs.iter().enumerate().map(|(i, c)| (key(c), i)).collect();
    order.sort_by(|x, y| x.0.total_cmp(&y.0));
    let equal = |x: &[f64], y: &[f64]| -> bool {
        x.chunks(3)
            .zip(y.chunks(3))
            .all(|(p, q)| (p[0] - q[0]).abs() + (p[1] - q[1]).abs() + (p[2] - q[2]).abs() <= tol)
    };
    let mut parent: Vec<usize> = (0..regions.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    // Equal maps have keys within `tol * max weight * outputs`, bounded by `tol * wsum`.
    let window = tol * wsum;
    for a in 0..order.len() {
        for b in a + 1..order.len() {
            if order[b].0 - order[a].0 > window {
                break;
            }
            let (i, j) = (order[a].1, order[b].1);
            if equal(&coefs[i], &coefs[j]) {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj {
                    parent[ri] = rj;
                }
            }
        }
    }
    (0..regions.len())
        .filter(|&i| find(&mut parent, i) == i)
        .count()
}

/// The activation patterns at points of the slice (one forward pass each, batched).
pub fn patterns_at(
    net: &Network,
    plane: &Plane,
    points: &[Point2],
) -> Result<Vec<ActivationPattern>, NetworkError> {
    let chunks: Vec<Vec<ActivationPattern>> = points
        .par_chunks(1024)
        .map(|chunk| net.patterns_batch(plane.points(chunk).as_ref(), Par::Seq))
        .collect::<Result<_, _>>()?;
    Ok(chunks.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Affine;
    use crate::testing::{degenerate, random_network};
    use rand::RngExt;
    use std::collections::HashSet;

    fn layer(rows: usize, cols: usize, w: &[f64], b: &[f64]) -> Affine {
        Affine::from_row_major(rows, cols, w, b.to_vec()).unwrap()
    }

    fn axes(center: [f64; 2]) -> Plane {
        Plane::new(center.to_vec(), vec![1.0, 0.0], vec![0.0, 1.0]).unwrap()
    }

    /// The invariants every partition must satisfy, and the comparison with a grid of
    /// `n x n` cells: returns (regions, distinct grid patterns, every region holds a grid
    /// point).
    fn check(net: &Network, plane: &Plane, shape: Shape, n: usize, what: &str) -> PlanePartition {
        let part = plane_partition(net, plane, shape, PlaneOptions::default()).unwrap();
        let rel = (part.area_total - part.shape_area).abs() / part.shape_area;
        assert!(
            rel <= 1e-9,
            "{what}: areas {} vs {}",
            part.area_total,
            part.shape_area
        );
        assert_eq!(part.unverified, 0, "{what}");
        assert!(
            part.max_output_error < 1e-8,
            "{what}: {}",
            part.max_output_error
        );
        assert!(part.regions.iter().all(|r| r.verified == Some(true)));
        let patterns: HashSet<&ActivationPattern> =
            part.regions.iter().map(|r| &r.pattern).collect();
        assert_eq!(
            patterns.len(),
            part.region_count(),
            "{what}: a pattern twice"
        );
        assert!(
            part.pieces >= 1 && part.pieces <= part.region_count(),
            "{what}"
        );
        for r in &part.regions {
            assert!(r.area > 0.0 && r.vertices.len() >= 3, "{what}");
            assert!((polygon_area(&r.vertices) - r.area).abs() <= 1e-12 * part.shape_area);
            assert!(
                polygon_contains(&r.vertices, r.interior),
                "{what}: centroid outside"
            );
        }
        let grid = shape.grid(n);
        let sampled = patterns_at(net, plane, &grid).unwrap();
        let distinct: HashSet<&ActivationPattern> = sampled.iter().collect();
        assert!(
            part.region_count() >= distinct.len(),
            "{what}: {} regions < {} grid patterns",
            part.region_count(),
            distinct.len()
        );
        for (p, q) in grid.iter().zip(&sampled) {
            assert!(
                patterns.contains(q),
                "{what}: grid point {p:?} in no region"
            );
        }
        // When every region holds a grid point, the grid sees every region.
        if part.regions.iter().all(|r| holds_grid_point(r, shape, n)) {
            assert_eq!(part.region_count(), distinct.len(), "{what}");
        }
        part
    }

    /// Whether a point of `shape.grid(n)` lies strictly inside the region (scanning only
    /// the grid points in its bounding box).
    fn holds_grid_point(r: &PlaneRegion, shape: Shape, n: usize) -> bool {
        let big = shape.extent();
        let step = 2.0 * big / n as f64;
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in &r.vertices {
            for i in 0..2 {
                lo[i] = lo[i].min(p[i]);
                hi[i] = hi[i].max(p[i]);
            }
        }
        let range = |lo: f64, hi: f64, shift: f64| {
            let a = ((lo + big) / step - shift).ceil().max(0.0) as usize;
            let b = (((hi + big) / step - shift).floor().max(-1.0) + 1.0) as usize;
            a..b.min(n)
        };
        range(lo[0], hi[0], 0.5137).any(|i| {
            range(lo[1], hi[1], 0.5071).any(|j| {
                let p = [
                    -big + (i as f64 + 0.5137) * step,
                    -big + (j as f64 + 0.5071) * step,
                ];
                polygon_contains(&r.vertices, p)
            })
        })
    }

    fn random_plane(rng: &mut StdRng, d: usize) -> Plane {
        let c: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        if rng.random_range(0..2) == 0 {
            Plane::random_orthonormal(c, rng.random_range(0..1000)).unwrap()
        } else {
            // Directions as given: neither unit nor orthogonal.
            let u: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let v: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            Plane::new(c, u, v).unwrap()
        }
    }

    fn random_shape(rng: &mut StdRng) -> Shape {
        let r = rng.random_range(0.3..3.0);
        match rng.random_range(0..3) {
            0 => Shape::square(r),
            1 => Shape::disc(r),
            _ => Shape::Disc {
                radius: r,
                vertices: rng.random_range(3..40),
                circumscribed: true,
            },
        }
    }

    #[test]
    fn slice_random_networks_satisfy_the_invariants() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut tried = 0;
        let mut all_hit_equal = 0;
        while tried < 80 {
            let net = random_network(&mut rng, tried % 2 == 0);
            if net.input_dim() < 2 {
                continue;
            }
            tried += 1;
            let plane = random_plane(&mut rng, net.input_dim());
            let shape = random_shape(&mut rng);
            let part = check(&net, &plane, shape, 120, &format!("net {tried}"));
            all_hit_equal += usize::from(part.region_count() > 1);
        }
        assert!(all_hit_equal > 40, "most slices cross several regions");
    }

    #[test]
    fn slice_degenerate_networks() {
        let mut rng = StdRng::seed_from_u64(12);
        let mut tried = 0;
        while tried < 60 {
            let net = random_network(&mut rng, tried % 2 == 1);
            if net.input_dim() < 2 {
                continue;
            }
            tried += 1;
            let net = degenerate(&net, &mut rng);
            let plane = random_plane(&mut rng, net.input_dim());
            let shape = random_shape(&mut rng);
            check(&net, &plane, shape, 100, &format!("degenerate net {tried}"));
        }
    }

    /// Input dimension 2, the plane of the input axes, the square: the partition is that of
    /// the network itself in the square, compared with a 400 x 400 grid; counts are equal
    /// whenever the smallest region is large against a grid cell.
    #[test]
    fn slice_two_dimensional_networks_match_a_fine_grid() {
        let mut rng = StdRng::seed_from_u64(13);
        let mut equal = 0;
        for trial in 0..40 {
            let depth = rng.random_range(1..=3);
            let mut widths = vec![2];
            widths.extend((0..depth).map(|_| rng.random_range(2..=10)));
            widths.push(rng.random_range(1..=3));
            let init = if trial % 2 == 0 {
                crate::random::Init::He
            } else {
                crate::random::Init::PytorchDefault
            };
            let net = crate::random::random_network(&widths, init, false, &mut rng);
            let shape = Shape::square(1.0);
            let n = 400;
            let part = check(
                &net,
                &axes([0.0, 0.0]),
                shape,
                n,
                &format!("2-D net {trial}"),
            );
            let cell = (2.0 / n as f64).powi(2);
            let smallest = part
                .regions
                .iter()
                .map(|r| r.area)
                .fold(f64::INFINITY, f64::min);
            // `check` asserted equality with the grid's count whenever every region holds
            // a grid point. Regions that are large against a grid cell always do.
            let all_hit = part.regions.iter().all(|r| holds_grid_point(r, shape, n));
            if smallest > 100.0 * cell {
                assert!(all_hit, "trial {trial}: a large region holds no grid point");
            }
            equal += usize::from(all_hit);
        }
        assert!(equal >= 20, "only {equal} nets compared exactly");
    }

    /// Input dimension 2, the plane of the input axes, the square `[-1, 1]^2`: the slice is
    /// the box itself, and the exact enumeration (`crate::exact`, region tree with
    /// Chebyshev-centre programs) must find the same regions, except those thinner than
    /// its tolerance (`1e-7` of the half-width), which it reports as degenerate.
    #[test]
    fn slice_equals_exact_enumeration_in_two_dimensions() {
        use crate::domain::Domain;
        use crate::exact::{EnumerationOptions, RegionRecord, enumerate_regions};
        let mut rng = StdRng::seed_from_u64(16);
        let mut equal = 0;
        for trial in 0..30 {
            let depth = rng.random_range(1..=3);
            let mut widths = vec![2];
            widths.extend((0..depth).map(|_| rng.random_range(2..=8)));
            widths.push(rng.random_range(1..=3));
            let init = if trial % 2 == 0 {
                crate::random::Init::He
            } else {
                crate::random::Init::PytorchDefault
            };
            let net = crate::random::random_network(&widths, init, trial % 5 == 0, &mut rng);
            let net = if trial % 3 == 0 {
                degenerate(&net, &mut rng)
            } else {
                net
            };
            let part = check(&net, &axes([0.0, 0.0]), Shape::square(1.0), 60, "2-D");
            let found = std::sync::Mutex::new(Vec::new());
            let sink = |r: RegionRecord| found.lock().unwrap().push(r.pattern);
            let domain = Domain::boxed(vec![-1.0, -1.0], vec![1.0, 1.0]).unwrap();
            let options = EnumerationOptions {
                parallel: false,
                ..EnumerationOptions::default()
            };
            let exact = enumerate_regions(&net, &domain, options, Some(&sink), None).unwrap();
            assert!(exact.complete && exact.unverified == 0);
            let theirs: HashSet<ActivationPattern> =
                found.into_inner().unwrap().into_iter().collect();
            let ours: HashSet<&ActivationPattern> =
                part.regions.iter().map(|r| &r.pattern).collect();
            for p in &theirs {
                assert!(
                    ours.contains(p),
                    "trial {trial}: an exact region missing from the slice"
                );
            }
            for r in &part.regions {
                if !theirs.contains(&r.pattern) {
                    // Inradius >= area / perimeter: a region the enumeration rejects as
                    // thinner than 1e-7 has area / perimeter below that.
                    let m = r.vertices.len();
                    let perimeter: f64 = (0..m)
                        .map(|i| {
                            let (p, q) = (r.vertices[i], r.vertices[(i + 1) % m]);
                            ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
                        })
                        .sum();
                    assert!(
                        r.area / perimeter < 1e-6,
                        "trial {trial}: a region of area {} missing from the enumeration",
                        r.area
                    );
                }
            }
            if exact.degenerate == 0 {
                assert_eq!(exact.regions as usize, part.region_count(), "trial {trial}");
                equal += 1;
            }
        }
        assert!(equal >= 10, "only {equal} nets without degenerate sides");
    }

    /// `k` neurons `relu(cos t_i x + sin t_i y)` with distinct angles: `k` lines through the
    /// origin, `2k` regions in any shape centred there.
    #[test]
    fn slice_lines_through_the_origin() {
        for k in 1..=16 {
            let mut w = Vec::new();
            for i in 0..k {
                let t = std::f64::consts::PI * (i as f64 + 0.25) / k as f64;
                w.extend([t.cos(), t.sin()]);
            }
            let net = Network::new(
                vec![
                    layer(k, 2, &w, &vec![0.0; k]),
                    layer(1, k, &vec![1.0; k], &[0.0]),
                ],
                false,
            )
            .unwrap();
            for shape in [
                Shape::disc(1.0),
                Shape::square(0.5),
                Shape::Disc {
                    radius: 2.0,
                    vertices: 7,
                    circumscribed: true,
                },
            ] {
                let part = check(&net, &axes([0.0, 0.0]), shape, 200, &format!("k = {k}"));
                assert_eq!(part.region_count(), 2 * k, "k = {k}, {shape:?}");
                assert_eq!(part.merged_slivers, 0);
                // Wedges around the origin: each has the two wedges beside it as
                // neighbours (one for k = 1).
                for (i, adj) in part.neighbours().iter().enumerate() {
                    assert_eq!(adj.len(), if k == 1 { 1 } else { 2 }, "k = {k}");
                    assert!(!adj.contains(&i));
                }
            }
            // Off centre, the lines still all cross a disc containing the origin.
            let part = check(
                &net,
                &axes([0.3, -0.2]),
                Shape::disc(1.0),
                200,
                "off centre",
            );
            assert_eq!(part.region_count(), 2 * k);
            // A disc missing the origin sees fewer regions.
            let part = check(&net, &axes([3.0, 3.0]), Shape::disc(0.5), 200, "far");
            assert!(part.region_count() < 2 * k || k == 1);
        }
    }

    #[test]
    fn slice_hand_made_counts_and_pieces() {
        // |x| + |y| = relu(x) + relu(-x) + relu(y) + relu(-y): 4 regions, 4 pieces.
        let abs = Network::new(
            vec![
                layer(4, 2, &[1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0], &[0.0; 4]),
                layer(1, 4, &[1.0; 4], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let part = check(&abs, &axes([0.0, 0.0]), Shape::disc(1.0), 200, "|x|+|y|");
        assert_eq!((part.region_count(), part.pieces), (4, 4));
        // A hat in x: relu(x) - 2 relu(x - 1) + relu(x - 2) is 0, x, 2 - x, 0 on four strips:
        // 4 regions, 3 distinct maps (the two zero strips are not adjacent).
        let hat = Network::new(
            vec![
                layer(3, 2, &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0], &[0.0, -1.0, -2.0]),
                layer(1, 3, &[1.0, -2.0, 1.0], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let part = check(&hat, &axes([0.0, 0.0]), Shape::disc(3.0), 300, "hat");
        assert_eq!((part.region_count(), part.pieces), (4, 3));
        // Two layers: relu(relu(x) - 1) adds the line x = 1 only where relu(x) is active,
        // and a duplicated, a negated and a dead neuron add nothing.
        let deep = Network::new(
            vec![
                layer(
                    4,
                    2,
                    &[1.0, 0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0],
                    &[0.0, 0.0, 0.0, -1.0],
                ),
                layer(
                    2,
                    4,
                    &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
                    &[-1.0, 0.0],
                ),
                layer(1, 2, &[1.0, 1.0], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let part = check(&deep, &axes([0.0, 0.0]), Shape::square(2.0), 200, "deep");
        assert_eq!(part.region_count(), 3);
        // The slice of a 3-D network through the plane z = 0.5 (directions as given, not unit).
        let net3 = Network::new(
            vec![
                layer(2, 3, &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0], &[0.0, -1.0]),
                layer(1, 2, &[1.0, 1.0], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let plane = Plane::new(
            vec![0.0, 0.0, 0.5],
            vec![2.0, 0.0, 0.0],
            vec![0.0, 3.0, 0.0],
        )
        .unwrap();
        let part = check(&net3, &plane, Shape::disc(1.0), 100, "3-D");
        assert_eq!(
            part.region_count(),
            2,
            "z = 0.5 keeps the second neuron off"
        );
        // Output ReLU and a network without ReLU.
        let out_relu =
            Network::new(vec![layer(2, 2, &[1.0, 0.0, 0.0, 1.0], &[0.0, 0.0])], true).unwrap();
        let part = check(
            &out_relu,
            &axes([0.0, 0.0]),
            Shape::disc(1.0),
            100,
            "output relu",
        );
        assert_eq!((part.region_count(), part.pieces), (4, 4));
        let r = &part.regions[0];
        let on = r.pattern.iter().collect::<Vec<_>>();
        for (i, &a) in on.iter().enumerate() {
            assert_eq!(r.output.slope[i] != [0.0, 0.0], a);
        }
        let linear = Network::new(vec![layer(1, 2, &[1.0, 2.0], &[3.0])], false).unwrap();
        let part = check(&linear, &axes([0.0, 0.0]), Shape::disc(1.0), 50, "linear");
        assert_eq!((part.region_count(), part.pieces), (1, 1));
        assert_eq!(part.regions[0].output.slope, vec![[1.0, 2.0]]);
    }

    fn boundary_length(segments: &[[Point2; 2]]) -> f64 {
        segments
            .iter()
            .map(|[p, q]| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())
            .sum()
    }

    #[test]
    fn slice_decision_boundaries() {
        // Outputs (x, y) through relu(x) - relu(-x): argmax changes on the diagonal x = y,
        // which crosses two of the four regions; argmin has the same boundary.
        let xy = Network::new(
            vec![
                layer(4, 2, &[1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0], &[0.0; 4]),
                layer(
                    2,
                    4,
                    &[1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0, -1.0],
                    &[0.0, 0.0],
                ),
            ],
            false,
        )
        .unwrap();
        let part = plane_partition(
            &xy,
            &axes([0.0, 0.0]),
            Shape::disc(1.0),
            PlaneOptions::default(),
        )
        .unwrap();
        for decision in [Decision::ArgMax, Decision::ArgMin] {
            let seg = part.decision_boundary(decision);
            assert_eq!(seg.len(), 2, "{seg:?}");
            assert!((boundary_length(&seg) - 2.0).abs() < 1e-12);
            for [p, q] in &seg {
                assert!((p[0] - p[1]).abs() < 1e-12 && (q[0] - q[1]).abs() < 1e-12);
            }
        }
        // Class cells cover each region.
        for r in &part.regions {
            let cells = r.class_cells(Decision::ArgMax);
            let a: f64 = cells.iter().map(|(_, c)| polygon_area(c)).sum();
            assert!((a - r.area).abs() < 1e-12, "{a} vs {}", r.area);
        }
        // Outputs (relu(x), relu(-x)): the boundary x = 0 runs along the region edge and is
        // reported once.
        let edge = Network::new(
            vec![
                layer(2, 2, &[1.0, 0.0, -1.0, 0.0], &[0.0, 0.0]),
                layer(2, 2, &[1.0, 0.0, 0.0, 1.0], &[0.0, 0.0]),
            ],
            false,
        )
        .unwrap();
        let part = plane_partition(
            &edge,
            &axes([0.0, 0.0]),
            Shape::disc(1.0),
            PlaneOptions::default(),
        )
        .unwrap();
        let seg = part.decision_boundary(Decision::ArgMax);
        assert!((boundary_length(&seg) - 2.0).abs() < 1e-9, "{seg:?}");
        // Outputs f0 = |x|, f1 = 0 tie only on the edge x = 0, and class 0 wins on both
        // sides: no boundary.
        let same = Network::new(
            vec![
                layer(2, 2, &[1.0, 0.0, -1.0, 0.0], &[0.0, 0.0]),
                layer(2, 2, &[1.0, 1.0, 0.0, 0.0], &[0.0, 0.0]),
            ],
            false,
        )
        .unwrap();
        let part = plane_partition(
            &same,
            &axes([0.0, 0.0]),
            Shape::disc(1.0),
            PlaneOptions::default(),
        )
        .unwrap();
        assert!(part.decision_boundary(Decision::ArgMax).is_empty());
        // One output: its zero level set. f = x - 0.5 through one ReLU pair.
        let one = Network::new(
            vec![
                layer(2, 2, &[1.0, 0.0, -1.0, 0.0], &[0.0, 0.0]),
                layer(1, 2, &[1.0, -1.0], &[-0.5]),
            ],
            false,
        )
        .unwrap();
        let shape = Shape::square(1.0);
        let part =
            plane_partition(&one, &axes([0.0, 0.0]), shape, PlaneOptions::default()).unwrap();
        let seg = part.decision_boundary(Decision::ArgMax);
        assert_eq!(seg.len(), 1);
        assert!((boundary_length(&seg) - 2.0).abs() < 1e-12);
        assert!((seg[0][0][0] - 0.5).abs() < 1e-12);
        let right = part.regions.iter().find(|r| r.interior[0] > 0.0).unwrap();
        let cells = right.class_cells(Decision::ArgMax);
        assert_eq!(cells.len(), 2);
        for (class, cell) in &cells {
            assert!((polygon_area(cell) - 1.0).abs() < 1e-12);
            assert_eq!(*class == 1, vertex_mean(cell)[0] > 0.5);
        }
    }

    #[test]
    fn slice_random_decision_boundaries_separate_classes() {
        // Every segment has different classes on its two sides.
        let mut rng = StdRng::seed_from_u64(14);
        for trial in 0..30 {
            let net = crate::random::random_network(
                &[3, 8, 8, 4],
                crate::random::Init::He,
                false,
                &mut rng,
            );
            let plane = random_plane(&mut rng, 3);
            let part =
                plane_partition(&net, &plane, Shape::disc(2.0), PlaneOptions::default()).unwrap();
            let segs = part.decision_boundary(Decision::ArgMax);
            for [p, q] in &segs {
                let (d, m) = (
                    [q[0] - p[0], q[1] - p[1]],
                    [0.5 * (p[0] + q[0]), 0.5 * (p[1] + q[1])],
                );
                let len = (d[0] * d[0] + d[1] * d[1]).sqrt();
                let n = [-d[1] / len, d[0] / len];
                let class = |s: f64| {
                    let y = net
                        .forward(&plane.point([m[0] + s * n[0], m[1] + s * n[1]]))
                        .unwrap();
                    argmax(&y)
                };
                assert_ne!(class(1e-7), class(-1e-7), "trial {trial}");
            }
            // And the class changes between grid neighbours only across a segment: a grid
            // with a class change implies some boundary.
            let grid = Shape::disc(2.0).grid(40);
            let classes: HashSet<usize> = grid
                .iter()
                .map(|&p| argmax(&net.forward(&plane.point(p)).unwrap()))
                .collect();
            if classes.len() > 1 {
                assert!(!segs.is_empty(), "trial {trial}");
            }
        }
    }

    #[test]
    fn slice_planes_and_errors() {
        let p = Plane::random_orthonormal(vec![0.0; 5], 3).unwrap();
        assert!((dot(p.u(), p.u()) - 1.0).abs() < 1e-14);
        assert!((dot(p.v(), p.v()) - 1.0).abs() < 1e-14);
        assert!(dot(p.u(), p.v()).abs() < 1e-14);
        assert_eq!(p, Plane::random_orthonormal(vec![0.0; 5], 3).unwrap());
        let t = Plane::through(vec![1.0, 1.0, 1.0], &[2.0, 1.0, 1.0], &[1.0, 3.0, 1.0]).unwrap();
        assert_eq!(t.point([1.0, 0.0]), vec![2.0, 1.0, 1.0]);
        assert_eq!(t.point([0.0, 1.0]), vec![1.0, 3.0, 1.0]);
        let o = t.orthonormalized().unwrap();
        assert_eq!(o.v(), &[0.0, 1.0, 0.0]);
        assert!(matches!(
            Plane::new(vec![0.0; 2], vec![1.0, 1.0], vec![2.0, 2.0]),
            Err(SliceError::DegenerateDirections)
        ));
        assert!(matches!(
            Plane::new(vec![0.0; 2], vec![1.0], vec![2.0, 2.0]),
            Err(SliceError::Lengths { .. })
        ));
        assert!(matches!(
            Plane::random_orthonormal(vec![0.0], 1),
            Err(SliceError::InputTooSmall(1))
        ));
        assert!(matches!(
            Plane::new(vec![f64::NAN, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]),
            Err(SliceError::NonFinite(_))
        ));
        let net = Network::new(vec![layer(1, 3, &[1.0; 3], &[0.0])], false).unwrap();
        assert!(
            plane_partition(
                &net,
                &axes([0.0, 0.0]),
                Shape::disc(1.0),
                PlaneOptions::default()
            )
            .is_err()
        );
        let net2 = Network::new(
            vec![layer(1, 2, &[1.0; 2], &[0.0]), layer(1, 1, &[1.0], &[0.0])],
            false,
        )
        .unwrap();
        for bad in [
            Shape::disc(0.0),
            Shape::square(f64::NAN),
            Shape::Disc {
                radius: 1.0,
                vertices: 2,
                circumscribed: false,
            },
        ] {
            assert!(matches!(
                plane_partition(&net2, &axes([0.0, 0.0]), bad, PlaneOptions::default()),
                Err(SliceError::Shape(_))
            ));
        }
        // The region limit.
        let mut w = Vec::new();
        for i in 0..10 {
            let t = i as f64 * 0.3;
            w.extend([t.cos(), t.sin()]);
        }
        let lines = Network::new(
            vec![
                layer(10, 2, &w, &[0.0; 10]),
                layer(1, 10, &[1.0; 10], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let opts = PlaneOptions {
            max_regions: 5,
            ..PlaneOptions::default()
        };
        assert!(matches!(
            plane_partition(&lines, &axes([0.0, 0.0]), Shape::disc(1.0), opts),
            Err(SliceError::TooManyRegions(5))
        ));
        // Shapes: areas and the inscribed/circumscribed bracket.
        let inner = Shape::disc(1.0);
        let outer = Shape::Disc {
            radius: 1.0,
            vertices: DEFAULT_DISC_VERTICES,
            circumscribed: true,
        };
        assert!(inner.area() < std::f64::consts::PI && std::f64::consts::PI < outer.area());
        assert!((polygon_area(&inner.polygon()) - inner.area()).abs() < 1e-12);
        assert!((polygon_area(&outer.polygon()) - outer.area()).abs() < 1e-12);
    }

    #[test]
    fn slice_progress_adds_up_to_one() {
        let mut rng = StdRng::seed_from_u64(15);
        let net = crate::random::random_network(
            &[4, 10, 10, 10, 2],
            crate::random::Init::He,
            false,
            &mut rng,
        );
        let plane = Plane::random_orthonormal(vec![0.1; 4], 1).unwrap();
        let done = std::sync::Mutex::new(0.0);
        let f = |x: f64| *done.lock().unwrap() += x;
        let opts = PlaneOptions {
            progress: Some(&f),
            ..PlaneOptions::default()
        };
        let part = plane_partition(&net, &plane, Shape::disc(2.0), opts).unwrap();
        assert!(part.region_count() > 10);
        assert!((*done.lock().unwrap() - 1.0).abs() < 1e-9);
    }

    /// The kernels on the dispatched path (AVX2 and FMA here) against pulp's scalar
    /// fallback, which other CPUs run: the box classification agrees exactly, the
    /// composition (fused there, not here) to rounding.
    #[test]
    fn slice_kernels_agree_with_the_scalar_fallback() {
        let mut rng = StdRng::seed_from_u64(5);
        for trial in 0..50 {
            let (n_in, n_out) = (rng.random_range(1..40), rng.random_range(1..40));
            let cols: Vec<f64> = (0..n_in * n_out)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect();
            let bias: Vec<f64> = (0..n_out).map(|_| rng.random_range(-1.0..1.0)).collect();
            let layer = LayerData {
                n_out,
                row_l1: (0..n_out)
                    .map(|i| (0..n_in).map(|j| cols[j * n_out + i].abs()).sum())
                    .collect(),
                cols,
                bias: bias.clone(),
                tol_factor: 64.0 * (n_in as f64 + 1.0) * f64::EPSILON,
            };
            let h = Map {
                coef: (0..3 * n_in).map(|_| rng.random_range(-2.0..2.0)).collect(),
                n: n_in,
                scale: 3.0,
            };
            let js: Vec<usize> = (0..n_in).filter(|_| rng.random_bool(0.7)).collect();
            let (mut wide, mut scalar) = (Map::with_bias(&bias), Map::with_bias(&bias));
            wide.add_columns(&layer, &js, &h);
            AddColumns {
                map: &mut scalar,
                layer: &layer,
                js: &js,
                h: &h,
            }
            .with_simd(pulp::Scalar::new());
            // Every entry is at most 1 + 2 |js| in magnitude (|w|, |bias| <= 1, |h| <= 2).
            let size = 1.0 + 2.0 * js.len() as f64;
            for (x, y) in wide.coef.iter().zip(&scalar.coef) {
                assert!((x - y).abs() <= 1e-14 * size, "trial {trial}: {x} vs {y}");
            }
            let run = |scalar_path: bool| {
                let (mut tols, mut state) = (vec![0.0; n_out], vec![0_u8; n_out]);
                let kernel = ClassifyOnBox {
                    map: &wide,
                    layer: &layer,
                    centre: [0.3, -0.2],
                    half: [0.5, 0.25],
                    tols: &mut tols,
                    state: &mut state,
                };
                if scalar_path {
                    kernel.with_simd(pulp::Scalar::new());
                } else {
                    vectorized(kernel);
                }
                (tols, state)
            };
            assert_eq!(run(true), run(false), "trial {trial}");
        }
    }
}
