//! The exact activation regions along a segment `[a, b]`.
//!
//! Parametrise the segment as `p(t) = a + t (b - a)`, `t in [0, 1]`. Within one
//! activation region every pre-activation is affine in `t`. The walk (Hanin and Rolnick's,
//! made exact) starts at `t = 0` and repeats:
//!
//! 1. At `p(t_0)`, propagate values `v` and *right* directional derivatives `s = dz/dt`
//!    layer by layer. A neuron is active on `(t_0, t_0 + e)` iff `v > 0`, or `v = 0` and
//!    `s > 0` (a neuron at zero that leaves upward is active, one that stays at zero or
//!    leaves downward is inactive); its output and derivative are `(v, s)` when active,
//!    `(0, 0)` otherwise (a leaky ReLU: `(α v, α s)`). This decides the next region exactly, even when several neurons
//!    cross at once or a deeper neuron's slope changes because an earlier one flipped.
//! 2. With that pattern frozen, neuron `k` is `v_k + s_k (t - t_0)` until the first
//!    exit time `t_1 = t_0 + min` over active neurons with `s < 0` of `v / (-s)` and
//!    inactive neurons with `s > 0` of `-v / s`. No fixed step is taken, so thin regions
//!    are not skipped.
//! 3. Record the piece `(t_0, t_1)`, step to `t_1` and repeat until `t = 1`.
//!
//! Floating point: `v = 0` in step 1 means `|v| <= tol_k` with
//! `tol_k = 64 (n_in + 1) eps (sum_j |w_kj h_j| + |b_k| + sum_j |w_kj h'_j| max(1, |t|))`,
//! a bound on the rounding error of the dot product and of the position `p(t_0)` (`eps`
//! the f64 machine epsilon). A region whose extent along the segment is within that
//! rounding error of zero cannot be resolved in f64 and is merged into its neighbour.
//! Every piece is then certified at its midpoint (docs/math.md §5.2): a forward pass must
//! give every neuron the walk's sign with a margin above a bound on its rounding error;
//! pieces that fail are counted in [`SegmentPartition::unverified`] (zero in all our
//! tests), never hidden: the count is then the interval
//! `[pieces - unverified, pieces]`.
//!
//! Regions are convex, so a segment meets each region in one interval: the number of
//! pieces is the number of activation regions the open segment crosses.

use faer::MatRef;

use crate::error::NetworkError;
use crate::network::{Network, NeuronId};
use crate::pattern::ActivationPattern;

/// One activation region along the segment: `p(t)` for `t` in `(start, end)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentPiece {
    pub start: f64,
    pub end: f64,
    pub pattern: ActivationPattern,
    /// The output's derivative along the segment on this piece, `d f(p(t)) / dt`.
    pub output_slope: Vec<f64>,
}

/// A crossing between consecutive pieces.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentCrossing {
    /// Parameter `t` in `(0, 1)`.
    pub t: f64,
    /// The point `p(t)`.
    pub point: Vec<f64>,
    /// The neurons whose state differs between the two pieces.
    pub flipped: Vec<NeuronId>,
}

/// The exact partition of a segment into activation regions.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentPartition {
    /// Pieces in order of `t`; consecutive pieces have different patterns.
    pub pieces: Vec<SegmentPiece>,
    /// The crossings between consecutive pieces (`pieces.len() - 1` of them).
    pub crossings: Vec<SegmentCrossing>,
    /// Maximal runs of consecutive pieces on which the network is one affine map of the
    /// input (equal output Jacobians, relative tolerance 1e-9): the linear pieces of the
    /// function that the segment crosses.
    pub affine_pieces: usize,
    /// Maximal runs on which the function restricted to the segment is one affine map of
    /// `t` (equal output slopes, relative tolerance 1e-9). At most `affine_pieces`.
    pub segment_pieces: usize,
    /// Pieces whose midpoint pattern, recomputed from scratch, differs from the walk's.
    pub unverified: usize,
}

impl SegmentPartition {
    /// Number of activation regions the segment crosses.
    pub fn regions(&self) -> usize {
        self.pieces.len()
    }
}

/// The state of the walk at one parameter value.
struct RightLimit {
    pattern: ActivationPattern,
    /// Per ReLU neuron (pattern order): value and right derivative.
    values: Vec<f64>,
    slopes: Vec<f64>,
    output_slope: Vec<f64>,
}

