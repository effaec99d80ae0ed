//! The decision boundary of a partition and the adjacency of its regions.

use super::*;

impl PlanePartition {
    /// The regions adjacent to each region (sharing a piece of an edge), by locating the
    /// point just across the midpoint of every edge (`1e-9 R` outside it). This finds every
    /// pair of neighbours one of which has a whole edge on their common boundary (in a
    /// partition by convex polygons, nearly all); it is meant for colouring pictures.
    pub fn neighbours(&self) -> Vec<Vec<usize>> {
        let r = self.shape.extent();
        let index = RegionIndex::new(&self.regions, r);
        let found: Vec<Vec<usize>> = self
            .regions
            .par_iter()
            .map(|region| {
                let poly = &region.vertices;
                let m = poly.len();
                let mut out: Vec<usize> = (0..m)
                    .filter_map(|i| {
                        let (a, b) = (poly[i], poly[(i + 1) % m]);
                        let e = [b[0] - a[0], b[1] - a[1]];
                        let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
                        if el == 0.0 {
                            return None;
                        }
                        let step = 1e-9 * r;
                        let q = [
                            0.5 * (a[0] + b[0]) + step * e[1] / el,
                            0.5 * (a[1] + b[1]) - step * e[0] / el,
                        ];
                        index.locate(q)
                    })
                    .collect();
                out.sort_unstable();
                out.dedup();
                out
            })
            .collect();
        // Symmetrise.
        let mut adj: Vec<Vec<usize>> = found.clone();
        for (i, list) in found.iter().enumerate() {
            for &j in list {
                if j != i {
                    adj[j].push(i);
                }
            }
        }
        for (i, list) in adj.iter_mut().enumerate() {
            list.retain(|&j| j != i);
            list.sort_unstable();
            list.dedup();
        }
        adj
    }
}

/// A bucket grid over the regions' bounding boxes, for point location.
pub(super) struct RegionIndex<'a> {
    pub(super) regions: &'a [PlaneRegion],
    pub(super) n: usize,
    pub(super) r: f64,
    pub(super) buckets: Vec<Vec<usize>>,
}

impl<'a> RegionIndex<'a> {
    pub(super) fn new(regions: &'a [PlaneRegion], r: f64) -> Self {
        let n = ((regions.len() as f64).sqrt().ceil() as usize).clamp(1, 512);
        let mut buckets = vec![Vec::new(); n * n];
        let cell = |x: f64| -> usize {
            (((x + r) / (2.0 * r) * n as f64).floor().max(0.0) as usize).min(n - 1)
        };
        for (k, reg) in regions.iter().enumerate() {
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for p in &reg.vertices {
                for i in 0..2 {
                    lo[i] = lo[i].min(p[i]);
                    hi[i] = hi[i].max(p[i]);
                }
            }
            for i in cell(lo[0])..=cell(hi[0]) {
                for j in cell(lo[1])..=cell(hi[1]) {
                    buckets[i * n + j].push(k);
                }
            }
        }
        Self {
            regions,
            n,
            r,
            buckets,
        }
    }

    /// The index of a region containing `p` strictly, if any.
    pub(super) fn locate(&self, p: Point2) -> Option<usize> {
        let cell = |x: f64| -> Option<usize> {
            let c = ((x + self.r) / (2.0 * self.r) * self.n as f64).floor();
            (c >= 0.0 && c < self.n as f64).then_some(c as usize)
        };
        let (i, j) = (cell(p[0])?, cell(p[1])?);
        self.buckets[i * self.n + j]
            .iter()
            .copied()
            .find(|&k| polygon::contains(&self.regions[k].vertices, p))
    }
}

