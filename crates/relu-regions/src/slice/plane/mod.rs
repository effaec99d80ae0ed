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
//! - **Verification.** Every region's interior point (its centroid) is certified
//!   (docs/math.md §5.2): a forward pass of the network restricted to the plane, computed
//!   from scratch, must give every neuron the region's sign with a margin above a bound
//!   on its rounding error, including that of the restricted first layer
//!   ([`Network::certified_patterns_batch`]); a region that fails is counted in
//!   [`PlanePartition::unverified`] (zero in all our tests), never hidden. Unverified
//!   regions and merged slivers are the partition's [`PlanePartition::uncertain`]
//!   part: the count is exact when it is zero. The largest
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
//!
//! # Where each part lives
//!
//! - this file: the options and the results ([`PlanePartition`], [`PlaneRegion`],
//!   [`PlaneAffine`]);
//! - `shape.rs`: the slice ([`Plane`], [`Shape`]);
//! - `partition.rs`: the partition ([`plane_partition`]): polygons split layer by layer;
//! - `kernels.rs`: its vectorised inner loops (map composition, classification on a box)
//!   and per-thread buffers;
//! - `boundary.rs`: the decision boundary and the regions' adjacency;
//! - `pieces.rs`: linear pieces (regions merged across boundaries where the map does not
//!   change);
//! - `verify.rs`: the independent check of every region by a forward pass, and
//!   [`patterns_at`].

mod boundary;
mod kernels;
mod partition;
mod pieces;
mod shape;
#[cfg(test)]
mod tests;
mod verify;

use boundary::{RegionIndex, decision_segments};
use rayon::prelude::*;

use crate::error::NetworkError;
use crate::geometry::polygon;
use crate::network::Network;
use crate::pattern::ActivationPattern;

/// A point `(a, b)` of the slice's coordinates.
pub use crate::geometry::Point2;
pub use partition::plane_partition;
pub use shape::{Plane, Shape};
pub use verify::patterns_at;

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
                cell = polygon::split(&cell, &z, 0.0).0;
            }
            if cell.len() >= 3 && polygon::area(&cell) > polygon::area_floor(&cell) {
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

    /// Regions not certified and slivers merged into a neighbour: the true count lies in
    /// `[region_count - unverified, region_count + merged_slivers]` (docs/math.md §5.2),
    /// exact when this is zero.
    pub fn uncertain(&self) -> usize {
        self.unverified + self.merged_slivers
    }

    /// The area of the slice predicted as each class under `decision` (index = class;
    /// `(a, b)` units squared; classes never predicted get 0 or are absent at the end).
    pub fn class_areas(&self, decision: Decision) -> Vec<f64> {
        let mut areas: Vec<f64> = Vec::new();
        for region in &self.regions {
            for (class, cell) in region.class_cells(decision) {
                if areas.len() <= class {
                    areas.resize(class + 1, 0.0);
                }
                areas[class] += polygon::area(&cell);
            }
        }
        areas
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
