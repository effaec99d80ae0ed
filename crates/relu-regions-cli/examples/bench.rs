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
//!
//! `bound`: time per point (one core) of interval and CROWN neuron bounds plus the local
//! count, and the tightness each gives (unstable neurons, log2 of the local bound), on
//! `mnist-net_256x6` (L-inf 0.02 and L2 0.5 balls at MNIST images) and ACAS Xu 1_1
//! (L-inf 0.02 balls at the Reluplex points).
//!
//! `slice`: exact 2-D slices (`relu_regions::slice::plane`), regions per second on one
//! core (a rayon pool of one thread) without and with the per-region verification, and
//! on all cores: random He-initialised MLPs `10 -> w -> w -> w -> 10` for
//! `w = 16, 32, 64, 128` at random centres, and `mnist-net_256x6` at MNIST test images,
//! random orthonormal directions, discs (256-gon) whose radius is doubled from 0.01 until
//! a slice has at least `--n` regions (default 2000) or the radius reaches 1000;
//! `--case mnist` runs only the cases whose name contains `mnist`. Each time is the fastest
//! of three runs.

use std::path::PathBuf;
use std::time::Instant;

use faer::Mat;
use relu_regions::Norm;
use relu_regions::distance::boundary_distances_batch;
use relu_regions_io::read_points;
use relu_regions_testkit::{bundled_data, load_network, shared_networks_dir};

struct Options {
    model: PathBuf,
    points: PathBuf,
    skip_columns: usize,
    scale: f64,
    n: usize,
    /// `slice`: run only the cases whose name contains this.
    case: Option<String>,
}

fn parse() -> (String, Options) {
    let shared = shared_networks_dir();
    let mut o = Options {
        model: shared.join("mnistfc/mnist-net_256x6.onnx"),
        points: shared.join("mnist_test_images/mnist_test_first100.csv"),
        skip_columns: 1,
        scale: 1.0 / 255.0,
        n: 2000,
        case: None,
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
            "--case" => o.case = Some(v),
            other => panic!("unknown flag {other}"),
        }
    }
    (what, o)
}

fn bench_bound(o: &Options) {
    use relu_regions::bound::local_region_bound;
    use relu_regions::stability::{BoundPropagator, Method};
    use relu_regions::{Domain, Network};
    let bundled = bundled_data("networks/acasxu");
    let mnist_net = load_network(&o.model);
    let mnist_points: Vec<Vec<f64>> = read_points(&o.points)
        .unwrap()
        .iter()
        .map(|r| r[o.skip_columns..].iter().map(|v| v * o.scale).collect())
        .collect();
    let acas = load_network(&bundled.join("ACASXU_run2a_1_1_batch_2000.nnet"));
    let acas_points = read_points(&bundled.join("points_1_1.csv")).unwrap();
    type Case<'a> = (&'a str, &'a Network, &'a Vec<Vec<f64>>, f64, Norm);
    let cases: Vec<Case> = vec![
        (
            "mnist-net_256x6 linf 0.02",
            &mnist_net,
            &mnist_points,
            0.02,
            Norm::LInf,
        ),
        (
            "mnist-net_256x6 l2 0.5",
            &mnist_net,
            &mnist_points,
            0.5,
            Norm::L2,
        ),
        (
            "acasxu 1_1 linf 0.02",
            &acas,
            &acas_points,
            0.02,
            Norm::LInf,
        ),
    ];
    for (name, net, points, radius, norm) in cases {
        let p = BoundPropagator::new(net);
        for method in [Method::Interval, Method::Crown] {
            let n = points.len().min(o.n);
            let domains: Vec<Domain> = points[..n]
                .iter()
                .map(|x| Domain::ball(x.clone(), radius, norm).unwrap())
                .collect();
            // Warm up, then time neuron bounds alone and bounds plus the count.
            let _ = p.bounds(&domains[0], method).unwrap();
            let start = Instant::now();
            for d in &domains {
                let _ = p.bounds(d, method).unwrap();
            }
            let bounds_ms = 1e3 * start.elapsed().as_secs_f64() / n as f64;
            let start = Instant::now();
            let mut unstable = Vec::with_capacity(n);
            let mut log2 = Vec::with_capacity(n);
            for d in &domains {
                let b = local_region_bound(&p, d, method).unwrap();
                unstable.push(b.counts.iter().map(|c| c.unstable).sum::<usize>());
                log2.push(b.local.log2());
            }
            let total_ms = 1e3 * start.elapsed().as_secs_f64() / n as f64;
            unstable.sort_unstable();
            log2.sort_by(f64::total_cmp);
            println!(
                "{name:<26} {:<5}: bounds {bounds_ms:>8.3} ms/point, with count {total_ms:>8.3} ms/point; median unstable {} of {}, median log2 bound {:.1} ({n} points, 1 core)",
                method.name(),
                unstable[n / 2],
                net.relu_count(),
                log2[n / 2],
            );
        }
    }
}

