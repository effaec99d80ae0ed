//! The canonical network: a chain of affine layers with ReLU between them.
//!
//! `Network { layers: [A_1, ..., A_L], output_relu }` computes
//! `x_0 = x`, `z_l = W_l x_{l-1} + b_l`, `x_l = relu(z_l)` for `l < L`, and the output
//! `z_L` (or `relu(z_L)` when `output_relu`). `W_l` is `out x in`. The *neurons* are the
//! entries of every `z_l` that a ReLU follows; they are numbered layer by layer, which is
//! the bit order of an [`ActivationPattern`].
//!
//! A neuron may be a *leaky* ReLU, `σ(z) = z` for `z > 0` and `α z` for `z <= 0`, with a
//! negative slope `α` in `[0, 1]` ([`Network::with_negative_slopes`]; ONNX `LeakyRelu`
//! and `PRelu`). Its activation regions are ReLU's, cut by the same hyperplanes `z = 0`:
//! only the maps on them change, an inactive neuron passing `α z` instead of `0`
//! (docs/math.md §1.7). Every analysis takes the slopes into account; `α = 0` is ReLU.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::error::NetworkError;
use crate::pattern::ActivationPattern;

/// An affine map `x -> W x + b` with `W` of shape `out x in`.
#[derive(Debug, Clone, PartialEq)]
pub struct Affine {
    weight: Mat<f64>,
    bias: Vec<f64>,
}

impl Affine {
    /// An affine map from its weight (`out x in`) and bias (length `out`).
    ///
    /// Dimensions are checked; finiteness is checked by [`Network::new`], which knows the
    /// layer index to report.
    pub fn new(weight: Mat<f64>, bias: Vec<f64>) -> Result<Self, NetworkError> {
        if weight.nrows() != bias.len() {
            return Err(NetworkError::BiasMismatch {
                layer: 0,
                rows: weight.nrows(),
                bias: bias.len(),
            });
        }
        Ok(Self { weight, bias })
    }

    /// An affine map from a row-major weight buffer (`rows` = outputs, `cols` = inputs),
    /// the layout of PyTorch `Linear.weight` and ONNX `Gemm(transB=1)`.
    pub fn from_row_major(
        rows: usize,
        cols: usize,
        weight: &[f64],
        bias: Vec<f64>,
    ) -> Result<Self, NetworkError> {
        if weight.len() != rows * cols {
            return Err(NetworkError::WeightLength {
                rows,
                cols,
                found: weight.len(),
            });
        }
        Self::new(Mat::from_fn(rows, cols, |i, j| weight[i * cols + j]), bias)
    }

    /// The identity map on `R^n`.
    pub fn identity(n: usize) -> Self {
        Self {
            weight: Mat::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.0 }),
            bias: vec![0.0; n],
        }
    }

    /// The elementwise map `x -> scale ⊙ x + shift` on `R^n` (input normalisation,
    /// BatchNorm at inference). `scale` and `shift` must have equal lengths.
    pub fn diagonal(scale: &[f64], shift: &[f64]) -> Result<Self, NetworkError> {
        if scale.len() != shift.len() {
            return Err(NetworkError::BiasMismatch {
                layer: 0,
                rows: scale.len(),
                bias: shift.len(),
            });
        }
        let n = scale.len();
        Ok(Self {
            weight: Mat::from_fn(n, n, |i, j| if i == j { scale[i] } else { 0.0 }),
            bias: shift.to_vec(),
        })
    }

    /// Number of inputs (columns of `W`).
    pub fn input_dim(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of outputs (rows of `W`).
    pub fn output_dim(&self) -> usize {
        self.weight.nrows()
    }

    /// The weight matrix `W` (`out x in`).
    pub fn weight(&self) -> MatRef<'_, f64> {
        self.weight.as_ref()
    }

    /// The bias `b`.
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// Number of parameters (`out * in + out`).
    pub fn param_count(&self) -> usize {
        self.weight.nrows() * self.weight.ncols() + self.bias.len()
    }

    /// `out = W x + b`, one point. Walks `W` by columns (faer stores column-major).
    ///
    /// # Panics
    /// When `x.len() != input_dim` or `out.len() != output_dim`; [`Network`] checks
    /// lengths before calling it.
    pub fn apply_into(&self, x: &[f64], out: &mut [f64]) {
        assert_eq!(x.len(), self.input_dim());
        assert_eq!(out.len(), self.output_dim());
        out.copy_from_slice(&self.bias);
        for (j, &xj) in x.iter().enumerate() {
            if xj != 0.0 {
                let col = self.weight.col(j);
                for (o, w) in out.iter_mut().zip(col.iter()) {
                    *o += w * xj;
                }
            }
        }
    }

    /// `W x + b` for one point.
    pub fn apply(&self, x: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.output_dim()];
        self.apply_into(x, &mut out);
        out
    }

    /// `Z = X W^T + 1 b^T` for a batch `X` with one point per row (one matrix product).
    pub fn apply_batch(&self, x: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        assert_eq!(x.ncols(), self.input_dim());
        let mut z = Mat::from_fn(x.nrows(), self.output_dim(), |_, j| self.bias[j]);
        matmul(z.as_mut(), Accum::Add, x, self.weight.transpose(), 1.0, par);
        z
    }

    /// The composition `self ∘ inner`: `x -> W (V x + c) + b = (W V) x + (W c + b)`.
    ///
    /// Returns `None` when the dimensions do not chain (`self.input_dim != inner.output_dim`).
    pub fn compose(&self, inner: &Affine) -> Option<Affine> {
        if self.input_dim() != inner.output_dim() {
            return None;
        }
        let weight = &self.weight * &inner.weight;
        // `apply` gives W c + b.
        let bias = self.apply(&inner.bias);
        Some(Affine { weight, bias })
    }

    /// `x -> W (s ⊙ x + t) + b`: an elementwise map applied before this one, folded in
    /// (`W' = W diag(s)`, `b' = W t + b`), without forming a dense diagonal.
    pub fn precompose_diagonal(&self, scale: &[f64], shift: &[f64]) -> Option<Affine> {
        if scale.len() != self.input_dim() || shift.len() != self.input_dim() {
            return None;
        }
        let bias = self.apply(shift);
        let weight = Mat::from_fn(self.output_dim(), self.input_dim(), |i, j| {
            self.weight[(i, j)] * scale[j]
        });
        Some(Affine { weight, bias })
    }

    /// `x -> s ⊙ (W x + b) + t`: an elementwise map applied after this one, folded in.
    pub fn postcompose_diagonal(&self, scale: &[f64], shift: &[f64]) -> Option<Affine> {
        if scale.len() != self.output_dim() || shift.len() != self.output_dim() {
            return None;
        }
        let weight = Mat::from_fn(self.output_dim(), self.input_dim(), |i, j| {
            self.weight[(i, j)] * scale[i]
        });
        let bias = (0..self.output_dim())
            .map(|i| scale[i] * self.bias[i] + shift[i])
            .collect();
        Some(Affine { weight, bias })
    }

    /// The first non-finite parameter, as `(what, index, value)`; weights are indexed
    /// row-major (`row * in + col`).
    fn first_non_finite(&self) -> Option<(&'static str, usize, f64)> {
        for i in 0..self.output_dim() {
            for j in 0..self.input_dim() {
                let v = self.weight[(i, j)];
                if !v.is_finite() {
                    return Some(("weight", i * self.input_dim() + j, v));
                }
            }
        }
        self.bias
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
            .map(|(i, &v)| ("bias", i, v))
    }
}

