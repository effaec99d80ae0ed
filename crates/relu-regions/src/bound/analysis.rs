//! The local bound of a network over a domain, with everything around it: per-layer
//! stability, the proven local count, its looser relatives, the global bounds, and the
//! certified single-region radius.

use crate::bound::combinatorics::RegionCount;
use crate::bound::global::global_bounds;
use crate::bound::local::{
    LayerStability, local_bound, local_product_bound, naive_unsound_serra_bound, pruned_serra_bound,
};
use crate::distance::BoundaryDistanceSolver;
use crate::domain::{Ball, Domain, DomainError};
use crate::stability::{BoundPropagator, Method, NeuronBounds, NeuronState, StabilityCounts};

/// Everything [`local_region_bound`] computes.
#[derive(Debug, Clone)]
pub struct LocalRegionBound {
    pub method: Method,
    /// Dimension of the domain's affine hull (the `n_0` of the count).
    pub domain_dim: usize,
    /// Per ReLU layer: stably active, stably inactive, unstable.
    pub counts: Vec<StabilityCounts>,
    /// Per ReLU layer: the stability given to the count, with the structural rank
    /// refinements.
    pub layers: Vec<LayerStability>,
    /// The proven local bound (docs/math.md §3.2, DP form with rank refinements).
    pub local: RegionCount,
    /// Its product relaxation (sound, looser).
    pub local_product: RegionCount,
    /// Serra's theorem on the network with stably inactive neurons pruned (sound, looser).
    pub pruned_serra: RegionCount,
    /// Serra et al. 2018 global bound for the whole input space.
    pub global_serra: RegionCount,
    /// Montufar et al. 2017 global bound.
    pub global_montufar: RegionCount,
    /// NOT a bound: Serra's formula with `n_l -> u_l` (docs/math.md §3.6 has a network with 74
    /// regions where it says 10). For comparison with the literature only.
    pub naive_unsound: RegionCount,
    /// The neuron bounds themselves.
    pub bounds: NeuronBounds,
}

/// An upper bound on the number of distinct nonzero rows of a matrix up to sign, which
/// bounds its rank from above exactly (no floating-point rank decision: equal or negated
/// rows are detected by exact comparison, anything else counts as independent).
fn structural_rank_bound(rows: &[Vec<f64>], cols: usize) -> usize {
    let mut distinct: Vec<&Vec<f64>> = Vec::new();
    for r in rows {
        if r.iter().all(|&v| v == 0.0) {
            continue;
        }
        let dup = distinct.iter().any(|s| {
            s.iter().zip(r).all(|(a, b)| a == b) || s.iter().zip(r).all(|(a, b)| *a == -*b)
        });
        if !dup {
            distinct.push(r);
        }
    }
    distinct.len().min(cols)
}

/// The local bound of `p`'s network over `domain` by `method`.
pub fn local_region_bound(
    p: &BoundPropagator<'_>,
    domain: &Domain,
    method: Method,
) -> Result<LocalRegionBound, DomainError> {
    let net = p.network();
    let bounds = p.bounds(domain, method)?;
    let counts = bounds.counts();
    let mut layers = Vec::with_capacity(counts.len());
    for (l, c) in counts.iter().enumerate() {
        let w = net.layers()[l].weight();
        let rows_in = |state: NeuronState| -> Vec<Vec<f64>> {
            (0..w.nrows())
                .filter(|&i| bounds.state(l, i) == state)
                .map(|i| w.row(i).iter().copied().collect())
                .collect()
        };
        // Leaky neurons that are not stably active carry dimension whatever their sign.
        let leaky = net.negative_slopes(l).map_or(0, |alpha| {
            (0..w.nrows())
                .filter(|&i| alpha[i] != 0.0 && bounds.state(l, i) != NeuronState::Active)
                .count()
        });
        layers.push(
            LayerStability::new(c.active, c.unstable)
                .with_leaky(leaky)
                .with_rank_active(structural_rank_bound(
                    &rows_in(NeuronState::Active),
                    w.ncols(),
                ))
                .with_rank_unstable(structural_rank_bound(
                    &rows_in(NeuronState::Unstable),
                    w.ncols(),
                )),
        );
    }
    let domain_dim = domain.affine_dim();
    let leaky: Vec<usize> = (0..net.relu_layer_count())
        .map(|l| {
            net.negative_slopes(l)
                .map_or(0, |a| a.iter().filter(|&&v| v != 0.0).count())
        })
        .collect();
    let (global_serra, global_montufar) =
        global_bounds(net.input_dim(), &net.relu_widths(), &leaky);
    Ok(LocalRegionBound {
        method,
        domain_dim,
        local: local_bound(domain_dim, &layers),
        local_product: local_product_bound(domain_dim, &layers),
        pruned_serra: pruned_serra_bound(domain_dim, &layers),
        global_serra,
        global_montufar,
        naive_unsound: naive_unsound_serra_bound(domain_dim, &layers),
        counts,
        layers,
        bounds,
    })
}

