//! The partition against grids of points, independent counts and the kernels' scalar
//! fallbacks.

use super::kernels::*;
use super::*;
use crate::linalg::dot;
use crate::network::Affine;
use crate::random::{Init, degenerate_variant, random_architecture};
use crate::simd::vectorized;
use pulp::WithSimd;
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::HashSet;

fn layer(rows: usize, cols: usize, w: &[f64], b: &[f64]) -> Affine {
    Affine::from_row_major(rows, cols, w, b.to_vec()).unwrap()
}

fn axes(center: [f64; 2]) -> Plane {
    Plane::new(center.to_vec(), vec![1.0, 0.0], vec![0.0, 1.0]).unwrap()
}

/// The invariants every partition must satisfy, and the comparison with a grid of
/// `n x n` cells: returns (regions, distinct grid patterns, every region holds a grid
/// point).
fn check(net: &Network, plane: &Plane, shape: Shape, n: usize, what: &str) -> PlanePartition {
    let part = plane_partition(net, plane, shape, PlaneOptions::default()).unwrap();
    let rel = (part.area_total - part.shape_area).abs() / part.shape_area;
    assert!(
        rel <= 1e-9,
        "{what}: areas {} vs {}",
        part.area_total,
        part.shape_area
    );
    assert_eq!(part.unverified, 0, "{what}");
    assert!(
        part.max_output_error < 1e-8,
        "{what}: {}",
        part.max_output_error
    );
    assert!(part.regions.iter().all(|r| r.verified == Some(true)));
    let patterns: HashSet<&ActivationPattern> = part.regions.iter().map(|r| &r.pattern).collect();
    assert_eq!(
        patterns.len(),
        part.region_count(),
        "{what}: a pattern twice"
    );
    assert!(
        part.pieces >= 1 && part.pieces <= part.region_count(),
        "{what}"
    );
    for r in &part.regions {
        assert!(r.area > 0.0 && r.vertices.len() >= 3, "{what}");
        assert!((polygon::area(&r.vertices) - r.area).abs() <= 1e-12 * part.shape_area);
        assert!(
            polygon::contains(&r.vertices, r.interior),
            "{what}: centroid outside"
        );
    }
    let grid = shape.grid(n);
    let sampled = patterns_at(net, plane, &grid).unwrap();
    let distinct: HashSet<&ActivationPattern> = sampled.iter().collect();
    assert!(
        part.region_count() >= distinct.len(),
        "{what}: {} regions < {} grid patterns",
        part.region_count(),
        distinct.len()
    );
    for (p, q) in grid.iter().zip(&sampled) {
        assert!(
            patterns.contains(q),
            "{what}: grid point {p:?} in no region"
        );
    }
    // When every region holds a grid point, the grid sees every region.
    if part.regions.iter().all(|r| holds_grid_point(r, shape, n)) {
        assert_eq!(part.region_count(), distinct.len(), "{what}");
    }
    part
}

/// Whether a point of `shape.grid(n)` lies strictly inside the region (scanning only
/// the grid points in its bounding box).
fn holds_grid_point(r: &PlaneRegion, shape: Shape, n: usize) -> bool {
    let big = shape.extent();
    let step = 2.0 * big / n as f64;
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in &r.vertices {
        for i in 0..2 {
            lo[i] = lo[i].min(p[i]);
            hi[i] = hi[i].max(p[i]);
        }
    }
    let range = |lo: f64, hi: f64, shift: f64| {
        let a = ((lo + big) / step - shift).ceil().max(0.0) as usize;
        let b = (((hi + big) / step - shift).floor().max(-1.0) + 1.0) as usize;
        a..b.min(n)
    };
    range(lo[0], hi[0], 0.5137).any(|i| {
        range(lo[1], hi[1], 0.5071).any(|j| {
            let p = [
                -big + (i as f64 + 0.5137) * step,
                -big + (j as f64 + 0.5071) * step,
            ];
            polygon::contains(&r.vertices, p)
        })
    })
}

fn random_plane(rng: &mut StdRng, d: usize) -> Plane {
    let c: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
    if rng.random_range(0..2) == 0 {
        Plane::random_orthonormal(c, rng.random_range(0..1000)).unwrap()
    } else {
        // Directions as given: neither unit nor orthogonal.
        let u: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let v: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        Plane::new(c, u, v).unwrap()
    }
}

