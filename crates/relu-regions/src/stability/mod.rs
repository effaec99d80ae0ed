//! Sound bounds on every neuron's pre-activation over a domain, and the neurons' stability.
//!
//! For a domain `K` (ball or box) the methods return, for every layer `l` and neuron `i`,
//! numbers `lo <= z_{l,i}(x) <= hi` valid for all `x in K`:
//!
//! - [`Method::Interval`]: the first layer exactly (`w.c + b -+ r ||w||_*` for a ball,
//!   centre/radius form for a box), then interval arithmetic through the ReLUs
//!   ([`interval`]).
//! - [`Method::Crown`]: backward linear bounds (CROWN with adaptive lower slopes, as in
//!   DeepPoly) concretised over the domain with the dual norm, intersected with the
//!   interval bounds layer by layer, so never looser than [`Method::Interval`]
//!   ([`crown`]).
//!
//! Floating point: every bound is widened by a bound on its rounding error,
//! `4 (n + 2) eps` times the sum of the absolute values of the terms that produced it
//! (`n` the number of terms), so the enclosure stays valid in f64. A neuron is *stably
//! active* when `lo > 0`, *stably inactive* when `hi < 0`, and *unstable* otherwise: a
//! bound that touches zero exactly is unstable (conservative).

pub mod crown;
pub mod interval;

use faer::Mat;

use crate::domain::{Domain, DomainError, Norm};
use crate::network::Network;

/// Which bound propagation to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Exact first layer, then interval arithmetic.
    Interval,
    /// Backward linear bounds (CROWN), intersected with interval bounds.
    Crown,
}

impl Method {
    /// Lower-case name (`ibp`, `crown`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Interval => "ibp",
            Self::Crown => "crown",
        }
    }
}

/// A neuron's state over a whole domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeuronState {
    /// `z > 0` on the whole domain.
    Active,
    /// `z < 0` on the whole domain.
    Inactive,
    /// Not proven either way: the neuron's hyperplane may meet the domain.
    Unstable,
}

/// Per layer, the number of stably active, stably inactive and unstable neurons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StabilityCounts {
    pub active: usize,
    pub inactive: usize,
    pub unstable: usize,
}

/// Sound pre-activation bounds of every layer (hidden layers and the output layer).
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronBounds {
    /// `lower[l][i] <= z_{l,i}(x)` for all `x` in the domain.
    pub lower: Vec<Vec<f64>>,
    /// `z_{l,i}(x) <= upper[l][i]` for all `x` in the domain.
    pub upper: Vec<Vec<f64>>,
    /// The number of ReLU layers (the layers whose states matter).
    pub relu_layers: usize,
}

impl NeuronBounds {
    /// The state of neuron `i` of layer `l`.
    pub fn state(&self, l: usize, i: usize) -> NeuronState {
        if self.lower[l][i] > 0.0 {
            NeuronState::Active
        } else if self.upper[l][i] < 0.0 {
            NeuronState::Inactive
        } else {
            NeuronState::Unstable
        }
    }

    /// Stability counts of every ReLU layer.
    pub fn counts(&self) -> Vec<StabilityCounts> {
        (0..self.relu_layers)
            .map(|l| {
                let mut c = StabilityCounts::default();
                for i in 0..self.lower[l].len() {
                    match self.state(l, i) {
                        NeuronState::Active => c.active += 1,
                        NeuronState::Inactive => c.inactive += 1,
                        NeuronState::Unstable => c.unstable += 1,
                    }
                }
                c
            })
            .collect()
    }

    /// Total number of unstable ReLU neurons.
    pub fn unstable(&self) -> usize {
        self.counts().iter().map(|c| c.unstable).sum()
    }
}

/// A rounding-error bound for a sum of `n` terms of total absolute value `magnitude`.
pub(crate) fn rounding_margin(n: usize, magnitude: f64) -> f64 {
    4.0 * (n as f64 + 2.0) * f64::EPSILON * magnitude
}

/// Precomputed per network: absolute weights and first-layer row norms. Build once and
/// bound many domains.
#[derive(Debug, Clone)]
pub struct BoundPropagator<'a> {
    pub(crate) net: &'a Network,
    /// `|W_l|` entrywise, for interval arithmetic.
    pub(crate) abs_weights: Vec<Mat<f64>>,
    /// `||w_{1,i}||_2` and `||w_{1,i}||_1`.
    pub(crate) first_l2: Vec<f64>,
    pub(crate) first_l1: Vec<f64>,
    /// The first layer's weights in a compressed basis with equal row norms and inner
    /// products (`W_1 = R^T Q^T`; see [`crate::distance::BoundaryDistanceSolver`]).
    pub(crate) compressed_first: Mat<f64>,
    /// Row L1 norms of every layer's weights, for cheap rounding-error magnitudes
    /// (`sum_j |w_ij| |m_j| <= ||w_i||_1 max_j |m_j|`).
    pub(crate) row_l1: Vec<Vec<f64>>,
    /// Every layer's weights and the compressed first-layer basis in f32, the operands of
    /// CROWN's matrix products (their rounding is bounded in [`crown`]).
    pub(crate) weights_f32: Vec<Mat<f32>>,
    pub(crate) compressed_first_f32: Mat<f32>,
    /// `|R^T|` entrywise, for the rounding bound of the products with it.
    pub(crate) abs_compressed_first: Mat<f64>,
    /// The widest layer, the longest sum in those products.
    pub(crate) max_width: usize,
}

