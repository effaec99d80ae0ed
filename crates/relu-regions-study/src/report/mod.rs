//! The two findings of the seed paper, tested on a run's tracked metrics.
//!
//! - **F1** (boundaries move away from training points): per point set, the median
//!   distance per checkpoint with quartiles; Spearman's rho of distance against epoch over
//!   all (epoch, point) pairs (descriptive: the pairs of one point are not independent);
//!   the paired Wilcoxon signed-rank test of the first against the last checkpoint.
//!   Verdict: *holds* only if the training points' distances increase with `p < 0.05`.
//! - **F2** (balls at training points hold more regions): training against arbitrary and
//!   training against test points, at each radius, at **every** checkpoint, Mann-Whitney U
//!   (with the rank-biserial effect size) on every per-radius metric tracked there
//!   ([`F2_METRICS`]: the local bound (log2), unstable neurons, LC, exact slice-disc
//!   counts, and exact ball counts where they finished within their budget; the points
//!   left out are counted in each comparison). Verdict: *holds* only if at the last checkpoint the training
//!   points' **primary metric** is significantly larger (`p < 0.05`, positive effect) than
//!   the arbitrary points' at **every** radius (an intersection-union rule, valid at level
//!   0.05 without multiplicity correction). The primary metric at a radius is the exact
//!   count of the regions meeting the ball where every point's count finished, else the
//!   local bound. When radii disagree (some hold, others are significant the other way or
//!   not at all) the verdict says it differs by radius. The other checkpoints and metrics show how
//!   the comparison evolves over training; they are descriptive (no correction for their
//!   number) and do not enter the verdict.
//!
//! A verdict is "holds in this run", "does not hold in this run" (significant in the
//! opposite direction) or "inconclusive"; the numbers always come with it.
//!
//! [`markdown()`] writes the whole human report, `report.md`, from a study and the list of
//! the figures drawn beside it ([`Figures`]).

use serde::Serialize;

use crate::stats::{
    MannWhitney, Quartiles, Spearman, Wilcoxon, mann_whitney, quartiles, spearman, wilcoxon,
};
use crate::track::{CheckpointMetrics, PointSet, SetMetrics};

mod markdown;
mod summary;

pub use markdown::{Figures, f2_tables, markdown, replicated_markdown};

/// Significance level of the verdicts.
pub const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Holds,
    DoesNotHold,
    Inconclusive,
}

impl Verdict {
    /// From a two-sided test: significant and in the expected direction, or the opposite.
    fn from_test(z: f64, p: f64) -> Self {
        if p < ALPHA && z > 0.0 {
            Self::Holds
        } else if p < ALPHA && z < 0.0 {
            Self::DoesNotHold
        } else {
            Self::Inconclusive
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Self::Holds => "holds in this run",
            Self::DoesNotHold => {
                "does not hold in this run (significant in the opposite direction)"
            }
            Self::Inconclusive => "inconclusive in this run (not significant at the 0.05 level)",
        }
    }
}

