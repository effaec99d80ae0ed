//! `report.md`, assembled in one place from a finished study and the figures drawn
//! beside it.

use std::fmt::Write;

use super::{ALPHA, F2, F2_METRICS, F2Comparison, Verdict, pf};
use crate::stats::Quartiles;
use crate::track::{InputSquare, PointSet};
use crate::train::init_name;
use crate::{StudyError, StudyRun};

/// The figures written beside `report.md`, by section. A stem names `STEM.png` and
/// `STEM.svg` in the report's directory.
#[derive(Debug, Clone)]
pub struct Figures {
    /// Metrics against epoch (median and quartile band), in report order.
    pub over_training: Vec<String>,
    /// Distributions of every metric at the last checkpoint: stem and caption.
    pub distributions: Vec<(String, String)>,
    /// For 2-D data: one picture per partition of [`StudyRun::input_square`], in its
    /// order, or why they could not be drawn. Read only when the square was computed.
    pub partitions: Result<Vec<String>, String>,
}

/// A median for a table cell: an integer as such, anything else with two decimals.
fn median_cell(v: f64) -> String {
    if v.is_finite() && v == v.round() && v.abs() < 1e12 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A note of the points a comparison left out (exact counts over budget): ` [n = 47 vs
/// 50 of 50]`, or nothing when none was.
fn left_out(c: &F2Comparison) -> String {
    if c.missing_train + c.missing_other == 0 {
        String::new()
    } else {
        format!(
            " [n = {} vs {} of {}]",
            c.test.n_a,
            c.test.n_b,
            c.test.n_a + c.missing_train
        )
    }
}

/// The table of exact ball counts over budget (Markdown): a row per checkpoint, a column
/// per radius, cells `train / test / arbitrary` points over budget, and a total row.
fn over_budget_table(run: &crate::StudyReport) -> String {
    let radii = &run.config.radii;
    let mut s = String::from("| epoch |");
    for r in radii {
        let _ = write!(s, " r = {r} |");
    }
    s.push_str("\n|---|");
    for _ in radii {
        s.push_str("---|");
    }
    s.push('\n');
    let mut total = vec![0usize; radii.len()];
    for cp in &run.checkpoints {
        let _ = write!(s, "| {} |", cp.epoch);
        for (ri, t) in total.iter_mut().enumerate() {
            let per_set: Vec<usize> = cp.sets.iter().map(|m| m.balls_over_budget(ri)).collect();
            *t += per_set.iter().sum::<usize>();
            let _ = write!(
                s,
                " {} |",
                per_set
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" / ")
            );
        }
        s.push('\n');
    }
    let _ = write!(s, "| all |");
    for t in total {
        let _ = write!(
            s,
            " {t} of {} |",
            run.checkpoints.len() * run.points * PointSet::ALL.len()
        );
    }
    s.push('\n');
    s
}

/// The per-checkpoint F2 tables (Markdown): for each metric of [`F2_METRICS`] and each
/// comparison, rows = checkpoints (epochs), columns = radii, and a last row counting the
/// checkpoints where the training points are significantly larger.
pub fn f2_tables(f2: &F2, radii: &[f64]) -> String {
    let mut s = String::new();
    for (metric, meaning) in F2_METRICS {
        for against in [PointSet::Arbitrary, PointSet::Test] {
            let rows: Vec<&F2Comparison> = f2
                .comparisons
                .iter()
                .filter(|c| c.metric == metric && c.against == against)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let mut epochs: Vec<usize> = rows.iter().map(|c| c.epoch).collect();
            epochs.dedup();
            let _ = writeln!(s, "#### `{metric}`, train vs {against}: {meaning}\n");
            let _ = write!(s, "| epoch |");
            for r in radii {
                let _ = write!(s, " r = {r} |");
            }
            let _ = write!(s, "\n|---|");
            for _ in radii {
                let _ = write!(s, "---|");
            }
            s.push('\n');
            let mut larger = vec![0usize; radii.len()];
            for &e in &epochs {
                let _ = write!(s, "| {e} |");
                for (ri, &r) in radii.iter().enumerate() {
                    match rows.iter().find(|c| c.epoch == e && c.radius == r) {
                        Some(c) => {
                            let mark = match c.verdict {
                                Verdict::Holds => {
                                    larger[ri] += 1;
                                    " *"
                                }
                                Verdict::DoesNotHold => " (-)",
                                Verdict::Inconclusive => "",
                            };
                            let _ = write!(
                                s,
                                " {} vs {}, {}, {:+.2}{mark}{} |",
                                median_cell(c.median_train),
                                median_cell(c.median_other),
                                pf(c.test.p),
                                c.test.rank_biserial,
                                left_out(c)
                            );
                        }
                        None => s.push_str(" - |"),
                    }
                }
                s.push('\n');
            }
            let _ = write!(s, "| train larger (p < {ALPHA}) |");
            for n in larger {
                let _ = write!(s, " {n} of {} checkpoints |", epochs.len());
            }
            s.push_str("\n\n");
        }
    }
    s
}

