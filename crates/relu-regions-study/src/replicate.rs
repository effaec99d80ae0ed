//! Replication over seeds: the same study at seeds `0..N-1`, one verdict per seed, and a
//! **pooled** verdict per finding, radius and metric.
//!
//! Each seed's run ([`crate::run_study`]) draws its own data sample (generated data),
//! initialisation, mini-batches and tracked points. From each run one *effect* per
//! finding, radius and metric is read:
//!
//! - **F1** (training points): the matched-pairs rank-biserial correlation of the
//!   Wilcoxon test of the training points' distances, last checkpoint against first,
//!   `r = 4 W+ / (n (n + 1)) - 1` in `[-1, 1]` (positive: distances grew), and the median
//!   of the differences (input units);
//! - **F1 relative to arbitrary points**: the change, first to last checkpoint, of
//!   `log(median distance at training points / median distance at arbitrary points)`.
//!   Positive means that boundaries moved away from training points *more* than from
//!   arbitrary points, which separates F1 from "regions grow everywhere";
//! - **F2** (per radius and metric, at the last checkpoint): the Mann-Whitney
//!   rank-biserial correlation of training against arbitrary points (and against test
//!   points, descriptive), positive when training points' balls hold more. A seed whose
//!   comparison left points out (exact counts over budget) has no effect for it.
//!
//! Over the seeds with an effect, two summaries:
//!
//! - a **sign test**: the number of seeds with a positive and a negative effect (zeros
//!   dropped), with the exact two-sided binomial p-value under "either sign is equally
//!   likely" (with 5 seeds the smallest possible p is `2 / 32 = 0.0625`, 6 are needed for
//!   `p < 0.05`);
//! - a **random-effects mean**: the mean of the seeds' effects with the 95% t-interval
//!   `mean -+ t_{0.975, k-1} s / sqrt(k)`. Each seed's effect estimates that seed's true
//!   effect, and the seeds' true effects vary; the spread of the estimates holds both the
//!   within-seed and the between-seed variance, so this interval is the random-effects
//!   interval for the mean effect over seeds (the summary-statistics approach; it needs
//!   no within-seed standard error and assumes only independent seeds).
//!
//! A pooled verdict **holds** when the interval lies above zero and more seeds are
//! positive than negative, **does not hold** when it lies below zero and more are
//! negative, and is **inconclusive** otherwise, or with fewer than two seeds, or (for
//! exact ball counts) when any seed left points out: those runs' comparisons are biased.
//!
//! The finding-level pooled verdicts: F1 is its training-point rank-biserial row. F2 is
//! read per radius on its **primary metric**, the exact count of the regions meeting the
//! ball (`ball_regions`) where every seed has it, otherwise the local bound
//! (`bound_log2`); F2 holds when it holds at every radius, does not hold when it does not
//! hold at any, and otherwise the statement says at which radii it holds, which it does
//! not, and which are inconclusive.

use serde::Serialize;

use crate::StudyReport;
use crate::report::Verdict;
use crate::stats::quantile;
use crate::track::PointSet;

/// One pooled row: an effect read from every seed's run, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct PooledEffect {
    /// `f1`, `f1_relative`, `f2`, or a modified set against its clean twins:
    /// `adversarial`, `triggered_train`, `triggered_test`.
    pub finding: &'static str,
    /// What the effect is computed on: `distance_rank_biserial`, `distance_median_change`,
    /// `distance_ratio_log_change`, or an F2 metric ([`crate::report::F2_METRICS`]).
    pub metric: &'static str,
    /// The ball radius (F2), input units.
    pub radius: Option<f64>,
    /// The points compared with the training points (F2), or the clean twins of a
    /// modified set.
    pub against: Option<PointSet>,
    /// Whether the row decides its finding's pooled verdict (at its radius, for F2).
    pub primary: bool,
    /// Per seed, in seed order: the effect, or `None` when the run has none (points over
    /// budget, an undefined ratio).
    pub effects: Vec<Option<f64>>,
    /// Seeds with an effect.
    pub n: usize,
    pub positive: usize,
    pub negative: usize,
    /// Exact two-sided binomial sign-test p over the nonzero effects.
    pub sign_p: f64,
    /// Mean of the effects, and its 95% random-effects (t) interval.
    pub mean: f64,
    pub ci95: [f64; 2],
    /// Seeds without an effect.
    pub missing: usize,
    pub verdict: Verdict,
}

