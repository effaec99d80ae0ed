//! The picture of a planar partition ([`Picture`]): a plotters chart whose Cartesian 2-D
//! coordinates are the plane's own, with the regions filled, their edges, the shape's
//! outline, the decision boundary, points and marks as series on it, the axes drawn by
//! the chart's mesh, a header above and a one-line legend below.
//!
//! Sizes are in layout units: the layout is 800 units square, and a picture of `size`
//! pixels drawn at `k` device pixels per pixel draws a unit as `size / 800 * k` device
//! pixels.

use anyhow::Result;
use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{RGBAColor, RGBColor};
use relu_regions::slice::plane::{Decision, PlanePartition, Point2, Shape};

mod axes;
mod legend;

use axes::{PlaneAxis, tick_label, ticks};

use super::{
    FONT_FAMILY, GREY, INK, REGION_PALETTE, class_color, class_point_color, drawing_error, viridis,
};

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

/// Width and height of the layout in layout units.
const LAYOUT_SIDE: f64 = 800.0;
/// The plot square's left edge, top edge and side, in layout units.
const PLOT_LEFT: f64 = 71.0;
const PLOT_TOP: f64 = 78.0;
const PLOT_SIDE: f64 = 658.0;
/// The length of the tick marks (outwards; their labels start twice as far out).
const TICK_LENGTH: f64 = 5.0;
/// The top of the legend's line.
const LEGEND_TOP: f64 = PLOT_TOP + PLOT_SIDE + 36.0;
/// The space after a legend key.
const KEY_GAP: f64 = 22.0;

/// The plot square's background.
const PLOT_BACKGROUND: RGBColor = RGBColor(248, 248, 246);
/// The frame, the axes and the tick marks.
const FRAME: RGBColor = RGBColor(150, 150, 150);

/// The picture's coordinates: the plane's.
type PlaneCoord = Cartesian2d<PlaneAxis, PlaneAxis>;
/// The chart the plot is drawn on.
type PlaneChart<'a, DB> = ChartContext<'a, DB, PlaneCoord>;

/// Layout units in device pixels.
#[derive(Debug, Clone, Copy)]
struct Units {
    /// Device pixels per layout unit.
    per_unit: f64,
}

impl Units {
    /// A length or position, rounded to device pixels.
    fn px(self, x: f64) -> i32 {
        (x * self.per_unit).round() as i32
    }

    /// A line width: rounded to device pixels, at least one.
    fn stroke(self, width: f64) -> u32 {
        (width * self.per_unit).round().max(1.0) as u32
    }

    /// The font at `size` layout units.
    fn font(self, size: f64) -> FontDesc<'static> {
        (FONT_FAMILY, size * self.per_unit).into_font()
    }

    /// Text at `size` in `color`, anchored at `pos`.
    fn text(self, size: f64, color: &RGBColor, pos: Pos) -> TextStyle<'static> {
        self.font(size).color(color).pos(pos)
    }

    /// An unfilled line style.
    fn line(self, color: RGBAColor, width: f64) -> ShapeStyle {
        ShapeStyle {
            color,
            filled: false,
            stroke_width: self.stroke(width),
        }
    }
}

/// Text anchored at its top left.
fn top_left() -> Pos {
    Pos::new(HPos::Left, VPos::Top)
}

/// `p` as a chart coordinate.
fn xy(p: Point2) -> (f64, f64) {
    (p[0], p[1])
}

/// The polygon's vertices as a closed path (the first vertex repeated at the end).
fn closed(vertices: &[Point2]) -> Vec<(f64, f64)> {
    vertices
        .iter()
        .chain(vertices.first())
        .map(|&p| xy(p))
        .collect()
}

/// Half the side of the plot square in the plane: the shape's extent and 4% room.
fn plot_radius(pic: &Picture<'_>) -> f64 {
    pic.partition.shape.extent() * 1.04
}

/// The drawing, at `k` device pixels per picture pixel.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pic: &Picture<'_>,
    k: f64,
) -> Result<()> {
    let u = Units {
        per_unit: f64::from(pic.size) / LAYOUT_SIDE * k,
    };
    root.fill(&WHITE).map_err(drawing_error)?;
    draw_header(root, pic, u)?;
    let mut chart = plane_chart(root, pic, u)?;
    let picture = whole_picture(root, &chart);
    let r = plot_radius(pic);
    picture
        .draw(&Rectangle::new(
            [(-r, r), (r, -r)],
            PLOT_BACKGROUND.filled(),
        ))
        .map_err(drawing_error)?;
    draw_fills(&mut chart, pic)?;
    draw_region_edges(&mut chart, pic, u)?;
    draw_shape_outline(&mut chart, pic, u)?;
    draw_decision_boundary(&mut chart, pic, u)?;
    draw_dots(chart.plotting_area(), pic, u)?;
    draw_marks(chart.plotting_area(), pic, u)?;
    draw_frame_and_axes(&picture, &mut chart, pic, u)?;
    legend::draw_legend(root, pic, u)
}