/// A neuron: the `index`-th pre-activation of layer `layer` (both 0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NeuronId {
    pub layer: usize,
    pub index: usize,
}

/// The canonical ReLU network (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    layers: Vec<Affine>,
    output_relu: bool,
    /// Per activated layer, the negative slopes `α` of its neurons; empty for a ReLU
    /// layer (every `α = 0`). Always `relu_layer_count()` entries.
    negative_slopes: Vec<Vec<f64>>,
}

impl Network {
    /// A network from its affine layers; ReLU follows every layer but the last, and the
    /// last too when `output_relu`.
    ///
    /// Errors when there is no layer, when consecutive layers do not chain, when a layer
    /// is empty, or when a weight or bias is NaN or infinite.
    pub fn new(layers: Vec<Affine>, output_relu: bool) -> Result<Self, NetworkError> {
        if layers.is_empty() {
            return Err(NetworkError::NoLayers);
        }
        for (l, layer) in layers.iter().enumerate() {
            if layer.input_dim() == 0 {
                return Err(NetworkError::EmptyLayer {
                    layer: l,
                    what: "input",
                });
            }
            if layer.output_dim() == 0 {
                return Err(NetworkError::EmptyLayer {
                    layer: l,
                    what: "output",
                });
            }
            if layer.bias.len() != layer.output_dim() {
                return Err(NetworkError::BiasMismatch {
                    layer: l,
                    rows: layer.output_dim(),
                    bias: layer.bias.len(),
                });
            }
            if l > 0 && layers[l - 1].output_dim() != layer.input_dim() {
                return Err(NetworkError::LayerMismatch {
                    layer: l,
                    expected: layer.input_dim(),
                    found: layers[l - 1].output_dim(),
                });
            }
            if let Some((what, index, value)) = layer.first_non_finite() {
                return Err(NetworkError::NonFinite {
                    layer: l,
                    what,
                    index,
                    value,
                });
            }
        }
        let activated = if output_relu {
            layers.len()
        } else {
            layers.len() - 1
        };
        Ok(Self {
            layers,
            output_relu,
            negative_slopes: vec![Vec::new(); activated],
        })
    }

    /// The same network with leaky ReLUs: `slopes[l]` holds the negative slopes `α` of
    /// activated layer `l`'s neurons (`σ(z) = α z` for `z <= 0`), or is empty for ReLU
    /// (`α = 0`). One entry per activated layer ([`Network::relu_layer_count`]); every
    /// slope finite and in `[0, 1]`, where `σ` is convex, non-decreasing and
    /// 1-Lipschitz, which the stability bounds and the rounding bounds use.
    pub fn with_negative_slopes(mut self, slopes: Vec<Vec<f64>>) -> Result<Self, NetworkError> {
        let widths = self.relu_widths();
        if slopes.len() != widths.len() {
            return Err(NetworkError::SlopeLayers {
                expected: widths.len(),
                found: slopes.len(),
            });
        }
        for (layer, (s, &width)) in slopes.iter().zip(&widths).enumerate() {
            if !s.is_empty() && s.len() != width {
                return Err(NetworkError::SlopeLength {
                    layer,
                    expected: width,
                    found: s.len(),
                });
            }
            if let Some((neuron, &value)) = s
                .iter()
                .enumerate()
                .find(|(_, a)| !(0.0..=1.0).contains(*a))
            {
                return Err(NetworkError::NegativeSlope {
                    layer,
                    neuron,
                    value,
                });
            }
        }
        self.negative_slopes = slopes
            .into_iter()
            .map(|s| {
                if s.iter().all(|&a| a == 0.0) {
                    Vec::new()
                } else {
                    s
                }
            })
            .collect();
        Ok(self)
    }