/// The human report, `report.md`: the run's settings, verdicts, training table, F1 and F2
/// tables, then the figures by section: metrics over training, distributions at the last
/// checkpoint and, for 2-D data, the input square's partitions (or why they are missing).
pub fn markdown(run: &StudyRun, figures: &Figures) -> String {
    let study = &run.report;
    let mut s = String::new();
    let c = &study.config;
    let _ = writeln!(s, "# relu-regions study: {}\n", study.dataset.name);
    if study.interrupted {
        let _ = writeln!(
            s,
            "**Interrupted** after {} of {} checkpoints (epochs 0-{}): everything below covers those.\n",
            study.checkpoints.len(),
            c.epochs + 1,
            study.checkpoints.len().saturating_sub(1)
        );
    }
    s.push_str(&super::summary::summary_table(study));
    if study.source == "trained" {
        let _ = writeln!(s, "{}, seed {}.", training_line(c), c.seed);
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
        match study.ball_budget {
            Some(b) => format!(
                " and in the L2 ball itself{}, within a budget of {} s and {} regions per count, per point and checkpoint (radii smallest first; a count that does not finish, and those at larger radii, are over budget: left out of the statistics, and counted in the tables below)",
                b.max_radius
                    .map_or(String::new(), |r| format!(" at radii up to {r}")),
                b.seconds,
                b.max_regions
            ),
            None => String::new(),
        }
    );
    let _ = writeln!(s, "## Verdicts\n");
    let _ = writeln!(s, "- {}", study.findings.f1.statement);
    let _ = writeln!(s, "- {}\n", study.findings.f2.statement);
    if let Some(a) = &study.findings.adversarial {
        let _ = writeln!(s, "- {}\n", a.statement);
    }
    if let Some(b) = &study.findings.backdoor {
        let _ = writeln!(s, "- {}\n", b.statement);
    }
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
    let f2 = &study.findings.f2;
    let last_epoch = study.checkpoints.last().map_or(0, |cp| cp.epoch);
    let _ = writeln!(
        s,
        "\n## F2: training points against the others (Mann-Whitney U)\n"
    );
    let _ = writeln!(
        s,
        "### At the last checkpoint (epoch {last_epoch})\n\nThe verdict reads, per radius, the row `ball_regions` against `arbitrary` where every point's exact count finished, else `bound_log2`.\n"
    );
    let _ = writeln!(
        s,
        "| radius | against | metric | median train | median other | rank-biserial | p | verdict | left out (train, other) |\n|---|---|---|---|---|---|---|---|---|"
    );
    for cmp in f2.comparisons.iter().filter(|c| c.checkpoint == "last") {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {} | {} | {}, {} |",
            cmp.radius,
            cmp.against,
            cmp.metric,
            cmp.median_train,
            cmp.median_other,
            cmp.test.rank_biserial,
            pf(cmp.test.p),
            cmp.verdict.words(),
            cmp.missing_train,
            cmp.missing_other
        );
    }
    if let Some(b) = study.ball_budget {
        let _ = writeln!(
            s,
            "\n### Exact ball counts over budget\n\nPoints per set (`train / test / arbitrary`) whose exact count of B(x, r) did not finish within {} s and {} regions; they are left out of the `ball_regions` comparisons (each states its `n`, and is inconclusive whatever its p-value: the counts that ran out are the largest, so the others are a biased sample), and `report.json` keeps the regions they certified as a lower bound (`ball_regions_at_least`).\n",
            b.seconds, b.max_regions
        );
        s.push_str(&over_budget_table(study));
    }
    let _ = writeln!(s, "\n### Over training\n");
    let _ = writeln!(
        s,
        "One table per metric and comparison: a row per checkpoint, a column per radius. A cell reads `median train vs median other, p, rank-biserial`, then `[n = train vs other of all]` when points were left out (exact counts over budget); `*` marks p < {ALPHA} with the training points larger, `(-)` p < {ALPHA} with them smaller. Descriptive: only the last checkpoint's bound against arbitrary points enters the verdict, and the many tables are not corrected for multiplicity.\n"
    );
    s.push_str(&f2_tables(f2, &c.radii));
    let _ = writeln!(
        s,
        "\nRank-biserial > 0: training points tend to have the larger value. Checkpoints (safetensors, PyTorch nn.Sequential layout) are in `checkpoints/`; every number is in `report.json`."
    );
    if let Some(a) = &study.findings.adversarial {
        s.push_str(&adversarial_section(a));
    }
    if let Some(b) = &study.findings.backdoor {
        s.push_str(&backdoor_section(b, c));
    }
    s.push_str("\n## Plots\n\n");
    for stem in &figures.over_training {
        let _ = writeln!(s, "![{stem}]({stem}.png)\n");
    }
    let last_epoch = study.checkpoints.last().map_or(0, |cp| cp.epoch);
    let _ = writeln!(
        s,
        "## Distributions at the last checkpoint (epoch {last_epoch})\n\nEach metric at every tracked point of the three sets: boxes from the first to the third quartile with the median, whiskers to the furthest values within 1.5 interquartile ranges, every point on top (jittered sideways).\n"
    );
    for (stem, caption) in &figures.distributions {
        let _ = writeln!(
            s,
            "![{stem}]({stem}.png)\n\n*{caption}* ([SVG]({stem}.svg))\n"
        );
    }
    if let Some(square) = &run.input_square {
        input_square_section(&mut s, square, &figures.partitions);
    }
    s
}