impl<'a> BoundPropagator<'a> {
    pub fn new(net: &'a Network) -> Self {
        let abs_weights = net
            .layers()
            .iter()
            .map(|l| {
                let w = l.weight();
                Mat::from_fn(w.nrows(), w.ncols(), |i, j| w[(i, j)].abs())
            })
            .collect();
        let w = net.layers()[0].weight();
        let first_l2 = (0..w.nrows())
            .map(|i| Norm::L2.dual_of(&w.row(i).iter().copied().collect::<Vec<_>>()))
            .collect();
        let first_l1 = (0..w.nrows())
            .map(|i| Norm::LInf.dual_of(&w.row(i).iter().copied().collect::<Vec<_>>()))
            .collect();
        let compressed_first = if w.nrows() < w.ncols() {
            crate::linalg::compress_rows(w)
        } else {
            w.to_owned()
        };
        let row_l1 = net
            .layers()
            .iter()
            .map(|l| {
                let w = l.weight();
                (0..w.nrows())
                    .map(|i| w.row(i).iter().map(|v| v.abs()).sum())
                    .collect()
            })
            .collect();
        let to_f32 =
            |w: faer::MatRef<'_, f64>| Mat::from_fn(w.nrows(), w.ncols(), |i, j| w[(i, j)] as f32);
        let weights_f32 = net.layers().iter().map(|l| to_f32(l.weight())).collect();
        let compressed_first_f32 = to_f32(compressed_first.as_ref());
        let abs_compressed_first = compressed_first.as_ref().map(|v| v.abs());
        let max_width = net
            .layers()
            .iter()
            .map(|l| l.weight().nrows())
            .max()
            .unwrap_or(0);
        Self {
            net,
            abs_weights,
            weights_f32,
            compressed_first_f32,
            abs_compressed_first,
            max_width,
            first_l2,
            first_l1,
            compressed_first,
            row_l1,
        }
    }

    /// The network.
    pub fn network(&self) -> &'a Network {
        self.net
    }

    /// Sound bounds of every neuron over `domain` by `method`.
    pub fn bounds(&self, domain: &Domain, method: Method) -> Result<NeuronBounds, DomainError> {
        domain.check_dim(self.net.input_dim())?;
        Ok(match method {
            Method::Interval => interval::interval_bounds(self, domain),
            Method::Crown => crown::crown_bounds(self, domain),
        })
    }
}

