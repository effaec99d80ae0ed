//! Per-checkpoint tracking of the local geometry at three point sets.
//!
//! Per point `x` and radius `r` (L2 balls, input units after scaling): the exact L2
//! distance from `x` to its region's boundary, the proven local bound (log2) and the
//! unstable-neuron count on `B(x, r)` by CROWN, and the LC proxy (neurons changing sign
//! over a cross-polytope frame of `B(x, r)`). The LC frame of a point is seeded by the
//! point's set, index and radius only, so it is the same at every checkpoint. Also the
//! exact slice-disc count through each point, and the exact count of the ball itself
//! within a budget per point and checkpoint ([`BallBudget`], [`ball_regions_at_radii`]:
//! the counts that run out are marked, with a lower bound, never dropped); each metric is one public function, so benchmarks time exactly what the study computes.
//!
//! For 2-D data, [`input_partition`] gives the exact partition of the data's square
//! ([`data_square`]) into activation regions, for pictures; [`input_square`] takes it at
//! the first, a middle and the last checkpoint of a study.

use faer::Mat;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rayon::prelude::*;
use relu_regions::bound::local_region_bound;
use relu_regions::distance::boundary_distances_batch;
use relu_regions::exact::{EnumerationOptions, enumerate_regions};
use relu_regions::sample::local_complexity;
use relu_regions::slice::plane::{
    Decision, Plane, PlaneOptions, PlanePartition, Point2, Shape, plane_partition,
};
use relu_regions::stability::{BoundPropagator, Method};
use relu_regions::{Domain, Network, Norm};
use serde::Serialize;

use crate::StudyError;
use crate::datasets::{Dataset, permutation};

/// The three kinds of centre. Reports name them `train`, `test` and `arbitrary`
/// ([`PointSet::name`], also their JSON form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PointSet {
    /// Points of the training set.
    Train,
    /// Held-out points.
    Test,
    /// Points drawn around the data ([`PointSets::choose`]).
    Arbitrary,
}

impl PointSet {
    /// The sets in the order of [`PointSets::sets`] and of every per-set list of a report.
    pub const ALL: [PointSet; 3] = [Self::Train, Self::Test, Self::Arbitrary];

    /// The set's name in reports: `train`, `test`, `arbitrary`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "test",
            Self::Arbitrary => "arbitrary",
        }
    }

    /// The set's position in [`PointSet::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for PointSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for PointSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The tracked points: `sets[s]` is `K x d`, in the order of [`PointSet::ALL`].
