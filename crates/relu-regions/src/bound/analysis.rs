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
    local_region_bound_with_slack(p, domain, method, &[])
}

/// The local bound of a network known only up to an additive error in its first layer:
/// over `domain`, the true first-layer pre-activations `z_0,i(x)` lie within
/// `first_slack[i] >= 0` of those of `p`'s network (an empty slice: no error; the region
/// tree's frozen maps, computed in f64, are such a layer, with their proven error).
///
/// The deeper layers are the network's own, and ReLU (leaky too, slopes in `[0, 1]`) is
/// 1-Lipschitz per coordinate, so the error after layer `l` stays within `E_l`, with
/// `E_0 = first_slack` and `E_{l+1} = |W_{l+1}| E_l`: the true pre-activations of layer
/// `l` lie in `[lower_l - E_l, upper_l + E_l]`. Neurons are classified on those widened
/// bounds (`E_l` rounded up by a relative `rounding_margin`), so a neuron counts as stable
/// only when it is stable in every network within the error. With a nonzero slack, the
/// first layer's rank is bounded by its row count (duplicate rows found in the computed
/// weights need not be duplicates of the true ones).
pub(crate) fn local_region_bound_with_slack(
    p: &BoundPropagator<'_>,
    domain: &Domain,
    method: Method,
    first_slack: &[f64],
) -> Result<LocalRegionBound, DomainError> {
    let net = p.network();
    let mut bounds = p.bounds(domain, method)?;
    let slack = first_slack.iter().any(|&e| e != 0.0);
    if slack {
        let mut error = first_slack.to_vec();
        for l in 0..bounds.lower.len() {
            if l > 0 {
                let w = p.abs_weights[l].as_ref();
                error = (0..w.nrows())
                    .map(|i| {
                        let sum: f64 = (0..w.ncols()).map(|j| w[(i, j)] * error[j]).sum();
                        sum + crate::stability::rounding_margin(w.ncols(), sum)
                    })
                    .collect();
            }
            for (i, e) in error.iter().enumerate() {
                bounds.lower[l][i] -= e * (1.0 + 4.0 * f64::EPSILON);
                bounds.upper[l][i] += e * (1.0 + 4.0 * f64::EPSILON);
            }
        }
    }
    let counts = bounds.counts();
    let mut layers = Vec::with_capacity(counts.len());
    for (l, c) in counts.iter().enumerate() {
        let w = net.layers()[l].weight();
        let rank_bound = |rows: &[Vec<f64>], cols: usize| {
            if slack && l == 0 {
                rows.len().min(cols)
            } else {
                structural_rank_bound(rows, cols)
            }
        };
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
                .with_rank_active(rank_bound(&rows_in(NeuronState::Active), w.ncols()))
                .with_rank_unstable(rank_bound(&rows_in(NeuronState::Unstable), w.ncols())),
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

    /// A first layer known up to `E_i`: the bound with that slack is at least the exact
    /// count of every network whose first-layer biases are moved by `+-E_i` (the extreme
    /// perturbations), at least the bound without slack, and equal to it for a zero
    /// slack. The perturbations are large enough (a tenth of the bias scale) that some of
    /// them hold more regions than the unwidened bound allows: checked, so that a test
    /// without the widening would fail.
    #[test]
    fn a_slack_in_the_first_layer_widens_the_bound_over_every_perturbed_network() {
        use crate::exact::{EnumerationOptions, enumerate_regions};
        use crate::network::{Affine, Network};
        use crate::random::random_network;
        let mut rng = StdRng::seed_from_u64(2026);
        let (mut checked, mut beyond_plain) = (0, 0);
        for trial in 0..60 {
            let d = 2 + trial % 3;
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let net = random_network(&[d, 8, 6, 1], init, false, &mut rng);
            let lo: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..0.0)).collect();
            let hi: Vec<f64> = lo.iter().map(|l| l + rng.random_range(0.05..0.6)).collect();
            let domain = Domain::boxed(lo, hi).unwrap();
            let p = BoundPropagator::new(&net);
            let plain = local_region_bound(&p, &domain, Method::Crown).unwrap();
            let zero = vec![0.0; 8];
            let same = local_region_bound_with_slack(&p, &domain, Method::Crown, &zero).unwrap();
            assert_eq!(same.local, plain.local);
            let slack: Vec<f64> = (0..8).map(|_| rng.random_range(0.0..0.1)).collect();
            let widened =
                local_region_bound_with_slack(&p, &domain, Method::Crown, &slack).unwrap();
            assert!(widened.local >= plain.local);
            for _ in 0..4 {
                let first = &net.layers()[0];
                let bias: Vec<f64> = first
                    .bias()
                    .iter()
                    .zip(&slack)
                    .map(|(b, e)| if rng.random_bool(0.5) { b + e } else { b - e })
                    .collect();
                let mut layers = vec![Affine::new(first.weight().to_owned(), bias).unwrap()];
                layers.extend(net.layers()[1..].iter().cloned());
                let moved = Network::new(layers, false).unwrap();
                let exact =
                    enumerate_regions(&moved, &domain, EnumerationOptions::default(), None, None)
                        .unwrap();
                assert_eq!(exact.uncertain, 0);
                let count = RegionCount::from(exact.regions);
                assert!(
                    count <= widened.local,
                    "trial {trial}: {} regions above the widened bound {:?}",
                    exact.regions,
                    widened.local
                );
                beyond_plain += usize::from(count > plain.local);
                checked += 1;
            }
        }
        assert_eq!(checked, 240);
        assert!(beyond_plain > 0, "no perturbation exceeded the plain bound");
    }
}
