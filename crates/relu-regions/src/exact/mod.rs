//! Exact enumeration of the activation regions whose interior meets a domain (an L2 ball,
//! an L-inf ball or a box).
//!
//! # The region tree
//!
//! A node is a convex polyhedron `P = domain ∩ {s_k (g_k . x + c_k) >= 0 : k decided}` with
//! nonempty interior, together with the frozen affine maps `z = G x + c` of the current
//! layer's neurons on `P` (exact there: the earlier layers' pattern is fixed on `P`, see
//! [`crate::region`]). Neurons are decided one at a time, layer by layer. For neuron
//! `z = g . x + c0`:
//!
//! 1. **Settled without solving** when its sign is proven on the whole domain: by the
//!    root's CROWN bounds, or by the range of the affine extension `g . x + c0` over the
//!    domain (`g.c + c0 -+ r ||g||_*`; exact for a ball or box, and `P` lies in the
//!    domain), or over the node's bounding box (computed by `2d` small programs once per
//!    node and layer, the first time a neuron of the layer would need a solve while at
//!    least `d` neurons of the layer are open and not settled by the node's current box;
//!    input dimension up to 8; a child tightens
//!    its parent's box by its new row, see `tighten_box`), or, for 2-D inputs, over a
//!    polygon containing `P` (the domain's square, or the polygon circumscribed about its
//!    disc, clipped by every split; `polygon_sign`).
//! 2. **Split without solving** when two known interior points of `P` (*witnesses*) lie
//!    strictly on opposite sides: both children then have nonempty interior; or when a
//!    ray from a witness straight at the hyperplane crosses it well inside `P` (the
//!    midpoint of the crossing and the exit is the other side's witness; see
//!    `Shared::shoot`).
//! 3. Otherwise **one optimisation** ([`lp::chebyshev_center`], by the fast path of
//!    [`lp`] first: a dense active-set method, exact on polyhedral domains, with
//!    cutting planes for an L2 ball): the largest ball inside
//!    `P ∩ {z >= 0}` (or `<= 0`, the side no witness covers) and inside the domain. If its
//!    radius exceeds `tolerance * size` the node splits and the ball's centre becomes
//!    that child's witness (a deep one: every later decision sees it far from the
//!    boundary). Otherwise that side has no interior at the tolerance: no split, and when
//!    the radius is within the tolerance of zero the event is counted as **degenerate**
//!    (a zero-volume side, a hyperplane coincident with an earlier one such as a
//!    duplicated neuron, or a side thinner than the tolerance). A node left with no
//!    witness clear of the hyperplane on its side gets one the same way, or is dropped
//!    (counted degenerate) when it is itself thinner than the tolerance.
//!
//!    A side proven clearly empty (radius at most `-2 tolerance size`) also proves it for
//!    the sibling subtree explored next, when the proof's active rows are among those
//!    the two share (the rows before their split) and the neuron's map is the same (same
//!    layer): the optimum over those rows alone already bounds the radius
//!    ([`lp::RadiusBound`], [`EmptySide`]). Serial subtrees share; the parallel top of the
//!    tree does not. The counts are unchanged (tested against runs without sharing); on
//!    d6 16x2 a third of the programs go.
//!
//! So a region counts when its interior is nonempty in a quantified way: split by
//! witnesses lying more than `tolerance * size` beyond each hyperplane (`size` = the
//! ball's radius or the box's largest half-width, input units), or by a Chebyshev ball
//! of radius more than `tolerance * size` inside the domain. The default tolerance
//! `1e-7` sits above the solver's accuracy (about `1e-8`). Every leaf keeps an interior
//! witness, and the network's own pattern at that witness must equal the leaf's pattern
//! (counted in [`Enumeration::unverified`] otherwise; zero in all tests).
//!
//! The search is depth-first (memory bounded by the depth, not the count) and splits the
//! top of the tree across cores with rayon's work stealing.
//!
//! # Partial answers and the anytime bound
//!
//! With a region or time limit, the unexplored nodes are bounded instead of explored:
//! on `P` the network equals the *sub-network* whose first layer is the frozen map
//! `(G, c)` of the node's layer followed by the later layers, so the local bound
//! ([`crate::bound::local_region_bound`], CROWN over the domain, a superset of `P`)
//! bounds the regions in the node's subtree. The result is the valid interval
//! `[regions found, regions found + sum of the bounds]`. With `exact_layers = k` the
//! same is done deliberately at depth `k`: the regions of the first `k` layers are
//! enumerated exactly and the local bound is summed inside each (`k = 0` is the plain
//! local bound, `k = depth` the exact count).

pub mod lp;
mod simplex;

use simplex::Rows;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faer::Mat;
use num_bigint::BigUint;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::bound::{RegionCount, local_region_bound};
use crate::domain::{Domain, DomainError};
use crate::network::{Affine, Network};
use crate::pattern::ActivationPattern;
use crate::stability::{BoundPropagator, Method, NeuronBounds};
use lp::{ChebyshevOutcome, LpOutcome, chebyshev_center};

/// Options of [`enumerate_regions`].
#[derive(Debug, Clone, Copy)]
pub struct EnumerationOptions {
    /// Stop after this many regions (the answer is then an interval).
    pub max_regions: Option<u64>,
    /// Stop after this much time (the answer is then an interval).
    pub time_limit: Option<Duration>,
    /// Enumerate only the first `k` ReLU layers exactly and bound the rest.
    pub exact_layers: Option<usize>,
    /// Relative thickness below which a side is not a region (see the module docs).
    pub tolerance: f64,
    /// Count distinct affine maps of the output (linear regions of the function).
    pub affine_maps: bool,
    /// Explore subtrees in parallel.
    pub parallel: bool,
}

