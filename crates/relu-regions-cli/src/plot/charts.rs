//! The study's charts: medians with quartile bands against epoch ([`BandChart`]), and box
//! plots with the points on top ([`DistributionChart`]).

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
