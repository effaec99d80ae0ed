//! Descriptive statistics and rank tests for the study's verdicts.
//!
//! All tests use the large-sample normal approximation with tie corrections, and return
//! a signed `z` and a two-sided `p`. With the study's sample sizes (tens to hundreds of
//! points) the approximation is standard; below about 10 pairs prefer exact tables.

use serde::Serialize;

/// Quantile with linear interpolation between order statistics (numpy's default),
/// ignoring NaNs; `None` when no value is left.
///
/// With the `n` values sorted, `v_0 <= ... <= v_{n-1}`, and `t = q (n - 1)` (`q` clamped
/// to `[0, 1]`): `v_{floor t} + (v_{ceil t} - v_{floor t}) (t - floor t)`, and
/// `v_{floor t}` itself when the two order statistics are equal (so infinite values stay
/// infinite).
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    Some(quantiles(values, [q])?[0])
}

/// [`quantile`] at several levels `qs`, sorting the values once.
pub fn quantiles<const N: usize>(values: &[f64], qs: [f64; N]) -> Option<[f64; N]> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(qs.map(|q| {
        let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        if v[lo] == v[hi] {
            v[lo]
        } else {
            v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
        }
    }))
}

/// First quartile, median, third quartile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quartiles {
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
}

pub fn quartiles(values: &[f64]) -> Option<Quartiles> {
    Some(Quartiles {
        q1: quantile(values, 0.25)?,
        median: quantile(values, 0.5)?,
        q3: quantile(values, 0.75)?,
    })
}

/// Ranks `1..=n` with ties given their average rank, and the tie groups' sizes.
pub fn ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut r = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && values[idx[j + 1]] == values[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        if j > i {
            ties.push(j - i + 1);
        }
        i = j + 1;
    }
    (r, ties)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit, relative error
/// below 1.2e-7 everywhere).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Two-sided normal p-value of a z score.
pub fn two_sided_p(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Spearman's rank correlation with its two-sided p (t statistic
/// `rho sqrt((n-2)/(1-rho^2))` read against the normal, fine for n in the hundreds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spearman {
    pub rho: f64,
    pub p: f64,
    pub n: usize,
}

/// Spearman's rho: Pearson's correlation of the average ranks (ties handled). Pairs with
/// a NaN are dropped.
pub fn spearman(x: &[f64], y: &[f64]) -> Spearman {
    let (x, y): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(a, b)| (*a, *b))
        .unzip();
    let n = x.len();
    let (rx, _) = ranks(&x);
    let (ry, _) = ranks(&y);
    let m = (n as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        sxy += (rx[i] - m) * (ry[i] - m);
        sxx += (rx[i] - m).powi(2);
        syy += (ry[i] - m).powi(2);
    }
    let rho = if sxx > 0.0 && syy > 0.0 {
        sxy / (sxx * syy).sqrt()
    } else {
        f64::NAN
    };
    let p = if n > 2 && rho.abs() < 1.0 {
        two_sided_p(rho * ((n as f64 - 2.0) / (1.0 - rho * rho)).sqrt())
    } else if rho.abs() == 1.0 {
        0.0
    } else {
        f64::NAN
    };
    Spearman { rho, p, n }
}

/// Paired Wilcoxon signed-rank test of `after - before`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Wilcoxon {
    /// Sum of the ranks of the positive differences.
    pub w_plus: f64,
    /// Pairs with a nonzero finite difference (zeros are dropped, Wilcoxon's convention).
    pub n: usize,
    /// Pairs dropped for a zero difference.
    pub zeros: usize,
    /// Pairs dropped for a non-finite difference (e.g. an infinite distance).
    pub non_finite: usize,
    /// Positive when `after` tends to exceed `before`.
    pub z: f64,
    pub p: f64,
    /// Median of the differences `after - before` (finite ones).
    pub median_difference: f64,
}

/// Wilcoxon signed-rank test: zeros dropped, average ranks for tied `|d|`, variance
/// `n(n+1)(2n+1)/24 - sum(t^3 - t)/48`, no continuity correction (scipy's defaults with
/// `method="approx"`).
pub fn wilcoxon(before: &[f64], after: &[f64]) -> Wilcoxon {
    let diffs: Vec<f64> = before.iter().zip(after).map(|(a, b)| b - a).collect();
    let non_finite = diffs.iter().filter(|d| !d.is_finite()).count();
    let finite: Vec<f64> = diffs.iter().copied().filter(|d| d.is_finite()).collect();
    let zeros = finite.iter().filter(|&&d| d == 0.0).count();
    let d: Vec<f64> = finite.iter().copied().filter(|&d| d != 0.0).collect();
    let n = d.len();
    let abs: Vec<f64> = d.iter().map(|v| v.abs()).collect();
    let (r, ties) = ranks(&abs);
    let w_plus: f64 = d
        .iter()
        .zip(&r)
        .filter(|(v, _)| **v > 0.0)
        .map(|(_, r)| r)
        .sum();
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0
        - ties
            .iter()
            .map(|&t| (t as f64).powi(3) - t as f64)
            .sum::<f64>()
            / 48.0;
    let z = if var > 0.0 {
        (w_plus - mean) / var.sqrt()
    } else {
        f64::NAN
    };
    Wilcoxon {
        w_plus,
        n,
        zeros,
        non_finite,
        z,
        p: two_sided_p(z),
        median_difference: quantile(&finite, 0.5).unwrap_or(f64::NAN),
    }
}

