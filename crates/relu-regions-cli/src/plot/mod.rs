//! Pictures of 2-D slices, and the study's charts: PNG and SVG with plotters, the font
//! embedded.
//!
//! A [`Picture`] is a partition of a planar shape into activation regions (a slice, or the
//! input square of a network with 2-D inputs), optionally with class-coloured dots on top
//! (`picture`); [`BandChart`] draws medians with quartile bands against epoch;
//! [`DistributionChart`] draws box plots with the points on top (`charts`). All of them
//! are plotters charts on a Cartesian 2-D coordinate system, and one drawing routine
//! serves both backends (`render`). The PNG of a picture is drawn at three times its size
//! and box-filtered down (plotters' bitmap backend draws without anti-aliasing), so edges
//! and text come out smooth; the SVG is drawn at its size.
//!
//! This module holds what they share: the font family, the colours and the error of a
//! failed drawing.

mod charts;
mod picture;
mod render;

pub use charts::{
    BandChart, BandSeries, DistributionChart, DistributionSeries, ForestChart, ForestRow,
    write_band_chart, write_distribution_chart, write_forest_chart,
};
pub use picture::{ColorBy, Picture, shape_name};
pub use render::{write_png, write_svg};

use plotters::drawing::DrawingAreaErrorKind;
use plotters::style::RGBColor;

/// The family every text is set in: DejaVu Sans, embedded and registered under this name
/// before drawing (see `render`).
const FONT_FAMILY: &str = "sans-serif";

/// The colour of text and strong lines.
const INK: RGBColor = RGBColor(34, 34, 34);

/// The colour of secondary text (subtitle, tick labels).
const GREY: RGBColor = RGBColor(105, 105, 105);

/// The error of a drawing operation, for `?`.
fn drawing_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow::anyhow!("drawing: {e:?}")
}

/// ColorBrewer Set3 without its grey and its strong yellow: light, distinct, pleasant.
const REGION_PALETTE: [(u8, u8, u8); 10] = [
    (141, 211, 199),
    (255, 237, 160),
    (190, 186, 218),
    (251, 128, 114),
    (128, 177, 211),
    (253, 180, 98),
    (179, 222, 105),
    (252, 205, 229),
    (188, 128, 189),
    (204, 235, 197),
];

/// Matplotlib's tab10: the class colours (lightened for fills).
const CLASS_PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// Mixes `c` with white: `t = 0` is `c`, `t = 1` white.
fn lighten((r, g, b): (u8, u8, u8), t: f64) -> RGBColor {
    let m = |x: u8| (f64::from(x) + (255.0 - f64::from(x)) * t).round() as u8;
    RGBColor(m(r), m(g), m(b))
}

/// The colour of class `c` for points: tab10, cyclically.
fn class_point_color(c: usize) -> RGBColor {
    let (r, g, b) = CLASS_PALETTE[c % CLASS_PALETTE.len()];
    RGBColor(r, g, b)
}

/// The fill of class `c`: its tab10 colour lightened (more from the second cycle on).
fn class_color(c: usize) -> RGBColor {
    let (r, g, b) = CLASS_PALETTE[c % CLASS_PALETTE.len()];
    if c < CLASS_PALETTE.len() {
        lighten((r, g, b), 0.35)
    } else {
        lighten((r, g, b), 0.6)
    }
}

/// Viridis, by linear interpolation between 9 samples of the map; `t` in `[0, 1]`.
fn viridis(t: f64) -> RGBColor {
    const V: [(f64, f64, f64); 9] = [
        (68.0, 1.0, 84.0),
        (71.0, 44.0, 122.0),
        (59.0, 81.0, 139.0),
        (44.0, 113.0, 142.0),
        (33.0, 144.0, 141.0),
        (39.0, 173.0, 129.0),
        (92.0, 200.0, 99.0),
        (170.0, 220.0, 50.0),
        (253.0, 231.0, 37.0),
    ];
    let x = t.clamp(0.0, 1.0) * (V.len() - 1) as f64;
    let i = (x.floor() as usize).min(V.len() - 2);
    let f = x - i as f64;
    let (a, b) = (V[i], V[i + 1]);
    let m = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// `12345` as `12 345`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated_by_thin_spaces() {
        assert_eq!(thousands(1234567), "1\u{2009}234\u{2009}567");
        assert_eq!(thousands(123), "123");
    }
}
