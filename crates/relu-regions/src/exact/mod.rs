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
//!    `Search::shoot`).
//! 3. Otherwise **one optimisation** ([`lp::chebyshev_center`], by the fast path of
//!    [`lp`] first: a dense active-set method, exact on polyhedral domains, with
//!    cutting planes for an L2 ball): the largest ball inside `P ∩ {z >= 0}` (or `<= 0`,
//!    the side no witness covers) and inside the domain. Its centre becomes that child's
//!    witness when it lies deeper inside than the error margin at that point (a deep
//!    witness: every later decision sees it far from the boundary); the side is empty
//!    when the program's weak-duality bound proves it with every row moved by the margin;
//!    otherwise the side is **uncertain** (below).
//!
//!    In high dimension (a box or an L-inf ball in [`sides::MIN_BOX_PROGRAM_DIM`] or
//!    more dimensions, an L2 ball in more than [`lp::MAX_FAST_L2_DIM`]) the program is
//!    instead the side's maximum over the node, solved by a method whose work grows with
//!    the node's rows, not the input dimension; its proven bound decides an empty side
//!    and a point on the segment from a witness to its optimum witnesses a nonempty one,
//!    by the same rule (`sides.rs`, `docs/math.md` §5.6).
//!
//!    A side proven empty also proves it for the sibling subtree explored next, when the
//!    proof's multipliers rest on rows the two share (the rows before their split) and the
//!    neuron's map is the same (same layer) (`lp::RadiusBound`, `sharing::EmptySide`).
//!    Serial subtrees share; the parallel top of the tree does not. The counts are
//!    unchanged (tested against runs without sharing); on d6 16x2 a third of the programs
//!    go.
//!
//! # When a region counts (`docs/math.md` §5.2)
//!
//! There is no tolerance. The frozen maps of deeper layers are computed in f64, so every
//! map carries a proven error bound (`maps::MapError`, carried through the weights and
//! widened by each product's rounding), and every decision clears it: a witness lies
//! beyond each hyperplane by more than the margin at its own point, an empty side is
//! proven with every row moved by the margin, and a sign settled without a program has
//! the margin in its test. A neuron whose weights and bias are exactly proportional to an
//! earlier one's in its layer takes that neuron's state (`ties.rs`; counted in
//! `degenerate` where the node meets their hyperplane).
//!
//! - A **region** counts when one of its leaf's witnesses is *certified*: the network's
//!   own forward pass there gives every neuron the leaf's sign with a margin above a
//!   bound on that pass's rounding error ([`Network::certified_patterns_batch`]), inside
//!   the open domain. Only certified regions reach `--regions-out`.
//! - A side neither certified nor proven empty is **uncertain**: it is not explored,
//!   counted in [`Enumeration::uncertain`], and what it may hold (one region below the
//!   last neuron, else the local bound of the node's sub-network) is added to the top
//!   of the interval; a leaf no witness of which certifies is taken back from `regions`
//!   and counted the same way.
//!
//! So `regions <= true count <= upper_bound`, with equality ([`Enumeration::is_exact`])
//! when nothing is uncertain and the tree was explored to the end.
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

//!
//! # Where each part lives
//!
//! - this file: the options, the result, and [`enumerate_regions`], which sets up the root
//!   and assembles the answer;
//! - `tree.rs`: the nodes and the depth-first search (deciding and splitting);
//! - `maps.rs`: the frozen affine maps of a layer on a node, their proven error bound,
//!   and their composition into the next layer;
//! - `certify.rs`: the error margins a witness must clear, and the certification of
//!   leaves by the network's own forward pass;
//! - `prefilter.rs`: decisions without a program (bounding boxes, polygons, ray shooting);
//! - `sharing.rs`: empty sides shared between sibling subtrees;
//! - `anytime.rs`: the local bound of what is not explored;
//! - `reduce.rs`: an L2 ball counted in the first layer's row space (in `k` dimensions
//!   when the first layer has `k` neurons on `n > k` inputs);
//! - `sides.rs`: sides decided by one program in high dimension;
//! - `ties.rs`: neurons exactly proportional to an earlier one of their layer;
//! - [`lp`]: the programs (the dense active-set method first, clarabel as the fallback;
//!   the bounded-variable dual simplex for boxes and the `m`-dimensional dual for L2
//!   balls in high dimension).