    /// The negative slopes of activated layer `layer`, or `None` when it is a ReLU layer
    /// (every `α = 0`) or not activated.
    pub fn negative_slopes(&self, layer: usize) -> Option<&[f64]> {
        self.negative_slopes
            .get(layer)
            .filter(|s| !s.is_empty())
            .map(Vec::as_slice)
    }

    /// Every activated layer's negative slopes (empty for a ReLU layer), the argument of
    /// [`Network::with_negative_slopes`].
    pub fn all_negative_slopes(&self) -> &[Vec<f64>] {
        &self.negative_slopes
    }

    /// The network below layer `layer`, seen from a new first layer: `first` stands in
    /// for layer `layer` (it maps some other input to that layer's pre-activations) and
    /// the layers after it follow, with their activations. `subnetwork(first, 0)`
    /// replaces the first layer (a restriction to a plane or a subspace).
    pub fn subnetwork(&self, first: Affine, layer: usize) -> Result<Network, NetworkError> {
        let mut layers = vec![first];
        layers.extend(self.layers[layer + 1..].iter().cloned());
        let slopes = self.negative_slopes[layer.min(self.negative_slopes.len())..].to_vec();
        Network::new(layers, self.output_relu)?.with_negative_slopes(slopes)
    }

    /// Whether every activation is a plain ReLU (every negative slope zero).
    pub fn is_relu(&self) -> bool {
        self.negative_slopes.iter().all(Vec::is_empty)
    }

    /// The derivative of neuron `index` of activated layer `layer` on the side `active`:
    /// `1` when active, its negative slope `α` (0 for ReLU) when not. The frozen maps of
    /// a region multiply the neuron's map by it.
    pub fn activation_slope(&self, layer: usize, index: usize, active: bool) -> f64 {
        if active {
            1.0
        } else {
            self.negative_slopes(layer).map_or(0.0, |s| s[index])
        }
    }

    /// The neurons of activated layer `layer` that pass a nonzero multiple of their map
    /// on a region where neuron `i` is active when `active(i)`, with that multiple
    /// ([`Network::activation_slope`]): the active neurons with `1` for a ReLU layer,
    /// every neuron for a leaky one. The frozen next-layer map is
    /// `sum_(a, s) W[:, a] s (g_a . y + c_a) + b` over these.
    pub fn frozen_columns(
        &self,
        layer: usize,
        active: impl Fn(usize) -> bool,
    ) -> Vec<(usize, f64)> {
        let width = self.layers[layer].output_dim();
        match self.negative_slopes(layer) {
            None => (0..width)
                .filter(|&i| active(i))
                .map(|i| (i, 1.0))
                .collect(),
            Some(alpha) => (0..width)
                .map(|i| (i, if active(i) { 1.0 } else { alpha[i] }))
                .filter(|&(_, s)| s != 0.0)
                .collect(),
        }
    }

    /// `σ(z)` for the neurons of activated layer `layer`, in place.
    fn activate(&self, layer: usize, z: &mut [f64]) {
        match self.negative_slopes(layer) {
            None => z.iter_mut().for_each(|v| *v = v.max(0.0)),
            Some(alpha) => z.iter_mut().zip(alpha).for_each(|(v, a)| {
                if *v <= 0.0 {
                    *v *= a;
                }
            }),
        }
    }

    /// `σ(Z)` for a batch of pre-activations of activated layer `layer` (one point per
    /// row).
    fn activate_batch(&self, layer: usize, z: MatRef<'_, f64>) -> Mat<f64> {
        match self.negative_slopes(layer) {
            None => Mat::from_fn(z.nrows(), z.ncols(), |i, j| z[(i, j)].max(0.0)),
            Some(alpha) => Mat::from_fn(z.nrows(), z.ncols(), |i, j| {
                let v = z[(i, j)];
                if v > 0.0 { v } else { alpha[j] * v }
            }),
        }
    }

    /// The affine layers, input first.
    pub fn layers(&self) -> &[Affine] {
        &self.layers
    }

    /// Whether a ReLU follows the last layer too.
    pub fn output_relu(&self) -> bool {
        self.output_relu
    }

    /// Dimension of the input space.
    pub fn input_dim(&self) -> usize {
        self.layers[0].input_dim()
    }

    /// Dimension of the output.
    pub fn output_dim(&self) -> usize {
        self.layers[self.layers.len() - 1].output_dim()
    }

    /// Output widths of every layer, hidden layers first, the output layer last.
    pub fn layer_widths(&self) -> Vec<usize> {
        self.layers.iter().map(Affine::output_dim).collect()
    }

