//! Exact region counting throughput, single-threaded (run by hand, in release):
//!
//! ```sh
//! cargo run --release -p relu-regions-cli --example bench_count
//! cargo run --release -p relu-regions-cli --example bench_count -- --large
//! cargo run --release -p relu-regions-cli --example bench_count -- --large --case "d5 20x3"
//! ```
//!
//! `--case NAME` runs only the rows whose network name contains `NAME` (`d5 20x3`,
//! `ACAS`), without the anytime table.
//!
//! `--highdim` runs the image-sized cases instead (needs `../shared/networks`): the
//! mnistfc nets and ERAN's 9x200 at MNIST test images 0-4 (pixels / 255; images 10 and
//! up were used for tuning), L-inf and L2 balls, one run each with a 60 s limit per ball
//! (a ball that hits it reports the interval, and its time per region is then a lower
//! bound). `examples/highdim_vs_nnenum.py` runs nnenum beside `count` on the L-inf balls.
//!
//! Random MLPs (PyTorch-default init, fixed seeds, one output) in the box `[-1, 1]^d` with
//! the architectures of the nnenum measurements in `docs/peers.md` (our random draws
//! differ from nnenum's, so counts differ; compare time per region), and ACAS Xu 1_1 on
//! L-inf balls at the Reluplex points. Also the anytime bound against `k` on the ACAS Xu
//! balls. Every time is the fastest of three runs.

use std::time::Instant;

use relu_regions::exact::{EnumerationOptions, enumerate_regions};
use relu_regions::random::{Init, seeded_network};
use relu_regions::{Domain, Network, Norm};
use relu_regions_io::read_points;
use relu_regions_testkit::{bundled_data, load_network, shared_mnist_images, shared_networks};

fn count(net: &Network, domain: &Domain, exact_layers: Option<usize>) -> (u64, f64, f64, u64) {
    let options = EnumerationOptions {
        parallel: false,
        exact_layers,
        ..EnumerationOptions::default()
    };
    // The fastest of three runs (the machine's noise only ever adds time).
    let mut best = f64::INFINITY;
    let mut e = None;
    for _ in 0..3 {
        let start = Instant::now();
        let run = enumerate_regions(net, domain, options, None, None).unwrap();
        best = best.min(start.elapsed().as_secs_f64());
        e = Some(run);
    }
    let e = e.expect("three runs");
    assert_eq!(e.unverified, 0);
    (e.regions, best, e.upper_bound.log2(), e.solves)
}

