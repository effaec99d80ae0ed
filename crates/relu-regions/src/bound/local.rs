//! The local Serra bound: how many activation regions can meet a convex domain `K`, given
//! which neurons are stable on `K` (`docs/math.md` §3).
//!
//! # Setting
//!
//! `K` is a convex set with nonempty interior in its affine hull, of dimension `d_0` (the
//! input dimension `n_0` for a ball or a box of the input space; smaller for a line or a
//! plane slice). Sound pre-activation bounds over `K` (interval, CROWN, LP, ...) split each
//! ReLU layer `l` into
//! - `a_l` *stably active* neurons (`lo > 0` on `K`),
//! - `u_l` *unstable* neurons (everything not proven stable; a tie `lo = 0` is unstable),
//! - stably inactive neurons (`hi <= 0`), which play no role below.
//!
//! The quantity bounded is `N_act(K)`, the number of activation patterns whose region meets
//! `K` in a set with nonempty interior (relative to the affine hull of `K`). Linear regions
//! of the function, and connected pieces of `K ∩ piece`, are at most that many.
//!
//! # The bound
//!
//! ```text
//! R(L+1, d) = 1
//! R(l, d)   = sum_{j=0}^{min(u_l, d)} C(u_l, j) · R(l+1, min(d, a_l + u_l - j))
//! N_act(K) <= R(1, d_0)
//! ```
//!
//! equivalently `sum_{(j_1..j_L) in J_loc} prod_l C(u_l, j_l)` with
//! `J_loc = {0 <= j_l <= min(d_0, a_1+u_1-j_1, ..., a_{l-1}+u_{l-1}-j_{l-1}, u_l)}`.
//!
//! **Do not** substitute `n_l -> u_l` in Serra's formula (that drops the dimension the stably
//! active neurons carry and is not a bound: [`naive_unsound_serra_bound`]).
//!
//! # Proof (docs/math.md §3.3)
//!
//! Induction over layers. Take a region `S` of the first `l - 1` layers (a fixed pattern)
//! with `S ∩ K` open in the hull of `K` and nonempty, on which `h_{l-1}` is affine with
//! linear part `M_S` of rank `dim(S) <= d` (`M_∅` is the hull's parametrisation, rank `d_0`).
//! 1. On `S`, each `z_{l,i}` is affine with linear part a row of `W_l M_S`. Stable neurons
//!    keep one sign on `K ⊇ S ∩ K`, so only the `u_l` unstable ones cut `S ∩ K`, each along
//!    one hyperplane.
//! 2. The pieces are convex. At most `C(u_l, k)` of them have exactly `k` active unstable
//!    neurons, and in all there are at most `sum_{j <= min(u_l, d)} C(u_l, j)` (Serra's
//!    Lemma 2, i.e. Zaslavsky, restricted to a convex set: restriction cannot increase the
//!    number of cells). Both caps are partial sums of one sequence, so the number of pieces
//!    with at least `t` active unstable neurons is at most
//!    `sum_{j=0}^{min(u_l - t, d)} C(u_l, j)`.
//! 3. A piece with `k` active unstable neurons has active set `A_l ∪ (k of U_l)`, so by
//!    Serra's Lemma 4 its dimension is at most `min(d, a_l + k)`.
//! 4. `R(l+1, ·)` is nondecreasing in `d`. Sort the pieces by `k` descending and the slots
//!    (`C(u_l, j)` slots of value `R(l+1, min(d, a_l + u_l - j))`, `j = 0..min(u_l, d)`) by
//!    `j` ascending. By step 2, for every `t` there are at most as many pieces with `k >= t`
//!    as slots with `u_l - j >= t`, so the `i`-th piece goes to a slot with `u_l - j >= k`,
//!    whose value bounds the piece's by induction and monotonicity. Summing gives `R(l, d)`. ∎
//!
//! # Refinements (sound, [`LayerStability::rank_active`], [`LayerStability::rank_unstable`])
//!
//! - `rank_active_l = rank(W_l[A_l])`: step 3 improves to
//!   `dim <= rank(W_l[A_l ∪ K] M_S) <= rank(W_l[A_l]) + k`, so `a_l` becomes
//!   `rank_active_l` in the carried dimension.
//! - `rank_unstable_l = rank(W_l[U_l])`: in step 2 the unstable hyperplanes restricted to
//!   `S` have normals of rank `<= rank(W_l[U_l])`, so the total cap is
//!   `sum_{j <= min(u_l, d, rank_unstable_l)} C(u_l, j)`; step 4 goes through with this cap
//!   in place of `min(u_l, d)` (still a partial sum of the same sequence, still
//!   nondecreasing in `d`).
//!
//! A value larger than the count it refines (`rank_active > active`) is clamped to the count.
//!
//! # Leaky ReLU ([`LayerStability::leaky`])
//!
//! A leaky neuron (negative slope `α ≠ 0`) passes `α z` when inactive, so on a piece it
//! carries dimension whatever its sign. With `λ_l` the neurons of layer `l` that are not
//! stably active and are leaky (stably inactive or unstable), the neurons passing a
//! nonzero multiple of their map on a piece with `k` active unstable neurons are among
//! `A_l ∪ (k of U_l) ∪ Λ_l`, so step 3 becomes `dim <= min(d, a'_l + k + λ_l)`: the carried
//! dimension is `a'_l + λ_l + u_l - j`, the rest of the proof unchanged (the hyperplanes
//! are still the `u_l` unstable `z = 0`). For ReLU `λ_l = 0`.

