//! The affine map accumulated between two ReLUs: consecutive elementwise and dense maps
//! composed into one layer.

use relu_regions::Affine;

use super::check_dense;
use crate::onnx::{MAX_COMPOSE_FLOPS, NodeCtx, OnnxError};

/// The affine map accumulated since the last ReLU (or since the network input), from
/// that point to the current activation, flattened. Kept structured as long as possible
/// so that elementwise ops (normalisation, BatchNorm) never form dense diagonals.
pub(crate) enum Pending {
    Identity(usize),
    Diagonal { scale: Vec<f64>, shift: Vec<f64> },
    Dense(Affine),
}

impl Pending {
    /// `x -> scale ⊙ P(x) + shift`.
    pub(crate) fn then_elementwise(
        self,
        ctx: &NodeCtx,
        scale: Vec<f64>,
        shift: Vec<f64>,
    ) -> Result<Pending, OnnxError> {
        Ok(match self {
            Pending::Identity(_) => Pending::Diagonal { scale, shift },
            Pending::Diagonal {
                scale: s1,
                shift: t1,
            } => {
                let new_scale = scale.iter().zip(&s1).map(|(a, b)| a * b).collect();
                let new_shift = scale
                    .iter()
                    .zip(t1.iter().zip(&shift))
                    .map(|(s, (t, u))| s * t + u)
                    .collect();
                Pending::Diagonal {
                    scale: new_scale,
                    shift: new_shift,
                }
            }
            Pending::Dense(p) => Pending::Dense(
                p.postcompose_diagonal(&scale, &shift)
                    .ok_or_else(|| ctx.internal("elementwise map of the wrong length"))?,
            ),
        })
    }

    /// `x -> T(P(x))` for a dense `T`.
    pub(crate) fn then_dense(self, ctx: &NodeCtx, t: Affine) -> Result<Pending, OnnxError> {
        Ok(match self {
            Pending::Identity(_) => Pending::Dense(t),
            Pending::Diagonal { scale, shift } => Pending::Dense(
                t.precompose_diagonal(&scale, &shift)
                    .ok_or_else(|| ctx.internal("diagonal map of the wrong length"))?,
            ),
            Pending::Dense(p) => {
                check_dense(
                    ctx,
                    "the composed affine map",
                    t.output_dim(),
                    p.input_dim(),
                )?;
                let flops =
                    (t.output_dim() as u128) * (t.input_dim() as u128) * (p.input_dim() as u128);
                if flops > MAX_COMPOSE_FLOPS {
                    return Err(ctx.too_large(format!(
                            "composing a {}x{} map with the {}x{} map before it (no ReLU between them)",
                            t.output_dim(),
                            t.input_dim(),
                            p.output_dim(),
                            p.input_dim()
                        ), flops, "multiply-adds", MAX_COMPOSE_FLOPS));
                }
                Pending::Dense(
                    t.compose(&p)
                        .ok_or_else(|| ctx.internal("dense maps do not chain"))?,
                )
            }
        })
    }

    /// The pending map as one affine layer.
    pub(crate) fn into_affine(self, ctx: &NodeCtx) -> Result<Affine, OnnxError> {
        match self {
            Pending::Identity(n) => {
                check_dense(ctx, "the identity layer", n, n)?;
                Ok(Affine::identity(n))
            }
            Pending::Diagonal { scale, shift } => {
                check_dense(ctx, "the elementwise layer", scale.len(), scale.len())?;
                Ok(Affine::diagonal(&scale, &shift)?)
            }
            Pending::Dense(a) => Ok(a),
        }
    }
}