fn random_shape(rng: &mut StdRng) -> Shape {
    let r = rng.random_range(0.3..3.0);
    match rng.random_range(0..3) {
        0 => Shape::square(r),
        1 => Shape::disc(r),
        _ => Shape::Disc {
            radius: r,
            vertices: rng.random_range(3..40),
            circumscribed: true,
        },
    }
}

#[test]
fn slice_random_networks_satisfy_the_invariants() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut tried = 0;
    let mut all_hit_equal = 0;
    while tried < 80 {
        let init = if tried % 2 == 0 {
            Init::He
        } else {
            Init::PytorchDefault
        };
        let net = random_architecture(&mut rng, init);
        if net.input_dim() < 2 {
            continue;
        }
        tried += 1;
        let plane = random_plane(&mut rng, net.input_dim());
        let shape = random_shape(&mut rng);
        let part = check(&net, &plane, shape, 120, &format!("net {tried}"));
        all_hit_equal += usize::from(part.region_count() > 1);
    }
    assert!(all_hit_equal > 40, "most slices cross several regions");
}

#[test]
fn slice_degenerate_networks() {
    let mut rng = StdRng::seed_from_u64(12);
    let mut tried = 0;
    while tried < 60 {
        let init = if tried % 2 == 1 {
            Init::He
        } else {
            Init::PytorchDefault
        };
        let net = random_architecture(&mut rng, init);
        if net.input_dim() < 2 {
            continue;
        }
        tried += 1;
        let net = degenerate_variant(&net, &mut rng);
        let plane = random_plane(&mut rng, net.input_dim());
        let shape = random_shape(&mut rng);
        check(&net, &plane, shape, 100, &format!("degenerate net {tried}"));
    }
}

/// Input dimension 2, the plane of the input axes, the square: the partition is that of
/// the network itself in the square, compared with a 400 x 400 grid; counts are equal
/// whenever the smallest region is large against a grid cell.
#[test]
fn slice_two_dimensional_networks_match_a_fine_grid() {
    let mut rng = StdRng::seed_from_u64(13);
    let mut equal = 0;
    for trial in 0..40 {
        let depth = rng.random_range(1..=3);
        let mut widths = vec![2];
        widths.extend((0..depth).map(|_| rng.random_range(2..=10)));
        widths.push(rng.random_range(1..=3));
        let init = if trial % 2 == 0 {
            crate::random::Init::He
        } else {
            crate::random::Init::PytorchDefault
        };
        let net = crate::random::random_network(&widths, init, false, &mut rng);
        let shape = Shape::square(1.0);
        let n = 400;
        let part = check(
            &net,
            &axes([0.0, 0.0]),
            shape,
            n,
            &format!("2-D net {trial}"),
        );
        let cell = (2.0 / n as f64).powi(2);
        let smallest = part
            .regions
            .iter()
            .map(|r| r.area)
            .fold(f64::INFINITY, f64::min);
        // `check` asserted equality with the grid's count whenever every region holds
        // a grid point. Regions that are large against a grid cell always do.
        let all_hit = part.regions.iter().all(|r| holds_grid_point(r, shape, n));
        if smallest > 100.0 * cell {
            assert!(all_hit, "trial {trial}: a large region holds no grid point");
        }
        equal += usize::from(all_hit);
    }
    assert!(equal >= 20, "only {equal} nets compared exactly");
}