use num_bigint::BigUint;
use num_traits::{One, Zero};

use super::combinatorics::{BinomialRows, RegionCount};

/// The stability of one ReLU layer over a domain `K`: the input of the local bounds.
///
/// Stably inactive neurons need no field: they neither cut `K` nor carry dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LayerStability {
    /// `a_l`: neurons proven active on all of `K` (`lo > 0`).
    pub active: usize,
    /// `u_l`: neurons not proven stable on `K` (their hyperplane may cut `K`).
    pub unstable: usize,
    /// Optional `rank(W_l[A_l])`, the rank of the stably active rows of the layer's weight
    /// matrix; replaces `a_l` in the carried dimension `a_l + k`.
    pub rank_active: Option<usize>,
    /// Optional `rank(W_l[U_l])`, the rank of the unstable rows; caps the number `j` of
    /// hyperplanes that can meet in a cell vertex, `j <= min(u_l, d, rank_unstable_l)`.
    pub rank_unstable: Option<usize>,
    /// `λ_l`: neurons not stably active whose inactive side passes a nonzero multiple of
    /// their map (leaky ReLU, `α ≠ 0`); they carry dimension whatever their sign. Zero
    /// for ReLU.
    pub leaky: usize,
}

impl LayerStability {
    /// `a` stably active and `u` unstable neurons, no rank information.
    pub fn new(active: usize, unstable: usize) -> Self {
        Self {
            active,
            unstable,
            rank_active: None,
            rank_unstable: None,
            leaky: 0,
        }
    }

    /// With `λ_l` leaky neurons that are not stably active.
    pub fn with_leaky(mut self, leaky: usize) -> Self {
        self.leaky = leaky;
        self
    }

    /// With `rank(W_l[A_l])` known.
    pub fn with_rank_active(mut self, rank: usize) -> Self {
        self.rank_active = Some(rank);
        self
    }

    /// With `rank(W_l[U_l])` known.
    pub fn with_rank_unstable(mut self, rank: usize) -> Self {
        self.rank_unstable = Some(rank);
        self
    }

    /// The dimension carried whatever the unstable neurons do: `min(a_l, rank_active_l)`
    /// from the stably active neurons, plus `λ_l` leaky ones.
    pub fn effective_active(&self) -> usize {
        self.rank_active
            .map_or(self.active, |r| r.min(self.active))
            .saturating_add(self.leaky)
    }

    /// The cap on `j` from the layer alone: `min(u_l, rank_unstable_l)`.
    pub fn unstable_cap(&self) -> usize {
        self.rank_unstable
            .map_or(self.unstable, |r| r.min(self.unstable))
    }

    /// `a_l + u_l`: the width of the layer once the stably inactive neurons are pruned.
    pub fn pruned_width(&self) -> usize {
        self.active.saturating_add(self.unstable)
    }
}

/// One layer of the generic dimension DP shared by every Serra-type bound here:
/// `R(l, d) = sum_{j=0}^{min(cap, d)} C(cut, j) R(l+1, min(d, carry + cut - j))`.
///
/// Serra's global theorem is `cut = n_l, carry = 0, cap = n_l`; the local bound is
/// `cut = u_l, carry = a_l (or rank_active_l), cap = min(u_l, rank_unstable_l)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DpLayer {
    /// Hyperplanes that may cut (`u_l`).
    pub cut: usize,
    /// Dimension carried by neurons that are always on (`a_l`).
    pub carry: usize,
    /// Cap on `j` independent of `d`; at most `cut`.
    pub cap: usize,
}

