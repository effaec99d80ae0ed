//! The study's charts: medians with quartile bands against epoch ([`BandChart`]), box
//! plots with the points on top ([`DistributionChart`]), and forest plots of effects over
//! seeds ([`ForestChart`]).

use std::path::Path;

use anyhow::Result;
use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use relu_regions_study::stats::quantile;

use super::render::write_chart;
use super::{FONT_FAMILY, INK, drawing_error};

/// One series of a band chart: a median line with a quartile band.
pub struct BandSeries {
    pub label: String,
    pub color: RGBColor,
    /// Per x: (x, q1, median, q3).
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// A line chart of medians with quartile bands (e.g. a metric against epoch per point set).
pub struct BandChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<BandSeries>,
}

/// One group of samples in a distribution chart (e.g. one point set), drawn in every
/// category.
pub struct DistributionSeries {
    pub label: String,
    pub color: RGBColor,
    /// Per category: the sample (values that are not finite are left out).
    pub values: Vec<Vec<f64>>,
}

/// Box plots with the points on top (jittered strips): per category (e.g. radius), one
/// box per series side by side. A box spans the quartiles with a line at the median; the
/// whiskers reach the most extreme values within 1.5 interquartile ranges of the box
/// (Tukey's rule).
pub struct DistributionChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<DistributionSeries>,
}

/// One row of a forest plot: the effect of every seed and their pooled mean with its
/// interval.
pub struct ForestRow {
    pub label: String,
    /// Per seed (seeds without an effect left out).
    pub seeds: Vec<f64>,
    pub mean: f64,
    pub ci95: [f64; 2],
}

/// A forest plot: one row per effect, each seed's effect as a dot, the pooled mean as a
/// diamond spanning its 95% interval, and a line at zero (no effect).
pub struct ForestChart {
    pub title: String,
    pub x_label: String,
    pub rows: Vec<ForestRow>,
}

/// Writes a forest plot as PNG and SVG (`stem.png`, `stem.svg`).
pub fn write_forest_chart(chart: &ForestChart, stem: &Path) -> Result<()> {
    write_chart(&Chart::Forest(chart), stem)
}

/// Writes a band chart as PNG and SVG (`stem.png`, `stem.svg`; the stem may contain dots).
pub fn write_band_chart(chart: &BandChart, stem: &Path) -> Result<()> {
    write_chart(&Chart::Band(chart), stem)
}

/// Writes a distribution chart as PNG and SVG (`stem.png`, `stem.svg`).
pub fn write_distribution_chart(chart: &DistributionChart, stem: &Path) -> Result<()> {
    write_chart(&Chart::Distribution(chart), stem)
}

/// A chart to draw.
pub(super) enum Chart<'a> {
    Band(&'a BandChart),
    Distribution(&'a DistributionChart),
    Forest(&'a ForestChart),
}

impl Chart<'_> {
    /// Draws the chart over the whole of `root`.
    pub(super) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        match self {
            Chart::Band(c) => draw_band_chart(root, c),
            Chart::Distribution(c) => draw_distribution_chart(root, c),
            Chart::Forest(c) => draw_forest_chart(root, c),
        }
    }
}

fn draw_band_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BandChart,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(drawing_error)?;
    let all: Vec<&(f64, f64, f64, f64)> = chart.series.iter().flat_map(|s| &s.points).collect();
    let finite = |v: f64| v.is_finite();
    let x_max = all.iter().map(|p| p.0).fold(1.0, f64::max);
    let y_lo = all
        .iter()
        .map(|p| p.1)
        .filter(|v| finite(*v))
        .fold(f64::INFINITY, f64::min);
    let y_hi = all
        .iter()
        .map(|p| p.3)
        .filter(|v| finite(*v))
        .fold(f64::NEG_INFINITY, f64::max);
    let (y_lo, y_hi) = if y_lo.is_finite() && y_hi > y_lo {
        (y_lo.min(0.0), y_hi * 1.05)
    } else {
        (0.0, 1.0)
    };
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, (FONT_FAMILY, 18.0))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, y_lo..y_hi)
        .map_err(drawing_error)?;
    c.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FONT_FAMILY, 12.0))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(drawing_error)?;
    for s in &chart.series {
        let pts: Vec<&(f64, f64, f64, f64)> = s
            .points
            .iter()
            .filter(|p| finite(p.1) && finite(p.2) && finite(p.3))
            .collect();
        let mut band: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.3)).collect();
        band.extend(pts.iter().rev().map(|p| (p.0, p.1)));
        c.draw_series(std::iter::once(Polygon::new(
            band,
            s.color.mix(0.18).filled(),
        )))
        .map_err(drawing_error)?;
        let color = s.color;
        c.draw_series(LineSeries::new(
            pts.iter().map(|p| (p.0, p.2)),
            color.stroke_width(2),
        ))
        .map_err(drawing_error)?
        .label(s.label.as_str())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT_FAMILY, 13.0))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(drawing_error)?;
    Ok(())
}

