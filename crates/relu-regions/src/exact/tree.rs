//! The region tree: a depth-first search that decides one neuron at a time (see the
//! module docs of [`super`] for the rules), splitting the top of the tree across cores.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use faer::Mat;
use num_bigint::BigUint;

use super::lp::{self, ChebyshevOutcome, chebyshev_center};
use super::maps::{LayerMaps, MapError};
use super::prefilter::{MAX_BBOX_DIM, box_sign, polygon_sign, tighten_box};
use super::reduce::RowSpace;
use super::sharing::{EmptySide, Known};
use super::{EnumerationOptions, RegionRecord};
use crate::domain::Domain;
use crate::geometry::{HalfSpaces, Point2, polygon};
use crate::network::Network;
use crate::pattern::ActivationPattern;
use crate::stability::NeuronBounds;

/// A node of the region tree.
#[derive(Clone)]
pub(super) struct Node {
    pub(super) layer: usize,
    pub(super) index: usize,
    /// Decided states, all layers so far, in pattern order.
    pub(super) bits: Vec<bool>,
    /// The decided hyperplanes `a . x <= b`, normalised to `||a||_2 = 1`.
    pub(super) rows: HalfSpaces,
    /// A bound, in input units, on how far each row lies from the true hyperplane of its
    /// neuron at a point `x` (the map's error over its norm, [`MapError`]): the largest
    /// over the rows, of each part.
    pub(super) row_error: MapError,
    /// Interior points of the node's polyhedron, each clear of every decided hyperplane by
    /// more than the error margins (the first is the one a leaf is certified at).
    pub(super) witnesses: Vec<Vec<f64>>,
    /// A bounding box of the node's polyhedron (computed lazily, at most once per layer;
    /// a parent's box stays valid for its children, which are smaller).
    pub(super) bbox: Option<(Vec<f64>, Vec<f64>)>,
    /// Whether `bbox` was computed in the current layer.
    pub(super) bbox_fresh: bool,
    /// For 2-D inputs: a polygon containing the node's polyhedron (exactly it for a box
    /// domain; for a disc, the circumscribed polygon clipped by the node's rows).
    pub(super) polygon: Option<Arc<Vec<Point2>>>,
    /// Frozen pre-activation maps of `layer` on the node's polyhedron (shared by the
    /// nodes of one layer's subtree).
    pub(super) maps: Arc<LayerMaps>,
}

/// The state of one enumeration, shared by every node of its tree (and every thread).
pub(super) struct Search<'a> {
    pub(super) net: &'a Network,
    /// Whether a subtree uses the empty sides its sibling proved ([`EmptySide`]).
    pub(super) share_empty_sides: bool,
    pub(super) domain: &'a Domain,
    pub(super) root: NeuronBounds,
    pub(super) options: EnumerationOptions,
    pub(super) size: f64,
    pub(super) relu_layers: usize,
    pub(super) stop_layer: usize,
    pub(super) start: Instant,
    /// `start + time_limit`, the moment the programs stop at.
    pub(super) deadline: Option<Instant>,
    pub(super) stop: AtomicBool,
    pub(super) regions: AtomicU64,
    pub(super) degenerate: AtomicU64,
    /// Sides neither certified nor proven empty, and leaves whose witness could not be
    /// certified ([`super::Enumeration::uncertain`]).
    pub(super) uncertain: AtomicU64,
    /// What the uncertain sides and leaves may hold: the sum of their bounds.
    pub(super) uncertain_sum: Mutex<BigUint>,
    pub(super) unverified: AtomicU64,
    pub(super) solves: AtomicU64,
    pub(super) nodes: AtomicU64,
    pub(super) bound_sum: Mutex<BigUint>,
    /// Leaves waiting for the certification of their pattern (in batches, by matrix
    /// products): a few of the leaf's witnesses, tried in turn, and its pattern.
    pub(super) pending: Mutex<Vec<(Vec<Vec<f64>>, ActivationPattern)>>,
    pub(super) maps: Mutex<HashSet<Vec<i64>>>,
    pub(super) error: Mutex<Option<String>>,
    /// Set with `error`: a cheap check for every step of the search.
    pub(super) failed: AtomicBool,
    pub(super) sink: Option<&'a (dyn Fn(RegionRecord) + Sync)>,
    /// When the tree runs in the first layer's row space ([`super::reduce`]): the original
    /// network and the map back, for verifying and reporting leaves in the input space.
    pub(super) lift: Option<(&'a Network, &'a RowSpace)>,
    pub(super) progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// The domain of the side programs ([`super::sides`]) when they decide sides;
    /// `None` for the Chebyshev programs.
    pub(super) side_programs: Option<super::sides::SideDomain>,
    /// The error of the first layer's maps ([`LayerMaps::error`] at the root).
    pub(super) first_error: Vec<MapError>,
    /// `|W_l|` entrywise, per layer (for [`MapError`]).
    pub(super) abs_weights: Vec<Mat<f64>>,
    /// The largest `|x_j|` over the domain and its coordinates.
    pub(super) reach_inf: f64,
    /// A bound on the rounding of a unit row's slack evaluated at a point of the domain,
    /// in input units.
    pub(super) rounding: f64,
    /// The domain in the input space (the ball before the row-space reduction), where
    /// leaves are certified.
    pub(super) original_domain: &'a Domain,
    /// Per layer and neuron: an earlier neuron of the same layer whose weights and bias
    /// are exactly proportional ([`super::ties`]).
    pub(super) ties: Vec<Vec<Option<super::ties::Tie>>>,
    /// When the run started at a task ([`super::tasks`]): the nodes left open, with their
    /// local bounds, to be handed out as tasks (rather than bounded for good).
    pub(super) unfinished: Option<Mutex<Vec<(Node, BigUint)>>>,
    /// With `Some(k)`, a split `k` levels below the start is not explored: both children
    /// are left open ([`Search::halt_node`]).
    pub(super) emit_depth: Option<usize>,
    /// Whether the limits apply yet: a run that starts at a task decides at least one
    /// neuron before any limit can stop it, so that every task makes progress however
    /// small its budget.
    pub(super) started: AtomicBool,
}