    /// Number of layers followed by a ReLU (the layers whose neurons a pattern records).
    pub fn relu_layer_count(&self) -> usize {
        if self.output_relu {
            self.layers.len()
        } else {
            self.layers.len() - 1
        }
    }

    /// Widths of the layers followed by a ReLU.
    pub fn relu_widths(&self) -> Vec<usize> {
        self.layers[..self.relu_layer_count()]
            .iter()
            .map(Affine::output_dim)
            .collect()
    }

    /// Total number of ReLU neurons (the length of an activation pattern).
    pub fn relu_count(&self) -> usize {
        self.relu_widths().iter().sum()
    }

    /// Total number of parameters (weights and biases).
    pub fn param_count(&self) -> usize {
        self.layers.iter().map(Affine::param_count).sum()
    }

    /// The neuron at bit `bit` of an activation pattern.
    pub fn neuron(&self, mut bit: usize) -> Option<NeuronId> {
        for (layer, width) in self.relu_widths().into_iter().enumerate() {
            if bit < width {
                return Some(NeuronId { layer, index: bit });
            }
            bit -= width;
        }
        None
    }

    fn check_point(&self, point: usize, x: &[f64]) -> Result<(), NetworkError> {
        if x.len() != self.input_dim() {
            return Err(NetworkError::InputLength {
                point,
                expected: self.input_dim(),
                found: x.len(),
            });
        }
        if let Some((coordinate, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(NetworkError::NonFiniteInput {
                point,
                coordinate,
                value,
            });
        }
        Ok(())
    }

    /// Pre-activations `z_1, ..., z_L` of every layer at `x` (the output layer's `z_L`
    /// last, before any output ReLU).
    pub fn pre_activations(&self, x: &[f64]) -> Result<Vec<Vec<f64>>, NetworkError> {
        self.check_point(0, x)?;
        let mut out: Vec<Vec<f64>> = Vec::with_capacity(self.layers.len());
        let mut h = x.to_vec();
        for (l, layer) in self.layers.iter().enumerate() {
            let z = layer.apply(&h);
            if l + 1 < self.layers.len() {
                h = z.clone();
                self.activate(l, &mut h);
            }
            out.push(z);
        }
        Ok(out)
    }

    /// The network's output `f(x)`.
    pub fn forward(&self, x: &[f64]) -> Result<Vec<f64>, NetworkError> {
        let mut z = self.pre_activations(x)?.pop().expect("at least one layer");
        if self.output_relu {
            self.activate(self.layers.len() - 1, &mut z);
        }
        Ok(z)
    }

    /// The activation pattern at `x`: bit `k` is set when neuron `k` has `z > 0`.
    pub fn pattern(&self, x: &[f64]) -> Result<ActivationPattern, NetworkError> {
        let z = self.pre_activations(x)?;
        Ok(ActivationPattern::from_signs(
            z[..self.relu_layer_count()]
                .iter()
                .flat_map(|layer| layer.iter().map(|&v| v > 0.0)),
        ))
    }

    /// Pre-activations of every layer for a batch (one point per row), one matrix product
    /// per layer. Element `l` is `n x width_l`.
    pub fn pre_activations_batch(
        &self,
        x: MatRef<'_, f64>,
        par: Par,
    ) -> Result<Vec<Mat<f64>>, NetworkError> {
        if x.ncols() != self.input_dim() {
            return Err(NetworkError::InputLength {
                point: 0,
                expected: self.input_dim(),
                found: x.ncols(),
            });
        }
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                let value = x[(i, j)];
                if !value.is_finite() {
                    return Err(NetworkError::NonFiniteInput {
                        point: i,
                        coordinate: j,
                        value,
                    });
                }
            }
        }
        let mut out: Vec<Mat<f64>> = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            let z = match out.last() {
                None => layer.apply_batch(x, par),
                Some(prev) => {
                    let h = self.activate_batch(l - 1, prev.as_ref());
                    layer.apply_batch(h.as_ref(), par)
                }
            };
            debug_assert_eq!(z.ncols(), self.layers[l].output_dim());
            out.push(z);
        }
        Ok(out)
    }

    /// Outputs for a batch (one point per row), `n x output_dim`.
    pub fn forward_batch(&self, x: MatRef<'_, f64>, par: Par) -> Result<Mat<f64>, NetworkError> {
        let mut z = self
            .pre_activations_batch(x, par)?
            .pop()
            .expect("at least one layer");
        if self.output_relu {
            z = self.activate_batch(self.layers.len() - 1, z.as_ref());
        }
        Ok(z)
    }

    /// Activation patterns for a batch (one point per row).
    pub fn patterns_batch(
        &self,
        x: MatRef<'_, f64>,
        par: Par,
    ) -> Result<Vec<ActivationPattern>, NetworkError> {
        Ok(self.evaluate_batch(x, par)?.patterns)
    }

    /// Outputs and activation patterns for a batch (one point per row), from one pass of
    /// matrix products.
    pub fn evaluate_batch(
        &self,
        x: MatRef<'_, f64>,
        par: Par,
    ) -> Result<BatchEvaluation, NetworkError> {
        let mut z = self.pre_activations_batch(x, par)?;
        let patterns = {
            let relu_layers = &z[..self.relu_layer_count()];
            (0..x.nrows())
                .map(|i| {
                    ActivationPattern::from_signs(
                        relu_layers
                            .iter()
                            .flat_map(|m| (0..m.ncols()).map(move |j| m[(i, j)] > 0.0)),
                    )
                })
                .collect()
        };
        let mut outputs = z.pop().expect("at least one layer");
        if self.output_relu {
            outputs = self.activate_batch(self.layers.len() - 1, outputs.as_ref());
        }
        Ok(BatchEvaluation { outputs, patterns })
    }
}

