//! CROWN / DeepPoly backward linear bounds.
//!
//! To bound `z_{l,i} = w_i . h_{l-1} + b_i` from above over the domain, walk backward.
//! Holding a linear upper bound `Lambda . h_m + beta` (coefficients `Lambda` on the
//! post-ReLU values of layer `m`), replace each `h_{m,j} = relu(z_{m,j})` by a linear
//! function of `z_{m,j}` valid on its bounds `[L, U]`:
//!
//! - `L >= 0`: `relu(z) = z`; `U <= 0`: `relu(z) = 0` (the column is dropped);
//! - `L < 0 < U`: `alpha z <= relu(z) <= s (z - L)` with `s = U / (U - L)` and the adaptive
//!   lower slope `alpha = 1` if `U >= -L`, else `0`. A nonnegative coefficient takes the
//!   upper relaxation, a negative one the lower, so the result stays an upper bound.
//!
//! A leaky neuron (negative slope `a` in `[0, 1]`, docs/math.md §1.7) is relaxed by the
//! chord `s z + (a - s) L`, `s = (U - a L) / (U - L)`, above and a line through the origin
//! of slope `1` or `a` below ([`relaxation`]); stably inactive, it is exactly `a z` and its
//! column is kept.
//!
//! Then substitute `z_m = W_m h_{m-1} + b_m` and continue to the input, where
//! `z_{l,i} <= a . x + beta` for all `x` in the domain, and the supremum over the domain is
//! `a.c + beta + r ||a||_*` (ball) or the centre/radius form (box). Lower bounds are
//! upper bounds of `-z`, computed in the same pass. Layer by layer the result is
//! intersected with the interval bounds computed from the tightened earlier layers, so
//! [`super::Method::Crown`] is never looser than [`super::Method::Interval`]. Only neurons
//! that interval arithmetic leaves unstable are bounded by CROWN (and the output layer);
//! the coefficient matrices only carry the columns of neurons that are not stably
//! inactive (`h = 0` there exactly).
//!
//! For an L2 ball the last step uses the compressed basis of the first layer
//! (`W_1 = R^T Q^T`, see [`crate::distance`]): `||a||_2 = ||Lambda_1 R^T||_2`, so the
//! input dimension drops out of the cost.
//!
//! # Rounding
//!
//! The relaxations, biases and centre terms are computed in f64 and covered by
//! `rounding_margin`. The matrix products `Lambda_{m-1} = C_m W_m` (and the last
//! `a = C_1 W_1` or `C_1 R^T`), which are nearly all of the cost, run in f32. Whatever
//! rounding they commit (the f32 conversions of `C_m` and `W_m`, and the sums of at most
//! `n` products, `n` the widest layer) the computed `Lambda'` satisfies
//! `|Lambda' - C_m W_m| <= gamma |C_m| |W_m|` entrywise with `gamma = (n + 4) eps_f32`
//! (Higham, Thm. 3.5, with two extra unit roundoffs for the conversions). Since
//! `0 <= h_{m-1} <= U^+_{m-1}`, the bound of row `i` moves by at most
//! `gamma sum_c |C_m[i,c]| (|W_m| U^+_{m-1})_c` (for leaky neurons `max(|σ(L)|, |σ(U)|)` in
//! place of `U^+`), which is accumulated per row in f64 and
//! added to the final bound. At the input: for a ball in the compressed basis the norm
//! moves by at most `r gamma sum_c |C_1[i,c]| ||R^T_c||_1`; otherwise the centre term
//! `a.mid = C_1 (W_1 mid)` is computed in f64 and the spread `sum_t |a_t| half_t` moves by
//! at most `gamma sum_c |C_1[i,c]| (|W_1| half)_c`. An overflow to a non-finite value
//! leaves the interval bound in place.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use pulp::{Simd, WithSimd};

use super::interval::{affine_box, first_layer, relu_box};
use super::{BoundPropagator, NeuronBounds, rounding_margin};
use crate::domain::{Domain, Norm};
use crate::simd::vectorized;

