//! Adversarial examples by projected gradient descent (PGD; Madry et al., 2018) with the
//! network's exact gradient.
//!
//! A ReLU network is affine on the region of a point `x`: `f(y) = J y + c` there
//! ([`relu_regions::Network::output_map_of`]). So the gradient of the cross-entropy loss
//! `L(y) = -log softmax(f(y))_label` at `x` is exactly `J^T (softmax(f(x)) - e_label)`
//! (on a region boundary it is that of the region the pattern names: `z = 0` counts as
//! inactive, a one-sided gradient). PGD takes `steps` steps of size `2.5 radius / steps`
//! from the clean point (no random start, so runs repeat exactly):
//!
//! - L-inf: `y <- y + a sign(g)`, then clipped to the box `|y - x|_inf <= radius`;
//! - L2: `y <- y + a g / |g|_2`, then projected onto the ball `|y - x|_2 <= radius`;
//!
//! and, for data with a value range (images in `[0, 1]`), clipped into it (which keeps
//! `y` in the ball: the clean point is in the range). It stops at the first step whose
//! point is misclassified (`argmax f(y) != label`, ties not counted as a success): that
//! point is the adversarial example. Only correctly classified clean points are attacked;
//! the success rate is over them.

use faer::Mat;
use relu_regions::{Network, Norm};
use serde::Serialize;

/// The attack's threat model and effort.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AttackConfig {
    /// `l2` or `linf` in JSON.
    #[serde(serialize_with = "serialize_norm")]
    pub norm: Norm,
    /// Perturbation radius in the norm, input units after scaling.
    pub radius: f64,
    pub steps: usize,
}

impl AttackConfig {
    /// `linf:RADIUS[:STEPS]` or `l2:RADIUS[:STEPS]` (20 steps by default).
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        let norm = match parts.first().map(|p| p.to_ascii_lowercase()) {
            Some(n) if n == "linf" => Norm::LInf,
            Some(n) if n == "l2" => Norm::L2,
            _ => {
                return Err(format!(
                    "`{s}`: expected linf:RADIUS[:STEPS] or l2:RADIUS[:STEPS], e.g. linf:0.1"
                ));
            }
        };
        let radius: f64 = parts
            .get(1)
            .and_then(|r| r.parse().ok())
            .filter(|r: &f64| r.is_finite() && *r > 0.0)
            .ok_or_else(|| format!("`{s}`: the radius must be a positive number"))?;
        let steps = match parts.get(2) {
            None => 20,
            Some(t) => t
                .parse()
                .ok()
                .filter(|&t: &usize| t > 0)
                .ok_or_else(|| format!("`{s}`: the steps must be a positive integer"))?,
        };
        if parts.len() > 3 {
            return Err(format!("`{s}`: too many fields"));
        }
        Ok(Self {
            norm,
            radius,
            steps,
        })
    }

    /// The step size, `2.5 radius / steps` (Madry et al.'s choice).
    pub fn step_size(&self) -> f64 {
        2.5 * self.radius / self.steps as f64
    }
}

fn serialize_norm<S: serde::Serializer>(norm: &Norm, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(norm.name())
}

/// The class the network predicts (the first largest logit).
pub fn predicted(logits: &[f64]) -> usize {
    logits
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
        .0
}

/// Whether `logits` misclassify `label`: another class's logit is strictly larger.
fn misclassified(logits: &[f64], label: usize) -> bool {
    logits
        .iter()
        .enumerate()
        .any(|(i, &v)| i != label && v > logits[label])
}

/// The exact gradient of the cross-entropy loss at `y` (see the module documentation).
fn loss_gradient(net: &Network, y: &[f64], label: usize) -> Option<Vec<f64>> {
    let pattern = net.pattern(y).ok()?;
    let map = net.output_map_of(&pattern).ok()?;
    let z = map.apply(y);
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    let w = map.weight();
    let mut g = vec![0.0; y.len()];
    for (k, ek) in e.iter().enumerate() {
        let coef = ek / s - if k == label { 1.0 } else { 0.0 };
        if coef != 0.0 {
            for (j, gj) in g.iter_mut().enumerate() {
                *gj += coef * w[(k, j)];
            }
        }
    }
    Some(g)
}