impl DpLayer {
    fn local(layer: &LayerStability) -> Self {
        Self {
            cut: layer.unstable,
            carry: layer.effective_active(),
            cap: layer.unstable_cap(),
        }
    }

    /// Serra's layer of `width` hyperplanes, `leaky` of whose neurons carry dimension
    /// when inactive too (`0` for ReLU).
    pub(super) fn serra(width: usize, leaky: usize) -> Self {
        Self {
            cut: width,
            carry: leaky,
            cap: width,
        }
    }

    /// Largest carried dimension: `carry + cut` (`j = 0`).
    fn width(&self) -> usize {
        self.carry.saturating_add(self.cut)
    }
}

/// Whether the DP equals `2^{sum cut_l}`: every reachable state allows every `j`.
///
/// The smallest carried dimension reachable at layer `l` is
/// `D_l = min(d_0, carry_1, ..., carry_{l-1})` (take `j_m = cut_m` everywhere). The DP
/// equals `prod_l 2^{cut_l}` iff `min(cap_l, D_l) = cut_l` for every `l`: then the state
/// `D_l` already sums the whole row `C(cut_l, ·)`, and `R` is nondecreasing in `d` and at
/// most `2^{sum_{m >= l} cut_m}`; if it fails at a first layer `l`, the path
/// `j_1 = cut_1, ..., j_{l-1} = cut_{l-1}` (coefficient 1) reaches `D_l` and loses the
/// terms `j > min(cap_l, D_l)` there.
pub(super) fn dp_is_full(dim: usize, layers: &[DpLayer]) -> bool {
    let mut reach_min = dim;
    for layer in layers {
        if layer.cap.min(reach_min) < layer.cut {
            return false;
        }
        reach_min = reach_min.min(layer.carry);
    }
    true
}

/// `R(1, dim)` of the generic DP (see [`DpLayer`]), exactly.
///
/// Cost: `O(sum_l (cut_l + number of states_l))` big-integer multiply-adds, where the states
/// of layer `l` are the carried dimensions `d` that are both reachable and distinguishable:
/// - `R(l, d) = R(l, min(d, sat_l))` with `sat_{L+1} = 0`,
///   `sat_l = max(cap_l, min(carry_l + cut_l, sat_{l+1}))`: beyond `sat_l` neither the cap on
///   `j` nor the carried dimension that later layers can use depends on `d`;
/// - from states `[lo_l, hi_l]` the next layer reaches
///   `[min(lo_l, carry_l + cut_l - min(cap_l, hi_l)), min(hi_l, carry_l + cut_l)]`.
///
/// Within one layer the sum splits at `j = n - d` (`n = carry + cut`): for `j <= n - d` the
/// carried dimension is `d` itself, for larger `j` it is `n - j`, independent of `d`. So
/// `R(l, d) = R(l+1, d) B(min(c(d), n - d)) + sum_{j = n-d+1}^{c(d)} C(cut, j) R(l+1, n - j)`
/// with `c(d) = min(cap, d)` and `B` the partial sums of the binomial row; the second sum is
/// a difference of prefix sums, computed once per layer.
///
/// When [`dp_is_full`] holds and `shortcut` is set, returns `2^{sum cut_l}` at once.
pub(super) fn dimension_dp(dim: usize, layers: &[DpLayer], shortcut: bool) -> BigUint {
    debug_assert!(layers.iter().all(|l| l.cap <= l.cut));
    let depth = layers.len();
    if shortcut && dp_is_full(dim, layers) {
        let total: usize = layers.iter().map(|l| l.cut).sum();
        return BigUint::one() << total;
    }
    // Saturation points, backwards.
    let mut sat = vec![0usize; depth + 1];
    for l in (0..depth).rev() {
        sat[l] = layers[l].cap.max(layers[l].width().min(sat[l + 1]));
    }
    // Reachable (clamped) carried dimensions, forwards.
    let mut lo = vec![0usize; depth + 1];
    let mut hi = vec![0usize; depth + 1];
    lo[0] = dim.min(sat[0]);
    hi[0] = lo[0];
    for l in 0..depth {
        let layer = &layers[l];
        let n = layer.width();
        lo[l + 1] = lo[l].min(n - layer.cap.min(hi[l])).min(sat[l + 1]);
        hi[l + 1] = hi[l].min(n).min(sat[l + 1]);
    }
    // Values R(l, d) for d in [lo_l, hi_l], backwards; R(L+1, ·) = 1.
    let mut rows = BinomialRows::new();
    let mut next: Vec<BigUint> = vec![BigUint::one(); hi[depth] - lo[depth] + 1];
    for l in (0..depth).rev() {
        let layer = &layers[l];
        let n = layer.width();
        let (row, prefix) = rows.row_and_prefix(layer.cut);
        let (lo_next, sat_next) = (lo[l + 1], sat[l + 1]);
        let r_next = |x: usize| &next[x.min(sat_next) - lo_next];
        let c = |d: usize| layer.cap.min(d);
        // Prefix sums of C(cut, j) R(l+1, n - j) over j in [j_lo, j_hi]: the j with
        // n - j < d for some state d <= hi_l.
        let j_lo = n.saturating_add(1).saturating_sub(hi[l]);
        let j_hi = c(hi[l]);
        let mut tail_prefix = Vec::with_capacity((j_hi + 1).saturating_sub(j_lo));
        let mut acc = BigUint::zero();
        for j in j_lo..=j_hi {
            acc += &row[j] * r_next(n - j);
            tail_prefix.push(acc.clone());
        }
        let mut table = Vec::with_capacity(hi[l] - lo[l] + 1);
        for d in lo[l]..=hi[l] {
            let cd = c(d);
            let mut r = BigUint::zero();
            if d <= n {
                r += r_next(d) * &prefix[cd.min(n - d)];
            }
            let s = n.saturating_add(1).saturating_sub(d);
            if s <= cd {
                r += &tail_prefix[cd - j_lo];
                if s > j_lo {
                    r -= &tail_prefix[s - 1 - j_lo];
                }
            }
            table.push(r);
        }
        next = table;
    }
    debug_assert_eq!(next.len(), 1);
    next.swap_remove(0)
}