impl Network {
    /// The certified signs of the ReLU neurons of the first `layers` layers at one point
    /// (`Some(active)` where the pre-activation clears its rounding-error bound, `None`
    /// where it does not), by the bound of [`Network::certified_patterns_batch`] (with
    /// `first_error` added to the first layer's). Cheaper than a whole pattern when only
    /// the first layers matter.
    pub fn certified_signs(
        &self,
        x: &[f64],
        layers: usize,
        first_error: Option<&[f64]>,
    ) -> Result<Vec<Vec<Option<bool>>>, NetworkError> {
        self.pattern(x)?;
        let mut h = x.to_vec();
        let mut error = vec![0.0; x.len()];
        let mut out = Vec::with_capacity(layers);
        for (l, layer) in self.layers[..layers.min(self.relu_layer_count())]
            .iter()
            .enumerate()
        {
            let w = layer.weight();
            let gamma = crate::stability::rounding_margin(w.ncols(), 1.0);
            let z = layer.apply(&h);
            let mut bound: Vec<f64> = layer.bias().iter().map(|b| gamma * b.abs()).collect();
            if l == 0
                && let Some(e) = first_error
            {
                for (o, v) in bound.iter_mut().zip(e) {
                    *o += v;
                }
            }
            for (j, (hj, ej)) in h.iter().zip(&error).enumerate() {
                let carried = gamma * hj.abs() + ej;
                if carried != 0.0 {
                    for (o, wij) in bound.iter_mut().zip(w.col(j).iter()) {
                        *o += wij.abs() * carried;
                    }
                }
            }
            let signs: Vec<Option<bool>> = z
                .iter()
                .zip(&bound)
                .map(|(&v, &e)| {
                    if v.abs() > e {
                        Some(v > 0.0)
                    } else if v == 0.0 && e == 0.0 {
                        Some(false)
                    } else {
                        None
                    }
                })
                .collect();
            // A certified inactive neuron outputs `α z~`: its error is `α E` plus the
            // product's rounding (zero for ReLU: an exact zero). Otherwise σ is
            // 1-Lipschitz, so the error carries.
            error = bound
                .iter()
                .zip(&signs)
                .zip(&z)
                .enumerate()
                .map(|(j, ((&e, s), &v))| {
                    let alpha = self.activation_slope(l, j, false);
                    let carried = if *s == Some(false) { alpha * e } else { e };
                    carried
                        + if v <= 0.0 {
                            f64::EPSILON * (alpha * v).abs()
                        } else {
                            0.0
                        }
                })
                .collect();
            h = z;
            self.activate(l, &mut h);
            out.push(signs);
        }
        Ok(out)
    }

