//! The activation region of a point and the network's affine maps on it.
//!
//! Fix a pattern `P` (bit `k` = neuron `k` active). On the region `R_P` of inputs with that
//! pattern every pre-activation is an affine function of the input,
//! `z_k(y) = g_k . y + c_k`, obtained by freezing the ReLUs: with `D_l = diag(P_l)` (for a
//! leaky ReLU, `α` in place of `0` for the inactive neurons),
//! `J_1 = W_1`, `J_l = W_l D_{l-1} J_{l-1}` (gradients, `n_l x d`) and
//! `c_1 = b_1`, `c_l = W_l D_{l-1} c_{l-1} + b_l`. The output on `R_P` is `J_L y + c_L`
//! (times `D_L` when the output has a ReLU).
//!
//! The region itself is the polyhedron
//! `R_P = {y : g_k . y + c_k > 0 for active k, <= 0 for inactive k}`: by induction over the
//! layers, once the earlier layers' signs match `P` the deeper pre-activations equal their
//! frozen affine extensions (docs/math.md §1.2). Computing the maps costs one matrix product
//! per layer restricted to the active columns, `n_l x a_{l-1} x d` multiply-adds.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::error::NetworkError;
use crate::network::{Affine, Network, NeuronId};
use crate::pattern::ActivationPattern;

/// Every neuron's pre-activation as an affine function of the input, valid on one
/// activation region, plus the network's output map there.
#[derive(Debug, Clone)]
pub struct LocalAffineMap {
    /// The region's pattern.
    pub pattern: ActivationPattern,
    /// Per ReLU layer: the gradients `g_k` of its neurons, one row per neuron
    /// (`width x input_dim`).
    pub gradients: Vec<Mat<f64>>,
    /// Per ReLU layer: the offsets `c_k`, so that `z_k(y) = g_k . y + c_k` on the region.
    pub offsets: Vec<Vec<f64>>,
    /// The network's output on the region, `y -> J y + c` (the output ReLU, if any,
    /// applied: rows of inactive outputs are zero).
    pub output: Affine,
}

impl LocalAffineMap {
    /// The affine function of neuron `id` on the region: `(g, c)`.
    pub fn neuron(&self, id: NeuronId) -> (Vec<f64>, f64) {
        let g = &self.gradients[id.layer];
        (
            (0..g.ncols()).map(|j| g[(id.index, j)]).collect(),
            self.offsets[id.layer][id.index],
        )
    }
}

impl Network {
    /// Checks that `pattern` has one bit per ReLU neuron.
    fn check_pattern(&self, pattern: &ActivationPattern) -> Result<(), NetworkError> {
        if pattern.len() != self.relu_count() {
            return Err(NetworkError::PatternLength {
                expected: self.relu_count(),
                found: pattern.len(),
            });
        }
        Ok(())
    }

    /// The affine maps of every neuron and of the output on the region of `pattern`.
    /// The pattern need not be realised by any input (the maps are then those of the
    /// frozen network).
    pub fn local_affine_map_of(
        &self,
        pattern: &ActivationPattern,
    ) -> Result<LocalAffineMap, NetworkError> {
        self.check_pattern(pattern)?;
        let relu_layers = self.relu_layer_count();
        let mut gradients: Vec<Mat<f64>> = Vec::with_capacity(relu_layers);
        let mut offsets: Vec<Vec<f64>> = Vec::with_capacity(relu_layers);
        let mut bit = 0;
        let mut output = None;
        for (l, layer) in self.layers().iter().enumerate() {
            let (j, c) = match (gradients.last(), offsets.last()) {
                (None, _) | (_, None) => (layer.weight().to_owned(), layer.bias().to_vec()),
                (Some(prev_j), Some(prev_c)) => {
                    let start = bit - prev_c.len();
                    let columns =
                        self.frozen_columns(l - 1, |i| pattern.get(start + i) == Some(true));
                    masked_product(layer, &columns, prev_j.as_ref(), prev_c)
                }
            };
            if l < relu_layers {
                bit += j.nrows();
                gradients.push(j);
                offsets.push(c);
            } else {
                output = Some((j, c));
            }
        }
        let output = match output {
            Some((j, c)) => Affine::new(j, c)?,
            None => {
                // The output layer has an activation: the output map is
                // D_L (J_L y + c_L), D_L the activation's slopes on the region.
                let j = gradients.last().expect("at least one layer");
                let c = offsets.last().expect("at least one layer");
                let (last, start) = (relu_layers - 1, bit - c.len());
                let s =
                    |i: usize| self.activation_slope(last, i, pattern.get(start + i) == Some(true));
                Affine::new(
                    Mat::from_fn(j.nrows(), j.ncols(), |i, k| s(i) * j[(i, k)]),
                    (0..c.len()).map(|i| s(i) * c[i]).collect(),
                )?
            }
        };
        Ok(LocalAffineMap {
            pattern: pattern.clone(),
            gradients,
            offsets,
            output,
        })
    }