/// Regions per second of exact 2-D slices (see the module documentation).
fn bench_slice(o: &Options) {
    use relu_regions::Network;
    use relu_regions::random::{Init, seeded_network};
    use relu_regions::slice::plane::{Plane, PlaneOptions, Shape, plane_partition};
    let target = if o.n == 2000 { 2000 } else { o.n };
    let single = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let all = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .build()
        .unwrap();
    // (name, network, centres)
    let mut cases: Vec<(String, Network, Vec<Vec<f64>>)> = Vec::new();
    for w in [16, 32, 64, 128] {
        let net = seeded_network(&[10, w, w, w, 10], Init::He, w as u64);
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let centres = (0..4)
            .map(|_| {
                (0..10)
                    .map(|_| {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        (rng >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
                    })
                    .collect()
            })
            .collect();
        cases.push((format!("random 10-{w}x3-10"), net, centres));
    }
    if o.model.exists() {
        let net = load_network(&o.model);
        let centres: Vec<Vec<f64>> = read_points(&o.points)
            .unwrap()
            .iter()
            .take(4)
            .map(|r| r[o.skip_columns..].iter().map(|v| v * o.scale).collect())
            .collect();
        let name = o.model.file_stem().unwrap().to_string_lossy().to_string();
        cases.push((name, net, centres));
    } else {
        println!("note: {} not found; MNIST case skipped", o.model.display());
    }
    println!(
        "exact 2-D slices, discs (256-gon), random orthonormal directions; at least {target} regions per slice; {} threads for 'all cores'",
        rayon::current_num_threads()
    );
    for (name, net, centres) in &cases {
        if o.case.as_ref().is_some_and(|c| !name.contains(c.as_str())) {
            continue;
        }
        // The radius: doubled until the first centre's slice has `target` regions.
        let plane0 = Plane::random_orthonormal(centres[0].clone(), 0).unwrap();
        let mut radius = 0.01;
        let quick = PlaneOptions {
            verify: false,
            ..PlaneOptions::default()
        };
        // (A narrow network's whole plane can have fewer regions: stop at r = 1000.)
        while radius < 1000.0
            && plane_partition(net, &plane0, Shape::disc(radius), quick)
                .unwrap()
                .region_count()
                < target
        {
            radius *= 2.0;
        }
        let planes: Vec<Plane> = centres
            .iter()
            .enumerate()
            .map(|(i, c)| Plane::random_orthonormal(c.clone(), i as u64).unwrap())
            .collect();
        let time = |verify: bool, one_core: bool| -> (usize, f64, usize) {
            let options = PlaneOptions {
                verify,
                ..PlaneOptions::default()
            };
            let run = || {
                let start = Instant::now();
                let mut regions = 0;
                let mut unverified = 0;
                for plane in &planes {
                    let part = plane_partition(net, plane, Shape::disc(radius), options).unwrap();
                    regions += part.region_count();
                    unverified += part.unverified;
                }
                (regions, start.elapsed().as_secs_f64(), unverified)
            };
            // The fastest of three runs (the machine's noise only ever adds time).
            (0..3)
                .map(|_| {
                    if one_core {
                        single.install(run)
                    } else {
                        all.install(run)
                    }
                })
                .min_by(|x, y| x.1.total_cmp(&y.1))
                .expect("three runs")
        };
        let (regions, t_part, _) = time(false, true);
        let (_, t_verified, unverified) = time(true, true);
        let (_, t_all_part, _) = time(false, false);
        let (_, t_all, _) = time(true, false);
        let us = |t: f64| 1e6 * t / regions as f64;
        println!(
            "{name:<20} r = {radius:<7} {:>6} regions/slice | 1 core: {:>8.0} regions/s ({:.2} us/region) partition, {:>8.0} regions/s ({:.2} us/region) verified | all cores: {:>8.0} / {:>8.0} regions/s | unverified {unverified}",
            regions / planes.len(),
            regions as f64 / t_part,
            us(t_part),
            regions as f64 / t_verified,
            us(t_verified),
            regions as f64 / t_all_part,
            regions as f64 / t_all,
        );
    }
}

fn main() {
    let (what, o) = parse();
    if what == "bound" {
        return bench_bound(&o);
    }
    if what == "slice" {
        return bench_slice(&o);
    }
    assert_eq!(what, "distance", "benchmarks: distance, bound, slice");
    let net = load_network(&o.model);
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