/// The y range of a distribution chart: the finite values' range (widened to `±1` around a
/// single value, `[0, 1]` without any), 5% below and 30% above for the legend.
fn distribution_y_range(chart: &DistributionChart) -> (f64, f64) {
    let finite: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        if hi > lo {
            (lo, hi)
        } else {
            (lo - 1.0, hi + 1.0)
        }
    } else {
        (0.0, 1.0)
    };
    let span = hi - lo;
    // Room above the data for the legend.
    (lo - 0.05 * span, hi + 0.3 * span)
}

fn draw_distribution_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &DistributionChart,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(drawing_error)?;
    let (y_lo, y_hi) = distribution_y_range(chart);
    let n_cat = chart.categories.len().max(1);
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, (FONT_FAMILY, 17.0))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..n_cat as f64 - 0.5, y_lo..y_hi)
        .map_err(drawing_error)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FONT_FAMILY, 12.0))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(drawing_error)?;
    let n_ser = chart.series.len().max(1);
    let slot = 0.8 / n_ser as f64;
    for (si, s) in chart.series.iter().enumerate() {
        let color = s.color;
        let mut elements: Vec<DynElement<'static, DB, (f64, f64)>> = Vec::new();
        for (ci, values) in s.values.iter().enumerate() {
            let x = ci as f64 + (si as f64 - (n_ser as f64 - 1.0) / 2.0) * slot;
            push_box_and_strip(&mut elements, values, x, 0.3 * slot, color);
        }
        c.draw_series(elements)
            .map_err(drawing_error)?
            .label(s.label.as_str())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.mix(0.5).filled())
            });
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT_FAMILY, 13.0))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(drawing_error)?;
    // Category names under the axis.
    let style = (FONT_FAMILY, 13.0)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (ci, name) in chart.categories.iter().enumerate() {
        let (x, y) = c.backend_coord(&(ci as f64, y_lo));
        root.draw_text(name, &style, (x, y + 6))
            .map_err(drawing_error)?;
    }
    Ok(())
}

fn draw_forest_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ForestChart,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(drawing_error)?;
    let finite = |v: &f64| v.is_finite();
    let extreme = chart
        .rows
        .iter()
        .flat_map(|r| {
            r.seeds
                .iter()
                .chain(&r.ci95)
                .chain(std::iter::once(&r.mean))
        })
        .filter(|v| finite(v))
        .fold(1.0_f64, |m, v| m.max(v.abs()));
    let n = chart.rows.len().max(1) as f64;
    let label_area = 12 * chart.rows.iter().map(|r| r.label.len()).max().unwrap_or(8) as u32;
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, (FONT_FAMILY, 17.0))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_area.clamp(60, 360))
        .build_cartesian_2d(-extreme * 1.05..extreme * 1.05, -0.5..n - 0.5)
        .map_err(drawing_error)?;
    let labels: Vec<String> = chart.rows.iter().map(|r| r.label.clone()).collect();
    c.configure_mesh()
        .disable_y_mesh()
        .y_labels(chart.rows.len().max(1))
        .y_label_formatter(&|y| {
            let i = (n - 1.0 - y).round();
            if (y - y.round()).abs() < 1e-9 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc(chart.x_label.as_str())
        .label_style((FONT_FAMILY, 12.0))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(drawing_error)?;
    c.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, -0.5), (0.0, n - 0.5)],
        RGBColor(60, 60, 60).stroke_width(2),
    )))
    .map_err(drawing_error)?;
    let dot = RGBColor(70, 110, 170);
    let pooled = RGBColor(190, 60, 40);
    for (i, r) in chart.rows.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        let mut elements: Vec<DynElement<'static, DB, (f64, f64)>> = Vec::new();
        for (k, &v) in r.seeds.iter().filter(|v| finite(v)).enumerate() {
            let j = ((k as f64 * 0.618_033_988_75).fract() - 0.5) * 0.3;
            elements
                .push(Circle::new((v, y + 0.15 + j * 0.3), 3, dot.mix(0.75).filled()).into_dyn());
        }
        if r.mean.is_finite() && r.ci95.iter().all(finite) {
            let [lo, hi] = r.ci95;
            elements.push(
                Polygon::new(
                    vec![
                        (lo, y - 0.15),
                        (r.mean, y - 0.32),
                        (hi, y - 0.15),
                        (r.mean, y + 0.02),
                    ],
                    pooled.mix(0.8).filled(),
                )
                .into_dyn(),
            );
        } else if r.mean.is_finite() {
            elements.push(Circle::new((r.mean, y - 0.15), 4, pooled.filled()).into_dyn());
        }
        c.draw_series(elements).map_err(drawing_error)?;
    }
    Ok(())
}