/// The local Serra bound on the number of activation regions meeting `K` (docs/math.md §3.2).
///
/// `input_dim` is `d_0`, the dimension of the affine hull of `K` (the network's input
/// dimension for a ball or box); `layers[l]` is layer `l + 1`'s stability over `K`.
///
/// ```text
/// R(L+1, d) = 1
/// R(l, d)   = sum_{j=0}^{min(u_l, d, ru_l)} C(u_l, j) · R(l+1, min(d, a'_l + u_l - j))
/// bound     = R(1, d_0)
/// ```
///
/// with `a'_l = min(a_l, rank_active_l)` and `ru_l = rank_unstable_l` (`+inf` when absent).
/// Soundness: the module documentation gives the proof (Zaslavsky on the unstable
/// hyperplanes within each region, Serra's Lemma 4 for the carried dimension with the stably
/// active neurons counted, and a sorted matching of sub-regions to slots).
///
/// Properties: `u = n, a = 0` is Serra's global theorem ([`super::global::serra_bound`]);
/// `u = 0` gives 1; one layer gives `sum_{j <= min(u_1, d_0)} C(u_1, j)`; nondecreasing in
/// `d_0` and in every `u_l`; at most [`local_product_bound`] and [`pruned_serra_bound`].
/// It equals `2^{sum_l u_l}` exactly when `min(u_l, ru_l, d_0, a'_1, ..., a'_{l-1}) = u_l`
/// for every `l`; that case is returned without running the DP.
///
/// Cost: `O(sum_l (u_l + states_l))` big-integer operations with at most
/// `min(d_0, max_l(a_l + u_l)) + 1` states per layer. Measured in release on one core:
/// about 45 us for `d_0 = 784` and six layers of `(a, u) = (100, 156)`, about 0.2 ms for six
/// layers of `u = 256`.
pub fn local_bound(input_dim: usize, layers: &[LayerStability]) -> RegionCount {
    let dp: Vec<DpLayer> = layers.iter().map(DpLayer::local).collect();
    RegionCount(dimension_dp(input_dim, &dp, true))
}

