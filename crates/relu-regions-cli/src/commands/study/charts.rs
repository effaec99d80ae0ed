//! The study's charts: metrics against epoch (median and quartile band per point set),
//! distributions at the last checkpoint, and for 2-D data the input square's partitions.
//! Each `write_*` draws PNG and SVG files and returns their stems for the report.

use std::path::Path;

use anyhow::Result;
use relu_regions_study::StudyReport;
use relu_regions_study::stats::quartiles;
use relu_regions_study::track::{InputSquare, SetMetrics};

use crate::plot::{
    self, BandChart, BandSeries, ColorBy, DistributionChart, DistributionSeries, Picture,
    thousands, write_band_chart, write_distribution_chart,
};

const SET_COLORS: [plotters::style::RGBColor; 3] = [
    plotters::style::RGBColor(31, 119, 180),
    plotters::style::RGBColor(255, 127, 14),
    plotters::style::RGBColor(100, 100, 100),
];

/// Median and quartiles per epoch of one metric, per point set.
fn band_chart(
    r: &StudyReport,
    title: String,
    y_label: &str,
    metric: impl Fn(&SetMetrics) -> Vec<f64>,
) -> BandChart {
    BandChart {
        title,
        x_label: "epoch".into(),
        y_label: y_label.into(),
        series: (0..3)
            .map(|s| BandSeries {
                label: format!("{} points", r.point_sets[s]),
                color: SET_COLORS[s],
                points: r
                    .checkpoints
                    .iter()
                    .map(|cp| {
                        let v: Vec<f64> = metric(&cp.sets[s])
                            .into_iter()
                            .filter(|v| v.is_finite())
                            .collect();
                        let q = quartiles(&v);
                        (
                            cp.epoch as f64,
                            q.map_or(f64::NAN, |q| q.q1),
                            q.map_or(f64::NAN, |q| q.median),
                            q.map_or(f64::NAN, |q| q.q3),
                        )
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The title note of a chart of exact ball counts: `; 7 of 300 over budget, left out`,
/// or nothing.
fn over_budget_note(over: usize, of: usize) -> String {
    if over == 0 {
        String::new()
    } else {
        format!("; {over} of {of} over budget, left out")
    }
}

/// Writes the plots; returns their file stems (relative to the output directory).
pub fn write_plots(r: &StudyReport, out: &Path) -> Result<Vec<String>> {
    let mut stems = vec!["distance".to_string()];
    write_band_chart(
        &band_chart(
            r,
            "Distance to the region boundary (median, quartile band)".into(),
            "L2 distance",
            |m| m.distance.clone(),
        ),
        &out.join("distance"),
    )?;
    for (ri, radius) in r.config.radii.iter().enumerate() {
        let stem = format!("bound_r{radius}");
        write_band_chart(
            &band_chart(
                r,
                format!("Local bound on regions in B(x, {radius}) (median, quartile band)"),
                "log2 local bound (CROWN)",
                |m| m.bound_log2[ri].clone(),
            ),
            &out.join(&stem),
        )?;
        stems.push(stem);
        let stem = format!("lc_r{radius}");
        write_band_chart(
            &band_chart(
                r,
                format!("Local complexity (LC) in B(x, {radius}) (median, quartile band)"),
                "neurons changing sign on the frame",
                |m| m.lc[ri].iter().map(|&v| v as f64).collect(),
            ),
            &out.join(&stem),
        )?;
        stems.push(stem);
        let has_slices = r
            .checkpoints
            .iter()
            .all(|cp| cp.sets.iter().all(|m| m.slice_regions.get(ri).is_some()));
        if has_slices {
            let stem = format!("slice_r{radius}");
            write_band_chart(
                &band_chart(
                    r,
                    format!(
                        "Exact regions in a 2-D slice disc of radius {radius} (median, quartile band)"
                    ),
                    "regions",
                    |m| m.slice_regions[ri].iter().map(|&v| v as f64).collect(),
                ),
                &out.join(&stem),
            )?;
            stems.push(stem);
        }
        // Exact ball counts, where every checkpoint has them (a count over budget is
        // missing from the quartiles, and the title says how many are).
        let has_balls = r
            .checkpoints
            .iter()
            .all(|cp| cp.sets.iter().all(|m| m.ball_regions.get(ri).is_some()));
        if has_balls {
            let stem = format!("ball_r{radius}");
            let over: usize = r
                .checkpoints
                .iter()
                .flat_map(|cp| cp.sets.iter().map(|m| m.balls_over_budget(ri)))
                .sum();
            write_band_chart(
                &band_chart(
                    r,
                    format!(
                        "Exact regions meeting B(x, {radius}) (median, quartile band){}",
                        over_budget_note(over, r.checkpoints.len() * r.points * 3)
                    ),
                    "regions",
                    |m| {
                        m.ball_regions[ri]
                            .iter()
                            .map(|v| v.map_or(f64::NAN, |c| c as f64))
                            .collect()
                    },
                ),
                &out.join(&stem),
            )?;
            stems.push(stem);
        }
    }
    Ok(stems)
}

/// The three point sets' samples of one metric at the last checkpoint, per category.
fn last_checkpoint_chart(
    r: &StudyReport,
    title: String,
    y_label: &str,
    categories: Vec<String>,
    metric: impl Fn(&SetMetrics, usize) -> Vec<f64>,
) -> DistributionChart {
    let last = r.checkpoints.last().expect("epoch 0 at least");
    DistributionChart {
        title,
        x_label: if categories.len() > 1 {
            "ball radius".into()
        } else {
            String::new()
        },
        y_label: y_label.into(),
        series: (0..3)
            .map(|s| DistributionSeries {
                label: format!("{} points", r.point_sets[s]),
                color: SET_COLORS[s],
                values: (0..categories.len())
                    .map(|ci| metric(&last.sets[s], ci))
                    .collect(),
            })
            .collect(),
        categories,
    }
}

/// Writes the distribution plots of every metric at the last checkpoint; returns
/// `(stem, caption)` pairs.
pub fn write_distribution_plots(r: &StudyReport, out: &Path) -> Result<Vec<(String, String)>> {
    let last = r.checkpoints.last().expect("epoch 0 at least");
    let epoch = last.epoch;
    let radii: Vec<String> = r.config.radii.iter().map(|x| format!("r = {x}")).collect();
    let counts = |v: &[usize]| v.iter().map(|&c| c as f64).collect::<Vec<f64>>();
    let infinite: usize = last
        .sets
        .iter()
        .map(|m| m.distance.iter().filter(|d| !d.is_finite()).count())
        .sum();
    let mut charts = vec![(
        "dist_distance",
        format!(
            "distance to the region boundary{}",
            if infinite > 0 {
                format!(" ({infinite} infinite distances left out)")
            } else {
                String::new()
            }
        ),
        last_checkpoint_chart(
            r,
            format!("Distance to the region boundary at epoch {epoch}"),
            "L2 distance",
            vec![String::new()],
            |m, _| m.distance.clone(),
        ),
    )];
    charts.push((
        "dist_bound_log2",
        "local bound (log2, CROWN) at each radius".into(),
        last_checkpoint_chart(
            r,
            format!("Local bound on regions in B(x, r) at epoch {epoch}"),
            "log2 local bound (CROWN)",
            radii.clone(),
            |m, ri| m.bound_log2[ri].clone(),
        ),
    ));
    charts.push((
        "dist_unstable",
        "unstable neurons (CROWN) at each radius".into(),
        last_checkpoint_chart(
            r,
            format!("Neurons unstable on B(x, r) at epoch {epoch}"),
            "unstable neurons (CROWN)",
            radii.clone(),
            |m, ri| counts(&m.unstable[ri]),
        ),
    ));
    charts.push((
        "dist_lc",
        "LC at each radius".into(),
        last_checkpoint_chart(
            r,
            format!("Local complexity (LC) in B(x, r) at epoch {epoch}"),
            "neurons changing sign on the frame",
            radii.clone(),
            |m, ri| counts(&m.lc[ri]),
        ),
    ));
    if last.sets.iter().all(|m| !m.slice_regions.is_empty()) {
        charts.push((
            "dist_slice_regions",
            "exact regions in a 2-D slice disc at each radius".into(),
            last_checkpoint_chart(
                r,
                format!("Exact regions in a 2-D slice disc of radius r at epoch {epoch}"),
                "regions",
                radii.clone(),
                |m, ri| counts(&m.slice_regions[ri]),
            ),
        ));
    }
    if last.sets.iter().all(|m| !m.ball_regions.is_empty()) {
        let over: usize = (0..r.config.radii.len())
            .flat_map(|ri| last.sets.iter().map(move |m| m.balls_over_budget(ri)))
            .sum();
        let per_radius: Vec<String> = (0..r.config.radii.len())
            .map(|ri| {
                format!(
                    "{} at r = {}",
                    last.sets
                        .iter()
                        .map(|m| m.balls_over_budget(ri).to_string())
                        .collect::<Vec<_>>()
                        .join(" / "),
                    r.config.radii[ri]
                )
            })
            .collect();
        charts.push((
            "dist_ball_regions",
            if over == 0 {
                "exact regions meeting the ball at each radius".into()
            } else {
                format!(
                    "exact regions meeting the ball at each radius; points over budget (train / test / arbitrary), left out: {}",
                    per_radius.join(", ")
                )
            },
            last_checkpoint_chart(
                r,
                format!(
                    "Exact regions meeting B(x, r) at epoch {epoch}{}",
                    over_budget_note(over, r.config.radii.len() * r.points * 3)
                ),
                "regions",
                radii,
                |m, ri| {
                    m.ball_regions[ri]
                        .iter()
                        .map(|c| c.map_or(f64::NAN, |c| c as f64))
                        .collect()
                },
            ),
        ));
    }
    let mut stems = Vec::new();
    for (stem, caption, chart) in charts {
        write_distribution_chart(&chart, &out.join(stem))?;
        stems.push((stem.to_string(), caption));
    }
    Ok(stems)
}

/// For 2-D data: pictures of the study's input-square partitions, training points on top by
/// label. Returns their file stems, in the order of the partitions.
pub fn write_partitions(r: &StudyReport, square: &InputSquare, out: &Path) -> Result<Vec<String>> {
    let c = square.plane.center();
    let square_text = square.bounds_text();
    let mut stems = Vec::new();
    for p in &square.partitions {
        let epoch = p.epoch;
        let part = &p.partition;
        let stem = format!("partition_epoch_{epoch:03}");
        let picture = Picture {
            partition: part,
            boundary: &p.decision_boundary,
            decision: Default::default(),
            color_by: ColorBy::Region,
            title: format!(
                "{}  \u{b7}  epoch {epoch}  \u{b7}  {} activation regions  \u{b7}  {} linear pieces",
                r.dataset.name,
                thousands(part.region_count()),
                thousands(part.pieces)
            ),
            subtitle: format!(
                "exact partition of the input square {square_text} (the training data's box, padded {}%); {} training points",
                square.pad * 100.0,
                square.training_points.len()
            ),
            marks: Vec::new(),
            dots: square.training_points.clone(),
            dots_label: "training points (by label)".into(),
            origin: [c[0], c[1]],
            axis_names: ["x1".into(), "x2".into()],
            size: 720,
        };
        plot::write_png(&picture, &out.join(format!("{stem}.png")))?;
        plot::write_svg(&picture, &out.join(format!("{stem}.svg")))?;
        stems.push(stem);
    }
    Ok(stems)
}

/// The forest plot of a replicated study (`forest.png`, `forest.svg`): per seed and pooled,
/// the F1 rank-biserial effect and, per radius, F2's primary metric and local bound
/// against arbitrary points. Returns the PNG's file name, or `None` with no row to draw.
pub fn write_forest(
    rep: &relu_regions_study::replicate::Replication,
    out: &Path,
) -> Result<Option<String>> {
    use crate::plot::{ForestChart, ForestRow, write_forest_chart};
    let rows: Vec<ForestRow> = rep
        .effects
        .iter()
        .filter(|e| {
            e.metric == "distance_rank_biserial"
                || (e.finding == "f2"
                    && e.against == Some(relu_regions_study::track::PointSet::Arbitrary)
                    && (e.primary || e.metric == "bound_log2"))
        })
        .map(|e| ForestRow {
            label: match e.radius {
                None => "F1 distance".to_string(),
                Some(r) => format!("F2 r={r} {}", e.metric),
            },
            seeds: e.effects.iter().flatten().copied().collect(),
            mean: e.mean,
            ci95: e.ci95,
        })
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let chart = ForestChart {
        title: format!(
            "Effects over {} seeds (rank-biserial; > 0: finding's direction)",
            rep.seeds.len()
        ),
        x_label: "rank-biserial correlation".into(),
        rows,
    };
    write_forest_chart(&chart, &out.join("forest"))?;
    Ok(Some("forest.png".into()))
}