/// The title and, under it, the subtitle.
fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<()> {
    root.draw_text(
        &pic.title,
        &u.text(21.0, &INK, top_left()),
        (u.px(28.0), u.px(16.0)),
    )
    .map_err(drawing_error)?;
    root.draw_text(
        &pic.subtitle,
        &u.text(13.0, &GREY, top_left()),
        (u.px(28.0), u.px(47.0)),
    )
    .map_err(drawing_error)?;
    Ok(())
}

/// The chart over the plot square (`[-r, r]^2` in the plane, `r` the [`plot_radius`]),
/// with the tick labels' room on the left and below. The plotting area starts a pixel
/// inside the square's left and bottom sides, where the axes are drawn (see
/// [`PlaneAxis`]).
fn plane_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<PlaneChart<'a, DB>> {
    let (width, height) = root.dim_in_pixel();
    // The plot square's sides' pixel columns and rows.
    let (left, top) = (u.px(PLOT_LEFT), u.px(PLOT_TOP));
    let right = u.px(PLOT_LEFT + PLOT_SIDE);
    let bottom = u.px(PLOT_TOP + PLOT_SIDE);
    let r = plot_radius(pic);
    let chart = ChartBuilder::on(root)
        .margin_top(top)
        .margin_right(width as i32 - right - 1)
        .y_label_area_size(left + 1)
        .x_label_area_size(height as i32 - bottom)
        .build_cartesian_2d(
            PlaneAxis {
                lo: -r,
                hi: r,
                ticks: ticks(pic, 0),
            },
            PlaneAxis {
                lo: -r,
                hi: r,
                ticks: ticks(pic, 1),
            },
        )
        .map_err(drawing_error)?;
    Ok(chart)
}

/// The whole picture in the chart's coordinates, without the plotting area's clamping of
/// points into it.
fn whole_picture<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &PlaneChart<'_, DB>,
) -> DrawingArea<DB, PlaneCoord> {
    root.apply_coord_spec(chart.as_coord_spec().clone())
}

/// The regions filled by [`ColorBy`].
fn draw_fills<DB: DrawingBackend>(chart: &mut PlaneChart<'_, DB>, pic: &Picture<'_>) -> Result<()> {
    let regions = &pic.partition.regions;
    let polygon = |vertices: &[Point2], color: RGBColor| {
        Polygon::new(
            vertices.iter().map(|&p| xy(p)).collect::<Vec<_>>(),
            color.filled(),
        )
    };
    match pic.color_by {
        ColorBy::Region => {
            let colors = region_colors(pic.partition);
            chart.draw_series(regions.iter().zip(&colors).map(|(region, &c)| {
                let (r, g, b) = REGION_PALETTE[c];
                polygon(&region.vertices, RGBColor(r, g, b))
            }))
        }
        ColorBy::Class => chart.draw_series(
            regions
                .iter()
                .flat_map(|region| region.class_cells(pic.decision))
                .map(|(class, cell)| polygon(&cell, class_color(class))),
        ),
        ColorBy::Slope => {
            let scale = SlopeScale::new(pic.partition);
            chart.draw_series(regions.iter().map(|region| {
                let t = scale.unit(region.output.slope_norm());
                polygon(&region.vertices, viridis(t))
            }))
        }
    }
    .map_err(drawing_error)?;
    Ok(())
}

/// The regions' edges: hairlines, fainter when there are many, none beyond 50 000.
fn draw_region_edges<DB: DrawingBackend>(
    chart: &mut PlaneChart<'_, DB>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<()> {
    let regions = &pic.partition.regions;
    let n = regions.len();
    let alpha = if n < 500 {
        0.6
    } else if n < 5_000 {
        0.45
    } else if n < 50_000 {
        0.3
    } else {
        return Ok(());
    };
    let edge = u.line(RGBAColor(40, 40, 48, alpha), 0.45);
    chart
        .draw_series(
            regions
                .iter()
                .map(|region| PathElement::new(closed(&region.vertices), edge)),
        )
        .map_err(drawing_error)?;
    Ok(())
}

/// The shape's outline.
fn draw_shape_outline<DB: DrawingBackend>(
    chart: &mut PlaneChart<'_, DB>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<()> {
    let outline = closed(&pic.partition.shape.polygon());
    chart
        .draw_series(std::iter::once(PathElement::new(
            outline,
            u.line(INK.to_rgba(), 1.4),
        )))
        .map_err(drawing_error)?;
    Ok(())
}

/// The decision boundary's line: crimson over the pastel regions, near-black over the
/// class colours.
fn boundary_style(pic: &Picture<'_>, u: Units) -> ShapeStyle {
    let strong = if pic.color_by == ColorBy::Class {
        RGBColor(20, 20, 20)
    } else {
        RGBColor(200, 16, 46)
    };
    u.line(strong.to_rgba(), 2.6)
}

