//! The region tree: a depth-first search that decides one neuron at a time (see the
//! module docs of [`super`] for the rules), splitting the top of the tree across cores.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use faer::Mat;
use num_bigint::BigUint;

use super::lp::{self, ChebyshevOutcome, chebyshev_center};
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

/// The affine maps `z_i = g_i . x + c_i` of one layer's neurons, `g_i` stored
/// contiguously (the columns of `G^T`).
pub(super) struct LayerMaps {
    pub(super) gt: Mat<f64>,
    pub(super) c: Vec<f64>,
}

impl LayerMaps {
    pub(super) fn new(g: faer::MatRef<'_, f64>, c: Vec<f64>) -> Self {
        Self {
            gt: g.transpose().to_owned(),
            c,
        }
    }

    pub(super) fn width(&self) -> usize {
        self.c.len()
    }

    /// `(g_i, c_i)`.
    pub(super) fn row(&self, i: usize) -> (&[f64], f64) {
        let g = self
            .gt
            .col(i)
            .try_as_col_major()
            .expect("owned column")
            .as_slice();
        (g, self.c[i])
    }
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
    pub(super) unverified: AtomicU64,
    pub(super) solves: AtomicU64,
    pub(super) nodes: AtomicU64,
    pub(super) bound_sum: Mutex<BigUint>,
    /// Leaves waiting for the check of their pattern (in batches, by matrix products).
    pub(super) pending: Mutex<Vec<(Vec<f64>, ActivationPattern)>>,
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
            deadline: self.deadline,
            flag: Some(&self.stop),
        }
    }

    pub(super) fn should_stop(&self) -> bool {
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
                NeuronDecision::Fixed(active) => {
                    node.bits.push(active);
                    node.index += 1;
                }
                NeuronDecision::Split { positive, negative } => {
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
                        pos.polygon = Some(Arc::new(polygon::clip(
                            &poly,
                            [neg_g[0], neg_g[1]],
                            c0 * unit,
                        )));
                        neg.polygon =
                            Some(Arc::new(polygon::clip(&poly, [g[0], g[1]], -c0 * unit)));
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
                NeuronDecision::Drop => {
                    self.degenerate.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                NeuronDecision::Halted(Halt::Interrupted) => {
                    // The time limit passed inside a program: this node's subtree is
                    // bounded, as every node still open when a limit is hit.
                    self.stop.store(true, Ordering::Relaxed);
                    self.bound_node(&node);
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
        if gnorm == 0.0 {
            return NeuronDecision::Fixed(c0 > 0.0);
        }
        let tol = self.options.tolerance * gnorm * self.size.max(f64::MIN_POSITIVE);
        let (lo, hi, magnitude) = self.domain.linear_range(g, c0);
        let margin = crate::stability::rounding_margin(g.len(), magnitude);
        if lo > margin {
            return NeuronDecision::Fixed(true);
        }
        if hi < -margin {
            return NeuronDecision::Fixed(false);
        }
        // 1b. Proven on the node's bounding box (P lies in it).
        if let Some((lo, hi)) = &node.bbox
            && let Some(fixed) = box_sign(g, c0, lo, hi)
        {
            return NeuronDecision::Fixed(fixed);
        }
        // 1c. Proven on the node's polygon (2-D inputs).
        if let Some(poly) = &node.polygon
            && let Some(fixed) = polygon_sign(g, c0, poly, self.size)
        {
            return NeuronDecision::Fixed(fixed);
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
            return NeuronDecision::Split { positive, negative };
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
                && let Some(fixed) = box_sign(g, c0, lo, hi)
            {
                return NeuronDecision::Fixed(fixed);
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
                let by_program = self
                    .side_programs
                    .as_ref()
                    .and_then(|domain| self.side_by_program(node, g, c0, gnorm, s, domain));
                by_program
                    .unwrap_or_else(|| self.side_center(node, g, c0, s))
                    .map(|(center, bound)| {
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
                        return NeuronDecision::Fixed(!side);
                    }
                    return match self.side_center(node, g, c0, -s).map(|(center, _)| center) {
                        Ok(Some(w)) => {
                            node.witnesses = vec![w];
                            NeuronDecision::Fixed(!side)
                        }
                        Ok(None) => NeuronDecision::Drop,
                        Err(e) => NeuronDecision::Halted(e),
                    };
                }
                Err(e) => return NeuronDecision::Halted(e),
            }
        }
        NeuronDecision::Split { positive, negative }
    }

    /// The Chebyshev centre of the node's polyhedron on side `s` of `z = g.x + c0`
    /// (`s z >= 0`), if that side's Chebyshev radius exceeds `tolerance * size`; with the
    /// fast path's radius bound when it decided.
    pub(super) fn side_center(
        &self,
        node: &Node,
        g: &[f64],
        c0: f64,
        s: f64,
    ) -> Result<(Option<Vec<f64>>, Option<lp::RadiusBound>), Halt> {
        let thin = self.options.tolerance * self.size;
        // s z >= 0  <=>  -s g.x <= s c0
        let side: Vec<f64> = g.iter().map(|v| -s * v).collect();
        self.solves.fetch_add(1, Ordering::Relaxed);
        let hint = node.witnesses.first().map(Vec::as_slice);
        let (outcome, bound) = lp::chebyshev_center_fast(
            &node.rows,
            Some((&side, s * c0)),
            self.domain,
            hint,
            thin,
            self.halting(),
        )
        .unwrap_or_else(|| {
            let mut rows = node.rows.clone();
            rows.push(&side, s * c0);
            (chebyshev_center(&rows, self.domain, self.deadline), None)
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
            ChebyshevOutcome::Interrupted => Err(Halt::Interrupted),
            ChebyshevOutcome::Failed(status) => Err(Halt::Failed(status)),
        }
    }

    pub(super) fn leaf(&self, node: &Node) {
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
            // In the row space the region is a cylinder over the reduced one: the same
            // distance to its boundary, from the lifted point.
            let interior_point = match self.lift {
                Some((_, row_space)) => row_space.lift(&witness),
                None => witness,
            };
            sink(RegionRecord {
                pattern,
                interior_point,
                inner_radius,
            });
        }
    }

    /// Checks leaves: the network's own pattern at each witness (one forward pass of
    /// matrix products for the batch) must be the leaf's; mismatches are counted in
    /// [`super::Enumeration::unverified`].
    pub(super) fn verify(&self, batch: Vec<(Vec<f64>, ActivationPattern)>) {
        if batch.is_empty() {
            return;
        }
        // In the row space, the witness `y` is checked as `c + Q y` in the original network.
        let (net, batch) = match self.lift {
            Some((original, row_space)) => (
                original,
                batch
                    .into_iter()
                    .map(|(y, pattern)| (row_space.lift(&y), pattern))
                    .collect(),
            ),
            None => (self.net, batch),
        };
        let d = batch[0].0.len();
        let x = Mat::from_fn(batch.len(), d, |i, j| batch[i].0[j]);
        let bad = match net.patterns_batch(x.as_ref(), faer::Par::Seq) {
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
    pub(super) fn next_layer_maps(&self, node: &Node) -> LayerMaps {
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
    pub(super) fn next_layer_maps_gathered(&self, node: &Node) -> LayerMaps {
        let width = node.maps.width();
        let start = node.bits.len() - width;
        let active: Vec<usize> = (0..width).filter(|&i| node.bits[start + i]).collect();
        let layer = &self.net.layers()[node.layer + 1];
        let w = layer.weight();
        let wa = Mat::from_fn(w.nrows(), active.len(), |i, k| w[(i, active[k])]);
        // G_next^T = G^T[:, A] W[:, A]^T, built column by column of G^T (contiguous).
        let gt = &node.maps.gt;
        let mut gt_a = Mat::<f64>::zeros(gt.nrows(), active.len());
        for (k, &a) in active.iter().enumerate() {
            gt_a.col_mut(k).copy_from(gt.col(a));
        }
        let mut out = Mat::<f64>::zeros(gt.nrows(), w.nrows());
        faer::linalg::matmul::matmul(
            out.as_mut(),
            faer::Accum::Replace,
            gt_a.as_ref(),
            wa.transpose(),
            1.0,
            faer::Par::Seq,
        );
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
        LayerMaps { gt: out, c }
    }

    /// By one product with the inactive columns zeroed (used for 2-D inputs).
    pub(super) fn next_layer_maps_masked(&self, node: &Node) -> LayerMaps {
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
}

/// What [`Search::decide`] found for one neuron on a node.
enum NeuronDecision {
    Fixed(bool),
    /// The node is thinner than the tolerance: not a region.
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

/// Leaves verified together.
const VERIFY_BATCH: usize = 256;
