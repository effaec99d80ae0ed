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

use faer::Mat;
use relu_regions::Affine;

use super::proto::NodeProto;
use super::tensor::{
    Constant, attr_float, attr_int, attr_ints, attr_string, broadcast_shapes, broadcast_values,
    checked_product, fmt_shape,
};
use super::{MAX_COMPOSE_FLOPS, MAX_DENSE_ENTRIES, NodeCtx, OnnxError};

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

/// A non-negative attribute value that fits comfortably in `usize`.
fn small_usize(
    ctx: &NodeCtx,
    attribute: &'static str,
    v: i64,
    min: i64,
) -> Result<usize, OnnxError> {
    if v < min || v > (1 << 24) {
        return Err(ctx.attribute(
            attribute,
            v,
            format!("must be between {min} and {}", 1 << 24),
        ));
    }
    usize::try_from(v).map_err(|_| ctx.attribute(attribute, v, "out of range"))
}

/// An axis in `[-rank, rank)` (or `[-rank, rank]` with `inclusive`), normalised.
fn axis(
    ctx: &NodeCtx,
    attribute: &'static str,
    v: i64,
    rank: usize,
    inclusive: bool,
) -> Result<usize, OnnxError> {
    let r = rank as i64;
    let hi = if inclusive { r } else { r - 1 };
    if v < -r || v > hi {
        return Err(ctx.attribute(
            attribute,
            v,
            format!("out of range for a rank-{rank} tensor"),
        ));
    }
    Ok(if v < 0 { (v + r) as usize } else { v as usize })
}

// ---------------------------------------------------------------------------------------
// Shape-only ops
// ---------------------------------------------------------------------------------------

/// `Flatten(axis)`: `[d_0..d_{a-1}] x [d_a..]` as a 2-D tensor.
pub(crate) fn flatten(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    inputs.act_at(ctx, 0, "input")?;
    let a = axis(
        ctx,
        "axis",
        attr_int(ctx, node, "axis", 1)?,
        shape.len(),
        true,
    )?;
    let outer = checked_product(&shape[..a]).unwrap_or(usize::MAX);
    let inner = checked_product(&shape[a..]).unwrap_or(usize::MAX);
    Ok(Lowered::Shape(vec![outer, inner]))
}

/// `Reshape(x, shape)` with `0` (copy, unless `allowzero=1`) and `-1` (infer) entries.
pub(crate) fn reshape(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    inputs.act_at(ctx, 0, "data")?;
    let target = inputs
        .constant(ctx, 1, "shape")?
        .int_values(ctx, "the shape input")?;
    let allow_zero = attr_int(ctx, node, "allowzero", 0)? != 0;
    let total = checked_product(shape).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &v) in target.iter().enumerate() {
        if v == 0 && !allow_zero {
            let d = shape.get(i).copied().ok_or_else(|| {
                ctx.shape(format!(
                    "shape entry {i} is 0 (copy) but the input {} has only {} dimensions",
                    fmt_shape(shape),
                    shape.len()
                ))
            })?;
            out.push(d);
        } else if v == -1 {
            if infer.is_some() {
                return Err(ctx.shape(format!("shape {target:?} has more than one -1")));
            }
            infer = Some(i);
            out.push(1);
        } else if v > 0 && v <= (1 << 40) {
            out.push(v as usize);
        } else {
            return Err(ctx.shape(format!("invalid shape entry {v} in {target:?}")));
        }
    }
    let known = checked_product(&out).unwrap_or(usize::MAX);
    if let Some(i) = infer {
        if known == 0 || total % known != 0 {
            return Err(ctx.shape(format!(
                "cannot reshape {} ({total} entries) to {target:?}",
                fmt_shape(shape)
            )));
        }
        out[i] = total / known;
    }
    if checked_product(&out) != Some(total) {
        return Err(ctx.shape(format!(
            "cannot reshape {} ({total} entries) to {target:?} ({} entries)",
            fmt_shape(shape),
            known
        )));
    }
    Ok(Lowered::Shape(out))
}