/// Input dimension 2, the plane of the input axes, the square `[-1, 1]^2`: the slice is
/// the box itself, and the exact enumeration (`crate::exact`, region tree with
/// Chebyshev-centre programs) must find the same regions, except those thinner than
/// its tolerance (`1e-7` of the half-width), which it reports as degenerate.
#[test]
fn slice_equals_exact_enumeration_in_two_dimensions() {
    use crate::domain::Domain;
    use crate::exact::{EnumerationOptions, RegionRecord, enumerate_regions};
    let mut rng = StdRng::seed_from_u64(16);
    let mut equal = 0;
    for trial in 0..30 {
        let depth = rng.random_range(1..=3);
        let mut widths = vec![2];
        widths.extend((0..depth).map(|_| rng.random_range(2..=8)));
        widths.push(rng.random_range(1..=3));
        let init = if trial % 2 == 0 {
            crate::random::Init::He
        } else {
            crate::random::Init::PytorchDefault
        };
        let net = crate::random::random_network(&widths, init, trial % 5 == 0, &mut rng);
        let net = if trial % 3 == 0 {
            degenerate_variant(&net, &mut rng)
        } else {
            net
        };
        let part = check(&net, &axes([0.0, 0.0]), Shape::square(1.0), 60, "2-D");
        let found = std::sync::Mutex::new(Vec::new());
        let sink = |r: RegionRecord| found.lock().unwrap().push(r.pattern);
        let domain = Domain::boxed(vec![-1.0, -1.0], vec![1.0, 1.0]).unwrap();
        let options = EnumerationOptions {
            parallel: false,
            ..EnumerationOptions::default()
        };
        let exact = enumerate_regions(&net, &domain, options, Some(&sink), None).unwrap();
        assert!(exact.complete && exact.unverified == 0);
        let theirs: HashSet<ActivationPattern> = found.into_inner().unwrap().into_iter().collect();
        let ours: HashSet<&ActivationPattern> = part.regions.iter().map(|r| &r.pattern).collect();
        for p in &theirs {
            assert!(
                ours.contains(p),
                "trial {trial}: an exact region missing from the slice"
            );
        }
        // The certified semantics (docs/math.md §5.2): the slice's regions lie in the
        // count's interval, and when both are exact they are the same regions.
        assert!(
            exact
                .upper_bound
                .to_u128()
                .is_none_or(|u| u >= part.region_count() as u128),
            "trial {trial}: the slice has {} regions, above the count's bound {}",
            part.region_count(),
            exact.upper_bound
        );
        if exact.is_exact() && part.uncertain() == 0 {
            assert_eq!(exact.regions as usize, part.region_count(), "trial {trial}");
            equal += 1;
        }
    }
    // Degenerate variants included (duplicated, negated, zeroed neurons): ties keep them
    // exact.
    assert_eq!(equal, 30, "only {equal} of 30 nets exact in both");
}

/// `k` neurons `relu(cos t_i x + sin t_i y)` with distinct angles: `k` lines through the
/// origin, `2k` regions in any shape centred there.
#[test]
fn slice_lines_through_the_origin() {
    for k in 1..=16 {
        let mut w = Vec::new();
        for i in 0..k {
            let t = std::f64::consts::PI * (i as f64 + 0.25) / k as f64;
            w.extend([t.cos(), t.sin()]);
        }
        let net = Network::new(
            vec![
                layer(k, 2, &w, &vec![0.0; k]),
                layer(1, k, &vec![1.0; k], &[0.0]),
            ],
            false,
        )
        .unwrap();
        for shape in [
            Shape::disc(1.0),
            Shape::square(0.5),
            Shape::Disc {
                radius: 2.0,
                vertices: 7,
                circumscribed: true,
            },
        ] {
            let part = check(&net, &axes([0.0, 0.0]), shape, 200, &format!("k = {k}"));
            assert_eq!(part.region_count(), 2 * k, "k = {k}, {shape:?}");
            assert_eq!(part.merged_slivers, 0);
            // Wedges around the origin: each has the two wedges beside it as
            // neighbours (one for k = 1).
            for (i, adj) in part.neighbours().iter().enumerate() {
                assert_eq!(adj.len(), if k == 1 { 1 } else { 2 }, "k = {k}");
                assert!(!adj.contains(&i));
            }
        }
        // Off centre, the lines still all cross a disc containing the origin.
        let part = check(
            &net,
            &axes([0.3, -0.2]),
            Shape::disc(1.0),
            200,
            "off centre",
        );
        assert_eq!(part.region_count(), 2 * k);
        // A disc missing the origin sees fewer regions.
        let part = check(&net, &axes([3.0, 3.0]), Shape::disc(0.5), 200, "far");
        assert!(part.region_count() < 2 * k || k == 1);
    }
}