/// The decision boundary, over a white halo so it stands out over any fill.
fn draw_decision_boundary<DB: DrawingBackend>(
    chart: &mut PlaneChart<'_, DB>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<()> {
    let halo = u.line(RGBAColor(255, 255, 255, 0.85), 5.0);
    for style in [halo, boundary_style(pic, u)] {
        chart
            .draw_series(
                pic.boundary
                    .iter()
                    .map(|&[p, q]| PathElement::new(vec![xy(p), xy(q)], style)),
            )
            .map_err(drawing_error)?;
    }
    Ok(())
}

/// A data point of class `class` at `at`: its colour, ringed in ink; with `halo`, on a
/// white disc first so it stands out over any fill.
fn draw_class_dot<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    class: usize,
    u: Units,
    halo: bool,
) -> Result<()>
where
    CT::From: Clone,
{
    if halo {
        let disc = EmptyElement::at(at.clone()) + Circle::new((0, 0), u.px(4.2), WHITE.filled());
        area.draw(&disc).map_err(drawing_error)?;
    }
    let dot = EmptyElement::at(at)
        + Circle::new((0, 0), u.px(3.2), class_point_color(class).filled())
        + Circle::new((0, 0), u.px(3.2), INK.stroke_width(u.stroke(0.6)));
    area.draw(&dot).map_err(drawing_error)?;
    Ok(())
}

/// The centre at `at`: a ringed dot (in the plot and in the legend).
fn draw_centre_mark<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    u: Units,
) -> Result<()> {
    let mark = EmptyElement::at(at)
        + Circle::new((0, 0), u.px(5.5), WHITE.filled())
        + Circle::new((0, 0), u.px(5.5), INK.stroke_width(u.stroke(1.6)))
        + Circle::new((0, 0), u.px(1.8), INK.filled());
    area.draw(&mark).map_err(drawing_error)?;
    Ok(())
}

/// The dots, each over a white halo.
fn draw_dots<DB: DrawingBackend>(
    plane: &DrawingArea<DB, PlaneCoord>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<()> {
    for &(p, class) in &pic.dots {
        draw_class_dot(plane, xy(p), class, u, true)?;
    }
    Ok(())
}

/// The marks: the centre (the first) as a ringed dot, the other points as diamonds; each
/// with its label above on the right.
fn draw_marks<DB: DrawingBackend>(
    plane: &DrawingArea<DB, PlaneCoord>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<()> {
    for (i, (p, label)) in pic.marks.iter().enumerate() {
        let at = xy(*p);
        if i == 0 {
            draw_centre_mark(plane, at, u)?;
        } else {
            let d = u.px(5.5);
            let corners = vec![(0, -d), (d, 0), (0, d), (-d, 0)];
            let mut outline = corners.clone();
            outline.push(corners[0]);
            let diamond = EmptyElement::at(at)
                + Polygon::new(corners, WHITE.filled())
                + PathElement::new(outline, INK.stroke_width(u.stroke(1.6)));
            plane.draw(&diamond).map_err(drawing_error)?;
        }
        if !label.is_empty() {
            let style = u.text(13.0, &INK, Pos::new(HPos::Left, VPos::Bottom));
            let text =
                EmptyElement::at(at) + Text::new(label.clone(), (u.px(7.0), -u.px(5.0)), style);
            plane.draw(&text).map_err(drawing_error)?;
        }
    }
    Ok(())
}

/// The frame around the plot square, the axes on its left and bottom sides with their
/// ticks (the chart's mesh, without grid lines; labels in the input coordinates around
/// [`Picture::origin`]) and the axes' names at their ends.
fn draw_frame_and_axes<DB: DrawingBackend>(
    picture: &DrawingArea<DB, PlaneCoord>,
    chart: &mut PlaneChart<'_, DB>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<()> {
    let r = plot_radius(pic);
    let frame = u.line(FRAME.to_rgba(), 0.8);
    // On the whole picture: the frame's left side is on the y axis, just outside the
    // plotting area.
    picture
        .draw(&Rectangle::new([(-r, r), (r, -r)], frame))
        .map_err(drawing_error)?;
    let x_label = |v: &f64| tick_label(v + pic.origin[0]);
    let y_label = |v: &f64| tick_label(v + pic.origin[1]);
    chart
        .configure_mesh()
        .disable_mesh()
        .axis_style(frame)
        .set_all_tick_mark_size(u.px(TICK_LENGTH))
        .label_style(u.font(11.5).color(&GREY))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .draw()
        .map_err(drawing_error)?;
    let x_name = EmptyElement::at((r, -r))
        + Text::new(
            pic.axis_names[0].clone(),
            (u.px(10.0), u.px(6.0)),
            u.text(13.5, &INK, top_left()),
        );
    let y_name = EmptyElement::at((-r, r))
        + Text::new(
            pic.axis_names[1].clone(),
            (-u.px(8.0), -u.px(8.0)),
            u.text(13.5, &INK, Pos::new(HPos::Right, VPos::Bottom)),
        );
    picture.draw(&x_name).map_err(drawing_error)?;
    picture.draw(&y_name).map_err(drawing_error)?;
    Ok(())
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