    /// The network's output map `y -> J y + c` on the region of `pattern`, by reverse-mode
    /// products (`out x` the parameters: cheaper than [`Network::local_affine_map_of`] when
    /// the input dimension is large). The output ReLU, if any, is applied.
    pub fn output_map_of(&self, pattern: &ActivationPattern) -> Result<Affine, NetworkError> {
        self.check_pattern(pattern)?;
        let layers = self.layers();
        let widths = self.relu_widths();
        let mut starts = Vec::with_capacity(widths.len());
        let mut acc = 0;
        for w in &widths {
            starts.push(acc);
            acc += w;
        }
        let on = |l: usize, i: usize| pattern.get(starts[l] + i) == Some(true);
        let s = |l: usize, i: usize| self.activation_slope(l, i, on(l, i));
        // Offsets forward: c_l = W_l D_{l-1} c_{l-1} + b_l.
        let mut c = layers[0].bias().to_vec();
        for l in 1..layers.len() {
            let masked: Vec<f64> = (0..c.len()).map(|i| s(l - 1, i) * c[i]).collect();
            c = layers[l].apply(&masked);
        }
        // Jacobian backward: M = W_L, then M <- (M D_l) W_l.
        let last = layers.len() - 1;
        let mut m = layers[last].weight().to_owned();
        for l in (0..last).rev() {
            let columns = self.frozen_columns(l, |i| on(l, i));
            let ma = Mat::from_fn(m.nrows(), columns.len(), |r, k| {
                columns[k].1 * m[(r, columns[k].0)]
            });
            let w = layers[l].weight();
            let wa = Mat::from_fn(columns.len(), w.ncols(), |k, j| w[(columns[k].0, j)]);
            let mut next = Mat::zeros(m.nrows(), w.ncols());
            matmul(
                next.as_mut(),
                Accum::Replace,
                ma.as_ref(),
                wa.as_ref(),
                1.0,
                Par::Seq,
            );
            m = next;
        }
        if self.output_relu() {
            for i in 0..c.len() {
                let si = s(last, i);
                if si != 1.0 {
                    c[i] *= si;
                    for j in 0..m.ncols() {
                        m[(i, j)] *= si;
                    }
                }
            }
        }
        Affine::new(m, c)
    }

    /// The affine maps on the activation region containing `x` (the region of `x`'s
    /// pattern; for a point on a boundary, the pattern with `z = 0` inactive).
    pub fn local_affine_map(&self, x: &[f64]) -> Result<LocalAffineMap, NetworkError> {
        let pattern = self.pattern(x)?;
        self.local_affine_map_of(&pattern)
    }

