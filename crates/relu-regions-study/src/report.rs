//! The two findings of the seed paper, tested on a run's tracked metrics.
//!
//! - **F1** (boundaries move away from training points): per point set, the median
//!   distance per checkpoint with quartiles; Spearman's rho of distance against epoch over
//!   all (epoch, point) pairs (descriptive: the pairs of one point are not independent);
//!   the paired Wilcoxon signed-rank test of the first against the last checkpoint.
//!   Verdict: *holds* only if the training points' distances increase with `p < 0.05`.
//! - **F2** (balls at training points hold more regions): training against arbitrary and
//!   training against test points, at each radius, at the first and the last checkpoint,
//!   Mann-Whitney U on the local bound (log2) and on LC. Verdict: *holds* only if at the
//!   last checkpoint the training points' bound is significantly larger (`p < 0.05`,
//!   positive effect) than the arbitrary points' at **every** radius (an
//!   intersection-union rule, valid at level 0.05 without multiplicity correction).
//!
//! A verdict is "holds in this run", "does not hold in this run" (significant in the
//! opposite direction) or "inconclusive"; the numbers always come with it.

use serde::Serialize;

use crate::stats::{
    MannWhitney, Quartiles, Spearman, Wilcoxon, mann_whitney, quartiles, spearman, wilcoxon,
};
use crate::track::{CheckpointMetrics, SET_NAMES};

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
    pub set: &'static str,
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
    pub against: &'static str,
    pub metric: &'static str,
    pub median_train: f64,
    pub median_other: f64,
    pub test: MannWhitney,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct F2 {
    pub holds: bool,
    pub verdict: Verdict,
    pub statement: String,
    pub comparisons: Vec<F2Comparison>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Findings {
    pub f1: F1,
    pub f2: F2,
}

/// A p-value for reading: 3 decimals, or scientific below 0.001.
fn pf(p: f64) -> String {
    if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

fn finite(v: &[f64]) -> Vec<f64> {
    v.iter().copied().filter(|x| x.is_finite()).collect()
}

/// Tests both findings on a run's checkpoints (at least one).
pub fn analyse(cps: &[CheckpointMetrics], radii: &[f64]) -> Findings {
    let first = &cps[0];
    let last = &cps[cps.len() - 1];
    let sets: Vec<F1Set> = SET_NAMES
        .iter()
        .enumerate()
        .map(|(s, &name)| {
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
                set: name,
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
    for (label, cp) in [("first", first), ("last", last)] {
        for (ri, &r) in radii.iter().enumerate() {
            for (other, oname) in [(2usize, "arbitrary"), (1usize, "test")] {
                let metrics: [(&'static str, Vec<f64>, Vec<f64>); 2] = [
                    (
                        "bound_log2",
                        cp.sets[0].bound_log2[ri].clone(),
                        cp.sets[other].bound_log2[ri].clone(),
                    ),
                    (
                        "lc",
                        cp.sets[0].lc[ri].iter().map(|&v| v as f64).collect(),
                        cp.sets[other].lc[ri].iter().map(|&v| v as f64).collect(),
                    ),
                ];
                let mut metrics = metrics.to_vec();
                if !cp.sets[0].slice_regions.is_empty() {
                    metrics.push((
                        "slice_regions",
                        cp.sets[0].slice_regions[ri]
                            .iter()
                            .map(|&v| v as f64)
                            .collect(),
                        cp.sets[other].slice_regions[ri]
                            .iter()
                            .map(|&v| v as f64)
                            .collect(),
                    ));
                }
                if !cp.sets[0].ball_regions.is_empty() {
                    let f = |v: &Vec<Option<u64>>| -> Vec<f64> {
                        v.iter().map(|c| c.map_or(f64::NAN, |c| c as f64)).collect()
                    };
                    metrics.push((
                        "ball_regions",
                        f(&cp.sets[0].ball_regions[ri]),
                        f(&cp.sets[other].ball_regions[ri]),
                    ));
                }
                for (metric, a, b) in metrics {
                    let test = mann_whitney(&a, &b);
                    comparisons.push(F2Comparison {
                        checkpoint: label,
                        epoch: cp.epoch,
                        radius: r,
                        against: oname,
                        metric,
                        median_train: crate::stats::quantile(&a, 0.5).unwrap_or(f64::NAN),
                        median_other: crate::stats::quantile(&b, 0.5).unwrap_or(f64::NAN),
                        test,
                        verdict: Verdict::from_test(test.z, test.p),
                    });
                }
            }
        }
    }
    let key: Vec<&F2Comparison> = comparisons
        .iter()
        .filter(|c| c.checkpoint == "last" && c.against == "arbitrary" && c.metric == "bound_log2")
        .collect();
    let f2_verdict = if key.iter().all(|c| c.verdict == Verdict::Holds) {
        Verdict::Holds
    } else if key.iter().any(|c| c.verdict == Verdict::DoesNotHold) {
        Verdict::DoesNotHold
    } else {
        Verdict::Inconclusive
    };
    let f2_statement = format!(
        "F2 (balls at training points hold more regions than balls at arbitrary points) {} at epoch {}: local bound log2, training vs arbitrary, {}.",
        f2_verdict.words(),
        last.epoch,
        key.iter()
            .map(|c| format!(
                "r = {}: medians {:.2} vs {:.2}, rank-biserial {:.2}, p = {}",
                c.radius,
                c.median_train,
                c.median_other,
                c.test.rank_biserial,
                pf(c.test.p)
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Findings {
        f1: F1 {
            holds: f1_verdict == Verdict::Holds,
            verdict: f1_verdict,
            statement: f1_statement,
            sets,
        },
        f2: F2 {
            holds: f2_verdict == Verdict::Holds,
            verdict: f2_verdict,
            statement: f2_statement,
            comparisons,
        },
    }
}

/// The human report (Markdown).
pub fn markdown(study: &crate::StudyReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let c = &study.config;
    let _ = writeln!(s, "# relu-regions study: {}\n", study.dataset.name);
    if study.source == "trained" {
        let _ = writeln!(
            s,
            "Network {} ({} init), {} lr {}, batch {}, {} epochs, seed {}.",
            c.arch, c.init, c.optimizer, c.lr, c.batch, c.epochs, c.seed
        );
    } else {
        let _ = writeln!(
            s,
            "Networks {} (not trained here): {} checkpoints from {}, in order (checkpoint i is reported as epoch i). Point selection seed {}.",
            c.arch,
            c.epochs + 1,
            study.source,
            c.seed
        );
    }
    let _ = writeln!(
        s,
        "Data: {} training / {} test samples, input dimension {}, {} classes; inputs {}.\n",
        study.dataset.n_train,
        study.dataset.n_test,
        study.dataset.dim,
        study.dataset.classes,
        study.dataset.scaling
    );
    let _ = writeln!(
        s,
        "Tracked at every checkpoint (epoch 0 = initialisation): {} training, {} test and {} arbitrary points ({}). Radii (L2, input units after scaling): {:?}. Bounds by CROWN; LC with {} directions; exact region counts in a random 2-D slice disc through each point{}.\n",
        study.points,
        study.points,
        study.points,
        match c.arbitrary_noise {
            None => "uniform in the training data's bounding box".to_string(),
            Some(sigma) =>
                format!("training points plus Gaussian noise, sigma {sigma} per coordinate"),
        },
        c.radii,
        study.lc_directions,
        if study.dataset.dim == 2 {
            " and, at the first and last checkpoints, in the L2 ball itself (the data is 2-D)"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "## Verdicts\n");
    let _ = writeln!(s, "- {}", study.findings.f1.statement);
    let _ = writeln!(s, "- {}\n", study.findings.f2.statement);
    let _ = writeln!(
        s,
        "Significance level {ALPHA}; normal approximations with tie corrections. A verdict describes this run only.\n"
    );
    let _ = writeln!(
        s,
        "## Training\n\n| epoch | train loss | train acc | test loss | test acc |\n|---|---|---|---|---|"
    );
    for cp in &study.checkpoints {
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.3} | {:.4} | {:.3} |",
            cp.epoch, cp.train_loss, cp.train_accuracy, cp.test_loss, cp.test_accuracy
        );
    }
    let _ = writeln!(
        s,
        "\n## F1: distance to the region boundary (median [q1, q3])\n"
    );
    let _ = writeln!(s, "| epoch | train | test | arbitrary |\n|---|---|---|---|");
    for (e, cp) in study.checkpoints.iter().enumerate() {
        let cell = |q: Option<Quartiles>| {
            q.map_or("-".into(), |q| {
                format!("{:.4} [{:.4}, {:.4}]", q.median, q.q1, q.q3)
            })
        };
        let f = &study.findings.f1.sets;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            cp.epoch,
            cell(f[0].distance_quartiles[e]),
            cell(f[1].distance_quartiles[e]),
            cell(f[2].distance_quartiles[e])
        );
    }
    let _ = writeln!(
        s,
        "\n| set | Spearman rho (distance, epoch) | Wilcoxon z (last - first) | p | median change | verdict |\n|---|---|---|---|---|---|"
    );
    for f in &study.findings.f1.sets {
        let _ = writeln!(
            s,
            "| {} | {:.3} | {:.2} | {} | {:.4} | {} |",
            f.set,
            f.spearman_vs_epoch.rho,
            f.wilcoxon_first_last.z,
            pf(f.wilcoxon_first_last.p),
            f.wilcoxon_first_last.median_difference,
            f.verdict.words()
        );
    }
    let _ = writeln!(
        s,
        "\n## F2: training points against the others (Mann-Whitney U)\n"
    );
    let _ = writeln!(
        s,
        "| checkpoint | radius | against | metric | median train | median other | rank-biserial | p | verdict |\n|---|---|---|---|---|---|---|---|---|"
    );
    for c in &study.findings.f2.comparisons {
        let _ = writeln!(
            s,
            "| {} (epoch {}) | {} | {} | {} | {:.3} | {:.3} | {:.3} | {} | {} |",
            c.checkpoint,
            c.epoch,
            c.radius,
            c.against,
            c.metric,
            c.median_train,
            c.median_other,
            c.test.rank_biserial,
            pf(c.test.p),
            c.verdict.words()
        );
    }
    let _ = writeln!(
        s,
        "\nRank-biserial > 0: training points tend to have the larger value. Checkpoints (safetensors, PyTorch nn.Sequential layout) are in `checkpoints/`; every number is in `report.json`."
    );
    s
}