/// The section on the input square of 2-D data: a table of the partitions' counts and
/// their pictures, or why they are missing.
fn input_square_section(
    s: &mut String,
    square: &Result<InputSquare, StudyError>,
    pictures: &Result<Vec<String>, String>,
) {
    let (square, stems) = match (square, pictures) {
        (Ok(square), Ok(stems)) => (square, stems),
        (Err(e), _) => return not_drawn(s, &e.to_string()),
        (Ok(_), Err(e)) => return not_drawn(s, e),
    };
    let _ = writeln!(
        s,
        "## Activation regions of the input square\n\nThe exact partition of the square {} (input units after scaling; the training data's bounding box padded by {}% of its larger half-side, made square) into the activation regions of the network at {} checkpoints, by the exact 2-D partition of the library (every region checked by a forward pass). Regions in distinct colours, the decision boundary in red, the training points on top coloured by label.\n\n| epoch | activation regions | linear pieces | picture |\n|---|---|---|---|",
        square.bounds_text(),
        square.pad * 100.0,
        stems.len()
    );
    for (p, stem) in square.partitions.iter().zip(stems) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | [{stem}.png]({stem}.png) |",
            p.epoch,
            p.partition.region_count(),
            p.partition.pieces
        );
    }
    s.push('\n');
    for (p, stem) in square.partitions.iter().zip(stems) {
        let _ = writeln!(
            s,
            "**Epoch {}: {} activation regions** ({} linear pieces)\n\n![{stem}]({stem}.png)\n",
            p.epoch,
            p.partition.region_count(),
            p.partition.pieces
        );
    }
}

/// The input-square section when its pictures are missing, and why.
fn not_drawn(s: &mut String, why: &str) {
    let _ = writeln!(
        s,
        "## Activation regions of the input square\n\nNot drawn: {why}\n"
    );
}