/// PGD from `x` against `label`: the adversarial example, or `None` when every step
/// left the point correctly classified.
pub fn pgd(
    net: &Network,
    x: &[f64],
    label: usize,
    config: &AttackConfig,
    range: Option<(f64, f64)>,
) -> Option<Vec<f64>> {
    let a = config.step_size();
    let mut y = x.to_vec();
    for _ in 0..config.steps {
        let g = loss_gradient(net, &y, label)?;
        match config.norm {
            Norm::LInf => {
                for ((yj, gj), xj) in y.iter_mut().zip(&g).zip(x) {
                    let step = if *gj > 0.0 {
                        a
                    } else if *gj < 0.0 {
                        -a
                    } else {
                        0.0
                    };
                    *yj = (*yj + step).clamp(xj - config.radius, xj + config.radius);
                }
            }
            Norm::L2 => {
                let n = g.iter().map(|v| v * v).sum::<f64>().sqrt();
                if n == 0.0 {
                    return None;
                }
                for (yj, gj) in y.iter_mut().zip(&g) {
                    *yj += a * gj / n;
                }
                let d = y
                    .iter()
                    .zip(x)
                    .map(|(p, q)| (p - q).powi(2))
                    .sum::<f64>()
                    .sqrt();
                if d > config.radius {
                    let t = config.radius / d;
                    for (yj, xj) in y.iter_mut().zip(x) {
                        *yj = xj + t * (*yj - xj);
                    }
                }
            }
        }
        if let Some((lo, hi)) = range {
            y.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
        }
        if misclassified(&net.forward(&y).ok()?, label) {
            return Some(y);
        }
    }
    None
}

/// What an attack on a set of points did.
#[derive(Debug, Clone, Serialize)]
pub struct AttackSummary {
    #[serde(flatten)]
    pub config: AttackConfig,
    pub step_size: f64,
    /// Clean points correctly classified (the ones attacked).
    pub attacked: usize,
    /// Adversarial examples found.
    pub succeeded: usize,
    /// `succeeded / attacked` (NaN with nothing attacked).
    pub success_rate: f64,
}