/// F1 for one point set.
#[derive(Debug, Clone, Serialize)]
pub struct F1Set {
    pub set: PointSet,
    /// Per checkpoint: quartiles of the finite distances.
    pub distance_quartiles: Vec<Option<Quartiles>>,
    /// Points whose region was the whole space (infinite distance), per checkpoint.
    pub infinite: Vec<usize>,
    pub spearman_vs_epoch: Spearman,
    /// Last checkpoint minus first.
    pub wilcoxon_first_last: Wilcoxon,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct F1 {
    pub holds: bool,
    pub verdict: Verdict,
    pub statement: String,
    pub sets: Vec<F1Set>,
}

/// One F2 comparison: training points (`a`) against `b`.
#[derive(Debug, Clone, Serialize)]
pub struct F2Comparison {
    pub checkpoint: &'static str,
    pub epoch: usize,
    pub radius: f64,
    pub against: PointSet,
    pub metric: &'static str,
    pub median_train: f64,
    pub median_other: f64,
    pub test: MannWhitney,
    pub verdict: Verdict,
    /// Training and other points left out of the test for want of a value: exact ball
    /// counts over budget ([`crate::track::BallBudget`]); 0 for the other metrics. A
    /// comparison that left points out is inconclusive whatever its p-value: the counts
    /// that ran out are the largest, so the others are a biased sample.
    pub missing_train: usize,
    pub missing_other: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct F2 {
    pub holds: bool,
    pub verdict: Verdict,
    /// `uniform` when every radius gives the verdict, `differs by radius` otherwise (the
    /// statement says how).
    pub by_radius: &'static str,
    pub statement: String,
    pub comparisons: Vec<F2Comparison>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Findings {
    pub f1: F1,
    pub f2: F2,
    /// With adversarial examples tracked: how their balls compare with their clean
    /// sources'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adversarial: Option<Adversarial>,
    /// With a backdoor: how balls at triggered points compare with their clean twins'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backdoor: Option<Backdoor>,
}

/// The backdoor's comparisons with the clean twins, at every checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Backdoor {
    pub statement: String,
    /// Per checkpoint: `(epoch, clean test accuracy, attack success rate)`.
    pub success: Vec<(usize, f64, f64)>,
    pub comparisons: Vec<PairedComparison>,
}

/// Adversarial examples against their clean sources at one checkpoint, for one metric
/// (and radius): a paired Wilcoxon signed-rank test of example minus source.
#[derive(Debug, Clone, Serialize)]
pub struct PairedComparison {
    /// The set compared with its clean twins: `adversarial`, `triggered_train` or
    /// `triggered_test`.
    pub set: &'static str,
    pub checkpoint: &'static str,
    pub epoch: usize,
    /// `None` for the distance to the region boundary.
    pub radius: Option<f64>,
    pub metric: &'static str,
    pub median_clean: f64,
    pub median_modified: f64,
    pub test: Wilcoxon,
    /// Matched-pairs rank-biserial correlation `4 W+ / (n (n + 1)) - 1`: positive when
    /// the examples' values are larger.
    pub rank_biserial: f64,
    /// `holds`: significantly larger at the adversarial examples; `does_not_hold`:
    /// significantly smaller; `inconclusive` otherwise (or when exact counts ran out of
    /// budget at some pair).
    pub verdict: Verdict,
}

/// The adversarial examples' comparison with their clean sources, at every checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Adversarial {
    pub statement: String,
    /// Per checkpoint: `(epoch, attacked, succeeded, success rate)`.
    pub success: Vec<(usize, usize, usize, f64)>,
    pub comparisons: Vec<PairedComparison>,
}

/// The matched-pairs rank-biserial correlation of a Wilcoxon test.
pub fn matched_rank_biserial(w: &Wilcoxon) -> f64 {
    if w.n == 0 {
        f64::NAN
    } else {
        4.0 * w.w_plus / (w.n as f64 * (w.n as f64 + 1.0)) - 1.0
    }
}

/// Every paired comparison of `modified` (row `k` standing for point `sources[k]` of a
/// set) with the clean points `clean` at one checkpoint: the distance, then every
/// per-radius metric (Wilcoxon signed-rank of modified minus clean).
fn paired_comparisons(
    set: &'static str,
    checkpoint: &'static str,
    epoch: usize,
    clean: &SetMetrics,
    sources: &[usize],
    modified: &SetMetrics,
    radii: &[f64],
) -> Vec<PairedComparison> {
    let clean_of = |v: &[f64]| sources.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let mut out = Vec::new();
    let mut push = |radius: Option<f64>, metric: &'static str, c: Vec<f64>, m: Vec<f64>| {
        let w = wilcoxon(&c, &m);
        let incomplete = c.iter().chain(&m).any(|v| v.is_nan());
        out.push(PairedComparison {
            set,
            checkpoint,
            epoch,
            radius,
            metric,
            median_clean: crate::stats::quantile(&c, 0.5).unwrap_or(f64::NAN),
            median_modified: crate::stats::quantile(&m, 0.5).unwrap_or(f64::NAN),
            rank_biserial: matched_rank_biserial(&w),
            verdict: if incomplete {
                Verdict::Inconclusive
            } else {
                Verdict::from_test(w.z, w.p)
            },
            test: w,
        });
    };
    push(
        None,
        "distance",
        clean_of(&clean.distance),
        modified.distance.clone(),
    );
    for (ri, &r) in radii.iter().enumerate() {
        let c = per_radius_metrics(clean, ri);
        let m = per_radius_metrics(modified, ri);
        for ((metric, cv), (_, mv)) in c.into_iter().zip(m) {
            push(Some(r), metric, clean_of(&cv), mv);
        }
    }
    out
}

