//! The partition of a slice into activation regions: polygons split layer by layer by
//! each neuron's zero line (see the module docs of [`super`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::kernels::{BOX_ACTIVE, BOX_OPEN, ClassifyOnBox, FrameBuffers, LayerData, Map, grow};
use super::pieces::count_pieces;
use super::verify::verify;
use super::*;
use crate::error::NetworkError;
use crate::simd::vectorized;

/// A polygon of the partition in progress.
pub(super) struct Piece {
    pub(super) poly: Vec<Point2>,
    pub(super) area: f64,
    /// States of the current layer's cutting neurons, in the order of `cuts`.
    pub(super) cut_active: CutBits,
}

/// A list of bits, inline up to 128 (no allocation for the common case).
#[derive(Clone, Default)]
pub(super) struct CutBits {
    pub(super) len: usize,
    pub(super) small: u128,
    pub(super) large: Vec<u64>,
}

impl CutBits {
    pub(super) fn push(&mut self, on: bool) {
        if self.len < 128 {
            self.small |= u128::from(on) << self.len;
        } else {
            let i = self.len - 128;
            if i % 64 == 0 {
                self.large.push(0);
            }
            self.large[i / 64] |= u64::from(on) << (i % 64);
        }
        self.len += 1;
    }

    pub(super) fn get(&self, i: usize) -> bool {
        if i < 128 {
            self.small >> i & 1 == 1
        } else {
            let i = i - 128;
            self.large[i / 64] >> (i % 64) & 1 == 1
        }
    }
}

/// The state of one run.
pub(super) struct Run<'a> {
    pub(super) layers: Vec<LayerData>,
    /// `leaks[l]`: for a leaky activated layer `l` with a layer after it, that layer's
    /// data with column `j` times `α_j` (what an inactive neuron `j` of layer `l` feeds
    /// forward); `None` for a ReLU layer.
    pub(super) leaks: Vec<Option<LayerData>>,
    /// Per activated layer, the negative slopes (`None` for ReLU).
    pub(super) slopes: Vec<Option<Vec<f64>>>,
    pub(super) relu_layers: usize,
    pub(super) starts: Vec<usize>,
    pub(super) extent: f64,
    pub(super) shape_area: f64,
    pub(super) max_regions: usize,
    pub(super) count: AtomicUsize,
    pub(super) overflow: AtomicBool,
    pub(super) merged: AtomicUsize,
    pub(super) progress: Option<&'a (dyn Fn(f64) + Sync)>,
}

