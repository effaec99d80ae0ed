//! The exact distance from a point to the boundary of its activation region.
//!
//! On the region `R` of `x` every neuron is affine, `z_k(y) = z_k(x) + g_k . (y - x)`
//! ([`crate::region`]), and `R` is the intersection of the half-spaces
//! `{sign z_k(y) = sign z_k(x)}` over the neurons with `g_k != 0` (the others are constant
//! on `R`). For a point inside a polyhedron, the largest ball around it that stays inside
//! has radius `min_k dist(x, H_k)`, redundant half-spaces included (a ball inside `R` is
//! inside every half-space). Hence
//!
//! `r*(x) = min_{k : g_k != 0} |z_k(x)| / ||g_k||_*`
//!
//! with the dual norm `||.||_*` of the norm measuring distance (L2 for L2; L1 for L-inf).
//! Every point of the open ball `B(x, r*)` has `x`'s pattern, and a closest boundary point
//! is `x - z_k / ||g_k||_2^2 g_k` (L2) or `x - z_k / ||g_k||_1 sign(g_k)` (L-inf) for the
//! minimising neuron `k`.
//!
//! When some neuron has `z_k(x) = 0` and `g_k != 0`, `x` lies on a boundary: `r* = 0`, and
//! those neurons are reported. When no neuron has a nonzero gradient (all ReLUs stably
//! off, or no ReLU), the region is the whole space and `r* = +inf`.
//!
//! Units: input units of the network. Cost: the gradients of all neurons, one product
//! `W_l[:, A] J_{l-1}[A, :]` per layer (see [`crate::region`]).

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::domain::Norm;
use crate::error::NetworkError;
use crate::network::{Network, NeuronId};
use crate::pattern::ActivationPattern;

/// The distance from a point to the boundary of its activation region.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryDistance {
    /// The norm the distance is measured in.
    pub norm: Norm,
    /// `r*(x)`, in input units; `f64::INFINITY` when the region is the whole space.
    pub distance: f64,
    /// A neuron whose hyperplane is nearest (`None` when the distance is infinite).
    pub nearest: Option<NeuronId>,
    /// A closest point of the region's boundary (on the nearest neuron's hyperplane).
    pub nearest_point: Option<Vec<f64>>,
    /// Neurons with `z(x) = 0` and a nonzero gradient: `x` lies on their hyperplanes.
    pub vanishing: Vec<NeuronId>,
    /// The pattern of `x` (neurons with `z = 0` inactive).
    pub pattern: ActivationPattern,
}

/// The exact distance from `x` to the boundary of its activation region in `norm`.
pub fn boundary_distance(
    net: &Network,
    x: &[f64],
    norm: Norm,
) -> Result<BoundaryDistance, NetworkError> {
    let z = net.pre_activations(x)?;
    Ok(distance_from_preactivations(net, x, &z, norm))
}

/// [`boundary_distance`] for many points (one per row), in parallel over points.
pub fn boundary_distances_batch(
    net: &Network,
    points: MatRef<'_, f64>,
    norm: Norm,
) -> Result<Vec<BoundaryDistance>, NetworkError> {
    use rayon::prelude::*;
    let z = net.pre_activations_batch(points, Par::Seq)?;
    Ok((0..points.nrows())
        .into_par_iter()
        .map(|i| {
            let x: Vec<f64> = (0..points.ncols()).map(|j| points[(i, j)]).collect();
            let zi: Vec<Vec<f64>> = z
                .iter()
                .map(|m| (0..m.ncols()).map(|j| m[(i, j)]).collect())
                .collect();
            distance_from_preactivations(net, &x, &zi, norm)
        })
        .collect())
}

/// The nearest hyperplane found so far.
struct Nearest {
    ratio: f64,
    neuron: Option<NeuronId>,
    gradient: Vec<f64>,
    value: f64,
}

