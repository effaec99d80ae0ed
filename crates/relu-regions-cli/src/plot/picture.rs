//! The picture of a planar partition ([`Picture`]): the regions filled, their edges, the
//! shape's outline, the decision boundary, points and marks, axes, a header above and a
//! one-line legend below.

use anyhow::{Result, anyhow};
use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{RGBAColor, RGBColor};
use relu_regions::slice::plane::{Decision, PlanePartition, Point2, Shape};

use super::{CLASS_PALETTE, REGION_PALETTE, class_color, viridis};

/// How regions are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorBy {
    /// Distinct colours, neighbouring regions different.
    Region,
    /// The predicted class (each region split exactly where the class changes).
    Class,
    /// The norm of the local slope of the output in the slice (viridis).
    Slope,
}

/// Everything a picture shows.
pub struct Picture<'a> {
    pub partition: &'a PlanePartition,
    pub boundary: &'a [[Point2; 2]],
    pub decision: Decision,
    pub color_by: ColorBy,
    /// First line: model and counts.
    pub title: String,
    /// Second line: the slice.
    pub subtitle: String,
    /// Labelled points: the centre first (none: no centre and no centre key).
    pub marks: Vec<(Point2, String)>,
    /// Points drawn on top as dots in their class's colour (e.g. training points by label).
    pub dots: Vec<(Point2, usize)>,
    /// The legend's words for the dots.
    pub dots_label: String,
    /// Added to the tick labels: with directions `e_1, e_2` and the centre as `origin`, the
    /// ticks read input coordinates; `[0, 0]` for the slice's own `(a, b)`.
    pub origin: Point2,
    /// The axes' names (`a`, `b` for a slice).
    pub axis_names: [String; 2],
    /// Side of the square picture in pixels.
    pub size: u32,
}

/// A one-line description of the shape for titles.
pub fn shape_name(shape: &Shape) -> String {
    match *shape {
        Shape::Square { half_width } => format!("square [-{half_width}, {half_width}]^2"),
        Shape::Disc {
            radius,
            vertices,
            circumscribed,
        } => format!(
            "disc r = {radius} ({vertices}-gon, {})",
            if circumscribed {
                "circumscribed"
            } else {
                "inscribed"
            }
        ),
    }
}

/// Palette indices for the regions: each region prefers the colour its pattern hashes
/// to and takes the first one (cyclically from there) that no already-coloured neighbour
/// has; neighbours therefore differ unless a region has more neighbours than colours.
fn region_colors(partition: &PlanePartition) -> Vec<usize> {
    let n = REGION_PALETTE.len();
    let adj = partition.neighbours();
    let mut color = vec![usize::MAX; partition.regions.len()];
    for (i, region) in partition.regions.iter().enumerate() {
        let want = (region.pattern.digest() % n as u64) as usize;
        let used: Vec<usize> = adj[i]
            .iter()
            .map(|&j| color[j])
            .filter(|&c| c != usize::MAX)
            .collect();
        color[i] = (0..n)
            .map(|s| (want + s) % n)
            .find(|c| !used.contains(c))
            .unwrap_or(want);
    }
    color
}

