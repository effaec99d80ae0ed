//! The table `report.md` opens with: one row per finding, radius and metric at the last
//! checkpoint, with its effect size, p-value and verdict, then the attacks' success.

use std::fmt::Write;

use super::markdown::{paired_count, paired_words};
use super::{F2Comparison, PairedComparison, Verdict, matched_rank_biserial, pf};
use crate::StudyReport;
use crate::track::PointSet;

/// The metrics of the modified sets (adversarial examples, triggered points) shown in the
/// summary; the report's own sections list every metric.
const MODIFIED_METRICS: [&str; 3] = ["distance", "ball_regions", "bound_log2"];

/// An effect size for a cell (two decimals, `-` when undefined).
fn effect_cell(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.2}")
    } else {
        "-".into()
    }
}

/// The opening table of a single run's `report.md` (Markdown, with its heading and a
/// legend).
///
/// - F1: per point set, the matched-pairs rank-biserial correlation of the distance to the
///   region boundary, last checkpoint against first (Wilcoxon signed-rank); the training
///   points' row decides F1, the others show whether distances grew everywhere.
/// - F2: per radius, training against arbitrary points on every metric, and against test
///   points on the primary metric (Mann-Whitney rank-biserial); the primary metric (exact
///   ball counts where every point has one, else the local bound) decides F2.
/// - Adversarial examples and triggered points against their clean twins (matched-pairs
///   rank-biserial), on the distance, the exact ball counts and the local bound.
pub(super) fn summary_table(study: &StudyReport) -> String {
    let findings = &study.findings;
    let dataset = &study.dataset.name;
    let last_epoch = study.checkpoints.last().map_or(0, |c| c.epoch);
    let mut s = String::from("## Summary\n\n");
    let _ = writeln!(
        s,
        "At the last checkpoint (epoch {last_epoch}; F1 compares it with epoch {}). Effect: rank-biserial correlation, positive in the direction the finding names (matched pairs for F1 and the modified sets, Mann-Whitney for F2); p two-sided; **primary** rows decide the verdicts, the others are context.\n",
        study.checkpoints.first().map_or(0, |c| c.epoch)
    );
    s.push_str("| finding | dataset | radius | metric | against | n | effect | p | verdict |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for set in &findings.f1.sets {
        let w = &set.wilcoxon_first_last;
        let primary = set.set == PointSet::Train;
        let _ = writeln!(
            s,
            "| F1: distance to the boundary grows{} | {dataset} | - | distance at {} points | first checkpoint | {} | {} | {} | {} |",
            if primary { " (**primary**)" } else { "" },
            set.set.name(),
            w.n,
            effect_cell(matched_rank_biserial(w)),
            pf(w.p),
            finding_words(if primary {
                findings.f1.verdict
            } else {
                set.verdict
            })
        );
    }
    let primary = primary_metrics(&findings.f2.comparisons, &study.config.radii);
    for c in findings
        .f2
        .comparisons
        .iter()
        .filter(|c| c.checkpoint == "last")
    {
        let primary_metric = primary.contains(&(c.radius.to_bits(), c.metric));
        if c.against == PointSet::Test && !primary_metric {
            continue;
        }
        let is_primary = primary_metric && c.against == PointSet::Arbitrary;
        let _ = writeln!(
            s,
            "| F2: more regions at training points{} | {dataset} | {} | {} | {} | {} / {}{} | {} | {} | {} |",
            if is_primary { " (**primary**)" } else { "" },
            c.radius,
            c.metric,
            c.against.name(),
            c.test.n_a,
            c.test.n_b,
            if c.missing_train + c.missing_other > 0 {
                format!(" ({} over budget)", c.missing_train + c.missing_other)
            } else {
                String::new()
            },
            effect_cell(c.test.rank_biserial),
            pf(c.test.p),
            finding_words(c.verdict)
        );
    }
    let modified = findings
        .adversarial
        .iter()
        .flat_map(|a| &a.comparisons)
        .chain(findings.backdoor.iter().flat_map(|b| &b.comparisons));
    for c in modified.filter(|c| c.checkpoint == "last" && MODIFIED_METRICS.contains(&c.metric)) {
        s.push_str(&modified_row(c, dataset));
    }
    if let Some(a) = &findings.adversarial
        && let Some((epoch, attacked, succeeded, rate)) = a.success.last()
    {
        let _ = writeln!(
            s,
            "\nAdversarial examples (epoch {epoch}): PGD succeeded at {succeeded} of {attacked} correctly classified test points ({:.1}%).",
            100.0 * rate
        );
    }
    if let Some(b) = &findings.backdoor
        && let Some((epoch, accuracy, success)) = b.success.last()
    {
        let _ = writeln!(
            s,
            "\nBackdoor (epoch {epoch}): clean test accuracy {accuracy:.3}, attack success rate {success:.3}."
        );
    }
    s.push('\n');
    s
}

