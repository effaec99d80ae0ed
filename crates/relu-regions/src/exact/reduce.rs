//! The row-space reduction of an L2 ball.
//!
//! The network reads its input `x in R^n` only through the first layer's `W_1 x`, so it is
//! constant along the null space of `W_1`: with `Q` (`n x k`, orthonormal columns) spanning
//! the row space of `W_1` (`W_1 = W_1 Q Q^T`) and `y = Q^T (x - c)`,
//!
//! ```text
//! f(x) = f'(y),    f' = the network with first layer  y -> (W_1 Q) y + (W_1 c + b_1).
//! ```
//!
//! Every activation region of `f` is a cylinder `{x : Q^T (x - c) in R'}` over a region `R'`
//! of `f'` (the same pattern), and its distance to any point is measured in the row space.
//! The ball `B(c, r)` (L2) projects onto the ball `B(0, r)` of `R^k`, and a cylinder's
//! interior meets the ball's interior exactly when `R'`'s interior meets `B(0, r)`'s
//! (`c + Q y` lies in the ball for every `y` of `B(0, r)`, and `Q^T (x - c)` of a point of the
//! ball lies in `B(0, r)`). So the regions of `f` meeting `B(c, r)` are those of `f'` meeting
//! `B(0, r)`, pattern for pattern, and a region's interior point `y` is `c + Q y` in the
//! input space. When `k < n` (a first layer narrower than the input: 256 neurons on 784
//! pixels) every program of the region tree is solved in `k` dimensions instead of `n`.
//!
//! `Q` comes from the thin QR factorisation `W_1^T = Q R` (`k` = the first layer's width),
//! which spans every row of `W_1` whatever its rank; `W_1 Q Q^T` differs from `W_1` by
//! rounding only (about `1e-16` of `||W_1||`); that rounding and the products `W_1 Q`,
//! `W_1 c` make the error bound of the reduced first layer (`exact/mod.rs`), and leaves
//! are certified in the original network.
//! An L-inf ball or a box does not project onto a ball or a box, so they are not reduced.
//!
//! The tree then runs on `f'` and `B(0, r)`; its leaves are verified at `c + Q y` in the
//! original network, and reported there. Distinct affine maps of the output
//! (`affine_maps`) are compared in the reduced coordinates: `M W_1 Q` determines `M W_1`
//! (`M W_1 = M W_1 Q Q^T`), so equal maps stay equal and distinct ones distinct; only maps
//! within the comparison's rounding (`1e-9` relative) may group differently than in the
//! input space. The anytime bounds of unexplored nodes are local bounds of sub-networks of
//! `f'` over `B(0, r)` (valid: the same regions), and the reported upper bound is the
//! smaller of their sum and the local bound of `f` over `B(c, r)`.

use faer::Mat;

use super::EnumerationError;
use crate::Norm;
use crate::domain::Domain;
use crate::network::{Affine, Network};

/// The reduced problem: the network `f'` on `R^k`, the ball `B(0, r)` of `R^k`, and the map
/// back to the input space.
pub(super) struct RowSpace {
    pub(super) net: Network,
    pub(super) domain: Domain,
    /// Orthonormal basis of the first layer's row space (`n x k`).
    q: Mat<f64>,
    center: Vec<f64>,
}

impl RowSpace {
    /// The reduction of an L2 ball `domain` for `net`, when the first layer is narrower than
    /// the input (otherwise `None`: nothing to gain).
    pub(super) fn of(net: &Network, domain: &Domain) -> Result<Option<Self>, EnumerationError> {
        let Domain::Ball(ball) = domain else {
            return Ok(None);
        };
        let first = &net.layers()[0];
        let w = first.weight();
        let (k, n) = (w.nrows(), w.ncols());
        if ball.norm != Norm::L2 || k >= n {
            return Ok(None);
        }
        let q = w.transpose().qr().compute_thin_Q();
        let wq = w * &q;
        let bias: Vec<f64> = (0..k)
            .map(|i| first.bias()[i] + (0..n).map(|j| w[(i, j)] * ball.center[j]).sum::<f64>())
            .collect();
        let reduced = net.subnetwork(Affine::new(wq, bias)?, 0)?;
        let domain = Domain::ball(vec![0.0; k], ball.radius, Norm::L2)?;
        Ok(Some(Self {
            net: reduced,
            domain,
            q,
            center: ball.center.clone(),
        }))
    }

    /// The input-space point `c + Q y` of the reduced point `y`.
    pub(super) fn lift(&self, y: &[f64]) -> Vec<f64> {
        (0..self.center.len())
            .map(|i| {
                self.center[i]
                    + y.iter()
                        .enumerate()
                        .map(|(j, v)| self.q[(i, j)] * v)
                        .sum::<f64>()
            })
            .collect()
    }
}