impl Run<'_> {
    /// Partitions `poly` (a polygon of the partition by layers `< l`, on which layer `l`'s
    /// pre-activations are `map` and the earlier neurons' states are in `pattern`) by the
    /// remaining layers, appending the regions to `out`.
    pub(super) fn process(
        &self,
        l: usize,
        poly: Vec<Point2>,
        area: f64,
        map: &Map,
        pattern: &ActivationPattern,
        out: &mut Vec<PlaneRegion>,
    ) {
        if self.overflow.load(Ordering::Relaxed) {
            return;
        }
        let mut ws = FrameBuffers::take();
        self.process_in(&mut ws, l, poly, area, map, pattern, out);
        FrameBuffers::give(ws);
    }

    /// [`Run::process`] with the buffers of `ws`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn process_in(
        &self,
        ws: &mut FrameBuffers,
        l: usize,
        poly: Vec<Point2>,
        area: f64,
        map: &Map,
        pattern: &ActivationPattern,
        out: &mut Vec<PlaneRegion>,
    ) {
        let ld = &self.layers[l];
        let n = ld.n_out;
        // 1. Classify the layer's neurons on the polygon.
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in &poly {
            for i in 0..2 {
                lo[i] = lo[i].min(p[i]);
                hi[i] = hi[i].max(p[i]);
            }
        }
        let centre = [0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])];
        let half = [0.5 * (hi[0] - lo[0]), 0.5 * (hi[1] - lo[1])];
        // Bounding-box test first, for all neurons at once: one evaluation at the box's
        // centre decides most of them. Then the neurons it leaves open are tested at the
        // vertices. `js` collects the neurons active on the whole polygon.
        // (Buffers only grow: the kernel and the compaction write every entry they read.)
        grow(&mut ws.state, n);
        grow(&mut ws.tols_all, n);
        vectorized(ClassifyOnBox {
            map,
            layer: ld,
            centre,
            half,
            tols: &mut ws.tols_all[..n],
            state: &mut ws.state[..n],
        });
        // Branch-free compaction of the active and the open neurons, skipping eight
        // inactive neurons (a zero word) at a time.
        grow(&mut ws.js, n);
        grow(&mut ws.open, n);
        let (mut n_active, mut n_open) = (0, 0);
        for (w, chunk) in ws.state[..n].chunks(8).enumerate() {
            if chunk.len() == 8 && chunk.iter().all(|&s| s == 0) {
                continue;
            }
            for (t, &state) in chunk.iter().enumerate() {
                let k = 8 * w + t;
                ws.js[n_active] = k;
                n_active += usize::from(state == BOX_ACTIVE);
                ws.open[n_open] = k;
                n_open += usize::from(state == BOX_OPEN);
            }
        }

        ws.cuts.clear();
        ws.tols.clear();
        for &k in &ws.open[..n_open] {
            let tol = ws.tols_all[k];
            let (mut zlo, mut zhi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &p in &poly {
                let z = map.eval(k, p);
                zlo = zlo.min(z);
                zhi = zhi.max(z);
            }
            if zhi > tol && zlo < -tol {
                ws.cuts.push(k);
                ws.tols.push(tol);
            } else if zhi > tol
                // Numerically zero on the whole polygon: the sign at the vertex mean.
                || (zlo >= -tol && map.eval(k, polygon::vertex_mean(&poly)) > 0.0)
            {
                ws.js[n_active] = k;
                n_active += 1;
            }
        }
        // A leaky layer's inactive neurons feed `α z` forward: those inactive on the
        // whole polygon (neither active nor cutting).
        let leak = self.leaks.get(l).and_then(Option::as_ref);
        let inactive: Vec<usize> = if leak.is_some() {
            let mut passing = vec![false; n];
            for &k in ws.js[..n_active].iter().chain(&ws.cuts) {
                passing[k] = true;
            }
            (0..n).filter(|&k| !passing[k]).collect()
        } else {
            Vec::new()
        };
        let alpha = |k: usize| self.slopes[l].as_ref().map_or(0.0, |a| a[k]);
        // 2. Split by the cutting neurons (two piece lists and one value buffer, reused).
        let mut pieces = std::mem::take(&mut ws.pieces);
        let mut next = std::mem::take(&mut ws.next);
        pieces.clear();
        pieces.push(Piece {
            poly,
            area,
            cut_active: CutBits::default(),
        });
        for (&k, &tol) in ws.cuts.iter().zip(&ws.tols) {
            next.clear();
            for mut piece in pieces.drain(..) {
                ws.z.clear();
                ws.z.extend(piece.poly.iter().map(|&p| map.eval(k, p)));
                let (zlo, zhi) =
                    ws.z.iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                            (a.min(v), b.max(v))
                        });
                if zhi > tol && zlo < -tol {
                    let (plus, minus) = polygon::split(&piece.poly, &ws.z, tol);
                    let (ap, am) = (polygon::area(&plus), polygon::area(&minus));
                    let plus_ok = plus.len() >= 3 && ap > polygon::area_floor(&plus);
                    let minus_ok = minus.len() >= 3 && am > polygon::area_floor(&minus);
                    if plus_ok && minus_ok {
                        let mut cut_minus = piece.cut_active.clone();
                        cut_minus.push(false);
                        piece.cut_active.push(true);
                        next.push(Piece {
                            poly: plus,
                            area: ap,
                            cut_active: piece.cut_active,
                        });
                        next.push(Piece {
                            poly: minus,
                            area: am,
                            cut_active: cut_minus,
                        });
                        continue;
                    }
                    self.merged.fetch_add(1, Ordering::Relaxed);
                    piece.cut_active.push(ap >= am);
                } else if zhi > tol {
                    piece.cut_active.push(true);
                } else if zlo < -tol {
                    piece.cut_active.push(false);
                } else {
                    let on = map.eval(k, polygon::vertex_mean(&piece.poly)) > 0.0;
                    piece.cut_active.push(on);
                }
                next.push(piece);
            }
            std::mem::swap(&mut pieces, &mut next);
        }
        ws.next = next;
        // 3. Freeze the layer and compose with the next one.
        ws.base_pattern.clone_from(pattern);
        let active = &ws.js[..n_active];
        for &k in active {
            ws.base_pattern.set(self.starts[l] + k, true);
        }
        let last = l + 1 == self.relu_layers;
        // The layer fed by this one: the next hidden layer, the output layer, or none when
        // this is the output layer (output ReLU).
        let next_layer = self.layers.get(l + 1);
        if let Some(next_layer) = next_layer {
            ws.base.reset(&next_layer.bias);
            ws.base.add_columns(next_layer, active, map);
            ws.base.scale = active.iter().fold(0.0, |s, &j| {
                let (ha, hb, hc) = map.at(j);
                s.max((ha.abs() + hb.abs()) * self.extent + hc.abs())
            });
            if let Some(leak) = leak {
                ws.base.add_columns(leak, &inactive, map);
                ws.base.scale = inactive.iter().fold(ws.base.scale, |s, &j| {
                    let (ha, hb, hc) = map.at(j);
                    s.max(alpha(j) * ((ha.abs() + hb.abs()) * self.extent + hc.abs()))
                });
            }
        }
        // The pattern and (when there is a next layer) the next layer's map of a piece.
        let mut m = std::mem::take(&mut ws.child);
        // One piece: its map is the base itself (no copy).
        let single = pieces.len() == 1;
        if single {
            std::mem::swap(&mut m, &mut ws.base);
        }
        let child = |piece: &Piece, js: &mut Vec<usize>, p: &mut ActivationPattern, m: &mut Map| {
            p.clone_from(&ws.base_pattern);
            js.clear();
            for (i, &k) in ws.cuts.iter().enumerate() {
                if piece.cut_active.get(i) {
                    p.set(self.starts[l] + k, true);
                    js.push(k);
                }
            }
            if let Some(next_layer) = next_layer {
                if !single {
                    m.clone_from(&ws.base);
                }
                m.add_columns(next_layer, js, map);
                for &k in js.iter() {
                    let (ha, hb, hc) = map.at(k);
                    m.scale = m.scale.max((ha.abs() + hb.abs()) * self.extent + hc.abs());
                }
                if let Some(leak) = leak {
                    // The inactive cutting neurons feed α z.
                    let off: Vec<usize> = ws
                        .cuts
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| !piece.cut_active.get(i))
                        .map(|(_, &k)| k)
                        .collect();
                    m.add_columns(leak, &off, map);
                    for &k in &off {
                        let (ha, hb, hc) = map.at(k);
                        m.scale = m
                            .scale
                            .max(alpha(k) * ((ha.abs() + hb.abs()) * self.extent + hc.abs()));
                    }
                }
            }
        };
        let mut js = std::mem::take(&mut ws.child_js);
        if last {
            for piece in pieces.drain(..) {
                let mut p = ActivationPattern::default();
                child(&piece, &mut js, &mut p, &mut m);
                let output = if next_layer.is_some() {
                    PlaneAffine {
                        slope: m.a().iter().zip(m.b()).map(|(&a, &b)| [a, b]).collect(),
                        offset: m.c().to_vec(),
                    }
                } else {
                    // Output ReLU: the output map is this layer's, times the
                    // activation's slope (1 active, α or 0 inactive).
                    let d = |k: usize| {
                        if p.get(self.starts[l] + k) == Some(true) {
                            1.0
                        } else {
                            alpha(k)
                        }
                    };
                    PlaneAffine {
                        slope: (0..n)
                            .map(|k| [d(k) * map.a()[k], d(k) * map.b()[k]])
                            .collect(),
                        offset: (0..n).map(|k| d(k) * map.c()[k]).collect(),
                    }
                };
                self.push_region(piece, p, output, out);
            }
        } else if pieces.len() > 1 && l < 2 {
            let parts: Vec<Vec<PlaneRegion>> = pieces
                .par_drain(..)
                .map(|piece| {
                    let (mut js, mut p, mut m) =
                        (Vec::new(), ActivationPattern::default(), Map::default());
                    child(&piece, &mut js, &mut p, &mut m);
                    let mut v = Vec::new();
                    let a = piece.area;
                    self.process(l + 1, piece.poly, a, &m, &p, &mut v);
                    self.report(l + 1, a);
                    v
                })
                .collect();
            out.extend(parts.into_iter().flatten());
        } else {
            let mut p = std::mem::take(&mut ws.child_pattern);
            for piece in pieces.drain(..) {
                child(&piece, &mut js, &mut p, &mut m);
                let a = piece.area;
                self.process(l + 1, piece.poly, a, &m, &p, out);
                self.report(l + 1, a);
            }
            ws.child_pattern = p;
        }
        ws.child_js = js;
        ws.child = m;
        ws.pieces = pieces;
    }

    /// Progress at the end of a polygon of the first layer's partition.
    pub(super) fn report(&self, l: usize, area: f64) {
        if l == 1
            && let Some(f) = self.progress
        {
            f(area / self.shape_area);
        }
    }

    pub(super) fn push_region(
        &self,
        piece: Piece,
        pattern: ActivationPattern,
        output: PlaneAffine,
        out: &mut Vec<PlaneRegion>,
    ) {
        if self.count.fetch_add(1, Ordering::Relaxed) >= self.max_regions {
            self.overflow.store(true, Ordering::Relaxed);
            return;
        }
        let interior = polygon::centroid(&piece.poly);
        out.push(PlaneRegion {
            pattern,
            vertices: piece.poly,
            area: piece.area,
            interior,
            output,
            verified: None,
        });
    }
}

