//! `relu-regions eval MODEL --points FILE`.

use anyhow::{Context, Result};
use faer::{Mat, Par};
use serde::Serialize;

use crate::model::{ModelArgs, PointArgs};
use crate::output::{number_list, print_json};

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    points: PointArgs,
    /// Include every point's full activation pattern as a 0/1 string (neuron 0 first).
    #[arg(long)]
    full_pattern: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct EvalPoint {
    /// Index of the largest output.
    argmax: usize,
    /// Index of the smallest output (the advisory of ACAS Xu networks).
    argmin: usize,
    /// Number of active neurons (pre-activation > 0).
    active: usize,
    /// Active neurons per ReLU layer.
    active_per_layer: Vec<usize>,
    /// 64-bit FNV-1a digest of the pattern, in hex: equal digests for equal patterns.
    pattern_digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<String>,
}

#[derive(Serialize)]
struct EvalReport {
    model: String,
    relus: usize,
    /// The network's outputs, one list per point, in the order of the points.
    outputs: Vec<Vec<f64>>,
    points: Vec<EvalPoint>,
    /// Number of distinct activation patterns among the points.
    distinct_patterns: usize,
}

fn arg_extreme(values: &[f64], better: impl Fn(f64, f64) -> bool) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if better(v, values[best]) {
            best = i;
        }
    }
    best
}

pub fn run(args: &EvalArgs) -> Result<()> {
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let points = args.points.read(net.input_dim())?;
    let x = Mat::from_fn(points.len(), net.input_dim(), |i, j| points[i][j]);
    let par = if points.len() >= 64 {
        Par::rayon(0)
    } else {
        Par::Seq
    };
    let evaluation = net
        .evaluate_batch(x.as_ref(), par)
        .context("evaluating the network")?;
    let widths = net.relu_widths();
    let outputs: Vec<Vec<f64>> = (0..points.len())
        .map(|i| {
            (0..net.output_dim())
                .map(|j| evaluation.outputs[(i, j)])
                .collect()
        })
        .collect();
    let reports: Vec<EvalPoint> = evaluation
        .patterns
        .iter()
        .zip(&outputs)
        .map(|(p, y)| EvalPoint {
            argmax: arg_extreme(y, |a, b| a > b),
            argmin: arg_extreme(y, |a, b| a < b),
            active: p.count_active(),
            active_per_layer: p.count_active_per_layer(&widths),
            pattern_digest: format!("{:016x}", p.digest()),
            pattern: args.full_pattern.then(|| p.to_string()),
        })
        .collect();
    let distinct_patterns = evaluation
        .patterns
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    let report = EvalReport {
        model: args.model.model.display().to_string(),
        relus: net.relu_count(),
        outputs,
        points: reports,
        distinct_patterns,
    };
    if args.json {
        return print_json(&report);
    }
    println!(
        "{} points, {} distinct activation patterns ({} ReLUs)",
        report.outputs.len(),
        report.distinct_patterns,
        report.relus
    );
    for (i, (y, p)) in report.outputs.iter().zip(&report.points).enumerate() {
        println!(
            "point {i}: argmax {} argmin {}  active {}/{} per layer {:?}  pattern {}",
            p.argmax, p.argmin, p.active, report.relus, p.active_per_layer, p.pattern_digest
        );
        println!("  output [{}]", number_list(y));
        if let Some(bits) = &p.pattern {
            println!("  pattern {bits}");
        }
    }
    Ok(())
}