/// The Montúfar-style product relaxation of [`local_bound`] (docs/math.md §3.5): sound, looser,
/// and a product of one-layer terms.
///
/// ```text
/// prod_l sum_{j=0}^{m_l} C(u_l, j),
/// m_l = min(d_0, a'_1 + u_1, ..., a'_{l-1} + u_{l-1}, u_l, ru_l)
/// ```
///
/// (`a'_l`, `ru_l` as in [`local_bound`]; with no rank information this is
/// `min(d_0, a_1+u_1, ..., a_{l-1}+u_{l-1}, u_l)`.)
///
/// Proof that it bounds `R(1, d_0)`: `R(l+1, ·)` is nondecreasing and every carried
/// dimension `min(d, a'_l + u_l - j)` is at most `min(d, a'_l + u_l)`, so
/// `R(l, d) <= (sum_{j <= min(u_l, ru_l, d)} C(u_l, j)) R(l+1, min(d, a'_l + u_l))`; unroll
/// from `d = d_0`.
pub fn local_product_bound(input_dim: usize, layers: &[LayerStability]) -> RegionCount {
    let mut rows = BinomialRows::new();
    let mut dim = input_dim;
    let mut product = BigUint::one();
    for layer in layers {
        let m = layer.unstable_cap().min(dim);
        product *= rows.partial_sum(layer.unstable, m);
        dim = dim.min(layer.effective_active().saturating_add(layer.unstable));
    }
    RegionCount(product)
}

/// Serra's Theorem 1 for the network with the stably inactive neurons pruned:
/// `n_l -> a_l + u_l` (docs/math.md §3.5). Sound, looser than [`local_bound`].
///
/// ```text
/// R(L+1, d) = 1
/// R(l, d)   = sum_{j=0}^{min(a_l + u_l, d)} C(a_l + u_l, j) · R(l+1, min(d, a_l + u_l - j))
/// ```
///
/// Proof: on `K` the stably inactive neurons output 0, so the network restricted to `K`
/// agrees with the pruned network (same activation patterns of the remaining neurons), and
/// Serra's global theorem bounds the pruned network's regions in the whole input space.
/// With leaky neurons the stably inactive ones pass `α z`, so nothing is pruned; instead
/// the argument of the module documentation applies with all `a_l + u_l` neurons cutting
/// (a superset of the hyperplanes that can cut `K`) and the `λ_l` leaky ones carried.
/// The rank fields of `layers` are ignored. It dominates [`local_bound`] term by term:
/// `C(u, j) <= C(a + u, j)` over a smaller `j` range, with the same carried dimensions.
pub fn pruned_serra_bound(input_dim: usize, layers: &[LayerStability]) -> RegionCount {
    let dp: Vec<DpLayer> = layers
        .iter()
        .map(|l| DpLayer::serra(l.pruned_width(), l.leaky))
        .collect();
    RegionCount(dimension_dp(input_dim, &dp, true))
}

