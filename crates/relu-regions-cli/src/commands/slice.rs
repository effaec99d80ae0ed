//! `relu-regions slice MODEL --center C (--dirs U;V | --random-dirs SEED | --through A;B)
//! --radius R`: the exact activation regions of a 2-D slice, with pictures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use relu_regions::slice::plane::{
    Decision, Plane, PlaneOptions, PlanePartition, Point2, Shape, plane_partition,
};
use serde::Serialize;

use crate::model::{CenterArgs, ModelArgs, parse_point};
use crate::output::{Progress, print_json, quantiles};
use crate::plot::{self, ColorBy, Picture, thousands};

/// The shape of the slice in the (a, b) coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShapeArg {
    /// The disc of radius R, as a regular polygon (--disc-vertices).
    Disc,
    /// The square [-R, R]^2.
    Square,
}

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("centre").required(true).args(["center", "center_file"])
))]
#[command(group(
    clap::ArgGroup::new("directions")
        .required(true)
        .args(["dirs", "random_dirs", "through", "through_rows"])
))]
pub struct SliceArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    centre: CenterArgs,
    /// The directions U and V, each comma separated, joined by ';' (used as given unless
    /// --normalize).
    #[arg(long, allow_hyphen_values = true)]
    dirs: Option<String>,
    /// A random orthonormal pair of directions from this seed.
    #[arg(long)]
    random_dirs: Option<u64>,
    /// The plane through the centre and the points A and B (each comma separated, joined by
    /// ';'): U = A - C, V = B - C, so A is at (a, b) = (1, 0) and B at (0, 1) unless
    /// --normalize.
    #[arg(long, allow_hyphen_values = true)]
    through: Option<String>,
    /// Like --through, with A and B the rows J and K of --center-file ("J;K").
    #[arg(long, requires = "center_file")]
    through_rows: Option<String>,
    /// Radius R of the disc, or half width of the square, in (a, b) units; positive.
    #[arg(long, allow_negative_numbers = true)]
    radius: f64,
    /// The shape of the slice.
    #[arg(long, value_enum, default_value_t = ShapeArg::Disc)]
    shape: ShapeArg,
    /// Vertices of the regular polygon standing for the disc.
    #[arg(long, default_value_t = relu_regions::slice::plane::DEFAULT_DISC_VERTICES)]
    disc_vertices: usize,
    /// Use the polygon circumscribed about the disc (default: inscribed). The two counts
    /// bracket the disc's.
    #[arg(long)]
    circumscribed: bool,
    /// Orthonormalise the directions (Gram-Schmidt), so that (a, b) are Euclidean
    /// coordinates of the plane.
    #[arg(long)]
    normalize: bool,
    /// The predicted class is the smallest output (ACAS Xu advisories), not the largest.
    #[arg(long)]
    argmin: bool,
    /// Write a PNG picture.
    #[arg(long)]
    png: Option<PathBuf>,
    /// Write an SVG picture.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Side of the pictures in pixels.
    #[arg(long, default_value_t = 800)]
    size: u32,
    /// How the picture fills the regions.
    #[arg(long, value_enum, default_value_t = ColorBy::Region)]
    color_by: ColorBy,
    /// Write the regions as JSON lines: pattern (0/1 string), vertices, area, interior
    /// point, class and affine map (output = slope (a, b) + offset).
    #[arg(long)]
    regions_out: Option<PathBuf>,
    /// Stop with an error beyond this many regions.
    #[arg(long, default_value_t = 10_000_000)]
    max_regions: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// No progress on stderr (by default a bar on a terminal, otherwise a line every 5 s).
    #[arg(long)]
    quiet: bool,
}