    /// Certified activation patterns for a batch (one point per row): `Some(pattern)` when
    /// every ReLU neuron's pre-activation at the point is farther from zero than a bound on
    /// the rounding error of the forward pass that computed it, so that the exact
    /// pre-activations have the same signs and the point lies in the *interior* of that
    /// pattern's region; `None` otherwise. Non-finite inputs are an error.
    ///
    /// The bound, per layer `l` (Higham 2002, §3.1; [`crate::stability`]'s margin,
    /// `4 (n + 2) ε M` for a sum of `n` terms of total magnitude `M`): with `h~` the
    /// computed inputs of the layer and `E_{l-1}` the bound on `|h~ - h|` (`E_0 = 0`: the
    /// point is exact; ReLU is 1-Lipschitz, so it carries over through active neurons,
    /// and a neuron certified inactive outputs an exact zero, so its error is zero),
    ///
    /// ```text
    /// E_l = 4 (n_{l-1} + 2) ε (|W_l| |h~| + |b_l|) + |W_l| E_{l-1}.
    /// ```
    ///
    /// A leaky neuron (negative slope `α`, docs/math.md §1.7) certified inactive outputs
    /// `fl(α z~)`, off by at most `α E_l + ε |α z~|`; active or uncertain, `σ` is
    /// 1-Lipschitz and `E_l` carries. For ReLU these are the rules above.
    ///
    /// `first_error`, when given, is added to `E_1`: a bound on the error of a first layer
    /// that was itself computed (a network restricted to a plane or a subspace), per
    /// neuron, valid at every point of the batch.
    ///
    /// A pre-activation that is exactly zero with a zero bound (every term of its sum
    /// vanishes: its inputs are exact zeros or have zero weights, and its bias is zero)
    /// is zero around the point too, so it is certified inactive: a neuron identically
    /// zero on a region, such as `relu(relu(x))` where `x < 0`.
    pub fn certified_patterns_batch(
        &self,
        x: MatRef<'_, f64>,
        first_error: Option<&[f64]>,
        par: Par,
    ) -> Result<Vec<Option<ActivationPattern>>, NetworkError> {
        let z = self.pre_activations_batch(x, par)?;
        let n = x.nrows();
        let relu_layers = self.relu_layer_count();
        let mut certified = vec![true; n];
        // |h~| of the layer's inputs, and the bound on their error.
        let mut abs_h = Mat::from_fn(n, x.ncols(), |i, j| x[(i, j)].abs());
        let mut error = Mat::<f64>::zeros(n, x.ncols());
        for (l, layer) in self.layers[..relu_layers].iter().enumerate() {
            let w = layer.weight();
            let abs_w = Mat::from_fn(w.nrows(), w.ncols(), |i, j| w[(i, j)].abs());
            // E_l = |W| (γ |h~| + E_{l-1}) + γ |b| (the margin is linear in the
            // magnitude), with γ = 4 (n + 2) ε: one product.
            let gamma = crate::stability::rounding_margin(w.ncols(), 1.0);
            let carried = Mat::from_fn(n, w.ncols(), |i, j| {
                gamma * abs_h[(i, j)] + if l > 0 { error[(i, j)] } else { 0.0 }
            });
            let mut next = Mat::from_fn(n, layer.output_dim(), |_, j| {
                gamma * layer.bias()[j].abs()
                    + if l == 0 {
                        first_error.map_or(0.0, |e| e[j])
                    } else {
                        0.0
                    }
            });
            matmul(
                next.as_mut(),
                Accum::Add,
                carried.as_ref(),
                abs_w.transpose(),
                1.0,
                par,
            );
            let zl = &z[l];
            for (i, ok) in certified.iter_mut().enumerate() {
                if *ok {
                    // A NaN margin (an overflow) certifies nothing. An exact zero with a
                    // zero bound is a neuron all of whose terms vanish: its inputs are
                    // exact zeros (certified inactive, or such neurons) or have zero
                    // weights, around the point too, so it is inactive there.
                    *ok = (0..zl.ncols()).all(|j| {
                        let (z, e) = (zl[(i, j)], next[(i, j)]);
                        z.abs() > e || (z == 0.0 && e == 0.0)
                    });
                }
            }
            let h = self.activate_batch(l, zl.as_ref());
            abs_h = Mat::from_fn(n, zl.ncols(), |i, j| h[(i, j)].abs());
            // A neuron certified inactive outputs `α z~` (the true pre-activation is
            // negative too): its error is `α E` plus the product's rounding, an exact
            // zero for ReLU. (Where a point is not certified, its errors no longer
            // matter.)
            for j in 0..zl.ncols() {
                let alpha = self.activation_slope(l, j, false);
                for i in 0..n {
                    if zl[(i, j)] < 0.0 {
                        next[(i, j)] = alpha * next[(i, j)] + f64::EPSILON * abs_h[(i, j)];
                    }
                }
            }
            error = next;
        }
        Ok((0..n)
            .map(|i| {
                certified[i].then(|| {
                    ActivationPattern::from_signs(
                        z[..relu_layers]
                            .iter()
                            .flat_map(|m| (0..m.ncols()).map(move |j| m[(i, j)] > 0.0)),
                    )
                })
            })
            .collect())
    }
}

/// The result of [`Network::evaluate_batch`].
#[derive(Debug, Clone)]
pub struct BatchEvaluation {
    /// Outputs, `n x output_dim`, one point per row.
    pub outputs: Mat<f64>,
    /// The activation pattern of every point.
    pub patterns: Vec<ActivationPattern>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A random network from a flat list of parameters in [-1, 1].
    fn network_from(widths: &[usize], params: &[f64], output_relu: bool) -> Network {
        let mut k = 0;
        let mut next = || {
            let v = params[k % params.len()] * (1.0 + (k / params.len()) as f64 * 0.37);
            k += 1;
            v
        };
        let layers = widths
            .windows(2)
            .map(|w| {
                let weight = Mat::from_fn(w[1], w[0], |_, _| next());
                let bias = (0..w[1]).map(|_| next()).collect();
                Affine::new(weight, bias).unwrap()
            })
            .collect();
        Network::new(layers, output_relu).unwrap()
    }

    /// A point on a neuron's hyperplane, or within rounding of it, is not certified; a
    /// point clear of every hyperplane is, with the plain forward pass's pattern; errors
    /// carried from the first layer count.
    #[test]
    fn certified_patterns_need_a_margin_above_rounding() {
        let first = Affine::from_row_major(2, 1, &[1.0, -3.0], vec![-0.5, 1.0]).unwrap();
        let out = Affine::from_row_major(1, 2, &[1.0, 1.0], vec![0.0]).unwrap();
        let net = Network::new(vec![first, out], false).unwrap();
        let at = |x: f64, first_error: Option<&[f64]>| {
            net.certified_patterns_batch(
                Mat::from_fn(1, 1, |_, _| x).as_ref(),
                first_error,
                Par::Seq,
            )
            .unwrap()
            .remove(0)
        };
        assert_eq!(at(0.5, None), None);
        assert_eq!(at(0.5 + 1e-16, None), None);
        assert_eq!(at(0.6, None), Some(net.pattern(&[0.6]).unwrap()));
        assert_eq!(at(0.6, Some(&[0.2, 0.0])), None);
        assert_eq!(
            at(0.6, Some(&[0.05, 0.0])),
            Some(net.pattern(&[0.6]).unwrap())
        );
        // Random networks: wherever certified, the plain pattern.
        let mut certified = 0;
        for seed in 0..20 {
            let net = crate::random::seeded_network(&[3, 16, 16, 2], crate::random::Init::He, seed);
            let x = Mat::from_fn(50, 3, |i, j| {
                ((i * 7 + j * 13 + seed as usize) % 17) as f64 / 8.0 - 1.0
            });
            let got = net
                .certified_patterns_batch(x.as_ref(), None, Par::Seq)
                .unwrap();
            for (i, p) in got.iter().enumerate() {
                let row: Vec<f64> = (0..3).map(|j| x[(i, j)]).collect();
                if let Some(p) = p {
                    assert_eq!(*p, net.pattern(&row).unwrap());
                    certified += 1;
                }
            }
        }
        assert!(certified > 900, "{certified} of 1000");
    }

