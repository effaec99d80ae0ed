//! Dense affine ops, `x -> W x + b` with `W` built explicitly: Gemm and MatMul, including
//! any batch structure of the tensor (block-diagonal when a batch-like dimension is larger
//! than 1).

use faer::Mat;
use relu_regions::Affine;

use super::{Lowered, NodeInputs, check_dense};
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{attr_float, attr_int, broadcast_values, checked_product, fmt_shape};
use crate::onnx::{NodeCtx, OnnxError};

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