#[derive(Serialize)]
struct SliceReport {
    model: String,
    input_dim: usize,
    /// "disc" or "square".
    shape: &'static str,
    radius: f64,
    /// Vertices of the disc's polygon (null for the square).
    disc_vertices: Option<usize>,
    circumscribed: bool,
    centre: String,
    directions: String,
    normalized: bool,
    /// Lengths of the directions and the cosine of their angle.
    u_norm: f64,
    v_norm: f64,
    cos_uv: f64,
    /// Activation regions meeting the shape.
    regions: usize,
    /// Distinct affine maps of the network restricted to the slice (relative tolerance 1e-9).
    pieces: usize,
    /// Exact area of the shape's polygon, in (a, b) units.
    shape_area: f64,
    /// Sum of the regions' areas.
    area_total: f64,
    /// Regions whose pattern a forward pass at their centroid did not certify (expected 0).
    unverified: usize,
    /// Unverified regions plus merged slivers: the count is the interval
    /// [regions - unverified, regions + merged_slivers] (docs/math.md §5.2).
    uncertain: usize,
    /// Whether `regions` is exact (nothing uncertain).
    exact: bool,
    /// Largest relative difference between a region's affine map and a forward pass.
    max_output_error: f64,
    /// Cuts not made because one side had numerically zero area.
    merged_slivers: usize,
    /// Region areas: minimum, quartiles, maximum.
    region_area: Option<[f64; 5]>,
    /// "argmax" or "argmin".
    decision: &'static str,
    decision_boundary_length: f64,
    /// Segments [[a, b], [a, b]] where the predicted class changes.
    decision_boundary_segments: Vec<[Point2; 2]>,
    /// Area of the slice predicted as each class.
    class_areas: Vec<f64>,
    /// The predicted class at the centre.
    centre_class: usize,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    png: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    svg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regions_out: Option<String>,
}

#[derive(Serialize)]
struct OutputMap<'a> {
    slope: &'a [[f64; 2]],
    offset: &'a [f64],
}

#[derive(Serialize)]
struct RegionLine<'a> {
    index: usize,
    pattern: String,
    vertices: &'a [Point2],
    area: f64,
    interior: Point2,
    class: usize,
    verified: Option<bool>,
    output: OutputMap<'a>,
}

fn parse_pair(what: &str, text: &str, dim: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let parts: Vec<&str> = text.split(';').collect();
    if parts.len() != 2 {
        bail!("{what} takes two points or vectors separated by ';', got {text:?}");
    }
    Ok((
        parse_point(&format!("{what} (first)"), parts[0], dim)?,
        parse_point(&format!("{what} (second)"), parts[1], dim)?,
    ))
}

/// The slice's plane as the arguments give it.
struct ChosenPlane {
    plane: Plane,
    /// How the centre was given.
    centre: String,
    /// How the directions were given.
    directions: String,
    /// Extra points to mark (for --through and --through-rows), in (a, b) coordinates.
    marks: Vec<(Point2, String)>,
}

/// The plane, a description of the centre and directions, and extra labelled points.
fn plane_of(args: &SliceArgs, dim: usize) -> Result<ChosenPlane> {
    let Some((center, centre_name)) = args.centre.center(dim)? else {
        bail!("give --center or --center-file with --row");
    };
    let mut marks = Vec::new();
    let (plane, directions) = if let Some(text) = &args.dirs {
        let (u, v) = parse_pair("--dirs", text, dim)?;
        (Plane::new(center, u, v)?, "directions as given".to_string())
    } else if let Some(seed) = args.random_dirs {
        (
            Plane::random_orthonormal(center, seed)?,
            format!("random orthonormal directions (seed {seed})"),
        )
    } else if let Some(text) = &args.through {
        let (a, b) = parse_pair("--through", text, dim)?;
        let plane = Plane::through(center, &a, &b)?;
        marks.push((a, "A".to_string()));
        marks.push((b, "B".to_string()));
        (plane, "plane through the centre, A and B".to_string())
    } else if let Some(text) = &args.through_rows {
        let (rows, path) = args
            .centre
            .file_rows()?
            .context("--through-rows needs --center-file")?;
        let parts: Vec<&str> = text.split(';').collect();
        if parts.len() != 2 {
            bail!("--through-rows takes two row numbers separated by ';', got {text:?}");
        }
        let mut points = Vec::new();
        for part in parts {
            let k: usize = part
                .trim()
                .parse()
                .with_context(|| format!("--through-rows: {part:?} is not a row number"))?;
            points.push((
                args.centre.file_row(&rows, path, k, dim)?,
                format!("row {k}"),
            ));
        }
        let plane = Plane::through(center, &points[0].0, &points[1].0)?;
        let desc = format!(
            "plane through the centre, {} and {}",
            points[0].1, points[1].1
        );
        marks.extend(points);
        (plane, desc)
    } else {
        bail!("give --dirs, --random-dirs, --through or --through-rows");
    };
    let plane = if args.normalize {
        plane.orthonormalized()?
    } else {
        plane
    };
    let marks = marks
        .into_iter()
        .map(|(x, label)| (plane.coordinates(&x), label))
        .collect();
    Ok(ChosenPlane {
        plane,
        centre: centre_name,
        directions,
        marks,
    })
}

