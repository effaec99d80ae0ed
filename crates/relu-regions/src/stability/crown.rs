//! CROWN / DeepPoly backward linear bounds.
//!
//! To bound `z_{l,i} = w_i . h_{l-1} + b_i` from above over the domain, walk backward.
//! Holding a linear upper bound `Lambda . h_m + beta` (coefficients `Lambda` on the
//! post-ReLU values of layer `m`), replace each `h_{m,j} = relu(z_{m,j})` by a linear
//! function of `z_{m,j}` valid on its bounds `[L, U]`:
//!
//! - `L >= 0`: `relu(z) = z`; `U <= 0`: `relu(z) = 0`;
//! - `L < 0 < U`: `alpha z <= relu(z) <= s (z - L)` with `s = U / (U - L)` and the adaptive
//!   lower slope `alpha = 1` if `U >= -L`, else `0`. A nonnegative coefficient takes the
//!   upper relaxation, a negative one the lower, so the result stays an upper bound.
//!
//! Then substitute `z_m = W_m h_{m-1} + b_m` and continue to the input, where
//! `z_{l,i} <= a . x + beta` for all `x` in the domain, and the supremum over the domain is
//! `a.c + beta + r ||a||_*` (ball) or the centre/radius form (box). Lower bounds are
//! upper bounds of `-z`, computed in the same pass. Layer by layer the result is
//! intersected with the interval bounds computed from the tightened earlier layers, so
//! [`super::Method::Crown`] is never looser than [`super::Method::Interval`]. Only neurons
//! that interval arithmetic leaves unstable are bounded by CROWN (and the output layer);
//! columns of neurons stably inactive are skipped.
//!
//! For an L2 ball the last step uses the compressed basis of the first layer
//! (`W_1 = R^T Q^T`, see [`crate::distance`]): `||a||_2 = ||Lambda_1 R^T||_2`, so the
//! input dimension drops out of the cost.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use super::interval::{affine_box, first_layer, relu_box};
use super::{BoundPropagator, NeuronBounds, rounding_margin};
use crate::domain::{Domain, Norm};

/// CROWN bounds of every layer, intersected with interval bounds.
pub(crate) fn crown_bounds(p: &BoundPropagator<'_>, domain: &Domain) -> NeuronBounds {
    let net = p.net;
    let layers = net.layers().len();
    let relu_layers = net.relu_layer_count();
    let (lo, hi) = first_layer(p, domain);
    let mut lower = vec![lo];
    let mut upper = vec![hi];
    let compressed = match domain {
        Domain::Ball(b) if b.norm == Norm::L2 => Some(p.compressed_first.as_ref()),
        _ => None,
    };
    for l in 1..layers {
        let (mid, half) = relu_box(&lower[l - 1], &upper[l - 1]);
        let (mut lo, mut hi) = affine_box(p, l, &mid, &half);
        let rows: Vec<usize> = if l < relu_layers {
            (0..lo.len())
                .filter(|&i| lo[i] <= 0.0 && hi[i] >= 0.0)
                .collect()
        } else {
            (0..lo.len()).collect()
        };
        if !rows.is_empty() {
            let (clo, chi) = backward(p, domain, compressed, l, &rows, &lower, &upper);
            for (k, &i) in rows.iter().enumerate() {
                lo[i] = lo[i].max(clo[k]);
                hi[i] = hi[i].min(chi[k]);
            }
        }
        lower.push(lo);
        upper.push(hi);
    }
    NeuronBounds {
        lower,
        upper,
        relu_layers,
    }
}

