//! `relu-regions bound MODEL (--center C --radius R [--norm l2|linf] | --vnnlib FILE)`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use relu_regions::bound::{LocalRegionBound, RegionCount, certified_radius, local_region_bound};
use relu_regions::sample::{distinct_sampled_patterns, local_complexity};
use relu_regions::stability::{BoundPropagator, Method};
use relu_regions::{Ball, Domain, Norm, boundary_distance};
use relu_regions_io::points::parse_point_list;
use relu_regions_io::{parse_vnnlib_box, read_points};
use serde::Serialize;

use crate::model::ModelArgs;
use crate::output::{NormArg, print_json};

/// The bound propagation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Exact first layer, then interval arithmetic.
    Ibp,
    /// CROWN backward linear bounds (intersected with interval bounds).
    Crown,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Ball centre as a comma-separated list (input units).
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["center_file", "vnnlib"])]
    center: Option<String>,
    /// Read the centre from a points file (CSV or JSON), row --row.
    #[arg(long, requires = "row", conflicts_with = "vnnlib")]
    center_file: Option<PathBuf>,
    /// Row of --center-file (0-based).
    #[arg(long)]
    row: Option<usize>,
    /// Drop this many leading columns of the --center-file row (e.g. 1 for a label).
    #[arg(long, default_value_t = 0)]
    skip_columns: usize,
    /// Multiply the --center-file row by this factor (e.g. 1/255 for pixels).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Ball radius (input units).
    #[arg(long, required_unless_present = "vnnlib")]
    radius: Option<f64>,
    /// Ball norm.
    #[arg(long, value_enum, default_value_t = NormArg::L2)]
    norm: NormArg,
    /// Use the input box of a VNN-LIB specification as the domain.
    #[arg(long)]
    vnnlib: Option<PathBuf>,
    /// Neuron-bound method.
    #[arg(long, value_enum, default_value_t = MethodArg::Crown)]
    method: MethodArg,
    /// Uniform samples for the lower bound (distinct activation patterns).
    #[arg(long, default_value_t = 10_000)]
    samples: usize,
    /// Directions of the cross-polytope frame of the LC proxy.
    #[arg(long, default_value_t = 16)]
    lc_directions: usize,
    /// Seed of the sampling and of the LC frame.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Include every neuron's lower and upper bound in the JSON.
    #[arg(long)]
    neuron_bounds: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct LayerReport {
    active: usize,
    inactive: usize,
    unstable: usize,
    lc: usize,
}

#[derive(Serialize)]
struct NeuronBoundsJson {
    lower: Vec<Vec<f64>>,
    upper: Vec<Vec<f64>>,
}

#[derive(Serialize)]
struct Report {
    model: String,
    domain: String,
    domain_dim: usize,
    method: &'static str,
    /// Distinct activation patterns among the samples: a true lower bound.
    lower_bound: usize,
    samples: usize,
    /// The proven local upper bound (decimal; may exceed 2^128).
    local_bound: String,
    local_bound_log2: f64,
    local_product_bound_log2: f64,
    pruned_serra_bound_log2: f64,
    global_bound_log2: f64,
    global_montufar_log2: f64,
    /// NOT a bound (Serra with n_l -> u_l); for comparison with the literature only.
    naive_unsound_log2: f64,
    unstable_per_layer: Vec<usize>,
    lc_per_layer: Vec<usize>,
    layers: Vec<LayerReport>,
    /// Largest radius at which the method proves one region (ball domains only).
    certified_radius: Option<f64>,
    /// Exact distance from the centre to its region's boundary (ball domains only).
    exact_distance: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    neuron_bounds: Option<NeuronBoundsJson>,
}

fn log2(c: &RegionCount) -> f64 {
    c.log2()
}