/// The backdoor's comparisons: the tracked training and test points with the trigger
/// against their clean twins, at every checkpoint (`None` without a backdoor).
fn analyse_backdoor(cps: &[CheckpointMetrics], radii: &[f64]) -> Option<Backdoor> {
    let last = cps.last()?;
    let last_b = last.backdoor.as_ref()?;
    let mut comparisons = Vec::new();
    let mut success = Vec::new();
    for (k, cp) in cps.iter().enumerate() {
        let Some(b) = &cp.backdoor else {
            continue;
        };
        success.push((cp.epoch, cp.test_accuracy, b.attack_success_rate));
        let label = checkpoint_label(k, cps.len());
        for (name, set, triggered) in [
            ("triggered_train", PointSet::Train, &b.triggered_train),
            ("triggered_test", PointSet::Test, &b.triggered_test),
        ] {
            let ids: Vec<usize> = (0..triggered.distance.len()).collect();
            comparisons.extend(paired_comparisons(
                name,
                label,
                cp.epoch,
                &cp.sets[set.index()],
                &ids,
                triggered,
                radii,
            ));
        }
    }
    let at_last = |set: &str| -> Vec<String> {
        radii
            .iter()
            .filter_map(|&r| {
                let pick = |m: &str| {
                    comparisons.iter().find(|c| {
                        c.checkpoint == "last" && c.set == set && c.radius == Some(r) && c.metric == m
                    })
                };
                let c = pick("ball_regions")
                    .filter(|c| c.test.non_finite == 0)
                    .or_else(|| pick("bound_log2"))?;
                Some(format!(
                    "r = {r} ({}): {}, medians {:.2} clean vs {:.2} triggered, rank-biserial {:.2}, p = {}",
                    c.metric,
                    match c.verdict {
                        Verdict::Holds => "more with the trigger",
                        Verdict::DoesNotHold => "fewer with the trigger",
                        Verdict::Inconclusive => "no significant difference",
                    },
                    c.median_clean,
                    c.median_modified,
                    c.rank_biserial,
                    pf(c.test.p)
                ))
            })
            .collect()
    };
    let statement = format!(
        "Backdoor at epoch {}: clean test accuracy {:.3}, attack success rate {:.3} (test images of other classes classified as the target once triggered). Triggered training points against their clean twins (paired Wilcoxon): {}. Triggered test points: {}.",
        last.epoch,
        last.test_accuracy,
        last_b.attack_success_rate,
        at_last("triggered_train").join("; "),
        at_last("triggered_test").join("; "),
    );
    Some(Backdoor {
        statement,
        success,
        comparisons,
    })
}