/// Sound bounds of every neuron of `net` over `domain` (builds a [`BoundPropagator`]).
pub fn neuron_bounds(
    net: &Network,
    domain: &Domain,
    method: Method,
) -> Result<NeuronBounds, DomainError> {
    BoundPropagator::new(net).bounds(domain, method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{Init, random_architecture};
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn random_domain(rng: &mut StdRng, d: usize) -> Domain {
        let center: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let radius = [0.01, 0.05, 0.2, 0.5, 1.0, 3.0][rng.random_range(0..6)];
        match rng.random_range(0..3) {
            0 => Domain::ball(center, radius, Norm::L2).unwrap(),
            1 => Domain::ball(center, radius, Norm::LInf).unwrap(),
            _ => {
                let lo: Vec<f64> = center
                    .iter()
                    .map(|c| c - rng.random_range(0.0..radius))
                    .collect();
                let hi: Vec<f64> = center
                    .iter()
                    .map(|c| c + rng.random_range(0.0..radius))
                    .collect();
                Domain::boxed(lo, hi).unwrap()
            }
        }
    }

    /// Every pre-activation of `net` at the rows of `points` lies within `bounds`.
    fn assert_contains(net: &Network, bounds: &NeuronBounds, points: &Mat<f64>, trial: usize) {
        let z = net
            .pre_activations_batch(points.as_ref(), faer::Par::Seq)
            .unwrap();
        for (l, zl) in z.iter().enumerate() {
            for s in 0..zl.nrows() {
                for i in 0..zl.ncols() {
                    let v = zl[(s, i)];
                    assert!(
                        bounds.lower[l][i] <= v && v <= bounds.upper[l][i],
                        "trial {trial}: layer {l} neuron {i}: {v} outside [{}, {}]",
                        bounds.lower[l][i],
                        bounds.upper[l][i]
                    );
                }
            }
        }
    }

    #[test]
    fn bounds_contain_samples_and_crown_is_tighter() {
        let mut rng = StdRng::seed_from_u64(21);
        for trial in 0..300 {
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let net = random_architecture(&mut rng, init);
            // Leaky ReLUs on a third of the networks.
            let net = if trial % 3 == 2 {
                crate::random::leaky_variant(&net, &mut rng)
            } else {
                net
            };
            let domain = random_domain(&mut rng, net.input_dim());
            let p = BoundPropagator::new(&net);
            let ibp = p.bounds(&domain, Method::Interval).unwrap();
            let crown = p.bounds(&domain, Method::Crown).unwrap();
            for l in 0..ibp.lower.len() {
                for i in 0..ibp.lower[l].len() {
                    // Up to the rounding margins, which depend on the box midpoints.
                    let slack = 1e-12 * (1.0 + ibp.lower[l][i].abs() + ibp.upper[l][i].abs());
                    assert!(
                        crown.lower[l][i] >= ibp.lower[l][i] - slack,
                        "trial {trial}"
                    );
                    assert!(
                        crown.upper[l][i] <= ibp.upper[l][i] + slack,
                        "trial {trial}"
                    );
                    assert!(crown.lower[l][i] <= crown.upper[l][i]);
                }
            }
            assert!(crown.unstable() <= ibp.unstable());
            let samples = domain.sample_uniform(300, &mut rng);
            assert_contains(&net, &crown, &samples, trial);
        }
    }

    /// CROWN's products run in f32: at tiny radii, far from the origin and with badly
    /// scaled weights, the bound is dominated by their rounding, which must be covered.
    #[test]
    fn crown_rounding_is_covered_at_tiny_radii_and_large_scales() {
        use crate::network::Affine;
        let mut rng = StdRng::seed_from_u64(24);
        for trial in 0..200 {
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let base = random_architecture(&mut rng, init);
            let layers = base
                .layers()
                .iter()
                .map(|l| {
                    let scale = 10f64.powf(rng.random_range(-3.0..3.0));
                    let w = l.weight().map(|v| v * scale);
                    let b = l.bias().iter().map(|v| v * scale).collect();
                    Affine::new(w, b).unwrap()
                })
                .collect();
            let net = Network::new(layers, false).unwrap();
            let d = net.input_dim();
            let far = 10f64.powf(rng.random_range(0.0..3.0));
            let c: Vec<f64> = (0..d).map(|_| rng.random_range(-far..far)).collect();
            let radius = [0.0, 1e-12, 1e-9, 1e-6][trial % 4];
            let norm = if trial % 3 == 0 { Norm::LInf } else { Norm::L2 };
            let domain = Domain::ball(c.clone(), radius, norm).unwrap();
            let crown = neuron_bounds(&net, &domain, Method::Crown).unwrap();
            let mut points = domain.sample_uniform(50, &mut rng);
            for (j, v) in c.iter().enumerate() {
                points[(0, j)] = *v;
            }
            assert_contains(&net, &crown, &points, trial);
        }
    }

    #[test]
    fn first_layer_is_exact_and_interval_is_monotone() {
        let mut rng = StdRng::seed_from_u64(22);
        for trial in 0..100 {
            let init = if trial % 2 == 1 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let net = random_architecture(&mut rng, init);
            let d = net.input_dim();
            let c: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let p = BoundPropagator::new(&net);
            let mut previous: Option<NeuronBounds> = None;
            for r in [0.0, 0.01, 0.1, 0.3, 1.0] {
                let ball = Domain::ball(c.clone(), r, Norm::L2).unwrap();
                let b = p.bounds(&ball, Method::Interval).unwrap();
                // The maximiser of w.x over the ball attains the first-layer upper bound.
                let w = net.layers()[0].weight();
                for i in 0..w.nrows() {
                    let row: Vec<f64> = w.row(i).iter().copied().collect();
                    let n = Norm::L2.of(&row);
                    if n == 0.0 {
                        continue;
                    }
                    let x: Vec<f64> = c.iter().zip(&row).map(|(ci, wi)| ci + r * wi / n).collect();
                    let z = net.pre_activations(&x).unwrap()[0][i];
                    assert!((b.upper[0][i] - z).abs() <= 1e-12 * (1.0 + z.abs()));
                }
                if let Some(prev) = &previous {
                    for l in 0..b.lower.len() {
                        for i in 0..b.lower[l].len() {
                            let slack =
                                1e-12 * (1.0 + prev.lower[l][i].abs() + prev.upper[l][i].abs());
                            assert!(b.lower[l][i] <= prev.lower[l][i] + slack);
                            assert!(b.upper[l][i] >= prev.upper[l][i] - slack);
                        }
                    }
                }
                previous = Some(b);
            }
        }
    }

    #[test]
    fn zero_radius_ball_is_stable_unless_on_a_hyperplane() {
        let mut rng = StdRng::seed_from_u64(23);
        let net = random_architecture(&mut rng, Init::PytorchDefault);
        let c: Vec<f64> = (0..net.input_dim())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let point = Domain::ball(c, 0.0, Norm::L2).unwrap();
        let b = neuron_bounds(&net, &point, Method::Crown).unwrap();
        assert_eq!(b.unstable(), 0);
        assert_eq!(point.affine_dim(), 0);
    }
}