#[derive(Debug, Clone)]
pub struct PointSets {
    pub sets: Vec<Mat<f64>>,
    /// The labels of the training and test points (empty for the arbitrary points).
    pub labels: Vec<Vec<usize>>,
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
        let pick = |s: &crate::datasets::Samples, rng: &mut StdRng| {
            let p = permutation(s.x.nrows(), rng);
            (
                Mat::from_fn(k, d, |i, j| s.x[(p[i], j)]),
                (0..k).map(|i| s.y[p[i]]).collect::<Vec<usize>>(),
            )
        };
        let (train, train_labels) = pick(&data.train, &mut rng);
        let (test, test_labels) = pick(&data.test, &mut rng);
        let arbitrary = match noise {
            Some(sigma) => {
                let (base, _) = pick(&data.train, &mut rng);
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
            labels: vec![train_labels, test_labels, Vec::new()],
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
    /// Count the exact regions meeting the L2 balls themselves, within this budget per
    /// point and checkpoint ([`ball_regions_at_radii`]); `None`: off.
    pub exact_ball: Option<BallBudget>,
}

/// The budget of one point's exact ball counts at one checkpoint: its radii are counted
/// smallest first, sharing `seconds` of wall-clock time, each count stopping at
/// `max_regions` regions. The first radius whose count does not finish, and every larger
/// one, is over budget, and so is every radius above `max_radius` (not counted at all). A time budget makes *which* counts finish depend on the machine;
/// the counts that finish are exact everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BallBudget {
    pub seconds: f64,
    pub max_regions: u64,
    /// The largest radius counted (`None`: every radius), so that the budget goes to the
    /// radii where counts can finish (in 784-D, L2 radii of a few hundredths).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_radius: Option<f64>,
}

impl BallBudget {
    /// The default budget: 10 s for 2-D data (where counts at the study's radii finish
    /// in milliseconds), 0.1 s in higher dimension (where they grow fast with the
    /// radius: `bench_study` measures how many run out); 100 000 regions.
    pub fn default_for_dim(dim: usize) -> Self {
        Self {
            seconds: if dim == 2 { 10.0 } else { 0.1 },
            max_regions: 100_000,
            max_radius: None,
        }
    }
}

/// The exact count of the regions meeting one ball, or a lower bound when its budget ran
/// out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BallCount {
    /// The exact number of regions whose interior meets the ball; `None` over budget.
    pub exact: Option<u64>,
    /// A proven lower bound: the exact count, or the regions certified before the budget
    /// ran out (for a radius skipped after a smaller one ran out, that one's lower bound:
    /// the smaller ball lies inside the larger).
    pub at_least: u64,
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
    /// Exact activation regions meeting the L2 ball (`null` when the point's budget ran
    /// out, [`BallBudget`]); empty when off.
    pub ball_regions: Vec<Vec<Option<u64>>>,
    /// A lower bound on the same ([`BallCount::at_least`]): equal to `ball_regions` where
    /// that is exact; empty when off.
    pub ball_regions_at_least: Vec<Vec<u64>>,
}

impl SetMetrics {
    /// The points whose exact ball count at radius index `ri` is over budget (0 when the
    /// counts are off).
    pub fn balls_over_budget(&self, ri: usize) -> usize {
        self.ball_regions
            .get(ri)
            .map_or(0, |v| v.iter().filter(|c| c.is_none()).count())
    }
}

/// Everything tracked at one checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
    /// In the order of [`PointSet::ALL`].
    pub sets: Vec<SetMetrics>,
    /// With `--adversarial`: the attack on the tracked test points at this checkpoint and
    /// the metrics at the adversarial examples it found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adversarial: Option<AdversarialMetrics>,
    /// With `--backdoor`: the attack success rate and the metrics at the tracked training
    /// and test points with the trigger on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backdoor: Option<BackdoorMetrics>,
}

/// The backdoor at one checkpoint ([`crate::backdoor`]).
#[derive(Debug, Clone, Serialize)]
pub struct BackdoorMetrics {
    /// Test images of other classes classified as the target once triggered (fraction).
    pub attack_success_rate: f64,
    /// The tracked training points with the trigger (row `i` paired with training point
    /// `i`: same LC frames and slice plane).
    pub triggered_train: SetMetrics,
    /// The tracked test points with the trigger.
    pub triggered_test: SetMetrics,
}

/// The adversarial examples of one checkpoint ([`crate::attack`]).
#[derive(Debug, Clone, Serialize)]
pub struct AdversarialMetrics {
    pub attack: crate::attack::AttackSummary,
    /// Per example, the row of its clean source among the tracked test points.
    pub sources: Vec<usize>,
    /// The examples, one per row (input units after scaling).
    #[serde(skip)]
    pub points: Mat<f64>,
    /// The metrics at the examples (row `k` paired with test point `sources[k]`: same LC
    /// frames and slice plane).
    pub metrics: SetMetrics,
}