/// The pooled verdict of one finding at one radius (F2) or overall (F1).
#[derive(Debug, Clone, Serialize)]
pub struct PooledVerdict {
    pub radius: Option<f64>,
    pub metric: &'static str,
    pub holds: bool,
    pub verdict: Verdict,
    /// The sign test's p.
    pub p: f64,
    /// The mean effect and its 95% interval.
    pub effect: f64,
    pub ci95: [f64; 2],
}

/// A finding pooled over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct PooledFinding {
    pub holds: bool,
    pub verdict: Verdict,
    /// `uniform` when every radius gives the same verdict, else `differs by radius`.
    pub by_radius: &'static str,
    pub statement: String,
    /// The deciding row's numbers (F1), or one entry per radius (F2).
    pub per_radius: Vec<PooledVerdict>,
}

/// Every seed's verdicts and the pooled ones.
#[derive(Debug, Clone, Serialize)]
pub struct Replication {
    pub seeds: Vec<u64>,
    /// Per seed: the single-run verdicts of F1 and F2.
    pub per_seed: Vec<SeedVerdicts>,
    pub f1: PooledFinding,
    pub f2: PooledFinding,
    /// Every pooled row, F1 first.
    pub effects: Vec<PooledEffect>,
    /// The late phase of training ([`late_phase`]): per point set and radius, the trend
    /// of the median LC over the second half of the checkpoints.
    pub late_phase: Vec<PooledEffect>,
    /// What the late phase showed, in words.
    pub late_phase_statement: String,
}

/// Late-phase region migration (Humayun et al., 2024, report that the local complexity
/// at training points falls late in training): per seed, Spearman's rho of the median
/// LC of a point set against the epoch over the second half of the checkpoints (at least
/// three), pooled over seeds as the other effects (negative: LC falls late). `None` per
/// seed with fewer than three checkpoints in the second half.
fn late_phase(runs: &[&StudyReport]) -> (Vec<PooledEffect>, String) {
    let radii = runs.first().map_or(Vec::new(), |r| r.config.radii.clone());
    let mut rows = Vec::new();
    for set in [PointSet::Train, PointSet::Arbitrary] {
        for (ri, &radius) in radii.iter().enumerate() {
            let per_seed = runs
                .iter()
                .map(|r| {
                    let n = r.checkpoints.len();
                    let half = &r.checkpoints[n / 2..];
                    if half.len() < 3 {
                        return None;
                    }
                    let (ep, lc): (Vec<f64>, Vec<f64>) = half
                        .iter()
                        .filter_map(|cp| {
                            let v: Vec<f64> = cp.sets[set.index()].lc[ri]
                                .iter()
                                .map(|&c| c as f64)
                                .collect();
                            Some((cp.epoch as f64, quantile(&v, 0.5)?))
                        })
                        .unzip();
                    let rho = crate::stats::spearman(&ep, &lc).rho;
                    rho.is_finite().then_some(rho)
                })
                .collect();
            let mut row = pool_row(
                "late_phase_lc",
                "lc_median_spearman_second_half",
                Some(radius),
                Some(set),
                per_seed,
                false,
            );
            row.primary = set == PointSet::Train;
            rows.push(row);
        }
    }
    let words = |e: &PooledEffect| match e.verdict {
        Verdict::Holds => "rose",
        Verdict::DoesNotHold => "fell",
        Verdict::Inconclusive => "showed no consistent trend",
    };
    let parts: Vec<String> = rows
        .iter()
        .map(|e| {
            if e.n == 0 {
                // Spearman's rho is undefined when the median LC does not change.
                return format!(
                    "{} points, r = {}: constant at every seed (no trend defined)",
                    e.against.map_or("-", |s| s.name()),
                    e.radius.unwrap_or(f64::NAN),
                );
            }
            if e.n == 1 {
                return format!(
                    "{} points, r = {}: {} (rho {:.2}, one seed)",
                    e.against.map_or("-", |s| s.name()),
                    e.radius.unwrap_or(f64::NAN),
                    words(e),
                    e.mean
                );
            }
            format!(
                "{} points, r = {}: {} (mean rho {:.2} [{:.2}, {:.2}], {} seeds)",
                e.against.map_or("-", |s| s.name()),
                e.radius.unwrap_or(f64::NAN),
                words(e),
                e.mean,
                e.ci95[0],
                e.ci95[1],
                e.n
            )
        })
        .collect();
    let statement = if rows.iter().all(|e| e.n == 0) {
        "Late phase: too few checkpoints in the second half of training (at least 3 are needed) to read a trend.".to_string()
    } else {
        format!(
            "Late phase (second half of training; Humayun et al. 2024 report LC at training points falling late): the median LC {}.",
            parts.join("; ")
        )
    };
    (rows, statement)
}