#[test]
fn slice_hand_made_counts_and_pieces() {
    // |x| + |y| = relu(x) + relu(-x) + relu(y) + relu(-y): 4 regions, 4 pieces.
    let abs = Network::new(
        vec![
            layer(4, 2, &[1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0], &[0.0; 4]),
            layer(1, 4, &[1.0; 4], &[0.0]),
        ],
        false,
    )
    .unwrap();
    let part = check(&abs, &axes([0.0, 0.0]), Shape::disc(1.0), 200, "|x|+|y|");
    assert_eq!((part.region_count(), part.pieces), (4, 4));
    // A hat in x: relu(x) - 2 relu(x - 1) + relu(x - 2) is 0, x, 2 - x, 0 on four strips:
    // 4 regions, 3 distinct maps (the two zero strips are not adjacent).
    let hat = Network::new(
        vec![
            layer(3, 2, &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0], &[0.0, -1.0, -2.0]),
            layer(1, 3, &[1.0, -2.0, 1.0], &[0.0]),
        ],
        false,
    )
    .unwrap();
    let part = check(&hat, &axes([0.0, 0.0]), Shape::disc(3.0), 300, "hat");
    assert_eq!((part.region_count(), part.pieces), (4, 3));
    // Two layers: relu(relu(x) - 1) adds the line x = 1 only where relu(x) is active,
    // and a duplicated, a negated and a dead neuron add nothing.
    let deep = Network::new(
        vec![
            layer(
                4,
                2,
                &[1.0, 0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0],
                &[0.0, 0.0, 0.0, -1.0],
            ),
            layer(
                2,
                4,
                &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
                &[-1.0, 0.0],
            ),
            layer(1, 2, &[1.0, 1.0], &[0.0]),
        ],
        false,
    )
    .unwrap();
    let part = check(&deep, &axes([0.0, 0.0]), Shape::square(2.0), 200, "deep");
    assert_eq!(part.region_count(), 3);
    // The slice of a 3-D network through the plane z = 0.5 (directions as given, not unit).
    let net3 = Network::new(
        vec![
            layer(2, 3, &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0], &[0.0, -1.0]),
            layer(1, 2, &[1.0, 1.0], &[0.0]),
        ],
        false,
    )
    .unwrap();
    let plane = Plane::new(
        vec![0.0, 0.0, 0.5],
        vec![2.0, 0.0, 0.0],
        vec![0.0, 3.0, 0.0],
    )
    .unwrap();
    let part = check(&net3, &plane, Shape::disc(1.0), 100, "3-D");
    assert_eq!(
        part.region_count(),
        2,
        "z = 0.5 keeps the second neuron off"
    );
    // Output ReLU and a network without ReLU.
    let out_relu =
        Network::new(vec![layer(2, 2, &[1.0, 0.0, 0.0, 1.0], &[0.0, 0.0])], true).unwrap();
    let part = check(
        &out_relu,
        &axes([0.0, 0.0]),
        Shape::disc(1.0),
        100,
        "output relu",
    );
    assert_eq!((part.region_count(), part.pieces), (4, 4));
    let r = &part.regions[0];
    let on = r.pattern.iter().collect::<Vec<_>>();
    for (i, &a) in on.iter().enumerate() {
        assert_eq!(r.output.slope[i] != [0.0, 0.0], a);
    }
    let linear = Network::new(vec![layer(1, 2, &[1.0, 2.0], &[3.0])], false).unwrap();
    let part = check(&linear, &axes([0.0, 0.0]), Shape::disc(1.0), 50, "linear");
    assert_eq!((part.region_count(), part.pieces), (1, 1));
    assert_eq!(part.regions[0].output.slope, vec![[1.0, 2.0]]);
}

fn boundary_length(segments: &[[Point2; 2]]) -> f64 {
    segments
        .iter()
        .map(|[p, q]| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())
        .sum()
}

