//! Linear pieces: regions merged where neighbours share one affine map of the output.

use super::*;

/// Distinct restricted output maps (module documentation): sort by a fixed random
/// projection of the coefficients, compare neighbours within the tolerance window, and
/// count the classes of the union-find closure.
pub(super) fn count_pieces(regions: &[PlaneRegion], r: f64) -> usize {
    if regions.is_empty() {
        return 0;
    }
    let coef = |reg: &PlaneRegion| -> Vec<f64> {
        reg.output
            .slope
            .iter()
            .zip(&reg.output.offset)
            .flat_map(|(s, &c)| [s[0] * r, s[1] * r, c])
            .collect()
    };
    let coefs: Vec<Vec<f64>> = regions.iter().map(coef).collect();
    let scale = coefs
        .iter()
        .flat_map(|c| c.chunks(3).map(|t| t[0].abs() + t[1].abs() + t[2].abs()))
        .fold(0.0_f64, f64::max);
    if scale == 0.0 {
        return 1;
    }
    let tol = 1e-9 * scale;
    // Weights in [1, 2): a projection that cannot cancel two distinct maps by accident
    // more than any other fixed direction.
    let weights: Vec<f64> = (0..coefs[0].len())
        .map(|i| 1.0 + ((i as f64 + 1.0) * 0.618_033_988_749_895).fract())
        .collect();
    let wsum: f64 = weights.iter().sum();
    let key = |c: &[f64]| -> f64 { c.iter().zip(&weights).map(|(x, w)| x * w).sum() };
    let mut order: Vec<(f64, usize)> = coefs.iter().enumerate().map(|(i, c)| (key(c), i)).collect();
    order.sort_by(|x, y| x.0.total_cmp(&y.0));
    let equal = |x: &[f64], y: &[f64]| -> bool {
        x.chunks(3)
            .zip(y.chunks(3))
            .all(|(p, q)| (p[0] - q[0]).abs() + (p[1] - q[1]).abs() + (p[2] - q[2]).abs() <= tol)
    };
    let mut parent: Vec<usize> = (0..regions.len()).collect();
    pub(super) fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    // Equal maps have keys within `tol * max weight * outputs`, bounded by `tol * wsum`.
    let window = tol * wsum;
    for a in 0..order.len() {
        for b in a + 1..order.len() {
            if order[b].0 - order[a].0 > window {
                break;
            }
            let (i, j) = (order[a].1, order[b].1);
            if equal(&coefs[i], &coefs[j]) {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj {
                    parent[ri] = rj;
                }
            }
        }
    }
    (0..regions.len())
        .filter(|&i| find(&mut parent, i) == i)
        .count()
}