/// The elements of one sample's box plot at `x` (half width `half`) with its points on
/// top; nothing for a sample without finite values.
fn push_box_and_strip<DB: DrawingBackend>(
    elements: &mut Vec<DynElement<'static, DB, (f64, f64)>>,
    values: &[f64],
    x: f64,
    half: f64,
    color: RGBColor,
) {
    let mut v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    // `quantile` interpolates linearly between order statistics (numpy's default).
    let (Some(q1), Some(med), Some(q3)) =
        (quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75))
    else {
        return;
    };
    let iqr = q3 - q1;
    let w_lo = v
        .iter()
        .copied()
        .find(|&t| t >= q1 - 1.5 * iqr)
        .unwrap_or(q1);
    let w_hi = v
        .iter()
        .rev()
        .copied()
        .find(|&t| t <= q3 + 1.5 * iqr)
        .unwrap_or(q3);
    let line = color.stroke_width(2);
    elements.push(
        Rectangle::new([(x - half, q1), (x + half, q3)], color.mix(0.22).filled()).into_dyn(),
    );
    elements.push(Rectangle::new([(x - half, q1), (x + half, q3)], line).into_dyn());
    elements.push(
        PathElement::new(
            vec![(x - half, med), (x + half, med)],
            color.stroke_width(3),
        )
        .into_dyn(),
    );
    for (a, b) in [(q1, w_lo), (q3, w_hi)] {
        elements.push(PathElement::new(vec![(x, a), (x, b)], line).into_dyn());
        elements.push(
            PathElement::new(vec![(x - 0.5 * half, b), (x + 0.5 * half, b)], line).into_dyn(),
        );
    }
    // The points, jittered across the slot by a low-discrepancy sequence.
    for (i, &t) in values.iter().filter(|t| t.is_finite()).enumerate() {
        let j = ((i as f64 * 0.618_033_988_75).fract() - 0.5) * 1.5 * half;
        elements.push(Circle::new((x + j, t), 2, color.mix(0.55).filled()).into_dyn());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boxes' quartiles are numpy's linear interpolation (`numpy.quantile` default).
    #[test]
    fn box_quartiles_interpolate_linearly() {
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.75), Some(3.25));
        assert_eq!(quantile(&[7.0], 0.25), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn distribution_y_range_leaves_room_for_the_legend() {
        let chart = |values: Vec<f64>| DistributionChart {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            categories: vec!["c".into()],
            series: vec![DistributionSeries {
                label: String::new(),
                color: RGBColor(0, 0, 0),
                values: vec![values],
            }],
        };
        assert_eq!(
            distribution_y_range(&chart(vec![0.0, 10.0, f64::NAN])),
            (-0.5, 13.0)
        );
        assert_eq!(distribution_y_range(&chart(vec![2.0])), (0.9, 3.6));
        assert_eq!(distribution_y_range(&chart(vec![])), (-0.05, 1.3));
    }
}