impl Default for EnumerationOptions {
    fn default() -> Self {
        Self {
            max_regions: None,
            time_limit: None,
            exact_layers: None,
            tolerance: 1e-7,
            affine_maps: false,
            parallel: true,
        }
    }
}

/// One region found, for `--regions-out`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionRecord {
    pub pattern: ActivationPattern,
    /// A point of the region's interior inside the domain.
    pub interior_point: Vec<f64>,
    /// The exact L2 distance from `interior_point` to the region's boundary (a ball of
    /// this radius lies in the region: a certificate of nonempty interior).
    pub inner_radius: f64,
}

/// The result of [`enumerate_regions`].
#[derive(Debug, Clone)]
pub struct Enumeration {
    /// Activation regions with nonempty interior meeting the domain that were found (with
    /// `exact_layers = k < depth`: regions of the first `k` layers).
    pub regions: u64,
    /// Sides rejected as degenerate (see the module docs).
    pub degenerate: u64,
    /// Whether the tree was explored to the end (no limit hit).
    pub complete: bool,
    /// A proven upper bound on the number of regions: `regions` when complete and
    /// `exact_layers` is off, else the smaller of `regions` plus the local bounds of what
    /// was not enumerated and the plain local bound over the domain.
    pub upper_bound: RegionCount,
    /// Distinct affine maps of the output among the regions (when asked).
    pub affine_maps: Option<usize>,
    /// Leaves whose witness pattern did not match (expected 0).
    pub unverified: u64,
    /// Optimisations solved.
    pub solves: u64,
    /// Tree nodes visited.
    pub nodes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Why the enumeration failed.
#[derive(Debug, thiserror::Error)]
pub enum EnumerationError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("the optimiser failed ({0}); the count would not be exact")]
    Solver(String),
    #[error(
        "the domain must have nonempty interior (positive radius, lo < hi in every coordinate)"
    )]
    EmptyInterior,
}

/// A side of a neuron proven empty (Chebyshev radius below `-2 tolerance size`) by a
/// radius bound ([`lp::RadiusBound`]) that rests on a node's first `rows_used` rows: it
/// holds on every node that shares those rows and the layer's maps (the neuron's
/// hyperplane), so a sibling subtree explored later decides that neuron without a program.
/// The maps are identified by address while an ancestor holds them (see
/// `explore_counted`).
#[derive(Debug, Clone, Copy)]
struct EmptySide {
    maps: usize,
    neuron: usize,
    /// The positive side (`z > 0`) or the negative one.
    side: bool,
    rows_used: usize,
}

/// The [`EmptySide`]s that hold on a node, as a chain from the node's splits up to the
/// root.
struct Known<'a> {
    items: Vec<EmptySide>,
    up: Option<&'a Known<'a>>,
}

impl Known<'_> {
    fn contains(&self, maps: usize, neuron: usize, side: bool) -> bool {
        let mut level = Some(self);
        while let Some(k) = level {
            if k.items
                .iter()
                .any(|p| p.maps == maps && p.neuron == neuron && p.side == side)
            {
                return true;
            }
            level = k.up;
        }
        false
    }
}

/// A node of the region tree.
#[derive(Clone)]
struct Node {
    layer: usize,
    index: usize,
    /// Decided states, all layers so far, in pattern order.
    bits: Vec<bool>,
    /// The decided hyperplanes `a . x <= b`, normalised to `||a||_2 = 1`.
    rows: Rows,
    witnesses: Vec<Vec<f64>>,
    /// A bounding box of the node's polyhedron (computed lazily, at most once per layer;
    /// a parent's box stays valid for its children, which are smaller).
    bbox: Option<(Vec<f64>, Vec<f64>)>,
    /// Whether `bbox` was computed in the current layer.
    bbox_fresh: bool,
    /// For 2-D inputs: a polygon containing the node's polyhedron (exactly it for a box
    /// domain; for a disc, the circumscribed polygon clipped by the node's rows).
    polygon: Option<Arc<Vec<[f64; 2]>>>,
    /// Frozen pre-activation maps of `layer` on the node's polyhedron (shared by the
    /// nodes of one layer's subtree).
    maps: Arc<LayerMaps>,
}

/// The affine maps `z_i = g_i . x + c_i` of one layer's neurons, `g_i` stored
/// contiguously (the columns of `G^T`).
struct LayerMaps {
    gt: Mat<f64>,
    c: Vec<f64>,
}

impl LayerMaps {
    fn new(g: faer::MatRef<'_, f64>, c: Vec<f64>) -> Self {
        Self {
            gt: g.transpose().to_owned(),
            c,
        }
    }

    fn width(&self) -> usize {
        self.c.len()
    }

    /// `(g_i, c_i)`.
    fn row(&self, i: usize) -> (&[f64], f64) {
        let g = self
            .gt
            .col(i)
            .try_as_col_major()
            .expect("owned column")
            .as_slice();
        (g, self.c[i])
    }
}