/// The image-sized cases (`--highdim`): L-inf and L2 balls at MNIST test images 0-4
/// (the acceptance images; 10 and up were used for tuning), one thread, one run each
/// with a 60 s limit (a ball that hits it reports the interval, and its time per region
/// is then a lower bound). The L-inf radii are those of the side-by-side run with nnenum
/// (`examples/highdim_vs_nnenum.py`); the L2 radii reach 10^4 regions.
fn highdim() {
    let Some(shared) = shared_networks() else {
        return;
    };
    let images = shared_mnist_images(&shared);
    println!(
        "| network | domain | image | regions | complete | seconds | ms per region | programs per region |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let cases: [(&str, Norm, &[f64]); 6] = [
        ("mnistfc/mnist-net_256x2.onnx", Norm::LInf, &[0.01]),
        ("mnistfc/mnist-net_256x4.onnx", Norm::LInf, &[0.002]),
        ("mnistfc/mnist-net_256x6.onnx", Norm::LInf, &[0.002]),
        (
            "eran_mnist_relu_9_200/mnist_relu_9_200.onnx",
            Norm::LInf,
            &[0.001],
        ),
        ("mnistfc/mnist-net_256x2.onnx", Norm::L2, &[0.3, 0.5]),
        ("mnistfc/mnist-net_256x4.onnx", Norm::L2, &[0.1]),
    ];
    for (file, norm, radii) in cases {
        let net = load_network(&shared.join(file));
        let name = file
            .rsplit('/')
            .next()
            .unwrap_or(file)
            .trim_end_matches(".onnx");
        for &radius in radii {
            for (row, image) in images.iter().enumerate().take(5) {
                let domain = Domain::ball(image.clone(), radius, norm).unwrap();
                let options = EnumerationOptions {
                    parallel: false,
                    time_limit: Some(std::time::Duration::from_secs(60)),
                    ..EnumerationOptions::default()
                };
                let start = Instant::now();
                let e = enumerate_regions(&net, &domain, options, None, None).unwrap();
                let secs = start.elapsed().as_secs_f64();
                assert_eq!(e.unverified, 0);
                let regions = if e.complete {
                    e.regions.to_string()
                } else {
                    format!("{} to {}", e.regions, e.upper_bound)
                };
                println!(
                    "| {name} | {norm:?} {radius} | {row} | {regions} | {} | {secs:.2} | {:.2} | {:.1} |",
                    e.complete,
                    1e3 * secs / e.regions.max(1) as f64,
                    e.solves as f64 / e.regions.max(1) as f64
                );
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--highdim") {
        highdim();
        return;
    }
    let large = args.iter().any(|a| a == "--large");
    let case = args
        .iter()
        .position(|a| a == "--case")
        .map(|i| args.get(i + 1).expect("--case NAME").clone());
    println!("| network | domain | regions | seconds | ms per region | solves per region |");
    println!("|---|---|---|---|---|---|");
    let mut cases: Vec<(usize, Vec<usize>)> = vec![
        (2, vec![16, 16, 16]),
        (2, vec![32, 32, 32]),
        (2, vec![64, 64, 64]),
        (3, vec![16, 16]),
        (4, vec![16, 16]),
        (4, vec![16, 16, 16]),
        (5, vec![16, 16]),
    ];
    if large {
        cases.push((6, vec![16, 16]));
        cases.push((5, vec![20, 20, 20]));
        cases.push((2, vec![128, 128, 128]));
    }
    for (d, hidden) in cases {
        let name = format!("d{d} {}x{}", hidden[0], hidden.len());
        if case.as_ref().is_some_and(|c| !name.contains(c.as_str())) {
            continue;
        }
        let mut widths = vec![d];
        widths.extend(&hidden);
        widths.push(1);
        let net = seeded_network(&widths, Init::PytorchDefault, 0);
        let domain = Domain::boxed(vec![-1.0; d], vec![1.0; d]).unwrap();
        let (regions, secs, _, solves) = count(&net, &domain, None);
        println!(
            "| {name} seed 0 | [-1,1]^{d} | {regions} | {secs:.3} | {:.4} | {:.2} |",
            1e3 * secs / regions as f64,
            solves as f64 / regions as f64
        );
    }
    let dir = bundled_data("networks/acasxu");
    let acas = load_network(&dir.join("ACASXU_run2a_1_1_batch_2000.nnet"));
    let points = read_points(&dir.join("points_1_1.csv")).unwrap();
    if case
        .as_ref()
        .is_some_and(|c| !"ACAS Xu 1_1".contains(c.as_str()))
    {
        return;
    }
    for radius in [0.02, 0.05] {
        let (mut regions, mut secs, mut solves) = (0, 0.0, 0);
        for x in &points {
            let domain = Domain::ball(x.clone(), radius, Norm::LInf).unwrap();
            let (r, s, _, v) = count(&acas, &domain, None);
            regions += r;
            secs += s;
            solves += v;
        }
        println!(
            "| ACAS Xu 1_1 | L-inf {radius} at the 5 Reluplex points | {regions} | {secs:.3} | {:.4} | {:.2} |",
            1e3 * secs / regions as f64,
            solves as f64 / regions as f64
        );
    }
    if case.is_some() {
        return;
    }
    println!();
    println!(
        "anytime bound on ACAS Xu 1_1, L-inf 0.05 at the 5 Reluplex points: median over points"
    );
    println!("| k (exact layers) | median log2(bound / exact) | total seconds |");
    println!("|---|---|---|");
    let exact: Vec<u64> = points
        .iter()
        .map(|x| {
            count(
                &acas,
                &Domain::ball(x.clone(), 0.05, Norm::LInf).unwrap(),
                None,
            )
            .0
        })
        .collect();
    for k in 0..=acas.relu_layer_count() {
        let mut gaps = Vec::new();
        let mut secs = 0.0;
        for (x, &e) in points.iter().zip(&exact) {
            let domain = Domain::ball(x.clone(), 0.05, Norm::LInf).unwrap();
            let (_, s, log2, _) = count(&acas, &domain, Some(k));
            gaps.push(log2 - (e as f64).log2());
            secs += s;
        }
        gaps.sort_by(f64::total_cmp);
        println!("| {k} | {:.2} | {secs:.3} |", gaps[gaps.len() / 2]);
    }
}
