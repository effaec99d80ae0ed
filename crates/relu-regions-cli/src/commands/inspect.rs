//! `relu-regions inspect MODEL`.

use anyhow::Result;
use serde::Serialize;

use crate::model::ModelArgs;
use crate::output::{arrow_list, print_json, shape_string};

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct InspectReport {
    model: String,
    format: &'static str,
    input_name: Option<String>,
    input_shape: Vec<Option<usize>>,
    input_dim: usize,
    output_dim: usize,
    /// Output widths of every affine layer, hidden layers first, the output layer last.
    layer_widths: Vec<usize>,
    /// Widths of the layers a ReLU follows.
    relu_widths: Vec<usize>,
    relus: usize,
    /// The activation of each layer a ReLU follows: `relu`, `leaky_relu:ALPHA`, or
    /// `prelu:MIN..MAX` (per-neuron slopes).
    activations: Vec<String>,
    params: usize,
    output_relu: bool,
    folded: Vec<String>,
    /// What the loader assumed because the file does not say it.
    assumptions: Vec<String>,
}

pub fn run(args: &InspectArgs) -> Result<()> {
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let report = InspectReport {
        model: args.model.model.display().to_string(),
        format: loaded.format.name(),
        input_name: loaded.input_name.clone(),
        input_shape: loaded.input_shape.clone(),
        input_dim: net.input_dim(),
        output_dim: net.output_dim(),
        layer_widths: net.layer_widths(),
        relu_widths: net.relu_widths(),
        relus: net.relu_count(),
        activations: relu_regions_io::activation_names(net),
        params: net.param_count(),
        output_relu: net.output_relu(),
        folded: loaded.folded.clone(),
        assumptions: loaded.assumptions.clone(),
    };
    if args.json {
        return print_json(&report);
    }
    let mut widths = vec![report.input_dim];
    widths.extend(&report.layer_widths);
    println!("model        {}", report.model);
    println!("format       {}", report.format);
    println!(
        "input        {} = {} values{}",
        shape_string(&report.input_shape),
        report.input_dim,
        report
            .input_name
            .as_deref()
            .map(|n| format!(" (`{n}`)"))
            .unwrap_or_default()
    );
    println!("layers       {}", arrow_list(&widths));
    println!(
        "ReLUs        {} in {} layers{}",
        report.relus,
        report.relu_widths.len(),
        if report.output_relu {
            " (including a ReLU on the output)"
        } else {
            "; output is linear"
        }
    );
    if !net.is_relu() {
        println!("activations  {}", report.activations.join(", "));
    }
    println!("parameters   {}", report.params);
    if report.folded.is_empty() {
        println!("folded       nothing");
    } else {
        for (i, note) in report.folded.iter().enumerate() {
            println!(
                "{}{note}",
                if i == 0 {
                    "folded       "
                } else {
                    "             "
                }
            );
        }
    }
    for a in &report.assumptions {
        println!("assumed      {a}");
    }
    Ok(())
}