/// The adversarial examples' section: success per checkpoint, then every paired
/// comparison at the last checkpoint.
fn adversarial_section(a: &super::Adversarial) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n## Adversarial examples against their clean sources (paired Wilcoxon)\n\nAt every checkpoint the tracked test points that the network classifies correctly are attacked by PGD with the network's exact gradient (`attack` in `report.json`), and the examples found are tracked with the same LC frames and slice planes as their sources.\n\n| epoch | attacked | succeeded | success rate |\n|---|---|---|---|"
    );
    for (epoch, attacked, succeeded, rate) in &a.success {
        let _ = writeln!(
            s,
            "| {epoch} | {attacked} | {succeeded} | {:.1}% |",
            100.0 * rate
        );
    }
    let _ = writeln!(
        s,
        "\nAt the last checkpoint (rank-biserial > 0: larger at the adversarial examples):\n"
    );
    s.push_str(&paired_table(&a.comparisons, "adversarial"));
    s
}

/// The paired comparisons of `set` at the last checkpoint, as a table.
fn paired_table(comparisons: &[super::PairedComparison], set: &str) -> String {
    let mut s = String::from(
        "| radius | metric | pairs | median clean | median modified | rank-biserial | p | verdict |\n|---|---|---|---|---|---|---|---|\n",
    );
    for c in comparisons
        .iter()
        .filter(|c| c.checkpoint == "last" && c.set == set)
    {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.4} | {:.4} | {:.2} | {} | {} |",
            c.radius.map_or("-".to_string(), |r| r.to_string()),
            c.metric,
            paired_count(c),
            c.median_clean,
            c.median_modified,
            c.rank_biserial,
            pf(c.test.p),
            paired_words(c.verdict)
        );
    }
    s
}

/// The pairs of a paired comparison, with those over budget: `38 (12 over budget)`.
pub(super) fn paired_count(c: &super::PairedComparison) -> String {
    if c.test.non_finite > 0 {
        format!("{} ({} over budget)", c.test.n, c.test.non_finite)
    } else {
        c.test.n.to_string()
    }
}

/// A paired comparison's verdict in words (modified against clean).
pub(super) fn paired_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "larger when modified",
        Verdict::DoesNotHold => "smaller when modified",
        Verdict::Inconclusive => "no significant difference",
    }
}

/// The backdoor's section: clean accuracy and attack success per checkpoint, then the
/// triggered points against their clean twins at the last checkpoint.
fn backdoor_section(b: &super::Backdoor, c: &crate::StudyConfig) -> String {
    let mut s = String::new();
    let cfg = c.backdoor.as_ref();
    let _ = writeln!(
        s,
        "\n## Backdoor: triggered points against their clean twins (paired Wilcoxon)\n\nA fraction {} of the training images got the trigger (a white square in the bottom-right corner) and the label {} (BadNets); the training loss and accuracy above are on that poisoned set, the test ones on clean test images. The tracked training and test points (chosen among the clean images) are tracked again with the trigger, on their clean twins' LC frames and slice planes.\n\n| epoch | clean test accuracy | attack success rate |\n|---|---|---|",
        cfg.map_or(f64::NAN, |b| b.fraction),
        cfg.map_or(0, |b| b.target)
    );
    for (epoch, acc, asr) in &b.success {
        let _ = writeln!(s, "| {epoch} | {acc:.3} | {asr:.3} |");
    }
    for (set, words) in [
        ("triggered_train", "training points"),
        ("triggered_test", "test points"),
    ] {
        let _ = writeln!(
            s,
            "\nTriggered {words} at the last checkpoint (rank-biserial > 0: larger with the trigger):\n"
        );
        s.push_str(&paired_table(&b.comparisons, set));
    }
    s
}

/// "Network ARCH (INIT init), OPTIMIZER lr LR, batch B, E epochs".
fn training_line(c: &crate::StudyConfig) -> String {
    format!(
        "Network {} ({} init), {} lr {}, batch {}, {} epochs",
        c.arch,
        init_name(c.init),
        c.optimizer.name(),
        c.lr,
        c.batch,
        c.epochs
    )
}