/// CROWN bounds of every layer, intersected with interval bounds.
pub(crate) fn crown_bounds(p: &BoundPropagator<'_>, domain: &Domain) -> NeuronBounds {
    let net = p.net;
    let layers = net.layers().len();
    let relu_layers = net.relu_layer_count();
    let (lo, hi) = first_layer(p, domain);
    let mut pass = Backward::new(p, domain, lo, hi);
    for l in 1..layers {
        let (mid, half) = relu_box(
            &pass.lower[l - 1],
            &pass.upper[l - 1],
            net.negative_slopes(l - 1),
        );
        let (mut lo, mut hi) = affine_box(p, l, &mid, &half);
        pass.enter_layer(l);
        let rows: Vec<usize> = if l < relu_layers {
            (0..lo.len())
                .filter(|&i| lo[i] <= 0.0 && hi[i] >= 0.0)
                .collect()
        } else {
            (0..lo.len()).collect()
        };
        if !rows.is_empty() {
            let (clo, chi) = pass.bound(l, &rows);
            for (k, &i) in rows.iter().enumerate() {
                lo[i] = lo[i].max(clo[k]);
                hi[i] = hi[i].min(chi[k]);
            }
        }
        pass.lower.push(lo);
        pass.upper.push(hi);
    }
    NeuronBounds {
        lower: pass.lower,
        upper: pass.upper,
        relu_layers,
    }
}

/// The state of one CROWN run: the bounds so far and, per layer, what every backward
/// pass through it reuses.
struct Backward<'p, 'n> {
    p: &'p BoundPropagator<'n>,
    domain: &'p Domain,
    lower: Vec<Vec<f64>>,
    upper: Vec<Vec<f64>>,
    /// `kept[m]`: the neurons of layer `m` whose output may be nonzero (not stably
    /// inactive, or leaky); the only columns the coefficients on `h_m` carry.
    kept: Vec<Vec<usize>>,
    /// `w_kept[m]` (`m >= 1`): `W_m[kept[m], kept[m - 1]]` in f32.
    w_kept: Vec<Mat<f32>>,
    /// `g[m][j] = (|W_m| H_{m-1})_j` (`m >= 1`): the rounding factor of column `j`, with
    /// `H` the bound on `|h|` (`U^+` for ReLU, `max(|σ(L)|, |σ(U)|)` for leaky neurons).
    g: Vec<Vec<f64>>,
    /// The last product's right factor: rows `kept[0]` of the compressed basis (an L2
    /// ball) or of `W_1` (otherwise), in f32.
    input_kept: Mat<f32>,
    input: InputTerms,
    /// `(n + 4) eps_f32`, `n` the widest layer.
    gamma: f64,
}

/// Per first-layer neuron `j`, what the last backward step needs.
struct InputTerms {
    /// An L2 ball, concretised in the compressed basis.
    compressed: bool,
    /// `(W_1 mid)_j` and `sum_t |W_1[j,t] mid_t|`, `mid` the domain's centre.
    wc: Vec<f64>,
    wc_abs: Vec<f64>,
    /// The factor of `gamma |C_1[i,j]|` in the rounding bound of the last product.
    err: Vec<f64>,
    /// Compressed: `r ||w_{1,j}||_2`, the magnitude of the basis' own rounding.
    basis_mag: Vec<f64>,
    /// Not compressed: the half-widths of the smallest box around the domain.
    half: Vec<f64>,
}

impl InputTerms {
    fn new(p: &BoundPropagator<'_>, domain: &Domain) -> Self {
        let w0 = p.net.layers()[0].weight();
        let (n, d) = (w0.nrows(), w0.ncols());
        let (mid, half): (Vec<f64>, Vec<f64>) = match domain {
            Domain::Ball(b) => (b.center.clone(), vec![b.radius; d]),
            Domain::Box(b) => {
                b.lo.iter()
                    .zip(&b.hi)
                    .map(|(l, h)| (0.5 * (l + h), 0.5 * (h - l)))
                    .unzip()
            }
        };
        let abs = p.abs_weights[0].as_ref();
        let abs_mid: Vec<f64> = mid.iter().map(|v| v.abs()).collect();
        let wc = mat_vec(w0, &mid);
        let wc_abs = mat_vec(abs, &abs_mid);
        match domain {
            Domain::Ball(b) if b.norm == Norm::L2 => {
                let basis = p.compressed_first.as_ref();
                let ones = vec![b.radius; basis.ncols()];
                Self {
                    compressed: true,
                    wc,
                    wc_abs,
                    err: mat_vec(p.abs_compressed_first.as_ref(), &ones),
                    basis_mag: p.first_l2.iter().map(|v| b.radius * v).collect(),
                    half: Vec::new(),
                }
            }
            _ => Self {
                compressed: false,
                wc,
                wc_abs,
                err: mat_vec(abs, &half),
                basis_mag: vec![0.0; n],
                half,
            },
        }
    }
}

