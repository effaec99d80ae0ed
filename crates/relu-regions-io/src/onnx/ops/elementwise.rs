//! Elementwise affine ops, `x -> s ⊙ x + t`: Add, Sub, Mul, Div with a constant, and
//! BatchNormalization at inference.

use super::{Lowered, NodeInputs};
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{
    attr_float, attr_int, broadcast_shapes, broadcast_values, checked_product, fmt_shape,
};
use crate::onnx::{NodeCtx, OnnxError};

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

/// The negative slopes of `LeakyRelu(X; alpha)` (default 0.01) or `PRelu(X, slope)` (a
/// constant slope, broadcast to the activation's shape as ONNX's unidirectional
/// broadcasting does: a scalar, or one per channel `[C, 1, 1]`), one per element. Each
/// must lie in `[0, 1]`, where the activation is convex and non-decreasing (what the
/// bounds of the analyses assume).
pub(crate) fn negative_slopes(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<Vec<f64>, OnnxError> {
    let n = checked_product(shape).unwrap_or(0);
    let check = |v: f64| (0.0..=1.0).contains(&v);
    if ctx.op == "LeakyRelu" {
        let alpha = attr_float(ctx, node, "alpha", 0.01)?;
        if !check(alpha) {
            return Err(ctx.attribute(
                "alpha",
                alpha,
                "negative slopes outside [0, 1] are not supported (the activation must be convex and non-decreasing for the bounds)",
            ));
        }
        return Ok(vec![alpha; n]);
    }
    let c = inputs.constant(ctx, 1, "slope")?;
    let values = broadcast_values(c, shape)
        .filter(|v| v.len() == n)
        .ok_or_else(|| {
            ctx.shape(format!(
                "slope `{}` of shape {} does not broadcast to the activation of shape {}",
                c.name,
                fmt_shape(&c.dims),
                fmt_shape(shape)
            ))
        })?;
    if let Some((index, v)) = c.data.iter().enumerate().find(|(_, v)| !check(**v)) {
        return Err(ctx.bad_tensor(
            &c.name,
            format!(
                "entry {index} is {v}; negative slopes outside [0, 1] are not supported (the activation must be convex and non-decreasing for the bounds)"
            ),
        ));
    }
    Ok(values)
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