fn domain_of(args: &Args, dim: usize) -> Result<(Domain, String)> {
    if let Some(path) = &args.vnnlib {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let b = parse_vnnlib_box(&text).with_context(|| format!("{}", path.display()))?;
        let domain = Domain::boxed(b.lo, b.hi)?;
        domain
            .check_dim(dim)
            .with_context(|| format!("{}", path.display()))?;
        return Ok((domain, format!("box of {}", path.display())));
    }
    let center = match (&args.center, &args.center_file) {
        (Some(text), _) => parse_point_list(text).map_err(|e| anyhow::anyhow!("--center: {e}"))?,
        (None, Some(path)) => {
            let rows = read_points(path)?;
            let k = args.row.expect("clap requires --row");
            let Some(row) = rows.get(k) else {
                bail!(
                    "{}: row {k} does not exist ({} rows)",
                    path.display(),
                    rows.len()
                );
            };
            if row.len() < args.skip_columns {
                bail!(
                    "{}: row {k} has fewer than {} columns",
                    path.display(),
                    args.skip_columns
                );
            }
            row[args.skip_columns..]
                .iter()
                .map(|v| v * args.scale)
                .collect()
        }
        (None, None) => bail!("give --center, --center-file with --row, or --vnnlib"),
    };
    let radius = args
        .radius
        .expect("clap requires --radius without --vnnlib");
    let norm: Norm = args.norm.into();
    let domain = Domain::ball(center, radius, norm)?;
    domain.check_dim(dim).context("--center")?;
    Ok((domain, format!("{} ball of radius {radius}", norm.name())))
}

pub fn run(args: &Args) -> Result<()> {
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let (domain, description) = domain_of(args, net.input_dim())?;
    let method = match args.method {
        MethodArg::Ibp => Method::Interval,
        MethodArg::Crown => Method::Crown,
    };
    let p = BoundPropagator::new(net);
    let b: LocalRegionBound = local_region_bound(&p, &domain, method)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let lower = distinct_sampled_patterns(net, &domain, args.samples, &mut rng)?;
    let lc = local_complexity(net, &domain, args.lc_directions, &mut rng)?;
    let (certified, exact) = match &domain {
        Domain::Ball(ball) => {
            let ball: &Ball = ball;
            let exact = boundary_distance(net, &ball.center, ball.norm)?.distance;
            (
                certified_radius(&p, ball, method)?,
                exact.is_finite().then_some(exact),
            )
        }
        Domain::Box(_) => (None, None),
    };
    let report = Report {
        model: args.model.model.display().to_string(),
        domain: description,
        domain_dim: b.domain_dim,
        method: method.name(),
        lower_bound: lower,
        samples: args.samples,
        local_bound: b.local.to_string(),
        local_bound_log2: log2(&b.local),
        local_product_bound_log2: log2(&b.local_product),
        pruned_serra_bound_log2: log2(&b.pruned_serra),
        global_bound_log2: log2(&b.global_serra),
        global_montufar_log2: log2(&b.global_montufar),
        naive_unsound_log2: log2(&b.naive_unsound),
        unstable_per_layer: b.counts.iter().map(|c| c.unstable).collect(),
        lc_per_layer: lc.clone(),
        layers: b
            .counts
            .iter()
            .zip(&lc)
            .map(|(c, &lc)| LayerReport {
                active: c.active,
                inactive: c.inactive,
                unstable: c.unstable,
                lc,
            })
            .collect(),
        certified_radius: certified,
        exact_distance: exact,
        neuron_bounds: args.neuron_bounds.then(|| NeuronBoundsJson {
            lower: b.bounds.lower.clone(),
            upper: b.bounds.upper.clone(),
        }),
    };
    if args.json {
        return print_json(&report);
    }
    println!(
        "domain       {} (dimension {})",
        report.domain, report.domain_dim
    );
    println!("method       {}", report.method);
    println!("layer   active  inactive  unstable   LC");
    for (l, layer) in report.layers.iter().enumerate() {
        println!(
            "{l:>5}  {:>7}  {:>8}  {:>8}  {:>3}",
            layer.active, layer.inactive, layer.unstable, layer.lc
        );
    }
    println!("regions meeting the domain:");
    println!(
        "  >= {:<12} distinct patterns among {} uniform samples (lower bound)",
        report.lower_bound, report.samples
    );
    let short = if report.local_bound.len() > 40 {
        format!("2^{:.2}", report.local_bound_log2)
    } else {
        format!("{} (2^{:.2})", report.local_bound, report.local_bound_log2)
    };
    println!("  <= {short}  local bound (proven, math.md 6.2)");
    println!(
        "     2^{:.2} product relaxation, 2^{:.2} Serra on the pruned net",
        report.local_product_bound_log2, report.pruned_serra_bound_log2
    );
    println!(
        "global bounds for comparison: Serra 2^{:.2}, Montufar 2^{:.2}; naive n_l -> u_l (NOT a bound) 2^{:.2}",
        report.global_bound_log2, report.global_montufar_log2, report.naive_unsound_log2
    );
    if let (Some(c), Some(e)) = (report.certified_radius, report.exact_distance) {
        println!("certified single-region radius {c:.6e} (exact distance to the boundary {e:.6e})");
    }
    Ok(())
}
