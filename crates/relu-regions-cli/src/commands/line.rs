//! `relu-regions line MODEL --from A --to B`.

use anyhow::{Context, Result};
use relu_regions::slice::line::{SegmentOptions, segment_partition};
use serde::Serialize;

use crate::model::{ModelArgs, parse_point};
use crate::output::{NeuronJson, print_json};

#[derive(Debug, clap::Args)]
pub struct LineArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Start point A, comma separated (input units).
    #[arg(long, allow_hyphen_values = true)]
    from: String,
    /// End point B, comma separated (input units).
    #[arg(long, allow_hyphen_values = true)]
    to: String,
    /// Stop with an error beyond this many regions.
    #[arg(long, default_value_t = 10_000_000)]
    max_regions: usize,
    /// Leave the crossing points out of the JSON (input_dim numbers each).
    #[arg(long)]
    no_points: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Crossing {
    /// Parameter in (0, 1): the crossing is at A + t (B - A).
    t: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    point: Option<Vec<f64>>,
    /// Neurons whose state differs between the two sides (0-based layer and index).
    flipped: Vec<NeuronJson>,
}

#[derive(Serialize)]
struct LineReport {
    model: String,
    /// Euclidean length of the segment, in input units.
    length: f64,
    /// Activation regions crossed by the segment.
    regions: usize,
    /// Linear pieces of the function crossed (consecutive regions with equal affine maps merged).
    pieces: usize,
    /// Pieces of the function restricted to the segment (equal slopes along it merged).
    segment_pieces: usize,
    /// Pieces whose pattern a forward pass at their midpoint did not certify (expected 0):
    /// the count is then the interval [regions - unverified, regions] (docs/math.md §5.2).
    unverified: usize,
    /// Whether `regions` is exact (every piece certified).
    exact: bool,
    crossings: Vec<Crossing>,
}

pub fn run(args: &LineArgs) -> Result<()> {
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let a = parse_point("--from", &args.from, net.input_dim())?;
    let b = parse_point("--to", &args.to, net.input_dim())?;
    let part = segment_partition(
        net,
        &a,
        &b,
        SegmentOptions {
            max_pieces: args.max_regions,
        },
    )
    .context("walking the segment")?;
    let length = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (y - x).powi(2))
        .sum::<f64>()
        .sqrt();
    let report = LineReport {
        model: args.model.model.display().to_string(),
        length,
        regions: part.regions(),
        pieces: part.affine_pieces,
        segment_pieces: part.segment_pieces,
        unverified: part.unverified,
        exact: part.unverified == 0,
        crossings: part
            .crossings
            .iter()
            .map(|c| Crossing {
                t: c.t,
                point: (!args.no_points).then(|| c.point.clone()),
                flipped: c.flipped.iter().copied().map(NeuronJson::from).collect(),
            })
            .collect(),
    };
    if args.json {
        return print_json(&report);
    }
    println!("segment of length {:.6e} (L2, input units)", report.length);
    if report.exact {
        println!("activation regions crossed   {} (exact)", report.regions);
    } else {
        println!(
            "activation regions crossed   between {} and {}: {} pieces not certified (docs/math.md §5.2)",
            report.regions - report.unverified,
            report.regions,
            report.unverified
        );
    }
    println!("linear pieces of the network {}", report.pieces);
    println!("pieces along the segment     {}", report.segment_pieces);

    for c in report.crossings.iter().take(20) {
        let names: Vec<String> = c
            .flipped
            .iter()
            .map(|n| format!("{}:{}", n.layer, n.neuron))
            .collect();
        println!("  t = {:.9}  flips {}", c.t, names.join(" "));
    }
    if report.crossings.len() > 20 {
        println!(
            "  ... {} more crossings (see --json)",
            report.crossings.len() - 20
        );
    }
    Ok(())
}
