//! Global upper bounds on the number of activation regions of a ReLU network over its whole
//! input space (docs/math.md §2): Serra, Tjandraatmadja & Ramalingam (2018), Theorem 1, and
//! the product bound of Montúfar et al. (2017) it refines.
//!
//! Both depend only on the architecture: input dimension `n_0` and hidden ReLU widths
//! `n_1, ..., n_L` (a linear output layer adds no regions; ReLUs on the output layer count
//! as one more layer).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use num_bigint::BigUint;
use num_traits::One;

use super::combinatorics::{BinomialRows, RegionCount};
use super::local::{DpLayer, dimension_dp};

/// Serra, Tjandraatmadja & Ramalingam (ICML 2018), Theorem 1: the number of activation
/// regions of a ReLU network with input dimension `n_0 = input_dim` and hidden widths
/// `n_l = widths[l - 1]` is at most
///
/// ```text
/// sum_{(j_1..j_L) in J} prod_{l=1}^{L} C(n_l, j_l),
/// J = {(j_1..j_L) in Z^L : 0 <= j_l <= min{n_0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l}},
/// ```
///
/// computed by the equivalent dynamic programme over the carried dimension `d`
///
/// ```text
/// R(L+1, d) = 1
/// R(l, d)   = sum_{j=0}^{min(n_l, d)} C(n_l, j) · R(l+1, min(d, n_l - j))
/// bound     = R(1, n_0)
/// ```
///
/// (the DP's state `d` is the running minimum `min{n_0, n_1 - j_1, ..., n_{l-1} - j_{l-1}}`
/// of `J`'s constraints). Proof sketch (Serra's Lemmas 2-4): within a region of the first
/// `l - 1` layers of dimension `d`, layer `l`'s `n_l` hyperplanes make at most
/// `sum_{j <= min(n_l, d)} C(n_l, j)` pieces; a piece with `k` active neurons has dimension
/// at most `min(d, k)`, and a sorted matching of pieces to slots gives the recursion. Tight
/// for `L = 1`. It is the local bound ([`super::local::local_bound`]) with `a_l = 0`,
/// `u_l = n_l`.
pub fn serra_bound(input_dim: usize, widths: &[usize]) -> RegionCount {
    serra_bound_leaky(input_dim, widths, &vec![0; widths.len()])
}

/// [`serra_bound`] for a network with leaky ReLUs: `leaky[l]` neurons of layer `l` have a
/// negative slope `α ≠ 0` and pass `α z` when inactive, so a piece with `k` active neurons
/// has dimension at most `min(d, k + leaky_l)` (the passing neurons are the active ones
/// and the leaky ones), and the carried dimension is `leaky_l + n_l - j`:
///
/// ```text
/// R(l, d) = sum_{j=0}^{min(n_l, d)} C(n_l, j) · R(l+1, min(d, leaky_l + n_l - j))
/// ```
///
/// `leaky` all zero is [`serra_bound`]. (Montúfar's bound holds for leaky networks as it
/// is: the dimension never exceeds `min(n_0, ..., n_{l-1})` either way.)
pub fn serra_bound_leaky(input_dim: usize, widths: &[usize], leaky: &[usize]) -> RegionCount {
    let dp: Vec<DpLayer> = widths
        .iter()
        .zip(leaky)
        .map(|(&n, &k)| DpLayer::serra(n, k.min(n)))
        .collect();
    RegionCount(dimension_dp(input_dim, &dp, true))
}

