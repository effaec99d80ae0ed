//! The frozen affine maps of a layer's neurons on a node of the region tree, with a
//! proven bound on their rounding error, and their composition into the next layer.

use faer::Mat;

use super::tree::{Node, Search};

/// The affine maps `z_i = g_i . x + c_i` of one layer's neurons, `g_i` stored
/// contiguously (the columns of `G^T`), as computed in f64.
///
/// `error[i]` bounds `|z~_i(x) - z_i(x)|` ([`MapError`]), where `z~_i = g_i . x + c_i`
/// evaluated exactly and `z_i` is the network's true pre-activation on the node.
pub(super) struct LayerMaps {
    pub(super) gt: Mat<f64>,
    pub(super) c: Vec<f64>,
    pub(super) error: Vec<MapError>,
}

/// A bound `constant + slope ||x||_inf` on the error of a computed affine map at `x`
/// (or, over a node's rows, on their distance from the true hyperplanes).
///
/// Zero for the network's first layer (its own weights). For a composed layer
/// `g_i = fl(sum_a W_ia g_a)`, `c_i = fl(sum_a W_ia c_a + b_i)` over the active `a` (for a
/// leaky layer, over every `a` with a nonzero slope, each term times it), with
/// `γ = 4 (n + 2) ε` (`crate::stability::rounding_margin`: the rounding of `n`-term sums
/// in any order, Higham 2002 §3.1, with a factor four to spare):
///
/// ```text
/// constant_i = sum_a |W_ia| constant_a + γ (sum_a |W_ia| |c_a| + |b_i|)
/// slope_i    = sum_a |W_ia| slope_a    + γ  sum_a |W_ia| ||g_a||_1
/// ```
///
/// (the first terms carried from the layer before, whose errors the weights scale; the
/// second the rounding of the new sums: `|fl(sum) - sum| <= γ sum |terms|`, and
/// `|sum_j e_j x_j| <= ||e||_1 ||x||_inf`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct MapError {
    pub(super) constant: f64,
    pub(super) slope: f64,
}

impl MapError {
    /// The bound at a point of sup-norm `norm_inf`.
    pub(super) fn at(self, norm_inf: f64) -> f64 {
        self.constant + self.slope * norm_inf
    }

    /// Divided by a row's norm: in input units.
    pub(super) fn scaled(self, by: f64) -> Self {
        Self {
            constant: self.constant / by,
            slope: self.slope / by,
        }
    }

    pub(super) fn max(self, other: Self) -> Self {
        Self {
            constant: self.constant.max(other.constant),
            slope: self.slope.max(other.slope),
        }
    }
}

impl LayerMaps {
    pub(super) fn new(g: faer::MatRef<'_, f64>, c: Vec<f64>, error: Vec<MapError>) -> Self {
        Self {
            gt: g.transpose().to_owned(),
            c,
            error,
        }
    }

    pub(super) fn width(&self) -> usize {
        self.c.len()
    }

    /// `(g_i, c_i)`.
    pub(super) fn row(&self, i: usize) -> (&[f64], f64) {
        let g = self
            .gt
            .col(i)
            .try_as_col_major()
            .expect("owned column")
            .as_slice();
        (g, self.c[i])
    }
}

