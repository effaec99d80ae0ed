//! `relu-regions distance MODEL --points FILE [--norm l2|linf]`.

use anyhow::{Context, Result};
use faer::Mat;
use relu_regions::chebyshev::{Inradius, inradius};
use relu_regions::distance::boundary_distances_batch;
use relu_regions::{BoundaryDistance, Norm};
use serde::Serialize;

use crate::model::{ModelArgs, PointArgs};
use crate::output::{NeuronJson, NormArg, Progress, print_json, quantiles};

#[derive(Debug, clap::Args)]
pub struct DistanceArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    points: PointArgs,
    /// Norm of the distance: l2 (Euclidean) or linf (max-coordinate).
    #[arg(long, value_enum, default_value_t = NormArg::L2)]
    norm: NormArg,
    /// Leave the nearest boundary point out of the JSON (it has input_dim numbers per point).
    #[arg(long)]
    no_nearest_point: bool,
    /// Also compute the inradius of each point's region: the largest ball inside the
    /// region, anywhere (a Chebyshev-centre linear program; the radius reported is the
    /// exact distance from the computed centre to the boundary).
    #[arg(long)]
    inradius: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// No progress on stderr (by default a bar on a terminal, otherwise a line every 5 s).
    #[arg(long)]
    quiet: bool,
}

#[derive(Serialize)]
struct InradiusReport {
    /// Radius of the largest ball found inside the region; null when unbounded or failed.
    radius: Option<f64>,
    unbounded: bool,
    /// The linear program's optimum (equal to `radius` within solver accuracy).
    lp_optimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    center: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
}

fn inradius_report(r: Inradius, with_center: bool) -> InradiusReport {
    match r {
        Inradius::Ball {
            center,
            radius,
            lp_optimum,
        } => InradiusReport {
            radius: Some(radius),
            unbounded: false,
            lp_optimum: Some(lp_optimum),
            center: with_center.then_some(center),
            failure: None,
        },
        Inradius::Unbounded => InradiusReport {
            radius: None,
            unbounded: true,
            lp_optimum: None,
            center: None,
            failure: None,
        },
        Inradius::Failed { status } => InradiusReport {
            radius: None,
            unbounded: false,
            lp_optimum: None,
            center: None,
            failure: Some(status),
        },
    }
}

#[derive(Serialize)]
struct DistancePoint {
    /// r*(x) in input units; null when the region is the whole input space.
    distance: Option<f64>,
    unbounded: bool,
    /// The neuron whose hyperplane is nearest (0-based layer and index).
    nearest: Option<NeuronJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nearest_point: Option<Vec<f64>>,
    /// Neurons with z(x) = 0 and a nonzero gradient (x on their hyperplanes).
    vanishing: Vec<NeuronJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inradius: Option<InradiusReport>,
}

#[derive(Serialize)]
struct Summary {
    min: Option<f64>,
    q1: Option<f64>,
    median: Option<f64>,
    q3: Option<f64>,
    max: Option<f64>,
    on_boundary: usize,
    unbounded: usize,
}

#[derive(Serialize)]
struct DistanceReport {
    model: String,
    norm: &'static str,
    points: Vec<DistancePoint>,
    summary: Summary,
}

fn point_report(d: &BoundaryDistance, with_point: bool) -> DistancePoint {
    DistancePoint {
        distance: d.distance.is_finite().then_some(d.distance),
        unbounded: !d.distance.is_finite(),
        nearest: d.nearest.map(NeuronJson::from),
        nearest_point: if with_point {
            d.nearest_point.clone()
        } else {
            None
        },
        vanishing: d.vanishing.iter().copied().map(NeuronJson::from).collect(),
        inradius: None,
    }
}

pub fn run(args: &DistanceArgs) -> Result<()> {
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let points = args.points.read(net.input_dim())?;
    let norm: Norm = args.norm.into();
    let bar = Progress::bar(points.len() as u64, "distances", args.quiet);
    let mut results = Vec::with_capacity(points.len());
    for chunk in points.chunks(256) {
        let x = Mat::from_fn(chunk.len(), net.input_dim(), |i, j| chunk[i][j]);
        results.extend(
            boundary_distances_batch(net, x.as_ref(), norm).context("computing distances")?,
        );
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let inradii: Vec<Option<InradiusReport>> = if args.inradius {
        let bar = Progress::bar(results.len() as u64, "inradius LPs", args.quiet);
        let out = results
            .iter()
            .map(|r| {
                let ir = inradius(net, &r.pattern, norm).context("inradius")?;
                bar.inc(1);
                Ok(Some(inradius_report(ir, !args.no_nearest_point)))
            })
            .collect::<Result<Vec<_>>>()?;
        bar.finish_and_clear();
        out
    } else {
        results.iter().map(|_| None).collect()
    };
    let finite: Vec<f64> = results
        .iter()
        .map(|r| r.distance)
        .filter(|d| d.is_finite())
        .collect();
    let q = quantiles(&finite);
    let report = DistanceReport {
        model: args.model.model.display().to_string(),
        norm: norm.name(),
        points: results
            .iter()
            .zip(inradii)
            .map(|(r, ir)| DistancePoint {
                inradius: ir,
                ..point_report(r, !args.no_nearest_point)
            })
            .collect(),
        summary: Summary {
            min: q.map(|q| q[0]),
            q1: q.map(|q| q[1]),
            median: q.map(|q| q[2]),
            q3: q.map(|q| q[3]),
            max: q.map(|q| q[4]),
            on_boundary: results.iter().filter(|r| !r.vanishing.is_empty()).count(),
            unbounded: results.len() - finite.len(),
        },
    };
    if args.json {
        return print_json(&report);
    }
    println!(
        "distance to the region boundary ({} norm, input units), {} points",
        report.norm,
        results.len()
    );
    for (i, (r, p)) in results.iter().zip(&report.points).enumerate() {
        match r.nearest {
            Some(n) if r.distance.is_finite() => println!(
                "point {i}: {:.6e}  nearest neuron: layer {} index {}{}",
                r.distance,
                n.layer,
                n.index,
                if r.vanishing.is_empty() {
                    String::new()
                } else {
                    format!("  (on the boundary: {} neurons vanish)", r.vanishing.len())
                }
            ),
            _ => println!("point {i}: unbounded (no neuron changes on this region)"),
        }
        if let Some(ir) = &p.inradius {
            match (ir.radius, ir.unbounded, &ir.failure) {
                (Some(radius), _, _) => println!("  region inradius {radius:.6e}"),
                (None, true, _) => println!("  region inradius unbounded"),
                (_, _, Some(f)) => println!("  inradius failed: {f}"),
                _ => {}
            }
        }
    }
    if let Some(q) = q {
        println!(
            "summary: min {:.4e}  q1 {:.4e}  median {:.4e}  q3 {:.4e}  max {:.4e}",
            q[0], q[1], q[2], q[3], q[4]
        );
    }
    Ok(())
}
