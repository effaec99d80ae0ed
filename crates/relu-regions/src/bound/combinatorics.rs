//! Exact binomial coefficients, their partial sums, and the big-integer count type the
//! bounds return.
//!
//! Region bounds are sums of products of binomial coefficients, and they outgrow `u128`
//! early: `sum_{j <= 28} C(300, j)` already does. Everything here is exact
//! ([`num_bigint::BigUint`]); [`RegionCount::log2`] gives the size for display and plots.

use std::collections::HashMap;
use std::fmt;

use num_bigint::BigUint;
use num_traits::{One, ToPrimitive, Zero};

/// An exact count of regions (or an exact upper bound on one): a non-negative big integer.
///
/// `Display` writes it in decimal; [`RegionCount::log2`] is its base-2 logarithm as an
/// `f64`, accurate to a few units in the last place however large the count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RegionCount(pub BigUint);

impl RegionCount {
    /// The count `1`: one region (a domain inside a single activation region).
    pub fn one() -> Self {
        Self(BigUint::one())
    }

    /// The count `2^k`.
    pub fn pow2(k: u64) -> Self {
        Self(BigUint::one() << k)
    }

    /// The exact value.
    pub fn as_biguint(&self) -> &BigUint {
        &self.0
    }

    /// The exact value, by move.
    pub fn into_biguint(self) -> BigUint {
        self.0
    }

    /// The value when it fits in a `u128`.
    pub fn to_u128(&self) -> Option<u128> {
        self.0.to_u128()
    }

    /// Number of bits of the value (`floor(log2(v)) + 1`; `0` for `0`).
    pub fn bits(&self) -> u64 {
        self.0.bits()
    }

    /// `log2` of the count; `-inf` for `0`. See [`log2_biguint`].
    pub fn log2(&self) -> f64 {
        log2_biguint(&self.0)
    }
}

impl fmt::Display for RegionCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<BigUint> for RegionCount {
    fn from(v: BigUint) -> Self {
        Self(v)
    }
}

impl From<u64> for RegionCount {
    fn from(v: u64) -> Self {
        Self(BigUint::from(v))
    }
}

impl From<u128> for RegionCount {
    fn from(v: u128) -> Self {
        Self(BigUint::from(v))
    }
}

/// `log2(v)` as an `f64`, for any size of `v`; `-inf` for `v = 0`.
///
/// Values below `2^64` convert exactly to `u64` and then to `f64` (one rounding, relative
/// error `<= 2^-53`). Larger values keep their top 64 bits `t = floor(v / 2^s)` with
/// `s = bits(v) - 64`, so `v = 2^s (t + f)` with `0 <= f < 1` and
/// `log2(v) = s + log2(t) + log2(1 + f/t)`, where the last term is below `2^-63 / ln 2`.
/// The result is within a few ulps of the true value (relative error far below `1e-12`).
pub fn log2_biguint(v: &BigUint) -> f64 {
    let bits = v.bits();
    if bits == 0 {
        return f64::NEG_INFINITY;
    }
    if bits <= 64 {
        let x = v.to_u64().expect("value below 2^64");
        return (x as f64).log2();
    }
    let shift = bits - 64;
    let top = (v >> shift).to_u64().expect("top 64 bits");
    (top as f64).log2() + shift as f64
}

/// The binomial coefficient `C(n, k)` exactly; `0` when `k > n`.
///
/// Multiplicative formula over `k' = min(k, n - k)` steps:
/// `C(n, i + 1) = C(n, i) (n - i) / (i + 1)`, every division exact.
pub fn binomial(n: usize, k: usize) -> BigUint {
    if k > n {
        return BigUint::zero();
    }
    let k = k.min(n - k);
    let mut c = BigUint::one();
    for i in 0..k {
        c *= (n - i) as u64;
        c /= (i + 1) as u64;
    }
    c
}