/// The axes of Squeeze/Unsqueeze: the `axes` attribute (opset < 13) or input 1.
fn axes_of(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
) -> Result<Option<Vec<i64>>, OnnxError> {
    if let Some(c) = inputs.optional(1) {
        return Ok(Some(c.int_values(ctx, "the axes input")?));
    }
    if inputs.act == 1 {
        return Err(ctx.chain("the running activation feeds the axes input".to_string()));
    }
    Ok(attr_ints(node, "axes"))
}

/// `Squeeze(x, axes)`: drops the given dimensions of size 1 (all of them without axes).
pub(crate) fn squeeze(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    inputs.act_at(ctx, 0, "data")?;
    let out = match axes_of(ctx, node, inputs)? {
        None => shape.iter().copied().filter(|&d| d != 1).collect(),
        Some(axes) => {
            let mut drop = vec![false; shape.len()];
            for &v in &axes {
                let a = axis(ctx, "axes", v, shape.len(), false)?;
                if shape[a] != 1 {
                    return Err(ctx.shape(format!(
                        "cannot squeeze axis {v} of {}: its size is {}",
                        fmt_shape(shape),
                        shape[a]
                    )));
                }
                drop[a] = true;
            }
            shape
                .iter()
                .zip(&drop)
                .filter(|(_, d)| !**d)
                .map(|(&s, _)| s)
                .collect()
        }
    };
    Ok(Lowered::Shape(out))
}

/// `Unsqueeze(x, axes)`: inserts dimensions of size 1 at the given output positions.
pub(crate) fn unsqueeze(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    inputs.act_at(ctx, 0, "data")?;
    let axes = axes_of(ctx, node, inputs)?
        .ok_or_else(|| ctx.attribute("axes", "(missing)", "Unsqueeze needs axes"))?;
    let rank = shape.len() + axes.len();
    if rank > 64 {
        return Err(ctx.attribute("axes", format!("{axes:?}"), "too many axes"));
    }
    let mut insert = vec![false; rank];
    for &v in &axes {
        let a = axis(ctx, "axes", v, rank, false)?;
        if insert[a] {
            return Err(ctx.attribute("axes", format!("{axes:?}"), "repeated axis"));
        }
        insert[a] = true;
    }
    let mut dims = shape.iter();
    let out = insert
        .iter()
        .map(|&ins| {
            if ins {
                1
            } else {
                dims.next().copied().unwrap_or(1)
            }
        })
        .collect();
    Ok(Lowered::Shape(out))
}

/// `Dropout` at inference: the identity (a constant `training_mode` must be false).
pub(crate) fn dropout(
    ctx: &NodeCtx,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    inputs.act_at(ctx, 0, "data")?;
    if let Some(t) = inputs.optional(2) {
        if t.data.iter().any(|&v| v != 0.0) {
            return Err(ctx.attribute(
                "training_mode",
                "true",
                "only inference-mode Dropout (the identity) is supported",
            ));
        }
    }
    Ok(Lowered::Shape(shape.to_vec()))
}

// ---------------------------------------------------------------------------------------
// Elementwise ops
// ---------------------------------------------------------------------------------------