/// The linear relaxation of `σ(z)` (negative slope `a` in `[0, 1]`, `a = 0` for ReLU) on
/// `[lo, hi]`, as `(s, alpha, shift)`: `alpha z <= σ(z) <= s z + shift` there.
///
/// - `lo >= 0`: `σ(z) = z`: `(1, 1, 0)`; `hi <= 0` (leaky only; a ReLU column is dropped):
///   `σ(z) = a z`: `(a, a, 0)`;
/// - `lo < 0 < hi`: `σ` is convex, so the chord from `(lo, a lo)` to `(hi, hi)` lies
///   above it: `s = (hi - a lo) / (hi - lo)`, `shift = (a - s) lo >= 0`; below it, every
///   line through the origin of slope in `[a, 1]`, here `1` when `hi >= -lo`, else `a`.
///
/// The f64 rounding of `s` and `shift` is covered by the caller's `rounding_margin`.
fn relaxation(lo: f64, hi: f64, a: f64) -> (f64, f64, f64) {
    if lo >= 0.0 {
        (1.0, 1.0, 0.0)
    } else if hi <= 0.0 {
        (a, a, 0.0)
    } else {
        let s = (hi - a * lo) / (hi - lo);
        (s, if hi >= -lo { 1.0 } else { a }, (a - s) * lo)
    }
}

/// `W v`.
fn mat_vec(w: MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    let v = faer::ColRef::from_slice(v);
    let mut out = faer::Col::<f64>::zeros(w.nrows());
    matmul(out.as_mut(), Accum::Replace, w, v, 1.0, Par::Seq);
    out.iter().copied().collect()
}

/// The neurons of a layer whose output may be nonzero: not stably inactive, or leaky.
fn not_inactive(upper: &[f64], slopes: Option<&[f64]>) -> Vec<usize> {
    (0..upper.len())
        .filter(|&j| upper[j] > 0.0 || slopes.is_some_and(|a| a[j] != 0.0))
        .collect()
}

/// A bound on `|σ(z)|` for `z` in `[lo, hi]`: `max(|σ(lo)|, |σ(hi)|)`, `σ`
/// non-decreasing with `σ(0) = 0` (ReLU: `max(hi, 0)`), with a unit roundoff to spare.
fn activation_magnitude(lo: &[f64], hi: &[f64], slopes: Option<&[f64]>) -> Vec<f64> {
    match slopes {
        None => hi.iter().map(|v| v.max(0.0)).collect(),
        Some(alpha) => lo
            .iter()
            .zip(hi)
            .zip(alpha)
            .map(|((&l, &h), &a)| {
                let m = h.max(0.0).max(a * (-l).max(0.0)).max(a * (-h).max(0.0));
                m * (1.0 + f64::EPSILON)
            })
            .collect(),
    }
}

/// `W[rows, cols]` in f32.
fn gather_f32(w: MatRef<'_, f32>, rows: &[usize], cols: &[usize]) -> Mat<f32> {
    let mut out = Mat::<f32>::zeros(rows.len(), cols.len());
    for (c, &j) in cols.iter().enumerate() {
        let src = w.col(j);
        let dst = out.col_mut(c).try_as_col_major_mut().expect("owned column");
        for (o, &i) in dst.as_slice_mut().iter_mut().zip(rows) {
            *o = src[i];
        }
    }
    out
}