/// `(radius bits, metric)` of the comparisons that decide F2 (as [`super::analyse`]
/// chooses them): per radius, the exact ball count against arbitrary points where no
/// point is over budget, else the local bound.
fn primary_metrics(comparisons: &[F2Comparison], radii: &[f64]) -> Vec<(u64, &'static str)> {
    radii
        .iter()
        .map(|&r| {
            let complete = comparisons.iter().any(|c| {
                c.checkpoint == "last"
                    && c.against == PointSet::Arbitrary
                    && c.metric == "ball_regions"
                    && c.radius == r
                    && c.missing_train + c.missing_other == 0
            });
            (
                r.to_bits(),
                if complete {
                    "ball_regions"
                } else {
                    "bound_log2"
                },
            )
        })
        .collect()
}

/// A modified set's row: `adversarial`, `triggered_train` or `triggered_test` against
/// the clean points.
fn modified_row(c: &PairedComparison, dataset: &str) -> String {
    let finding = match c.set {
        "adversarial" => "adversarial examples vs their sources",
        "triggered_train" => "triggered training points vs clean",
        _ => "triggered test points vs clean",
    };
    format!(
        "| {finding} | {dataset} | {} | {} | clean twins | {} | {} | {} | {} |\n",
        c.radius.map_or("-".to_string(), |r| r.to_string()),
        c.metric,
        paired_count(c),
        effect_cell(c.rank_biserial),
        pf(c.test.p),
        paired_words(c.verdict)
    )
}

/// A finding's verdict in a table cell.
fn finding_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "holds",
        Verdict::DoesNotHold => "opposite (significant)",
        Verdict::Inconclusive => "inconclusive",
    }
}

#[cfg(test)]
mod tests {
    use crate::datasets::DatasetKind;
    use crate::report::Verdict;
    use crate::track::PointSet;
    use crate::{StudyConfig, run_study};

    #[test]
    fn the_summary_opens_the_report_with_the_deciding_rows() {
        let mut config = StudyConfig::default_for(DatasetKind::Moons);
        config.arch = "2-8-2".into();
        config.epochs = 2;
        config.points = 8;
        config.samples = 80;
        config.radii = vec![0.2, 0.4];
        let run = run_study(&config, &mut |_| crate::ControlFlow::Continue(())).unwrap();
        let study = &run.report;
        let table = super::summary_table(study);
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| F")).collect();
        let primary: Vec<&str> = rows
            .iter()
            .copied()
            .filter(|l| l.contains("(**primary**)"))
            .collect();
        // F1 at the training points, and F2 against arbitrary points once per radius.
        assert_eq!(primary.len(), 1 + config.radii.len(), "{table}");
        assert!(primary[0].contains("distance at train points"));
        for (row, &r) in primary[1..].iter().zip(&config.radii) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            // "", finding, dataset, radius, metric, against, n, effect, p, verdict
            assert_eq!(cells[3], r.to_string());
            assert_eq!(cells[5], "arbitrary");
            let c = study
                .findings
                .f2
                .comparisons
                .iter()
                .find(|c| {
                    c.checkpoint == "last"
                        && c.against == PointSet::Arbitrary
                        && c.radius == r
                        && c.metric == cells[4]
                })
                .expect("the row's comparison");
            assert_eq!(cells[7], format!("{:.2}", c.test.rank_biserial));
            let words = match c.verdict {
                Verdict::Holds => "holds",
                Verdict::DoesNotHold => "opposite (significant)",
                Verdict::Inconclusive => "inconclusive",
            };
            assert_eq!(cells[9], words);
        }
        // 2-D data has exact ball counts at every point: they are the primary metric.
        assert!(primary[1..].iter().all(|l| l.contains("| ball_regions |")));
        // The F1 rows of the other sets and the F2 rows against test points are context.
        assert_eq!(rows.iter().filter(|l| l.starts_with("| F1")).count(), 3);
        assert!(rows.iter().any(|l| l.contains("| test |")));
        let md = crate::report::markdown(
            &run,
            &crate::report::Figures {
                over_training: Vec::new(),
                distributions: Vec::new(),
                partitions: Ok(Vec::new()),
            },
        );
        assert!(md.starts_with(&format!(
            "# relu-regions study: {}\n\n## Summary\n",
            study.dataset.name
        )));
    }
}
