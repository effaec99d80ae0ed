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
use crate::linalg::{compress_rows, gather_scaled_rows};
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
    Ok(BoundaryDistanceSolver::new(net).solve(x, &z, norm))
}

/// [`boundary_distance`] for many points (one per row), in parallel over points.
pub fn boundary_distances_batch(
    net: &Network,
    points: MatRef<'_, f64>,
    norm: Norm,
) -> Result<Vec<BoundaryDistance>, NetworkError> {
    use rayon::prelude::*;
    let z = net.pre_activations_batch(points, Par::Seq)?;
    let solver = BoundaryDistanceSolver::new(net);
    Ok((0..points.nrows())
        .into_par_iter()
        .map(|i| {
            let x: Vec<f64> = (0..points.ncols()).map(|j| points[(i, j)]).collect();
            let zi: Vec<Vec<f64>> = z
                .iter()
                .map(|m| (0..m.ncols()).map(|j| m[(i, j)]).collect())
                .collect();
            solver.solve(&x, &zi, norm)
        })
        .collect())
}

/// Computes [`BoundaryDistance`]s for one network; build once, use for many points.
///
/// The gradient norms are computed in a compressed basis. Write the first layer's
/// gradients as `W_1 = R^T Q^T` (a QR factorisation of `W_1^T`, `Q` with orthonormal
/// columns). Every neuron's gradient is then `g_k = m_k^T W_1 = (m_k^T R^T) Q^T`, and
/// since `Q` has orthonormal columns, `||g_k||_2 = ||m_k^T R^T||_2`: the recursion
/// `J_l = W_l[:, A] J_{l-1}[A, :]` can run on `r`-column matrices (`r = rank basis size`)
/// instead of `d`-column ones. Whenever the active rows `J_l[A, :]` are fewer than the
/// basis size, they are compressed again the same way (`J[A, :]^T = Q' R'`, continue with
/// `R'^T`). For MNIST-sized inputs this divides the work by `d / a` (784 / ~100).
///
/// L2 distances come straight from these norms. For L-inf the dual norm is `||g||_1`,
/// which an orthogonal change of basis does not preserve; but
/// `||g||_2 <= ||g||_1 <= sqrt(d_eff) ||g||_2` (`d_eff` = number of inputs with a nonzero
/// column in `W_1`, outside which every gradient vanishes), so neurons are visited in
/// increasing order of the lower bound `|z| / (sqrt(d_eff) ||g||_2)`, their exact `g` is
/// computed by one reverse-mode pass each, and the search stops when the lower bound
/// reaches the best exact L-inf distance found.
#[derive(Debug, Clone)]
pub struct BoundaryDistanceSolver<'a> {
    net: &'a Network,
    /// `J_1` in the compressed basis (`n_1 x r`).
    first: Mat<f64>,
    /// `||w_{1,i}||_2` and `||w_{1,i}||_1`, exactly from `W_1`.
    first_l2: Vec<f64>,
    first_l1: Vec<f64>,
    /// Inputs on which some first-layer weight is nonzero.
    effective_inputs: usize,
}

/// A neuron's distance data in the search.
struct Candidate {
    id: NeuronId,
    value: f64,
    l2: f64,
}