#[test]
fn slice_decision_boundaries() {
    // Outputs (x, y) through relu(x) - relu(-x): argmax changes on the diagonal x = y,
    // which crosses two of the four regions; argmin has the same boundary.
    let xy = Network::new(
        vec![
            layer(4, 2, &[1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0], &[0.0; 4]),
            layer(
                2,
                4,
                &[1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0, -1.0],
                &[0.0, 0.0],
            ),
        ],
        false,
    )
    .unwrap();
    let part = plane_partition(
        &xy,
        &axes([0.0, 0.0]),
        Shape::disc(1.0),
        PlaneOptions::default(),
    )
    .unwrap();
    for decision in [Decision::ArgMax, Decision::ArgMin] {
        let seg = part.decision_boundary(decision);
        assert_eq!(seg.len(), 2, "{seg:?}");
        assert!((boundary_length(&seg) - 2.0).abs() < 1e-12);
        for [p, q] in &seg {
            assert!((p[0] - p[1]).abs() < 1e-12 && (q[0] - q[1]).abs() < 1e-12);
        }
    }
    // Class cells cover each region.
    for r in &part.regions {
        let cells = r.class_cells(Decision::ArgMax);
        let a: f64 = cells.iter().map(|(_, c)| polygon::area(c)).sum();
        assert!((a - r.area).abs() < 1e-12, "{a} vs {}", r.area);
    }
    // Outputs (relu(x), relu(-x)): the boundary x = 0 runs along the region edge and is
    // reported once.
    let edge = Network::new(
        vec![
            layer(2, 2, &[1.0, 0.0, -1.0, 0.0], &[0.0, 0.0]),
            layer(2, 2, &[1.0, 0.0, 0.0, 1.0], &[0.0, 0.0]),
        ],
        false,
    )
    .unwrap();
    let part = plane_partition(
        &edge,
        &axes([0.0, 0.0]),
        Shape::disc(1.0),
        PlaneOptions::default(),
    )
    .unwrap();
    let seg = part.decision_boundary(Decision::ArgMax);
    assert!((boundary_length(&seg) - 2.0).abs() < 1e-9, "{seg:?}");
    // Outputs f0 = |x|, f1 = 0 tie only on the edge x = 0, and class 0 wins on both
    // sides: no boundary.
    let same = Network::new(
        vec![
            layer(2, 2, &[1.0, 0.0, -1.0, 0.0], &[0.0, 0.0]),
            layer(2, 2, &[1.0, 1.0, 0.0, 0.0], &[0.0, 0.0]),
        ],
        false,
    )
    .unwrap();
    let part = plane_partition(
        &same,
        &axes([0.0, 0.0]),
        Shape::disc(1.0),
        PlaneOptions::default(),
    )
    .unwrap();
    assert!(part.decision_boundary(Decision::ArgMax).is_empty());
    // One output: its zero level set. f = x - 0.5 through one ReLU pair.
    let one = Network::new(
        vec![
            layer(2, 2, &[1.0, 0.0, -1.0, 0.0], &[0.0, 0.0]),
            layer(1, 2, &[1.0, -1.0], &[-0.5]),
        ],
        false,
    )
    .unwrap();
    let shape = Shape::square(1.0);
    let part = plane_partition(&one, &axes([0.0, 0.0]), shape, PlaneOptions::default()).unwrap();
    let seg = part.decision_boundary(Decision::ArgMax);
    assert_eq!(seg.len(), 1);
    assert!((boundary_length(&seg) - 2.0).abs() < 1e-12);
    assert!((seg[0][0][0] - 0.5).abs() < 1e-12);
    let right = part.regions.iter().find(|r| r.interior[0] > 0.0).unwrap();
    let cells = right.class_cells(Decision::ArgMax);
    assert_eq!(cells.len(), 2);
    for (class, cell) in &cells {
        assert!((polygon::area(cell) - 1.0).abs() < 1e-12);
        assert_eq!(*class == 1, polygon::vertex_mean(cell)[0] > 0.5);
    }
}

#[test]
fn slice_random_decision_boundaries_separate_classes() {
    // Every segment has different classes on its two sides.
    let mut rng = StdRng::seed_from_u64(14);
    for trial in 0..30 {
        let net =
            crate::random::random_network(&[3, 8, 8, 4], crate::random::Init::He, false, &mut rng);
        let plane = random_plane(&mut rng, 3);
        let part =
            plane_partition(&net, &plane, Shape::disc(2.0), PlaneOptions::default()).unwrap();
        let segs = part.decision_boundary(Decision::ArgMax);
        for [p, q] in &segs {
            let (d, m) = (
                [q[0] - p[0], q[1] - p[1]],
                [0.5 * (p[0] + q[0]), 0.5 * (p[1] + q[1])],
            );
            let len = (d[0] * d[0] + d[1] * d[1]).sqrt();
            let n = [-d[1] / len, d[0] / len];
            let class = |s: f64| {
                let y = net
                    .forward(&plane.point([m[0] + s * n[0], m[1] + s * n[1]]))
                    .unwrap();
                argmax(&y)
            };
            assert_ne!(class(1e-7), class(-1e-7), "trial {trial}");
        }
        // And the class changes between grid neighbours only across a segment: a grid
        // with a class change implies some boundary.
        let grid = Shape::disc(2.0).grid(40);
        let classes: HashSet<usize> = grid
            .iter()
            .map(|&p| argmax(&net.forward(&plane.point(p)).unwrap()))
            .collect();
        if classes.len() > 1 {
            assert!(!segs.is_empty(), "trial {trial}");
        }
    }
}

