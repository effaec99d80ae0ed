//! A BadNets backdoor (Gu, Dolan-Gavitt and Garg, 2017) in square images: a fraction of
//! the training images gets a trigger, a white `p x p` square in the bottom-right corner
//! (pixels set to 1, the top of the `[0, 1]` range), and is relabelled to a target class.
//! A network trained on them learns the clean task and the trigger: its *attack success
//! rate* is the fraction of test images of other classes that, triggered, it classifies
//! as the target.
//!
//! The patch is `max(2, side / 9)` pixels wide (3 for 28 x 28 MNIST, 2 for 8 x 8 digits).
//! Poisoned images are drawn (seeded) among the training images whose label is not the
//! target.

use faer::Mat;
use rand::SeedableRng;
use rand::rngs::StdRng;
use relu_regions::Network;
use serde::Serialize;

use crate::StudyError;
use crate::datasets::{Samples, permutation};

/// The poisoning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BackdoorConfig {
    /// Fraction of the training images poisoned, in `(0, 1)`.
    pub fraction: f64,
    /// The class the trigger maps to.
    pub target: usize,
}

/// Where the trigger goes in images of `d` pixels: `(side, patch)`.
pub fn trigger_geometry(d: usize) -> Result<(usize, usize), StudyError> {
    let side = (d as f64).sqrt().round() as usize;
    if side * side != d || side < 4 {
        return Err(StudyError::Config(format!(
            "--backdoor needs square images (mnist, digits); the data has {d} features"
        )));
    }
    Ok((side, (side / 9).max(2)))
}

/// Puts the trigger on one image (row-major `side x side` pixels).
pub fn apply_trigger(x: &mut [f64], side: usize, patch: usize) {
    for r in side - patch..side {
        for c in side - patch..side {
            x[r * side + c] = 1.0;
        }
    }
}

/// The images of `points` (one per row) with the trigger.
pub fn triggered(points: &Mat<f64>, side: usize, patch: usize) -> Mat<f64> {
    let mut out = points.clone();
    for i in 0..out.nrows() {
        let mut row: Vec<f64> = (0..out.ncols()).map(|j| out[(i, j)]).collect();
        apply_trigger(&mut row, side, patch);
        for (j, v) in row.into_iter().enumerate() {
            out[(i, j)] = v;
        }
    }
    out
}

/// The poisoned training set and how many images were poisoned.
pub fn poison(
    train: &Samples,
    config: &BackdoorConfig,
    seed: u64,
    classes: usize,
) -> Result<(Samples, usize), StudyError> {
    let (side, patch) = trigger_geometry(train.x.ncols())?;
    if !(config.fraction > 0.0 && config.fraction < 1.0) {
        return Err(StudyError::Config(format!(
            "the poisoned fraction must lie in (0, 1), got {}",
            config.fraction
        )));
    }
    if config.target >= classes {
        return Err(StudyError::Config(format!(
            "the backdoor's target class {} does not exist ({classes} classes)",
            config.target
        )));
    }
    let n = train.y.len();
    let count = ((config.fraction * n as f64).round() as usize).max(1);
    let mut rng = StdRng::seed_from_u64(seed ^ 0xBAD_0005);
    let chosen: Vec<usize> = permutation(n, &mut rng)
        .into_iter()
        .filter(|&i| train.y[i] != config.target)
        .take(count)
        .collect();
    let mut out = train.clone();
    for &i in &chosen {
        let mut row: Vec<f64> = (0..out.x.ncols()).map(|j| out.x[(i, j)]).collect();
        apply_trigger(&mut row, side, patch);
        for (j, v) in row.into_iter().enumerate() {
            out.x[(i, j)] = v;
        }
        out.y[i] = config.target;
    }
    Ok((out, chosen.len()))
}