/// Add, Sub, Mul, Div of the activation and a constant, with numpy broadcasting. The
/// constant may be on either side: `c - x` is affine, `c / x` is not.
pub(crate) fn arithmetic(
    ctx: &NodeCtx,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    if inputs.act > 1 {
        return Err(ctx.chain(format!(
            "the running activation feeds input {}; {} has two inputs",
            inputs.act, ctx.op
        )));
    }
    let other = 1 - inputs.act;
    let c = inputs.constant(ctx, other, "constant operand")?;
    let out = broadcast_shapes(shape, &c.dims).ok_or_else(|| {
        ctx.shape(format!(
            "constant `{}` of shape {} does not broadcast with the activation of shape {}",
            c.name,
            fmt_shape(&c.dims),
            fmt_shape(shape)
        ))
    })?;
    if checked_product(&out) != checked_product(shape) {
        return Err(ctx.shape(format!(
            "constant `{}` of shape {} would broadcast the activation of shape {} to {}; \
             only constants that broadcast to the activation's shape are supported",
            c.name,
            fmt_shape(&c.dims),
            fmt_shape(shape),
            fmt_shape(&out)
        )));
    }
    let values = broadcast_values(c, &out).ok_or_else(|| {
        ctx.shape(format!(
            "constant `{}` of shape {} does not broadcast to {}",
            c.name,
            fmt_shape(&c.dims),
            fmt_shape(&out)
        ))
    })?;
    let n = values.len();
    let (scale, shift) = match (ctx.op.as_str(), inputs.act) {
        ("Add", _) => (vec![1.0; n], values),
        ("Sub", 0) => (vec![1.0; n], values.iter().map(|v| -v).collect()),
        ("Sub", _) => (vec![-1.0; n], values),
        ("Mul", _) => (values, vec![0.0; n]),
        ("Div", 0) => {
            if let Some(index) = c.data.iter().position(|&v| v == 0.0) {
                return Err(OnnxError::DivisionByZero {
                    node: ctx.label.clone(),
                    op: ctx.op.clone(),
                    tensor: c.name.clone(),
                    index,
                });
            }
            let scale: Vec<f64> = values.iter().map(|v| 1.0 / v).collect();
            if let Some((index, v)) = c
                .data
                .iter()
                .enumerate()
                .find(|(_, v)| !(1.0 / *v).is_finite())
            {
                return Err(ctx.bad_tensor(
                    &c.name,
                    format!("entry {index} is {v}; dividing by it gives a non-finite scale"),
                ));
            }
            (scale, vec![0.0; n])
        }
        ("Div", _) => {
            return Err(OnnxError::NotAffine {
                node: ctx.label.clone(),
                op: ctx.op.clone(),
                message: format!(
                    "`{}` / x divides a constant by the activation, which is not affine",
                    c.name
                ),
            });
        }
        _ => return Err(ctx.internal("not an arithmetic op")),
    };
    Ok(Lowered::Elementwise {
        scale,
        shift,
        shape: out,
    })
}

/// `BatchNormalization(x, scale, B, mean, var)` at inference, per channel (dim 1):
/// `y = scale (x - mean) / sqrt(var + epsilon) + B`.
pub(crate) fn batch_norm(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    inputs.act_at(ctx, 0, "X")?;
    if shape.len() < 2 {
        return Err(ctx.shape(format!(
            "BatchNormalization needs an input of rank >= 2 (N, C, ...); the activation has shape {}",
            fmt_shape(shape)
        )));
    }
    let training = attr_int(ctx, node, "training_mode", 0)?;
    if training != 0 {
        return Err(ctx.attribute(
            "training_mode",
            training,
            "only inference-mode BatchNormalization is supported",
        ));
    }
    let spatial = attr_int(ctx, node, "spatial", 1)?;
    if spatial != 1 {
        return Err(ctx.attribute(
            "spatial",
            spatial,
            "only per-channel statistics (spatial=1) are supported",
        ));
    }
    let eps = attr_float(ctx, node, "epsilon", 1e-5)?;
    let channels = shape[1];
    let names = ["scale", "B", "input_mean", "input_var"];
    let mut params = Vec::with_capacity(4);
    for (i, what) in names.iter().enumerate() {
        let c = inputs.constant(ctx, i + 1, what)?;
        if c.len() != channels {
            return Err(ctx.shape(format!(
                "{what} `{}` has shape {} ({} entries) but the input of shape {} has {channels} channels (dim 1)",
                c.name,
                fmt_shape(&c.dims),
                c.len(),
                fmt_shape(shape)
            )));
        }
        params.push(c);
    }
    let (gamma, beta, mean, var) = (params[0], params[1], params[2], params[3]);
    let mut a = Vec::with_capacity(channels);
    let mut b = Vec::with_capacity(channels);
    for ch in 0..channels {
        let denom = var.data[ch] + eps;
        if denom.is_nan() || denom <= 0.0 {
            return Err(ctx.bad_tensor(
                &var.name,
                format!(
                    "entry {ch} is {}; input_var + epsilon must be positive",
                    var.data[ch]
                ),
            ));
        }
        let s = gamma.data[ch] / denom.sqrt();
        let t = beta.data[ch] - mean.data[ch] * s;
        if !s.is_finite() || !t.is_finite() {
            return Err(ctx.bad_tensor(
                &var.name,
                format!("channel {ch} gives a non-finite scale {s} or shift {t}"),
            ));
        }
        a.push(s);
        b.push(t);
    }
    let outer = shape[0];
    let inner = checked_product(&shape[2..]).unwrap_or(usize::MAX);
    let n = checked_product(shape).unwrap_or(usize::MAX);
    let mut scale = Vec::with_capacity(n);
    let mut shift = Vec::with_capacity(n);
    for _ in 0..outer {
        for ch in 0..channels {
            for _ in 0..inner {
                scale.push(a[ch]);
                shift.push(b[ch]);
            }
        }
    }
    Ok(Lowered::Elementwise {
        scale,
        shift,
        shape: shape.to_vec(),
    })
}