/// The adversarial examples' paired comparisons (`None` without them).
fn analyse_adversarial(cps: &[CheckpointMetrics], radii: &[f64]) -> Option<Adversarial> {
    let last = cps.last()?;
    let attack = &last.adversarial.as_ref()?.attack.config;
    let test = PointSet::Test.index();
    let mut comparisons = Vec::new();
    let mut success = Vec::new();
    for (k, cp) in cps.iter().enumerate() {
        let Some(adv) = &cp.adversarial else {
            continue;
        };
        success.push((
            cp.epoch,
            adv.attack.attacked,
            adv.attack.succeeded,
            adv.attack.success_rate,
        ));
        let label = checkpoint_label(k, cps.len());
        comparisons.extend(paired_comparisons(
            "adversarial",
            label,
            cp.epoch,
            &cp.sets[test],
            &adv.sources,
            &adv.metrics,
            radii,
        ));
    }
    let at_last: Vec<&PairedComparison> = comparisons
        .iter()
        .filter(|c| c.checkpoint == "last")
        .collect();
    let words = |v: Verdict| match v {
        Verdict::Holds => "more at the adversarial examples",
        Verdict::DoesNotHold => "fewer at the adversarial examples",
        Verdict::Inconclusive => "no significant difference",
    };
    let per_radius: Vec<String> = radii
        .iter()
        .filter_map(|&r| {
            let pick = |m: &str| {
                at_last
                    .iter()
                    .find(|c| c.radius == Some(r) && c.metric == m)
                    .copied()
            };
            let c = pick("ball_regions")
                .filter(|c| c.test.non_finite == 0)
                .or_else(|| pick("bound_log2"))?;
            Some(format!(
                "r = {r} ({}): {}, medians {:.2} clean vs {:.2} adversarial, rank-biserial {:.2}, p = {}",
                c.metric,
                words(c.verdict),
                c.median_clean,
                c.median_modified,
                c.rank_biserial,
                pf(c.test.p)
            ))
        })
        .collect();
    let (_, attacked, succeeded, rate) = *success.last()?;
    let dist = at_last.iter().find(|c| c.metric == "distance");
    let statement = format!(
        "Adversarial examples at epoch {}: {} attack, radius {}, {} steps: {succeeded} of {attacked} correctly classified test points attacked successfully ({:.0}%). Their balls against their clean sources' (paired Wilcoxon): {}.{}",
        last.epoch,
        attack.norm.name(),
        attack.radius,
        attack.steps,
        100.0 * rate,
        if per_radius.is_empty() || succeeded == 0 {
            "no examples to compare".to_string()
        } else {
            per_radius.join("; ")
        },
        dist.filter(|_| succeeded > 0).map_or(String::new(), |c| format!(
            " Distance to the region boundary: median {:.4} clean vs {:.4} adversarial (rank-biserial {:.2}, p = {}).",
            c.median_clean,
            c.median_modified,
            c.rank_biserial,
            pf(c.test.p)
        ))
    );
    Some(Adversarial {
        statement,
        success,
        comparisons,
    })
}

/// A p-value for reading: 3 decimals, or scientific below 0.001.
pub(crate) fn pf(p: f64) -> String {
    if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

fn finite(v: &[f64]) -> Vec<f64> {
    v.iter().copied().filter(|x| x.is_finite()).collect()
}

/// The per-radius metrics F2 compares, in report order, with what they measure.
pub const F2_METRICS: [(&str, &str); 5] = [
    (
        "bound_log2",
        "local bound on the regions meeting B(x, r), log2 (CROWN)",
    ),
    ("unstable", "neurons CROWN leaves unstable on B(x, r)"),
    (
        "lc",
        "LC: neurons changing sign on the cross-polytope frame of B(x, r)",
    ),
    (
        "slice_regions",
        "exact regions in the disc of radius r of a random plane through x",
    ),
    (
        "ball_regions",
        "exact regions meeting B(x, r) (points over budget left out, and counted)",
    ),
];

/// The comparisons' checkpoint labels: `last` for the last checkpoint (the verdict's),
/// `first` for the first of several, `intermediate` between.
fn checkpoint_label(k: usize, n: usize) -> &'static str {
    if k + 1 == n {
        "last"
    } else if k == 0 {
        "first"
    } else {
        "intermediate"
    }
}

/// The per-radius metrics of one point set at radius index `ri`, as numbers (an
/// incomplete exact count is NaN, which the tests drop), in the order of [`F2_METRICS`];
/// metrics not tracked at this checkpoint are left out.
fn per_radius_metrics(m: &SetMetrics, ri: usize) -> Vec<(&'static str, Vec<f64>)> {
    let counts = |v: &[usize]| v.iter().map(|&c| c as f64).collect::<Vec<f64>>();
    let mut out = vec![
        ("bound_log2", m.bound_log2[ri].clone()),
        ("unstable", counts(&m.unstable[ri])),
        ("lc", counts(&m.lc[ri])),
    ];
    if let Some(v) = m.slice_regions.get(ri) {
        out.push(("slice_regions", counts(v)));
    }
    if let Some(v) = m.ball_regions.get(ri) {
        out.push((
            "ball_regions",
            v.iter().map(|c| c.map_or(f64::NAN, |c| c as f64)).collect(),
        ));
    }
    out
}

