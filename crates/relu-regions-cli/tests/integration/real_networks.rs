//! Geometry on real networks: ACAS Xu (bundled) and, where `../shared/networks` exists,
//! mnistfc and the hand-made VNN-COMP test nets. Lives in the CLI crate because it needs
//! both the loaders and the mathematics.

use relu_regions::slice::line::{SegmentOptions, segment_partition};
use relu_regions::{Network, Norm, boundary_distance};
use relu_regions_io::read_points;
use relu_regions_testkit::{
    Lcg, bundled_data as data, load_network, shared_mnist_images, shared_networks,
};

/// Samples inside `0.999 r*` keep the pattern; the point just past the nearest boundary
/// point does not.
fn check_distance_at(net: &Network, x: &[f64], samples: usize, rng: &mut Lcg) {
    let p = net.pattern(x).unwrap();
    for norm in [Norm::L2, Norm::LInf] {
        let r = boundary_distance(net, x, norm).unwrap();
        assert!(r.distance.is_finite() && r.distance > 0.0);
        for _ in 0..samples {
            let u: Vec<f64> = match norm {
                Norm::L2 => (0..x.len()).map(|_| rng.normal()).collect(),
                // A random vertex-ish direction of the L-inf ball: the hardest case.
                Norm::LInf => (0..x.len())
                    .map(|_| if rng.uniform() < 0.5 { -1.0 } else { 1.0 })
                    .collect(),
            };
            let n = norm.of(&u);
            let s = 0.999 * r.distance * rng.uniform().sqrt();
            let y: Vec<f64> = x.iter().zip(&u).map(|(a, b)| a + s * b / n).collect();
            assert_eq!(
                net.pattern(&y).unwrap(),
                p,
                "{norm:?}: pattern changed inside r*"
            );
        }
        let q = r.nearest_point.unwrap();
        let beyond: Vec<f64> = x
            .iter()
            .zip(&q)
            .map(|(a, b)| a + (b - a) * (1.0 + 1e-6))
            .collect();
        assert_ne!(
            net.pattern(&beyond).unwrap(),
            p,
            "{norm:?}: still inside past r*"
        );
    }
}

#[test]
fn acasxu_distances_at_reluplex_points() {
    let net = load_network(&data("networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet"));
    let points = read_points(&data("networks/acasxu/points_1_1.csv")).unwrap();
    let mut rng = Lcg::new(1);
    for x in &points {
        check_distance_at(&net, x, 2000, &mut rng);
    }
}

#[test]
fn acasxu_segments_dominate_sampling() {
    let net = load_network(&data("networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet"));
    let points = read_points(&data("networks/acasxu/points_1_1.csv")).unwrap();
    for w in points.windows(2) {
        let part = segment_partition(&net, &w[0], &w[1], SegmentOptions::default()).unwrap();
        assert_eq!(part.unverified, 0);
        let n = 20_000;
        let samples =
            relu_regions::slice::line::sample_segment_patterns(&net, &w[0], &w[1], n).unwrap();
        let runs = 1 + samples.windows(2).filter(|p| p[0] != p[1]).count();
        assert!(part.regions() >= runs, "{} < {runs}", part.regions());
        // Every sample lies in the piece the walk says.
        for (i, p) in samples.iter().enumerate() {
            let t = i as f64 / n as f64;
            if let Some(q) = part.pieces.iter().find(|q| q.start < t && t < q.end) {
                assert_eq!(&q.pattern, p);
            }
        }
    }
}

#[test]
fn vnncomp_tiny_nets_have_known_piece_counts() {
    let Some(dir) = shared_networks() else { return };
    for (name, pieces) in [("test_nano", 2), ("test_tiny", 2), ("test_small", 1)] {
        let net = load_network(&dir.join(format!("vnncomp_test_tiny/{name}.onnx")));
        let part = segment_partition(&net, &[-1.0], &[1.0], SegmentOptions::default()).unwrap();
        assert_eq!(part.affine_pieces, pieces, "{name}");
        assert_eq!(part.unverified, 0);
    }
}