#[test]
fn slice_planes_and_errors() {
    let p = Plane::random_orthonormal(vec![0.0; 5], 3).unwrap();
    assert!((dot(p.u(), p.u()) - 1.0).abs() < 1e-14);
    assert!((dot(p.v(), p.v()) - 1.0).abs() < 1e-14);
    assert!(dot(p.u(), p.v()).abs() < 1e-14);
    assert_eq!(p, Plane::random_orthonormal(vec![0.0; 5], 3).unwrap());
    let t = Plane::through(vec![1.0, 1.0, 1.0], &[2.0, 1.0, 1.0], &[1.0, 3.0, 1.0]).unwrap();
    assert_eq!(t.point([1.0, 0.0]), vec![2.0, 1.0, 1.0]);
    assert_eq!(t.point([0.0, 1.0]), vec![1.0, 3.0, 1.0]);
    let o = t.orthonormalized().unwrap();
    assert_eq!(o.v(), &[0.0, 1.0, 0.0]);
    assert!(matches!(
        Plane::new(vec![0.0; 2], vec![1.0, 1.0], vec![2.0, 2.0]),
        Err(SliceError::DegenerateDirections)
    ));
    assert!(matches!(
        Plane::new(vec![0.0; 2], vec![1.0], vec![2.0, 2.0]),
        Err(SliceError::Lengths { .. })
    ));
    assert!(matches!(
        Plane::random_orthonormal(vec![0.0], 1),
        Err(SliceError::InputTooSmall(1))
    ));
    assert!(matches!(
        Plane::new(vec![f64::NAN, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]),
        Err(SliceError::NonFinite(_))
    ));
    let net = Network::new(vec![layer(1, 3, &[1.0; 3], &[0.0])], false).unwrap();
    assert!(
        plane_partition(
            &net,
            &axes([0.0, 0.0]),
            Shape::disc(1.0),
            PlaneOptions::default()
        )
        .is_err()
    );
    let net2 = Network::new(
        vec![layer(1, 2, &[1.0; 2], &[0.0]), layer(1, 1, &[1.0], &[0.0])],
        false,
    )
    .unwrap();
    for bad in [
        Shape::disc(0.0),
        Shape::square(f64::NAN),
        Shape::Disc {
            radius: 1.0,
            vertices: 2,
            circumscribed: false,
        },
    ] {
        assert!(matches!(
            plane_partition(&net2, &axes([0.0, 0.0]), bad, PlaneOptions::default()),
            Err(SliceError::Shape(_))
        ));
    }
    // The region limit.
    let mut w = Vec::new();
    for i in 0..10 {
        let t = i as f64 * 0.3;
        w.extend([t.cos(), t.sin()]);
    }
    let lines = Network::new(
        vec![
            layer(10, 2, &w, &[0.0; 10]),
            layer(1, 10, &[1.0; 10], &[0.0]),
        ],
        false,
    )
    .unwrap();
    let opts = PlaneOptions {
        max_regions: 5,
        ..PlaneOptions::default()
    };
    assert!(matches!(
        plane_partition(&lines, &axes([0.0, 0.0]), Shape::disc(1.0), opts),
        Err(SliceError::TooManyRegions(5))
    ));
    // Shapes: areas and the inscribed/circumscribed bracket.
    let inner = Shape::disc(1.0);
    let outer = Shape::Disc {
        radius: 1.0,
        vertices: DEFAULT_DISC_VERTICES,
        circumscribed: true,
    };
    assert!(inner.area() < std::f64::consts::PI && std::f64::consts::PI < outer.area());
    assert!((polygon::area(&inner.polygon()) - inner.area()).abs() < 1e-12);
    assert!((polygon::area(&outer.polygon()) - outer.area()).abs() < 1e-12);
}

#[test]
fn slice_progress_adds_up_to_one() {
    let mut rng = StdRng::seed_from_u64(15);
    let net = crate::random::random_network(
        &[4, 10, 10, 10, 2],
        crate::random::Init::He,
        false,
        &mut rng,
    );
    let plane = Plane::random_orthonormal(vec![0.1; 4], 1).unwrap();
    let done = std::sync::Mutex::new(0.0);
    let f = |x: f64| *done.lock().unwrap() += x;
    let opts = PlaneOptions {
        progress: Some(&f),
        ..PlaneOptions::default()
    };
    let part = plane_partition(&net, &plane, Shape::disc(2.0), opts).unwrap();
    assert!(part.region_count() > 10);
    assert!((*done.lock().unwrap() - 1.0).abs() < 1e-9);
}