impl<'a> BoundaryDistanceSolver<'a> {
    /// Precomputes the first layer's compressed basis (one QR of `W_1^T` when `n_1 < d`).
    pub fn new(net: &'a Network) -> Self {
        let w = net.layers()[0].weight();
        let (n1, d) = (w.nrows(), w.ncols());
        let first = if n1 < d {
            compress_rows(w.to_owned().as_ref())
        } else {
            w.to_owned()
        };
        let first_l2 = (0..n1)
            .map(|i| w.row(i).iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect();
        let first_l1 = (0..n1)
            .map(|i| w.row(i).iter().map(|v| v.abs()).sum::<f64>())
            .collect();
        let effective_inputs = (0..d)
            .filter(|&j| w.col(j).iter().any(|&v| v != 0.0))
            .count();
        Self {
            net,
            first,
            first_l2,
            first_l1,
            effective_inputs,
        }
    }

    /// Every ReLU neuron with its value at `x` and exact `||g||_2` (`0` for neurons
    /// constant on the region).
    fn l2_norms(&self, z: &[Vec<f64>]) -> Vec<Candidate> {
        let relu_layers = self.net.relu_layer_count();
        let mut out = Vec::with_capacity(self.net.relu_count());
        for (i, &l2) in self.first_l2.iter().enumerate() {
            out.push(Candidate {
                id: NeuronId { layer: 0, index: i },
                value: z[0][i],
                l2,
            });
        }
        // The neurons passing a nonzero multiple of their map, and the rows they pass.
        let columns_of = |l: usize| self.net.frozen_columns(l, |i| z[l][i] > 0.0);
        let passed = gather_scaled_rows;
        let mut active = columns_of(0);
        let mut rows = passed(self.first.as_ref(), &active);
        for l in 1..relu_layers {
            let w = self.net.layers()[l].weight();
            if rows.ncols() > 0 && 4 * rows.nrows() < 3 * rows.ncols() {
                rows = compress_rows(rows.as_ref());
            }
            let j = product_with_active_columns(w, &active, rows.as_ref());
            for i in 0..j.nrows() {
                let l2 = j.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
                out.push(Candidate {
                    id: NeuronId { layer: l, index: i },
                    value: z[l][i],
                    l2,
                });
            }
            active = columns_of(l);
            rows = passed(j.as_ref(), &active);
        }
        out
    }

    /// The exact gradient of neuron `id` on the region (reverse mode through the active
    /// neurons of the earlier layers).
    fn gradient(&self, id: NeuronId, z: &[Vec<f64>]) -> Vec<f64> {
        let layers = self.net.layers();
        let w = layers[id.layer].weight();
        let mut v: Vec<f64> = w.row(id.index).iter().copied().collect();
        for m in (0..id.layer).rev() {
            let wm = layers[m].weight();
            let mut next = vec![0.0; wm.ncols()];
            for (i, &vi) in v.iter().enumerate() {
                let vi = vi * self.net.activation_slope(m, i, z[m][i] > 0.0);
                if vi != 0.0 {
                    for (j, wij) in wm.row(i).iter().enumerate() {
                        next[j] += vi * wij;
                    }
                }
            }
            v = next;
        }
        v
    }

    /// The distance from `x` (with pre-activations `z` from [`Network::pre_activations`])
    /// to the boundary of its region.
    pub fn solve(&self, x: &[f64], z: &[Vec<f64>], norm: Norm) -> BoundaryDistance {
        let relu_layers = self.net.relu_layer_count();
        let pattern = ActivationPattern::from_signs(
            z[..relu_layers]
                .iter()
                .flat_map(|layer| layer.iter().map(|&v| v > 0.0)),
        );
        let candidates = self.l2_norms(z);
        let vanishing: Vec<NeuronId> = candidates
            .iter()
            .filter(|c| c.l2 > 0.0 && c.value == 0.0)
            .map(|c| c.id)
            .collect();
        let best = match norm {
            Norm::L2 => candidates
                .iter()
                .filter(|c| c.l2 > 0.0)
                .map(|c| (c.value.abs() / c.l2, c))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, c)| (c.id, c.value, self.gradient(c.id, z))),
            Norm::LInf => self.nearest_linf(candidates, z),
        };
        let Some((id, value, g)) = best else {
            return BoundaryDistance {
                norm,
                distance: f64::INFINITY,
                nearest: None,
                nearest_point: None,
                vanishing,
                pattern,
            };
        };
        let dual = norm.dual_of(&g);
        let nearest_point: Vec<f64> = match norm {
            Norm::L2 => {
                let g2 = dual * dual;
                x.iter()
                    .zip(&g)
                    .map(|(xi, gi)| xi - value / g2 * gi)
                    .collect()
            }
            Norm::LInf => x
                .iter()
                .zip(&g)
                .map(|(xi, gi)| {
                    if *gi == 0.0 {
                        *xi
                    } else {
                        xi - value / dual * gi.signum()
                    }
                })
                .collect(),
        };
        BoundaryDistance {
            norm,
            distance: value.abs() / dual,
            nearest: Some(id),
            nearest_point: Some(nearest_point),
            vanishing,
            pattern,
        }
    }

    /// Best-first search for the nearest hyperplane in L-inf (see the type's docs).
    fn nearest_linf(
        &self,
        mut candidates: Vec<Candidate>,
        z: &[Vec<f64>],
    ) -> Option<(NeuronId, f64, Vec<f64>)> {
        candidates.retain(|c| c.l2 > 0.0);
        let root = (self.effective_inputs as f64).sqrt();
        let lower = |c: &Candidate| c.value.abs() / (root * c.l2);
        candidates.sort_by(|a, b| lower(a).total_cmp(&lower(b)));
        let mut best: Option<(f64, NeuronId, f64, Vec<f64>)> = None;
        for c in &candidates {
            if let Some((d, ..)) = &best {
                // The margin covers rounding in the compressed L2 norms.
                if lower(c) * (1.0 - 1e-9) >= *d {
                    break;
                }
            }
            let (l1, g) = if c.id.layer == 0 {
                (self.first_l1[c.id.index], Vec::new())
            } else {
                let g = self.gradient(c.id, z);
                (g.iter().map(|v| v.abs()).sum::<f64>(), g)
            };
            if l1 == 0.0 {
                continue;
            }
            let d = c.value.abs() / l1;
            if best.as_ref().is_none_or(|(b, ..)| d < *b) {
                best = Some((d, c.id, c.value, g));
            }
        }
        best.map(|(_, id, value, g)| {
            let g = if g.is_empty() {
                self.gradient(id, z)
            } else {
                g
            };
            (id, value, g)
        })
    }
}