/// The decision-boundary segments inside one region.
pub(super) fn decision_segments(
    region: &PlaneRegion,
    decision: Decision,
    r: f64,
    index: &RegionIndex<'_>,
) -> Vec<[Point2; 2]> {
    let s = region.output.scores(decision);
    let nc = s.offset.len();
    let scale = (0..nc)
        .map(|i| (s.slope[i][0].abs() + s.slope[i][1].abs()) * r + s.offset[i].abs())
        .fold(0.0_f64, f64::max);
    if scale == 0.0 {
        return Vec::new();
    }
    let tol = 1e-12 * scale;
    // Classes within `tol` of the top at a vertex or the interior point.
    let mut candidate = vec![false; nc];
    for &p in region
        .vertices
        .iter()
        .chain(std::iter::once(&region.interior))
    {
        let v = s.eval(p);
        let top = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (c, &x) in v.iter().enumerate() {
            if x >= top - tol {
                candidate[c] = true;
            }
        }
    }
    let k_set: Vec<usize> = (0..nc).filter(|&c| candidate[c]).collect();
    if k_set.len() < 2 {
        return Vec::new();
    }
    let poly = &region.vertices;
    let m = poly.len();
    let delta = 1e-9 * r;
    let min_len = 1e-9 * r;
    let mut out = Vec::new();
    for (x, &j) in k_set.iter().enumerate() {
        for &k in &k_set[x + 1..] {
            let g = [
                s.slope[j][0] - s.slope[k][0],
                s.slope[j][1] - s.slope[k][1],
                s.offset[j] - s.offset[k],
            ];
            let gn2 = g[0] * g[0] + g[1] * g[1];
            let gn = gn2.sqrt();
            if gn * r <= tol {
                continue; // a tie on the whole region, or no tie
            }
            let c = region.interior;
            let gc = g[0] * c[0] + g[1] * c[1] + g[2];
            let p0 = [c[0] - gc * g[0] / gn2, c[1] - gc * g[1] / gn2];
            let d = [-g[1] / gn, g[0] / gn];
            let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
            // Constrain `c0 + c1 t >= 0`. A constraint parallel to the line (`|c1| <=
            // parallel`) holds or fails on all of it, with `slack` for rounding: this is
            // what keeps a tie that runs along a region edge.
            let mut constrain = |c0: f64, c1: f64, parallel: f64, slack: f64| {
                if c1.abs() <= parallel {
                    if c0 < -slack {
                        lo = f64::INFINITY;
                    }
                } else if c1 > 0.0 {
                    lo = lo.max(-c0 / c1);
                } else {
                    hi = hi.min(-c0 / c1);
                }
            };
            for i in 0..m {
                let (a, b) = (poly[i], poly[(i + 1) % m]);
                let e = [b[0] - a[0], b[1] - a[1]];
                let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
                if el == 0.0 {
                    continue;
                }
                let c0 = (e[0] * (p0[1] - a[1]) - e[1] * (p0[0] - a[0])) / el;
                let c1 = (e[0] * d[1] - e[1] * d[0]) / el;
                constrain(c0, c1, 1e-9, delta);
            }
            for i in 0..nc {
                if i == j || i == k {
                    continue;
                }
                let h = [
                    s.slope[j][0] - s.slope[i][0],
                    s.slope[j][1] - s.slope[i][1],
                    s.offset[j] - s.offset[i],
                ];
                let c0 = h[0] * p0[0] + h[1] * p0[1] + h[2];
                let c1 = h[0] * d[0] + h[1] * d[1];
                constrain(c0, c1, tol / r, tol);
            }
            // (Written so that an empty interval, where `hi - lo` may be NaN, is skipped.)
            let long_enough = hi - lo > min_len;
            if !long_enough {
                continue;
            }
            let pa = [p0[0] + lo * d[0], p0[1] + lo * d[1]];
            let pb = [p0[0] + hi * d[0], p0[1] + hi * d[1]];
            let mid = [0.5 * (pa[0] + pb[0]), 0.5 * (pa[1] + pb[1])];
            // Does the segment run along an edge of the region?
            let on_edge = (0..m).find(|&i| {
                let (a, b) = (poly[i], poly[(i + 1) % m]);
                let e = [b[0] - a[0], b[1] - a[1]];
                let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
                el > 0.0
                    && ((e[0] * (mid[1] - a[1]) - e[1] * (mid[0] - a[0])) / el).abs() <= 1e-9 * r
                    && (e[0] * d[1] - e[1] * d[0]).abs() / el <= 1e-9
            });
            if let Some(i) = on_edge {
                // Kept once: from the side of class j (g > 0 inside), when the class just
                // across the edge is k.
                if gc <= 0.0 {
                    continue;
                }
                let (a, b) = (poly[i], poly[(i + 1) % m]);
                let e = [b[0] - a[0], b[1] - a[1]];
                let el = (e[0] * e[0] + e[1] * e[1]).sqrt();
                let outward = [e[1] / el, -e[0] / el];
                let step = 1e-7 * r;
                let q = [mid[0] + step * outward[0], mid[1] + step * outward[1]];
                let across = index.locate(q).map(|other| {
                    let v = index.regions[other].output.scores(decision).eval(q);
                    argmax(&v)
                });
                if across != Some(k) {
                    continue;
                }
            }
            out.push([pa, pb]);
        }
    }
    out
}