/// Mann-Whitney U test of two independent samples `a` and `b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// `U_a`: pairs with `a > b`, ties counting one half.
    pub u: f64,
    pub n_a: usize,
    pub n_b: usize,
    /// Positive when `a` tends to exceed `b`.
    pub z: f64,
    pub p: f64,
    /// Rank-biserial correlation `2 U_a / (n_a n_b) - 1`, in `[-1, 1]`; positive when `a`
    /// tends to exceed `b`.
    pub rank_biserial: f64,
}

/// Mann-Whitney U with the tie-corrected variance
/// `n_a n_b / 12 ((n + 1) - sum(t^3 - t) / (n (n - 1)))` and a continuity correction of
/// 1/2 towards the mean (scipy's `mannwhitneyu(method="asymptotic")` defaults). NaNs
/// are dropped.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> MannWhitney {
    let a: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
    let b: Vec<f64> = b.iter().copied().filter(|v| !v.is_nan()).collect();
    let (na, nb) = (a.len(), b.len());
    let all: Vec<f64> = a.iter().chain(&b).copied().collect();
    let (r, ties) = ranks(&all);
    let ra: f64 = r[..na].iter().sum();
    let (naf, nbf) = (na as f64, nb as f64);
    let u = ra - naf * (naf + 1.0) / 2.0;
    let n = naf + nbf;
    let mean = naf * nbf / 2.0;
    let tie: f64 = ties
        .iter()
        .map(|&t| (t as f64).powi(3) - t as f64)
        .sum::<f64>();
    let var = if n > 1.0 {
        naf * nbf / 12.0 * ((n + 1.0) - tie / (n * (n - 1.0)))
    } else {
        0.0
    };
    let z = if var > 0.0 {
        let dev = u - mean;
        let corrected = dev.signum() * (dev.abs() - 0.5).max(0.0);
        corrected / var.sqrt()
    } else {
        f64::NAN
    };
    MannWhitney {
        u,
        n_a: na,
        n_b: nb,
        z,
        p: two_sided_p(z),
        rank_biserial: if na * nb > 0 {
            2.0 * u / (naf * nbf) - 1.0
        } else {
            f64::NAN
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    #[test]
    fn normal_tail() {
        // Phi(-1.959964) = 0.025: two-sided 0.05.
        close(two_sided_p(1.959_964), 0.05, 1e-6);
        close(two_sided_p(0.0), 1.0, 1e-7);
        close(two_sided_p(-3.0), 0.002_699_796, 1e-8);
    }

    #[test]
    fn several_quantiles_are_the_single_ones() {
        // np.quantile([3, 1, 4, 1, 5, 9, 2, 6], [0, .25, .5, .75, 1]) = [1, 1.75, 3.5, 5.25, 9].
        let v = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, f64::NAN, 2.0, 6.0];
        let levels = [0.0, 0.25, 0.5, 0.75, 1.0];
        assert_eq!(quantiles(&v, levels), Some([1.0, 1.75, 3.5, 5.25, 9.0]));
        for q in levels {
            assert_eq!(quantile(&v, q), Some(quantiles(&v, [q]).unwrap()[0]));
        }
        assert_eq!(quantiles(&[f64::NAN], levels), None);
        assert_eq!(quantiles(&[], [0.5]), None);
    }

    #[test]
    fn quartiles_interpolate_like_numpy() {
        // np.percentile([1, 2, 3, 4], [25, 50, 75]) = [1.75, 2.5, 3.25].
        let q = quartiles(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((q.q1, q.median, q.q3), (1.75, 2.5, 3.25));
        assert!(quartiles(&[]).is_none());
    }

    #[test]
    fn spearman_with_ties() {
        // y = [5, 6, 7, 8, 7] has ranks [1, 2, 3.5, 5, 3.5]. Centred: x [-2,-1,0,1,2],
        // y [-2,-1,0.5,2,0.5]; sum xy = 8, sum x^2 = 10, sum y^2 = 9.5;
        // rho = 8 / sqrt(95) = 0.820782681668123 (scipy.stats.spearmanr agrees).
        let s = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]);
        close(s.rho, 8.0 / 95f64.sqrt(), 1e-12);
        let s = spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]);
        close(s.rho, -1.0, 1e-12);
    }

    #[test]
    fn wilcoxon_by_hand() {
        // d = [1, 2, -0.5, 3, 4]: |d| ranks [2, 3, 1, 4, 5]; W+ = 14; n = 5;
        // mean 7.5, var 5*6*11/24 = 13.75; z = 6.5 / sqrt(13.75) = 1.752920;
        // p = 2 (1 - Phi(1.752920)) = 0.079617.
        let before = [1.0, 2.0, 3.0, 4.0, 5.0];
        let after = [2.0, 4.0, 2.5, 7.0, 9.0];
        let w = wilcoxon(&before, &after);
        assert_eq!((w.w_plus, w.n), (14.0, 5));
        close(w.z, 6.5 / 13.75f64.sqrt(), 1e-12);
        close(w.p, 0.079_617, 2e-6);
        // Zeros dropped, ties averaged: d = [0, 1, 1, -1, 2]: n = 4, |d| ranks
        // [2, 2, 2, 4]; W+ = 2 + 2 + 4 = 8; var = 4*5*9/24 - (27 - 3)/48 = 7.5 - 0.5 = 7;
        // z = (8 - 5) / sqrt(7).
        let w = wilcoxon(&[0.0, 0.0, 0.0, 0.0, 0.0], &[0.0, 1.0, 1.0, -1.0, 2.0]);
        assert_eq!((w.n, w.zeros, w.w_plus), (4, 1, 8.0));
        close(w.z, 3.0 / 7f64.sqrt(), 1e-12);
    }

    #[test]
    fn mann_whitney_by_hand() {
        // a = [1, 2, 3], b = [4, 5, 6]: U_a = 0, mean 4.5, var 9/12 * 7 = 5.25;
        // z = (0 - 4.5 + 0.5) / sqrt(5.25) = -1.745743; p = 0.080856
        // (scipy.stats.mannwhitneyu(a, b, method="asymptotic").pvalue = 0.0808556).
        let m = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]);
        assert_eq!(m.u, 0.0);
        close(m.z, -4.0 / 5.25f64.sqrt(), 1e-12);
        close(m.p, 0.080_856, 2e-6);
        assert_eq!(m.rank_biserial, -1.0);
        // Ties: a = [1, 2, 2], b = [2, 3]: ranks 1, 3, 3 | 3, 5; R_a = 7, U_a = 1;
        // tie group of 3: var = 6/12 (6 - 24/20) = 2.4; z = (1 - 3 + 0.5) / sqrt(2.4).
        let m = mann_whitney(&[1.0, 2.0, 2.0], &[2.0, 3.0]);
        assert_eq!(m.u, 1.0);
        close(m.z, -1.5 / 2.4f64.sqrt(), 1e-12);
        close(m.rank_biserial, 2.0 / 6.0 - 1.0, 1e-12);
    }

    /// Cross-check against scipy 1.x (an independent implementation) on 30 paired
    /// values with ties and 25 unpaired ones: `spearmanr(a, b)`,
    /// `wilcoxon(b - a, zero_method="wilcox", correction=False, method="approx")` and
    /// `mannwhitneyu(a, c, use_continuity=True, method="asymptotic")`.
    #[test]
    fn agrees_with_scipy() {
        let a = [
            0.0, 0.3, -0.3, -0.9, -0.5, -1.0, 0.1, 1.3, -0.5, -0.6, 0.5, 0.4, 0.1, -0.9, -0.0, 0.7,
            -1.3, -0.5, -1.9, -1.3, -1.8, -0.2, -1.3, 0.3, 0.2, -0.2, -2.5, -0.5, -0.0, 0.1,
        ];
        let b = [
            -1.2, 0.1, -1.0, -1.4, 0.9, -1.5, 0.4, 2.5, -0.8, -0.4, 0.9, 0.8, -0.8, -0.5, 1.7,
            -0.5, -0.1, -0.1, -2.2, 1.0, -0.7, -1.1, -0.9, 1.2, 0.3, 0.8, -2.3, 0.5, 1.7, -0.3,
        ];
        let c = [
            0.7, 0.0, 0.6, -0.7, -0.1, 0.3, 1.4, 1.6, -0.8, -0.3, 1.1, -1.5, 0.0, 0.4, 1.8, 1.2,
            0.2, 0.1, 0.2, 2.0, 0.1, 0.2, 0.9, 0.4, 0.3,
        ];
        let s = spearman(&a, &b);
        assert!((s.rho - 0.5222692847803965).abs() < 1e-12, "{}", s.rho);
        let w = wilcoxon(&a, &b);
        // scipy reports min(W+, W-) = 157 and z = -1.554884287288322 for that tail;
        // here z is signed by the direction (after > before), so compare magnitudes.
        let n = w.n as f64;
        assert_eq!(w.w_plus.min(n * (n + 1.0) / 2.0 - w.w_plus), 157.0);
        assert!((w.z.abs() - 1.554884287288322).abs() < 1e-9, "{}", w.z);
        assert!((w.p - 0.11997363018600302).abs() < 1e-6, "{}", w.p);
        let m = mann_whitney(&a, &c);
        assert_eq!(m.u, 180.5);
        assert!((m.p - 0.0010232332417077835).abs() < 1e-6, "{}", m.p);
    }
}
