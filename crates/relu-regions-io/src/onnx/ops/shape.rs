//! Shape-only ops: Flatten, Reshape, Squeeze, Unsqueeze, Dropout (inference). The values
//! and their row-major order are unchanged; only the tracked shape changes. (Identity is
//! handled by the walk itself.)

use super::{Lowered, NodeInputs};
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{attr_int, attr_ints, checked_product, fmt_shape};
use crate::onnx::{NodeCtx, OnnxError};

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