/// One seed's single-run verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct SeedVerdicts {
    pub seed: u64,
    pub f1: Verdict,
    pub f2: Verdict,
    pub interrupted: bool,
}

/// `t_{0.975, df}`: the two-sided 95% quantile of Student's t with `df` degrees of
/// freedom (exact table values to 3 decimals for `df <= 30`, then the Cornish-Fisher
/// expansion, within 1e-3 of the exact value).
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => {
            let z: f64 = 1.959_963_984_540_054;
            let v = df as f64;
            z + (z.powi(3) + z) / (4.0 * v)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        }
    }
}

/// The exact two-sided binomial sign-test p-value of `positive` successes among
/// `positive + negative` trials with probability 1/2: twice the smaller tail, at most 1.
pub fn sign_test_p(positive: usize, negative: usize) -> f64 {
    let n = positive + negative;
    if n == 0 {
        return 1.0;
    }
    let k = positive.min(negative);
    // P(X <= k) for X ~ Bin(n, 1/2), summed in logs of binomial coefficients.
    let ln_choose = |n: usize, j: usize| -> f64 {
        (1..=j)
            .map(|i| ((n - j + i) as f64).ln() - (i as f64).ln())
            .sum()
    };
    let tail: f64 = (0..=k)
        .map(|j| (ln_choose(n, j) - n as f64 * std::f64::consts::LN_2).exp())
        .sum();
    (2.0 * tail).min(1.0)
}

/// Summarises one row's per-seed effects ([`PooledEffect`]); `biased_if_missing` makes a
/// row with a missing seed inconclusive (exact counts over budget).
fn pool_row(
    finding: &'static str,
    metric: &'static str,
    radius: Option<f64>,
    against: Option<PointSet>,
    effects: Vec<Option<f64>>,
    biased_if_missing: bool,
) -> PooledEffect {
    let values: Vec<f64> = effects
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let k = values.len();
    let positive = values.iter().filter(|&&v| v > 0.0).count();
    let negative = values.iter().filter(|&&v| v < 0.0).count();
    let mean = if k > 0 {
        values.iter().sum::<f64>() / k as f64
    } else {
        f64::NAN
    };
    let ci95 = if k >= 2 {
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
        let half = t_975(k - 1) * (var / k as f64).sqrt();
        [mean - half, mean + half]
    } else {
        [f64::NAN, f64::NAN]
    };
    let missing = effects.len() - k;
    let verdict = if k < 2 || (biased_if_missing && missing > 0) {
        Verdict::Inconclusive
    } else if ci95[0] > 0.0 && positive > negative {
        Verdict::Holds
    } else if ci95[1] < 0.0 && negative > positive {
        Verdict::DoesNotHold
    } else {
        Verdict::Inconclusive
    };
    PooledEffect {
        finding,
        metric,
        radius,
        against,
        primary: false,
        effects,
        n: k,
        positive,
        negative,
        sign_p: sign_test_p(positive, negative),
        mean,
        ci95,
        missing,
        verdict,
    }
}

/// F1's numbers at the training points of a run.
fn train_f1(r: &StudyReport) -> &crate::report::F1Set {
    &r.findings.f1.sets[PointSet::Train.index()]
}

/// The median of the finite distances of set `s` at checkpoint `k`.
fn median_distance(r: &StudyReport, k: usize, s: PointSet) -> Option<f64> {
    let d: Vec<f64> = r.checkpoints[k].sets[s.index()]
        .distance
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    quantile(&d, 0.5)
}

