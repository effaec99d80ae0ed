//! Throughput benchmarks of relu-regions (not timed tests: run by hand, in release).
//!
//! ```sh
//! cargo run --release -p relu-regions-cli --example bench -- distance
//! cargo run --release -p relu-regions-cli --example bench -- distance --model M.onnx --points P.csv --skip-columns 1 --scale 0.00392156862745098
//! ```
//!
//! `distance`: exact distance to the region boundary, L2 and L-inf, on one core (a rayon
//! pool of one thread) and on all cores. Defaults: `mnist-net_256x6` at the first 100
//! MNIST test images of `../shared/networks`, cycled to `--n` points.

use std::path::PathBuf;
use std::time::Instant;

use faer::Mat;
use relu_regions::Norm;
use relu_regions::distance::boundary_distances_batch;
use relu_regions_io::{LoadOptions, load_model, read_points};

struct Options {
    model: PathBuf,
    points: PathBuf,
    skip_columns: usize,
    scale: f64,
    n: usize,
}

fn parse() -> (String, Options) {
    let shared = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/networks"
    ));
    let mut o = Options {
        model: shared.join("mnistfc/mnist-net_256x6.onnx"),
        points: shared.join("mnist_test_images/mnist_test_first100.csv"),
        skip_columns: 1,
        scale: 1.0 / 255.0,
        n: 2000,
    };
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "distance".into());
    while let Some(a) = args.next() {
        let v = args.next().expect("flag value");
        match a.as_str() {
            "--model" => o.model = v.into(),
            "--points" => o.points = v.into(),
            "--skip-columns" => o.skip_columns = v.parse().unwrap(),
            "--scale" => o.scale = v.parse().unwrap(),
            "--n" => o.n = v.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    (what, o)
}

fn main() {
    let (what, o) = parse();
    assert_eq!(what, "distance", "benchmarks: distance");
    let net = load_model(&o.model, LoadOptions::default())
        .unwrap()
        .network;
    let rows = read_points(&o.points).unwrap();
    let points: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r[o.skip_columns..].iter().map(|v| v * o.scale).collect())
        .collect();
    let x = Mat::from_fn(o.n, net.input_dim(), |i, j| points[i % points.len()][j]);
    println!(
        "model {} ({} inputs, {} ReLUs), {} points, {} threads available",
        o.model.display(),
        net.input_dim(),
        net.relu_count(),
        o.n,
        rayon::current_num_threads()
    );
    let single = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    for norm in [Norm::L2, Norm::LInf] {
        for (label, threads) in [("1 core", 1), ("all cores", rayon::current_num_threads())] {
            let run = || boundary_distances_batch(&net, x.as_ref(), norm).unwrap();
            // Warm up once, then time.
            let warm = if threads == 1 {
                single.install(run)
            } else {
                run()
            };
            let start = Instant::now();
            let result = if threads == 1 {
                single.install(run)
            } else {
                run()
            };
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(result.len(), warm.len());
            let median = {
                let mut d: Vec<f64> = result.iter().map(|r| r.distance).collect();
                d.sort_by(f64::total_cmp);
                d[d.len() / 2]
            };
            println!(
                "distance {:<4} {label:<9}: {:>9.1} points/s ({:.3} ms/point), median r* {median:.4e}",
                norm.name(),
                o.n as f64 / secs,
                1e3 * secs / o.n as f64 * threads as f64,
            );
        }
    }
}