/// The report of a study replicated over seeds ([`crate::replicate`]): one table of every
/// pooled effect first (finding x radius x metric, with the pooled effect, its interval
/// and the verdict), the pooled statements, the per-seed verdicts (linking each seed's own
/// report in `seed_<s>/`), and the forest plot `forest` when drawn.
pub fn replicated_markdown(
    rep: &crate::replicate::Replication,
    first: &crate::StudyReport,
    forest: Option<&str>,
) -> String {
    use crate::replicate::pooled_words;
    let c = &first.config;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# relu-regions study over {} seeds: {}\n",
        rep.seeds.len(),
        first.dataset.name
    );
    let _ = writeln!(
        s,
        "{}, {} points per set, radii {:?} (input units); seeds {}. Each seed's run (its data sample for generated data, initialisation, batches and points) is in `seed_<s>/`.\n",
        training_line(c),
        first.points,
        c.radii,
        rep.seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(s, "## Pooled verdicts\n");
    let _ = writeln!(
        s,
        "| finding | radius | metric | against | seeds + / - (of n) | sign test p | mean effect [95% interval] | verdict |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    // Metrics that no seed has (exact ball counts above the largest counted radius, or
    // over budget at some point of every seed) are left out, and counted below.
    let mut absent = 0;
    for e in &rep.effects {
        if e.n == 0 && e.missing > 0 {
            absent += 1;
            continue;
        }
        let _ = writeln!(
            s,
            "| {}{} | {} | {} | {} | {} / {} (of {}{}) | {} | {} | {} |",
            e.finding,
            if e.primary { " (primary)" } else { "" },
            e.radius.map_or("-".to_string(), |r| r.to_string()),
            e.metric,
            e.against.map_or("-", |a| a.name()),
            e.positive,
            e.negative,
            e.n,
            if e.missing > 0 {
                format!(", {} missing", e.missing)
            } else {
                String::new()
            },
            super::pf(e.sign_p),
            if e.ci95.iter().all(|v| v.is_finite()) {
                format!("{:.3} [{:.3}, {:.3}]", e.mean, e.ci95[0], e.ci95[1])
            } else {
                // One seed: no interval.
                format!("{:.3} (no interval)", e.mean)
            },
            pooled_words(e.verdict)
        );
    }
    if absent > 0 {
        let _ = writeln!(
            s,
            "\n{absent} rows left out: no seed has their metric at every point (exact ball counts over budget, or above `--ball-max-radius`)."
        );
    }
    let _ = writeln!(
        s,
        "\nEffects: `distance_rank_biserial` is the matched-pairs rank-biserial correlation of the training points' distances to the region boundary, last checkpoint against first (positive: they grew); `distance_median_change` the median change (input units); `distance_ratio_log_change` the change of log(median distance at training points / at arbitrary points), positive when boundaries moved away from training points more than from arbitrary points; F2 rows the Mann-Whitney rank-biserial correlation of training against the other points at the last checkpoint (positive: training points' balls hold more). The interval is the 95% random-effects t-interval over seeds; a verdict holds when it lies above zero and more seeds are positive than negative (details in the study crate's `replicate` module). The primary rows decide the findings: exact ball counts where every seed has them, else the local bound.\n"
    );
    let _ = writeln!(s, "{}\n", rep.f1.statement);
    let _ = writeln!(s, "{}\n", rep.f2.statement);
    let _ = writeln!(s, "{}\n", rep.late_phase_statement);
    if let Some(f) = forest {
        let _ = writeln!(
            s,
            "![Effects per seed (dots) and pooled mean with its 95% interval (diamond)]({f})\n"
        );
    }
    let _ = writeln!(s, "## Per seed\n");
    let _ = writeln!(s, "| seed | F1 | F2 | report |");
    let _ = writeln!(s, "|---|---|---|---|");
    for v in &rep.per_seed {
        let _ = writeln!(
            s,
            "| {} | {}{} | {} | [seed_{}/report.md](seed_{}/report.md) |",
            v.seed,
            v.f1.words(),
            if v.interrupted { " (interrupted)" } else { "" },
            v.f2.words(),
            v.seed,
            v.seed
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::DatasetKind;
    use crate::{StudyConfig, run_study};

    fn tiny_run() -> StudyRun {
        let mut config = StudyConfig::default_for(DatasetKind::Moons);
        config.arch = "2-6-2".into();
        config.epochs = 2;
        config.points = 5;
        config.samples = 60;
        config.radii = vec![0.3];
        run_study(&config, &mut |_| crate::ControlFlow::Continue(())).unwrap()
    }

    #[test]
    fn the_report_lists_every_figure_by_section() {
        let mut run = tiny_run();
        let stems: Vec<String> = (0..3).map(|e| format!("partition_epoch_{e:03}")).collect();
        let figures = Figures {
            over_training: vec!["distance".into(), "bound_r0.3".into()],
            distributions: vec![("dist_lc".into(), "LC at each radius".into())],
            partitions: Ok(stems.clone()),
        };
        let md = markdown(&run, &figures);
        let at = |text: &str| md.find(text).unwrap_or_else(|| panic!("no `{text}`"));
        assert!(at("## Summary") < at("## Verdicts"));
        assert!(at("## Verdicts") < at("## Plots\n\n![distance](distance.png)\n\n"));
        assert!(at("![bound_r0.3](bound_r0.3.png)") < at("## Distributions at the last"));
        assert!(
            md.contains("![dist_lc](dist_lc.png)\n\n*LC at each radius* ([SVG](dist_lc.svg))\n")
        );
        let square = run.input_square.as_ref().unwrap().as_ref().unwrap();
        assert!(md.contains(&format!("the square {} (", square.bounds_text())));
        for (p, stem) in square.partitions.iter().zip(&stems) {
            assert!(md.contains(&format!(
                "| {} | {} | {} | [{stem}.png]({stem}.png) |",
                p.epoch,
                p.partition.region_count(),
                p.partition.pieces
            )));
            assert!(md.contains(&format!(
                "**Epoch {}: {} activation regions**",
                p.epoch,
                p.partition.region_count()
            )));
        }
        // Pictures that could not be drawn, or a square that could not be partitioned: the
        // report says why.
        let undrawn = Figures {
            partitions: Err("disk full".into()),
            ..figures.clone()
        };
        assert!(
            markdown(&run, &undrawn)
                .ends_with("## Activation regions of the input square\n\nNot drawn: disk full\n\n")
        );
        run.input_square = Some(Err(StudyError::Partition {
            epoch: 1,
            source: Box::new(StudyError::Analysis("too many regions".into())),
        }));
        assert!(markdown(&run, &figures).ends_with(
            "Not drawn: partitioning the input square at epoch 1: analysis failed: too many regions\n\n"
        ));
        // No square (data of more than two dimensions): no section.
        run.input_square = None;
        assert!(!markdown(&run, &figures).contains("## Activation regions"));
    }

    /// Exact ball counts above `ball_max_radius` exist at no seed: their pooled rows are
    /// left out of the table (and counted), never shown as empty `NaN` rows.
    #[test]
    fn the_pooled_table_leaves_out_metrics_no_seed_has() {
        let mut config = StudyConfig::default_for(DatasetKind::Moons);
        config.arch = "2-6-2".into();
        config.epochs = 5;
        config.points = 6;
        config.samples = 60;
        config.radii = vec![0.1, 0.3];
        config.ball_max_radius = Some(0.2);
        let runs: Vec<StudyRun> = [0, 1]
            .iter()
            .map(|&seed| {
                let mut c = config.clone();
                c.seed = seed;
                run_study(&c, &mut |_| crate::ControlFlow::Continue(())).unwrap()
            })
            .collect();
        let reports: Vec<&crate::StudyReport> = runs.iter().map(|r| &r.report).collect();
        let rep = crate::replicate::pool(&reports);
        let absent = rep
            .effects
            .iter()
            .filter(|e| e.n == 0 && e.missing > 0)
            .count();
        // ball_regions at r = 0.3 against arbitrary and test points.
        assert!(absent >= 2, "{absent}");
        assert!(
            rep.effects
                .iter()
                .any(|e| e.metric == "ball_regions" && e.radius == Some(0.1) && e.n == 2)
        );
        let md = replicated_markdown(&rep, reports[0], None);
        assert!(md.contains(&format!(
            "\n{absent} rows left out: no seed has their metric"
        )));
        assert!(!md.contains("NaN"), "{md}");
    }
}