fn distance_from_preactivations(
    net: &Network,
    x: &[f64],
    z: &[Vec<f64>],
    norm: Norm,
) -> BoundaryDistance {
    let relu_layers = net.relu_layer_count();
    let pattern = ActivationPattern::from_signs(
        z[..relu_layers]
            .iter()
            .flat_map(|layer| layer.iter().map(|&v| v > 0.0)),
    );
    let mut best = Nearest {
        ratio: f64::INFINITY,
        neuron: None,
        gradient: Vec::new(),
        value: 0.0,
    };
    let mut vanishing = Vec::new();
    // Gradients of the previous layer's active neurons only (rows), `a x d`.
    let mut active_rows: Option<Mat<f64>> = None;
    for l in 0..relu_layers {
        let layer = &net.layers()[l];
        let w = layer.weight();
        let j = match &active_rows {
            None => w.to_owned(),
            Some(prev) => {
                let active: Vec<usize> = (0..z[l - 1].len()).filter(|&i| z[l - 1][i] > 0.0).collect();
                product_with_active_columns(w, &active, prev.as_ref())
            }
        };
        for i in 0..j.nrows() {
            let g = j.row(i);
            let dual = match norm {
                Norm::L2 => g.iter().map(|v| v * v).sum::<f64>().sqrt(),
                Norm::LInf => g.iter().map(|v| v.abs()).sum::<f64>(),
            };
            if dual == 0.0 {
                continue;
            }
            let value = z[l][i];
            if value == 0.0 {
                vanishing.push(NeuronId { layer: l, index: i });
            }
            let ratio = value.abs() / dual;
            if ratio < best.ratio {
                best = Nearest {
                    ratio,
                    neuron: Some(NeuronId { layer: l, index: i }),
                    gradient: g.iter().copied().collect(),
                    value,
                };
            }
        }
        let active: Vec<usize> = (0..z[l].len()).filter(|&i| z[l][i] > 0.0).collect();
        active_rows = Some(Mat::from_fn(active.len(), j.ncols(), |k, c| j[(active[k], c)]));
    }
    let nearest_point = best.neuron.map(|_| {
        let g = &best.gradient;
        match norm {
            Norm::L2 => {
                let g2: f64 = g.iter().map(|v| v * v).sum();
                x.iter()
                    .zip(g)
                    .map(|(xi, gi)| xi - best.value / g2 * gi)
                    .collect()
            }
            Norm::LInf => {
                let g1: f64 = g.iter().map(|v| v.abs()).sum();
                x.iter()
                    .zip(g)
                    .map(|(xi, gi)| {
                        if *gi == 0.0 {
                            *xi
                        } else {
                            xi - best.value / g1 * gi.signum()
                        }
                    })
                    .collect()
            }
        }
    });
    BoundaryDistance {
        norm,
        distance: best.ratio,
        nearest: best.neuron,
        nearest_point,
        vanishing,
        pattern,
    }
}

/// `W[:, A] P` where `P` holds the rows of the active neurons in order.
fn product_with_active_columns(w: MatRef<'_, f64>, active: &[usize], rows: MatRef<'_, f64>) -> Mat<f64> {
    let wa = Mat::from_fn(w.nrows(), active.len(), |i, k| w[(i, active[k])]);
    let mut out = Mat::zeros(w.nrows(), rows.ncols());
    matmul(out.as_mut(), Accum::Replace, wa.as_ref(), rows, 1.0, Par::Seq);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_network;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn random_unit(rng: &mut StdRng, d: usize, norm: Norm) -> Vec<f64> {
        let v: Vec<f64> = (0..d).map(|_| crate::random::standard_normal(rng)).collect();
        let n = norm.of(&v);
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn ball_inside_radius_keeps_the_pattern_and_the_nearest_point_leaves() {
        let mut rng = StdRng::seed_from_u64(11);
        for trial in 0..200 {
            let net = random_network(&mut rng, trial % 2 == 1);
            let d = net.input_dim();
            let x: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            for norm in [Norm::L2, Norm::LInf] {
                let r = boundary_distance(&net, &x, norm).unwrap();
                let p = net.pattern(&x).unwrap();
                assert_eq!(r.pattern, p);
                if !r.distance.is_finite() {
                    continue;
                }
                for _ in 0..50 {
                    let u = random_unit(&mut rng, d, norm);
                    let s: f64 = rng.random_range(0.0..0.999);
                    let y: Vec<f64> = x.iter().zip(&u).map(|(a, b)| a + s * r.distance * b).collect();
                    assert_eq!(net.pattern(&y).unwrap(), p, "trial {trial}: inside r* the pattern changed");
                }
                // Past the nearest point the nearest neuron has flipped.
                let q = r.nearest_point.as_ref().unwrap();
                let dist = norm.of(&x.iter().zip(q).map(|(a, b)| a - b).collect::<Vec<_>>());
                assert!((dist - r.distance).abs() <= 1e-9 * (1.0 + r.distance));
                let beyond: Vec<f64> = x.iter().zip(q).map(|(a, b)| a + (b - a) * (1.0 + 1e-6)).collect();
                assert_ne!(net.pattern(&beyond).unwrap(), p, "trial {trial}");
            }
        }
    }
}
