//! The partition's inner loops as SIMD kernels (AVX2 and FMA by runtime dispatch,
//! [`crate::simd::vectorized`]; each has a test against pulp's scalar fallback) and the
//! per-thread buffers they work in.

use pulp::{Simd, WithSimd};

use super::Point2;
use super::partition::Piece;
use crate::pattern::ActivationPattern;
use crate::simd::vectorized;

/// Per layer: the weights by columns and what the tolerances need.
pub(super) struct LayerData {
    pub(super) n_out: usize,
    /// Column `j` of `W` at `cols[j * n_out..(j + 1) * n_out]`.
    pub(super) cols: Vec<f64>,
    pub(super) bias: Vec<f64>,
    pub(super) row_l1: Vec<f64>,
    /// `64 (n_in + 1) eps`.
    pub(super) tol_factor: f64,
}

impl LayerData {
    pub(super) fn col(&self, j: usize) -> &[f64] {
        &self.cols[j * self.n_out..(j + 1) * self.n_out]
    }
}

/// The pre-activations of one layer as affine functions of `(a, b)` on a polygon:
/// `z_k = a_k a + b_k b + c_k`; `scale` is the `S` of the tolerance (largest input
/// magnitude of the layer over the shape).
#[derive(Default)]
pub(super) struct Map {
    /// `[a_0 .. a_{n-1}, b_0 .. b_{n-1}, c_0 .. c_{n-1}]`, one allocation.
    pub(super) coef: Vec<f64>,
    pub(super) n: usize,
    pub(super) scale: f64,
}

impl Clone for Map {
    fn clone(&self) -> Self {
        Self {
            coef: self.coef.clone(),
            n: self.n,
            scale: self.scale,
        }
    }

    /// Reuses `self`'s buffer.
    fn clone_from(&mut self, other: &Self) {
        self.coef.clone_from(&other.coef);
        self.n = other.n;
        self.scale = other.scale;
    }
}

impl Map {
    pub(super) fn with_bias(bias: &[f64]) -> Self {
        let mut map = Self::default();
        map.reset(bias);
        map
    }

    /// `a = b = 0`, `c = bias`, `scale = 0`, in the existing buffer.
    pub(super) fn reset(&mut self, bias: &[f64]) {
        self.n = bias.len();
        self.coef.clear();
        self.coef.resize(2 * self.n, 0.0);
        self.coef.extend_from_slice(bias);
        self.scale = 0.0;
    }

    pub(super) fn a(&self) -> &[f64] {
        &self.coef[..self.n]
    }

    pub(super) fn b(&self) -> &[f64] {
        &self.coef[self.n..2 * self.n]
    }

    pub(super) fn c(&self) -> &[f64] {
        &self.coef[2 * self.n..]
    }

    /// `(a_k, b_k, c_k)`.
    pub(super) fn at(&self, k: usize) -> (f64, f64, f64) {
        (
            self.coef[k],
            self.coef[self.n + k],
            self.coef[2 * self.n + k],
        )
    }

    pub(super) fn parts_mut(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]) {
        let (a, rest) = self.coef.split_at_mut(self.n);
        let (b, c) = rest.split_at_mut(self.n);
        (a, b, c)
    }

    /// `self += sum over j in js of col_j ⊗ (h.a_j, h.b_j, h.c_j)` ([`AddColumns`]).
    pub(super) fn add_columns(&mut self, layer: &LayerData, js: &[usize], h: &Map) {
        vectorized(AddColumns {
            map: self,
            layer,
            js,
            h,
        });
    }

    pub(super) fn eval(&self, k: usize, p: Point2) -> f64 {
        let (a, b, c) = self.at(k);
        a * p[0] + b * p[1] + c
    }
}

/// The kernel of [`Map::add_columns`]: four columns at a time (one pass over the
/// accumulators per four columns), then the rest one by one. A [`WithSimd`] type rather
/// than a closure, so that its loops are compiled inside [`vectorized`]'s wide function.
/// Where the CPU has FMA the products are fused into the sums (one rounding instead of
/// two: 6-10% faster on mnist-net_256x6 slices); elsewhere they are separate, so the
/// composed maps can differ in their last bits between the two kinds of CPU, well within
/// the vertex tolerances of the module documentation.
pub(super) struct AddColumns<'a> {
    pub(super) map: &'a mut Map,
    pub(super) layer: &'a LayerData,
    pub(super) js: &'a [usize],
    pub(super) h: &'a Map,
}