impl Search<'_> {
    /// The frozen pre-activation maps of the next layer on a node whose current layer is
    /// fully decided: `W[:, A] G[A, :]` and `W[:, A] c[A] + b`, `A` the active neurons
    /// (with leaky neurons, `W D G` and `W D c + b`, `D` = 1 active, `α` inactive).
    pub(super) fn next_layer_maps(&self, node: &Node) -> LayerMaps {
        // Both compute the same maps; which is faster was measured (`bench_count
        // --large`): the masked product on 2-D nets (d2 128x3: 0.32 s against 0.47 s),
        // the gathered one on ACAS Xu (3.5 s against 5.0 s for the five L-inf 0.05 balls).
        let mut maps = if node.maps.gt.nrows() == 2 {
            self.next_layer_maps_masked(node)
        } else {
            self.next_layer_maps_gathered(node)
        };
        maps.error = self.next_layer_error(node);
        maps
    }

    /// [`LayerMaps::error`] of the next layer's maps on a node whose current layer is
    /// fully decided ([`MapError`]).
    fn next_layer_error(&self, node: &Node) -> Vec<MapError> {
        let width = node.maps.width();
        let start = node.bits.len() - width;
        let layer = &self.net.layers()[node.layer + 1];
        let w = layer.weight();
        let gamma = crate::stability::rounding_margin(width, 1.0);
        // V = [constant_a + γ |c_a|, slope_a + γ ||g_a||_1] for the active inputs a (zero
        // for the inactive ReLU ones), then constant_i = (|W| V)_i0 + γ |b_i|, slope_i = (|W| V)_i1.
        // A leaky inactive input passes `s_a = α_a` times its map: V scales by `s_a`,
        // plus the product's own rounding, `ε |s_a|` times the magnitude.
        let v = Mat::from_fn(width, 2, |a, k| {
            let s = self
                .net
                .activation_slope(node.layer, a, node.bits[start + a]);
            if s == 0.0 {
                return 0.0;
            }
            let (g, c) = node.maps.row(a);
            let e = node.maps.error[a];
            let product = if s == 1.0 { 0.0 } else { f64::EPSILON };
            if k == 0 {
                s * (e.constant + (gamma + product) * c.abs())
            } else {
                s * (e.slope + (gamma + product) * g.iter().map(|x| x.abs()).sum::<f64>())
            }
        });
        let mut out = Mat::<f64>::zeros(w.nrows(), 2);
        faer::linalg::matmul::matmul(
            out.as_mut(),
            faer::Accum::Replace,
            self.abs_weights[node.layer + 1].as_ref(),
            v.as_ref(),
            1.0,
            faer::Par::Seq,
        );
        let errors: Vec<MapError> = (0..w.nrows())
            .map(|i| MapError {
                constant: out[(i, 0)] + gamma * layer.bias()[i].abs(),
                slope: out[(i, 1)],
            })
            .collect();
        // The sums' own rounding (a few ulps of them) is far inside γ's factor of four.
        errors
    }

    /// By gathering the active columns (used for inputs of dimension above 2).
    pub(super) fn next_layer_maps_gathered(&self, node: &Node) -> LayerMaps {
        let width = node.maps.width();
        let start = node.bits.len() - width;
        let columns = self
            .net
            .frozen_columns(node.layer, |i| node.bits[start + i]);
        let layer = &self.net.layers()[node.layer + 1];
        let w = layer.weight();
        let wa = Mat::from_fn(w.nrows(), columns.len(), |i, k| w[(i, columns[k].0)]);
        // G_next^T = G^T[:, A] D W[:, A]^T, built column by column of G^T (contiguous);
        // D = 1 on the active neurons, α on the leaky inactive ones.
        let gt = &node.maps.gt;
        let mut gt_a = Mat::<f64>::zeros(gt.nrows(), columns.len());
        for (k, &(a, d)) in columns.iter().enumerate() {
            gt_a.col_mut(k).copy_from(gt.col(a));
            if d != 1.0 {
                gt_a.col_mut(k).iter_mut().for_each(|v| *v *= d);
            }
        }
        let mut out = Mat::<f64>::zeros(gt.nrows(), w.nrows());
        faer::linalg::matmul::matmul(
            out.as_mut(),
            faer::Accum::Replace,
            gt_a.as_ref(),
            wa.transpose(),
            1.0,
            faer::Par::Seq,
        );
        let c = (0..w.nrows())
            .map(|i| {
                layer.bias()[i]
                    + columns
                        .iter()
                        .enumerate()
                        .map(|(k, &(a, d))| wa[(i, k)] * (d * node.maps.c[a]))
                        .sum::<f64>()
            })
            .collect();
        LayerMaps {
            gt: out,
            c,
            error: Vec::new(),
        }
    }

    /// By one product with the inactive columns zeroed (used for 2-D inputs).
    pub(super) fn next_layer_maps_masked(&self, node: &Node) -> LayerMaps {
        let width = node.maps.width();
        let start = node.bits.len() - width;
        let layer = &self.net.layers()[node.layer + 1];
        let w = layer.weight();
        let d = node.maps.gt.nrows();
        // G_next^T = (G^T with the inactive columns zeroed, or times α when leaky) W^T,
        // c_next = W D c + b.
        let slope = |a: usize| {
            self.net
                .activation_slope(node.layer, a, node.bits[start + a])
        };
        let gt_a = Mat::from_fn(d + 1, width, |j, a| {
            let s = slope(a);
            if s == 0.0 {
                0.0
            } else if j < d {
                s * node.maps.gt[(j, a)]
            } else {
                s * node.maps.c[a]
            }
        });
        let mut out = Mat::<f64>::zeros(d + 1, w.nrows());
        faer::linalg::matmul::matmul(
            out.as_mut(),
            faer::Accum::Replace,
            gt_a.as_ref(),
            w.transpose(),
            1.0,
            faer::Par::Seq,
        );
        let c = (0..w.nrows())
            .map(|i| out[(d, i)] + layer.bias()[i])
            .collect();
        LayerMaps {
            gt: out.subrows(0, d).to_owned(),
            c,
            error: Vec::new(),
        }
    }
}