/// The exact partition of the slice `{c + a u + b v : (a, b) in shape}` into the
/// activation regions of `net` (module documentation).
pub fn plane_partition(
    net: &Network,
    plane: &Plane,
    shape: Shape,
    options: PlaneOptions<'_>,
) -> Result<PlanePartition, SliceError> {
    shape.check()?;
    if plane.dim() != net.input_dim() {
        return Err(NetworkError::InputLength {
            point: 0,
            expected: net.input_dim(),
            found: plane.dim(),
        }
        .into());
    }
    let layers: Vec<LayerData> = net
        .layers()
        .iter()
        .map(|layer| {
            let w = layer.weight();
            let (n_out, n_in) = (w.nrows(), w.ncols());
            // Column by column (contiguous in faer's layout), the row sums in column
            // order as well.
            let mut cols = Vec::with_capacity(n_in * n_out);
            let mut row_l1 = vec![0.0; n_out];
            for j in 0..n_in {
                let start = cols.len();
                match w.col(j).try_as_col_major() {
                    Some(col) => cols.extend_from_slice(col.as_slice()),
                    None => cols.extend((0..n_out).map(|i| w[(i, j)])),
                }
                for (l1, v) in row_l1.iter_mut().zip(&cols[start..]) {
                    *l1 += v.abs();
                }
            }
            LayerData {
                n_out,
                cols,
                bias: layer.bias().to_vec(),
                row_l1,
                tol_factor: 64.0 * (n_in as f64 + 1.0) * f64::EPSILON,
            }
        })
        .collect();
    let extent = shape.extent();
    let relu_layers = net.relu_layer_count();
    let slopes: Vec<Option<Vec<f64>>> = (0..relu_layers)
        .map(|l| net.negative_slopes(l).map(<[f64]>::to_vec))
        .collect();
    let leaks: Vec<Option<LayerData>> = (0..relu_layers)
        .map(|l| {
            let (alpha, next) = (slopes[l].as_ref()?, layers.get(l + 1)?);
            let mut cols = next.cols.clone();
            for (j, a) in alpha.iter().enumerate() {
                cols[j * next.n_out..(j + 1) * next.n_out]
                    .iter_mut()
                    .for_each(|v| *v *= a);
            }
            Some(LayerData {
                n_out: next.n_out,
                cols,
                bias: next.bias.clone(),
                row_l1: next.row_l1.clone(),
                tol_factor: next.tol_factor,
            })
        })
        .collect();
    let mut starts = Vec::with_capacity(relu_layers);
    let mut acc = 0;
    for w in net.relu_widths() {
        starts.push(acc);
        acc += w;
    }
    // The first layer's maps: W_1 u, W_1 v, W_1 c + b_1.
    let mut first = Map::with_bias(&layers[0].bias);
    let directions = Map {
        coef: [plane.u(), plane.v(), plane.center()].concat(),
        n: plane.dim(),
        scale: 0.0,
    };
    let all: Vec<usize> = (0..plane.dim()).collect();
    first.add_columns(&layers[0], &all, &directions);
    first.scale = (0..plane.dim())
        .map(|j| {
            let (u, v, c) = directions.at(j);
            (u.abs() + v.abs()) * extent + c.abs()
        })
        .fold(0.0, f64::max);
    let poly = shape.polygon();
    let shape_area = shape.area();
    let run = Run {
        layers,
        leaks,
        slopes,
        relu_layers,
        starts,
        extent,
        shape_area,
        max_regions: options.max_regions,
        count: AtomicUsize::new(0),
        overflow: AtomicBool::new(false),
        merged: AtomicUsize::new(0),
        progress: options.progress,
    };
    let mut regions = Vec::new();
    let area = polygon::area(&poly);
    if relu_layers == 0 {
        run.push_region(
            Piece {
                poly,
                area,
                cut_active: CutBits::default(),
            },
            ActivationPattern::inactive(0),
            PlaneAffine {
                slope: first
                    .a()
                    .iter()
                    .zip(first.b())
                    .map(|(&a, &b)| [a, b])
                    .collect(),
                offset: first.c().to_vec(),
            },
            &mut regions,
        );
    } else {
        run.process(
            0,
            poly,
            area,
            &first,
            &ActivationPattern::inactive(net.relu_count()),
            &mut regions,
        );
        if relu_layers == 1
            && let Some(f) = options.progress
        {
            f(1.0);
        }
    }
    if run.overflow.load(Ordering::Relaxed) {
        return Err(SliceError::TooManyRegions(options.max_regions));
    }
    let (unverified, max_output_error) = if options.verify {
        verify(net, plane, &mut regions)?
    } else {
        (0, 0.0)
    };
    let area_total = regions.iter().map(|r| r.area).sum();
    let pieces = count_pieces(&regions, extent);
    Ok(PlanePartition {
        shape,
        regions,
        pieces,
        shape_area,
        area_total,
        unverified,
        max_output_error,
        merged_slivers: run.merged.load(Ordering::Relaxed),
    })
}