/// A tick label: short, no trailing zeros.
fn tick_label(x: f64) -> String {
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

/// The drawing, at `k` device pixels per picture pixel.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pic: &Picture<'_>,
    k: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing: {e:?}");
    let u = f64::from(pic.size) / 800.0 * k; // device pixels per layout unit
    let px = |x: f64| (x * u).round() as i32;
    let font = |size: f64, color: &RGBColor| {
        ("sans-serif", size * u)
            .into_font()
            .color(color)
            .pos(Pos::new(HPos::Left, VPos::Top))
    };
    root.fill(&WHITE).map_err(err)?;

    let ink = RGBColor(34, 34, 34);
    // The centre: a ringed dot (in the picture and in the legend).
    let centre_mark = |(x, y): (i32, i32)| -> Result<()> {
        root.draw(&Circle::new((x, y), px(5.5), WHITE.filled()))
            .map_err(err)?;
        root.draw(&Circle::new(
            (x, y),
            px(5.5),
            ink.stroke_width(px(1.6) as u32),
        ))
        .map_err(err)?;
        root.draw(&Circle::new((x, y), px(1.8), ink.filled()))
            .map_err(err)?;
        Ok(())
    };
    // A data point of class `class`: its colour, ringed in ink.
    let class_dot = |(x, y): (i32, i32), class: usize| -> Result<()> {
        let (r8, g8, b8) = CLASS_PALETTE[class % CLASS_PALETTE.len()];
        root.draw(&Circle::new((x, y), px(3.2), RGBColor(r8, g8, b8).filled()))
            .map_err(err)?;
        root.draw(&Circle::new(
            (x, y),
            px(3.2),
            ink.stroke_width((0.6 * u).round().max(1.0) as u32),
        ))
        .map_err(err)?;
        Ok(())
    };
    let grey = RGBColor(105, 105, 105);
    // Header.
    root.draw_text(&pic.title, &font(21.0, &ink), (px(28.0), px(16.0)))
        .map_err(err)?;
    root.draw_text(&pic.subtitle, &font(13.0, &grey), (px(28.0), px(47.0)))
        .map_err(err)?;

    // The plot square.
    let (left, top, side) = (71.0, 78.0, 658.0);
    let shape = pic.partition.shape;
    let r = shape.extent() * 1.04;
    let to_px = |p: Point2| -> (i32, i32) {
        (
            px(left + (p[0] + r) / (2.0 * r) * side),
            px(top + (r - p[1]) / (2.0 * r) * side),
        )
    };
    root.draw(&Rectangle::new(
        [(px(left), px(top)), (px(left + side), px(top + side))],
        RGBColor(248, 248, 246).filled(),
    ))
    .map_err(err)?;

    let regions = &pic.partition.regions;
    // Fills.
    match pic.color_by {
        ColorBy::Region => {
            let colors = region_colors(pic.partition);
            for (region, &c) in regions.iter().zip(&colors) {
                let pts: Vec<(i32, i32)> = region.vertices.iter().map(|&p| to_px(p)).collect();
                let (r8, g8, b8) = REGION_PALETTE[c];
                root.draw(&Polygon::new(pts, RGBColor(r8, g8, b8).filled()))
                    .map_err(err)?;
            }
        }
        ColorBy::Class => {
            for region in regions {
                for (class, cell) in region.class_cells(pic.decision) {
                    let pts: Vec<(i32, i32)> = cell.iter().map(|&p| to_px(p)).collect();
                    root.draw(&Polygon::new(pts, class_color(class).filled()))
                        .map_err(err)?;
                }
            }
        }
        ColorBy::Slope => {
            let scale = SlopeScale::new(pic.partition);
            for region in regions {
                let t = scale.unit(region.output.slope_norm());
                let pts: Vec<(i32, i32)> = region.vertices.iter().map(|&p| to_px(p)).collect();
                root.draw(&Polygon::new(pts, viridis(t).filled()))
                    .map_err(err)?;
            }
        }
    }
    // Region edges: hairlines, fainter when there are many.
    let n = regions.len();
    let alpha = if n < 500 {
        0.6
    } else if n < 5_000 {
        0.45
    } else if n < 50_000 {
        0.3
    } else {
        0.0
    };
    if alpha > 0.0 {
        let edge = ShapeStyle {
            color: RGBAColor(40, 40, 48, alpha),
            filled: false,
            stroke_width: (0.45 * u).round().max(1.0) as u32,
        };
        for region in regions {
            let mut pts: Vec<(i32, i32)> = region.vertices.iter().map(|&p| to_px(p)).collect();
            pts.push(pts[0]);
            root.draw(&PathElement::new(pts, edge)).map_err(err)?;
        }
    }
    // The shape's outline.
    let mut outline: Vec<(i32, i32)> = shape.polygon().iter().map(|&p| to_px(p)).collect();
    outline.push(outline[0]);
    root.draw(&PathElement::new(
        outline,
        ShapeStyle {
            color: ink.to_rgba(),
            filled: false,
            stroke_width: (1.4 * u).round().max(1.0) as u32,
        },
    ))
    .map_err(err)?;
    // The decision boundary.
    // Crimson over the pastel regions, near-black over the class colours.
    let strong = if pic.color_by == ColorBy::Class {
        RGBColor(20, 20, 20)
    } else {
        RGBColor(200, 16, 46)
    };
    let boundary_style = ShapeStyle {
        color: strong.to_rgba(),
        filled: false,
        stroke_width: (2.6 * u).round().max(1.0) as u32,
    };
    // A white halo first, so the line stands out over any fill.
    let halo = ShapeStyle {
        color: RGBAColor(255, 255, 255, 0.85),
        filled: false,
        stroke_width: (5.0 * u).round().max(1.0) as u32,
    };
    for style in [halo, boundary_style] {
        for [p, q] in pic.boundary {
            root.draw(&PathElement::new(vec![to_px(*p), to_px(*q)], style))
                .map_err(err)?;
        }
    }
    // Dots: class colours, ringed in white then ink so they stand out over any fill.
    for &(p, class) in &pic.dots {
        let (x, y) = to_px(p);
        root.draw(&Circle::new((x, y), px(4.2), WHITE.filled()))
            .map_err(err)?;
        class_dot((x, y), class)?;
    }
    // Marks: the centre as a ringed dot, the other points as labelled diamonds.
    for (i, (p, label)) in pic.marks.iter().enumerate() {
        let (x, y) = to_px(*p);
        if i == 0 {
            centre_mark((x, y))?;
        } else {
            let d = px(5.5);
            let diamond = vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)];
            root.draw(&Polygon::new(diamond.clone(), WHITE.filled()))
                .map_err(err)?;
            let mut closed = diamond;
            closed.push(closed[0]);
            root.draw(&PathElement::new(closed, ink.stroke_width(px(1.6) as u32)))
                .map_err(err)?;
        }
        if !label.is_empty() {
            let style = ("sans-serif", 13.0 * u)
                .into_font()
                .color(&ink)
                .pos(Pos::new(HPos::Left, VPos::Bottom));
            root.draw_text(label, &style, (x + px(7.0), y - px(5.0)))
                .map_err(err)?;
        }
    }
    // The frame and ticks.
    root.draw(&Rectangle::new(
        [(px(left), px(top)), (px(left + side), px(top + side))],
        ShapeStyle {
            color: RGBColor(150, 150, 150).to_rgba(),
            filled: false,
            stroke_width: (0.8 * u).round().max(1.0) as u32,
        },
    ))
    .map_err(err)?;
    let ext = shape.extent();
    let tick_font = ("sans-serif", 11.5 * u).into_font().color(&grey);
    let tick = ShapeStyle {
        color: RGBColor(150, 150, 150).to_rgba(),
        filled: false,
        stroke_width: (0.8 * u).round().max(1.0) as u32,
    };
    let bottom = px(top + side);
    // In the slice's own coordinates: -r, -r/2, 0, r/2, r. Around another origin: round
    // numbers of the input coordinates.
    let ticks = |axis: usize| -> Vec<f64> {
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
    };
    for v in ticks(0) {
        let (x, _) = to_px([v, 0.0]);
        root.draw(&PathElement::new(
            vec![(x, bottom), (x, bottom + px(5.0))],
            tick,
        ))
        .map_err(err)?;
        root.draw_text(
            &tick_label(v + pic.origin[0]),
            &tick_font.pos(Pos::new(HPos::Center, VPos::Top)),
            (x, bottom + px(8.0)),
        )
        .map_err(err)?;
    }
    for v in ticks(1) {
        let (_, y) = to_px([0.0, v]);
        root.draw(&PathElement::new(
            vec![(px(left), y), (px(left) - px(5.0), y)],
            tick,
        ))
        .map_err(err)?;
        root.draw_text(
            &tick_label(v + pic.origin[1]),
            &tick_font.pos(Pos::new(HPos::Right, VPos::Center)),
            (px(left) - px(8.0), y),
        )
        .map_err(err)?;
    }
    let axis_font = ("sans-serif", 13.5 * u).into_font().color(&ink);
    root.draw_text(
        &pic.axis_names[0],
        &axis_font.pos(Pos::new(HPos::Left, VPos::Top)),
        (px(left + side + 10.0), px(top + side + 6.0)),
    )
    .map_err(err)?;
    root.draw_text(
        &pic.axis_names[1],
        &axis_font.pos(Pos::new(HPos::Right, VPos::Bottom)),
        (px(left - 8.0), px(top - 8.0)),
    )
    .map_err(err)?;

    // Legend.
    let y = top + side + 36.0;
    let mut x = left;
    let legend_font = font(12.5, &ink);
    let swatch = |x: f64, c: RGBColor| {
        root.draw(&Rectangle::new(
            [(px(x), px(y)), (px(x + 13.0), px(y + 13.0))],
            c.filled(),
        ))
        .and_then(|_| {
            root.draw(&Rectangle::new(
                [(px(x), px(y)), (px(x + 13.0), px(y + 13.0))],
                RGBColor(90, 90, 90).stroke_width((0.6 * u).round().max(1.0) as u32),
            ))
        })
    };
    let text_width = |s: &str, size: f64| -> f64 {
        root.estimate_text_size(s, &TextStyle::from(("sans-serif", size * u).into_font()))
            .map(|(w, _)| f64::from(w) / u)
            .unwrap_or(7.0 * s.len() as f64)
    };
    match pic.color_by {
        ColorBy::Region => {
            for (i, &c) in REGION_PALETTE.iter().take(4).enumerate() {
                swatch(x + 9.0 * i as f64, RGBColor(c.0, c.1, c.2)).map_err(err)?;
            }
            x += 27.0 + 13.0 + 6.0;
            let s = "activation regions";
            root.draw_text(s, &legend_font, (px(x), px(y)))
                .map_err(err)?;
            x += text_width(s, 12.5) + 22.0;
        }
        ColorBy::Class => {
            let classes = class_count(pic.partition);
            let label = if pic.decision == Decision::ArgMin {
                "class (argmin)"
            } else {
                "class"
            };
            root.draw_text(label, &legend_font, (px(x), px(y)))
                .map_err(err)?;
            x += text_width(label, 12.5) + 8.0;
            for c in 0..classes.min(12) {
                swatch(x, class_color(c)).map_err(err)?;
                let s = c.to_string();
                root.draw_text(&s, &legend_font, (px(x + 16.0), px(y)))
                    .map_err(err)?;
                x += 16.0 + text_width(&s, 12.5) + 9.0;
            }
            x += 10.0;
        }
        ColorBy::Slope => {
            let scale = SlopeScale::new(pic.partition);
            let (lo, hi) = (scale.lo, scale.hi);
            let s = if scale.log {
                "slope |df/d(a,b)| (log scale)"
            } else {
                "slope |df/d(a,b)|"
            };
            root.draw_text(s, &legend_font, (px(x), px(y)))
                .map_err(err)?;
            x += text_width(s, 12.5) + 8.0;
            let lo_s = tick_label(lo);
            root.draw_text(&lo_s, &font(11.5, &grey), (px(x), px(y + 1.0)))
                .map_err(err)?;
            x += text_width(&lo_s, 11.5) + 5.0;
            let w = 120.0;
            let steps = (w * u) as i32;
            for i in 0..steps {
                let c = viridis(f64::from(i) / f64::from(steps - 1));
                root.draw(&Rectangle::new(
                    [(px(x) + i, px(y)), (px(x) + i + 1, px(y + 13.0))],
                    c.filled(),
                ))
                .map_err(err)?;
            }
            x += w + 5.0;
            let hi_s = tick_label(hi);
            root.draw_text(&hi_s, &font(11.5, &grey), (px(x), px(y + 1.0)))
                .map_err(err)?;
            x += text_width(&hi_s, 11.5) + 22.0;
        }
    }
    // Decision boundary and centre keys.
    let ly = px(y + 6.5);
    root.draw(&PathElement::new(
        vec![(px(x), ly), (px(x + 22.0), ly)],
        boundary_style,
    ))
    .map_err(err)?;
    x += 28.0;
    let s = "decision boundary";
    root.draw_text(s, &legend_font, (px(x), px(y)))
        .map_err(err)?;
    x += text_width(s, 12.5) + 22.0;
    if !pic.marks.is_empty() {
        centre_mark((px(x + 5.5), ly))?;
        x += 17.0;
        root.draw_text("centre", &legend_font, (px(x), px(y)))
            .map_err(err)?;
        x += text_width("centre", 12.5) + 22.0;
    }
    if !pic.dots.is_empty() {
        let classes = pic.dots.iter().map(|d| d.1).max().map_or(0, |m| m + 1);
        for c in 0..classes.min(CLASS_PALETTE.len()) {
            class_dot((px(x + 4.0 + 10.0 * c as f64), ly), c)?;
        }
        x += 10.0 * classes.min(CLASS_PALETTE.len()) as f64 + 6.0;
        root.draw_text(&pic.dots_label, &legend_font, (px(x), px(y)))
            .map_err(err)?;
    }
    Ok(())
}