/// A column of an owned matrix as a slice.
fn col(m: &Mat<f32>, c: usize) -> &[f32] {
    m.col(c)
        .try_as_col_major()
        .expect("owned column")
        .as_slice()
}

impl<'p, 'n> Backward<'p, 'n> {
    fn new(p: &'p BoundPropagator<'n>, domain: &'p Domain, lo: Vec<f64>, hi: Vec<f64>) -> Self {
        let input = InputTerms::new(p, domain);
        let kept0 = not_inactive(&hi, p.net.negative_slopes(0));
        let basis = if input.compressed {
            p.compressed_first_f32.as_ref()
        } else {
            p.weights_f32[0].as_ref()
        };
        let all: Vec<usize> = (0..basis.ncols()).collect();
        let input_kept = gather_f32(basis, &kept0, &all);
        Self {
            p,
            domain,
            lower: vec![lo],
            upper: vec![hi],
            kept: vec![kept0],
            w_kept: vec![Mat::zeros(0, 0)],
            g: vec![Vec::new()],
            input_kept,
            input,
            gamma: (p.max_width + 4) as f64 * f64::from(f32::EPSILON),
        }
    }

    /// Before bounding layer `l` (all earlier layers final): `g[l]`, and the caches of
    /// layer `l - 1`.
    fn enter_layer(&mut self, l: usize) {
        let up = &self.upper[l - 1];
        let slopes = self.p.net.negative_slopes(l - 1);
        if l >= 2 {
            let m = l - 1;
            self.kept.push(not_inactive(up, slopes));
            let w = gather_f32(
                self.p.weights_f32[m].as_ref(),
                &self.kept[m],
                &self.kept[m - 1],
            );
            self.w_kept.push(w);
        }
        // |h| <= max(|σ(L)|, |σ(U)|), zero on the stably inactive ReLU neurons, so only
        // kept columns contribute.
        let up_pos = activation_magnitude(&self.lower[l - 1], up, slopes);
        self.g
            .push(mat_vec(self.p.abs_weights[l].as_ref(), &up_pos));
    }

    /// Backward pass for neurons `rows` of layer `l`: their lower and upper bounds.
    fn bound(&self, l: usize, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
        let net = self.p.net;
        let layer = &net.layers()[l];
        let w = layer.weight();
        let k = rows.len();
        let r2 = 2 * k;
        let sign = |i: usize| if i < k { 1.0 } else { -1.0 };
        let target = |i: usize| rows[i % k];
        // Row i bounds z_{rows[i]} from above; row k + i bounds -z_{rows[i]} from above.
        let mut lambda = Mat::<f32>::from_fn(r2, self.kept[l - 1].len(), |i, c| {
            (sign(i) * w[(target(i), self.kept[l - 1][c])]) as f32
        });
        let mut beta: Vec<f64> = (0..r2).map(|i| sign(i) * layer.bias()[target(i)]).collect();
        let mut beta_abs: Vec<f64> = beta.iter().map(|b| b.abs()).collect();
        // The rounding of the f32 Lambda_{l-1} itself, like a product's.
        let mut err: Vec<f64> = (0..r2).map(|i| self.g[l][target(i)]).collect();
        let mut terms = w.ncols();
        let mut m = l;
        loop {
            m -= 1;
            let (lo, hi) = (&self.lower[m], &self.upper[m]);
            let bm = net.layers()[m].bias();
            let cols = &self.kept[m];
            let col_err: &[f64] = if m == 0 { &self.input.err } else { &self.g[m] };
            // Coefficients on z_m from coefficients on h_m = relu(z_m), with the biases of
            // z_m = W_m h_{m-1} + b_m (and at the input the centre term) folded into beta.
            if (0..lambda.ncols()).any(|c| col(&lambda, c).iter().any(|v| !v.is_finite())) {
                // Overflow in f32: no CROWN bound for these neurons.
                return (vec![f64::NEG_INFINITY; k], vec![f64::INFINITY; k]);
            }
            let mut coef = Mat::<f32>::zeros(r2, cols.len());
            let leak = net.negative_slopes(m);
            for (c, &j) in cols.iter().enumerate() {
                let (lj, uj) = (lo[j], hi[j]);
                let a = leak.map_or(0.0, |a| a[j]);
                // cv = s v (v >= 0) or alpha v (v < 0); the upper relaxation's shift
                // -(s - a) L v (v >= 0, unstable only).
                let (s, alpha, shift) = relaxation(lj, uj, a);
                let (wc, magnitude) = if m == 0 {
                    (
                        self.input.wc[j],
                        bm[j].abs() + self.input.wc_abs[j] + self.input.basis_mag[j],
                    )
                } else {
                    (0.0, bm[j].abs())
                };
                let out = coef
                    .col_mut(c)
                    .try_as_col_major_mut()
                    .expect("owned column")
                    .as_slice_mut();
                vectorized(Relax {
                    lambda: col(&lambda, c),
                    out,
                    beta: &mut beta,
                    beta_abs: &mut beta_abs,
                    err: &mut err,
                    slope: [s, alpha],
                    shift,
                    offset: bm[j] + wc,
                    magnitude,
                    col_err: col_err[j],
                });
            }
            terms += cols.len();
            if m == 0 {
                return self.concretise(&coef, &beta, &beta_abs, &err, terms);
            }
            lambda = Mat::zeros(r2, self.kept[m - 1].len());
            matmul(
                lambda.as_mut(),
                Accum::Replace,
                coef.as_ref(),
                self.w_kept[m].as_ref(),
                1.0f32,
                Par::Seq,
            );
        }
    }