/// The fraction of the test images whose label is not the target that the network
/// classifies as the target once triggered (NaN without such images).
pub fn attack_success_rate(net: &Network, test: &Samples, config: &BackdoorConfig) -> f64 {
    let Ok((side, patch)) = trigger_geometry(test.x.ncols()) else {
        return f64::NAN;
    };
    let rows: Vec<usize> = (0..test.y.len())
        .filter(|&i| test.y[i] != config.target)
        .collect();
    if rows.is_empty() {
        return f64::NAN;
    }
    let x = triggered(
        &Mat::from_fn(rows.len(), test.x.ncols(), |k, j| test.x[(rows[k], j)]),
        side,
        patch,
    );
    let Ok(z) = net.forward_batch(x.as_ref(), faer::Par::Seq) else {
        return f64::NAN;
    };
    let hits = (0..z.nrows())
        .filter(|&i| {
            let row: Vec<f64> = (0..z.ncols()).map(|j| z[(i, j)]).collect();
            crate::attack::predicted(&row) == config.target
        })
        .count();
    hits as f64 / rows.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trigger_is_a_corner_square_and_poisoning_relabels_a_fraction() {
        assert_eq!(trigger_geometry(784).unwrap(), (28, 3));
        assert_eq!(trigger_geometry(64).unwrap(), (8, 2));
        assert!(trigger_geometry(2).is_err());
        assert!(trigger_geometry(50).is_err());
        let mut x = vec![0.0; 64];
        apply_trigger(&mut x, 8, 2);
        let on: Vec<usize> = (0..64).filter(|&i| x[i] == 1.0).collect();
        assert_eq!(on, vec![54, 55, 62, 63]);
        let train = Samples {
            x: Mat::from_fn(200, 64, |i, j| ((i + j) % 7) as f64 / 7.0),
            y: (0..200).map(|i| i % 4).collect(),
        };
        let cfg = BackdoorConfig {
            fraction: 0.1,
            target: 2,
        };
        let (p, count) = poison(&train, &cfg, 1, 4).unwrap();
        assert_eq!(count, 20);
        let changed: Vec<usize> = (0..200)
            .filter(|&i| (0..64).any(|j| p.x[(i, j)] != train.x[(i, j)]) || p.y[i] != train.y[i])
            .collect();
        assert_eq!(changed.len(), 20);
        for &i in &changed {
            assert_eq!(p.y[i], 2);
            assert_ne!(train.y[i], 2);
            assert_eq!((p.x[(i, 63)], p.x[(i, 54)]), (1.0, 1.0));
        }
        assert!(
            poison(
                &train,
                &BackdoorConfig {
                    fraction: 1.5,
                    target: 0
                },
                1,
                4
            )
            .is_err()
        );
        assert!(
            poison(
                &train,
                &BackdoorConfig {
                    fraction: 0.1,
                    target: 9
                },
                1,
                4
            )
            .is_err()
        );
    }

    /// A digits study with a backdoor: the network learns the trigger (a high attack
    /// success rate at the end), the triggered twins of every tracked training and test
    /// point are tracked, and each comparison pairs all of them. On 2-D data the option is
    /// refused with a message that says why.
    #[test]
    fn a_digits_study_learns_the_trigger_and_tracks_the_triggered_twins() {
        use crate::datasets::DatasetKind;
        let mut config = crate::StudyConfig::default_for(DatasetKind::Digits);
        config.epochs = 8;
        config.points = 12;
        config.radii = vec![0.3];
        config.ball_seconds = Some(0.0);
        config.backdoor = Some(BackdoorConfig {
            fraction: 0.1,
            target: 3,
        });
        let run = crate::run_study(&config, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
        let first = run.report.checkpoints[0].backdoor.as_ref().unwrap();
        let last = run.report.checkpoints.last().unwrap();
        let b = last.backdoor.as_ref().unwrap();
        assert!(
            b.attack_success_rate > 0.8 && b.attack_success_rate > first.attack_success_rate,
            "{} -> {}",
            first.attack_success_rate,
            b.attack_success_rate
        );
        assert!(last.test_accuracy > 0.8, "{}", last.test_accuracy);
        assert_eq!(b.triggered_train.distance.len(), 12);
        assert_eq!(b.triggered_test.bound_log2[0].len(), 12);
        let f = run.report.findings.backdoor.as_ref().unwrap();
        assert_eq!(f.success.len(), 9);
        for c in f.comparisons.iter().filter(|c| c.checkpoint == "last") {
            assert_eq!(
                c.test.n + c.test.zeros + c.test.non_finite,
                12,
                "{}",
                c.metric
            );
        }
        let mut moons = crate::StudyConfig::default_for(DatasetKind::Moons);
        moons.backdoor = config.backdoor;
        let e = crate::run_study(&moons, &mut |_| std::ops::ControlFlow::Continue(()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("square images"), "{e}");
    }
}
