//! The independent check of a partition (a forward pass through the network restricted
//! to the plane), and the patterns at given points of a slice.

use faer::{Mat, Par};

use super::*;
use crate::error::NetworkError;

/// The network restricted to the plane, on `(a, b)`: its first layer is `W_1 [u v]` with
/// bias `W_1 c + b_1` (one pass over `W_1`), the later layers are the network's own. A
/// forward pass through it is a forward pass of the network at `c + a u + b v`, up to
/// rounding, without the input dimension's cost; it does not use the partition's
/// composed maps, so the check below stays independent of them.
pub(super) fn restricted_to_plane(net: &Network, plane: &Plane) -> Result<Network, NetworkError> {
    let first = &net.layers()[0];
    let w = first.weight();
    let n = w.nrows();
    // Column by column (contiguous in faer's layout); each sum still runs over `j` in
    // order.
    let (mut wu, mut wv, mut wc) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for j in 0..w.ncols() {
        let (u, v, c) = (plane.u()[j], plane.v()[j], plane.center()[j]);
        for (i, wij) in w.col(j).iter().enumerate() {
            wu[i] += wij * u;
            wv[i] += wij * v;
            wc[i] += wij * c;
        }
    }
    let w2 = Mat::<f64>::from_fn(n, 2, |i, k| if k == 0 { wu[i] } else { wv[i] });
    let bias: Vec<f64> = first.bias().iter().zip(&wc).map(|(b, c)| b + c).collect();
    net.subnetwork(crate::network::Affine::new(w2, bias)?, 0)
}

/// A bound, per neuron, on the error of the restricted first layer's value at any
/// `(a, b)` with `|a|, |b| <= reach`: its weights `W u`, `W v` and bias `W c + b` are
/// computed sums of `n` terms, each off by at most `4 (n + 2) ε` times the sum of their
/// terms' magnitudes ([`crate::stability`]'s margin).
fn restricted_first_error(net: &Network, plane: &Plane, reach: f64) -> Vec<f64> {
    let first = &net.layers()[0];
    let w = first.weight();
    (0..w.nrows())
        .map(|i| {
            let magnitude = (0..w.ncols())
                .map(|j| {
                    w[(i, j)].abs()
                        * (plane.center()[j].abs()
                            + reach * (plane.u()[j].abs() + plane.v()[j].abs()))
                })
                .sum::<f64>()
                + first.bias()[i].abs();
            crate::stability::rounding_margin(w.ncols(), magnitude)
        })
        .collect()
}

/// Forward passes at the interior points, in parallel chunks: a region is confirmed when
/// its pattern is certified there ([`Network::certified_patterns_batch`], docs/math.md
/// §5.2), through the network restricted to the plane with the error of its computed
/// first layer.
pub(super) fn verify(
    net: &Network,
    plane: &Plane,
    regions: &mut [PlaneRegion],
) -> Result<(usize, f64), NetworkError> {
    let restricted = restricted_to_plane(net, plane)?;
    let reach = regions.iter().fold(0.0_f64, |m, r| {
        m.max(r.interior[0].abs()).max(r.interior[1].abs())
    });
    let first_error = restricted_first_error(net, plane, reach);
    let results: Vec<(usize, f64)> = regions
        .par_chunks_mut(256)
        .map(|chunk| -> Result<(usize, f64), NetworkError> {
            let x = Mat::from_fn(chunk.len(), 2, |i, j| chunk[i].interior[j]);
            let eval = restricted.evaluate_batch(x.as_ref(), Par::Seq)?;
            let certified =
                restricted.certified_patterns_batch(x.as_ref(), Some(&first_error), Par::Seq)?;
            let mut bad = 0;
            let mut err = 0.0_f64;
            for (i, region) in chunk.iter_mut().enumerate() {
                let ok = certified[i].as_ref() == Some(&region.pattern);
                region.verified = Some(ok);
                bad += usize::from(!ok);
                for (o, v) in region.output.eval(region.interior).iter().enumerate() {
                    let f = eval.outputs[(i, o)];
                    err = err.max((f - v).abs() / (1.0 + f.abs()));
                }
            }
            Ok((bad, err))
        })
        .collect::<Result<_, _>>()?;
    Ok(results
        .into_iter()
        .fold((0, 0.0), |(b, e), (b2, e2)| (b + b2, f64::max(e, e2))))
}

/// The activation patterns at points of the slice (one forward pass each, batched).
pub fn patterns_at(
    net: &Network,
    plane: &Plane,
    points: &[Point2],
) -> Result<Vec<ActivationPattern>, NetworkError> {
    let chunks: Vec<Vec<ActivationPattern>> = points
        .par_chunks(1024)
        .map(|chunk| net.patterns_batch(plane.points(chunk).as_ref(), Par::Seq))
        .collect::<Result<_, _>>()?;
    Ok(chunks.into_iter().flatten().collect())
}