/// The kernels on the dispatched path (AVX2 and FMA here) against pulp's scalar
/// fallback, which other CPUs run: the box classification agrees exactly, the
/// composition (fused there, not here) to rounding.
#[test]
fn slice_kernels_agree_with_the_scalar_fallback() {
    let mut rng = StdRng::seed_from_u64(5);
    for trial in 0..50 {
        let (n_in, n_out) = (rng.random_range(1..40), rng.random_range(1..40));
        let cols: Vec<f64> = (0..n_in * n_out)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let bias: Vec<f64> = (0..n_out).map(|_| rng.random_range(-1.0..1.0)).collect();
        let layer = LayerData {
            n_out,
            row_l1: (0..n_out)
                .map(|i| (0..n_in).map(|j| cols[j * n_out + i].abs()).sum())
                .collect(),
            cols,
            bias: bias.clone(),
            tol_factor: 64.0 * (n_in as f64 + 1.0) * f64::EPSILON,
        };
        let h = Map {
            coef: (0..3 * n_in).map(|_| rng.random_range(-2.0..2.0)).collect(),
            n: n_in,
            scale: 3.0,
        };
        let js: Vec<usize> = (0..n_in).filter(|_| rng.random_bool(0.7)).collect();
        let (mut wide, mut scalar) = (Map::with_bias(&bias), Map::with_bias(&bias));
        wide.add_columns(&layer, &js, &h);
        AddColumns {
            map: &mut scalar,
            layer: &layer,
            js: &js,
            h: &h,
        }
        .with_simd(pulp::Scalar::new());
        // Every entry is at most 1 + 2 |js| in magnitude (|w|, |bias| <= 1, |h| <= 2).
        let size = 1.0 + 2.0 * js.len() as f64;
        for (x, y) in wide.coef.iter().zip(&scalar.coef) {
            assert!((x - y).abs() <= 1e-14 * size, "trial {trial}: {x} vs {y}");
        }
        let run = |scalar_path: bool| {
            let (mut tols, mut state) = (vec![0.0; n_out], vec![0_u8; n_out]);
            let kernel = ClassifyOnBox {
                map: &wide,
                layer: &layer,
                centre: [0.3, -0.2],
                half: [0.5, 0.25],
                tols: &mut tols,
                state: &mut state,
            };
            if scalar_path {
                kernel.with_simd(pulp::Scalar::new());
            } else {
                vectorized(kernel);
            }
            (tols, state)
        };
        assert_eq!(run(true), run(false), "trial {trial}");
    }
}
#[test]
fn coordinates_invert_the_plane_and_class_areas_tile_the_shape() {
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..20 {
        let d = rng.random_range(2..6);
        let plane = random_plane(&mut rng, d);
        // Skewed, unnormalised directions: the projection must still invert `point`.
        let skew = Plane::new(
            plane.center().to_vec(),
            plane.u().iter().map(|x| 3.0 * x).collect(),
            plane
                .u()
                .iter()
                .zip(plane.v())
                .map(|(a, b)| a + 0.5 * b)
                .collect(),
        )
        .unwrap();
        let p = [rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)];
        let back = skew.coordinates(&skew.point(p));
        assert!(
            (back[0] - p[0]).abs() < 1e-9 && (back[1] - p[1]).abs() < 1e-9,
            "{back:?} {p:?}"
        );
    }
    let net = crate::random::random_network(
        &[3, 8, 8, 3],
        crate::random::Init::He,
        false,
        &mut StdRng::seed_from_u64(8),
    );
    let plane = Plane::random_orthonormal(vec![0.0; 3], 3).unwrap();
    let part = plane_partition(&net, &plane, Shape::square(1.0), PlaneOptions::default()).unwrap();
    for decision in [Decision::ArgMax, Decision::ArgMin] {
        let total: f64 = part.class_areas(decision).iter().sum();
        assert!(
            (total - part.shape_area).abs() < 1e-9 * part.shape_area,
            "{total}"
        );
    }
}