    /// [`Network::local_affine_map`] for many points (one per row), in parallel.
    pub fn local_affine_maps_batch(
        &self,
        x: MatRef<'_, f64>,
    ) -> Result<Vec<LocalAffineMap>, NetworkError> {
        use rayon::prelude::*;
        let patterns = self.patterns_batch(x, Par::Seq)?;
        patterns
            .par_iter()
            .map(|p| self.local_affine_map_of(p))
            .collect()
    }
}

/// `(W[:, A] D J[A, :], W[:, A] D c[A] + b)`: the next layer's gradients and offsets over
/// the previous layer's neurons `A` that pass a nonzero multiple `D` of their map
/// ([`Network::frozen_columns`]; for ReLU, the active ones, `D = 1`).
fn masked_product(
    layer: &Affine,
    columns: &[(usize, f64)],
    prev_j: MatRef<'_, f64>,
    prev_c: &[f64],
) -> (Mat<f64>, Vec<f64>) {
    let w = layer.weight();
    let wa = Mat::from_fn(w.nrows(), columns.len(), |i, k| w[(i, columns[k].0)]);
    let ja = Mat::from_fn(columns.len(), prev_j.ncols(), |k, j| {
        columns[k].1 * prev_j[(columns[k].0, j)]
    });
    let mut out = Mat::zeros(w.nrows(), prev_j.ncols());
    matmul(
        out.as_mut(),
        Accum::Replace,
        wa.as_ref(),
        ja.as_ref(),
        1.0,
        Par::Seq,
    );
    let ca: Vec<f64> = columns.iter().map(|&(i, d)| d * prev_c[i]).collect();
    let mut c = layer.bias().to_vec();
    for (k, &v) in ca.iter().enumerate() {
        if v != 0.0 {
            for i in 0..w.nrows() {
                c[i] += wa[(i, k)] * v;
            }
        }
    }
    (out, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{Init, random_architecture};
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    #[test]
    fn local_maps_reproduce_the_network_at_the_point() {
        let mut rng = StdRng::seed_from_u64(7);
        for trial in 0..60 {
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let net = random_architecture(&mut rng, init);
            let d = net.input_dim();
            let x: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let map = net.local_affine_map(&x).unwrap();
            let z = net.pre_activations(&x).unwrap();
            for (l, (g, c)) in map.gradients.iter().zip(&map.offsets).enumerate() {
                for i in 0..c.len() {
                    let v: f64 = (0..d).map(|j| g[(i, j)] * x[j]).sum::<f64>() + c[i];
                    assert!((v - z[l][i]).abs() <= 1e-10 * (1.0 + z[l][i].abs()));
                }
            }
            let y = net.forward(&x).unwrap();
            let y2 = map.output.apply(&x);
            let reverse = net.output_map_of(&map.pattern).unwrap();
            let y3 = reverse.apply(&x);
            for ((a, b), c) in y.iter().zip(&y2).zip(&y3) {
                assert!((a - b).abs() <= 1e-10 * (1.0 + a.abs()));
                assert!((a - c).abs() <= 1e-10 * (1.0 + a.abs()));
            }
            // Finite differences inside the region agree with the gradients.
            let h = 1e-7;
            for j in 0..d.min(3) {
                let mut xp = x.clone();
                xp[j] += h;
                if net.pattern(&xp).unwrap() != map.pattern {
                    continue;
                }
                let yp = net.forward(&xp).unwrap();
                for o in 0..y.len() {
                    let fd = (yp[o] - y[o]) / h;
                    let g = map.output.weight()[(o, j)];
                    assert!((fd - g).abs() <= 1e-5 * (1.0 + g.abs()), "{fd} vs {g}");
                }
            }
        }
    }

    #[test]
    fn wrong_pattern_length_is_an_error() {
        let mut rng = StdRng::seed_from_u64(1);
        let net = random_architecture(&mut rng, Init::PytorchDefault);
        let p = ActivationPattern::inactive(net.relu_count() + 1);
        assert!(matches!(
            net.local_affine_map_of(&p),
            Err(NetworkError::PatternLength { .. })
        ));
    }
}