#[test]
fn mnistfc_distances_at_mnist_points() {
    let Some(dir) = shared_networks() else { return };
    let images = shared_mnist_images(&dir);
    let mut rng = Lcg::new(2);
    for name in ["mnist-net_256x2", "mnist-net_256x6"] {
        let net = load_network(&dir.join(format!("mnistfc/{name}.onnx")));
        for x in images.iter().take(4) {
            check_distance_at(&net, x, 200, &mut rng);
        }
    }
}

#[test]
fn mnistfc_segment_between_two_images() {
    let Some(dir) = shared_networks() else { return };
    let images = shared_mnist_images(&dir);
    let net = load_network(&dir.join("mnistfc/mnist-net_256x2.onnx"));
    let (a, b) = (&images[0], &images[1]);
    let part = segment_partition(&net, a, b, SegmentOptions::default()).unwrap();
    assert_eq!(part.unverified, 0);
    let n = 5000;
    let samples = relu_regions::slice::line::sample_segment_patterns(&net, a, b, n).unwrap();
    let runs = 1 + samples.windows(2).filter(|p| p[0] != p[1]).count();
    assert!(
        part.regions() >= runs && runs > 10,
        "{} vs {runs}",
        part.regions()
    );
}

/// The sandwich on a real network over a domain: sampled patterns <= local bound, every
/// sampled pre-activation inside the CROWN bounds, LC <= unstable.
fn check_sandwich(
    net: &Network,
    domain: &relu_regions::Domain,
    samples: usize,
    seed: u64,
) -> (usize, f64) {
    use rand::SeedableRng;
    use relu_regions::bound::local_region_bound;
    use relu_regions::sample::{distinct_sampled_patterns, local_complexity};
    use relu_regions::stability::{BoundPropagator, Method};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let p = BoundPropagator::new(net);
    let b = local_region_bound(&p, domain, Method::Crown).unwrap();
    let lower = distinct_sampled_patterns(net, domain, samples, &mut rng).unwrap();
    assert!(
        b.local.to_u128().is_none_or(|v| v >= lower as u128),
        "bound {} < {lower} sampled",
        b.local
    );
    let lc = local_complexity(net, domain, 16, &mut rng).unwrap();
    for (l, c) in lc.iter().zip(&b.counts) {
        assert!(*l <= c.unstable);
    }
    let x = domain.sample_uniform(200, &mut rng);
    let z = net
        .pre_activations_batch(x.as_ref(), faer::Par::Seq)
        .unwrap();
    for (l, zl) in z.iter().enumerate() {
        for s in 0..zl.nrows() {
            for i in 0..zl.ncols() {
                assert!(b.bounds.lower[l][i] <= zl[(s, i)] && zl[(s, i)] <= b.bounds.upper[l][i]);
            }
        }
    }
    (lower, b.local.log2())
}

#[test]
fn acasxu_bounds_at_reluplex_points() {
    let net = load_network(&data("networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet"));
    let points = read_points(&data("networks/acasxu/points_1_1.csv")).unwrap();
    for (k, x) in points.iter().enumerate() {
        for delta in [0.01, 0.025, 0.05, 0.1] {
            let d = relu_regions::Domain::ball(x.clone(), delta, Norm::LInf).unwrap();
            check_sandwich(&net, &d, 3000, k as u64);
        }
    }
}