/// The colour scale of slope norms: linear from the smallest to the largest norm, or
/// logarithmic (from the smallest positive norm) when they span more than a factor 20.
struct SlopeScale {
    lo: f64,
    hi: f64,
    log: bool,
}

impl SlopeScale {
    fn new(partition: &PlanePartition) -> Self {
        let norms: Vec<f64> = partition
            .regions
            .iter()
            .map(|r| r.output.slope_norm())
            .collect();
        let hi = norms.iter().copied().fold(0.0_f64, f64::max);
        let lo = norms.iter().copied().fold(f64::INFINITY, f64::min);
        let lo_pos = norms
            .iter()
            .copied()
            .filter(|&v| v > 0.0)
            .fold(f64::INFINITY, f64::min);
        if lo_pos.is_finite() && hi > 20.0 * lo_pos {
            Self {
                lo: lo_pos,
                hi,
                log: true,
            }
        } else {
            Self {
                lo: if lo.is_finite() { lo } else { 0.0 },
                hi,
                log: false,
            }
        }
    }

    /// `v` mapped to `[0, 1]`.
    fn unit(&self, v: f64) -> f64 {
        if self.log {
            if v <= 0.0 {
                0.0
            } else {
                (v / self.lo).ln() / (self.hi / self.lo).ln()
            }
        } else {
            (v - self.lo) / (self.hi - self.lo).max(f64::MIN_POSITIVE)
        }
    }
}

/// The number of classes the decision distinguishes (2 for a single output).
fn class_count(partition: &PlanePartition) -> usize {
    partition
        .regions
        .first()
        .map_or(0, |r| r.output.offset.len().max(2))
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
