//! Per-checkpoint tracking of the local geometry at three point sets.
//!
//! Per point `x` and radius `r` (L2 balls, input units after scaling): the exact L2
//! distance from `x` to its region's boundary, the proven local bound (log2) and the
//! unstable-neuron count on `B(x, r)` by CROWN, and the LC proxy (neurons changing sign
//! over a cross-polytope frame of `B(x, r)`). The LC frame of a point is seeded by the
//! point's set, index and radius only, so it is the same at every checkpoint.

use faer::Mat;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rayon::prelude::*;
use relu_regions::bound::local_region_bound;
use relu_regions::distance::boundary_distances_batch;
use relu_regions::exact::{EnumerationOptions, enumerate_regions};
use relu_regions::sample::local_complexity;
use relu_regions::slice::plane::{Plane, PlaneOptions, Shape, plane_partition};
use relu_regions::stability::{BoundPropagator, Method};
use relu_regions::{Domain, Network, Norm};
use serde::Serialize;

use crate::StudyError;
use crate::datasets::{Dataset, permutation};

/// The three kinds of centre.
pub const SET_NAMES: [&str; 3] = ["train", "test", "arbitrary"];

/// The tracked points: `sets[s]` is `K x d`, in the order of [`SET_NAMES`].
#[derive(Debug, Clone)]
pub struct PointSets {
    pub sets: Vec<Mat<f64>>,
}

impl PointSets {
    /// `k` training points, `k` test points (seeded choices without replacement; `k` is
    /// cut to the smaller set's size) and `k` arbitrary points: uniform in the training
    /// data's box, or, with `noise = Some(sigma)`, training points (other draws than the
    /// training set's) plus independent Gaussian noise of standard deviation `sigma` per
    /// coordinate.
    pub fn choose(data: &Dataset, k: usize, seed: u64, noise: Option<f64>) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x9017_5E75);
        let k = k.min(data.train.y.len()).min(data.test.y.len()).max(1);
        let d = data.dim();
        let pick = |x: &Mat<f64>, rng: &mut StdRng| {
            let p = permutation(x.nrows(), rng);
            Mat::from_fn(k, d, |i, j| x[(p[i], j)])
        };
        let train = pick(&data.train.x, &mut rng);
        let test = pick(&data.test.x, &mut rng);
        let arbitrary = match noise {
            Some(sigma) => {
                let base = pick(&data.train.x, &mut rng);
                Mat::from_fn(k, d, |i, j| {
                    base[(i, j)] + sigma * relu_regions::random::standard_normal(&mut rng)
                })
            }
            None => Mat::from_fn(k, d, |_, j| {
                if data.hi[j] > data.lo[j] {
                    rng.random_range(data.lo[j]..data.hi[j])
                } else {
                    data.lo[j]
                }
            }),
        };
        Self {
            sets: vec![train, test, arbitrary],
        }
    }

    pub fn k(&self) -> usize {
        self.sets[0].nrows()
    }
}

/// What to compute.
#[derive(Debug, Clone, Serialize)]
pub struct TrackConfig {
    pub radii: Vec<f64>,
    /// Directions of the LC frame (cut to the input dimension).
    pub lc_directions: usize,
    pub seed: u64,
    /// Count the exact regions of a random 2-D slice disc through each point (needs an
    /// input dimension of at least 2).
    pub slice: bool,
    /// Count the exact regions meeting the L2 ball itself (sensible for 2-D inputs).
    pub exact_ball: bool,
}