impl WithSimd for AddColumns<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { map, layer, js, h } = self;
        let mut chunks = js.chunks_exact(4);
        let (a, b, c) = map.parts_mut();
        for q in &mut chunks {
            let (c0, c1, c2, c3) = (
                layer.col(q[0]),
                layer.col(q[1]),
                layer.col(q[2]),
                layer.col(q[3]),
            );
            let hs = [h.at(q[0]), h.at(q[1]), h.at(q[2]), h.at(q[3])];
            let ha = [hs[0].0, hs[1].0, hs[2].0, hs[3].0];
            let hb = [hs[0].1, hs[1].1, hs[2].1, hs[3].1];
            let hc = [hs[0].2, hs[1].2, hs[2].2, hs[3].2];
            for (i, ((a, b), c)) in a.iter_mut().zip(b.iter_mut()).zip(c.iter_mut()).enumerate() {
                let w = [c0[i], c1[i], c2[i], c3[i]];
                if S::IS_SCALAR {
                    *a += (w[0] * ha[0] + w[1] * ha[1]) + (w[2] * ha[2] + w[3] * ha[3]);
                    *b += (w[0] * hb[0] + w[1] * hb[1]) + (w[2] * hb[2] + w[3] * hb[3]);
                    *c += (w[0] * hc[0] + w[1] * hc[1]) + (w[2] * hc[2] + w[3] * hc[3]);
                } else {
                    let fused = |acc: f64, h: &[f64; 4]| {
                        let acc = w[0].mul_add(h[0], acc);
                        let acc = w[1].mul_add(h[1], acc);
                        w[3].mul_add(h[3], w[2].mul_add(h[2], acc))
                    };
                    *a = fused(*a, &ha);
                    *b = fused(*b, &hb);
                    *c = fused(*c, &hc);
                }
            }
        }
        for &j in chunks.remainder() {
            let (ha, hb, hc) = h.at(j);
            let col = layer.col(j);
            for (((a, b), c), &w) in a.iter_mut().zip(b.iter_mut()).zip(c.iter_mut()).zip(col) {
                if S::IS_SCALAR {
                    *a += w * ha;
                    *b += w * hb;
                    *c += w * hc;
                } else {
                    *a = w.mul_add(ha, *a);
                    *b = w.mul_add(hb, *b);
                    *c = w.mul_add(hc, *c);
                }
            }
        }
    }
}

/// [`ClassifyOnBox`]: neuron active on the whole bounding box (beyond its tolerance).
pub(super) const BOX_ACTIVE: u8 = 1;

/// [`ClassifyOnBox`]: neuron neither active nor inactive on the whole bounding box.
pub(super) const BOX_OPEN: u8 = 2;

/// For every neuron `k` of a layer, on the box `centre ± half` of the `(a, b)` plane: its
/// vertex tolerance `tol_k` (module documentation) and whether `z_k > tol_k` on the whole
/// box ([`BOX_ACTIVE`]: `z_k(centre) - |a_k| half_a - |b_k| half_b > tol_k`), `z_k < -tol_k`
/// on it (0), or neither ([`BOX_OPEN`]). Branch-free, so it vectorises.
pub(super) struct ClassifyOnBox<'a> {
    pub(super) map: &'a Map,
    pub(super) layer: &'a LayerData,
    pub(super) centre: Point2,
    pub(super) half: Point2,
    pub(super) tols: &'a mut [f64],
    pub(super) state: &'a mut [u8],
}

impl WithSimd for ClassifyOnBox<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self {
            map,
            layer,
            centre,
            half,
            tols,
            state,
        } = self;
        let (tf, scale) = (layer.tol_factor, map.scale);
        let terms = map
            .a()
            .iter()
            .zip(map.b())
            .zip(map.c())
            .zip(layer.row_l1.iter().zip(&layer.bias));
        for ((((a, b), c), (l1, bias)), (tol, state)) in terms.zip(tols.iter_mut().zip(state)) {
            let t = tf * (l1 * scale + bias.abs());
            let zc = a * centre[0] + b * centre[1] + c;
            let spread = a.abs() * half[0] + b.abs() * half[1];
            let (on, off) = (zc - spread > t, zc + spread < -t);
            *state = u8::from(on) | (u8::from(!on && !off) << 1);
            *tol = t;
        }
    }
}

/// Makes `v` at least `n` long (new entries zero).
pub(super) fn grow<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::default());
    }
}

/// The buffers of one [`super::partition::Run::process`] frame, reused by the frames that follow on the same
/// thread: a frame takes one from the thread's stack on entry and puts it back on exit, so
/// nested frames (the recursion, and rayon tasks run while a frame waits) never share one,
/// and a thread holds about one per layer.
#[derive(Default)]
pub(super) struct FrameBuffers {
    pub(super) state: Vec<u8>,
    pub(super) tols_all: Vec<f64>,
    pub(super) open: Vec<usize>,
    pub(super) cuts: Vec<usize>,
    pub(super) tols: Vec<f64>,
    pub(super) z: Vec<f64>,
    pub(super) pieces: Vec<Piece>,
    pub(super) next: Vec<Piece>,
    pub(super) js: Vec<usize>,
    pub(super) child_js: Vec<usize>,
    pub(super) base_pattern: ActivationPattern,
    pub(super) child_pattern: ActivationPattern,
    pub(super) base: Map,
    pub(super) child: Map,
}

thread_local! {
    static WORKSPACES: std::cell::RefCell<Vec<FrameBuffers>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl FrameBuffers {
    pub(super) fn take() -> Self {
        WORKSPACES
            .with(|w| w.borrow_mut().pop())
            .unwrap_or_default()
    }

    pub(super) fn give(self) {
        WORKSPACES.with(|w| w.borrow_mut().push(self));
    }
}