// ---------------------------------------------------------------------------------------
// Dense ops
// ---------------------------------------------------------------------------------------

/// `Gemm(A, B, C) = alpha * A' B' + beta * C` with `A' = transA ? A^T : A` (same for B).
/// The activation may be `A` (the usual `x W^T + b`) or `B`; `C` is an optional constant
/// broadcast to the `[M, N]` result.
pub(crate) fn gemm(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    if inputs.act > 1 {
        return Err(ctx.chain(format!(
            "the running activation feeds input {} (C); it must be A or B",
            inputs.act
        )));
    }
    let alpha = attr_float(ctx, node, "alpha", 1.0)?;
    let beta = attr_float(ctx, node, "beta", 1.0)?;
    let trans_a = attr_int(ctx, node, "transA", 0)?;
    let trans_b = attr_int(ctx, node, "transB", 0)?;
    for (name, v) in [("transA", trans_a), ("transB", trans_b)] {
        if v != 0 && v != 1 {
            return Err(ctx.attribute(name, v, "must be 0 or 1"));
        }
    }
    let (trans_a, trans_b) = (trans_a == 1, trans_b == 1);
    let act_is_a = inputs.act == 0;
    let w = inputs.constant(ctx, if act_is_a { 1 } else { 0 }, "weight")?;
    let (a_dims, b_dims): (&[usize], &[usize]) = if act_is_a {
        (shape, &w.dims)
    } else {
        (&w.dims, shape)
    };
    let describe = |which: &str| {
        if (which == "A") == act_is_a {
            format!("the activation (A) has shape {}", fmt_shape(shape))
        } else {
            format!("weight `{}` has shape {}", w.name, fmt_shape(&w.dims))
        }
    };
    let (&[a0, a1], &[b0, b1]) = (a_dims, b_dims) else {
        return Err(ctx.shape(format!(
            "Gemm needs 2-D A and B: {}, {}",
            describe("A"),
            describe("B")
        )));
    };
    let (m, k) = if trans_a { (a1, a0) } else { (a0, a1) };
    let (kb, n) = if trans_b { (b1, b0) } else { (b0, b1) };
    if k != kb {
        let message = if act_is_a {
            format!(
                "weight `{}` of shape {} (transB={}) takes {kb} inputs but the activation of shape {} has {k} features",
                w.name,
                fmt_shape(&w.dims),
                u8::from(trans_b),
                fmt_shape(shape)
            )
        } else {
            format!(
                "weight `{}` of shape {} (transA={}) takes {k} inputs but the activation of shape {} has {kb}",
                w.name,
                fmt_shape(&w.dims),
                u8::from(trans_a),
                fmt_shape(shape)
            )
        };
        return Err(ctx.shape(message));
    }
    let rows = m.saturating_mul(n);
    let cols = checked_product(shape).unwrap_or(usize::MAX);
    check_dense(ctx, "the Gemm matrix", rows, cols)?;
    // Flat indices of A'[i, j] and B'[i, j] in their tensors.
    let a_index = |i: usize, j: usize| if trans_a { j * a1 + i } else { i * a1 + j };
    let b_index = |i: usize, j: usize| if trans_b { j * b1 + i } else { i * b1 + j };
    let mut weight = Mat::<f64>::zeros(rows, cols);
    if act_is_a {
        for i in 0..m {
            for j in 0..n {
                for l in 0..k {
                    weight[(i * n + j, a_index(i, l))] = alpha * w.data[b_index(l, j)];
                }
            }
        }
    } else {
        for i in 0..m {
            for j in 0..n {
                for l in 0..k {
                    weight[(i * n + j, b_index(l, j))] = alpha * w.data[a_index(i, l)];
                }
            }
        }
    }
    let bias = match inputs.optional(2) {
        None => vec![0.0; rows],
        Some(c) => broadcast_values(c, &[m, n])
            .ok_or_else(|| {
                ctx.shape(format!(
                    "bias C `{}` of shape {} does not broadcast to the result shape [{m}, {n}]",
                    c.name,
                    fmt_shape(&c.dims)
                ))
            })?
            .into_iter()
            .map(|v| beta * v)
            .collect(),
    };
    Ok(Lowered::Dense {
        map: Affine::new(weight, bias)?,
        shape: vec![m, n],
    })
}

