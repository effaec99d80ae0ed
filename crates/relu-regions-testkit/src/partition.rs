//! The invariants every exact 2-D partition must satisfy, checked on a real network.

use std::collections::HashSet;

use relu_regions::slice::plane::{
    Plane, PlaneOptions, PlanePartition, Shape, patterns_at, plane_partition,
};
use relu_regions::{ActivationPattern, Network};

/// Computes the exact partition of `shape` in `plane` (default options) and asserts its
/// invariants: every region verified (`unverified == 0`); the region areas add up to the
/// shape's area (relative difference below `1e-9`); no activation pattern twice; at most
/// as many linear pieces as regions; and, against the `n x n` grid of the shape, at least
/// as many regions as distinct grid patterns, every grid pattern being some region's.
/// `what` names the case in failure messages. Returns the partition for further checks.
///
/// (The unit tests of `relu_regions::slice::plane` check more on small random networks:
/// polygon areas, interiors, output errors; they cannot use this crate.)
pub fn check_plane_partition(
    net: &Network,
    plane: &Plane,
    shape: Shape,
    n: usize,
    what: &str,
) -> PlanePartition {
    let part = plane_partition(net, plane, shape, PlaneOptions::default()).unwrap();
    assert_eq!(part.unverified, 0, "{what}");
    let rel = (part.area_total - part.shape_area).abs() / part.shape_area;
    assert!(rel < 1e-9, "{what}: relative area difference {rel}");
    let patterns: HashSet<&ActivationPattern> = part.regions.iter().map(|r| &r.pattern).collect();
    assert_eq!(
        patterns.len(),
        part.region_count(),
        "{what}: a pattern twice"
    );
    assert!(part.pieces <= part.region_count());
    let grid = shape.grid(n);
    let sampled = patterns_at(net, plane, &grid).unwrap();
    let distinct: HashSet<&ActivationPattern> = sampled.iter().collect();
    assert!(
        part.region_count() >= distinct.len(),
        "{what}: {} regions but {} grid patterns",
        part.region_count(),
        distinct.len()
    );
    for p in &distinct {
        assert!(patterns.contains(p), "{what}: a grid pattern in no region");
    }
    part
}