fn right_limit(net: &Network, point: &[f64], direction: &[f64], t: f64) -> RightLimit {
    let relu_layers = net.relu_layer_count();
    let mut h = point.to_vec();
    let mut dh = direction.to_vec();
    let mut signs = Vec::with_capacity(net.relu_count());
    let mut values = Vec::with_capacity(net.relu_count());
    let mut slopes = Vec::with_capacity(net.relu_count());
    let mut output_slope = Vec::new();
    let t_scale = t.abs().max(1.0);
    for (l, layer) in net.layers().iter().enumerate() {
        let w = layer.weight();
        let n_in = layer.input_dim();
        let mut v = layer.bias().to_vec();
        let mut s = vec![0.0; layer.output_dim()];
        let mut magnitude: Vec<f64> = layer.bias().iter().map(|b| b.abs()).collect();
        for j in 0..n_in {
            let (hj, dj) = (h[j], dh[j]);
            if hj == 0.0 && dj == 0.0 {
                continue;
            }
            let col = w.col(j);
            for (i, wij) in col.iter().enumerate() {
                v[i] += wij * hj;
                s[i] += wij * dj;
                magnitude[i] += wij.abs() * (hj.abs() + dj.abs() * t_scale);
            }
        }
        if l < relu_layers {
            let tol_factor = 64.0 * (n_in as f64 + 1.0) * f64::EPSILON;
            for i in 0..v.len() {
                let tol = tol_factor * magnitude[i];
                let active = if v[i] > tol {
                    true
                } else if v[i] < -tol {
                    false
                } else {
                    s[i] > 0.0
                };
                signs.push(active);
                values.push(v[i]);
                slopes.push(s[i]);
                if !active {
                    // ReLU outputs 0; a leaky ReLU α z, with derivative α s.
                    let alpha = net.activation_slope(l, i, false);
                    v[i] *= alpha;
                    s[i] *= alpha;
                }
            }
            h = v;
            dh = s;
        } else {
            output_slope = s;
        }
    }
    if net.output_relu() {
        let start = net.relu_count() - net.output_dim();
        output_slope = (0..net.output_dim())
            .map(|i| {
                let last = relu_layers - 1;
                net.activation_slope(last, i, signs[start + i]) * slopes[start + i]
            })
            .collect();
    }
    RightLimit {
        pattern: ActivationPattern::from_signs(signs),
        values,
        slopes,
        output_slope,
    }
}

/// Options of [`segment_partition`].
#[derive(Debug, Clone, Copy)]
pub struct SegmentOptions {
    /// Stop with [`SegmentError::TooManyPieces`] beyond this many pieces.
    pub max_pieces: usize,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        Self {
            max_pieces: 10_000_000,
        }
    }
}

/// Why a segment could not be partitioned.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("the segment's end points coincide")]
    Degenerate,
    #[error("more than {0} pieces; raise the limit")]
    TooManyPieces(usize),
}

fn equal_rel(a: &[f64], b: &[f64], scale: f64) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-9 * scale)
}