    /// The suprema over the domain of `coef . z_1(x) + beta` (coefficients on the
    /// first-layer neurons `kept[0]`, the centre term already in `beta`), as (lower
    /// bounds, upper bounds) of the target neurons.
    fn concretise(
        &self,
        coef: &Mat<f32>,
        beta: &[f64],
        beta_abs: &[f64],
        err: &[f64],
        terms: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let r2 = coef.nrows();
        let k = r2 / 2;
        let terms = terms + self.p.net.input_dim();
        // Tiny absolute slack for f32 underflow in the products.
        let underflow = 1e-30;
        let mut a = Mat::<f32>::zeros(r2, self.input_kept.ncols());
        matmul(
            a.as_mut(),
            Accum::Replace,
            coef.as_ref(),
            self.input_kept.as_ref(),
            1.0f32,
            Par::Seq,
        );
        // spread_i = r ||a_i||_2 (compressed L2 ball), or sum_t |a_it| half_t.
        let mut acc = vec![0.0f64; r2];
        vectorized(Spread {
            a: &a,
            half: (!self.input.compressed).then_some(&self.input.half[..]),
            acc: &mut acc,
        });
        let sup: Vec<f64> = (0..r2)
            .map(|i| {
                let spread = match self.domain {
                    Domain::Ball(ball) if self.input.compressed => ball.radius * acc[i].sqrt(),
                    _ => acc[i],
                };
                let rounding = self.gamma * err[i] * (1.0 + 1e-6) + underflow;
                let s = beta[i] + spread + rounding_margin(terms, beta_abs[i] + spread) + rounding;
                if s.is_finite() { s } else { f64::INFINITY }
            })
            .collect();
        let upper = sup[..k].to_vec();
        let lower = sup[k..].iter().map(|v| -v).collect();
        (lower, upper)
    }
}

/// One column of the backward step's relaxation: coefficients `v` on `h_m = relu(z_m)`
/// become `cv = s v` (`v >= 0`) or `alpha v` (`v < 0`) on `z_m` (into `out`, in f32),
/// with the bias and shift terms into `beta`, their magnitudes into `beta_abs`, and the
/// f32 rounding weight into `err` (module documentation). A [`WithSimd`] kernel: its
/// loop runs in AVX2 where the CPU has it, with the same operations in the same order.
struct Relax<'a> {
    lambda: &'a [f32],
    out: &'a mut [f32],
    beta: &'a mut [f64],
    beta_abs: &'a mut [f64],
    err: &'a mut [f64],
    /// `[s, alpha]`.
    slope: [f64; 2],
    shift: f64,
    offset: f64,
    magnitude: f64,
    col_err: f64,
}

