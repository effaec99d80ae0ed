//! The Rust side of the Python overhead benchmark (`crates/relu-regions-py/bench/overhead.py`):
//! exactly the library calls that the Python bindings (`crates/relu-regions-py/src/lib.rs`)
//! make, timed without Python.
//!
//! ```sh
//! cargo build --release -p relu-regions-cli --example python_reference
//! RAYON_NUM_THREADS=1 target/release/examples/python_reference MODEL POINTS.csv \
//!     --norm linf --radius 0.02 [--samples 10000] [--lc-directions 16] [--bound-points 100] [--repeat 5]
//! ```
//!
//! - `distance`: `Network.distance(points, norm)`, that is `NativeNetwork::distance`:
//!   one [`boundary_distances_batch`] over every point of `POINTS` (one per row, already
//!   scaled; read by `relu_regions_io::read_points`).
//! - `bound`: `Network.bound(center, radius, norm, method="crown", samples=S,
//!   lc_directions=K, seed=0)`, that is `NativeNetwork::bound` on a ball: `Domain::ball`,
//!   `BoundPropagator::new`, [`local_region_bound`], [`distinct_sampled_patterns`] and
//!   [`local_complexity`] from one `StdRng` seeded with 0, [`boundary_distance`] at the
//!   centre and [`certified_radius`], once per point, for the first `--bound-points` points
//!   in a loop.
//!
//! The model is loaded as `Network.load` loads it (`load_model` with the default
//! options). Rayon's global pool is used as in Python, so `RAYON_NUM_THREADS` sets the
//! threads of both. After an untimed warm-up (`distance` at the first 100 points, `bound`
//! at the first), each time is the fastest of `--repeat` runs (every run must give the
//! same results). Prints one JSON object: the times, the thread count and the results
//! (the sum of the distances in point order, every point's `local_bound_log2`, ...) so a
//! caller can check that Python did the same work.

use std::path::PathBuf;
use std::time::Instant;

use faer::Mat;
use rand::SeedableRng;
use rand::rngs::StdRng;
use relu_regions::bound::{certified_radius, local_region_bound};
use relu_regions::distance::boundary_distances_batch;
use relu_regions::sample::{distinct_sampled_patterns, local_complexity};
use relu_regions::stability::{BoundPropagator, Method};
use relu_regions::{Domain, Network, Norm, boundary_distance};
use relu_regions_io::{LoadOptions, load_model, read_points};
use serde_json::{Value, json};

struct Args {
    model: PathBuf,
    points: PathBuf,
    norm: Norm,
    radius: f64,
    samples: usize,
    lc_directions: usize,
    bound_points: usize,
    repeat: usize,
}

fn parse() -> Args {
    let usage = "usage: python_reference MODEL POINTS --norm l2|linf --radius R [--samples N] \
                 [--lc-directions K] [--bound-points P] [--repeat R]";
    let mut positional = Vec::new();
    let (mut norm, mut radius) = (None, None);
    let (mut samples, mut lc_directions, mut bound_points, mut repeat) = (10_000, 16, 100, 5);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if !a.starts_with("--") {
            positional.push(a);
            continue;
        }
        let v = args.next().expect(usage);
        match a.as_str() {
            "--norm" => {
                norm = Some(match v.as_str() {
                    "l2" => Norm::L2,
                    "linf" => Norm::LInf,
                    _ => panic!("{usage}"),
                })
            }
            "--radius" => radius = Some(v.parse().expect("--radius")),
            "--samples" => samples = v.parse().expect("--samples"),
            "--lc-directions" => lc_directions = v.parse().expect("--lc-directions"),
            "--bound-points" => bound_points = v.parse().expect("--bound-points"),
            "--repeat" => repeat = v.parse().expect("--repeat"),
            _ => panic!("{usage}"),
        }
    }
    let [model, points] = <[String; 2]>::try_from(positional).expect(usage);
    Args {
        model: model.into(),
        points: points.into(),
        norm: norm.expect(usage),
        radius: radius.expect(usage),
        samples,
        lc_directions,
        bound_points,
        repeat: repeat.max(1),
    }
}