/// Backward pass for neurons `rows` of layer `l`: their lower and upper bounds.
fn backward(
    p: &BoundPropagator<'_>,
    domain: &Domain,
    compressed_first: Option<MatRef<'_, f64>>,
    l: usize,
    rows: &[usize],
    lower: &[Vec<f64>],
    upper: &[Vec<f64>],
) -> (Vec<f64>, Vec<f64>) {
    let net = p.net;
    let layer = &net.layers()[l];
    let w = layer.weight();
    let k = rows.len();
    let r2 = 2 * k;
    // Row i bounds z_{rows[i]} from above; row k + i bounds -z_{rows[i]} from above.
    let mut lambda = Mat::from_fn(r2, w.ncols(), |i, j| {
        if i < k {
            w[(rows[i], j)]
        } else {
            -w[(rows[i - k], j)]
        }
    });
    let mut beta: Vec<f64> = (0..r2)
        .map(|i| {
            if i < k {
                layer.bias()[rows[i]]
            } else {
                -layer.bias()[rows[i - k]]
            }
        })
        .collect();
    let mut beta_abs: Vec<f64> = beta.iter().map(|b| b.abs()).collect();
    let mut terms = w.ncols();
    let mut m = l;
    loop {
        m -= 1;
        // Coefficients on z_m from coefficients on h_m = relu(z_m).
        let (lo, hi) = (&lower[m], &upper[m]);
        let kept: Vec<usize> = (0..lo.len()).filter(|&j| hi[j] > 0.0).collect();
        let mut coef = Mat::zeros(r2, kept.len());
        for (c, &j) in kept.iter().enumerate() {
            let (lj, uj) = (lo[j], hi[j]);
            if lj >= 0.0 {
                for i in 0..r2 {
                    coef[(i, c)] = lambda[(i, j)];
                }
            } else {
                let s = uj / (uj - lj);
                let alpha = if uj >= -lj { 1.0 } else { 0.0 };
                for i in 0..r2 {
                    let v = lambda[(i, j)];
                    if v >= 0.0 {
                        coef[(i, c)] = v * s;
                        let shift = -v * s * lj;
                        beta[i] += shift;
                        beta_abs[i] += shift.abs();
                    } else {
                        coef[(i, c)] = v * alpha;
                    }
                }
            }
        }
        // Substitute z_m = W_m h_{m-1} + b_m.
        let wm = net.layers()[m].weight();
        let bm = net.layers()[m].bias();
        for i in 0..r2 {
            for (c, &j) in kept.iter().enumerate() {
                let t = coef[(i, c)] * bm[j];
                beta[i] += t;
                beta_abs[i] += t.abs();
            }
        }
        terms += kept.len();
        if m == 0 {
            return concretise(
                p,
                domain,
                compressed_first,
                &coef,
                &kept,
                &beta,
                &beta_abs,
                terms,
            );
        }
        let wk = Mat::from_fn(kept.len(), wm.ncols(), |c, j| wm[(kept[c], j)]);
        lambda = Mat::zeros(r2, wm.ncols());
        matmul(
            lambda.as_mut(),
            Accum::Replace,
            coef.as_ref(),
            wk.as_ref(),
            1.0,
            Par::Seq,
        );
    }
}

/// The suprema over the domain of `coef . z_1(x) + beta` (coefficients on the kept
/// first-layer neurons), as (lower bounds, upper bounds) of the target neurons.
#[allow(clippy::too_many_arguments)]
fn concretise(
    p: &BoundPropagator<'_>,
    domain: &Domain,
    compressed_first: Option<MatRef<'_, f64>>,
    coef: &Mat<f64>,
    kept: &[usize],
    beta: &[f64],
    beta_abs: &[f64],
    terms: usize,
) -> (Vec<f64>, Vec<f64>) {
    let w0 = p.net.layers()[0].weight();
    let d = w0.ncols();
    let r2 = coef.nrows();
    let k = r2 / 2;
    let mut sup = vec![0.0; r2];
    let terms = terms + d;
    match (domain, compressed_first) {
        (Domain::Ball(ball), Some(basis)) => {
            // a = coef W_0[kept]: a.c = coef (W_0 c)[kept]; ||a||_2 = ||coef basis[kept]||_2.
            let c = &ball.center;
            let wc: Vec<f64> = kept
                .iter()
                .map(|&j| (0..d).map(|t| w0[(j, t)] * c[t]).sum::<f64>())
                .collect();
            let wc_abs: Vec<f64> = kept
                .iter()
                .map(|&j| (0..d).map(|t| (w0[(j, t)] * c[t]).abs()).sum::<f64>())
                .collect();
            let bk = Mat::from_fn(kept.len(), basis.ncols(), |c, j| basis[(kept[c], j)]);
            let mut a = Mat::zeros(r2, basis.ncols());
            matmul(
                a.as_mut(),
                Accum::Replace,
                coef.as_ref(),
                bk.as_ref(),
                1.0,
                Par::Seq,
            );
            for i in 0..r2 {
                let mut center = beta[i];
                let mut mag = beta_abs[i];
                for c in 0..kept.len() {
                    center += coef[(i, c)] * wc[c];
                    mag += coef[(i, c)].abs() * wc_abs[c];
                }
                let norm = a.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
                let spread = ball.radius * norm;
                sup[i] = center + spread + rounding_margin(terms, mag + spread);
            }
        }
        _ => {
            let wk = Mat::from_fn(kept.len(), d, |c, j| w0[(kept[c], j)]);
            let mut a = Mat::zeros(r2, d);
            matmul(
                a.as_mut(),
                Accum::Replace,
                coef.as_ref(),
                wk.as_ref(),
                1.0,
                Par::Seq,
            );
            let mut row = vec![0.0; d];
            for i in 0..r2 {
                for j in 0..d {
                    row[j] = a[(i, j)];
                }
                let (_, hi, mag) = domain.linear_range(&row, beta[i]);
                sup[i] = hi + rounding_margin(terms, mag + beta_abs[i]);
            }
        }
    }
    let upper = sup[..k].to_vec();
    let lower = sup[k..].iter().map(|v| -v).collect();
    (lower, upper)
}