/// One point set's metrics at one checkpoint. Per-radius vectors are indexed
/// `[radius][point]`.
#[derive(Debug, Clone, Serialize)]
pub struct SetMetrics {
    /// Exact L2 distance to the region boundary (`null` in JSON when infinite).
    pub distance: Vec<f64>,
    pub bound_log2: Vec<Vec<f64>>,
    pub unstable: Vec<Vec<usize>>,
    pub lc: Vec<Vec<usize>>,
    /// Exact activation regions in the disc of radius `r` of a random plane through the
    /// point (the plane is seeded per point and fixed across checkpoints); empty when off.
    pub slice_regions: Vec<Vec<usize>>,
    /// Exact activation regions meeting the L2 ball (`null` when the enumeration hit its
    /// limits); empty when off (for 2-D data it is computed at the first and the last
    /// checkpoint only).
    pub ball_regions: Vec<Vec<Option<u64>>>,
}

/// Everything tracked at one checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
    /// In the order of [`SET_NAMES`].
    pub sets: Vec<SetMetrics>,
}

fn point_seed(seed: u64, set: usize, i: usize, r: usize) -> u64 {
    // SplitMix64-style mixing of the indices.
    let mut z = seed
        .wrapping_add((set as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add((i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add((r as u64).wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The metrics of one point set on `net` (parallel over points).
pub fn track_set(
    net: &Network,
    points: &Mat<f64>,
    set: usize,
    config: &TrackConfig,
) -> Result<SetMetrics, StudyError> {
    let distance: Vec<f64> = boundary_distances_batch(net, points.as_ref(), Norm::L2)
        .map_err(|e| StudyError::Analysis(e.to_string()))?
        .into_iter()
        .map(|b| b.distance)
        .collect();
    let p = BoundPropagator::new(net);
    #[allow(clippy::type_complexity)]
    let per_point: Vec<Vec<(f64, usize, usize, usize, Option<u64>)>> = (0..points.nrows())
        .into_par_iter()
        .map(|i| {
            let c: Vec<f64> = (0..points.ncols()).map(|j| points[(i, j)]).collect();
            config
                .radii
                .iter()
                .enumerate()
                .map(|(ri, &r)| {
                    let dom = Domain::ball(c.clone(), r, Norm::L2)
                        .map_err(|e| StudyError::Analysis(e.to_string()))?;
                    let b = local_region_bound(&p, &dom, Method::Crown)
                        .map_err(|e| StudyError::Analysis(e.to_string()))?;
                    let mut rng = StdRng::seed_from_u64(point_seed(config.seed, set, i, ri));
                    let lc = local_complexity(net, &dom, config.lc_directions, &mut rng)
                        .map_err(|e| StudyError::Analysis(e.to_string()))?;
                    let slice = if config.slice {
                        let plane = Plane::random_orthonormal(
                            c.clone(),
                            point_seed(config.seed, set, i, usize::MAX),
                        )
                        .map_err(|e| StudyError::Analysis(e.to_string()))?;
                        plane_partition(net, &plane, Shape::disc(r), PlaneOptions::default())
                            .map_err(|e| StudyError::Analysis(e.to_string()))?
                            .regions
                            .len()
                    } else {
                        0
                    };
                    let ball = if config.exact_ball {
                        let e = enumerate_regions(
                            net,
                            &dom,
                            EnumerationOptions {
                                max_regions: Some(100_000),
                                time_limit: Some(std::time::Duration::from_secs(10)),
                                parallel: false,
                                ..EnumerationOptions::default()
                            },
                            None,
                            None,
                        )
                        .map_err(|e| StudyError::Analysis(e.to_string()))?;
                        e.complete.then_some(e.regions)
                    } else {
                        None
                    };
                    Ok((
                        b.local.log2(),
                        b.counts.iter().map(|c| c.unstable).sum(),
                        lc.iter().sum(),
                        slice,
                        ball,
                    ))
                })
                .collect::<Result<Vec<_>, StudyError>>()
        })
        .collect::<Result<_, _>>()?;
    let nr = config.radii.len();
    Ok(SetMetrics {
        distance,
        bound_log2: (0..nr)
            .map(|r| per_point.iter().map(|v| v[r].0).collect())
            .collect(),
        unstable: (0..nr)
            .map(|r| per_point.iter().map(|v| v[r].1).collect())
            .collect(),
        lc: (0..nr)
            .map(|r| per_point.iter().map(|v| v[r].2).collect())
            .collect(),
        slice_regions: if config.slice {
            (0..nr)
                .map(|r| per_point.iter().map(|v| v[r].3).collect())
                .collect()
        } else {
            Vec::new()
        },
        ball_regions: if config.exact_ball {
            (0..nr)
                .map(|r| per_point.iter().map(|v| v[r].4).collect())
                .collect()
        } else {
            Vec::new()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{DataOptions, DatasetKind, load};
    use relu_regions::random::{Init, seeded_network};

    #[test]
    fn noisy_arbitrary_points_lie_near_training_points() {
        let data = load(&DatasetKind::Moons, &DataOptions::default()).unwrap();
        let sigma = 0.05;
        let pts = PointSets::choose(&data, 50, 3, Some(sigma));
        let arbitrary = &pts.sets[2];
        let train = &data.train.x;
        for i in 0..arbitrary.nrows() {
            // Within 6 sigma (per coordinate, so 6 sigma sqrt(2) in L2) of some training point.
            let nearest = (0..train.nrows())
                .map(|r| {
                    (0..2)
                        .map(|j| (arbitrary[(i, j)] - train[(r, j)]).powi(2))
                        .sum::<f64>()
                        .sqrt()
                })
                .fold(f64::INFINITY, f64::min);
            assert!(nearest < 6.0 * sigma * 2f64.sqrt(), "{nearest}");
        }
        // Not the training points themselves.
        assert!(
            (0..arbitrary.nrows())
                .all(|i| (0..train.nrows()).all(|r| arbitrary[(i, 0)] != train[(r, 0)]))
        );
    }

    #[test]
    fn tracking_matches_the_library_calls_and_is_deterministic() {
        let data = load(&DatasetKind::Moons, &DataOptions::default()).unwrap();
        let pts = PointSets::choose(&data, 5, 1, None);
        assert_eq!(pts.k(), 5);
        let net = seeded_network(&[2, 8, 8, 2], Init::He, 4);
        let cfg = TrackConfig {
            radii: vec![0.1, 0.5],
            lc_directions: 2,
            seed: 0,
            slice: true,
            exact_ball: true,
        };
        let m = track_set(&net, &pts.sets[2], 2, &cfg).unwrap();
        let again = track_set(&net, &pts.sets[2], 2, &cfg).unwrap();
        assert_eq!(m.distance, again.distance);
        assert_eq!(m.lc, again.lc);
        for i in 0..5 {
            let x: Vec<f64> = (0..2).map(|j| pts.sets[2][(i, j)]).collect();
            let d = relu_regions::boundary_distance(&net, &x, Norm::L2).unwrap();
            // Batch and single-point products may differ in the last bit.
            assert!((d.distance - m.distance[i]).abs() <= 1e-12 * d.distance.max(1.0));
            // A ball smaller than the distance to the boundary lies in one region.
            for (ri, &r) in cfg.radii.iter().enumerate() {
                assert!(m.lc[ri][i] <= m.unstable[ri][i]);
                if r < d.distance {
                    assert_eq!(m.lc[ri][i], 0);
                    assert_eq!(m.slice_regions[ri][i], 1);
                    assert_eq!(m.ball_regions[ri][i], Some(1));
                }
                // In 2-D the exact count of the ball is the library's count, and never
                // exceeds the proven bound.
                let e = enumerate_regions(
                    &net,
                    &Domain::ball(x.clone(), r, Norm::L2).unwrap(),
                    EnumerationOptions::default(),
                    None,
                    None,
                )
                .unwrap();
                assert_eq!(m.ball_regions[ri][i], Some(e.regions));
                assert!((e.regions as f64).log2() <= m.bound_log2[ri][i] + 1e-9);
            }
        }
    }
}
