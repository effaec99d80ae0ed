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
    let mut layers = vec![crate::network::Affine::new(w2, bias)?];
    layers.extend(net.layers()[1..].iter().cloned());
    Network::new(layers, net.output_relu())
}

/// Forward passes at the interior points, in parallel chunks.
pub(super) fn verify(
    net: &Network,
    plane: &Plane,
    regions: &mut [PlaneRegion],
) -> Result<(usize, f64), NetworkError> {
    let restricted = restricted_to_plane(net, plane)?;
    let results: Vec<(usize, f64)> = regions
        .par_chunks_mut(256)
        .map(|chunk| -> Result<(usize, f64), NetworkError> {
            let x = Mat::from_fn(chunk.len(), 2, |i, j| chunk[i].interior[j]);
            let eval = restricted.evaluate_batch(x.as_ref(), Par::Seq)?;
            let mut bad = 0;
            let mut err = 0.0_f64;
            for (i, region) in chunk.iter_mut().enumerate() {
                let ok = eval.patterns[i] == region.pattern;
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
