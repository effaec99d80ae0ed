//! The picture's axes: the plane's coordinates mapped to pixels, the ticks' positions
//! and their labels.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::Picture;

/// One axis of the plot square: `[lo, hi]` in the plane mapped linearly onto pixels, each
/// value to the nearest; its ticks (the chart's key points) at given positions.
///
/// Plotters draws an axis line one pixel outside the plotting area; `lo` is mapped onto
/// that line (and `hi` onto the far end of the plotting area), so the axes are the frame's
/// left and bottom sides. (Drawn on the plotting area, points are clamped into it; the
/// square's background and frame are drawn on `whole_picture`.)
#[derive(Clone)]
pub(super) struct PlaneAxis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
}

impl Ranged for PlaneAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (start, end): (i32, i32)) -> i32 {
        let axis = start - (end - start).signum();
        let t = (value - self.lo) / (self.hi - self.lo);
        axis + (f64::from(end - axis) * t).round() as i32
    }

    /// The ticks for labelled (bold) key points, none for light grid lines.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// The tick positions on `axis` in the plane. In the slice's own coordinates (origin
/// `[0, 0]`): `-e, -e/2, 0, e/2, e` for the shape's extent `e`. Around another origin:
/// round numbers of the input coordinate, less the origin.
pub(super) fn ticks(pic: &Picture<'_>, axis: usize) -> Vec<f64> {
    let ext = pic.partition.shape.extent();
    if pic.origin == [0.0, 0.0] {
        [-1.0, -0.5, 0.0, 0.5, 1.0]
            .iter()
            .map(|t| t * ext)
            .collect()
    } else {
        nice_ticks(pic.origin[axis] - ext, pic.origin[axis] + ext, 5)
            .into_iter()
            .map(|t| t - pic.origin[axis])
            .collect()
    }
}

/// A tick label: short, no trailing zeros.
pub(super) fn tick_label(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e4).contains(&a) {
        return format!("{x:.1e}");
    }
    let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{x:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    s.replace('-', "\u{2212}")
}

/// About `n` round tick values in `[lo, hi]`: the multiples of a step `1, 2` or `5` times
/// a power of ten.
fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return vec![lo];
    }
    let raw = span / n.max(1) as f64;
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * p);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Multiples of the step, with 0 exactly 0 (no -0.0 or rounding residue).
    (first..=last).map(|k| k as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(tick_label(0.05), "0.05");
        assert_eq!(tick_label(-2.5), "\u{2212}2.5");
        assert_eq!(tick_label(1e-5), "1.0e-5");
        assert_eq!(nice_ticks(-1.99, 2.02, 5), vec![-1.0, 0.0, 1.0, 2.0]);
        let t = nice_ticks(0.0, 1.0, 5);
        assert_eq!(t.len(), 6);
        assert!(
            t.iter()
                .enumerate()
                .all(|(k, v)| (v - 0.2 * k as f64).abs() < 1e-12)
        );
    }
}