impl WithSimd for Relax<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self {
            lambda,
            out,
            beta,
            beta_abs,
            err,
            slope: [s, alpha],
            shift,
            offset,
            magnitude,
            col_err,
        } = self;
        let rows = lambda
            .iter()
            .zip(out.iter_mut())
            .zip(beta.iter_mut().zip(beta_abs.iter_mut()).zip(err.iter_mut()));
        for ((&v, o), ((b, b_abs), e)) in rows {
            let v = f64::from(v);
            let (pos, neg) = (v.max(0.0), v.min(0.0));
            let cv = pos * s + neg * alpha;
            *b += pos * shift + cv * offset;
            *b_abs += pos * shift.abs() + cv.abs() * magnitude;
            *e += cv.abs() * col_err;
            *o = cv as f32;
        }
    }
}

/// The spread of each row `a_i` of the input coefficients over the domain, summed over
/// the columns into `acc`: `sum_t a_it^2` (compressed L2 ball; `half` none) or
/// `sum_t |a_it| half_t`. A [`WithSimd`] kernel, like [`Relax`].
struct Spread<'a> {
    a: &'a Mat<f32>,
    half: Option<&'a [f64]>,
    acc: &'a mut [f64],
}

impl WithSimd for Spread<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { a, half, acc } = self;
        for t in 0..a.ncols() {
            let at = col(a, t);
            match half {
                None => {
                    for (s, &v) in acc.iter_mut().zip(at) {
                        *s += f64::from(v) * f64::from(v);
                    }
                }
                Some(half) => {
                    let h = half[t];
                    for (s, &v) in acc.iter_mut().zip(at) {
                        *s += f64::from(v).abs() * h;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    /// The kernels on the dispatched path (AVX2 here) and on pulp's scalar fallback,
    /// which other CPUs run: bit for bit equal (no fused operations in them).
    #[test]
    fn crown_kernels_agree_with_the_scalar_fallback() {
        let mut rng = StdRng::seed_from_u64(3);
        for trial in 0..50 {
            let (rows, cols) = (rng.random_range(1..70), rng.random_range(1..9));
            let lambda: Vec<f32> = (0..rows).map(|_| rng.random_range(-2.0..2.0)).collect();
            let start: Vec<f64> = (0..rows).map(|_| rng.random_range(-1.0..1.0)).collect();
            let a = Mat::<f32>::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0));
            let half: Vec<f64> = (0..cols).map(|_| rng.random_range(0.0..1.0)).collect();
            let lo = rng.random_range(-1.0..0.5);
            let hi = lo + rng.random_range(0.0..1.0);
            let s = if lo >= 0.0 { 1.0 } else { hi / (hi - lo) };
            let run = |scalar: bool| {
                let mut out = vec![0.0f32; rows];
                let (mut beta, mut beta_abs, mut err) =
                    (start.clone(), start.clone(), start.clone());
                let relax = Relax {
                    lambda: &lambda,
                    out: &mut out,
                    beta: &mut beta,
                    beta_abs: &mut beta_abs,
                    err: &mut err,
                    slope: [s, if hi >= -lo { 1.0 } else { 0.0 }],
                    shift: -s * lo.min(0.0),
                    offset: 0.3,
                    magnitude: 0.7,
                    col_err: 0.2,
                };
                let mut acc = [vec![0.0; rows], vec![0.0; rows]];
                let [l2, boxed] = &mut acc;
                let spreads = [
                    Spread {
                        a: &a,
                        half: None,
                        acc: l2,
                    },
                    Spread {
                        a: &a,
                        half: Some(&half),
                        acc: boxed,
                    },
                ];
                if scalar {
                    relax.with_simd(pulp::Scalar::new());
                    for k in spreads {
                        k.with_simd(pulp::Scalar::new());
                    }
                } else {
                    vectorized(relax);
                    for k in spreads {
                        vectorized(k);
                    }
                }
                (out, beta, beta_abs, err, acc)
            };
            assert_eq!(run(true), run(false), "trial {trial}");
        }
    }
}