/// Pools the runs of several seeds (one report per seed, in seed order, all with the same
/// radii and at least one checkpoint).
pub fn pool(runs: &[&StudyReport]) -> Replication {
    let seeds: Vec<u64> = runs.iter().map(|r| r.config.seed).collect();
    let per_seed = runs
        .iter()
        .map(|r| SeedVerdicts {
            seed: r.config.seed,
            f1: r.findings.f1.verdict,
            f2: r.findings.f2.verdict,
            interrupted: r.interrupted,
        })
        .collect();
    let two_checkpoints = |r: &StudyReport| r.checkpoints.len() >= 2;
    let mut effects = Vec::new();
    let mut f1_main = pool_row(
        "f1",
        "distance_rank_biserial",
        None,
        None,
        runs.iter()
            .map(|r| {
                if two_checkpoints(r) {
                    Some(crate::report::matched_rank_biserial(
                        &train_f1(r).wilcoxon_first_last,
                    ))
                    .filter(|v| v.is_finite())
                } else {
                    None
                }
            })
            .collect(),
        false,
    );
    f1_main.primary = true;
    effects.push(f1_main);
    effects.push(pool_row(
        "f1",
        "distance_median_change",
        None,
        None,
        runs.iter()
            .map(|r| {
                let m = train_f1(r).wilcoxon_first_last.median_difference;
                (two_checkpoints(r) && m.is_finite()).then_some(m)
            })
            .collect(),
        false,
    ));
    effects.push(pool_row(
        "f1_relative",
        "distance_ratio_log_change",
        None,
        None,
        runs.iter()
            .map(|r| {
                let last = r.checkpoints.len() - 1;
                if last == 0 {
                    return None;
                }
                let ratio = |k: usize| {
                    let (t, a) = (
                        median_distance(r, k, PointSet::Train)?,
                        median_distance(r, k, PointSet::Arbitrary)?,
                    );
                    (t > 0.0 && a > 0.0).then(|| (t / a).ln())
                };
                Some(ratio(last)? - ratio(0)?)
            })
            .collect(),
        false,
    ));
    let radii = runs.first().map_or(Vec::new(), |r| r.config.radii.clone());
    let mut f2_rows: Vec<PooledEffect> = Vec::new();
    for &radius in &radii {
        for (metric, _) in crate::report::F2_METRICS {
            for against in [PointSet::Arbitrary, PointSet::Test] {
                let mut tracked = false;
                let per_seed: Vec<Option<f64>> = runs
                    .iter()
                    .map(|r| {
                        let c = r.findings.f2.comparisons.iter().find(|c| {
                            c.checkpoint == "last"
                                && c.radius == radius
                                && c.metric == metric
                                && c.against == against
                        })?;
                        tracked = true;
                        (c.missing_train + c.missing_other == 0).then_some(c.test.rank_biserial)
                    })
                    .collect();
                if tracked {
                    f2_rows.push(pool_row(
                        "f2",
                        metric,
                        Some(radius),
                        Some(against),
                        per_seed,
                        metric == "ball_regions",
                    ));
                }
            }
        }
    }
    // Adversarial examples and triggered points against their clean twins, per radius
    // and metric, at the last checkpoint (positive: larger at the modified points).
    let paired = |r: &StudyReport| -> Vec<crate::report::PairedComparison> {
        let f = &r.findings;
        f.adversarial
            .iter()
            .flat_map(|a| a.comparisons.iter())
            .chain(f.backdoor.iter().flat_map(|b| b.comparisons.iter()))
            .filter(|c| c.checkpoint == "last")
            .cloned()
            .collect()
    };
    let keys: Vec<(&'static str, Option<f64>, &'static str)> = runs
        .first()
        .map(|r| {
            paired(r)
                .iter()
                .map(|c| (c.set, c.radius, c.metric))
                .collect()
        })
        .unwrap_or_default();
    let all_paired: Vec<Vec<crate::report::PairedComparison>> =
        runs.iter().map(|r| paired(r)).collect();
    for (set, radius, metric) in keys {
        let per_seed = all_paired
            .iter()
            .map(|cs| {
                let c = cs
                    .iter()
                    .find(|c| c.set == set && c.radius == radius && c.metric == metric)?;
                (c.test.non_finite == 0 && c.rank_biserial.is_finite()).then_some(c.rank_biserial)
            })
            .collect();
        let source = if set == "triggered_train" {
            PointSet::Train
        } else {
            PointSet::Test
        };
        f2_rows.push(pool_row(
            set,
            metric,
            radius,
            Some(source),
            per_seed,
            metric == "ball_regions",
        ));
    }
    // The primary metric per radius: exact ball counts where every seed has them.
    let mut f2_per_radius = Vec::new();
    for &radius in &radii {
        let row = |metric: &str| {
            f2_rows.iter().position(|e| {
                e.finding == "f2"
                    && e.radius == Some(radius)
                    && e.metric == metric
                    && e.against == Some(PointSet::Arbitrary)
            })
        };
        let chosen = row("ball_regions")
            .filter(|&i| f2_rows[i].missing == 0)
            .or_else(|| row("bound_log2"));
        if let Some(i) = chosen {
            f2_rows[i].primary = true;
            f2_per_radius.push(verdict_of(&f2_rows[i]));
        }
    }
    let f1_verdict = verdict_of(&effects[0]);
    let n = runs.len();
    let f1 = PooledFinding {
        holds: f1_verdict.holds,
        verdict: f1_verdict.verdict,
        by_radius: "uniform",
        statement: format!(
            "F1 pooled over {n} seeds {}: matched-pairs rank-biserial of the training points' distances (last vs first checkpoint) mean {:.2}, 95% interval [{:.2}, {:.2}]; {} of {} seeds positive, sign test p = {}.",
            pooled_words(f1_verdict.verdict),
            f1_verdict.effect,
            f1_verdict.ci95[0],
            f1_verdict.ci95[1],
            effects[0].positive,
            effects[0].positive + effects[0].negative,
            crate::report::pf(f1_verdict.p),
        ),
        per_radius: vec![f1_verdict],
    };
    let f2 = f2_finding(&f2_per_radius, n);
    effects.extend(f2_rows);
    let (late_phase, late_phase_statement) = late_phase(runs);
    Replication {
        seeds,
        per_seed,
        f1,
        f2,
        effects,
        late_phase,
        late_phase_statement,
    }
}

