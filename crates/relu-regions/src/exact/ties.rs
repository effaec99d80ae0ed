//! Neurons tied to an earlier neuron of their layer: weights and bias exactly
//! proportional, `(w_B, b_B) = alpha (w_A, b_A)` with `alpha != 0`.
//!
//! Then `z_B = alpha z_A` everywhere (both read the same inputs), so on a node where `A`
//! is decided `B` is too, with no program and no rounding question: with `alpha > 0`,
//! `B` has `A`'s state; with `alpha < 0` and `A` active (`z_A > 0` inside the node), `B`
//! is inactive. With `alpha < 0` and `A` inactive, `z_A <= 0` on the node allows
//! `z_A = 0` on all of it (`B` then inactive too); when a witness has `z_B > 0` with a
//! margin, `z_A` is not identically zero, so `z_A < 0` on the node but for a face, and `B`
//! is active; otherwise `B` is decided the usual way. Without this, the
//! side of `B` opposite to `A`'s is a zero-width slab on every node that meets `A`'s
//! hyperplane, which no floating-point program can tell from a thin region: it would be
//! reported as uncertain. Duplicated, negated and scaled neurons are the common
//! degeneracies of pruned, hand-made and randomly perturbed networks.
//!
//! Proportionality is checked exactly: `alpha = w_B[j0] / w_A[j0]` at the first nonzero
//! weight, and `fma(alpha, v_A, -v_B) == 0` for every weight and the bias, which holds
//! only when `alpha v_A = v_B` exactly (the fused product is exact, and its difference
//! with `v_B` rounds to zero only when it is zero, since all values involved are normal
//! numbers of moderate exponent; others are not tied).

use crate::network::Network;

/// Neuron `B` is tied to the earlier neuron `representative` of its layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Tie {
    pub(super) representative: usize,
    /// `alpha < 0`.
    pub(super) negated: bool,
}

/// Values whose products are exact enough for the check (normal, moderate exponents).
fn moderate(v: f64) -> bool {
    v == 0.0 || (1e-100..1e100).contains(&v.abs())
}

/// The ties of every ReLU layer of `net`.
pub(super) fn ties(net: &Network) -> Vec<Vec<Option<Tie>>> {
    net.layers()[..net.relu_layer_count()]
        .iter()
        .map(|layer| {
            let w = layer.weight();
            let b = layer.bias();
            let rows: Vec<Vec<f64>> = (0..w.nrows())
                .map(|i| {
                    (0..w.ncols())
                        .map(|j| w[(i, j)])
                        .chain(std::iter::once(b[i]))
                        .collect()
                })
                .collect();
            (0..rows.len())
                .map(|i| {
                    (0..i).find_map(|a| {
                        proportional(&rows[a], &rows[i]).map(|alpha| Tie {
                            representative: a,
                            negated: alpha < 0.0,
                        })
                    })
                })
                .collect()
        })
        .collect()
}

/// `alpha` with `b = alpha a` exactly, if there is one (`a` not all zero).
fn proportional(a: &[f64], b: &[f64]) -> Option<f64> {
    let j0 = a.iter().position(|&v| v != 0.0)?;
    let alpha = b[j0] / a[j0];
    if alpha == 0.0 || !alpha.is_finite() || !moderate(alpha) {
        return None;
    }
    a.iter()
        .zip(b)
        .all(|(&x, &y)| moderate(x) && moderate(y) && alpha.mul_add(x, -y) == 0.0)
        .then_some(alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_multiples_only() {
        let a = [0.3, -1.7, 0.0, 2.5];
        assert_eq!(proportional(&a, &a), Some(1.0));
        let neg: Vec<f64> = a.iter().map(|v| -v).collect();
        assert_eq!(proportional(&a, &neg), Some(-1.0));
        let double: Vec<f64> = a.iter().map(|v| 2.0 * v).collect();
        assert_eq!(proportional(&a, &double), Some(2.0));
        // One weight off by one unit in the last place.
        let mut off = a.to_vec();
        off[1] = f64::from_bits(off[1].to_bits() + 1);
        assert_eq!(proportional(&a, &off), None);
        // A zero where the other is not.
        let mut hole = a.to_vec();
        hole[3] = 0.0;
        assert_eq!(proportional(&a, &hole), None);
        assert_eq!(proportional(&[0.0, 0.0], &[0.0, 0.0]), None);
        // 0.1 * 3 is not exactly 0.3 in f64: not tied.
        assert_eq!(proportional(&[0.1, 1.0], &[0.3, 3.0]), None);
    }
}
