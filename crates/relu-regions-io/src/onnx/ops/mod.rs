//! Lowering of single ONNX ops to maps on the flattened activation.
//!
//! Every supported op is one of three kinds on the running activation `x` (a tensor of a
//! known concrete shape, flattened row-major):
//! - shape-only (Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout): the values and
//!   their row-major order are unchanged, only the tracked shape changes;
//! - elementwise affine (Add, Sub, Mul, Div with a constant, BatchNormalization):
//!   `x -> s ⊙ x + t`;
//! - dense affine (Gemm, MatMul, Conv): `x -> W x + b` with `W` built explicitly, including
//!   any batch structure of the tensor (block-diagonal when a batch-like dimension is
//!   larger than 1).
//!
//! The maps are composed by [`Pending`] until the next ReLU.
//!
//! One file per family: [`shape`] (Flatten, Reshape, Squeeze, Unsqueeze, Dropout; Identity
//! needs no lowering), [`elementwise`] (Add, Sub, Mul, Div, BatchNormalization), [`dense`]
//! (Gemm, MatMul), [`conv`] (Conv lowered to a dense matrix), and [`pending`], the
//! composition of consecutive maps into one layer.

pub(crate) mod conv;
pub(crate) mod dense;
pub(crate) mod elementwise;
pub(crate) mod pending;
pub(crate) mod shape;

pub(crate) use pending::Pending;

use relu_regions::Affine;

use super::tensor::Constant;
use super::{MAX_DENSE_ENTRIES, NodeCtx, OnnxError};

/// The result of lowering one op.
pub(crate) enum Lowered {
    /// Values unchanged; the activation now has this shape.
    Shape(Vec<usize>),
    /// `x -> scale ⊙ x + shift`, result of this shape (same number of entries).
    Elementwise {
        scale: Vec<f64>,
        shift: Vec<f64>,
        shape: Vec<usize>,
    },
    /// `x -> W x + b`, result of this shape.
    Dense { map: Affine, shape: Vec<usize> },
}

/// Refuses dense matrices of more than [`MAX_DENSE_ENTRIES`] entries.
pub(crate) fn check_dense(
    ctx: &NodeCtx,
    what: &str,
    rows: usize,
    cols: usize,
) -> Result<(), OnnxError> {
    let entries = rows as u128 * cols as u128;
    if entries > MAX_DENSE_ENTRIES as u128 {
        return Err(ctx.too_large(
            format!("{what} ({rows}x{cols})"),
            entries,
            "entries",
            MAX_DENSE_ENTRIES as u128,
        ));
    }
    Ok(())
}

/// The inputs of a node: where the running activation is, and the decoded constants.
pub(crate) struct NodeInputs {
    pub act: usize,
    pub consts: Vec<Option<Constant>>,
}

impl NodeInputs {
    /// Requires the activation at input `pos` (`what` names the operand).
    pub(crate) fn act_at(&self, ctx: &NodeCtx, pos: usize, what: &str) -> Result<(), OnnxError> {
        if self.act == pos {
            Ok(())
        } else {
            Err(ctx.chain(format!(
                "the running activation feeds input {} but it must be input {pos} ({what}); \
                 the other inputs must be initializers or Constant outputs",
                self.act
            )))
        }
    }

    /// The constant at input `pos`, which must be present.
    pub(crate) fn constant(
        &self,
        ctx: &NodeCtx,
        pos: usize,
        what: &str,
    ) -> Result<&Constant, OnnxError> {
        if pos == self.act {
            return Err(ctx.chain(format!(
                "the running activation feeds input {pos} ({what}), which must be a constant"
            )));
        }
        self.optional(pos).ok_or_else(|| OnnxError::MissingInput {
            node: ctx.label.clone(),
            op: ctx.op.clone(),
            input: format!("input {pos} ({what})"),
        })
    }

    /// The constant at input `pos`, when given.
    pub(crate) fn optional(&self, pos: usize) -> Option<&Constant> {
        self.consts.get(pos).and_then(Option::as_ref)
    }
}