impl Search<'_> {
    /// Records an error; the search stops.
    pub(super) fn fail(&self, e: String) {
        *self.error.lock().expect("lock") = Some(e);
        self.failed.store(true, Ordering::Relaxed);
    }

    /// When the programs must stop: at the time limit, or when the search stops (a limit
    /// reached elsewhere in the tree); they check it while they run.
    pub(super) fn halting(&self) -> lp::Halting<'_> {
        lp::Halting {
            deadline: self.active_deadline(),
            flag: Some(&self.stop),
        }
    }

    /// The deadline, once the limits apply ([`Search::started`]).
    pub(super) fn active_deadline(&self) -> Option<Instant> {
        if self.started.load(Ordering::Relaxed) {
            self.deadline
        } else {
            None
        }
    }

    pub(super) fn should_stop(&self) -> bool {
        if !self.started.load(Ordering::Relaxed) {
            return false;
        }
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        let over_count = self
            .options
            .max_regions
            .is_some_and(|m| self.regions.load(Ordering::Relaxed) >= m);
        let over_time = self.deadline.is_some_and(|t| Instant::now() >= t);
        let interrupted = self
            .options
            .interrupt
            .is_some_and(|f| f.load(Ordering::Relaxed));
        if over_count || over_time || interrupted {
            self.stop.store(true, Ordering::Relaxed);
        }
        over_count || over_time || interrupted
    }

    /// A node the search does not explore further (a limit was hit, or it lies at the emit
    /// depth): its subtree's local bound goes to the bound sum, or, in a run that started
    /// at a task, the node itself to the unfinished ones, with that bound.
    pub(super) fn halt_node(&self, node: &Node) {
        match &self.unfinished {
            Some(open) => {
                if let Some(bound) = self.subtree_bound(node) {
                    open.lock().expect("lock").push((node.clone(), bound));
                }
            }
            None => self.bound_node(node),
        }
    }

    /// Explores `node`'s subtree, where the sides in `known` are proven empty; returns the
    /// sides proven empty in it ([`EmptySide`]; those proven below a split of the subtree
    /// only when they rest on the rows before that split). The caller keeps those that
    /// hold on its own rows.
    pub(super) fn explore(&self, node: Node, depth: usize, known: &Known<'_>) -> Vec<EmptySide> {
        // Steps taken here, added to the shared count once (one atomic add per call
        // rather than per neuron).
        let mut steps = 0;
        let mut found = Vec::new();
        self.explore_counted(node, depth, known, &mut found, &mut steps);
        self.nodes.fetch_add(steps, Ordering::Relaxed);
        found
    }

    pub(super) fn explore_counted(
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
                self.halt_node(&node);
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
            let decision = self.decide(&mut node, &maps, known, found);
            if !self.started.load(Ordering::Relaxed) {
                self.started.store(true, Ordering::Relaxed);
            }
            match decision {
                NeuronDecision::Fixed(active) => {
                    node.bits.push(active);
                    node.index += 1;
                }
                NeuronDecision::Split { positive, negative } => {
                    // The rows every node of this split's subtree starts with.
                    let shared_rows = node.rows.len();
                    let (mut pos, mut neg) = (node.clone(), node);
                    let (g, c0) = pos.maps.row(pos.index);
                    let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let row_error = pos.row_error.max(pos.maps.error[pos.index].scaled(gnorm));
                    pos.row_error = row_error;
                    pos.bits.push(true);
                    pos.index += 1;
                    pos.witnesses = positive;
                    // z >= 0  <=>  -g.x <= c0
                    let unit = 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let neg_g: Vec<f64> = g.iter().map(|v| -v * unit).collect();
                    pos.rows.push(&neg_g, c0 * unit);
                    neg.row_error = row_error;
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
                        pos.polygon = Some(Arc::new(polygon::clip(
                            &poly,
                            [neg_g[0], neg_g[1]],
                            c0 * unit,
                        )));
                        neg.polygon =
                            Some(Arc::new(polygon::clip(&poly, [g[0], g[1]], -c0 * unit)));
                    }
                    if self.emit_depth.is_some_and(|k| depth + 1 >= k) {
                        self.halt_node(&pos);
                        self.halt_node(&neg);
                        return;
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
                NeuronDecision::Drop => return,
                NeuronDecision::Halted(Halt::Interrupted) => {
                    // The time limit passed inside a program: this node's subtree is
                    // bounded, as every node still open when a limit is hit.
                    self.stop.store(true, Ordering::Relaxed);
                    self.halt_node(&node);
                    return;
                }
                NeuronDecision::Halted(Halt::Failed(e)) => {
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
    ) -> NeuronDecision {
        let (g, c0) = maps.row(node.index);
        let l = node.layer;
        let i = node.index;
        // 1. Proven on the whole domain.
        if self.root.lower[l][i] > 0.0 {
            return NeuronDecision::Fixed(true);
        }
        if self.root.upper[l][i] < 0.0 {
            return NeuronDecision::Fixed(false);
        }
        let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        let map_error = maps.error[i];
        if gnorm == 0.0 && map_error == MapError::default() {
            return NeuronDecision::Fixed(c0 > 0.0);
        }
        let (lo, hi, magnitude) = self.domain.linear_range(g, c0);
        // A bound on |z~(x) - z(x)| plus the rounding of z~(x), anywhere on the domain.
        let error =
            map_error.at(self.reach_inf) + crate::stability::rounding_margin(g.len(), magnitude);
        if lo > error {
            return NeuronDecision::Fixed(true);
        }
        if hi < -error {
            return NeuronDecision::Fixed(false);
        }
        // 1a. Tied to an earlier neuron of the layer ([`super::ties`]). Negated and tied
        //     to an inactive neuron, it is active when a witness shows the twin is not
        //     identically zero on the node (`z_B = -z_A > 0` there, so everywhere inside
        //     but on a face).
        if let Some(tie) = self.ties[l][i] {
            let start = node.bits.len() - node.index;
            let representative = node.bits[start + tie.representative];
            let decided = !tie.negated
                || representative
                || node.witnesses.iter().any(|w| {
                    crate::linalg::dot(g, w) + c0 > gnorm * self.eta_at(node, (g, c0), map_error, w)
                });
            if decided {
                self.degenerate.fetch_add(1, Ordering::Relaxed);
                return NeuronDecision::Fixed(representative != tie.negated);
            }
        }
        if gnorm == 0.0 {
            // Constant on the domain, up to an error that hides its sign.
            return self.uncertain_node(node);
        }
        // 1b. Proven on the node's bounding box (P lies in it).
        if let Some((lo, hi)) = &node.bbox
            && let Some(fixed) = box_sign(g, c0, lo, hi, map_error.at(self.reach_inf))
        {
            return NeuronDecision::Fixed(fixed);
        }
        // 1c. Proven on the node's polygon (2-D inputs).
        if let Some(poly) = &node.polygon
            && let Some(fixed) = polygon_sign(g, c0, poly, self.size, map_error.at(self.reach_inf))
        {
            return NeuronDecision::Fixed(fixed);
        }
        let eta = self.eta(node, map_error, gnorm, magnitude);
        // 2. Witnesses on both sides, each beyond the hyperplane by more than the margin
        //    at that point.
        let (mut positive, mut negative) = (Vec::new(), Vec::new());
        let domain_clear = gnorm * eta;
        for w in &node.witnesses {
            let v = crate::linalg::dot(g, w) + c0;
            // The domain's margin is at least the point's (`eta_at`); only witnesses
            // within it need the point's own.
            let clear = if v.abs() > domain_clear {
                domain_clear
            } else {
                gnorm * self.eta_at(node, (g, c0), map_error, w)
            };
            if v > clear {
                positive.push(w.clone());
            } else if v < -clear {
                negative.push(w.clone());
            }
        }
        if !positive.is_empty() && !negative.is_empty() {
            return NeuronDecision::Split { positive, negative };
        }
        // 2a. One side covered: shoot rays from its witnesses straight at the hyperplane;
        //     a ray that crosses it well inside the node gives the other side's witness.
        if positive.is_empty() != negative.is_empty() {
            let from_positive = negative.is_empty();
            let covered = if from_positive { &positive } else { &negative };
            if let Some(w) = self.shoot(node, g, c0, gnorm, covered, eta) {
                if from_positive {
                    negative.push(w);
                } else {
                    positive.push(w);
                }
                return NeuronDecision::Split { positive, negative };
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
                Err(e) => return NeuronDecision::Halted(e),
            }
            if let Some((lo, hi)) = &node.bbox
                && let Some(fixed) = box_sign(g, c0, lo, hi, map_error.at(self.reach_inf))
            {
                return NeuronDecision::Fixed(fixed);
            }
        }
        // 3. One program per uncovered side: a witness, a proof that it is empty, or
        //    neither (uncertain).
        let mut uncertain = [false; 2];
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
            let outcome = if self.share_empty_sides && known.contains(maps_id, i, side) {
                SideOutcome::Empty(None)
            } else {
                let by_program = self.side_programs.as_ref().and_then(|domain| {
                    self.side_by_program(node, (g, c0), gnorm, s, map_error, domain)
                });
                match by_program
                    .unwrap_or_else(|| self.side_center(node, (g, c0), s, eta, map_error))
                {
                    Ok(outcome) => outcome,
                    Err(e) => return NeuronDecision::Halted(e),
                }
            };
            match outcome {
                SideOutcome::Witness(w) => {
                    if side {
                        positive.push(w);
                    } else {
                        negative.push(w);
                    }
                }
                SideOutcome::Empty(bound) => {
                    // Proven empty on rows the node shares with others: recorded for them.
                    if let Some(bound) = bound {
                        found.push(EmptySide {
                            maps: maps_id,
                            neuron: i,
                            side,
                            rows_used: bound.rows_used,
                        });
                    }
                }
                SideOutcome::Uncertain => uncertain[usize::from(side)] = true,
            }
        }
        match (positive.is_empty(), negative.is_empty()) {
            (false, false) => return NeuronDecision::Split { positive, negative },
            (true, true) if uncertain == [false; 2] => {
                // Both sides proven empty: the node itself has no interior (its witnesses
                // were not what they seemed); nothing is lost by dropping it.
                return NeuronDecision::Drop;
            }
            (true, true) => return self.uncertain_node(node),
            _ => {}
        }
        // One side has a witness; the other is empty or uncertain.
        let active = !positive.is_empty();
        if uncertain[usize::from(!active)] {
            self.add_uncertain(node, l, i);
        }
        node.witnesses = if active { positive } else { negative };
        NeuronDecision::Fixed(active)
    }

    /// A side that is neither certified nor proven empty: counted in `uncertain`, and
    /// what it may hold added to the interval's top: one region below the network's last
    /// neuron, else the anytime bound of the node's sub-network (which bounds every
    /// region of the node, [`super::anytime`]).
    fn add_uncertain(&self, node: &Node, layer: usize, neuron: usize) {
        self.uncertain.fetch_add(1, Ordering::Relaxed);
        let last = layer + 1 == self.relu_layers && neuron + 1 == node.maps.width();
        let bound = if last {
            Some(BigUint::from(1u32))
        } else {
            self.subtree_bound(node)
        };
        if let Some(bound) = bound {
            *self.uncertain_sum.lock().expect("lock") += bound;
        }
    }

    /// A node where neither side of a neuron has a certified witness: the whole node is
    /// uncertain.
    fn uncertain_node(&self, node: &Node) -> NeuronDecision {
        self.add_uncertain(node, node.layer, node.index);
        NeuronDecision::Drop
    }

    /// The side `s z >= 0` of `z = g.x + c0` on `node` by its Chebyshev program (the
    /// largest ball inside the node, the domain and the side; [`lp`]):
    ///
    /// - a **witness** when the centre, checked directly, lies deeper inside every row,
    ///   the domain and the side than the error margin at that point
    ///   ([`Search::eta_at`]);
    /// - **empty** when the fast path's proven radius bound ([`lp::RadiusBound`], weak
    ///   duality from its multipliers) stays at most zero with every row moved by `eta`
    ///   towards the side; for clarabel, whose optimum is accurate to about `1e-8` of the
    ///   domain's size and carries no certificate, when its radius is at most
    ///   `-(eta + 1e-7 size)`;
    /// - otherwise **uncertain**.
    pub(super) fn side_center(
        &self,
        node: &Node,
        (g, c0): (&[f64], f64),
        s: f64,
        eta: f64,
        map_error: MapError,
    ) -> Result<SideOutcome, Halt> {
        // s z >= 0  <=>  -s g.x <= s c0
        let side: Vec<f64> = g.iter().map(|v| -s * v).collect();
        self.solves.fetch_add(1, Ordering::Relaxed);
        let hint = node.witnesses.first().map(Vec::as_slice);
        let (outcome, bound, clarabel) = match lp::chebyshev_center_fast(
            &node.rows,
            Some((&side, s * c0)),
            self.domain,
            hint,
            eta,
            self.halting(),
        ) {
            Some((outcome, bound)) => (outcome, bound, false),
            None => {
                let mut rows = node.rows.clone();
                rows.push(&side, s * c0);
                (
                    chebyshev_center(&rows, self.domain, self.active_deadline()),
                    None,
                    true,
                )
            }
        };
        match outcome {
            ChebyshevOutcome::Ball { radius, center } => {
                let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
                let depth = (0..node.rows.len())
                    .map(|k| node.rows.slack(k, &center))
                    .fold(lp::domain_inradius(self.domain, &center), f64::min)
                    .min(s * (crate::linalg::dot(g, &center) + c0) / gnorm);
                if depth > self.eta_at(node, (g, c0), map_error, &center)
                    || (depth > 0.0 && self.certifies(node, s > 0.0, &center))
                {
                    Ok(SideOutcome::Witness(center))
                } else if let Some(b) = bound.filter(|b| b.value + b.weight * eta <= 0.0) {
                    Ok(SideOutcome::Empty(Some(b)))
                } else if clarabel && radius <= -(eta + CLARABEL_ACCURACY * self.size) {
                    Ok(SideOutcome::Empty(None))
                } else {
                    Ok(SideOutcome::Uncertain)
                }
            }
            ChebyshevOutcome::Infeasible => Ok(SideOutcome::Empty(bound)),
            ChebyshevOutcome::Interrupted => Err(Halt::Interrupted),
            ChebyshevOutcome::Failed(status) => Err(Halt::Failed(status)),
        }
    }
}

/// What one program says about a side of a hyperplane on a node.
pub(super) enum SideOutcome {
    /// A point deeper than the error margin inside the side: it has interior.
    Witness(Vec<f64>),
    /// Proven empty beyond the error margin (with the fast path's radius bound, for
    /// sharing, when there is one).
    Empty(Option<lp::RadiusBound>),
    /// Neither.
    Uncertain,
}

/// The accuracy of clarabel's Chebyshev radius, relative to the domain's size, that an
/// empty side must clear (ten times what it attains).
const CLARABEL_ACCURACY: f64 = 1e-7;

/// What [`Search::decide`] found for one neuron on a node.
enum NeuronDecision {
    Fixed(bool),
    /// The node has no region to give: proven empty, or uncertain (already counted).
    Drop,
    Split {
        positive: Vec<Vec<f64>>,
        negative: Vec<Vec<f64>>,
    },
    /// A program could not decide: the search stops there.
    Halted(Halt),
}

/// Why a program of the tree gave no answer.
pub(super) enum Halt {
    /// The time limit passed while it ran (the node is then bounded, not explored).
    Interrupted,
    /// The solver failed (the enumeration then reports an error: its count would not be
    /// exact).
    Failed(String),
}
