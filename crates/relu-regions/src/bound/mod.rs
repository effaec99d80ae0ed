//! Proven upper bounds on the number of activation regions, globally and in a domain.
//!
//! - [`combinatorics`]: exact binomials and partial sums, and [`RegionCount`], the exact
//!   big-integer count every bound returns (with `log2` for display).
//! - [`global`]: bounds from the architecture alone: Serra et al. (2018) Theorem 1
//!   ([`serra_bound`]) and Montúfar et al. (2017) ([`montufar_bound`]).
//! - [`local`]: bounds for a convex domain `K` from each layer's stably active and
//!   unstable counts over `K` ([`LayerStability`]): the local Serra DP ([`local_bound`]),
//!   its product relaxation, Serra on the pruned network, and, for comparison only, the
//!   unsound naive substitution [`naive_unsound_serra_bound`].
//!
//! Every function's documentation states its formula and why it is a bound
//! (docs/math.md §2 and §3).

pub mod analysis;
pub mod combinatorics;
pub mod global;
pub mod local;

pub use analysis::{LocalRegionBound, certified_radius, local_region_bound};
pub use combinatorics::{
    BinomialRows, RegionCount, binomial, binomial_row, binomial_u128, log2_biguint,
    partial_binomial_sum,
};
pub use global::{montufar_bound, serra_bound};
pub use local::{
    LayerStability, local_bound, local_product_bound, naive_unsound_serra_bound, pruned_serra_bound,
};