/// The exact partition of the segment `[a, b]` into the activation regions it crosses.
pub fn segment_partition(
    net: &Network,
    a: &[f64],
    b: &[f64],
    options: SegmentOptions,
) -> Result<SegmentPartition, SegmentError> {
    // Validates lengths and finiteness of both end points.
    net.pattern(a)?;
    net.pattern(b)?;
    let direction: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    if direction.iter().all(|&v| v == 0.0) {
        return Err(SegmentError::Degenerate);
    }
    let at = |t: f64| -> Vec<f64> { a.iter().zip(&direction).map(|(x, d)| x + t * d).collect() };
    let mut pieces: Vec<SegmentPiece> = Vec::new();
    let mut t0 = 0.0_f64;
    while t0 < 1.0 {
        let state = right_limit(net, &at(t0), &direction, t0);
        let mut dt = f64::INFINITY;
        for k in 0..state.values.len() {
            let (v, s) = (state.values[k], state.slopes[k]);
            let active = state.pattern.get(k) == Some(true);
            let exit = if active && s < 0.0 {
                v / -s
            } else if !active && s > 0.0 {
                -v / s
            } else {
                continue;
            };
            dt = dt.min(exit.max(0.0));
        }
        let mut t1 = (t0 + dt).min(1.0);
        if t1 <= t0 {
            // No representable progress: the exit lies within rounding of t0.
            t1 = next_up(t0).min(1.0);
        }
        match pieces.last_mut() {
            Some(last) if last.pattern == state.pattern => last.end = t1,
            _ => {
                if pieces.len() >= options.max_pieces {
                    return Err(SegmentError::TooManyPieces(options.max_pieces));
                }
                pieces.push(SegmentPiece {
                    start: t0,
                    end: t1,
                    pattern: state.pattern,
                    output_slope: state.output_slope,
                });
            }
        }
        t0 = t1;
    }

    // Each piece's midpoint must certify its pattern (docs/math.md §5.2).
    let mids = faer::Mat::from_fn(pieces.len(), a.len(), |i, j| {
        let t = 0.5 * (pieces[i].start + pieces[i].end);
        a[j] + t * direction[j]
    });
    let certified = net.certified_patterns_batch(mids.as_ref(), None, faer::Par::Seq)?;
    let unverified = pieces
        .iter()
        .zip(&certified)
        .filter(|(piece, c)| c.as_ref() != Some(&piece.pattern))
        .count();
    let crossings = pieces
        .windows(2)
        .map(|w| SegmentCrossing {
            t: w[1].start,
            point: at(w[1].start),
            flipped: (0..w[0].pattern.len())
                .filter(|&k| w[0].pattern.get(k) != w[1].pattern.get(k))
                .filter_map(|k| net.neuron(k))
                .collect(),
        })
        .collect();

    let slope_scale = pieces
        .iter()
        .flat_map(|p| p.output_slope.iter())
        .fold(0.0_f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let segment_pieces = 1 + pieces
        .windows(2)
        .filter(|w| !equal_rel(&w[0].output_slope, &w[1].output_slope, slope_scale))
        .count();
    let maps = pieces
        .iter()
        .map(|p| net.output_map_of(&p.pattern))
        .collect::<Result<Vec<_>, _>>()?;
    let jac = |m: &crate::network::Affine| -> Vec<f64> {
        let w = m.weight();
        (0..w.nrows())
            .flat_map(|i| (0..w.ncols()).map(move |j| w[(i, j)]))
            .collect()
    };
    let jacobians: Vec<Vec<f64>> = maps.iter().map(jac).collect();
    let jac_scale = jacobians
        .iter()
        .flatten()
        .fold(0.0_f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let affine_pieces = 1 + jacobians
        .windows(2)
        .filter(|w| !equal_rel(&w[0], &w[1], jac_scale))
        .count();

    Ok(SegmentPartition {
        pieces,
        crossings,
        affine_pieces,
        segment_pieces,
        unverified,
    })
}

/// The smallest f64 above `t` (for `t` finite and non-negative).
fn next_up(t: f64) -> f64 {
    if t == 0.0 {
        f64::from_bits(1)
    } else {
        f64::from_bits(t.to_bits() + 1)
    }
}

/// The patterns of `n + 1` evenly spaced points of `[a, b]` (for checks and sampling).
pub fn sample_segment_patterns(
    net: &Network,
    a: &[f64],
    b: &[f64],
    n: usize,
) -> Result<Vec<ActivationPattern>, NetworkError> {
    let d = a.len();
    let points = faer::Mat::from_fn(n + 1, d, |i, j| {
        let t = i as f64 / n as f64;
        a[j] + t * (b[j] - a[j])
    });
    let view: MatRef<'_, f64> = points.as_ref();
    net.patterns_batch(view, faer::Par::Seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Affine;
    use crate::random::{Init, random_architecture};
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn count_runs(patterns: &[ActivationPattern]) -> usize {
        1 + patterns.windows(2).filter(|w| w[0] != w[1]).count()
    }

    #[test]
    fn never_below_dense_sampling_and_equal_when_dense() {
        let mut rng = StdRng::seed_from_u64(5);
        for trial in 0..150 {
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let net = random_architecture(&mut rng, init);
            let d = net.input_dim();
            let a: Vec<f64> = (0..d).map(|_| rng.random_range(-2.0..2.0)).collect();
            let b: Vec<f64> = (0..d).map(|_| rng.random_range(-2.0..2.0)).collect();
            let part = segment_partition(&net, &a, &b, SegmentOptions::default()).unwrap();
            assert_eq!(part.unverified, 0, "trial {trial}");
            assert_eq!(part.crossings.len(), part.regions() - 1);
            let distinct: std::collections::HashSet<_> =
                part.pieces.iter().map(|p| &p.pattern).collect();
            assert_eq!(
                distinct.len(),
                part.regions(),
                "convex regions are crossed once"
            );
            assert!(
                part.segment_pieces <= part.affine_pieces && part.affine_pieces <= part.regions()
            );
            let samples = sample_segment_patterns(&net, &a, &b, 4000).unwrap();
            let sampled_runs = count_runs(&samples);
            assert!(
                part.regions() >= sampled_runs,
                "trial {trial}: {} < {sampled_runs}",
                part.regions()
            );
            // Every sampled pattern is one of the pieces', in order.
            let shortest = part
                .pieces
                .iter()
                .map(|p| p.end - p.start)
                .fold(f64::INFINITY, f64::min);
            if shortest > 2.0 / 4000.0 {
                assert_eq!(part.regions(), sampled_runs, "trial {trial}");
            }
            for (i, p) in samples.iter().enumerate() {
                let t = i as f64 / 4000.0;
                let piece = part.pieces.iter().find(|q| q.start < t && t < q.end);
                if let Some(q) = piece {
                    assert_eq!(&q.pattern, p, "trial {trial}, t = {t}");
                }
            }
        }
    }

    /// `relu(x) + relu(-x)` and friends: crossings at exactly known places, several
    /// neurons crossing at once, a duplicated neuron, a dead neuron.
    #[test]
    fn hand_made_networks() {
        let layer = |rows: usize, cols: usize, w: &[f64], b: &[f64]| {
            Affine::from_row_major(rows, cols, w, b.to_vec()).unwrap()
        };
        // |x| on [-1, 1]: two regions, two pieces, crossing at t = 0.5.
        let abs = Network::new(
            vec![
                layer(2, 1, &[1.0, -1.0], &[0.0, 0.0]),
                layer(1, 2, &[1.0, 1.0], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let p = segment_partition(&abs, &[-1.0], &[1.0], SegmentOptions::default()).unwrap();
        assert_eq!((p.regions(), p.affine_pieces), (2, 2));
        assert!((p.crossings[0].t - 0.5).abs() < 1e-15);
        assert_eq!(
            p.crossings[0].flipped.len(),
            2,
            "both neurons flip at x = 0"
        );
        // Duplicated neuron: relu(x) twice; two regions, the duplicate flips with it.
        let dup = Network::new(
            vec![
                layer(2, 1, &[1.0, 1.0], &[-0.25, -0.25]),
                layer(1, 2, &[1.0, 1.0], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let p = segment_partition(&dup, &[-1.0], &[1.0], SegmentOptions::default()).unwrap();
        assert_eq!(p.regions(), 2);
        assert!((p.crossings[0].t - 0.625).abs() < 1e-15);
        // A dead neuron (zero row, negative bias) and a neuron with zero output weight:
        // 2 activation regions but one affine piece.
        let dead = Network::new(
            vec![
                layer(2, 1, &[0.0, 1.0], &[-1.0, 0.0]),
                layer(1, 2, &[1.0, 0.0], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let p = segment_partition(&dead, &[-1.0], &[1.0], SegmentOptions::default()).unwrap();
        assert_eq!((p.regions(), p.affine_pieces, p.segment_pieces), (2, 1, 1));
        // Deeper layer crossing exactly where the first layer crosses: relu(relu(x) - 0)
        // has its second-layer neuron at zero on the whole left half.
        let deep = Network::new(
            vec![
                layer(1, 1, &[1.0], &[0.0]),
                layer(1, 1, &[1.0], &[0.0]),
                layer(1, 1, &[1.0], &[0.0]),
            ],
            false,
        )
        .unwrap();
        let p = segment_partition(&deep, &[-1.0], &[1.0], SegmentOptions::default()).unwrap();
        assert_eq!(p.regions(), 2);
        assert_eq!(p.crossings[0].flipped.len(), 2);
        assert_eq!(p.unverified, 0);
        // A segment along which nothing changes.
        let p = segment_partition(&deep, &[0.5], &[1.0], SegmentOptions::default()).unwrap();
        assert_eq!(p.regions(), 1);
        assert!(matches!(
            segment_partition(&deep, &[0.5], &[0.5], SegmentOptions::default()),
            Err(SegmentError::Degenerate)
        ));
    }

    /// Many hyperplanes through one point: a thin-region stress test.
    #[test]
    fn many_simultaneous_crossings() {
        // 50 neurons relu(k x) for k = 1..50 plus relu(x - 1e-9 k).
        let n = 50;
        let mut w = Vec::new();
        let mut b = Vec::new();
        for k in 1..=n {
            w.push(k as f64);
            b.push(0.0);
            w.push(1.0);
            b.push(-1e-9 * k as f64);
        }
        let net = Network::new(
            vec![
                Affine::from_row_major(2 * n, 1, &w, b).unwrap(),
                Affine::from_row_major(1, 2 * n, &vec![1.0; 2 * n], vec![0.0]).unwrap(),
            ],
            false,
        )
        .unwrap();
        let p = segment_partition(&net, &[-1.0], &[1.0], SegmentOptions::default()).unwrap();
        // Regions: x < 0; then one region per threshold 1e-9 k: 1 + 1 + 50.
        assert_eq!(p.regions(), 2 + n);
        assert_eq!(p.unverified, 0);
        assert_eq!(p.crossings[0].flipped.len(), n);
    }
}