mod anytime;
mod certify;
pub mod lp;
mod maps;
mod prefilter;
mod reduce;
mod sharing;
mod sides;
pub mod tasks;
mod ties;
mod tree;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use num_bigint::BigUint;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::bound::{RegionCount, local_region_bound};
use crate::domain::{Domain, DomainError};
use crate::geometry::HalfSpaces;
use crate::network::Network;
use crate::pattern::ActivationPattern;
use crate::stability::{BoundPropagator, Method};
use maps::{LayerMaps, MapError};
use prefilter::outer_polygon;
use reduce::RowSpace;
use sharing::Known;
use tree::{Node, Search};

/// Options of [`enumerate_regions`].
#[derive(Debug, Clone, Copy)]
pub struct EnumerationOptions {
    /// Stop after this many regions (the answer is then an interval).
    pub max_regions: Option<u64>,
    /// Stop after this much time (the answer is then an interval).
    pub time_limit: Option<Duration>,
    /// Enumerate only the first `k` ReLU layers exactly and bound the rest.
    pub exact_layers: Option<usize>,
    /// Count distinct affine maps of the output (linear regions of the function).
    pub affine_maps: bool,
    /// Explore subtrees in parallel.
    pub parallel: bool,
    /// A flag that stops the enumeration when raised (for instance by a Ctrl-C handler);
    /// the answer is then an interval, as at a limit.
    pub interrupt: Option<&'static AtomicBool>,
}

impl Default for EnumerationOptions {
    fn default() -> Self {
        Self {
            max_regions: None,
            time_limit: None,
            exact_layers: None,
            affine_maps: false,
            parallel: true,
            interrupt: None,
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
    /// Neurons decided by a tie to an earlier neuron of their layer on a node that meets
    /// their (shared) hyperplane: duplicated, negated or scaled neurons (see `ties.rs`).
    pub degenerate: u64,
    /// Sides neither certified nor proven empty, and leaves whose witnesses could not be
    /// certified: each may hold regions (see the module docs). The count is exact only
    /// when this is zero.
    pub uncertain: u64,
    /// Whether the tree was explored to the end (no limit hit).
    pub complete: bool,
    /// A proven upper bound on the number of regions: `regions` when complete and
    /// `exact_layers` is off and nothing is uncertain, else the smaller of `regions` plus
    /// the bounds of what was not enumerated or is uncertain, and the plain local bound
    /// over the domain.
    pub upper_bound: RegionCount,
    /// Distinct affine maps of the output among the regions (when asked).
    pub affine_maps: Option<usize>,
    /// Leaves whose witnesses could not be certified (counted in `uncertain`).
    pub unverified: u64,
    /// Optimisations solved.
    pub solves: u64,
    /// Tree nodes visited.
    pub nodes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl Enumeration {
    /// Whether `regions` is the exact count: the tree was explored to the end, over every
    /// layer, and nothing is uncertain.
    pub fn is_exact(&self) -> bool {
        self.complete && self.uncertain == 0 && self.upper_bound.0 == BigUint::from(self.regions)
    }
}

/// Why the enumeration failed.
#[derive(Debug, thiserror::Error)]
pub enum EnumerationError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Network(#[from] crate::NetworkError),
    #[error("the optimiser failed ({0}); the count would not be exact")]
    Solver(String),
    #[error(
        "the domain must have nonempty interior (positive radius, lo < hi in every coordinate)"
    )]
    EmptyInterior,
    #[error("invalid task node: {0}")]
    InvalidTask(String),
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
    enumerate_regions_with(net, domain, options, sink, progress, Strategy::default())
}

/// Ways of running the same enumeration, all with the same counts (tests switch them off
/// to check exactly that).
#[derive(Debug, Clone, Copy)]
struct Strategy {
    /// Subtrees use the empty sides their siblings proved ([`sharing`]).
    share_empty_sides: bool,
    /// An L2 ball is counted in the first layer's row space ([`reduce`]).
    reduce_row_space: bool,
    /// In high dimension, sides are decided by one program over the domain and a witness
    /// on the segment to its optimum ([`sides`]) rather than by Chebyshev programs.
    side_programs: bool,
}

impl Default for Strategy {
    fn default() -> Self {
        Self {
            share_empty_sides: true,
            reduce_row_space: true,
            side_programs: true,
        }
    }
}

/// [`enumerate_regions`] with the given [`Strategy`].
fn enumerate_regions_with(
    net: &Network,
    domain: &Domain,
    options: EnumerationOptions,
    sink: Option<&(dyn Fn(RegionRecord) + Sync)>,
    progress: Option<&(dyn Fn(u64) + Sync)>,
    strategy: Strategy,
) -> Result<Enumeration, EnumerationError> {
    let run = run_tree(net, domain, options, sink, progress, strategy, Start::Root)?;
    let complete = run.complete;
    let uncertain = run.uncertain;
    let regions = run.regions;
    let upper_bound = if complete && !run.partial_layers && uncertain == 0 {
        RegionCount(BigUint::from(regions))
    } else {
        // Both the enumerated part plus the bounds of the rest and the plain local bound
        // over the whole domain are valid; report the smaller.
        let summed = run.bounded
            + run.uncertain_bound
            + BigUint::from(if run.partial_layers { 0 } else { regions });
        let plain = local_region_bound(&BoundPropagator::new(net), domain, Method::Crown)?
            .local
            .0;
        RegionCount(summed.min(plain))
    };
    Ok(Enumeration {
        regions,
        degenerate: run.degenerate,
        uncertain,
        complete,
        upper_bound,
        affine_maps: options.affine_maps.then_some(run.maps.len()),
        unverified: run.unverified,
        solves: run.solves,
        nodes: run.nodes,
        elapsed: run.elapsed,
    })
}

/// Where [`run_tree`] starts.
enum Start<'a> {
    /// At the root: the whole domain.
    Root,
    /// At a task's node ([`tasks`]); with `emit_depth = Some(k)`, the nodes `k` splits
    /// below it are not explored but returned as unfinished (to hand out as tasks).
    Task {
        node: Option<&'a tasks::TaskNode>,
        emit_depth: Option<usize>,
    },
}

