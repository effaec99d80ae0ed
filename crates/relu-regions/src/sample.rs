//! Lower bounds from samples: distinct activation patterns among points of a domain, and
//! the local complexity (LC) proxy of Humayun, Balestriero and Baraniuk (2024).

use std::collections::HashSet;

use faer::{Mat, Par};
use rand::rngs::StdRng;

use crate::domain::{Domain, Norm};
use crate::error::NetworkError;
use crate::network::Network;
use crate::pattern::ActivationPattern;

/// The number of distinct activation patterns among `n` points uniform in `domain` plus
/// its centre, all with `z != 0` at every neuron almost surely. Every pattern seen is
/// realised at a point of the domain; patterns seen at points with some `z = 0` are not
/// counted (they may have empty interior). So this is a true lower bound on the number of
/// regions whose interior meets the domain, up to the measure-zero event that a sampled
/// point lies exactly on a boundary.
pub fn distinct_sampled_patterns(
    net: &Network,
    domain: &Domain,
    n: usize,
    rng: &mut StdRng,
) -> Result<usize, NetworkError> {
    let mut seen: HashSet<ActivationPattern> = HashSet::new();
    let chunk = 4096;
    let mut done = 0;
    let center = domain.center();
    let c = Mat::from_fn(1, center.len(), |_, j| center[j]);
    collect_patterns(net, c, &mut seen)?;
    while done < n {
        let m = chunk.min(n - done);
        let x = domain.sample_uniform(m, rng);
        collect_patterns(net, x, &mut seen)?;
        done += m;
    }
    Ok(seen.len())
}

fn collect_patterns(
    net: &Network,
    x: Mat<f64>,
    seen: &mut HashSet<ActivationPattern>,
) -> Result<(), NetworkError> {
    let z = net.pre_activations_batch(x.as_ref(), Par::Seq)?;
    let relu = &z[..net.relu_layer_count()];
    for i in 0..x.nrows() {
        if relu
            .iter()
            .any(|m| (0..m.ncols()).any(|j| m[(i, j)] == 0.0))
        {
            continue;
        }
        seen.insert(ActivationPattern::from_signs(
            relu.iter()
                .flat_map(|m| (0..m.ncols()).map(move |j| m[(i, j)] > 0.0)),
        ));
    }
    Ok(())
}

/// The local-complexity proxy: per ReLU layer, the number of neurons whose sign changes
/// among the `2k` vertices `c +- r v_i` of a cross-polytope inscribed in the domain.
///
/// For an L2 ball the `v_i` are `k` random orthonormal directions (seeded); for an L-inf
/// ball and a box they are `k` distinct random coordinate axes (scaled to each axis'
/// half-width for a box). Every vertex lies in the domain, so a neuron that changes sign
/// among them has its zero set meeting the domain: the LC of a layer never exceeds the
/// number of neurons a sound method leaves unstable. Humayun et al. use it as a cheap
/// proxy for the density of region boundaries near `c`.
pub fn local_complexity(
    net: &Network,
    domain: &Domain,
    k: usize,
    rng: &mut StdRng,
) -> Result<Vec<usize>, NetworkError> {
    use rand::RngExt;
    let d = domain.dim();
    let k = k.min(d).max(1);
    let c = domain.center();
    let mut vertices = Mat::zeros(2 * k, d);
    match domain {
        Domain::Ball(b) if b.norm == Norm::L2 => {
            // Gram-Schmidt on Gaussian vectors.
            let mut basis: Vec<Vec<f64>> = Vec::with_capacity(k);
            while basis.len() < k {
                let mut v: Vec<f64> = (0..d)
                    .map(|_| crate::random::standard_normal(rng))
                    .collect();
                for u in &basis {
                    let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
                    v.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
                }
                let n = Norm::L2.of(&v);
                if n > 1e-8 {
                    basis.push(v.iter().map(|a| a / n).collect());
                }
            }
            for (i, u) in basis.iter().enumerate() {
                for j in 0..d {
                    vertices[(2 * i, j)] = c[j] + b.radius * u[j];
                    vertices[(2 * i + 1, j)] = c[j] - b.radius * u[j];
                }
            }
        }
        _ => {
            let mut axes: Vec<usize> = (0..d).collect();
            for i in 0..k {
                let j = rng.random_range(i..d);
                axes.swap(i, j);
            }
            for (i, &axis) in axes[..k].iter().enumerate() {
                let half = match domain {
                    Domain::Ball(b) => b.radius,
                    Domain::Box(b) => 0.5 * (b.hi[axis] - b.lo[axis]),
                };
                for j in 0..d {
                    vertices[(2 * i, j)] = c[j];
                    vertices[(2 * i + 1, j)] = c[j];
                }
                vertices[(2 * i, axis)] += half;
                vertices[(2 * i + 1, axis)] -= half;
            }
        }
    }
    let z = net.pre_activations_batch(vertices.as_ref(), Par::Seq)?;
    Ok(z[..net.relu_layer_count()]
        .iter()
        .map(|m| {
            (0..m.ncols())
                .filter(|&j| {
                    let pos = (0..m.nrows()).any(|i| m[(i, j)] > 0.0);
                    let neg = (0..m.nrows()).any(|i| m[(i, j)] < 0.0);
                    pos && neg
                })
                .count()
        })
        .collect())
}