fn write_regions(part: &PlanePartition, decision: Decision, path: &Path) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for (index, r) in part.regions.iter().enumerate() {
        let line = RegionLine {
            index,
            pattern: r.pattern.to_string(),
            vertices: &r.vertices,
            area: r.area,
            interior: r.interior,
            class: r.class(decision),
            verified: r.verified,
            output: OutputMap {
                slope: &r.output.slope,
                offset: &r.output.offset,
            },
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

pub fn run(args: &SliceArgs) -> Result<()> {
    crate::model::positive_radius(args.radius)?;
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let dim = net.input_dim();
    let ChosenPlane {
        plane,
        centre: centre_name,
        directions,
        mut marks,
    } = plane_of(args, dim)?;
    let shape = match args.shape {
        ShapeArg::Disc => Shape::Disc {
            radius: args.radius,
            vertices: args.disc_vertices,
            circumscribed: args.circumscribed,
        },
        ShapeArg::Square => Shape::square(args.radius),
    };
    let decision = if args.argmin {
        Decision::ArgMin
    } else {
        Decision::ArgMax
    };
    let start = Instant::now();
    let bar = Progress::bar(1000, "slice (per mille of the area done)", args.quiet);
    let done = AtomicU64::new(0);
    let progress = |fraction: f64| {
        let total =
            done.fetch_add((fraction * 1e9) as u64, Ordering::Relaxed) + (fraction * 1e9) as u64;
        bar.set_position((total / 1_000_000).min(1000));
    };
    let part = plane_partition(
        net,
        &plane,
        shape,
        PlaneOptions {
            max_regions: args.max_regions,
            verify: true,
            progress: Some(&progress),
        },
    )
    .context("partitioning the slice")?;
    bar.finish_and_clear();
    let boundary = part.decision_boundary(decision);
    let seconds = start.elapsed().as_secs_f64();
    let length = boundary
        .iter()
        .map(|[p, q]| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())
        .fold(0.0, |s, l| s + l);
    let model_name = args
        .model
        .model
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    marks.insert(0, ([0.0, 0.0], String::new()));
    let picture = Picture {
        partition: &part,
        boundary: &boundary,
        decision,
        color_by: args.color_by,
        title: format!(
            "{model_name}  \u{b7}  {} regions  \u{b7}  {} linear pieces",
            thousands(part.region_count()),
            thousands(part.pieces)
        ),
        subtitle: format!(
            "{} around {centre_name}; {directions}{}",
            plot::shape_name(&shape),
            if args.normalize {
                ", orthonormalised"
            } else {
                ""
            }
        ),
        marks,
        dots: Vec::new(),
        dots_label: String::new(),
        origin: [0.0, 0.0],
        axis_names: ["a".into(), "b".into()],
        size: args.size,
    };
    if let Some(path) = &args.png {
        plot::write_png(&picture, path)?;
    }
    if let Some(path) = &args.svg {
        plot::write_svg(&picture, path)?;
    }
    if let Some(path) = &args.regions_out {
        write_regions(&part, decision, path)?;
    }
    let dot = |p: &[f64], q: &[f64]| -> f64 { p.iter().zip(q).map(|(a, b)| a * b).sum() };
    let (u_norm, v_norm) = (
        dot(plane.u(), plane.u()).sqrt(),
        dot(plane.v(), plane.v()).sqrt(),
    );
    let areas: Vec<f64> = part.regions.iter().map(|r| r.area).collect();
    // The predicted class at the centre, by a forward pass (a single output: its sign).
    let centre_class = {
        let y = net.forward(plane.center())?;
        let better = |a: f64, b: f64| if args.argmin { a < b } else { a > b };
        if y.len() == 1 {
            usize::from(better(y[0], 0.0))
        } else {
            (0..y.len()).fold(0, |best, i| if better(y[i], y[best]) { i } else { best })
        }
    };
    let report = SliceReport {
        model: args.model.model.display().to_string(),
        input_dim: dim,
        shape: match args.shape {
            ShapeArg::Disc => "disc",
            ShapeArg::Square => "square",
        },
        radius: args.radius,
        disc_vertices: (args.shape == ShapeArg::Disc).then_some(args.disc_vertices),
        circumscribed: args.circumscribed && args.shape == ShapeArg::Disc,
        centre: centre_name,
        directions,
        normalized: args.normalize,
        u_norm,
        v_norm,
        cos_uv: dot(plane.u(), plane.v()) / (u_norm * v_norm),
        regions: part.region_count(),
        pieces: part.pieces,
        shape_area: part.shape_area,
        area_total: part.area_total,
        unverified: part.unverified,
        uncertain: part.uncertain(),
        exact: part.uncertain() == 0,
        max_output_error: part.max_output_error,
        merged_slivers: part.merged_slivers,
        region_area: quantiles(&areas),
        decision: if args.argmin { "argmin" } else { "argmax" },
        decision_boundary_length: length,
        decision_boundary_segments: boundary.clone(),
        class_areas: part.class_areas(decision),
        centre_class,
        seconds,
        png: args.png.as_ref().map(|p| p.display().to_string()),
        svg: args.svg.as_ref().map(|p| p.display().to_string()),
        regions_out: args.regions_out.as_ref().map(|p| p.display().to_string()),
    };
    if args.json {
        return print_json(&report);
    }
    println!(
        "slice of {model_name}: {}, area {:.6e} in (a, b) units",
        plot::shape_name(&shape),
        report.shape_area
    );
    println!("  centre {}; {}", report.centre, report.directions);
    println!(
        "  |u| = {:.6e}, |v| = {:.6e}, cos(u, v) = {:.3e}{}",
        u_norm,
        v_norm,
        report.cos_uv,
        if args.normalize {
            " (orthonormalised)"
        } else {
            ""
        }
    );
    if report.exact {
        println!("activation regions        {} (exact)", report.regions);
    } else {
        println!(
            "activation regions        between {} and {}: {} uncertain (docs/math.md §5.2)",
            report.regions - report.unverified,
            report.regions + report.merged_slivers,
            report.uncertain
        );
    }
    println!(
        "linear pieces             {}   (distinct affine maps of the network on the slice)",
        report.pieces
    );
    println!(
        "sum of region areas       {:.9e}   (shape {:.9e}, relative difference {:.1e})",
        report.area_total,
        report.shape_area,
        (report.area_total - report.shape_area).abs() / report.shape_area
    );
    println!(
        "certified                 {} of {} regions (forward pass at each centroid)",
        report.regions - report.unverified,
        report.regions
    );
    if let Some([lo, _, med, _, hi]) = report.region_area {
        println!("region areas              min {lo:.3e}, median {med:.3e}, max {hi:.3e}");
    }
    println!(
        "decision boundary ({})  {} segments, length {:.6e}; class at the centre {}",
        report.decision,
        report.decision_boundary_segments.len(),
        report.decision_boundary_length,
        report.centre_class
    );
    let shares: Vec<String> = report
        .class_areas
        .iter()
        .enumerate()
        .filter(|(_, a)| **a > 0.0)
        .map(|(c, a)| format!("{c}: {:.1}%", 100.0 * a / report.shape_area))
        .collect();
    println!("predicted class by area   {}", shares.join("  "));
    if report.merged_slivers > 0 {
        println!(
            "note: {} cuts were not made because one side had numerically zero area (uncertain)",
            report.merged_slivers
        );
    }
    if report.unverified > 0 {
        println!(
            "note: {} regions were not certified by a forward pass at their centroid (uncertain)",
            report.unverified
        );
    }
    for (what, path) in [
        ("picture", &args.png),
        ("picture", &args.svg),
        ("regions", &args.regions_out),
    ] {
        if let Some(p) = path {
            println!("wrote {what} {}", p.display());
        }
    }
    println!("time {:.3} s", report.seconds);
    Ok(())
}