/// What one run of the region tree found: the totals of [`Enumeration`] before they are
/// assembled, and, when it started at a task, the nodes left open (by a limit, or at the
/// emit depth) with the local bound of each.
struct TreeRun {
    regions: u64,
    degenerate: u64,
    uncertain: u64,
    /// What the uncertain sides and leaves may hold (the sum of their bounds).
    uncertain_bound: BigUint,
    unverified: u64,
    solves: u64,
    nodes: u64,
    /// The sum of the bounds of nodes bounded rather than explored (at a limit when the
    /// run started at the root; with `exact_layers`, inside every region).
    bounded: BigUint,
    /// The keys of the certified regions' affine maps (when asked).
    maps: HashSet<Vec<i64>>,
    /// Whether no limit was hit (nothing left open).
    complete: bool,
    /// Whether `exact_layers` stops before the last layer.
    partial_layers: bool,
    unfinished: Vec<(tasks::TaskNode, BigUint)>,
    elapsed: Duration,
}

/// Runs the region tree of `net` over `domain` from `start`.
fn run_tree(
    net: &Network,
    domain: &Domain,
    options: EnumerationOptions,
    sink: Option<&(dyn Fn(RegionRecord) + Sync)>,
    progress: Option<&(dyn Fn(u64) + Sync)>,
    strategy: Strategy,
    start_at: Start<'_>,
) -> Result<TreeRun, EnumerationError> {
    domain.check_dim(net.input_dim())?;
    // An L2 ball may be counted in the first layer's row space ([`reduce`]): the tree then
    // runs on the reduced network and ball, and leaves are verified, and reported, at their
    // points lifted back to the input space, in the original network.
    let reduced = if strategy.reduce_row_space {
        RowSpace::of(net, domain)?
    } else {
        None
    };
    let (original_net, original_domain) = (net, domain);
    let (net, domain) = match &reduced {
        Some(r) => (&r.net, &r.domain),
        None => (net, domain),
    };
    let lift = reduced.as_ref().map(|r| (original_net, r));
    let share_empty_sides = strategy.share_empty_sides;
    // The time limit counts from here (the root's bounds included).
    let start = Instant::now();
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
    let side_programs = if strategy.side_programs {
        sides::SideDomain::of(domain)
    } else {
        None
    };
    let first = &net.layers()[0];
    // The largest |x_j| over the domain.
    let reach: Vec<f64> = match domain {
        Domain::Box(b) => {
            b.lo.iter()
                .zip(&b.hi)
                .map(|(l, h)| l.abs().max(h.abs()))
                .collect()
        }
        Domain::Ball(b) => b.center.iter().map(|c| c.abs() + b.radius).collect(),
    };
    let reach_norm = reach.iter().map(|v| v * v).sum::<f64>().sqrt();
    // A unit row's slack `b - a.x` at a point of the domain: the dot product and the
    // right-hand side are at most `||X||` each, plus the domain's size.
    let rounding = crate::stability::rounding_margin(domain.dim(), 3.0 * reach_norm + size);
    let first_error = match (&reduced, original_domain) {
        // The reduced first layer `W Q`, `W c + b` was computed: its rounding, and the
        // departure of the computed `Q` from an orthonormal basis (a few `n ε`), over
        // the input ball `B(c, r)`.
        // For `||Q y||` at most `sqrt(k) ||y||_inf` (the rows of `Q` have norm at most
        // one, up to rounding), per neuron:
        (Some(_), Domain::Ball(ball)) => {
            let w = original_net.layers()[0].weight();
            let k = (w.nrows() as f64).sqrt();
            (0..w.nrows())
                .map(|i| {
                    let l1 = (0..w.ncols()).map(|j| w[(i, j)].abs()).sum::<f64>();
                    let at_center = (0..w.ncols())
                        .map(|j| (w[(i, j)] * ball.center[j]).abs())
                        .sum::<f64>()
                        + original_net.layers()[0].bias()[i].abs();
                    MapError {
                        constant: 4.0 * crate::stability::rounding_margin(w.ncols(), at_center),
                        slope: 4.0 * crate::stability::rounding_margin(w.ncols(), l1 * k),
                    }
                })
                .collect()
        }
        _ => vec![MapError::default(); first.output_dim()],
    };
    let reach_inf = reach.iter().fold(0.0_f64, |m, v| m.max(*v));
    let abs_weights = net
        .layers()
        .iter()
        .map(|layer| {
            let w = layer.weight();
            faer::Mat::from_fn(w.nrows(), w.ncols(), |i, j| w[(i, j)].abs())
        })
        .collect();
    let mut shared = Search {
        first_error: first_error.clone(),
        abs_weights,
        reach_inf,
        rounding,
        original_domain,
        ties: ties::ties(net),
        side_programs,
        net,
        domain,
        root,
        options,
        share_empty_sides,
        size,
        relu_layers,
        stop_layer,
        start,
        deadline: options.time_limit.and_then(|t| start.checked_add(t)),
        lift,
        stop: AtomicBool::new(false),
        regions: AtomicU64::new(0),
        degenerate: AtomicU64::new(0),
        uncertain: AtomicU64::new(0),
        uncertain_sum: Mutex::new(BigUint::from(0u32)),
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
        unfinished: matches!(start_at, Start::Task { .. }).then(|| Mutex::new(Vec::new())),
        started: AtomicBool::new(!matches!(start_at, Start::Task { .. })),
        emit_depth: match start_at {
            Start::Task { emit_depth, .. } => emit_depth,
            Start::Root => None,
        },
    };
    let root_node = Node {
        layer: 0,
        index: 0,
        bits: Vec::with_capacity(net.relu_count()),
        rows: HalfSpaces::new(net.input_dim()),
        row_error: MapError::default(),
        witnesses,
        bbox: None,
        bbox_fresh: false,
        polygon: outer_polygon(domain).map(Arc::new),
        maps: Arc::new(LayerMaps::new(
            first.weight(),
            first.bias().to_vec(),
            first_error,
        )),
    };
    let node = match start_at {
        Start::Root => root_node,
        Start::Task { node: None, .. } => root_node,
        Start::Task {
            node: Some(node), ..
        } => node.to_node(&shared, root_node)?,
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
    let unfinished: Vec<(tasks::TaskNode, BigUint)> = shared
        .unfinished
        .take()
        .map(|u| u.into_inner().expect("no panics hold the lock"))
        .unwrap_or_default()
        .into_iter()
        .map(|(node, bound)| (tasks::TaskNode::of(&node), bound))
        .collect();
    Ok(TreeRun {
        regions: shared.regions.load(Ordering::Relaxed),
        degenerate: shared.degenerate.load(Ordering::Relaxed),
        uncertain: shared.uncertain.load(Ordering::Relaxed),
        uncertain_bound: shared
            .uncertain_sum
            .into_inner()
            .expect("no panics hold the lock"),
        unverified: shared.unverified.load(Ordering::Relaxed),
        solves: shared.solves.load(Ordering::Relaxed),
        nodes: shared.nodes.load(Ordering::Relaxed),
        bounded: shared
            .bound_sum
            .into_inner()
            .expect("no panics hold the lock"),
        maps: shared.maps.into_inner().expect("no panics hold the lock"),
        complete: !shared.stop.load(Ordering::Relaxed) && unfinished.is_empty(),
        partial_layers: stop_layer < relu_layers,
        unfinished,
        elapsed: shared.start.elapsed(),
    })
}

#[cfg(test)]
mod task_tests;
#[cfg(test)]
mod tests;