    fn naive_forward(net: &Network, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        let n = net.layers().len();
        for (l, layer) in net.layers().iter().enumerate() {
            let w = layer.weight();
            let mut z: Vec<f64> = (0..w.nrows())
                .map(|i| layer.bias()[i] + (0..w.ncols()).map(|j| w[(i, j)] * h[j]).sum::<f64>())
                .collect();
            if l + 1 < n || net.output_relu() {
                z.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            h = z;
        }
        h
    }

    proptest! {
        #[test]
        fn batch_equals_single_and_naive(
            widths in proptest::collection::vec(1usize..7, 2..6),
            params in proptest::collection::vec(-1.0f64..1.0, 1..40),
            points in proptest::collection::vec(proptest::collection::vec(-2.0f64..2.0, 6), 1..8),
            output_relu in any::<bool>(),
        ) {
            let net = network_from(&widths, &params, output_relu);
            let d = widths[0];
            let x = Mat::from_fn(points.len(), d, |i, j| points[i][j]);
            let eval = net.evaluate_batch(x.as_ref(), Par::Seq).unwrap();
            for (i, p) in points.iter().enumerate() {
                let y = net.forward(&p[..d]).unwrap();
                let naive = naive_forward(&net, &p[..d]);
                for j in 0..y.len() {
                    prop_assert!((y[j] - naive[j]).abs() <= 1e-12 * (1.0 + naive[j].abs()));
                    prop_assert!((eval.outputs[(i, j)] - y[j]).abs() <= 1e-12 * (1.0 + y[j].abs()));
                }
                let pattern = net.pattern(&p[..d]).unwrap();
                prop_assert_eq!(pattern.len(), net.relu_count());
                prop_assert_eq!(&eval.patterns[i], &pattern);
                // The pattern's bits are the signs of the pre-activations.
                let z = net.pre_activations(&p[..d]).unwrap();
                for bit in 0..pattern.len() {
                    let id = net.neuron(bit).unwrap();
                    prop_assert_eq!(pattern.get(bit), Some(z[id.layer][id.index] > 0.0));
                }
            }
        }

        #[test]
        fn composition_and_diagonal_folds(
            params in proptest::collection::vec(-1.0f64..1.0, 1..30),
            x in proptest::collection::vec(-2.0f64..2.0, 3),
        ) {
            let net = network_from(&[3, 4, 2], &params, false);
            let (a, b) = (&net.layers()[0], &net.layers()[1]);
            let ba = b.compose(a).unwrap();
            let direct = b.apply(&a.apply(&x));
            let composed = ba.apply(&x);
            for (p, q) in direct.iter().zip(&composed) {
                prop_assert!((p - q).abs() < 1e-12);
            }
            prop_assert!(a.compose(a).is_none());
            let s = [0.5, -2.0, 3.0];
            let t = [0.1, 0.2, -0.3];
            let pre = a.precompose_diagonal(&s, &t).unwrap().apply(&x);
            let sx: Vec<f64> = (0..3).map(|i| s[i] * x[i] + t[i]).collect();
            let expect = a.apply(&sx);
            for (p, q) in pre.iter().zip(&expect) {
                prop_assert!((p - q).abs() < 1e-12);
            }
            let s4 = [1.0, -1.0, 0.5, 2.0];
            let t4 = [0.0, 1.0, 2.0, 3.0];
            let post = a.postcompose_diagonal(&s4, &t4).unwrap().apply(&x);
            let ax = a.apply(&x);
            for i in 0..4 {
                prop_assert!((post[i] - (s4[i] * ax[i] + t4[i])).abs() < 1e-12);
            }
            let diag = Affine::diagonal(&s, &t).unwrap();
            let via_dense = a.compose(&diag).unwrap().apply(&x);
            for (p, q) in via_dense.iter().zip(&expect) {
                prop_assert!((p - q).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn invalid_networks_are_rejected() {
        let a = Affine::from_row_major(2, 3, &[1.0; 6], vec![0.0; 2]).unwrap();
        let b = Affine::from_row_major(1, 3, &[1.0; 3], vec![0.0]).unwrap();
        assert_eq!(
            Network::new(vec![a.clone(), b], false).unwrap_err(),
            NetworkError::LayerMismatch {
                layer: 1,
                expected: 3,
                found: 2
            }
        );
        assert_eq!(
            Network::new(vec![], false).unwrap_err(),
            NetworkError::NoLayers
        );
        let nan = Affine::from_row_major(1, 2, &[1.0, f64::NAN], vec![0.0]).unwrap();
        let e = Network::new(vec![a.clone(), nan], false).unwrap_err();
        assert!(
            matches!(
                e,
                NetworkError::NonFinite {
                    layer: 1,
                    what: "weight",
                    index: 1,
                    ..
                }
            ),
            "{e}"
        );
        let inf = Affine::from_row_major(1, 2, &[1.0, 1.0], vec![f64::INFINITY]).unwrap();
        assert!(matches!(
            Network::new(vec![a.clone(), inf], false).unwrap_err(),
            NetworkError::NonFinite { what: "bias", .. }
        ));
        assert!(Affine::from_row_major(2, 3, &[1.0; 5], vec![0.0; 2]).is_err());
        assert!(Affine::from_row_major(2, 3, &[1.0; 6], vec![0.0; 3]).is_err());
        let net = Network::new(vec![a], true).unwrap();
        assert!(matches!(
            net.forward(&[1.0]),
            Err(NetworkError::InputLength {
                expected: 3,
                found: 1,
                ..
            })
        ));
        assert!(matches!(
            net.forward(&[1.0, f64::NAN, 0.0]),
            Err(NetworkError::NonFiniteInput { coordinate: 1, .. })
        ));
        assert_eq!(net.relu_count(), 2);
        assert_eq!(net.neuron(1), Some(NeuronId { layer: 0, index: 1 }));
        assert_eq!(net.neuron(2), None);
    }

    #[test]
    fn zero_preactivation_is_inactive() {
        // z = x: at x = 0 the neuron is on its hyperplane and counts as inactive.
        let net = Network::new(
            vec![
                Affine::from_row_major(1, 1, &[1.0], vec![0.0]).unwrap(),
                Affine::from_row_major(1, 1, &[1.0], vec![0.0]).unwrap(),
            ],
            false,
        )
        .unwrap();
        assert_eq!(net.pattern(&[0.0]).unwrap().get(0), Some(false));
        assert_eq!(net.pattern(&[1e-300]).unwrap().get(0), Some(true));
    }

    /// A leaky network by hand: `z_1 = (x_0 - x_1, x_0 + x_1 - 1)`, slopes `(0.1, 0.5)`,
    /// output `z_2 = h_0 + 2 h_1`, and an output leaky ReLU of slope 0.25.
    #[test]
    fn leaky_forward_maps_and_certification_by_hand() {
        let net = Network::new(
            vec![
                Affine::from_row_major(2, 2, &[1.0, -1.0, 1.0, 1.0], vec![0.0, -1.0]).unwrap(),
                Affine::from_row_major(1, 2, &[1.0, 2.0], vec![0.0]).unwrap(),
            ],
            true,
        )
        .unwrap()
        .with_negative_slopes(vec![vec![0.1, 0.5], vec![0.25]])
        .unwrap();
        assert!(!net.is_relu());
        // x = (0, 0.5): z_1 = (-0.5, -0.5), h = (-0.05, -0.25), z_2 = -0.55, out -0.1375.
        let y = net.forward(&[0.0, 0.5]).unwrap();
        assert!((y[0] + 0.1375).abs() < 1e-15, "{y:?}");
        let batch = net
            .forward_batch(Mat::from_fn(1, 2, |_, j| [0.0, 0.5][j]).as_ref(), Par::Seq)
            .unwrap();
        assert_eq!(batch[(0, 0)], y[0]);
        // The output map on that region: 0.25 (0.1 (x0 - x1) + 2 * 0.5 (x0 + x1 - 1)).
        let p = net.pattern(&[0.0, 0.5]).unwrap();
        let map = net.output_map_of(&p).unwrap();
        let full = net.local_affine_map_of(&p).unwrap().output;
        for m in [&map, &full] {
            assert!((m.weight()[(0, 0)] - 0.25 * 1.1).abs() < 1e-15);
            assert!((m.weight()[(0, 1)] - 0.25 * 0.9).abs() < 1e-15);
            assert!((m.bias()[0] + 0.25).abs() < 1e-15);
        }
        let certified = net
            .certified_patterns_batch(
                Mat::from_fn(1, 2, |_, j| [0.0, 0.5][j]).as_ref(),
                None,
                Par::Seq,
            )
            .unwrap();
        assert_eq!(certified[0].as_ref(), Some(&p));
        let signs = net.certified_signs(&[0.0, 0.5], 2, None).unwrap();
        assert_eq!(
            signs,
            vec![vec![Some(false), Some(false)], vec![Some(false)]]
        );
        // Slopes outside [0, 1] or of the wrong length are refused.
        let relu = Network::new(net.layers().to_vec(), false).unwrap();
        assert!(matches!(
            relu.clone().with_negative_slopes(vec![vec![0.1, 1.5]]),
            Err(NetworkError::NegativeSlope { neuron: 1, .. })
        ));
        assert!(matches!(
            relu.clone().with_negative_slopes(vec![vec![0.1]]),
            Err(NetworkError::SlopeLength { .. })
        ));
        assert!(matches!(
            relu.clone().with_negative_slopes(vec![]),
            Err(NetworkError::SlopeLayers {
                expected: 1,
                found: 0
            })
        ));
        // All-zero slopes are ReLU.
        assert!(
            relu.with_negative_slopes(vec![vec![0.0, 0.0]])
                .unwrap()
                .is_relu()
        );
    }
}
