//! Empty sides shared between sibling subtrees.
//!
//! A program that proves a side of a neuron's hyperplane empty (its weak-duality bound on
//! the radius, widened by the rows' error margins, at most zero) yields a certificate: the
//! rows active at its optimum have nonnegative multipliers, so those rows alone bound
//! the radius
//! ([`super::lp::RadiusBound`]). When those rows are all among the rows two sibling
//! subtrees share (the rows before their split) and the layer's maps are the same, the
//! sibling explored second decides that neuron without a program. Serial subtrees share;
//! the parallel top of the tree does not. Counts are unchanged (tested against runs
//! without sharing).

/// A side of a neuron proven empty (with the error margins, `docs/math.md` §5.2) by a
/// radius bound ([`super::lp::RadiusBound`]) that rests on a node's first `rows_used` rows: it
/// holds on every node that shares those rows and the layer's maps (the neuron's
/// hyperplane), so a sibling subtree explored later decides that neuron without a program.
/// The maps are identified by address while an ancestor holds them (see
/// `explore_counted`).
#[derive(Debug, Clone, Copy)]
pub(super) struct EmptySide {
    pub(super) maps: usize,
    pub(super) neuron: usize,
    /// The positive side (`z > 0`) or the negative one.
    pub(super) side: bool,
    pub(super) rows_used: usize,
}

/// The [`EmptySide`]s that hold on a node, as a chain from the node's splits up to the
/// root.
pub(super) struct Known<'a> {
    pub(super) items: Vec<EmptySide>,
    pub(super) up: Option<&'a Known<'a>>,
}

impl Known<'_> {
    pub(super) fn contains(&self, maps: usize, neuron: usize, side: bool) -> bool {
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