fn verdict_of(e: &PooledEffect) -> PooledVerdict {
    PooledVerdict {
        radius: e.radius,
        metric: e.metric,
        holds: e.verdict == Verdict::Holds,
        verdict: e.verdict,
        p: e.sign_p,
        effect: e.mean,
        ci95: e.ci95,
    }
}

/// The words of a pooled verdict.
pub fn pooled_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "holds over the seeds",
        Verdict::DoesNotHold => "does not hold over the seeds (the opposite holds)",
        Verdict::Inconclusive => "is inconclusive over the seeds",
    }
}

/// F2's pooled finding from its per-radius verdicts on the primary metrics.
fn f2_finding(per_radius: &[PooledVerdict], n: usize) -> PooledFinding {
    let all = |v: Verdict| !per_radius.is_empty() && per_radius.iter().all(|p| p.verdict == v);
    let (verdict, by_radius) = if all(Verdict::Holds) {
        (Verdict::Holds, "uniform")
    } else if all(Verdict::DoesNotHold) {
        (Verdict::DoesNotHold, "uniform")
    } else if all(Verdict::Inconclusive) {
        (Verdict::Inconclusive, "uniform")
    } else {
        (Verdict::Inconclusive, "differs by radius")
    };
    let radii = |v: Verdict, words: &str| -> Option<String> {
        let r: Vec<String> = per_radius
            .iter()
            .filter(|p| p.verdict == v)
            .map(|p| format!("{}", p.radius.unwrap_or(f64::NAN)))
            .collect();
        (!r.is_empty()).then(|| format!("{words} at r = {}", r.join(", ")))
    };
    let detail: Vec<String> = per_radius
        .iter()
        .map(|p| {
            format!(
                "r = {} ({}): rank-biserial mean {:.2} [{:.2}, {:.2}], sign p = {}",
                p.radius.unwrap_or(f64::NAN),
                p.metric,
                p.effect,
                p.ci95[0],
                p.ci95[1],
                crate::report::pf(p.p)
            )
        })
        .collect();
    let head = if by_radius == "uniform" {
        format!(
            "F2 pooled over {n} seeds {} at every radius",
            pooled_words(verdict)
        )
    } else {
        let parts: Vec<String> = [
            radii(Verdict::Holds, "holds"),
            radii(Verdict::DoesNotHold, "the opposite holds"),
            radii(Verdict::Inconclusive, "inconclusive"),
        ]
        .into_iter()
        .flatten()
        .collect();
        format!(
            "F2 pooled over {n} seeds differs by radius: {}",
            parts.join("; ")
        )
    };
    PooledFinding {
        holds: verdict == Verdict::Holds,
        verdict,
        by_radius,
        statement: format!(
            "{head} (training vs arbitrary points at the last checkpoint, exact ball counts where every seed has them, else the local bound): {}.",
            detail.join("; ")
        ),
        per_radius: per_radius.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_test_matches_the_binomial_tails() {
        // 5 of 5: 2 / 32.
        assert!((sign_test_p(5, 0) - 0.0625).abs() < 1e-12);
        // 6 of 6: 2 / 64 < 0.05.
        assert!((sign_test_p(0, 6) - 0.03125).abs() < 1e-12);
        // 8 of 10: 2 (1 + 10 + 45) / 1024 (scipy.stats.binomtest(8, 10).pvalue).
        assert!((sign_test_p(8, 2) - 112.0 / 1024.0).abs() < 1e-12);
        assert_eq!(sign_test_p(3, 3), 1.0);
        assert_eq!(sign_test_p(0, 0), 1.0);
    }

    #[test]
    fn t_quantiles_and_intervals() {
        assert_eq!(t_975(4), 2.776);
        // scipy.stats.t.ppf(0.975, 40) = 2.0211, (120) = 1.9799.
        assert!((t_975(40) - 2.0211).abs() < 1e-3);
        assert!((t_975(120) - 1.9799).abs() < 1e-3);
        // Effects 0.1, 0.2, 0.3, 0.4, 0.5: mean 0.3, s = 0.1581, half = 2.776 s / sqrt 5.
        let e = pool_row(
            "f2",
            "bound_log2",
            Some(0.1),
            Some(PointSet::Arbitrary),
            vec![Some(0.1), Some(0.2), Some(0.3), Some(0.4), Some(0.5)],
            false,
        );
        let half = 2.776 * (0.025_f64 / 5.0).sqrt();
        assert!((e.mean - 0.3).abs() < 1e-12);
        assert!((e.ci95[0] - (0.3 - half)).abs() < 1e-12);
        assert_eq!(e.verdict, Verdict::Holds);
        assert_eq!((e.positive, e.negative, e.n, e.missing), (5, 0, 5, 0));
        // Mixed signs: the interval straddles zero.
        let e = pool_row(
            "f2",
            "bound_log2",
            Some(0.1),
            None,
            vec![Some(-0.4), Some(0.5), Some(0.1), None],
            false,
        );
        assert_eq!((e.n, e.missing), (3, 1));
        assert_eq!(e.verdict, Verdict::Inconclusive);
        // All negative: does not hold.
        let e = pool_row(
            "f1",
            "x",
            None,
            None,
            vec![Some(-0.4), Some(-0.5), Some(-0.3)],
            false,
        );
        assert_eq!(e.verdict, Verdict::DoesNotHold);
        // Exact counts with a seed over budget decide nothing.
        let e = pool_row(
            "f2",
            "ball_regions",
            Some(0.1),
            None,
            vec![Some(0.4), Some(0.5), Some(0.3), None],
            true,
        );
        assert_eq!(e.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn f2_says_when_the_verdict_differs_by_radius() {
        let v = |r: f64, verdict: Verdict| PooledVerdict {
            radius: Some(r),
            metric: "ball_regions",
            holds: verdict == Verdict::Holds,
            verdict,
            p: 0.03,
            effect: 0.2,
            ci95: [0.1, 0.3],
        };
        let f = f2_finding(
            &[
                v(0.1, Verdict::DoesNotHold),
                v(0.5, Verdict::Inconclusive),
                v(1.0, Verdict::Holds),
            ],
            6,
        );
        assert_eq!(f.by_radius, "differs by radius");
        assert!(!f.holds);
        assert!(
            f.statement.contains(
                "differs by radius: holds at r = 1; the opposite holds at r = 0.1; inconclusive at r = 0.5 ("
            ),
            "{}",
            f.statement
        );
        let f = f2_finding(&[v(0.1, Verdict::Holds), v(0.5, Verdict::Holds)], 6);
        assert!(f.holds && f.by_radius == "uniform");
    }
}