/// `C(n, k)` in a `u128`, or `None` when the coefficient does not fit; `Some(0)` when
/// `k > n`. A cheap path for small arguments.
///
/// Same recurrence as [`binomial`], with the common factor `g = gcd(C(n, i), i + 1)`
/// cancelled before multiplying: `C(n, i+1) = (C(n, i)/g) ((n - i)/((i + 1)/g))`, both
/// divisions exact because `(i + 1)/g` is coprime to `C(n, i)/g` and divides
/// `C(n, i)(n - i)`. With `k <= n/2` every intermediate is at most the result, so `None`
/// means exactly "does not fit".
pub fn binomial_u128(n: usize, k: usize) -> Option<u128> {
    if k > n {
        return Some(0);
    }
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k as u128 {
        let num = n as u128 - i;
        let den = i + 1;
        let g = gcd(c, den);
        c = (c / g).checked_mul(num / (den / g))?;
    }
    Some(c)
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The row `[C(n, 0), C(n, 1), ..., C(n, n)]`, exactly.
///
/// Computed once for `j <= n/2` by the multiplicative recurrence and mirrored by
/// `C(n, j) = C(n, n - j)`.
pub fn binomial_row(n: usize) -> Vec<BigUint> {
    let mut row = Vec::with_capacity(n + 1);
    let mut c = BigUint::one();
    row.push(c.clone());
    for i in 0..n / 2 {
        c *= (n - i) as u64;
        c /= (i + 1) as u64;
        row.push(c.clone());
    }
    for j in n / 2 + 1..=n {
        let mirrored = row[n - j].clone();
        row.push(mirrored);
    }
    row
}

/// `sum_{j = 0}^{min(k, n)} C(n, j)`, exactly: the number of regions of `n` hyperplanes in
/// general position in `R^k` (Zaslavsky / Buck), and `2^n` when `k >= n`.
pub fn partial_binomial_sum(n: usize, k: usize) -> BigUint {
    if k >= n {
        return BigUint::one() << n;
    }
    let mut c = BigUint::one();
    let mut sum = BigUint::one();
    for i in 0..k {
        c *= (n - i) as u64;
        c /= (i + 1) as u64;
        sum += &c;
    }
    sum
}

/// Memoised binomial rows and their prefix sums, for dynamic programmes that use the same
/// `n` many times.
///
/// `row(n)[j] = C(n, j)` and `prefix(n)[k] = sum_{j <= k} C(n, j)` for `0 <= j, k <= n`.
#[derive(Debug, Default, Clone)]
pub struct BinomialRows {
    rows: HashMap<usize, Row>,
}

#[derive(Debug, Clone)]
struct Row {
    coefficients: Vec<BigUint>,
    prefix: Vec<BigUint>,
}

impl BinomialRows {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&mut self, n: usize) -> &Row {
        self.rows.entry(n).or_insert_with(|| {
            let coefficients = binomial_row(n);
            let mut prefix = Vec::with_capacity(n + 1);
            let mut acc = BigUint::zero();
            for c in &coefficients {
                acc += c;
                prefix.push(acc.clone());
            }
            Row {
                coefficients,
                prefix,
            }
        })
    }

    /// `([C(n, 0), ..., C(n, n)], [sum_{j <= 0} C(n, j), ..., sum_{j <= n} C(n, j)])`.
    pub fn row_and_prefix(&mut self, n: usize) -> (&[BigUint], &[BigUint]) {
        let row = self.entry(n);
        (&row.coefficients, &row.prefix)
    }

    /// `[C(n, 0), ..., C(n, n)]`.
    pub fn row(&mut self, n: usize) -> &[BigUint] {
        &self.entry(n).coefficients
    }

    /// `[sum_{j <= 0} C(n, j), ..., sum_{j <= n} C(n, j)]` (the last entry is `2^n`).
    pub fn prefix(&mut self, n: usize) -> &[BigUint] {
        &self.entry(n).prefix
    }

    /// `sum_{j = 0}^{min(k, n)} C(n, j)` from the cached prefix sums.
    pub fn partial_sum(&mut self, n: usize, k: usize) -> BigUint {
        self.prefix(n)[k.min(n)].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    #[test]
    fn bound_binomials_small_values() {
        assert_eq!(binomial(0, 0), BigUint::one());
        assert_eq!(binomial(5, 2), BigUint::from(10u32));
        assert_eq!(binomial(5, 6), BigUint::zero());
        assert_eq!(binomial(52, 5), BigUint::from(2_598_960u32));
        // Pascal's rule over a whole triangle, against the row function.
        for n in 1..60 {
            let row = binomial_row(n);
            let prev = binomial_row(n - 1);
            assert_eq!(row.len(), n + 1);
            for j in 0..=n {
                let expect = if j == 0 || j == n {
                    BigUint::one()
                } else {
                    &prev[j - 1] + &prev[j]
                };
                assert_eq!(row[j], expect, "C({n}, {j})");
                assert_eq!(binomial(n, j), expect);
            }
        }
    }

    #[test]
    fn bound_binomial_u128_matches_big_and_detects_overflow() {
        for n in 0..200 {
            for k in 0..=n + 1 {
                let big = binomial(n, k);
                match binomial_u128(n, k) {
                    Some(v) => assert_eq!(BigUint::from(v), big, "C({n}, {k})"),
                    None => assert!(big > BigUint::from(u128::MAX), "C({n}, {k}) fits"),
                }
            }
        }
        // C(130, 65) ~ 9.5e37 fits, C(132, 66) ~ 3.8e38 > u128::MAX ~ 3.4e38.
        assert!(binomial_u128(130, 65).is_some());
        assert!(binomial_u128(132, 66).is_none());
    }

    #[test]
    fn bound_partial_sums() {
        assert_eq!(partial_binomial_sum(3, 2), BigUint::from(7u32));
        assert_eq!(partial_binomial_sum(10, 10), BigUint::from(1024u32));
        assert_eq!(partial_binomial_sum(10, 100), BigUint::from(1024u32));
        assert_eq!(partial_binomial_sum(4, 0), BigUint::one());
        let mut rows = BinomialRows::new();
        for n in 0..40 {
            for k in 0..45 {
                assert_eq!(rows.partial_sum(n, k), partial_binomial_sum(n, k));
            }
        }
        // The DESIGN.md example: sum_{j <= 28} C(300, j) overflows u128.
        assert!(partial_binomial_sum(300, 28) > BigUint::from(u128::MAX));
    }

    /// Independent `log2` from the decimal expansion: the leading 17 digits and the digit
    /// count.
    fn log2_from_decimal(v: &BigUint) -> f64 {
        let s = v.to_string();
        let lead = &s[..s.len().min(17)];
        let mantissa: f64 = lead.parse().unwrap();
        let exponent = (s.len() - lead.len()) as f64;
        (mantissa.log10() + exponent) * std::f64::consts::LOG2_10
    }

    #[test]
    fn bound_log2_accurate_up_to_2_pow_5000() {
        let rel = |got: f64, want: f64| {
            if want == 0.0 {
                got.abs()
            } else {
                ((got - want) / want).abs()
            }
        };
        assert_eq!(log2_biguint(&BigUint::zero()), f64::NEG_INFINITY);
        assert_eq!(log2_biguint(&BigUint::one()), 0.0);
        // Exact powers of two, and their neighbours.
        for k in 0..=5000u64 {
            let p = BigUint::one() << k;
            assert_eq!(log2_biguint(&p), k as f64, "2^{k}");
            let below = &p - BigUint::one();
            if k > 0 {
                let eps = if k < 1000 { 0.5f64.powi(k as i32) } else { 0.0 };
                let want = k as f64 + (-eps).ln_1p() / std::f64::consts::LN_2;
                assert!(rel(log2_biguint(&below), want) < 1e-12, "2^{k} - 1");
            }
        }
        // Powers of 3 and of 10 against f64 products of the logarithms.
        let mut p3 = BigUint::one();
        for m in 0..3150u32 {
            let want = f64::from(m) * 3f64.log2();
            assert!(rel(log2_biguint(&p3), want) < 1e-12, "3^{m}");
            p3 *= 3u32;
        }
        let mut p10 = BigUint::one();
        for m in 0..1500u32 {
            let want = f64::from(m) * std::f64::consts::LOG2_10;
            assert!(rel(log2_biguint(&p10), want) < 1e-12, "10^{m}");
            p10 *= 10u32;
        }
        // Random values of random size, against the decimal expansion.
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..300 {
            let bits = rng.random_range(1..=5000u64);
            let words: Vec<u32> = (0..bits.div_ceil(32)).map(|_| rng.random()).collect();
            let mut v = BigUint::new(words);
            v >>= (v.bits().saturating_sub(bits)) as usize;
            if v.is_zero() {
                continue;
            }
            let got = log2_biguint(&v);
            let want = log2_from_decimal(&v);
            assert!(got.is_finite());
            assert!(rel(got, want) < 1e-12, "{v}: {got} vs {want}");
            assert!(got < v.bits() as f64 && got >= (v.bits() - 1) as f64);
        }
    }

    #[test]
    fn bound_region_count_display_and_conversions() {
        let c = RegionCount::from(208u64);
        assert_eq!(c.to_string(), "208");
        assert_eq!(c.to_u128(), Some(208));
        assert_eq!(RegionCount::pow2(200).bits(), 201);
        assert_eq!(RegionCount::pow2(200).to_u128(), None);
        assert_eq!(RegionCount::pow2(10).to_string(), "1024");
        assert_eq!(RegionCount::one().log2(), 0.0);
        assert!(RegionCount::one() < c);
    }
}