/// `MatMul` with numpy semantics and one constant operand of rank 1 or 2:
/// `x @ W` (activation on the left, `W` `[K, N]` or `[K]`) or `W @ x` (`W` `[M, K]` or
/// `[K]` on the left, `x` a vector `[K]` or a stack of `[K, N]` columns).
pub(crate) fn matmul(
    ctx: &NodeCtx,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Lowered, OnnxError> {
    if inputs.act > 1 {
        return Err(ctx.chain(format!(
            "the running activation feeds input {}; MatMul has two inputs",
            inputs.act
        )));
    }
    let left = inputs.act == 0;
    let w = inputs.constant(ctx, if left { 1 } else { 0 }, "weight")?;
    let r = shape.len();
    if r == 0 {
        return Err(ctx.shape("MatMul of a scalar activation".to_string()));
    }
    let mismatch = |k_w: usize, k_x: usize, which: &str| {
        ctx.shape(format!(
            "weight `{}` of shape {} takes {k_w} inputs but the activation of shape {} has {k_x} along its {which} dimension",
            w.name,
            fmt_shape(&w.dims),
            fmt_shape(shape)
        ))
    };
    let total = checked_product(shape).unwrap_or(usize::MAX);
    if left {
        // x [..., M, K] @ W [K, N] (or W [K]): rows (p, n), columns (p, k).
        let (k, n, w_is_vec) = match *w.dims.as_slice() {
            [k] => (k, 1, true),
            [k, n] => (k, n, false),
            _ => {
                return Err(ctx.shape(format!(
                    "weight `{}` of shape {} has rank {}; only rank 1 or 2 is supported",
                    w.name,
                    fmt_shape(&w.dims),
                    w.rank()
                )));
            }
        };
        let kx = shape[r - 1];
        if kx != k {
            return Err(mismatch(k, kx, "last"));
        }
        let p = total / k.max(1);
        let mut out: Vec<usize> = shape[..r - 1].to_vec();
        if !w_is_vec {
            out.push(n);
        }
        let rows = p.saturating_mul(n);
        check_dense(ctx, "the MatMul matrix", rows, total)?;
        let mut weight = Mat::<f64>::zeros(rows, total);
        for q in 0..p {
            for j in 0..n {
                for l in 0..k {
                    weight[(q * n + j, q * k + l)] = w.data[l * n + j];
                }
            }
        }
        Ok(Lowered::Dense {
            map: Affine::new(weight, vec![0.0; rows])?,
            shape: out,
        })
    } else {
        // W [M, K] (or W [K]) @ x [..., K, N] (or x [K]): rows (q, m, n), columns (q, k, n).
        let (m, k, w_is_vec) = match *w.dims.as_slice() {
            [k] => (1, k, true),
            [m, k] => (m, k, false),
            _ => {
                return Err(ctx.shape(format!(
                    "weight `{}` of shape {} has rank {}; only rank 1 or 2 is supported",
                    w.name,
                    fmt_shape(&w.dims),
                    w.rank()
                )));
            }
        };
        let (kx, n, batch): (usize, usize, &[usize]) = if r == 1 {
            (shape[0], 1, &[])
        } else {
            (shape[r - 2], shape[r - 1], &shape[..r - 2])
        };
        if kx != k {
            return Err(mismatch(
                k,
                kx,
                if r == 1 { "only" } else { "second-to-last" },
            ));
        }
        let q_count = checked_product(batch).unwrap_or(usize::MAX);
        let mut out: Vec<usize> = batch.to_vec();
        if !w_is_vec {
            out.push(m);
        }
        if r > 1 {
            out.push(n);
        }
        let rows = checked_product(&[q_count, m, n]).unwrap_or(usize::MAX);
        check_dense(ctx, "the MatMul matrix", rows, total)?;
        let mut weight = Mat::<f64>::zeros(rows, total);
        for q in 0..q_count {
            for i in 0..m {
                for j in 0..n {
                    for l in 0..k {
                        weight[((q * m + i) * n + j, (q * k + l) * n + j)] = w.data[i * k + l];
                    }
                }
            }
        }
        Ok(Lowered::Dense {
            map: Affine::new(weight, vec![0.0; rows])?,
            shape: out,
        })
    }
}

/// The geometry of a 2-D convolution along one spatial axis.
struct Axis {
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad_begin: usize,
    output: usize,
}

/// `Conv(X, W, B)` in 2-D (NCHW, `W` `[M, C, kH, kW]`, group 1), lowered to the dense
/// matrix from the flattened input to the flattened output for the tracked input shape.
pub(crate) fn conv(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<(Lowered, String), OnnxError> {
    inputs.act_at(ctx, 0, "X")?;
    let group = attr_int(ctx, node, "group", 1)?;
    if group != 1 {
        return Err(ctx.attribute(
            "group",
            group,
            "only group=1 (ordinary) convolutions are supported",
        ));
    }
    let &[batch, channels, height, width] = shape else {
        return Err(ctx.shape(format!(
            "only 2-D convolutions are supported: the input must be NCHW (rank 4) but the activation has shape {}",
            fmt_shape(shape)
        )));
    };
    let w = inputs.constant(ctx, 1, "W")?;
    let &[m, wc, kh, kw] = w.dims.as_slice() else {
        return Err(ctx.shape(format!(
            "weight `{}` has shape {}; a 2-D convolution needs [M, C, kH, kW]",
            w.name,
            fmt_shape(&w.dims)
        )));
    };
    if wc != channels {
        return Err(ctx.shape(format!(
            "weight `{}` of shape {} takes {wc} input channels but the activation of shape {} has {channels}",
            w.name,
            fmt_shape(&w.dims),
            fmt_shape(shape)
        )));
    }
    if kh == 0 || kw == 0 || m == 0 {
        return Err(ctx.shape(format!(
            "weight `{}` has an empty shape {}",
            w.name,
            fmt_shape(&w.dims)
        )));
    }
    if let Some(ks) = attr_ints(node, "kernel_shape") {
        if ks != [kh as i64, kw as i64] {
            return Err(ctx.attribute(
                "kernel_shape",
                format!("{ks:?}"),
                format!(
                    "does not match weight `{}` of shape {}",
                    w.name,
                    fmt_shape(&w.dims)
                ),
            ));
        }
    }
    let pair = |name: &'static str| -> Result<[usize; 2], OnnxError> {
        match attr_ints(node, name) {
            None => Ok([1, 1]),
            Some(v) => match v.as_slice() {
                &[a, b] => Ok([small_usize(ctx, name, a, 1)?, small_usize(ctx, name, b, 1)?]),
                _ => Err(ctx.attribute(name, format!("{v:?}"), "needs 2 values for a 2-D Conv")),
            },
        }
    };
    let strides = pair("strides")?;
    let dilations = pair("dilations")?;
    let auto_pad = attr_string(node, "auto_pad", "NOTSET");
    let inputs_hw = [height, width];
    let kernels = [kh, kw];
    let mut axes = Vec::with_capacity(2);
    let explicit_pads = match auto_pad.as_str() {
        "NOTSET" | "" => match attr_ints(node, "pads") {
            None => Some([0; 4]),
            Some(v) => match v.as_slice() {
                &[a, b, c, d] => Some([
                    small_usize(ctx, "pads", a, 0)?,
                    small_usize(ctx, "pads", b, 0)?,
                    small_usize(ctx, "pads", c, 0)?,
                    small_usize(ctx, "pads", d, 0)?,
                ]),
                _ => {
                    return Err(ctx.attribute(
                        "pads",
                        format!("{v:?}"),
                        "needs 4 values [top, left, bottom, right] for a 2-D Conv",
                    ));
                }
            },
        },
        "VALID" => Some([0; 4]),
        "SAME_UPPER" | "SAME_LOWER" => None,
        other => {
            return Err(ctx.attribute(
                "auto_pad",
                other,
                "expected NOTSET, VALID, SAME_UPPER or SAME_LOWER",
            ));
        }
    };
    for d in 0..2 {
        let input = inputs_hw[d];
        let (stride, dilation, kernel) = (strides[d], dilations[d], kernels[d]);
        let span = (kernel - 1) * dilation + 1;
        let (pad_begin, pad_end) = match explicit_pads {
            Some(p) => (p[d], p[d + 2]),
            None => {
                let output = input.div_ceil(stride);
                let total = ((output - 1) * stride + span).saturating_sub(input);
                if auto_pad == "SAME_UPPER" {
                    (total / 2, total - total / 2)
                } else {
                    (total - total / 2, total / 2)
                }
            }
        };
        let padded = input + pad_begin + pad_end;
        if padded < span {
            return Err(ctx.shape(format!(
                "the dilated kernel spans {span} but the padded input along spatial axis {d} has {padded} (input {} with pads {pad_begin}+{pad_end})",
                fmt_shape(shape)
            )));
        }
        axes.push(Axis {
            input,
            kernel,
            stride,
            dilation,
            pad_begin,
            output: (padded - span) / stride + 1,
        });
    }
    let (ah, aw) = (&axes[0], &axes[1]);
    let out_shape = vec![batch, m, ah.output, aw.output];
    let rows = checked_product(&out_shape).unwrap_or(usize::MAX);
    let cols = checked_product(shape).unwrap_or(usize::MAX);
    check_dense(ctx, "the lowered Conv matrix", rows, cols)?;
    let work = rows as u128 * (channels as u128) * (kh as u128) * (kw as u128);
    if work > MAX_COMPOSE_FLOPS {
        return Err(ctx.too_large(
            format!("lowering the Conv ({rows} outputs, {channels}x{kh}x{kw} taps each)"),
            work,
            "kernel taps",
            MAX_COMPOSE_FLOPS,
        ));
    }
    let bias_per_channel = match inputs.optional(2) {
        None => vec![0.0; m],
        Some(b) if b.len() == m && b.rank() == 1 => b.data.clone(),
        Some(b) => {
            return Err(ctx.shape(format!(
                "bias `{}` has shape {} but the Conv has {m} output channels",
                b.name,
                fmt_shape(&b.dims)
            )));
        }
    };
    // Input coordinate along an axis for output `o` and kernel tap `t`, if inside.
    let source = |a: &Axis, o: usize, t: usize| -> Option<usize> {
        (o * a.stride + t * a.dilation)
            .checked_sub(a.pad_begin)
            .filter(|&i| i < a.input)
    };
    let mut weight = Mat::<f64>::zeros(rows, cols);
    let mut bias = Vec::with_capacity(rows);
    for nb in 0..batch {
        for oc in 0..m {
            for oh in 0..ah.output {
                for ow in 0..aw.output {
                    let row = ((nb * m + oc) * ah.output + oh) * aw.output + ow;
                    bias.push(bias_per_channel[oc]);
                    for ic in 0..channels {
                        for th in 0..ah.kernel {
                            let Some(ih) = source(ah, oh, th) else {
                                continue;
                            };
                            for tw in 0..aw.kernel {
                                let Some(iw) = source(aw, ow, tw) else {
                                    continue;
                                };
                                let col = ((nb * channels + ic) * height + ih) * width + iw;
                                let k = ((oc * channels + ic) * kh + th) * kw + tw;
                                weight[(row, col)] += w.data[k];
                            }
                        }
                    }
                }
            }
        }
    }
    let note = format!(
        "Conv {} lowered to a dense {rows}x{cols} affine map ({} -> {})",
        ctx.label,
        fmt_shape(shape),
        fmt_shape(&out_shape)
    );
    Ok((
        Lowered::Dense {
            map: Affine::new(weight, bias)?,
            shape: out_shape,
        },
        note,
    ))
}