/// `NativeNetwork::distance` without the conversion to numpy: the results to compare.
fn distance(net: &Network, x: &Mat<f64>, norm: Norm) -> Value {
    let found = boundary_distances_batch(net, x.as_ref(), norm).expect("distance");
    let sum: f64 = found.iter().map(|b| b.distance).sum();
    let neurons: i64 = found
        .iter()
        .map(|b| b.nearest.map_or(-1, |n| n.index as i64))
        .sum();
    json!({ "distance_sum": sum, "nearest_neuron_sum": neurons })
}

/// `NativeNetwork::bound` on a ball with `method="crown"`, without the dict.
fn bound(net: &Network, center: &[f64], a: &Args) -> Value {
    let domain = Domain::ball(center.to_vec(), a.radius, a.norm).expect("ball");
    let method = Method::Crown;
    let p = BoundPropagator::new(net);
    let b = local_region_bound(&p, &domain, method).expect("bound");
    let mut rng = StdRng::seed_from_u64(0);
    let lower = distinct_sampled_patterns(net, &domain, a.samples, &mut rng).expect("samples");
    let lc = local_complexity(net, &domain, a.lc_directions, &mut rng).expect("lc");
    let Domain::Ball(ball) = &domain else {
        unreachable!("a ball")
    };
    let exact = boundary_distance(net, &ball.center, ball.norm)
        .expect("distance")
        .distance;
    let certified = certified_radius(&p, ball, method).expect("certified radius");
    json!({
        "local_bound_log2": b.local.log2(),
        "lower_bound": lower,
        "lc_per_layer": lc,
        "certified_radius": certified,
        "exact_distance": exact.is_finite().then_some(exact),
    })
}

/// The fastest of `repeat` runs of `f`, and its result (the same in every run).
fn fastest(repeat: usize, mut f: impl FnMut() -> Value) -> (f64, Value) {
    let mut best = f64::INFINITY;
    let mut first: Option<Value> = None;
    for _ in 0..repeat {
        let start = Instant::now();
        let v = f();
        best = best.min(start.elapsed().as_secs_f64());
        match &first {
            None => first = Some(v),
            Some(f) => assert_eq!(f, &v, "runs disagree"),
        }
    }
    (best, first.expect("one run"))
}

fn main() {
    let a = parse();
    let net = load_model(&a.model, LoadOptions::default())
        .expect("model")
        .network;
    let points = read_points(&a.points).expect("points");
    let x = Mat::from_fn(points.len(), net.input_dim(), |i, j| points[i][j]);
    let centers = &points[..a.bound_points.min(points.len())];
    // Untimed warm-up (rayon's pool, first touches of memory), as the Python side does.
    distance(&net, &x.subrows(0, x.nrows().min(100)).to_owned(), a.norm);
    if let Some(c) = centers.first() {
        bound(&net, c, &a);
    }
    let (distance_seconds, d) = fastest(a.repeat, || distance(&net, &x, a.norm));
    let (bound_seconds, b) = fastest(a.repeat, || {
        Value::Array(centers.iter().map(|c| bound(&net, c, &a)).collect())
    });
    let field =
        |k: &str| Value::Array(b.as_array().unwrap().iter().map(|r| r[k].clone()).collect());
    let out = json!({
        "threads": rayon::current_num_threads(),
        "repeat": a.repeat,
        "norm": match a.norm { Norm::L2 => "l2", Norm::LInf => "linf" },
        "radius": a.radius,
        "samples": a.samples,
        "lc_directions": a.lc_directions,
        "points": points.len(),
        "distance_seconds": distance_seconds,
        "distance_sum": d["distance_sum"],
        "nearest_neuron_sum": d["nearest_neuron_sum"],
        "bound_points": centers.len(),
        "bound_seconds": bound_seconds,
        "local_bound_log2": field("local_bound_log2"),
        "lower_bound": field("lower_bound"),
        "lc_per_layer": field("lc_per_layer"),
        "certified_radius": field("certified_radius"),
        "exact_distance": field("exact_distance"),
    });
    println!("{out}");
}
