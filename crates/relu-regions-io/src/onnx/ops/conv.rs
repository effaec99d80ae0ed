//! Conv in 2-D (NCHW, group 1) and AveragePool in 2-D, lowered to the dense matrix from
//! the flattened input to the flattened output for the tracked input shape (an average
//! pool is linear: a convolution of each channel with equal weights).

use faer::Mat;
use relu_regions::Affine;

use super::{Lowered, NodeInputs, check_dense};
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{attr_int, attr_ints, attr_string, checked_product, fmt_shape};
use crate::onnx::{MAX_COMPOSE_FLOPS, NodeCtx, OnnxError};

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

/// The integer list attribute `name` as `N` values of at least `min` (`None` when the
/// node does not have it); `what` says what the `N` values are, for the message.
fn usize_list<const N: usize>(
    ctx: &NodeCtx,
    node: &NodeProto,
    name: &'static str,
    min: i64,
    what: &str,
) -> Result<Option<[usize; N]>, OnnxError> {
    let Some(v) = attr_ints(node, name) else {
        return Ok(None);
    };
    if v.len() != N {
        return Err(ctx.attribute(
            name,
            format!("{v:?}"),
            format!("needs {N} values ({what}) in 2-D"),
        ));
    }
    let mut out = [0; N];
    for (o, &x) in out.iter_mut().zip(&v) {
        *o = small_usize(ctx, name, x, min)?;
    }
    Ok(Some(out))
}

/// The geometry of a 2-D convolution along one spatial axis.
struct ConvAxis {
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad_begin: usize,
    output: usize,
}

impl ConvAxis {
    /// The input coordinate that output `o` reads at kernel tap `t`, if it is inside the
    /// input (not padding).
    fn source(&self, o: usize, t: usize) -> Option<usize> {
        (o * self.stride + t * self.dilation)
            .checked_sub(self.pad_begin)
            .filter(|&i| i < self.input)
    }
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
    let axes = spatial_axes(ctx, node, shape, [kh, kw])?;
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
                            let Some(ih) = ah.source(oh, th) else {
                                continue;
                            };
                            for tw in 0..aw.kernel {
                                let Some(iw) = aw.source(ow, tw) else {
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

/// The geometry of a 2-D window op (`Conv`, `AveragePool`) on an NCHW activation of
/// `shape` with kernel `kernels` (`[kH, kW]`): the attributes `strides`, `dilations`,
/// `auto_pad` and `pads` read as ONNX defines them (output size rounded down).
fn spatial_axes(
    ctx: &NodeCtx,
    node: &NodeProto,
    shape: &[usize],
    kernels: [usize; 2],
) -> Result<Vec<ConvAxis>, OnnxError> {
    let strides = usize_list(ctx, node, "strides", 1, "height, width")?.unwrap_or([1, 1]);
    let dilations = usize_list(ctx, node, "dilations", 1, "height, width")?.unwrap_or([1, 1]);
    let auto_pad = attr_string(node, "auto_pad", "NOTSET");
    let inputs_hw = [shape[2], shape[3]];
    let mut axes = Vec::with_capacity(2);
    let explicit_pads = match auto_pad.as_str() {
        "NOTSET" | "" => {
            Some(usize_list(ctx, node, "pads", 0, "top, left, bottom, right")?.unwrap_or([0; 4]))
        }
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
        axes.push(ConvAxis {
            input,
            kernel,
            stride,
            dilation,
            pad_begin,
            output: (padded - span) / stride + 1,
        });
    }
    Ok(axes)
}

/// `AveragePool(X)` in 2-D (NCHW): `kernel_shape`, `strides`, `pads`, `auto_pad`,
/// `dilations` and `count_include_pad` (0: a window's padded taps are left out of its
/// divisor; 1: every window divides by `kH kW`), lowered to the dense matrix of the
/// averages for the tracked input shape. `ceil_mode = 1` is refused.
pub(crate) fn average_pool(
    ctx: &NodeCtx,
    node: &NodeProto,
    inputs: &NodeInputs,
    shape: &[usize],
) -> Result<(Lowered, String), OnnxError> {
    inputs.act_at(ctx, 0, "X")?;
    let &[batch, channels, height, width] = shape else {
        return Err(ctx.shape(format!(
            "only 2-D pooling is supported: the input must be NCHW (rank 4) but the activation has shape {}",
            fmt_shape(shape)
        )));
    };
    let Some(kernels) = usize_list(ctx, node, "kernel_shape", 1, "height, width")? else {
        return Err(ctx.attribute(
            "kernel_shape",
            "missing",
            "AveragePool needs its kernel shape",
        ));
    };
    let ceil_mode = attr_int(ctx, node, "ceil_mode", 0)?;
    if ceil_mode != 0 {
        return Err(ctx.attribute(
            "ceil_mode",
            ceil_mode,
            "only ceil_mode=0 (output size rounded down) is supported",
        ));
    }
    let include_pad = match attr_int(ctx, node, "count_include_pad", 0)? {
        0 => false,
        1 => true,
        v => return Err(ctx.attribute("count_include_pad", v, "must be 0 or 1")),
    };
    let axes = spatial_axes(ctx, node, shape, kernels)?;
    let (ah, aw) = (&axes[0], &axes[1]);
    let out_shape = vec![batch, channels, ah.output, aw.output];
    let rows = checked_product(&out_shape).unwrap_or(usize::MAX);
    let cols = checked_product(shape).unwrap_or(usize::MAX);
    check_dense(ctx, "the lowered AveragePool matrix", rows, cols)?;
    let work = rows as u128 * (kernels[0] as u128) * (kernels[1] as u128);
    if work > MAX_COMPOSE_FLOPS {
        return Err(ctx.too_large(
            format!(
                "lowering the AveragePool ({rows} outputs, {}x{} taps each)",
                kernels[0], kernels[1]
            ),
            work,
            "kernel taps",
            MAX_COMPOSE_FLOPS,
        ));
    }
    let mut weight = Mat::<f64>::zeros(rows, cols);
    let mut taps = Vec::with_capacity(kernels[0] * kernels[1]);
    for nb in 0..batch {
        for c in 0..channels {
            for oh in 0..ah.output {
                for ow in 0..aw.output {
                    let row = ((nb * channels + c) * ah.output + oh) * aw.output + ow;
                    taps.clear();
                    for th in 0..ah.kernel {
                        let Some(ih) = ah.source(oh, th) else {
                            continue;
                        };
                        for tw in 0..aw.kernel {
                            if let Some(iw) = aw.source(ow, tw) {
                                taps.push(((nb * channels + c) * height + ih) * width + iw);
                            }
                        }
                    }
                    let divisor = if include_pad {
                        kernels[0] * kernels[1]
                    } else {
                        taps.len()
                    };
                    if taps.is_empty() {
                        return Err(ctx.shape(format!(
                            "the window of output ({oh}, {ow}) lies entirely in the padding of {}",
                            fmt_shape(shape)
                        )));
                    }
                    for &col in &taps {
                        weight[(row, col)] += 1.0 / divisor as f64;
                    }
                }
            }
        }
    }
    let note = format!(
        "AveragePool {} lowered to a dense {rows}x{cols} linear map ({} -> {})",
        ctx.label,
        fmt_shape(shape),
        fmt_shape(&out_shape)
    );
    Ok((
        Lowered::Dense {
            map: Affine::new(weight, vec![0.0; rows])?,
            shape: out_shape,
        },
        note,
    ))
}
