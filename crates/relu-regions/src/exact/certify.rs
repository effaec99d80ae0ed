//! Certification: the error margins a witness must clear, and the forward pass that
//! turns a leaf of the region tree into a counted region (or an uncertain one).

use std::sync::atomic::Ordering;

use faer::Mat;

use super::RegionRecord;
use super::maps::MapError;
use super::tree::{Node, Search};
use crate::domain::Domain;
use crate::network::Network;
use crate::pattern::ActivationPattern;

/// Witnesses of a leaf tried for its certification.
const CERTIFY_TRIES: usize = 3;

/// Leaves verified together.
const VERIFY_BATCH: usize = 256;

impl Search<'_> {
    /// The error margin of a neuron with map `(g, c0)` (error `error`, norm `gnorm`) on
    /// `node` over the whole domain, in input units: how far a point must lie beyond the
    /// computed hyperplane, and inside the computed rows, to be on that side of the true
    /// one and inside the true rows, whatever the rounding of the maps and of the
    /// evaluation. Empty sides must be proven beyond it.
    pub(super) fn eta(&self, node: &Node, error: MapError, gnorm: f64, magnitude: f64) -> f64 {
        let reach = self.node_reach(node);
        let side = (error.at(reach)
            + crate::stability::rounding_margin(self.domain.dim(), magnitude))
            / gnorm;
        side.max(node.row_error.at(reach)) + self.rounding
    }

    /// The largest `|x_j|` over the node: over its bounding box when it has one (which
    /// contains the node with a margin far above the rows' errors), else the domain's.
    pub(super) fn node_reach(&self, node: &Node) -> f64 {
        node.bbox.as_ref().map_or(self.reach_inf, |(lo, hi)| {
            lo.iter()
                .chain(hi)
                .fold(0.0_f64, |m, v| m.max(v.abs()))
                .min(self.reach_inf)
        })
    }

    /// Whether `y` is a point of the node's interior on side `active` of its current
    /// neuron, certified by the network's own forward pass up to the node's layer
    /// ([`Network::certified_signs`]): every decided neuron and this one get their sign
    /// with a margin above the pass's rounding bound, and `y` lies strictly inside the
    /// domain. A second way to accept a witness when the maps' error margins
    /// (`eta_at`), which bound the worst case over the domain, are wider than the side.
    pub(super) fn certifies(&self, node: &Node, active: bool, y: &[f64]) -> bool {
        if !strictly_inside(self.domain, y) {
            return false;
        }
        let norm_inf = y.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let first: Vec<f64> = self.first_error.iter().map(|e| e.at(norm_inf)).collect();
        let Ok(signs) = self.net.certified_signs(y, node.layer + 1, Some(&first)) else {
            return false;
        };
        let decided = node.bits.iter().copied().chain(std::iter::once(active));
        signs
            .iter()
            .flatten()
            .zip(decided)
            .all(|(sign, bit)| *sign == Some(bit))
    }

    /// The same margin at the point `x` (a witness must clear it there).
    pub(super) fn eta_at(
        &self,
        node: &Node,
        (g, c0): (&[f64], f64),
        error: MapError,
        x: &[f64],
    ) -> f64 {
        let (mut norm_inf, mut norm2, mut magnitude) = (0.0_f64, 0.0, c0.abs());
        for (gj, xj) in g.iter().zip(x) {
            norm_inf = norm_inf.max(xj.abs());
            norm2 += xj * xj;
            magnitude += (gj * xj).abs();
        }
        let gnorm = crate::linalg::dot(g, g).sqrt();
        let side =
            (error.at(norm_inf) + crate::stability::rounding_margin(x.len(), magnitude)) / gnorm;
        side.max(node.row_error.at(norm_inf))
            + crate::stability::rounding_margin(x.len(), 2.0 * norm2.sqrt())
    }

    pub(super) fn leaf(&self, node: &Node) {
        if self.stop_layer < self.relu_layers {
            self.regions.fetch_add(1, Ordering::Relaxed);
            self.bound_node_after_layer(node);
            return;
        }
        let pattern = ActivationPattern::from_signs(node.bits.iter().copied());
        // Counted now (for the limits and the progress), and taken back if no witness of
        // the leaf can be certified.
        let n = self.regions.fetch_add(1, Ordering::Relaxed) + 1;
        let witnesses: Vec<Vec<f64>> = node.witnesses.iter().take(CERTIFY_TRIES).cloned().collect();
        let mut pending = self.pending.lock().expect("lock");
        pending.push((witnesses, pattern));
        if pending.len() >= VERIFY_BATCH {
            let batch = std::mem::take(&mut *pending);
            drop(pending);
            self.verify(batch);
        }
        if let Some(progress) = self.progress
            && n % 256 == 0
        {
            progress(n);
        }
    }

    /// Certifies leaves: at one of its witnesses (tried in turn), the network's own
    /// forward pass must give every neuron the leaf's sign with a margin above its
    /// rounding bound ([`Network::certified_patterns_batch`]), and the point must lie
    /// strictly inside the domain. A certified leaf is a region: reported to the sink,
    /// with its affine map when asked. A leaf with no certified witness is taken back
    /// from `regions` and counted as uncertain (it may or may not be a region).
    pub(super) fn verify(&self, mut batch: Vec<(Vec<Vec<f64>>, ActivationPattern)>) {
        // In the row space, a witness `y` is the point `c + Q y` of the original network.
        let (net, domain) = match self.lift {
            Some((original, _)) => (original, self.original_domain),
            None => (self.net, self.domain),
        };
        let lift = |y: &Vec<f64>| match self.lift {
            Some((_, row_space)) => row_space.lift(y),
            None => y.clone(),
        };
        for attempt in 0..CERTIFY_TRIES {
            batch.retain(|(witnesses, _)| attempt < witnesses.len() || attempt == 0);
            if batch.is_empty() {
                return;
            }
            let points: Vec<Option<Vec<f64>>> = batch
                .iter()
                .map(|(witnesses, _)| witnesses.get(attempt).map(lift))
                .collect();
            let d = domain.dim();
            let x = Mat::from_fn(batch.len(), d, |i, j| {
                points[i].as_ref().map_or(domain.center()[j], |p| p[j])
            });
            let certified = net
                .certified_patterns_batch(x.as_ref(), None, faer::Par::Seq)
                .unwrap_or_else(|_| vec![None; batch.len()]);
            let mut rest = Vec::new();
            for ((leaf, point), cert) in batch.into_iter().zip(points).zip(certified) {
                let ok = point.as_ref().is_some_and(|p| strictly_inside(domain, p))
                    && cert.as_ref() == Some(&leaf.1);
                match (ok, point) {
                    (true, Some(p)) => self.certified(net, leaf.1, p),
                    _ if attempt + 1 < leaf.0.len() => rest.push(leaf),
                    _ => {
                        self.regions.fetch_sub(1, Ordering::Relaxed);
                        self.unverified.fetch_add(1, Ordering::Relaxed);
                        self.uncertain.fetch_add(1, Ordering::Relaxed);
                        *self.uncertain_sum.lock().expect("lock") += 1u32;
                    }
                }
            }
            batch = rest;
        }
    }

    /// A certified region: its affine map (when asked) and the sink.
    fn certified(&self, net: &Network, pattern: ActivationPattern, point: Vec<f64>) {
        if self.options.affine_maps
            && let Ok(map) = net.output_map_of(&pattern)
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
            let inner_radius = crate::boundary_distance(net, &point, crate::Norm::L2)
                .map(|d| d.distance)
                .unwrap_or(0.0);
            sink(RegionRecord {
                pattern,
                interior_point: point,
                inner_radius,
            });
        }
    }
}

/// Whether `x` lies in the open domain with a margin above the rounding of the test.
pub(super) fn strictly_inside(domain: &Domain, x: &[f64]) -> bool {
    match domain {
        Domain::Box(b) => x
            .iter()
            .zip(b.lo.iter().zip(&b.hi))
            .all(|(v, (l, h))| l < v && v < h),
        Domain::Ball(b) if b.norm == crate::Norm::LInf => {
            // |fl(v - c)| is within a relative unit roundoff of |v - c|.
            x.iter()
                .zip(&b.center)
                .all(|(v, c)| (v - c).abs() * (1.0 + 4.0 * f64::EPSILON) < b.radius)
        }
        Domain::Ball(b) => {
            let norm = x
                .iter()
                .zip(&b.center)
                .map(|(v, c)| (v - c) * (v - c))
                .sum::<f64>()
                .sqrt();
            norm + crate::stability::rounding_margin(x.len(), norm) < b.radius
        }
    }
}