/// Montúfar et al. (2017): the number of activation regions is at most
///
/// ```text
/// prod_{l=1}^{L} sum_{j=0}^{d_l} C(n_l, j),    d_l = min{n_0, n_1, ..., n_l}
/// ```
///
/// Each layer's `n_l` hyperplanes cut every region of the previous layers (of dimension at
/// most `min{n_0, ..., n_{l-1}}`) into at most `sum_{j <= d_l} C(n_l, j)` pieces. It is the
/// relaxation of [`serra_bound`] that replaces the carried dimension `n_l - j_l` by `n_l`,
/// so it is never smaller than Serra's bound.
pub fn montufar_bound(input_dim: usize, widths: &[usize]) -> RegionCount {
    let mut rows = BinomialRows::new();
    let mut dim = input_dim;
    let mut product = BigUint::one();
    for &n in widths {
        dim = dim.min(n);
        product *= rows.partial_sum(n, dim);
    }
    RegionCount(product)
}

/// [`serra_bound`] and [`montufar_bound`] of one architecture, memoised for the process:
/// both depend only on `(input_dim, widths)`, and the bound of a network over many
/// domains asks for them at every domain (big-integer sums over up to `n_0` binomials per
/// layer). The memo holds one entry per architecture seen.
///
/// `leaky[l]` counts layer `l`'s leaky neurons ([`serra_bound_leaky`]; all zero for ReLU);
/// Montúfar's bound holds for leaky networks as it is.
pub fn global_bounds(
    input_dim: usize,
    widths: &[usize],
    leaky: &[usize],
) -> (RegionCount, RegionCount) {
    type Memo = HashMap<(usize, Vec<usize>, Vec<usize>), (RegionCount, RegionCount)>;
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    let memo = MEMO.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (input_dim, widths.to_vec(), leaky.to_vec());
    if let Some(found) = memo.lock().expect("no panics hold the lock").get(&key) {
        return found.clone();
    }
    // Computed outside the lock; a race computes the same value twice.
    let bounds = (
        serra_bound_leaky(input_dim, widths, leaky),
        montufar_bound(input_dim, widths),
    );
    memo.lock()
        .expect("no panics hold the lock")
        .insert(key, bounds.clone());
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bound::combinatorics::{binomial, partial_binomial_sum};
    use crate::bound::local::{LayerStability, local_product_bound};
    use num_traits::Zero;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn big(v: u64) -> BigUint {
        BigUint::from(v)
    }

    /// `sum_{j in J} prod_l C(n_l, j_l)` by enumerating every tuple in
    /// `[0, n_1] x ... x [0, n_L]` and testing membership in Serra's `J`.
    fn brute_force_serra(n0: usize, widths: &[usize]) -> BigUint {
        let depth = widths.len();
        let mut j = vec![0usize; depth];
        let mut total = BigUint::zero();
        loop {
            let member = (0..depth).all(|l| {
                let cap = (0..l).fold(n0.min(widths[l]), |c, m| c.min(widths[m] - j[m]));
                j[l] <= cap
            });
            if member {
                total += (0..depth)
                    .map(|l| binomial(widths[l], j[l]))
                    .product::<BigUint>();
            }
            let mut l = 0;
            loop {
                if l == depth {
                    return total;
                }
                if j[l] < widths[l] {
                    j[l] += 1;
                    break;
                }
                j[l] = 0;
                l += 1;
            }
        }
    }

    #[test]
    fn bound_global_test_vectors_of_math_md() {
        // (n_0, widths, Serra, Montúfar) from docs/math.md §2.3.
        let cases: [(usize, &[usize], u64, u64); 7] = [
            (1, &[3, 3], 16, 16),
            (2, &[3, 3, 3], 208, 343),
            (2, &[2, 2, 2], 30, 64),
            (3, &[4, 4], 161, 225),
            (2, &[10, 10], 3136, 3136),
            (784, &[10, 10], 616_666, 1_048_576),
            (784, &[10, 10, 10], 365_139_905, 1_073_741_824),
        ];
        for (n0, widths, serra, montufar) in cases {
            assert_eq!(serra_bound(n0, widths).0, big(serra), "{n0} {widths:?}");
            assert_eq!(
                montufar_bound(n0, widths).0,
                big(montufar),
                "{n0} {widths:?}"
            );
            assert_eq!(brute_force_serra(n0, widths), big(serra), "{n0} {widths:?}");
        }
        // docs/math.md §3.6: the global bound of the counterexample network.
        assert_eq!(serra_bound(2, &[21, 8]).0, big(8584));
        assert_eq!(serra_bound(4, &[]).0, big(1));
        assert_eq!(montufar_bound(4, &[]).0, big(1));
    }

    #[test]
    fn bound_global_serra_dp_equals_brute_force_enumeration_of_j() {
        let mut rng = StdRng::seed_from_u64(1711);
        for _ in 0..300 {
            let n0 = rng.random_range(0..=5);
            let depth = rng.random_range(1..=3);
            let widths: Vec<usize> = (0..depth).map(|_| rng.random_range(0..=7)).collect();
            assert_eq!(
                serra_bound(n0, &widths).0,
                brute_force_serra(n0, &widths),
                "{n0} {widths:?}"
            );
        }
    }

    #[test]
    fn bound_global_properties() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..300 {
            let n0 = rng.random_range(0..=20);
            let depth = rng.random_range(1..=5);
            let widths: Vec<usize> = (0..depth).map(|_| rng.random_range(0..=20)).collect();
            let serra = serra_bound(n0, &widths);
            // Montúfar relaxes Serra and equals the local product form with a = 0, u = n.
            let montufar = montufar_bound(n0, &widths);
            assert!(montufar >= serra, "{n0} {widths:?}");
            let as_local: Vec<LayerStability> =
                widths.iter().map(|&n| LayerStability::new(0, n)).collect();
            assert_eq!(local_product_bound(n0, &as_local), montufar);
            // One layer: tight, Zaslavsky.
            assert_eq!(
                serra_bound(n0, &widths[..1]).0,
                partial_binomial_sum(widths[0], n0)
            );
            // Monotone in the input dimension and the widths.
            assert!(serra_bound(n0 + 1, &widths) >= serra);
            for l in 0..depth {
                let mut wider = widths.clone();
                wider[l] += 1;
                assert!(serra_bound(n0, &wider) >= serra);
            }
            // Never more than 2^(total neurons).
            let total: usize = widths.iter().sum();
            assert!(serra <= RegionCount::pow2(total as u64));
        }
        // Serra's Theorem 5: n_0 = 1 and n_l >= 3 give prod (n_l + 1) (the bound is tight).
        for widths in [&[3usize, 3][..], &[3, 5, 4], &[7, 3, 9, 4]] {
            let want: u64 = widths.iter().map(|&n| n as u64 + 1).product();
            assert_eq!(serra_bound(1, widths).0, big(want), "{widths:?}");
        }
    }

    #[test]
    fn bound_global_large_widths() {
        // Widths past u128: exact, and log2 consistent with the bit length.
        let b = serra_bound(784, &[512, 512, 512]);
        assert!(b.to_u128().is_none());
        assert!(b.log2() < b.bits() as f64 && b.log2() >= (b.bits() - 1) as f64);
        assert!(b <= montufar_bound(784, &[512, 512, 512]));
        // One layer no wider than the input dimension: all 2^n sign patterns.
        assert_eq!(serra_bound(1000, &[300]), RegionCount::pow2(300));
        // Deeper layers are capped by the carried dimension n_l - j_l even when n_0 is large.
        assert!(serra_bound(1000, &[100, 200]) < RegionCount::pow2(300));
    }

    #[test]
    fn memoised_global_bounds_equal_the_formulas() {
        for (n0, widths) in [(2, vec![3, 4]), (784, vec![256; 6]), (5, vec![20, 20, 20])] {
            let want = (serra_bound(n0, &widths), montufar_bound(n0, &widths));
            assert_eq!(global_bounds(n0, &widths, &vec![0; widths.len()]), want);
            assert_eq!(
                global_bounds(n0, &widths, &vec![0; widths.len()]),
                want,
                "from the memo"
            );
        }
    }
}