/// The seed of point `i` of set `set` at radius index `r`: its LC frame is drawn from
/// `point_seed(seed, set, i, r)` and its slice plane from `point_seed(seed, set, i,
/// usize::MAX)`. Neither depends on the checkpoint, so every checkpoint sees the same
/// frames and planes.
pub fn point_seed(seed: u64, set: usize, i: usize, r: usize) -> u64 {
    // SplitMix64-style mixing of the indices.
    let mut z = seed
        .wrapping_add((set as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add((i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add((r as u64).wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn analysis<E: std::fmt::Display>(e: E) -> StudyError {
    StudyError::Analysis(e.to_string())
}

/// How the study bounds neurons over a ball: CROWN.
pub const BOUND_METHOD: Method = Method::Crown;

/// The proven local bound on the activation regions meeting `ball` (CROWN neuron bounds,
/// then the local Serra DP of [`local_region_bound`]) as `log2`, with the number of
/// neurons CROWN leaves unstable on `ball`.
pub fn local_bound_log2(
    p: &BoundPropagator<'_>,
    ball: &Domain,
) -> Result<(f64, usize), StudyError> {
    let b = local_region_bound(p, ball, BOUND_METHOD).map_err(analysis)?;
    Ok((b.local.log2(), b.counts.iter().map(|c| c.unstable).sum()))
}

/// The LC proxy of `ball`: neurons (summed over layers) changing sign among the `2k`
/// vertices `c +- r v_i` of a cross-polytope frame of `k = directions` random orthonormal
/// directions drawn from `seed`.
pub fn local_complexity_total(
    net: &Network,
    ball: &Domain,
    directions: usize,
    seed: u64,
) -> Result<usize, StudyError> {
    let mut rng = StdRng::seed_from_u64(seed);
    Ok(local_complexity(net, ball, directions, &mut rng)
        .map_err(analysis)?
        .iter()
        .sum())
}

/// The exact number of activation regions meeting the disc `{c + a u + b v : a^2 + b^2 <=
/// r^2}` (the inscribed 256-gon, see [`Shape::disc`]) of the random orthonormal plane
/// `(u, v)` drawn from `plane_seed`.
pub fn slice_disc_regions(
    net: &Network,
    center: &[f64],
    r: f64,
    plane_seed: u64,
) -> Result<usize, StudyError> {
    let plane = Plane::random_orthonormal(center.to_vec(), plane_seed).map_err(analysis)?;
    Ok(
        plane_partition(net, &plane, Shape::disc(r), PlaneOptions::default())
            .map_err(analysis)?
            .regions
            .len(),
    )
}

/// The exact number of activation regions whose interior meets `ball` (region tree
/// enumeration, one thread), or the regions found when it stops at `max_regions` or
/// `time_limit`.
pub fn ball_regions(
    net: &Network,
    ball: &Domain,
    max_regions: u64,
    time_limit: std::time::Duration,
) -> Result<BallCount, StudyError> {
    let e = enumerate_regions(
        net,
        ball,
        EnumerationOptions {
            max_regions: Some(max_regions),
            time_limit: Some(time_limit),
            parallel: false,
            ..EnumerationOptions::default()
        },
        None,
        None,
    )
    .map_err(analysis)?;
    Ok(BallCount {
        // A count with uncertain sides (docs/math.md §5.2) is not exact either.
        exact: e.is_exact().then_some(e.regions),
        at_least: e.regions,
    })
}

/// The exact ball counts of one point at every radius (L2 balls about `center`), in the
/// order of `radii`, within one [`BallBudget`]: smallest radius first, each count given
/// the time the earlier ones left. Once a count does not finish, the larger radii are not
/// counted (the larger ball holds at least as many regions) and are over budget too,
/// with the best lower bound of the smaller balls.
pub fn ball_regions_at_radii(
    net: &Network,
    center: &[f64],
    radii: &[f64],
    budget: BallBudget,
) -> Result<Vec<BallCount>, StudyError> {
    let mut order: Vec<usize> = (0..radii.len()).collect();
    order.sort_by(|&a, &b| radii[a].total_cmp(&radii[b]));
    let mut out = vec![
        BallCount {
            exact: None,
            at_least: 0,
        };
        radii.len()
    ];
    let start = std::time::Instant::now();
    let mut ran_out: Option<u64> = None;
    // The best lower bound of the smaller balls so far (they lie inside the larger).
    let mut inside = 0;
    for ri in order {
        if budget.max_radius.is_some_and(|m| radii[ri] > m) {
            ran_out = ran_out.or(Some(inside));
        }
        out[ri] = match ran_out {
            Some(_) => BallCount {
                exact: None,
                at_least: inside,
            },
            None => {
                let left = (budget.seconds - start.elapsed().as_secs_f64()).max(0.0);
                let ball = Domain::ball(center.to_vec(), radii[ri], Norm::L2).map_err(analysis)?;
                let mut c = ball_regions(
                    net,
                    &ball,
                    budget.max_regions,
                    std::time::Duration::try_from_secs_f64(left)
                        .unwrap_or(std::time::Duration::MAX),
                )?;
                c.at_least = c.at_least.max(inside);
                inside = c.at_least;
                if c.exact.is_none() {
                    ran_out = Some(c.at_least);
                }
                c
            }
        };
    }
    Ok(out)
}

/// The metrics of one point set on `net` (parallel over points).
pub fn track_set(
    net: &Network,
    points: &Mat<f64>,
    set: usize,
    config: &TrackConfig,
) -> Result<SetMetrics, StudyError> {
    let ids: Vec<usize> = (0..points.nrows()).collect();
    track_points(net, points, set, &ids, config)
}

/// [`track_set`] for points that stand for points `ids` of set `set` (row `k` for point
/// `ids[k]`): each takes that point's LC frames and slice plane ([`point_seed`]), so that
/// metrics at an adversarial example and at its clean source are paired on the same
/// random directions.
pub fn track_points(
    net: &Network,
    points: &Mat<f64>,
    set: usize,
    ids: &[usize],
    config: &TrackConfig,
) -> Result<SetMetrics, StudyError> {
    let distance: Vec<f64> = boundary_distances_batch(net, points.as_ref(), Norm::L2)
        .map_err(analysis)?
        .into_iter()
        .map(|b| b.distance)
        .collect();
    let p = BoundPropagator::new(net);
    #[allow(clippy::type_complexity)]
    let per_point: Vec<Vec<(f64, usize, usize, usize, Option<BallCount>)>> = (0..points.nrows())
        .into_par_iter()
        .map(|i| {
            let c: Vec<f64> = (0..points.ncols()).map(|j| points[(i, j)]).collect();
            let balls = match config.exact_ball {
                Some(budget) => Some(ball_regions_at_radii(net, &c, &config.radii, budget)?),
                None => None,
            };
            config
                .radii
                .iter()
                .enumerate()
                .map(|(ri, &r)| {
                    let dom = Domain::ball(c.clone(), r, Norm::L2).map_err(analysis)?;
                    let (bound, unstable) = local_bound_log2(&p, &dom)?;
                    let lc = local_complexity_total(
                        net,
                        &dom,
                        config.lc_directions,
                        point_seed(config.seed, set, ids[i], ri),
                    )?;
                    let slice = if config.slice {
                        slice_disc_regions(
                            net,
                            &c,
                            r,
                            point_seed(config.seed, set, ids[i], usize::MAX),
                        )?
                    } else {
                        0
                    };
                    Ok((bound, unstable, lc, slice, balls.as_ref().map(|b| b[ri])))
                })
                .collect::<Result<Vec<_>, StudyError>>()
        })
        .collect::<Result<_, _>>()?;
    let nr = config.radii.len();
    let balls: Vec<Vec<BallCount>> = if config.exact_ball.is_some() {
        (0..nr)
            .map(|r| per_point.iter().filter_map(|v| v[r].4).collect())
            .collect()
    } else {
        Vec::new()
    };
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
        ball_regions: balls
            .iter()
            .map(|v| v.iter().map(|b| b.exact).collect())
            .collect(),
        ball_regions_at_least: balls
            .iter()
            .map(|v| v.iter().map(|b| b.at_least).collect())
            .collect(),
    })
}

/// The square of the input plane in which a 2-D study draws its partitions: centred on
/// the training data's bounding box `[lo, hi]`, of half-width
/// `(1 + pad) max_j (hi_j - lo_j) / 2` (the box, padded by the fraction `pad` of its
/// larger half-side, made square). Returned as the plane `c + a e_1 + b e_2` (so `(a, b)`
/// is the input minus the box's centre `c`) and the square `[-h, h]^2`.
pub fn data_square(data: &Dataset, pad: f64) -> Result<(Plane, Shape), StudyError> {
    if data.dim() != 2 {
        return Err(StudyError::Config(format!(
            "the input square needs 2-D data, not dimension {}",
            data.dim()
        )));
    }
    let center: Vec<f64> = (0..2).map(|j| 0.5 * (data.lo[j] + data.hi[j])).collect();
    let half = (0..2)
        .map(|j| 0.5 * (data.hi[j] - data.lo[j]))
        .fold(0.0_f64, f64::max);
    let half = if half > 0.0 { half * (1.0 + pad) } else { 1.0 };
    let plane = Plane::new(center, vec![1.0, 0.0], vec![0.0, 1.0]).map_err(analysis)?;
    Ok((plane, Shape::square(half)))
}

/// The exact partition of [`data_square`] into the activation regions of a network with
/// 2-D inputs (every region verified by a forward pass; at most `max_regions`).
pub fn input_partition(
    net: &Network,
    data: &Dataset,
    pad: f64,
    max_regions: usize,
) -> Result<(Plane, PlanePartition), StudyError> {
    let (plane, shape) = data_square(data, pad)?;
    let part = plane_partition(
        net,
        &plane,
        shape,
        PlaneOptions {
            max_regions,
            ..PlaneOptions::default()
        },
    )
    .map_err(analysis)?;
    Ok((plane, part))
}

/// Padding of the training data's bounding box in a study's input square: a fraction of
/// its larger half-side ([`data_square`]).
pub const SQUARE_PAD: f64 = 0.05;

/// The most regions a study's input-square partition may have ([`input_partition`]).
pub const SQUARE_MAX_REGIONS: usize = 2_000_000;

/// The exact partition of a study's input square at one checkpoint.
#[derive(Debug, Clone)]
pub struct SquarePartition {
    pub epoch: usize,
    /// [`input_partition`] of the checkpoint's network.
    pub partition: PlanePartition,
    /// The decision boundary of the network in the square, as segments in `(a, b)`
    /// coordinates ([`PlanePartition::decision_boundary`] with the default decision).
    pub decision_boundary: Vec<[Point2; 2]>,
}

/// The input square of a 2-D study ([`data_square`] with [`SQUARE_PAD`]) with the
/// training points and the square's exact partition at chosen checkpoints.
#[derive(Debug, Clone)]
pub struct InputSquare {
    /// The plane `c + a e_1 + b e_2`: `(a, b)` is an input minus the square's centre `c`.
    pub plane: Plane,
    /// The square is `[-h, h]^2` in `(a, b)`.
    pub half_width: f64,
    /// The padding of the data's box ([`SQUARE_PAD`]).
    pub pad: f64,
    /// The training points in `(a, b)` coordinates, with their labels.
    pub training_points: Vec<(Point2, usize)>,
    /// In checkpoint order.
    pub partitions: Vec<SquarePartition>,
}

impl InputSquare {
    /// The square in input coordinates, `[c_1 - h, c_1 + h] x [c_2 - h, c_2 + h]`, three
    /// decimals.
    pub fn bounds_text(&self) -> String {
        let (c, h) = (self.plane.center(), self.half_width);
        format!(
            "[{:.3}, {:.3}] x [{:.3}, {:.3}]",
            c[0] - h,
            c[0] + h,
            c[1] - h,
            c[1] + h
        )
    }
}

/// The checkpoints (indices among `n >= 1`) whose input-square partitions a study keeps:
/// the first, the middle `(n - 1) / 2` and the last, each once.
pub fn square_checkpoints(n: usize) -> Vec<usize> {
    let mut chosen = vec![0, n.saturating_sub(1) / 2, n.saturating_sub(1)];
    chosen.dedup();
    chosen
}

/// The input square of 2-D `data` partitioned by the networks of [`square_checkpoints`]
/// (checkpoint `k` is `networks[k]`, at epoch `k`).
pub fn input_square(networks: &[Network], data: &Dataset) -> Result<InputSquare, StudyError> {
    let (plane, shape) = data_square(data, SQUARE_PAD)?;
    let c = plane.center().to_vec();
    let training_points = (0..data.train.x.nrows())
        .map(|i| {
            (
                [data.train.x[(i, 0)] - c[0], data.train.x[(i, 1)] - c[1]],
                data.train.y[i],
            )
        })
        .collect();
    let partitions = square_checkpoints(networks.len())
        .into_iter()
        .map(|epoch| {
            let (_, partition) =
                input_partition(&networks[epoch], data, SQUARE_PAD, SQUARE_MAX_REGIONS).map_err(
                    |e| StudyError::Partition {
                        epoch,
                        source: Box::new(e),
                    },
                )?;
            let decision_boundary = partition.decision_boundary(Decision::default());
            Ok(SquarePartition {
                epoch,
                partition,
                decision_boundary,
            })
        })
        .collect::<Result<_, StudyError>>()?;
    Ok(InputSquare {
        plane,
        half_width: shape.extent(),
        pad: SQUARE_PAD,
        training_points,
        partitions,
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
            exact_ball: Some(BallBudget::default_for_dim(2)),
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

    #[test]
    fn ball_counts_share_one_budget_smallest_radius_first() {
        let net = seeded_network(&[10, 8, 8, 3], Init::He, 7);
        let c = vec![0.5; 10];
        let radii = [1.5, 0.1, 0.5];
        let exact = |r: f64| {
            enumerate_regions(
                &net,
                &Domain::ball(c.clone(), r, Norm::L2).unwrap(),
                EnumerationOptions::default(),
                None,
                None,
            )
            .unwrap()
            .regions
        };
        let truth: Vec<u64> = radii.iter().map(|&r| exact(r)).collect();
        assert!(truth[1] < truth[2] && truth[2] < truth[0], "{truth:?}");
        // A generous budget: every count exact.
        let generous = BallBudget {
            seconds: 600.0,
            max_regions: 1_000_000,
            max_radius: None,
        };
        let all = ball_regions_at_radii(&net, &c, &radii, generous).unwrap();
        for (b, &t) in all.iter().zip(&truth) {
            assert_eq!(
                *b,
                BallCount {
                    exact: Some(t),
                    at_least: t
                }
            );
        }
        // A region budget between the two smaller counts: the middle radius runs out, and
        // the largest is not counted but inherits its lower bound.
        let budget = BallBudget {
            seconds: 10.0,
            max_regions: truth[1].max(truth[2] - 1),
            max_radius: None,
        };
        let some = ball_regions_at_radii(&net, &c, &radii, budget).unwrap();
        assert_eq!(some[1].exact, Some(truth[1]));
        assert_eq!(some[2].exact, None);
        assert!(some[2].at_least <= truth[2] && some[2].at_least >= truth[1]);
        assert_eq!(
            some[0],
            BallCount {
                exact: None,
                at_least: some[2].at_least
            }
        );
        // A largest radius between the two smaller ones: the smallest is counted exactly,
        // the others are over budget with its count as their lower bound.
        let capped = BallBudget {
            max_radius: Some(0.5 * (radii[1] + radii[2])),
            ..generous
        };
        let small = ball_regions_at_radii(&net, &c, &radii, capped).unwrap();
        assert_eq!(small[1].exact, Some(truth[1]));
        for k in [0, 2] {
            assert_eq!(
                small[k],
                BallCount {
                    exact: None,
                    at_least: truth[1]
                }
            );
        }
        // No time at all: nothing exact, nothing dropped.
        let none = ball_regions_at_radii(
            &net,
            &c,
            &radii,
            BallBudget {
                seconds: 0.0,
                max_regions: 100_000,
                max_radius: None,
            },
        )
        .unwrap();
        assert!(
            none.iter()
                .all(|b| b.exact.is_none() && b.at_least <= truth[1])
        );
    }

    #[test]
    fn the_input_square_holds_the_data_and_its_partition_is_the_exact_count() {
        let data = load(&DatasetKind::Moons, &DataOptions::default()).unwrap();
        let net = seeded_network(&[2, 8, 8, 2], Init::PytorchDefault, 5);
        let (plane, part) = input_partition(&net, &data, 0.05, 100_000).unwrap();
        let Shape::Square { half_width } = part.shape else {
            panic!("a square")
        };
        let c = plane.center();
        let x = &data.train.x;
        for i in 0..x.nrows() {
            assert!((0..2).all(|j| (x[(i, j)] - c[j]).abs() < half_width));
        }
        assert_eq!(part.unverified, 0);
        assert!((part.area_total - 4.0 * half_width * half_width).abs() < 1e-9);
        // The same square counted by the region tree enumeration.
        let square = Domain::boxed(
            c.iter().map(|v| v - half_width).collect(),
            c.iter().map(|v| v + half_width).collect(),
        )
        .unwrap();
        let e =
            enumerate_regions(&net, &square, EnumerationOptions::default(), None, None).unwrap();
        assert_eq!(part.region_count() as u64, e.regions);
        let wrong = load(&DatasetKind::Digits, &DataOptions::default()).unwrap();
        assert!(data_square(&wrong, 0.05).is_err());
    }

    #[test]
    fn the_study_square_holds_the_chosen_checkpoints_partitions() {
        assert_eq!(square_checkpoints(1), vec![0]);
        assert_eq!(square_checkpoints(2), vec![0, 1]);
        assert_eq!(square_checkpoints(3), vec![0, 1, 2]);
        assert_eq!(square_checkpoints(31), vec![0, 15, 30]);
        let data = load(&DatasetKind::Moons, &DataOptions::default()).unwrap();
        let nets: Vec<Network> = (0..4)
            .map(|s| seeded_network(&[2, 6, 2], Init::PytorchDefault, s))
            .collect();
        let square = input_square(&nets, &data).unwrap();
        assert_eq!(
            square
                .partitions
                .iter()
                .map(|p| p.epoch)
                .collect::<Vec<_>>(),
            vec![0, 1, 3]
        );
        for p in &square.partitions {
            let (_, alone) = input_partition(&nets[p.epoch], &data, SQUARE_PAD, 100_000).unwrap();
            assert_eq!(p.partition.region_count(), alone.region_count());
            assert_eq!(p.partition.pieces, alone.pieces);
            assert_eq!(
                p.decision_boundary,
                alone.decision_boundary(Decision::default())
            );
        }
        let c = square.plane.center();
        assert_eq!(square.training_points.len(), data.train.y.len());
        assert_eq!(square.training_points[0].0[0], data.train.x[(0, 0)] - c[0]);
        assert_eq!(square.training_points[0].1, data.train.y[0]);
        let h = square.half_width;
        assert_eq!(
            square.bounds_text(),
            format!(
                "[{:.3}, {:.3}] x [{:.3}, {:.3}]",
                c[0] - h,
                c[0] + h,
                c[1] - h,
                c[1] + h
            )
        );
        // A failing partition says at which epoch (the report prints this message).
        let e = StudyError::Partition {
            epoch: 15,
            source: Box::new(StudyError::Analysis("too many regions".into())),
        };
        assert_eq!(
            e.to_string(),
            "partitioning the input square at epoch 15: analysis failed: too many regions"
        );
    }
}
