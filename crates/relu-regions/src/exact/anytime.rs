//! The anytime bound: what the region tree does not explore, it bounds.
//!
//! On a node's polyhedron `P` the network equals the *sub-network* whose first layer is the
//! frozen map `(G, c)` of the node's layer followed by the later layers, so the local
//! bound of that sub-network over the domain (a superset of `P`; CROWN stability,
//! [`crate::bound::local_region_bound`]) bounds the regions of the node's subtree. The
//! frozen map is computed in f64: its proven error (`MapError`, at the domain's largest
//! `|x_j|`) widens every neuron's bounds before they decide its stability. With a
//! region or time limit the unexplored nodes are bounded this way; with
//! `exact_layers = k` every region of the first `k` layers is.

use std::sync::Arc;

use num_bigint::BigUint;

use super::tree::{Node, Search};
use crate::bound::analysis::local_region_bound_with_slack;
use crate::geometry::HalfSpaces;
use crate::network::Affine;
use crate::stability::{BoundPropagator, Method};

impl Search<'_> {
    /// Adds the local bound of the sub-network below `node` to the bound sum.
    pub(super) fn bound_node(&self, node: &Node) {
        if let Some(bound) = self.subtree_bound(node) {
            *self.bound_sum.lock().expect("lock") += bound;
        }
    }

    /// The local bound of the sub-network below `node` (`None` after recording an
    /// error).
    pub(super) fn subtree_bound(&self, node: &Node) -> Option<BigUint> {
        let first = Affine::new(node.maps.gt.transpose().to_owned(), node.maps.c.clone())
            .expect("consistent shapes");
        let bound = match self.net.subnetwork(first, node.layer) {
            Ok(sub) => {
                let p = BoundPropagator::new(&sub);
                // The frozen maps carry a rounding error ([`super::maps::MapError`]), at
                // most its value at the domain's largest `|x_j|`.
                let slack: Vec<f64> = node
                    .maps
                    .error
                    .iter()
                    .map(|e| e.at(self.reach_inf))
                    .collect();
                match local_region_bound_with_slack(&p, self.domain, Method::Crown, &slack) {
                    Ok(b) => b.local.0,
                    Err(e) => {
                        self.fail(e.to_string());
                        return None;
                    }
                }
            }
            Err(e) => {
                self.fail(e.to_string());
                return None;
            }
        };
        Some(bound)
    }

    /// The anytime bound inside a region of the first `k` layers: the local bound of the
    /// remaining layers, from the frozen map of layer `k`.
    pub(super) fn bound_node_after_layer(&self, node: &Node) {
        let maps = Arc::new(self.next_layer_maps(node));
        let sub = Node {
            layer: node.layer + 1,
            index: 0,
            bits: Vec::new(),
            rows: HalfSpaces::new(self.net.input_dim()),
            row_error: super::maps::MapError::default(),
            witnesses: Vec::new(),
            bbox: None,
            bbox_fresh: false,
            polygon: None,
            maps,
        };
        self.bound_node(&sub);
    }
}
