//! Interval bounds with an exact first layer.
//!
//! Layer 1 is affine in `x`, so its range over the domain is exact:
//! `[w.c + b - r ||w||_*, w.c + b + r ||w||_*]` for a ball, the centre/radius form for a
//! box ([`Domain::linear_range`]). For deeper layers the post-ReLU values lie in the box
//! `[relu(lo), relu(hi)]`, and `z = W h + b` ranges within `W m + b -+ |W| w` (midpoint
//! `m`, half-width `w`): interval arithmetic, sound and monotone in the domain.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};

use super::{BoundPropagator, NeuronBounds, rounding_margin};
use crate::domain::{Domain, Norm};

/// The exact range of the first layer over the domain, widened by rounding margins.
pub(crate) fn first_layer(p: &BoundPropagator<'_>, domain: &Domain) -> (Vec<f64>, Vec<f64>) {
    let layer = &p.net.layers()[0];
    let w = layer.weight();
    let n = w.nrows();
    let d = w.ncols();
    match domain {
        Domain::Ball(ball) => {
            let c = Mat::from_fn(d, 1, |j, _| ball.center[j]);
            let max_c = ball.center.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let mut wc = Mat::zeros(n, 1);
            matmul(wc.as_mut(), Accum::Replace, w, c.as_ref(), 1.0, Par::Seq);
            let dual = match ball.norm {
                Norm::L2 => &p.first_l2,
                Norm::LInf => &p.first_l1,
            };
            let mut lo = vec![0.0; n];
            let mut hi = vec![0.0; n];
            for i in 0..n {
                let center = wc[(i, 0)] + layer.bias()[i];
                let spread = ball.radius * dual[i];
                let mag = p.row_l1[0][i] * max_c;
                let margin = rounding_margin(d, mag + layer.bias()[i].abs() + spread);
                lo[i] = center - spread - margin;
                hi[i] = center + spread + margin;
            }
            (lo, hi)
        }
        Domain::Box(b) => {
            let mid: Vec<f64> = b.lo.iter().zip(&b.hi).map(|(l, h)| 0.5 * (l + h)).collect();
            let half: Vec<f64> = b.lo.iter().zip(&b.hi).map(|(l, h)| 0.5 * (h - l)).collect();
            affine_box(p, 0, &mid, &half)
        }
    }
}

/// The range of `z_l = W_l h + b_l` for `h` in the box with midpoint `mid` and half-widths
/// `half`, widened by rounding margins.
pub(crate) fn affine_box(
    p: &BoundPropagator<'_>,
    l: usize,
    mid: &[f64],
    half: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let layer = &p.net.layers()[l];
    let w = layer.weight();
    let (n, m) = (w.nrows(), w.ncols());
    let mid_m = Mat::from_fn(m, 1, |j, _| mid[j]);
    let max_mid = mid.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let half_m = Mat::from_fn(m, 1, |j, _| half[j]);
    let mut center = Mat::zeros(n, 1);
    matmul(
        center.as_mut(),
        Accum::Replace,
        w,
        mid_m.as_ref(),
        1.0,
        Par::Seq,
    );
    let mut spread = Mat::zeros(n, 1);
    matmul(
        spread.as_mut(),
        Accum::Replace,
        p.abs_weights[l].as_ref(),
        half_m.as_ref(),
        1.0,
        Par::Seq,
    );
    let mut lo = vec![0.0; n];
    let mut hi = vec![0.0; n];
    for i in 0..n {
        let c = center[(i, 0)] + layer.bias()[i];
        // The spread itself is rounded upward by the margin too.
        let s = spread[(i, 0)];
        let mag = p.row_l1[l][i] * max_mid;
        let margin = rounding_margin(m, mag + layer.bias()[i].abs() + s);
        lo[i] = c - s - margin;
        hi[i] = c + s + margin;
    }
    (lo, hi)
}

/// The post-activation box of a layer with pre-activation bounds `[lo, hi]`, as midpoint
/// and half-width: `[σ(lo), σ(hi)]`, `σ` non-decreasing (ReLU, or a leaky ReLU with
/// negative slopes `slopes` in `[0, 1]`; the product `α lo` widened by its rounding).
pub(crate) fn relu_box(lo: &[f64], hi: &[f64], slopes: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    lo.iter()
        .zip(hi)
        .enumerate()
        .map(|(j, (&l, &h))| {
            let (a, b) = match slopes {
                None => (l.max(0.0), h.max(0.0)),
                Some(alpha) => {
                    let leak = |v: f64| {
                        let p = alpha[j] * v;
                        p - f64::EPSILON * p.abs()
                    };
                    let a = if l > 0.0 { l } else { leak(l) };
                    let b = if h > 0.0 { h } else { -leak(-h) };
                    (a, b)
                }
            };
            (0.5 * (a + b), 0.5 * (b - a))
        })
        .unzip()
}

/// Interval bounds of every layer.
pub(crate) fn interval_bounds(p: &BoundPropagator<'_>, domain: &Domain) -> NeuronBounds {
    let layers = p.net.layers().len();
    let (lo, hi) = first_layer(p, domain);
    let mut lower = vec![lo];
    let mut upper = vec![hi];
    for l in 1..layers {
        let (mid, half) = relu_box(&lower[l - 1], &upper[l - 1], p.net.negative_slopes(l - 1));
        let (lo, hi) = affine_box(p, l, &mid, &half);
        lower.push(lo);
        upper.push(hi);
    }
    NeuronBounds {
        lower,
        upper,
        relu_layers: p.net.relu_layer_count(),
    }
}