/// The certified single-region radius at a ball's centre: the largest `r` (to relative
/// precision `1e-6`, found by bisection) for which `method` proves every neuron stable on
/// the ball of radius `r` in the ball's norm. A sound method can only prove stability
/// inside the exact region, so the search runs in `[0, r*]` with `r*` the exact distance
/// to the region boundary, and the result never exceeds `r*`. `None` when the region
/// is the whole space (no neuron ever changes).
pub fn certified_radius(
    p: &BoundPropagator<'_>,
    ball: &Ball,
    method: Method,
) -> Result<Option<f64>, DomainError> {
    let net = p.network();
    let probe = Domain::ball(ball.center.clone(), 0.0, ball.norm)?;
    probe.check_dim(net.input_dim())?;
    let z = net
        .pre_activations(&ball.center)
        .map_err(|_| DomainError::Dimension {
            expected: net.input_dim(),
            found: ball.center.len(),
        })?;
    let exact = BoundaryDistanceSolver::new(net).solve(&ball.center, &z, ball.norm);
    if !exact.distance.is_finite() {
        return Ok(None);
    }
    let stable = |r: f64| -> Result<bool, DomainError> {
        let d = Domain::ball(ball.center.clone(), r, ball.norm)?;
        Ok(p.bounds(&d, method)?.unstable() == 0)
    };
    let (mut lo, mut hi) = (0.0, exact.distance);
    if hi == 0.0 || !stable(lo)? {
        return Ok(Some(0.0));
    }
    if stable(hi)? {
        return Ok(Some(hi));
    }
    while hi - lo > 1e-6 * hi {
        let mid = 0.5 * (lo + hi);
        if stable(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some(lo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Norm;
    use crate::random::{Init, degenerate_variant, random_small_architecture};
    use crate::sample::{distinct_sampled_patterns, local_complexity};
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    /// The soundness suite of the local bound: 1 200 random small networks (a third
    /// degenerate), several domains each; the bound never falls below the number of
    /// distinct patterns sampled, LC never exceeds the unstable count, the certified
    /// radius never exceeds the exact distance.
    #[test]
    fn local_bound_dominates_sampling_on_random_networks() {
        let mut rng = StdRng::seed_from_u64(31);
        let mut checked = 0;
        for trial in 0..1200 {
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let base = random_small_architecture(&mut rng, init);
            let net = if trial % 3 == 0 {
                degenerate_variant(&base, &mut rng)
            } else {
                base
            };
            // Leaky ReLUs on a quarter of the networks.
            let net = if trial % 4 == 1 {
                crate::random::leaky_variant(&net, &mut rng)
            } else {
                net
            };
            let p = BoundPropagator::new(&net);
            let d = net.input_dim();
            let c: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let r = [0.05, 0.2, 0.5, 1.0, 2.0][trial % 5];
            let norm = if trial % 2 == 0 { Norm::L2 } else { Norm::LInf };
            let domain = Domain::ball(c.clone(), r, norm).unwrap();
            let samples = distinct_sampled_patterns(&net, &domain, 1500, &mut rng).unwrap();
            for method in [Method::Interval, Method::Crown] {
                let b = local_region_bound(&p, &domain, method).unwrap();
                let bound = b.local.to_u128().unwrap_or(u128::MAX);
                assert!(
                    bound >= samples as u128,
                    "trial {trial} {method:?}: bound {bound} < {samples} sampled patterns"
                );
                assert!(
                    b.local <= b.local_product && b.local <= b.pruned_serra,
                    "trial {trial}"
                );
                let lc = local_complexity(&net, &domain, 4, &mut rng).unwrap();
                for (l, (lc_l, c_l)) in lc.iter().zip(&b.counts).enumerate() {
                    assert!(
                        lc_l <= &c_l.unstable,
                        "trial {trial}: layer {l} LC {lc_l} > unstable {}",
                        c_l.unstable
                    );
                }
            }
            if trial % 10 == 0 {
                let ball = Ball {
                    center: c.clone(),
                    radius: r,
                    norm,
                };
                let exact = crate::boundary_distance(&net, &c, norm).unwrap().distance;
                for method in [Method::Interval, Method::Crown] {
                    if let Some(rc) = certified_radius(&p, &ball, method).unwrap() {
                        assert!(rc <= exact, "trial {trial}: certified {rc} > exact {exact}");
                    }
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 1200);
    }

    #[test]
    fn crown_certifies_at_least_as_far_as_interval() {
        let mut rng = StdRng::seed_from_u64(32);
        for trial in 0..100 {
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let net = random_small_architecture(&mut rng, init);
            let p = BoundPropagator::new(&net);
            let c: Vec<f64> = (0..net.input_dim())
                .map(|_| rng.random_range(-1.0..1.0))
                .collect();
            let ball = Ball {
                center: c,
                radius: 1.0,
                norm: Norm::L2,
            };
            let ibp = certified_radius(&p, &ball, Method::Interval).unwrap();
            let crown = certified_radius(&p, &ball, Method::Crown).unwrap();
            if let (Some(a), Some(b)) = (ibp, crown) {
                assert!(b >= a * (1.0 - 1e-5), "trial {trial}: crown {b} < ibp {a}");
            }
        }
    }

    #[test]
    fn structural_rank_detects_duplicates_and_negations() {
        let rows = vec![
            vec![1.0, 2.0],
            vec![1.0, 2.0],
            vec![-1.0, -2.0],
            vec![0.0, 0.0],
            vec![3.0, 1.0],
        ];
        assert_eq!(structural_rank_bound(&rows, 2), 2);
        assert_eq!(structural_rank_bound(&rows[..3], 5), 1);
        assert_eq!(structural_rank_bound(&[], 5), 0);
    }
}