/// `W[:, A] P` where `P` holds the (scaled) rows of the passing neurons `A` in order.
fn product_with_active_columns(
    w: MatRef<'_, f64>,
    active: &[(usize, f64)],
    rows: MatRef<'_, f64>,
) -> Mat<f64> {
    let wa = Mat::from_fn(w.nrows(), active.len(), |i, k| w[(i, active[k].0)]);
    let mut out = Mat::zeros(w.nrows(), rows.ncols());
    matmul(
        out.as_mut(),
        Accum::Replace,
        wa.as_ref(),
        rows,
        1.0,
        Par::Seq,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn random_unit(rng: &mut StdRng, d: usize, norm: Norm) -> Vec<f64> {
        let v: Vec<f64> = (0..d)
            .map(|_| crate::random::standard_normal(rng))
            .collect();
        let n = norm.of(&v);
        v.iter().map(|x| x / n).collect()
    }

    /// Random networks as in the issue: input dimension 2 to 50, 1 to 6 hidden layers,
    /// PyTorch-default and He initialisation, a third of them made degenerate
    /// (duplicated, negated, zeroed and dead neurons).
    fn suite_network(rng: &mut StdRng, trial: usize) -> Network {
        use crate::random::{Init, random_network};
        let d = rng.random_range(2..=50);
        let depth = rng.random_range(1..=6);
        let mut widths = vec![d];
        for _ in 0..depth {
            widths.push(rng.random_range(2..=24));
        }
        widths.push(rng.random_range(1..=4));
        let init = if trial % 2 == 0 {
            Init::He
        } else {
            Init::PytorchDefault
        };
        let net = random_network(&widths, init, trial % 7 == 0, rng);
        let net = if trial % 3 == 0 {
            crate::random::degenerate_variant(&net, rng)
        } else {
            net
        };
        // Leaky ReLUs on every other network.
        if trial % 2 == 1 {
            crate::random::leaky_variant(&net, rng)
        } else {
            net
        }
    }

    #[test]
    fn ball_inside_radius_keeps_the_pattern_and_the_nearest_point_leaves() {
        let mut rng = StdRng::seed_from_u64(11);
        for trial in 0..300 {
            let net = suite_network(&mut rng, trial);
            let d = net.input_dim();
            let x: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            for norm in [Norm::L2, Norm::LInf] {
                let r = boundary_distance(&net, &x, norm).unwrap();
                let p = net.pattern(&x).unwrap();
                assert_eq!(r.pattern, p);
                if !r.distance.is_finite() {
                    continue;
                }
                for k in 0..50 {
                    let u = if norm == Norm::LInf && k % 2 == 0 {
                        // A vertex of the L-inf ball: the hardest direction.
                        (0..d)
                            .map(|_| {
                                if rng.random_range(0..2) == 0 {
                                    -1.0
                                } else {
                                    1.0
                                }
                            })
                            .collect()
                    } else {
                        random_unit(&mut rng, d, norm)
                    };
                    let s: f64 = rng.random_range(0.0..0.999);
                    let y: Vec<f64> = x
                        .iter()
                        .zip(&u)
                        .map(|(a, b)| a + s * r.distance * b)
                        .collect();
                    assert_eq!(
                        net.pattern(&y).unwrap(),
                        p,
                        "trial {trial}: inside r* the pattern changed"
                    );
                }
                // Past the nearest point the nearest neuron has flipped.
                let q = r.nearest_point.as_ref().unwrap();
                let dist = norm.of(&x.iter().zip(q).map(|(a, b)| a - b).collect::<Vec<_>>());
                assert!((dist - r.distance).abs() <= 1e-9 * (1.0 + r.distance));
                let beyond: Vec<f64> = x
                    .iter()
                    .zip(q)
                    .map(|(a, b)| a + (b - a) * (1.0 + 1e-6))
                    .collect();
                assert_ne!(net.pattern(&beyond).unwrap(), p, "trial {trial}");
            }
        }
    }
}

#[cfg(test)]
mod solver_tests {
    use super::*;
    use crate::random::{Init, random_network};
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    /// The distance by brute force: all gradients from the local affine map.
    fn naive(net: &Network, x: &[f64], norm: Norm) -> f64 {
        let map = net.local_affine_map(x).unwrap();
        let z = net.pre_activations(x).unwrap();
        let mut best = f64::INFINITY;
        for (l, g) in map.gradients.iter().enumerate() {
            for i in 0..g.nrows() {
                let row: Vec<f64> = g.row(i).iter().copied().collect();
                let dual = norm.dual_of(&row);
                if dual > 0.0 {
                    best = best.min(z[l][i].abs() / dual);
                }
            }
        }
        best
    }

    #[test]
    fn compressed_solver_equals_brute_force() {
        let mut rng = StdRng::seed_from_u64(3);
        for trial in 0..80 {
            // Wide inputs and narrow layers, so that compression happens at every layer.
            let d = rng.random_range(2..60);
            let depth = rng.random_range(1..6);
            let mut widths = vec![d];
            for _ in 0..depth {
                widths.push(rng.random_range(1..30));
            }
            widths.push(3);
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let net = random_network(&widths, init, trial % 5 == 0, &mut rng);
            let net = if trial % 3 == 1 {
                crate::random::leaky_variant(&net, &mut rng)
            } else {
                net
            };
            let x: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            for norm in [Norm::L2, Norm::LInf] {
                let fast = boundary_distance(&net, &x, norm).unwrap().distance;
                let slow = naive(&net, &x, norm);
                if slow.is_infinite() {
                    assert!(fast.is_infinite());
                } else {
                    assert!(
                        (fast - slow).abs() <= 1e-9 * slow,
                        "trial {trial} {norm:?}: {fast} vs {slow}"
                    );
                }
            }
        }
    }

    #[test]
    fn batch_equals_single() {
        let mut rng = StdRng::seed_from_u64(9);
        let net = random_network(&[40, 16, 16, 16, 4], Init::He, false, &mut rng);
        let x = Mat::from_fn(20, 40, |_, _| rng.random_range(-1.0..1.0));
        let batch = boundary_distances_batch(&net, x.as_ref(), Norm::L2).unwrap();
        for (i, b) in batch.iter().enumerate() {
            let xi: Vec<f64> = (0..40).map(|j| x[(i, j)]).collect();
            // Batched pre-activations come from a matrix product: equal up to rounding.
            let single = boundary_distance(&net, &xi, Norm::L2).unwrap();
            assert_eq!(b.nearest, single.nearest);
            assert_eq!(b.pattern, single.pattern);
            assert!((b.distance - single.distance).abs() <= 1e-12 * single.distance);
        }
    }

    #[test]
    fn boundary_and_unbounded_cases() {
        use crate::network::Affine;
        // z = x_0 - x_1: the point (1, 1) is on the hyperplane.
        let net = Network::new(
            vec![
                Affine::from_row_major(1, 2, &[1.0, -1.0], vec![0.0]).unwrap(),
                Affine::from_row_major(1, 1, &[1.0], vec![0.0]).unwrap(),
            ],
            false,
        )
        .unwrap();
        let r = boundary_distance(&net, &[1.0, 1.0], Norm::L2).unwrap();
        assert_eq!(r.distance, 0.0);
        assert_eq!(r.vanishing, vec![NeuronId { layer: 0, index: 0 }]);
        let r = boundary_distance(&net, &[2.0, 1.0], Norm::L2).unwrap();
        assert!((r.distance - 1.0 / 2f64.sqrt()).abs() < 1e-15);
        let r = boundary_distance(&net, &[2.0, 1.0], Norm::LInf).unwrap();
        assert!((r.distance - 0.5).abs() < 1e-15);
        assert_eq!(r.nearest_point, Some(vec![1.5, 1.5]));
        // All-zero first layer: every neuron is constant, the region is everything.
        let flat = Network::new(
            vec![
                Affine::from_row_major(2, 2, &[0.0; 4], vec![1.0, -1.0]).unwrap(),
                Affine::from_row_major(1, 2, &[1.0, 1.0], vec![0.0]).unwrap(),
            ],
            false,
        )
        .unwrap();
        let r = boundary_distance(&flat, &[0.3, 0.4], Norm::LInf).unwrap();
        assert!(r.distance.is_infinite() && r.nearest.is_none());
    }
}