#[test]
fn shared_networks_bounds_at_their_data_points() {
    let Some(dir) = shared_networks() else { return };
    // mnistfc at MNIST test images, L-inf eps 0.02 and L2 radius 0.5 (pixel/255 units).
    let images = shared_mnist_images(&dir);
    for name in ["mnist-net_256x2", "mnist-net_256x4"] {
        let net = load_network(&dir.join(format!("mnistfc/{name}.onnx")));
        for x in images.iter().take(2) {
            check_sandwich(
                &net,
                &relu_regions::Domain::ball(x.clone(), 0.02, Norm::LInf).unwrap(),
                1000,
                1,
            );
            check_sandwich(
                &net,
                &relu_regions::Domain::ball(x.clone(), 0.5, Norm::L2).unwrap(),
                1000,
                2,
            );
        }
    }
    // The RL policies over their VNN-LIB boxes.
    for (net_name, prefix) in [
        ("cartpole", "cartpole"),
        ("lunarlander", "lunarlander"),
        ("dubinsrejoin", "dubinsrejoin"),
    ] {
        let net = load_network(&dir.join(format!("vnncomp2022_rl/onnx/{net_name}.onnx")));
        let mut specs: Vec<_> = std::fs::read_dir(dir.join("vnncomp2022_rl/vnnlib"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .collect();
        specs.sort();
        for spec in specs.iter().take(3) {
            let b =
                relu_regions_io::parse_vnnlib_box(&std::fs::read_to_string(spec).unwrap()).unwrap();
            let domain = relu_regions::Domain::boxed(b.lo, b.hi).unwrap();
            check_sandwich(&net, &domain, 2000, 3);
        }
    }
}

/// Exact counts in 784-D L-inf balls (the side programs of `exact/sides.rs`) equal
/// nnenum's, an independent enumeration: the counts it found on these balls (commit
/// b18238f, exact settings, `examples/highdim_vs_nnenum.py`, README's high-dimensional
/// table), one per network. Every region's witness is verified by a forward pass, and
/// every count is at least the distinct patterns of samples in the ball.
#[test]
fn mnist_counts_in_linf_balls_equal_nnenums() {
    use rand::SeedableRng;
    use relu_regions::Domain;
    use relu_regions::exact::{EnumerationOptions, enumerate_regions};
    use relu_regions::sample::distinct_sampled_patterns;
    let Some(dir) = shared_networks() else { return };
    let images = shared_mnist_images(&dir);
    for (file, image, radius, nnenum) in [
        ("mnistfc/mnist-net_256x2.onnx", 0, 0.005, 105),
        ("mnistfc/mnist-net_256x4.onnx", 1, 0.003, 27),
        ("mnistfc/mnist-net_256x6.onnx", 3, 0.003, 24),
        (
            "eran_mnist_relu_9_200/mnist_relu_9_200.onnx",
            4,
            0.0005,
            188,
        ),
    ] {
        let net = load_network(&dir.join(file));
        let ball = Domain::ball(images[image].clone(), radius, Norm::LInf).unwrap();
        let e = enumerate_regions(&net, &ball, EnumerationOptions::default(), None, None).unwrap();
        assert!(e.complete, "{file}");
        assert_eq!(e.regions, nnenum, "{file} at image {image}, L-inf {radius}");
        assert_eq!(e.unverified, 0, "{file}");
        let mut rng = rand::rngs::StdRng::seed_from_u64(image as u64);
        let sampled = distinct_sampled_patterns(&net, &ball, 500, &mut rng).unwrap();
        assert!(sampled as u64 <= e.regions, "{file}");
    }
}

/// The measured loss of issue 16: ACAS Xu 2_3 on the L-inf ball of radius 0.05 at the
/// origin has 144 913 regions; a relative tolerance of `1e-7` once dropped one whose
/// interior point has smallest margin `3e-9`. With the certified semantics
/// (docs/math.md §5.2) the count is exact, every region certified, nothing uncertain.
#[test]
fn acasxu_2_3_keeps_its_thin_region() {
    use relu_regions::Domain;
    use relu_regions::exact::{EnumerationOptions, enumerate_regions};
    let Some(dir) = shared_networks() else { return };
    let net = load_network(&dir.join("acasxu/nnet/ACASXU_run2a_2_3_batch_2000.nnet"));
    let ball = Domain::ball(vec![0.0; 5], 0.05, Norm::LInf).unwrap();
    let e = enumerate_regions(&net, &ball, EnumerationOptions::default(), None, None).unwrap();
    assert!(e.is_exact(), "uncertain {}", e.uncertain);
    assert_eq!(e.regions, 144_913);
    assert_eq!(e.unverified, 0);
}