/// The adversarial examples of `points` (one per row, with their labels): the examples
/// (one per row), the rows of their clean sources, and the summary. Parallel over points.
pub fn adversarial_examples(
    net: &Network,
    points: &Mat<f64>,
    labels: &[usize],
    config: &AttackConfig,
    range: Option<(f64, f64)>,
) -> (Mat<f64>, Vec<usize>, AttackSummary) {
    use rayon::prelude::*;
    let d = points.ncols();
    let results: Vec<(bool, Option<Vec<f64>>)> = (0..points.nrows())
        .into_par_iter()
        .map(|i| {
            let x: Vec<f64> = (0..d).map(|j| points[(i, j)]).collect();
            let clean = net
                .forward(&x)
                .map(|z| !misclassified(&z, labels[i]))
                .unwrap_or(false);
            if !clean {
                return (false, None);
            }
            (true, pgd(net, &x, labels[i], config, range))
        })
        .collect();
    let attacked = results.iter().filter(|r| r.0).count();
    let sources: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].1.is_some())
        .collect();
    let examples = Mat::from_fn(sources.len(), d, |k, j| {
        results[sources[k]].1.as_ref().expect("succeeded")[j]
    });
    let succeeded = sources.len();
    let summary = AttackSummary {
        config: *config,
        step_size: config.step_size(),
        attacked,
        succeeded,
        success_rate: if attacked > 0 {
            succeeded as f64 / attacked as f64
        } else {
            f64::NAN
        },
    };
    (examples, sources, summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relu_regions::Affine;

    /// A linear two-class network `f(x) = (x_0, -x_0)`: the boundary is `x_0 = 0`.
    fn linear() -> Network {
        Network::new(
            vec![Affine::from_row_major(2, 2, &[1.0, 0.0, -1.0, 0.0], vec![0.0, 0.0]).unwrap()],
            false,
        )
        .unwrap()
    }

    #[test]
    fn pgd_crosses_the_boundary_exactly_when_it_is_within_the_radius() {
        let net = linear();
        for norm in [Norm::LInf, Norm::L2] {
            // Class 0 at x_0 = 0.3: the boundary is 0.3 away in either norm.
            let x = [0.3, 0.5];
            let near = AttackConfig {
                norm,
                radius: 0.35,
                steps: 20,
            };
            let y = pgd(&net, &x, 0, &near, None).expect("within reach");
            assert!(y[0] < 0.0 && (y[0] - x[0]).abs() <= 0.35 + 1e-12, "{y:?}");
            // The second coordinate does not matter: the gradient ignores it.
            assert_eq!(y[1], 0.5);
            let far = AttackConfig {
                norm,
                radius: 0.25,
                steps: 20,
            };
            assert!(pgd(&net, &x, 0, &far, None).is_none());
            // A value range that forbids the crossing stops it.
            assert!(pgd(&net, &x, 0, &near, Some((0.0, 1.0))).is_none());
        }
        assert_eq!(
            AttackConfig::parse("linf:0.1"),
            Ok(AttackConfig {
                norm: Norm::LInf,
                radius: 0.1,
                steps: 20
            })
        );
        assert_eq!(AttackConfig::parse("L2:1.5:7").unwrap().steps, 7);
        assert!(AttackConfig::parse("l1:0.1").is_err());
        assert!(AttackConfig::parse("linf:-1").is_err());
        assert!(AttackConfig::parse("linf:0.1:0").is_err());
    }

    #[test]
    fn the_gradient_is_the_exact_one_on_a_region() {
        let net = relu_regions::random::seeded_network(
            &[5, 12, 12, 3],
            relu_regions::random::Init::He,
            4,
        );
        let x = [0.2, -0.4, 0.1, 0.7, -0.3];
        let g = loss_gradient(&net, &x, 1).unwrap();
        let loss = |y: &[f64]| {
            let z = net.forward(y).unwrap();
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
            -(z[1] - m - s.ln())
        };
        let h = 1e-7;
        for j in 0..5 {
            let mut y = x.to_vec();
            y[j] += h;
            let fd = (loss(&y) - loss(&x)) / h;
            assert!((fd - g[j]).abs() < 1e-5, "{j}: {fd} vs {}", g[j]);
        }
        // Examples come with their sources and a success rate over the attacked points.
        let points = Mat::from_fn(6, 5, |i, j| ((i * 5 + j) as f64).sin());
        let labels: Vec<usize> = (0..6)
            .map(|i| {
                let row: Vec<f64> = (0..5).map(|j| points[(i, j)]).collect();
                predicted(&net.forward(&row).unwrap())
            })
            .collect();
        let cfg = AttackConfig {
            norm: Norm::L2,
            radius: 2.0,
            steps: 30,
        };
        let (ex, sources, summary) = adversarial_examples(&net, &points, &labels, &cfg, None);
        assert_eq!(summary.attacked, 6);
        assert_eq!(ex.nrows(), sources.len());
        for (k, &i) in sources.iter().enumerate() {
            let y: Vec<f64> = (0..5).map(|j| ex[(k, j)]).collect();
            assert_ne!(predicted(&net.forward(&y).unwrap()), labels[i]);
            let d: f64 = (0..5)
                .map(|j| (y[j] - points[(i, j)]).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(d <= 2.0 + 1e-9);
        }
    }

    /// A study with adversarial examples: at every checkpoint they are misclassified by
    /// that checkpoint's network, within the radius of their clean source (a correctly
    /// classified tracked test point), tracked with their own exact distances, and compared
    /// pair by pair in the findings.
    #[test]
    fn a_study_tracks_its_adversarial_examples_beside_their_sources() {
        use crate::datasets::DatasetKind;
        use crate::track::{PointSet, PointSets};
        let mut config = crate::StudyConfig::default_for(DatasetKind::Moons);
        config.epochs = 3;
        config.points = 25;
        config.samples = 200;
        config.arch = "2-8-8-2".into();
        config.radii = vec![0.1, 0.3];
        config.adversarial = Some(AttackConfig::parse("l2:0.6:10").unwrap());
        let run = crate::run_study(&config, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
        let data = crate::load_dataset(&config).unwrap();
        let points = PointSets::choose(&data, config.points, config.seed, None);
        let t = PointSet::Test.index();
        let mut found = 0;
        for (cp, net) in run.report.checkpoints.iter().zip(&run.networks) {
            let adv = cp
                .adversarial
                .as_ref()
                .expect("attacked at every checkpoint");
            assert_eq!(adv.sources.len(), adv.attack.succeeded);
            assert!(adv.attack.succeeded <= adv.attack.attacked);
            assert_eq!(adv.points.nrows(), adv.sources.len());
            assert_eq!(adv.metrics.distance.len(), adv.sources.len());
            assert!(adv.sources.windows(2).all(|w| w[0] < w[1]));
            for (k, &i) in adv.sources.iter().enumerate() {
                let x: Vec<f64> = (0..2).map(|j| points.sets[t][(i, j)]).collect();
                let y: Vec<f64> = (0..2).map(|j| adv.points[(k, j)]).collect();
                let label = points.labels[t][i];
                assert_eq!(predicted(&net.forward(&x).unwrap()), label);
                assert!(misclassified(&net.forward(&y).unwrap(), label));
                let d = ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2)).sqrt();
                assert!(d <= 0.6 + 1e-12, "{d}");
                let exact = relu_regions::boundary_distance(net, &y, Norm::L2)
                    .unwrap()
                    .distance;
                // (The study's batched products round differently in the last bits.)
                assert!((adv.metrics.distance[k] - exact).abs() <= 1e-9 * exact);
            }
            found += adv.sources.len();
        }
        assert!(found > 0, "no adversarial example in the whole study");
        let a = run.report.findings.adversarial.expect("compared");
        assert_eq!(a.success.len(), run.report.checkpoints.len());
        let last = run
            .report
            .checkpoints
            .last()
            .unwrap()
            .adversarial
            .as_ref()
            .unwrap();
        for c in a.comparisons.iter().filter(|c| c.checkpoint == "last") {
            assert_eq!(
                c.test.n + c.test.zeros + c.test.non_finite,
                last.sources.len()
            );
        }
    }
}
