//! `relu-regions bound MODEL (--center C --radius R [--norm l2|linf] | --vnnlib FILE)`.

use anyhow::Result;
use rand::SeedableRng;
use rand::rngs::StdRng;
use relu_regions::bound::{LocalRegionBound, RegionCount, certified_radius, local_region_bound};
use relu_regions::sample::{distinct_sampled_patterns, local_complexity};
use relu_regions::stability::{BoundPropagator, Method};
use relu_regions::{Ball, Domain, boundary_distance};
use serde::Serialize;

use crate::model::{DomainArgs, ModelArgs};
use crate::output::print_json;

/// The bound propagation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Exact first layer, then interval arithmetic.
    Ibp,
    /// CROWN backward linear bounds (intersected with interval bounds).
    Crown,
}

#[derive(Debug, clap::Args)]
pub struct BoundArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    domain: DomainArgs,
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
struct BoundReport {
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

pub fn run(args: &BoundArgs) -> Result<()> {
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let (domain, description) = args.domain.domain(net.input_dim())?;
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
    let report = BoundReport {
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
    println!("  <= {short}  local bound (proven, docs/math.md §3)");
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