/// Tests both findings on a run's checkpoints (at least one).
pub fn analyse(cps: &[CheckpointMetrics], radii: &[f64]) -> Findings {
    let first = &cps[0];
    let last = &cps[cps.len() - 1];
    let sets: Vec<F1Set> = PointSet::ALL
        .into_iter()
        .map(|set| {
            let s = set.index();
            let (mut ep, mut dist) = (Vec::new(), Vec::new());
            for cp in cps {
                for &d in &cp.sets[s].distance {
                    ep.push(cp.epoch as f64);
                    // Rank an infinite distance above every finite one.
                    dist.push(if d.is_finite() { d } else { f64::MAX });
                }
            }
            let w = wilcoxon(&first.sets[s].distance, &last.sets[s].distance);
            F1Set {
                set,
                distance_quartiles: cps
                    .iter()
                    .map(|cp| quartiles(&finite(&cp.sets[s].distance)))
                    .collect(),
                infinite: cps
                    .iter()
                    .map(|cp| {
                        cp.sets[s]
                            .distance
                            .iter()
                            .filter(|d| !d.is_finite())
                            .count()
                    })
                    .collect(),
                spearman_vs_epoch: spearman(&ep, &dist),
                wilcoxon_first_last: w,
                verdict: Verdict::from_test(w.z, w.p),
            }
        })
        .collect();
    let t = &sets[0];
    let f1_verdict = if cps.len() < 2 {
        Verdict::Inconclusive
    } else {
        t.verdict
    };
    let f1_statement = format!(
        "F1 (region boundaries move away from training points) {}: training points' distance to the region boundary, median {:.4} at epoch {} -> {:.4} at epoch {}; Wilcoxon signed-rank last vs first z = {:.2}, p = {} (n = {} nonzero pairs); Spearman rho(distance, epoch) = {:.3}.",
        f1_verdict.words(),
        t.distance_quartiles[0].map_or(f64::NAN, |q| q.median),
        first.epoch,
        t.distance_quartiles[cps.len() - 1].map_or(f64::NAN, |q| q.median),
        last.epoch,
        t.wilcoxon_first_last.z,
        pf(t.wilcoxon_first_last.p),
        t.wilcoxon_first_last.n,
        t.spearman_vs_epoch.rho,
    );

    let mut comparisons = Vec::new();
    for (k, cp) in cps.iter().enumerate() {
        let label = checkpoint_label(k, cps.len());
        for (ri, &r) in radii.iter().enumerate() {
            for against in [PointSet::Arbitrary, PointSet::Test] {
                let train = per_radius_metrics(&cp.sets[PointSet::Train.index()], ri);
                let others = per_radius_metrics(&cp.sets[against.index()], ri);
                for ((metric, a), (_, b)) in train.into_iter().zip(others) {
                    let test = mann_whitney(&a, &b);
                    let (missing_train, missing_other) = (a.len() - test.n_a, b.len() - test.n_b);
                    // The counts that ran out of budget are the largest: the rest are a
                    // biased sample, so such a comparison decides nothing.
                    let verdict = if missing_train + missing_other > 0 {
                        Verdict::Inconclusive
                    } else {
                        Verdict::from_test(test.z, test.p)
                    };
                    comparisons.push(F2Comparison {
                        checkpoint: label,
                        epoch: cp.epoch,
                        radius: r,
                        against,
                        metric,
                        median_train: crate::stats::quantile(&a, 0.5).unwrap_or(f64::NAN),
                        median_other: crate::stats::quantile(&b, 0.5).unwrap_or(f64::NAN),
                        test,
                        verdict,
                        missing_train,
                        missing_other,
                    });
                }
            }
        }
    }
    // Per radius, the primary metric: the exact ball count where every point has one,
    // else the local bound.
    let key: Vec<&F2Comparison> = radii
        .iter()
        .filter_map(|&r| {
            let at = |m: &str| {
                comparisons.iter().find(|c| {
                    c.checkpoint == "last"
                        && c.against == PointSet::Arbitrary
                        && c.metric == m
                        && c.radius == r
                })
            };
            at("ball_regions")
                .filter(|c| c.missing_train + c.missing_other == 0)
                .or_else(|| at("bound_log2"))
        })
        .collect();
    let holds = key.iter().filter(|c| c.verdict == Verdict::Holds).count();
    let against = key
        .iter()
        .filter(|c| c.verdict == Verdict::DoesNotHold)
        .count();
    let (f2_verdict, by_radius) = if !key.is_empty() && holds == key.len() {
        (Verdict::Holds, "uniform")
    } else if holds > 0 && against > 0 {
        (Verdict::Inconclusive, "differs by radius")
    } else if against > 0 {
        (
            Verdict::DoesNotHold,
            if against == key.len() {
                "uniform"
            } else {
                "differs by radius"
            },
        )
    } else {
        (
            Verdict::Inconclusive,
            if holds > 0 {
                "differs by radius"
            } else {
                "uniform"
            },
        )
    };
    let f2_words = if by_radius == "uniform" {
        f2_verdict.words().to_string()
    } else {
        let at = |v: Verdict, words: &str| -> Option<String> {
            let r: Vec<String> = key
                .iter()
                .filter(|c| c.verdict == v)
                .map(|c| c.radius.to_string())
                .collect();
            (!r.is_empty()).then(|| format!("{words} at r = {}", r.join(", ")))
        };
        let parts: Vec<String> = [
            at(Verdict::Holds, "holds"),
            at(
                Verdict::DoesNotHold,
                "significant in the opposite direction",
            ),
            at(Verdict::Inconclusive, "not significant"),
        ]
        .into_iter()
        .flatten()
        .collect();
        format!(
            "differs by radius in this run ({}; overall {})",
            parts.join("; "),
            f2_verdict.words()
        )
    };
    let f2_statement = format!(
        "F2 (balls at training points hold more regions than balls at arbitrary points) {} at epoch {}: training vs arbitrary on the exact ball counts where every point has one, else the local bound (log2); {}.",
        f2_words,
        last.epoch,
        key.iter()
            .map(|c| format!(
                "r = {} ({}): medians {:.2} vs {:.2}, rank-biserial {:.2}, p = {}",
                c.radius,
                c.metric,
                c.median_train,
                c.median_other,
                c.test.rank_biserial,
                pf(c.test.p)
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Findings {
        adversarial: analyse_adversarial(cps, radii),
        backdoor: analyse_backdoor(cps, radii),
        f1: F1 {
            holds: f1_verdict == Verdict::Holds,
            verdict: f1_verdict,
            statement: f1_statement,
            sets,
        },
        f2: F2 {
            holds: f2_verdict == Verdict::Holds,
            verdict: f2_verdict,
            by_radius,
            statement: f2_statement,
            comparisons,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `k` points per set, two radii; the training points' per-radius values are the
    /// others' plus `shift` (distances all 1). Exact ball counts when `ball`.
    fn checkpoint(epoch: usize, shift: f64, ball: bool) -> CheckpointMetrics {
        let k = 30;
        let set = |shift: f64| {
            let values = |r: usize| -> Vec<f64> {
                (0..k).map(|i| r as f64 + 0.1 * i as f64 + shift).collect()
            };
            let counts = |r: usize| -> Vec<usize> {
                values(r)
                    .iter()
                    .map(|v| (10.0 * v.max(0.0)) as usize)
                    .collect()
            };
            SetMetrics {
                distance: vec![1.0; k],
                bound_log2: (0..2).map(values).collect(),
                unstable: (0..2).map(counts).collect(),
                lc: (0..2).map(counts).collect(),
                slice_regions: (0..2).map(counts).collect(),
                ball_regions: if ball {
                    (0..2)
                        .map(|r| counts(r).into_iter().map(|c| Some(c as u64)).collect())
                        .collect()
                } else {
                    Vec::new()
                },
                ball_regions_at_least: if ball {
                    (0..2)
                        .map(|r| counts(r).into_iter().map(|c| c as u64).collect())
                        .collect()
                } else {
                    Vec::new()
                },
            }
        };
        CheckpointMetrics {
            epoch,
            train_loss: 0.0,
            train_accuracy: 1.0,
            test_loss: 0.0,
            test_accuracy: 1.0,
            sets: vec![set(shift), set(0.0), set(0.0)],
            adversarial: None,
            backdoor: None,
        }
    }

    #[test]
    fn f2_compares_every_checkpoint_radius_metric_and_set() {
        let radii = [0.1, 0.3];
        // Ball counts at some checkpoints only: comparisons exist exactly where they do.
        let cps: Vec<CheckpointMetrics> = (0..4)
            .map(|e| checkpoint(e, 5.0, e == 0 || e == 3))
            .collect();
        let f2 = analyse(&cps, &radii).f2;
        let mut expected = Vec::new();
        for cp in &cps {
            for &r in &radii {
                for (metric, _) in F2_METRICS {
                    if metric == "ball_regions" && cp.sets[0].ball_regions.is_empty() {
                        continue;
                    }
                    for against in [PointSet::Arbitrary, PointSet::Test] {
                        expected.push((cp.epoch, r.to_bits(), metric, against));
                    }
                }
            }
        }
        let mut found: Vec<(usize, u64, &str, PointSet)> = f2
            .comparisons
            .iter()
            .map(|c| (c.epoch, c.radius.to_bits(), c.metric, c.against))
            .collect();
        assert_eq!(found.len(), 4 * 2 * 4 * 2 + 2 * 2 * 2);
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "each combination exactly once");
        for c in &f2.comparisons {
            let want = match c.epoch {
                0 => "first",
                3 => "last",
                _ => "intermediate",
            };
            assert_eq!(c.checkpoint, want);
        }
        // The tables: one per metric and comparison, a row per checkpoint that tracked it.
        let md = f2_tables(&f2, &radii);
        assert_eq!(md.matches("#### ").count(), F2_METRICS.len() * 2);
        assert_eq!(md.matches("| r = 0.1 | r = 0.3 |").count(), 10);
        assert_eq!(md.matches("\n| 1 |").count(), 8);
        assert_eq!(md.matches("\n| 3 |").count(), 10);
        assert!(md.contains("4 of 4 checkpoints") && md.contains("2 of 2 checkpoints"));
    }

    #[test]
    fn f2_verdict_reads_the_last_checkpoint_only() {
        let radii = [0.1, 0.3];
        // Earlier checkpoints: training points far below; the last: far above.
        let mut cps: Vec<CheckpointMetrics> = (0..3).map(|e| checkpoint(e, -5.0, false)).collect();
        cps.push(checkpoint(3, 5.0, false));
        let f2 = analyse(&cps, &radii).f2;
        assert!(
            f2.comparisons.iter().any(|c| c.epoch < 3
                && c.metric == "bound_log2"
                && c.verdict == Verdict::DoesNotHold)
        );
        assert!(f2.holds);
        assert_eq!(f2.verdict, Verdict::Holds);
        // Earlier checkpoints far above; the last: equal sets.
        let mut cps: Vec<CheckpointMetrics> = (0..3).map(|e| checkpoint(e, 5.0, false)).collect();
        cps.push(checkpoint(3, 0.0, false));
        let f2 = analyse(&cps, &radii).f2;
        assert!(!f2.holds);
        assert_eq!(f2.verdict, Verdict::Inconclusive);
        // The last checkpoint far below: does not hold, whatever came before.
        cps.push(checkpoint(4, -5.0, false));
        assert_eq!(analyse(&cps, &radii).f2.verdict, Verdict::DoesNotHold);
    }

    /// Radii that disagree give a verdict that says so; exact ball counts, where every
    /// point has one, are the primary metric.
    #[test]
    fn f2_says_when_radii_disagree_and_reads_exact_counts_first() {
        let radii = [0.1, 0.3];
        let mut last = checkpoint(1, 5.0, false);
        // At the second radius the training points' bound is far below the others'.
        for v in &mut last.sets[0].bound_log2[1] {
            *v -= 20.0;
        }
        let f2 = analyse(&[checkpoint(0, 0.0, false), last], &radii).f2;
        assert_eq!(f2.by_radius, "differs by radius");
        assert_eq!(f2.verdict, Verdict::Inconclusive);
        assert!(
            f2.statement.contains(
                "differs by radius in this run (holds at r = 0.1; significant in the opposite direction at r = 0.3; overall inconclusive"
            ),
            "{}",
            f2.statement
        );
        // With exact ball counts the verdict reads them, not the bound.
        let mut last = checkpoint(1, 5.0, true);
        for v in &mut last.sets[0].bound_log2[1] {
            *v -= 20.0;
        }
        let f2 = analyse(&[checkpoint(0, 0.0, true), last], &radii).f2;
        assert_eq!((f2.verdict, f2.by_radius), (Verdict::Holds, "uniform"));
        assert!(
            f2.statement.contains("r = 0.3 (ball_regions)"),
            "{}",
            f2.statement
        );
    }
}