/// **NOT an upper bound.** Serra's formula with every `n_l` replaced by the unstable count
/// `u_l`, including the carried dimensions `n_l - j_l -> u_l - j_l`:
///
/// ```text
/// R(l, d) = sum_{j=0}^{min(u_l, d)} C(u_l, j) · R(l+1, min(d, u_l - j))
/// ```
///
/// It forgets that stably active neurons carry dimension to the next layer, and it is
/// violated in practice: docs/math.md §3.6 builds a 2-D network (`a = (20, 0)`,
/// `u = (1, 8)`) with 74 activation regions in the unit disc where this formula gives 10
/// (the sound [`local_bound`] gives 74, attained). In numerical checks on random 2-D
/// networks it was exceeded in 21 of 300 cases (§3.6). It exists only to compare with
/// literature that may have used it; never report it as a bound. The rank fields of
/// `layers` are ignored.
pub fn naive_unsound_serra_bound(input_dim: usize, layers: &[LayerStability]) -> RegionCount {
    let dp: Vec<DpLayer> = layers
        .iter()
        .map(|l| DpLayer::serra(l.unstable, 0))
        .collect();
    RegionCount(dimension_dp(input_dim, &dp, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bound::combinatorics::{binomial, partial_binomial_sum};
    use crate::bound::global::serra_bound;
    use num_traits::ToPrimitive;
    use rand::{RngExt, SeedableRng, rngs::StdRng};
    use std::collections::HashMap;

    fn layers(a: &[usize], u: &[usize]) -> Vec<LayerStability> {
        a.iter()
            .zip(u)
            .map(|(&a, &u)| LayerStability::new(a, u))
            .collect()
    }

    fn big(v: u64) -> BigUint {
        BigUint::from(v)
    }

    /// The textbook recursion, with no clamping, no shortcut and no prefix sums (memoised on
    /// `(layer, d)` only, so that it stays polynomial).
    fn reference_dp(d: usize, layers: &[LayerStability]) -> BigUint {
        fn go(
            l: usize,
            d: usize,
            layers: &[LayerStability],
            memo: &mut HashMap<(usize, usize), BigUint>,
        ) -> BigUint {
            if l == layers.len() {
                return BigUint::one();
            }
            if let Some(v) = memo.get(&(l, d)) {
                return v.clone();
            }
            let layer = &layers[l];
            let (u, a) = (layer.unstable, layer.effective_active());
            let cap = layer.unstable_cap().min(d);
            let v: BigUint = (0..=cap)
                .map(|j| binomial(u, j) * go(l + 1, d.min(a + u - j), layers, memo))
                .sum();
            memo.insert((l, d), v.clone());
            v
        }
        go(0, d, layers, &mut HashMap::new())
    }

    /// `sum over J_loc of prod_l C(u_l, j_l)`, enumerating every tuple
    /// `(j_1..j_L) in [0, u_1] x ... x [0, u_L]` and testing membership in
    /// `J_loc = {j_l <= min(d_0, a'_1+u_1-j_1, ..., a'_{l-1}+u_{l-1}-j_{l-1}, u_l, ru_l)}`.
    fn brute_force_j_loc(d0: usize, layers: &[LayerStability]) -> BigUint {
        let depth = layers.len();
        let mut j = vec![0usize; depth];
        let mut total = BigUint::zero();
        loop {
            let mut member = true;
            for l in 0..depth {
                let mut cap = d0.min(layers[l].unstable_cap());
                for m in 0..l {
                    cap = cap.min(layers[m].effective_active() + layers[m].unstable - j[m]);
                }
                if j[l] > cap {
                    member = false;
                    break;
                }
            }
            if member {
                total += (0..depth)
                    .map(|l| binomial(layers[l].unstable, j[l]))
                    .product::<BigUint>();
            }
            // Odometer increment.
            let mut l = 0;
            loop {
                if l == depth {
                    return total;
                }
                if j[l] < layers[l].unstable {
                    j[l] += 1;
                    break;
                }
                j[l] = 0;
                l += 1;
            }
        }
    }

    fn random_layers(
        rng: &mut StdRng,
        depth: usize,
        max: usize,
        ranks: bool,
    ) -> Vec<LayerStability> {
        (0..depth)
            .map(|_| {
                let mut layer =
                    LayerStability::new(rng.random_range(0..=max), rng.random_range(0..=max));
                if ranks && rng.random_range(0..2) == 0 {
                    layer.rank_active = Some(rng.random_range(0..=max + 1));
                }
                if ranks && rng.random_range(0..2) == 0 {
                    layer.rank_unstable = Some(rng.random_range(0..=max + 1));
                }
                layer
            })
            .collect()
    }

    #[test]
    fn bound_local_test_vectors_of_math_md() {
        // docs/math.md §3.6 and §3.7.
        assert_eq!(local_bound(2, &layers(&[20, 0], &[1, 8])).0, big(74));
        assert_eq!(
            naive_unsound_serra_bound(2, &layers(&[20, 0], &[1, 8])).0,
            big(10)
        );
        assert_eq!(serra_bound(2, &[21, 8]).0, big(8584));
        assert_eq!(
            pruned_serra_bound(2, &layers(&[20, 0], &[1, 8])).0,
            big(8584)
        );
        assert_eq!(local_bound(2, &layers(&[3, 0], &[2, 4])).0, big(44));
        assert_eq!(local_bound(2, &layers(&[0, 0, 0], &[3, 3, 3])).0, big(208));
        assert_eq!(local_bound(784, &layers(&[5, 7], &[5, 3])).0, big(256));
        // The same without the shortcut.
        let dp = |d0, ls: &[LayerStability]| {
            let dp: Vec<DpLayer> = ls.iter().map(DpLayer::local).collect();
            dimension_dp(d0, &dp, false)
        };
        assert_eq!(dp(784, &layers(&[5, 7], &[5, 3])), big(256));
        assert_eq!(dp(2, &layers(&[20, 0], &[1, 8])), big(74));
        // The observed 49 regions exceed the naive value and respect the local bound.
        assert!(big(49) > naive_unsound_serra_bound(2, &layers(&[20, 0], &[1, 8])).0);
        assert!(big(49) <= local_bound(2, &layers(&[20, 0], &[1, 8])).0);
        // Product relaxation on the same example: layer 1 sum_{j<=1} C(1,j) = 2, layer 2
        // sum_{j <= min(2, 21, 8)} C(8, j) = 37.
        assert_eq!(
            local_product_bound(2, &layers(&[20, 0], &[1, 8])).0,
            big(74)
        );
        // Edge cases: no layer, zero input dimension, a dead layer.
        assert_eq!(local_bound(5, &[]).0, big(1));
        assert_eq!(local_bound(0, &layers(&[3], &[4])).0, big(1));
        assert_eq!(local_bound(3, &layers(&[0, 5], &[0, 5])).0, big(1));
    }

    #[test]
    fn bound_local_dp_equals_brute_force_enumeration_of_j_loc() {
        let mut rng = StdRng::seed_from_u64(2018);
        for case in 0..600 {
            let depth = rng.random_range(1..=3);
            let d0 = rng.random_range(0..=4);
            let ls = random_layers(&mut rng, depth, 6, case % 2 == 1);
            let brute = brute_force_j_loc(d0, &ls);
            assert_eq!(local_bound(d0, &ls).0, brute, "d0 = {d0}, {ls:?}");
            assert_eq!(reference_dp(d0, &ls), brute, "d0 = {d0}, {ls:?}");
        }
    }

    #[test]
    fn bound_local_fast_dp_equals_reference_recursion_on_larger_cases() {
        let mut rng = StdRng::seed_from_u64(11);
        for case in 0..300 {
            let depth = rng.random_range(1..=5);
            let d0 = rng.random_range(0..=60);
            let ls = random_layers(&mut rng, depth, 25, case % 3 == 0);
            let want = reference_dp(d0, &ls);
            let dp: Vec<DpLayer> = ls.iter().map(DpLayer::local).collect();
            assert_eq!(dimension_dp(d0, &dp, false), want, "d0 = {d0}, {ls:?}");
            assert_eq!(local_bound(d0, &ls).0, want, "d0 = {d0}, {ls:?}");
        }
    }

    #[test]
    fn bound_local_sanity_properties() {
        let mut rng = StdRng::seed_from_u64(6);
        for case in 0..400 {
            let depth = rng.random_range(1..=4);
            let d0 = rng.random_range(0..=12);
            let ls = random_layers(&mut rng, depth, 10, case % 2 == 0);
            let bound = local_bound(d0, &ls);

            // u = n, a = 0 recovers Serra's global theorem.
            let widths: Vec<usize> = ls.iter().map(|l| l.unstable).collect();
            let serra_like = layers(&vec![0; depth], &widths);
            assert_eq!(local_bound(d0, &serra_like), serra_bound(d0, &widths));

            // u = 0 gives one region.
            let stable: Vec<LayerStability> = ls
                .iter()
                .map(|l| LayerStability { unstable: 0, ..*l })
                .collect();
            assert_eq!(local_bound(d0, &stable).0, big(1));

            // One layer: Zaslavsky on the unstable hyperplanes.
            let first = LayerStability::new(ls[0].active, ls[0].unstable);
            assert_eq!(
                local_bound(d0, &[first]).0,
                partial_binomial_sum(first.unstable, d0)
            );

            // Monotone in d_0, in each u_l, and when a stable neuron becomes unstable.
            assert!(local_bound(d0 + 1, &ls) >= bound);
            for l in 0..depth {
                let mut more = ls.clone();
                more[l].unstable += 1;
                assert!(local_bound(d0, &more) >= bound, "u_{l} + 1: {ls:?}");
                if ls[l].active > 0 {
                    let mut moved = ls.clone();
                    moved[l].active -= 1;
                    moved[l].unstable += 1;
                    let no_ranks: Vec<LayerStability> = moved
                        .iter()
                        .map(|l| LayerStability::new(l.active, l.unstable))
                        .collect();
                    let base: Vec<LayerStability> = ls
                        .iter()
                        .map(|l| LayerStability::new(l.active, l.unstable))
                        .collect();
                    assert!(local_bound(d0, &no_ranks) >= local_bound(d0, &base));
                }
            }

            // Refinements only lower the bound.
            let plain: Vec<LayerStability> = ls
                .iter()
                .map(|l| LayerStability::new(l.active, l.unstable))
                .collect();
            assert!(bound <= local_bound(d0, &plain));

            // Relaxations dominate.
            assert!(local_product_bound(d0, &ls) >= bound);
            assert!(local_product_bound(d0, &plain) >= local_bound(d0, &plain));
            assert!(pruned_serra_bound(d0, &ls) >= bound);

            // Global Serra on any wider network dominates.
            let wider: Vec<usize> = ls
                .iter()
                .map(|l| l.pruned_width() + rng.random_range(0..=3))
                .collect();
            assert!(serra_bound(d0, &wider) >= pruned_serra_bound(d0, &ls));
            assert!(serra_bound(d0, &wider) >= bound);
        }
    }

    #[test]
    fn bound_local_shortcut_holds_exactly_when_no_cap_binds() {
        // A mid-size case where no cap binds: D = (300, 40, 40) >= u = (30, 40, 35).
        let ls = layers(&[40, 50, 60], &[30, 40, 35]);
        let dp: Vec<DpLayer> = ls.iter().map(DpLayer::local).collect();
        assert!(dp_is_full(300, &dp));
        assert_eq!(dimension_dp(300, &dp, false), BigUint::one() << 105);
        assert_eq!(local_bound(300, &ls).0, BigUint::one() << 105);
        // Binding by one: a_2 = 34 < u_3 = 35.
        let ls = layers(&[40, 34, 60], &[30, 40, 35]);
        let dp: Vec<DpLayer> = ls.iter().map(DpLayer::local).collect();
        assert!(!dp_is_full(300, &dp));
        assert!(local_bound(300, &ls).0 < BigUint::one() << 105);
        // Random: the DP equals 2^{sum u} if and only if the shortcut condition holds.
        let mut rng = StdRng::seed_from_u64(3);
        let mut full_cases = 0;
        for case in 0..500 {
            let depth = rng.random_range(1..=4);
            let d0 = rng.random_range(0..=40);
            let ls = random_layers(&mut rng, depth, 20, case % 2 == 0);
            let dp: Vec<DpLayer> = ls.iter().map(DpLayer::local).collect();
            let total: usize = ls.iter().map(|l| l.unstable).sum();
            let value = dimension_dp(d0, &dp, false);
            assert_eq!(
                value == BigUint::one() << total,
                dp_is_full(d0, &dp),
                "d0 = {d0}, {ls:?}"
            );
            full_cases += usize::from(dp_is_full(d0, &dp));
        }
        assert!(
            full_cases > 20,
            "only {full_cases} cases exercised the shortcut"
        );
    }

    #[test]
    fn bound_local_big_networks() {
        // n_0 = 784, six layers of u = 256 (a = 0): Serra's global bound for [256; 6].
        let ls = layers(&[0; 6], &[256; 6]);
        let b = local_bound(784, &ls);
        assert_eq!(b, serra_bound(784, &[256; 6]));
        let log2 = b.log2();
        assert!(log2.is_finite());
        let bits = b.bits() as f64;
        assert!(log2 < bits && log2 >= bits - 1.0, "{log2} vs {bits} bits");
        // Exact log2 from the top 64 bits, recomputed here, and a loose independent check.
        let shift = b.bits() - 64;
        let top = (b.as_biguint() >> shift).to_u64().unwrap();
        assert_eq!(log2, (top as f64).log2() + shift as f64);
        assert!(log2 <= 6.0 * 256.0);
        // Stable neurons present: a = 100, u = 156; equals the reference recursion.
        let ls = layers(&[100; 6], &[156; 6]);
        let b = local_bound(784, &ls);
        assert_eq!(b.0, reference_dp(784, &ls));
        // A cap binds (a_1 = 100 < u_2 = 156) only on paths of tiny weight (j_1 near
        // u_1): strictly below 2^936, yet equal to it in f64.
        assert!(b < RegionCount::pow2(936));
        assert_eq!(b.bits(), 936);
        assert!(b.log2() <= 936.0 && b.log2() > 935.999, "{}", b.log2());
        // u = 256 with plenty of active neurons: the shortcut gives 2^{6 * 256}.
        let ls = layers(&[300; 6], &[256; 6]);
        assert_eq!(local_bound(784, &ls), RegionCount::pow2(6 * 256));
        assert_eq!(local_bound(784, &ls).log2(), 1536.0);
    }
}