struct Shared<'a> {
    net: &'a Network,
    /// Whether a subtree uses the empty sides its sibling proved ([`EmptySide`]).
    share_empty_sides: bool,
    domain: &'a Domain,
    root: NeuronBounds,
    options: EnumerationOptions,
    size: f64,
    relu_layers: usize,
    stop_layer: usize,
    start: Instant,
    stop: AtomicBool,
    regions: AtomicU64,
    degenerate: AtomicU64,
    unverified: AtomicU64,
    solves: AtomicU64,
    nodes: AtomicU64,
    bound_sum: Mutex<BigUint>,
    /// Leaves waiting for the check of their pattern (in batches, by matrix products).
    pending: Mutex<Vec<(Vec<f64>, ActivationPattern)>>,
    maps: Mutex<HashSet<Vec<i64>>>,
    error: Mutex<Option<String>>,
    /// Set with `error`: a cheap check for every step of the search.
    failed: AtomicBool,
    sink: Option<&'a (dyn Fn(RegionRecord) + Sync)>,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// Enumerates the activation regions of `net` whose interior meets `domain`.
///
/// `sink` receives every region found (in no particular order), `progress` the running
/// count now and then.
pub fn enumerate_regions(
    net: &Network,
    domain: &Domain,
    options: EnumerationOptions,
    sink: Option<&(dyn Fn(RegionRecord) + Sync)>,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<Enumeration, EnumerationError> {
    enumerate_regions_sharing(net, domain, options, sink, progress, true)
}

/// [`enumerate_regions`]; `share_empty_sides` off makes every node prove its own empty
/// sides (for tests: the counts must not change).
fn enumerate_regions_sharing(
    net: &Network,
    domain: &Domain,
    options: EnumerationOptions,
    sink: Option<&(dyn Fn(RegionRecord) + Sync)>,
    progress: Option<&(dyn Fn(u64) + Sync)>,
    share_empty_sides: bool,
) -> Result<Enumeration, EnumerationError> {
    domain.check_dim(net.input_dim())?;
    if domain.affine_dim() < domain.dim() {
        return Err(EnumerationError::EmptyInterior);
    }
    let size = match domain {
        Domain::Ball(b) => b.radius,
        Domain::Box(b) => {
            b.lo.iter()
                .zip(&b.hi)
                .fold(0.0_f64, |m, (l, h)| m.max(0.5 * (h - l)))
        }
    };
    let relu_layers = net.relu_layer_count();
    let stop_layer = options.exact_layers.unwrap_or(relu_layers).min(relu_layers);
    let root = BoundPropagator::new(net).bounds(domain, Method::Crown)?;
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let samples = domain.sample_uniform(64, &mut rng);
    let mut witnesses: Vec<Vec<f64>> = vec![domain.center()];
    witnesses.extend(
        (0..samples.nrows()).map(|i| (0..samples.ncols()).map(|j| samples[(i, j)]).collect()),
    );
    let first = &net.layers()[0];
    let shared = Shared {
        net,
        domain,
        root,
        options,
        share_empty_sides,
        size,
        relu_layers,
        stop_layer,
        start: Instant::now(),
        stop: AtomicBool::new(false),
        regions: AtomicU64::new(0),
        degenerate: AtomicU64::new(0),
        unverified: AtomicU64::new(0),
        solves: AtomicU64::new(0),
        nodes: AtomicU64::new(0),
        bound_sum: Mutex::new(BigUint::from(0u32)),
        pending: Mutex::new(Vec::new()),
        maps: Mutex::new(HashSet::new()),
        error: Mutex::new(None),
        failed: AtomicBool::new(false),
        sink,
        progress,
    };
    let node = Node {
        layer: 0,
        index: 0,
        bits: Vec::with_capacity(net.relu_count()),
        rows: Rows::new(net.input_dim()),
        witnesses,
        bbox: None,
        bbox_fresh: false,
        polygon: outer_polygon(domain).map(Arc::new),
        maps: Arc::new(LayerMaps::new(first.weight(), first.bias().to_vec())),
    };
    if stop_layer == 0 {
        shared.bound_node(&node);
    } else {
        shared.explore(
            node,
            0,
            &Known {
                items: Vec::new(),
                up: None,
            },
        );
    }
    let rest = std::mem::take(&mut *shared.pending.lock().expect("no panics hold the lock"));
    shared.verify(rest);
    if let Some(e) = shared.error.lock().expect("no panics hold the lock").take() {
        return Err(EnumerationError::Solver(e));
    }
    let regions = shared.regions.load(Ordering::Relaxed);
    let complete = !shared.stop.load(Ordering::Relaxed);
    let extra = shared
        .bound_sum
        .into_inner()
        .expect("no panics hold the lock");
    let partial_layers = stop_layer < relu_layers;
    let upper_bound = if complete && !partial_layers {
        RegionCount(BigUint::from(regions))
    } else {
        // Both the enumerated part plus the subtree bounds and the plain local bound over
        // the whole domain are valid; report the smaller.
        let summed = extra + BigUint::from(if partial_layers { 0 } else { regions });
        let plain = local_region_bound(&BoundPropagator::new(net), domain, Method::Crown)?
            .local
            .0;
        RegionCount(summed.min(plain))
    };
    Ok(Enumeration {
        regions,
        degenerate: shared.degenerate.load(Ordering::Relaxed),
        complete,
        upper_bound,
        affine_maps: options.affine_maps.then(|| {
            shared
                .maps
                .into_inner()
                .expect("no panics hold the lock")
                .len()
        }),
        unverified: shared.unverified.load(Ordering::Relaxed),
        solves: shared.solves.load(Ordering::Relaxed),
        nodes: shared.nodes.load(Ordering::Relaxed),
        elapsed: shared.start.elapsed(),
    })
}

impl Shared<'_> {
    /// Records an error; the search stops.
    fn fail(&self, e: String) {
        *self.error.lock().expect("lock") = Some(e);
        self.failed.store(true, Ordering::Relaxed);
    }

    fn should_stop(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        let over_count = self
            .options
            .max_regions
            .is_some_and(|m| self.regions.load(Ordering::Relaxed) >= m);
        let over_time = self
            .options
            .time_limit
            .is_some_and(|t| self.start.elapsed() >= t);
        if over_count || over_time {
            self.stop.store(true, Ordering::Relaxed);
        }
        over_count || over_time
    }

    /// Adds the local bound of the sub-network below `node` to the bound sum.
    fn bound_node(&self, node: &Node) {
        let mut layers = vec![
            Affine::new(node.maps.gt.transpose().to_owned(), node.maps.c.clone())
                .expect("consistent shapes"),
        ];
        layers.extend(self.net.layers()[node.layer + 1..].iter().cloned());
        let bound = match Network::new(layers, self.net.output_relu()) {
            Ok(sub) => {
                let p = BoundPropagator::new(&sub);
                match local_region_bound(&p, self.domain, Method::Crown) {
                    Ok(b) => b.local.0,
                    Err(e) => {
                        self.fail(e.to_string());
                        return;
                    }
                }
            }
            Err(e) => {
                self.fail(e.to_string());
                return;
            }
        };
        *self.bound_sum.lock().expect("lock") += bound;
    }

    /// Explores `node`'s subtree, where the sides in `known` are proven empty; returns the
    /// sides proven empty in it ([`EmptySide`]; those proven below a split of the subtree
    /// only when they rest on the rows before that split). The caller keeps those that
    /// hold on its own rows.
    fn explore(&self, node: Node, depth: usize, known: &Known<'_>) -> Vec<EmptySide> {
        // Steps taken here, added to the shared count once (one atomic add per call
        // rather than per neuron).
        let mut steps = 0;
        let mut found = Vec::new();
        self.explore_counted(node, depth, known, &mut found, &mut steps);
        self.nodes.fetch_add(steps, Ordering::Relaxed);
        found
    }

    fn explore_counted(
        &self,
        mut node: Node,
        depth: usize,
        known: &Known<'_>,
        found: &mut Vec<EmptySide>,
        steps: &mut u64,
    ) {
        // The current layer's maps, held here so that deciding a neuron needs no
        // reference-count traffic.
        let mut maps = Arc::clone(&node.maps);
        loop {
            if self.failed.load(Ordering::Relaxed) {
                return;
            }
            if self.should_stop() {
                self.bound_node(&node);
                return;
            }
            *steps += 1;
            if node.index == node.maps.width() {
                // Layer done: move to the next layer or finish.
                let next = node.layer + 1;
                if next == self.stop_layer {
                    self.leaf(&node);
                    return;
                }
                node.maps = Arc::new(self.next_layer_maps(&node));
                maps = Arc::clone(&node.maps);
                node.layer = next;
                node.bbox_fresh = false;
                node.index = 0;
                continue;
            }
            match self.decide(&mut node, &maps, known, found) {
                Decision::Fixed(active) => {
                    node.bits.push(active);
                    node.index += 1;
                }
                Decision::Split { positive, negative } => {
                    // The rows every node of this split's subtree starts with.
                    let shared_rows = node.rows.len();
                    let (mut pos, mut neg) = (node.clone(), node);
                    let (g, c0) = pos.maps.row(pos.index);
                    pos.bits.push(true);
                    pos.index += 1;
                    pos.witnesses = positive;
                    // z >= 0  <=>  -g.x <= c0
                    let unit = 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let neg_g: Vec<f64> = g.iter().map(|v| -v * unit).collect();
                    pos.rows.push(&neg_g, c0 * unit);
                    neg.bits.push(false);
                    neg.index += 1;
                    neg.witnesses = negative;
                    let g: Vec<f64> = g.iter().map(|v| v * unit).collect();
                    neg.rows.push(&g, -c0 * unit);
                    if let Some((lo, hi)) = &mut pos.bbox {
                        tighten_box(lo, hi, &neg_g, c0 * unit);
                    }
                    if let Some((lo, hi)) = &mut neg.bbox {
                        tighten_box(lo, hi, &g, -c0 * unit);
                    }
                    if let Some(poly) = pos.polygon.take() {
                        pos.polygon = Some(Arc::new(clip(&poly, [neg_g[0], neg_g[1]], c0 * unit)));
                        neg.polygon = Some(Arc::new(clip(&poly, [g[0], g[1]], -c0 * unit)));
                    }
                    let (from_pos, from_neg) = if self.options.parallel && depth < 14 {
                        rayon::join(
                            || self.explore(pos, depth + 1, known),
                            || self.explore(neg, depth + 1, known),
                        )
                    } else {
                        // The negative side goes second and can use what the positive
                        // side proved on this split's rows and this layer's maps.
                        let from_pos = self.explore(pos, depth + 1, known);
                        let maps_id = Arc::as_ptr(&maps) as usize;
                        let more = Known {
                            items: from_pos
                                .iter()
                                .filter(|p| p.maps == maps_id && p.rows_used <= shared_rows)
                                .copied()
                                .collect(),
                            up: Some(known),
                        };
                        let from_neg = self.explore(neg, depth + 1, &more);
                        (from_pos, from_neg)
                    };
                    found.extend(
                        from_pos
                            .into_iter()
                            .chain(from_neg)
                            .filter(|p| p.rows_used <= shared_rows),
                    );
                    return;
                }
                Decision::Drop => {
                    self.degenerate.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Decision::Error(e) => {
                    self.fail(e);
                    return;
                }
            }
        }
    }

    /// The state of neuron `node.index` of `maps` (the node's current layer) on the
    /// node's polyhedron.
    fn decide(
        &self,
        node: &mut Node,
        maps: &LayerMaps,
        known: &Known<'_>,
        found: &mut Vec<EmptySide>,
    ) -> Decision {
        let (g, c0) = maps.row(node.index);
        let l = node.layer;
        let i = node.index;
        // 1. Proven on the whole domain.
        if self.root.lower[l][i] > 0.0 {
            return Decision::Fixed(true);
        }
        if self.root.upper[l][i] < 0.0 {
            return Decision::Fixed(false);
        }
        let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        if gnorm == 0.0 {
            return Decision::Fixed(c0 > 0.0);
        }
        let tol = self.options.tolerance * gnorm * self.size.max(f64::MIN_POSITIVE);
        let (lo, hi, magnitude) = self.domain.linear_range(g, c0);
        let margin = crate::stability::rounding_margin(g.len(), magnitude);
        if lo > margin {
            return Decision::Fixed(true);
        }
        if hi < -margin {
            return Decision::Fixed(false);
        }
        // 1b. Proven on the node's bounding box (P lies in it).
        if let Some((lo, hi)) = &node.bbox
            && let Some(fixed) = box_sign(g, c0, lo, hi)
        {
            return Decision::Fixed(fixed);
        }
        // 1c. Proven on the node's polygon (2-D inputs).
        if let Some(poly) = &node.polygon
            && let Some(fixed) = polygon_sign(g, c0, poly, self.size)
        {
            return Decision::Fixed(fixed);
        }
        // 2. Witnesses on both sides.
        let value = |x: &[f64]| g.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + c0;
        let values: Vec<f64> = node.witnesses.iter().map(|w| value(w)).collect();
        let positive: Vec<Vec<f64>> = node
            .witnesses
            .iter()
            .zip(&values)
            .filter(|(_, v)| **v > tol)
            .map(|(w, _)| w.clone())
            .collect();
        let negative: Vec<Vec<f64>> = node
            .witnesses
            .iter()
            .zip(&values)
            .filter(|(_, v)| **v < -tol)
            .map(|(w, _)| w.clone())
            .collect();
        if !positive.is_empty() && !negative.is_empty() {
            return Decision::Split { positive, negative };
        }
        // 2a. One side covered: shoot rays from its witnesses straight at the hyperplane;
        //     a ray that crosses it well inside the node gives the other side's witness.
        let (mut positive, mut negative) = (positive, negative);
        if positive.is_empty() != negative.is_empty() {
            let from_positive = negative.is_empty();
            let covered = if from_positive { &positive } else { &negative };
            if let Some(w) = self.shoot(node, g, c0, gnorm, covered) {
                if from_positive {
                    negative.push(w);
                } else {
                    positive.push(w);
                }
                return Decision::Split { positive, negative };
            }
        }
        // 2b. Before solving for this neuron, refresh the node's bounding box once per
        //     layer (2d small programs that can settle many neurons of the layer).
        if !node.bbox_fresh
            && g.len() <= MAX_BBOX_DIM
            && node.polygon.is_none()
            && self.worth_a_box(node)
        {
            node.bbox_fresh = true;
            match self.bounding_box(node) {
                Ok(b) => node.bbox = Some(b),
                Err(e) => return Decision::Error(e),
            }
            if let Some((lo, hi)) = &node.bbox
                && let Some(fixed) = box_sign(g, c0, lo, hi)
            {
                return Decision::Fixed(fixed);
            }
        }
        // 3. One optimisation on the uncovered side (both if no witness is clear of the
        //    hyperplane): the Chebyshev centre of that side, a deep interior witness.
        for side in [true, false] {
            let covered = if side {
                !positive.is_empty()
            } else {
                !negative.is_empty()
            };
            if covered {
                continue;
            }
            let s = if side { 1.0 } else { -1.0 };
            let maps_id = std::ptr::from_ref(maps) as usize;
            let proven = self.share_empty_sides && known.contains(maps_id, i, side);
            let outcome = if proven {
                Ok(None)
            } else {
                self.side_center(node, g, c0, s).map(|(center, bound)| {
                    // A side clearly empty (beyond rounding and the degenerate band) on
                    // rows the node shares with others: recorded for them.
                    if center.is_none()
                        && let Some(bound) = bound
                        && bound.value <= -2.0 * self.options.tolerance * self.size
                    {
                        found.push(EmptySide {
                            maps: maps_id,
                            neuron: i,
                            side,
                            rows_used: bound.rows_used,
                        });
                    }
                    center
                })
            };
            match outcome {
                Ok(Some(w)) => {
                    if side {
                        positive.push(w);
                    } else {
                        negative.push(w);
                    }
                }
                Ok(None) => {
                    // This side has no interior (within the tolerance): the whole node is
                    // on the other side. Keep the witnesses clear of the hyperplane on
                    // that side; if none is, find one.
                    let kept: Vec<Vec<f64>> = if side {
                        negative.clone()
                    } else {
                        positive.clone()
                    };
                    if !kept.is_empty() {
                        node.witnesses = kept;
                        return Decision::Fixed(!side);
                    }
                    return match self.side_center(node, g, c0, -s).map(|(center, _)| center) {
                        Ok(Some(w)) => {
                            node.witnesses = vec![w];
                            Decision::Fixed(!side)
                        }
                        Ok(None) => Decision::Drop,
                        Err(e) => Decision::Error(e),
                    };
                }
                Err(e) => return Decision::Error(e),
            }
        }
        Decision::Split { positive, negative }
    }

    /// From witnesses `from` on one side of `z = g.x + c0`, a point of the node's interior
    /// on the other side, found without solving: along the ray from a witness `w`
    /// straight at the hyperplane (direction `-sign(z(w)) g / ||g||`), the hyperplane is
    /// crossed at `t_cross = |z(w)| / ||g||` and the node (its rows and the domain) left
    /// at `t_exit` (a ratio test). When `t_exit - t_cross > 2 tolerance size`, the
    /// midpoint of the two lies strictly inside the node (every row's slack is at least
    /// `(t_exit - t_mid)` times its rate, and only grows on rows moving away) and more
    /// than `tolerance * size * ||g||` beyond the hyperplane: a witness in the sense of
    /// the module docs. The widest such gap over the first few witnesses wins.
    fn shoot(
        &self,
        node: &Node,
        g: &[f64],
        c0: f64,
        gnorm: f64,
        from: &[Vec<f64>],
    ) -> Option<Vec<f64>> {
        let d = g.len();
        let need = 2.0 * self.options.tolerance * self.size;
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut dir = vec![0.0; d];
        for w in from.iter().take(4) {
            let z = simplex::dot(g, w) + c0;
            let sign = if z > 0.0 { -1.0 } else { 1.0 };
            for (o, v) in dir.iter_mut().zip(g) {
                *o = sign * v / gnorm;
            }
            let t_cross = z.abs() / gnorm;
            let mut t_exit = self.domain_exit(w, &dir);
            for k in 0..node.rows.len() {
                let rate = simplex::dot(node.rows.row(k), &dir);
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
    fn domain_exit(&self, x: &[f64], u: &[f64]) -> f64 {
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
                let ue = simplex::dot(u, &e);
                let disc = ue * ue - (simplex::dot(&e, &e) - b.radius * b.radius);
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
    fn worth_a_box(&self, node: &Node) -> bool {
        let l = node.layer;
        let d = self.domain.dim();
        (node.index..node.maps.width())
            .filter(|&i| self.root.lower[l][i] <= 0.0 && self.root.upper[l][i] >= 0.0)
            .filter(|&i| {
                node.bbox.as_ref().is_none_or(|(lo, hi)| {
                    let (g, c0) = node.maps.row(i);
                    box_sign(g, c0, lo, hi).is_none()
                })
            })
            .nth(d - 1)
            .is_some()
    }

    /// A bounding box of the node's polyhedron: `max +-x_j` over it (widened by the
    /// solver's accuracy).
    fn bounding_box(&self, node: &Node) -> Result<(Vec<f64>, Vec<f64>), String> {
        let d = self.domain.dim();
        let slack = 1e-7 * self.size.max(f64::MIN_POSITIVE);
        if let Some((mut lo, mut hi)) = node
            .witnesses
            .first()
            .and_then(|w| lp::bounding_box_fast(&node.rows, self.domain, w))
        {
            self.solves.fetch_add(2 * d as u64, Ordering::Relaxed);
            lo.iter_mut().for_each(|v| *v -= slack);
            hi.iter_mut().for_each(|v| *v += slack);
            return Ok((lo, hi));
        }
        let mut lo = vec![0.0; d];
        let mut hi = vec![0.0; d];
        for j in 0..d {
            for s in [1.0, -1.0] {
                let mut e = vec![0.0; d];
                e[j] = s;
                self.solves.fetch_add(1, Ordering::Relaxed);
                // The fast path declined this program: the interior-point solver.
                match lp::maximize(&e, &node.rows.pairs(), self.domain) {
                    LpOutcome::Optimal(v) => {
                        if s > 0.0 {
                            hi[j] = v + slack;
                        } else {
                            lo[j] = -v - slack;
                        }
                    }
                    LpOutcome::Infeasible => {
                        return Err("a node's polyhedron was reported empty".into());
                    }
                    LpOutcome::Failed(status) => return Err(status),
                }
            }
        }
        Ok((lo, hi))
    }

    /// The Chebyshev centre of the node's polyhedron on side `s` of `z = g.x + c0`
    /// (`s z >= 0`), if that side's Chebyshev radius exceeds `tolerance * size`; with the
    /// fast path's radius bound when it decided.
    fn side_center(
        &self,
        node: &Node,
        g: &[f64],
        c0: f64,
        s: f64,
    ) -> Result<(Option<Vec<f64>>, Option<lp::RadiusBound>), String> {
        let thin = self.options.tolerance * self.size;
        // s z >= 0  <=>  -s g.x <= s c0
        let side: Vec<f64> = g.iter().map(|v| -s * v).collect();
        self.solves.fetch_add(1, Ordering::Relaxed);
        let hint = node.witnesses.first().map(Vec::as_slice);
        let (outcome, bound) =
            lp::chebyshev_center_fast(&node.rows, Some((&side, s * c0)), self.domain, hint, thin)
                .unwrap_or_else(|| {
                    let mut rows = node.rows.pairs();
                    rows.push((side.clone(), s * c0));
                    (chebyshev_center(&rows, self.domain), None)
                });
        match outcome {
            ChebyshevOutcome::Ball { radius, center } => {
                if radius > thin {
                    Ok((Some(center), bound))
                } else {
                    if radius > -thin {
                        self.degenerate.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok((None, bound))
                }
            }
            ChebyshevOutcome::Infeasible => Ok((None, bound)),
            ChebyshevOutcome::Failed(status) => Err(status),
        }
    }

    fn leaf(&self, node: &Node) {
        if self.stop_layer < self.relu_layers {
            self.regions.fetch_add(1, Ordering::Relaxed);
            self.bound_node_after_layer(node);
            return;
        }
        let pattern = ActivationPattern::from_signs(node.bits.iter().copied());
        let witness = node.witnesses.first().cloned().unwrap_or_default();
        if witness.is_empty() {
            self.unverified.fetch_add(1, Ordering::Relaxed);
        } else {
            let mut pending = self.pending.lock().expect("lock");
            pending.push((witness.clone(), pattern.clone()));
            if pending.len() >= VERIFY_BATCH {
                let batch = std::mem::take(&mut *pending);
                drop(pending);
                self.verify(batch);
            }
        }
        let n = self.regions.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(progress) = self.progress
            && n % 256 == 0
        {
            progress(n);
        }
        if self.options.affine_maps
            && let Ok(map) = self.net.output_map_of(&pattern)
        {
            let w = map.weight();
            let scale = (0..w.nrows())
                .flat_map(|i| (0..w.ncols()).map(move |j| w[(i, j)].abs()))
                .chain(map.bias().iter().map(|b| b.abs()))
                .fold(0.0_f64, f64::max)
                .max(f64::MIN_POSITIVE);
            let key: Vec<i64> = (0..w.nrows())
                .flat_map(|i| (0..w.ncols()).map(move |j| w[(i, j)]))
                .chain(map.bias().iter().copied())
                .map(|v| (v / scale * 1e9).round() as i64)
                .collect();
            self.maps.lock().expect("lock").insert(key);
        }
        if let Some(sink) = self.sink {
            let inner_radius = crate::boundary_distance(self.net, &witness, crate::Norm::L2)
                .map(|d| d.distance)
                .unwrap_or(0.0);
            sink(RegionRecord {
                pattern,
                interior_point: witness,
                inner_radius,
            });
        }
    }

    /// Checks leaves: the network's own pattern at each witness (one forward pass of
    /// matrix products for the batch) must be the leaf's; mismatches are counted in
    /// [`Enumeration::unverified`].
    fn verify(&self, batch: Vec<(Vec<f64>, ActivationPattern)>) {
        if batch.is_empty() {
            return;
        }
        let d = batch[0].0.len();
        let x = Mat::from_fn(batch.len(), d, |i, j| batch[i].0[j]);
        let bad = match self.net.patterns_batch(x.as_ref(), faer::Par::Seq) {
            Ok(patterns) => patterns
                .iter()
                .zip(&batch)
                .filter(|(p, (_, want))| *p != want)
                .count(),
            Err(_) => batch.len(),
        };
        self.unverified.fetch_add(bad as u64, Ordering::Relaxed);
    }

    /// The frozen pre-activation maps of the next layer on a node whose current layer is
    /// fully decided: `W[:, A] G[A, :]` and `W[:, A] c[A] + b`, `A` the active neurons.
    fn next_layer_maps(&self, node: &Node) -> LayerMaps {
        // Both compute the same maps; which is faster was measured (`bench_count
        // --large`): the masked product on 2-D nets (d2 128x3: 0.32 s against 0.47 s),
        // the gathered one on ACAS Xu (3.5 s against 5.0 s for the five L-inf 0.05 balls).
        if node.maps.gt.nrows() == 2 {
            self.next_layer_maps_masked(node)
        } else {
            self.next_layer_maps_gathered(node)
        }
    }

    /// By gathering the active columns (used for inputs of dimension above 2).
    fn next_layer_maps_gathered(&self, node: &Node) -> LayerMaps {
        let width = node.maps.width();
        let start = node.bits.len() - width;
        let active: Vec<usize> = (0..width).filter(|&i| node.bits[start + i]).collect();
        let layer = &self.net.layers()[node.layer + 1];
        let w = layer.weight();
        let wa = Mat::from_fn(w.nrows(), active.len(), |i, k| w[(i, active[k])]);
        let gt = &node.maps.gt;
        let ga = Mat::from_fn(active.len(), gt.nrows(), |k, j| gt[(j, active[k])]);
        let g = &wa * &ga;
        let c = (0..w.nrows())
            .map(|i| {
                layer.bias()[i]
                    + active
                        .iter()
                        .enumerate()
                        .map(|(k, &a)| wa[(i, k)] * node.maps.c[a])
                        .sum::<f64>()
            })
            .collect();
        LayerMaps::new(g.as_ref(), c)
    }

    /// By one product with the inactive columns zeroed (used for 2-D inputs).
    fn next_layer_maps_masked(&self, node: &Node) -> LayerMaps {
        let width = node.maps.width();
        let start = node.bits.len() - width;
        let layer = &self.net.layers()[node.layer + 1];
        let w = layer.weight();
        let d = node.maps.gt.nrows();
        // G_next^T = (G^T with the inactive columns zeroed) W^T, c_next = W c_A + b.
        let active = |a: usize| node.bits[start + a];
        let gt_a = Mat::from_fn(d + 1, width, |j, a| {
            if !active(a) {
                0.0
            } else if j < d {
                node.maps.gt[(j, a)]
            } else {
                node.maps.c[a]
            }
        });
        let mut out = Mat::<f64>::zeros(d + 1, w.nrows());
        faer::linalg::matmul::matmul(
            out.as_mut(),
            faer::Accum::Replace,
            gt_a.as_ref(),
            w.transpose(),
            1.0,
            faer::Par::Seq,
        );
        let c = (0..w.nrows())
            .map(|i| out[(d, i)] + layer.bias()[i])
            .collect();
        LayerMaps {
            gt: out.subrows(0, d).to_owned(),
            c,
        }
    }

    /// The anytime bound inside a region of the first `k` layers: the local bound of the
    /// remaining layers, from the frozen map of layer `k`.
    fn bound_node_after_layer(&self, node: &Node) {
        let maps = Arc::new(self.next_layer_maps(node));
        let sub = Node {
            layer: node.layer + 1,
            index: 0,
            bits: Vec::new(),
            rows: Rows::new(self.net.input_dim()),
            witnesses: Vec::new(),
            bbox: None,
            bbox_fresh: false,
            polygon: None,
            maps,
        };
        self.bound_node(&sub);
    }
}

enum Decision {
    Fixed(bool),
    /// The node is thinner than the tolerance: not a region.
    Drop,
    Split {
        positive: Vec<Vec<f64>>,
        negative: Vec<Vec<f64>>,
    },
    Error(String),
}

/// Leaves verified together.
const VERIFY_BATCH: usize = 256;

/// Bounding boxes are used up to this input dimension (they cost `2d` solves).
const MAX_BBOX_DIM: usize = 8;

/// Tightens the box `[lo, hi]` around a polyhedron by one of its rows `a . x <= b`
/// (bound propagation, no solving): on the box, `a_j x_j <= b - sum_{i != j} min(a_i lo_i,
/// a_i hi_i)`. The result still contains every point of the box satisfying the row, so
/// a box around the polyhedron stays one; each new bound is widened by a rounding slack
/// (`1e-12` of the magnitudes involved), and a bound that would cross the other is left
/// alone.
fn tighten_box(lo: &mut [f64], hi: &mut [f64], a: &[f64], b: f64) {
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

/// The sign of `g.x + c0` on the box `[lo, hi]` when it is proven (with a rounding
/// margin): `Some(true)` for positive, `Some(false)` for negative.
/// For a 2-D domain, a polygon containing it: its corners (a box or an L-inf ball), or
/// the regular 64-gon circumscribed about a disc.
fn outer_polygon(domain: &Domain) -> Option<Vec<[f64; 2]>> {
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

/// The polygon `p ∩ {a . x <= b}` (Sutherland-Hodgman against one half-plane).
fn clip(p: &[[f64; 2]], a: [f64; 2], b: f64) -> Vec<[f64; 2]> {
    let f = |v: &[f64; 2]| a[0] * v[0] + a[1] * v[1] - b;
    let mut out = Vec::with_capacity(p.len() + 1);
    for (k, v) in p.iter().enumerate() {
        let w = &p[(k + 1) % p.len()];
        let (fv, fw) = (f(v), f(w));
        if fv <= 0.0 {
            out.push(*v);
        }
        if (fv < 0.0 && fw > 0.0) || (fv > 0.0 && fw < 0.0) {
            let t = fv / (fv - fw);
            out.push([v[0] + t * (w[0] - v[0]), v[1] + t * (w[1] - v[1])]);
        }
    }
    out
}

/// The sign of `g.x + c0` on a polygon when it is proven at every vertex, with a margin
/// of `1e-10 ||g|| size` above the rounding of the value (the polygon's vertices carry
/// rounding from repeated clipping, far below that) and still far below the region
/// tolerance (`1e-7` by default), so no side thicker than the tolerance is missed.
fn polygon_sign(g: &[f64], c0: f64, poly: &[[f64; 2]], size: f64) -> Option<bool> {
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
    let margin = 1e-10 * gnorm * size + crate::stability::rounding_margin(2, magnitude);
    if lo > margin {
        Some(true)
    } else if hi < -margin {
        Some(false)
    } else {
        None
    }
}

fn box_sign(g: &[f64], c0: f64, lo: &[f64], hi: &[f64]) -> Option<bool> {
    let mut center = c0;
    let mut spread = 0.0;
    let mut magnitude = c0.abs();
    for ((gj, l), h) in g.iter().zip(lo).zip(hi) {
        let (m, w) = (0.5 * (l + h), 0.5 * (h - l));
        center += gj * m;
        spread += gj.abs() * w;
        magnitude += (gj * m).abs();
    }
    let margin = crate::stability::rounding_margin(g.len(), magnitude + spread);
    if center - spread > margin {
        Some(true)
    } else if center + spread < -margin {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
